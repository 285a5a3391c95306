"""Issue 14: files read and validated a chunk at a time (formats/reader.py iter_rows/iter_frames, quality.py
Validation). Whatever the chunk size, the rows, their numbers (the line a record starts on) and every problem
are what one reading of the whole file gives: a problem row at a chunk edge keeps its row number, a file of
exactly N chunks gives N chunks, and rows that repeat a key in another chunk (or another GX run) are duplicates."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from threepl_bridge.formats import reader
from threepl_bridge.formats.reader import iter_frames, iter_rows, read_frame, read_rows
from threepl_bridge.quality import Validation, add_keys, validate_frame, validate_rows
from threepl_bridge.specs.loader import formats_dir, load_layout

LA = ZoneInfo("America/Los_Angeles")
LAYOUTS = formats_dir() / "layouts"
DISPATCHES = load_layout(LAYOUTS / "demo3pl_dispatches.yaml")
STOCK = load_layout(LAYOUTS / "demo3pl_stock.yaml")
STOCK_HEADER = "sku,lot,qty_on_hand,uom,status,snapshot_at"
PARAMS = {"uom_codes": ["EA"], "now": datetime(2026, 11, 22, tzinfo=timezone.utc)}


def stock(lines: list[str], newline: str = "\r\n") -> bytes:
    return (newline.join([STOCK_HEADER, *lines]) + newline).encode()


def good(i: int) -> str:
    return f"S{i:04d},,{i % 7},EA,ok,2026-11-20 02:00:00"


def rows_of(chunks):
    return [(r.number, r.values, [(p.code, p.field, p.message) for p in r.problems]) for chunk in chunks for r in chunk]


def frames_of(chunks):
    out = []
    for frame, found in chunks:
        quantities = [None if q != q else q for q in frame["quantity"].tolist()]  # (NaN is not NaN)
        out.append((frame["row"].tolist(), frame["sku"].tolist(), quantities, [(p.row, p.field, p.message) for p in found]))
    return out


def flat(frames):
    return tuple(sum((list(part[i]) for part in frames), []) for i in range(4))


# a bad value on the last row of chunk 1 and the first of chunk 2 (chunks of 3), a short row, a blank line
EDGE = [good(1), good(2), "S0003,,x,EA,ok,2026-11-20 02:00:00", "S0004,,-,EA,ok,2026-11-20 02:00:00", "", good(5), "S0006,,1,EA",
        good(7)]


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7, 100])
def test_a_problem_row_at_a_chunk_edge_keeps_its_row_number(size):
    data = stock(EDGE)
    whole = rows_of([read_rows(STOCK, data, LA)])
    assert [number for number, _, _ in whole] == [2, 3, 4, 5, 7, 8, 9]  # the blank line 6 is no row
    assert [(n, [c for c, _, _ in p]) for n, _, p in whole if p] == [(4, ["FIELD_TYPE"]), (5, ["FIELD_TYPE"]), (8, ["ROW_SHAPE"])]
    chunks = list(iter_rows(STOCK, data, LA, size))
    assert all(0 < len(chunk) <= size for chunk in chunks)
    assert rows_of(chunks) == whole
    frame, found = read_frame(STOCK, data, LA)
    assert flat(frames_of(iter_frames(STOCK, data, LA, size))) == flat(frames_of([(frame, found)]))


@pytest.mark.parametrize(("n", "size"), [(6, 3), (9, 3), (4, 1), (5, 5)])
def test_a_file_of_exactly_n_chunks_gives_n_chunks_and_every_row(n, size):
    data = stock([good(i) for i in range(n)])
    chunks = list(iter_rows(STOCK, data, LA, size))
    assert [len(c) for c in chunks] == [size] * (n // size)
    assert [r.number for c in chunks for r in c] == list(range(2, n + 2))
    frames = list(iter_frames(STOCK, data, LA, size))
    assert [len(f) for f, _ in frames] == [size] * (n // size) and frames[-1][0]["row"].iloc[-1] == n + 1


def test_a_header_only_file_gives_one_empty_frame_and_no_rows():
    assert list(iter_rows(STOCK, stock([]), LA, 2)) == []
    [(frame, found)] = list(iter_frames(STOCK, stock([]), LA, 2))
    assert len(frame) == 0 and "sku" in frame.columns and found == []


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"], ids=["crlf", "lf", "cr"])
@pytest.mark.parametrize("piece", [8, 40, 1 << 22])
def test_pieces_of_any_size_read_alike_plain_and_quoted(monkeypatch, newline, piece):
    """The text is decoded in pieces cut after a line feed; plain text (pandas' C parser) and text with quotes
    (the csv module, a quoted line break inside a record) give the same rows and numbers."""
    monkeypatch.setattr(reader, "PIECE_BYTES", piece)
    plain = stock(EDGE, newline)
    expected = rows_of([read_rows(STOCK, plain, LA)])
    monkeypatch.setattr(reader, "PIECE_BYTES", 1 << 22)
    assert expected == rows_of([read_rows(STOCK, plain, LA)])
    monkeypatch.setattr(reader, "PIECE_BYTES", piece)
    for size in (2, 100):
        assert rows_of(iter_rows(STOCK, plain, LA, size)) == expected
    quoted = stock([good(1), f'"S0002","two{newline}lines",1,EA,ok,2026-11-20 02:00:00', "S0003,,x,EA,ok,2026-11-20 02:00:00"], newline)
    rows = rows_of(iter_rows(STOCK, quoted, LA, 1))
    assert [(n, v["lot"]) for n, v, _ in rows] == [(2, None), (3, f"two{newline}lines"), (5, None)]
    assert [n for n, _, p in rows if p] == [5]


def test_an_undecodable_byte_in_a_later_piece_is_found_before_any_chunk(monkeypatch):
    monkeypatch.setattr(reader, "PIECE_BYTES", 16)
    data = stock([good(i) for i in range(20)]) + b"S9,,1,EA,ok,caf\xe9\r\n"
    with pytest.raises(reader.UnreadableFile, match="line 22: .* not valid utf-8"):
        next(iter_rows(STOCK, data, LA, 2))


# ------------------------------------------------------------------------------------------- validation


def _issues(found):
    return [(p.row, p.code, p.field) for p in found]


@pytest.mark.parametrize("runs", [1, 2, 3, 5, 50])
def test_validation_in_runs_finds_what_one_run_finds_duplicates_across_runs_too(runs):
    lines = [good(i) for i in range(10)] + ["S0003,,2,EA,ok,2026-11-20 02:00:00", "S0011,,-1,XX,ok,2030-01-01 00:00:00", good(1)]
    frame, found = read_frame(STOCK, stock(lines), LA)
    frame = add_keys(frame)
    one, one_summary = validate_frame("stock", frame, parameters=PARAMS)
    assert sorted(_issues(one)) == sorted([(5, "STOCK_DUPLICATE_ROW", "key"), (12, "STOCK_DUPLICATE_ROW", "key"),
                                           (3, "STOCK_DUPLICATE_ROW", "key"), (14, "STOCK_DUPLICATE_ROW", "key"),
                                           (13, "STOCK_QTY_NEGATIVE", "quantity"), (13, "STOCK_FUTURE_DATE", "as_of"),
                                           (13, "STOCK_UNKNOWN_UOM", "uom")])
    size = -(-len(frame) // runs)
    validation = Validation("stock", parameters=PARAMS, rows=size)
    for start in range(0, len(frame), 4):  # chunks of 4 rows, runs of `size`
        validation.add(frame.iloc[start : start + 4])
    issues, summary = validation.finish()
    assert sorted(_issues(issues)) == sorted(_issues(one))
    assert [(s.expectation, s.column, s.code, s.success, s.unexpected) for s in summary] == \
           [(s.expectation, s.column, s.code, s.success, s.unexpected) for s in one_summary]
    assert set(validation.failing.marks.nonzero()[0].tolist()) == {3, 5, 12, 13, 14}


def test_rows_validated_in_runs_are_what_one_run_finds():
    header = "order_ref,line,sku,barcode,qty_shipped,uom,lot,shipped_at,carrier,tracking_no,parcel_id"
    lines = [f"WH/OUT/{i},1,SKU1,,2,EA,,2026-11-02 10:00:00,,,P1" for i in range(6)] + ["WH/OUT/2,1,SKU1,,0,EA,,2026-11-02 10:00:00,,,P1"]
    rows = read_rows(DISPATCHES, (header + "\r\n" + "\r\n".join(lines) + "\r\n").encode(), LA)
    one, _ = validate_rows("dispatches", rows, parameters={**PARAMS, "now": datetime(2026, 11, 3, tzinfo=timezone.utc)})
    validation = Validation("dispatches", parameters={**PARAMS, "now": datetime(2026, 11, 3, tzinfo=timezone.utc)}, rows=2)
    for start in range(0, len(rows), 3):
        validation.add_rows(rows[start : start + 3])
    issues, _ = validation.finish()
    assert sorted(_issues(issues)) == sorted(_issues(one)) == [(4, "DISPATCH_DUPLICATE_ROW", "key"), (8, "DISPATCH_DUPLICATE_ROW", "key"),
                                                               (8, "DISPATCH_QTY_NOT_POSITIVE", "quantity")]


def test_validation_keeps_at_most_keep_issues_and_marks_every_failing_row():
    frame, _ = read_frame(STOCK, stock([f"S{i},,-1,EA,ok,2026-11-20 02:00:00" for i in range(30)]), LA)
    validation = Validation("stock", parameters=PARAMS, rows=10, keep=5)
    validation.add(add_keys(frame))
    issues, summary = validation.finish()
    assert len(issues) == 5 and validation.truncated and len(validation.failing) == 30
    assert [(s.code, s.unexpected) for s in summary if s.unexpected] == [("STOCK_QTY_NEGATIVE", 30)]
