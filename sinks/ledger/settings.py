"""The ``[ledger]`` section of a run configuration: what the net-neutrality ledger reads.

Everything a user may change is data: the GDP series (for intensity), the scenarios (TOML), the
early-warning thresholds (CSV, policy choices), optional dual-control targets, and how the
uncertainty draws are made. Nothing here reads those files; :mod:`sinks.ledger.assess` does.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from geodata.errors import SchemaError

LEDGER_DIR = Path(__file__).resolve().parents[2] / "data" / "ledger"
METHODS = ("gain_loss", "stock_difference")
_KEYS = {"gdp_path", "scenarios_path", "warning_rules_path", "targets_path", "headline_method", "n_draws", "seed",
         "assumed_uncertainty_pct", "peak_window", "plateau_pct", "project_years"}


@dataclass(frozen=True)
class LedgerConfig:
    """``[ledger]``; every field has a default so a configuration without the section still runs.

    ``headline_method`` is the removal estimate the headline figures use (both are always shown);
    ``assumed_uncertainty_pct`` (a policy, off by default) is applied to coefficients that carry no
    uncertainty of their own; ``project_years`` is the duration of the carbon-sink project view.
    """

    gdp: Path | None = None
    scenarios: Path | None = None
    warning_rules: Path = LEDGER_DIR / "warning_rules.csv"
    targets: Path | None = None
    headline_method: str = "gain_loss"
    n_draws: int = 2000
    seed: int = 0
    assumed_uncertainty_pct: float | None = None
    peak_window: int = 3
    plateau_pct: float = 1.0
    project_years: int = 20


def ledger_section(path: Path, doc: dict, resolve) -> LedgerConfig:
    """Parse ``[ledger]`` (``resolve(text) -> Path`` makes paths absolute); ``SchemaError`` names the key."""
    g = doc.get("ledger", {})
    where = "[ledger]"
    if not isinstance(g, dict):
        raise SchemaError(path, f"{where} must be a table", "write it as a [ledger] section (see configs/jiangbei_demo.toml)")
    unknown = sorted(set(g) - _KEYS)
    if unknown:
        raise SchemaError(path, f"{where} has unknown keys {unknown}", f"use only {sorted(_KEYS)}")

    def file(key: str) -> Path | None:
        v = g.get(key)
        if v is None:
            return None
        if not isinstance(v, str) or not v.strip():
            raise SchemaError(path, f"{where} {key} must be a file path, got {v!r}", f'write e.g. {key} = "../data/ledger/file"')
        return resolve(v)

    def integer(key: str, default: int, lo: int, hi: int, unit: str) -> int:
        v = g.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise SchemaError(path, f"{where} {key} must be a whole number of {unit} within [{lo}, {hi}], got {v!r}", f"write e.g. {key} = {default}")
        return v

    def number(key: str, default: float | None, lo: float, hi: float, unit: str) -> float | None:
        v = g.get(key, default)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and lo <= v <= hi):
            raise SchemaError(path, f"{where} {key} must be a number of {unit} within [{lo:g}, {hi:g}], got {v!r}",
                              f"write e.g. {key} = {default if default is not None else 30}")
        return float(v)

    method = g.get("headline_method", "gain_loss")
    if method not in METHODS:
        raise SchemaError(path, f"{where} headline_method {method!r} is unknown", f"use one of {list(METHODS)}")
    return LedgerConfig(
        gdp=file("gdp_path"),
        scenarios=file("scenarios_path"),
        warning_rules=file("warning_rules_path") or LedgerConfig.warning_rules,
        targets=file("targets_path"),
        headline_method=method,
        n_draws=integer("n_draws", 2000, 100, 100_000, "draws"),
        seed=integer("seed", 0, 0, 2**31 - 1, "(a random seed)"),
        assumed_uncertainty_pct=number("assumed_uncertainty_pct", None, 0.0, 500.0, "% (95 % half-width)"),
        peak_window=integer("peak_window", 3, 1, 9, "years"),
        plateau_pct=number("plateau_pct", 1.0, 0.0, 20.0, "%"),
        project_years=integer("project_years", 20, 1, 100, "years"),
    )
