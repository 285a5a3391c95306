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


SAMPLES = 5  # failing values kept per check for the data-quality report


@dataclass(frozen=True, kw_only=True)
class CheckSummary:
    """One expectation's result over a whole file: what it checks in plain words (GX's own rendering of the
    expectation, parameters filled in), its threshold (``mostly``), the rows it ran on and failed, sample values."""

    expectation: str
    column: str
    code: str
    success: bool
    unexpected: int
    description: str = ""
    mostly: float = 1.0
    rows: int = 0
    samples: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"expectation": self.expectation, "column": self.column, "code": self.code, "success": self.success,
                "unexpected": self.unexpected, "description": self.description, "mostly": self.mostly, "rows": self.rows,
                "samples": list(self.samples)}


def _quiet_gx(*names: str) -> None:
    for name in ("great_expectations", *names):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger(name).getEffectiveLevel()))


def _import_gx() -> Any:
    """Great Expectations, imported without analytics and without its INFO chatter (which buries a task's own
    lines: ~200 lines while it is imported, and one of its modules sets its own logger to INFO on import)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    _quiet_gx()
    import great_expectations as gx

    _quiet_gx("great_expectations.data_context.types.base")
    return gx


SWAP_WINDOW_DAYS = 120  # a future date whose day and month swapped fall in the last 120 days is suggested that way


def _date_hint(problem: Problem, now: Any) -> Problem:
    """A date in the future that, with day and month swapped, is a recent past date (a US date read as European or
    the other way round): the swapped date as a suggested fix, never applied."""
    import dataclasses
    import json
    from datetime import datetime, timedelta

    from threepl_bridge.formats.suggest import swapped_date

    if not isinstance(problem.value, datetime) or not isinstance(now, datetime):  # pandas' Timestamp is a datetime
        return problem
    found = swapped_date(problem.value.date(), (now - timedelta(days=SWAP_WINDOW_DAYS)).date(), now.date())
    return dataclasses.replace(problem, suggestion=json.dumps(found.as_dict())) if found else problem


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
        record["ref_key"] = v.get("return_ref") or v.get("order_ref") or ""  # returns: the RMA, else the delivery
        record["condition_key"] = v.get("condition") or v.get("disposition") or ""
        records.append(record)
    frame = pd.DataFrame.from_records(records)
    for column in ("shipped_at", "received_at", "returned_at", "adjusted_at", "as_of"):
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
    validation = Validation(kind, parameters=parameters)
    validation.add_rows(rows)
    return validation.finish()


def validate_frame(kind: str, frame: Any, *, parameters: dict[str, Any], parse_failed: set[tuple[int, str]] | None = None) -> tuple[list[Problem], list[CheckSummary]]:
    """Run the ``kind`` suite over a frame with a ``row`` column; values already reported unreadable
    (``parse_failed``: (row, field)) are not reported again."""
    validation = Validation(kind, parameters=parameters)
    validation.add(frame, parse_failed)
    return validation.finish()


GX_ROWS = 1_000_000  # rows per Great Expectations run: a larger file is validated in runs of this many rows
COUNTING_ROWS = 100_000  # rows per run once the issues are only counted (GX lists every failing value of a run)
_KEYS = ("threepl-bridge-1", "threepl-bridge-2")  # two 64-bit hashes per row (pandas takes a 16-byte hash_key)


class Validation:
    """The ``kind`` suite over a file given a chunk at a time (:meth:`add`), then :meth:`finish`.

    A file of at most :data:`GX_ROWS` rows is validated in one run of the whole suite, as it is. A larger one runs
    the row-wise expectations on each :data:`GX_ROWS` rows, and the file-wide ones (compound uniqueness) once at the
    end, on the rows' keys: two independent 64-bit hashes of the key columns per row, so memory stays 24 bytes a row
    (two different keys hash alike in both with a probability of about 2**-128). GX sees only the columns the suite
    checks, texts as categories (its data fingerprint and the uniqueness check hash every value otherwise). Issues
    come in the order of one run: expectation by expectation, row by row.

    ``keep``: at most this many issues are kept (a file far too wrong is quarantined whole: its issues are only
    counted); :attr:`truncated` says whether any was left out, :attr:`failing` marks every row with one.
    """

    def __init__(self, kind: str, *, parameters: dict[str, Any], rows: int = GX_ROWS, keep: int | None = None) -> None:
        import pandas as pd

        self.kind, self.rows, self.keep = kind, rows, keep
        self.kept, self.truncated, self.failing = 0, False, RowSet()
        self.suite = load_suite(kind)
        self.params = {k: (pd.Timestamp(v) if isinstance(v, datetime) else v) for k, v in parameters.items()}
        self.pending: list[Any] = []
        self.pending_rows = 0
        self.parse_failed: set[tuple[int, str]] = set()
        self.expectations: list[dict[str, Any]] | None = None
        self.runs = 0
        self.found: dict[int, list[Problem]] = {}  # expectation position -> issues, over the runs
        self.counts: dict[int, list[Any]] = {}  # expectation position -> [type, column, code, success, unexpected, rows, samples]
        self.descriptions: list[str] = []
        self.order: list[int] = []  # expectation positions in GX's result order
        self.keys: list[tuple[Any, Any, Any]] = []  # (row numbers, hash 1, hash 2) per run, for the file-wide expectations
        self.gx: Any = None

    def add_rows(self, rows: list[ParsedRow], parse_failed: set[tuple[int, str]] | None = None) -> None:
        """Rows, as :meth:`add` (``parse_failed``: by default, the rows' own problems)."""
        if rows:
            self.add(_frame(rows), {(r.number, p.field) for r in rows for p in r.problems} if parse_failed is None else parse_failed)

    def add(self, frame: Any, parse_failed: set[tuple[int, str]] | None = None) -> None:
        """One chunk: a frame with a ``row`` column, rows in file order (``parse_failed``: (row, field) of its values
        already reported unreadable, not reported again)."""
        failed = parse_failed or set()
        while len(frame) > self.rows:  # larger than a run: in runs of self.rows
            head, frame = frame.iloc[: self.rows], frame.iloc[self.rows :]
            last = int(head["row"].iloc[-1])
            head_failed = {k for k in failed if k[0] <= last}
            self._queue(head, head_failed)
            failed = failed - head_failed
        self._queue(frame, failed)

    def _queue(self, frame: Any, failed: set[tuple[int, str]]) -> None:
        if len(frame) == 0:
            return
        self.pending.append(frame)
        self.pending_rows += len(frame)
        self.parse_failed |= failed
        if self.pending_rows > (min(self.rows, COUNTING_ROWS) if self.truncated else self.rows):
            self._flush()

    def finish(self) -> tuple[list[Problem], list[CheckSummary]]:
        """Every issue (each naming its row and field) and the per-expectation summary."""
        if self.pending_rows:
            self._flush(whole=not self.runs)
        if self.keys:
            self._file_wide()
        issues = [p for position in self.order for p in self.found.get(position, [])]
        self.descriptions = describe(self.expectations or [], self.params) if self.order else []
        summary = [self._summary(position) for position in self.order]
        return issues, summary

    # ------------------------------------------------------------------------------------------------ runs

    def _flush(self, *, whole: bool = False) -> None:
        """One run over the rows queued (``whole``: the file's only run, every expectation in it)."""
        import pandas as pd

        batch = self.pending[0] if len(self.pending) == 1 else pd.concat(self.pending, ignore_index=True)
        failed, self.pending, self.pending_rows, self.parse_failed = self.parse_failed, [], 0, set()
        numbers = batch["row"].to_numpy()
        if self.expectations is None:  # an optional field the partner's layout does not map has nothing to check
            self.expectations = [e for e in self.suite["expectations"] if all(c in batch.columns for c in _columns(e))]
        chosen = [(i, e) for i, e in enumerate(self.expectations) if whole or not _file_wide(e)]
        if not whole:
            self._hash_keys(batch, numbers)
        self._run(chosen, batch.reset_index(drop=True), numbers, failed)
        self.runs += 1

    def _hash_keys(self, batch: Any, numbers: Any) -> None:
        import pandas as pd

        assert self.expectations is not None
        for e in self.expectations:
            if _file_wide(e):
                keys = batch[list(_columns(e))]
                hashes = [pd.util.hash_pandas_object(keys, index=False, hash_key=k).to_numpy() for k in _KEYS]
                self.keys.append((numbers, *hashes))
                return  # the suites' file-wide expectations share one key here (checked in _file_wide_frame)

    def _file_wide(self) -> None:
        import numpy as np
        import pandas as pd

        assert self.expectations is not None
        chosen = [(i, e) for i, e in enumerate(self.expectations) if _file_wide(e)]
        if not chosen:
            return
        if len({tuple(_columns(e)) for _, e in chosen}) > 1 or any((e.get("kwargs") or {}).get("ignore_row_if", "never") != "never" for _, e in chosen):
            raise RuntimeError(f"suite {self.kind}: a file of more than {self.rows} rows takes one compound key, every row counted")
        numbers = np.concatenate([k[0] for k in self.keys])
        frame = pd.DataFrame({"_key1": np.concatenate([k[1] for k in self.keys]), "_key2": np.concatenate([k[2] for k in self.keys])})
        # GX's own condition for this expectation on pandas (~duplicated(keep=False)), over the keys' hashes: GX itself
        # would also list every unexpected row's values, a dict each (a GiB for a few million duplicate rows)
        unexpected = np.flatnonzero(frame.duplicated(keep=False).to_numpy())
        for position, e in chosen:
            mostly = float((e.get("kwargs") or {}).get("mostly", 1))
            self._take(position, e["type"], e.get("meta") or {}, e.get("kwargs") or {}, len(frame) - len(unexpected) >= mostly * len(frame),
                       unexpected, frame, numbers, set())

    def _context(self) -> Any:
        if self.gx is None:
            gx = _import_gx()
            context = gx.get_context(mode="ephemeral")
            try:
                context.variables.progress_bars = {"globally": False, "metric_calculations": False}  # type: ignore[assignment]
            except Exception:  # noqa: BLE001 - cosmetic only
                pass
            definition = context.data_sources.add_pandas("threepl").add_dataframe_asset(self.kind).add_batch_definition_whole_dataframe("file")
            self.gx = (gx, context, definition)
        return self.gx

    def _run(self, chosen: list[tuple[int, dict[str, Any]]], frame: Any, numbers: Any, parse_failed: set[tuple[int, str]]) -> None:
        """One GX run of the ``chosen`` expectations (position in the suite, expectation) over ``frame``."""
        if not chosen:
            return
        gx, context, definition = self._context()
        suite = context.suites.add(gx.ExpectationSuite(name=f"{self.suite['name']}-{self.runs}-{chosen[0][0]}",
                                                       expectations=[e for _, e in chosen]))
        position_of = {e.id: i for (i, _), e in zip(chosen, suite.expectations)}
        original = dict(enumerate(self.expectations or []))
        batch = definition.get_batch(batch_parameters={"dataframe": _compact(frame, [c for _, e in chosen for c in _columns(e)])})
        # index labels, not {"row": ...} dicts: GX builds those with one DataFrame.at per failing row and column,
        # which took most of the time of a file with many failing rows
        result = batch.validate(suite, result_format={"result_format": "COMPLETE", "partial_unexpected_count": 0},
                                expectation_parameters=self.params)
        for item in result.results:
            config = item.expectation_config
            exc = item.exception_info or {}
            if exc.get("raised_exception"):
                raise RuntimeError(f"expectation {config.type} on {config.kwargs.get('column')} could not run: {exc.get('exception_message')}")
            position = position_of[config.id]
            self._take(position, config.type, config.meta or {}, original[position].get("kwargs") or {}, bool(item.success),
                       item.result.get("unexpected_index_list") or [], frame, numbers, parse_failed)

    def _take(self, position: int, expectation: str, meta: dict[str, Any], kwargs: dict[str, Any], success: bool, unexpected: Any,
              frame: Any, numbers: Any, parse_failed: set[tuple[int, str]]) -> None:
        """One expectation's result on one run: its summary counts, its issues (``unexpected``: positions in ``frame``)."""
        code = meta.get("code")
        column = kwargs.get("column") or ",".join(kwargs.get("column_list") or [])
        if not code:
            raise RuntimeError(f"expectation {expectation} on {kwargs.get('column')} in suite {self.kind} has no meta.code")
        if position not in self.counts:
            self.order.append(position)
            self.counts[position] = [expectation, column, code, True, 0, 0, []]
        counts = self.counts[position]
        counts[3] = counts[3] and success
        counts[4] += len(unexpected)
        counts[5] += len(frame)
        if len(unexpected) == 0:
            return
        field = kwargs.get("column") or "key"
        values = frame[field].to_numpy() if field in frame.columns else None
        if values is not None and len(counts[6]) < SAMPLES:
            counts[6] += [_sample(values[label]) for label in unexpected[: SAMPLES - len(counts[6])]]
        make, details = code_named(code), _details(expectation, column, kwargs, self.params)
        found = self.found.setdefault(position, [])
        self.failing.add(numbers[unexpected])
        if self.keep is not None and self.kept + len(unexpected) > self.keep:
            self.truncated, unexpected = True, unexpected[: max(0, self.keep - self.kept)]
        self.kept += len(unexpected)
        for label in unexpected:
            number = int(numbers[label])
            if (number, field) in parse_failed:
                continue  # already reported as an unreadable value
            problem = make(row=number, field=field, value=None if values is None else values[label], **details)
            found.append(_date_hint(problem, self.params.get("now")) if code.endswith("_FUTURE_DATE") else problem)

    def _summary(self, position: int) -> CheckSummary:
        expectation, column, code, success, unexpected, rows, samples = self.counts[position]
        config = (self.expectations or [])[position] if position < len(self.expectations or []) else {}
        return CheckSummary(expectation=expectation, column=column, code=code, success=success, unexpected=unexpected,
                            description=self.descriptions[position] if position < len(self.descriptions) else expectation,
                            mostly=float((config.get("kwargs") or {}).get("mostly", 1)), rows=rows, samples=tuple(samples))


def _sample(value: Any) -> str:
    if value is None or value != value:  # None, NaN, NaT
        return "(empty)"
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def describe(expectations: list[dict[str, Any]], params: dict[str, Any]) -> list[str]:
    """Each expectation in plain words, as Great Expectations renders it (its prescriptive summary), with the run's
    parameters filled in (``{"$PARAMETER": "now"}`` -> the run's moment)."""
    import string

    gx = _import_gx()

    def resolve(value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"$PARAMETER"}:
            found = params.get(value["$PARAMETER"])
            return found.isoformat(sep=" ", timespec="seconds") if isinstance(found, datetime) else found
        return value

    out = []
    for e in expectations:
        kwargs = {k: resolve(v) for k, v in (e.get("kwargs") or {}).items()}
        try:
            expectation = gx.ExpectationSuite(name="describe", expectations=[{"type": e["type"], "kwargs": kwargs}]).expectations[0]
            expectation.render()
            rendered = expectation.rendered_content[0].value  # type: ignore[index]
            values = {k: (v.get("value") if isinstance(v, dict) else v) for k, v in (rendered.params or {}).items()}
            out.append(" ".join(string.Template(rendered.template).safe_substitute(values).split()))
        except Exception:  # noqa: BLE001 - a rendering GX lacks leaves the expectation's name
            out.append(e["type"])
    return out


class RowSet:
    """A set of row numbers (line numbers), one byte a line: a file's failing rows in a few MB, however many."""

    def __init__(self) -> None:
        import numpy as np

        self.marks = np.zeros(0, dtype=bool)

    def add(self, numbers: Any) -> None:
        import numpy as np

        numbers = np.asarray(numbers, dtype=np.int64)
        if len(numbers):
            top = int(numbers.max()) + 1
            if top > len(self.marks):
                self.marks = np.concatenate([self.marks, np.zeros(max(top - len(self.marks), len(self.marks)), dtype=bool)])
            self.marks[numbers] = True

    def __or__(self, other: "RowSet") -> "RowSet":
        import numpy as np

        out, n = RowSet(), max(len(self.marks), len(other.marks))
        out.marks = np.zeros(n, dtype=bool)
        out.marks[: len(self.marks)] |= self.marks
        out.marks[: len(other.marks)] |= other.marks
        return out

    def __len__(self) -> int:
        return int(self.marks.sum())


def _file_wide(expectation: dict[str, Any]) -> bool:
    """Whether an expectation compares rows with each other (so it cannot run chunk by chunk)."""
    return expectation.get("type") == "expect_compound_columns_to_be_unique"


def _compact(frame: Any, columns: list[str]) -> Any:
    """The columns GX checks, texts as categories (the same values, nulls and sets; hashing and uniqueness work on
    the codes)."""
    import pandas as pd

    out = {}
    for c in dict.fromkeys(columns):
        column = frame[c]
        out[c] = column.astype("category") if column.dtype == object or pd.api.types.is_string_dtype(column.dtype) else column
    return pd.DataFrame(out)


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
