"""The "Net neutrality" screen's data: the ledger per choice (inventory series, zones, removal
method, scenarios, an officer's upload), its headline cards, charts and tables, and the core's
notes in the reader's language.

The numbers come from :func:`sinks.ledger.assess.ledger_assessment` (the figures of
``python -m sinks report``), run on the dashboard's cached carbon assessment. One ledger is kept
per (inputs fingerprint, choice) and shared by all sessions like :mod:`ui.cache` keeps
assessments; an upload's ledgers live apart (an upload cannot evict the public ones). Everything
is computed outside any ``st.cache_*`` function so that the progress bar is never replayed.

The planting candidates of the carbon-sink project view come from the greening assessment of the
configuration's zones, computed once per configuration and shared with the "Greening coverage"
page (:mod:`ui.greening_flow`); each ledger takes the candidates of its selected zones.
"""
from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from geodata.errors import DataError
from geodata.points import safe_for_csv
from sinks.config import load_config
from sinks.ledger.assess import TOTAL, Ledger, ledger_assessment
from sinks.ledger.inventory import ALL_ZONES, SECTOR_MAP_PATH, YEAR_RANGE, EmissionsInventory, load_emissions
from sinks.ledger.inventory import years_text as inventory_years_text
from sinks.ledger.projects import ProjectView, activities_from_candidates, project_view
from sinks.ledger.scenarios import RATE_LIMIT_PCT, SECTORS, YEAR_MAX, YEAR_MIN, Scenario, Steps
from sinks.ledger.settings import METHODS
from sinks.ledger.trajectory import NEUTRALITY_TARGET_YEAR, PEAK_TARGET_YEAR
from sinks.ledger.warnings import INDICATORS, latest_status
from sinks.notes import Note
from sinks.units import T_PER_KT, T_PER_MT, T_PER_WAN_T
from ui import fmt
from ui.cache import KeyedLRU, file_stat, fingerprint
from ui.charts import _style
from ui.i18n import DICTS, lc_name, step_text, t, zone_names

__all__ = ["DataError", "METHODS", "SECTORS", "TOTAL"]

MAX_UPLOAD_BYTES = 20 * 2**20
# the reader's choices on the Net neutrality page, which the Reports page reports on
K_DS = "neut_dataset"
K_ZONES = "neut_zones"
K_METHOD = "neut_method"
K_SCEN = "neut_scenario"
K_UP = "neut_upload"  # Upload (officers, this session)
K_EDIT = "neut_scenarios_edited"  # (configuration key, edited scenarios)
# a plain copy of the widgets' choice: Streamlit drops a widget's key on a page that does not draw
# it, so the Reports page (and a return to Net neutrality) read the choice from here
K_CHOICE = "neut_choice"
# Okabe-Ito (colour-blind safe): warning statuses (with a symbol each, so colour is not the only cue)
STATUS_HEX = {"ok": "#009E73", "amber": "#E69F00", "red": "#D55E00", "no_data": "#BBBBBB"}
STATUS_TEXT_HEX = {"ok": "#ffffff", "amber": "#000000", "red": "#ffffff", "no_data": "#000000"}
STATUS_SYMBOL = {"ok": "✓", "amber": "▲", "red": "✖", "no_data": "–"}
WARN_STATUSES = ("ok", "amber", "red", "no_data")
DC_HEX = {"met": "#cfeee3", "over": "#f6d3c2", "undefined": "#eeeeee"}
DC_SYMBOL = {"met": "✓", "over": "✖", "undefined": "–"}
SCENARIO_HEX = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
EMISSIONS_HEX, NET_HEX = "#444444", "#D55E00"
METHOD_HEX = {"gain_loss": "#2f7d4a", "stock_difference": "#9aa9b8"}
SECTOR_HEX = {"industry": "#0072B2", "energy": "#D55E00", "buildings": "#E69F00", "transport": "#009E73", "other": "#999999"}
PEAK_STATUSES = ("peaked", "plateau", "rising", "undetermined")
UNIT_FACTORS = {"kt": T_PER_KT, "Gg": T_PER_KT, "万吨": T_PER_WAN_T, "Mt": T_PER_MT, "Tg": T_PER_MT}


# ------------------------------------------------------------------------------ inputs and cache


def config_key(config_path: str) -> str:
    """The configuration's fingerprint plus the ledger's files (GDP, scenarios, warning rules,
    dual-control targets, the sector map) and the greening inputs the project view reads."""
    from ui import greening_flow

    parts = [fingerprint(config_path), greening_flow.config_key(config_path), file_stat(SECTOR_MAP_PATH)]
    try:
        lg = load_config(config_path).ledger
        parts += [file_stat(f) for f in (lg.gdp, lg.scenarios, lg.warning_rules, lg.targets)]
    except (ValueError, AttributeError):
        pass
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


@st.cache_resource(show_spinner=False)
def _ledger_store() -> KeyedLRU:
    return KeyedLRU(8)


@st.cache_resource(show_spinner=False)
def _upload_store() -> KeyedLRU:
    """Ledgers of officers' uploaded inventories, apart from the public ones."""
    return KeyedLRU(4)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


@dataclass(frozen=True, eq=False)
class Upload:
    """An officer's inventory upload, kept in the session only."""

    sha: str
    name: str
    inventory: EmissionsInventory


def scenarios_sig(scenarios: tuple[Scenario, ...] | None) -> str:
    """A primitive key for a set of (edited) scenarios (they hold dicts: hashed by their repr)."""
    if scenarios is None:
        return "config"
    return hashlib.sha256(repr(tuple(dataclasses.asdict(s) for s in scenarios)).encode()).hexdigest()[:16]


@dataclass(frozen=True, eq=False)
class Choice:
    """What the ledger is computed for: ``dataset`` ``cfg:<id>`` (configured inventory) or
    ``up:<id>`` (the upload), the zones, the headline removal method and the scenarios (None =
    the configuration's)."""

    dataset: str
    zones: tuple[str, ...]
    method: str
    scenarios: tuple[Scenario, ...] | None = None
    upload: Upload | None = None

    @property
    def source(self) -> str:
        return self.dataset.split(":", 1)[0]

    @property
    def dataset_id(self) -> str:
        return self.dataset.split(":", 1)[1]

    def tag(self) -> str:
        up = self.upload.sha if self.source == "up" and self.upload is not None else ""
        return f"{self.dataset}|{','.join(self.zones)}|{self.method}|{scenarios_sig(self.scenarios)}|{up}"


def ledger_key(ctx_key: str, config_path: str, choice: Choice) -> str:
    return f"{ctx_key}|{config_key(config_path)}|{choice.tag()}"


def _store_for(key: str) -> KeyedLRU:
    return _upload_store() if "|up:" in key else _ledger_store()


def cached_ledger(key: str) -> Ledger | None:
    return _store_for(key).get(key)


_STEPS = (  # the ledger's progress steps -> i18n keys
    (re.compile(r"^compare inventory sources$"), "neut.step.sources", None),
    (re.compile(r"^removals with intervals$"), "neut.step.removals", None),
    (re.compile(r"^peak and history$"), "neut.step.peak", None),
    (re.compile(r"^scenarios to 2060$"), "neut.step.scenarios", None),
    (re.compile(r"^early warning$"), "neut.step.warning", None),
    (re.compile(r"^planting candidates$"), "neut.step.planting", None),
    (re.compile(r"^done$"), "neut.step.done", None),
)


def step_label(step: str, lang: str) -> str:
    """A progress step of the ledger (or of the greening candidates it needs) in the reader's language."""
    from ui import greening_flow

    text = step_text(step, lang, _STEPS)
    return greening_flow.step_label(step, lang) if text == step else text


def load_activities(config_path: str, zones: tuple[str, ...], *, progress=None) -> tuple[pd.DataFrame | None, tuple[Note, ...]]:
    """``activity, code, plant_to, area_ha`` of the selected zones' planting candidates and the
    notes that go with them. The greening assessment of the zones is computed once per
    configuration (shared with the greening page); None when it cannot be computed."""
    from ui import greening_flow

    choice = greening_flow.UnitChoice("zones")
    key = greening_flow.assessment_key(config_path, choice)
    try:
        ga = greening_flow.load_assessment(config_path, key, choice, progress=progress)
    except DataError as exc:
        return None, (Note("projects_failed", f"the project view could not find planting candidates: {exc.problem}", problem=exc.problem),)
    acts = activities_from_candidates(ga.candidates, unit_ids=list(zones))
    return acts, tuple(n for n in ga.notes if getattr(n, "code", "") == "no_redlines")


def load_ledger(config_path: str, assessment, key: str, choice: Choice, *, progress=None) -> Ledger:
    """The ledger of ``choice`` (computed once per key). Raises DataError for unusable inputs."""
    say = progress or (lambda s, f: None)
    store = _store_for(key)
    got = store.get(key)
    if got is not None:
        return got
    with store.key_lock(key):
        got = store.get(key)
        if got is None:
            acts, extra = load_activities(config_path, choice.zones, progress=lambda s, f: say(s, 0.6 * f))
            cfg = load_config(config_path)
            if choice.method != cfg.ledger.headline_method:
                cfg = dataclasses.replace(cfg, ledger=dataclasses.replace(cfg.ledger, headline_method=choice.method))
            inv = choice.upload.inventory if choice.source == "up" and choice.upload is not None else None
            # with the carbon assessment given, the ledger reports from 0.55 to 1
            got = ledger_assessment(cfg, assessment=assessment, inventory=inv, dataset=choice.dataset_id, zone_ids=list(choice.zones),
                                    scenarios=choice.scenarios, activities=acts, with_projects=False,
                                    progress=lambda s, f: say(s, 0.6 + 0.4 * max(0.0, (f - 0.5) / 0.5)))
            if extra:
                got = dataclasses.replace(got, notes=tuple(dict.fromkeys(got.notes + extra)))
            store.put(key, got)
    return got


def read_upload(data: bytes, name: str, zone_ids) -> EmissionsInventory:
    """An uploaded inventory (CSV UTF-8 / GBK, or .xlsx) read and checked by the core."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise DataError(name, f"the file is {len(data) / 2**20:.1f} MiB (limit {MAX_UPLOAD_BYTES / 2**20:.0f} MiB)",
                        "upload the inventory of the study area only")
    return load_emissions(data, name=name, zone_ids=list(zone_ids), primary=None)


def dataset_options(inventory: EmissionsInventory | None, upload: Upload | None) -> list[str]:
    """``cfg:<id>`` per configured series (the primary first), then ``up:<id>`` per uploaded one."""
    out = []
    for src, inv in (("cfg", inventory), ("up", None if upload is None else upload.inventory)):
        if inv is None:
            continue
        out += [f"{src}:{inv.primary}"] + [f"{src}:{d}" for d in inv.datasets if d != inv.primary]
    return out


def dataset_label(option: str, inventory: EmissionsInventory | None, upload: Upload | None, lang: str) -> str:
    """``chen2020_county · 主序列 · 2010–2025年`` (the upload's: with its file name)."""
    src, ds = option.split(":", 1)
    inv = inventory if src == "cfg" else (None if upload is None else upload.inventory)
    parts = [ds]
    if inv is not None and ds in inv.datasets:
        if ds == inv.primary:
            parts.append(t("neut.ds.primary", lang))
        ys = inv.years(ds)
        if ys:
            parts.append(fmt.period(f"{ys[0]}-{ys[-1]}", lang))
    if src == "up" and upload is not None:
        parts.append(t("neut.ds.upload", lang, name=upload.name))
    return " · ".join(parts)


# ------------------------------------------------------------------------------ words and numbers


def sep(lang: str) -> str:
    return "、" if lang == "zh" else ", "


def years_text(years, lang: str) -> str:
    """2013、2015–2017 (runs collapsed)."""
    return inventory_years_text(years, dash="–", sep=sep(lang))


def num(v, decimals: int = 0) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return fmt.DASH
    x = round(float(v), decimals)
    if x == 0:
        x = 0.0
    return f"{x:,.{decimals}f}"


def signed(v, decimals: int = 2) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return fmt.DASH
    return f"{float(v):+,.{decimals}f}"


def _step_of(ref: float, lang: str) -> tuple[float, str]:
    """The display step (10^4 / 10^8 in Chinese, k / M in English) for magnitude ``ref``."""
    steps = fmt._STEPS[lang]  # the one table of 万吨 / kt steps
    mag = abs(ref) if ref is not None and not (isinstance(ref, float) and math.isnan(ref)) else 0.0
    for step, unit in steps:
        if mag >= step or step == 1.0:
            return step, unit
    return 1.0, steps[-1][1]


def unit_for(ref: float, kind: str, lang: str) -> tuple[float, str]:
    """(divisor, unit) of a tonnage of ``kind`` chosen from magnitude ``ref`` (as ui.fmt does)."""
    step, _ = _step_of(ref, lang)
    _, unit = fmt.tonnes_parts(ref if ref else 1.0, kind, lang, ref=ref if ref else 1.0)
    return step, unit


def _bad(x) -> bool:
    return x is None or (isinstance(x, (float, np.floating)) and math.isnan(x))


def tn(v, kind: str, lang: str, ref=None, like=None) -> str:
    """A bare tonnage number in the unit chosen from ``ref`` (default: itself). With ``like``
    (a central value) it has the decimals ``like`` is shown with: an interval's bounds read like
    its central value (``5.798 至 10.670``, not ``-0.57 至 4.310``)."""
    if _bad(v):
        return fmt.DASH
    if _bad(like) or like == 0:
        return fmt.tonnes_parts(float(v), kind, lang, ref=None if _bad(ref) else ref)[0]
    base = like if _bad(ref) else ref
    shown, _ = fmt.tonnes_parts(float(like), kind, lang, ref=base)
    decimals = len(shown.split(".")[1]) if "." in shown else 0
    step, _ = _step_of(float(base), lang)
    x = round(float(v) / step, decimals)
    return f"{0.0 if x == 0 else x:,.{decimals}f}"


def interval(lo, hi, lang: str, *, fmt_one=None) -> str | None:
    """``95%区间 5.798 至 10.67`` (None when either bound is missing)."""
    if lo is None or hi is None or any(isinstance(x, float) and math.isnan(x) for x in (lo, hi)):
        return None
    f = fmt_one or (lambda x: str(x))
    return t("neut.iv", lang, lo=f(lo), hi=f(hi))


def iv_text(lo, hi, lang: str, *, fmt_one=None) -> str:
    """``5.798 至 10.67`` / ``5.798 to 10.67`` (— when missing)."""
    if lo is None or hi is None or any(isinstance(x, float) and math.isnan(x) for x in (lo, hi)):
        return fmt.DASH
    f = fmt_one or (lambda x: str(x))
    return t("neut.iv_short", lang, lo=f(lo), hi=f(hi))


def method_name(method: str, lang: str) -> str:
    return t(f"neut.method.{method}", lang)


def peak_status_name(status: str, lang: str) -> str:
    return t(f"neut.peak.{status}", lang) if status in PEAK_STATUSES else str(status)


def sector_name(sector: str, lang: str) -> str:
    key = f"neut.sector.{sector}"
    return t(key, lang) if key in DICTS["en"] else str(sector)


def indicator_name(ind: str, lang: str) -> str:
    key = f"neut.ind.{ind}"
    return t(key, lang) if key in DICTS["en"] else str(ind)


def unit_name(unit: str, lang: str) -> str:
    key = {"%/yr": "neut.unit.pct_yr", "pp": "neut.unit.pp", "% of peak": "neut.unit.pct_peak", "%": "neut.unit.pct"}.get(unit)
    return t(key, lang) if key else unit


def status_name(status: str, lang: str) -> str:
    return t(f"neut.status.{status}", lang)


def activity_name(activity: str, lang: str) -> str:
    key = f"neut.act.{activity}"
    return t(key, lang) if key in DICTS["en"] else str(activity)


def scenario_name(s: Scenario, lang: str) -> str:
    return s.name_zh if lang == "zh" else s.name_en


def zone_label(L: Ledger, zone: str, lang: str) -> str:
    if zone == TOTAL:
        return t("neut.zone.all", lang)
    return zone_names(L.assessment, lang).get(zone, zone)


# ------------------------------------------------------------------------------ notes


def _fmt_params(p: dict, lang: str) -> dict:
    out = {}
    for k, v in p.items():
        if isinstance(v, (bool, np.bool_)):
            out[k] = v
        elif isinstance(v, (int, np.integer)):
            out[k] = int(v)
        elif isinstance(v, (float, np.floating)):
            out[k] = v
        elif isinstance(v, (list, tuple)) and all(isinstance(x, (int, np.integer)) for x in v):
            out[k] = years_text(v, lang) if k in ("years",) else sep(lang).join(str(int(x)) for x in v)
        elif isinstance(v, (list, tuple)):
            out[k] = sep(lang).join(map(str, v))
        else:
            out[k] = "" if v is None else v
    return out


_RULE_KEYS = {"a pixel belongs to every zone whose polygon contains its centre (overlapping zones each count it)": "neut.rule.centre"}


def items_text(items, lang: str) -> str:
    """``[{zone_id, year, sectors}]`` or ``[{year, zones}]`` as ``pukou 2025（交通）`` runs."""
    groups: dict[tuple, list[int]] = {}
    for it in items or []:
        if "sectors" in it:
            k = (str(it.get("zone_id", "")), tuple(sector_name(x, lang) for x in it.get("sectors", [])))
        else:
            k = (sep(lang).join(map(str, it.get("zones", []))), ())
        groups.setdefault(k, []).append(int(it.get("year", 0)))
    out = []
    for (z, secs), ys in groups.items():
        tail = (f"（{sep(lang).join(secs)}）" if lang == "zh" else f" ({sep(lang).join(secs)})") if secs else ""
        out.append(f"{z} {years_text(ys, lang)}{tail}")
    return ("；" if lang == "zh" else "; ").join(out) or fmt.DASH


def note_text(n, lang: str, *, peak=None) -> str:
    """One core note in the reader's language (``neut.note.<code>``, filled from its params; the
    core's English for a code without a key, or whose params no longer fit the text)."""
    try:
        return _note_text(n, lang, peak=peak)
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        return str(n)


def _note_text(n, lang: str, *, peak=None) -> str:
    code = getattr(n, "code", None)
    if code is None:
        return str(n)
    p = dict(getattr(n, "params", {}))
    s = sep(lang)
    key = f"neut.note.{code}"
    # codes whose text needs more than the params, or a variant
    if code == "bad_unit":
        key = "neut.note.bad_unit" if p.get("unit") else "neut.note.bad_unit_none"
    elif code == "bad_value":
        if p.get("suggestion"):
            return t("neut.note.bad_value_comma", lang, value=p.get("value", ""), suggestion=p["suggestion"])
        if "unit" in p:
            return t("neut.note.bad_value_overflow", lang, value=p.get("value", ""), unit=p.get("unit", ""))
        return t(key, lang, value=p.get("value", ""))
    elif code == "unit_conflict":
        (a, b), (ua, ub) = p["where"], p["units"]
        return t(key, lang, a=a, b=b, ua=ua, ub=ub)
    elif code == "implausible":
        return t(key, lang, value=p.get("value", ""), unit=p.get("unit", ""), tco2e=f"{float(p['tco2e']):.3g}")
    elif code == "unknown_sector":
        tail = t("neut.note.suggestion", lang, suggestion=p["suggestion"]) if p.get("suggestion") else ""
        return t(key, lang, sector=p.get("sector", ""), tail=tail)
    elif code == "unknown_zone":
        if p.get("zone") == ALL_ZONES:
            key = "neut.note.unknown_zone_none"
        elif not p.get("zone"):
            key = "neut.note.unknown_zone_blank"
        return t(key, lang, zone=p.get("zone", ""), zones=s.join(map(str, p.get("zones", []))))
    elif code == "bad_year":
        return t(key, lang, value=p.get("value", ""), lo=YEAR_RANGE[0], hi=YEAR_RANGE[1])
    elif code in ("duplicate", "conflict"):
        return t(key, lang, rows=s.join(map(str, p.get("rows", []))))
    elif code in ("units_converted", "unit_in_value"):
        parts = s.join(t("neut.note.units_part", lang, n=int(c), unit=u, factor=num(UNIT_FACTORS.get(u, 1.0)))
                       for u, c in p.get("counts", {}).items())
        return t(key, lang, parts=parts, n=p.get("n", 0))
    elif code == "rejected":
        counts = s.join(f"{t(f'neut.reason.{c}', lang) if f'neut.reason.{c}' in DICTS['en'] else c} {k}" for c, k in p.get("counts", {}).items())
        return t(key, lang, n=p.get("n", 0), n_read=p.get("n_read", 0), counts=counts)
    elif code == "sources_differ":
        return t(key, lang, dataset=p["dataset"], primary=p["primary"], mean=f"{p['mean_ratio']:.2f}", lo=f"{p['min_ratio']:.2f}",
                 hi=f"{p['max_ratio']:.2f}", first=p["first_year"], last=p["last_year"])
    elif code == "missing_years":
        return t(key, lang, dataset=p["dataset"], zone=p["zone_id"], years=years_text(p["years"], lang))
    elif code == "sector_gaps":
        return t(key, lang, dataset=p["dataset"], zone=p["zone_id"], sector=sector_name(p["sector"], lang), years=years_text(p["years"], lang))
    elif code in ("sector_year_incomplete", "emissions_incomplete", "zones_missing_emissions"):
        return t(key, lang, items=items_text(p.get("items", []), lang), years=years_text(p.get("years", []), lang))
    elif code == "proj_base_incomplete":
        return t(key, lang, base=p["base"], skipped=years_text(p.get("skipped", []), lang), items=items_text(p.get("items", []), lang))
    elif code == "separator":
        return t(key, lang, separator={";": t("neut.sep.semicolon", lang), "\t": t("neut.sep.tab", lang)}.get(p.get("separator"), repr(p.get("separator"))))
    elif code == "zone_overlap":
        rule = p.get("rule", "")
        rule = t(_RULE_KEYS[rule], lang) if rule in _RULE_KEYS else rule
        pairs = p.get("overlapping_pairs") or []
        over = (t("neut.note.zone_overlap_pairs", lang, pairs=s.join(f"{a}/{b}" for a, b in pairs)) if pairs
                else t("neut.note.zone_overlap_none", lang))
        return t(key, lang, rule=rule, overlap=over)
    elif code == "unestimated_classes":
        classes = s.join(f"{c} {lc_name(int(c), lang)}" for c in p.get("codes", [])) or fmt.DASH
        areas = (("；" if lang == "zh" else "; ").join(f"{fmt.period(str(k), lang)}: {fmt.hectares(v, lang)}"
                                                       for k, v in p.get("unestimated_area_ha", {}).items()))
        return t(key, lang, classes=classes, areas=areas or fmt.DASH)
    elif code == "configured_zones" and p.get("replaced"):
        key = "neut.note.configured_zones_replaced"
    elif code == "shared_defaults":
        groups = ("；" if lang == "zh" else "; ").join(f"{q} ({s.join(map(str, cs))})" for q, cs in p.get("groups", []))
        return t(key, lang, groups=groups)
    elif code == "fixed_coefficients":
        listed = s.join(f"{int(c)} {q}" for c, q in p.get("coefficients", [])) or fmt.DASH
        return t(key, lang, n=p.get("n", 0), listed=listed, sd=fmt.pct(p.get("stock_difference_share"), lang),
                 gl=fmt.pct(p.get("gain_loss_share"), lang))
    elif code in ("zero_coefficients", "area_class_not_in_report"):
        return t(key, lang, classes=s.join(f"{c} {lc_name(int(c), lang)}" for c in p.get("codes", [])), year=p.get("year", ""))
    elif code in ("proj_afforestation", "proj_wetland", "proj_wetland_no_rate"):
        return t(key, lang, ha=num(p.get("ha_yr")), until=p.get("until", ""), gain=f"{p.get('gain_tc', 0.0):g}",
                 rate=f"{p.get('rate_tco2', 0.0):.3f}")
    elif code == "proj_removals_constant":
        return t(key, lang, value=fmt.tonnes(p.get("value"), "co2e_yr", lang))
    elif code == "neutral_none":
        tail = t("neut.note.neutral_none_early", lang, early=p["early"]) if p.get("early") is not None else ""
        return t(key, lang, horizon=p.get("horizon"), net=fmt.tonnes(p.get("net"), "co2e", lang), tail=tail)
    elif code == "neutral_year":
        return t("neut.note.neutral_year" if p.get("reached") else "neut.note.neutral_year_late", lang, year=p["year"],
                 early=p["early"] if p.get("early") is not None else fmt.DASH,
                 late=p["late"] if p.get("late") is not None else t("neut.after", lang, year=p["horizon"]),
                 horizon=p["horizon"], target=p["target"])
    elif code in ("growth_not_estimated", "soil_dominates"):
        return t(key, lang, classes=s.join(f"{c} {lc_name(int(c), lang)}" for c in p.get("codes", [])),
                 activities=s.join(activity_name(a, lang) for a in p.get("activities", [])))
    elif code.startswith("peak_"):
        return _peak_text(n, p, lang, peak)
    elif code.startswith("warn_"):
        return warn_reason(n, lang)
    if key not in DICTS["en"]:
        return str(n)
    return t(key, lang, **_fmt_params(p, lang))


def _peak_text(n, p: dict, lang: str, peak) -> str:
    code = n.code
    key = f"neut.note.{code}"
    if key not in DICTS["en"]:
        return str(n)
    to = lambda v: fmt.tonnes(v, "co2e_yr", lang)  # noqa: E731
    if code == "peak_max":
        return t(key, lang, year=p["year"], value=to(p["value"]))
    if code == "peak_since":
        return t(key, lang, peak_year=p["peak_year"], last_year=p["last_year"], change=signed(p["change_pct"], 1),
                 last_smoothed=to(p["last_smoothed"]), last_value=fmt.tonnes(p["last_value"], "co2e", lang))
    if code == "peak_growth3":
        return t(key, lang, growth=signed(p["growth_pct_yr"], 2), first=p["first"], last=p["last"])
    if code == "peak_trend":
        top = getattr(peak, "max_year", None) or getattr(peak, "peak_year", None)
        which = ("neut.note.peak_trend_recent" if peak is None or p["first"] != top else
                 "neut.note.peak_trend_from_peak" if peak.status in ("peaked", "plateau") else "neut.note.peak_trend_from_max")
        return t(key, lang, which=t(which, lang), first=p["first"], last=p["last"], slope=signed(p["slope"], 0),
                 low=signed(p["low"], 0), high=signed(p["high"], 0), tau=signed(p["tau"], 2), p=f"{p['p']:.3f}", n=p["n"])
    if code == "peak_trend_weak":
        return t(key, lang, n=p["n"], p_min=f"{p['p_min']:.3g}")
    if code in ("peak_status_peaked", "peak_status_undetermined"):
        last = getattr(peak, "last_year", None)
        until = getattr(peak, "plateau_until", None)
        return t(key, lang, years_after=(last - until) if last is not None and until is not None else fmt.DASH,
                 until=until if until is not None else fmt.DASH, plateau_pct=f"{p.get('plateau_pct', 0):g}",
                 confirm_years=p.get("confirm_years", 0),
                 peak_year=getattr(peak, "max_year", None) or getattr(peak, "peak_year", None) or fmt.DASH)
    if code in ("peak_status_plateau", "peak_status_rising"):
        return t(key, lang, plateau_pct=f"{p.get('plateau_pct', 0):g}", n=p.get("confirm_years", 0) + 1)
    if code == "peak_flat_top":
        return t(key, lang, plateau_pct=f"{p['plateau_pct']:g}", until=p["until"])
    if code == "peak_plateau_still_rising":
        return t(key, lang, last_year=p["last_year"], plateau_pct=f"{p['plateau_pct']:g}")
    if code in ("peak_gaps", "peak_last_missing"):
        return t(key, lang, years=years_text(p["years"], lang), last=p.get("last", ""))
    if code == "peak_none":
        left = (t("neut.note.peak_left", lang, n=p["years_left"], target=p["target"]) if p.get("years_left")
                else t("neut.note.peak_left_none", lang, target=p["target"]))
        if p.get("status") == "rising":
            grow = t("neut.note.peak_none_growth", lang, growth=signed(p["growth_pct_yr"], 2)) if p.get("growth_pct_yr") is not None else ""
            return t("neut.note.peak_none_rising", lang, year=p["max_year"], value=to(p["max_value"]), grow=grow, left=left)
        return t(key, lang, year=p["max_year"], value=to(p["max_value"]), change=signed(p.get("change_pct"), 1),
                 last=getattr(peak, "last_year", None) or fmt.DASH, confirm_years=getattr(peak, "confirm_years", 2),
                 plateau_pct=f"{getattr(peak, 'plateau_pct', 1.0):g}", left=left)
    return t(key, lang, **_fmt_params(p, lang))


_WARN_REASONS = (  # the core's English reasons for "no data" -> i18n keys (a regex group fills {what})
    (re.compile(r"^no emissions this year$"), "neut.why.no_emissions", None),
    (re.compile(r"^no emissions the year before$"), "neut.why.no_emissions_prev", None),
    (re.compile(r"^zero emissions the year before$"), "neut.why.zero_emissions_prev", None),
    (re.compile(r"^no emissions three years before$"), "neut.why.no_emissions_3", None),
    (re.compile(r"^zero emissions three years before$"), "neut.why.zero_emissions_3", None),
    (re.compile(r"^no intensity target for this year"), "neut.why.no_intensity_target", None),
    (re.compile(r"^no intensity \(GDP missing\)$"), "neut.why.no_gdp", None),
    (re.compile(r"^no intensity at the plan period start$"), "neut.why.no_anchor", None),
    (re.compile(r"^no confirmed peak as of (\d+)"), "neut.why.no_peak", "what"),
    (re.compile(r"^(\d+) is not after the peak year"), "neut.why.before_peak", "what"),
    (re.compile(r"^no net emissions for the trailing average"), "neut.why.no_net", None),
    (re.compile(r"^no offset ratio this year"), "neut.why.no_offset", None),
    (re.compile(r"^no offset ratio the year before$"), "neut.why.no_offset_prev", None),
    (re.compile(r"^no land-cover periods given"), "neut.why.no_periods", None),
    (re.compile(r"^zone '(.+)' is not in removals_by_period$"), "neut.why.zone_not_in", "what"),
    (re.compile(r"^the first land-cover date"), "neut.why.first_date", None),
    (re.compile(r"^no positive removals or stock at both dates"), "neut.why.net_source", None),
    (re.compile(r"^cannot be computed$"), "neut.why.cannot", None),
)


def warn_reason(n, lang: str) -> str:
    """Why a warning cell has no value, or its comparison, in the reader's language."""
    p = dict(getattr(n, "params", {}))
    if n.code == "warn_no_data":
        return step_text(str(p.get("reason", "")), lang, _WARN_REASONS)
    return t("neut.warn.compare", lang, amber=f"{p.get('amber', 0):g}", red=f"{p.get('red', 0):g}",
             status=status_name(p.get("status", "ok"), lang))


def notes_text(notes_, lang: str, *, peak=None) -> list[str]:
    return list(dict.fromkeys(note_text(n, lang, peak=peak) for n in notes_))


# ------------------------------------------------------------------------------ headline


@dataclass(frozen=True)
class Card:
    key: str
    label: str
    value: str
    delta: str
    help: str


def headline_row(L: Ledger) -> pd.Series:
    """The position row of the headline year and method (with the emissions interval)."""
    h = L.headline()
    p = L.position
    return p[(p["year"] == h.year) & (p["method"] == L.method)].iloc[0]


def scenario_by_id(L: Ledger, sid: str | None) -> Scenario | None:
    return next((s for s in L.scenarios if s.id == sid), None)


def neutrality_value(L: Ledger, sid: str | None, lang: str) -> tuple[str, str, str]:
    """(label, value, interval line) of the neutrality year under scenario ``sid``."""
    s = scenario_by_id(L, sid)
    if s is None:
        return t("neut.kpi.neutrality", lang), t("neut.kpi.no_scenario", lang), t("neut.kpi.no_scenario_delta", lang)
    n = L.neutrality[s.id]
    label = t("neut.kpi.neutrality_of", lang, scenario=scenario_name(s, lang))
    if n.central is None:
        extra = t("neut.kpi.early_only", lang, early=fmt.year(n.early, lang)) if n.early is not None else t("neut.kpi.not_even_high", lang)
        return label, t("neut.kpi.not_by", lang, year=n.horizon), extra
    late = fmt.year(n.late, lang) if n.late is not None else t("neut.after", lang, year=n.horizon)
    return label, fmt.year(n.central, lang), t("neut.iv", lang, lo=fmt.year(n.early, lang) if n.early else fmt.DASH, hi=late)


def peak_top(pk) -> tuple[int | None, float | None]:
    """(year, t CO2e/yr) of the peak when there is one, else of the smoothed maximum."""
    if pk.peak_year is not None:
        return pk.peak_year, pk.peak_value_tco2e
    return getattr(pk, "max_year", None), getattr(pk, "max_value_tco2e", None)


def peak_delta(L: Ledger, lang: str) -> str:
    pk = L.peak
    year, _ = peak_top(pk)
    if year is None:
        return t("neut.kpi.peak_none", lang)
    if pk.status == "peaked":
        return t("neut.kpi.peak_year", lang, year=year)
    if pk.status == "plateau":
        return t("neut.kpi.peak_plateau", lang, year=year)
    return t("neut.kpi.peak_max", lang, year=year)


def kpi_cards(L: Ledger, lang: str, scenario_id: str | None) -> list[Card]:
    """Six cards for the latest inventory year: emissions, removals (headline method), net
    emissions, offset ratio (each with its 95 % interval), peak status, neutrality year. The unit
    is in the label and the value a bare number with four significant digits."""
    h = L.headline()
    r = headline_row(L)
    no_iv = t("neut.kpi.no_interval", lang)
    em, em_u = fmt.tonnes_parts(h.emissions_tco2e, "co2", lang)
    em_iv = interval(r["emissions_low_tco2e"], r["emissions_high_tco2e"], lang,
                     fmt_one=lambda x: tn(x, "co2", lang, like=h.emissions_tco2e)) or no_iv
    rm, rm_u = fmt.tonnes_parts(h.removals_tco2e_yr, "co2e_yr", lang)
    rm_iv = interval(h.removals_low_tco2e_yr, h.removals_high_tco2e_yr, lang,
                     fmt_one=lambda x: tn(x, "co2e_yr", lang, like=h.removals_tco2e_yr)) or no_iv
    nt, nt_u = fmt.tonnes_parts(h.net_emissions_tco2e, "co2e", lang)
    nt_iv = interval(h.net_emissions_low_tco2e, h.net_emissions_high_tco2e, lang,
                     fmt_one=lambda x: tn(x, "co2e", lang, like=h.net_emissions_tco2e)) or no_iv
    of_iv = interval(h.offset_ratio_low, h.offset_ratio_high, lang, fmt_one=lambda x: fmt.pct(x, lang)) or no_iv
    nl, nv, nd = neutrality_value(L, scenario_id, lang)
    return [
        Card("emissions", fmt.with_unit(t("neut.kpi.emissions", lang, year=h.year), em_u, lang), em, em_iv,
             t("neut.kpi.emissions_help", lang, dataset=L.dataset)),
        Card("removals", fmt.with_unit(t("neut.kpi.removals", lang), rm_u, lang), rm,
             f"{method_name(h.method, lang)} · {rm_iv}", t("neut.kpi.removals_help", lang, period=fmt.period(h.removals_period, lang))),
        Card("net", fmt.with_unit(t("neut.kpi.net", lang), nt_u, lang), nt, nt_iv, t("neut.kpi.net_help", lang)),
        Card("offset", t("neut.kpi.offset", lang), fmt.pct(h.offset_ratio, lang), of_iv, t("neut.kpi.offset_help", lang)),
        Card("peak", t("neut.kpi.peak", lang), peak_status_name(h.peak_status, lang), peak_delta(L, lang),
             t("neut.kpi.peak_help", lang, target=PEAK_TARGET_YEAR)),
        Card("neutrality", nl, nv, nd, t("neut.kpi.neutrality_help", lang, target=NEUTRALITY_TARGET_YEAR)),
    ]


def summary(L: Ledger, lang: str, scenario_id: str | None) -> str:
    """One plain sentence under the cards."""
    h = L.headline()
    s = scenario_by_id(L, scenario_id)
    if s is None:
        neut = t("neut.sum.no_scenario", lang)
    else:
        n = L.neutrality[s.id]
        neut = (t("neut.sum.neutral", lang, scenario=scenario_name(s, lang), year=n.central) if n.central is not None
                else t("neut.sum.not_neutral", lang, scenario=scenario_name(s, lang), year=n.horizon))
    return t("neut.sum", lang, year=h.year, emissions=fmt.tonnes(h.emissions_tco2e, "co2", lang),
             removals=fmt.tonnes(h.removals_tco2e_yr, "co2e_yr", lang),
             rlo=tn(h.removals_low_tco2e_yr, "co2e_yr", lang, like=h.removals_tco2e_yr),
             rhi=tn(h.removals_high_tco2e_yr, "co2e_yr", lang, like=h.removals_tco2e_yr),
             offset=fmt.pct(h.offset_ratio, lang), peak=t(f"neut.sum.peak.{h.peak_status}", lang), neutrality=neut)


# ------------------------------------------------------------------------------ position


def _year_axis(lang: str, title_key: str = "neut.col.year") -> alt.X:
    return alt.X("year:Q", title=t(title_key, lang), axis=alt.Axis(format="d", tickMinStep=1), scale=alt.Scale(zero=False, nice=False))


def emissions_chart(L: Ledger, lang: str) -> alt.Chart:
    """Emissions and net emissions (headline method) per inventory year, net with its 95 % band."""
    p = L.position[L.position["method"] == L.method].sort_values("year")
    step, unit = unit_for(float(p["emissions_tco2e"].max()), "co2e", lang)
    em_name, net_name = t("neut.chart.emissions", lang), t("neut.chart.net", lang, method=method_name(L.method, lang))
    df = pd.DataFrame({"year": p["year"].astype(int).to_numpy(),
                       "emissions": p["emissions_tco2e"].to_numpy(dtype=float) / step,
                       "net": p["net_emissions_tco2e"].to_numpy(dtype=float) / step,
                       "lo": p["net_emissions_low_tco2e"].to_numpy(dtype=float) / step,
                       "hi": p["net_emissions_high_tco2e"].to_numpy(dtype=float) / step})
    df["em_t"] = [num(v, 2) for v in df["emissions"]]
    df["net_t"] = [num(v, 2) for v in df["net"]]
    df["iv_t"] = [iv_text(a, b, lang, fmt_one=lambda x: num(x, 2)) for a, b in zip(df["lo"], df["hi"])]
    long = pd.concat([df.assign(series=em_name, value=df["emissions"]), df.assign(series=net_name, value=df["net"])])
    x = _year_axis(lang)
    y_title = fmt.with_unit(t("neut.chart.tonnes", lang), unit, lang)
    tip = [alt.Tooltip("year:Q", title=t("neut.col.year", lang), format="d"), alt.Tooltip("em_t:N", title=fmt.with_unit(em_name, unit, lang)),
           alt.Tooltip("net_t:N", title=fmt.with_unit(net_name, unit, lang)), alt.Tooltip("iv_t:N", title=t("neut.col.iv95", lang))]
    colours = alt.Scale(domain=[em_name, net_name], range=[EMISSIONS_HEX, NET_HEX])
    band = alt.Chart(df).mark_area(opacity=0.25, color=NET_HEX).encode(x=x, y=alt.Y("lo:Q", title=y_title, scale=alt.Scale(zero=False)),
                                                                       y2="hi:Q", tooltip=tip)
    lines = alt.Chart(long).mark_line(point=True).encode(
        x=x, y=alt.Y("value:Q", title=y_title, scale=alt.Scale(zero=False)),
        color=alt.Color("series:N", title=None, scale=colours), strokeDash=alt.StrokeDash("series:N", title=None,
                                                                                          scale=alt.Scale(domain=[em_name, net_name], range=[[1, 0], [6, 3]])),
        tooltip=tip)
    return _style(alt.layer(band, lines).properties(height=300))


def removals_chart(L: Ledger, lang: str) -> alt.Chart:
    """Removals of both methods per inventory year with their 95 % intervals (error bars); hollow
    where the year takes the nearest land-cover period (outside any period)."""
    p = L.position.dropna(subset=["removals_tco2e_yr"]).sort_values(["year", "method"])
    ref = float(np.nanmax(np.abs(p[["removals_tco2e_yr", "removals_high_tco2e_yr"]].to_numpy(dtype=float)))) if len(p) else 1.0
    step, unit = unit_for(ref, "co2e_yr", lang)
    names = {m: method_name(m, lang) for m in METHODS}
    df = pd.DataFrame({"year": p["year"].astype(int).to_numpy(), "method": [names[m] for m in p["method"]],
                       "value": p["removals_tco2e_yr"].to_numpy(dtype=float) / step,
                       "lo": p["removals_low_tco2e_yr"].to_numpy(dtype=float) / step,
                       "hi": p["removals_high_tco2e_yr"].to_numpy(dtype=float) / step,
                       "period": [fmt.period(str(x), lang) for x in p["removals_period"]],
                       "basis": [t("neut.basis.covers" if b == "period covers year" else "neut.basis.nearest", lang) for b in p["removals_basis"]],
                       "covers": [b == "period covers year" for b in p["removals_basis"]]})
    df["v_t"] = [num(v, 2) for v in df["value"]]
    df["iv_t"] = [iv_text(a, b, lang, fmt_one=lambda x: num(x, 2)) for a, b in zip(df["lo"], df["hi"])]
    order = [names[m] for m in ("stock_difference", "gain_loss")]
    colours = alt.Scale(domain=order, range=[METHOD_HEX["stock_difference"], METHOD_HEX["gain_loss"]])
    y_title = fmt.with_unit(t("neut.chart.removals", lang), unit, lang)
    x = alt.X("year:O", title=t("neut.col.year", lang), axis=alt.Axis(labelAngle=0))
    tip = [alt.Tooltip("year:O", title=t("neut.col.year", lang)), alt.Tooltip("method:N", title=t("neut.col.method", lang)),
           alt.Tooltip("v_t:N", title=y_title), alt.Tooltip("iv_t:N", title=t("neut.col.iv95", lang)),
           alt.Tooltip("period:N", title=t("neut.col.period", lang)), alt.Tooltip("basis:N", title=t("neut.col.basis", lang))]
    base = alt.Chart(df).encode(x=x, xOffset=alt.XOffset("method:N", sort=order),
                                color=alt.Color("method:N", title=None, sort=order, scale=colours), tooltip=tip)
    bars = base.mark_rule(strokeWidth=2).encode(y=alt.Y("lo:Q", title=y_title), y2="hi:Q")
    dots = base.mark_point(size=60, strokeWidth=2).encode(y="value:Q", fill=alt.condition("datum.covers", alt.Color("method:N", scale=colours),
                                                                                           alt.value("white")))
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#555555").encode(y="y:Q")
    return _style(alt.layer(bars, dots, zero).properties(height=280))


def position_table(L: Ledger, lang: str) -> pd.DataFrame:
    """Per inventory year and method: emissions, removals, net and offset ratio, each with its
    95 % interval, the land-cover period used and why."""
    p = L.position.sort_values(["year", "method"], ascending=[False, True])
    e_ref = float(p["emissions_tco2e"].max())
    r_ref = float(np.nanmax(np.abs(p["removals_tco2e_yr"].to_numpy(dtype=float)))) if p["removals_tco2e_yr"].notna().any() else 1.0
    _, e_u = unit_for(e_ref, "co2", lang)
    _, r_u = unit_for(r_ref, "co2e_yr", lang)
    _, n_u = unit_for(e_ref, "co2e", lang)
    iv = t("neut.col.iv95", lang)

    def ivs(lo_col: str, hi_col: str, c_col: str, kind: str, ref: float, missing: str = fmt.DASH) -> list[str]:
        return [iv_text(a, b, lang, fmt_one=lambda x, c=c: tn(x, kind, lang, ref=ref, like=c)) if not _bad(a) else missing
                for a, b, c in zip(p[lo_col], p[hi_col], p[c_col])]

    return pd.DataFrame({
        t("neut.col.year", lang): p["year"].astype(int).astype(str).to_numpy(),
        t("neut.col.method", lang): [method_name(m, lang) for m in p["method"]],
        fmt.with_unit(t("neut.col.emissions", lang), e_u, lang): [tn(v, "co2", lang, ref=e_ref) for v in p["emissions_tco2e"]],
        f"{t('neut.col.emissions', lang)} · {iv}": ivs("emissions_low_tco2e", "emissions_high_tco2e", "emissions_tco2e", "co2", e_ref,
                                                     t("neut.kpi.no_interval", lang)),
        fmt.with_unit(t("neut.col.removals", lang), r_u, lang): [tn(v, "co2e_yr", lang, ref=r_ref) for v in p["removals_tco2e_yr"]],
        f"{t('neut.col.removals', lang)} · {iv}": ivs("removals_low_tco2e_yr", "removals_high_tco2e_yr", "removals_tco2e_yr", "co2e_yr", r_ref),
        t("neut.col.period", lang): [fmt.period(str(x), lang) for x in p["removals_period"]],
        t("neut.col.basis", lang): [t("neut.basis.covers" if b == "period covers year" else "neut.basis.nearest", lang) if b else fmt.DASH
                                    for b in p["removals_basis"]],
        fmt.with_unit(t("neut.col.net", lang), n_u, lang): [tn(v, "co2e", lang, ref=e_ref) for v in p["net_emissions_tco2e"]],
        f"{t('neut.col.net', lang)} · {iv}": ivs("net_emissions_low_tco2e", "net_emissions_high_tco2e", "net_emissions_tco2e", "co2e", e_ref),
        t("neut.col.offset", lang): [fmt.pct(v, lang) for v in p["offset_ratio"]],
        f"{t('neut.col.offset', lang)} · {iv}": [iv_text(a, b, lang, fmt_one=lambda x: fmt.pct(x, lang))
                                                  for a, b in zip(p["offset_ratio_low"], p["offset_ratio_high"])],
        t("neut.col.coverage", lang): [fmt.pct(v, lang) for v in p["removals_coverage"]],
        t("neut.col.missing", lang): [m if m else fmt.DASH for m in p["zones_missing_emissions"].fillna("").astype(str)],
    })


def csv_bytes(df: pd.DataFrame) -> bytes:
    return safe_for_csv(df).to_csv(index=False).encode("utf-8-sig")


def position_csv(L: Ledger) -> bytes:
    """The core's position table (numbers, t CO2e; both methods) with the dataset and zones."""
    d = L.position.copy()
    d.insert(1, "dataset", L.dataset)
    d.insert(2, "zones", "+".join(L.zone_ids))
    return csv_bytes(d)


def removals_table(L: Ledger, lang: str) -> pd.DataFrame:
    """Per land-cover period and method: the removals, the Monte Carlo and Approach-1 intervals,
    and the share of the estimate that carries an uncertainty."""
    tb = L.removals.table
    ref = float(np.nanmax(np.abs(tb["removals_tco2e_yr"].to_numpy(dtype=float)))) if len(tb) else 1.0
    _, u = unit_for(ref, "co2e_yr", lang)
    def ivs(lo_col: str, hi_col: str) -> list[str]:
        return [iv_text(a, b, lang, fmt_one=lambda x, c=c: tn(x, "co2e_yr", lang, ref=ref, like=c))
                for a, b, c in zip(tb[lo_col], tb[hi_col], tb["removals_tco2e_yr"])]

    return pd.DataFrame({
        t("neut.col.period", lang): [fmt.period(str(x), lang) for x in tb["period"]],
        t("neut.col.method", lang): [method_name(m, lang) for m in tb["method"]],
        fmt.with_unit(t("neut.col.removals", lang), u, lang): [tn(v, "co2e_yr", lang, ref=ref) for v in tb["removals_tco2e_yr"]],
        t("neut.col.iv_mc", lang): ivs("low_tco2e_yr", "high_tco2e_yr"),
        t("neut.col.iv_a1", lang): ivs("low_a1_tco2e_yr", "high_a1_tco2e_yr"),
        t("neut.col.coverage", lang): [fmt.pct(v, lang) for v in tb["coverage"]],
        fmt.with_unit(t("neut.col.unestimated", lang), t("unit.ha", lang), lang): [num(v, 1) for v in tb["unestimated_area_ha"]],
    })


# ------------------------------------------------------------------------------ inventory


def sources_frame(L: Ledger, lang: str) -> tuple[pd.DataFrame, float, str]:
    s = L.sources.dropna(subset=["emissions_tco2e"])
    step, unit = unit_for(float(s["emissions_tco2e"].max()) if len(s) else 1.0, "co2", lang)
    df = pd.DataFrame({"year": s["year"].astype(int).to_numpy(), "dataset": s["dataset"].astype(str).to_numpy(),
                       "value": s["emissions_tco2e"].to_numpy(dtype=float) / step,
                       "ratio": s["ratio_to_primary"].to_numpy(dtype=float)})
    df["v_t"] = [num(v, 2) for v in df["value"]]
    df["r_t"] = [f"{v:.2f}×" if np.isfinite(v) else fmt.DASH for v in df["ratio"]]
    return df, step, unit


def sources_chart(L: Ledger, lang: str) -> alt.Chart:
    """Each inventory series' scope-1 total per year over the selected zones (never added up)."""
    df, _, unit = sources_frame(L, lang)
    dsets = list(dict.fromkeys(df["dataset"]))
    y_title = fmt.with_unit(t("neut.chart.emissions", lang), unit, lang)
    tip = [alt.Tooltip("year:Q", title=t("neut.col.year", lang), format="d"), alt.Tooltip("dataset:N", title=t("neut.col.dataset", lang)),
           alt.Tooltip("v_t:N", title=y_title), alt.Tooltip("r_t:N", title=t("neut.col.ratio", lang, primary=L.inventory.primary))]
    ch = alt.Chart(df).mark_line(point=True).encode(
        x=_year_axis(lang), y=alt.Y("value:Q", title=y_title),
        color=alt.Color("dataset:N", title=t("neut.col.dataset", lang), sort=dsets, scale=alt.Scale(domain=dsets, range=list(SCENARIO_HEX[:len(dsets)]))),
        tooltip=tip)
    return _style(ch.properties(height=280))


def ratio_chart(L: Ledger, lang: str) -> alt.Chart | None:
    """Each other series divided by the primary, per year (a rule at 1 = agreement)."""
    df, _, _ = sources_frame(L, lang)
    df = df[(df["dataset"] != L.inventory.primary) & np.isfinite(df["ratio"])]
    if df.empty:
        return None
    y_title = t("neut.col.ratio", lang, primary=L.inventory.primary)
    ch = alt.Chart(df).mark_line(point=True, color=SCENARIO_HEX[1]).encode(
        x=_year_axis(lang), y=alt.Y("ratio:Q", title=y_title, scale=alt.Scale(zero=True)),
        detail="dataset:N",
        tooltip=[alt.Tooltip("year:Q", title=t("neut.col.year", lang), format="d"), alt.Tooltip("dataset:N", title=t("neut.col.dataset", lang)),
                 alt.Tooltip("r_t:N", title=y_title)])
    one = alt.Chart(pd.DataFrame({"y": [1.0]})).mark_rule(color="#555555", strokeDash=[4, 3]).encode(y="y:Q")
    return _style(alt.layer(ch, one).properties(height=280))


def disagreement(L: Ledger, lang: str) -> list[str]:
    """Per other series: the factor range against the primary over the shared years (the
    selected zones), or why there is none."""
    s = L.sources
    out = []
    for ds in L.inventory.datasets:
        if ds == L.inventory.primary:
            continue
        x = s[(s["dataset"] == ds) & s["ratio_to_primary"].notna()]
        if x.empty:
            out.append(t("neut.inv.no_overlap", lang, dataset=ds, primary=L.inventory.primary))
            continue
        r = x["ratio_to_primary"].astype(float)
        out.append(t("neut.inv.factor", lang, dataset=ds, primary=L.inventory.primary, lo=f"{r.min():.2f}", hi=f"{r.max():.2f}",
                     mean=f"{r.mean():.2f}", years=years_text(x["year"], lang)))
    return out


def sector_chart(L: Ledger, lang: str) -> alt.Chart:
    """Stacked bars: the selected series' scope-1 emissions per year by plan sector, selected zones."""
    b = L.inventory.by_sector(L.dataset)
    b = b[b["zone_id"].isin(L.zone_ids)].groupby(["year", "sector"], as_index=False)["emissions_tco2e"].sum()
    step, unit = unit_for(float(b.groupby("year")["emissions_tco2e"].sum().max()) if len(b) else 1.0, "co2", lang)
    present = [s for s in SECTORS if s in set(b["sector"])]
    names = [sector_name(s, lang) for s in present]
    df = pd.DataFrame({"year": b["year"].astype(int).to_numpy(), "sector": [sector_name(s, lang) for s in b["sector"]],
                       "order": [SECTORS.index(s) if s in SECTORS else 99 for s in b["sector"]],
                       "value": b["emissions_tco2e"].to_numpy(dtype=float) / step})
    df["v_t"] = [num(v, 2) for v in df["value"]]
    y_title = fmt.with_unit(t("neut.chart.emissions", lang), unit, lang)
    ch = alt.Chart(df).mark_bar().encode(
        x=alt.X("year:O", title=t("neut.col.year", lang), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("sum(value):Q", title=y_title),
        color=alt.Color("sector:N", title=None, sort=names, scale=alt.Scale(domain=names, range=[SECTOR_HEX[s] for s in present])),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("year:O", title=t("neut.col.year", lang)), alt.Tooltip("sector:N", title=t("neut.col.sector", lang)),
                 alt.Tooltip("v_t:N", title=y_title)])
    return _style(ch.properties(height=300))


def rejected_view(inv: EmissionsInventory, lang: str) -> pd.DataFrame:
    """The rejected rows as read, the row number and the reason first (in the reader's language)."""
    rj = inv.rejected
    rest = [c for c in rj.columns if c not in ("row", "reason", "reason_code")]
    out = pd.DataFrame({t("neut.col.row", lang): rj["row"].astype(int).to_numpy(),
                        t("neut.col.reason", lang): [note_text(r, lang) for r in rj["reason"]]})
    for c in rest:
        out[str(c)] = rj[c].astype("string").fillna("").astype(str).to_numpy()
    return out


# ------------------------------------------------------------------------------ trajectories


def total_history(L: Ledger) -> pd.DataFrame:
    """The inventory years of the summed zones (the zone itself when one is selected)."""
    h = L.history
    lab = TOTAL if (h["zone_id"] == TOTAL).any() else L.zone_ids[0]
    return h[h["zone_id"] == lab].sort_values("year")


def peak_chart(L: Ledger, lang: str) -> alt.Chart:
    """The emissions of the summed zones (points), the smoothed series (line), the peak of the
    smoothed series (a large point and a dashed rule) and the target year 2030."""
    h = total_history(L)
    pk = L.peak
    step, unit = unit_for(float(h["emissions_tco2e"].max()), "co2e_yr", lang)
    raw = pd.DataFrame({"year": h["year"].astype(int).to_numpy(), "value": h["emissions_tco2e"].to_numpy(dtype=float) / step,
                        "series": t("neut.chart.annual", lang)})
    sm = pk.smoothed if pk.smoothed is not None else pd.Series(dtype=float)
    smooth = pd.DataFrame({"year": np.asarray(sm.index, dtype=int), "value": sm.to_numpy(dtype=float) / step,
                           "series": t("neut.chart.smoothed", lang, window=pk.window)})
    for d in (raw, smooth):
        d["v_t"] = [num(v, 2) for v in d["value"]]
    y_title = fmt.with_unit(t("neut.chart.emissions", lang), unit, lang)
    names = [raw["series"].iloc[0] if len(raw) else "", smooth["series"].iloc[0] if len(smooth) else t("neut.chart.smoothed", lang, window=pk.window)]
    colours = alt.Scale(domain=names, range=["#888888", EMISSIONS_HEX])
    x = _year_axis(lang)
    tip = [alt.Tooltip("year:Q", title=t("neut.col.year", lang), format="d"), alt.Tooltip("series:N", title=t("neut.col.series", lang)),
           alt.Tooltip("v_t:N", title=y_title)]
    layers = [alt.Chart(raw).mark_point(filled=True, size=40).encode(x=x, y=alt.Y("value:Q", title=y_title, scale=alt.Scale(zero=False)),
                                                                    color=alt.Color("series:N", title=None, scale=colours), tooltip=tip),
              alt.Chart(smooth).mark_line(strokeWidth=2.5).encode(x=x, y="value:Q", color=alt.Color("series:N", title=None, scale=colours),
                                                                  tooltip=tip)]
    top_year, top_value = peak_top(pk)
    if top_year is not None and top_value is not None:
        what = "neut.chart.peak_mark" if pk.peak_year is not None else "neut.chart.max_mark"
        mark = pd.DataFrame({"year": [top_year], "value": [top_value / step],
                             "label": [t(what, lang, year=top_year, status=peak_status_name(pk.status, lang))]})
        layers += [alt.Chart(mark).mark_rule(color=NET_HEX, strokeDash=[5, 3]).encode(x="year:Q"),
                   alt.Chart(mark).mark_point(shape="diamond", size=220, filled=True, color=NET_HEX).encode(
                       x="year:Q", y="value:Q", tooltip=[alt.Tooltip("label:N", title=t("neut.kpi.peak", lang))]),
                   alt.Chart(mark).mark_text(align="right", dx=-8, dy=-12, color=NET_HEX, fontWeight="bold").encode(
                       x="year:Q", y="value:Q", text="label:N")]
    lo = int(raw["year"].min()) if len(raw) else PEAK_TARGET_YEAR
    if lo <= PEAK_TARGET_YEAR + 1:
        tgt = pd.DataFrame({"year": [PEAK_TARGET_YEAR], "label": [t("neut.chart.peak_target", lang, year=PEAK_TARGET_YEAR)]})
        layers += [alt.Chart(tgt).mark_rule(color="#777777", strokeDash=[2, 2]).encode(x="year:Q"),
                   alt.Chart(tgt).mark_text(align="right", dx=-4, baseline="top", y=4, color="#555555").encode(x="year:Q", text="label:N")]
    return _style(alt.layer(*layers).properties(height=300))


def _ref(values) -> float:
    v = pd.to_numeric(pd.Series(values), errors="coerce").abs()
    return float(v.max()) if v.notna().any() and float(v.max()) > 0 else 1.0


def peak_table(L: Ledger, lang: str) -> pd.DataFrame:
    p = L.peaks
    ref = _ref(p["max_value_tco2e"] if "max_value_tco2e" in p else p["peak_value_tco2e"])
    return pd.DataFrame({
        t("neut.col.zone", lang): [zone_label(L, str(z), lang) for z in p["zone_id"]],
        t("neut.col.peak_status", lang): [peak_status_name(s, lang) for s in p["status"]],
        t("neut.col.peak_year", lang): [fmt.year(int(y), lang) if pd.notna(y) else fmt.DASH for y in p["peak_year"]],
        t("neut.col.max_year", lang): [fmt.year(int(y), lang) if pd.notna(y) else fmt.DASH
                                       for y in (p["max_year"] if "max_year" in p else p["peak_year"])],
        fmt.with_unit(t("neut.col.peak_value", lang), unit_for(ref, "co2e_yr", lang)[1], lang):
            [tn(v, "co2e_yr", lang, ref=ref) for v in p["peak_value_tco2e"]],
        fmt.with_unit(t("neut.col.change_since_peak", lang), "%", lang): [signed(v, 1) for v in p["change_since_peak_pct"]],
        fmt.with_unit(t("neut.col.growth3", lang), t("neut.unit.pct_yr", lang), lang): [signed(v, 2) for v in p["growth_last_3yr_pct_yr"]],
        t("neut.col.before_target", lang, target=PEAK_TARGET_YEAR): [
            fmt.DASH if v is None or (isinstance(v, float) and math.isnan(v)) else t("neut.yes" if v else "neut.no", lang) for v in p["before_target"]],
        fmt.with_unit(t("neut.col.slope", lang), t("neut.unit.t_per_yr", lang), lang): [signed(v, 0) for v in p["slope_tco2e_yr"]],
        t("neut.col.kendall_p", lang): [fmt.DASH if v is None or (isinstance(v, float) and math.isnan(v)) else
                                        ("< 0.001" if v < 0.001 else f"{v:.3f}") for v in p["kendall_p"]],
    })


def scenario_chart(L: Ledger, lang: str, selected: str | None = None) -> alt.Chart | None:
    """Net emissions per scenario to 2060 (inventory years and projection) with the 95 % band of
    the removals, the zero line and the targets: peak by 2030, neutrality by 2060."""
    pr = L.projections
    if pr.empty:
        return None
    step, unit = unit_for(float(pr["net_emissions_tco2e"].abs().max()), "co2e", lang)
    names = {s.id: scenario_name(s, lang) for s in L.scenarios}
    order = [names[s.id] for s in L.scenarios]
    df = pd.DataFrame({"year": pr["year"].astype(int).to_numpy(), "scenario": [names.get(s, s) for s in pr["scenario"]],
                       "net": pr["net_emissions_tco2e"].to_numpy(dtype=float) / step,
                       "lo": pr["net_emissions_low_tco2e"].to_numpy(dtype=float) / step,
                       "hi": pr["net_emissions_high_tco2e"].to_numpy(dtype=float) / step,
                       "kind": [t(f"neut.kind.{k}", lang) for k in pr["kind"]],
                       "sel": [s == selected for s in pr["scenario"]]})
    df["net_t"] = [num(v, 2) for v in df["net"]]
    df["iv_t"] = [iv_text(a, b, lang, fmt_one=lambda x: num(x, 2)) for a, b in zip(df["lo"], df["hi"])]
    y_title = fmt.with_unit(t("neut.chart.net_plain", lang), unit, lang)
    colours = alt.Scale(domain=order, range=list(SCENARIO_HEX[:len(order)]))
    x = alt.X("year:Q", title=t("neut.col.year", lang), axis=alt.Axis(format="d"), scale=alt.Scale(domain=[int(df["year"].min()), NEUTRALITY_TARGET_YEAR]))
    tip = [alt.Tooltip("scenario:N", title=t("neut.col.scenario", lang)), alt.Tooltip("year:Q", title=t("neut.col.year", lang), format="d"),
           alt.Tooltip("kind:N", title=t("neut.col.kind", lang)), alt.Tooltip("net_t:N", title=y_title),
           alt.Tooltip("iv_t:N", title=t("neut.col.iv95", lang))]
    band = alt.Chart(df).mark_area(opacity=0.18).encode(x=x, y=alt.Y("lo:Q", title=y_title), y2="hi:Q",
                                                        color=alt.Color("scenario:N", title=None, sort=order, scale=colours, legend=None))
    line = alt.Chart(df).mark_line().encode(x=x, y="net:Q", color=alt.Color("scenario:N", title=None, sort=order, scale=colours),
                                            strokeWidth=alt.condition("datum.sel", alt.value(3.5), alt.value(1.8)), tooltip=tip)
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#333333").encode(y="y:Q")
    tg = pd.DataFrame({"year": [PEAK_TARGET_YEAR, NEUTRALITY_TARGET_YEAR],
                       "label": [t("neut.chart.peak_target", lang, year=PEAK_TARGET_YEAR),
                                 t("neut.chart.neutral_target", lang, year=NEUTRALITY_TARGET_YEAR)]})
    rules = alt.Chart(tg).mark_rule(color="#777777", strokeDash=[4, 3]).encode(x="year:Q")
    labels = alt.Chart(tg).mark_text(align="right", dx=-4, baseline="top", y=4, color="#444444").encode(x="year:Q", text="label:N")
    return _style(alt.layer(line, band, zero, rules, labels).properties(height=340))


def _steps_text(steps: Steps) -> str:
    """``0.3`` (every year) or ``2026: 0.3; 2029: -1.5`` (from each year on)."""
    if not steps:
        return "0"
    if len(steps) == 1 and steps[0][0] == 0:
        return f"{steps[0][1]:g}"
    return "; ".join(f"{y}: {p:g}" for y, p in steps)


def scenarios_table(L: Ledger, lang: str, scenarios: tuple[Scenario, ...] | None = None) -> pd.DataFrame:
    """The assumptions of each scenario (rates in %/yr; a list = from each year on)."""
    rows = []
    for s in scenarios if scenarios is not None else L.scenarios:
        row = {t("neut.col.scenario", lang): scenario_name(s, lang)}
        for sec in SECTORS:
            row[fmt.with_unit(sector_name(sec, lang), t("neut.unit.pct_yr", lang), lang)] = _steps_text(s.sector_change_pct_yr.get(sec, ()))
        row[fmt.with_unit(t("neut.sc.gdp", lang), t("neut.unit.pct_yr", lang), lang)] = _steps_text(s.gdp_growth_pct_yr)
        row[fmt.with_unit(t("neut.sc.aff", lang), t("neut.unit.ha_yr", lang), lang)] = num(s.afforestation_ha_yr)
        row[t("neut.sc.aff_until", lang)] = str(s.afforestation_until) if s.afforestation_until else fmt.DASH
        row[fmt.with_unit(t("neut.sc.wet", lang), t("neut.unit.ha_yr", lang), lang)] = num(s.wetland_restoration_ha_yr)
        row[t("neut.sc.wet_until", lang)] = str(s.wetland_restoration_until) if s.wetland_restoration_until else fmt.DASH
        row[t("neut.sc.verified", lang)] = t("neut.yes" if s.verified else "neut.no", lang)
        rows.append(row)
    return pd.DataFrame(rows)


def steps_default(s: Scenario, what: str) -> str:
    """The editor's starting text of a sector (or ``gdp``) of scenario ``s``."""
    return _steps_text(s.gdp_growth_pct_yr if what == "gdp" else s.sector_change_pct_yr.get(what, ()))


class EditError(ValueError):
    """A scenario edit that cannot be used; ``args[0]`` is the message in the reader's language."""


def parse_steps(text: str, what: str, lang: str, *, lo_year: int) -> Steps:
    """``-2`` -> every year; ``2026: 0.5; 2031: -3`` -> steps from each year on. Rates within
    ±RATE_LIMIT_PCT %/yr, years within lo_year..YEAR_MAX and increasing (the core's rules)."""
    raw = str(text or "").strip().replace("，", ";").replace("；", ";").replace("：", ":").replace(",", ";")
    if not raw:
        raise EditError(t("neut.ed.err_empty", lang, what=what))
    items = [x.strip() for x in raw.split(";") if x.strip()]
    out: list[tuple[int, float]] = []
    for it in items:
        parts = [x.strip() for x in it.split(":")]
        try:
            if len(parts) == 1 and len(items) == 1:
                y, p = 0, float(parts[0].replace("%", ""))
            elif len(parts) == 2:
                y, p = int(parts[0]), float(parts[1].replace("%", ""))
            else:
                raise ValueError
        except ValueError:
            raise EditError(t("neut.ed.err_format", lang, what=what, text=it)) from None
        if not math.isfinite(p) or abs(p) > RATE_LIMIT_PCT:
            raise EditError(t("neut.ed.err_rate", lang, what=what, value=f"{p:g}", limit=f"{RATE_LIMIT_PCT:g}"))
        if y and not lo_year <= y <= YEAR_MAX:
            raise EditError(t("neut.ed.err_year", lang, what=what, year=y, lo=lo_year, hi=YEAR_MAX))
        if out and y <= out[-1][0]:
            raise EditError(t("neut.ed.err_order", lang, what=what))
        out.append((y, p))
    return tuple(out)


def edited_scenario(s: Scenario, lang: str, *, sectors: dict[str, str], gdp: str, aff_ha: float, aff_until: int | None,
                    wet_ha: float, wet_until: int | None) -> Scenario:
    """A copy of ``s`` with the editor's values (``dataclasses.replace``); EditError names the field."""
    lo = s.base_year if s.base_year is not None else YEAR_MIN
    steps = {sec: parse_steps(txt, sector_name(sec, lang), lang, lo_year=lo) for sec, txt in sectors.items()}
    g = parse_steps(gdp, t("neut.sc.gdp", lang), lang, lo_year=lo)
    for ha, until, what in ((aff_ha, aff_until, t("neut.sc.aff", lang)), (wet_ha, wet_until, t("neut.sc.wet", lang))):
        if ha and ha < 0:
            raise EditError(t("neut.ed.err_negative", lang, what=what))
        if ha and (until is None or not lo <= int(until) <= YEAR_MAX):
            raise EditError(t("neut.ed.err_until", lang, what=what, lo=lo, hi=YEAR_MAX))
    return dataclasses.replace(s, sector_change_pct_yr={**s.sector_change_pct_yr, **steps}, gdp_growth_pct_yr=g,
                               afforestation_ha_yr=float(aff_ha or 0.0), afforestation_until=int(aff_until) if aff_ha else s.afforestation_until,
                               wetland_restoration_ha_yr=float(wet_ha or 0.0),
                               wetland_restoration_until=int(wet_until) if wet_ha else s.wetland_restoration_until,
                               note=(s.note + " [edited in the dashboard]").strip(), verified=False)


def neutrality_table(L: Ledger, lang: str) -> pd.DataFrame:
    """Per scenario: the neutrality year (central; early with the high removals, late with the low
    ones), whether it is by 2060, and the net emissions in 2060."""
    rows = []
    ref = max([abs(n.net_at_target_tco2e) for n in L.neutrality.values() if n.net_at_target_tco2e is not None] or [1.0])
    _, u = unit_for(ref, "co2e", lang)
    for s in L.scenarios:
        n = L.neutrality[s.id]
        rows.append({
            t("neut.col.scenario", lang): scenario_name(s, lang),
            t("neut.col.central", lang): fmt.year(n.central, lang) if n.central else t("neut.kpi.not_by", lang, year=n.horizon),
            t("neut.col.early", lang): fmt.year(n.early, lang) if n.early else t("neut.kpi.not_by", lang, year=n.horizon),
            t("neut.col.late", lang): fmt.year(n.late, lang) if n.late else t("neut.kpi.not_by", lang, year=n.horizon),
            t("neut.col.by_target", lang, target=n.target_year): t("neut.yes" if n.reached_by_target else "neut.no", lang),
            fmt.with_unit(t("neut.col.net_at", lang, year=n.target_year), u, lang): tn(n.net_at_target_tco2e, "co2e", lang, ref=ref),
            t("neut.col.note", lang): note_text(n.note, lang),
        })
    return pd.DataFrame(rows)


def dual_control_view(L: Ledger, lang: str, scenario_id: str | None) -> pd.DataFrame | None:
    """The dual-control rows of one scenario: value, target, gap and status (with a symbol)."""
    d = L.dual_control
    if d is None or d.empty:
        return None
    d = d[d["scenario"] == scenario_id] if scenario_id is not None else d
    if d.empty:
        return None
    names = {s.id: scenario_name(s, lang) for s in L.scenarios}
    tot = d["indicator"] == "total_tco2e"
    ref = float(d.loc[tot, "value"].abs().max()) if tot.any() else 1.0
    step, u = unit_for(ref, "co2e_yr", lang)

    def val(ind, v) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return fmt.DASH
        return f"{tn(v, 'co2e_yr', lang, ref=ref)} {u}" if ind == "total_tco2e" else f"{float(v):.3f} {t('neut.unit.intensity', lang)}"

    return pd.DataFrame({
        t("neut.col.scenario", lang): [names.get(s, s) for s in d["scenario"]],
        t("neut.col.year", lang): d["year"].astype(int).astype(str).to_numpy(),
        t("neut.col.kind", lang): [t(f"neut.kind.{k}", lang) for k in d["kind"]],
        t("neut.col.dc_indicator", lang): [t(f"neut.dc.{i}", lang) for i in d["indicator"]],
        t("neut.col.value", lang): [val(i, v) for i, v in zip(d["indicator"], d["value"])],
        t("neut.col.target", lang): [val(i, v) for i, v in zip(d["indicator"], d["target"])],
        fmt.with_unit(t("neut.col.gap", lang), "%", lang): [signed(v, 1) for v in d["gap_pct"]],
        t("neut.col.status", lang): [f"{DC_SYMBOL.get(s, '')} {t(f'neut.dc.status.{s}', lang)}" for s in d["status"]],
        t("neut.col.target_basis", lang): [t(f"neut.dc.basis.{b}", lang) if b else fmt.DASH for b in d["target_basis"]],
    })


def style_dual_control(df: pd.DataFrame, lang: str):
    """The table with the status cells coloured (the symbol keeps it readable without colour)."""
    col = t("neut.col.status", lang)
    back = {f"{DC_SYMBOL[s]} {t(f'neut.dc.status.{s}', lang)}": DC_HEX[s] for s in DC_HEX}
    return df.style.map(lambda v: f"background-color: {back.get(v, '')}" if v in back else "", subset=[col])


# ------------------------------------------------------------------------------ early warning


def warning_zones(L: Ledger) -> list[str]:
    have = set(L.warnings["zone_id"].astype(str)) if len(L.warnings) else set()
    return [z for z in [TOTAL, *L.zone_ids] if z in have]


def status_label(status: str, lang: str) -> str:
    return f"{STATUS_SYMBOL[status]} {status_name(status, lang)}"


def warning_frame(L: Ledger, zone: str, lang: str) -> pd.DataFrame:
    w = L.warnings[L.warnings["zone_id"].astype(str) == zone]
    return pd.DataFrame({
        "indicator": [indicator_name(i, lang) for i in w["indicator"]],
        "year": w["year"].astype(int).to_numpy(),
        "status": w["status"].astype(str).to_numpy(),
        "label": [status_label(s, lang) for s in w["status"]],
        "symbol": [STATUS_SYMBOL[s] for s in w["status"]],
        "value": [fmt.DASH if pd.isna(v) else f"{signed(v, 2)} {unit_name(u, lang)}" for v, u in zip(w["value"], w["unit"])],
        "why": [warn_reason(n, lang) for n in w["note"]],
    })


def warning_matrix(L: Ledger, zone: str, lang: str) -> alt.Chart | None:
    """Indicator x year, one cell per status: colour (Okabe-Ito) and a symbol (✓ ▲ ✖ –)."""
    df = warning_frame(L, zone, lang)
    if df.empty:
        return None
    order = [indicator_name(i, lang) for i in INDICATORS if indicator_name(i, lang) in set(df["indicator"])]
    labels = [status_label(s, lang) for s in WARN_STATUSES]
    x = alt.X("year:O", title=t("neut.col.year", lang), axis=alt.Axis(labelAngle=0, orient="top"))
    y = alt.Y("indicator:N", title=None, sort=order, axis=alt.Axis(labelLimit=360))
    tip = [alt.Tooltip("indicator:N", title=t("neut.col.indicator", lang)), alt.Tooltip("year:O", title=t("neut.col.year", lang)),
           alt.Tooltip("label:N", title=t("neut.col.status", lang)), alt.Tooltip("value:N", title=t("neut.col.value", lang)),
           alt.Tooltip("why:N", title=t("neut.col.why", lang))]
    rect = alt.Chart(df).mark_rect(stroke="white", strokeWidth=1.5).encode(
        x=x, y=y, color=alt.Color("label:N", title=None, sort=labels,
                                  scale=alt.Scale(domain=labels, range=[STATUS_HEX[s] for s in WARN_STATUSES])), tooltip=tip)
    text = alt.Chart(df).mark_text(fontSize=14, fontWeight="bold").encode(
        x=x, y=y, text="symbol:N", color=alt.Color("status:N", legend=None,
                                                   scale=alt.Scale(domain=list(WARN_STATUSES), range=[STATUS_TEXT_HEX[s] for s in WARN_STATUSES])),
        tooltip=tip)
    return _style(alt.layer(rect, text).resolve_scale(color="independent").properties(height=alt.Step(34)))


def rules_table(L: Ledger, lang: str) -> pd.DataFrame:
    r = L.rules
    mean = "meaning_zh" if lang == "zh" else "meaning_en"
    return pd.DataFrame({
        t("neut.col.indicator", lang): [indicator_name(i, lang) for i in r["indicator"]],
        t("neut.col.meaning", lang): r[mean].astype(str).to_numpy(),
        t("neut.col.direction", lang): [t(f"neut.dir.{d}", lang) for d in r["direction"]],
        t("neut.col.amber", lang): [f"{a:g} {unit_name(u, lang)}" for a, u in zip(r["amber"], r["unit"])],
        t("neut.col.red", lang): [f"{a:g} {unit_name(u, lang)}" for a, u in zip(r["red"], r["unit"])],
        t("neut.col.rule_basis", lang): [t(f"neut.rule_basis.{b}", lang) if f"neut.rule_basis.{b}" in DICTS["en"] else b for b in r["basis"]],
        t("neut.col.source", lang): r["source"].astype(str).to_numpy(),
    })


def latest_table(L: Ledger, lang: str) -> pd.DataFrame:
    """Indicator rows x zone columns: the latest year with a value, its status (symbol + word)."""
    if L.warnings.empty:
        return pd.DataFrame()
    ls = latest_status(L.warnings)
    zones = warning_zones(L)
    out = {t("neut.col.indicator", lang): [indicator_name(i, lang) for i in INDICATORS if i in set(ls["indicator"])]}
    for z in zones:
        col = []
        for i in INDICATORS:
            if i not in set(ls["indicator"]):
                continue
            r = ls[(ls["indicator"] == i) & (ls["zone_id"].astype(str) == z)]
            if r.empty:
                col.append(fmt.DASH)
                continue
            r = r.iloc[0]
            v = "" if pd.isna(r["value"]) else f" {signed(r['value'], 2)} {unit_name(r['unit'], lang)}"
            yr = f"（{int(r['year'])}年）" if lang == "zh" else f" ({int(r['year'])})"
            col.append(f"{status_label(r['status'], lang)}{v}{yr}")
        out[zone_label(L, z, lang)] = col
    return pd.DataFrame(out)


# ------------------------------------------------------------------------------ carbon-sink projects


def projects_at(L: Ledger, share: float) -> ProjectView | None:
    """The project view with ``share`` (0-1) of the candidate areas planted (cheap: no greening)."""
    if L.projects is None:
        return None
    t_ = L.projects.table
    acts = t_[t_["activity"] != "total"][["activity", "code", "plant_to", "area_ha"]].astype({"code": int, "plant_to": int})
    return project_view(acts, L.assessment.coefficients, years=L.projects.years, share=share)


def projects_table(pv: ProjectView, lang: str) -> pd.DataFrame:
    tb = pv.table
    tco2 = t("neut.unit.tco2e", lang)
    f0 = lambda v: num(v, 0)  # noqa: E731
    return pd.DataFrame({
        t("neut.col.activity", lang): [activity_name(a, lang) for a in tb["activity"]],
        t("neut.col.class_now", lang): [lc_name(int(c), lang) if pd.notna(c) else fmt.DASH for c in tb["code"]],
        t("neut.col.plant_to", lang): [lc_name(int(c), lang) if pd.notna(c) else fmt.DASH for c in tb["plant_to"]],
        fmt.with_unit(t("neut.col.area", lang), t("unit.ha", lang), lang): [num(v, 1) for v in tb["area_ha"]],
        fmt.with_unit(t("neut.col.without", lang), tco2, lang): [f0(v) for v in tb["without_tco2e"]],
        fmt.with_unit(t("neut.col.growth", lang), tco2, lang): [f0(v) for v in tb["biomass_growth_tco2e"]],
        fmt.with_unit(t("neut.col.cleared", lang), tco2, lang): [f0(v) for v in tb["biomass_cleared_tco2e"]],
        fmt.with_unit(t("neut.col.dom", lang), tco2, lang): [f0(v) for v in tb["dom_change_tco2e"]],
        fmt.with_unit(t("neut.col.soil", lang), tco2, lang): [f0(v) for v in tb["soil_change_tco2e"]],
        fmt.with_unit(t("neut.col.with", lang), tco2, lang): [f0(v) for v in tb["with_tco2e"]],
        fmt.with_unit(t("neut.col.balance", lang, years=pv.years), tco2, lang): [f0(v) for v in tb["balance_tco2e"]],
        fmt.with_unit(t("neut.col.balance_yr", lang), t("unit.tco2e_yr", lang), lang): [f0(v) for v in tb["balance_tco2e_yr"]],
        fmt.with_unit(t("neut.col.balance_ha", lang), t("neut.unit.t_ha_yr", lang), lang): [num(v, 2) for v in tb["balance_tco2e_ha_yr"]],
        t("neut.col.estimated", lang): [t("neut.yes" if v else "neut.est_no", lang) for v in tb["growth_estimated"]],
        t("neut.col.upper", lang): [t("neut.upper_yes" if v else "neut.no", lang) for v in tb["upper_bound"]],
    })


def projects_totals(pv: ProjectView) -> dict[str, float]:
    tot = pv.table[pv.table["activity"] == "total"]
    if tot.empty:
        return {"ha": 0.0, "balance": 0.0, "per_yr": 0.0}
    r = tot.iloc[0]
    return {"ha": float(r["area_ha"]), "balance": float(r["balance_tco2e"]), "per_yr": float(r["balance_tco2e_yr"])}


# ------------------------------------------------------------------------------ notes by place


_MD = re.compile(r"([\\`*_~\[\]<>$#|])")


def md(text: str) -> str:
    """``text`` safe inside Markdown (``c_soil ... c_above`` is not italic, ``$`` is not maths)."""
    return _MD.sub(r"\\\1", str(text))


def bullets(texts) -> str:
    return "\n".join(f"- {md(x)}" for x in texts)


_PLACES = {"trajectories": ("proj_", "no_gdp", "no_scenarios"), "projects": ("projects_failed", "no_redlines")}


def split_notes(L: Ledger) -> dict[str, list]:
    """The ledger's own notes by the tab they belong to: ``trajectories`` (projection and
    scenario assumptions), ``projects`` (the planting candidates), ``position`` (the rest)."""
    out: dict[str, list] = {"position": [], "trajectories": [], "projects": []}
    for n in L.notes:
        code = getattr(n, "code", "") or ""
        place = next((p for p, pre in _PLACES.items() if any(code == x or (x.endswith("_") and code.startswith(x)) for x in pre)), "position")
        out[place].append(n)
    return out


def headline_method(config_path: str) -> str:
    try:
        return load_config(config_path).ledger.headline_method
    except (ValueError, AttributeError):
        return METHODS[0]


def session_choice(session, assessment, config_path: str, *, officer: bool) -> Choice | None:
    """The choice the reader last made on the Net neutrality page (its defaults when they have not
    been there): the Reports page reports exactly what that page shows. None without an inventory."""
    upload = session.get(K_UP) if officer else None
    options = dataset_options(assessment.inventory, upload)
    if not options:
        return None
    kept_choice = session.get(K_CHOICE) or {}
    dataset = kept_choice.get(K_DS) if kept_choice.get(K_DS) in options else options[0]
    zone_ids = list(assessment.zone_ids)
    picked = kept_choice.get(K_ZONES)
    zones = tuple(z for z in zone_ids if picked is None or z in set(picked)) or tuple(zone_ids)
    method = kept_choice.get(K_METHOD) if kept_choice.get(K_METHOD) in METHODS else headline_method(config_path)
    kept = session.get(K_EDIT) if officer else None
    edited = kept[1] if kept is not None and kept[0] == config_key(config_path) else None
    return Choice(dataset, zones, method, edited, upload)


def remember_choice(session) -> None:
    """Keep the widgets' choice under :data:`K_CHOICE` (call after drawing them)."""
    session[K_CHOICE] = {k: session.get(k) for k in (K_DS, K_ZONES, K_METHOD)}


def restore_choice(session) -> None:
    """Give back the widgets' keys that Streamlit dropped while another page was shown (call
    before drawing them)."""
    for k, v in (session.get(K_CHOICE) or {}).items():
        if k not in session and v is not None:
            session[k] = v


def report_files(L: Ledger, key: str, langs: tuple[str, ...], pdf: bool) -> tuple[dict[str, bytes], list[str]]:
    """The report of ``L`` as {file name: bytes} (HTML, PDF when Chromium is there, CSVs, JSON) and
    the warnings the writer gave (e.g. no Chromium). Built once per ledger key, languages and PDF."""
    store = _report_store()
    rkey = f"{key}|{','.join(langs)}|{pdf}"
    got = store.get(rkey)
    if got is not None:
        return got
    import tempfile

    from sinks.ledger.report import write_report

    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ledger-report-") as tmp:
        out = Path(tmp) / "report"
        files = write_report(L, out, langs=langs, pdf=pdf, warn=warnings.append)
        got = ({f.name: f.read_bytes() for f in files}, warnings)
    store.put(rkey, got)
    return got


def zip_bytes(files: dict[str, bytes], folder: str) -> bytes:
    """Every file of a report in one zip (under ``folder/``)."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            z.writestr(f"{folder}/{name}", files[name])
    return buf.getvalue()


@st.cache_resource(show_spinner=False)
def _report_store() -> KeyedLRU:
    return KeyedLRU(4)  # a report with both PDFs is ~4 MB
