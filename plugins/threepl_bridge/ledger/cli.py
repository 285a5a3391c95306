"""Ledger administration: ``python -m threepl_bridge.ledger.cli upgrade|current``.

Uses the same URL resolution as the tasks (THREEPL_LEDGER_URL, the threepl_ledger connection, or the SQLite
default in the Airflow home). The password is never printed.
"""

from __future__ import annotations

import argparse

from threepl_bridge.ledger.engine import current_revision, ledger_url, make_engine, migrate, safe_url


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m threepl_bridge.ledger.cli", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["upgrade", "current"])
    args = parser.parse_args()
    url = ledger_url()
    engine = make_engine(url)
    if args.command == "upgrade":
        migrate(engine)
    print(f"{safe_url(url)}: revision {current_revision(engine) or 'none (empty database)'}")


if __name__ == "__main__":
    main()
