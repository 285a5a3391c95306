"""formats/codec.py: the writer of outbound files (format_value, check_row, encode), and its round trip with the reader."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from threepl_bridge.formats.codec import check_row, encode, format_decimal, format_value
from threepl_bridge.formats.reader import read_rows
from threepl_bridge.specs.loader import formats_dir, load_layout
from threepl_bridge.specs.models import DelimitedLayout, FixedWidthLayout

TZ = ZoneInfo("Europe/Berlin")
PRODUCTS = load_layout(formats_dir() / "layouts" / "demo3pl_products.yaml")  # utf-8, ",", CRLF, header
ORDERS = load_layout(formats_dir() / "layouts" / "demo3pl_orders.yaml")
ARTIKEL = load_layout(Path(__file__).resolve().parents[1] / "fixtures" / "partners" / "layouts" / "semi3pl_artikel.yaml")
# ARTIKEL: iso-8859-1, ";", LF, decimal ",", uom enum [EA, CS], sku max 20, name max 40

ITEM = {"sku": "CHAIR-1", "barcode": "4006381333931", "name": "Chair", "uom": "EA", "weight": Decimal("2.50"),
        "volume": None, "tracking": "none"}


def fixed() -> FixedWidthLayout:
    return FixedWidthLayout.model_validate({
        "name": "t_fixed", "format": "fixed_width", "encoding": "iso-8859-1", "line_terminator": "\n",
        "fields": [
            {"name": "sku", "column": "ART", "start": 1, "length": 6, "required": True},
            {"name": "quantity", "column": "QTY", "type": "integer", "start": 7, "length": 5, "align": "right", "pad": "0"},
            {"name": "name", "column": "NAME", "start": 12, "length": 8},
            {"name": "requested_date", "column": "DATE", "type": "date", "start": 22, "length": 8, "format": "%Y%m%d"},
        ],
    })


def codes(problems):
    return [(p.code, p.field) for p in problems]


# ------------------------------------------------------------------------------------------ values


@pytest.mark.parametrize(("value", "separator", "expected"), [
    (2, ".", "2"), (Decimal("2.000"), ".", "2"), (Decimal("2.50"), ".", "2.5"), (1.25, ",", "1,25"),
    (Decimal("1E+2"), ".", "100"), (Decimal("0.0001"), ".", "0.0001"), ("-3.10", ",", "-3,1"),
])
def test_format_decimal(value, separator, expected):
    assert format_decimal(value, separator) == expected


def test_format_value_per_field_type():
    assert format_value(ORDERS, ORDERS.field("quantity"), Decimal("3.0")) == "3"
    assert format_value(ORDERS, ORDERS.field("requested_date"), "2026-10-31T08:00:00") == "2026-10-31"
    assert format_value(ORDERS, ORDERS.field("requested_date"), date(2026, 1, 2)) == "2026-01-02"
    assert format_value(ARTIKEL, ARTIKEL.field("weight"), Decimal("0.75")) == "0,75"
    assert format_value(fixed(), fixed().field("requested_date"), date(2026, 10, 31)) == "20261031"  # the field's own format
    for empty in (None, False, ""):
        assert format_value(ORDERS, ORDERS.field("sku"), empty) == ""
    with pytest.raises(ValueError, match="not a whole number"):
        format_value(ORDERS, ORDERS.field("quantity"), Decimal("1.5"))


def test_format_value_datetime_and_boolean():
    layout = DelimitedLayout.model_validate({
        "name": "t_types", "format": "delimited", "datetime_format": "%d.%m.%Y %H:%M",
        "fields": [{"name": "at", "column": "at", "type": "datetime"}, {"name": "flag", "column": "flag", "type": "boolean"}],
    })
    assert format_value(layout, layout.field("at"), datetime(2026, 11, 2, 9, 5)) == "02.11.2026 09:05"
    assert format_value(layout, layout.field("at"), "2026-11-02T09:05:00") == "02.11.2026 09:05"
    assert format_value(layout, layout.field("flag"), True) == "1"
    assert format_value(layout, layout.field("flag"), 0) == "0"


# ----------------------------------------------------------------------------------------- check_row


def test_a_clean_row_has_no_problems():
    assert check_row(PRODUCTS, ITEM) == []


def test_check_row_reports_each_constraint_with_field_and_column():
    row = {**ITEM, "sku": "X" * 41, "barcode": "40063813339AB", "name": "", "uom": None, "weight": Decimal("-1"),
           "tracking": "batch"}
    problems = check_row(PRODUCTS, row)
    assert codes(problems) == [
        ("FIELD_TOO_LONG", "sku"), ("FIELD_PATTERN", "barcode"), ("FIELD_REQUIRED", "name"), ("FIELD_REQUIRED", "uom"),
        ("FIELD_RANGE", "weight"), ("FIELD_ENUM", "tracking"),
    ]
    messages = {p.field: p.message for p in problems}
    assert messages["sku"] == f"sku: {'X' * 41!r} is longer than 40"
    assert messages["barcode"] == "barcode: '40063813339AB' does not match ^[0-9]*$"
    assert messages["name"] == "description is required"  # the 3PL's column name, not the canonical one
    assert messages["weight"] == "weight_kg: -1 is outside [0, None]"
    assert messages["tracking"] == "tracking: 'batch' is not one of ['none', 'lot', 'serial']"


def test_check_row_type_problem():
    row = {"order_ref": "WH/OUT/1", "line_no": 1, "sku": "S", "quantity": Decimal("1.5"), "uom": "EA", "ship_name": "n",
           "ship_street": "s", "ship_city": "c", "ship_zip": "z", "ship_country": "DE"}
    (problem,) = check_row(ORDERS, row)
    assert (problem.code, problem.field) == ("FIELD_TYPE", "quantity")
    assert problem.message.startswith("qty: ") and "'1.5') is not a whole number" in problem.message


def test_fixed_width_length_is_the_limit():
    (problem,) = check_row(fixed(), {"sku": "TOOLONG", "quantity": 1})
    assert (problem.code, problem.field) == ("FIELD_TOO_LONG", "sku")
    assert "longer than 6" in problem.message


def test_character_not_in_the_encoding_is_reported_before_writing():
    row = {"sku": "A1", "name": "Łódź €", "uom": "EA", "tracking": "none"}
    (problem,) = check_row(ARTIKEL, row)
    assert (problem.code, problem.field) == ("ENCODING_UNSUPPORTED", "name")
    assert problem.message == "Bezeichnung: 'Ł' cannot be written in iso-8859-1 (value 'Łódź €')"
    assert check_row(ARTIKEL, {**row, "name": "Müller Größe"}) == []  # Latin-1 letters are fine


def test_encoding_error_on_write_raises():
    with pytest.raises(UnicodeEncodeError):
        encode(ARTIKEL, [{"sku": "A1", "name": "€ euro", "uom": "EA", "tracking": "none"}])


def test_boolean_false_is_written_as_zero():
    layout = DelimitedLayout.model_validate({
        "name": "t_bool", "format": "delimited",
        "fields": [{"name": "sku", "column": "sku"}, {"name": "flag", "column": "flag", "type": "boolean", "required": True}],
    })
    assert check_row(layout, {"sku": "A", "flag": False}) == []
    assert encode(layout, [{"sku": "A", "flag": False}]) == b"sku,flag\r\nA,0\r\n"


def test_value_that_cannot_be_written_without_quoting_is_held_back_by_check_row():
    layout = DelimitedLayout.model_validate({
        "name": "t_noquote", "format": "delimited", "quoting": "none",
        "fields": [{"name": "sku", "column": "sku"}, {"name": "name", "column": "name"}],
    })
    row = {"sku": "A1", "name": "Chair, oak"}
    if check_row(layout, row):
        return  # held back: fine
    encode(layout, [row])  # otherwise it must be writable


@pytest.mark.parametrize("name", ["Chair, oak", 'the "best"', "two\nlines", "cr\rhere"])
def test_without_quoting_a_delimiter_quote_or_line_break_is_held_back_naming_the_column(name):
    layout = DelimitedLayout.model_validate({
        "name": "t_noquote", "format": "delimited", "quoting": "none",
        "fields": [{"name": "sku", "column": "sku"}, {"name": "name", "column": "Bezeichnung"}],
    })
    (problem,) = check_row(layout, {"sku": "A1", "name": name})
    assert (problem.code, problem.field) == ("FIELD_NOT_WRITABLE", "name")
    assert problem.message.startswith(f"Bezeichnung: {name!r} holds ")
    escaped = DelimitedLayout.model_validate({**layout.model_dump(), "escapechar": "\\"})
    assert check_row(escaped, {"sku": "A1", "name": name}) == []  # an escape character carries it
    assert read_rows(escaped, encode(escaped, [{"sku": "A1", "name": name}]), TZ)[0].values["name"] == name


def test_a_line_break_in_a_fixed_width_value_is_held_back():
    (problem,) = check_row(fixed(), {"sku": "A1", "quantity": 1, "name": "a\nb"})
    assert (problem.code, problem.field) == ("FIELD_NOT_WRITABLE", "name")


def test_boolean_false_reads_back_as_false_and_false_elsewhere_is_still_no_value():
    layout = DelimitedLayout.model_validate({
        "name": "t_bool", "format": "delimited",
        "fields": [{"name": "sku", "column": "sku", "required": True}, {"name": "flag", "column": "flag", "type": "boolean"}],
    })
    assert _read_back(layout, [{"sku": "A", "flag": False}, {"sku": "B", "flag": True}]) == [{"sku": "A", "flag": False}, {"sku": "B", "flag": True}]
    assert codes(check_row(layout, {"sku": False, "flag": True})) == [("FIELD_REQUIRED", "sku")]  # Odoo's False: no value


def test_zero_padded_negative_numbers_keep_the_sign_in_front_and_round_trip():
    layout = FixedWidthLayout.model_validate({
        "name": "t_signed", "format": "fixed_width", "line_terminator": "\n",
        "fields": [{"name": "quantity", "column": "QTY", "type": "decimal", "start": 1, "length": 7, "align": "right", "pad": "0"}],
    })
    assert encode(layout, [{"quantity": Decimal("-5.5")}, {"quantity": 3}, {"quantity": None}]) == b"-0005.5\n0000003\n       \n"
    assert _read_back(layout, [{"quantity": Decimal("-5.5")}, {"quantity": Decimal(3)}]) == [{"quantity": Decimal("-5.5")}, {"quantity": Decimal(3)}]


def test_empty_values_in_a_fixed_width_file_are_blank_whatever_the_pad():
    layout = FixedWidthLayout.model_validate({
        "name": "t_pads", "format": "fixed_width", "line_terminator": "\n",
        "fields": [{"name": "sku", "column": "ART", "start": 1, "length": 4, "pad": "."},
                   {"name": "quantity", "column": "QTY", "type": "integer", "start": 5, "length": 3, "align": "right", "pad": "0"}],
    })
    assert encode(layout, [{"sku": "AB", "quantity": None}, {"sku": None, "quantity": 0}]) == b"AB..   \n    000\n"
    assert _read_back(layout, [{"sku": "AB", "quantity": None}, {"sku": None, "quantity": 0}]) == [
        {"sku": "AB", "quantity": None}, {"sku": None, "quantity": 0}]


def test_negative_zero_padded_number_round_trips_or_is_held_back():
    row = {"sku": "A1", "quantity": -5}
    if check_row(fixed(), row):
        return
    (back,) = read_rows(fixed(), encode(fixed(), [row]), TZ)
    assert back.problems == [] and back.values["quantity"] == -5


def test_empty_value_in_a_zero_padded_field_stays_empty():
    (back,) = read_rows(fixed(), encode(fixed(), [{"sku": "A1", "quantity": None}]), TZ)
    assert back.values["quantity"] is None


# -------------------------------------------------------------------------------------------- encode


def test_delimited_file_bytes_with_header_crlf_and_minimal_quoting():
    rows = [
        ITEM,
        {**ITEM, "sku": "SOFA-2", "barcode": None, "name": 'Sofa, 3 seats "Oslo"', "weight": 12, "volume": Decimal("1.250")},
        {**ITEM, "sku": "LAMP-3", "barcode": False, "name": "Lamp\nwith cord", "weight": None},
    ]
    assert encode(PRODUCTS, rows) == (
        b"sku,barcode,description,uom,weight_kg,volume_m3,tracking\r\n"
        b"CHAIR-1,4006381333931,Chair,EA,2.5,,none\r\n"
        b'SOFA-2,,"Sofa, 3 seats ""Oslo""",EA,12,1.25,none\r\n'
        b'LAMP-3,,"Lamp\nwith cord",EA,,,none\r\n'
    )


def test_iso_8859_1_semicolon_lf_and_decimal_comma():
    data = encode(ARTIKEL, [{"sku": "A1", "name": "Müller; Stuhl", "uom": "EA", "barcode": "", "weight": Decimal("1.5"),
                             "tracking": "none"}])
    assert data == b'Artikelnummer;Bezeichnung;Einheit;EAN;Gewicht;Charge\nA1;"M\xfcller; Stuhl";EA;;1,5;none\n'


def test_no_header_and_quote_all():
    layout = DelimitedLayout.model_validate({
        "name": "t_all", "format": "delimited", "header": False, "quoting": "all", "line_terminator": "\n",
        "fields": [{"name": "sku", "column": "sku"}, {"name": "quantity", "column": "qty", "type": "integer"}],
    })
    assert encode(layout, [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": None}]) == b'"A","2"\n"B",""\n'


def test_utf8_sig_layout_writes_a_bom():
    layout = DelimitedLayout.model_validate({"name": "t_sig", "format": "delimited", "encoding": "utf-8-sig",
                                             "fields": [{"name": "sku", "column": "sku"}]})
    assert encode(layout, [{"sku": "Ä"}]) == b"\xef\xbb\xbfsku\r\n\xc3\x84\r\n"


def test_empty_run_writes_only_the_header():
    assert encode(PRODUCTS, []) == b"sku,barcode,description,uom,weight_kg,volume_m3,tracking\r\n"
    assert encode(fixed(), []) == b""


def test_encode_is_deterministic():
    assert encode(PRODUCTS, [ITEM, ITEM]) == encode(PRODUCTS, [dict(reversed(list(ITEM.items())))] * 2)


def test_fixed_width_bytes():
    data = encode(fixed(), [
        {"sku": "A1", "quantity": 12, "name": "Müller", "requested_date": date(2026, 10, 31)},
        {"sku": "B2", "quantity": 0, "name": None, "requested_date": None},
    ])
    assert data == b"A1    00012M\xfcller    20261031\n" + b"B2    00000" + b" " * 18 + b"\n"  # 20-21: a gap


def test_fixed_width_value_too_long_raises_on_write():
    with pytest.raises(ValueError, match="does not fit in 6 characters"):
        encode(fixed(), [{"sku": "TOOLONG"}])


# ---------------------------------------------------------------------------------------- round trip


def _read_back(layout, rows):
    parsed = read_rows(layout, encode(layout, rows), TZ)
    assert [p for r in parsed for p in r.problems] == []
    return [r.values for r in parsed]


def test_round_trip_products():
    rows = [
        {**ITEM, "weight": Decimal("2.5"), "volume": Decimal("0.125")},
        {"sku": "SOFA-2", "barcode": None, "name": 'Sofa, 3 seats "Oslo"\r\nsecond line', "uom": "CS12", "weight": Decimal(12),
         "volume": None, "tracking": "lot"},
    ]
    assert _read_back(PRODUCTS, rows) == rows


def test_round_trip_iso_8859_1_semicolon_decimal_comma():
    rows = [
        {"sku": "A1", "name": "Müller; \"Größe\" L", "uom": "EA", "barcode": None, "weight": Decimal("1.5"), "tracking": "none"},
        {"sku": "B2", "name": "Çà et là", "uom": "CS", "barcode": "96385074", "weight": Decimal("-0.25"), "tracking": "lot"},
    ]
    assert all(check_row(ARTIKEL, r) == [] for r in rows)
    assert _read_back(ARTIKEL, rows) == rows


def test_round_trip_orders_with_dates_and_integers():
    row = {"order_ref": "WH/OUT/00042", "line_no": 1, "sku": "CHAIR-1", "barcode": None, "quantity": 3, "uom": "EA",
           "sale_order": "S00042", "customer_ref": None, "ship_name": "Anna Müller", "ship_street": "Hauptstr. 1",
           "ship_street2": None, "ship_city": "Köln", "ship_zip": "50667", "ship_state": None, "ship_country": "DE",
           "ship_phone": "+49 221 1234", "carrier": None, "carrier_service": None, "requested_date": date(2026, 11, 3)}
    assert check_row(ORDERS, row) == []
    assert _read_back(ORDERS, [row]) == [row]


def test_round_trip_fixed_width():
    rows = [{"sku": "A1", "quantity": 12, "name": "Müller", "requested_date": date(2026, 10, 31)},
            {"sku": "B2", "quantity": 0, "name": None, "requested_date": None}]
    assert _read_back(fixed(), rows) == rows
