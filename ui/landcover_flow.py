"""The Land cover & NDVI page's work: cached previews and the core calls behind its buttons.

Caches key on primitives only (path, size, mtime_ns, sensor, width). Classification, sampling
and accuracy are the core's (:mod:`sinks.landcover`); this module picks the inputs, feeds the
progress bar and turns results into labelled tables and charts. Outputs go to
``<workspace>/landcover/`` (``$SINKS_WORKSPACE`` or ``workspace/``), written atomically by the core.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from geodata.bands import BandSet, open_bands
from geodata.errors import DataError
from sinks.landcover.accuracy import MapAssessment, assess_map, read_classes_at
from sinks.landcover.classify import (
    NODATA, WORLDCOVER_CLASSES, ClassificationResult, RuleSet, TrainingSamples, classify_rules, classify_supervised,
    extract_samples, load_rules, train_classifier,
)
from sinks.landcover.datasets import SavedDataset, save_classified_dataset, workspace_dir
from sinks.landcover.sampling import design_sample
from ui import cache, imagery
from ui.charts import WORLDCOVER_HEX, _style
from ui.i18n import lc_name, t
from ui.tables import Table

SENSORS = ("sentinel2", "landsat89", "custom")
DEMO_RASTERS = cache.ROOT / "data" / "rasters"
# Demo samples from the synthetic land cover (seeded, so a test can recompute them with the core).
DEMO_TRAIN_N = 400
DEMO_TRAIN_SEED = 11
DEMO_REF_N = 500
DEMO_REF_SEED = 29
DEMO_MIN_PER_CLASS = 20
RF_TREES = 60
RF_SEED = 0
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
UPLOAD_TYPES = ("gpkg", "geojson", "json")
# The reference sample helper (any classified map): proposed sample and labelled uploads.
REF_SAMPLE_N = 300
REF_MIN_PER_CLASS = 20
REF_SAMPLE_SEED = 7
REF_SAMPLE_LAYER = "reference_sample"
REF_UPLOAD_TYPES = UPLOAD_TYPES + ("zip",)
GPKG_MIME = "application/geopackage+sqlite3"

Progress = Callable[[str, float], None]


# ------------------------------------------------------------------------------ imagery


@dataclass(frozen=True)
class ImageryChoice:
    path: str
    demo: bool
    year: int | None = None

    @property
    def truth(self) -> Path | None:
        """The demo's synthetic land cover of the same year and grid, if this is demo imagery."""
        if not self.demo or self.year is None:
            return None
        p = DEMO_RASTERS / f"jiangbei_landcover_{self.year}.tif"
        return p if p.exists() else None


def imagery_dir() -> Path:
    return workspace_dir() / "imagery"


def imagery_choices(year: int) -> list[ImageryChoice]:
    """The demo band file of ``year`` (if built) and every ``*.tif`` under ``<workspace>/imagery/``."""
    out = []
    demo = DEMO_RASTERS / f"jiangbei_bands_{year}.tif"
    if demo.exists():
        out.append(ImageryChoice(str(demo), True, int(year)))
    d = imagery_dir()
    if d.is_dir():
        out += [ImageryChoice(str(p), False) for p in sorted(d.glob("*.tif"))]
    return out


def choice_label(c: ImageryChoice, lang: str) -> str:
    if c.demo:
        return t("landcover.imagery.demo", lang, year=c.year)
    return t("landcover.imagery.workspace", lang, name=Path(c.path).name)


def _stat(path: str | Path) -> tuple[str, int, int]:
    s = Path(path).stat()
    return str(Path(path).resolve()), s.st_size, s.st_mtime_ns


@st.cache_resource(show_spinner=False, max_entries=8)
def _open(path: str, size: int, mtime_ns: int, sensor: str) -> BandSet:
    return open_bands(path, sensor=sensor)


def open_imagery(path: str, sensor: str) -> BandSet:
    """The band set of ``path`` read with ``sensor``'s rules (cached per file version).
    Raises DataError (not cached) when the file cannot be used that way."""
    return _open(*_stat(path), sensor)


@st.cache_data(show_spinner=False, max_entries=8)
def _imagery_views(path: str, size: int, mtime_ns: int, sensor: str, max_width: int) -> dict:
    bs = _open(path, size, mtime_ns, sensor)
    pv = imagery.read_bands_decimated(bs, max_width=max_width)
    return {"false_colour": imagery.false_colour_rgb(pv), "ndvi": imagery.ndvi_rgb(pv),
            "ndvi_stats": imagery.ndvi_stats(pv), "full_shape": pv.full_shape}


def imagery_views(path: str, sensor: str, max_width: int = imagery.MAX_WIDTH) -> dict:
    """False colour and NDVI pictures (RGB arrays) of a decimated read, and NDVI statistics."""
    return _imagery_views(*_stat(path), sensor, max_width)


@st.cache_data(show_spinner=False, max_entries=16)
def _class_view(path: str, size: int, mtime_ns: int, max_width: int) -> tuple[np.ndarray, list[int]]:
    codes = imagery.read_classes_decimated(path, max_width=max_width)
    return imagery.class_rgb(codes), imagery.present_classes(codes)


def class_view(path: str | Path, max_width: int = imagery.MAX_WIDTH) -> tuple[np.ndarray, list[int]]:
    """A land-cover map as WorldCover colours (RGB array) and the classes it shows."""
    return _class_view(*_stat(path), max_width)


# ------------------------------------------------------------------------------ classify


def output_path(bandset: BandSet, method: str, params: str) -> Path:
    """``<workspace>/landcover/<image>_<method>_<hash of inputs and parameters>.tif``."""
    src = "|".join(map(str, _stat(bandset.paths[0])))
    digest = hashlib.sha256(f"{src}|{bandset.sensor}|{method}|{params}".encode()).hexdigest()[:10]
    out = workspace_dir() / "landcover"
    out.mkdir(parents=True, exist_ok=True)
    return out / f"{bandset.paths[0].stem}_{method}_{digest}.tif"


def default_rules() -> RuleSet:
    return load_rules()


def edited_rules(values: dict[tuple[str, str, str], float], enabled: dict[str, bool]) -> RuleSet:
    """The default rules with the thresholds ``(rule, variable, op) -> value`` and the rule
    switches ``rule -> on`` applied (only what differs is changed, so the source stays clean)."""
    rules = load_rules()
    for (rule, var, op), v in values.items():
        current = next(c.value for c in rules.rule(rule).conditions if c.variable == var and c.op == op)
        if float(v) != current:
            rules = rules.with_value(rule, var, float(v), op=op)
    for rule, on in enabled.items():
        if bool(on) != rules.rule(rule).enabled:
            rules = rules.with_enabled(rule, bool(on))
    return rules


def run_rules(bandset: BandSet, rules: RuleSet, *, progress: Progress | None = None) -> ClassificationResult:
    return classify_rules(bandset, rules, output_path(bandset, "rules", rules.summary()), progress=progress)


def demo_samples(truth: Path, *, n_total: int, seed: int) -> "pd.DataFrame":
    """A stratified random sample (strata = classes of the synthetic land cover) with its class
    in ``class`` (read from that land cover)."""
    pts = design_sample(truth, n_total=n_total, allocation="olofsson", min_per_class=DEMO_MIN_PER_CLASS, seed=seed)
    pts["class"] = pts["map_class"].astype("int64")
    return pts


def read_upload(uploaded) -> "pd.DataFrame":
    """An uploaded GeoPackage / GeoJSON of labelled points, read from memory after a size check."""
    from geodata.vectors import read_vector

    if uploaded.size > MAX_UPLOAD_BYTES:
        from geodata.errors import UnsafeInputError

        raise UnsafeInputError(uploaded.name, f"the file is {uploaded.size / 1e6:.1f} MB, more than the {MAX_UPLOAD_BYTES / 1e6:.0f} MB allowed",
                               "upload only the labelled points (a few thousand points fit in well under 1 MB)")
    return read_vector(uploaded.getvalue(), name=uploaded.name)


def candidate_class_fields(gdf) -> list[str]:
    return [c for c in gdf.columns if c != gdf.geometry.name]


def run_random_forest(bandset: BandSet, samples, *, class_field: str, n_trees: int = RF_TREES,
                      progress: Progress | None = None) -> tuple[ClassificationResult, TrainingSamples]:
    """Train a random forest on ``samples`` (points with WorldCover codes in ``class_field``) and
    classify the whole band set. Progress: samples 0-10 %, training 10-20 %, mapping 20-100 %."""
    def report(step: str, frac: float) -> None:
        if progress is not None:
            progress(step, frac)

    report("extract samples", 0.0)
    ts = extract_samples(bandset, samples, class_field=class_field, min_per_class=5, drop_invalid=True)
    report("train random forest", 0.1)
    model = train_classifier(ts.features, ts.labels, seed=RF_SEED, n_estimators=int(n_trees), n_jobs=-1)
    report("classify (random forest)", 0.2)
    params = f"{n_trees}|{RF_SEED}|{ts.source}|{hashlib.sha256(ts.features.to_numpy().tobytes() + ts.labels.tobytes()).hexdigest()}"
    res = classify_supervised(bandset, model, output_path(bandset, "rf", params),
                              progress=(lambda s, f: report(s, 0.2 + 0.8 * f)))
    return res, ts


# ------------------------------------------------------------------------------ accuracy


def demo_assessment(map_path: Path, truth: Path, *, n_total: int = DEMO_REF_N, seed: int = DEMO_REF_SEED) -> MapAssessment:
    """Accuracy of ``map_path`` against the synthetic truth: a stratified random sample of the
    *map* (strata = map classes, Olofsson et al. 2014), reference labels read from ``truth``."""
    pts = design_sample(map_path, n_total=n_total, allocation="olofsson", min_per_class=DEMO_MIN_PER_CLASS, seed=seed)
    ref = read_classes_at(truth, pts).astype("int64")
    pts = pts[ref != NODATA].copy()
    pts["reference_class"] = ref[ref != NODATA]
    return assess_map(map_path, pts, class_field="reference_class", legend=sorted(set(pts["reference_class"].tolist())))


@dataclass(frozen=True)
class ProposedSample:
    """A stratified reference sample of a classified map, as GeoPackage bytes to download."""

    data: bytes
    file_name: str
    n_points: int
    allocation: dict[int, int]
    seed: int


def proposed_sample(map_path: str | Path, *, n_total: int, min_per_class: int, seed: int = REF_SAMPLE_SEED) -> ProposedSample:
    """The sample design helper: :func:`design_sample` on the map (strata = map classes, Olofsson
    allocation), written to an in-memory GeoPackage (layer ``reference_sample``) with an empty
    ``reference_class`` for the interpreter to fill in. Raises DataError (too few points...)."""
    import io

    pts = design_sample(map_path, n_total=int(n_total), allocation="olofsson", min_per_class=int(min_per_class), seed=int(seed))
    buf = io.BytesIO()
    pts.to_file(buf, driver="GPKG", layer=REF_SAMPLE_LAYER, engine="pyogrio")
    return ProposedSample(buf.getvalue(), f"{Path(map_path).stem}_reference_sample_n{int(n_total)}_seed{int(seed)}.gpkg",
                          len(pts), dict(pts.attrs.get("allocation", {})), int(seed))


def allocation_text(sample: ProposedSample, lang: str) -> str:
    return ", ".join(f"{_class_label(c, lang)} {n}" for c, n in sorted(sample.allocation.items()))


def default_class_field(fields: list[str]) -> int:
    """Index of the likely reference class field (``reference_class`` of the proposed sample)."""
    for name in ("reference_class", "class", "ref_class", "label"):
        if name in fields:
            return fields.index(name)
    return 0


def _worldcover_codes_in(labels) -> list[int]:
    """The WorldCover codes among the labels: valid classes even when the map never shows them
    (omission); anything else still reaches :func:`assess_map` as an unknown class."""
    out = set()
    for v in labels:
        try:
            f = float(str(v).strip())
        except ValueError:
            continue
        if f.is_integer() and int(f) in WORLDCOVER_CLASSES:
            out.add(int(f))
    return sorted(out)


def reference_assessment(map_path: str | Path, points, *, class_field: str, name: str) -> MapAssessment:
    """Accuracy of ``map_path`` against uploaded labelled points (``class_field`` holds WorldCover
    codes): :func:`assess_map`, the reference classes the map never shows counted as omissions.
    Raises DataError (no CRS, points outside the map or on nodata, unknown classes...), naming
    the upload."""
    try:
        legend = _worldcover_codes_in(points[class_field]) if class_field in points.columns else None
        return assess_map(map_path, points, class_field=class_field, legend=legend)
    except DataError as exc:
        if exc.source in ("<reference points>", "<input>"):
            exc.source = name
        raise


def _class_label(code, lang: str) -> str:
    return f"{lc_name(int(code), lang)} ({int(code)})"


def confusion_table(a: MapAssessment, lang: str) -> Table:
    cm = a.confusion.to_frame()
    labels = [_class_label(c, lang) for c in cm.index]
    df = pd.DataFrame(cm.to_numpy(), columns=labels)
    df.insert(0, t("landcover.acc.map_vs_ref", lang), labels)
    return Table(df, "confusion_matrix.csv")


def per_class_table(a: MapAssessment, lang: str) -> Table:
    """Per class: samples, user's / producer's accuracy and F1 (stratified estimators)."""
    f = a.area.to_frame()
    df = pd.DataFrame({
        t("col.class", lang): [_class_label(c, lang) for c in f["class"]],
        t("landcover.acc.n", lang): f["n_samples"].to_numpy(),
        t("landcover.acc.ua", lang): f["user_accuracy"].to_numpy(),
        t("landcover.acc.ua_ci", lang): f["user_accuracy_ci"].to_numpy(),
        t("landcover.acc.pa", lang): f["producer_accuracy"].to_numpy(),
        t("landcover.acc.pa_ci", lang): f["producer_accuracy_ci"].to_numpy(),
        t("landcover.acc.f1", lang): f["f1"].to_numpy(),
    })
    pct = st.column_config.NumberColumn
    cfg = {c: pct(c, format="percent") for c in list(df.columns)[2:]}
    return Table(df, "accuracy_per_class.csv", cfg)


def area_table(a: MapAssessment, lang: str) -> Table:
    """Mapped and adjusted (Olofsson) area per class with the 95 % interval, ha."""
    f = a.area.to_frame()
    ha = t("unit.ha", lang)
    from ui.fmt import COL_HA, with_unit

    cols = {
        "mapped_area_ha": with_unit(t("landcover.acc.mapped_area", lang), ha, lang),
        "adjusted_area_ha": with_unit(t("landcover.acc.adjusted_area", lang), ha, lang),
        "ci_ha": with_unit(t("landcover.acc.ci", lang), ha, lang),
        "ci_low_ha": with_unit(t("landcover.acc.ci_low", lang), ha, lang),
        "ci_high_ha": with_unit(t("landcover.acc.ci_high", lang), ha, lang),
    }
    df = pd.DataFrame({t("col.class", lang): [_class_label(c, lang) for c in f["class"]]})
    for src, label in cols.items():
        df[label] = f[src].to_numpy()
    cfg = {label: st.column_config.NumberColumn(label, format=COL_HA) for label in cols.values()}
    return Table(df, "adjusted_area_ha.csv", cfg)


def area_chart(a: MapAssessment, lang: str) -> alt.Chart:
    """Bars of the adjusted area per class with 95 % error bars, beside the mapped area (ticks)."""
    f = a.area.to_frame()
    f = f[(f["mapped_area_ha"] > 0) | (f["adjusted_area_ha"] > 0)]
    df = pd.DataFrame({
        "class": [_class_label(c, lang) for c in f["class"]],
        "code": f["class"].astype(int).to_numpy(),
        "adjusted": f["adjusted_area_ha"].to_numpy(),
        "low": f["ci_low_ha"].clip(lower=0).to_numpy(),
        "high": f["ci_high_ha"].to_numpy(),
        "mapped": f["mapped_area_ha"].to_numpy(),
    })
    order = list(df["class"])
    colours = [WORLDCOVER_HEX.get(int(c), "#999999") for c in df["code"]]
    x = alt.X("class:N", sort=order, title=None, axis=alt.Axis(labelAngle=-30, labelLimit=220))
    unit = t("unit.ha", lang)
    bars = alt.Chart(df).mark_bar(opacity=0.85, stroke="#333", strokeWidth=0.5).encode(
        x=x, y=alt.Y("adjusted:Q", title=f"{t('landcover.acc.adjusted_area', lang)} ({unit})"),
        color=alt.Color("class:N", scale=alt.Scale(domain=order, range=colours), legend=None),
        tooltip=[alt.Tooltip("class:N", title=t("col.class", lang)),
                 alt.Tooltip("adjusted:Q", title=t("landcover.acc.adjusted_area", lang), format=",.0f"),
                 alt.Tooltip("low:Q", title=t("landcover.acc.ci_low", lang), format=",.0f"),
                 alt.Tooltip("high:Q", title=t("landcover.acc.ci_high", lang), format=",.0f"),
                 alt.Tooltip("mapped:Q", title=t("landcover.acc.mapped_area", lang), format=",.0f")],
    )
    errors = alt.Chart(df).mark_errorbar(ticks=True, color="#1f2a24").encode(
        x=x, y=alt.Y("low:Q", title=None), y2="high:Q")
    mapped = alt.Chart(df).mark_point(shape="diamond", filled=True, size=70, color="#1f2a24").encode(
        x=x, y="mapped:Q", tooltip=[alt.Tooltip("mapped:Q", title=t("landcover.acc.mapped_area", lang), format=",.0f")])
    return _style((bars + errors + mapped).properties(height=320))


# ------------------------------------------------------------------------------ save


def save_dataset(config_path: str, map_path: Path, *, year: int, name: str) -> SavedDataset:
    """Save the map as a dataset (a run configuration in the workspace) and forget any cached
    listing of configurations so the sidebar shows it at once."""
    saved = save_classified_dataset(config_path, map_path, year=year, name=name)
    clear = getattr(cache.list_configs, "clear", None)
    if callable(clear):
        clear()
    return saved


__all__ = [
    "DataError", "ImageryChoice", "imagery_choices", "open_imagery", "imagery_views", "class_view",
    "run_rules", "run_random_forest", "demo_samples", "demo_assessment", "save_dataset",
    "proposed_sample", "reference_assessment",
]


# ------------------------------------------------------------------------------ drawing helpers

_STEP_KEYS = {
    "classify (rules)": "landcover.step.rules",
    "extract samples": "landcover.step.samples",
    "train random forest": "landcover.step.train",
    "classify (random forest)": "landcover.step.rf",
}


def step_label(step: str, lang: str) -> str:
    """A classification step in the reader's language (unknown ones pass through)."""
    key = _STEP_KEYS.get(step)
    return t(key, lang) if key else step


def progress_bar(label: str, lang: str):
    """A progress bar (with the time budget) and the ``progress(step, fraction)`` callback."""
    from ui.progress import progress_bar as bar

    return bar(st, label, lang, step_label=step_label)


VIEWS = ("false_colour", "ndvi", "classes", "truth")


def legend_html(view: str, lang: str, classes: list[int] | None = None) -> str:
    """The legend of a view: NDVI gradient with ticks, or class swatches (WorldCover colours)."""
    import html

    if view == "false_colour":
        body = f'<div style="color:#444">{html.escape(t("landcover.legend.false_colour", lang))}</div>'
    elif view == "ndvi":
        lo, hi = imagery.NDVI_STOPS[0][0], imagery.NDVI_STOPS[-1][0]
        span = hi - lo
        grad = ", ".join(f"{imagery.hex_colour(c)} {100 * (v - lo) / span:.1f}%" for v, c in imagery.NDVI_STOPS)
        ticks = "".join(
            f'<span style="position:absolute;left:{100 * (v - lo) / span:.1f}%;transform:translateX(-{100 * (v - lo) / span:.0f}%)">{v:g}</span>'
            for v in imagery.NDVI_TICKS)
        body = (f'<div style="height:14px;border:1px solid #888;border-radius:3px;background:linear-gradient(to right, {grad})"></div>'
                f'<div style="position:relative;height:1.3em;margin:2px 4px 4px 4px;font-size:0.75rem;color:#444">{ticks}</div>'
                f'<div style="font-size:0.75rem;color:#555">{html.escape(t("landcover.legend.ndvi_note", lang))}</div>')
    else:
        body = "".join(
            f'<span style="display:inline-flex;align-items:center;gap:5px;margin:2px 12px 2px 0">'
            f'<span style="width:14px;height:14px;border:1px solid #555;border-radius:3px;background:{WORLDCOVER_HEX.get(c, "#999")}"></span>'
            f'{html.escape(lc_name(c, lang))} ({c})</span>' for c in (classes or []))
    title = t(f"landcover.view.{view}", lang)
    return (f'<div data-testid="lc-legend" style="font-size:0.85rem;line-height:1.35;color:#1f2a24">'
            f'<div style="font-weight:600;margin-bottom:4px">{html.escape(title)}</div>{body}</div>')


def rules_frame(rules: RuleSet, lang: str) -> pd.DataFrame:
    """One row per threshold with its rationale and source (the core's English text)."""
    rec = pd.DataFrame(rules.to_records())
    return pd.DataFrame({
        t("col.class", lang): [_class_label(c, lang) for c in rec["code"]],
        t("landcover.rules.col.rule", lang): rec["rule"],
        t("landcover.rules.col.condition", lang): [f"{v} {o} {x:g}" for v, o, x in zip(rec["variable"], rec["op"], rec["value"])],
        t("landcover.rules.col.rationale", lang): rec["rationale"],
        t("landcover.rules.source", lang): rec["source"],
    })


def result_table(res: ClassificationResult, lang: str, *, training: dict[int, int] | None = None) -> Table:
    """Mapped pixels and pixel-count area per class (and training samples per class)."""
    area = res.class_area_ha or {}
    codes = sorted(res.class_counts_px)
    ha = t("unit.ha", lang)
    from ui.fmt import COL_HA, with_unit

    area_col = with_unit(t("landcover.result.area", lang), ha, lang)
    df = pd.DataFrame({
        t("col.class", lang): [_class_label(c, lang) for c in codes],
        t("landcover.result.pixels", lang): [int(res.class_counts_px[c]) for c in codes],
        area_col: [area.get(c, float("nan")) for c in codes],
    })
    px_col = t("landcover.result.pixels", lang)
    cfg = {area_col: st.column_config.NumberColumn(area_col, format=COL_HA, help=t("landcover.result.area_help", lang)),
           px_col: st.column_config.NumberColumn(px_col, format="%,.0f")}
    if training is not None:
        df[t("landcover.result.training", lang)] = [int(training.get(c, 0)) for c in codes]
    return Table(df, f"{res.path.stem}_class_areas.csv", cfg)


def default_dataset_name(res: ClassificationResult, year: int) -> str:
    return f"{res.path.stem.split('_')[0]}-{'rules' if res.method == 'rules' else 'rf'}-{year}"
