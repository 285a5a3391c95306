"""A real Airflow on loopback for tests, the demo's UI and benchmarks: ``airflow standalone`` (API server with the
UI, scheduler with LocalExecutor, DAG processor, triggerer) in its own process group, with known logins of the
simple auth manager, driven through Airflow's REST API.

    with AirflowServices(env, home) as af:
        token = af.token()
        run = af.trigger("demo3pl_orders_to_3pl")
        af.wait(run["dag_id"], run["dag_run_id"])
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

USERS = {"admin": ("admin", "admin-test-password"), "viewer": ("viewer", "viewer-test-password")}  # name: (role, password)
FINAL = {"success", "failed"}


def _own_group_dying_with_parent() -> None:
    """In the child: a process group of its own (stopped as one), and SIGTERM when the test process dies (Linux),
    so a killed test run leaves no Airflow behind."""
    os.setsid()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class AirflowServices:
    def __init__(self, env: dict[str, str], home: Path, *, database: str | None = None, port: int | None = None, log: Path | None = None,
                 pools: dict[str, int] | None = None) -> None:
        self.home = Path(home)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log or self.home / "standalone.log"
        self.passwords = self.home / "simple_auth_manager_passwords.json"
        self.env = {**env, "AIRFLOW_HOME": str(self.home),
                    "AIRFLOW__API__HOST": "127.0.0.1", "AIRFLOW__API__PORT": str(self.port), "AIRFLOW__API__BASE_URL": self.url,
                    "AIRFLOW__API__WORKERS": "1",
                    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                    "AIRFLOW__CORE__EXECUTOR": "LocalExecutor", "AIRFLOW__CORE__PARALLELISM": env.get("AIRFLOW__CORE__PARALLELISM", "2"),
                    "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
                    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{name}:{role}" for name, (role, _) in USERS.items()),
                    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.passwords),
                    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",  # unpause() what a test runs: no schedule starts by itself
                    "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5", "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5"}
        if database:  # SQLite serialises the scheduler, the executor's workers and the API server: a real DB for real runs
            self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = database
        self.pools = pools if pools is not None else {os.environ.get("THREEPL_ODOO_POOL", "odoo_api"): 4}
        self.proc: subprocess.Popen[bytes] | None = None
        self._tokens: dict[str, str] = {}

    def __enter__(self) -> "AirflowServices":
        self.home.mkdir(parents=True, exist_ok=True)
        self.passwords.write_text(json.dumps({name: password for name, (_, password) in USERS.items()}))
        for cmd in (["db", "migrate"], *(["pools", "set", name, str(slots), "bounded by the test"] for name, slots in self.pools.items())):
            done = subprocess.run([sys.executable, "-m", "airflow", *cmd], env=self.env, capture_output=True, text=True, timeout=600)
            if done.returncode:
                raise RuntimeError(f"airflow {' '.join(cmd)} failed: {done.stderr[-3000:]}")
        self.proc = subprocess.Popen([sys.executable, "-m", "airflow", "standalone"], env=self.env, preexec_fn=_own_group_dying_with_parent,
                                     stdout=open(self.log, "wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"airflow standalone exited ({self.proc.returncode}); see {self.log}:\n{self.log.read_text()[-3000:]}")
            try:
                status, body, _ = self.raw("GET", "/api/v2/monitor/health")
                health = json.loads(body) if status == 200 else {}
                if all((health.get(c) or {}).get("status") == "healthy" for c in ("metadatabase", "scheduler", "triggerer", "dag_processor")):
                    return self
            except (OSError, ValueError):
                pass
            time.sleep(1)
        self.__exit__(None, None, None)
        raise RuntimeError(f"Airflow did not come up in 180 s; see {self.log}")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(60)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(30)

    # ------------------------------------------------------------------ REST
    def token(self, user: str = "admin") -> str:
        if user not in self._tokens:
            _, password = USERS[user]
            answer = self.request("POST", "/auth/token", {"username": user, "password": password}, auth=False)
            self._tokens[user] = answer["access_token"]
        return self._tokens[user]

    def raw(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 - loopback
                return resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as err:
            return err.code, err.read(), dict(err.headers)

    def request(self, method: str, path: str, payload: Any = None, *, auth: bool = True, user: str = "admin") -> Any:
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token(user)}"
        status, body, _ = self.raw(method, path, json.dumps(payload).encode() if payload is not None else None, headers)
        if status >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {status}: {body[:1000]!r}")
        return json.loads(body) if body else None

    def wait_parsed(self, dag_ids: list[str], timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = {d["dag_id"] for d in self.request("GET", "/api/v2/dags?limit=200")["dags"]}
            if set(dag_ids) <= found:
                return
            time.sleep(2)
        raise RuntimeError(f"DAGs {sorted(set(dag_ids) - found)} not parsed in {timeout} s")

    def unpause(self, *dag_ids: str) -> None:
        for dag_id in dag_ids:
            self.request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None, logical_date: str | None = None) -> dict[str, Any]:
        return self.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"conf": conf or {}, "logical_date": logical_date})

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        tis = self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=500")["task_instances"]
        return {ti["task_id"] + (f"[{ti['map_index']}]" if ti["map_index"] >= 0 else ""): ti["state"] for ti in tis}

    def wait(self, dag_id: str, run_id: str, timeout: float = 300, until: set[str] = FINAL) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.run(dag_id, run_id)
            if run["state"] in until:
                return run
            time.sleep(2)
        raise RuntimeError(f"{dag_id} {run_id} still {run['state']} after {timeout} s: {self.task_states(dag_id, run_id)}")
