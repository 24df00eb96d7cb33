"""Seeded synthetic land-cover pair + zone layer for the zonal benchmarks.

    python benchmarks/generate.py --size small --out /tmp/bench_small [--seed 0]

Writes ``lc_t0.tif`` and ``lc_t1.tif`` (uint8 ESA WorldCover codes 10..90, nodata 0, tiled
256x256 DEFLATE GeoTIFF, EPSG:32650, 10 m pixels) and ``zones.gpkg`` (~100 non-overlapping
rectangles with ``zone_id`` covering the raster, edges off the pixel grid).

Classes come from a low-resolution random class grid upsampled with nearest neighbour
through a smooth coordinate warp (so patches have wavy edges and compress like real land cover).
Date 2 changes a few percent of coarse patches to another class. The rasters are written in
strips of 256 rows: memory stays flat in the raster size.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

SIZES = {"small": 2_500, "medium": 10_000, "large": 25_000}
CODES = np.array([10, 20, 30, 40, 50, 60, 70, 80, 90], dtype="uint8")  # ESA WorldCover
PROBS = np.array([0.30, 0.08, 0.15, 0.20, 0.10, 0.03, 0.0, 0.10, 0.04])
PROBS = PROBS / PROBS.sum()
PIXEL = 10.0
ORIGIN = (600_000.0, 3_560_000.0)  # UTM 50N, around Nanjing (Jiangbei)
CELL = 40  # pixels per coarse class cell
CHANGE_CELL = 80  # pixels per coarse change cell
STRIP = 256


def coarse_grids(n: int, rng: np.random.Generator):
    nc = n // CELL + 3
    t0 = rng.choice(CODES, size=(nc, nc), p=PROBS)
    t0[rng.random((nc, nc)) < 0.01] = 0  # a few nodata patches (clouds, gaps)
    t1_alt = rng.choice(CODES, size=(nc, nc), p=PROBS)
    nch = n // CHANGE_CELL + 3
    change = rng.random((nch, nch)) < 0.05
    return t0, t1_alt, change


def strip(row0: int, nrows: int, n: int, t0c, t1c, change):
    """Classes for rows [row0, row0 + nrows) of both dates, by warped nearest-neighbour lookup."""
    r = np.arange(row0, row0 + nrows, dtype="float32")[:, None]
    c = np.arange(n, dtype="float32")[None, :]
    # smooth warp, amplitude ~ half a coarse cell: wavy patch edges instead of squares
    rw = r + 14 * np.sin(c / 57.0) + 6 * np.sin((c + r) / 23.0)
    cw = c + 14 * np.sin(r / 61.0) + 6 * np.sin((r - c) / 29.0)
    ri = np.clip((rw / CELL).astype("int32") + 1, 0, t0c.shape[0] - 1)
    ci = np.clip((cw / CELL).astype("int32") + 1, 0, t0c.shape[1] - 1)
    a = t0c[ri, ci]
    ch = change[np.clip((rw / CHANGE_CELL).astype("int32") + 1, 0, change.shape[0] - 1),
                np.clip((cw / CHANGE_CELL).astype("int32") + 1, 0, change.shape[1] - 1)]
    b = np.where(ch & (a != 0), t1c[ri, ci], a)
    return a, b


def write_rasters(out: Path, n: int, rng: np.random.Generator) -> None:
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    t0c, t1c, change = coarse_grids(n, rng)
    profile = dict(
        driver="GTiff", width=n, height=n, count=1, dtype="uint8", nodata=0, crs="EPSG:32650",
        transform=from_origin(ORIGIN[0], ORIGIN[1], PIXEL, PIXEL), tiled=True, blockxsize=256,
        blockysize=256, compress="DEFLATE", BIGTIFF="IF_SAFER", num_threads="ALL_CPUS",
    )
    t = time.perf_counter()
    with rasterio.open(out / "lc_t0.tif", "w", **profile) as d0, rasterio.open(out / "lc_t1.tif", "w", **profile) as d1:
        for row0 in range(0, n, STRIP):
            h = min(STRIP, n - row0)
            a, b = strip(row0, h, n, t0c, t1c, change)
            w = Window(0, row0, n, h)
            d0.write(a, 1, window=w)
            d1.write(b, 1, window=w)
            if (row0 // STRIP) % 10 == 0 or row0 + h == n:
                print(f"  rasters: {row0 + h}/{n} rows ({time.perf_counter() - t:.1f} s)", flush=True)


def write_zones(out: Path, n: int, rng: np.random.Generator, n_side: int = 10) -> None:
    """~n_side^2 rectangles: jittered row bands, each cut at its own jittered column edges."""
    import geopandas as gpd
    import shapely

    extent = n * PIXEL
    x0, y_top = ORIGIN
    step = extent / n_side

    def cuts():
        inner = np.arange(1, n_side) * step + rng.uniform(-0.3, 0.3, n_side - 1) * step
        return np.concatenate([[0.0], inner, [extent]])

    ys = cuts()
    geoms, ids = [], []
    for i in range(n_side):
        xs = cuts()
        for j in range(n_side):
            geoms.append(shapely.box(x0 + xs[j], y_top - ys[i + 1], x0 + xs[j + 1], y_top - ys[i]))
            ids.append(f"Z{i:02d}{j:02d}")
    gdf = gpd.GeoDataFrame({"zone_id": ids}, geometry=geoms, crs="EPSG:32650")
    path = out / "zones.gpkg"
    if path.exists():
        path.unlink()
    gdf.to_file(path, driver="GPKG")
    print(f"  zones: {len(gdf)} polygons -> {path}", flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=sorted(SIZES), required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    n = SIZES[args.size]
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    print(f"generating {args.size}: {n}x{n} = {n * n / 1e6:.1f} Mpx per date, seed {args.seed} -> {args.out}", flush=True)
    write_rasters(args.out, n, rng)
    write_zones(args.out, n, rng)
    for f in ("lc_t0.tif", "lc_t1.tif", "zones.gpkg"):
        print(f"  {f}: {(args.out / f).stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
