"""Dependency-free inline SVG figures for the downloadable net-neutrality report.

The report is one HTML file printed to PDF by headless Chromium on a closed network: no
JavaScript, no external fonts or files. Every figure here is a self-contained ``<svg>`` string
with real ``<text>`` (so 中文 renders with the system's Noto CJK font through :data:`SVG_FONT`),
a ``<title>`` and a ``<desc>`` that lists the numbers drawn (for screen readers and reviewers),
``role="img"`` and ``aria-labelledby``.

- :func:`line_chart`: trajectories (solid history, dashed projections), uncertainty bands,
  labelled markers (the peak), horizontal lines (zero net emissions) and vertical lines (2030
  peak target, 2060 neutrality). NaN breaks a line; nothing is interpolated across a gap.
- :func:`bar_chart`: stacked bars, vertical or horizontal; negative values stack below zero;
  optional whiskers for an interval on each total.
- :func:`zone_map`: a choropleth of zones (any CRS in, drawn in UTM or the input's own
  equal-area / transverse-Mercator CRS), with a binned legend, a scale bar and a north arrow.

All functions are pure and deterministic (same input, same string). Labels arrive translated;
numbers are formatted with the caller's ``fmt``. Everything is XML-escaped, and characters that
XML 1.0 forbids are dropped, so the output always parses with ``xml.etree.ElementTree``.
Coordinates are pixels rounded to 0.1.
"""
from __future__ import annotations

import hashlib
import math
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "SVG_FONT", "OKABE_ITO", "VIRIDIS_5", "MISSING_COLOUR", "default_fmt", "nice_ticks", "nice_step",
    "Series", "Band", "Marker", "HLine", "VLine", "Stack", "line_chart", "bar_chart", "zone_map",
]

#: CSS font stack for every text element (Noto CJK on Debian, Source Han / YaHei elsewhere).
SVG_FONT = "'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', sans-serif"

#: Okabe & Ito (2008) colour-blind-safe categorical palette, ordered for lines and bars on white
#: (blue, vermillion, bluish green, orange, reddish purple, sky blue, black; yellow last because it
#: is faint on white).
OKABE_ITO: tuple[str, ...] = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")

#: Viridis in five steps (sequential, colour-blind safe, readable in greyscale).
VIRIDIS_5: tuple[str, ...] = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")

MISSING_COLOUR = "#d9d9d9"

_TEXT = "#222222"
_MUTED = "#555555"
_GRID = "#e3e3e3"
_AXIS = "#888888"
_PAD = 12
_TITLE_SIZE = 15
_FONT_SIZE = 12
_SMALL = 11
_LEGEND_ROW = 18
_DASH = "6 4"
_HALO = 'stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'  # text readable over lines


def default_fmt(v: float) -> str:
    """``1234567.8 -> '1,234,568'``."""
    return f"{v:,.0f}"


# --------------------------------------------------------------------------------------------
# data classes


def _floats(values: Sequence[float] | None) -> tuple[float, ...]:
    if values is None:
        return ()
    out = []
    for v in values:
        try:
            out.append(float("nan") if v is None else float(v))
        except (TypeError, ValueError):
            raise ValueError(f"not a number: {v!r}") from None
    return tuple(out)


@dataclass(frozen=True)
class Series:
    """One line: ``xs`` (years) and ``ys`` of equal length; NaN in ``ys`` breaks the line.

    ``colour`` None takes the next Okabe-Ito colour; ``dash`` for projections; ``points`` draws a
    dot at every value.
    """

    label: str
    xs: Sequence[float]
    ys: Sequence[float]
    colour: str | None = None
    dash: bool = False
    points: bool = False

    def __post_init__(self):
        object.__setattr__(self, "xs", _floats(self.xs))
        object.__setattr__(self, "ys", _floats(self.ys))
        if len(self.xs) != len(self.ys):
            raise ValueError(f"series {self.label!r}: {len(self.xs)} xs but {len(self.ys)} ys")


@dataclass(frozen=True)
class Band:
    """An uncertainty interval ``lows``..``highs`` at ``xs``, filled with ``colour`` at ``opacity``."""

    label: str
    xs: Sequence[float]
    lows: Sequence[float]
    highs: Sequence[float]
    colour: str | None = None
    opacity: float = 0.2

    def __post_init__(self):
        for name in ("xs", "lows", "highs"):
            object.__setattr__(self, name, _floats(getattr(self, name)))
        if not len(self.xs) == len(self.lows) == len(self.highs):
            raise ValueError(f"band {self.label!r}: xs, lows and highs differ in length "
                             f"({len(self.xs)}, {len(self.lows)}, {len(self.highs)})")
        if not 0.0 <= float(self.opacity) <= 1.0:
            raise ValueError(f"band {self.label!r}: opacity {self.opacity} is not in 0..1")


@dataclass(frozen=True)
class Marker:
    """A labelled point, e.g. the emissions peak."""

    x: float
    y: float
    label: str


@dataclass(frozen=True)
class HLine:
    """A horizontal reference line at ``y`` (e.g. zero net emissions), labelled at its left end."""

    y: float
    label: str


@dataclass(frozen=True)
class VLine:
    """A vertical reference line at ``x`` (e.g. the 2030 peak target), labelled at its top."""

    x: float
    label: str


@dataclass(frozen=True)
class Stack:
    """One layer of a stacked bar chart: one value per category (NaN or None draws nothing)."""

    label: str
    values: Sequence[float]
    colour: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "values", _floats(self.values))


# --------------------------------------------------------------------------------------------
# text, numbers and XML


def _clean(s: object) -> str:
    """``str(s)`` without the characters XML 1.0 forbids (control characters, lone surrogates)."""
    text = str(s)
    return "".join(
        ch for ch in text
        if ch in "\t\n\r" or (0x20 <= ord(ch) <= 0xD7FF) or (0xE000 <= ord(ch) <= 0xFFFD) or ord(ch) >= 0x10000
    )


def _esc(s: object) -> str:
    """Escaped for element text and double- or single-quoted attributes."""
    return (_clean(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&apos;"))


def _n(v: float) -> str:
    """A pixel coordinate with at most one decimal (``12.0 -> '12'``, ``-0.0 -> '0'``)."""
    s = f"{round(float(v), 1) + 0.0:.1f}"
    s = s[:-2] if s.endswith(".0") else s
    return "0" if s == "-0" else s


def _text_w(s: str, size: float) -> float:
    """Approximate rendered width of ``s`` in pixels (CJK full width, Latin ~0.56 em)."""
    w = 0.0
    for ch in _clean(s):
        if unicodedata.east_asian_width(ch) in ("W", "F"):
            w += 1.0
        elif ch in "il.,:;'|!()[] ":
            w += 0.32
        elif ch.isupper() or ch in "mw%@":
            w += 0.72
        else:
            w += 0.56
    return w * size


def _wrap(s: str, max_w: float, size: float) -> list[str]:
    """Greedy wrap at spaces (Latin) or between any two CJK characters."""
    s = _clean(s)
    if _text_w(s, size) <= max_w:
        return [s]
    tokens: list[str] = []
    word = ""
    for ch in s:
        if ch == " ":
            tokens.append(word + " ")
            word = ""
        elif unicodedata.east_asian_width(ch) in ("W", "F"):
            if word:
                tokens.append(word)
                word = ""
            tokens.append(ch)
        else:
            word += ch
    if word:
        tokens.append(word)
    lines, cur = [], ""
    for t in tokens:
        if cur and _text_w((cur + t).rstrip(), size) > max_w:
            lines.append(cur.rstrip())
            cur = t.lstrip()
        else:
            cur += t
    if cur.strip():
        lines.append(cur.rstrip())
    return lines or [s]


def _text(x: float, y: float, s: str, *, size: float = _FONT_SIZE, anchor: str = "start", fill: str = _TEXT,
          weight: str | None = None, cls: str | None = None, extra: str = "") -> str:
    attrs = [f'x="{_n(x)}"', f'y="{_n(y)}"']
    if size != _FONT_SIZE:
        attrs.append(f'font-size="{_n(size)}"')
    if anchor != "start":
        attrs.append(f'text-anchor="{anchor}"')
    if fill != _TEXT:
        attrs.append(f'fill="{_esc(fill)}"')
    if weight:
        attrs.append(f'font-weight="{weight}"')
    if cls:
        attrs.append(f'class="{cls}"')
    if extra:
        attrs.append(extra)
    return f"<text {' '.join(attrs)}>{_esc(s)}</text>"


def _xfmt(v: float) -> str:
    """An x value (a year): no thousands separator, no trailing ``.0``."""
    if math.isfinite(v) and float(v).is_integer():
        return str(int(v))
    return f"{v:g}"


def _safe_fmt(fmt: Callable[[float], str], v: float) -> str:
    return "–" if v is None or not math.isfinite(v) else fmt(v)


def nice_step(span: float, target: int = 5, *, integer: bool = False) -> float:
    """The smallest 1-2-5 x 10^k step that cuts ``span`` into at most ``target`` intervals."""
    if not math.isfinite(span) or span <= 0:
        return 1.0
    raw = span / max(int(target), 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = 10.0 * mag
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * mag >= raw * (1 - 1e-9):
            step = m * mag
            break
    if integer:
        step = max(step, 1.0)
    return float(f"{step:.12g}")


def nice_ticks(lo: float, hi: float, target: int = 5, *, extend: bool = True, integer: bool = False) -> list[float]:
    """Tick values on a 1-2-5 step.

    With ``extend`` the ticks cover ``lo``..``hi`` (first tick <= lo, last >= hi), otherwise they
    lie inside it. ``nice_ticks(0, 9.7e6) == [0, 2e6, 4e6, 6e6, 8e6, 1e7]``.
    """
    lo, hi = float(lo), float(hi)
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        return [lo + 0.0]
    step = nice_step(hi - lo, target, integer=integer)
    if extend:
        # the next smaller 1-2-5 step too, when it wastes less of the axis and stays within
        # target + 2 intervals (-0.7..10.3: -2..12 by 2, not -5..15 by 5)
        best = None
        for st in (step, _smaller_step(step)):
            if integer and st < 1:
                continue
            i0, i1 = math.floor(lo / st + 1e-9), math.ceil(hi / st - 1e-9)
            if st != step and i1 - i0 > target + 2:
                continue
            coverage = (hi - lo) / ((i1 - i0) * st)
            if best is None or coverage > best[0] + 1e-9:
                best = (coverage, st, i0, i1)
        _, step, i0, i1 = best
    else:
        i0, i1 = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    return [float(f"{i * step:.12g}") + 0.0 for i in range(i0, i1 + 1)]


def _smaller_step(step: float) -> float:
    """The 1-2-5 step below ``step`` (5 -> 2, 2 -> 1, 1 -> 0.5)."""
    mag = 10.0 ** math.floor(math.log10(step) + 1e-9)
    m = round(step / mag)
    return float(f"{(mag * 0.5 if m == 1 else mag * (2 if m == 5 else 1)):.12g}")


def _tick_labels(ticks: Sequence[float], fmt: Callable[[float], str]) -> list[str]:
    """``fmt`` of each tick; when ``fmt`` merges distinct ticks (e.g. 0.5 and 1 as '1'), enough
    decimals to tell them apart instead."""
    labels = [fmt(t) for t in ticks]
    if len(set(labels)) == len(labels) or len(ticks) < 2:
        return labels
    step = min(abs(b - a) for a, b in zip(ticks, ticks[1:]) if b != a) if len(set(ticks)) > 1 else 1.0
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    for d in range(decimals, decimals + 4):
        labels = [f"{t + 0.0:,.{d}f}" for t in ticks]
        if len(set(labels)) == len(labels):
            break
    return labels


def _value_domain(values: Sequence[float], *, zero: bool | None) -> tuple[float, float]:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    if zero is True:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    elif zero is None:
        if 0 < lo <= 0.5 * hi:
            lo = 0.0
        elif hi < 0 and hi >= 0.5 * lo:
            hi = 0.0
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
        if finite and min(finite) >= 0 and lo < 0:
            lo = 0.0
    return lo, hi


class _Scale:
    """Linear map from data ``d0..d1`` to pixels ``p0..p1`` (p1 < p0 for a y axis)."""

    def __init__(self, d0: float, d1: float, p0: float, p1: float):
        self.d0, self.d1, self.p0, self.p1 = d0, d1, p0, p1

    def __call__(self, v: float) -> float:
        if self.d1 == self.d0:
            return (self.p0 + self.p1) / 2
        return self.p0 + (v - self.d0) * (self.p1 - self.p0) / (self.d1 - self.d0)


def _svg(width: int, height: int, title: str, desc: str, body: list[str], *, kind: str, svg_id: str | None) -> str:
    if svg_id is None:
        digest = hashlib.sha1("\x1f".join([kind, _clean(title), _clean(desc), *body]).encode("utf-8")).hexdigest()
        svg_id = f"{kind}-{digest[:10]}"
    sid = _esc(svg_id)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{int(width)}" height="{int(height)}" '
        f'viewBox="0 0 {int(width)} {int(height)}" role="img" aria-labelledby="{sid}-title {sid}-desc" '
        f'font-family="{_esc(SVG_FONT)}" font-size="{_FONT_SIZE}" fill="{_TEXT}" class="sinks-{kind}">'
        f'<title id="{sid}-title">{_esc(title)}</title><desc id="{sid}-desc">{_esc(desc)}</desc>'
        f'<rect width="{int(width)}" height="{int(height)}" fill="#ffffff"/>'
    )
    return head + "".join(body) + "</svg>"


def _legend(items: list[tuple[str, str]], *, x0: float, y0: float, max_w: float) -> tuple[list[str], float]:
    """Lay ``(swatch_svg_at_origin, label)`` pairs out in wrapping rows from ``(x0, y0)``;
    returns the SVG and the height used. A swatch is 24 x 12 px, drawn at (0, -9)."""
    if not items:
        return [], 0.0
    out = ['<g class="legend">']
    x, y = x0, y0 + 12
    for swatch, label in items:
        w = 24 + 6 + _text_w(label, _SMALL) + 16
        if x > x0 and x + w - 16 > x0 + max_w:
            x, y = x0, y + _LEGEND_ROW
        out.append(f'<g class="legend-item" transform="translate({_n(x)},{_n(y)})">{swatch}'
                   f'{_text(30, 0, label, size=_SMALL)}</g>')
        x += w
    out.append("</g>")
    return out, (y - y0) + 6


def _line_swatch(colour: str, dash: bool, points: bool) -> str:
    d = f' stroke-dasharray="{_DASH}"' if dash else ""
    dot = f'<circle cx="12" cy="-4" r="3" fill="{_esc(colour)}"/>' if points else ""
    return f'<line x1="0" y1="-4" x2="24" y2="-4" stroke="{_esc(colour)}" stroke-width="2.5"{d}/>{dot}'


def _rect_swatch(colour: str, opacity: float = 1.0, stroke: str | None = None) -> str:
    o = f' fill-opacity="{round(float(opacity), 3)}"' if opacity < 1 else ""
    s = f' stroke="{_esc(stroke)}" stroke-width="0.8"' if stroke else ""
    return f'<rect x="4" y="-10" width="16" height="12" fill="{_esc(colour)}"{o}{s}/>'


# --------------------------------------------------------------------------------------------
# line chart


def _segments(xs: Sequence[float], ys: Sequence[float]) -> list[list[tuple[float, float]]]:
    """Runs of finite (x, y) in x order; a non-finite y ends a run."""
    order = sorted((i for i, x in enumerate(xs) if math.isfinite(x)), key=lambda i: (xs[i], i))
    segs: list[list[tuple[float, float]]] = []
    cur: list[tuple[float, float]] = []
    for i in order:
        y = ys[i]
        if math.isfinite(y):
            cur.append((xs[i], y))
        elif cur:
            segs.append(cur)
            cur = []
    if cur:
        segs.append(cur)
    return segs


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    y_label: str,
    x_label: str = "",
    width: int = 720,
    height: int = 340,
    bands: Sequence[Band] = (),
    markers: Sequence[Marker] = (),
    hlines: Sequence[HLine] = (),
    vlines: Sequence[VLine] = (),
    fmt: Callable[[float], str] = default_fmt,
    y_zero: bool | None = None,
    svg_id: str | None = None,
) -> str:
    """A line chart as an inline ``<svg>`` string.

    Parameters
    ----------
    series
        Lines in legend order; ``dash=True`` for projections. NaN breaks a line.
    title, y_label, x_label
        Already translated, units included (e.g. ``"Net emissions (tCO2e/yr)"``).
    bands
        Uncertainty intervals drawn under the lines (legend entries after the lines).
    markers, hlines, vlines
        Labelled points and reference lines (labelled in place, not in the legend).
    fmt
        Formats y values (tick labels, marker labels, the ``<desc>``). Years are printed as-is.
    y_zero
        True always shows 0 on the y axis, False never forces it; None (default) shows it when
        the values are all on one side of 0 and the nearest is within half the farthest.
    svg_id
        Prefix of the ``<title>``/``<desc>`` ids; default a hash of the content.
    """
    series, bands = list(series), list(bands)
    colours = [s.colour or OKABE_ITO[i % len(OKABE_ITO)] for i, s in enumerate(series)]
    band_colours = [b.colour or OKABE_ITO[i % len(OKABE_ITO)] for i, b in enumerate(bands)]

    # legend first: its height decides the plot's
    items = [(_line_swatch(c, s.dash, s.points), s.label) for s, c in zip(series, colours)]
    items += [(_rect_swatch(c, b.opacity), b.label) for b, c in zip(bands, band_colours)]
    _, legend_h = _legend(items, x0=_PAD, y0=0.0, max_w=width - 2 * _PAD)

    top = _PAD + _TITLE_SIZE + 14
    bottom = height - _PAD - legend_h - (18 if x_label else 0) - 22
    plot_h = max(bottom - top, 20.0)

    # domains
    xs_all = [x for s in series for x in s.xs] + [x for b in bands for x in b.xs] + [m.x for m in markers] + [v.x for v in vlines]
    xs_all = [float(x) for x in xs_all if math.isfinite(x)]
    ys_all = [y for s in series for y in s.ys] + [v for b in bands for v in (*b.lows, *b.highs)]
    ys_all += [float(m.y) for m in markers] + [float(h.y) for h in hlines]
    y_lo, y_hi = _value_domain(ys_all, zero=y_zero)
    y_ticks = nice_ticks(y_lo, y_hi, max(3, min(8, round(plot_h / 45))))
    y_lo, y_hi = y_ticks[0], y_ticks[-1]
    if len(y_ticks) == 1:
        y_lo, y_hi = y_lo - 1, y_hi + 1
    y_tick_labels = _tick_labels(y_ticks, fmt)

    if xs_all:
        x_lo, x_hi = min(xs_all), max(xs_all)
    else:
        x_lo, x_hi = 0.0, 1.0
    if x_lo == x_hi:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    integer_x = all(float(x).is_integer() for x in xs_all)

    left = _PAD + (20 if y_label else 0) + max(_text_w(t, _SMALL) for t in y_tick_labels) + 8
    right = width - _PAD - max(_text_w(_xfmt(x_hi), _SMALL) / 2, 8)
    plot_w = max(right - left, 20.0)
    x_target = max(2, min(12, int(plot_w // 70)))
    x_ticks = nice_ticks(x_lo, x_hi, x_target, extend=False, integer=integer_x)
    sx = _Scale(x_lo, x_hi, left, left + plot_w)
    sy = _Scale(y_lo, y_hi, top + plot_h, top)

    body: list[str] = [_text(_PAD, _PAD + _TITLE_SIZE, title, size=_TITLE_SIZE, weight="bold", cls="chart-title")]
    body.append(f'<rect class="plot-area" x="{_n(left)}" y="{_n(top)}" width="{_n(plot_w)}" height="{_n(plot_h)}" fill="none"/>')
    # y grid and ticks
    body.append('<g class="y-axis">')
    for t, lab in zip(y_ticks, y_tick_labels):
        py = sy(t)
        body.append(f'<line x1="{_n(left)}" y1="{_n(py)}" x2="{_n(left + plot_w)}" y2="{_n(py)}" stroke="{_GRID}"/>')
        body.append(_text(left - 6, py + 4, lab, size=_SMALL, anchor="end", fill=_MUTED, cls="y-tick",
                          extra=f'data-value="{t!r}"'))
    body.append("</g>")
    if y_label:
        cx, cy = _PAD + 10, top + plot_h / 2
        body.append(_text(cx, cy, y_label, anchor="middle", cls="y-title",
                          extra=f'transform="rotate(-90 {_n(cx)} {_n(cy)})"'))
    # x axis
    body.append('<g class="x-axis">')
    body.append(f'<line x1="{_n(left)}" y1="{_n(top + plot_h)}" x2="{_n(left + plot_w)}" y2="{_n(top + plot_h)}" stroke="{_AXIS}"/>')
    for t in x_ticks:
        px = sx(t)
        body.append(f'<line x1="{_n(px)}" y1="{_n(top + plot_h)}" x2="{_n(px)}" y2="{_n(top + plot_h + 4)}" stroke="{_AXIS}"/>')
        body.append(_text(px, top + plot_h + 17, _xfmt(t), size=_SMALL, anchor="middle", fill=_MUTED, cls="x-tick",
                          extra=f'data-value="{t!r}"'))
    body.append("</g>")
    if x_label:
        body.append(_text(left + plot_w / 2, top + plot_h + 36, x_label, anchor="middle", cls="x-title"))
    if y_lo < 0 < y_hi:
        body.append(f'<line class="zero" x1="{_n(left)}" y1="{_n(sy(0))}" x2="{_n(left + plot_w)}" y2="{_n(sy(0))}" stroke="{_AXIS}"/>')

    # bands under the lines
    for b, c in zip(bands, band_colours):
        order = sorted((i for i, x in enumerate(b.xs) if math.isfinite(x)), key=lambda i: (b.xs[i], i))
        runs: list[list[int]] = []
        cur: list[int] = []
        for i in order:
            if math.isfinite(b.lows[i]) and math.isfinite(b.highs[i]):
                cur.append(i)
            elif cur:
                runs.append(cur)
                cur = []
        if cur:
            runs.append(cur)
        for run in runs:
            upper = [(sx(b.xs[i]), sy(b.highs[i])) for i in run]
            lower = [(sx(b.xs[i]), sy(b.lows[i])) for i in reversed(run)]
            pts = upper + lower
            d = "M" + "L".join(f"{_n(x)} {_n(y)}" for x, y in pts) + "Z"
            body.append(f'<path class="band" d="{d}" fill="{_esc(c)}" fill-opacity="{round(float(b.opacity), 3)}" stroke="none"/>')

    # reference lines
    for h in hlines:
        py = sy(float(h.y))
        body.append(f'<g class="hline"><line x1="{_n(left)}" y1="{_n(py)}" x2="{_n(left + plot_w)}" y2="{_n(py)}" '
                    f'stroke="{_MUTED}" stroke-width="1.2" stroke-dasharray="2 3"/>'
                    f'{_text(left + 4, py - 4, h.label, size=_SMALL, fill=_MUTED, extra=_HALO)}</g>')
    for k, v in enumerate(sorted(vlines, key=lambda v: (float(v.x), _clean(v.label)))):
        px = sx(float(v.x))
        ty = top + 12 + (k % 3) * 14
        near_right = px + _text_w(v.label, _SMALL) + 4 > left + plot_w
        lx, anchor = (px - 4, "end") if near_right else (px + 4, "start")
        body.append(f'<g class="vline"><line x1="{_n(px)}" y1="{_n(top)}" x2="{_n(px)}" y2="{_n(top + plot_h)}" '
                    f'stroke="{_MUTED}" stroke-width="1.2" stroke-dasharray="2 3"/>'
                    f'{_text(lx, ty, v.label, size=_SMALL, anchor=anchor, fill=_MUTED, extra=_HALO)}</g>')

    # lines
    for s, c in zip(series, colours):
        segs = _segments(s.xs, s.ys)
        body.append('<g class="series">')
        if segs:
            d = "".join(
                "M" + "L".join(f"{_n(sx(x))} {_n(sy(y))}" for x, y in seg) + ("l0 0" if len(seg) == 1 else "")
                for seg in segs
            )
            dash = f' stroke-dasharray="{_DASH}"' if s.dash else ""
            body.append(f'<path class="line" d="{d}" fill="none" stroke="{_esc(c)}" stroke-width="2.2" '
                        f'stroke-linejoin="round" stroke-linecap="round"{dash}/>')
        for seg in segs:
            if s.points or len(seg) == 1:  # a value between two gaps is a dot even without points
                for x, y in seg:
                    body.append(f'<circle class="point" cx="{_n(sx(x))}" cy="{_n(sy(y))}" r="3" fill="{_esc(c)}"/>')
        body.append("</g>")

    # markers
    for m in markers:
        if not (math.isfinite(m.x) and math.isfinite(m.y)):
            continue
        px, py = sx(float(m.x)), sy(float(m.y))
        above = py - top > 24
        ly = py - 9 if above else py + 18
        w = _text_w(m.label, _SMALL)
        anchor = "middle"
        if px - w / 2 < left:
            anchor = "start"
        elif px + w / 2 > left + plot_w:
            anchor = "end"
        body.append(f'<g class="marker"><circle cx="{_n(px)}" cy="{_n(py)}" r="4.5" fill="{_TEXT}" stroke="#ffffff" stroke-width="1.5"/>'
                    f'{_text(px, ly, m.label, size=_SMALL, anchor=anchor, weight="bold", extra=_HALO)}</g>')

    legend_y0 = height - _PAD - legend_h
    leg, _ = _legend(items, x0=_PAD, y0=legend_y0, max_w=width - 2 * _PAD)
    body += leg

    # the numbers, for a screen reader
    parts = [f"{y_label}."] if y_label else []
    for s in series:
        pts = [f"{_xfmt(x)} = {_safe_fmt(fmt, y)}" for x, y in zip(s.xs, s.ys) if math.isfinite(x)]
        parts.append(f"{s.label}: " + "; ".join(pts) + ".")
    for b in bands:
        pts = [f"{_xfmt(x)} = {_safe_fmt(fmt, lo)} – {_safe_fmt(fmt, hi)}" for x, lo, hi in zip(b.xs, b.lows, b.highs) if math.isfinite(x)]
        parts.append(f"{b.label}: " + "; ".join(pts) + ".")
    for m in markers:
        parts.append(f"{m.label}: {_xfmt(float(m.x))}, {_safe_fmt(fmt, float(m.y))}.")
    for h in hlines:
        parts.append(f"{h.label}: {_safe_fmt(fmt, float(h.y))}.")
    for v in vlines:
        parts.append(f"{v.label}: {_xfmt(float(v.x))}.")
    return _svg(width, height, title, " ".join(parts), body, kind="line", svg_id=svg_id)


# --------------------------------------------------------------------------------------------
# bar chart


def bar_chart(
    categories: Sequence[str],
    stacks: Sequence[Stack],
    *,
    title: str,
    y_label: str,
    x_label: str = "",
    horizontal: bool = False,
    width: int = 720,
    height: int = 340,
    errors: Sequence[tuple[float, float] | None] | None = None,
    total_label: str | None = None,
    fmt: Callable[[float], str] = default_fmt,
    svg_id: str | None = None,
) -> str:
    """Stacked bars as an inline ``<svg>`` string.

    Parameters
    ----------
    categories
        One bar per category (e.g. years, or methods), left to right (top to bottom when
        ``horizontal``).
    stacks
        Layers, one value per category. Positive values stack up from 0 in the given order,
        negative values stack down from 0 (so emissions above, removals below the zero line).
    title, y_label, x_label
        ``y_label`` titles the value axis, ``x_label`` the category axis (in either orientation).
    errors
        Optional ``(low, high)`` per category: an interval on the total drawn as a whisker
        (None or NaN for none).
    total_label
        When given, a black tick marks each bar's net total (sum of all layers) and the legend
        names it.
    fmt
        Formats values (ticks, tooltips and the ``<desc>``).
    """
    categories = [_clean(c) for c in categories]
    stacks = list(stacks)
    n = len(categories)
    for s in stacks:
        if len(s.values) != n:
            raise ValueError(f"stack {s.label!r}: {len(s.values)} values for {n} categories")
    if errors is not None and len(errors) != n:
        raise ValueError(f"{len(errors)} error intervals for {n} categories")
    errs: list[tuple[float, float] | None] = []
    for e in errors or [None] * n:
        if e is None:
            errs.append(None)
        else:
            lo, hi = float(e[0]), float(e[1])
            errs.append((min(lo, hi), max(lo, hi)) if math.isfinite(lo) and math.isfinite(hi) else None)
    colours = [s.colour or OKABE_ITO[i % len(OKABE_ITO)] for i, s in enumerate(stacks)]
    vals = np.array([[v if math.isfinite(v) else 0.0 for v in s.values] for s in stacks], dtype=float).reshape(len(stacks), n)
    pos = np.where(vals > 0, vals, 0).sum(axis=0)
    neg = np.where(vals < 0, vals, 0).sum(axis=0)
    totals = vals.sum(axis=0)

    items = [(_rect_swatch(c), s.label) for s, c in zip(stacks, colours)]
    if total_label:
        items.append(('<line x1="4" y1="-4" x2="20" y2="-4" stroke="#000000" stroke-width="2.5"/>', total_label))
    _, legend_h = _legend(items, x0=_PAD, y0=0, max_w=width - 2 * _PAD)

    domain_vals = [0.0, *pos.tolist(), *neg.tolist()] + [v for e in errs if e for v in e]
    v_lo, v_hi = _value_domain(domain_vals, zero=True)
    top = _PAD + _TITLE_SIZE + 14
    cat_w = max((_text_w(c, _SMALL) for c in categories), default=0.0)

    body: list[str] = [_text(_PAD, _PAD + _TITLE_SIZE, title, size=_TITLE_SIZE, weight="bold", cls="chart-title")]
    if not horizontal:
        # vertical layout: category labels under the bars, rotated when they do not fit
        base_bottom = height - _PAD - legend_h - (18 if x_label else 0)
        probe_h = max(base_bottom - 22 - top, 20.0)
        ticks = nice_ticks(v_lo, v_hi, max(3, min(8, round(probe_h / 45))))
        labels = _tick_labels(ticks, fmt)
        left = _PAD + (20 if y_label else 0) + max(_text_w(t, _SMALL) for t in labels) + 8
        plot_w = max(width - _PAD - left, 20.0)
        band = plot_w / max(n, 1)
        rotate = cat_w > band - 4
        label_h = (cat_w * 0.72 + 12) if rotate else 22
        plot_h = max(base_bottom - label_h - top, 20.0)
        ticks = nice_ticks(v_lo, v_hi, max(3, min(8, round(plot_h / 45))))
        labels = _tick_labels(ticks, fmt)
        left = max(left, _PAD + (20 if y_label else 0) + max(_text_w(t, _SMALL) for t in labels) + 8)
        plot_w = max(width - _PAD - left, 20.0)
        band = plot_w / max(n, 1)
        sv = _Scale(ticks[0], ticks[-1], top + plot_h, top)
        body.append(f'<rect class="plot-area" x="{_n(left)}" y="{_n(top)}" width="{_n(plot_w)}" height="{_n(plot_h)}" fill="none"/>')
        body.append('<g class="y-axis">')
        for t, lab in zip(ticks, labels):
            p = sv(t)
            body.append(f'<line x1="{_n(left)}" y1="{_n(p)}" x2="{_n(left + plot_w)}" y2="{_n(p)}" stroke="{_GRID}"/>')
            body.append(_text(left - 6, p + 4, lab, size=_SMALL, anchor="end", fill=_MUTED, cls="y-tick", extra=f'data-value="{t!r}"'))
        body.append("</g>")
        if y_label:
            cx, cy = _PAD + 10, top + plot_h / 2
            body.append(_text(cx, cy, y_label, anchor="middle", cls="y-title", extra=f'transform="rotate(-90 {_n(cx)} {_n(cy)})"'))
        body.append('<g class="x-axis">')
        for i, c in enumerate(categories):
            cx = left + band * (i + 0.5)
            if rotate:
                body.append(_text(cx, top + plot_h + 12, c, size=_SMALL, anchor="end", fill=_MUTED, cls="x-tick",
                                  extra=f'transform="rotate(-45 {_n(cx)} {_n(top + plot_h + 12)})"'))
            else:
                body.append(_text(cx, top + plot_h + 17, c, size=_SMALL, anchor="middle", fill=_MUTED, cls="x-tick"))
        body.append("</g>")
        if x_label:
            body.append(_text(left + plot_w / 2, top + plot_h + label_h + 14, x_label, anchor="middle", cls="x-title"))

        def rect(i: int, a: float, b: float) -> tuple[float, float, float, float]:
            bw = min(band * 0.62, 64.0)
            x = left + band * (i + 0.5) - bw / 2
            y0, y1 = sv(max(a, b)), sv(min(a, b))
            return x, y0, bw, y1 - y0

        zero_line = f'<line class="zero" x1="{_n(left)}" y1="{_n(sv(0))}" x2="{_n(left + plot_w)}" y2="{_n(sv(0))}" stroke="#444444"/>'
    else:
        # horizontal layout: category labels at the left, value axis at the bottom
        left = _PAD + (20 if x_label else 0) + cat_w + 8
        plot_w = max(width - _PAD - left - 10, 20.0)
        ticks = nice_ticks(v_lo, v_hi, max(2, min(10, int(plot_w // 80))))
        labels = _tick_labels(ticks, fmt)
        plot_h = max(height - _PAD - legend_h - (18 if y_label else 0) - 22 - top, 20.0)
        band = plot_h / max(n, 1)
        sv = _Scale(ticks[0], ticks[-1], left, left + plot_w)
        body.append(f'<rect class="plot-area" x="{_n(left)}" y="{_n(top)}" width="{_n(plot_w)}" height="{_n(plot_h)}" fill="none"/>')
        body.append('<g class="x-axis">')
        for t, lab in zip(ticks, labels):
            p = sv(t)
            body.append(f'<line x1="{_n(p)}" y1="{_n(top)}" x2="{_n(p)}" y2="{_n(top + plot_h)}" stroke="{_GRID}"/>')
            body.append(_text(p, top + plot_h + 17, lab, size=_SMALL, anchor="middle", fill=_MUTED, cls="x-tick", extra=f'data-value="{t!r}"'))
        body.append("</g>")
        if y_label:
            body.append(_text(left + plot_w / 2, top + plot_h + 36, y_label, anchor="middle", cls="x-title"))
        body.append('<g class="y-axis">')
        for i, c in enumerate(categories):
            body.append(_text(left - 6, top + band * (i + 0.5) + 4, c, size=_SMALL, anchor="end", fill=_MUTED, cls="y-tick"))
        body.append("</g>")
        if x_label:
            cx, cy = _PAD + 10, top + plot_h / 2
            body.append(_text(cx, cy, x_label, anchor="middle", cls="y-title", extra=f'transform="rotate(-90 {_n(cx)} {_n(cy)})"'))

        def rect(i: int, a: float, b: float) -> tuple[float, float, float, float]:
            bh = min(band * 0.62, 40.0)
            y = top + band * (i + 0.5) - bh / 2
            x0, x1 = sv(min(a, b)), sv(max(a, b))
            return x0, y, x1 - x0, bh

        zero_line = f'<line class="zero" x1="{_n(sv(0))}" y1="{_n(top)}" x2="{_n(sv(0))}" y2="{_n(top + plot_h)}" stroke="#444444"/>'

    # bars
    for j, (s, c) in enumerate(zip(stacks, colours)):
        body.append(f'<g class="stack" fill="{_esc(c)}">')
        for i in range(n):
            v = vals[j, i]
            if v == 0:
                continue
            if v > 0:
                base = float(np.where(vals[:j, i] > 0, vals[:j, i], 0).sum())
            else:
                base = float(np.where(vals[:j, i] < 0, vals[:j, i], 0).sum())
            x, y, w, h = rect(i, base, base + v)
            body.append(f'<rect class="bar" x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}">'
                        f'<title>{_esc(s.label)} · {_esc(categories[i])}: {_esc(fmt(float(v)))}</title></rect>')
        body.append("</g>")
    body.append(zero_line)

    # totals and whiskers
    if total_label:
        body.append('<g class="total">')
        for i in range(n):
            x, y, w, h = rect(i, float(totals[i]), float(totals[i]))
            if horizontal:
                body.append(f'<line x1="{_n(x)}" y1="{_n(y - 3)}" x2="{_n(x)}" y2="{_n(y + h + 3)}" stroke="#000000" stroke-width="2.5"/>')
            else:
                body.append(f'<line x1="{_n(x - 3)}" y1="{_n(y)}" x2="{_n(x + w + 3)}" y2="{_n(y)}" stroke="#000000" stroke-width="2.5"/>')
        body.append("</g>")
    if any(e is not None for e in errs):
        body.append(f'<g class="errors" stroke="{_TEXT}" stroke-width="1.3">')
        for i, e in enumerate(errs):
            if e is None:
                continue
            x, y, w, h = rect(i, e[0], e[1])
            if horizontal:
                cy = y + h / 2
                body.append(f'<path class="whisker" d="M{_n(x)} {_n(cy)}H{_n(x + w)}M{_n(x)} {_n(cy - 5)}V{_n(cy + 5)}'
                            f'M{_n(x + w)} {_n(cy - 5)}V{_n(cy + 5)}" fill="none"/>')
            else:
                cx = x + w / 2
                body.append(f'<path class="whisker" d="M{_n(cx)} {_n(y)}V{_n(y + h)}M{_n(cx - 5)} {_n(y)}H{_n(cx + 5)}'
                            f'M{_n(cx - 5)} {_n(y + h)}H{_n(cx + 5)}" fill="none"/>')
        body.append("</g>")

    leg, _ = _legend(items, x0=_PAD, y0=height - _PAD - legend_h, max_w=width - 2 * _PAD)
    body += leg

    parts = [f"{y_label}."] if y_label else []
    for i, c in enumerate(categories):
        vs = [f"{s.label} {_safe_fmt(fmt, s.values[i])}" for s in stacks if math.isfinite(s.values[i])]
        line = f"{c}: " + "; ".join(vs) + f"; Σ {fmt(float(totals[i]))}"
        if errs[i] is not None:
            line += f" [{fmt(errs[i][0])} – {fmt(errs[i][1])}]"
        parts.append(line + ".")
    return _svg(width, height, title, " ".join(parts), body, kind="bar", svg_id=svg_id)


# --------------------------------------------------------------------------------------------
# zone map

_KEEP_METHODS = {"Transverse Mercator", "Albers Equal Area", "Lambert Azimuthal Equal Area"}


def _drawing_crs(gdf):
    """The input CRS when it is a metric transverse-Mercator (UTM, Gauss-Krüger) or equal-area
    projection, otherwise the UTM zone of the data (``gdf.estimate_utm_crs()``)."""
    crs = gdf.crs
    try:
        op = crs.coordinate_operation
        if crs.is_projected and op is not None and op.method_name in _KEEP_METHODS \
                and crs.axis_info and crs.axis_info[0].unit_name in ("metre", "meter"):
            return crs
    except Exception:  # pragma: no cover - exotic CRS objects
        pass
    return gdf.estimate_utm_crs()


def _ring_path(coords: np.ndarray, tf: Callable[[np.ndarray], np.ndarray]) -> str:
    """One closed ring as ``M x y l dx dy ... z`` in tenths of a pixel (no drift: the deltas are
    taken between rounded positions)."""
    px = np.round(tf(np.asarray(coords)[:, :2]) * 10).astype(np.int64)
    if len(px) > 1 and (px[0] == px[-1]).all():
        px = px[:-1]
    if len(px) == 0:
        return ""
    keep = np.ones(len(px), dtype=bool)
    keep[1:] = (np.diff(px, axis=0) != 0).any(axis=1)
    px = px[keep]
    if len(px) > 1 and (px[0] == px[-1]).all():
        px = px[:-1]
    if len(px) < 3:
        return ""

    def t(v: int) -> str:
        s = f"{v / 10:.1f}"
        s = s[:-2] if s.endswith(".0") else s
        return "0" if s in ("-0", "0") else s

    d = np.diff(px, axis=0)
    return f"M{t(px[0, 0])} {t(px[0, 1])}l" + " ".join(f"{t(a)} {t(b)}" for a, b in d) + "z"


def _polygons(geom) -> list:
    from shapely.geometry import GeometryCollection, MultiPolygon, Polygon

    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, (MultiPolygon, GeometryCollection)):
        return [p for g in geom.geoms for p in _polygons(g)]
    return []


def _luminance(colour: str) -> float:
    """WCAG relative luminance of ``#rgb`` / ``#rrggbb`` (1.0, i.e. light, for anything else)."""
    c = colour.strip().lstrip("#")
    if len(c) == 3:
        c = "".join(ch * 2 for ch in c)
    try:
        rgb = [int(c[i:i + 2], 16) / 255 for i in (0, 2, 4)] if len(c) == 6 else None
    except ValueError:
        rgb = None
    if rgb is None:
        return 1.0
    lin = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def nice_floor(v: float) -> float:
    """The largest 1-2-5 x 10^k not above ``v``."""
    if v <= 0 or not math.isfinite(v):
        return 0.0
    mag = 10.0 ** math.floor(math.log10(v))
    for m in (5.0, 2.0, 1.0):
        if m * mag <= v * (1 + 1e-9):
            return float(f"{m * mag:.12g}")
    return float(f"{mag:.12g}")


def _scale_text(metres: float, units: tuple[str, str]) -> str:
    if metres >= 1000:
        return f"{metres / 1000:g} {units[1]}"
    return f"{metres:g} {units[0]}"


def _class_edges(vals: np.ndarray, palette_n: int, bins) -> np.ndarray:
    finite = vals[np.isfinite(vals)]
    if isinstance(bins, str):
        if bins not in ("equal", "quantile"):
            raise ValueError(f"bins={bins!r}: give edges, 'equal' or 'quantile'")
        scheme = bins
    elif bins is None:
        scheme = "equal"
    else:
        edges = np.asarray([float(b) for b in bins], dtype=float)
        if len(edges) < 2 or not np.all(np.isfinite(edges)) or np.any(np.diff(edges) <= 0):
            raise ValueError(f"bins {list(bins)} must be at least two increasing finite edges")
        return edges
    if finite.size == 0:
        return np.array([0.0, 1.0])
    lo, hi = float(finite.min()), float(finite.max())
    if lo == hi:
        return np.array([lo, hi])
    k = min(palette_n, int(np.unique(finite).size))
    if scheme == "quantile":
        edges = np.unique(np.quantile(finite, np.linspace(0, 1, k + 1)))
        return edges if len(edges) >= 2 else np.array([lo, hi])
    if palette_n == 1:
        return np.array([lo, hi])
    for target in range(k, 0, -1):
        step = nice_step(hi - lo, target)
        i0, i1 = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
        if i1 - i0 <= palette_n:
            break
    return np.array([float(f"{i * step:.12g}") + 0.0 for i in range(i0, i1 + 1)])


def zone_map(
    gdf,
    values=None,
    *,
    title: str,
    legend_title: str = "",
    labels=None,
    palette: Sequence[str] = VIRIDIS_5,
    bins: Sequence[float] | str | None = None,
    missing_colour: str = MISSING_COLOUR,
    missing_label: str = "–",
    width: int = 720,
    height: int = 480,
    fmt: Callable[[float], str] = default_fmt,
    scale_units: tuple[str, str] = ("m", "km"),
    north_label: str = "N",
    svg_id: str | None = None,
) -> str:
    """A choropleth of zones as an inline ``<svg>`` string.

    Parameters
    ----------
    gdf
        GeoDataFrame of (Multi)Polygons in any CRS (a CRS is required). Drawn in its own CRS when
        that is a metric transverse-Mercator or equal-area projection, else in
        ``gdf.estimate_utm_crs()``; simplified to about 0.5 px (shared edges kept shared when
        the zones form a valid coverage); holes drawn with ``fill-rule="evenodd"``.
    values
        Numbers indexed like ``gdf`` (None: all zones in one neutral colour, no value legend).
        NaN or a missing index -> ``missing_colour`` with ``missing_label`` in the legend.
    title, legend_title
        Already translated; ``legend_title`` names the quantity and its unit.
    labels
        Text per zone (indexed like ``gdf``) at each zone's representative point.
    palette
        Sequential colours, low to high (default viridis in five steps). With fewer classes than
        colours, colours are spread over the palette.
    bins
        Class edges, increasing (values below the first or above the last go to the end
        classes); ``"quantile"``; or None for round equal-width classes (at most
        ``len(palette)``; fewer when there are fewer distinct values). Classes are
        ``[e0, e1], (e1, e2], ...``.
    fmt
        Formats the legend's edges, the tooltips and the ``<desc>``.
    scale_units, north_label
        Translated unit names for the scale bar (metres, kilometres) and the north arrow.
    """
    import geopandas as gpd
    import pandas as pd
    import shapely

    from geodata.errors import EmptyResultError, MissingCRSError

    if not isinstance(gdf, gpd.GeoDataFrame):
        gdf = gpd.GeoDataFrame(geometry=gpd.GeoSeries(gdf))
    if gdf.crs is None:
        raise MissingCRSError(title or "zone map", "the zone layer has no CRS",
                              "set the layer's CRS (e.g. gdf.set_crs('EPSG:4326')) before drawing it")
    if len(gdf) == 0:
        raise EmptyResultError(title or "zone map", "there are no zones to draw", "pass at least one polygon")
    palette = [str(c) for c in palette]
    if not palette:
        raise ValueError("palette is empty")

    # values and labels aligned with the zones
    if values is not None:
        values = pd.Series(values)
        if not values.index.is_unique:
            raise ValueError("values: the index has duplicates; give one value per zone")
        vals = pd.to_numeric(values.reindex(gdf.index), errors="raise").to_numpy(dtype=float)
    else:
        vals = None
    if labels is not None:
        labels = pd.Series(labels)
        if not labels.index.is_unique:
            raise ValueError("labels: the index has duplicates; give one label per zone")
        labs = [None if (v is None or (isinstance(v, float) and math.isnan(v))) else _clean(v)
                for v in labels.reindex(gdf.index).tolist()]
    else:
        labs = [None] * len(gdf)

    crs = _drawing_crs(gdf)
    geo = gdf.geometry if gdf.crs == crs else gdf.geometry.to_crs(crs)
    polys = [_polygons(g) for g in geo]
    drawn = [shapely.MultiPolygon(p) if len(p) > 1 else (p[0] if p else None) for p in polys]
    present = [g for g in drawn if g is not None]
    if not present:
        raise EmptyResultError(title or "zone map", "no zone has a polygon geometry", "pass polygons or multipolygons")
    minx, miny, maxx, maxy = shapely.GeometryCollection(present).bounds
    dx, dy = max(maxx - minx, 1e-9), max(maxy - miny, 1e-9)

    # classes
    if vals is not None:
        edges = _class_edges(vals, len(palette), bins)
        n_cls = max(len(edges) - 1, 1)
        if n_cls > len(palette):
            raise ValueError(f"the bins make {n_cls} classes but the palette has {len(palette)} colours")
        if n_cls == 1:
            cls_colours = [palette[len(palette) // 2] if len(palette) > 2 else palette[-1]]
        else:
            cls_colours = [palette[round(i * (len(palette) - 1) / (n_cls - 1))] for i in range(n_cls)]
        cls = np.full(len(vals), -1)
        ok = np.isfinite(vals)
        cls[ok] = np.clip(np.searchsorted(edges[1:-1], vals[ok], side="left"), 0, n_cls - 1)
        any_missing = bool((~ok).any())
        edge_labels = _tick_labels(list(edges), fmt) if edges[0] != edges[-1] else [fmt(float(edges[0]))] * len(edges)
        finite = vals[ok]
        below = finite.size and finite.min() < edges[0]
        above = finite.size and finite.max() > edges[-1]
        legend_entries = []
        for i in range(n_cls):
            if n_cls == 1 and edges[0] == edges[-1]:
                text = edge_labels[0]
            elif i == 0 and below:
                text = f"≤ {edge_labels[1]}"
            elif i == n_cls - 1 and above:
                text = f"> {edge_labels[-2]}"
            else:
                text = f"{edge_labels[i]} – {edge_labels[i + 1]}"
            legend_entries.append((cls_colours[i], text))
        if any_missing:
            legend_entries.append((missing_colour, missing_label))
    else:
        edges, cls, cls_colours, legend_entries, any_missing = None, None, [], [], False

    # layout: title, map at the left, legend and north arrow at the right, scale bar below
    top = _PAD + _TITLE_SIZE + 14
    entry_w = max([_text_w(t, _SMALL) for _, t in legend_entries] + [0.0]) + 30
    panel_w = min(max(entry_w, _text_w(legend_title, _SMALL) if legend_title else 0.0, 110.0), width * 0.34)
    title_lines = _wrap(legend_title, panel_w, _SMALL) if legend_title else []
    map_x0 = _PAD
    map_w = max(width - 2 * _PAD - panel_w - 16, 40.0)
    map_h = max(height - top - _PAD - 30, 40.0)
    s = min(map_w / dx, map_h / dy)
    ox = map_x0 + (map_w - dx * s) / 2
    oy = top + (map_h - dy * s) / 2

    def tf(xy: np.ndarray) -> np.ndarray:
        out = np.empty((len(xy), 2))
        out[:, 0] = ox + (xy[:, 0] - minx) * s
        out[:, 1] = oy + (maxy - xy[:, 1]) * s
        return out

    tol = 0.5 / s
    arr = np.array([g if g is not None else shapely.Polygon() for g in drawn], dtype=object)
    simplified = None
    try:
        if len(present) > 1 and bool(shapely.coverage_is_valid(shapely.GeometryCollection(present))):
            simplified = shapely.coverage_simplify(arr, tol)
    except Exception:  # invalid polygons: fall back to per-zone simplification
        simplified = None
    if simplified is None:
        simplified = shapely.simplify(arr, tol, preserve_topology=True)

    body: list[str] = [_text(_PAD, _PAD + _TITLE_SIZE, title, size=_TITLE_SIZE, weight="bold", cls="chart-title")]
    body.append(f'<rect class="map-area" x="{_n(ox)}" y="{_n(oy)}" width="{_n(dx * s)}" height="{_n(dy * s)}" fill="none"/>')
    body.append('<g class="zones" stroke="#4d4d4d" stroke-width="0.6" stroke-linejoin="round" fill-rule="evenodd">')
    zone_names = [labs[i] if labs[i] is not None else _clean(idx) for i, idx in enumerate(gdf.index)]
    fills: list[str] = []
    for i, g in enumerate(simplified):
        if drawn[i] is None:
            fills.append("")
            continue
        rings = []
        for p in _polygons(g):
            rings.append(_ring_path(np.asarray(p.exterior.coords), tf))
            rings += [_ring_path(np.asarray(r.coords), tf) for r in p.interiors]
        d = "".join(r for r in rings if r)
        if not d:  # smaller than a pixel: a dot where it is
            c = drawn[i].representative_point()
            x, y = tf(np.array([[c.x, c.y]]))[0]
            d = f"M{_n(x - 0.5)} {_n(y - 0.5)}h1v1h-1z"
        if vals is None:
            fill, tip = "#dfe9dc", zone_names[i]
        elif cls[i] < 0:
            fill, tip = missing_colour, f"{zone_names[i]}: {missing_label}"
        else:
            fill, tip = cls_colours[cls[i]], f"{zone_names[i]}: {fmt(float(vals[i]))}"
        fills.append(fill)
        body.append(f'<path class="zone" d="{d}" fill="{_esc(fill)}"><title>{_esc(tip)}</title></path>')
    body.append("</g>")

    # labels at representative points (of the unsimplified zone); white on dark fills
    if any(lab is not None for lab in labs):
        body.append(f'<g class="zone-labels" font-size="{_SMALL}" text-anchor="middle" {_HALO}>')
        for i, g in enumerate(drawn):
            if g is None or labs[i] is None or labs[i] == "":
                continue
            c = g.representative_point()
            x, y = tf(np.array([[c.x, c.y]]))[0]
            dark = _luminance(fills[i]) < 0.3
            colours = ' fill="#ffffff" stroke="#222222"' if dark else ""
            body.append(f'<text x="{_n(x)}" y="{_n(y + 4)}"{colours}>{_esc(labs[i])}</text>')
        body.append("</g>")

    # legend
    lx = width - _PAD - panel_w
    ly = top + 4
    if title_lines or legend_entries:
        body.append('<g class="legend">')
        for line in title_lines:
            ly += 14
            body.append(_text(lx, ly, line, size=_SMALL, weight="bold", cls="legend-title"))
        ly += 6
        for colour, text in legend_entries:
            ly += _LEGEND_ROW
            body.append(f'<g class="legend-item" transform="translate({_n(lx)},{_n(ly)})">'
                        f'<rect x="0" y="-11" width="20" height="14" fill="{_esc(colour)}" stroke="#4d4d4d" stroke-width="0.6"/>'
                        f'{_text(28, 0, text, size=_SMALL)}</g>')
        body.append("</g>")

    # north arrow: grid convergence at the map centre (true north is not grid north off the
    # central meridian)
    angle = 0.0
    try:
        from pyproj import Transformer

        cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
        to_geo = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        to_map = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        lon, lat = to_geo.transform(cx, cy)
        nx, ny = to_map.transform(lon, min(lat + 0.01, 89.99))
        if math.isfinite(nx) and math.isfinite(ny):
            angle = round(math.degrees(math.atan2(nx - cx, ny - cy)), 1) + 0.0
    except Exception:  # pragma: no cover - a CRS pyproj cannot invert
        angle = 0.0
    ax, ay = width - _PAD - 16, height - _PAD - 34
    body.append(f'<g class="north-arrow" transform="translate({_n(ax)},{_n(ay)}) rotate({_n(angle)})">'
                f'<path d="M0 -16L7 8L0 3L-7 8Z" fill="{_TEXT}"/>'
                f'<text x="0" y="-20" text-anchor="middle" font-size="{_SMALL}" font-weight="bold">{_esc(north_label)}</text></g>')

    # scale bar: the longest round length (1-2-5 x 10^k m) within a quarter of the map's width
    bar_m = nice_floor(0.25 * map_w / s)
    bar_px = bar_m * s
    label_w = _text_w(_scale_text(bar_m, scale_units), _SMALL) + 6
    bx, by = max(map_x0, min(ox, map_x0 + map_w - bar_px - label_w)), height - _PAD - 10
    body.append(f'<g class="scale-bar" data-metres="{bar_m!r}">'
                f'<rect class="scale-bar-bar" x="{_n(bx)}" y="{_n(by - 4)}" width="{_n(bar_px)}" height="4" fill="{_TEXT}"/>'
                f'<rect x="{_n(bx + bar_px / 2)}" y="{_n(by - 4)}" width="{_n(bar_px / 2)}" height="4" fill="#ffffff" stroke="{_TEXT}" stroke-width="0.8"/>'
                f'{_text(bx + bar_px + 6, by, _scale_text(bar_m, scale_units), size=_SMALL, cls="scale-label")}</g>')

    # the numbers, for a screen reader
    parts = [f"{legend_title}." if legend_title else ""]
    if vals is not None:
        zone_txt = [f"{zone_names[i]} = {fmt(float(vals[i])) if math.isfinite(vals[i]) else missing_label}" for i in range(len(gdf))]
        parts.append("; ".join(zone_txt) + ".")
        parts.append(" | ".join(t for _, t in legend_entries) + ".")
    else:
        parts.append("; ".join(zone_names) + ".")
    parts.append(f"{_scale_text(bar_m, scale_units)}.")
    return _svg(width, height, title, " ".join(p for p in parts if p), body, kind="map", svg_id=svg_id)
