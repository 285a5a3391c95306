"""Load and discover partner specs and layouts.

Partners live in ``sftp_formats/partners/<code>.yaml`` and in every folder named in ``THREEPL_PARTNERS_DIR``
(``os.pathsep``-separated). Layouts are looked up by name in ``layouts/`` next to the partner's folder first
(so a company keeps its own layouts beside its own partners), then in ``sftp_formats/layouts/``.

One broken file never hides the others: :func:`discover_partners` returns the partners that loaded and the
errors of the ones that did not.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from threepl_bridge.specs.documents import DOCUMENT_KINDS
from threepl_bridge.specs.errors import SpecError, SpecProblem
from threepl_bridge.specs.models import DelimitedLayout, FixedWidthLayout, Layout, Partner, PartnerSpec

PARTNERS_ENV = "THREEPL_PARTNERS_DIR"
FORMATS_ENV = "THREEPL_FORMATS_DIR"
EXAMPLES_ENV = "THREEPL_EXAMPLES"


def examples_enabled() -> bool:
    """Shipped example partners (``example: true``, the demo) run only where THREEPL_EXAMPLES is on."""
    return os.environ.get(EXAMPLES_ENV, "").strip().lower() in {"1", "true", "yes", "on"}

_LAYOUT_ADAPTER: TypeAdapter[DelimitedLayout | FixedWidthLayout] = TypeAdapter(Layout)


def formats_dir() -> Path:
    """The shipped ``sftp_formats/`` folder (overridable with THREEPL_FORMATS_DIR)."""
    env = os.environ.get(FORMATS_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "sftp_formats"


def partner_dirs() -> list[Path]:
    dirs = [formats_dir() / "partners"]
    for entry in os.environ.get(PARTNERS_ENV, "").split(os.pathsep):
        if entry.strip():
            dirs.append(Path(entry.strip()))
    return dirs


# ------------------------------------------------------------------------------------------------ YAML


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys instead of silently keeping the last one."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError.single(path, "", f"cannot read file: {exc}") from exc
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError.single(path, "", f"invalid YAML{where}: {problem}") from exc
    if not isinstance(data, dict):
        raise SpecError.single(path, "", "the document must be a mapping of keys to values")
    return data


def _problems(path: Path, exc: ValidationError, data: dict[str, Any], *, strip_tag: bool) -> list[SpecProblem]:
    problems = []
    for err in exc.errors():
        loc = list(err["loc"])
        if strip_tag and loc and loc[0] in ("delimited", "fixed_width"):
            loc = loc[1:]
        if err["type"] == "union_tag_invalid" and not loc:
            loc = ["format"]
        problems.append(SpecProblem(file=path, key=_dotted(loc, data), reason=_reason(err)))
    return problems


def _dotted(loc: list[Any], data: Any) -> str:
    """('fields', 2, 'type') -> 'fields[2](quantity).type' so the operator finds the entry by name."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("name"), str):
                out += f"({node['name']})"
        else:
            out += ("." if out else "") + str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def _reason(err: dict[str, Any]) -> str:
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err["type"] == "extra_forbidden":
        return "unknown key (check the spelling; see docs/partner-spec.md)"
    if err["type"] == "missing":
        return "required key is missing"
    return msg


# --------------------------------------------------------------------------------------------- loading


def load_layout(path: Path) -> DelimitedLayout | FixedWidthLayout:
    data = read_yaml(path)
    if data.get("name", path.stem) != path.stem:
        raise SpecError.single(path, "name", f"must match the file name {path.stem!r}")
    data.setdefault("name", path.stem)
    if "format" not in data:
        raise SpecError.single(path, "format", "required key is missing (delimited or fixed_width)")
    try:
        return _LAYOUT_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise SpecError(_problems(path, exc, data, strip_tag=True)) from exc


def _layout_dirs(partner_file: Path) -> list[Path]:
    dirs = [partner_file.parent / "layouts", partner_file.parent.parent / "layouts", formats_dir() / "layouts"]
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def _find_layout(name: str, partner_file: Path) -> Path | None:
    if "/" in name or "\\" in name or name.startswith("."):
        return None
    for d in _layout_dirs(partner_file):
        for suffix in (".yaml", ".yml"):
            candidate = d / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def load_partner(path: Path) -> Partner:
    """Load one partner file with the layouts it names; raise SpecError listing every problem."""
    data = read_yaml(path)
    try:
        spec = PartnerSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(_problems(path, exc, data, strip_tag=False)) from exc
    if spec.code != path.stem:
        raise SpecError.single(path, "code", f"{spec.code!r} must match the file name {path.stem!r}")

    problems: list[SpecProblem] = []
    layouts: dict[str, DelimitedLayout | FixedWidthLayout] = {}
    for kind, doc in sorted(spec.documents.items()):
        key = f"documents.{kind}.layout"
        layout_file = _find_layout(doc.layout, path)
        if layout_file is None:
            searched = ", ".join(str(d) for d in _layout_dirs(path))
            problems.append(SpecProblem(file=path, key=key, reason=f"layout {doc.layout!r} not found in {searched}"))
            continue
        try:
            layout = layouts.get(doc.layout) or load_layout(layout_file)
        except SpecError as exc:
            problems.append(SpecProblem(file=path, key=key, reason=f"layout {doc.layout!r} is invalid"))
            problems.extend(exc.problems)
            continue
        layouts[doc.layout] = layout
        problems.extend(_check_layout_fits(path, key, kind, layout))
    if problems:
        raise SpecError(problems)
    return Partner(spec=spec, layouts=layouts, source=str(path))


def _check_layout_fits(
    path: Path, key: str, kind: str, layout: DelimitedLayout | FixedWidthLayout
) -> list[SpecProblem]:
    doc_kind = DOCUMENT_KINDS[kind]
    names = set(layout.field_names)
    problems = []
    missing = sorted(doc_kind.required - names)
    if missing:
        problems.append(
            SpecProblem(file=path, key=key, reason=f"layout {layout.name!r} lacks field(s) {missing} required for {kind}")
        )
    unknown = sorted(names - doc_kind.fields)
    if unknown:
        problems.append(
            SpecProblem(
                file=path,
                key=key,
                reason=f"layout {layout.name!r} maps field(s) {unknown} that {kind} does not have; "
                f"known: {sorted(doc_kind.fields)}",
            )
        )
    return problems


@dataclass(frozen=True)
class PartnerRegistry:
    """Every partner that loaded, by code (sorted), and every spec error found on the way."""

    partners: dict[str, Partner] = field(default_factory=dict)
    errors: tuple[SpecError, ...] = ()

    def get(self, code: str) -> Partner:
        try:
            return self.partners[code]
        except KeyError:
            broken = [str(e) for e in self.errors if e.file.stem == code]
            detail = f": {broken[0]}" if broken else ""
            raise KeyError(f"unknown partner {code!r}{detail}") from None


def discover_partners(dirs: list[Path] | None = None, *, examples: bool | None = None) -> PartnerRegistry:
    """Every partner in the partner folders, except shipped examples unless enabled (``examples``, default:
    THREEPL_EXAMPLES). A warehouse belongs to one partner: a later partner naming a warehouse an earlier one
    already runs is refused, naming both files."""
    with_examples = examples_enabled() if examples is None else examples
    partners: dict[str, Partner] = {}
    errors: list[SpecError] = []
    claimed: dict[str, Partner] = {}
    for directory in dirs if dirs is not None else partner_dirs():
        if not directory.is_dir():
            errors.append(SpecError.single(directory, "", "partner folder does not exist"))
            continue
        for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
            try:
                partner = load_partner(path)
            except SpecError as exc:
                errors.append(exc)
                continue
            if partner.spec.example and not with_examples:
                continue
            if partner.code in partners:
                first = partners[partner.code].source
                errors.append(SpecError.single(path, "code", f"partner {partner.code!r} is already defined in {first}"))
                continue
            taken = [(code, claimed[code]) for code in partner.spec.odoo.warehouses if code in claimed]
            if taken:
                code, owner = taken[0]
                errors.append(SpecError.single(path, "odoo.warehouses", f"warehouse {code!r} is already run by partner "
                                                                        f"{owner.code!r} ({owner.source}); a warehouse belongs to one 3PL"))
                continue
            partners[partner.code] = partner
            claimed.update({code: partner for code in partner.spec.odoo.warehouses})
    return PartnerRegistry(partners=dict(sorted(partners.items())), errors=tuple(errors))
