"""HTML from Jinja2 templates (``reports/templates``), autoescaped, on one base layout.

Every page is self-contained: inline CSS and SVG, no script, no font or CDN; readable at 1280 px (tables fit the
page: long texts wrap) and printable (print CSS: A4 landscape, table headers repeated on every page, rows not
split, sections starting where they fit). Codes are shown with their plain meaning and the operator's action from
the code catalogue (:func:`code_info`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from threepl_bridge import codes
from threepl_bridge.reports.output import money, qty

TEMPLATES = Path(__file__).with_name("templates")


@lru_cache(maxsize=1)
def environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"], default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(money=money, qty=qty, code=code_info)
    return env


def code_info(code: str | None) -> dict[str, str]:
    """A code's title, action and severity from the catalogue (an unknown code stays itself)."""
    entry = codes.CODES.get(code or "")
    if entry is None:
        return {"code": code or "", "title": code or "", "action": "", "severity": "error"}
    return {"code": str(code), "title": entry.title, "action": entry.action, "severity": str(entry.severity)}


def page(template: str, **context: Any) -> bytes:
    return environment().get_template(template).render(**context).encode("utf-8")
