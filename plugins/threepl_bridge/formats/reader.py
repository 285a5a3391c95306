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

import codecs
import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from itertools import chain, islice
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
        return f.values.get(text, text) if f.values else text
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


PIECE_BYTES = 1 << 22  # the text is decoded about this many bytes at a time
CHUNK_ROWS = 100_000  # records per chunk: the readers' memory is that of one chunk, whatever the size of the file


def _pieces(layout: Layout, data: bytes) -> Iterator[str]:
    """The file's text in pieces of about :data:`PIECE_BYTES`, each cut after a line feed (in an encoding where a line
    feed is that one byte, so no character straddles two pieces; in another, UTF-16 say, one piece), the BOM dropped.
    Undecodable bytes raise :class:`UnreadableFile` naming the line."""
    decoder = codecs.getincrementaldecoder(layout.encoding)("strict")
    step = PIECE_BYTES if "a\n".encode(layout.encoding).endswith(b"a\n") else len(data) + 1  # (utf-8-sig: after its BOM)
    start, first = 0, True
    while first or start < len(data):
        end = data.find(b"\n", start + step) if start + step < len(data) else -1
        end = len(data) if end < 0 else end + 1
        try:
            text = decoder.decode(data[start:end], final=end >= len(data))
        except UnicodeDecodeError as exc:
            at = start + exc.start
            line = data[:at].count(b"\n") + 1
            raise UnreadableFile(f"line {line}: bytes {data[at:start + exc.end]!r} are not valid {layout.encoding}") from None
        if first and text.startswith(BOM):  # a UTF-8 BOM in a file whose layout says plain utf-8
            text = text[1:]
        first, start = False, end
        yield text


def _scan(layout: Layout, data: bytes) -> bool:
    """Decode the whole file once, piece by piece, so that undecodable bytes and an empty file are found before any
    other problem (as when the file was decoded in one go; decoding is cheap next to parsing). Returns whether the
    text is *plain*: no quote or escape character, no NUL, an ASCII delimiter - then every line is one record
    whose fields lie between the delimiters, and :func:`_plain_delimited` reads it with pandas' C parser."""
    blank, plain = True, isinstance(layout, DelimitedLayout) and layout.delimiter.isascii()
    marks = [c for c in (getattr(layout, "quotechar", None), getattr(layout, "escapechar", None), "\x00") if c]
    for piece in _pieces(layout, data):
        blank = blank and not piece.strip()
        plain = plain and not any(mark in piece for mark in marks)
    if blank:
        raise UnreadableFile("the file is empty")
    return plain


@dataclass
class _Records:
    """One chunk of the file's records, column by column: the one reading both readers share."""

    numbers: Sequence[int]  # the line each record starts on
    cells: dict[str, Sequence[str]]  # canonical field -> its text per record (only the fields the file has)
    shape: dict[int, str]  # record index -> why its shape is wrong


def _chunks(layout: Layout, data: bytes, size: int) -> Iterator[_Records]:
    """The file's records, at most ``size`` at a time (a file-level problem raises :class:`UnreadableFile`)."""
    plain = _scan(layout, data)
    pieces = _pieces(layout, data)
    if isinstance(layout, FixedWidthLayout):
        chunks = _fixed_width(layout, pieces, size)
    else:
        chunks = _plain_delimited(layout, pieces, size) if plain else _delimited(layout, pieces, size)
    return (records for records in chunks if len(records.numbers))  # (a chunk of blank lines only is none)


def iter_rows(layout: Layout, data: bytes, tz: ZoneInfo, size: int | None = None) -> Iterator[list[ParsedRow]]:
    """:func:`read_rows` a chunk of at most ``size`` (:data:`CHUNK_ROWS`) rows at a time (row numbers are the file's)."""
    convert = _Values(layout, tz)
    for records in _chunks(layout, data, size or CHUNK_ROWS):
        yield _rows(layout, records, convert)


def read_rows(layout: Layout, data: bytes, tz: ZoneInfo) -> list[ParsedRow]:
    return [row for chunk in iter_rows(layout, data, tz) for row in chunk]


def _rows(layout: Layout, records: _Records, convert: _Values) -> list[ParsedRow]:
    numbers = records.numbers
    present = [(f, records.cells[f.name]) for f in layout.fields if f.name in records.cells]
    rows = []
    for index, number in enumerate(numbers):
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


_BREAK = re.compile(r"\r\n|\r|\n")


def _starts(batch: list[list[str]], before: int, after: int) -> Sequence[int]:
    """The line each record of ``batch`` starts on: the records took lines ``before + 1 .. after``, one each unless a
    quoted field holds line breaks (a multi-line record takes one line more per break)."""
    if after - before == len(batch):
        return range(before + 1, after + 1)
    starts, line = [], before + 1
    for cells in batch:
        starts.append(line)
        line += 1 + sum(len(_BREAK.findall(c)) for c in cells if "\n" in c or "\r" in c)
    return starts


def _delimited(layout: DelimitedLayout, pieces: Iterator[str], size: int) -> Iterator[_Records]:
    """A text with quotes (or escapes, or NULs) read by the csv module: a quoted field may hold line breaks."""
    reader = csv.reader(chain.from_iterable(io.StringIO(piece, newline="") for piece in pieces), dialect=_dialect(layout))
    try:
        positions, width = _header(layout, next(reader, []) if layout.header else [])
    except csv.Error as exc:
        raise UnreadableFile(f"line {reader.line_num}: {exc}") from None
    yield from _csv_batches(reader, positions, width, size)


def _csv_batches(reader: Any, positions: dict[str, int], width: int, size: int, offset: int = 0) -> Iterator[_Records]:
    """Batches of at most ``size`` records from a csv reader (``offset``: the lines before its text)."""
    try:
        while True:
            before = reader.line_num
            batch = list(islice(reader, size))
            if not batch:
                return
            yield _batch(batch, _starts(batch, before + offset, reader.line_num + offset), positions, width)
    except csv.Error as exc:
        raise UnreadableFile(f"line {reader.line_num + offset}: {exc}") from None


def _header(layout: DelimitedLayout, cells: list[str]) -> tuple[dict[str, int], int]:
    """The positions of the layout's fields in a record, and the width of a record."""
    if layout.header:
        header = [h.strip() for h in cells]
        return _positions(layout, header), len(header)
    return {f.name: i for i, f in enumerate(layout.fields)}, len(layout.fields)


class _Solid(dict):  # type: ignore[type-arg]
    """delimiter -> a table of the bytes that make a line not blank: ASCII that is neither whitespace for
    ``str.strip`` nor the delimiter (a byte of a non-ASCII character proves nothing: it may be a Unicode space)."""

    def __missing__(self, delimiter: str) -> Any:
        import numpy as np

        table = np.zeros(256, dtype=bool)
        table[:128] = [not chr(b).isspace() and chr(b) != delimiter for b in range(128)]
        self[delimiter] = table
        return table


_SOLID = _Solid()


def _plain_delimited(layout: DelimitedLayout, pieces: Iterator[str], size: int) -> Iterator[_Records]:
    """A plain text (see :func:`_scan`) read with pandas' C parser, a piece at a time: line n is record n, its fields
    are its delimiters plus one (counted with numpy), a short record's missing fields are empty, as the csv module
    has them. A piece the C parser reads otherwise (a line longer than csv's field limit, a BOM at its start, a
    record count that is not its line count) is read by the csv module instead."""
    import numpy as np
    import pandas as pd

    line = 0  # lines before the piece
    positions: dict[str, int] | None = None
    width = 0
    for piece in pieces:
        if positions is None:
            if layout.header:
                first = _BREAK.search(piece)
                head, piece = (piece[: first.start()], piece[first.end():]) if first else (piece, "")
                positions, width = _header(layout, next(csv.reader([head], dialect=_dialect(layout)), []))
                line = 1
            else:
                positions, width = _header(layout, [])
        if not piece:
            continue
        raw = np.frombuffer(piece.encode("utf-8"), dtype=np.uint8)
        end = raw == 10  # a line ends at LF, or at CR not followed by LF (CRLF ends at its LF)
        end[:-1] |= (raw[:-1] == 13) & ~end[1:]
        end[-1] |= raw[-1] == 13
        ends = np.flatnonzero(end)
        lines = len(ends) + (0 if end[-1] else 1)
        starts = np.concatenate(([0], ends + 1))[:lines]  # every line has a byte at least (its terminator, or the last text)
        fields = np.add.reduceat(raw == ord(layout.delimiter), starts, dtype=np.int64) + 1
        solid = np.logical_or.reduceat(_SOLID[layout.delimiter][raw], starts)  # a byte neither blank nor the delimiter
        longest = int(np.diff(np.concatenate(([-1], ends, [len(raw) - 1]))).max())
        frame = None
        if longest <= csv.field_size_limit() and not piece.startswith(BOM):
            frame = pd.read_csv(io.StringIO(piece), sep=layout.delimiter, header=None, names=range(max(int(fields.max()), width, 1)),
                                dtype=object, na_filter=False, skip_blank_lines=False, quoting=csv.QUOTE_NONE, engine="c", index_col=False)
        if frame is None or len(frame) != lines:
            reader = csv.reader(io.StringIO(piece, newline=""), dialect=_dialect(layout))
            yield from _csv_batches(reader, positions, width, size, offset=line)
            line += reader.line_num
            continue
        columns = [frame[i].to_numpy() for i in range(frame.shape[1])]
        for start in range(0, lines, size):
            stop = min(start + size, lines)
            yield _block([c[start:stop] for c in columns], fields[start:stop], solid[start:stop], range(line + start + 1, line + stop + 1),
                         positions, width)
        line += lines


def _block(columns: list[Any], fields: Any, solid: Any, numbers: range, positions: dict[str, int], width: int) -> _Records:
    """Records from whole columns of cells (short records padded with empty cells), blank ones left out (``solid``:
    the lines known not to be blank; the others are looked at)."""
    import numpy as np

    blank = [i for i in np.flatnonzero(~solid).tolist() if not "".join(c[i] for c in columns).strip()]
    shape = {}
    keep: Any = None
    if blank:
        keep = np.ones(len(numbers), dtype=bool)
        keep[blank] = False
    odd = np.flatnonzero(fields != width)
    if len(odd):
        kept = np.flatnonzero(keep) if keep is not None else None
        index_of = {int(i): n for n, i in enumerate(kept.tolist())} if kept is not None else None
        gone = set(blank)
        for i in odd.tolist():
            if i not in gone:
                shape[index_of[i] if index_of is not None else i] = f"{int(fields[i])} fields instead of {width}"
    if keep is not None:
        columns = [c[keep] for c in columns]
        numbers_: Sequence[int] = np.asarray(numbers)[keep].tolist()
    else:
        numbers_ = numbers
    return _Records(numbers=numbers_, cells={name: columns[i] if i < len(columns) else np.full(len(numbers_), "", dtype=object)
                                             for name, i in positions.items()}, shape=shape)


def _batch(batch: list[list[str]], starts: Sequence[int], positions: dict[str, int], width: int) -> _Records:
    """The records of a batch of csv rows, blank ones left out, column by column. A batch of full-width rows (the
    usual) is turned into columns at C speed; one with a short, long or empty row record by record."""
    if all(len(cells) == width for cells in batch) and width:
        firsts = [cells[0] for cells in batch]
        blank = [i for i, text in enumerate(firsts) if not text.strip() and not "".join(batch[i]).strip()]
        if blank:
            gone = set(blank)
            keep = [i for i in range(len(batch)) if i not in gone]
            batch, starts = [batch[i] for i in keep], [starts[i] for i in keep]
        columns = list(zip(*batch)) if batch else [()] * width
        return _Records(numbers=starts, cells={name: columns[i] for name, i in positions.items()}, shape={})
    records = _Records(numbers=[], cells={name: [] for name in positions}, shape={})
    numbers = records.numbers
    assert isinstance(numbers, list)
    columns = [(records.cells[name], i) for name, i in positions.items()]
    for number, cells in zip(starts, batch):
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != width:
            records.shape[len(numbers)] = f"{len(cells)} fields instead of {width}"
        numbers.append(number)
        n = len(cells)
        for column, i in columns:
            column.append(cells[i] if i < n else "")  # type: ignore[attr-defined]
    return records


def _unpad(f: LayoutField, cell: str) -> str:
    """A fixed-width cell without its pad character (on the side it pads). Whitespace goes in :func:`parse_value`;
    a zero pad of a number stays: leading zeros are part of the number, and "00000" is 0."""
    if f.pad == " " or (f.type in NUMERIC and f.pad.isdigit()):
        return cell
    return cell.lstrip(f.pad) if f.align == "right" else cell.rstrip(f.pad)


def _fixed_width(layout: FixedWidthLayout, pieces: Iterator[str], size: int) -> Iterator[_Records]:
    spans = []
    for f in layout.fields:
        assert f.start is not None and f.length is not None
        spans.append((f, f.start - 1, f.start - 1 + f.length))
    numbered = ((n, line) for n, line in enumerate(chain.from_iterable(piece.splitlines() for piece in pieces), start=1) if line.strip())
    while True:
        batch = list(islice(numbered, size))
        if not batch:
            return
        lines = [line for _, line in batch]
        yield _Records(numbers=[n for n, _ in batch], shape={},
                       cells={f.name: [_unpad(f, line[begin:end]) for line in lines] for f, begin, end in spans})


def iter_frames(layout: Layout, data: bytes, tz: ZoneInfo, size: int | None = None):  # type: ignore[no-untyped-def]
    """:func:`read_frame` a chunk of at most ``size`` rows at a time: (frame, problems) per chunk (one empty frame
    for a file without records)."""
    convert, empty = _Values(layout, tz), True
    for records in _chunks(layout, data, size or CHUNK_ROWS):
        empty = False
        yield _frame(layout, records, convert, tz)
    if empty:  # a header only: one empty frame, with the columns
        yield _frame(layout, _Records(numbers=[], cells={}, shape={}), convert, tz)


def read_frame(layout: Layout, data: bytes, tz: ZoneInfo):  # type: ignore[no-untyped-def]
    """Large files (stock snapshots): the same rules as :func:`read_rows`, vectorised with pandas.

    Returns a DataFrame with a ``row`` column (line number), one column per layout field (numbers as float,
    timestamps as UTC, dates and booleans as Python objects), and ``problems``: a
    :class:`~threepl_bridge.codes.Problem` (row, field, value) for each value that could not be read, in the
    order :func:`read_rows` gives them. Each distinct text of a column is converted once by :func:`parse_value`;
    timestamps take a vectorised path and only the texts it cannot settle go through :func:`parse_value`.
    """
    import pandas as pd

    frames, problems = [], []
    for frame, found in iter_frames(layout, data, tz):
        frames.append(frame)
        problems += found
    if len(frames) == 1:
        return frames[0], problems
    return pd.concat(frames, ignore_index=True), problems


def _frame(layout: Layout, records: _Records, convert: _Values, tz: ZoneInfo):  # type: ignore[no-untyped-def]
    """One chunk as a frame: per column, the distinct texts are found at C speed (``pandas.factorize``), each is
    converted once, and the values are taken back to the rows."""
    import numpy as np
    import pandas as pd

    numbers = records.numbers
    n = len(numbers)
    frame = pd.DataFrame({"row": np.asarray(numbers, dtype="int64")})
    found: list[tuple[int, int, Problem]] = []  # (record, field position, problem)
    for position, f in enumerate(layout.fields):
        cells = records.cells.get(f.name)
        if cells is None:
            codes_, texts = np.zeros(n, dtype="intp"), [""]
        else:
            codes_, uniques = pd.factorize(np.asarray(cells, dtype=object) if n else np.empty(0, dtype=object))
            texts = list(uniques)
        stripped = [t.strip() for t in texts]
        values: list[Any] = [None] * len(texts)
        failures: dict[int, tuple[codes.Code, str]] = {}
        if f.type is FieldType.DATETIME:
            settled = _datetimes(layout, f, pd.Series(stripped, dtype=object), tz)
            moments = list(settled)
            for u, text in enumerate(texts):
                if stripped[u] and moments[u] is pd.NaT:
                    value, failure = convert(f, text)
                    if failure is None:
                        moments[u] = pd.Timestamp(value)
                    else:
                        failures[u] = failure
            distinct = pd.to_datetime(pd.Series(moments, dtype=object), utc=True).dt.as_unit(settled.dt.unit)
            column: Any = distinct.array.take(codes_)
        else:
            for u, text in enumerate(texts):
                if stripped[u]:
                    values[u], failure = convert(f, text)
                    if failure is not None:
                        failures[u] = failure
            column = _column(f, values, codes_)
        if failures:
            bad = np.zeros(len(texts), dtype=bool)
            bad[list(failures)] = True
            for index in np.flatnonzero(bad[codes_]).tolist():
                u = int(codes_[index])
                found.append((index, position, _problem(f, numbers[index], texts[u], failures[u])))
        frame[f.name] = column
    after = len(layout.fields)
    for index, why in records.shape.items():
        found.append((index, after, codes.ROW_SHAPE(row=numbers[index], detail=f"line {numbers[index]}: {why}")))
    found.sort(key=lambda item: (item[0], item[1]))
    return frame, [p for _, _, p in found]


def _column(f: LayoutField, values: list[Any], codes_: Any) -> Any:
    """The per-row column of one field from its distinct values: numbers as float (an integer column without a gap
    as int64), the rest as Python objects."""
    import numpy as np

    if f.type is FieldType.DECIMAL:
        return np.array([np.nan if v is None else float(v) for v in values], dtype="float64")[codes_]
    if f.type is FieldType.INTEGER:
        used = np.unique(codes_).tolist() if len(codes_) else []
        if any(values[u] is None for u in used):  # a gap: float with NaN, as pandas.to_numeric makes it
            return np.array([np.nan if v is None else float(v) for v in values], dtype="float64")[codes_]
        return np.array([0 if v is None else v for v in values], dtype="int64")[codes_]
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out[codes_]


def _datetimes(layout: Layout, f: LayoutField, stripped: Any, tz: ZoneInfo) -> Any:
    """The vectorised path for plain local timestamps in the layout's format inside the window (UTC; NaT for what
    :func:`parse_value` must settle: other formats, offsets, a local time that occurs twice or never, out of range)."""
    import pandas as pd

    empty = stripped == ""
    naive = pd.to_datetime(stripped.where(~empty), format=f.format or layout.datetime_format, errors="coerce")
    inside = (naive >= pd.Timestamp(EARLIEST)) & (naive < pd.Timestamp(LATEST) + pd.Timedelta(days=1))
    naive = naive.where(inside)
    return naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
