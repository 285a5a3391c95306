"""The README's end-to-end demo on embedded defaults (sandbox: never imported by the product).

Starts, on loopback: the Odoo stand-in, an SFTP server (asyncssh, generated host and client keys) playing the
demo 3PL's server, and Airflow (SQLite metadata, LocalExecutor, parallelism 4) with the connections set. Then it
runs the DAGs for real (``airflow dags test``): products out, orders out, the simulated 3PL acts, dispatches in,
stock reconciled, month-end report; prints a summary and leaves the Airflow UI up until Ctrl+C (``--no-ui`` or
CI=true: exit after the summary, status 0 only if the loop worked). A second run doubles nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEMO = Path(os.environ.get("THREEPL_DEMO_DIR", REPO / ".demo"))
PARTNER = "demo3pl"
API_KEY = "standin-etl-api-key"

# (reference, customer, lines [(sku, qty, uom id or None)], what the 3PL does)
ORDERS = [
    ("DEMO-1", 14, [("FURN_7800", 2, None), ("E-COM11", 1, None)], "ships in full (file with a UTF-8 BOM)"),
    ("DEMO-2", 10, [("FURN_8855", 10, None)], "ships 6 of 10: backorder"),
    ("DEMO-3", 11, [("FURN_5555", 5, None)], "ships lot LOT-B"),
    ("DEMO-4", 15, [("FURN_0269", 2, None)], "ships, plus a line for a SKU not on the order"),
    ("DEMO-5", 14, [("FURN_6666", 1, None)], "never ships: pending past the SLA"),
    ("DEMO-6", None, [("FURN_8855", 1, None)], "customer address has no zip: held"),
    ("DEMO-7", 10, [("FURN_7800", 3, None)], "ships before the count, file arrives after it: timing"),
    ("DEMO-8", 11, [("E-COM11", 1.5, 27)], "1.5 cases of 12: held (UoM mismatch)"),
]


def log(msg: str) -> None:
    print(f"==> {msg}", flush=True)


# ----------------------------------------------------------------------------------------------- setup


def keys(folder: Path) -> tuple[Any, Any]:
    from sandbox.sftp_server import KeyPair

    folder.mkdir(parents=True, exist_ok=True)
    pairs = []
    for name in ("host_key", "client_key"):
        path = folder / name
        if path.exists():
            pairs.append(KeyPair(private_openssh=path.read_text(), public_line=Path(f"{path}.pub").read_text().strip()))
        else:
            pair = KeyPair.generate()
            pair.write(path)
            pairs.append(pair)
    return pairs[0], pairs[1]


def airflow_env(odoo_url: str, sftp_conn: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "AIRFLOW_CONN_ODOO_DEFAULT": json.dumps({"conn_type": "odoo", "host": odoo_url, "login": "etl", "password": API_KEY,
                                                 "extra": {"database": "odoo3pl", "protocol": "xmlrpc"}}),
        "AIRFLOW_CONN_DEMO3PL_SFTP": sftp_conn,
        "AIRFLOW_CONN_THREEPL_LEDGER": json.dumps({"conn_type": "sqlite", "host": str(DEMO / "ledger.db")}),
        "THREEPL_REPORTS_DIR": str(DEMO / "reports"),
        "THREEPL_EXAMPLES": "true",  # the demo runs the shipped example partner demo3pl
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__API__HOST": "127.0.0.1",
    })
    env.pop("THREEPL_LEDGER_URL", None)
    return env


def dag_test(env: dict[str, str], dag_id: str, logical_date: datetime | None = None) -> bool:
    cmd = [sys.executable, "-m", "airflow", "dags", "test", dag_id]
    if logical_date is not None:
        cmd.append(logical_date.isoformat())
    log("airflow dags test " + " ".join(cmd[5:]))
    (DEMO / "logs").mkdir(exist_ok=True)
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired as exc:  # `dags test` keeps waiting on a task up for retry
        (DEMO / "logs" / f"{dag_id}.log").write_text(str(exc.stdout or "") + str(exc.stderr or ""))
        print(f"    timed out: see {DEMO / 'logs' / (dag_id + '.log')}")
        return False
    (DEMO / "logs" / f"{dag_id}.log").write_text(done.stdout + done.stderr)
    state_line = [line for line in (done.stdout + done.stderr).splitlines() if "state=" in line and "DagRun" in line]
    ok = done.returncode == 0 and not any("state=failed" in line for line in state_line)
    if not ok:
        print(f"    failed: see {DEMO / 'logs' / (dag_id + '.log')}")
    return ok


def seed_orders(client: Any) -> None:
    """The demo's sale orders in the 3PL warehouse (created once)."""
    if client.execute("sale.order", "search", [["client_order_ref", "=like", "DEMO-%"]], limit=1):
        return
    client.execute("res.users", "write", [client.uid], {"email": "etl@demo.example"})
    no_zip = client.execute("res.partner", "create", {"name": "Walk-in Customer (no zip)", "street": "9 Unknown Road",
                                                       "city": "Oakland", "country_id": 233})
    for ref, customer, lines, _ in ORDERS:
        order_lines = []
        for sku, qty, uom in lines:
            [pid] = client.execute("product.product", "search", [["default_code", "=", sku]])
            order_lines.append([0, 0, {"product_id": pid, "product_uom_qty": qty, **({"product_uom": uom} if uom else {})}])
        so = client.execute("sale.order", "create", {"partner_id": customer or no_zip, "warehouse_id": 3, "client_order_ref": ref,
                                                     "carrier_id": 2, "order_line": order_lines})
        client.execute("sale.order", "action_confirm", [so])


def warehouse_stock(client: Any) -> dict[str, int]:
    stock: dict[str, int] = {}
    for q in client.execute("stock.quant", "search_read", [["location_id", "child_of", 35]], fields=["product_id", "lot_id", "quantity"]):
        sku = q["product_id"][1].split("]")[0].lstrip("[")
        key = f"{sku}|{q['lot_id'][1] if q['lot_id'] else ''}"
        stock[key] = stock.get(key, 0) + int(q["quantity"])
    return stock


def local(moment: datetime) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("America/Los_Angeles")).strftime("%Y-%m-%d %H:%M:%S")


def three_pl_acts(tpl: Any, pickings: dict[str, str], now: datetime) -> None:
    """The warehouse picks up its orders and ships (the files it writes are what the pipeline reads)."""
    orders = tpl.new_orders()
    by_ref = {ref: pickings.get(ref) for ref, *_ in ORDERS}
    lines = {ref: orders.get(name, []) for ref, name in by_ref.items() if name}
    stamp = now.strftime("%Y%m%d")
    if lines.get("DEMO-1"):
        tpl.ship(f"DISPATCH_{stamp}_001.csv", [(l, l.qty, "", "P1") for l in lines["DEMO-1"]], local(now - timedelta(hours=2)), bom=True)
    if lines.get("DEMO-2") and lines.get("DEMO-3") and lines.get("DEMO-4"):
        rows = [(lines["DEMO-2"][0], 6, "", "P2"), (lines["DEMO-3"][0], lines["DEMO-3"][0].qty, "LOT-B", "P3")]
        rows += [(l, l.qty, "", "P4") for l in lines["DEMO-4"]]
        extra = type(lines["DEMO-4"][0])(order_ref=lines["DEMO-4"][0].order_ref, line=2, sku="FURN_9999X", qty=1, uom="EA", carrier="The Poste")
        rows.append((extra, 1, "", "P4"))
        tpl.ship(f"DISPATCH_{stamp}_002.csv", rows, local(now - timedelta(minutes=90)))
    tpl._late = lines.get("DEMO-7")  # noqa: SLF001 - shipped now, its file is written after the count


def three_pl_counts(tpl: Any, now: datetime) -> None:
    late = getattr(tpl, "_late", None)
    stamp = now.strftime("%Y%m%d")
    in_transit = {f"{l.sku}|": l.qty for l in late} if late else {}
    tpl.count(f"STOCK_{stamp}_0600.csv", local(now - timedelta(minutes=30)), shrinkage={"FURN_8855|": 2}, in_transit=in_transit)
    if late:  # shipped an hour ago, before the count; the confirmation only now
        tpl.ship(f"DISPATCH_{stamp}_003.csv", [(l, l.qty, "", "P7") for l in late], local(now - timedelta(minutes=60)))


# --------------------------------------------------------------------------------------------- summary


def fingerprint(client: Any, ledger: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    from threepl_bridge.ledger.models import Exchange, Posting, ReleasedPicking

    with ledger.session() as s:
        exchanges = s.scalar(select(func.count()).select_from(Exchange)) or 0
        postings = s.scalar(select(func.count()).select_from(Posting).where(Posting.state == "done")) or 0
        released = s.scalar(select(func.count()).select_from(ReleasedPicking)) or 0
    return {"files": exchanges, "postings": postings, "released": released,
            "done_pickings": client.execute("stock.picking", "search_count", [["state", "=", "done"], ["picking_type_id", "=", 12]]),
            "valuation_layers": client.execute("stock.valuation.layer", "search_count", [])}


def summary(client: Any, ledger: Any, reports: Path) -> tuple[list[str], bool]:
    from threepl_bridge.ledger.states import Outcome

    out: list[str] = []
    released = ledger.released_pickings(PARTNER)
    names = {r.picking_name for r in released.values()}
    done = client.execute("stock.picking", "search_read", [["name", "in", sorted(names)], ["state", "=", "done"]], fields=["name"])
    held = [e for e in ledger.open_exceptions(PARTNER) if e.object_type == "picking" and e.code.startswith("ORDER_")]
    out.append(f"Orders released to the 3PL: {len(released)} ({', '.join(sorted(names))})")
    out.append(f"Shipped and posted in Odoo: {len(done)} ({', '.join(sorted(d['name'] for d in done))})")
    out.append(f"Held, with reasons: {len(held)}")
    out += [f"   {e.object_ref}: {e.code} - {e.message}" for e in held]
    rows = Counter(r["code"] for r in ledger.dispatch_rows(PARTNER) if r["outcome"] == Outcome.EXCEPTION)
    records = Counter(e.code for e in ledger.open_exceptions(PARTNER))
    codes = rows + records
    out.append("Exceptions by code: " + ", ".join(f"{c} {n}" for c, n in sorted(codes.items())))
    pending = [e for e in ledger.open_exceptions(PARTNER) if e.code == "DISPATCH_PENDING_AT_3PL"]
    out += [f"   pending: {e.message}" for e in pending]
    recons = ledger.reconciliations(PARTNER)
    for recon in recons:
        counts = ledger.reconciliation_counts(recon.id)
        lines = ledger.reconciliation_lines(recon.id)
        out.append(f"Reconciliation R{recon.id} at {recon.as_of:%Y-%m-%d %H:%M} UTC: {recon.state}; "
                   + ", ".join(f"{k} {v}" for k, v in counts.items()) + f"; variance value {recon.variance_value} {recon.currency}")
        out += [f"   {l.classification}: {l.sku} {l.lot} {l.explanation or ''} "
                f"{'(adjusted)' if l.posting_id else '(waits for approval)' if l.approval == 'pending' else ''}".rstrip()
                for l in lines if l.classification in ("timing", "variance")]
    month_end = sorted(reports.glob(f"{PARTNER}/month_end_*.csv"))
    for path in month_end:
        verdict = [line for line in path.read_text().splitlines() if line.startswith("verdict,")]
        out.append(f"Month-end verdict ({path.stem[-7:]}): {verdict[0].split(',', 4)[-1].strip(chr(34)) if verdict else '?'}")
    out.append("Finance reports:")
    out += [f"   {p}" for p in sorted(reports.rglob("*.html")) + sorted(reports.rglob("*.csv"))]
    ok = (len(released) >= 5 and len(done) >= 4 and {"ORDER_ADDRESS_INCOMPLETE", "ORDER_UOM_MISMATCH"} <= {e.code for e in held}
          and "DISPATCH_SKU_NOT_ON_PICKING" in codes and bool(pending) and bool(recons) and bool(month_end)
          and any(l.classification == "timing" for r in recons for l in ledger.reconciliation_lines(r.id))
          and any(l.classification == "variance" for r in recons for l in ledger.reconciliation_lines(r.id)))
    return out, ok


# ------------------------------------------------------------------------------------------------- main


def run(no_ui: bool) -> int:
    from sandbox.odoo_standin import OdooStandIn, build
    from sandbox.sftp_server import EmbeddedSftpServer
    from sandbox.three_pl import Simulated3PL
    from threepl_bridge.ledger.repo import Ledger
    from threepl_bridge.odoo.client import OdooClient, OdooSettings
    from threepl_bridge.specs.loader import discover_partners

    DEMO.mkdir(exist_ok=True)
    partner = discover_partners(examples=True).get(PARTNER)
    started = time.monotonic()
    env_odoo = build()
    state_file = DEMO / "odoo.pickle"
    second_run = state_file.exists()
    if second_run:
        env_odoo.load(state_file)
    host_key, client_key = keys(DEMO / "keys")
    log("preparing Airflow's metadata database (SQLite)")
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
    with OdooStandIn(env_odoo) as odoo, EmbeddedSftpServer(DEMO / "sftp", host_key=host_key, client_key=client_key) as sftp:
        log(f"Odoo stand-in on {odoo.url}; SFTP 3PL server on 127.0.0.1:{sftp.port} (host key {sftp.host_key_line[:32]}...)")
        env = airflow_env(odoo.url, sftp.airflow_connection())
        client = OdooClient(OdooSettings(url=odoo.url, database="odoo3pl", login="etl", password=API_KEY))
        ledger = Ledger.open(f"sqlite:///{DEMO / 'ledger.db'}")
        docs = {d: partner.document(d) for d in ("orders", "dispatches", "stock")}
        tpl = Simulated3PL(DEMO / "sftp", DEMO / "3pl_state.json", orders_folder=docs["orders"].folder,
                           dispatch_folder=docs["dispatches"].folder, stock_folder=docs["stock"].folder)
        seed_orders(client)
        tpl.receive_stock(warehouse_stock(client))
        before = fingerprint(client, ledger)
        now = datetime.now(timezone.utc).replace(microsecond=0)
        ok = dag_test(env, f"{PARTNER}_products_to_3pl") and dag_test(env, f"{PARTNER}_orders_to_3pl")
        pickings = {o["client_order_ref"]: o["name"] for o in client.execute("sale.order", "search_read", [["client_order_ref", "=like", "DEMO-%"]],
                                                                             fields=["client_order_ref", "name"])}
        by_so = {p["origin"]: p["name"] for p in client.execute("stock.picking", "search_read", [["origin", "in", list(pickings.values())]],
                                                                fields=["origin", "name"], order="id")}
        log("the simulated 3PL picks up its orders and ships")
        three_pl_acts(tpl, {ref: by_so.get(so) for ref, so in pickings.items()}, now)
        ok = dag_test(env, f"{PARTNER}_dispatches_from_3pl") and ok
        log("the 3PL counts its stock (and confirms a late shipment after the count)")
        three_pl_counts(tpl, now)
        ok = dag_test(env, f"{PARTNER}_stock_from_3pl") and ok
        log("three days later: the late confirmation is posted, the order never shipped is overdue")
        ok = dag_test(env, f"{PARTNER}_dispatches_from_3pl", now + timedelta(days=3)) and ok
        ok = dag_test(env, "month_end_valuation", now.replace(day=1, hour=0, minute=0, second=0)) and ok
        env_odoo.save(state_file)
        after = fingerprint(client, ledger)
        lines, loop_ok = summary(client, ledger, DEMO / "reports")
        print("\n== Summary ==")
        print("\n".join(lines))
        if second_run:
            same = before == after
            print(f"Second run: {'nothing new, nothing doubled' if same else 'CHANGED: ' + json.dumps({'before': before, 'after': after})}")
            ok = ok and same
        ok = ok and loop_ok
        print(f"\nDEMO {'OK' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s  (logs of each DAG run: {DEMO / 'logs'})")
        if no_ui or not ok:
            return 0 if ok else 1
        return serve_ui(env)


def serve_ui(env: dict[str, str]) -> int:
    """airflow standalone on 127.0.0.1:8080 with the same connections, until Ctrl+C."""
    home = Path(env.get("AIRFLOW_HOME", REPO / ".airflow"))
    proc = subprocess.Popen([sys.executable, "-m", "airflow", "standalone"], env=env, start_new_session=True,
                            stdout=open(DEMO / "logs" / "standalone.log", "w"), stderr=subprocess.STDOUT)
    password_file = home / "simple_auth_manager_passwords.json.generated"
    for _ in range(120):
        if password_file.exists():
            break
        time.sleep(1)
    login = json.loads(password_file.read_text()) if password_file.exists() else {}
    user, password = next(iter(login.items())) if login else ("admin", "(see " + str(password_file) + ")")
    print(f"\nAirflow UI: http://127.0.0.1:8080  login {user} / {password}   (Ctrl+C to stop)")
    try:
        proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        proc.wait(30)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-ui", action="store_true", help="exit after the summary (implied by CI=true)")
    parser.add_argument("--reset", action="store_true", help="start from scratch (delete .demo/ and the demo ledger)")
    args = parser.parse_args()
    if args.reset and DEMO.exists():
        import shutil

        shutil.rmtree(DEMO)
    no_ui = args.no_ui or os.environ.get("CI", "").lower() == "true"
    sys.exit(run(no_ui))


if __name__ == "__main__":
    main()
