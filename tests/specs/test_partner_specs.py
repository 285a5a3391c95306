"""Partner and layout specs: discovery, schema validation, and errors that name the file and the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import partner_copy
from threepl_bridge.specs.errors import SpecError
from threepl_bridge.specs.loader import discover_partners, formats_dir, load_layout, load_partner, partner_dirs

DEMO = formats_dir() / "partners" / "demo3pl.yaml"


def make_partner_dir(tmp_path: Path, code: str, replace: dict[str, str] | None = None) -> Path:
    """A company's own partner folder holding a copy of the demo partner under another code."""
    folder = tmp_path / "company-partners"
    folder.mkdir(exist_ok=True)
    text = partner_copy(code)
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    (folder / f"{code}.yaml").write_text(text)
    return folder


def test_demo_partner_loads_with_its_layouts():
    partner = load_partner(DEMO)
    assert partner.code == "demo3pl"
    assert partner.spec.sftp.conn_id == "demo3pl_sftp"
    assert partner.spec.odoo.warehouses == ("3PL",)
    assert partner.layout_for("dispatches").encoding == "utf-8-sig"
    assert partner.spec.uom_by_code("CS12").factor == 12
    assert partner.spec.dag_id("orders_to_3pl") == "demo3pl_orders_to_3pl"
    assert str(partner.spec.company_tz) == "America/Los_Angeles"


def test_specs_are_frozen():
    partner = load_partner(DEMO)
    with pytest.raises(Exception):
        partner.spec.code = "other"  # type: ignore[misc]


def test_partner_dropped_into_threepl_partners_dir_is_discovered(tmp_path, monkeypatch):
    folder = make_partner_dir(tmp_path, "acme")
    monkeypatch.setenv("THREEPL_PARTNERS_DIR", f"{folder}:{tmp_path / 'also-empty'}")
    (tmp_path / "also-empty").mkdir()
    assert partner_dirs()[1:] == [folder, tmp_path / "also-empty"]
    registry = discover_partners()
    assert list(registry.partners) == ["acme", "demo3pl"]
    assert registry.errors == ()


def test_company_layout_next_to_its_partners_is_used(tmp_path, monkeypatch):
    folder = make_partner_dir(tmp_path, "acme", {"layout: demo3pl_stock": "layout: acme_stock"})
    (folder / "layouts").mkdir()
    (folder / "layouts" / "acme_stock.yaml").write_text(
        "format: fixed_width\nencoding: latin-1\nfields:\n"
        "  - {name: sku, column: SKU, start: 1, length: 10, required: true}\n"
        "  - {name: quantity, column: QTY, start: 11, length: 8, type: decimal, align: right}\n"
        "  - {name: as_of, column: TS, start: 19, length: 14, type: datetime, format: '%Y%m%d%H%M%S'}\n"
    )
    monkeypatch.setenv("THREEPL_PARTNERS_DIR", str(folder))
    acme = discover_partners().get("acme")
    layout = acme.layout_for("stock")
    assert layout.format == "fixed_width" and layout.record_width == 32


def test_broken_partner_is_reported_with_file_and_key_and_others_still_load(tmp_path, monkeypatch):
    folder = make_partner_dir(tmp_path, "acme", {"timezone: America/Los_Angeles  ": "timezone: Mars/Olympus_Mons"})
    make_partner_dir(tmp_path, "beta")
    monkeypatch.setenv("THREEPL_PARTNERS_DIR", str(folder))
    registry = discover_partners()
    assert list(registry.partners) == ["beta", "demo3pl"]
    [error] = registry.errors
    assert str(error) == f"{folder / 'acme.yaml'}: key 'timezone': unknown time zone 'Mars/Olympus_Mons'"
    with pytest.raises(KeyError, match="Mars/Olympus_Mons"):
        registry.get("acme")


@pytest.mark.parametrize(
    ("old", "new", "key", "reason"),
    [
        ("  conn_id: demo3pl_sftp", "  conn_id: demo3pl_sftp\n  hostt: x", "sftp.hostt", "unknown key"),
        ("  archive_folder: /archive\n", "", "sftp.archive_folder", "required key is missing"),
        ('"*/30 * * * *"', '"*/30 * * *"', "schedules", "orders_to_3pl: '*/30 * * *' is not a cron expression"),
        ("  products_to_3pl:", "  product_to_3pl:", "schedules", "unknown flow 'product_to_3pl'"),
        ("{rule: marker, marker_suffix: .ok}", "{rule: magic}", "documents.dispatches.complete.rule", "Input should be"),
        ("  dispatches:\n", "  dispatch:\n", "documents", "unknown document kind(s) ['dispatch']"),
        ('    name_template: "ITEMS_{stamp}_{seq}.csv"\n', "", "documents", "products: an outbound document needs name_template"),
        ('"ITEMS_{stamp}_{seq}.csv"', '"ITEMS_{when}.csv"', "documents.products.name_template", "unknown placeholder(s) ['when']"),
        ('"ITEMS_{stamp}_{seq}.csv"', '"../ITEMS_{seq}.csv"', "documents.products.name_template", "path separator"),
        ("folder: /to_3pl/items", "folder: /to_3pl/../etc", "documents.products.folder", "may not contain '..'"),
        ("{odoo_uom: Dozens, code: DZ, factor: 12}", "{odoo_uom: Dozens, code: EA, factor: 12}", "", "uom: duplicate code ['EA']"),
        ("{odoo_uom: Units, code: EA, factor: 1}", "{odoo_uom: Units, code: EA, factor: 0}", "uom[0].factor", "greater than 0"),
        ('warehouses: ["ACME"]', "warehouses: []", "odoo.warehouses", "at least 1 item"),
        ("pending_sla_hours: 48", "pending_sla_hours: soon", "policy.pending_sla_hours", "valid number"),
    ],
)
def test_schema_errors_name_the_key(tmp_path, old, new, key, reason):
    folder = make_partner_dir(tmp_path, "acme", {old: new})
    with pytest.raises(SpecError) as info:
        load_partner(folder / "acme.yaml")
    problems = info.value.problems
    assert any(p.key == key and reason in p.reason for p in problems), [str(p) for p in problems]
    assert all(p.file == folder / "acme.yaml" for p in problems)


def test_code_must_match_the_file_name(tmp_path):
    folder = make_partner_dir(tmp_path, "acme")
    shutil.move(folder / "acme.yaml", folder / "other.yaml")
    with pytest.raises(SpecError, match=r"other.yaml: key 'code': 'acme' must match the file name 'other'"):
        load_partner(folder / "other.yaml")


def test_same_code_twice_is_an_error_for_the_second_file(tmp_path, monkeypatch):
    folder = tmp_path / "dupe"
    folder.mkdir()
    shutil.copy(DEMO, folder / "demo3pl.yaml")
    monkeypatch.setenv("THREEPL_PARTNERS_DIR", str(folder))
    registry = discover_partners()
    assert list(registry.partners) == ["demo3pl"]
    [error] = registry.errors
    assert "already defined in" in str(error) and str(folder) in str(error)


def test_duplicate_yaml_keys_and_bad_yaml_are_reported_with_line(tmp_path):
    path = tmp_path / "acme.yaml"
    path.write_text("code: acme\nname: A\ncode: acme\n")
    with pytest.raises(SpecError, match=r"acme.yaml: document: invalid YAML \(line 3, column 1\): duplicate key 'code'"):
        load_partner(path)
    path.write_text("code: [unclosed\n")
    with pytest.raises(SpecError, match=r"invalid YAML \(line 2"):
        load_partner(path)
    path.write_text("- just\n- a list\n")
    with pytest.raises(SpecError, match="must be a mapping"):
        load_partner(path)


def test_missing_layout_and_layout_not_fitting_the_document(tmp_path):
    folder = make_partner_dir(tmp_path, "acme", {"layout: demo3pl_stock": "layout: no_such_layout"})
    with pytest.raises(SpecError, match=r"key 'documents.stock.layout': layout 'no_such_layout' not found"):
        load_partner(folder / "acme.yaml")
    folder = make_partner_dir(tmp_path, "acme", {"layout: demo3pl_stock": "layout: demo3pl_products"})
    with pytest.raises(SpecError) as info:
        load_partner(folder / "acme.yaml")
    reasons = [p.reason for p in info.value.problems]
    assert any("lacks field(s) ['as_of', 'quantity'] required for stock" in r for r in reasons), reasons
    assert any("maps field(s) ['barcode'" not in r and "that stock does not have" in r for r in reasons), reasons


@pytest.mark.parametrize(
    ("body", "key", "reason"),
    [
        ("format: delimited\nencoding: utf-9\nfields: [{name: sku, column: s}]\n", "encoding", "unknown encoding 'utf-9'"),
        ("format: delimited\ndelimiter: ';;'\nfields: [{name: sku, column: s}]\n", "delimiter", "at most 1 character"),
        ("format: delimited\nfields: [{name: sku, column: s}, {name: qty, column: s}]\n", "", "duplicate field column 's'"),
        ("format: delimited\ndate_format: '%Q'\nfields: [{name: sku, column: s}]\n", "date_format", "does not round-trip"),
        ("format: delimited\nfields: [{name: sku, column: s, typ: string}]\n", "fields[0](sku).typ", "unknown key"),
        ("format: delimited\nfields: [{name: sku, column: s, pattern: '(['}]\n", "fields[0](sku).pattern", "not a valid regular expression"),
        ("format: fixed_width\nfields: [{name: sku, column: s, start: 1, length: 5}, {name: qty, column: q, start: 5, length: 2}]\n", "", "overlap"),
        ("format: fixed_width\nfields: [{name: sku, column: s}]\n", "", "need start and length"),
        ("format: xml\nfields: []\n", "format", "does not match any of the expected tags"),
        ("fields: []\n", "format", "required key is missing"),
        ("format: delimited\ndecimal_separator: ','\nfields: [{name: sku, column: s}]\n", "", "decimal_separator and delimiter must differ"),
    ],
)
def test_layout_errors_name_the_key(tmp_path, body, key, reason):
    path = tmp_path / "lay.yaml"
    path.write_text(body)
    with pytest.raises(SpecError) as info:
        load_layout(path)
    assert any(p.key == key and reason in p.reason for p in info.value.problems), [str(p) for p in info.value.problems]


def test_shipped_layouts_all_load():
    for path in sorted((formats_dir() / "layouts").glob("*.yaml")):
        assert load_layout(path).name == path.stem


def test_csv_dialect_follows_the_layout(tmp_path):
    path = tmp_path / "semi.yaml"
    path.write_text(
        "format: delimited\ndelimiter: ';'\nquoting: all\nline_terminator: \"\\n\"\n"
        "fields: [{name: sku, column: Artikel}]\n"
    )
    import csv
    import io

    dialect = load_layout(path).csv_dialect()
    out = io.StringIO()
    csv.writer(out, dialect=dialect).writerow(["A;1", "x"])
    assert out.getvalue() == '"A;1";"x"\n'


def test_the_shipped_example_partner_runs_only_where_examples_are_enabled(monkeypatch):
    monkeypatch.delenv("THREEPL_EXAMPLES", raising=False)
    assert "demo3pl" not in discover_partners().partners  # a real install never runs the demo against its Odoo
    with pytest.raises(KeyError, match="demo3pl"):
        discover_partners().get("demo3pl")
    monkeypatch.setenv("THREEPL_EXAMPLES", "true")
    assert "demo3pl" in discover_partners().partners
    assert "demo3pl" in discover_partners(examples=True).partners


def test_a_warehouse_claimed_by_two_partners_is_refused_for_the_second(tmp_path, monkeypatch):
    folder = make_partner_dir(tmp_path, "acme")
    (folder / "beta.yaml").write_text(partner_copy("beta").replace('warehouses: ["BETA"]', 'warehouses: ["BETA", "ACME"]'))
    monkeypatch.setenv("THREEPL_PARTNERS_DIR", str(folder))
    registry = discover_partners()
    assert list(registry.partners) == ["acme", "demo3pl"]
    [error] = registry.errors
    assert str(error) == (f"{folder / 'beta.yaml'}: key 'odoo.warehouses': warehouse 'ACME' is already run by partner 'acme' "
                          f"({folder / 'acme.yaml'}); a warehouse belongs to one 3PL")
