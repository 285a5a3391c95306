"""What a run leaves for a person: the exceptions it saw, the rows it could not post, the variances waiting for
finance, a month that is not ready. Pure ledger reads (no Airflow): the DAGs' last task, ``needs_a_person``, turns
the answer into a failed task (blocking items), a notification (new items) and log lines.

An item is *blocking* when the pipeline held something back (an exception of severity ``error``, a row not posted,
a variance not approved, a month not ready); a warning (something already happened that someone should look at,
like an order pending at the 3PL past its SLA) is told, not failed on. An item is *new* when this run saw it first:
only new items are mailed, so a held order is mailed once, not every half hour.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from threepl_bridge import codes, registry
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import ApprovalState

# the codes each flow raises (by prefix), and who acts on them
FLOW_CODES: dict[str, tuple[str, ...]] = {
    "products_to_3pl": ("PRODUCT_",), "orders_to_3pl": ("ORDER_",), "dispatches_from_3pl": ("DISPATCH_",),
    "stock_from_3pl": ("STOCK_",), "month_end_valuation": (),
}


@dataclass(frozen=True)
class Item:
    partner: str
    code: str
    what: str  # the message, naming the record, file and row
    action: str  # what to do, from the code catalogue
    who: str  # operations or finance
    blocking: bool
    new: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        return f"{'BLOCKING' if self.blocking else 'warning '} {self.partner} {self.code}: {self.what} -> {self.action} ({self.who})"


def _who(code: str) -> str:
    return "finance" if code.startswith("STOCK_") or code.startswith("MONTH_") else "operations"


def seen_in_run(ledger: Ledger, partner: str, flow: str, since: datetime, files: Iterable[Mapping[str, Any]] = ()) -> list[Item]:
    """The open exceptions of the flow's codes this run saw (last seen at or after ``since``, the run's start), the
    exception rows of this run's files that no later file settled, and the variance lines of this run's counts
    waiting for approval."""
    items: list[Item] = []
    prefixes = FLOW_CODES.get(flow, ())
    for e in ledger.find_exceptions(partner=partner):
        if not prefixes or not e.code.startswith(prefixes) or e.last_seen_at < since:
            continue
        entry = codes.CODES.get(e.code)
        items.append(Item(partner, e.code, e.message, entry.action if entry else "", _who(e.code),
                          blocking=entry is None or entry.severity == codes.Severity.ERROR, new=e.first_seen_at >= since))
    for result in files:
        if not result or not result.get("exchange_id"):
            continue
        rows: dict[str, list[int]] = defaultdict(list)
        if result.get("exception"):
            for o in ledger.row_outcomes(int(result["exchange_id"])):
                if o.outcome == "exception" and o.settled_in is None:
                    rows[o.code].append(o.row_number)
        for code, numbers in sorted(rows.items()):
            entry = codes.CODES.get(code)
            shown = ", ".join(str(n) for n in sorted(set(numbers))[:20]) + (" ..." if len(set(numbers)) > 20 else "")
            items.append(Item(partner, code, f"{result.get('name')}: row(s) {shown} not taken ({entry.title if entry else code})",
                              entry.action if entry else "", _who(code), blocking=True, new=True))
        recon = result.get("reconciliation_id")
        if recon:
            waiting = [line for line in ledger.reconciliation_lines(int(recon)) if line.approval == ApprovalState.PENDING]
            if waiting:
                keys = ", ".join(line.sku + (f"|{line.lot}" if line.lot else "") for line in waiting[:10])
                code = codes.STOCK_VARIANCE_TO_APPROVE
                items.append(Item(partner, code.code, code.message(value=recon, name=result.get("name"), count=len(waiting), keys=keys),
                                  code.action, "finance", blocking=True, new=True))
    return items


def month_not_ready(reports: Iterable[Mapping[str, Any]]) -> list[Item]:
    """Month-end results (one per partner) whose verdict is NOT READY: blocking, for finance."""
    code = codes.MONTH_NOT_READY
    return [Item(str(r.get("partner")), code.code, code.message(value=r.get("month"), verdict=r.get("verdict")), code.action,
                 "finance", blocking=True, new=True)
            for r in reports if r and not r.get("ready")]


def summary(dag_id: str, run_id: str, items: list[Item]) -> str:
    """One plain-text message: what needs whom, blocking first."""
    if not items:
        return f"{dag_id} {run_id}: nothing needs you."
    blocking = sum(i.blocking for i in items)
    head = f"{dag_id} {run_id}: {len(items)} item(s) need a person ({blocking} blocking)."
    return "\n".join([head, *(i.line() for i in sorted(items, key=lambda i: (not i.blocking, i.who, i.code, i.what)))])


# ------------------------------------------------------------------------------------------ the exceptions view

def flow_of(code: str) -> str:
    """The flow (DAG id suffix) that raises a code."""
    return next((flow for flow, prefixes in FLOW_CODES.items() if prefixes and code.startswith(prefixes)), "month_end_valuation")


def dag_id_of(partner: str, code: str) -> str:
    """The DAG whose runs raise a partner's code (the one to open, and to have the right to act on)."""
    return registry.flow(flow_of(code)).dag_id(partner)


@dataclass(frozen=True)
class Filters:
    partner: str | None = None
    flow: str | None = None
    code: str | None = None
    older_than_hours: float | None = None  # age: first seen at least this long ago
    document: str | None = None  # part of the record (picking, SKU, lot) or of the file name, case-insensitive


def open_items(ledger: Ledger, filters: Filters, now: datetime) -> dict[str, Any]:
    """What the exceptions view shows: the open record exceptions (``reports.exception_rows``) and the file rows no
    later file settled (``open_shipment_rows``), each with its flow, DAG id, code title and action, filtered, with
    counts by partner, flow and code before and after the filters."""
    from threepl_bridge.reports import exception_rows

    records = exception_rows(ledger, partner=filters.partner, now=now)
    for r in records:
        r["flow"], r["dag_id"] = flow_of(r["code"]), dag_id_of(r["partner"], r["code"])
        r["document"], r["file_name"], r["run_id"] = r["object_ref"], (r["file"] or {}).get("name"), None
    rows = []
    for r in ledger.open_shipment_rows(filters.partner):
        entry = codes.CODES.get(r["code"])
        flow = registry.flow_of_kind(str(r["kind"])) or registry.flow(flow_of(r["code"]))
        rows.append({**r, "flow": flow.name, "dag_id": flow.dag_id(r["partner"]), "document": r["order_ref"] or "", "file_name": r["file"],
                     "title": entry.title if entry else r["code"], "action": entry.action if entry else "",
                     "severity": str(entry.severity) if entry else "error", "first_seen_at": r["created_at"].isoformat(),
                     "age_hours": round((now - r["created_at"]).total_seconds() / 3600, 1), "created_at": r["created_at"].isoformat()})

    def keep(item: dict[str, Any]) -> bool:
        text = " ".join(str(item.get(k) or "") for k in ("document", "message", "file_name"))
        return ((not filters.flow or item["flow"] == filters.flow) and (not filters.code or item["code"] == filters.code)
                and (filters.older_than_hours is None or item["age_hours"] >= filters.older_than_hours)
                and (not filters.document or filters.document.casefold() in text.casefold()))

    def counts(items: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {"partner": {}, "flow": {}, "code": {}}
        for item in items:
            for key in out:
                out[key][item[key]] = out[key].get(item[key], 0) + 1
        return {key: dict(sorted(values.items())) for key, values in out.items()}

    shown_records, shown_rows = [r for r in records if keep(r)], [r for r in rows if keep(r)]
    return {"records": shown_records, "rows": shown_rows, "total": len(records) + len(rows), "shown": len(shown_records) + len(shown_rows),
            "counts": counts(shown_records + shown_rows), "all_counts": counts(records + rows),
            "blocking": sum(1 for i in shown_records + shown_rows if i["severity"] == "error")}
