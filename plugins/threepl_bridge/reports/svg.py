"""Small inline SVG charts for the reports: horizontal bars, a waterfall, a monthly trend.

Hand-built (a few dozen lines each, no JavaScript, no CDN, no plotting library): every chart is an ``<svg
role="img">`` with a ``<title>`` and a ``<desc>`` that says in words what it shows, and the reports print the same
figures as a table beside it (the text alternative). Every label is escaped; the output is deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from markupsafe import Markup

WIDTH = 760
POS, NEG, TOTAL, GRID, INK = "#2f6f9f", "#b8432f", "#5a6b7b", "#d9e2ec", "#1f2933"


def _num(v: Decimal | float | int) -> float:
    return float(v)


def _label(text: str, limit: int = 28) -> str:
    return escape(text if len(text) <= limit else text[: limit - 1] + "\u2026")


def _svg(height: int, title: str, desc: str, body: list[str]) -> Markup:
    return Markup(f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {height}" width="100%" '
                  f'preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>'
                  f'<desc>{escape(desc)}</desc><g font-family="system-ui,sans-serif" font-size="12" fill="{INK}">{"".join(body)}</g></svg>')


def bars(items: Sequence[tuple[str, Decimal]], *, title: str, unit: str, fmt: "callable") -> Markup:  # type: ignore[valid-type]
    """One horizontal bar per item (label, signed value), from a zero line; negative values left, in red."""
    if not items:
        return Markup("")
    row, left, right = 24, 200, 110
    top = max(abs(_num(v)) for _, v in items) or 1.0
    has_neg = any(_num(v) < 0 for _, v in items)
    zero = left + ((WIDTH - left - right) / 2 if has_neg else 0)
    span = (WIDTH - left - right) / (2 if has_neg else 1)
    body = [f'<line x1="{zero:.1f}" y1="4" x2="{zero:.1f}" y2="{len(items) * row + 4}" stroke="{GRID}"/>']
    for i, (label, value) in enumerate(items):
        y, w = 6 + i * row, abs(_num(value)) / top * span
        x = zero - w if _num(value) < 0 else zero
        body.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end">{_label(label)}</text>')
        body.append(f'<rect x="{x:.1f}" y="{y}" width="{max(w, 1):.1f}" height="{row - 8}" fill="{NEG if _num(value) < 0 else POS}"/>')
        body.append(f'<text x="{WIDTH - right + 6}" y="{y + 14}">{escape(fmt(value))}</text>')
    desc = f"{title}: " + "; ".join(f"{label} {fmt(value)}" for label, value in items)
    return _svg(len(items) * row + 10, title, desc, body)


def waterfall(steps: Sequence[tuple[str, Decimal]], *, title: str, fmt: "callable") -> Markup:  # type: ignore[valid-type]
    """A value bridge: the first and last steps are totals (bars from zero), the ones between move the running
    total up (blue) or down (red)."""
    if len(steps) < 2:
        return Markup("")
    height, bottom, top_pad, left = 260, 40, 24, 16
    running, spans = Decimal(0), []
    for i, (label, value) in enumerate(steps):
        if i == 0 or i == len(steps) - 1:
            spans.append((label, Decimal(0), value, value, True))
            running = value
        else:
            spans.append((label, running, running + value, value, False))
            running += value
    lo = min(0.0, *(_num(min(a, b)) for _, a, b, _, _ in spans))
    hi = max(0.0, *(_num(max(a, b)) for _, a, b, _, _ in spans))
    scale = (height - bottom - top_pad) / ((hi - lo) or 1.0)

    def y(v: float) -> float:
        return top_pad + (hi - v) * scale

    col = (WIDTH - 2 * left) / len(spans)
    body = [f'<line x1="{left}" y1="{y(0):.1f}" x2="{WIDTH - left}" y2="{y(0):.1f}" stroke="{GRID}"/>']
    for i, (label, a, b, value, total) in enumerate(spans):
        x, w = left + i * col + col * 0.15, col * 0.7
        y1, y2 = y(_num(max(a, b))), y(_num(min(a, b)))
        colour = TOTAL if total else (POS if value >= 0 else NEG)
        body.append(f'<rect x="{x:.1f}" y="{y1:.1f}" width="{w:.1f}" height="{max(y2 - y1, 1):.1f}" fill="{colour}"/>')
        body.append(f'<text x="{x + w / 2:.1f}" y="{max(y1 - 6, 12):.1f}" text-anchor="middle">{escape(fmt(value))}</text>')
        body.append(f'<text x="{x + w / 2:.1f}" y="{height - 14}" text-anchor="middle">{_label(label, 16)}</text>')
    desc = f"{title}: " + "; ".join(f"{label} {fmt(value)}" for label, _, _, value, _ in spans)
    return _svg(height, title, desc, body)


def trend(points: Sequence[tuple[str, Decimal]], *, title: str, fmt: "callable") -> Markup:  # type: ignore[valid-type]
    """One column per month (label YYYY-MM, value), with the value above it; nothing when every value is zero."""
    if not any(_num(v) for _, v in points):
        return Markup("")
    height, bottom, top_pad, left = 200, 36, 22, 16
    lo, hi = min(0.0, *(_num(v) for _, v in points)), max(0.0, *(_num(v) for _, v in points))
    scale = (height - bottom - top_pad) / ((hi - lo) or 1.0)
    col = (WIDTH - 2 * left) / len(points)

    def y(v: float) -> float:
        return top_pad + (hi - v) * scale

    body = [f'<line x1="{left}" y1="{y(0):.1f}" x2="{WIDTH - left}" y2="{y(0):.1f}" stroke="{GRID}"/>']
    for i, (label, value) in enumerate(points):
        x, w = left + i * col + col * 0.2, col * 0.6
        y1, y2 = sorted((y(_num(value)), y(0)))
        body.append(f'<rect x="{x:.1f}" y="{y1:.1f}" width="{w:.1f}" height="{max(y2 - y1, 1):.1f}" fill="{NEG if _num(value) < 0 else POS}"/>')
        body.append(f'<text x="{x + w / 2:.1f}" y="{max(y1 - 5, 12):.1f}" text-anchor="middle" font-size="10">{escape(fmt(value))}</text>')
        body.append(f'<text x="{x + w / 2:.1f}" y="{height - 12}" text-anchor="middle" font-size="10">{escape(label[2:])}</text>')
    desc = f"{title}: " + "; ".join(f"{label} {fmt(value)}" for label, value in points)
    return _svg(height, title, desc, body)
