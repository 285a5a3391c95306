"""Test-wide setup: an isolated Airflow home, real servers (SSH, PostgreSQL) as fixtures.

Servers that may be missing on a developer's machine (OpenSSH sshd, PostgreSQL) make their tests skip there,
but under CI=true a missing server is a failure, never a skip.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_HOME = Path(tempfile.mkdtemp(prefix="threepl-airflow-home-"))
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO / "plugins")
os.environ.pop("THREEPL_PARTNERS_DIR", None)
os.environ["THREEPL_EXAMPLES"] = "true"  # the tests run the shipped example partner demo3pl (a real install does not)
os.environ.pop("THREEPL_LEDGER_URL", None)

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def partner_copy(code: str) -> str:
    """The demo partner's YAML as a company's own partner: another code, its own warehouse, not an example."""
    text = (REPO / "sftp_formats" / "partners" / "demo3pl.yaml").read_text()
    for old, new in (("code: demo3pl", f"code: {code}"), ('warehouses: ["3PL"]', f'warehouses: ["{code[:5].upper()}"]'),
                     ("example: true ", "example: false")):
        assert old in text, old
        text = text.replace(old, new)
    return text


def unavailable(reason: str) -> None:
    """Skip on a developer machine; fail in CI, where every server must be there."""
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


# ------------------------------------------------------------------------------------------- SFTP


@dataclass
class SftpFixture:
    kind: str
    conn_id: str
    base: str  # remote folder under which the test works
    local: Path  # the same folder on this machine's disk
    server: object

    def remote(self, *parts: str) -> str:
        return "/".join([self.base.rstrip("/"), *parts]) if parts else self.base

    def local_path(self, *parts: str) -> Path:
        return self.local.joinpath(*parts)


@pytest.fixture(scope="session")
def asyncssh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from sandbox.sftp_server import EmbeddedSftpServer

    server = EmbeddedSftpServer(tmp_path_factory.mktemp("asyncssh-root")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def openssh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from sandbox.sftp_server import OpenSshServer, find_sshd

    if find_sshd() is None:
        unavailable("OpenSSH sshd is not installed (apt-get install openssh-server)")
    workdir = tmp_path_factory.mktemp("openssh")
    workdir.chmod(0o755)
    server = OpenSshServer(workdir).start()
    yield server
    server.stop()


@pytest.fixture(params=["asyncssh", "openssh"])
def sftp(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> SftpFixture:
    """A fresh folder on a real SSH server, reachable through an Airflow connection that checks the host key."""
    if request.param == "openssh":
        request.applymarker(pytest.mark.openssh)
    server = request.getfixturevalue(f"{request.param}_server")
    conn_id = f"test_sftp_{request.param}"
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", server.airflow_connection())
    sub = uuid.uuid4().hex[:10]
    local = Path(server.root) / sub
    local.mkdir(parents=True)
    base = f"/{sub}" if request.param == "asyncssh" else str(local)
    return SftpFixture(kind=request.param, conn_id=conn_id, base=base, local=local, server=server)


# ------------------------------------------------------------------------------------- databases

PG_ADMIN_URL = os.environ.get("THREEPL_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the session, dropped at the end."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"threepl_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        unavailable(f"PostgreSQL is not reachable at {make_url(PG_ADMIN_URL).render_as_string()}: {exc.orig}")
    yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty ledger database on each backend (PostgreSQL: a fresh schema per test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    request.applymarker(pytest.mark.postgres)
    base = request.getfixturevalue("postgres_url")
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:10]}"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()
