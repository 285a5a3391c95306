"""A real worker process for the reliability tests: runs one task body of a flow, and can SIGKILL itself at a
chosen step boundary (just before or just after a given function), the way a worker dies under the OOM killer or
a node loss. The parent test checks Odoo and the ledger after recovery.

    python -m tests.reliability.worker dispatches NAME --kill-at threepl_bridge.ledger.repo:Ledger.complete_postings:after

Connections come from the environment like in a task (``AIRFLOW_CONN_<PARTNER>_SFTP``, ``THREEPL_LEDGER_URL``),
plus ``ODOO_URL`` for the stand-in (or a real Odoo) and ``PARTNER_YAML``. Prints the file's result as JSON.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import signal
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]

RUN_AT = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)


def install_kill(spec: str) -> None:
    """``module:Qualified.name:before|after[:nth]``: SIGKILL this process at the nth call (default 1)."""
    module_name, qualname, when, *rest = spec.split(":")
    nth = int(rest[0]) if rest else 1
    owner = importlib.import_module(module_name)
    *path, attr = qualname.split(".")
    for part in path:
        owner = getattr(owner, part)
    original = getattr(owner, attr)
    calls = {"n": 0}

    @functools.wraps(original)
    def dying(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == nth and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        result = original(*args, **kwargs)
        if calls["n"] == nth and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(owner, attr, staticmethod(dying) if isinstance(owner.__dict__.get(attr), staticmethod) else dying)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["dispatches", "stock"])
    parser.add_argument("names", nargs="*", help="files to handle (default: every listed file)")
    parser.add_argument("--kill-at", action="append", default=[])
    args = parser.parse_args(argv)

    from threepl_bridge.flows.dispatches import DISPATCHES
    from threepl_bridge.flows.exchange import handle_file, list_files
    from threepl_bridge.flows.stock import STOCK
    from threepl_bridge.ledger.repo import Ledger
    from threepl_bridge.odoo.client import OdooClient, OdooSettings
    from threepl_bridge.specs.loader import load_partner
    from threepl_bridge.transport.sftp import SftpTransport

    for spec in args.kill_at:
        install_kill(spec)
    partner = load_partner(Path(os.environ["PARTNER_YAML"]))
    client = OdooClient(OdooSettings(url=os.environ["ODOO_URL"], database=os.environ.get("ODOO_DB", "odoo3pl"),
                                     login=os.environ.get("ODOO_USER", "etl"), password=os.environ.get("ODOO_PASSWORD", "standin-etl-api-key"),
                                     backoff=0.0))
    ledger = Ledger.open(os.environ["THREEPL_LEDGER_URL"])
    transport = SftpTransport(partner.spec.sftp.conn_id, sleep=lambda s: None)
    kind = DISPATCHES if args.kind == "dispatches" else STOCK
    names = args.names or list_files(partner, kind, transport, ledger)
    options = {"reports_dir": os.environ.get("THREEPL_REPORTS_DIR", "/tmp/threepl-reports")}
    out = []
    for name in names:
        result = handle_file(kind, partner, name, transport=transport, ledger=ledger, client=client, now=RUN_AT, options=options)
        out.append({k: v for k, v in result.as_dict().items() if isinstance(v, (str, int, float, type(None), list))})
    print(json.dumps(out))
    return 0


def serve() -> int:
    """``--serve``: a warm parent for the workers. It imports what a worker imports (the flows, pandas, Great
    Expectations: seconds per process) once, opens nothing (no connection, no file of the world), and then forks
    one real worker process per request read from stdin, one JSON line each:

    - ``{"op": "start", "argv": [...], "env": {...}, "out": PATH, "err": PATH}`` -> ``{"pid": N}``: the child sets
      the request's environment, sends its stdout/stderr to the two files and runs :func:`main` (its --kill-at
      SIGKILLs that child for real);
    - ``{"op": "wait", "pid": N}`` -> ``{"returncode": RC}`` (negative: the signal, -9 for SIGKILL, like Popen).
    """
    for module in ("great_expectations", "threepl_bridge.flows.dispatches", "threepl_bridge.flows.exchange",
                   "threepl_bridge.flows.stock", "threepl_bridge.quality", "threepl_bridge.ledger.repo"):
        importlib.import_module(module)  # the slow imports, done once

    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "start":
            sys.stdout.flush()
            pid = os.fork()
            if pid == 0:  # the worker
                code = 1
                try:
                    os.environ.clear()
                    os.environ.update(request["env"])
                    for fd, path in ((1, request["out"]), (2, request["err"])):
                        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                        os.dup2(target, fd)
                        os.close(target)
                    sys.stdin = open(os.devnull)
                    code = main(request["argv"])
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else 1
                except BaseException:  # noqa: BLE001 - a crash: its traceback on the worker's stderr
                    import traceback

                    traceback.print_exc()
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(code)
            answer = {"pid": pid}
        else:  # wait, at most "timeout" seconds: a hung worker is killed and reported, never waited for forever
            deadline, timed_out = time.monotonic() + float(request.get("timeout") or 240), False
            while True:
                pid, status = os.waitpid(request["pid"], os.WNOHANG)
                if pid:
                    break
                if time.monotonic() > deadline and not timed_out:
                    os.kill(request["pid"], signal.SIGKILL)
                    timed_out = True
                time.sleep(0.02)
            answer = {"returncode": -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status), "timed_out": timed_out}
        print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(serve() if sys.argv[1:] == ["--serve"] else main())
