"""Data-quality validation of parsed 3PL files with Great Expectations 1.x suites from expectations/.

GX and pandas are imported inside :func:`validate_rows` only (never at DAG parse time). The result is per row:
each failing value becomes a :class:`~threepl_bridge.codes.Problem` with the suite's stable code (named in
each expectation's ``meta.code``, rendered from the code's template), and a summary per expectation
feeds the finance data-quality report.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from threepl_bridge.codes import Problem, code as code_named
from threepl_bridge.formats.reader import ParsedRow

log = logging.getLogger(__name__)
EXPECTATIONS_ENV = "THREEPL_EXPECTATIONS_DIR"


@dataclass(frozen=True, kw_only=True)
class CheckSummary:
    expectation: str
    column: str
    code: str
    success: bool
    unexpected: int


def expectations_dir() -> Path:
    env = os.environ.get(EXPECTATIONS_ENV)
    return Path(env) if env else Path(__file__).resolve().parents[2] / "expectations"


def load_suite(kind: str) -> dict[str, Any]:
    path = expectations_dir() / f"{kind}.json"
    return json.loads(path.read_text())


def _frame(rows: list[ParsedRow]):  # type: ignore[no-untyped-def]
    import pandas as pd

    records = []
    for r in rows:
        v = r.values
        record: dict[str, Any] = {"row": r.number}
        for name, value in v.items():
            if isinstance(value, datetime):
                record[name] = pd.Timestamp(value)
            elif value is not None and type(value).__name__ == "Decimal":
                record[name] = float(value)
            else:
                record[name] = value
        record["line_key"] = str(v["line_no"]) if v.get("line_no") is not None else (v.get("sku") or "")
        record["lot_key"] = v.get("lot") or ""
        record["parcel_key"] = v.get("parcel") or ""
        records.append(record)
    frame = pd.DataFrame.from_records(records)
    for column in ("shipped_at", "received_at", "as_of"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def add_keys(frame: Any) -> Any:
    """The key columns the suites' uniqueness checks use (``lot_key``: the lot, "" for none), on a parsed frame."""
    if "lot_key" not in frame:
        frame["lot_key"] = frame["lot"].fillna("") if "lot" in frame else ""
    return frame


def validate_rows(kind: str, rows: list[ParsedRow], *, parameters: dict[str, Any]) -> tuple[list[Problem], list[CheckSummary]]:
    """Run the ``kind`` suite over the parsed rows; returns row issues and a per-expectation summary."""
    if not rows:
        return [], []
    parse_failed = {(r.number, p.field) for r in rows for p in r.problems}
    return validate_frame(kind, _frame(rows), parameters=parameters, parse_failed=parse_failed)


def validate_frame(kind: str, frame: Any, *, parameters: dict[str, Any], parse_failed: set[tuple[int, str]] | None = None) -> tuple[list[Problem], list[CheckSummary]]:
    """Run the ``kind`` suite over a frame with a ``row`` column; values already reported unreadable
    (``parse_failed``: (row, field)) are not reported again."""
    if len(frame) == 0:
        return [], []
    frame = frame.reset_index(drop=True)  # GX reports failing rows by index label: here a label is a position
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    import pandas as pd

    suite_dict = load_suite(kind)
    params = {k: (pd.Timestamp(v) if isinstance(v, datetime) else v) for k, v in parameters.items()}
    context = gx.get_context(mode="ephemeral")
    try:
        context.variables.progress_bars = {"globally": False, "metric_calculations": False}  # type: ignore[assignment]
    except Exception:  # noqa: BLE001 - cosmetic only
        pass
    # an optional canonical field the partner's layout does not map (e.g. no unit column) has nothing to check
    expectations = [e for e in suite_dict["expectations"] if all(c in frame.columns for c in _columns(e))]
    suite = context.suites.add(gx.ExpectationSuite(name=suite_dict["name"], expectations=expectations))
    batch = (
        context.data_sources.add_pandas("threepl").add_dataframe_asset(kind).add_batch_definition_whole_dataframe("file")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    # index labels, not {"row": ...} dicts: GX builds those with one DataFrame.at per failing row and column,
    # which took most of the time of a file with many failing rows
    result = batch.validate(
        suite, result_format={"result_format": "COMPLETE", "partial_unexpected_count": 0}, expectation_parameters=params,
    )
    parse_failed = parse_failed or set()
    numbers = frame["row"].to_numpy()
    issues: list[Problem] = []
    summary: list[CheckSummary] = []
    for item in result.results:
        config = item.expectation_config
        code = (config.meta or {}).get("code")
        if not code:
            raise RuntimeError(f"expectation {config.type} on {config.kwargs.get('column')} in suite {kind} has no meta.code")
        column = config.kwargs.get("column") or ",".join(config.kwargs.get("column_list") or [])
        exc = item.exception_info or {}
        if exc.get("raised_exception"):
            raise RuntimeError(f"expectation {config.type} on {column} could not run: {exc.get('exception_message')}")
        unexpected = item.result.get("unexpected_index_list") or []
        summary.append(CheckSummary(expectation=config.type, column=column, code=code, success=bool(item.success), unexpected=len(unexpected)))
        if not unexpected:
            continue
        field = config.kwargs.get("column") or "key"
        values = frame[field].to_numpy() if field in frame.columns else None
        make, details = code_named(code), _details(config.type, column, config.kwargs, params)
        for label in unexpected:
            number = int(numbers[label])
            if (number, field) in parse_failed:
                continue  # already reported as an unreadable value
            issues.append(make(row=number, field=field, value=None if values is None else values[label], **details))
    return issues, summary


def _columns(expectation: dict[str, Any]) -> list[str]:
    kwargs = expectation.get("kwargs") or {}
    return [kwargs["column"]] if "column" in kwargs else list(kwargs.get("column_list") or [])


def _details(expectation: str, column: str, kwargs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """What a code's message template needs beyond the value: the allowed set, the key columns."""
    if expectation == "expect_column_values_to_be_in_set":
        return {"allowed": params.get("uom_codes") if isinstance(kwargs.get("value_set"), dict) else kwargs.get("value_set")}
    if expectation == "expect_compound_columns_to_be_unique":
        return {"columns": column.replace("_key", "")}
    return {}
