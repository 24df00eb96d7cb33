"""The "Greening coverage" screen's data: the assessment per unit set, its choropleth, tables,
targets and progress, planting candidates and the point-sample check.

The numbers come from :mod:`sinks.greening` (the CLI's ``python -m sinks greening``). The
per-date masks (:func:`sinks.greening.assess.build_layers`) are built once per configuration
fingerprint and reused for every unit set; one assessment is kept per (fingerprint, unit set,
upload). Both are shared by all sessions like :mod:`ui.cache` keeps assessments, and computed
outside any ``st.cache_*`` function so that the progress bar is never replayed.

Targets edited in a session do not recompute the assessment: progress against them is the
core's :func:`sinks.greening.targets.progress_table` over the assessment's indicators.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

import altair as alt
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from geodata.crs import DISPLAY_CRS
from geodata.errors import DataError
from geodata.points import safe_for_csv
from sinks.config import load_config
from sinks.greening import indicators as indicators_core
from sinks.greening import sampling
from sinks.greening.assess import GreeningAssessment, GreeningLayers, build_layers, greening_assessment
from sinks.greening.targets import check_targets, load_targets, progress_table, target_indicators, unmatched_units
from ui import fmt, leaflet
from ui.leaflet import geojson, map_outlines
from ui.cache import KeyedLRU, file_stat, fingerprint
from ui.i18n import DICTS, step_text, t

__all__ = ["DataError"]

# viridis in five steps (colour-blind safe, light = high); undefined units are grey and dashed
VIRIDIS = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")
UNDEFINED_HEX = "#9e9e9e"
# status against target: Okabe-Ito (colour-blind safe); undefined grey and dashed like the values
STATUS_HEX = {"below": "#E69F00", "met": "#009E73", "undefined": UNDEFINED_HEX, "no_target": "#56B4E9"}
COLOUR_BY = ("value", "status")
PARK_HEX = "#1b7837"  # parks: white with a dark-green outline, apart from the viridis fills
PATCH_HEX = {"afforestation": "#D55E00", "greening": "#CC79A7"}
POINT_EDGE = "#000000"
MAX_MAP_PATCHES = 400  # largest candidate patches drawn on the map (the list has all)
MAX_UPLOAD_BYTES = 20 * 2**20
COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")
STATUSES = ("below", "met", "undefined")
KINDS = ("afforestation", "greening", "shelterbelt")
DEFAULT_POINTS = 100
MAX_POINTS = sampling.MAX_SAMPLE_POINTS
NAME_AUTO = "__auto__"  # name_zh / name_en as the file has them
NAME_NONE = "__none__"  # no names: the ids are shown


# ------------------------------------------------------------------------------ inputs and cache


def config_key(config_path: str) -> str:
    """The configuration's fingerprint plus every greening input file (units, parks, targets,
    class roles, band files)."""
    parts = [fingerprint(config_path)]
    try:
        cfg = load_config(config_path)
        g = cfg.greening
        files = [g.units, g.parks, g.targets, g.roles, g.builtup]
        for y in cfg.years:
            from sinks.greening.assess import band_files

            files += list(band_files(cfg, y))
        if cfg.protection is not None:
            files.append(cfg.protection.redlines)
        parts += [file_stat(f) for f in files]
    except (ValueError, AttributeError):
        pass
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


@st.cache_resource(show_spinner=False)
def _layers_store() -> KeyedLRU:
    return KeyedLRU(2)


@st.cache_resource(show_spinner=False)
def _ga_store() -> KeyedLRU:
    return KeyedLRU(6)


@st.cache_resource(show_spinner=False)
def _upload_store() -> KeyedLRU:
    """Officers' uploaded unit sets, apart from the public unit sets: an upload cannot evict them."""
    return KeyedLRU(4)


@st.cache_resource(show_spinner=False)
def _extras_store() -> KeyedLRU:
    return KeyedLRU(24)


@st.cache_resource(show_spinner=False)
def _maps_store() -> KeyedLRU:
    """Built maps (folium objects) per (assessment key, language, indicator, year, layers, targets)."""
    return KeyedLRU(8)


def has_units(config_path: str) -> bool:
    try:
        return load_config(config_path).greening.units is not None
    except (ValueError, AttributeError):
        return False


@dataclass(frozen=True)
class UnitChoice:
    """Which units to assess: ``"zones"``, ``"units"`` or ``"upload"`` (with the uploaded file's
    bytes hash, the id field and the coordinate system)."""

    unit_set: str
    upload: gpd.GeoDataFrame | None = None
    sha: str = ""
    id_field: str = "unit_id"
    coord: str = "wgs84"
    name: str = "<units>"
    name_field: str = NAME_AUTO

    def tag(self) -> str:
        if self.unit_set != "upload":
            return self.unit_set
        return f"upload:{self.sha}:{self.id_field}:{self.coord}:{self.name_field}"


def assessment_key(config_path: str, choice: UnitChoice) -> str:
    return f"{config_key(config_path)}|{choice.tag()}"


def _store_for(key: str) -> KeyedLRU:
    return _upload_store() if "|upload:" in key else _ga_store()


def cached_assessment(key: str) -> GreeningAssessment | None:
    got = _store_for(key).get(key)
    return None if got is None else got[0]


def cached_layers(config_path: str, key: str | None = None) -> GreeningLayers | None:
    """The masks the assessment ``key`` was computed from: kept with the assessment, so they are
    there whenever the assessment is (the shared layer store keeps only the latest two)."""
    if key is not None:
        got = _store_for(key).get(key)
        if got is not None:
            return got[1]
    return _layers_store().get(config_key(config_path))


def load_layers(config_path: str, *, progress=None) -> GreeningLayers:
    store, key = _layers_store(), config_key(config_path)
    got = store.get(key)
    if got is not None:
        return got
    with store.key_lock(key):
        got = store.get(key)
        if got is None:
            got = build_layers(load_config(config_path), progress=progress)
            store.put(key, got)
    return got


def load_assessment(config_path: str, key: str, choice: UnitChoice, *, progress=None) -> GreeningAssessment:
    """The assessment of ``choice`` (computed once per key; the masks once per configuration)."""
    say = progress or (lambda s, f: None)
    store = _store_for(key)
    got = store.get(key)
    if got is not None:
        return got[0]
    with store.key_lock(key):
        got = store.get(key)
        if got is None:
            layers = load_layers(config_path, progress=lambda s, f: say(s, 0.4 * f))
            cfg = load_config(config_path)
            units = with_name_field(choice.upload, choice.name_field) if choice.unit_set == "upload" else choice.unit_set
            ga = greening_assessment(cfg, units=units, unit_id_field=choice.id_field, unit_coord_system=choice.coord,
                                     unit_source=choice.name, layers=layers,
                                     progress=lambda s, f: say(s, 0.4 + 0.6 * f))
            got = (ga, layers)  # the layers stay with the assessment (points, parks)
            store.put(key, got)
    return got[0]


_STEPS = (  # the core's progress steps -> i18n keys (the regex group fills {what})
    (re.compile(r"^masks (\d+)$"), "green.step.masks", "what"),
    (re.compile(r"^count units$"), "green.step.count", None),
    (re.compile(r"^candidate patches$"), "green.step.patches", None),
    (re.compile(r"^intervals and targets$"), "green.step.targets", None),
    (re.compile(r"^done$"), "green.step.done", None),
)


def step_label(step: str, lang: str) -> str:
    """A progress step of the core in the reader's language (unknown ones pass through)."""
    return step_text(step, lang, _STEPS)


def read_units_upload(data: bytes, name: str) -> gpd.GeoDataFrame:
    """An uploaded unit layer (GeoPackage, GeoJSON, zipped shapefile) read from memory; the
    checks of ids, CRS, geometry and the GCJ-02 / BD-09 conversion happen in the core."""
    from geodata.vectors import read_vector

    if len(data) > MAX_UPLOAD_BYTES:
        raise DataError(name, f"the file is {len(data) / 2**20:.1f} MiB (limit {MAX_UPLOAD_BYTES / 2**20:.0f} MiB)",
                        "simplify the layer or clip it to the study area before uploading")
    gdf = read_vector(data, name=name)
    if gdf.empty:
        raise DataError(name, "the layer has no features", "upload a layer with at least one polygon")
    return gdf


ID_NAMES = ("unit_id", "street_id", "code", "id", "sid", "uid", "fid")


def _is_text(s: pd.Series) -> bool:
    return s.dtype == object or pd.api.types.is_string_dtype(s)


def _unique(s: pd.Series) -> bool:
    v = s.dropna().astype(str).str.strip()
    return len(v) == len(s) and (v != "").all() and v.is_unique


def _is_row_number(s: pd.Series) -> bool:
    """Values exactly 0..n-1 (or 1..n): GeoJSON's automatic feature ``id``, not a unit code."""
    try:
        v = pd.to_numeric(s, errors="raise").to_numpy(dtype=float)
    except (ValueError, TypeError):
        return False
    n = len(v)
    return n > 0 and (np.array_equal(v, np.arange(n)) or np.array_equal(v, np.arange(1, n + 1)))


def id_field_choices(gdf: gpd.GeoDataFrame) -> list[str]:
    """The attribute columns, the likeliest unit id first: unique text columns named like an id,
    other unique text columns, other unique columns, the rest. A column that only numbers the rows
    (0..n-1, e.g. GeoJSON's automatic ``id``) goes last when a unique text column exists."""
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    names = {"name", "name_zh", "name_en"}

    rownums = {c for c in cols if _is_row_number(gdf[c])}
    better = any(_is_text(gdf[c]) and _unique(gdf[c]) and c not in rownums for c in cols)

    def rank(c) -> tuple:
        s = gdf[c]
        text, uniq = _is_text(s), _unique(s)
        idlike = str(c).lower() in ID_NAMES or str(c).lower().endswith("_id")
        rownum = c in rownums
        if rownum and better:
            r = 4  # row numbers (GeoJSON's automatic id): last of the unique ones
        elif uniq and text and idlike:
            r = 0
        elif uniq and text and str(c).lower() not in names:
            r = 1
        elif uniq and not rownum:
            r = 2
        elif uniq and text:
            r = 3  # names: unique but meant for display
        elif uniq:
            r = 4  # row numbers
        else:
            r = 5
        return (r, ID_NAMES.index(str(c).lower()) if str(c).lower() in ID_NAMES else len(ID_NAMES))

    return sorted(cols, key=rank)




def name_field_choices(gdf: gpd.GeoDataFrame, id_field: str) -> list[str]:
    """The display-name options of an upload: name_zh / name_en by the reader's language (when the
    file has either), each text column, or none (the ids)."""
    cols = [c for c in gdf.columns if c != gdf.geometry.name and c != id_field and _is_text(gdf[c]) and not _is_row_number(gdf[c])]
    first = [NAME_AUTO] if {"name_zh", "name_en"} & set(cols) else []
    pref = [c for c in ("name", "name_zh", "name_en") if c in cols]
    return first + pref + [c for c in cols if c not in pref] + [NAME_NONE]


def name_field_label(field: str, lang: str) -> str:
    if field == NAME_AUTO:
        return t("green.name_field.auto", lang)
    if field == NAME_NONE:
        return t("green.name_field.none", lang)
    return field


def with_name_field(gdf: gpd.GeoDataFrame, field: str) -> gpd.GeoDataFrame:
    """The upload with name_zh / name_en taken from ``field`` (both from one column), left as they
    are (auto) or dropped (none: the core then shows the ids)."""
    if field == NAME_AUTO or gdf is None:
        return gdf
    out = gdf.drop(columns=[c for c in ("name_zh", "name_en") if c in gdf.columns and c != field])
    if field != NAME_NONE and field in gdf.columns:
        names = gdf[field].fillna("").astype(str)
        out = out.assign(name_zh=names.to_numpy(), name_en=names.to_numpy())
    return out


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def pick_year(ga: GreeningAssessment, year: int) -> int:
    return int(year) if int(year) in ga.years else int(ga.years[-1])


# ------------------------------------------------------------------------------ words


def indicators(ga: GreeningAssessment) -> list[str]:
    """The indicators offered, in the page's order (NDVI fractional cover first)."""
    names = target_indicators(ga.config.greening.park_radii_m)
    first = ["green_coverage_fvc_pct", "green_coverage_pct", "forest_coverage_pct", "vegetation_share_pct"]
    return [n for n in first if n in names] + [n for n in names if n not in first]


def indicator_name(ind: str, lang: str) -> str:
    m = re.match(r"^park_service_(\d+(?:\.\d+)?)m_pct$", ind)
    if m:
        return t("green.ind.park_service", lang, m=m.group(1))
    return t(f"green.ind.{ind}", lang)


def indicator_help(ind: str, lang: str) -> str:
    return t("green.ind_help.park_service" if ind.startswith("park_service_") else f"green.ind_help.{ind}", lang)


def status_name(status: str, lang: str) -> str:
    return t(f"green.status.{status}", lang) if status in STATUSES else str(status)


def kind_name(kind: str, lang: str) -> str:
    return t(f"green.kind.{kind}", lang)


def label_name(label: str | None, lang: str) -> str:
    return "" if label is None else t(f"green.label.{label}", lang)


def unit_names(ga: GreeningAssessment, lang: str) -> dict[str, str]:
    col = "name_zh" if lang == "zh" else "name_en"
    return dict(zip(ga.units["unit_id"].astype(str), ga.units[col].astype(str)))


def num_text(v, decimals: int = 1, *, thousands: bool = False) -> str:
    """``v`` with ``decimals`` places ("—" when missing); a tiny negative shows as 0.0, not -0.0."""
    if v is None or pd.isna(v):
        return fmt.DASH
    x = round(float(v), decimals)
    if x == 0:
        x = 0.0
    return f"{x:,.{decimals}f}" if thousands else f"{x:.{decimals}f}"


def pct_text(v) -> str:
    return num_text(v, 1)


def _why(code: str, params: dict, lang: str) -> str:
    p = {k: (f"{v:,.1f}" if isinstance(v, float) else v) for k, v in params.items()}
    if code == "forest_extra" and not params.get("source"):
        p["source"] = t("green.why.no_source", lang)
    key = f"green.why.{code}"
    return t(key, lang, **p) if key in DICTS["en"] else code


def undefined_reason(row, ind: str, lang: str) -> str:
    """Why ``ind`` is undefined for one indicator row ('' when it is defined): the core's reason
    codes (:func:`sinks.greening.indicators.reasons`) that concern ``ind``, translated."""
    v = row[ind]
    if not pd.isna(v):
        return ""
    sep = "；" if lang == "zh" else "; "
    why = [_why(c, p, lang) for c, p in indicators_core.reasons(row) if indicators_core.reason_applies(c, ind)]
    return sep.join(why) if why else t("green.why.other", lang)


def row_reasons(row, lang: str, inds: list[str] | None = None) -> str:
    """All the core's reasons for one indicator row (undefined figures, parts not counted,
    listed forest included), translated."""
    sep = "；" if lang == "zh" else "; "
    return sep.join(dict.fromkeys(_why(c, p, lang) for c, p in indicators_core.reasons(row)))


# how each core note (sinks.notes.Note.code) is shown: a warning, an info box or a
# caption (a method detail); the text is ui.i18n "green.note.<code>" filled from the note's params
_NOTE_LEVEL = {"overlap": "warning", "outside_map": "warning", "repaired": "warning", "no_bands": "warning",
               "gap": "info", "outside": "info", "converted": "info", "no_parks": "info",
               "fvc": "caption", "targets_unmatched": "caption", "no_redlines": "caption",
               "extra_rejected": "warning", "extra_unmatched": "caption"}


@dataclass(frozen=True)
class Note:
    level: str  # "info", "warning" or "caption" (a method detail)
    text: str


def coord_name(system, lang: str) -> str:
    """A coordinate system's name ("gcj02" -> "GCJ-02 (Amap, Tencent)"); unknown codes as given."""
    code = str(getattr(system, "value", system)).lower().replace("-", "").replace("_", "")
    key = f"wet.coord.{code}"
    return t(key, lang) if key in DICTS["en"] else str(system)


def _note_text(n, lang: str) -> str:
    p = dict(getattr(n, "params", {}))
    if "system" in p:
        p["system"] = coord_name(p["system"], lang)
    sep = "、" if lang == "zh" else ", "
    for k in ("units",):
        if k in p:
            p[k] = sep.join(map(str, p[k][:12])) + (" …" if len(p[k]) > 12 else "")
    key = f"green.note.{n.code}"
    if n.code == "fvc" and p.get("given"):
        key = "green.note.fvc_given"
    return t(key, lang, **p)


def notes(ga: GreeningAssessment, lang: str) -> list[Note]:
    """The core's notes in the reader's language, from their codes (a note without a code, or
    with one this page does not know, is shown in English as the core wrote it)."""
    out: list[Note] = []
    no_acc = []
    for n in ga.notes:
        code = getattr(n, "code", None)
        if code == "no_accuracy":
            no_acc.append(str(n.params["year"]))
        elif code in _NOTE_LEVEL:
            out.append(Note(_NOTE_LEVEL[code], _note_text(n, lang)))
        else:
            out.append(Note("info", str(n)))
    if no_acc:
        out.append(Note("info", t("green.note.no_accuracy", lang, years="、".join(no_acc) if lang == "zh" else ", ".join(no_acc))))
    return list(dict.fromkeys(out))


def undefined_note(ga: GreeningAssessment, ind: str, year: int, lang: str) -> str | None:
    """One line naming the units whose ``ind`` is undefined at ``year``, with the reasons."""
    d = ga.indicators[ga.indicators["year"] == year]
    names = unit_names(ga, lang)
    bad = [(str(r["unit_id"]), undefined_reason(r, ind, lang)) for _, r in d.iterrows() if undefined_reason(r, ind, lang)]
    if not bad:
        return None
    sep = "；" if lang == "zh" else "; "
    return t("green.undefined_units", lang, n=len(bad), ind=indicator_name(ind, lang),
             units=sep.join(f"{names.get(u, u)} ({why})" for u, why in bad))


def csv_bytes(df: pd.DataFrame) -> bytes:
    return safe_for_csv(df).to_csv(index=False).encode("utf-8-sig")


# ------------------------------------------------------------------------------ values and progress


def values(ga: GreeningAssessment, ind: str, year: int) -> pd.Series:
    """unit_id -> value of ``ind`` at ``year`` (NaN = undefined)."""
    d = ga.indicators[ga.indicators["year"] == year]
    return pd.Series(d[ind].to_numpy(dtype=float), index=d["unit_id"].astype(str).to_numpy())


def targets_frame(ga: GreeningAssessment) -> pd.DataFrame:
    """The assessment's accepted targets as an editable table."""
    tg = ga.targets.copy()
    if tg.empty:
        return pd.DataFrame({"unit_id": pd.Series(dtype=str), "year": pd.Series(dtype="Int64"), "indicator": pd.Series(dtype=str),
                             "target_pct": pd.Series(dtype=float), "source": pd.Series(dtype=str),
                             "verified": pd.Series(dtype=bool), "note": pd.Series(dtype=str)})
    tg["verified"] = tg["verified"].astype(bool)
    for c in ("unit_id", "indicator", "source", "note"):
        tg[c] = tg[c].fillna("").astype(str)
    return tg[["unit_id", "year", "indicator", "target_pct", "source", "verified", "note"]].reset_index(drop=True)


def check_edited_targets(ga: GreeningAssessment, df: pd.DataFrame, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The edited table through the core's checks (verified: the core's parsing, 是/否 too)."""
    d = df.dropna(how="all")
    return check_targets(d, name=name, indicators=target_indicators(ga.config.greening.park_radii_m))


def unmatched_note(ga: GreeningAssessment, targets: pd.DataFrame | None, lang: str) -> str | None:
    """The core's unmatched-unit note for targets of this session (edited or uploaded)."""
    if targets is None or targets.empty:
        return None
    miss = unmatched_units(targets, ga.units["unit_id"])
    if not miss:
        return None
    n = int(targets["unit_id"].astype(str).isin(miss).sum())
    sep = "、" if lang == "zh" else ", "
    return t("green.note.targets_unmatched", lang, n=n, units=sep.join(miss[:12]) + (" …" if len(miss) > 12 else ""))


_REJ_COLS = (("row", "green.col.row"), ("unit_id", "green.col.unit_id"), ("year", "green.col.year"),
             ("indicator", "green.col.indicator"), ("target_pct", "green.col.target"), ("source", "green.col.target_source"),
             ("verified", "green.col.verified"), ("reason", "green.col.reason"))


def rejected_view(rej: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Rejected target rows with translated headers, "—" for missing values and the reason in the
    reader's language (``green.tgr.<reason_code>``; the core's English text when no code)."""
    out = {}
    for col, key in _REJ_COLS:
        if col == "reason":
            codes = rej["reason_code"] if "reason_code" in rej else pd.Series([""] * len(rej), index=rej.index)
            out[t(key, lang)] = [t(f"green.tgr.{c}", lang) if f"green.tgr.{c}" in DICTS["en"] else str(r)
                                 for c, r in zip(codes.fillna(""), rej["reason"].fillna(""))]
        elif col in rej:
            out[t(key, lang)] = [fmt.DASH if pd.isna(v) or str(v).strip() == "" else
                                 (f"{v:g}" if isinstance(v, float) else str(v)) for v in rej[col]]
    return pd.DataFrame(out)


def upload_targets(ga: GreeningAssessment, data: bytes, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    return load_targets(data, indicators=target_indicators(ga.config.greening.park_radii_m), name=name)


def progress_for(ga: GreeningAssessment, targets: pd.DataFrame | None) -> pd.DataFrame:
    """Progress against ``targets`` (None: the assessment's own)."""
    if targets is None:
        return ga.progress
    return progress_table(ga.indicators, targets)


def target_years(prog: pd.DataFrame, ind: str) -> list[int]:
    return sorted(int(y) for y in prog.loc[prog["indicator"] == ind, "target_year"].unique())


def default_target_year(years: list[int], year: int) -> int | None:
    if not years:
        return None
    later = [y for y in years if y >= year]
    return later[0] if later else years[-1]


def progress_rows(prog: pd.DataFrame, ind: str, target_year: int | None) -> pd.DataFrame:
    if target_year is None:
        return prog.iloc[0:0]
    p = prog[(prog["indicator"] == ind) & (prog["target_year"] == target_year)]
    return p.sort_values(["rank", "unit_id"], na_position="last")


def status_counts(p: pd.DataFrame) -> dict[str, int]:
    return {s: int((p["status"] == s).sum()) for s in STATUSES}


def progress_table_view(ga: GreeningAssessment, p: pd.DataFrame, lang: str) -> pd.DataFrame:
    names = unit_names(ga, lang)
    return pd.DataFrame({
        t("green.col.rank", lang): [fmt.DASH if pd.isna(r) else str(int(r)) for r in p["rank"]],
        t("green.col.unit", lang): [names.get(u, u) for u in p["unit_id"].astype(str)],
        t("green.col.status", lang): [status_name(s, lang) for s in p["status"]],
        t("green.col.value", lang): [f"{pct_text(v)} ({y})" for v, y in zip(p["value_pct"], p["value_year"])],
        t("green.col.target", lang): [pct_text(v) for v in p["target_pct"]],
        t("green.col.gap", lang): [pct_text(v) for v in p["gap_pts"]],
        t("green.col.needed", lang): [pct_text(v) for v in p["needed_pts_per_yr"]],
        t("green.col.change", lang): [pct_text(v) for v in p["change_pts"]],
        t("green.col.target_source", lang): [
            (t("green.target.default", lang) + " · " if d else "") + str(s or "") for s, d in zip(p["target_source"], p["target_is_default"])],
        t("green.col.verified", lang): [t("green.verified.yes" if v else "green.verified.no", lang) for v in p["target_verified"]],
    })


def bullet_chart(ga: GreeningAssessment, p: pd.DataFrame, lang: str) -> alt.Chart | None:
    """Per unit: its value (bar, coloured by status) against its target (black tick)."""
    if p.empty:
        return None
    names = unit_names(ga, lang)
    df = pd.DataFrame({
        "unit": [names.get(u, u) for u in p["unit_id"].astype(str)],
        "value": p["value_pct"].astype(float).fillna(0.0).to_numpy(),
        "shown": [pct_text(v) for v in p["value_pct"]],
        "target": p["target_pct"].astype(float).to_numpy(),
        "status": [status_name(s, lang) for s in p["status"]],
        "gap": [pct_text(v) for v in p["gap_pts"]],
    })
    order = df["unit"].tolist()
    dom = [status_name(s, lang) for s in STATUSES]
    tip = [alt.Tooltip("unit:N", title=t("green.col.unit", lang)), alt.Tooltip("shown:N", title=t("green.col.value", lang)),
           alt.Tooltip("target:Q", title=t("green.col.target", lang), format=".1f"),
           alt.Tooltip("status:N", title=t("green.col.status", lang)), alt.Tooltip("gap:N", title=t("green.col.gap", lang))]
    y = alt.Y("unit:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    top = float(np.nanmax(np.r_[df["value"].to_numpy(dtype=float), df["target"].to_numpy(dtype=float), 1.0]))
    x_scale = alt.Scale(domain=[0, min(100.0, top * 1.06 + 0.5) if top < 100 else 101.0], nice=False)  # ticks at the max: whole
    bars = alt.Chart(df).mark_bar(height=12).encode(
        y=y, x=alt.X("value:Q", title=t("green.chart.pct", lang), scale=x_scale),
        color=alt.Color("status:N", title=None, scale=alt.Scale(domain=dom, range=[STATUS_HEX[s] for s in STATUSES])),
        tooltip=tip)
    ticks = alt.Chart(df).mark_tick(color="black", thickness=3, size=20).encode(y=y, x=alt.X("target:Q", scale=x_scale), tooltip=tip)
    from ui.charts import _style

    return _style((bars + ticks).properties(height=alt.Step(24)))


# ------------------------------------------------------------------------------ unit table and time chart


def unit_table(ga: GreeningAssessment, year: int, lang: str) -> pd.DataFrame:
    """One row per unit at ``year``: the indicators (— when undefined), the areas and why."""
    inds = indicators(ga)
    names = unit_names(ga, lang)
    d = ga.indicators[ga.indicators["year"] == year].copy()
    d["unit_id"] = d["unit_id"].astype(str)
    out = pd.DataFrame({t("green.col.unit", lang): [names.get(u, u) for u in d["unit_id"]],
                        t("green.col.unit_id", lang): d["unit_id"].to_numpy()})
    for ind in inds:
        out[fmt.with_unit(indicator_name(ind, lang), "%", lang)] = [pct_text(v) for v in d[ind]]
    for col, key in (("unit_area_ha", "green.col.unit_area"), ("land_ha", "green.col.land"), ("water_ha", "green.col.water"),
                     ("builtup_area_ha", "green.col.builtup"), ("green_in_builtup_ha", "green.col.green_in_builtup"),
                     ("fvc_green_in_builtup_ha", "green.col.fvc_green"), ("forest_ha", "green.col.forest"),
                     ("residential_ha", "green.col.residential"), ("nodata_ha", "green.col.nodata")):
        out[fmt.with_unit(t(key, lang), t("green.unit.ha", lang), lang)] = d[col].round(1).to_numpy()
    out[t("green.col.notes", lang)] = [row_reasons(r, lang, inds) for _, r in d.iterrows()]
    return out


def unit_csv(ga: GreeningAssessment, year: int, lang: str) -> bytes:
    """The core's indicator rows of ``year`` (numbers; empty = undefined) with the unit names."""
    d = ga.indicators[ga.indicators["year"] == year].copy()
    names = unit_names(ga, lang)
    d.insert(1, "name", [names.get(str(u), str(u)) for u in d["unit_id"]])
    d["why_undefined"] = [row_reasons(r, lang, indicators(ga)) for _, r in d.iterrows()]
    return csv_bytes(d)


def time_frame(ga: GreeningAssessment, ind: str, lang: str) -> pd.DataFrame:
    names = unit_names(ga, lang)
    d = ga.indicators[["unit_id", "year", ind]].copy()
    return pd.DataFrame({"unit": [names.get(str(u), str(u)) for u in d["unit_id"]], "year": d["year"].astype(int).to_numpy(),
                         "value": d[ind].astype(float).to_numpy()})


def dumbbell_frame(ga: GreeningAssessment, ind: str, lang: str, targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per unit with a value at either end: first / last date value, change and the
    target of the last date's nearest target year (NaN when none), sorted by the latest value."""
    ys = ga.years
    first, last = values(ga, ind, ys[0]), values(ga, ind, ys[-1])
    names = unit_names(ga, lang)
    ids = [u for u in first.index if not (math.isnan(first.get(u, np.nan)) and math.isnan(last.get(u, np.nan)))]
    df = pd.DataFrame({"unit_id": ids, "unit": [names.get(u, u) for u in ids],
                       "first": [float(first.get(u, np.nan)) for u in ids], "last": [float(last.get(u, np.nan)) for u in ids]})
    df["change"] = df["last"] - df["first"]
    tg = np.nan
    df["target"] = tg
    if targets is not None and len(targets):
        tr = targets.set_index(targets["unit_id"].astype(str))
        df["target"] = [float(tr.at[u, "target_pct"]) if u in tr.index else np.nan for u in ids]
    # the unit's name is the y category: two units of one name would merge, so keep the id then
    dup = df["unit"].duplicated(keep=False)
    df.loc[dup, "unit"] = df.loc[dup, "unit"] + " (" + df.loc[dup, "unit_id"] + ")"
    return df.sort_values(["last", "first"], ascending=False, na_position="last").reset_index(drop=True)


def time_chart(ga: GreeningAssessment, ind: str, lang: str, progress_rows_: pd.DataFrame | None = None) -> alt.Chart:
    """A dumbbell per unit (one row each, sorted by the latest value, names on the y axis): a
    hollow dot at the first date, a filled dot at the last, the line between; the target as a
    black tick. Two colours (the dates), not one per unit."""
    from ui.charts import _style

    df = dumbbell_frame(ga, ind, lang, progress_rows_)
    ys = ga.years
    f, l_ = str(ys[0]), str(ys[-1])
    order = df["unit"].tolist()
    long = pd.concat([pd.DataFrame({"unit": df["unit"], "date": f, "value": df["first"]}),
                      pd.DataFrame({"unit": df["unit"], "date": l_, "value": df["last"]})]).dropna(subset=["value"])
    long = long.merge(df[["unit", "first", "last", "change", "target"]], on="unit")
    for c in ("first", "last", "change", "target"):
        long[c + "_t"] = [pct_text(v) for v in long[c]]
    y = alt.Y("unit:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    xt = fmt.with_unit(indicator_name(ind, lang), "%", lang)
    tip = [alt.Tooltip("unit:N", title=t("green.col.unit", lang)), alt.Tooltip("first_t:N", title=f),
           alt.Tooltip("last_t:N", title=l_), alt.Tooltip("change_t:N", title=t("green.col.change", lang)),
           alt.Tooltip("target_t:N", title=t("green.col.target", lang))]
    rule = alt.Chart(df.dropna(subset=["first", "last"])).mark_rule(color="#888888", strokeWidth=2).encode(
        y=y, x=alt.X("first:Q", title=xt, scale=alt.Scale(zero=False)), x2="last:Q")
    dots = alt.Chart(long).mark_point(size=70, filled=True, opacity=1).encode(
        y=y, x=alt.X("value:Q", title=xt),
        color=alt.Color("date:N", title=t("green.col.year", lang), scale=alt.Scale(domain=[f, l_], range=["#9ecae1", "#08519c"]),
                        legend=alt.Legend(orient="top")),
        tooltip=tip)
    layers = [rule, dots]
    tg = df.dropna(subset=["target"])
    if len(tg):
        layers.append(alt.Chart(tg).mark_tick(color="black", thickness=2, size=16).encode(y=y, x="target:Q", tooltip=[
            alt.Tooltip("unit:N", title=t("green.col.unit", lang)), alt.Tooltip("target:Q", title=t("green.col.target", lang), format=".1f")]))
    return _style(alt.layer(*layers).properties(height=alt.Step(20)))


def change_table(ga: GreeningAssessment, ind: str, lang: str) -> pd.DataFrame:
    """Per unit: the value at the first and last date and the change (percentage points)."""
    ys = ga.years
    first, last = values(ga, ind, ys[0]), values(ga, ind, ys[-1])
    names = unit_names(ga, lang)
    ids = list(first.index)
    ch = last.reindex(ids) - first
    return pd.DataFrame({
        t("green.col.unit", lang): [names.get(u, u) for u in ids],
        f"{ys[0]}": [pct_text(v) for v in first],
        f"{ys[-1]}": [pct_text(v) for v in last.reindex(ids)],
        t("green.col.change", lang): [pct_text(v) for v in ch],
    })


# ------------------------------------------------------------------------------ map


def _extra(key: tuple, make):
    store = _extras_store()
    k = repr(key)
    got = store.get(k)
    if got is None:
        got = make()
        store.put(k, got)
    return got


def bins(vals: pd.Series) -> list[float]:
    """Five equal steps between the (rounded) smallest and largest defined value."""
    v = vals.dropna()
    if v.empty:
        return [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    lo, hi = math.floor(float(v.min())), math.ceil(float(v.max()))
    if hi - lo < 5:
        lo, hi = max(0, lo - 1), lo + 5 if lo + 5 <= 100 else 100
        if hi - lo < 5:
            lo = hi - 5
    step = (hi - lo) / 5
    return [round(lo + i * step, 2) for i in range(6)]


def colour(v: float, edges: list[float]) -> str:
    """The bin of ``v``: [e0, e1), [e1, e2), ... [e4, e5] (half open, like the legend says)."""
    if v is None or math.isnan(v):
        return UNDEFINED_HEX
    for i in range(4):
        if v < edges[i + 1]:
            return VIRIDIS[i]
    return VIRIDIS[-1]


def bin_labels(edges: list[float]) -> list[str]:
    """Non-overlapping legend texts of the five bins: "< 13.2", "13.2 to < 14.4", ..., "≥ 16.8"."""
    e = [f"{x:.1f}" for x in edges]
    return [f"< {e[1]}"] + [f"{e[i]} – < {e[i + 1]}" for i in range(1, 4)] + [f"≥ {e[4]}"]


def map_values(ga: GreeningAssessment, ind: str, year: int, p: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Per unit: name, value text, target text, status text (what the tooltips show)."""
    vals = values(ga, ind, year)
    names = unit_names(ga, lang)
    pr = p.set_index(p["unit_id"].astype(str)) if len(p) else None
    rows = []
    d = ga.indicators[ga.indicators["year"] == year].set_index(ga.indicators.loc[ga.indicators["year"] == year, "unit_id"].astype(str))
    for u in ga.units["unit_id"].astype(str):
        v = float(vals.get(u, np.nan))
        why = undefined_reason(d.loc[u], ind, lang) if u in d.index else t("green.why.outside_map", lang)
        if pr is not None and u in pr.index:
            r = pr.loc[u]
            target = f"{pct_text(r['target_pct'])} % ({int(r['target_year'])})"
            code = str(r["status"])
            status = status_name(code, lang)
        else:
            target, status, code = fmt.DASH, t("green.status.no_target", lang), "no_target"
        rows.append({"unit_id": u, "name": names.get(u, u), "value": v,
                     "value_text": f"{pct_text(v)} %" if not math.isnan(v) else f"{fmt.DASH} ({why})",
                     "target": target, "status": status, "status_code": code,
                     "area_ha": float(d.at[u, "unit_area_ha"]) if u in d.index else 0.0})
    return pd.DataFrame(rows)


def map_bounds(units: gpd.GeoDataFrame, mv: pd.DataFrame) -> tuple[float, float, float, float]:
    """The bounds of the units that have figures (some area on the land-cover map): a unit
    uploaded far outside the map must not shrink the others to specks."""
    ids = units["unit_id"].astype(str)
    has = ids.map(lambda u: float(mv.at[u, "area_ha"]) > 0 if u in mv.index else False).to_numpy(dtype=bool)
    sel = units[has] if has.any() else units
    return tuple(float(x) for x in sel.total_bounds)


def build_map(key: str, ga: GreeningAssessment, layers: GreeningLayers | None, ind: str, year: int, p: pd.DataFrame, lang: str, *,
              parks: bool = True, patches: bool = False, points: gpd.GeoDataFrame | None = None,
              overlay: leaflet.Overlay | None = None, colour_by: str = "value") -> tuple[folium.Map, list[float]]:
    """The choropleth of ``ind`` at ``year`` coloured by value bins or by status against the target
    (tooltips: name, value, target, status), the parks, the candidate patches and the sample
    points when asked. Returns the map and the bin edges."""
    units = _extra((key, "units"), lambda: map_outlines(ga.units))
    mv = map_values(ga, ind, year, p, lang).set_index("unit_id")
    edges = bins(mv["value"])
    west, south, east, north = map_bounds(units, mv)
    if points is not None and len(points):  # the sample's unit fills the map
        w, s_, e, n = points.to_crs(DISPLAY_CRS).total_bounds
        pad = max(e - w, n - s_, 0.002) * 0.08
        west, south, east, north = w - pad, s_ - pad, e + pad, n + pad
    m = leaflet.offline_map((west, south, east, north))
    m.view = view_of((west, south, east, north))  # for st_folium: a map drawn in a hidden tab cannot fit its bounds
    if overlay is not None:
        leaflet.add_overlay(m, overlay, name=t("green.layer.landcover", lang, year=year), opacity=0.85)
    ids = units["unit_id"].astype(str)
    g = gpd.GeoDataFrame({
        "name": [mv.at[u, "name"] for u in ids], "value": [mv.at[u, "value_text"] for u in ids],
        "target": [mv.at[u, "target"] for u in ids], "status": [mv.at[u, "status"] for u in ids],
        "fill": [STATUS_HEX.get(mv.at[u, "status_code"], UNDEFINED_HEX) if colour_by == "status" else colour(mv.at[u, "value"], edges)
                 for u in ids],
        "dash": ["4 4" if math.isnan(mv.at[u, "value"]) or (colour_by == "status" and mv.at[u, "status_code"] == "undefined") else ""
                 for u in ids],
    }, geometry=units.geometry.to_numpy(), crs=DISPLAY_CRS)
    fill_opacity = 0.25 if overlay is not None or points is not None else 0.75
    folium.GeoJson(geojson(g), name=indicator_name(ind, lang),
                   style_function=lambda f, o=fill_opacity: {"color": "#333333", "weight": 1.2, "fillColor": f["properties"]["fill"],
                                                             "fillOpacity": o, "dashArray": f["properties"]["dash"] or None},
                   tooltip=folium.GeoJsonTooltip(["name", "value", "target", "status"],
                                                 aliases=[t("green.col.unit", lang), indicator_name(ind, lang),
                                                          t("green.col.target", lang), t("green.col.status", lang)])).add_to(m)
    if parks and layers is not None and layers.parks is not None and len(layers.parks):
        pk = _extra((key, "parks"), lambda: map_outlines(layers.parks[[layers.parks.geometry.name]].copy()))
        folium.GeoJson(geojson(gpd.GeoDataFrame({"what": [t("green.layer.parks", lang)] * len(pk)}, geometry=pk.geometry.to_numpy(), crs=DISPLAY_CRS)),
                       name=t("green.layer.parks", lang),
                       style_function=lambda f: {"color": PARK_HEX, "weight": 2, "fillColor": "#ffffff", "fillOpacity": 0.85},
                       tooltip=folium.GeoJsonTooltip(["what"], labels=False)).add_to(m)
    if patches and len(ga.patches):
        def patches_json() -> dict:  # ~1.8 MB: built once per assessment and language
            top = map_outlines(ga.patches.head(MAX_MAP_PATCHES))
            gp = gpd.GeoDataFrame({
                "label": [f"{pid} · {kind_name(k, lang)} · {fmt.hectares(a, lang)}" for pid, k, a in zip(top["patch_id"], top["kind"], top["area_ha"])],
                "fill": [PATCH_HEX.get(k, "#000000") for k in top["kind"]]}, geometry=top.geometry.to_numpy(), crs=DISPLAY_CRS)
            return geojson(gp)

        folium.GeoJson(_extra((key, lang, "patches_json"), patches_json), name=t("green.layer.patches", lang),
                       style_function=lambda f: {"color": f["properties"]["fill"], "weight": 1, "fillColor": f["properties"]["fill"],
                                                 "fillOpacity": 0.8},
                       tooltip=folium.GeoJsonTooltip(["label"], labels=False)).add_to(m)
    if points is not None and len(points):
        ll = points.to_crs(DISPLAY_CRS)
        for pid, x, y in zip(points["point_id"], ll.geometry.x, ll.geometry.y):
            folium.Marker([round(y, 6), round(x, 6)], icon=folium.DivIcon(
                html=f"<div style='font:bold 11px sans-serif;color:#000;background:#fff;border:1.5px solid #000;border-radius:9px;"
                     f"padding:0 3px;transform:translate(-50%,-50%);display:inline-block'>{short_id(pid)}</div>", icon_size=(0, 0)),
                tooltip=f"{t('green.pt.point', lang)} {pid}").add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return m, edges


def view_of(bounds: tuple[float, float, float, float], *, width_px: int = 900, height_px: int = 520) -> tuple[list[float], int]:
    """([lat, lon] centre, zoom) that shows ``bounds`` (west, south, east, north) in a map of about
    ``width_px`` x ``height_px``: Leaflet's fitBounds gives zoom 0 in a tab that is not shown."""
    west, south, east, north = bounds

    def merc(lat: float) -> float:
        lat = max(min(lat, 85.0), -85.0)
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    dx = max(east - west, 1e-6) / 360.0
    dy = max(merc(north) - merc(south), 1e-9) / (2 * math.pi)
    zoom = int(math.floor(min(math.log2(width_px / 256 / dx), math.log2(height_px / 256 / dy))))
    return [(south + north) / 2, (west + east) / 2], max(1, min(zoom, 18))


def _swatch(colour_: str, label: str, dash: bool = False, edge: str = "#333") -> str:
    border = f"2px dashed {edge}" if dash else f"{'2px' if edge != '#333' else '1px'} solid {edge}"
    return (f"<span style='display:inline-flex;align-items:center;margin-right:12px'>"
            f"<span style='display:inline-block;width:16px;height:14px;background:{colour_};border:{border};margin-right:5px'></span>"
            f"{label}</span>")


def legend_html(ind: str, edges: list[float], lang: str, *, parks: bool = False, patches: bool = False,
                colour_by: str = "value") -> str:
    if colour_by == "status":
        cells = [f"<b style='margin-right:8px'>{t('green.col.status', lang)}</b>"]
        cells += [_swatch(STATUS_HEX[s], status_name(s, lang) if s in STATUSES else t("green.status.no_target", lang),
                          dash=s == "undefined") for s in ("below", "met", "undefined", "no_target")]
    else:
        cells = [f"<b style='margin-right:8px'>{indicator_name(ind, lang)} (%)</b>"]
        cells += [_swatch(VIRIDIS[i], lb) for i, lb in enumerate(bin_labels(edges))]
        cells.append(_swatch(UNDEFINED_HEX, t("green.legend.undefined", lang), dash=True))
    if parks:
        cells.append(_swatch("#ffffff", t("green.layer.parks", lang), edge=PARK_HEX))
    if patches:
        cells += [_swatch(PATCH_HEX[k], kind_name(k, lang)) for k in ("afforestation", "greening")]
    return "<div data-testid='green-legend' style='font-size:0.85rem;line-height:1.9'>" + "".join(cells) + "</div>"


@st.cache_data(show_spinner=False, max_entries=4)
def _overlay(path: str, size: int, mtime: int) -> leaflet.Overlay:
    return leaflet.landcover_overlay(path)


def landcover_overlay(ga: GreeningAssessment, year: int) -> leaflet.Overlay | None:
    path = ga.config.landcover.get(year)
    if path is None:
        return None
    _, size, mtime = file_stat(path)
    return _overlay(str(path), size, mtime)


# ------------------------------------------------------------------------------ where to plant


GAIN_OF = {"green_coverage_fvc_pct": "green_fvc_gain_pts", "green_coverage_pct": "green_gain_pts",
           "forest_coverage_pct": "forest_gain_pts"}


def gain_indicator(ind: str) -> str:
    """The indicator the coverage-gain column follows: the selected one when planting changes it
    (green coverage by FVC or by classes, forest coverage), else green coverage by FVC."""
    return ind if ind in GAIN_OF else "green_coverage_fvc_pct"


def gains(ga: GreeningAssessment, year: int, share: float) -> pd.DataFrame:
    """The core's :func:`sinks.greening.indicators.candidate_gains` at ``year``."""
    d = ga.indicators[ga.indicators["year"] == year]
    return indicators_core.candidate_gains(d, share=share).reset_index(drop=True)


def candidate_table(ga: GreeningAssessment, year: int, share: float, lang: str, ind: str = "green_coverage_fvc_pct") -> pd.DataFrame:
    """Per unit at ``year``: candidate areas by kind, the gain of the coverage indicator ``ind``
    follows (see :func:`gain_indicator`) and the carbon gains if ``share`` (0-1) of the candidate
    land were planted (the core's candidate_gains; the greening part is an upper bound)."""
    names = unit_names(ga, lang)
    g = gains(ga, year, share)
    ha = t("green.unit.ha", lang)
    out = pd.DataFrame({t("green.col.unit", lang): [names.get(str(u), str(u)) for u in g["unit_id"]]})
    for k in KINDS:
        out[fmt.with_unit(kind_name(k, lang), ha, lang)] = [num_text(v, 1) for v in g[f"candidate_{k}_ha"]]
    gi = gain_indicator(ind)
    out[t("green.col.gain", lang, ind=indicator_name(gi, lang))] = [pct_text(v) for v in g[GAIN_OF[gi]]]
    out[fmt.with_unit(t("green.col.removals", lang), t("green.unit.tco2e_yr", lang), lang)] = [
        num_text(v, 0, thousands=True) for v in g["removals_tco2e_yr"]]
    out[fmt.with_unit(t("green.col.stock_gain", lang), t("green.unit.tc", lang), lang)] = [
        num_text(v, 0, thousands=True) for v in g["stock_gain_tc"]]
    return out


def candidate_totals(ga: GreeningAssessment, year: int, share: float) -> dict[str, float]:
    g = gains(ga, year, share)
    return {"ha": float(g["candidate_ha"].sum()), "greening_ha": float(g["candidate_greening_ha"].sum()),
            "removals": float(g["removals_tco2e_yr"].sum()), "stock": float(g["stock_gain_tc"].sum())}


def patch_table(ga: GreeningAssessment, lang: str) -> pd.DataFrame:
    from ui.i18n import lc_name

    p = ga.patches
    names = unit_names(ga, lang)
    return pd.DataFrame({
        t("green.col.patch", lang): p["patch_id"].astype(str).to_numpy(),
        t("green.col.kind", lang): [kind_name(k, lang) for k in p["kind"]],
        t("green.col.class_now", lang): [lc_name(int(c), lang) if int(c) >= 0 else fmt.DASH for c in p["code"]],
        t("green.col.plant_to", lang): [lc_name(int(c), lang) if not pd.isna(c) else fmt.DASH for c in p["plant_to"]],
        fmt.with_unit(t("green.col.area", lang), t("green.unit.ha", lang), lang): [num_text(v, 1) for v in p["area_ha"]],
        t("green.col.unit", lang): [names.get(str(u), fmt.DASH if not u else str(u)) for u in p["unit_id"]],
        fmt.with_unit(t("green.col.removals", lang), t("green.unit.tco2e_yr", lang), lang):
            [num_text(v, 0, thousands=True) for v in p["removals_tco2e_yr"]],
        fmt.with_unit(t("green.col.stock_gain", lang), t("green.unit.tc", lang), lang):
            [num_text(v, 0, thousands=True) for v in p["stock_gain_tc"]],
        t("green.col.lon", lang): [num_text(v, 5) for v in p["lon"]], t("green.col.lat", lang): [num_text(v, 5) for v in p["lat"]],
    })


def patch_csv(ga: GreeningAssessment) -> bytes:
    return csv_bytes(pd.DataFrame(ga.patches.drop(columns="geometry")))


# ------------------------------------------------------------------------------ intervals and the point sample


def intervals_table(ga: GreeningAssessment, lang: str) -> pd.DataFrame | None:
    iv = ga.intervals
    if iv is None or iv.empty:
        return None
    names = unit_names(ga, lang)
    return pd.DataFrame({
        t("green.col.unit", lang): [names.get(str(u), str(u)) for u in iv["unit_id"]],
        t("green.col.year", lang): iv["year"].astype(int).to_numpy(),
        t("green.col.indicator", lang): [indicator_name(i, lang) if i in indicators(ga) else str(i) for i in iv["indicator"]],
        t("green.iv.mapped", lang): [pct_text(v) for v in iv["mapped_pct"]],
        t("green.iv.adjusted", lang): [pct_text(v) for v in iv["adjusted_pct"]],
        t("green.iv.ci", lang): [f"{pct_text(a)}–{pct_text(b)}" for a, b in zip(iv["ci_low_pct"], iv["ci_high_pct"])],
        t("green.col.notes", lang): iv["notes"].fillna("").astype(str).to_numpy(),
    })


def draw_points(ga: GreeningAssessment, layers: GreeningLayers, unit_id: str, n: int, seed: int, year: int) -> pd.DataFrame:
    """``n`` random points in the unit (drawn in the land-cover CRS) with lon/lat and the map's
    label there: point_id, lon, lat, x, y, map_code, map_label."""
    info = layers.layers[year].info
    geom = ga.units.loc[ga.units["unit_id"].astype(str) == str(unit_id)].to_crs(info.crs)
    pts = sampling.sample_points(geom, int(n), seed=int(seed), crs=info.crs, source=str(unit_id))
    ll = pts.to_crs(DISPLAY_CRS)
    codes, labels = sampling.map_labels_at_points(layers.layers[year], pts)
    return pd.DataFrame({"point_id": pts["point_id"].astype(str).to_numpy(), "lon": ll.geometry.x.round(6).to_numpy(),
                         "lat": ll.geometry.y.round(6).to_numpy(), "x": pts["x"].round(2).to_numpy(), "y": pts["y"].round(2).to_numpy(),
                         "map_code": codes, "map_label": labels})


def short_id(pid) -> str:
    """``P007`` -> ``7``: the number drawn on the map."""
    text = str(pid)
    digits = text.lstrip("Pp")
    return str(int(digits)) if digits.isdigit() else text


def points_gdf(points: pd.DataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(points[["point_id"]].copy(), geometry=gpd.points_from_xy(points["lon"], points["lat"]), crs=DISPLAY_CRS)


def label_options(lang: str) -> list[str]:
    return [label_name(lb, lang) for lb in sampling.LABELS]


def from_display(values_, lang: str) -> list[str | None]:
    """Displayed labels (either language, or the codes) back to the codes; blank -> None."""
    back = {}
    for lb in sampling.LABELS:
        for lg in ("zh", "en"):
            back[label_name(lb, lg)] = lb
        back[lb] = lb
    out = []
    for v in values_:
        if v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == "":
            out.append(None)
        else:
            out.append(back.get(str(v).strip(), str(v).strip()))
    return out


def editor_frame(points: pd.DataFrame, labels: dict[int, str | None], lang: str) -> pd.DataFrame:
    return pd.DataFrame({
        "point_id": points["point_id"].astype(str).to_numpy(),
        "lon": points["lon"].to_numpy(), "lat": points["lat"].to_numpy(),
        "map_label": [label_name(v, lang) if v else fmt.DASH for v in points["map_label"]],
        "label": [label_name(labels.get(str(i)), lang) or None for i in points["point_id"]],
    })


def points_csv(points: pd.DataFrame, labels: dict[int, str | None]) -> bytes:
    d = points[["point_id", "lon", "lat", "x", "y", "map_code", "map_label"]].copy()
    d["label"] = [labels.get(str(i)) or "" for i in d["point_id"]]
    return csv_bytes(d)


def read_labels(data: bytes, name: str, points: pd.DataFrame) -> dict[int, str | None]:
    """An uploaded CSV with point_id,label -> {point_id: label}; unknown ids or labels raise."""
    from geodata.tables import read_csv

    df = read_csv(data, name=name)
    if "point_id" not in df.columns or "label" not in df.columns:
        raise DataError(name, "the file lacks the columns point_id and label", "download the points, fill the label column, upload it back")
    ids = df["point_id"].astype(str).str.strip()
    known = set(points["point_id"].astype(str))
    bad = [v for v in ids if v not in known]
    if bad:
        raise DataError(name, f"point ids {', '.join(bad[:10])} are not among the drawn points",
                        "label the points drawn on this page (same unit, number and seed)")
    norm = sampling.normalize_labels(df["label"].tolist(), source=name)
    return {str(i): v for i, v in zip(ids, norm)}


def map_share(ga: GreeningAssessment, unit_id: str, year: int) -> dict[str, float] | None:
    """The map's share of each label in the unit (the core's map_shares; None: nothing mapped)."""
    return indicators_core.map_shares(ga.class_areas, unit_id, year)


def estimate_table(est: sampling.PointEstimate, lang: str) -> pd.DataFrame:
    tb = est.table
    return pd.DataFrame({
        t("green.pt.category", lang): [label_name(lb, lang) for lb in tb["label"]],
        "n": tb["n"].to_numpy(),
        "p (%)": [pct_text(v * 100) for v in tb["p"]],
        t("green.pt.pm", lang): [fmt.DASH if pd.isna(v) else f"± {v * 100:.1f}" for v in tb["ci_half"]],
        t("green.pt.ci", lang): [f"{pct_text(a * 100)}–{pct_text(b * 100)}" for a, b in zip(tb["ci_low"], tb["ci_high"])],
        t("green.pt.wilson", lang): [f"{pct_text(a * 100)}–{pct_text(b * 100)}" for a, b in zip(tb["wilson_low"], tb["wilson_high"])],
    })


def compare_table(cmp: pd.DataFrame, lang: str) -> pd.DataFrame:
    return pd.DataFrame({
        t("green.pt.category", lang): [label_name(lb, lang) for lb in cmp["label"]],
        t("green.pt.map_share", lang): [pct_text(v * 100) for v in cmp["map_share"]],
        t("green.pt.sample", lang): [pct_text(v * 100) for v in cmp["sample_p"]],
        t("green.pt.ci", lang): [f"{pct_text(a * 100)}–{pct_text(b * 100)}" for a, b in zip(cmp["ci_low"], cmp["ci_high"])],
        t("green.pt.diff", lang): [pct_text(v) for v in cmp["difference_pp"]],
        t("green.pt.verdict", lang): [t(f"green.pt.{s}", lang) for s in cmp["status"]],
    })


def agreement_view(ag: sampling.Agreement, lang: str) -> pd.DataFrame:
    tb = ag.table.copy()
    tb.index = [f"{t('green.pt.map', lang)}: {label_name(str(i), lang)}" for i in tb.index]
    tb.columns = [f"{t('green.pt.sample', lang)}: {label_name(str(c), lang)}" for c in tb.columns]
    return tb.reset_index(names="")


def uploaded_targets_frame(accepted: pd.DataFrame) -> pd.DataFrame:
    """Accepted rows of an uploaded targets CSV as the editor's table."""
    d = accepted.copy()
    d["verified"] = d["verified"].astype(bool)
    for c in ("unit_id", "indicator", "source", "note"):
        d[c] = d[c].fillna("").astype(str)
    return d[["unit_id", "year", "indicator", "target_pct", "source", "verified", "note"]].reset_index(drop=True)


def estimate_notes(notes_, lang: str) -> list[str]:
    """Notes of a point estimate or an agreement table in the reader's language, from their
    codes (``green.note.<code>``; a note without a known code passes through in English)."""
    out = []
    sep = "、" if lang == "zh" else ", "
    for n in notes_:
        code = getattr(n, "code", None)
        key = f"green.note.{code}"
        if code is None or key not in DICTS["en"]:
            out.append(str(n))
            continue
        p = dict(n.params)
        if "labels" in p:
            p["labels"] = sep.join(label_name(x, lang) for x in p["labels"])
        out.append(t(key, lang, **p))
    return out
