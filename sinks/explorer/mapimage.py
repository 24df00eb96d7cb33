"""Frames -> finished pictures with Pillow: a map PNG, a card PNG, an animated GIF.

:func:`map_png` lays out, on a white page ``width_px`` wide::

    title
    +------------------------------+  legend (swatches, or a ramp / bins with ticks and unit)
    | map            north arrow   |
    |   (outline drawn)            |  locator inset: the study area (grey) and this map's box
    | scale bar                    |
    +------------------------------+
    source / date line

The scale bar is the longest round length (1, 2 or 5 x 10^n m) within a quarter of the map's
width, measured along the parallel at the map's centre latitude on the WGS84 ellipsoid
(:func:`scale_bar`); the frames' pixels are square in metres there, so it holds both ways near
the centre. North is up (the frames are lon/lat grids).

Text: Noto Sans CJK (or Source Han Sans / WenQuanYi) when installed, for 中文 and English alike.
Without a CJK font, Chinese is impossible to draw: the pictures fall back to Pillow's default
font and the legends' English words, and :func:`text_fallback_note` says so (the PNG also
carries it as a ``Note`` text chunk). Nothing here raises for a missing font.

:func:`timelapse_gif` renders every frame with the same layout and size and assembles an
animated GIF. No MP4: Pillow has no video encoder and imageio-ffmpeg / PyAV are not installed.
"""
from __future__ import annotations

import datetime as _dt
import glob
import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from sinks.explorer.frames import Frame, Legend, metres_per_degree, ramp_colour
from sinks.ledger.svg import nice_floor  # one 1-2-5 rounding for every scale bar

__all__ = ["scale_bar", "map_png", "card_png", "timelapse_gif", "map_image", "cjk_font_path",
           "text_fallback_note", "Layout"]

_PAGE = (255, 255, 255)
_MAP_BG = (246, 246, 243)
_TEXT = (34, 34, 34)
_MUTED = (90, 90, 90)
_FRAME_BOX = (213, 94, 0)  # Okabe-Ito vermillion: this map's box in the locator
_STUDY_FILL = (215, 215, 215)

_CJK_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)
_CJK_GLOBS = ("/usr/share/fonts/**/NotoSansCJK*.tt[cf]", "/usr/share/fonts/**/NotoSansSC*.[ot]tf",
              "/usr/share/fonts/**/SourceHanSans*.tt[cf]", "/usr/share/fonts/**/wqy-*.tt[cf]",
              "/usr/share/fonts/**/*CJK*.tt[cf]")


# =============================================================================== fonts


@lru_cache(maxsize=1)
def cjk_font_path() -> tuple[str, int] | None:
    """(file, face index) of a font that draws Chinese (the Simplified Chinese face of a .ttc),
    or None. ``EXPLORER_CJK_FONT`` overrides the search (set it to an empty string to test the
    fallback)."""
    env = os.environ.get("EXPLORER_CJK_FONT")
    paths = [env] if env is not None else list(_CJK_CANDIDATES) + sorted(p for g in _CJK_GLOBS for p in glob.glob(g, recursive=True))
    for p in paths:
        if not p or not os.path.isfile(p):
            continue
        try:
            for idx in range(8 if p.lower().endswith(".ttc") else 1):
                f = ImageFont.truetype(p, 12, index=idx)
                if "SC" in " ".join(f.getname()) or not p.lower().endswith(".ttc"):
                    return p, idx
            return p, 0
        except OSError:
            continue
    return None


@lru_cache(maxsize=64)
def _font(size: int, bold: bool = False):
    found = cjk_font_path()
    if found:
        path, idx = found
        bold_path = path.replace("-Regular", "-Bold")
        try:
            return ImageFont.truetype(bold_path if bold and os.path.isfile(bold_path) else path, size, index=idx)
        except OSError:
            pass
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _text_lang(lang: str) -> str:
    """The language the pictures can be drawn in: ``"en"`` when Chinese is asked for but no CJK
    font is installed."""
    return "zh" if lang == "zh" and cjk_font_path() is not None else "en"


def text_fallback_note(lang: str) -> str | None:
    """A sentence for the page when ``lang`` is Chinese and no CJK font is installed (the
    pictures then use Pillow's default font and English legends), else None."""
    if lang == "zh" and cjk_font_path() is None:
        return ("No CJK font found (install fonts-noto-cjk): map pictures use Pillow's default font and English "
                "legends; Chinese titles passed in may show as boxes.")
    return None


# =============================================================================== scale bar


def _distance_text(metres: float, lang: str) -> str:
    zh = lang == "zh"
    if metres >= 1000:
        return f"{metres / 1000:g} {'千米' if zh else 'km'}"
    return f"{metres:g} {'米' if zh else 'm'}"


def scale_bar(width_px: int, bounds_lonlat: Sequence[float], *, max_frac: float = 0.25, lang: str = "en") -> tuple[float, int, str]:
    """(metres, pixels, label) of a scale bar for a map ``width_px`` wide spanning
    ``bounds_lonlat``: the longest 1-2-5 x 10^n metres within ``max_frac`` of the width, measured
    along the centre latitude's parallel (WGS84: N(phi) cos(phi) per radian of longitude)."""
    w, s, e, n = (float(v) for v in bounds_lonlat)
    mx, _ = metres_per_degree((s + n) / 2.0)
    m_per_px = (e - w) * mx / float(width_px)
    metres = nice_floor(width_px * max_frac * m_per_px)
    return metres, int(round(metres / m_per_px)), _distance_text(metres, lang)


# =============================================================================== drawing helpers


@dataclass(frozen=True)
class Layout:
    """Pixel sizes of one picture (everything scales with ``width_px / 1000``)."""

    width_px: int
    pad: int
    panel_w: int
    map_w: int
    title_size: int
    text_size: int
    small_size: int

    @classmethod
    def for_width(cls, width_px: int) -> "Layout":
        s = max(width_px, 320) / 1000.0
        pad = max(6, round(16 * s))
        panel_w = max(120, round(270 * s))
        return cls(width_px=int(width_px), pad=pad, panel_w=panel_w, map_w=int(width_px) - panel_w - 3 * pad,
                   title_size=max(12, round(26 * s)), text_size=max(10, round(16 * s)), small_size=max(9, round(13 * s)))


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    """Greedy wrap by characters (works for Chinese, which has no spaces) at spaces when possible."""
    lines: list[str] = []
    for para in str(text).split("\n"):
        cur = ""
        for ch in para:
            if draw.textlength(cur + ch, font=font) <= width or not cur:
                cur += ch
                continue
            cut = cur.rfind(" ")
            if cut > 0 and cut > len(cur) // 2:
                lines.append(cur[:cut])
                cur = cur[cut + 1:] + ch
            else:
                lines.append(cur)
                cur = ch
        lines.append(cur)
    return lines


def _plain(text: str) -> str:
    """``text`` with the dashes and signs Pillow's default font lacks spelled in ASCII, when no
    CJK font (which has them) is installed."""
    if cjk_font_path() is not None:
        return text
    return text.replace("–", "-").replace("≤", "<=").replace("·", "|").replace("—", "-")


def _line_h(font) -> int:
    box = font.getbbox("Hg国")
    return int(math.ceil((box[3] - box[1]) * 1.45)) + 1


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:g}"


def _geom_lines(geom) -> list[np.ndarray]:
    """Coordinate arrays of the lines that draw ``geom`` (polygon rings, lines)."""
    import shapely

    if geom is None or geom.is_empty:
        return []
    out = []
    for part in shapely.get_parts(geom):
        if part.geom_type in ("Polygon", "MultiPolygon"):
            out.extend(_geom_lines(part.boundary))
        elif part.geom_type in ("LineString", "LinearRing"):
            out.append(np.asarray(part.coords)[:, :2])
        elif part.geom_type.startswith("Multi") or part.geom_type == "GeometryCollection":
            out.extend(_geom_lines(part))
    return out


def _to_px(xy: np.ndarray, bounds, box) -> list[tuple[float, float]]:
    w, s, e, n = bounds
    x0, y0, bw, bh = box
    px = x0 + (xy[:, 0] - w) / (e - w) * bw
    py = y0 + (n - xy[:, 1]) / (n - s) * bh
    return list(zip(px.tolist(), py.tolist()))


def _draw_outline(draw, geom, bounds, box, *, width: int, colour=(20, 20, 20), halo=(255, 255, 255)) -> None:
    for line in _geom_lines(geom):
        pts = _to_px(line, bounds, box)
        if len(pts) < 2:
            continue
        if halo is not None:
            draw.line(pts, fill=halo, width=width + 2, joint="curve")
        draw.line(pts, fill=colour, width=width, joint="curve")


def _north_arrow(draw, x: int, y: int, size: int, lang: str) -> None:
    """A north arrow whose tip is at (x, y + size*0.9) below the letter, centred on x."""
    font = _font(max(10, int(size * 0.55)), bold=True)
    letter = "北" if lang == "zh" else "N"
    tw = draw.textlength(letter, font=font)
    draw.rounded_rectangle([x - size * 0.55, y - 2, x + size * 0.55, y + size * 2.05], radius=4, fill=(255, 255, 255, 215))
    draw.text((x - tw / 2, y), letter, font=font, fill=_TEXT)
    top = y + size * 0.8
    h = size * 1.15
    draw.polygon([(x, top), (x - size * 0.32, top + h), (x, top + h * 0.72)], fill=_TEXT)
    draw.polygon([(x, top), (x + size * 0.32, top + h), (x, top + h * 0.72)], fill=(255, 255, 255), outline=_TEXT)


def _legend_height_and_draw(draw, img, legend: Legend, x: int, y: int, width: int, lay: Layout, lang: str, *, dry: bool) -> int:
    """Draw the legend at (x, y) (unless ``dry``) and return its height."""
    tf, sf = _font(lay.text_size, bold=True), _font(lay.small_size)
    lh, slh = _line_h(tf), _line_h(sf)
    yy = y
    title = legend.title(lang) + (f" ({legend.unit})" if legend.unit else "")
    title_lines = _wrap(draw, title, tf, width)
    if legend.unit and len(title_lines) > 1:  # the unit on a line of its own, never split
        title_lines = _wrap(draw, legend.title(lang), tf, width) + [f"({legend.unit})"]
    for line in title_lines:
        if not dry:
            draw.text((x, yy), line, font=tf, fill=_TEXT)
        yy += lh
    sw = max(12, round(lay.small_size * 1.4))
    sh = max(9, round(lay.small_size * 1.0))

    def swatch_row(label: str, rgb) -> None:
        nonlocal yy
        lines = _wrap(draw, label, sf, width - sw - 8)
        if not dry:
            draw.rectangle([x, yy + 2, x + sw, yy + 2 + sh], fill=tuple(rgb), outline=(120, 120, 120))
            for i, ln in enumerate(lines):
                draw.text((x + sw + 8, yy + i * slh - 1), ln, font=sf, fill=_TEXT)
        yy += max(slh * len(lines), sh + 6)

    if legend.kind == "classes":
        for zh, en, rgb in legend.items:
            swatch_row(zh if lang == "zh" else en, rgb)
    elif legend.kind == "ramp":
        lo, hi = legend.stops[0][0], legend.stops[-1][0]
        bar_h = max(10, round(lay.small_size * 1.2))
        bw = width - 12
        if not dry:
            xs = np.linspace(lo, hi, bw)
            cols = ramp_colour(xs, legend.stops)
            strip = Image.fromarray(np.repeat(cols[None], bar_h, axis=0), "RGB")
            img.paste(strip, (x + 6, yy + 2))
            draw.rectangle([x + 6, yy + 2, x + 6 + bw, yy + 2 + bar_h], outline=(120, 120, 120))
            for t in legend.ticks or (lo, hi):
                tx = x + 6 + (t - lo) / (hi - lo) * bw if hi > lo else x + 6
                draw.line([(tx, yy + 2 + bar_h), (tx, yy + 6 + bar_h)], fill=_TEXT, width=1)
                label = _fmt(t)
                tw = draw.textlength(label, font=sf)
                draw.text((min(max(tx - tw / 2, x), x + width - tw), yy + 7 + bar_h), label, font=sf, fill=_TEXT)
        yy += bar_h + 8 + slh + 4
        for zh, en, rgb in legend.items:
            swatch_row(zh if lang == "zh" else en, rgb)
    else:  # bins, strongest gain on top
        rows = []
        prev = -math.inf
        for upper, rgb in legend.stops:
            if upper == 0.0:
                prev = 0.0
                continue
            if prev == -math.inf:
                text = f"≤ {_fmt(upper)}"
            elif upper == math.inf:
                text = f"> {_fmt(prev)}"
            elif -1e-300 < upper < 0:
                text = f"{_fmt(prev)} – 0"
            else:
                text = f"{_fmt(prev)} – {_fmt(upper)}"
            rows.append((_plain(text), rgb))
            prev = upper
        for text, rgb in reversed(rows):
            swatch_row(text, rgb)
        for zh, en, rgb in legend.items:
            swatch_row(zh if lang == "zh" else en, rgb)
    note = legend.note(lang)
    if note:
        for line in _wrap(draw, note, sf, width):
            if not dry:
                draw.text((x, yy), line, font=sf, fill=_MUTED)
            yy += slh
    return yy - y


def _locator(draw, frame_bounds, locator_bounds, locator_outline, x: int, y: int, width: int, lang: str, lay: Layout) -> int:
    """The locator inset: the study area (outline or box, grey) and the frame's box; returns its height."""
    sf = _font(lay.small_size)
    label = "位置" if lang == "zh" else "Location"
    draw.text((x, y), label, font=_font(lay.text_size, bold=True), fill=_TEXT)
    y0 = y + _line_h(_font(lay.text_size, bold=True))
    fw, fs, fe, fn = frame_bounds
    lw, ls, le, ln = locator_bounds
    w, s, e, n = min(fw, lw), min(fs, ls), max(fe, le), max(fn, ln)
    dx, dy = (e - w) * 0.08, (n - s) * 0.08
    ext = (w - dx, s - dy, e + dx, n + dy)
    mx, my = metres_per_degree((ext[1] + ext[3]) / 2)
    aspect = ((ext[3] - ext[1]) * my) / ((ext[2] - ext[0]) * mx)
    bw = width
    bh = int(round(bw * aspect))
    if bh > width * 1.3:
        bh = int(width * 1.3)
        bw = int(round(bh / aspect))
    box = (x, y0, bw, bh)
    draw.rectangle([x, y0, x + bw, y0 + bh], fill=_MAP_BG, outline=(150, 150, 150))
    if locator_outline is not None:
        import shapely

        for part in shapely.get_parts(locator_outline):
            for poly in shapely.get_parts(part):
                if poly.geom_type == "Polygon":
                    draw.polygon(_to_px(np.asarray(poly.exterior.coords), ext, box), fill=_STUDY_FILL, outline=(120, 120, 120))
    else:
        p = _to_px(np.array([[lw, ln], [le, ls]]), ext, box)
        draw.rectangle([p[0], p[1]], fill=_STUDY_FILL, outline=(120, 120, 120))
    q = _to_px(np.array([[fw, fn], [fe, fs]]), ext, box)
    (qx0, qy0), (qx1, qy1) = q
    if qx1 - qx0 < 4:  # keep a tiny box visible
        qx0, qx1 = (qx0 + qx1) / 2 - 2, (qx0 + qx1) / 2 + 2
    if qy1 - qy0 < 4:
        qy0, qy1 = (qy0 + qy1) / 2 - 2, (qy0 + qy1) / 2 + 2
    draw.rectangle([qx0, qy0, qx1, qy1], outline=_FRAME_BOX, width=max(2, lay.pad // 6))
    cap = "灰色：研究区；橙框：本图范围" if lang == "zh" else "Grey: study area; orange box: this map"
    yy = y0 + bh + 4
    for line in _wrap(draw, cap, sf, width):
        draw.text((x, yy), line, font=sf, fill=_MUTED)
        yy += _line_h(sf)
    return yy - y


# =============================================================================== pictures


def map_image(
    frame: Frame,
    *,
    title: str,
    lang: str = "zh",
    outline=None,
    locator_bounds: Sequence[float] | None = None,
    locator_outline=None,
    width_px: int = 1000,
    source_line: str | None = None,
    date: str | None = None,
    show_label: bool = True,
    min_height_px: int = 0,
) -> Image.Image:
    """The map picture as an RGB Pillow image (what :func:`map_png` encodes)."""
    lang = _text_lang(lang)
    if locator_bounds is None and locator_outline is not None:  # the outline alone is enough for the inset
        locator_bounds = tuple(float(v) for v in locator_outline.bounds)
    lay = Layout.for_width(width_px)
    if lay.map_w < 50:
        raise ValueError(f"width_px={width_px} leaves no room for the map")
    fh, fw = frame.shape
    map_w = lay.map_w
    map_h = max(1, int(round(map_w * fh / fw)))
    scratch = ImageDraw.Draw(Image.new("RGB", (8, 8)))
    tf = _font(lay.title_size, bold=True)
    title_lines = _wrap(scratch, _plain(title), tf, width_px - 2 * lay.pad) if title else []
    top = lay.pad + len(title_lines) * _line_h(tf) + (lay.pad // 2 if title_lines else 0)
    panel_x = lay.pad * 2 + map_w
    legend_h = _legend_height_and_draw(scratch, None, frame.legend, panel_x, 0, lay.panel_w, lay, lang, dry=True)
    sf = _font(lay.small_size)
    if source_line is None:
        when = date or _dt.date.today().isoformat()
        src = frame.source or "-"
        source_line = f"数据：{src} · 制图：{when}" if lang == "zh" else f"Data: {src} · Made: {when}"
    foot_lines = _wrap(scratch, _plain(source_line), sf, width_px - 2 * lay.pad)
    foot_h = len(foot_lines) * _line_h(sf) + lay.pad
    loc_h_est = int(lay.panel_w * 1.3) + 4 * _line_h(sf) if locator_bounds is not None else 0
    body_h = max(map_h, legend_h + lay.pad + loc_h_est)
    height = max(top + body_h + lay.pad // 2 + foot_h, int(min_height_px))

    img = Image.new("RGB", (width_px, height), _PAGE)
    draw = ImageDraw.Draw(img, "RGBA")
    yy = lay.pad
    for line in title_lines:
        draw.text((lay.pad, yy), line, font=tf, fill=_TEXT)
        yy += _line_h(tf)

    # the map
    mx0, my0 = lay.pad, top
    base = Image.new("RGBA", (map_w, map_h), _MAP_BG + (255,))
    pic = Image.fromarray(frame.rgba, "RGBA").resize((map_w, map_h), Image.Resampling.NEAREST)
    base.alpha_composite(pic)
    img.paste(base.convert("RGB"), (mx0, my0))
    box = (mx0, my0, map_w, map_h)
    geom = outline if outline is not None else frame.outline
    if geom is not None:
        _draw_outline(draw, geom, frame.bounds_lonlat, box, width=max(2, lay.pad // 6))
    draw.rectangle([mx0, my0, mx0 + map_w, my0 + map_h], outline=(140, 140, 140))

    # label badge (the year), top left
    if show_label and frame.label:
        badge = _plain(frame.label)
        bf = _font(lay.title_size, bold=True)
        tw = draw.textlength(badge, font=bf)
        bh = _line_h(bf)
        draw.rounded_rectangle([mx0 + lay.pad // 2, my0 + lay.pad // 2, mx0 + lay.pad + tw + lay.pad // 2, my0 + lay.pad // 2 + bh + 4],
                               radius=5, fill=(255, 255, 255, 225), outline=(120, 120, 120))
        draw.text((mx0 + lay.pad, my0 + lay.pad // 2 + 1), badge, font=bf, fill=_TEXT)

    # north arrow, top right
    na = max(14, lay.text_size + 6)
    _north_arrow(draw, mx0 + map_w - lay.pad - na // 2, my0 + lay.pad // 2 + 2, na, lang)

    # scale bar, bottom left
    metres, bar_px, text = scale_bar(map_w, frame.bounds_lonlat, lang=lang)
    if metres > 0 and bar_px > 0:
        bx, by = mx0 + lay.pad, my0 + map_h - lay.pad
        th = _line_h(sf)
        tw = draw.textlength(text, font=sf)
        draw.rectangle([bx - 6, by - th - 10, bx + max(bar_px, tw) + 6, by + 6], fill=(255, 255, 255, 215))
        half = bar_px // 2
        draw.rectangle([bx, by - 4, bx + half, by], fill=_TEXT)
        draw.rectangle([bx + half, by - 4, bx + bar_px, by], fill=(255, 255, 255), outline=_TEXT)
        draw.text((bx, by - th - 6), text, font=sf, fill=_TEXT)

    # legend and locator, right
    _legend_height_and_draw(draw, img, frame.legend, panel_x, top, lay.panel_w, lay, lang, dry=False)
    if locator_bounds is not None:
        _locator(draw, frame.bounds_lonlat, tuple(float(v) for v in locator_bounds), locator_outline, panel_x,
                 top + legend_h + lay.pad, lay.panel_w, lang, lay)

    fy = height - foot_h + lay.pad // 2
    for line in foot_lines:
        draw.text((lay.pad, fy), line, font=sf, fill=_MUTED)
        fy += _line_h(sf)
    return img


def _png_bytes(img: Image.Image, *, title: str, lang: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("Title", title or "")
    note = text_fallback_note(lang)
    if note:
        info.add_text("Note", note)
    buf = io.BytesIO()
    img.save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def map_png(frame: Frame, *, title: str, lang: str = "zh", outline=None, locator_bounds: Sequence[float] | None = None,
            locator_outline=None, width_px: int = 1000, source_line: str | None = None, date: str | None = None,
            show_label: bool = True, min_height_px: int = 0) -> bytes:
    """A finished map as PNG bytes, exactly ``width_px`` wide: the frame, ``outline`` (or the
    frame's own) drawn, the legend, a scale bar, a north arrow, a locator inset (when
    ``locator_bounds``, the study area's lon/lat bounds, or ``locator_outline`` is given), the
    title and a source / date line (``source_line`` replaces the default one); ``min_height_px``
    pads the bottom (two pictures of one place with different legends then line up in a swipe)."""
    img = map_image(frame, title=title, lang=lang, outline=outline, locator_bounds=locator_bounds,
                    locator_outline=locator_outline, width_px=width_px, source_line=source_line, date=date,
                    show_label=show_label, min_height_px=min_height_px)
    return _png_bytes(img, title=title, lang=lang)


def card_png(frame: Frame, lines: Sequence[str], *, title: str, lang: str = "zh", outline=None,
             locator_bounds: Sequence[float] | None = None, locator_outline=None, width_px: int = 1000,
             source_line: str | None = None, date: str | None = None) -> bytes:
    """A shareable card: the map of :func:`map_png` with the card's figures below it, one text
    line per item of ``lines`` (already formatted by the caller; long lines wrap)."""
    img = map_image(frame, title=title, lang=lang, outline=outline, locator_bounds=locator_bounds,
                    locator_outline=locator_outline, width_px=width_px, source_line=source_line, date=date)
    lay = Layout.for_width(width_px)
    font = _font(round(lay.text_size * 1.1))
    scratch = ImageDraw.Draw(Image.new("RGB", (8, 8)))
    wrapped = [w for line in lines for w in _wrap(scratch, line, font, width_px - 2 * lay.pad)]
    lh = _line_h(font)
    text_h = len(wrapped) * lh + 2 * lay.pad if wrapped else 0
    card = Image.new("RGB", (width_px, img.height + text_h), _PAGE)
    card.paste(img, (0, 0))
    draw = ImageDraw.Draw(card)
    if wrapped:
        y = img.height + lay.pad // 2
        draw.line([(lay.pad, y), (width_px - lay.pad, y)], fill=(200, 200, 200), width=1)
        y += lay.pad // 2
        for w in wrapped:
            draw.text((lay.pad, y), w, font=font, fill=_TEXT)
            y += lh
    return _png_bytes(card, title=title, lang=lang)


def timelapse_gif(frames: Sequence[Frame], *, duration_ms: int = 1200, loop: int = 0, lang: str = "zh", title: str = "",
                  width_px: int = 800, outline=None, locator_bounds: Sequence[float] | None = None, locator_outline=None,
                  source_line: str | None = None, date: str | None = None) -> bytes:
    """An animated GIF, one picture per frame (:func:`map_image` with the frame's label, e.g.
    its year, as a badge and after ``title``), all the same size (the smaller ones padded with
    white), each shown ``duration_ms``; ``loop`` 0 repeats for ever."""
    if not frames:
        raise ValueError("no frames to animate")
    imgs = [map_image(f, title=f"{title} {f.label}".strip(), lang=lang, outline=outline, locator_bounds=locator_bounds,
                      locator_outline=locator_outline, width_px=width_px, source_line=source_line, date=date)
            for f in frames]
    h = max(im.height for im in imgs)
    pal = []
    for im in imgs:
        if im.height < h:
            full = Image.new("RGB", (width_px, h), _PAGE)
            full.paste(im, (0, 0))
            im = full
        pal.append(im.quantize(colors=255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE))
    buf = io.BytesIO()
    pal[0].save(buf, format="GIF", save_all=True, append_images=pal[1:], duration=int(duration_ms), loop=int(loop),
                disposal=1, optimize=False)
    return buf.getvalue()
