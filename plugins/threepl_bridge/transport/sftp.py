"""SFTP transport on top of the sftp provider's SFTPHook.

What it adds to the hook:
- host keys are always verified: a connection with ``no_host_key_check`` or ``allow_host_key_change`` is
  refused before connecting, and a key mismatch is reported as :class:`HostKeyRejected`;
- listing returns only *complete* files per the partner's rule (stable size, marker file, rename-on-complete);
- downloads into memory or a stream, never to a local temp path;
- uploads are atomic: written under a temporary name in the same folder, verified, then posix-renamed; the two
  steps are also offered apart (:meth:`SftpTransport.write_part`, :meth:`SftpTransport.publish`) for a caller that
  journals the publication and resumes under a deterministic temporary name (:func:`part_name`) after a crash;
  names of that form (``.NAME.TAG.part``) are never listed as complete files, whatever the partner's rule says;
- processed files move to archive/error under a unique name (an existing file there is never overwritten); a move
  interrupted between the data file and its companions (markers) is completed by the same call again, or by
  :meth:`SftpTransport.move_companions`;
- remote names that could escape their folder are refused; a partner's file whose name is not a plain safe name
  (a newline, a backslash, control characters, bytes that are not UTF-8) is never offered as a complete file (so
  no task fails on it): listings set it apart (``unsafe=``) and :meth:`SftpTransport.quarantine` moves it to the
  error folder under a sanitised name (:func:`sanitised_name`);
- servers that answer "Failure" (a plain OSError) instead of "No such file" are handled.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import logging
import posixpath
import re
import stat
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from threepl_bridge.specs.models import CompleteRule

if TYPE_CHECKING:
    from paramiko import SFTPClient

log = logging.getLogger(__name__)

CHUNK = 256 * 1024


class TransportError(RuntimeError):
    """An SFTP operation failed; the message names the connection and path."""


class HostKeyRejected(TransportError):
    """The server's host key is unknown or does not match the key configured for the connection."""


class UnsafeRemoteName(ValueError):
    """A remote file name that could escape its folder or confuse the server."""


def safe_name(name: str) -> str:
    """Return ``name`` if it is a plain file name; raise UnsafeRemoteName otherwise."""
    if not isinstance(name, str) or not name:
        raise UnsafeRemoteName("empty remote file name")
    if name in (".", ".."):
        raise UnsafeRemoteName(f"remote file name {name!r} is a directory reference")
    if "/" in name or "\\" in name:
        raise UnsafeRemoteName(f"remote file name {name!r} contains a path separator")
    bad = [c for c in name if ord(c) < 32 or ord(c) == 127]
    if bad:
        raise UnsafeRemoteName(f"remote file name {name!r} contains control characters")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in name):
        raise UnsafeRemoteName(f"remote file name {name!r} is not valid UTF-8")
    if name != name.strip():
        raise UnsafeRemoteName(f"remote file name {name!r} has leading or trailing white space")
    return name


def is_safe(name: str) -> bool:
    try:
        safe_name(name)
    except UnsafeRemoteName:
        return False
    return True


def sanitised_name(name: str) -> str:
    """A safe stand-in for an unsafe remote name: separators, control characters and undecodable bytes become
    ``_``, surrounding white space goes (``"D_1\\n.csv"`` -> ``"D_1_.csv"``)."""
    cleaned = "".join("_" if c in "/\\" or ord(c) < 32 or ord(c) == 127 or 0xD800 <= ord(c) <= 0xDFFF else c for c in name).strip()
    return cleaned if cleaned not in ("", ".", "..") else "unnamed"


def part_name(name: str, tag: object) -> str:
    """The temporary name ``name`` is written under before it is renamed into place: ``.NAME.TAG.part`` (hidden,
    and deterministic for a caller that passes a stable ``tag``, e.g. its exchange id)."""
    return f".{safe_name(name)}.{tag}.part"


_PART = re.compile(r"\..+\.part\Z", re.DOTALL)


def is_part(name: str) -> bool:
    """A temporary upload name of this transport (:func:`part_name`, or the random tag of :meth:`upload_atomic`)."""
    return bool(_PART.match(name))


def _wire(path: str) -> str | bytes:
    """The path as sent to the server: names listed as undecodable bytes go back as the same bytes."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape")
    return path


def _safe_folder(folder: str) -> str:
    if any(part == ".." for part in folder.split("/")) or any(ord(c) < 32 or ord(c) == 127 for c in folder):
        raise UnsafeRemoteName(f"remote folder {folder!r} contains '..' or control characters")
    return folder


def remote_path(folder: str, name: str) -> str:
    return posixpath.join(_safe_folder(folder), safe_name(name))


def split_path(path: str) -> tuple[str, str]:
    """(folder, name) of a remote file path, refusing anything that could escape the folder."""
    folder, name = posixpath.split(path)
    return _safe_folder(folder), safe_name(name)


@dataclass(frozen=True, kw_only=True)
class RemoteFile:
    folder: str
    name: str
    size: int
    mtime: int

    @property
    def path(self) -> str:
        return posixpath.join(self.folder, self.name)


@dataclass(frozen=True, kw_only=True)
class Downloaded:
    file: RemoteFile
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _is_missing(exc: OSError) -> bool:
    return isinstance(exc, FileNotFoundError) or getattr(exc, "errno", None) == 2


class SftpTransport:
    """One partner's SFTP server, reached through the Airflow connection ``conn_id``."""

    def __init__(
        self,
        conn_id: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        hook_factory: Callable[[str], object] | None = None,
    ) -> None:
        self.conn_id = conn_id
        self._sleep = sleep
        self._hook_factory = hook_factory or _default_hook
        self._hook = None
        self._open: "SFTPClient | None" = None  # the session of an enclosing connected() block

    # ------------------------------------------------------------------------------ connection

    @property
    def hook(self):  # type: ignore[no-untyped-def]
        if self._hook is None:
            hook = self._hook_factory(self.conn_id)
            if getattr(hook, "no_host_key_check", False) or getattr(hook, "allow_host_key_change", False):
                raise HostKeyRejected(
                    f"connection {self.conn_id!r} disables host key verification "
                    "(no_host_key_check/allow_host_key_change); set extra.host_key to the server's public key "
                    "(e.g. 'ssh-ed25519 AAAA...') and remove those flags"
                )
            self._hook = hook
        return self._hook

    @contextmanager
    def connected(self) -> Iterator["SftpTransport"]:
        """Every call inside the block goes through one SSH session (a task opens one, not one per call)."""
        if self._open is not None:
            yield self
            return
        with self.session() as sftp:
            self._open = sftp
            try:
                yield self
            finally:
                self._open = None

    @contextmanager
    def session(self) -> Iterator["SFTPClient"]:
        if self._open is not None:
            yield self._open
            return
        import paramiko

        hook = self.hook
        try:
            with hook.get_managed_conn() as sftp:
                yield sftp
        except paramiko.BadHostKeyException as exc:
            raise HostKeyRejected(
                f"connection {self.conn_id!r}: host {exc.hostname} presented a {exc.key.get_name()} key with "
                f"fingerprint SHA256:{_fingerprint(exc.key)}, expected SHA256:{_fingerprint(exc.expected_key)}; "
                "refusing to connect (possible man-in-the-middle, or the server's key changed)"
            ) from None
        except paramiko.SSHException as exc:
            if "known_hosts" in str(exc) or "not found in known" in str(exc):
                raise HostKeyRejected(
                    f"connection {self.conn_id!r}: the server's host key is unknown; set extra.host_key of the "
                    f"connection to the server's public key: {exc}"
                ) from None
            raise

    # --------------------------------------------------------------------------------- listing

    def _listdir(self, sftp: "SFTPClient", folder: str) -> list[RemoteFile]:
        try:
            try:
                entries = sftp.listdir_attr(folder)
            except UnicodeDecodeError:  # a name that is not UTF-8 must not hide every other file of the folder
                entries = _listdir_raw(sftp, folder)
        except OSError as exc:
            raise TransportError(f"{self.conn_id}: cannot list folder {folder!r}: {exc}") from exc
        files = []
        for entry in entries:
            if entry.st_mode is not None and not stat.S_ISREG(entry.st_mode):
                continue
            files.append(RemoteFile(folder=folder, name=entry.filename, size=entry.st_size or 0, mtime=entry.st_mtime or 0))
        return sorted(files, key=lambda f: f.name)

    def list_files(self, folder: str, pattern: str = "*", *, unsafe: list[RemoteFile] | None = None) -> list[RemoteFile]:
        """Files in ``folder`` matching ``pattern`` with a safe name; the others go to ``unsafe`` (if given)."""
        with self.session() as sftp:
            return self._split_unsafe([f for f in self._listdir(sftp, folder) if fnmatch.fnmatchcase(f.name, pattern)], unsafe)

    def _split_unsafe(self, files: list[RemoteFile], unsafe: list[RemoteFile] | None) -> list[RemoteFile]:
        safe = [f for f in files if is_safe(f.name)]
        for f in files:
            if not is_safe(f.name):
                log.warning("%s: %r in %s is not a safe file name: not taken (quarantine it to the error folder)",
                            self.conn_id, f.name, f.folder)
                if unsafe is not None:
                    unsafe.append(f)
        return safe

    def list_complete(
        self, folder: str, pattern: str, rule: CompleteRule, *, unsafe: list[RemoteFile] | None = None
    ) -> list[RemoteFile]:
        """Files in ``folder`` matching ``pattern`` that the partner has finished writing, sorted by name.

        Only files with a safe name (:func:`safe_name`) are returned; complete files with another name are
        appended to ``unsafe`` (if given) for the caller to :meth:`quarantine`. Our own temporary upload names
        (:func:`is_part`) are never candidates.
        """
        return self._split_unsafe(self._complete(folder, pattern, rule), unsafe)

    def _complete(self, folder: str, pattern: str, rule: CompleteRule) -> list[RemoteFile]:
        with self.session() as sftp:
            first = self._listdir(sftp, folder)
            names = {f.name for f in first}

            def candidate(f: RemoteFile) -> bool:
                if is_part(f.name) or any(fnmatch.fnmatchcase(f.name, p) for p in rule.temporary_patterns):
                    return False
                if rule.rule == "marker" and f.name.endswith(rule.marker_suffix):
                    return False
                return fnmatch.fnmatchcase(f.name, pattern)

            found = [f for f in first if candidate(f)]
            if rule.rule == "marker":
                return [f for f in found if f.name + rule.marker_suffix in names]
            if rule.rule == "rename":
                return found
            if not found:
                return []
            self._sleep(rule.stable_seconds)
            second = {f.name: f for f in self._listdir(sftp, folder)}
            complete = []
            for f in found:
                again = second.get(f.name)
                if again is not None and (again.size, again.mtime) == (f.size, f.mtime):
                    complete.append(again)
                else:
                    log.info("%s: %s is still being written; leaving it for the next run", self.conn_id, f.path)
            return complete

    # ------------------------------------------------------------------------------- reading

    def stat(self, path: str) -> RemoteFile | None:
        """Stat a file; None if it does not exist, also on servers that say "Failure" for a missing file."""
        folder, name = split_path(path)
        with self.session() as sftp:
            return self._stat(sftp, folder, name)

    def _stat(self, sftp: "SFTPClient", folder: str, name: str) -> RemoteFile | None:
        path = posixpath.join(folder, name)
        try:
            attrs = sftp.stat(_wire(path))
        except OSError as exc:
            if _is_missing(exc):
                return None
            # Some servers answer SSH_FX_FAILURE (a bare OSError) for a missing file: look in the folder.
            try:
                present = name in {f.name for f in self._listdir(sftp, folder or ".")}
            except TransportError:
                present = True
            if not present:
                return None
            raise TransportError(f"{self.conn_id}: cannot stat {path!r}: {exc}") from exc
        return RemoteFile(folder=folder, name=name, size=attrs.st_size or 0, mtime=attrs.st_mtime or 0)

    def exists(self, path: str) -> bool:
        return self.stat(path) is not None

    def read_bytes(self, path: str, *, max_bytes: int | None = None) -> Downloaded:
        folder, name = split_path(path)
        buffer = io.BytesIO()
        with self.session() as sftp:
            found = self._stat(sftp, folder, name)
            if found is None:
                raise FileNotFoundError(f"{self.conn_id}: {path} does not exist")
            if max_bytes is not None and found.size > max_bytes:
                raise TransportError(f"{self.conn_id}: {path} is {found.size} bytes, over the {max_bytes} limit")
            with sftp.open(path, "rb") as remote:
                remote.prefetch(found.size)
                while chunk := remote.read(CHUNK):
                    buffer.write(chunk)
        data = buffer.getvalue()
        if len(data) != found.size:
            raise TransportError(f"{self.conn_id}: {path} changed while reading ({len(data)} of {found.size} bytes)")
        return Downloaded(file=found, data=data)

    @contextmanager
    def open_stream(self, path: str) -> Iterator[IO[bytes]]:
        """A binary stream of a remote file, for files too large to hold in memory."""
        folder, name = split_path(path)
        with self.session() as sftp:
            found = self._stat(sftp, folder, name)
            if found is None:
                raise FileNotFoundError(f"{self.conn_id}: {path} does not exist")
            with sftp.open(path, "rb") as remote:
                remote.prefetch(found.size)
                yield remote  # type: ignore[misc]

    # ------------------------------------------------------------------------------- writing

    def _ensure_folder(self, sftp: "SFTPClient", folder: str) -> None:
        _safe_folder(folder)
        parts = [p for p in folder.split("/") if p]
        current = "/" if folder.startswith("/") else ""
        for part in parts:
            current = posixpath.join(current, part) if current else part
            try:
                attrs = sftp.stat(current)
            except OSError:
                try:
                    sftp.mkdir(current)
                except OSError:
                    attrs = sftp.stat(current)  # created meanwhile by someone else, or a real error
                    if not stat.S_ISDIR(attrs.st_mode or 0):
                        raise
                continue
            if not stat.S_ISDIR(attrs.st_mode or 0):
                raise TransportError(f"{self.conn_id}: {current!r} exists and is not a folder")

    def upload_atomic(self, folder: str, name: str, data: bytes | IO[bytes]) -> RemoteFile:
        """Write ``data`` to ``folder/name`` so that no reader ever sees a partial file.

        The bytes go to a hidden temporary name in the same folder, the size is checked, and the file is then
        renamed over the final name with posix-rename (atomic; replaces an older file of the same name). On any
        failure the temporary file is removed (as far as the connection still allows).
        """
        part = f".{safe_name(name)}.{uuid.uuid4().hex[:12]}.part"
        with self.session() as sftp:
            try:
                self.write_part(folder, part, data)
                return self.publish(folder, part, name)
            except BaseException:
                try:
                    sftp.remove(remote_path(folder, part))
                except (OSError, EOFError):
                    pass
                except Exception:  # noqa: BLE001 - the connection is gone (paramiko.SSHException)
                    pass
                raise

    def write_part(self, folder: str, part: str, data: bytes | IO[bytes]) -> RemoteFile:
        """Step 1 of an atomic upload: write ``data`` under the temporary name ``part`` (replacing a stale file of
        that name) and check that the server holds every byte. Nothing is removed on failure: a caller resuming
        under a deterministic ``part`` name overwrites or removes it."""
        temp = remote_path(folder, part)
        stream = io.BytesIO(data) if isinstance(data, bytes) else data
        with self.session() as sftp:
            self._ensure_folder(sftp, folder)
            written = 0
            with sftp.open(temp, "wb") as remote:
                remote.set_pipelined(True)
                while chunk := stream.read(CHUNK):
                    remote.write(chunk)
                    written += len(chunk)
            size = sftp.stat(temp).st_size
        if size != written:
            raise TransportError(f"{self.conn_id}: upload of {temp} wrote {size} of {written} bytes")
        return RemoteFile(folder=folder, name=part, size=written, mtime=0)

    def publish(self, folder: str, part: str, name: str) -> RemoteFile:
        """Step 2 of an atomic upload: rename ``part`` over ``name`` (atomic, replaces an older file)."""
        final = remote_path(folder, name)
        with self.session() as sftp:
            self._rename_over(sftp, remote_path(folder, part), final)
            attrs = sftp.stat(final)
        log.info("%s: uploaded %s (%d bytes)", self.conn_id, final, attrs.st_size or 0)
        return RemoteFile(folder=folder, name=name, size=attrs.st_size or 0, mtime=attrs.st_mtime or 0)

    def _rename_over(self, sftp: "SFTPClient", source: str, target: str) -> None:
        try:
            sftp.posix_rename(source, target)
        except OSError as exc:
            if "unsupported" not in str(exc).lower():
                raise TransportError(f"{self.conn_id}: cannot rename {source} to {target}: {exc}") from exc
            # No posix-rename extension: a plain rename is atomic too but refuses to replace a file.
            folder, name = posixpath.split(target)
            if self._stat(sftp, folder, name) is not None:
                sftp.remove(target)
            sftp.rename(source, target)

    # ---------------------------------------------------------------------------------- moving

    def move_unique(self, path: str, dest_folder: str, *, companions: tuple[str, ...] = (), sha256: str | None = None) -> str:
        """Move ``path`` into ``dest_folder`` without overwriting anything there; returns the new path.

        When the name is taken, ``NAME.EXT`` becomes ``NAME.1.EXT``, ``NAME.2.EXT``... Companion files
        (``path + suffix``, e.g. a ``.ok`` marker) move along under the same new name.

        Resumable: when ``path`` is already gone (an earlier call moved it and the connection dropped before its
        companions), the data file is looked up in ``dest_folder`` (see :meth:`move_companions`; pass the data's
        ``sha256`` to find it by content) and the companions still at the source follow it; its path is returned.
        FileNotFoundError if it is nowhere.
        """
        folder, name = split_path(path)
        return self._move(folder, name, dest_folder, name, companions, sha256)

    def quarantine(self, file: RemoteFile, dest_folder: str, *, companions: tuple[str, ...] = ()) -> str:
        """Move a listed file whose name is unsafe (``unsafe=`` of :meth:`list_complete`) to ``dest_folder`` under
        :func:`sanitised_name` (made unique like :meth:`move_unique`), its companions along; returns the new path."""
        _safe_folder(file.folder)
        return self._move(file.folder, file.name, dest_folder, sanitised_name(file.name), companions, None)

    def move_companions(
        self, path: str, dest_folder: str, companions: tuple[str, ...], *, sha256: str | None = None
    ) -> str | None:
        """Bring the companions (markers) still at ``path + suffix`` to the data file ``path`` that was already
        moved into ``dest_folder`` by :meth:`move_unique`; returns the data file's path there, None if it is not
        there (then nothing is moved).

        The data file is the last taken name of ``NAME.EXT``, ``NAME.1.EXT``... in ``dest_folder`` or, with
        ``sha256``, the one of those with that content. A companion whose place is taken by an identical file is
        removed at the source; by a different one, TransportError.
        """
        folder, name = split_path(path)
        _safe_folder(dest_folder)
        with self.session() as sftp:
            return self._resume(sftp, folder, name, dest_folder, name, companions, sha256)

    def _move(self, folder: str, name: str, dest_folder: str, dest_name: str, companions: tuple[str, ...],
              sha256: str | None) -> str:
        _safe_folder(dest_folder)
        path = posixpath.join(folder, name)
        with self.session() as sftp:
            self._ensure_folder(sftp, dest_folder)
            if self._stat(sftp, folder, name) is None:
                return self._resumed_or_missing(sftp, folder, name, dest_folder, dest_name, companions, sha256)
            for candidate in _candidates(dest_name):
                target = remote_path(dest_folder, candidate)
                if self._stat(sftp, dest_folder, candidate) is not None:
                    continue
                try:
                    sftp.rename(_wire(path), target)  # plain SFTP rename never overwrites
                except OSError as exc:
                    if self._stat(sftp, folder, name) is None:
                        return self._resumed_or_missing(sftp, folder, name, dest_folder, dest_name, companions, sha256)
                    if self._stat(sftp, dest_folder, candidate) is not None:
                        continue  # taken meanwhile: try the next name
                    raise TransportError(f"{self.conn_id}: cannot move {path!r} to {target}: {exc}") from exc
                self._companions_to(sftp, folder, name, target, companions)
                log.info("%s: moved %r to %s", self.conn_id, path, target)
                return target
        raise TransportError(f"{self.conn_id}: no free name for {dest_name} in {dest_folder}")

    def _resumed_or_missing(self, sftp: "SFTPClient", folder: str, name: str, dest_folder: str, dest_name: str,
                            companions: tuple[str, ...], sha256: str | None) -> str:
        found = self._resume(sftp, folder, name, dest_folder, dest_name, companions, sha256)
        if found is None:
            raise FileNotFoundError(f"{self.conn_id}: {posixpath.join(folder, name)!r} no longer exists")
        return found

    def _resume(self, sftp: "SFTPClient", folder: str, name: str, dest_folder: str, dest_name: str,
                companions: tuple[str, ...], sha256: str | None) -> str | None:
        taken = []
        for candidate in _candidates(dest_name):
            if self._stat(sftp, dest_folder, candidate) is None:
                break
            taken.append(remote_path(dest_folder, candidate))
        if sha256 is not None:
            taken = [t for t in taken if self._sha256(sftp, t) == sha256]
        if not taken:
            return None
        target = taken[-1]
        moved = self._companions_to(sftp, folder, name, target, companions)
        if moved:
            log.info("%s: %r had already moved to %s; moved its %s there", self.conn_id, posixpath.join(folder, name), target,
                     ", ".join(moved))
        return target

    def _companions_to(self, sftp: "SFTPClient", folder: str, name: str, target: str, companions: tuple[str, ...]) -> list[str]:
        moved = []
        dest_folder, dest_name = posixpath.split(target)
        for suffix in companions:
            source = posixpath.join(folder, name + suffix)
            if self._stat(sftp, folder, name + suffix) is None:
                continue
            if self._stat(sftp, dest_folder, dest_name + suffix) is not None:
                if self._sha256(sftp, source) != self._sha256(sftp, target + suffix):
                    raise TransportError(f"{self.conn_id}: cannot move {source!r} to {target + suffix}: a different file is there")
                sftp.remove(_wire(source))  # the same companion is already in place
            else:
                sftp.rename(_wire(source), target + suffix)
            moved.append(suffix)
        return moved

    def _sha256(self, sftp: "SFTPClient", path: str) -> str:
        digest = hashlib.sha256()
        with sftp.open(_wire(path), "rb") as remote:
            while chunk := remote.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def delete(self, path: str) -> None:
        folder, name = split_path(path)
        with self.session() as sftp:
            try:
                sftp.remove(path)
            except OSError as exc:
                if self._stat(sftp, folder, name) is not None:
                    raise TransportError(f"{self.conn_id}: cannot delete {path}: {exc}") from exc


def _candidates(name: str) -> Iterator[str]:
    stem, ext = posixpath.splitext(name)
    yield name
    for n in range(1, 1000):
        yield f"{stem}.{n}{ext}"


def _listdir_raw(sftp: "SFTPClient", folder: str) -> list:  # type: ignore[type-arg]
    """``listdir_attr`` for a folder holding a name that is not UTF-8 (paramiko fails on the whole listing): the
    same requests, names decoded with ``surrogateescape`` (such a name is unsafe; :func:`_wire` sends it back)."""
    from paramiko.sftp import CMD_CLOSE, CMD_HANDLE, CMD_NAME, CMD_OPENDIR, CMD_READDIR, SFTPError
    from paramiko.sftp_attr import SFTPAttributes

    t, msg = sftp._request(CMD_OPENDIR, sftp._adjust_cwd(folder))
    if t != CMD_HANDLE:
        raise SFTPError("Expected handle")
    handle = msg.get_binary()
    entries = []
    while True:
        try:
            t, msg = sftp._request(CMD_READDIR, handle)
        except EOFError:
            break
        if t != CMD_NAME:
            raise SFTPError("Expected name response")
        for _ in range(msg.get_int()):
            filename = msg.get_binary().decode("utf-8", "surrogateescape")
            msg.get_binary()  # the long name
            attrs = SFTPAttributes._from_msg(msg, filename)
            if filename not in (".", ".."):
                entries.append(attrs)
    sftp._request(CMD_CLOSE, handle)
    return entries


def _fingerprint(key: object) -> str:
    import base64

    digest = hashlib.sha256(key.asbytes()).digest()  # type: ignore[attr-defined]
    return base64.b64encode(digest).decode().rstrip("=")


def _default_hook(conn_id: str):  # type: ignore[no-untyped-def]
    from airflow.providers.sftp.hooks.sftp import SFTPHook

    # One connection attempt: Airflow's task retries handle transient failures, and a refused host key must
    # fail at once rather than after several sleeps.
    return SFTPHook(ssh_conn_id=conn_id, conn_retry_attempts=1)
