"""Protection-zone screening on the demo: how long each part takes, and exactextract beside it.

    .venv/bin/python benchmarks/protection.py [--config configs/jiangbei_demo.toml] [--repeats 3]

Prints, per step, the best of ``--repeats`` wall times: the river centreline (main channel and
routed through an intake), the 1 km shoreline belt, the water-source zones, exact coverage
class areas for every zone against exactextract (``frac`` x ``unique``; agreement printed), the
whole screening (``sinks.protection.protection_screening``) and the peak RSS of this process.
Targets live here, not in tests.
"""
from __future__ import annotations

import argparse
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from timing import best  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=ROOT / "configs" / "jiangbei_demo.toml")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    import shapely

    from geodata.coverage import class_areas
    from geodata.rasters import read_info
    from sinks.config import load_config
    from sinks.protection import _river, build_zones, config_intakes, protection_screening
    from wetlands.zone_builders import WaterSourceRules, river_centreline, shoreline_belt, water_source_zones

    cfg = load_config(args.config)
    p = cfg.protection
    river, _ = _river(cfg, p)
    intakes = config_intakes(p)
    r = args.repeats
    rows = []
    t, line = best(lambda: river_centreline(river, flow_azimuth_deg=p.flow_azimuth_deg), r)
    rows.append(("centreline, main channel", t, f"{line.length / 1000:,.1f} km"))
    bg = intakes.to_crs(32650).geometry.iloc[-1]
    t, line = best(lambda: river_centreline(river, flow_azimuth_deg=p.flow_azimuth_deg, through=bg), r)
    rows.append(("centreline through the last intake", t, f"{line.length / 1000:,.1f} km"))
    t, belt = best(lambda: shoreline_belt(river, distance_m=p.belt_distance_m), r)
    rows.append(("shoreline belt", t, f"{len(belt)} pieces, {belt.geometry.area.sum() / 1e4:,.0f} ha"))
    rules = WaterSourceRules.from_csv(p.water_source_rules)
    t, ws = best(lambda: water_source_zones(intakes, river, rules=rules, flow_azimuth_deg=p.flow_azimuth_deg), r)
    rows.append(("water-source zones", t, f"{len(ws)} rows for {len(intakes)} intakes"))

    zones, *_ = build_zones(cfg)
    info = read_info(cfg.landcover[max(cfg.landcover)])
    zr = zones.to_crs(info.crs)
    t_ours, ours = best(lambda: class_areas(info, zr, "zone_id"), r)
    rows.append(("coverage class areas, all zones", t_ours, f"{len(zr)} zones"))
    try:
        from exactextract import exact_extract
    except ImportError:
        rows.append(("exactextract", float("nan"), "not installed (pip install -r requirements-bench.txt)"))
    else:
        def ee():
            return exact_extract(str(info.path), zr[["zone_id", "geometry"]], ["unique", "frac"], include_cols=["zone_id"],
                                 output="pandas")
        t_ee, theirs = best(ee, r)
        px_ha = abs(info.transform.a * info.transform.e) / 1e4
        worst = 0.0
        for _, row in theirs.iterrows():
            inside_ha = float(shapely.clip_by_rect(zr.loc[zr["zone_id"] == row["zone_id"], "geometry"].iloc[0], *info.bounds).area) / 1e4
            mine = ours[(ours["zone_id"] == row["zone_id"]) & ~ours["is_nodata"]].set_index("code")["area_ha"]
            for code, frac in zip(row["unique"], row["frac"]):
                # exactextract's frac is the share of the covered *valid* area
                valid_ha = inside_ha - float(ours[(ours["zone_id"] == row["zone_id"]) & ours["is_nodata"]]["area_ha"].sum())
                worst = max(worst, abs(mine.get(int(code), 0.0) - frac * valid_ha))
        rows.append(("exactextract, same zones", t_ee, f"ours / exactextract {t_ours / t_ee:.2f}x; largest class-area gap {worst:.2e} ha ({worst / px_ha:.1e} px)"))
    t, res = best(lambda: protection_screening(cfg), 1)
    rows.append(("whole screening (1 run)", t, f"{len(res.zones)} zones x {len(res.years)} dates, {len(res.screening.patches)} flagged patches"))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"protection screening benchmark: {args.config.name}, best of {r} (machine load matters: see benchmarks/README.md)")
    for name, sec, what in rows:
        print(f"  {name:38s} {sec:8.3f} s   {what}")
    print(f"  peak RSS of this process            {rss_mb:8.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
