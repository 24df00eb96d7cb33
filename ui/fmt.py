"""Number formatting for the screens: the only place that knows about 万吨, kt and Mt.

Chinese uses the 万 (10^4) and 亿 (10^8) steps that Chinese reports use for tonnages; English
uses t / kt / Mt. Values keep four significant digits, so a figure read back from the screen is
within 0.05 % of the computed one (the browser test relies on it). Nothing here imports
streamlit; the language is always passed in.
"""
from __future__ import annotations

import math

# Tonnage kinds: carbon stock (t C), annual flow (t CO2e/yr) and emissions (t CO2).
_UNITS = {
    "zh": {"c": "碳", "co2e_yr": " CO₂e/年", "co2": " CO₂", "co2e": " CO₂e"},
    "en": {"c": " C", "co2e_yr": " CO₂e/yr", "co2": " CO₂", "co2e": " CO₂e"},
}
_STEPS = {
    "zh": ((1e8, "亿吨"), (1e4, "万吨"), (1.0, "吨")),
    "en": ((1e6, "Mt"), (1e3, "kt"), (1.0, "t")),
}
DASH = "—"
SIG_DIGITS = 4

# printf formats for st.column_config.NumberColumn (sprintf-js; "," = thousands separator).
COL_TONNES = "%,.0f"
COL_HA = "%,.1f"
COL_DENSITY = "%.3f"
COL_PCT = "%.0f%%"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def sig(value: float, digits: int = SIG_DIGITS) -> str:
    """``value`` with ``digits`` significant digits, thousands separators, no exponent."""
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(value)))))
    return f"{value:,.{decimals}f}"


def tonnes_parts(value: float | None, kind: str, lang: str, *, ref: float | None = None) -> tuple[str, str]:
    """A tonnage as (number, unit) in a reader's unit, e.g. ``("1,234", "万吨碳")`` or
    ``("12.35", "Mt C")``; the unit is chosen from the magnitude (万/亿 in Chinese, k/M in English).

    Parameters
    ----------
    value
        Tonnes (of C, CO2e per year or CO2 according to ``kind``); None/NaN gives a dash.
    kind
        ``"c"`` (t C), ``"co2e_yr"`` (t CO2e/yr), ``"co2"`` (t CO2) or ``"co2e"``.
    lang
        ``"zh"`` or ``"en"``.
    ref
        Choose the unit from this magnitude instead (so a list of values shares one unit).
    """
    if _missing(value):
        step, unit = _STEPS[lang][1]
        return DASH, f"{unit}{_UNITS[lang][kind]}"
    magnitude = abs(value if ref is None or _missing(ref) else ref)
    for step, unit in _STEPS[lang]:
        if magnitude >= step or step == 1.0:
            break
    scaled = value / step
    number = sig(scaled) if abs(scaled) >= 1 or scaled == 0 else f"{scaled:,.2f}"
    return number, f"{unit}{_UNITS[lang][kind]}"


def tonnes(value: float | None, kind: str, lang: str, *, ref: float | None = None) -> str:
    """A tonnage with its unit, e.g. ``1,234 万吨碳`` or ``12.35 Mt C`` (see :func:`tonnes_parts`)."""
    if _missing(value):
        return DASH
    number, unit = tonnes_parts(value, kind, lang, ref=ref)
    return f"{number} {unit}"


def with_unit(label: str, unit: str, lang: str) -> str:
    """``碳储量（万吨碳）`` / ``Carbon stock (Mt C)``."""
    return f"{label}（{unit}）" if lang == "zh" else f"{label} ({unit})"


def pct(fraction: float | None, lang: str = "zh", *, signed: bool = False) -> str:
    """A fraction as a percentage with three significant digits (at least one decimal)."""
    if _missing(fraction):
        return DASH
    value = fraction * 100
    if value == 0:
        text = "0.0"
    else:
        decimals = max(1, 2 - int(math.floor(math.log10(abs(value)))))
        text = f"{value:,.{decimals}f}"
    if signed and value > 0:
        text = "+" + text
    return f"{text}%"


def plus_minus_pct(pct_value: float | None) -> str | None:
    """``± 23%`` from an uncertainty in percent (None when unknown)."""
    if _missing(pct_value):
        return None
    return f"± {pct_value:.0f}%"


def hectares(value: float | None, lang: str) -> str:
    """An area in hectares (公顷), e.g. ``1,234 公顷`` / ``1,234 ha``."""
    if _missing(value):
        return DASH
    unit = "公顷" if lang == "zh" else "ha"
    number = f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.2f}"
    return f"{number} {unit}"


def per_hectare(value: float | None, lang: str) -> str:
    """An annual flow intensity, t CO2e/ha/yr."""
    if _missing(value):
        return DASH
    unit = "吨 CO₂e/公顷/年" if lang == "zh" else "t CO₂e/ha/yr"
    return f"{value:,.2f} {unit}"


def period(text: str, lang: str) -> str:
    """``2020-2025`` as ``2020–2025年`` / ``2020–2025``."""
    if not text:
        return DASH
    nice = text.replace("-", "–")
    return f"{nice}年" if lang == "zh" else nice


def year(value: int | None, lang: str) -> str:
    if value is None:
        return DASH
    return f"{value}年" if lang == "zh" else str(value)
