"""``python -m threepl_bridge check``: is this installation ready to run? (``replay``: drop a settled file again;
``exceptions list|show|resolve``: what operations must act on.)

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
        ok &= _locations_ok(client, partner)
    return 0 if ok else 1


def _locations_ok(client, partner) -> bool:  # type: ignore[no-untyped-def]
    """The locations the partner's goods-in documents send goods to exist in Odoo (else: what to create)."""
    policy, ok = partner.spec.policy, True
    wanted = []
    if partner.document("receipts") or partner.document("returns"):
        wanted.append(("policy.damaged_location", policy.damaged_location))
    if partner.document("returns"):
        wanted.append(("policy.scrap_location", policy.scrap_location))
    for key, name in wanted:
        if not name:
            print(f"warn partner {partner.code}: {key} is not set: damaged receipts and quarantined returns will be exceptions")
        elif client.execute("stock.location", "search", [["complete_name", "=", name]], limit=1):
            print(f"ok   partner {partner.code}: {key} {name}")
        else:
            ok = False
            print(f"FAIL partner {partner.code}: {key} {name!r} is not a location in Odoo: create it (Inventory > Configuration > "
                  "Locations; an internal location under the warehouse, outside its stock location) or correct the name")
    return ok


def replay(code: str, exchange_id: int) -> int:
    """Copy an archived or quarantined inbound file back into the partner's inbox: the next run replays it."""
    from threepl_bridge.flows.inbox import request_replay
    from threepl_bridge.ledger.repo import Ledger
    from threepl_bridge.specs.loader import discover_partners
    from threepl_bridge.transport.sftp import SftpTransport

    partner = discover_partners().partners.get(code)
    if partner is None:
        print(f"FAIL partner {code}: not found")
        return 1
    try:
        path = request_replay(partner, exchange_id, transport=SftpTransport(partner.spec.sftp.conn_id), ledger=Ledger.open())
    except ValueError as exc:
        print(f"FAIL {exc}")
        return 1
    print(f"ok   exchange {exchange_id} is back in the inbox as {path}; the next run of its DAG takes it as a new arrival")
    return 0


def exceptions(args: argparse.Namespace) -> int:
    """``exceptions list`` (open ones, oldest first; filters) and ``exceptions show ID``: as a table or as JSON."""
    import json

    from threepl_bridge.ledger.repo import Ledger
    from threepl_bridge.reports import exception_rows

    ledger = Ledger.open()
    if args.action == "resolve":
        return resolve(ledger, args)
    if args.action == "show":
        rows = exception_rows(ledger, exception_id=args.id)
        if not rows:
            print(f"FAIL no exception {args.id}")
            return 1
    else:
        rows = exception_rows(ledger, partner=args.partner, code=args.code, older_than_hours=args.older_than_hours,
                              include_resolved=args.all)
    if args.json:
        print(json.dumps(rows if args.action == "list" else rows[0], indent=1))
        return 0
    if not rows:
        print("nothing needs you: no open exceptions" + (" matching the filters" if args.partner or args.code or args.older_than_hours else ""))
        return 0
    if args.action == "show":
        row = rows[0]
        for key in ("id", "partner", "code", "severity", "title", "object_type", "object_ref", "message", "action", "status",
                    "occurrences", "first_seen_at", "last_seen_at", "resolved_at", "resolved_by", "resolution"):
            if row[key] is not None:
                print(f"{key:>13}: {row[key]}")
        if row["suggestion"]:
            print(f"{'suggested fix':>13}: {row['suggestion']['value']} ({row['suggestion']['reason']})")
        if row["file"]:
            file = row["file"]
            print(f"{'file':>13}: {file['folder']}/{file['name']} ({file['kind']}, exchange {file['exchange_id']}"
                  + (f", now {file['moved_to']})" if file["moved_to"] else ")"))
        return 0
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["code"]] = counts.get(row["code"], 0) + 1
    print(f"{len(rows)} exception(s): " + ", ".join(f"{c} {n}" for c, n in sorted(counts.items())))
    for row in rows:
        where = f" [{row['file']['name']}]" if row["file"] else ""
        print(f"#{row['id']:<6} {row['partner']:<10} {row['code']:<28} {row['age_hours']:>7.1f} h  {row['object_ref']}{where}: {row['message']}")
        if row["suggestion"]:
            print(f"{'':8}?? suggested: {row['suggestion']['value']} ({row['suggestion']['reason']})")
        print(f"{'':8}-> {row['action']}")
    return 0


def resolve(ledger, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    """``exceptions resolve ID --note TEXT [--by NAME]``: a person closes an open exception, saying what they did."""
    import getpass

    from threepl_bridge.ledger.errors import UnknownRecord
    from threepl_bridge.ledger.errors import InvalidTransition

    try:
        done = ledger.resolve_by_hand(args.id, note=args.note, by=args.by or getpass.getuser())
    except UnknownRecord:
        print(f"FAIL no exception {args.id}")
        return 1
    except InvalidTransition:
        print(f"FAIL exception {args.id} is not open (already resolved)")
        return 1
    except ValueError as exc:
        print(f"FAIL {exc}")
        return 1
    print(f"ok   exception {done.id} ({done.code} {done.object_ref}) resolved by {done.resolved_by}: {done.resolution}; "
          "it opens again if a run still sees its cause")
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
    lister = sub.add_parser("exceptions", help="the record exceptions operations must act on (list, show, resolve)")
    actions = lister.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="open exceptions, oldest first")
    listing.add_argument("--partner", help="only this partner")
    listing.add_argument("--code", help="only this code (e.g. STOCK_UNKNOWN_SKU)")
    listing.add_argument("--older-than-hours", type=float, help="only those first seen at least this long ago")
    listing.add_argument("--all", action="store_true", help="resolved ones too")
    listing.add_argument("--json", action="store_true", help="JSON instead of a table")
    showing = actions.add_parser("show", help="one exception with its file and the action to take")
    showing.add_argument("id", type=int)
    showing.add_argument("--json", action="store_true", help="JSON instead of text")
    resolving = actions.add_parser("resolve", help="close an open exception by hand, with a note of what was done")
    resolving.add_argument("id", type=int)
    resolving.add_argument("--note", required=True, help="what was done (kept with the exception)")
    resolving.add_argument("--by", help="who resolves it (default: the login name)")
    args = parser.parse_args(argv)
    if args.command == "exceptions":
        return exceptions(args)
    if args.command == "replay":
        return replay(args.partner, args.exchange)
    return check(args.conn_id, args.partner)


if __name__ == "__main__":
    sys.exit(main())
