"""Time and measure the zonal engine against the read-only floor and other tools.

    python benchmarks/run.py --data /tmp/bench_small [--repeats 3]

Every (method, repeat) runs in a fresh subprocess (``python run.py --worker METHOD``); the
worker times only the work (imports and opening metadata excluded), and reports its own peak
RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, which includes GDAL's block cache and
native allocations, unlike tracemalloc) and its RSS just after imports, plus per-zone totals
so the parent can check that all methods agree.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METHODS = ["floor_1", "floor_2", "ours_zones", "ours_1", "ours_2", "ours_whole", "dask_1w", "dask_2w",
           "exactextract", "rasterstats", "invest"]
DESCR = {
    "floor_1": "read+decompress t0 (2 threads)",
    "floor_2": "read+decompress t0+t1 (2 threads)",
    "ours_zones": "rasterize zones to runs (paid once)",
    "ours_1": "per-zone counts, one date",
    "ours_2": "per-zone counts + two-date change",
    "ours_whole": "whole-raster counts, one date",
    "dask_1w": "ours_2 on LocalCluster, 1 worker",
    "dask_2w": "ours_2 on LocalCluster, 2 workers",
    "exactextract": "exactextract unique+frac, one date",
    "rasterstats": "rasterstats categorical, one date",
    "invest": "InVEST carbon, stock + sequestration",
}
FLOOR_OF = {"floor_1": "floor_1", "ours_1": "floor_1", "ours_whole": "floor_1", "exactextract": "floor_1",
            "rasterstats": "floor_1", "ours_zones": "floor_1",
            "floor_2": "floor_2", "ours_2": "floor_2", "dask_1w": "floor_2", "dask_2w": "floor_2", "invest": "floor_2"}
TWO_DATES = {"floor_2", "ours_2", "dask_1w", "dask_2w", "invest"}
OPTIONAL = {"exactextract": "exactextract", "rasterstats": "rasterstats", "invest": "natcap.invest",
            "dask_1w": "distributed", "dask_2w": "distributed"}
NODATA = 0
# Coverage-fraction methods (exactextract) weight edge pixels by the covered fraction instead of
# counting pixel centres. Along a boundary each crossed pixel differs by at most 0.5 px, so the
# tolerance per zone total is |exactextract - ours| <= 0.5 * perimeter / pixel size + 1 px
# (the grand total over zones that tile the raster must agree to rounding).
EE_EDGE_TOL_PX = 0.5


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


# ---------------------------------------------------------------- workers (one per subprocess)

# The floor reads as fast as this machine can: two reader threads, GDAL's own decoding threads
# off (with them on, the floor was 1.1-1.7x slower), and a bounded block cache (each tile is
# read once; an unbounded cache only grows the RSS with the raster).
FLOOR_ENV = {"GDAL_NUM_THREADS": 1, "GDAL_CACHEMAX": 64 * 2**20}


def _floor(paths: list[str]) -> dict:
    import rasterio
    from concurrent.futures import ThreadPoolExecutor
    from rasterio.windows import Window

    with rasterio.open(paths[0]) as ds:
        h, w = ds.height, ds.width
        bh = ds.block_shapes[0][0]
    strips = [(p, r) for p in paths for r in range(0, h, bh)]
    local = __import__("threading").local()

    def read(job):
        p, r = job
        cache = getattr(local, "ds", None)
        if cache is None:
            cache = local.ds = {}
        if p not in cache:
            cache[p] = rasterio.open(p)
        with rasterio.Env(**FLOOR_ENV):
            a = cache[p].read(1, window=Window(0, r, w, min(bh, h - r)))
        return int((a != NODATA).sum())

    t = time.perf_counter()
    with ThreadPoolExecutor(2) as ex:
        valid = sum(ex.map(read, strips))
    el = time.perf_counter() - t
    return {"seconds": el, "valid_px": valid}


def _per_zone(h) -> dict:
    """Valid-pixel counts per zone x t0 class (a change histogram folded back to t0 classes)."""
    codes = h.codes // h.n_codes if h.n_rasters == 2 else h.codes
    out = {}
    for z, row in zip(h.zone_ids, h.counts_px):
        per = {}
        for c, v in zip(codes.tolist(), row.tolist()):
            if v and c != NODATA:
                per[str(c)] = per.get(str(c), 0) + int(v)
        out[z] = per
    return out


def _ours(paths: list[str], zones_path: str, *, whole: bool = False, workers: int = 0) -> dict:
    """Our engine; the zone runs come from the cache that ``ours_zones`` filled (not timed here)."""
    import geopandas as gpd
    import shapely

    sys.path.insert(0, str(ROOT))
    from geodata.rasters import read_info
    from geodata.zonal import zonal_histogram, zonal_histogram_dask

    infos = [read_info(p) for p in paths]
    if whole:
        zones = gpd.GeoDataFrame({"zone_id": ["all"]}, geometry=[shapely.box(*infos[0].bounds)], crs=infos[0].crs)
    else:
        zones = gpd.read_file(zones_path)
    cache = Path(zones_path).parent / "cache"
    if workers:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
            client.run(lambda: sys.path.insert(0, str(ROOT)))
            client.run(lambda: __import__("geodata._kernels").__dict__["_kernels"].warm_up())  # as in this process
            t = time.perf_counter()
            h = zonal_histogram_dask(infos, zones, id_field="zone_id", cache_dir=cache, scheduler=client)
            el = time.perf_counter() - t
    else:
        t = time.perf_counter()
        h = zonal_histogram(infos, zones, id_field="zone_id", cache_dir=cache)
        el = time.perf_counter() - t
    return {"seconds": el, "per_zone": _per_zone(h)}


def _ours_zones(paths: list[str], zones_path: str) -> dict:
    """Rasterize the zones into runs and fill the on-disk cache (a fresh cache: the cold cost)."""
    import shutil

    import geopandas as gpd

    sys.path.insert(0, str(ROOT))
    from geodata.rasters import read_info
    from geodata.zonal import zone_runs

    info = read_info(paths[0])
    zones = gpd.read_file(zones_path)
    cache = Path(zones_path).parent / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    t = time.perf_counter()
    runs = zone_runs(info, zones.to_crs(info.crs).geometry, [str(z) for z in zones["zone_id"]], cache_dir=cache)
    el = time.perf_counter() - t
    return {"seconds": el, "n_runs": runs.n_runs, "cache_bytes": sum(f.stat().st_size for f in cache.iterdir())}


def _invest(paths: list[str], zones_path: str) -> dict:
    """InVEST carbon (stock for both dates + sequestration), whole raster, no zones."""
    import tempfile

    import natcap.invest.carbon as carbon

    with tempfile.TemporaryDirectory() as d:
        pools = Path(d) / "pools.csv"
        pools.write_text("lucode,c_above,c_below,c_soil,c_dead\n" + "".join(f"{c},{c},1,2,0\n" for c in (0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100)))
        args = {"workspace_dir": d, "lulc_bas_path": paths[0], "lulc_alt_path": paths[1], "carbon_pools_path": str(pools),
                "calc_sequestration": True, "do_valuation": False, "n_workers": -1}
        t = time.perf_counter()
        carbon.execute(args)
        el = time.perf_counter() - t
    return {"seconds": el}


def _exactextract(paths: list[str], zones_path: str) -> dict:
    import geopandas as gpd
    from exactextract import exact_extract

    zones = gpd.read_file(zones_path)
    t = time.perf_counter()
    df = exact_extract(paths[0], zones, ["unique", "frac", "count"], include_cols=["zone_id"], output="pandas")
    el = time.perf_counter() - t
    per_zone = {}
    for _, r in df.iterrows():
        per_zone[str(r["zone_id"])] = {str(int(u)): float(f) * float(r["count"]) for u, f in zip(r["unique"], r["frac"])}
    return {"seconds": el, "per_zone": per_zone}


def _rasterstats(paths: list[str], zones_path: str) -> dict:
    import geopandas as gpd
    from rasterstats import zonal_stats

    zones = gpd.read_file(zones_path)
    t = time.perf_counter()
    stats = zonal_stats(zones, paths[0], categorical=True, nodata=NODATA, all_touched=False)
    el = time.perf_counter() - t
    per_zone = {str(z): {str(int(k)): int(v) for k, v in s.items()} for z, s in zip(zones["zone_id"], stats)}
    return {"seconds": el, "per_zone": per_zone}


def worker(method: str, data: Path) -> None:
    os.environ.setdefault("GDAL_NUM_THREADS", "2")
    t0, t1, zp = str(data / "lc_t0.tif"), str(data / "lc_t1.tif"), str(data / "zones.gpkg")
    import numpy, rasterio, geopandas  # noqa: F401,E401  (baseline RSS after the common imports)
    if method in OPTIONAL:
        __import__(OPTIONAL[method])
    if method.startswith("ours") or method.startswith("dask"):
        sys.path.insert(0, str(ROOT))
        from geodata._kernels import warm_up

        warm_up()  # numba and the compiled kernels load here, outside the timing
    base = _rss_mb()
    if method == "floor_1":
        out = _floor([t0])
    elif method == "floor_2":
        out = _floor([t0, t1])
    elif method == "ours_zones":
        out = _ours_zones([t0], zp)
    elif method == "ours_1":
        out = _ours([t0], zp)
    elif method == "ours_2":
        out = _ours([t0, t1], zp)
    elif method == "ours_whole":
        out = _ours([t0], zp, whole=True)
    elif method in ("dask_1w", "dask_2w"):
        out = _ours([t0, t1], zp, workers=int(method[5]))
    elif method == "invest":
        out = _invest([t0, t1], zp)
    elif method == "exactextract":
        out = _exactextract([t0], zp)
    elif method == "rasterstats":
        out = _rasterstats([t0], zp)
    else:
        raise SystemExit(f"unknown method {method}")
    out.update(rss_base_mb=base, rss_peak_mb=_rss_mb())
    print("RESULT " + json.dumps(out))


# ---------------------------------------------------------------- driver

def run_one(method: str, data: Path) -> dict:
    p = subprocess.run([sys.executable, __file__, "--worker", method, "--data", str(data)],
                       capture_output=True, text=True, env={**os.environ, "GDAL_NUM_THREADS": "2"})
    if p.returncode != 0:
        raise RuntimeError(f"{method} failed:\n{p.stderr[-2000:]}")
    line = [l for l in p.stdout.splitlines() if l.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def _totals(per_zone: dict) -> dict:
    return {z: sum(v.values()) for z, v in per_zone.items()}


def check(results: dict, data: Path) -> list[str]:
    import geopandas as gpd
    import rasterio

    msgs = []
    ref = results["ours_1"]["per_zone"]
    ref_tot = _totals(ref)
    n_valid = sum(ref_tot.values())
    msgs.append(f"ours_1: {len(ref)} zones, {n_valid:,} valid pixels counted")
    # zones tile the raster exactly, so the zone totals equal the floor's valid-pixel count
    floor_valid = results["floor_1"].get("valid_px")
    msgs.append(f"floor_1 valid pixels {floor_valid:,}: {'OK, equal' if floor_valid == n_valid else 'MISMATCH'}")
    if results["ours_2"]["per_zone"] == ref:
        msgs.append("ours_2 (change, folded to t0 classes) == ours_1 per zone x class: OK")
    else:
        msgs.append("ours_2 vs ours_1: MISMATCH")
    for m in ("dask_1w", "dask_2w"):
        if m in results:
            same = results[m]["per_zone"] == results["ours_2"]["per_zone"]
            msgs.append(f"{m} == ours_2 per zone x class (exact): {'OK' if same else 'MISMATCH'}")
    if "ours_whole" in results:
        whole = sum(results["ours_whole"]["per_zone"]["all"].values())
        msgs.append(f"ours_whole valid pixels {whole:,} == floor_1: {'OK' if whole == floor_valid else 'MISMATCH'}")
    if "rasterstats" in results:
        same = results["rasterstats"]["per_zone"] == ref
        msgs.append(f"rasterstats per zone x class == ours (exact, pixel centres): {'OK' if same else 'MISMATCH'}")
    if "exactextract" in results:
        ee = _totals(results["exactextract"]["per_zone"])
        zones = gpd.read_file(data / "zones.gpkg")
        with rasterio.open(data / "lc_t0.tif") as ds:
            px = abs(ds.transform.a)
        tol = {str(z): EE_EDGE_TOL_PX * g.length / px + 1 for z, g in zip(zones["zone_id"], zones.geometry)}
        diff = {z: abs(ee[z] - ref_tot[z]) for z in ref_tot}
        worst = max(diff[z] / tol[z] for z in ref_tot)
        worst_rel = max(diff[z] / ref_tot[z] for z in ref_tot)
        glob = abs(sum(ee.values()) - n_valid) / n_valid
        msgs.append(f"exactextract per-zone totals vs ours: worst |diff| = {worst:.2f} x tolerance "
                    f"(0.5 px per boundary pixel), worst rel. diff {worst_rel:.1e}, grand total rel. diff {glob:.1e}: "
                    f"{'OK' if worst <= 1 and glob < 1e-6 else 'OUTSIDE TOLERANCE'}")
    return msgs


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--methods", default=",".join(METHODS), help="comma-separated subset")
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.data)

    import rasterio
    with rasterio.open(args.data / "lc_t0.tif") as ds:
        mpx = ds.width * ds.height / 1e6
        print(f"data {args.data}: {ds.width}x{ds.height} = {mpx:.1f} Mpx per date, GDAL_NUM_THREADS=2, {args.repeats} repeats")
    runs: dict[str, list[dict]] = {}
    methods = args.methods.split(",")
    if "ours_zones" not in methods and any(m.startswith(("ours_1", "ours_2", "dask")) for m in methods):
        methods.insert(0, "ours_zones")  # fills the zone-runs cache the other runs read
    for m in methods:
        if m in OPTIONAL:
            try:
                __import__(OPTIONAL[m])
            except ImportError as exc:
                why = "InVEST needs a system GDAL to install" if m == "invest" else "pip install -r requirements-bench.txt"
                print(f"skip {m}: not importable ({exc}); {why}")
                continue
        runs[m] = []
        # the zones' rasterizing is paid once: run it once, then the counting runs reuse the cache
        for i in range(1 if m == "ours_zones" else args.repeats):
            r = run_one(m, args.data)
            runs[m].append(r)
            print(f"  {m} run {i + 1}: {r['seconds']:.3f} s, peak RSS {r['rss_peak_mb']:.0f} MB", flush=True)

    med = {m: statistics.median(r["seconds"] for r in rs) for m, rs in runs.items()}
    print()
    hdr = f"| {'method':<13} | {'what':<36} | {'median s':>8} | {'min–max s':>13} | {'Mpx/s':>7} | {'peak RSS MB':>11} | {'RSS after imports MB':>20} | {'x floor':>7} |"
    print(hdr)
    print("|" + "|".join("-" * (len(c)) for c in hdr.split("|")[1:-1]) + "|")
    for m, rs in runs.items():
        secs = [r["seconds"] for r in rs]
        n_px = mpx * (2 if m in TWO_DATES else 1)
        fl = FLOOR_OF[m]
        ratio = f"{med[m] / med[fl]:.2f}" if fl in med else "n/a"
        print(f"| {m:<13} | {DESCR[m]:<36} | {med[m]:>8.3f} | {min(secs):>6.3f}–{max(secs):<6.3f} | {n_px / med[m]:>7.1f} | "
              f"{max(r['rss_peak_mb'] for r in rs):>11.0f} | {max(r['rss_base_mb'] for r in rs):>20.0f} | {ratio:>7} |")
    print()
    print("Mpx/s counts pixels of every raster read (2 x Mpx for the two-date rows); 'x floor' divides by")
    print("floor_1 for one-date methods and by floor_2 for the change row.")
    for mine, other in (("ours_1", "exactextract"), ("ours_1", "rasterstats"), ("ours_2", "invest"), ("dask_2w", "dask_1w")):
        if other in med and mine in med:
            print(f"{other} / {mine} = {med[other] / med[mine]:.2f}x  ({mine} takes {med[mine] / med[other]:.3f} of {other}'s time)")
    if "ours_zones" in runs:
        z = runs["ours_zones"][0]
        print(f"zone runs: {z['n_runs']:,} runs, {z['cache_bytes'] / 1e6:.2f} MB on disk, rasterized in {z['seconds']:.2f} s (once per zone layer and grid)")
    if {"ours_1", "ours_2", "floor_1", "floor_2"} <= set(runs):
        print()
        for msg in check({m: rs[0] for m, rs in runs.items()}, args.data):
            print(msg)


if __name__ == "__main__":
    main()
