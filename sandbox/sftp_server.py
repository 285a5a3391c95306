"""SFTP servers for tests and the demo (never imported by the product).

- :class:`EmbeddedSftpServer`: an in-process asyncssh server on loopback, with a generated host key, client-key
  authentication for one user and a chroot folder; :meth:`EmbeddedSftpServer.drop_on` injects real connection
  drops (the SSH connection is aborted when the Nth request of a kind arrives, before or after it is executed).
- :class:`OpenSshServer`: Debian's OpenSSH ``sshd`` on loopback with its own config, host key and authorized
  key, for proving the transport against the server most 3PLs run.

Both expose ``airflow_connection()``: the JSON of an Airflow connection (conn_type sftp) that verifies the
server's host key, ready for an ``AIRFLOW_CONN_<ID>`` environment variable.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import Counter
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import logging

logging.getLogger("asyncssh").setLevel(logging.WARNING)


OPS = ("list", "stat", "open", "put", "get", "write", "close", "rename", "remove", "mkdir")


@dataclass
class Fault:
    """Abort the SSH connection at the ``nth`` request of ``op`` (whose path contains ``path``, if given), counted
    from when the fault was armed; ``after``: once the request was executed, before its reply is sent."""

    op: str
    nth: int = 1
    after: bool = False
    path: str | None = None
    seen: int = 0
    fired: bool = False


@dataclass(frozen=True)
class KeyPair:
    private_openssh: str
    public_line: str  # "ssh-ed25519 AAAA..."

    @classmethod
    def generate(cls, algorithm: str = "ssh-ed25519") -> "KeyPair":
        key = asyncssh.generate_private_key(algorithm)
        public = key.export_public_key("openssh").decode().strip()
        public_line = " ".join(public.split()[:2])
        return cls(private_openssh=key.export_private_key("openssh").decode(), public_line=public_line)

    def write(self, path: Path) -> None:
        path.write_text(self.private_openssh)
        path.chmod(0o600)
        Path(f"{path}.pub").write_text(self.public_line + "\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connection_json(
    *, host: str, port: int, login: str, client_key: KeyPair, host_key_line: str, extra: dict | None = None
) -> str:
    extras = {
        "private_key": client_key.private_openssh,
        "host_key": host_key_line,
        "no_host_key_check": False,
        "look_for_keys": False,
        **(extra or {}),
    }
    return json.dumps({"conn_type": "sftp", "host": host, "port": port, "login": login, "extra": extras})


class _SshServer:
    """What the test servers share: their keys and the Airflow connection that reaches them."""

    host: str
    port: int
    username: str
    host_key: KeyPair
    client_key: KeyPair

    @property
    def host_key_line(self) -> str:
        return self.host_key.public_line

    def airflow_connection(self, **extra: object) -> str:
        return connection_json(
            host=self.host, port=self.port, login=self.username, client_key=self.client_key,
            host_key_line=self.host_key_line, extra=extra,
        )


class EmbeddedSftpServer(_SshServer):
    """asyncssh SFTP server running in a background thread; ``root`` is the client's ``/``."""

    def __init__(
        self,
        root: Path,
        *,
        username: str = "threepl",
        host: str = "127.0.0.1",
        port: int = 0,
        host_key: KeyPair | None = None,
        client_key: KeyPair | None = None,
    ) -> None:
        self.root = Path(root)
        self.username = username
        self.host = host
        self.port = port or _free_port()
        self.host_key = host_key or KeyPair.generate()
        self.client_key = client_key or KeyPair.generate()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self.sessions = 0  # SSH connections accepted (tests count what a task opens)
        self.reads: Counter[str] = Counter()  # files opened for reading, by path under root
        self.faults: list[Fault] = []
        self._faults_lock = threading.Lock()

    def drop_on(self, op: str, *, nth: int = 1, after: bool = False, path: str | None = None) -> Fault:
        """Arm a one-shot connection drop at the ``nth`` next request of ``op`` (see :data:`OPS`: ``put``/``get``
        are opens for writing/reading, ``open`` either; ``rename`` is rename or posix-rename; ``stat`` stat or lstat;
        ``list`` opening a folder listing). ``after=False``: the request is not executed; ``after=True``: it is
        executed and the connection drops before the reply. Returns the fault (``fired`` tells whether it hit)."""
        if op not in OPS:
            raise ValueError(f"unknown operation {op!r}; one of {', '.join(OPS)}")
        fault = Fault(op=op, nth=nth, after=after, path=path)
        with self._faults_lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._faults_lock:
            self.faults.clear()

    def _fault(self, ops: tuple[str, ...], path: bytes) -> Fault | None:
        """The armed fault this request triggers (counted once per request), if any."""
        text = path.decode(errors="replace")
        with self._faults_lock:
            for fault in self.faults:
                if fault.fired or fault.op not in ops or (fault.path is not None and fault.path not in text):
                    continue
                fault.seen += 1
                if fault.seen == fault.nth:
                    fault.fired = True
                    return fault
        return None

    def start(self) -> "EmbeddedSftpServer":
        self.root.mkdir(parents=True, exist_ok=True)
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self._acceptor = loop.run_until_complete(self._listen())
            except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name=f"sftp-{self.port}", daemon=True)
        self._thread.start()
        ready.wait(10)
        if errors:
            raise errors[0]
        return self

    async def _listen(self) -> asyncssh.SSHAcceptor:
        root = str(self.root.resolve()).encode()
        username = self.username
        allowed = asyncssh.import_authorized_keys(self.client_key.public_line + "\n")
        server = self

        class _Server(asyncssh.SSHServer):
            def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
                server.sessions += 1

            def begin_auth(self, user: str) -> bool:
                return True

            def public_key_auth_supported(self) -> bool:
                return True

            def validate_public_key(self, user: str, key: asyncssh.SSHKey) -> bool:
                return user == username and allowed.validate(key, "127.0.0.1", "127.0.0.1") is not None

            def password_auth_supported(self) -> bool:
                return False

        class _Sftp(asyncssh.SFTPServer):
            """Counts reads, and drops the connection where a test armed a :class:`Fault`."""

            def __init__(self, chan: asyncssh.SSHServerChannel, chroot: bytes) -> None:
                super().__init__(chan, chroot=chroot)
                self._paths: dict[int, bytes] = {}  # open file objects -> their path (for faults on write/close)

            def _drop(self) -> None:
                self.connection.abort()
                raise asyncssh.SFTPConnectionLost("connection dropped by fault injection")

            def _around(self, ops: tuple[str, ...], path: bytes, call):  # type: ignore[no-untyped-def]
                fault = server._fault(ops, path)
                if fault is not None and not fault.after:
                    self._drop()
                result = call()
                if fault is None:
                    return result

                async def then_drop():  # type: ignore[no-untyped-def]
                    if inspect.isawaitable(result):
                        await result
                    self._drop()

                return then_drop()

            def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
                writing = bool(pflags & (asyncssh.FXF_WRITE | asyncssh.FXF_CREAT | asyncssh.FXF_TRUNC | asyncssh.FXF_APPEND))
                if not writing:
                    server.reads[path.decode(errors="replace")] += 1
                file_obj = self._around(("open", "put" if writing else "get"), path, lambda: super(_Sftp, self).open(path, pflags, attrs))
                if not inspect.isawaitable(file_obj):
                    self._paths[id(file_obj)] = path
                return file_obj

            def write(self, file_obj: object, offset: int, data: bytes) -> object:
                return self._around(("write",), self._paths.get(id(file_obj), b""), lambda: super(_Sftp, self).write(file_obj, offset, data))

            def close(self, file_obj: object) -> object:
                path = self._paths.pop(id(file_obj), b"")
                return self._around(("close",), path, lambda: super(_Sftp, self).close(file_obj))

            def rename(self, oldpath: bytes, newpath: bytes) -> object:
                return self._around(("rename",), oldpath + b" -> " + newpath, lambda: super(_Sftp, self).rename(oldpath, newpath))

            def posix_rename(self, oldpath: bytes, newpath: bytes) -> object:
                return self._around(("rename",), oldpath + b" -> " + newpath,
                                    lambda: super(_Sftp, self).posix_rename(oldpath, newpath))

            def stat(self, path: bytes) -> object:
                return self._around(("stat",), path, lambda: super(_Sftp, self).stat(path))

            def lstat(self, path: bytes) -> object:
                return self._around(("stat",), path, lambda: super(_Sftp, self).lstat(path))

            def remove(self, path: bytes) -> object:
                return self._around(("remove",), path, lambda: super(_Sftp, self).remove(path))

            def mkdir(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> object:
                return self._around(("mkdir",), path, lambda: super(_Sftp, self).mkdir(path, attrs))

            def scandir(self, path: bytes):  # type: ignore[no-untyped-def]
                fault = server._fault(("list",), path)
                if fault is not None and not fault.after:
                    self.connection.abort()
                names = super().scandir(path)
                if fault is None:
                    return names

                async def then_drop():  # type: ignore[no-untyped-def]
                    async for name in names:
                        yield name
                    self.connection.abort()

                return then_drop()

        def sftp_factory(chan: asyncssh.SSHServerChannel) -> asyncssh.SFTPServer:
            return _Sftp(chan, chroot=root)

        return await asyncssh.listen(
            self.host,
            self.port,
            server_host_keys=[asyncssh.import_private_key(self.host_key.private_openssh)],
            server_factory=_Server,
            sftp_factory=sftp_factory,
            allow_scp=False,
        )

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return
        if self._acceptor is not None:
            acceptor = self._acceptor

            async def close() -> None:
                acceptor.close()
                await acceptor.wait_closed()

            asyncio.run_coroutine_threadsafe(close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None

    def __enter__(self) -> "EmbeddedSftpServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd")


def find_sshd() -> str | None:
    for candidate in SSHD_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("sshd")


class OpenSshServer(_SshServer):
    """OpenSSH sshd on loopback for the current user, serving SFTP with internal-sftp (no chroot).

    Paths on this server are real paths: the tests work under ``root`` (an absolute folder).
    """

    def __init__(self, workdir: Path, *, port: int = 0) -> None:
        self.workdir = Path(workdir)
        self.root = self.workdir / "files"
        self.port = port or _free_port()
        self.host = "127.0.0.1"
        self.username = _current_user()
        self.host_key = KeyPair.generate()
        self.client_key = KeyPair.generate()
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "OpenSshServer":
        sshd = find_sshd()
        if sshd is None:
            raise FileNotFoundError("OpenSSH sshd is not installed (apt-get install openssh-server)")
        self.root.mkdir(parents=True, exist_ok=True)
        host_key_file = self.workdir / "ssh_host_ed25519_key"
        self.host_key.write(host_key_file)
        authorized = self.workdir / "authorized_keys"
        authorized.write_text(self.client_key.public_line + "\n")
        authorized.chmod(0o600)
        config = self.workdir / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    f"ListenAddress {self.host}",
                    f"HostKey {host_key_file}",
                    f"PidFile {self.workdir / 'sshd.pid'}",
                    f"AuthorizedKeysFile {authorized}",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "StrictModes no",
                    "PermitRootLogin prohibit-password",
                    f"AllowUsers {self.username}",
                    "Subsystem sftp internal-sftp",
                    "LogLevel ERROR",
                    "",
                ]
            )
        )
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        self._proc = subprocess.Popen(
            [sshd, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode() if self._proc.stderr else ""
                raise RuntimeError(f"sshd exited with {self._proc.returncode}: {err}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                    if sock.recv(4).startswith(b"SSH-"):
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("sshd did not start listening within 15 s")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._proc = None

    def __enter__(self) -> "OpenSshServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _current_user() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name
