"""Read a partner's file into canonical rows, per its layout.

File-level problems (undecodable bytes, no header, required columns missing, broken CSV quoting) make the whole
file unreadable: :class:`UnreadableFile` names the file, the line and the reason, and the file goes to the error
folder. Value-level problems (a quantity that is not a number, a date in the wrong format) stay with their row,
with the row number and the field, so the other rows still count.

Timestamps without an offset are the partner's local time; the rows carry them as aware UTC datetimes.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from threepl_bridge import codes
from threepl_bridge.codes import Problem
from threepl_bridge.specs.models import DelimitedLayout, FieldType, FixedWidthLayout, LayoutField

Layout = DelimitedLayout | FixedWidthLayout
BOM = "\ufeff"


class UnreadableFile(ValueError):
    """The file as a whole cannot be read with its layout."""


@dataclass
class ParsedRow:
    number: int  # line number in the file (the header is line 1)
    values: dict[str, Any]
    raw: dict[str, str]
    problems: list[Problem] = field(default_factory=list)


def parse_value(layout: Layout, f: LayoutField, text: str, tz: ZoneInfo) -> Any:
    text = text.strip()
    if text == "":
        return None
    if f.type is FieldType.STRING:
        return text
    if f.type in (FieldType.DECIMAL, FieldType.INTEGER):
        normal = text.replace(layout.decimal_separator, ".") if layout.decimal_separator != "." else text
        try:
            number = Decimal(normal)
        except InvalidOperation:
            raise ValueError(f"{text!r} is not a number") from None
        if not number.is_finite():
            raise ValueError(f"{text!r} is not a number")
        if f.type is FieldType.INTEGER:
            if number != number.to_integral_value():
                raise ValueError(f"{text!r} is not a whole number")
            return int(number)
        return number
    if f.type is FieldType.DATE:
        try:
            return datetime.strptime(text, f.format or layout.date_format).date()
        except ValueError:
            try:
                return date.fromisoformat(text)
            except ValueError:
                raise ValueError(f"{text!r} is not a date in the format {f.format or layout.date_format}") from None
    if f.type is FieldType.DATETIME:
        try:
            moment = datetime.strptime(text, f.format or layout.datetime_format)
        except ValueError:
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(f"{text!r} is not a timestamp in the format {f.format or layout.datetime_format}") from None
        if moment.tzinfo is None:  # local time of the 3PL's warehouse
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


def _decode(layout: Layout, data: bytes) -> str:
    try:
        text = data.decode(layout.encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UnreadableFile(f"line {line}: bytes {data[exc.start:exc.end]!r} are not valid {layout.encoding}") from None
    if text.startswith(BOM):  # a UTF-8 BOM in a file whose layout says plain utf-8
        text = text[1:]
    return text


def read_rows(layout: Layout, data: bytes, tz: ZoneInfo) -> list[ParsedRow]:
    text = _decode(layout, data)
    if not text.strip():
        raise UnreadableFile("the file is empty")
    records = _fixed_width(layout, text) if isinstance(layout, FixedWidthLayout) else _delimited(layout, text)
    rows = []
    for number, raw in records:
        row = ParsedRow(number=number, values={}, raw=raw)
        for f in layout.fields:
            try:
                row.values[f.name] = parse_value(layout, f, raw.get(f.name, ""), tz)
            except ValueError as exc:
                row.values[f.name] = None
                row.problems.append(codes.FIELD_TYPE(row=number, field=f.name, value=raw.get(f.name, ""), detail=f"{f.column}: {exc}"))
        if "__width__" in raw:
            row.problems.append(codes.ROW_SHAPE(row=number, detail=f"line {number}: {raw['__width__']}"))
        rows.append(row)
    return rows


def _delimited(layout: DelimitedLayout, text: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), dialect=layout.csv_dialect())
    out: list[tuple[int, dict[str, str]]] = []
    try:
        lines = list(reader)
    except csv.Error as exc:
        raise UnreadableFile(f"line {reader.line_num}: {exc}") from None
    if layout.header:
        header = [h.strip() for h in lines[0]]
        by_column = {f.column: f.name for f in layout.fields}
        missing = [f.column for f in layout.fields if f.required and f.column not in header]
        if missing:
            raise UnreadableFile(f"line 1: required column(s) {missing} missing from the header {header}")
        positions = {by_column[col]: i for i, col in enumerate(header) if col in by_column}
        body, first = lines[1:], 2
    else:
        positions = {f.name: i for i, f in enumerate(layout.fields)}
        body, first = lines, 1
    width = len(lines[0]) if layout.header else len(layout.fields)
    for offset, cells in enumerate(body):
        number = first + offset
        if not cells or all(not c.strip() for c in cells):
            continue
        raw = {name: (cells[i] if i < len(cells) else "") for name, i in positions.items()}
        if len(cells) != width:
            raw["__width__"] = f"{len(cells)} fields instead of {width}"
        out.append((number, raw))
    return out


def _fixed_width(layout: FixedWidthLayout, text: str) -> list[tuple[int, dict[str, str]]]:
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        raw = {}
        for f in layout.fields:
            assert f.start is not None and f.length is not None
            raw[f.name] = line[f.start - 1 : f.start - 1 + f.length]
        out.append((number, raw))
    return out


def read_frame(layout: Layout, data: bytes, tz: ZoneInfo):  # type: ignore[no-untyped-def]
    """Large files (stock snapshots): the same rules as :func:`read_rows`, vectorised with pandas.

    Returns a DataFrame with a ``row`` column (line number), one column per layout field (decimals as float,
    timestamps as UTC), and ``problems``: a :class:`~threepl_bridge.codes.Problem` (row, field, value) for each value that could not be read.
    """
    import pandas as pd

    text = _decode(layout, data)
    if not text.strip():
        raise UnreadableFile("the file is empty")
    if isinstance(layout, FixedWidthLayout):
        parsed = [(number, raw) for number, raw in _fixed_width(layout, text)]
        raw_frame = pd.DataFrame([raw for _, raw in parsed], columns=[f.name for f in layout.fields], dtype=str).fillna("")
        raw_frame.insert(0, "row", [number for number, _ in parsed])
    else:
        try:
            raw_frame = pd.read_csv(
                io.StringIO(text), sep=layout.delimiter, quotechar=layout.quotechar, dtype=str, keep_default_na=False,
                header=0 if layout.header else None, skip_blank_lines=False, engine="c",
                escapechar=layout.escapechar,
            )
        except (pd.errors.ParserError, ValueError) as exc:
            raise UnreadableFile(str(exc)) from None
        if layout.header:
            raw_frame.columns = [str(c).strip() for c in raw_frame.columns]
            missing = [f.column for f in layout.fields if f.required and f.column not in raw_frame.columns]
            if missing:
                raise UnreadableFile(f"line 1: required column(s) {missing} missing from the header {list(raw_frame.columns)}")
            raw_frame = raw_frame.rename(columns={f.column: f.name for f in layout.fields})
        else:
            raw_frame.columns = [f.name for f in layout.fields][: len(raw_frame.columns)]
        raw_frame.insert(0, "row", range(2 if layout.header else 1, len(raw_frame) + (2 if layout.header else 1)))
        names = [f.name for f in layout.fields if f.name in raw_frame.columns]
        raw_frame = raw_frame[(raw_frame[names] != "").any(axis=1)]
    frame = pd.DataFrame({"row": raw_frame["row"].to_numpy()})
    problems: list[Problem] = []
    for f in layout.fields:
        raw = raw_frame[f.name].str.strip() if f.name in raw_frame else pd.Series([""] * len(raw_frame), index=raw_frame.index)
        empty = raw == ""
        if f.type in (FieldType.DECIMAL, FieldType.INTEGER):
            values = pd.to_numeric(raw.str.replace(layout.decimal_separator, ".", regex=False) if layout.decimal_separator != "." else raw, errors="coerce")
            bad = values.isna() & ~empty
            what = "a number"
        elif f.type is FieldType.DATETIME:
            values = pd.to_datetime(raw.where(~empty), format=f.format or layout.datetime_format, errors="coerce")
            retry = values.isna() & ~empty
            if retry.any():
                iso = pd.to_datetime(raw[retry].str.replace("Z", "+00:00", regex=False), format="ISO8601", errors="coerce", utc=True)
                values = values.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
                values[retry] = iso
            else:
                values = values.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
            bad = values.isna() & ~empty
            what = f"a timestamp in the format {f.format or layout.datetime_format}"
        else:
            values = raw.where(~empty, None)
            bad = pd.Series(False, index=raw.index)
            what = ""
        frame[f.name] = values.to_numpy()
        for number, text_value in zip(raw_frame["row"][bad], raw[bad]):
            problems.append(codes.FIELD_TYPE(row=int(number), field=f.name, value=text_value, detail=f"{f.column}: {text_value!r} is not {what}"))
    return frame, problems
