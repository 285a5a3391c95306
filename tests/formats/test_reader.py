"""formats/reader.py: partner file bytes -> canonical rows (read_rows) or a frame (read_frame), per the layout.

Tiny inline payloads; layouts are the repo's own (sftp_formats/layouts) or built inline through the spec models.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from threepl_bridge.formats.reader import UnreadableFile, read_frame, read_rows
from threepl_bridge.specs.loader import formats_dir, load_layout
from threepl_bridge.specs.models import DelimitedLayout, FixedWidthLayout

LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
LAYOUTS = formats_dir() / "layouts"
DISPATCHES = load_layout(LAYOUTS / "demo3pl_dispatches.yaml")  # utf-8-sig, ",", header
STOCK = load_layout(LAYOUTS / "demo3pl_stock.yaml")

STOCK_HEADER = "sku,lot,qty_on_hand,uom,status,snapshot_at"


def delimited(**overrides) -> DelimitedLayout:
    """A small stock-like delimited layout; keyword arguments override layout keys."""
    data = {
        "name": "t_delimited",
        "format": "delimited",
        "fields": [
            {"name": "sku", "column": "sku", "required": True},
            {"name": "name", "column": "name"},
            {"name": "quantity", "column": "qty", "type": "decimal", "required": True},
        ],
    }
    data.update(overrides)
    return DelimitedLayout.model_validate(data)


def german() -> DelimitedLayout:
    """ISO-8859-1, ';', decimal comma, German dates, LF line ends (like the semi3pl fixture layouts)."""
    return DelimitedLayout.model_validate({
        "name": "t_german",
        "format": "delimited",
        "encoding": "iso-8859-1",
        "delimiter": ";",
        "line_terminator": "\n",
        "decimal_separator": ",",
        "date_format": "%d.%m.%Y",
        "datetime_format": "%d.%m.%Y %H:%M",
        "fields": [
            {"name": "sku", "column": "Artikel", "required": True},
            {"name": "name", "column": "Bezeichnung"},
            {"name": "quantity", "column": "Menge", "type": "decimal", "required": True},
            {"name": "requested_date", "column": "Datum", "type": "date"},
            {"name": "as_of", "column": "Stand", "type": "datetime"},
        ],
    })


def fixed(**overrides) -> FixedWidthLayout:
    data = {
        "name": "t_fixed",
        "format": "fixed_width",
        "encoding": "iso-8859-1",
        "line_terminator": "\n",
        "fields": [
            {"name": "sku", "column": "ART", "start": 1, "length": 6},
            {"name": "quantity", "column": "QTY", "type": "integer", "start": 7, "length": 5, "align": "right", "pad": "0"},
            {"name": "name", "column": "NAME", "start": 12, "length": 8},
        ],
    }
    data.update(overrides)
    return FixedWidthLayout.model_validate(data)


def values(rows):
    return [r.values for r in rows]


def triples(found):
    """read_frame's problems as (row, field, message)."""
    return [(p.row, p.field, p.message) for p in found]


def problems(rows):
    return [(r.number, p.code, p.field, p.message) for r in rows for p in r.problems]


# ------------------------------------------------------------------------------------------- encodings


def test_utf8_bom_is_dropped_from_a_plain_utf8_layout():
    layout = delimited()
    assert layout.encoding == "utf-8"
    rows = read_rows(layout, b"\xef\xbb\xbfsku,name,qty\r\nA1,Caf\xc3\xa9,2\r\n", LA)
    assert values(rows) == [{"sku": "A1", "name": "Café", "quantity": Decimal(2)}]
    assert problems(rows) == []


@pytest.mark.parametrize("bom", [b"\xef\xbb\xbf", b""], ids=["with-bom", "without-bom"])
def test_utf8_sig_layout_reads_files_with_and_without_bom(bom):
    data = bom + b"order_ref,line,sku,qty_shipped,shipped_at\r\nWH/OUT/7,1,SKU1,3,2026-11-02 10:00:00\r\n"
    (row,) = read_rows(DISPATCHES, data, LA)
    assert row.number == 2
    assert row.values["order_ref"] == "WH/OUT/7"
    assert row.values["line_no"] == 1
    assert row.values["quantity"] == Decimal(3)
    assert row.problems == []


def test_bom_in_read_frame_is_dropped_too():
    frame, found = read_frame(delimited(), b"\xef\xbb\xbfsku,name,qty\r\nA1,x,2\r\n", LA)
    assert list(frame["sku"]) == ["A1"]
    assert list(frame["quantity"]) == [2.0]
    assert found == []


def test_iso_8859_1_semicolon_decimal_comma_and_german_dates():
    data = b"Artikel;Bezeichnung;Menge;Datum;Stand\nA1;M\xfcller;1,5;31.10.2026;02.11.2026 10:00\n"
    (row,) = read_rows(german(), data, BERLIN)
    assert row.values == {
        "sku": "A1",
        "name": "Müller",
        "quantity": Decimal("1.5"),
        "requested_date": date(2026, 10, 31),
        "as_of": datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc),  # 10:00 CET
    }
    assert row.problems == []


def test_iso_8859_1_in_read_frame():
    frame, found = read_frame(german(), b"Artikel;Bezeichnung;Menge;Datum;Stand\nA1;M\xfcller;1,5;;02.11.2026 10:00\n", BERLIN)
    assert frame.loc[0, "name"] == "Müller"
    assert frame.loc[0, "quantity"] == 1.5
    assert frame.loc[0, "as_of"] == datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
    assert found == []


def test_latin1_bytes_in_a_utf8_layout_make_the_file_unreadable_naming_the_line():
    data = b"sku,name,qty\r\nA1,ok,1\r\nA2,M\xfcller,2\r\n"
    with pytest.raises(UnreadableFile) as exc:
        read_rows(delimited(), data, LA)
    message = str(exc.value)
    assert "line 3" in message
    assert "utf-8" in message
    assert "\\xfc" in message
    with pytest.raises(UnreadableFile, match="line 3"):
        read_frame(delimited(), data, LA)


# ---------------------------------------------------------------------------------------- line ends


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"], ids=["crlf", "lf", "cr"])
def test_line_ends_do_not_leak_into_values(newline):
    text = newline.join(["sku,name,qty", "A1,first,1", "A2,second,2.5"]) + newline
    rows = read_rows(delimited(), text.encode(), LA)
    assert values(rows) == [
        {"sku": "A1", "name": "first", "quantity": Decimal(1)},
        {"sku": "A2", "name": "second", "quantity": Decimal("2.5")},
    ]
    assert [r.number for r in rows] == [2, 3]


def test_crlf_in_read_frame_does_not_leak_into_the_last_column():
    frame, _ = read_frame(delimited(), b"sku,qty,name\r\nA1,1,last\r\n", LA)
    assert list(frame["name"]) == ["last"]


def test_mixed_line_ends_and_no_final_newline():
    rows = read_rows(delimited(), b"sku,name,qty\r\nA1,x,1\nA2,y,2", LA)
    assert values(rows) == [
        {"sku": "A1", "name": "x", "quantity": Decimal(1)},
        {"sku": "A2", "name": "y", "quantity": Decimal(2)},
    ]


# --------------------------------------------------------------------------------------------- quoting


def test_quoted_fields_embedded_delimiter_doubled_quotes_and_newline():
    data = b'sku,name,qty\r\nA1,"Chair, oak",1\r\nA2,"the ""best"" one",2\r\nA3,"two\r\nlines",3\r\n'
    rows = read_rows(delimited(), data, LA)
    assert [r.values["name"] for r in rows] == ["Chair, oak", 'the "best" one', "two\r\nlines"]
    assert [r.values["sku"] for r in rows] == ["A1", "A2", "A3"]
    assert problems(rows) == []


def test_quoted_semicolon_in_a_semicolon_file():
    (row,) = read_rows(german(), b'Artikel;Bezeichnung;Menge\nA1;"Tisch; rund";2\n', BERLIN)
    assert row.values["name"] == "Tisch; rund"
    assert row.values["quantity"] == Decimal(2)


def test_quoting_in_read_frame():
    data = b'sku,name,qty\r\nA1,"Chair, oak",1\r\nA2,"the ""best"" one",2\r\nA3,"two\nlines",3\r\n'
    frame, found = read_frame(delimited(), data, LA)
    assert list(frame["name"]) == ["Chair, oak", 'the "best" one', "two\nlines"]
    assert list(frame["quantity"]) == [1.0, 2.0, 3.0]
    assert found == []


def test_broken_quoting_makes_the_file_unreadable_naming_the_line():
    with pytest.raises(UnreadableFile, match=r"^line 3: "):
        read_rows(delimited(), b'sku,name,qty\r\nA1,ok,1\r\nA2,"bad"x,2\r\n', LA)


def test_escapechar_layout():
    layout = delimited(escapechar="\\")
    (row,) = read_rows(layout, b'sku,name,qty\r\nA1,"say \\"hi\\", ok",1\r\n', LA)
    assert row.values["name"] == 'say "hi", ok'


def test_row_number_after_a_multiline_quoted_field_is_the_line_number():
    data = b'sku,name,qty\r\nA1,"two\r\nlines",1\r\nA2,x,oops\r\n'
    rows = read_rows(delimited(), data, LA)
    assert problems(rows)[0][1:3] == ("FIELD_TYPE", "quantity")  # sanity: the reader found the bad value
    assert rows[1].number == 4  # the header is line 1, A1 spans lines 2-3, A2 is on line 4


# ---------------------------------------------------------------------------------------- ragged rows


def test_short_and_long_rows_are_row_problems_naming_the_line_and_the_rest_still_counts():
    data = b"sku,name,qty\r\nA1,ok,1\r\nA2,short\r\nA3,long,3,extra\r\nA4,ok,4\r\n"
    rows = read_rows(delimited(), data, LA)
    assert [r.number for r in rows] == [2, 3, 4, 5]
    assert problems(rows) == [
        (3, "ROW_SHAPE", "", "line 3: 2 fields instead of 3"),
        (4, "ROW_SHAPE", "", "line 4: 4 fields instead of 3"),
    ]
    # the short row's missing value is empty, the long row's known columns are still read
    assert rows[1].values == {"sku": "A2", "name": "short", "quantity": None}
    assert rows[2].values == {"sku": "A3", "name": "long", "quantity": Decimal(3)}
    assert rows[0].problems == [] and rows[3].problems == []


def test_ragged_row_in_a_headerless_layout():
    rows = read_rows(delimited(header=False), b"A1,x,1\r\nA2,y\r\n", LA)
    assert [r.number for r in rows] == [1, 2]
    assert problems(rows) == [(2, "ROW_SHAPE", "", "line 2: 2 fields instead of 3")]


def test_read_frame_reports_a_short_row():
    data = f"{STOCK_HEADER}\r\nA,,5,EA,ok,2026-11-20 02:00:00\r\nB,,3,EA\r\n".encode()
    assert [p.code for r in read_rows(STOCK, data, LA) for p in r.problems] == ["ROW_SHAPE"]  # what read_rows says
    frame, found = read_frame(STOCK, data, LA)
    assert list(frame["row"]) == [2, 3]
    assert 3 in {number for number, _, _ in triples(found)}


# ------------------------------------------------------------------------------------ header problems


def test_file_without_header_is_unreadable_naming_the_missing_columns():
    with pytest.raises(UnreadableFile) as exc:
        read_rows(DISPATCHES, b"WH/OUT/7,1,SKU1,,3,EA,,2026-11-02 10:00:00\r\n", LA)
    message = str(exc.value)
    assert message.startswith("line 1: required column(s)")
    for column in ("order_ref", "sku", "qty_shipped", "shipped_at"):
        assert f"'{column}'" in message
    assert "WH/OUT/7" in message  # the header it did find


def test_misspelled_required_column_is_unreadable_naming_it():
    with pytest.raises(UnreadableFile) as exc:
        read_rows(delimited(), b"sku,name,quantity\r\nA1,x,1\r\n", LA)
    assert "['qty']" in str(exc.value)
    assert "missing from the header ['sku', 'name', 'quantity']" in str(exc.value)
    with pytest.raises(UnreadableFile, match=r"\['qty'\] missing"):
        read_frame(delimited(), b"sku,name,quantity\r\nA1,x,1\r\n", LA)


def test_missing_optional_column_and_unknown_columns_are_tolerated_and_columns_map_by_name():
    """The reader maps columns by header name: an extra column the layout does not know is ignored (the module
    docstring lists only undecodable bytes, no header, missing required columns and broken quoting as fatal)."""
    data = b" qty ;extra;sku\r\n2;zzz;A1\r\n"
    (row,) = read_rows(delimited(delimiter=";"), data, LA)
    assert row.values == {"sku": "A1", "quantity": Decimal(2), "name": None}
    assert row.problems == []
    frame, found = read_frame(delimited(delimiter=";"), data, LA)
    assert list(frame.columns) == ["row", "sku", "name", "quantity"]
    assert (frame.loc[0, "sku"], frame.loc[0, "quantity"]) == ("A1", 2.0)
    assert found == []


# ------------------------------------------------------------------------------------ empty files


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", b"   \n", b"\xef\xbb\xbf"], ids=["empty", "blank-lines", "spaces", "bom-only"])
def test_empty_file_is_unreadable(data):
    with pytest.raises(UnreadableFile, match="the file is empty"):
        read_rows(delimited(), data, LA)
    with pytest.raises(UnreadableFile, match="the file is empty"):
        read_frame(delimited(), data, LA)


def test_header_only_file_has_no_rows():
    assert read_rows(DISPATCHES, b"order_ref,line,sku,qty_shipped,shipped_at\r\n", LA) == []
    frame, found = read_frame(STOCK, f"{STOCK_HEADER}\r\n".encode(), LA)
    assert len(frame) == 0 and found == []


def test_blank_lines_are_skipped_and_keep_line_numbers():
    rows = read_rows(delimited(), b"sku,name,qty\r\nA1,x,1\r\n\r\n,,\r\nA2,y,oops\r\n", LA)
    assert [r.number for r in rows] == [2, 5]
    assert problems(rows) == [(5, "FIELD_TYPE", "quantity", "qty: 'oops' is not a number")]
    frame, found = read_frame(delimited(), b"sku,name,qty\r\nA1,x,1\r\n,,\r\nA2,y,oops\r\n", LA)
    assert list(frame["row"]) == [2, 4]
    assert triples(found) == [(4, "quantity", "qty: 'oops' is not a number")]


# --------------------------------------------------------------------------------------- values


def test_unreadable_values_stay_with_their_row_and_field():
    data = (
        "order_ref,line,sku,qty_shipped,shipped_at\r\n"
        "WH/OUT/1,1,S1,2,2026-11-02 10:00:00\r\n"
        "WH/OUT/1,x,S2,abc,02/11/2026\r\n"
        "WH/OUT/1,1.5,S3,NaN,2026-11-02 10:00:00\r\n"
    ).encode()
    rows = read_rows(DISPATCHES, data, LA)
    assert problems(rows) == [
        (3, "FIELD_TYPE", "line_no", "line: 'x' is not a number"),
        (3, "FIELD_TYPE", "quantity", "qty_shipped: 'abc' is not a number"),
        (3, "FIELD_TYPE", "shipped_at", "shipped_at: '02/11/2026' is not a timestamp in the format %Y-%m-%d %H:%M:%S"),
        (4, "FIELD_TYPE", "line_no", "line: '1.5' is not a whole number"),
        (4, "FIELD_TYPE", "quantity", "qty_shipped: 'NaN' is not a number"),
    ]
    assert rows[1].values["sku"] == "S2" and rows[1].values["quantity"] is None and rows[1].values["shipped_at"] is None
    assert rows[1].raw["quantity"] == "abc"
    assert rows[0].problems == []


@pytest.mark.parametrize(("text", "expected"), [
    ("1,5", Decimal("1.5")), ("-2", Decimal(-2)), (" 3 ", Decimal(3)), ("0,25", Decimal("0.25")), ("", None),
])
def test_decimal_per_the_layouts_separator(text, expected):
    (row,) = read_rows(german(), f"Artikel;Menge\nA1;{text}\n".encode("latin-1"), BERLIN)
    assert row.values["quantity"] == expected
    assert row.problems == []


def test_thousands_separator_is_not_a_number():
    (row,) = read_rows(german(), b"Artikel;Menge\nA1;1.234,5\n", BERLIN)
    assert [(p.code, p.field, p.message) for p in row.problems] == [("FIELD_TYPE", "quantity", "Menge: '1.234,5' is not a number (the decimal separator is ',')")]


def test_dates_per_the_layout_format_with_iso_fallback():
    rows = read_rows(german(), b"Artikel;Menge;Datum\nA1;1;31.10.2026\nA2;1;2026-10-30\nA3;1;10/31/2026\n", BERLIN)
    assert [r.values["requested_date"] for r in rows] == [date(2026, 10, 31), date(2026, 10, 30), None]
    assert problems(rows) == [(4, "FIELD_TYPE", "requested_date", "Datum: '10/31/2026' is not a date in the format %d.%m.%Y")]


def test_a_fields_own_format_overrides_the_layouts():
    layout = DelimitedLayout.model_validate({
        "name": "t_own", "format": "delimited", "date_format": "%d.%m.%Y",
        "fields": [{"name": "requested_date", "column": "d", "type": "date", "format": "%Y%m%d"}],
    })
    assert read_rows(layout, b"d\r\n20261031\r\n", LA)[0].values["requested_date"] == date(2026, 10, 31)


def test_timestamps_local_time_of_the_partner_or_their_own_offset_become_utc():
    data = (
        "order_ref,line,sku,qty_shipped,shipped_at\r\n"
        "A,1,S,1,2026-07-01 10:00:00\r\n"  # PDT, UTC-7
        "A,2,S,1,2026-12-01 10:00:00\r\n"  # PST, UTC-8
        "A,3,S,1,2026-12-01T10:00:00+01:00\r\n"
        "A,4,S,1,2026-12-01T10:00:00Z\r\n"
    ).encode()
    rows = read_rows(DISPATCHES, data, LA)
    assert [r.values["shipped_at"] for r in rows] == [
        datetime(2026, 7, 1, 17, 0, tzinfo=timezone.utc),
        datetime(2026, 12, 1, 18, 0, tzinfo=timezone.utc),
        datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc),
        datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc),
    ]
    frame, found = read_frame(DISPATCHES, data, LA)
    assert [t.to_pydatetime() for t in frame["shipped_at"]] == [r.values["shipped_at"] for r in rows]
    assert found == []


def test_booleans_and_integers():
    layout = DelimitedLayout.model_validate({
        "name": "t_types", "format": "delimited",
        "fields": [{"name": "flag", "column": "flag", "type": "boolean"}, {"name": "n", "column": "n", "type": "integer"}],
    })
    rows = read_rows(layout, b"flag,n\r\nyes,7\r\n0,-3\r\nmaybe,2.0\r\n", LA)
    assert values(rows) == [{"flag": True, "n": 7}, {"flag": False, "n": -3}, {"flag": None, "n": 2}]
    assert problems(rows) == [(4, "FIELD_TYPE", "flag", "flag: 'maybe' is not a yes/no value")]


def test_read_frame_lists_unreadable_values_as_row_field_message():
    data = f"{STOCK_HEADER}\r\nA,,5,EA,ok,2026-11-20 02:00:00\r\nB,,x,EA,ok,yesterday\r\n".encode()
    frame, found = read_frame(STOCK, data, LA)
    assert list(frame["row"]) == [2, 3]
    assert frame.loc[0, "as_of"] == datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    assert triples(found) == [
        (3, "quantity", "qty_on_hand: 'x' is not a number"),
        (3, "as_of", "snapshot_at: 'yesterday' is not a timestamp in the format %Y-%m-%d %H:%M:%S"),
    ]


def test_read_frame_reads_an_ambiguous_local_time_like_read_rows():
    """Decision: a local time that occurs twice is read as its first occurrence (fold=0, still summer time), by both."""
    data = f"{STOCK_HEADER}\r\nA,,5,EA,ok,2026-11-01 01:30:00\r\n".encode()
    (row,) = read_rows(STOCK, data, LA)
    assert row.problems == [] and row.values["as_of"] == datetime(2026, 11, 1, 8, 30, tzinfo=timezone.utc)  # 01:30 PDT
    frame, found = read_frame(STOCK, data, LA)
    assert found == []
    assert frame.loc[0, "as_of"].to_pydatetime() == row.values["as_of"]


def test_a_local_time_the_clocks_skip_is_read_alike_by_both_readers():
    data = f"{STOCK_HEADER}\r\nA,,5,EA,ok,2026-03-08 02:30:00\r\n".encode()  # 02:00 -> 03:00 in Los Angeles
    (row,) = read_rows(STOCK, data, LA)
    assert row.problems == [] and row.values["as_of"] == datetime(2026, 3, 8, 10, 30, tzinfo=timezone.utc)  # the offset before
    frame, found = read_frame(STOCK, data, LA)
    assert found == [] and frame.loc[0, "as_of"].to_pydatetime() == row.values["as_of"]


def test_read_frame_rejects_infinite_numbers_like_read_rows():
    data = f"{STOCK_HEADER}\r\nA,,inf,EA,ok,2026-11-20 02:00:00\r\n".encode()
    assert [p.field for r in read_rows(STOCK, data, LA) for p in r.problems] == ["quantity"]
    _, found = read_frame(STOCK, data, LA)
    assert [field for _, field, _ in triples(found)] == ["quantity"]


def test_nonnumeric_quoting_layout_reads_unquoted_numbers():
    rows = read_rows(delimited(quoting="nonnumeric"), b'"sku","name","qty"\r\n"A1","x",5\r\n', LA)
    assert values(rows) == [{"sku": "A1", "name": "x", "quantity": Decimal(5)}]


# ------------------------------------------------------------------------------------------ fixed width


def test_fixed_width_rows_by_position():
    data = b"A1    00012M\xfcller  \nB2    00003Stuhl   \n\nC3    0000x\n"
    rows = read_rows(fixed(), data, BERLIN)
    assert [r.number for r in rows] == [1, 2, 4]
    assert values(rows) == [
        {"sku": "A1", "quantity": 12, "name": "Müller"},
        {"sku": "B2", "quantity": 3, "name": "Stuhl"},
        {"sku": "C3", "quantity": None, "name": None},  # a short last line: the missing name is empty
    ]
    assert problems(rows) == [(4, "FIELD_TYPE", "quantity", "QTY: '0000x' is not a number")]


def test_fixed_width_read_frame():
    frame, found = read_frame(fixed(), b"A1    00012M\xfcller  \r\nB2    0000x\r\n", BERLIN)
    assert list(frame["row"]) == [1, 2]
    assert list(frame["sku"]) == ["A1", "B2"]
    assert frame.loc[0, "quantity"] == 12 and frame.loc[0, "name"] == "Müller"
    assert triples(found) == [(2, "quantity", "QTY: '0000x' is not a number")]


def test_fixed_width_in_utf8_counts_characters_not_bytes():
    layout = fixed(encoding="utf-8")
    (row,) = read_rows(layout, "Ä1    00012Müller  \n".encode(), BERLIN)
    assert row.values == {"sku": "Ä1", "quantity": 12, "name": "Müller"}


def test_fixed_width_pad_character_is_removed_on_read():
    layout = FixedWidthLayout.model_validate({
        "name": "t_pad", "format": "fixed_width",
        "fields": [{"name": "sku", "column": "ART", "start": 1, "length": 8, "pad": "."}],
    })
    (row,) = read_rows(layout, b"AB......\r\n", LA)
    assert row.values["sku"] == "AB"


# ------------------------------------------------------------------------- poison values (issue 13, defect 7)


def both_readers(layout, data, tz=LA):
    """(row, code, field) of every problem, from read_rows and from read_frame: the two must agree."""
    rows = read_rows(layout, data, tz)
    frame, found = read_frame(layout, data, tz)
    from_rows = [(r.number, p.code, p.field) for r in rows for p in r.problems]
    assert [(p.row, p.code, p.field) for p in found] == from_rows
    assert [(r.number, p.message) for r in rows for p in r.problems] == [(p.row, p.message) for p in found]
    return rows, frame, from_rows


@pytest.mark.parametrize(("text", "code"), [
    ("1e308", "FIELD_RANGE"), ("-1e308", "FIELD_RANGE"), ("1" * 30, "FIELD_RANGE"), ("1000000000000", "FIELD_RANGE"),
    ("1e-30", "FIELD_RANGE"), ("0.00001", "FIELD_RANGE"), ("1e999999999", "FIELD_RANGE"),
    ("inf", "FIELD_TYPE"), ("-inf", "FIELD_TYPE"), ("nan", "FIELD_TYPE"), ("Infinity", "FIELD_TYPE"), ("-Infinity", "FIELD_TYPE"),
    ("sNaN", "FIELD_TYPE"), ("0x10", "FIELD_TYPE"), ("1_000", "FIELD_TYPE"), ("\u0661\u0662", "FIELD_TYPE"), ("\uff15", "FIELD_TYPE"),
])
def test_poison_quantities_are_the_rows_problem_and_the_other_rows_still_count(text, code):
    data = f"{STOCK_HEADER}\r\nA,,5,EA,ok,2026-11-20 02:00:00\r\nB,,{text},EA,ok,2026-11-20 02:00:00\r\nC,,7,EA,ok,2026-11-20 02:00:00\r\n"
    rows, frame, found = both_readers(STOCK, data.encode())
    assert found == [(3, code, "quantity")]
    assert [r.values["quantity"] for r in rows] == [Decimal(5), None, Decimal(7)]
    assert list(frame["quantity"].fillna(-1)) == [5.0, -1, 7.0]
    (problem,) = rows[1].problems
    assert problem.message.startswith(f"qty_on_hand: {text!r} ")


@pytest.mark.parametrize("text", ["999999999999.9999", "-999999999999.9999", "1.50000", "0.0001", "1E+3", "+4", ".5", "0e999999"])
def test_numbers_the_ledger_can_hold_are_read(text):
    data = f"{STOCK_HEADER}\r\nB,,{text},EA,ok,2026-11-20 02:00:00\r\n"
    (row,), frame, found = both_readers(STOCK, data.encode())
    assert found == []
    assert row.values["quantity"] == Decimal(text)
    assert frame.loc[0, "quantity"] == float(Decimal(text))
    # what the reader lets through fits the ledger's quantities (Numeric(18, 4)) without an InvalidOperation
    assert row.values["quantity"].quantize(Decimal("0.0001")) == Decimal(text)


def test_the_readers_limits_are_the_ledgers_quantity_column():
    from threepl_bridge.formats import reader
    from threepl_bridge.ledger.models import QTY

    assert reader.MAX_PLACES == QTY.scale
    assert reader.MAX_INTEGER_DIGITS <= QTY.precision - QTY.scale


def test_integer_fields_refuse_huge_numbers_as_out_of_range():
    data = "order_ref,line,sku,qty_shipped,shipped_at\r\nWH/OUT/1,123456789012345678901234567890,S1,2,2026-11-02 10:00:00\r\n"
    (row,) = read_rows(DISPATCHES, data.encode(), LA)
    assert [(p.code, p.field) for p in row.problems] == [("FIELD_RANGE", "line_no")]
    assert row.values["line_no"] is None


def test_a_point_in_a_decimal_comma_layout_is_not_a_number():
    """'1.500' in a German file means fifteen hundred: reading it as one and a half would be silently wrong."""
    (row,) = read_rows(german(), b"Artikel;Menge\nA1;1.500\n", BERLIN)
    assert [(p.code, p.field) for p in row.problems] == [("FIELD_TYPE", "quantity")]
    assert "decimal separator is ','" in row.problems[0].message


@pytest.mark.parametrize("text", ["9999-12-31 23:59:59", "9999-12-31T23:00:00-05:00", "0001-01-01 00:00:00", "1900-01-01 00:00:00",
                                  "1999-12-31 23:59:59", "2100-01-01 00:00:00", "3026-11-20 02:00:00"])
def test_implausible_timestamps_are_out_of_range_in_both_readers(text):
    data = f"{STOCK_HEADER}\r\nA,,5,EA,ok,2026-11-20 02:00:00\r\nB,,3,EA,ok,{text}\r\n"
    rows, frame, found = both_readers(STOCK, data.encode())
    assert found == [(3, "FIELD_RANGE", "as_of")]
    assert rows[1].values["as_of"] is None
    assert "2000-01-01" in rows[1].problems[0].message and "2099-12-31" in rows[1].problems[0].message
    assert frame.loc[0, "as_of"] == datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["2000-01-01 00:00:00", "2099-12-31 23:59:59"])
def test_timestamps_at_the_edges_of_the_window_are_read(text):
    data = f"{STOCK_HEADER}\r\nA,,5,EA,ok,{text}\r\n"
    (row,), frame, found = both_readers(STOCK, data.encode())
    assert found == [] and row.values["as_of"] is not None
    assert frame.loc[0, "as_of"].to_pydatetime() == row.values["as_of"]


@pytest.mark.parametrize(("text", "code"), [("31.12.9999", "FIELD_RANGE"), ("01.01.0001", "FIELD_RANGE"), ("01.01.1900", "FIELD_RANGE"),
                                            ("31.12.2099", None), ("01.01.2000", None)])
def test_implausible_dates_are_out_of_range(text, code):
    rows, _, found = both_readers(german(), f"Artikel;Menge;Datum\nA1;1;{text}\n".encode(), BERLIN)
    assert found == ([(2, code, "requested_date")] if code else [])


def test_a_repeated_column_makes_the_file_unreadable_naming_it_and_both_positions():
    data = b"order_ref,line,sku,qty_shipped,shipped_at,qty_shipped\r\nWH/OUT/1,1,S1,2,2026-11-02 10:00:00,5\r\n"
    for read in (read_rows, read_frame):
        with pytest.raises(UnreadableFile) as exc:
            read(DISPATCHES, data, LA)
        assert str(exc.value) == "line 1: column 'qty_shipped' appears twice in the header (columns 4 and 6)"


def test_a_repeated_column_the_layout_does_not_use_is_tolerated():
    rows, _, found = both_readers(delimited(), b"sku,extra,name,extra,qty\r\nA1,x,n,y,2\r\n")
    assert values(rows) == [{"sku": "A1", "name": "n", "quantity": Decimal(2)}] and found == []


def test_read_frame_row_numbers_after_a_multiline_quoted_field_are_line_numbers():
    data = b'sku,name,qty\r\nA1,"two\r\nlines",1\r\nA2,x,oops\r\n'
    rows, frame, found = both_readers(delimited(), data)
    assert list(frame["row"]) == [2, 4]
    assert found == [(4, "FIELD_TYPE", "quantity")]


def test_read_frame_converts_dates_and_booleans_like_read_rows():
    layout = DelimitedLayout.model_validate({
        "name": "t_types", "format": "delimited",
        "fields": [{"name": "flag", "column": "flag", "type": "boolean"}, {"name": "d", "column": "d", "type": "date"}],
    })
    rows, frame, found = both_readers(layout, b"flag,d\r\nyes,2026-10-31\r\nmaybe,31/10/2026\r\n")
    assert [(r["flag"], r["d"]) for r in values(rows)] == [(True, date(2026, 10, 31)), (None, None)]
    assert list(frame["flag"]) == [True, None] and list(frame["d"]) == [date(2026, 10, 31), None]
    assert found == [(3, "FIELD_TYPE", "flag"), (3, "FIELD_TYPE", "d")]
