"""Regenerate docs/exceptions.md from plugins/threepl_bridge/codes.py: python docs/gen_exceptions.py"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugins"))

from threepl_bridge.codes import CODES  # noqa: E402

HEAD = """# Exception codes

Every record the pipeline holds back or cannot post becomes an exception with one of these stable codes:
record-level ones (products, pickings, files) in `ledger_exception`, open until their cause goes away; row-level
ones (a line of a 3PL file) in `ledger_row_outcome`, with the file, the row and the field. Fixing the cause in
Odoo, in the partner spec, or with a corrected file from the 3PL is enough: the next scheduled run picks it up
(to act at once, trigger the DAG). A 3PL file is replayed by dropping it again under a new name: lines already
posted are recognised as duplicates and never posted twice.

| Code | Object | Meaning | What to do |
|---|---|---|---|
"""


def render() -> str:
    return HEAD + "".join(f"| `{c.code}` | {c.object_type} | {c.title} | {c.action} |\n" for c in CODES.values())


if __name__ == "__main__":
    (REPO / "docs" / "exceptions.md").write_text(render())
