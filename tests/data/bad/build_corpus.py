"""Writes the bad-input corpus (tests/data/bad/<kind>/<partner>/<name>) and its MANIFEST.yaml.

The files are the corpus; this script only makes them reproducible (bytes such as NULs, BOMs, UTF-16 or CR-only
line ends are awkward to edit by hand). Run it after changing a case: ``.venv/bin/python tests/data/bad/build_corpus.py``;
commit the files and the manifest it writes. tests/test_bad_corpus.py runs every file of the manifest.

Placeholders in a file (substituted by the test, see the manifest's header):
``{ORDER_<X>}`` a released order of 2 x FURN_7800, ``{LOTS_<X>}`` a released order of 10 x FURN_5555 (lot-tracked),
``{UNRELEASED}`` an order confirmed after the release run (never released), ``{HELD_ROWS}`` (stock) one matching
line per quant Odoo holds in 3PL/Stock, in the file's own line ends, except the SKUs the file names itself (and
those in the case's ``held_skip``).
"""

from __future__ import annotations

from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
CASES: list[dict] = []

# ------------------------------------------------------------------------------------------- demo3pl dispatches
DH = "order_ref,line,sku,barcode,qty_shipped,uom,lot,shipped_at,carrier,tracking_no,parcel_id"
AT = "2026-11-20 00:30:00"  # Los Angeles, before the run (RUN_AT 09:30 UTC)


def drow(order: str, *, line="1", sku="FURN_7800", barcode="", qty="2", uom="EA", lot="", at=AT, carrier="The Poste",
         tracking="TP1", parcel="P1") -> str:
    return ",".join([order, line, sku, barcode, qty, uom, lot, at, carrier, tracking, parcel])


def case(kind: str, partner: str, name: str, data: bytes, attack: str, *, file: str | None = None, rows: dict | None = None,
         **extra) -> None:
    entry = {"file": f"{kind}/{partner}/{name}", "kind": kind, "partner": partner, "attack": attack}
    if file:
        entry["file_code"] = file
    entry["rows"] = rows or {}
    entry.update(extra)
    CASES.append((entry, data))


def dcsv(*lines: str, header: str = DH, nl: str = "\r\n") -> bytes:
    return (nl.join([header, *lines]) + nl).encode("utf-8")


def d(name: str, attack: str, data: bytes, **kw) -> None:
    case("dispatches", "demo3pl", f"DISPATCH_{name}.csv", data, attack, **kw)


UNREADABLE = "DISPATCH_FILE_UNREADABLE"
INVALID = "DISPATCH_FIELD_INVALID"

# encodings
d("latin1", "ISO-8859-1 bytes (Soci\\xe9t\\xe9) in a UTF-8 layout", (DH + "\r\n" + drow("{ORDER_LATIN1}", carrier="Société") + "\r\n").encode("latin-1"),
  file=UNREADABLE)
d("utf16_bom", "the whole file in UTF-16 with a BOM", dcsv(drow("{ORDER_UTF16}")).decode().encode("utf-16"), file=UNREADABLE)
d("utf16_nobom", "the whole file in UTF-16-LE without a BOM (every other byte NUL)", dcsv(drow("{ORDER_UTF16LE}")).decode().encode("utf-16-le"),
  file=UNREADABLE)
d("bom_middle", "a UTF-8 BOM at the start of the second data line (glued to the order reference)",
  dcsv(drow("{ORDER_BOMOK}"), "\ufeff" + drow("{ORDER_BOMMID}", parcel="P2")), rows={3: "DISPATCH_UNKNOWN_ORDER"})
d("invalid_utf8", "bytes that are not UTF-8 (\\xc3\\x28) in the carrier", dcsv(drow("{ORDER_BADUTF}", carrier="X__Y")).replace(b"X__Y", b"X\xc3\x28Y"),
  file=UNREADABLE)
d("nul_in_tracking", "a NUL byte inside the tracking number (PostgreSQL text cannot hold it)",
  dcsv(drow("{ORDER_NUL}", tracking="TP\x001")), rows={2: INVALID})
d("nul_in_sku", "a NUL byte inside the SKU", dcsv(drow("{ORDER_NULSKU}", sku="FURN\x007800")), rows={2: INVALID})
# shape
d("empty", "an empty file (0 bytes)", b"", file=UNREADABLE)
d("blank_lines", "only blank lines", b"\r\n\r\n  \r\n", file=UNREADABLE)
d("header_only", "the header and no row: nothing to post, nothing to fail", dcsv(), rows={}, rows_total=0)
d("no_header", "data rows without the header line", ("\r\n".join([drow("{ORDER_NOHEAD}"), drow("{ORDER_NOHEAD}", parcel="P2")]) + "\r\n").encode(),
  file=UNREADABLE)
d("wrong_delimiter", "';' instead of ','", dcsv(drow("{ORDER_SEMI}").replace(",", ";"), header=DH.replace(",", ";")), file=UNREADABLE)
d("ragged_short", "a row with 9 fields instead of 11", dcsv(",".join(drow("{ORDER_SHORT}").split(",")[:9])), rows={2: INVALID})
d("ragged_long", "a row with 13 fields instead of 11", dcsv(drow("{ORDER_LONG}") + ",x,y"), rows={2: INVALID})
d("unbalanced_quote", "an opening quote never closed (the rest of the file is one field)",
  dcsv(drow("{ORDER_QUOTE}", carrier='"The Poste'), drow("{ORDER_QUOTE2}")), file=UNREADABLE)
d("multiline_field", "a quoted carrier spanning two lines; the next row's number is its line (4), not its record (3)",
  dcsv(drow("{ORDER_MULTI}", carrier='"The\r\nPoste"'), drow("{ORDER_MULTI2}", qty="-2")), rows={4: "DISPATCH_QTY_NOT_POSITIVE"})
d("repeated_column", "qty_shipped twice in the header", dcsv(drow("{ORDER_REPEAT}") + ",5", header=DH + ",qty_shipped"), file=UNREADABLE)
d("missing_required_column", "no shipped_at column", dcsv(",".join(drow("{ORDER_MISSCOL}").split(",")[:7] + drow("{ORDER_MISSCOL}").split(",")[8:]),
  header=DH.replace(",shipped_at", "")), file=UNREADABLE)
d("extra_column", "an extra column the layout does not know (ignored)", dcsv(drow("{ORDER_EXTRA}") + ",note", header=DH + ",warehouse_note"))
d("lf_only", "LF line ends", dcsv(drow("{ORDER_LF}"), nl="\n"))
d("cr_only", "CR-only line ends (old Mac)", dcsv(drow("{ORDER_CR}"), nl="\r"))
d("very_long_field", "a 20,000-character SKU", dcsv(drow("{ORDER_LONGSKU}", sku="X" * 20000)), rows={2: "DISPATCH_SKU_NOT_ON_PICKING"})
# quantities
for tag, qty, code, attack in [
    ("qty_negative", "-2", "DISPATCH_QTY_NOT_POSITIVE", "a negative quantity"),
    ("qty_zero", "0", "DISPATCH_QTY_NOT_POSITIVE", "a zero quantity"),
    ("qty_decimal_comma", '"1,5"', INVALID, "a decimal comma in a '.' layout (quoted)"),
    ("qty_1e308", "1e308", INVALID, "1e308 (overflows the ledger)"),
    ("qty_inf", "inf", INVALID, "inf"),
    ("qty_nan", "nan", INVALID, "nan"),
    ("qty_30_digits", "1" * 30, INVALID, "a 30-digit quantity"),
    ("qty_underscore", "1_000", INVALID, "1_000 (Python accepts it, a 3PL file must not)"),
    ("qty_hex", "0x10", INVALID, "0x10"),
    ("qty_arabic_digits", "\u0662", INVALID, "an Arabic-Indic digit two"),
    ("qty_fullwidth_digits", "\uff12", INVALID, "a full-width digit two"),
    ("qty_5_places", "1.00001", INVALID, "more than 4 decimal places"),
]:
    d(tag, attack, dcsv(drow("{ORDER_" + tag.upper() + "}", qty=qty)), rows={2: code})
# dates
for tag, at, code, attack in [
    ("date_9999", "9999-12-31 23:59:59", INVALID, "9999-12-31 (overflows on conversion)"),
    ("date_0001", "0001-01-01 00:00:00", INVALID, "year 0001"),
    ("date_1900", "1900-01-01 00:00:00", INVALID, "year 1900"),
    ("date_wrong_format", "20/11/2026 00:30", INVALID, "day/month/year in a %Y-%m-%d layout"),
    ("date_future", "2026-11-21 10:00:00", "DISPATCH_FUTURE_DATE", "shipped tomorrow"),
]:
    d(tag, attack, dcsv(drow("{ORDER_" + tag.upper() + "}", at=at)), rows={2: code})
d("date_dst_skipped", "02:30 on 2026-03-08 never happens in Los Angeles (clocks jump 02:00 -> 03:00): accepted with the offset "
  "before the change, 10:30 UTC, as docs/partner-spec.md says", dcsv(drow("{ORDER_DATE_DST_SKIPPED}", at="2026-03-08 02:30:00")))
d("date_iso_offset", "an ISO timestamp with an offset (accepted)", dcsv(drow("{ORDER_ISO}", at="2026-11-20T00:30:00-08:00")))
d("date_dst_ambiguous", "01:30 on 2026-11-01 happens twice in Los Angeles (accepted: its first occurrence)",
  dcsv(drow("{ORDER_AMBIG}", at="2026-11-01 01:30:00")))
# SKUs
d("sku_trailing_space", "a trailing space after the SKU (whitespace is trimmed: accepted)", dcsv(drow("{ORDER_TRAIL}", sku='"FURN_7800 "')))
for tag, sku, attack in [
    ("sku_cyrillic", "FURN_78\u041e\u041e", "Cyrillic capital O for the zeros"),
    ("sku_zero_width", "FURN_\u200b7800", "a zero-width space inside the SKU"),
    ("sku_case", "furn_7800", "the SKU in lower case"),
    ("sku_unknown", "NOPE_0001", "a SKU Odoo does not know"),
    ("sku_barcode", "4006381333931", "FURN_7800's barcode in the SKU column"),
]:
    d(tag, attack, dcsv(drow("{ORDER_" + tag.upper() + "}", sku=sku)), rows={2: "DISPATCH_SKU_NOT_ON_PICKING"})
# units, lots, orders
d("uom_unknown", "a unit the partner does not map (BOX)", dcsv(drow("{ORDER_UOMX}", uom="BOX")), rows={2: "DISPATCH_UNKNOWN_UOM"})
d("uom_case", "the unit in lower case (ea)", dcsv(drow("{ORDER_UOMCASE}", uom="ea")), rows={2: "DISPATCH_UNKNOWN_UOM"})
d("lot_missing", "a lot-tracked product shipped without a lot", dcsv(drow("{LOTS_MISSING}", sku="FURN_5555", qty="10")), rows={2: "DISPATCH_LOT_MISSING"})
d("lot_unknown", "a lot Odoo does not know", dcsv(drow("{LOTS_UNKNOWN}", sku="FURN_5555", qty="10", lot="LOT-ZZ")), rows={2: "DISPATCH_LOT_UNKNOWN"})
d("order_unknown", "an order reference Odoo does not know", dcsv(drow("WH/OUT/99999")), rows={2: "DISPATCH_UNKNOWN_ORDER"})
d("order_not_released", "an order that was never released to the 3PL", dcsv(drow("{UNRELEASED}")), rows={2: "DISPATCH_NOT_RELEASED"})
d("duplicate_row", "the same line twice (same order, line, lot, parcel)", dcsv(drow("{ORDER_DUP}", qty="1"), drow("{ORDER_DUP}", qty="1")),
  rows={2: "DISPATCH_DUPLICATE_ROW", 3: "DISPATCH_DUPLICATE_ROW"})
d("over_shipment", "3 shipped of 2 ordered", dcsv(drow("{ORDER_OVER}", qty="3")), rows={2: "DISPATCH_OVER_SHIPMENT"})
d("order_held", "one bad line holds the order's good line", dcsv(drow("{ORDER_HELD}", qty="1"), drow("{ORDER_HELD}", line="2", qty="x", parcel="P2")),
  rows={2: "DISPATCH_ORDER_HELD", 3: INVALID})
# formula injection: stored and posted as text
d("formula_text", "spreadsheet formulas in carrier, tracking and parcel (stored as text; posted)",
  dcsv(drow("{ORDER_FORMULA}", carrier='"=HYPERLINK(""http://evil.example/"",""x"")"', tracking="+cmd|' /C calc'!A0", parcel="@SUM(1)")),
  stored={2: {"tracking_ref": "+cmd|' /C calc'!A0", "parcel": "@SUM(1)"}})
# file names and size
d("with space \u00fc", "a file name with spaces and a non-ASCII letter (allowed)", dcsv(drow("{ORDER_NAMEOK}")))
d("newline_name", "a newline in the file name (quarantined unread)", dcsv(drow("{ORDER_NEWLINE}")), file=UNREADABLE, remote_name="DISPATCH_new\nline.csv")
d("backslash_name", "a backslash in the file name (quarantined unread)", dcsv(drow("{ORDER_BACKSLASH}")), file=UNREADABLE,
  remote_name="DISPATCH_back\\slash.csv")
d("oversize", "a file over THREEPL_MAX_FILE_MB (the group runs with 0.05 MB)",
  dcsv(*[drow("{ORDER_BIG}", line=str(i), qty="1", parcel=f"P{i}") for i in range(1, 1001)]), file=UNREADABLE)

# ---------------------------------------------------------------------------------------------- semi3pl dispatches
SH = "Auftrag;Pos;Artikel;Menge;ME;Charge;Versandzeit;Spediteur;Sendungsnummer"
SAT = "20.11.2026 09:30"  # Berlin


def srow(order: str, *, qty="2", sku="FURN_7800", at=SAT, carrier="Die Post", lot="") -> str:
    return ";".join([order, "1", sku, qty, "EA", lot, at, carrier, "DP1"])


def scsv(*lines: str, header: str = SH, nl: str = "\n", encoding: str = "iso-8859-1") -> bytes:
    return (nl.join([header, *lines]) + nl).encode(encoding)


def s(name: str, attack: str, data: bytes, **kw) -> None:
    case("dispatches", "semi3pl", f"VERSAND_{name}.txt", data, attack, **kw)


s("latin1_umlaut", "ISO-8859-1 umlauts in the carrier (the layout's own encoding: accepted)", scsv(srow("{ORDER_S_LATIN}", carrier="Müller Spedition")))
s("utf16_bom", "the whole file in UTF-16 with a BOM (readable as ISO-8859-1 bytes, so the header is garbage)",
  scsv(srow("{ORDER_S_UTF16}")).decode("iso-8859-1").encode("utf-16"), file=UNREADABLE)
s("comma_delimiter", "',' instead of ';'", scsv(srow("{ORDER_S_COMMA}").replace(";", ","), header=SH.replace(";", ",")), file=UNREADABLE)
s("qty_decimal_dot", "a decimal dot in a ',' layout (1.5 could mean 1500)", scsv(srow("{ORDER_S_DOT}", qty="1.5")), rows={2: INVALID})
s("qty_decimal_comma", "a decimal comma in the ',' layout (accepted)", scsv(srow("{ORDER_S_COMMAOK}", qty="2,0")))
s("qty_negative", "a negative quantity", scsv(srow("{ORDER_S_NEG}", qty="-2")), rows={2: "DISPATCH_QTY_NOT_POSITIVE"})
s("qty_5_places", "five decimal places with a comma", scsv(srow("{ORDER_S_PLACES}", qty="1,00001")), rows={2: INVALID})
s("date_us_format", "a US date in a %d.%m.%Y layout", scsv(srow("{ORDER_S_USDATE}", at="11/20/2026 09:30")), rows={2: INVALID})
s("date_future", "shipped next month", scsv(srow("{ORDER_S_FUT}", at="20.12.2026 09:30")), rows={2: "DISPATCH_FUTURE_DATE"})
s("ragged", "a row with 7 fields instead of 9", scsv(";".join(srow("{ORDER_S_RAG}").split(";")[:7])), rows={2: INVALID})
s("repeated_column", "Menge twice in the header", scsv(srow("{ORDER_S_REP}") + ";5", header=SH + ";Menge"), file=UNREADABLE)
s("quoted_semicolon", "a quoted ';' inside the carrier (accepted)", scsv(srow("{ORDER_S_QUOTED}", carrier='"Post; Express"')))
s("crlf", "CRLF line ends in an LF layout (accepted)", scsv(srow("{ORDER_S_CRLF}"), nl="\r\n"))
s("order_unknown", "an order Odoo does not know", scsv(srow("WH/OUT/99999")), rows={2: "DISPATCH_UNKNOWN_ORDER"})
s("over_shipment", "3 shipped of 2", scsv(srow("{ORDER_S_OVER}", qty="3")), rows={2: "DISPATCH_OVER_SHIPMENT"})
s("sku_cyrillic", "Cyrillic O for the zeros, in UTF-8 bytes read as ISO-8859-1", scsv(srow("{ORDER_S_CYR}", sku="FURN_78ОО"), encoding="utf-8"),
  rows={2: "DISPATCH_SKU_NOT_ON_PICKING"})

# ------------------------------------------------------------------------------------------------- demo3pl stock
TH = "sku,lot,qty_on_hand,uom,status,snapshot_at"
TAT = "2026-11-20 01:10:00"  # Los Angeles: after the stand-in's stock was booked, before the run


def trow(sku: str, *, lot="", qty="5", uom="EA", status="ok", at=TAT) -> str:
    return ",".join([sku, lot, qty, uom, status, at])


def tcsv(*lines: str, header: str = TH, nl: str = "\r\n", held: bool = True) -> bytes:
    return (nl.join([header, *lines, *(["{HELD_ROWS}"] if held else [])]) + nl).encode("utf-8")


def t(name: str, attack: str, data: bytes, **kw) -> None:
    case("stock", "demo3pl", f"STOCK_{name}.csv", data, attack, **kw)


SU, SI = "STOCK_FILE_UNREADABLE", "STOCK_FIELD_INVALID"
t("latin1", "ISO-8859-1 bytes in a UTF-8 layout", (TH + "\r\n" + trow("FURN_7800", qty="500", status="entrepôt") + "\r\n").encode("latin-1"), file=SU)
t("utf16_bom", "the whole file in UTF-16 with a BOM", tcsv(trow("FURN_7800", qty="500"), held=False).decode().encode("utf-16"), file=SU)
t("nul_bytes", "NUL bytes in the status", tcsv(trow("FURN_7800", qty="500", status="o\x00k")), rows={2: SI})
t("empty", "an empty file", b"", file=SU)
t("header_only", "the header and no row: nothing to count, never a write-off of everything", tcsv(held=False), file="STOCK_SNAPSHOT_EMPTY",
  rows_total=0)
t("no_header", "rows without the header", ("\r\n".join([trow("FURN_7800", qty="500")]) + "\r\n").encode(), file=SU)
t("wrong_delimiter", "';' instead of ','", tcsv(trow("FURN_7800", qty="500").replace(",", ";"), header=TH.replace(",", ";"), held=False), file=SU)
t("ragged", "a row with 4 fields", tcsv("FURN_7800,,500,EA"), rows={2: SI})
t("repeated_column", "qty_on_hand twice", tcsv(trow("FURN_7800", qty="500") + ",1", header=TH + ",qty_on_hand", held=False), file=SU)
t("missing_required_column", "no snapshot_at column", tcsv("FURN_7800,,500,EA,ok", header="sku,lot,qty_on_hand,uom,status", held=False), file=SU)
t("qty_negative", "a negative count", tcsv(trow("FURN_7800", qty="-1")), rows={2: "STOCK_QTY_NEGATIVE"})
t("qty_decimal_comma", "a decimal comma (quoted) in a '.' layout", tcsv(trow("FURN_7800", qty='"499,5"')), rows={2: SI})
t("qty_1e308", "1e308", tcsv(trow("FURN_7800", qty="1e308")), rows={2: SI})
t("qty_nan", "nan", tcsv(trow("FURN_7800", qty="nan")), rows={2: SI})
t("qty_fullwidth", "full-width digits", tcsv(trow("FURN_7800", qty="\uff15\uff10\uff10")), rows={2: SI})
t("date_9999", "9999-12-31", tcsv(trow("FURN_7800", qty="500", at="9999-12-31 00:00:00")), rows={2: SI})
t("date_0001", "year 0001", tcsv(trow("FURN_7800", qty="500", at="0001-01-01 00:00:00")), rows={2: SI})
t("date_future", "counted tomorrow", tcsv(trow("FURN_7800", qty="500", at="2026-11-21 01:10:00")), rows={2: "STOCK_FUTURE_DATE"})
t("all_dates_wrong_format", "every timestamp in another format: no valid row, nothing reconciled at the wall clock",
  tcsv(trow("FURN_7800", qty="500", at="20.11.2026 01:10"), trow("E-COM11", qty="300", at="20.11.2026 01:10"), held=False),
  file="STOCK_NO_VALID_ROWS", rows={2: SI, 3: SI})
t("uom_unknown", "a unit the partner does not map", tcsv(trow("FURN_7800", qty="500", uom="BOX")), rows={2: "STOCK_UNKNOWN_UOM"})
t("uom_case", "the unit in lower case", tcsv(trow("FURN_7800", qty="500", uom="ea")), rows={2: "STOCK_UNKNOWN_UOM"})
t("duplicate_row", "the same SKU and lot twice", tcsv(trow("FURN_7800", qty="250"), trow("FURN_7800", qty="250")),
  rows={2: "STOCK_DUPLICATE_ROW", 3: "STOCK_DUPLICATE_ROW"})
t("lot_missing", "a lot-tracked product counted without a lot", tcsv(trow("FURN_5555", qty="3")), rows={2: "STOCK_LOT_MISSING"})
t("lot_unknown", "a lot Odoo does not know, counted next to the product's real lots", tcsv(trow("FURN_5555", lot="LOT-ZZ", qty="1")),
  rows={2: "STOCK_LOT_UNKNOWN"}, held_keep=["FURN_5555"], own_run=True)
t("sku_unknown", "a SKU Odoo does not know", tcsv(trow("NOPE_0001")), rows={2: "STOCK_UNKNOWN_SKU"})
t("sku_cyrillic", "FURN_7800 counted under a Cyrillic lookalike SKU (and so missing under its own): never a write-off",
  tcsv(trow("FURN_78\u041e\u041e", qty="500")), rows={2: "STOCK_UNKNOWN_SKU"}, held_skip=["FURN_7800"])
t("sku_zero_width", "a zero-width space in a SKU counted next to the real one", tcsv(trow("FURN_\u200b7800", qty="1")), rows={2: "STOCK_UNKNOWN_SKU"})
t("sku_trailing_space", "a trailing space (trimmed: the row counts FURN_7800)", tcsv(trow('"FURN_7800 "', qty="500")))
t("formula_skus", "spreadsheet formulas as SKUs: stored as they are, neutralised in the reconciliation CSV",
  tcsv(trow('"=HYPERLINK(""http://evil.example/"",""x"")"'), trow("+cmd|' /C calc'!A0"), trow("@SUM(1)")),
  rows={2: "STOCK_UNKNOWN_SKU", 3: "STOCK_UNKNOWN_SKU", 4: "STOCK_UNKNOWN_SKU"},
  report_cells=['=HYPERLINK("http://evil.example/","x")', "+cmd|' /C calc'!A0", "@SUM(1)"])
t("cr_only", "CR-only line ends", tcsv(trow("FURN_7800", qty="500"), nl="\r"))
t("lf_only", "LF line ends", tcsv(trow("FURN_7800", qty="500"), nl="\n"))
t("name with space \u00e9", "a file name with spaces and a non-ASCII letter (allowed)", tcsv(trow("FURN_7800", qty="500")))
t("backslash_name", "a backslash in the file name (quarantined unread)", tcsv(trow("FURN_7800", qty="500")), file=SU,
  remote_name="STOCK_back\\slash.csv")

# ------------------------------------------------------------------------------------------------- semi3pl stock
BH = "Artikel;Charge;Bestand;ME;Stichtag"
BAT = "20.11.2026 10:10"  # Berlin


def brow(sku: str, *, lot="", qty="5", uom="EA", at=BAT) -> str:
    return ";".join([sku, lot, qty, uom, at])


def bcsv(*lines: str, header: str = BH, nl: str = "\n", held: bool = True) -> bytes:
    return (nl.join([header, *lines, *(["{HELD_ROWS}"] if held else [])]) + nl).encode("iso-8859-1")


def b(name: str, attack: str, data: bytes, **kw) -> None:
    case("stock", "semi3pl", f"BESTAND_{name}.txt", data, attack, **kw)


b("qty_decimal_dot", "a decimal dot in a ',' layout", bcsv(brow("FURN_7800", qty="499.5")), rows={2: SI})
b("qty_decimal_comma", "a decimal comma (accepted)", bcsv(brow("FURN_7800", qty="500,0")))
b("qty_negative", "a negative count", bcsv(brow("FURN_7800", qty="-1,5")), rows={2: "STOCK_QTY_NEGATIVE"})
b("header_only", "the header and no row", bcsv(held=False), file="STOCK_SNAPSHOT_EMPTY", rows_total=0)
b("empty", "an empty file", b"", file=SU)
b("comma_delimiter", "',' instead of ';'", bcsv(brow("FURN_7800", qty="500").replace(";", ","), header=BH.replace(";", ","), held=False), file=SU)
b("date_iso", "an ISO timestamp with an offset in a %d.%m.%Y layout (accepted)", bcsv(brow("FURN_7800", qty="500", at="2026-11-20T10:10:00+01:00")))
b("date_wrong_format", "a US timestamp", bcsv(brow("FURN_7800", qty="500", at="11/20/2026 10:10")), rows={2: SI})
b("sku_unknown", "a SKU Odoo does not know, with an umlaut", bcsv(brow("SCHRÄNKE_1")), rows={2: "STOCK_UNKNOWN_SKU"})
b("oversize", "a file over THREEPL_MAX_FILE_MB (the group runs with 0.05 MB)",
  bcsv(*[brow(f"NOPE_{i:05d}") for i in range(2500)], held=False), file=SU)

HEADER = """\
# The bad-input corpus (issue 13): every file here, with the code(s) it must produce. Run by tests/test_bad_corpus.py
# (one run per kind and partner: every file of the group and a good file in the same run, then a second run).
# Written by build_corpus.py (edit the cases there, run it, commit both).
#
# Per case: file (under tests/data/bad/), kind, partner, attack (one line), and what it must produce:
#   file_code   a file-level code: *_FILE_UNREADABLE (exchange input_error, file in error/) or STOCK_SNAPSHOT_EMPTY /
#               STOCK_NO_VALID_ROWS (exchange processed, nothing reconciled); absent: the file is processed
#   rows        {row number: code} of every row that must be an exception (row = the line the record starts on;
#               the header is line 1); every other row must be posted
#   rows_total  (optional) the rows the file must count
#   remote_name (optional) the name the 3PL gives the file (written straight to the SFTP folder: \\n, \\\\)
#   held_skip   (stock, optional) SKUs left out of {HELD_ROWS}; held_keep: SKUs kept in it although the file names them
#   stored      (optional) {row: {field: value}} the row's values the ledger must keep as they are
#   report_cells (stock, optional) texts that must reach the reconciliation CSV only neutralised (a leading ')
#   own_run     (optional) the case runs alone with the good file (its defect changes Odoo for the files after it)
#   xfail       (optional) the code base gets this case wrong today: why; the test xfails strictly
# Placeholders substituted by the test:
#   {ORDER_<X>}  a released order of 2 x FURN_7800 (one per distinct X)    {UNRELEASED} an order never released
#   {LOTS_<X>}   a released order of 10 x FURN_5555 (lot-tracked)         {HELD_ROWS} (stock) a matching line per quant
#                Odoo holds in 3PL/Stock, except SKUs the file names (and held_skip), in the file's own line ends
# The groups run with THREEPL_MAX_FILE_MB=0.05 (the oversize cases); FURN_7800 gets the barcode 4006381333931.
"""

XFAIL: dict[str, str] = {  # file -> why the code base gets it wrong today (none left: each finding was fixed)
}


def main() -> None:
    import shutil

    for sub in ("dispatches", "stock"):
        shutil.rmtree(HERE / sub, ignore_errors=True)
    names = [entry["file"] for entry, _ in CASES]
    assert len(names) == len(set(names)), "two cases with one file"
    unknown = set(XFAIL) - set(names)
    assert not unknown, unknown
    for entry, data in CASES:
        path = HERE / entry["file"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if entry["file"] in XFAIL:
            entry["xfail"] = XFAIL[entry["file"]]
    body = yaml.safe_dump({"cases": [entry for entry, _ in CASES]}, allow_unicode=False, sort_keys=False, width=200)
    (HERE / "MANIFEST.yaml").write_text(HEADER + body, encoding="utf-8")
    print(f"{len(CASES)} files")


if __name__ == "__main__":
    main()
