"""``python -m threepl_bridge check``: is this installation ready to run? (``replay``: drop a settled file again.)

Checks, with messages an operator can act on: every partner spec loads; the Odoo connection (``odoo_default``,
or ``--conn-id``) logs in with the rights and email the flows need; every partner's warehouses exist in Odoo and
belong to that partner alone. Exits 0 when everything is ready, 1 otherwise. Reads the same Airflow connections
and environment as the tasks (e.g. ``AIRFLOW_CONN_ODOO_DEFAULT``); prints no secret.
"""

from __future__ import annotations

import argparse
import sys


def check(conn_id: str, only: list[str]) -> int:
    from threepl_bridge.odoo.hook import OdooHook, check_connection
    from threepl_bridge.odoo.warehouses import PartnerSetupError, partner_warehouses
    from threepl_bridge.specs.loader import discover_partners

    ok = True
    registry = discover_partners()
    for error in registry.errors:
        ok = False
        print(f"FAIL partner spec: {error}")
    partners = [p for code, p in registry.partners.items() if not only or code in only]
    missing = sorted(set(only) - set(registry.partners))
    for code in missing:
        ok = False
        print(f"FAIL partner {code}: not found (or an example partner while THREEPL_EXAMPLES is off)")
    try:
        client = OdooHook(conn_id).get_conn()
        ready, message = check_connection(client)
    except Exception as exc:  # noqa: BLE001 - any failure to reach Odoo is the answer here
        print(f"FAIL Odoo connection {conn_id!r}: {exc}")
        return 1
    print(f"{'ok  ' if ready else 'FAIL'} Odoo connection {conn_id!r}: {message}")
    ok &= ready
    for partner in partners:
        try:
            warehouses = partner_warehouses(client, partner)
        except PartnerSetupError as exc:
            ok = False
            print(f"FAIL partner {partner.code}: {exc}")
            continue
        names = ", ".join(f"{w['code']} ({w['name']}, stock {w['lot_stock_id'][1]})" for w in warehouses)
        print(f"ok   partner {partner.code}: warehouse(s) {names}")
    return 0 if ok else 1


def replay(code: str, exchange_id: int) -> int:
    """Copy an archived or quarantined inbound file back into the partner's inbox: the next run replays it."""
    from threepl_bridge.airflow import resources
    from threepl_bridge.flows.inbox import request_replay

    partner = resources.partner(code)
    try:
        path = request_replay(partner, exchange_id, transport=resources.transport(partner), ledger=resources.ledger())
    except ValueError as exc:
        print(f"FAIL {exc}")
        return 1
    print(f"ok   exchange {exchange_id} is back in the inbox as {path}; the next run of its DAG takes it as a new arrival")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m threepl_bridge", description=(__doc__ or "").splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    checker = sub.add_parser("check", help="check the Odoo connection and every partner's set-up")
    checker.add_argument("--conn-id", default="odoo_default", help="the Airflow connection of Odoo (default: odoo_default)")
    checker.add_argument("--partner", action="append", default=[], help="check only this partner (repeatable)")
    replayer = sub.add_parser("replay", help="put a settled inbound file back into the inbox (after a fix): the next run replays it")
    replayer.add_argument("--partner", required=True, help="the partner code")
    replayer.add_argument("--exchange", required=True, type=int, help="the exchange id of the file (from the ledger or its exception)")
    args = parser.parse_args(argv)
    if args.command == "replay":
        return replay(args.partner, args.exchange)
    return check(args.conn_id, args.partner)


if __name__ == "__main__":
    sys.exit(main())
