"""The SFTP transport against real SSH servers: asyncssh in-process and OpenSSH sshd."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from sandbox.sftp_server import KeyPair
from threepl_bridge.specs.models import CompleteRule
from threepl_bridge.transport.sftp import (
    HostKeyRejected,
    SftpTransport,
    TransportError,
    UnsafeRemoteName,
    remote_path,
    safe_name,
)


def transport(sftp, **kw) -> SftpTransport:
    return SftpTransport(sftp.conn_id, **kw)


def test_upload_then_download_round_trips_bytes(sftp):
    t = transport(sftp)
    payload = "\ufeffsku;qty\r\nÄ-1;3\r\n".encode("utf-8")
    uploaded = t.upload_atomic(sftp.remote("out"), "ORDERS_1.csv", payload)
    assert uploaded.size == len(payload)
    assert sftp.local_path("out", "ORDERS_1.csv").read_bytes() == payload
    got = t.read_bytes(sftp.remote("out", "ORDERS_1.csv"))
    assert got.data == payload
    assert len(got.sha256) == 64
    with t.open_stream(sftp.remote("out", "ORDERS_1.csv")) as stream:
        assert stream.read() == payload


def test_upload_leaves_no_temporary_file_and_replaces_atomically(sftp):
    t = transport(sftp)
    t.upload_atomic(sftp.remote("out"), "ITEMS.csv", b"old")
    t.upload_atomic(sftp.remote("out"), "ITEMS.csv", b"new content")
    assert sorted(os.listdir(sftp.local_path("out"))) == ["ITEMS.csv"]
    assert sftp.local_path("out", "ITEMS.csv").read_bytes() == b"new content"


def test_reader_never_sees_a_half_written_upload(sftp):
    t = transport(sftp)
    folder = sftp.local_path("big")
    folder.mkdir()
    payload = os.urandom(6 * 1024 * 1024)
    seen_sizes: list[int] = []
    seen_names: set[str] = set()
    done = threading.Event()

    def watch() -> None:
        while True:
            finished = done.is_set()  # one more full look after the upload returned: the final file is there then
            for name in os.listdir(folder):
                seen_names.add(name)
                if name == "STOCK.csv":
                    try:
                        seen_sizes.append((folder / name).stat().st_size)
                    except FileNotFoundError:
                        pass
            if finished:
                return

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        t.upload_atomic(sftp.remote("big"), "STOCK.csv", payload)
    finally:
        done.set()
        watcher.join()
    # the temporary name was used (the watcher saw it) and the final name only ever had the full size
    assert any(n.startswith(".STOCK.csv.") and n.endswith(".part") for n in seen_names)
    assert seen_sizes, "the watcher should have seen the final file"
    assert set(seen_sizes) == {len(payload)}
    # and the listing of complete files never offers the temporary name
    assert [f.name for f in t.list_complete(sftp.remote("big"), "*", CompleteRule(rule="rename"))] == ["STOCK.csv"]


def test_failed_upload_removes_its_temporary_file(sftp):
    t = transport(sftp)

    class Broken:
        def __init__(self) -> None:
            self.calls = 0

        def read(self, n: int) -> bytes:
            self.calls += 1
            if self.calls > 2:
                raise OSError("source went away")
            return b"x" * 1000

    with pytest.raises(OSError, match="source went away"):
        t.upload_atomic(sftp.remote("out"), "ORDERS.csv", Broken())
    assert os.listdir(sftp.local_path("out")) == []


@pytest.mark.parametrize(
    "name", ["../escape.csv", "..", ".", "a/b.csv", "a\\b.csv", "bad\x00name", "bell\x07.csv", "tab\tname", "", " lead.csv"]
)
def test_path_escaping_or_control_names_are_refused(sftp, name):
    t = transport(sftp)
    with pytest.raises(UnsafeRemoteName):
        t.upload_atomic(sftp.remote("out"), name, b"x")
    if "/" not in name.strip("./"):  # "a/b.csv" inside a full path is just a sub-folder
        with pytest.raises(UnsafeRemoteName):
            t.move_unique(sftp.remote("in", name), sftp.remote("archive"))
    assert not (sftp.local.parent / "escape.csv").exists()


def test_folder_with_dotdot_is_refused():
    with pytest.raises(UnsafeRemoteName):
        remote_path("/in/../../etc", "passwd")
    assert safe_name("DISPATCH_20261031.csv") == "DISPATCH_20261031.csv"


def test_marker_rule_lists_only_files_with_their_marker(sftp):
    folder = sftp.local_path("dispatch")
    folder.mkdir()
    (folder / "DISPATCH_1.csv").write_text("a")
    (folder / "DISPATCH_1.csv.ok").write_text("")
    (folder / "DISPATCH_2.csv").write_text("still writing")
    (folder / "OTHER_1.csv").write_text("x")
    (folder / "OTHER_1.csv.ok").write_text("")
    (folder / "sub").mkdir()
    rule = CompleteRule(rule="marker", marker_suffix=".ok")
    found = transport(sftp).list_complete(sftp.remote("dispatch"), "DISPATCH_*.csv", rule)
    assert [f.name for f in found] == ["DISPATCH_1.csv"]
    assert found[0].size == 1


def test_rename_rule_ignores_temporary_names(sftp):
    folder = sftp.local_path("in")
    folder.mkdir()
    for name in ("DISPATCH_1.csv", "DISPATCH_2.csv.tmp", ".DISPATCH_3.csv", "DISPATCH_4.csv.part"):
        (folder / name).write_text("x")
    found = transport(sftp).list_complete(sftp.remote("in"), "DISPATCH_*", CompleteRule(rule="rename"))
    assert [f.name for f in found] == ["DISPATCH_1.csv"]


def test_stable_size_rule_skips_a_file_that_grows_between_looks(sftp):
    folder = sftp.local_path("stock")
    folder.mkdir()
    (folder / "STOCK_1.csv").write_text("complete")
    growing = folder / "STOCK_2.csv"
    growing.write_text("part")

    def sleep(seconds: float) -> None:  # the 3PL is still writing STOCK_2 while we wait
        assert seconds == 3
        with growing.open("a") as f:
            f.write("more rows")

    rule = CompleteRule(rule="stable_size", stable_seconds=3)
    found = transport(sftp, sleep=sleep).list_complete(sftp.remote("stock"), "STOCK_*.csv", rule)
    assert [f.name for f in found] == ["STOCK_1.csv"]


def test_move_keeps_a_unique_name_and_takes_the_marker_along(sftp):
    t = transport(sftp)
    inbox, archive = sftp.local_path("in"), sftp.local_path("archive")
    inbox.mkdir()
    archive.mkdir()
    (archive / "D.csv").write_text("older file of the same name")
    (archive / "D.1.csv").write_text("and another")
    (inbox / "D.csv").write_text("new")
    (inbox / "D.csv.ok").write_text("")
    moved = t.move_unique(sftp.remote("in", "D.csv"), sftp.remote("archive"), companions=(".ok",))
    assert moved == sftp.remote("archive", "D.2.csv")
    assert (archive / "D.csv").read_text() == "older file of the same name"
    assert (archive / "D.1.csv").read_text() == "and another"
    assert (archive / "D.2.csv").read_text() == "new"
    assert (archive / "D.2.csv.ok").exists()
    assert os.listdir(inbox) == []


def test_move_creates_missing_destination_folders(sftp):
    t = transport(sftp)
    (sftp.local_path("in")).mkdir()
    (sftp.local_path("in", "E.csv")).write_text("e")
    moved = t.move_unique(sftp.remote("in", "E.csv"), sftp.remote("error", "2026", "11"))
    assert moved == sftp.remote("error", "2026", "11", "E.csv")
    assert sftp.local_path("error", "2026", "11", "E.csv").read_text() == "e"


def test_missing_files_read_as_none_or_file_not_found(sftp):
    t = transport(sftp)
    sftp.local_path("in").mkdir()
    assert t.stat(sftp.remote("in", "nope.csv")) is None
    assert not t.exists(sftp.remote("in", "nope.csv"))
    with pytest.raises(FileNotFoundError):
        t.read_bytes(sftp.remote("in", "nope.csv"))
    with pytest.raises(TransportError, match="cannot list folder"):
        t.list_files(sftp.remote("no-such-folder"))


def test_server_answering_failure_for_missing_file_is_mapped(sftp, monkeypatch):
    """Some 3PL servers answer SSH_FX_FAILURE (a bare OSError) instead of SSH_FX_NO_SUCH_FILE."""
    import paramiko

    t = transport(sftp)
    sftp.local_path("in").mkdir()
    sftp.local_path("in", "there.csv").write_text("x")
    real_stat = paramiko.SFTPClient.stat

    def failing_stat(self, path):
        if path.endswith("missing.csv"):
            raise OSError("Failure")
        return real_stat(self, path)

    monkeypatch.setattr(paramiko.SFTPClient, "stat", failing_stat)
    assert t.stat(sftp.remote("in", "missing.csv")) is None
    assert t.stat(sftp.remote("in", "there.csv")).size == 1


def test_wrong_host_key_is_refused(sftp, monkeypatch):
    conn = json.loads(sftp.server.airflow_connection())
    conn["extra"]["host_key"] = KeyPair.generate().public_line  # some other server's key
    monkeypatch.setenv("AIRFLOW_CONN_WRONG_HOST_KEY", json.dumps(conn))
    started = time.monotonic()
    with pytest.raises(HostKeyRejected, match="refusing to connect"):
        SftpTransport("wrong_host_key").list_files(sftp.remote())
    assert time.monotonic() - started < 10, "a refused host key must fail at once, without retry sleeps"


def test_unknown_host_is_refused_not_added(sftp, monkeypatch, tmp_path):
    conn = json.loads(sftp.server.airflow_connection())
    del conn["extra"]["host_key"]
    monkeypatch.setenv("HOME", str(tmp_path))  # no known_hosts entry for the server
    monkeypatch.setenv("AIRFLOW_CONN_NO_HOST_KEY", json.dumps(conn))
    with pytest.raises(HostKeyRejected, match="host key is unknown"):
        SftpTransport("no_host_key").list_files(sftp.remote())
    assert not (tmp_path / ".ssh" / "known_hosts").exists()


def test_connection_disabling_host_key_check_is_refused_before_connecting(sftp, monkeypatch):
    conn = json.loads(sftp.server.airflow_connection())
    del conn["extra"]["host_key"]
    conn["extra"]["no_host_key_check"] = True
    monkeypatch.setenv("AIRFLOW_CONN_INSECURE", json.dumps(conn))
    with pytest.raises(HostKeyRejected, match="disables host key verification"):
        SftpTransport("insecure").list_files(sftp.remote())


def test_wrong_client_key_is_not_authenticated(sftp, monkeypatch):
    import paramiko

    conn = json.loads(sftp.server.airflow_connection())
    conn["extra"]["private_key"] = KeyPair.generate().private_openssh
    monkeypatch.setenv("AIRFLOW_CONN_WRONG_CLIENT", json.dumps(conn))
    with pytest.raises(paramiko.AuthenticationException):
        SftpTransport("wrong_client").list_files(sftp.remote())


# ------------------------------------------------------------------- dropped connections, poison names (issue 13)


@pytest.fixture
def faulty(tmp_path, monkeypatch):
    """An embedded server of its own (its faults cannot leak into other tests) and a transport to it."""
    from sandbox.sftp_server import EmbeddedSftpServer

    with EmbeddedSftpServer(tmp_path / "root") as server:
        monkeypatch.setenv("AIRFLOW_CONN_FAULTY_SFTP", server.airflow_connection())
        yield server, SftpTransport("faulty_sftp", sleep=lambda s: None)


@pytest.mark.parametrize("after", [False, True], ids=["before-executed", "after-executed"])
def test_a_drop_between_the_data_file_and_its_marker_is_completed_by_moving_again(faulty, after):
    """Issue 13.6: the SFTP connection drops at the marker's rename; moving the same file again brings the marker
    to its data file instead of failing on the data file that is already gone."""
    import paramiko

    server, t = faulty
    inbox, archive = _in_and_archive(server)
    (archive / "D.csv").write_text("an older file of the same name, with its marker")
    (archive / "D.csv.ok").write_text("")
    (inbox / "D.csv").write_text("new")
    (inbox / "D.csv.ok").write_text("")
    server.drop_on("rename", path="D.csv.ok ->", after=after)
    if after:  # the marker moved, only the reply was lost: the caller cannot know
        with pytest.raises((paramiko.SSHException, EOFError, OSError)):
            t.move_unique("/in/D.csv", "/archive", companions=(".ok",))
    else:
        with pytest.raises((paramiko.SSHException, EOFError, OSError)):
            t.move_unique("/in/D.csv", "/archive", companions=(".ok",))
        assert sorted(os.listdir(inbox)) == ["D.csv.ok"]  # the orphaned marker
    assert t.move_unique("/in/D.csv", "/archive", companions=(".ok",)) == "/archive/D.1.csv"
    assert os.listdir(inbox) == []
    assert sorted(os.listdir(archive)) == ["D.1.csv", "D.1.csv.ok", "D.csv", "D.csv.ok"]
    assert (archive / "D.1.csv").read_text() == "new"


def _in_and_archive(server):
    inbox, archive = server.root / "in", server.root / "archive"
    inbox.mkdir()
    archive.mkdir()
    return inbox, archive


def test_move_companions_brings_orphaned_markers_to_the_archived_data_file(faulty):
    """The lifecycle's repair call for a file already archived (issue 13.6): its marker follows it, found by content."""
    import hashlib

    server, t = faulty
    inbox, archive = _in_and_archive(server)
    (archive / "D.csv").write_text("other content")
    (archive / "D.1.csv").write_text("ours")
    (archive / "D.2.csv").write_text("a later file")
    (inbox / "D.csv.ok").write_text("")
    sha = hashlib.sha256(b"ours").hexdigest()
    assert t.move_companions("/in/D.csv", "/archive", (".ok",), sha256=sha) == "/archive/D.1.csv"
    assert sorted(os.listdir(archive)) == ["D.1.csv", "D.1.csv.ok", "D.2.csv", "D.csv"]
    assert os.listdir(inbox) == []
    assert t.move_companions("/in/D.csv", "/archive", (".ok",), sha256=sha) == "/archive/D.1.csv"  # nothing left: a no-op
    (inbox / "E.csv.ok").write_text("")
    assert t.move_companions("/in/E.csv", "/archive", (".ok",)) is None  # its data file is nowhere in the archive
    assert os.listdir(inbox) == ["E.csv.ok"]


POISON = ["DISPATCH_1\n.csv", "DISPATCH_\\2.csv", "DISPATCH_3\t.csv", "DISPATCH_4 .csv\x1b", "DISPATCH_5.csv "]


def test_poison_names_are_never_offered_as_complete_files_and_can_be_quarantined(faulty):
    """Issue 13.7: a name with a newline, a backslash or control characters is set apart (so no task fails on it)
    and can be moved to the error folder under a safe name; the other files are listed as usual."""
    server, t = faulty
    inbox = server.root / "in"
    inbox.mkdir()
    for name in [*POISON, "DISPATCH_9.csv"]:
        (inbox / name).write_text(name)
        (inbox / f"{name}.ok").write_text("")
    os.close(os.open(bytes(inbox) + b"/DISPATCH_\xff.csv", os.O_CREAT | os.O_WRONLY))  # not UTF-8
    os.close(os.open(bytes(inbox) + b"/DISPATCH_\xff.csv.ok", os.O_CREAT | os.O_WRONLY))
    rule = CompleteRule(rule="marker", marker_suffix=".ok")
    unsafe: list = []
    found = t.list_complete("/in", "DISPATCH_*", rule, unsafe=unsafe)
    assert [f.name for f in found] == ["DISPATCH_9.csv"]
    assert t.read_bytes(found[0].path).data == b"DISPATCH_9.csv"
    assert len(unsafe) == len(POISON) + 1
    assert [f.name for f in t.list_files("/in", "DISPATCH_9*")] == ["DISPATCH_9.csv", "DISPATCH_9.csv.ok"]
    moved = sorted(t.quarantine(f, "/error", companions=(".ok",)) for f in unsafe)
    for path in moved:
        safe_name(path.rsplit("/", 1)[1])  # every new name is a plain, safe name
    assert moved == sorted({*moved})
    assert sorted(os.listdir(inbox)) == ["DISPATCH_9.csv", "DISPATCH_9.csv.ok"]
    errors = sorted(os.listdir(server.root / "error"))
    assert len(errors) == 2 * len(unsafe) and "DISPATCH_1_.csv" in errors and "DISPATCH_1_.csv.ok" in errors
    assert (server.root / "error" / "DISPATCH_1_.csv").read_text() == "DISPATCH_1\n.csv"


def test_our_own_temporary_upload_names_are_never_listed_even_without_temporary_patterns(faulty):
    server, t = faulty
    inbox = server.root / "in"
    inbox.mkdir()
    (inbox / "ORDERS_1.csv").write_text("x")
    (inbox / ".ORDERS_2.csv.17.part").write_text("half")
    rule = CompleteRule(rule="rename", temporary_patterns=())
    assert [f.name for f in t.list_complete("/in", "*", rule)] == ["ORDERS_1.csv"]
