"""Read a partner's file into canonical rows, per its layout.

File-level problems (undecodable bytes, no header, required columns missing, a column named twice in the header,
broken CSV quoting) make the whole file unreadable: :class:`UnreadableFile` names the file, the line and the
reason, and the file goes to the error folder. Value-level problems stay with their row, with the row number
(the line in the file where the record starts) and the field, so the other rows still count:

- ``FIELD_TYPE``: a value that is not of its type. A number is plain ASCII digits with an optional sign, the
  layout's decimal separator and an exponent: no ``inf``/``nan``, hex, ``1_000``, thousands separators or
  non-ASCII digits (Python's ``Decimal`` would take several of these).
- ``FIELD_RANGE``: a value of the right type that the books cannot hold: a number with more than
  :data:`MAX_INTEGER_DIGITS` digits before the point or more than :data:`MAX_PLACES` after it (the ledger's
  quantities are ``Numeric(18, 4)``; beyond that, Decimal and float arithmetic downstream overflows), a date or
  timestamp outside :data:`EARLIEST` .. :data:`LATEST` (``0001-01-01`` is no shipping date, ``9999-12-31``
  overflows when converted to UTC). "Not in the future" is the suites' check: the reader has no clock.

Timestamps without an offset are the partner's local time; the rows carry them as aware UTC datetimes. A local
time that occurs twice (the hour the clocks go back) is read as its first occurrence (``fold=0``: the earlier
instant, still summer time), and a local time the clocks skip is read with the offset before the change, as
Python does: both readers agree, and a 3PL whose clock writes local times cannot tell us more.

:func:`read_rows` gives row objects, :func:`read_frame` a pandas frame (large stock snapshots); both read the
records with the same code and convert every value with :func:`parse_value`, so they agree value for value.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from threepl_bridge import codes
from threepl_bridge.codes import Problem
from threepl_bridge.specs.models import DelimitedLayout, FieldType, FixedWidthLayout, LayoutField

Layout = DelimitedLayout | FixedWidthLayout
BOM = "\ufeff"
NUMERIC = (FieldType.DECIMAL, FieldType.INTEGER)

# what the ledger can hold (ledger/models.py: QTY = Numeric(18, 4); tests check these stay within it)
MAX_INTEGER_DIGITS = 12
MAX_PLACES = 4
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class UnreadableFile(ValueError):
    """The file as a whole cannot be read with its layout."""


class OutOfRange(ValueError):
    """A value of the right type that the books cannot hold (FIELD_RANGE)."""


@dataclass
class ParsedRow:
    number: int  # line number in the file where the record starts (the header is line 1)
    values: dict[str, Any]
    raw: dict[str, str]
    problems: list[Problem] = field(default_factory=list)


def _number(layout: Layout, f: LayoutField, text: str) -> Decimal | int:
    separator = layout.decimal_separator
    normal = text
    if separator != ".":
        if "." in text:
            raise ValueError(f"{text!r} is not a number (the decimal separator is {separator!r})")
        normal = text.replace(separator, ".")
    if not _NUMBER.fullmatch(normal):
        raise ValueError(f"{text!r} is not a number")
    number = Decimal(normal)
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite: the pattern has no inf/nan
    if not any(digits):
        number, digits, exponent = Decimal(0), (0,), 0
    if number.adjusted() >= MAX_INTEGER_DIGITS:
        raise OutOfRange(f"{text!r} is too large (more than {MAX_INTEGER_DIGITS} digits before the decimal point)")
    zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    places = max(0, -(exponent + zeros))
    if f.type is FieldType.INTEGER:
        if places:
            raise ValueError(f"{text!r} is not a whole number")
        return int(number)
    if places > MAX_PLACES:
        raise OutOfRange(f"{text!r} has more than {MAX_PLACES} decimal places")
    return number


def _in_window(text: str, day: date) -> None:
    if not EARLIEST <= day <= LATEST:
        raise OutOfRange(f"{text!r} is outside the plausible dates {EARLIEST.isoformat()} .. {LATEST.isoformat()}")


# characters no text value may hold (XML 1.0 refuses them, so Odoo's XML-RPC cannot carry them; PostgreSQL text
# refuses NUL): tab, line feed and carriage return stay allowed (a quoted multi-line field)
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def parse_value(layout: Layout, f: LayoutField, text: str, tz: ZoneInfo) -> Any:
    """One value, per its field's type; raises :class:`OutOfRange` (FIELD_RANGE) or ValueError (FIELD_TYPE)."""
    text = text.strip()
    if text == "":
        return None
    if CONTROL.search(text):
        raise ValueError(f"{text!r} contains a control character (a NUL or another byte no text field holds)")
    if f.type is FieldType.STRING:
        return text
    if f.type in NUMERIC:
        return _number(layout, f, text)
    if f.type is FieldType.DATE:
        try:
            day = datetime.strptime(text, f.format or layout.date_format).date()
        except ValueError:
            try:
                day = date.fromisoformat(text)
            except ValueError:
                raise ValueError(f"{text!r} is not a date in the format {f.format or layout.date_format}") from None
        _in_window(text, day)
        return day
    if f.type is FieldType.DATETIME:
        try:
            moment = datetime.strptime(text, f.format or layout.datetime_format)
        except ValueError:
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(f"{text!r} is not a timestamp in the format {f.format or layout.datetime_format}") from None
        _in_window(text, moment.date())  # before any conversion: 9999-12-31 would overflow
        if moment.tzinfo is None:  # local time of the 3PL's warehouse (fold=0 for a time that occurs twice)
            moment = moment.replace(tzinfo=tz)
        return moment.astimezone(timezone.utc)
    if f.type is FieldType.BOOLEAN:
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "y"):
            return True
        if lowered in ("0", "false", "no", "n"):
            return False
        raise ValueError(f"{text!r} is not a yes/no value")
    return text


class _Values:
    """:func:`parse_value` per field, each distinct text once: (value, None) or (None, (code, message)). The memo is
    bounded, so a file of distinct texts keeps memory flat; values are immutable, so rows may share them."""

    LIMIT = 1 << 16

    def __init__(self, layout: Layout, tz: ZoneInfo) -> None:
        self.layout, self.tz = layout, tz
        self.memo: dict[str, dict[str, tuple[Any, tuple[codes.Code, str] | None]]] = {f.name: {} for f in layout.fields}

    def __call__(self, f: LayoutField, text: str) -> tuple[Any, tuple[codes.Code, str] | None]:
        memo = self.memo[f.name]
        found = memo.get(text)
        if found is None:
            try:
                found = (parse_value(self.layout, f, text, self.tz), None)
            except ValueError as exc:
                code = codes.FIELD_RANGE if isinstance(exc, OutOfRange) else codes.FIELD_TYPE
                found = (None, (code, code.message(field=f.name, value=text, detail=f"{f.column}: {exc}")))
            if len(memo) >= self.LIMIT:
                memo.clear()
            memo[text] = found
        return found


def _problem(f: LayoutField, row: int, text: str, failure: tuple[codes.Code, str]) -> Problem:
    code, message = failure
    return Problem(code=code, message=message, row=row, field=f.name, value=text)


def _decode(layout: Layout, data: bytes) -> str:
    try:
        text = data.decode(layout.encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UnreadableFile(f"line {line}: bytes {data[exc.start:exc.end]!r} are not valid {layout.encoding}") from None
    if text.startswith(BOM):  # a UTF-8 BOM in a file whose layout says plain utf-8
        text = text[1:]
    if not text.strip():
        raise UnreadableFile("the file is empty")
    return text


@dataclass
class _Records:
    """The file's records, column by column: the one reading both readers share."""

    numbers: list[int]  # the line each record starts on
    cells: dict[str, list[str]]  # canonical field -> its text per record (only the fields the file has)
    shape: dict[int, str]  # record index -> why its shape is wrong


def _records(layout: Layout, data: bytes) -> _Records:
    text = _decode(layout, data)
    return _fixed_width(layout, text) if isinstance(layout, FixedWidthLayout) else _delimited(layout, text)


def read_rows(layout: Layout, data: bytes, tz: ZoneInfo) -> list[ParsedRow]:
    records = _records(layout, data)
    present = [(f, records.cells[f.name]) for f in layout.fields if f.name in records.cells]
    convert = _Values(layout, tz)
    rows = []
    for index, number in enumerate(records.numbers):
        raw = {f.name: cells[index] for f, cells in present}
        row = ParsedRow(number=number, values={}, raw=raw)
        for f in layout.fields:
            text = raw.get(f.name, "")
            row.values[f.name], failure = convert(f, text)
            if failure is not None:
                row.problems.append(_problem(f, number, text, failure))
        if index in records.shape:
            row.problems.append(codes.ROW_SHAPE(row=number, detail=f"line {number}: {records.shape[index]}"))
        rows.append(row)
    return rows


def _dialect(layout: DelimitedLayout) -> type[csv.Dialect]:
    dialect = layout.csv_dialect()
    if dialect.quoting == csv.QUOTE_NONNUMERIC:  # a writing rule: reading with it, csv turns unquoted cells into floats
        return type(dialect.__name__, (dialect,), {"quoting": csv.QUOTE_MINIMAL})
    return dialect


def _positions(layout: DelimitedLayout, header: list[str]) -> dict[str, int]:
    by_column = {f.column: f.name for f in layout.fields}
    missing = [f.column for f in layout.fields if f.required and f.column not in header]
    if missing:
        raise UnreadableFile(f"line 1: required column(s) {missing} missing from the header {header}")
    positions: dict[str, int] = {}
    for i, column in enumerate(header):
        name = by_column.get(column)
        if name is None:
            continue  # a column the layout does not use
        if name in positions:
            raise UnreadableFile(f"line 1: column {column!r} appears twice in the header (columns {positions[name] + 1} and {i + 1})")
        positions[name] = i
    return positions


def _delimited(layout: DelimitedLayout, text: str) -> _Records:
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_dialect(layout))
    lines: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            lines.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise UnreadableFile(f"line {reader.line_num}: {exc}") from None
    if layout.header:
        header = [h.strip() for h in lines[0][1]]
        positions = _positions(layout, header)
        body, width = lines[1:], len(header)
    else:
        positions = {f.name: i for i, f in enumerate(layout.fields)}
        body, width = lines, len(layout.fields)
    records = _Records(numbers=[], cells={name: [] for name in positions}, shape={})
    columns = [(records.cells[name], i) for name, i in positions.items()]
    for number, cells in body:
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != width:
            records.shape[len(records.numbers)] = f"{len(cells)} fields instead of {width}"
        records.numbers.append(number)
        n = len(cells)
        for column, i in columns:
            column.append(cells[i] if i < n else "")
    return records


def _unpad(f: LayoutField, cell: str) -> str:
    """A fixed-width cell without its pad character (on the side it pads). Whitespace goes in :func:`parse_value`;
    a zero pad of a number stays: leading zeros are part of the number, and "00000" is 0."""
    if f.pad == " " or (f.type in NUMERIC and f.pad.isdigit()):
        return cell
    return cell.lstrip(f.pad) if f.align == "right" else cell.rstrip(f.pad)


def _fixed_width(layout: FixedWidthLayout, text: str) -> _Records:
    records = _Records(numbers=[], cells={f.name: [] for f in layout.fields}, shape={})
    spans = []
    for f in layout.fields:
        assert f.start is not None and f.length is not None
        spans.append((f, records.cells[f.name], f.start - 1, f.start - 1 + f.length))
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        records.numbers.append(number)
        for f, column, begin, end in spans:
            column.append(_unpad(f, line[begin:end]))
    return records


def read_frame(layout: Layout, data: bytes, tz: ZoneInfo):  # type: ignore[no-untyped-def]
    """Large files (stock snapshots): the same rules as :func:`read_rows`, vectorised with pandas.

    Returns a DataFrame with a ``row`` column (line number), one column per layout field (numbers as float,
    timestamps as UTC, dates and booleans as Python objects), and ``problems``: a
    :class:`~threepl_bridge.codes.Problem` (row, field, value) for each value that could not be read, in the
    order :func:`read_rows` gives them. Each distinct text is converted once by :func:`parse_value`; timestamps
    take a vectorised path and only the texts it cannot settle go through :func:`parse_value`.
    """
    import pandas as pd

    records = _records(layout, data)
    numbers = records.numbers
    convert = _Values(layout, tz)
    frame = pd.DataFrame({"row": pd.Series(numbers, dtype="int64")})
    found: list[tuple[int, int, Problem]] = []  # (record, field position, problem)
    for position, f in enumerate(layout.fields):
        cells = records.cells.get(f.name) or [""] * len(numbers)
        texts = pd.Series(cells, dtype=object)
        stripped = texts.str.strip() if len(texts) else texts
        if f.type is FieldType.STRING:
            poisoned = stripped.str.contains(CONTROL.pattern, regex=True) if len(stripped) else stripped.astype(bool)
            for index in poisoned.to_numpy().nonzero()[0].tolist():
                found.append((index, position, _problem(f, numbers[index], cells[index], convert(f, cells[index])[1])))
            frame[f.name] = stripped.where((stripped != "") & ~poisoned, None).to_numpy()
            continue
        if f.type is FieldType.DATETIME:
            values, todo = _datetimes(layout, f, stripped, tz)
        else:
            values, todo = pd.Series([None] * len(texts), dtype=object), stripped != ""
        if todo.any():
            converted: dict[str, Any] = {}
            failed: dict[str, tuple[codes.Code, str]] = {}
            for text in pd.unique(stripped[todo]):
                value, failure = convert(f, text)
                if failure is None:
                    converted[text] = value
                else:
                    failed[text] = failure
            ok = todo & stripped.isin(list(converted))
            if f.type is FieldType.DATETIME:
                values[ok] = pd.to_datetime(stripped[ok].map(converted), utc=True)
            else:
                values[ok] = stripped[ok].map(converted)
            if failed:
                keys = stripped.to_numpy()
                for index in (todo & ~ok).to_numpy().nonzero()[0].tolist():
                    found.append((index, position, _problem(f, numbers[index], cells[index], failed[keys[index]])))
        if f.type in NUMERIC:
            values = pd.to_numeric(values.astype(float) if f.type is FieldType.DECIMAL else values)
        frame[f.name] = values.to_numpy() if f.type is not FieldType.DATETIME else values
    after = len(layout.fields)
    for index, why in records.shape.items():
        found.append((index, after, codes.ROW_SHAPE(row=numbers[index], detail=f"line {numbers[index]}: {why}")))
    found.sort(key=lambda item: (item[0], item[1]))
    return frame, [p for _, _, p in found]


def _datetimes(layout: Layout, f: LayoutField, stripped: Any, tz: ZoneInfo) -> tuple[Any, Any]:
    """The vectorised path for plain local timestamps in the layout's format inside the window; ``todo``: what
    :func:`parse_value` must settle (other formats, offsets, a local time that occurs twice or never, out of range)."""
    import pandas as pd

    empty = stripped == ""
    naive = pd.to_datetime(stripped.where(~empty), format=f.format or layout.datetime_format, errors="coerce")
    inside = (naive >= pd.Timestamp(EARLIEST)) & (naive < pd.Timestamp(LATEST) + pd.Timedelta(days=1))
    naive = naive.where(inside)
    values = naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    return values, values.isna() & ~empty
