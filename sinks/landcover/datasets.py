"""Save a classified land-cover map as a dataset the other pages and the CLI use.

A dataset is a run configuration (TOML) in the workspace's ``configs/`` folder that takes the
zones, coefficients and inventory of a base configuration and puts the new map in for one year.
The dashboard lists these configurations beside the shipped ones.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from geodata.errors import DataError, GridError
from geodata.rasters import check_categorical, check_same_grid, read_info
from sinks.config import Config, load_config

ROOT = Path(__file__).resolve().parents[2]


def workspace_dir() -> Path:
    """Where user datasets live: ``$SINKS_WORKSPACE`` or ``workspace/`` beside the code."""
    return Path(os.environ.get("SINKS_WORKSPACE", ROOT / "workspace"))


@dataclass(frozen=True)
class SavedDataset:
    config_path: Path
    years: tuple[int, ...]
    replaced_year: int


def _q(value: str | Path) -> str:
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _slug(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-").lower()
    if not s:
        raise DataError(name, "the dataset name has no letters or digits", "name it with Latin letters, digits, '-' or '_' (e.g. pukou-rf-2025)")
    return s[:60]


def config_toml(cfg: Config, *, name_zh: str, name_en: str, illustrative: bool) -> str:
    """A run configuration as TOML text, with absolute paths."""
    lines = ["# Written by sinks.landcover.datasets: a classified map put into a base configuration.",
             "", "[area]", f"name_zh = {_q(name_zh)}", f"name_en = {_q(name_en)}",
             f"illustrative = {'true' if illustrative else 'false'}", ""]
    if cfg.zones is not None:
        lines += ["[zones]", f"path = {_q(cfg.zones)}"]
        if cfg.zones_layer:
            lines.append(f"layer = {_q(cfg.zones_layer)}")
        lines += [f"id_field = {_q(cfg.zone_id_field)}", f"name_field_zh = {_q(cfg.zone_name_fields[0])}",
                  f"name_field_en = {_q(cfg.zone_name_fields[1])}", f"coord_system = {_q(cfg.zones_coord_system)}", ""]
    lines.append("[landcover.years]")
    lines += [f"{y} = {_q(p)}" for y, p in sorted(cfg.landcover.items())]
    if cfg.accuracy:
        lines += ["", "[landcover.accuracy]"] + [f"{y} = {_q(p)}" for y, p in sorted(cfg.accuracy.items())]
    lines += ["", "[coefficients]", f"path = {_q(cfg.coefficients)}", ""]
    if cfg.inventory is not None:
        lines += ["[inventory]", f"path = {_q(cfg.inventory)}"] + ([f"primary = {_q(cfg.inventory_primary)}"] if cfg.inventory_primary else []) + [""]
    lines += ["[engine]", f"block_size = {cfg.block_size}", f"scheduler = {_q(cfg.scheduler)}", f"threads = {cfg.threads}"]
    if cfg.dask_address:
        lines.append(f"dask_address = {_q(cfg.dask_address)}")
    lines.append("")
    return "\n".join(lines)


def save_classified_dataset(
    base_config: str | Path,
    classified_map: str | Path,
    *,
    year: int,
    name: str,
    name_zh: str | None = None,
    keep_other_years: bool = True,
    accuracy_report: str | Path | None = None,
    workspace: Path | None = None,
) -> SavedDataset:
    """Write a configuration that uses ``classified_map`` for ``year`` on top of ``base_config``.

    ``accuracy_report`` (a folder from ``python -m sinks accuracy``) makes the map's area
    uncertainty part of the stock uncertainty. Other years of the base stay only if they share the new map's grid (the engine counts change
    pixel by pixel); otherwise they are dropped and the result is a single-date dataset.
    The file is written atomically; an existing dataset of the same name is replaced.
    """
    base = load_config(base_config)
    info = check_categorical(read_info(classified_map))
    years: dict[int, Path] = {int(year): Path(classified_map).resolve()}
    if keep_other_years:
        for y, p in base.landcover.items():
            if y == int(year):
                continue
            try:
                check_same_grid(read_info(p), info)
            except (GridError, DataError):
                continue
            years[y] = p
    accuracy = {y: p for y, p in base.accuracy.items() if y in years and y != int(year)}
    if accuracy_report is not None:
        from sinks.landcover.accuracy import load_area_uncertainty

        load_area_uncertainty(accuracy_report)  # refuse a folder that is not a report, now
        accuracy[int(year)] = Path(accuracy_report).resolve()
    cfg = Config(landcover=years, accuracy=accuracy, coefficients=base.coefficients, zones=base.zones, zones_layer=base.zones_layer,
                 zone_id_field=base.zone_id_field, zone_name_fields=base.zone_name_fields,
                 zones_coord_system=base.zones_coord_system, inventory=base.inventory,
                 block_size=base.block_size, scheduler=base.scheduler, threads=base.threads, dask_address=base.dask_address)
    out_dir = (workspace or workspace_dir()) / "configs"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{_slug(name)}.toml"
    text = config_toml(cfg, name_zh=name_zh or name, name_en=name, illustrative=base.illustrative)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        load_config(tmp)  # what we wrote must parse
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return SavedDataset(config_path=out, years=tuple(sorted(years)), replaced_year=int(year))
