"""SFTP transport on top of the sftp provider's SFTPHook.

What it adds to the hook:
- host keys are always verified: a connection with ``no_host_key_check`` or ``allow_host_key_change`` is
  refused before connecting, and a key mismatch is reported as :class:`HostKeyRejected`;
- listing returns only *complete* files per the partner's rule (stable size, marker file, rename-on-complete);
- downloads into memory or a stream, never to a local temp path;
- uploads are atomic: written under a temporary name in the same folder, verified, then posix-renamed;
- processed files move to archive/error under a unique name (an existing file there is never overwritten);
- remote names that could escape their folder are refused;
- servers that answer "Failure" (a plain OSError) instead of "No such file" are handled.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import logging
import posixpath
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
    if name != name.strip():
        raise UnsafeRemoteName(f"remote file name {name!r} has leading or trailing white space")
    return name


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
            entries = sftp.listdir_attr(folder)
        except OSError as exc:
            raise TransportError(f"{self.conn_id}: cannot list folder {folder!r}: {exc}") from exc
        files = []
        for entry in entries:
            if entry.st_mode is not None and not stat.S_ISREG(entry.st_mode):
                continue
            files.append(RemoteFile(folder=folder, name=entry.filename, size=entry.st_size or 0, mtime=entry.st_mtime or 0))
        return sorted(files, key=lambda f: f.name)

    def list_files(self, folder: str, pattern: str = "*") -> list[RemoteFile]:
        with self.session() as sftp:
            return [f for f in self._listdir(sftp, folder) if fnmatch.fnmatchcase(f.name, pattern)]

    def list_complete(self, folder: str, pattern: str, rule: CompleteRule) -> list[RemoteFile]:
        """Files in ``folder`` matching ``pattern`` that the partner has finished writing, sorted by name."""
        with self.session() as sftp:
            first = self._listdir(sftp, folder)
            names = {f.name for f in first}

            def candidate(f: RemoteFile) -> bool:
                if any(fnmatch.fnmatchcase(f.name, p) for p in rule.temporary_patterns):
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
            attrs = sftp.stat(path)
        except OSError as exc:
            if _is_missing(exc):
                return None
            # Some servers answer SSH_FX_FAILURE (a bare OSError) for a missing file: look in the folder.
            try:
                present = name in sftp.listdir(folder or ".")
            except OSError:
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
        renamed over the final name with posix-rename (atomic; replaces an older file of the same name).
        """
        final = remote_path(folder, name)
        temp = remote_path(folder, f".{name}.{uuid.uuid4().hex[:12]}.part")
        stream = io.BytesIO(data) if isinstance(data, bytes) else data
        with self.session() as sftp:
            self._ensure_folder(sftp, folder)
            written = 0
            try:
                with sftp.open(temp, "wb") as remote:
                    remote.set_pipelined(True)
                    while chunk := stream.read(CHUNK):
                        remote.write(chunk)
                        written += len(chunk)
                size = sftp.stat(temp).st_size
                if size != written:
                    raise TransportError(f"{self.conn_id}: upload of {final} wrote {size} of {written} bytes")
                self._rename_over(sftp, temp, final)
            except BaseException:
                try:
                    sftp.remove(temp)
                except OSError:
                    pass
                raise
            attrs = sftp.stat(final)
        log.info("%s: uploaded %s (%d bytes)", self.conn_id, final, written)
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

    def move_unique(self, path: str, dest_folder: str, *, companions: tuple[str, ...] = ()) -> str:
        """Move ``path`` into ``dest_folder`` without overwriting anything there; returns the new path.

        When the name is taken, ``NAME.EXT`` becomes ``NAME.1.EXT``, ``NAME.2.EXT``... Companion files
        (``path + suffix``, e.g. a ``.ok`` marker) move along under the same new name.
        """
        folder, name = split_path(path)
        _safe_folder(dest_folder)
        stem, ext = posixpath.splitext(name)
        with self.session() as sftp:
            self._ensure_folder(sftp, dest_folder)
            for n in range(0, 1000):
                candidate = name if n == 0 else f"{stem}.{n}{ext}"
                target = remote_path(dest_folder, candidate)
                if self._stat(sftp, dest_folder, candidate) is not None:
                    continue
                try:
                    sftp.rename(path, target)  # plain SFTP rename never overwrites
                except OSError as exc:
                    if self._stat(sftp, folder, name) is None:
                        raise FileNotFoundError(f"{self.conn_id}: {path} no longer exists") from exc
                    if self._stat(sftp, dest_folder, candidate) is not None:
                        continue  # taken meanwhile: try the next name
                    raise TransportError(f"{self.conn_id}: cannot move {path} to {target}: {exc}") from exc
                for suffix in companions:
                    if self._stat(sftp, folder, name + suffix) is not None:
                        sftp.rename(path + suffix, target + suffix)
                log.info("%s: moved %s to %s", self.conn_id, path, target)
                return target
        raise TransportError(f"{self.conn_id}: no free name for {name} in {dest_folder}")

    def delete(self, path: str) -> None:
        folder, name = split_path(path)
        with self.session() as sftp:
            try:
                sftp.remove(path)
            except OSError as exc:
                if self._stat(sftp, folder, name) is not None:
                    raise TransportError(f"{self.conn_id}: cannot delete {path}: {exc}") from exc


def _fingerprint(key: object) -> str:
    import base64

    digest = hashlib.sha256(key.asbytes()).digest()  # type: ignore[attr-defined]
    return base64.b64encode(digest).decode().rstrip("=")


def _default_hook(conn_id: str):  # type: ignore[no-untyped-def]
    from airflow.providers.sftp.hooks.sftp import SFTPHook

    # One connection attempt: Airflow's task retries handle transient failures, and a refused host key must
    # fail at once rather than after several sleeps.
    return SFTPHook(ssh_conn_id=conn_id, conn_retry_attempts=1)
