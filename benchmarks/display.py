"""Display reads with and without internal overviews (Cloud-Optimized GeoTIFF).

    python benchmarks/display.py [--src /tmp/bench_medium/lc_t0.tif] [--width 760] [--repeats 3]

``--src`` is a large tiled GeoTIFF without overviews (``benchmarks/generate.py --size medium``
writes a 10000 x 10000 uint8 land-cover raster). The script converts it into a COG with mode
overviews (``geodata.cog.write_cog``) in a temporary folder, then times the dashboard's display
read, ``ds.read(1, out_shape=(h, width), resampling=nearest)`` as in
``ui.imagery.read_classes_decimated``, on:

* ``gtiff``: the source (tiled, no overviews: GDAL samples the full resolution);
* ``cog_no_ovr``: the COG opened with ``OVERVIEW_LEVEL=NONE`` (same file, overviews ignored);
* ``cog``: the COG as the dashboard opens it (GDAL picks an overview).

Every (case, repeat) runs in a fresh subprocess (cold GDAL block cache; the files are small
enough to stay in the OS page cache, so this measures decoding, not the disk). The worker times
open + read and reports its peak RSS (``ru_maxrss``, includes GDAL's block cache) and its RSS
after imports; "read MB" is the difference. The conversion is measured the same way, once.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SRC = Path("/tmp/bench_medium/lc_t0.tif")
CASES = {
    "gtiff": "tiled GeoTIFF, no overviews",
    "cog_no_ovr": "COG, overviews ignored (OVERVIEW_LEVEL=NONE)",
    "cog": "COG, overviews (as the dashboard reads)",
}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


# ---------------------------------------------------------------- workers (one per subprocess)

def _read_worker(path: str, width: int, open_options: dict[str, str]) -> dict:
    import numpy as np
    import rasterio
    from rasterio.enums import Resampling

    base = _rss_mb()
    t = time.perf_counter()
    with rasterio.open(path, **open_options) as ds:
        h, w = ds.height, ds.width
        oh, ow = (max(1, round(h * width / w)), width) if w > width else (h, w)  # ui.imagery.out_shape
        t_read = time.perf_counter()
        a = ds.read(1, out_shape=(oh, ow), resampling=Resampling.nearest)
        read_seconds = time.perf_counter() - t_read
        factors = ds.overviews(1)
    seconds = time.perf_counter() - t
    peak = _rss_mb()
    # The overview GDAL should use: the coarsest one still at least as fine as the request.
    # Confirmed by reading that level alone (OVERVIEW_LEVEL=<k>only) and comparing (after timing).
    used = max((f for f in factors if f <= w / ow), default=1)
    confirmed = None
    if used > 1:
        with rasterio.open(path, OVERVIEW_LEVEL=f"{factors.index(used)}only") as ds:
            confirmed = bool(np.array_equal(a, ds.read(1, out_shape=(oh, ow), resampling=Resampling.nearest)))
    return {"seconds": seconds, "read_seconds": read_seconds, "peak_mb": peak, "base_mb": base, "shape": [oh, ow],
            "checksum": int(a.astype(np.int64).sum()), "overview_factor": used, "confirmed": confirmed}


def _convert_worker(src: str, dst: str, blocksize: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from geodata.cog import write_cog

    base = _rss_mb()
    t = time.perf_counter()
    layout = write_cog(src, dst, resampling="mode", blocksize=blocksize)
    return {"seconds": time.perf_counter() - t, "peak_mb": _rss_mb(), "base_mb": base,
            "summary": layout.summary(), "overviews": list(layout.overview_factors)}


def _run(args: list[str]) -> dict:
    env = dict(os.environ)
    res = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env, check=False)
    if res.returncode != 0:
        raise SystemExit(f"worker {' '.join(args)} failed:\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- parent

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", type=Path, default=DEFAULT_SRC, help=f"large tiled GeoTIFF without overviews (default {DEFAULT_SRC})")
    ap.add_argument("--width", type=int, default=760, help="display width in pixels (default 760)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--blocksize", type=int, default=512, help="COG tile size (default 512)")
    ap.add_argument("--worker", choices=["read", "convert"], help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    ap.add_argument("--dst", help=argparse.SUPPRESS)
    ap.add_argument("--oo", action="append", default=[], help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.worker == "read":
        print(json.dumps(_read_worker(a.path, a.width, dict(o.split("=", 1) for o in a.oo))))
        return 0
    if a.worker == "convert":
        print(json.dumps(_convert_worker(a.path, a.dst, a.blocksize)))
        return 0

    if not a.src.is_file():
        print(f"{a.src} not found; make it with:\n  .venv/bin/python benchmarks/generate.py --size medium --out {a.src.parent}",
              file=sys.stderr)
        return 2
    import rasterio

    with rasterio.open(a.src) as ds:
        info = f"{ds.width} x {ds.height} {ds.dtypes[0]}, blocks {ds.block_shapes[0]}, overviews {ds.overviews(1) or 'none'}"
    print(f"source: {a.src} ({info}, {a.src.stat().st_size / 1e6:.1f} MB)")
    with tempfile.TemporaryDirectory(prefix="display_bench_") as tmp:
        cog = Path(tmp) / f"{a.src.stem}_cog.tif"
        conv = _run(["--worker", "convert", "--path", str(a.src), "--dst", str(cog), "--blocksize", str(a.blocksize)])
        print(f"COG: {conv['summary']}, {cog.stat().st_size / 1e6:.1f} MB; conversion {conv['seconds']:.2f} s, "
              f"peak RSS {conv['peak_mb']:.0f} MB ({conv['peak_mb'] - conv['base_mb']:.0f} MB above imports)")
        runs: dict[str, list[dict]] = {}
        for case, path, oo in (("gtiff", a.src, []), ("cog_no_ovr", cog, ["--oo", "OVERVIEW_LEVEL=NONE"]), ("cog", cog, [])):
            runs[case] = [_run(["--worker", "read", "--path", str(path), "--width", str(a.width), *oo])
                          for _ in range(a.repeats)]

    med = {c: statistics.median(r["seconds"] for r in rs) for c, rs in runs.items()}
    mem = {c: max(r["peak_mb"] - r["base_mb"] for r in rs) for c, rs in runs.items()}
    shape = runs["cog"][0]["shape"]
    print(f"\ndisplay read {shape[1]} x {shape[0]} px (nearest), {a.repeats} repeats, fresh process each\n")
    print("| case | what | overview used | open+read s (median) | min–max s | read only s | peak RSS MB | read MB (above imports) |")
    print("|---|---|---|---|---|---|---|---|")
    for c, rs in runs.items():
        s = [r["seconds"] for r in rs]
        f = rs[0]["overview_factor"] if c == "cog" else 1
        used = f"1/{f}" + (" (confirmed)" if all(r["confirmed"] for r in rs) else " (NOT confirmed)") if f > 1 else "none (full resolution)"
        print(f"| `{c}` | {CASES[c]} | {used} | {med[c]:.3f} | "
              f"{min(s):.3f}–{max(s):.3f} | {statistics.median(r['read_seconds'] for r in rs):.3f} | "
              f"{max(r['peak_mb'] for r in rs):.0f} | {mem[c]:.0f} |")
    print(f"\nwithout / with overviews (open+read): time {med['gtiff'] / med['cog']:.1f}x (GTiff) and "
          f"{med['cog_no_ovr'] / med['cog']:.1f}x (same COG, OVERVIEW_LEVEL=NONE); read memory "
          f"{mem['gtiff'] / max(mem['cog'], 0.5):.0f}x / {mem['cog_no_ovr'] / max(mem['cog'], 0.5):.0f}x")
    same = runs["gtiff"][0]["checksum"] == runs["cog_no_ovr"][0]["checksum"]
    print(f"full-resolution samplings of the GTiff and of the COG agree: {'OK' if same else 'NO (bug)'}; "
          f"the overview read differs from them by design (mode of each block, then nearest)")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
