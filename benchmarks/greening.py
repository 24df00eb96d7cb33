"""Greening indicators on the demo: how long each part takes, and the peak memory.

    .venv/bin/python benchmarks/greening.py [--config configs/jiangbei_demo.toml] [--repeats 3]

Prints, per step, the best of ``--repeats`` wall times: the per-date masks (built-up area,
annual NDVI, fractional cover, park service distances, planting candidates:
``sinks.greening.assess.build_layers``), the indicators of the 3 districts and of the 24
planning units reusing those masks, candidate patches, the whole assessment, and the
per-pixel throughput of the unit counting. Targets live here, not in tests.
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

    from sinks.config import load_config
    from sinks.greening.assess import build_layers, candidate_patches, config_units, greening_assessment

    cfg = load_config(args.config)
    t_layers, layers = best(lambda: build_layers(cfg), args.repeats)
    n_px = sum(layer.landcover.size for layer in layers.layers.values())
    print(f"masks for {len(layers.layers)} dates ({n_px / 1e6:.2f} M pixels): {t_layers:.2f} s "
          f"({n_px / t_layers / 1e6:.1f} M px/s)")
    for which in ("zones", "units") if cfg.greening.units is not None else ("zones",):
        t, res = best(lambda: greening_assessment(cfg, units=which, layers=layers), args.repeats)
        covered = res.indicators["unit_area_ha"].sum() * 1e4 / 900
        print(f"indicators, {len(res.units)} {which} x {len(res.years)} dates (masks reused): {t:.2f} s "
              f"({covered / 1e6:.2f} M unit-pixels, {covered / t / 1e6:.1f} M/s)")
    zl, _ = config_units(cfg, "zones")
    last = cfg.years[-1]
    units_a = zl.gdf.to_crs(layers.layers[last].info.crs)
    from sinks.coefficients import load_coefficients
    coef = load_coefficients(cfg.coefficients)
    t, (patches, dropped) = best(lambda: candidate_patches(layers.layers[last], units_a, zl.id_field, roles=layers.roles,
                                                           coefficients=coef, min_ha=cfg.greening.min_candidate_ha), args.repeats)
    print(f"candidate patches {last}: {len(patches)} listed, {dropped[0]} below {cfg.greening.min_candidate_ha} ha or over the cap: {t:.2f} s")
    t, _ = best(lambda: greening_assessment(cfg), 1)
    print(f"whole assessment from scratch (masks + default units): {t:.2f} s")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
