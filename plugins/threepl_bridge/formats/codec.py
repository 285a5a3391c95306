"""Turn canonical rows into a partner's file bytes, per its layout (delimited or fixed-width), deterministically.

Every value is checked against the layout's constraints and the file's encoding *before* a file is built, so
a record that the 3PL could not read is held back with a stable code instead of breaking the whole file.

``None``, ``""`` and Odoo's ``False`` ("no value") are empty, except in a boolean field, where ``False`` is "0".
In a fixed-width record an empty value is blank (spaces, whatever the field's pad: a zero pad would turn a missing
quantity into 0), and a zero-padded negative number keeps its sign in front ("-0005", not "000-5").
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from threepl_bridge import codes
from threepl_bridge.codes import Problem
from threepl_bridge.specs.models import DelimitedLayout, FieldType, FixedWidthLayout, LayoutField

Layout = DelimitedLayout | FixedWidthLayout


def format_decimal(value: Any, separator: str = ".") -> str:
    number = Decimal(str(value))
    if number == number.to_integral_value():
        text = str(number.quantize(Decimal(1)))
    else:
        text = format(number.normalize(), "f")
    return text.replace(".", separator) if separator != "." else text


def is_empty(field: LayoutField, value: Any) -> bool:
    """No value: ``None``, ``""``, or Odoo's ``False`` in any field but a boolean one."""
    if value is False:
        return field.type is not FieldType.BOOLEAN
    return value is None or (isinstance(value, str) and value == "")


def format_value(layout: Layout, field: LayoutField, value: Any) -> str:
    if is_empty(field, value):
        return ""
    if field.type is FieldType.DECIMAL:
        return format_decimal(value, layout.decimal_separator)
    if field.type is FieldType.INTEGER:
        number = Decimal(str(value))
        if number != number.to_integral_value():
            raise ValueError(f"{field.name}: {value!r} is not a whole number")
        return str(int(number))
    if field.type is FieldType.DATE:
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        return value.strftime(field.format or layout.date_format)
    if field.type is FieldType.DATETIME:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.strftime(field.format or layout.datetime_format)
    if field.type is FieldType.BOOLEAN:
        return "1" if value else "0"
    if field.values:  # canonical -> the 3PL's word
        return next((theirs for theirs, ours in field.values.items() if ours == value), str(value))
    return str(value)


def check_row(layout: Layout, row: Mapping[str, Any]) -> list[Problem]:
    """Every problem the 3PL would have with this row, per the layout's constraints and encoding."""
    problems: list[Problem] = []
    for f in layout.fields:
        value = row.get(f.name)
        if is_empty(f, value):
            if f.required:
                problems.append(codes.FIELD_REQUIRED(field=f.name, detail=f"{f.column} is required"))
            continue
        try:
            text = format_value(layout, f, value)
        except (ValueError, InvalidOperation, TypeError) as exc:
            problems.append(codes.FIELD_TYPE(field=f.name, detail=f"{f.column}: {exc}"))
            continue
        limit = f.max_length or (f.length if isinstance(layout, FixedWidthLayout) else None)
        if limit and len(text) > limit:
            problems.append(codes.FIELD_TOO_LONG(field=f.name, detail=f"{f.column}: {text!r} is longer than {limit}"))
        if f.pattern and not re.fullmatch(f.pattern, text):
            problems.append(codes.FIELD_PATTERN(field=f.name, detail=f"{f.column}: {text!r} does not match {f.pattern}"))
        if f.enum and text not in f.enum:
            problems.append(codes.FIELD_ENUM(field=f.name, detail=f"{f.column}: {text!r} is not one of {list(f.enum)}"))
        if f.type in (FieldType.DECIMAL, FieldType.INTEGER):
            number = Decimal(str(value))
            if (f.minimum is not None and number < f.minimum) or (f.maximum is not None and number > f.maximum):
                problems.append(codes.FIELD_RANGE(field=f.name, detail=f"{f.column}: {value} is outside [{f.minimum}, {f.maximum}]"))
        unwritable = _unwritable(layout, text)
        if unwritable:
            problems.append(codes.FIELD_NOT_WRITABLE(field=f.name, detail=f"{f.column}: {text!r} holds {unwritable}"))
        try:
            text.encode(layout.encoding)
        except UnicodeEncodeError as exc:
            bad = text[exc.start : exc.end]
            problems.append(codes.ENCODING_UNSUPPORTED(field=f.name, detail=f"{f.column}: {bad!r} cannot be written in {layout.encoding} (value {text!r})",
            ))
    return problems


def _unwritable(layout: Layout, text: str) -> str:
    """What in ``text`` the layout cannot carry ("" if nothing): a line break in a fixed-width record; without
    quoting and without an escape character, the delimiter, the quote character or a line break."""
    if isinstance(layout, FixedWidthLayout):
        return "a line break, which a fixed-width record cannot carry" if "\n" in text or "\r" in text else ""
    if layout.quoting != "none" or layout.escapechar is not None:
        return ""
    for char, what in ((layout.delimiter, "the delimiter"), (layout.quotechar, "the quote character"), ("\n", "a line break"),
                       ("\r", "a line break")):
        if char in text:
            return f"{what} {char!r}, which a file without quoting or escape character cannot carry"
    return ""


def encode(layout: Layout, rows: Iterable[Mapping[str, Any]]) -> bytes:
    """The file's bytes. Rows must have passed :func:`check_row`; a value that cannot be written raises."""
    if isinstance(layout, FixedWidthLayout):
        text = _fixed_width(layout, rows)
    else:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, dialect=layout.csv_dialect())
        if layout.header:
            writer.writerow([f.column for f in layout.fields])
        for row in rows:
            writer.writerow([format_value(layout, f, row.get(f.name)) for f in layout.fields])
        text = buffer.getvalue()
    return text.encode(layout.encoding)


def _fixed_width(layout: FixedWidthLayout, rows: Iterable[Mapping[str, Any]]) -> str:
    lines = []
    for row in rows:
        record = [" "] * layout.record_width
        for f in layout.fields:
            value = format_value(layout, f, row.get(f.name))
            assert f.start is not None and f.length is not None
            if len(value) > f.length:
                raise ValueError(f"{f.name}: {value!r} does not fit in {f.length} characters")
            cell = _cell(f, value)
            record[f.start - 1 : f.start - 1 + f.length] = list(cell)
        lines.append("".join(record))
    return "".join(line + layout.line_terminator for line in lines)


def _cell(f: LayoutField, value: str) -> str:
    """One fixed-width cell: blank when empty; a zero pad goes between a number's sign and its digits."""
    assert f.length is not None
    if value == "":
        return " " * f.length
    if f.align == "right":
        if f.pad.isdigit() and value[0] in "+-":
            return value[0] + value[1:].rjust(f.length - 1, f.pad)
        return value.rjust(f.length, f.pad)
    return value.ljust(f.length, f.pad)
