"""Odoo product master -> the 3PL, incrementally, with pre-flight checks that hold back what the 3PL can't use.

``prepare_products`` reads what changed (product or template ``write_date`` past the watermark, id as tie-breaker,
plus every product with an open exception), checks each product, and stages one file with the products whose
current version the partner does not have yet. The watermark moves in ``finalize_products`` only once that file
is on the SFTP server.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from threepl_bridge import codes
from threepl_bridge.codes import Problem
from threepl_bridge.formats.codec import check_row, encode
from threepl_bridge.formats.gs1 import gs1_problem
from threepl_bridge.ledger.repo import Ledger
from threepl_bridge.ledger.states import State
from threepl_bridge.odoo.client import OdooClient
from threepl_bridge.odoo.products import stocked_among
from threepl_bridge.specs.models import Partner
from threepl_bridge.flows.outbound import stage_file

log = logging.getLogger(__name__)

PRODUCT_FIELDS = ["default_code", "barcode", "name", "uom_id", "weight", "volume", "tracking", "write_date", "product_tmpl_id"]
PRODUCT_CODES = (codes.PRODUCT_MISSING_SKU, codes.PRODUCT_DUPLICATE_SKU, codes.PRODUCT_DUPLICATE_BARCODE, codes.PRODUCT_BAD_BARCODE,
                 codes.PRODUCT_UOM_NOT_MAPPED, codes.PRODUCT_ENCODING, codes.PRODUCT_FIELD_INVALID)
STREAMS = {"product.product": "products.product", "product.template": "products.template"}


@dataclass
class ProductsPrepared:
    exchange_id: int | None
    scanned: int
    to_send: int
    held: int
    unchanged: int
    problems: dict[str, int] = field(default_factory=dict)
    watermarks: dict[str, list[Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def product_ref(product_id: int) -> str:
    return f"product:{product_id}"


def _window(mark: tuple[str, int] | None, signpost: str) -> list[Any]:
    """Records changed since the watermark (write_date, id) and up to the signpost.

    Odoo's write_date has one-second resolution, so a strict (write_date, id) cursor would lose a record updated
    in the watermark's own second with a lower id. The boundary second is therefore read again (>=), and the
    version hashes skip what the partner already has.

    The signpost is Odoo's clock when the scan started. A scan reads page after page by id; a record changed
    while it runs may sit on a page already read, so the scan cannot see it, while later pages carry write_dates
    up to the present. Without the bound the watermark would move past that record's change for good. With it,
    everything changed after the scan started waits for the next run, and the watermark never passes the signpost.
    """
    window: list[Any] = [["write_date", "<=", signpost]]
    return window if mark is None else [["write_date", ">=", mark[0]], *window]


def _changed_ids(client: OdooClient, ledger: Ledger, partner: Partner, signpost: str) -> tuple[set[int], dict[str, list[Any]]]:
    ids: set[int] = set()
    marks: dict[str, list[Any]] = {}
    for model, stream in STREAMS.items():
        current = ledger.watermark(partner.code, stream)
        fields = ["write_date"] + (["product_variant_ids"] if model == "product.template" else [])
        best = current
        # templates: every storable one that changed (the variants are filtered by the selection below)
        for rec in client.search_read_all(model, [client.dialect.storable_domain, *_window(current, signpost)], fields):
            ids.update(rec["product_variant_ids"] if model == "product.template" else [rec["id"]])
            position = (rec["write_date"], rec["id"])
            if best is None or position > best:
                best = position
        if best is not None and best != current:
            marks[stream] = list(best)
    return ids, marks


def product_problems(partner: Partner, product: dict[str, Any], row: dict[str, Any], sku_count: Counter, barcode_count: Counter) -> list[Problem]:
    """Every reason the 3PL could not use this product."""
    layout = partner.layout_for("products")
    sku, barcode = product.get("default_code") or "", product.get("barcode") or ""
    label = f"{sku or '(no SKU)'} {product['name']!r}"
    problems: list[Problem] = []
    if not sku:
        problems.append(codes.PRODUCT_MISSING_SKU(field="sku", product_id=product["id"], name=product["name"]))
    elif sku_count[sku] > 1:
        problems.append(codes.PRODUCT_DUPLICATE_SKU(field="sku", value=sku, label=label, sku=sku, count=sku_count[sku]))
    if barcode and barcode_count[barcode] > 1:
        problems.append(codes.PRODUCT_DUPLICATE_BARCODE(field="barcode", value=barcode, label=label, barcode=barcode, count=barcode_count[barcode]))
    if barcode and (why := gs1_problem(barcode)):
        problems.append(codes.PRODUCT_BAD_BARCODE(field="barcode", value=barcode, label=label, why=why))
    if row["uom"] is None:
        problems.append(codes.PRODUCT_UOM_NOT_MAPPED(field="uom", value=product["uom_id"][1], label=label, uom=product["uom_id"][1], source=partner.source))
    for p in check_row(layout, row):
        if p.code == codes.FIELD_REQUIRED and p.field in ("sku", "uom"):
            continue  # already reported above
        code = codes.PRODUCT_ENCODING if p.code == codes.ENCODING_UNSUPPORTED else codes.PRODUCT_FIELD_INVALID
        problems.append(code(field=p.field, label=label, detail=p.message))
    return problems


def product_row(partner: Partner, product: dict[str, Any]) -> dict[str, Any]:
    uom = partner.spec.uom_by_odoo(product["uom_id"][1]) if product.get("uom_id") else None
    return {
        "sku": product.get("default_code") or None, "barcode": product.get("barcode") or None, "name": product["name"],
        "uom": uom.code if uom else None, "weight": product.get("weight") or None, "volume": product.get("volume") or None,
        "tracking": product.get("tracking") or "none",
    }


def version_hash(row: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()


def prepare_products(
    *, partner: Partner, client: OdooClient, ledger: Ledger, now: datetime, run_id: str | None = None, full_resend: bool = False
) -> ProductsPrepared:
    doc = partner.document("products")
    if doc is None:
        raise LookupError(f"partner {partner.code} has no products document")
    signpost = client.server_time().strftime("%Y-%m-%d %H:%M:%S")  # fixed before anything is read (see _window)
    catalog = list(client.search_read_all("product.product", [client.dialect.storable_domain], ["default_code", "barcode"]))
    sku_count = Counter(p["default_code"] for p in catalog if p.get("default_code"))
    barcode_count = Counter(p["barcode"] for p in catalog if p.get("barcode"))
    ids, marks = _changed_ids(client, ledger, partner, signpost)
    if full_resend:
        ids = {p["id"] for p in catalog}
    else:  # products held earlier are checked again: the fix may have been made on another product
        ids |= {int(e.object_ref.split(":")[1]) for e in ledger.open_exceptions(partner.code) if e.object_type == "product"}
    stocked = stocked_among(client, partner, sorted(ids))  # only what this 3PL stocks (products.* in the partner YAML)
    if stocked is not None:
        ids &= stocked
    products = sorted(client.read("product.product", sorted(ids), PRODUCT_FIELDS), key=lambda p: (p.get("default_code") or "", p["id"]))
    have = {} if full_resend else ledger.product_versions(partner.code, sent_only=False)
    to_send: list[tuple[dict[str, Any], dict[str, Any], str]] = []
    problems_seen: Counter = Counter()
    held = unchanged = 0
    for product in products:
        row = product_row(partner, product)
        problems = product_problems(partner, product, row, sku_count, barcode_count)
        ref = product_ref(product["id"])
        if problems:
            held += 1
            for problem in problems:
                problems_seen[problem.code] += 1
                ledger.raise_exception(partner=partner.code, code=problem.code, object_type="product", object_ref=ref, message=problem.message)
            ledger.resolve_exceptions(partner=partner.code, object_type="product", object_ref=ref, codes=list(PRODUCT_CODES), keep=[p.code for p in problems],
                                     reason="the product no longer has this problem")
            continue
        ledger.resolve_exceptions(partner=partner.code, object_type="product", object_ref=ref, codes=list(PRODUCT_CODES),
                                  reason="the product passed every check and goes to the 3PL")
        version = version_hash(row)
        if have.get(product["id"]) == version:
            unchanged += 1
            continue
        to_send.append((product, row, version))
    exchange_id = None
    if to_send:
        data = encode(partner.layout_for("products"), [row for _, row, _ in to_send])
        exchange_id = stage_file(
            ledger, partner=partner.code, kind="products", folder=doc.folder, template=doc.name_template or "", when=now,
            data=data, run_id=run_id, name_tz=doc.name_timezone,
            products=[{"product_id": p["id"], "sku": row["sku"], "version_hash": v, "odoo_write_date": p["write_date"]} for p, row, v in to_send],
        )
    log.info("%s products: %d scanned, %d to send, %d held, %d unchanged", partner.code, len(products), len(to_send), held, unchanged)
    return ProductsPrepared(
        exchange_id=exchange_id, scanned=len(products), to_send=len(to_send), held=held, unchanged=unchanged,
        problems=dict(problems_seen), watermarks=marks,
    )


def finalize_products(*, partner: Partner, ledger: Ledger, prepared: dict[str, Any]) -> bool:
    """Advance the watermarks once the staged file (if any) is sent. Returns whether they moved."""
    exchange_id = prepared.get("exchange_id")
    if exchange_id is not None and ledger.exchange(exchange_id).state != State.OUTPUT_SENT:
        raise RuntimeError(f"products file of exchange {exchange_id} is not on the SFTP server yet; watermark kept")
    moved = False
    for stream, (value, last_id) in (prepared.get("watermarks") or {}).items():
        moved |= ledger.advance_watermark(partner.code, stream, value, int(last_id))
    return moved
