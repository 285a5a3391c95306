"""The README's end-to-end demo on embedded defaults (sandbox: never imported by the product).

Today it runs the flows that exist: an embedded SFTP server plays the demo 3PL and drops dispatch
confirmations and a stock snapshot; the partner's intake DAGs run for real (``airflow dags test``) and the
ledger's exchange records are summarised. It grows with the flows (products/orders out, posting, reconciliation).

Idempotent: a second run registers nothing twice.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO_DIR = REPO / ".demo"
PARTNER = "demo3pl"

DISPATCH_FILES = {
    # a UTF-8 BOM, as some WMS write it
    "DISPATCH_20261031_001.csv": "\ufefforder_ref,line,sku,barcode,qty_shipped,uom,lot,shipped_at,carrier,tracking_no,parcel_id\r\n"
    "3PL/OUT/00001,1,FURN_7800,,2,EA,,2026-10-31 23:00:00,The Poste,TP123456789,P1\r\n",
    "DISPATCH_20261101_002.csv": "order_ref,line,sku,barcode,qty_shipped,uom,lot,shipped_at,carrier,tracking_no,parcel_id\r\n"
    "3PL/OUT/00002,1,FURN_5555,,4,EA,LOT-A,2026-11-01 09:15:00,Standard delivery,SD-0002,P2\r\n",
}
STOCK_FILES = {
    "STOCK_20261101_0600.csv": "sku,lot,qty_on_hand,uom,status,snapshot_at\r\n"
    "FURN_7800,,498,EA,available,2026-11-01 06:00:00\r\n"
    "FURN_5555,LOT-A,36,EA,available,2026-11-01 06:00:00\r\n",
}


def _keys(folder: Path):  # type: ignore[no-untyped-def]
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
    return pairs


def _drop(root: Path, folder: str, files: dict[str, str], marker: str | None) -> None:
    target = root / folder.lstrip("/")
    target.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (target / name).write_bytes(text.encode("utf-8"))
        if marker:
            (target / f"{name}{marker}").write_bytes(b"")


def run(no_ui: bool) -> int:
    from sandbox.sftp_server import EmbeddedSftpServer
    from threepl_bridge.ledger.repo import Ledger
    from threepl_bridge.specs.loader import discover_partners

    partner = discover_partners().get(PARTNER)
    ledger_url = f"sqlite:///{DEMO_DIR / 'ledger.db'}"
    env = {**os.environ, "THREEPL_LEDGER_URL": ledger_url}
    host_key, client_key = _keys(DEMO_DIR / "keys")
    root = DEMO_DIR / "sftp"

    print("==> preparing Airflow metadata database", flush=True)
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, env=env, stdout=subprocess.DEVNULL)

    with EmbeddedSftpServer(root, host_key=host_key, client_key=client_key) as server:
        env[f"AIRFLOW_CONN_{partner.spec.sftp.conn_id.upper()}"] = server.airflow_connection()
        print(f"==> 3PL SFTP server on {server.host}:{server.port} (host key {server.host_key_line[:40]}...)")
        dispatch, stock = partner.document("dispatches"), partner.document("stock")
        marker = dispatch.complete.marker_suffix if dispatch.complete.rule == "marker" else None
        _drop(root, dispatch.folder, DISPATCH_FILES, marker)
        _drop(root, stock.folder, STOCK_FILES, None)
        ok = True
        for flow in ("dispatches_from_3pl", "stock_from_3pl"):
            dag_id = partner.spec.dag_id(flow)
            print(f"==> airflow dags test {dag_id}", flush=True)
            result = subprocess.run(
                [sys.executable, "-m", "airflow", "dags", "test", dag_id], env=env, capture_output=True, text=True
            )
            if result.returncode != 0:
                ok = False
                print(result.stdout[-3000:], result.stderr[-3000:], sep="\n")

    ledger = Ledger.open(ledger_url)
    print("\n== Summary ==")
    from sqlalchemy import func, select

    from threepl_bridge.ledger.models import Exchange

    with ledger.session() as s:
        rows = s.execute(
            select(Exchange.kind, Exchange.state, func.count()).group_by(Exchange.kind, Exchange.state).order_by(Exchange.kind)
        ).all()
    for kind, state, count in rows:
        print(f"  {kind:12} {state:18} {count}")
    expected = len(DISPATCH_FILES) + len(STOCK_FILES)
    total = sum(c for _, _, c in rows)
    if total != expected:
        ok = False
        print(f"  expected {expected} exchange records, found {total}")
    print(f"  ledger: {ledger_url}")
    if not no_ui:
        print("  (the Airflow UI step arrives with the full demo; run with --no-ui meanwhile)")
    print("DEMO OK" if ok else "DEMO FAILED")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-ui", action="store_true", help="exit after the summary (implied by CI=true)")
    args = parser.parse_args()
    no_ui = args.no_ui or os.environ.get("CI", "").lower() == "true"
    sys.exit(run(no_ui))


if __name__ == "__main__":
    main()
