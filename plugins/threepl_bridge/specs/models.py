"""Typed, frozen objects for partner specs and file layouts.

The pydantic models are the schema: they reject unknown keys, wrong types and inconsistent values, and every
rejection is reported with its dotted key by the loader. `PartnerSpec.model_json_schema()` gives the JSON
schema documented in docs/partner-spec.md.
"""

from __future__ import annotations

import codecs
import csv
import string
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from threepl_bridge.registry import PARTNER_FLOWS
from threepl_bridge.specs.documents import DOCUMENT_KINDS, Direction

CODE_PATTERN = r"^[a-z][a-z0-9_]{1,31}$"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


# --------------------------------------------------------------------------------------------------- layouts


class FieldType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"


class LayoutField(_Frozen):
    """One canonical field and where the 3PL keeps it."""

    name: str = Field(description="canonical name, e.g. order_ref, sku, quantity")
    column: str = Field(description="the 3PL's column name (delimited) or a label (fixed-width)")
    type: FieldType = FieldType.STRING
    required: bool = False
    max_length: int | None = Field(default=None, gt=0)
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    pattern: str | None = None
    enum: tuple[str, ...] | None = None
    values: dict[str, str] = Field(
        default_factory=dict, description="the 3PL's words -> canonical values (gut: good), read and written both ways",
    )
    format: str | None = Field(default=None, description="date/datetime format overriding the layout's")
    # fixed-width only
    start: int | None = Field(default=None, ge=1, description="1-based first character (fixed-width)")
    length: int | None = Field(default=None, gt=0, description="width in characters (fixed-width)")
    align: Literal["left", "right"] = "left"
    pad: str = Field(default=" ", min_length=1, max_length=1)

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            import re

            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value

    @field_validator("format")
    @classmethod
    def _format_works(cls, value: str | None) -> str | None:
        if value is not None:
            _check_strftime(value)
        return value


def _check_strftime(fmt: str) -> None:
    sample = datetime(2026, 10, 31, 23, 5, 9)
    try:
        text = sample.strftime(fmt)
        datetime.strptime(text, fmt)
    except ValueError as exc:
        raise ValueError(f"date format {fmt!r} does not round-trip: {exc}") from exc


class _LayoutBase(_Frozen):
    name: str
    description: str = ""
    encoding: str = "utf-8"
    line_terminator: Literal["\n", "\r\n"] = "\r\n"
    decimal_separator: Literal[".", ","] = "."
    date_format: str = "%Y-%m-%d"
    datetime_format: str = "%Y-%m-%d %H:%M:%S"
    fields: tuple[LayoutField, ...] = Field(min_length=1)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value!r}") from exc
        return value

    @field_validator("date_format", "datetime_format")
    @classmethod
    def _formats_work(cls, value: str) -> str:
        _check_strftime(value)
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> "_LayoutBase":
        for attr in ("name", "column"):
            seen: set[str] = set()
            for f in self.fields:
                value = getattr(f, attr)
                if value in seen:
                    raise ValueError(f"duplicate field {attr} {value!r}")
                seen.add(value)
        return self

    def field(self, name: str) -> LayoutField | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


class DelimitedLayout(_LayoutBase):
    """A CSV-like file: one record per line, fields separated by a delimiter."""

    format: Literal["delimited"]
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    quotechar: str = Field(default='"', min_length=1, max_length=1)
    quoting: Literal["minimal", "all", "nonnumeric", "none"] = "minimal"
    escapechar: str | None = Field(default=None, min_length=1, max_length=1)
    header: bool = True

    @model_validator(mode="after")
    def _no_positions(self) -> "DelimitedLayout":
        for f in self.fields:
            if f.start is not None or f.length is not None:
                raise ValueError(f"field {f.name!r}: start/length only apply to fixed-width layouts")
        if self.delimiter == self.quotechar:
            raise ValueError("delimiter and quotechar must differ")
        if self.decimal_separator == self.delimiter:
            raise ValueError("decimal_separator and delimiter must differ")
        return self

    def csv_dialect(self) -> type[csv.Dialect]:
        """The layout as a csv module dialect (the one converter every reader and writer uses)."""
        quoting = {
            "minimal": csv.QUOTE_MINIMAL,
            "all": csv.QUOTE_ALL,
            "nonnumeric": csv.QUOTE_NONNUMERIC,
            "none": csv.QUOTE_NONE,
        }[self.quoting]
        attrs = {
            "delimiter": self.delimiter,
            "quotechar": self.quotechar,
            "escapechar": self.escapechar,
            "doublequote": self.escapechar is None,
            "skipinitialspace": False,
            "lineterminator": self.line_terminator,
            "quoting": quoting,
            "strict": True,
        }
        return type(f"{self.name}_dialect", (csv.Dialect,), attrs)


class FixedWidthLayout(_LayoutBase):
    """A flat file of fixed-width records; positions are 1-based and may not overlap."""

    format: Literal["fixed_width"]
    header: Literal[False] = False

    @model_validator(mode="after")
    def _positions(self) -> "FixedWidthLayout":
        spans: list[tuple[int, int, str]] = []
        for f in self.fields:
            if f.start is None or f.length is None:
                raise ValueError(f"field {f.name!r}: fixed-width fields need start and length")
            spans.append((f.start, f.start + f.length - 1, f.name))
        spans.sort()
        for (a_start, a_end, a_name), (b_start, _, b_name) in zip(spans, spans[1:]):
            if b_start <= a_end:
                raise ValueError(f"fields {a_name!r} and {b_name!r} overlap (columns {b_start}-{a_end})")
        return self

    @property
    def record_width(self) -> int:
        return max((f.start or 0) + (f.length or 0) - 1 for f in self.fields)


Layout = Annotated[Union[DelimitedLayout, FixedWidthLayout], Field(discriminator="format")]


# -------------------------------------------------------------------------------------------------- partners


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


def _check_remote_folder(value: str) -> str:
    if not value or "\\" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(f"invalid remote folder {value!r}")
    if any(part == ".." for part in value.split("/")):
        raise ValueError(f"remote folder {value!r} may not contain '..'")
    return value.rstrip("/") or "/"


_MARKER_FIELDS = frozenset({"name", "size", "sha256"})


def _check_placeholders(value: str, allowed: frozenset[str], what: str) -> str:
    try:
        names = {n for _, n, _, _ in string.Formatter().parse(value) if n is not None}
    except ValueError as exc:
        raise ValueError(f"invalid {what} {value!r}: {exc}") from exc
    unknown = names - allowed
    if unknown:
        raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
    return value


class CompleteRule(_Frozen):
    """How we know the 3PL has finished writing a file.

    - ``stable_size``: size and mtime unchanged over two looks ``stable_seconds`` apart.
    - ``marker``: a marker file ``<name><marker_suffix>`` (e.g. ``.ok``/``.done``) exists next to it.
    - ``rename``: the 3PL writes under a temporary name and renames on completion; files matching
      ``temporary_patterns`` are never picked up.

    On outbound documents the same rule tells how the 3PL knows *our* file is complete: every file is written
    under a hidden temporary name and renamed (``rename`` and ``stable_size`` need nothing more); with ``marker``
    the marker ``<name><marker_suffix>`` (holding ``marker_content``) is written after the rename.
    """

    rule: Literal["stable_size", "marker", "rename"]
    stable_seconds: float = Field(default=5.0, gt=0, le=300)
    marker_suffix: str = Field(default=".ok", min_length=1)
    marker_content: str = Field(
        default="",
        description="outbound: what the marker file holds; placeholders " + ", ".join(sorted(_MARKER_FIELDS)),
    )
    temporary_patterns: tuple[str, ...] = (".*", "*.tmp", "*.part", "*.filepart")

    @field_validator("marker_suffix")
    @classmethod
    def _plain_suffix(cls, value: str) -> str:
        if "/" in value or "\\" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise ValueError(f"marker_suffix {value!r} may not contain a path separator or control characters")
        return value

    @field_validator("marker_content")
    @classmethod
    def _marker_fields(cls, value: str) -> str:
        return _check_placeholders(value, _MARKER_FIELDS, "marker_content")

    def marker_bytes(self, *, name: str, size: int, sha256: str) -> bytes:
        return self.marker_content.format(name=name, size=size, sha256=sha256).encode("utf-8")


_TEMPLATE_FIELDS = frozenset({"partner", "kind", "date", "time", "stamp", "seq", "key"})


class DocumentSpec(_Frozen):
    """One document kind the partner exchanges: its folder, layout and file naming."""

    layout: str
    folder: str
    file_pattern: str = Field(
        default="*",
        description="inbound: shell pattern of files to pick up (case-sensitive)",
    )
    name_template: str | None = Field(
        default=None,
        description="outbound: file name template; placeholders " + ", ".join(sorted(_TEMPLATE_FIELDS)),
    )
    complete: CompleteRule = CompleteRule(rule="stable_size")
    split: Literal["run", "order"] = Field(default="run", description="outbound: one file per run or per order")
    name_timezone: str = Field(
        default="UTC", description="outbound: the zone of {date}, {time} and {stamp} in file names (IANA name)",
    )
    default_uom: str | None = Field(
        default=None,
        description="inbound: the 3PL unit code (from uom) of rows without a unit; default: the product's unit in Odoo",
    )

    @field_validator("folder")
    @classmethod
    def _valid_folder(cls, value: str) -> str:
        return _check_remote_folder(value)

    @field_validator("name_timezone")
    @classmethod
    def _valid_name_tz(cls, value: str) -> str:
        return _check_timezone(value)

    @field_validator("name_template")
    @classmethod
    def _template_fields(cls, value: str | None) -> str | None:
        if value is None:
            return value
        _check_placeholders(value, _TEMPLATE_FIELDS, "template")
        if "/" in value or "\\" in value:
            raise ValueError("a file name template may not contain a path separator")
        return value


class UomCode(_Frozen):
    """Odoo UoM (by name) -> the 3PL's code; ``factor`` is how many Odoo reference units one 3PL unit holds."""

    odoo_uom: str = Field(min_length=1)
    code: str = Field(min_length=1, max_length=16)
    factor: Decimal = Field(default=Decimal(1), gt=0)


class SftpSpec(_Frozen):
    conn_id: str = Field(min_length=1, description="Airflow connection id of the partner's SFTP server")
    archive_folder: str
    error_folder: str

    @field_validator("archive_folder", "error_folder")
    @classmethod
    def _valid_folders(cls, value: str) -> str:
        return _check_remote_folder(value)


class OdooSpec(_Frozen):
    warehouses: tuple[str, ...] = Field(min_length=1, description="Odoo warehouse codes this 3PL runs")
    company_timezone: str | None = Field(
        default=None,
        description="time zone of the company's books; accounting dates are taken in it (default: the "
        "partner's time zone)",
    )

    @field_validator("company_timezone")
    @classmethod
    def _valid_tz(cls, value: str | None) -> str | None:
        return None if value is None else _check_timezone(value)


class Tolerance(_Frozen):
    units: Decimal = Field(default=Decimal(0), ge=0)
    value: Decimal = Field(default=Decimal(0), ge=0)


class PolicySpec(_Frozen):
    """Business policies of this partner; each flow reads the ones it needs."""

    release_confirmed: bool = Field(default=False, description="also release pickings in state 'confirmed'")
    backorder: Literal["create", "cancel"] = Field(
        default="create", description="short shipment: create a backorder for the rest, or close the picking"
    )
    post_valid_part: bool = Field(
        default=False, description="post the valid rows of an order that also has failing rows"
    )
    pending_sla_hours: float = Field(default=48, gt=0)
    backdate_moves: bool = Field(
        default=True, description="set the picking's date_done and move dates to the moment the goods left (else: validation time)"
    )
    absent_means_zero: bool = Field(default=True, description="a product missing from a stock snapshot has 0")
    auto_approve: Tolerance = Tolerance()
    carriers_requiring_tracking: tuple[str, ...] = ()
    asn_transfers: bool = Field(default=False, description="also announce incoming inter-warehouse transfers (not only purchase receipts)")
    asn_returns: bool = Field(default=False, description="also announce customer returns created in Odoo (an RMA notice to the 3PL)")
    over_receipt_pct: Decimal = Field(
        default=Decimal(0), ge=0, le=100,
        description="a receipt may exceed the expected quantity of a line by this percentage (more is an exception)",
    )
    damaged_location: str | None = Field(
        default=None, description="Odoo location (full name, e.g. '3PL/Quarantine') that receives goods the 3PL "
        "reports damaged on a receipt, and returns with disposition quarantine; outside the stock location, so "
        "nothing is reserved from it",
    )
    scrap_location: str = Field(
        default="Virtual Locations/Scrap", description="Odoo location (full name) of returns with disposition scrap",
    )
    adjustment_reasons: dict[str, Literal["damage", "shrinkage", "found", "recount", "expiry"]] = Field(
        default_factory=dict, description="the 3PL's adjustment reason code -> its meaning (damage, shrinkage, found, "
        "recount, expiry); an unmapped code is an exception",
    )


class ProductSelection(_Frozen):
    """Which of the company's storable products this 3PL stocks: every condition given must hold (AND).

    Applied to the products file (only these are sent) and to the order pre-flight (an order for another product
    is held with ``ORDER_PRODUCT_NOT_STOCKED``).
    """

    categories: tuple[str, ...] = Field(
        default=(), description="product categories by full name ('All / Saleable'), each with its subcategories",
    )
    routes: tuple[str, ...] = Field(default=(), description="products carrying one of these routes (stock.route names)")
    warehouse_routes: bool = Field(
        default=False, description="products carrying a route of one of the partner's warehouses",
    )
    domain: tuple[tuple[Any, ...] | str, ...] = Field(
        default=(), description="an Odoo domain on product.product, e.g. [[\"sale_ok\", \"=\", true]]",
    )

    @property
    def restricted(self) -> bool:
        return bool(self.categories or self.routes or self.warehouse_routes or self.domain)


FLOWS = PARTNER_FLOWS  # the flows a partner schedule may name (threepl_bridge.registry)


class PartnerSpec(_Frozen):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1)
    example: bool = Field(
        default=False,
        description="a shipped example (the demo): loaded only where THREEPL_EXAMPLES is on, never in a real install",
    )
    timezone: str = Field(description="IANA zone of the 3PL's timestamps that carry no offset")
    odoo: OdooSpec
    sftp: SftpSpec
    uom: tuple[UomCode, ...] = Field(min_length=1)
    documents: dict[str, DocumentSpec]
    schedules: dict[str, str | None] = Field(
        default_factory=dict, description="flow -> cron expression or preset; null pauses the schedule"
    )
    policy: PolicySpec = PolicySpec()
    products: ProductSelection = Field(default=ProductSelection(), description="the products this 3PL stocks (default: all storable)")

    @field_validator("timezone")
    @classmethod
    def _valid_tz(cls, value: str) -> str:
        return _check_timezone(value)

    @field_validator("documents")
    @classmethod
    def _known_kinds(cls, value: dict[str, DocumentSpec]) -> dict[str, DocumentSpec]:
        unknown = set(value) - set(DOCUMENT_KINDS)
        if unknown:
            raise ValueError(f"unknown document kind(s) {sorted(unknown)}; known: {sorted(DOCUMENT_KINDS)}")
        for kind, doc in value.items():
            outbound = DOCUMENT_KINDS[kind].direction is Direction.OUTBOUND
            if outbound and not doc.name_template:
                raise ValueError(f"{kind}: an outbound document needs name_template")
        return value

    @field_validator("schedules")
    @classmethod
    def _valid_schedules(cls, value: dict[str, str | None]) -> dict[str, str | None]:
        from croniter import croniter

        presets = {"@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@yearly"}
        for flow, expr in value.items():
            if flow not in FLOWS:
                raise ValueError(f"unknown flow {flow!r}; known: {list(FLOWS)}")
            if expr is not None and expr not in presets and not croniter.is_valid(expr):
                raise ValueError(f"{flow}: {expr!r} is not a cron expression or preset")
        return value

    @model_validator(mode="after")
    def _unique_uoms(self) -> "PartnerSpec":
        for attr in ("odoo_uom", "code"):
            values = [getattr(u, attr) for u in self.uom]
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"uom: duplicate {attr} {dupes}")
        codes = [u.code for u in self.uom]
        for kind, doc in self.documents.items():
            if doc.default_uom is not None and doc.default_uom not in codes:
                raise ValueError(f"documents.{kind}.default_uom: {doc.default_uom!r} is not one of the uom codes {codes}")
        return self

    # ------------------------------------------------------------------ helpers used by the flows

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def company_tz(self) -> ZoneInfo:
        return ZoneInfo(self.odoo.company_timezone or self.timezone)

    def uom_by_odoo(self, odoo_uom: str) -> UomCode | None:
        return next((u for u in self.uom if u.odoo_uom == odoo_uom), None)

    def uom_by_code(self, code: str) -> UomCode | None:
        return next((u for u in self.uom if u.code == code), None)

    def dag_id(self, flow: str) -> str:
        return f"{self.code}_{flow}"


class Partner(_Frozen):
    """A loaded partner: its spec plus the layouts its documents use, resolved."""

    spec: PartnerSpec
    layouts: dict[str, DelimitedLayout | FixedWidthLayout]
    source: str = Field(description="path of the partner's YAML file")

    @property
    def code(self) -> str:
        return self.spec.code

    def document(self, kind: str) -> DocumentSpec | None:
        return self.spec.documents.get(kind)

    def default_uom(self, kind: str) -> str | None:
        """The 3PL unit code of ``kind``'s rows that carry no unit; None: the product's own unit in Odoo."""
        doc = self.spec.documents.get(kind)
        return doc.default_uom if doc is not None else None

    def layout_for(self, kind: str) -> DelimitedLayout | FixedWidthLayout:
        doc = self.spec.documents[kind]
        return self.layouts[doc.layout]
