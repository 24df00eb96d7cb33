"""A versioned GeoPackage workspace for polygon layers (ecological red lines drawn by officers).

One ``.gpkg`` file holds, per layer, the features of *every* version, plus a ``versions`` table
that says who saved each version, when (UTC), why, how many features it has, its parent and the
sha256 of its content, and an ``exports`` table (what was exported where). Nothing is ever
updated or deleted: a save appends a new version, ``restore`` appends a copy of an old one.
GDAL / QGIS open the file as an ordinary GeoPackage (filter the layer on ``store_version``).

Usage::

    ws = Workspace("workspace/redlines.gpkg", crs=4490)        # created if missing
    ro = Workspace.open_existing("workspace/redlines.gpkg")     # read-only: never writes
    res = ws.save("redlines", gdf, author="王工", reason="2026 annual revision",
                  id_field="redline_id", expected_parent=3, within=study_area)
    res.info.version, res.repairs                               # what was stored and repaired
    ws.history("redlines")                                      # tuple of frozen VersionInfo
    gdf = ws.load("redlines")                                   # latest; ws.load("redlines", 2)
    ws.restore("redlines", 2, author="李工", reason="revert the 2026 draft")
    ws.export("redlines", "out/redlines.shp.zip", crs=4326)

Design (and why)
----------------
- Written with the standard library ``sqlite3`` to the GeoPackage 1.3 layout (``gpkg_contents``,
  ``gpkg_spatial_ref_sys``, ``gpkg_geometry_columns``, GeoPackage geometry blobs), not through
  GDAL: a save (layer table creation, all feature rows, the ``versions`` row) is then ONE SQLite
  transaction. GDAL appends commit on their own and cache a feature count that went stale under
  several writers (see RECIPES, Persistence); a transaction cannot half-happen or go stale.
- Serialized writers: every write starts with ``BEGIN IMMEDIATE`` under a busy timeout (30 s by
  default), so writers queue on SQLite's own file lock (the lock the RECIPES ask for, held by the
  database itself) and the next version number, ``MAX(version) + 1``, is computed under it:
  unique and gap-free (a trigger and a ``UNIQUE (layer, version)`` constraint check it again).
  A failed or killed save rolls back completely (rollback journal); the file is as it was.
  The rollback journal (not WAL) keeps the workspace one file. SQLite locks are unreliable on
  network shares (SMB/NFS): keep the file on a local disk, or use the PostGIS option for a server.
- Optimistic check: ``save(..., expected_parent=N)`` raises :class:`ConflictError` when the latest
  version is no longer N (someone saved meanwhile); the message names who and when and says how to
  merge: load the latest, re-apply the edits, save with ``expected_parent`` = the latest.
- Append-only: triggers abort any UPDATE or DELETE of stored features, versions or exports, and
  any INSERT into a version that is already recorded (sealed), even from another SQLite or GIS
  client (GDAL/QGIS may still add layers of their own to the file; the store ignores them).
- Attributes are stored as JSON text (one ``attrs_json`` column) with the ordered column names and
  kinds (int, float, bool, str, datetime, object) in the version record, rather than as declared
  SQL columns: the attribute schema of red lines changes over the years, every version stays
  exactly reproducible, and column names never become SQL identifiers (no injection, no
  ALTER TABLE). Values may be None, bool, int, float (finite), str or date/time (stored ISO 8601);
  anything else is refused. ``load`` restores the columns, their order and dtypes.
- Layer names must match ``[a-z][a-z0-9_]{0,47}`` and are not ``versions``, ``exports``,
  ``store_meta`` nor begin with ``gpkg_``, ``rtree_``, ``sqlite_``, ``ogr_`` or ``store_``; they
  are the only identifiers put into SQL (and quoted as well). Author and reason are bound
  parameters, checked for length and control characters.
- Geometry: stored in the workspace CRS (EPSG:4490 CGCS2000 or 4326, chosen at creation) as 2-D
  MultiPolygons. Input in another CRS is transformed; input without a CRS is refused; GCJ-02 /
  BD-09 lon/lat is converted when ``coord_system`` says so. Invalid polygons are repaired with
  ``shapely.make_valid`` only when the repair keeps polygonal area and is unambiguous (the
  "linework" and "structure" repairs agree on the area; a ring that overlaps itself does not, and
  is refused); lines or points left at a bow-tie's knot are dropped (they have no area) and every
  repair is reported with its area in m2 (EPSG:32650). Repairs are made in the coordinates as
  drawn (and checked again after the transform). Empty, missing and non-polygon geometries and
  features under ``min_area_m2`` (1 m2: slivers) are refused by feature id. ``within=`` refuses
  features with more than ``within_tolerance_m2`` (1 m2) outside a study area, naming them.
- Every save is a new version, even when its content equals the latest (same sha256): the record
  of who confirmed what, when, is the point.
- Content hash: sha256 over the CRS, id column, attribute columns/kinds and, per feature in id
  order, its id, attribute JSON and WKB. Row order does not change it; ``restore`` reproduces it;
  ``load`` recomputes it and refuses content that no longer matches (edited outside the store).
- Exports are written to a temporary file beside the target and renamed into place (atomic). An
  existing file is replaced only when it is byte-identical (sha256) to an earlier export recorded
  in this workspace's ``exports`` table (every version stays re-exportable, so nothing is lost);
  any other existing file is refused. Shapefiles are zipped (``.shp.zip``), names at the root.
- No spatial index (R-tree) is created (red-line layers are small); if a GIS client adds one, the
  SQL functions its triggers call are provided to this module's connections.
- Backends: everything above that is not SQLite (input checks, repairs, CRS, attribute JSON,
  hashes, conflicts, exports, verify) is :class:`WorkspaceBase`; :class:`Workspace` adds the
  GeoPackage storage, :class:`geodata.store_pg.PostgisWorkspace` the PostGIS one (the server
  option), and :func:`geodata.workspace.open_workspace` chooses by ``DATABASE_URL``.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import sqlite3
import struct
import tempfile
import uuid
import zipfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from geodata.crs import ANALYSIS_CRS, CoordSystem, check_lonlat_bounds, require_crs, to_wgs84_geometries
from geodata.errors import CRSMismatchError, DataError, GeometryError, SchemaError, UnsafeInputError
from geodata.files import sha256_file

STORE_FORMAT = "1"
STORE_CRS_CHOICES = (4490, 4326)
EXPORT_FORMATS = ("gpkg", "geojson", "shp.zip")
LAYER_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,47}")
RESERVED_NAMES = frozenset({"versions", "exports", "store_meta"})
RESERVED_PREFIXES = ("gpkg_", "rtree_", "sqlite_", "ogr_", "store_")
MAX_AUTHOR_CHARS = 100
MAX_REASON_CHARS = 2000
MAX_ID_CHARS = 200
GEOM_COLUMN = "geom"
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
_GPKG_USER_VERSION = 10300  # GeoPackage 1.3


class ConflictError(DataError):
    """Someone saved a newer version after the one an edit was based on (optimistic check)."""

    kind = "conflict"

    def __init__(self, source: str, problem: str, fix: str, *, expected_parent: int, latest: "VersionInfo") -> None:
        super().__init__(source, problem, fix)
        self.expected_parent = expected_parent
        self.latest = latest


class StoreBusyError(DataError):
    """The workspace stayed locked by another writer for longer than the busy timeout."""

    kind = "busy"


class NotAWorkspaceError(DataError):
    """A GeoPackage opened read-only has no store tables (it is not a workspace)."""

    kind = "not_a_workspace"


@dataclass(frozen=True)
class VersionInfo:
    """One row of the ``versions`` table (immutable)."""

    layer: str
    version: int
    author: str
    saved_at: datetime  # UTC, timezone-aware
    reason: str
    feature_count: int
    parent_version: int | None
    restored_from: int | None
    sha256: str
    id_field: str
    columns: tuple[tuple[str, str], ...]  # (name, kind) in order
    repaired_ids: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["saved_at"] = _iso(self.saved_at)
        return d


@dataclass(frozen=True)
class Repair:
    """A feature whose geometry was invalid and was repaired with ``make_valid``."""

    feature_id: str
    problem: str  # shapely.is_valid_reason of the input
    area_m2: float  # area of the stored (repaired) polygons in EPSG:32650
    dropped: tuple[str, ...]  # geometry types dropped from the repair (lines/points: no area)


@dataclass(frozen=True)
class SaveResult:
    info: VersionInfo
    repairs: tuple[Repair, ...]
    transformed_from: str | None  # the input CRS when it was not the workspace CRS
    converted_from: str | None  # "gcj02" / "bd09" when lon/lat were converted
    dropped_z: bool


@dataclass(frozen=True)
class ExportResult:
    path: Path
    layer: str
    version: int
    fmt: str
    crs_epsg: int
    sha256: str
    feature_count: int
    replaced_earlier_export: bool


@dataclass(frozen=True)
class _Prepared:
    ids: tuple[str, ...]
    attrs_json: tuple[str, ...]
    geoms: tuple[shapely.Geometry, ...]
    id_field: str
    columns: tuple[tuple[str, str], ...]
    repairs: tuple[Repair, ...]
    transformed_from: str | None
    converted_from: str | None
    dropped_z: bool


# --------------------------------------------------------------------------------------------
# small helpers


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _iso(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def check_layer_name(layer: Any) -> str:
    """Return ``layer`` if it is a safe layer name, else raise :class:`SchemaError`."""
    if not isinstance(layer, str) or not LAYER_NAME_RE.fullmatch(layer):
        raise SchemaError(
            repr(layer) if not isinstance(layer, str) else f"layer '{layer}'",
            "a layer name must be 1-48 characters: a lower-case ASCII letter, then lower-case letters, digits or '_'",
            "choose a name like 'redlines' or 'redlines_2026' (put Chinese titles in an attribute column)",
        )
    if layer in RESERVED_NAMES or layer.startswith(RESERVED_PREFIXES):
        raise SchemaError(
            f"layer '{layer}'",
            f"the name is reserved for the GeoPackage or the store ({sorted(RESERVED_NAMES)}, prefixes {list(RESERVED_PREFIXES)})",
            "choose another name, such as 'redlines'",
        )
    return layer


def _clean_text(value: Any, *, what: str, source: str, max_chars: int, multiline: bool) -> str:
    if not isinstance(value, str):
        raise DataError(source, f"{what} must be text, got {type(value).__name__}", f"give the {what} as a string")
    text = value.replace("\r\n", "\n").strip()  # browser text areas may send CRLF
    if not text:
        raise DataError(source, f"the {what} is empty", f"every version records its {what}: fill it in")
    if len(text) > max_chars:
        raise DataError(source, f"the {what} has {len(text)} characters (limit {max_chars})", f"shorten the {what}")
    bad = _CONTROL_RE.search(text) or (None if multiline else re.search(r"[\n\r\t]", text))
    if bad:
        raise UnsafeInputError(source, f"the {what} contains the control character {bad.group()!r}", f"remove control characters from the {what}")
    return text


def _quote(name: str) -> str:
    """Quote an identifier that already passed :func:`check_layer_name` (defence in depth)."""
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------------------------
# GeoPackage geometry blobs: "GP", version 0, flags, srs_id, envelope [minx maxx miny maxy], WKB


def _gpkg_blob(geom: shapely.Geometry, srs_id: int) -> bytes:
    minx, miny, maxx, maxy = geom.bounds
    # flags 0b00000011: little-endian header, envelope indicator 1 (xy), not empty, standard
    header = struct.pack("<2sBBi4d", b"GP", 0, 0b00000011, srs_id, minx, maxx, miny, maxy)
    return header + shapely.to_wkb(geom, byte_order=1, output_dimension=2, flavor="iso")


_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def _gpkg_wkb(blob: bytes) -> bytes:
    if blob is None or len(blob) < 8 or blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry blob")
    indicator = (blob[3] >> 1) & 0b111
    if indicator not in _ENVELOPE_BYTES:
        raise ValueError(f"bad envelope indicator {indicator}")
    return bytes(blob[8 + _ENVELOPE_BYTES[indicator]:])


def _blob_is_empty(blob: bytes | None) -> int:
    if blob is None:
        return 1
    if (blob[3] >> 4) & 1:
        return 1
    return int(shapely.from_wkb(_gpkg_wkb(blob)).is_empty)


def _blob_bound(i: int) -> Any:
    def f(blob: bytes | None) -> float | None:
        if blob is None or _blob_is_empty(blob):
            return None
        b = shapely.from_wkb(_gpkg_wkb(blob)).bounds  # minx, miny, maxx, maxy
        return float(b[i])
    return f


# --------------------------------------------------------------------------------------------
# content hash


def _content_sha256(*, crs_epsg: int, id_field: str, columns: Sequence[Sequence[str]], rows: Sequence[tuple[str, str, bytes]]) -> str:
    """sha256 of a version's content; ``rows`` are (feature id, attribute JSON, WKB)."""
    digest = hashlib.sha256()
    head = {"crs": f"EPSG:{crs_epsg}", "id_field": id_field, "columns": [list(c) for c in columns]}
    digest.update(json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
    for fid, attrs, wkb in sorted(rows, key=lambda r: r[0]):
        digest.update(json.dumps([fid, attrs, bytes(wkb).hex()], ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# attributes <-> JSON


def _column_kind(series: pd.Series) -> str:
    dt = series.dtype
    if pd.api.types.is_bool_dtype(dt):
        return "bool"
    if pd.api.types.is_integer_dtype(dt):
        return "int"
    if pd.api.types.is_float_dtype(dt):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dt):
        return "datetime"
    if isinstance(dt, pd.StringDtype):
        return "str"
    if all(isinstance(v, str) for v in series if not _is_missing(v)):
        return "str"
    return "object"


def _is_missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, (float, np.floating)) and math.isnan(v):
        return True
    return False


def _json_value(v: Any, *, column: str, fid: str, source: str) -> Any:
    if _is_missing(v):
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        if math.isinf(v):
            raise SchemaError(source, f"column '{column}' of feature '{fid}' is infinite", "enter a finite number or leave it blank")
        return float(v)
    if isinstance(v, str):
        return v
    if isinstance(v, np.datetime64):
        v = pd.Timestamp(v)
        if v is pd.NaT:
            return None
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    raise SchemaError(
        source,
        f"column '{column}' of feature '{fid}' holds a {type(v).__name__}, which the store does not keep",
        "store numbers, text, true/false or dates (convert lists or objects to text first)",
    )


def _restore_column(values: list[Any], kind: str) -> pd.Series:
    has_null = any(v is None for v in values)
    try:
        if kind == "int":
            return pd.Series(values, dtype="Int64" if has_null else "int64")
        if kind == "float":
            return pd.Series([np.nan if v is None else v for v in values], dtype="float64")
        if kind == "bool":
            return pd.Series(values, dtype="boolean" if has_null else "bool")
        if kind == "datetime":
            return pd.Series(pd.to_datetime(pd.Series(values, dtype="object"), format="ISO8601"))
        if kind == "str":
            return pd.Series(values, dtype="str")
    except (TypeError, ValueError, OverflowError):
        pass
    return pd.Series(values, dtype="object")


# --------------------------------------------------------------------------------------------
# the workspace: what every backend shares


class WorkspaceBase:
    """The backend-independent part of a workspace: argument checks, input validation and
    repairs, CRS transforms, attribute encoding, content hashes, conflicts, version records,
    exports and verification. A backend (:class:`Workspace` for a GeoPackage file,
    :class:`geodata.store_pg.PostgisWorkspace` for PostGIS) provides transactions and the
    storage of rows through the small ``_``-prefixed hooks below; the public methods and their
    results are the same for both.
    """

    crs_epsg: int
    read_only: bool
    busy_timeout_s: float
    backend = "?"
    _read_only_fix = "open it writable to save, restore or export"

    # -- backend hooks -----------------------------------------------------------------------

    def _transaction(self, *, write: bool, source: str) -> Any:  # pragma: no cover - abstract
        """A context manager yielding a connection inside one transaction."""
        raise NotImplementedError

    def _where(self) -> str:  # pragma: no cover - abstract
        """A short name of the workspace for messages (never a password)."""
        raise NotImplementedError

    @property
    def identity(self) -> str:  # pragma: no cover - abstract
        """Which workspace this is, unique on this machine (a cache key; never a password)."""
        raise NotImplementedError

    def _lock_layer(self, con: Any, layer: str) -> None:
        """Serialize writers of ``layer`` inside a write transaction (GeoPackage: the file lock
        taken by ``BEGIN IMMEDIATE`` already does)."""

    def _ensure_layer(self, con: Any, layer: str, source: str) -> None:
        """Create the storage of a layer on its first save (when the backend needs any)."""

    def _layer_names(self, con: Any) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _version(self, con: Any, layer: str, version: int | None) -> VersionInfo | None:  # pragma: no cover
        """The record of ``version`` (``None``: the latest), or None when there is none."""
        raise NotImplementedError

    def _versions(self, con: Any, layer: str) -> list[VersionInfo]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _feature_rows(self, con: Any, layer: str, version: int) -> list[tuple[str, str, bytes]]:  # pragma: no cover
        """(feature id, attribute JSON, 2-D ISO WKB) of a version, in insertion order."""
        raise NotImplementedError

    def _insert_features(self, con: Any, layer: str, version: int, prepared: _Prepared) -> list[tuple[str, str, bytes]]:  # pragma: no cover
        """Insert a version's features; return their (id, attribute JSON, WKB) as stored."""
        raise NotImplementedError

    def _copy_features(self, con: Any, layer: str, new: int, old: int) -> list[tuple[str, str, bytes]]:  # pragma: no cover
        """Copy the features of version ``old`` into version ``new``; return the new rows."""
        raise NotImplementedError

    def _insert_version(self, con: Any, info: VersionInfo, bounds: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _export_recorded(self, con: Any, sha: str) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def _insert_export(self, con: Any, *, layer: str, version: int, fmt: str, crs_epsg: int, path: str, sha: str, at: datetime) -> None:  # pragma: no cover
        raise NotImplementedError

    def _integrity_problems(self) -> list[str]:
        """Problems of the storage itself (GeoPackage: ``PRAGMA integrity_check``)."""
        return []

    # -- shared ------------------------------------------------------------------------------

    def _refuse_read_only(self, source: str) -> None:
        if self.read_only:
            raise DataError(source, "the workspace was opened read-only", self._read_only_fix)

    def _label(self, layer: str, source: str | None = None) -> str:
        where = f"{self._where()}, layer '{layer}'"
        return f"{source} (saving to {where})" if source else where

    def layers(self) -> tuple[str, ...]:
        """Names of the layers that have at least one version."""
        with self._transaction(write=False, source=self._where()) as con:
            return tuple(self._layer_names(con))

    def _latest(self, con: Any, layer: str) -> VersionInfo | None:
        return self._version(con, layer, None)

    def _info(self, con: Any, layer: str, version: int | None) -> VersionInfo:
        label = self._label(layer)
        latest = self._latest(con, layer)
        if latest is None:
            names = self._layer_names(con)
            raise DataError(label, f"the workspace has no layer '{layer}' (layers: {names or 'none yet'})", "save a first version, or name one of those layers")
        if version is None:
            return latest
        if isinstance(version, bool) or not isinstance(version, (int, np.integer)) or not 1 <= int(version) <= latest.version:
            raise DataError(label, f"there is no version {version!r} (versions 1..{latest.version})", f"choose a version between 1 and {latest.version}")
        found = self._version(con, layer, int(version))
        assert found is not None  # 1..latest are gap-free (a trigger checks it)
        return found

    def info(self, layer: str, version: int | None = None) -> VersionInfo:
        """The record of one version (the latest by default)."""
        check_layer_name(layer)
        with self._transaction(write=False, source=self._label(layer)) as con:
            return self._info(con, layer, version)

    def history(self, layer: str) -> tuple[VersionInfo, ...]:
        """Every version of ``layer``, oldest first, as immutable records."""
        check_layer_name(layer)
        with self._transaction(write=False, source=self._label(layer)) as con:
            self._info(con, layer, None)  # raises for an unknown layer
            return tuple(self._versions(con, layer))

    def load(self, layer: str, version: int | None = None, *, verify: bool = True) -> gpd.GeoDataFrame:
        """A version of ``layer`` (latest by default) as a GeoDataFrame in the workspace CRS.

        Columns: the id column, the attribute columns in their saved order and dtypes, geometry
        (MultiPolygon). ``gdf.attrs`` holds ``store_layer``, ``store_version`` and
        ``store_sha256`` (pass ``store_version`` as ``expected_parent`` when saving edits).
        With ``verify`` the content hash is recomputed and must match the version record.
        """
        check_layer_name(layer)
        label = self._label(layer)
        with self._transaction(write=False, source=label) as con:
            info = self._info(con, layer, version)
            rows = self._feature_rows(con, layer, info.version)
        wkbs = [r[2] for r in rows]
        if verify:
            got = _content_sha256(crs_epsg=self.crs_epsg, id_field=info.id_field, columns=info.columns, rows=rows)
            if got != info.sha256 or len(rows) != info.feature_count:
                raise DataError(
                    label,
                    f"version {info.version} no longer matches its record ({len(rows)} features, sha256 {got[:12]}..., recorded {info.feature_count} features, {info.sha256[:12]}...): the {self._storage_noun} was changed outside the store",
                    f"restore the workspace {self._storage_noun} from a backup, or re-import the version from an earlier export",
                )
        attrs = [json.loads(r[1]) for r in rows]
        data: dict[str, Any] = {info.id_field: pd.Series([r[0] for r in rows], dtype="str")}
        for name, kind in info.columns:
            data[name] = _restore_column([a.get(name) for a in attrs], kind)
        gdf = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(shapely.from_wkb(wkbs) if wkbs else [], crs=f"EPSG:{self.crs_epsg}"), crs=f"EPSG:{self.crs_epsg}")
        gdf.attrs.update(store_layer=layer, store_version=info.version, store_sha256=info.sha256)
        return gdf

    _storage_noun = "workspace"

    # -- writing -----------------------------------------------------------------------------

    def save(
        self,
        layer: str,
        gdf: gpd.GeoDataFrame,
        *,
        author: str,
        reason: str,
        id_field: str = "feature_id",
        expected_parent: int | None = None,
        coord_system: CoordSystem | str = CoordSystem.WGS84,
        within: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
        within_tolerance_m2: float = 1.0,
        min_area_m2: float = 1.0,
        source: str | None = None,
    ) -> SaveResult:
        """Store ``gdf`` as a new version of ``layer`` (the layer is created on its first save).

        Parameters
        ----------
        id_field
            Column with a unique, non-empty id per feature (stored as text).
        expected_parent
            The version the edit is based on (0 = the layer must not exist yet). When another
            version was saved meanwhile, :class:`ConflictError` is raised and nothing is written.
            ``None`` appends after whatever is latest.
        coord_system
            What system lon/lat input really is in: ``"wgs84"`` (also CGCS2000), ``"gcj02"``
            (Amap/Gaode) or ``"bd09"`` (Baidu); the latter two are converted on import.
        within, within_tolerance_m2
            A study area (GeoDataFrame/GeoSeries with a CRS): features with more than this many
            m2 outside it are refused.
        min_area_m2
            Features smaller than this (slivers, degenerate outlines) are refused.
        source
            Name of the file or upload the features came from, for messages.

        Returns
        -------
        SaveResult
            The new version's record, the repairs made, and any CRS transform or conversion.
        """
        check_layer_name(layer)
        label = self._label(layer, source)
        author = _clean_text(author, what="author", source=label, max_chars=MAX_AUTHOR_CHARS, multiline=False)
        reason = _clean_text(reason, what="reason", source=label, max_chars=MAX_REASON_CHARS, multiline=True)
        if expected_parent is not None and (isinstance(expected_parent, bool) or not isinstance(expected_parent, (int, np.integer)) or expected_parent < 0):
            raise DataError(label, f"expected_parent must be a version number >= 0, got {expected_parent!r}", "pass the store_version of the layer you loaded (0 for a new layer)")
        self._refuse_read_only(label)
        prepared = self._prepare(gdf, label=label, id_field=id_field, coord_system=coord_system, within=within, within_tolerance_m2=within_tolerance_m2, min_area_m2=min_area_m2)
        with self._transaction(write=True, source=label) as con:
            self._lock_layer(con, layer)
            latest = self._check_parent(con, layer, expected_parent, label)
            self._ensure_layer(con, layer, label)
            version = (latest.version if latest else 0) + 1
            hash_rows = self._insert_features(con, layer, version, prepared)
            sha = _content_sha256(crs_epsg=self.crs_epsg, id_field=prepared.id_field, columns=prepared.columns, rows=hash_rows)
            info = self._append_version(
                con, layer=layer, version=version, author=author, reason=reason, feature_count=len(hash_rows),
                parent=latest.version if latest else None, restored_from=None, sha=sha, id_field=prepared.id_field,
                columns=prepared.columns, repaired_ids=tuple(r.feature_id for r in prepared.repairs),
                bounds=shapely.total_bounds(np.asarray(prepared.geoms, dtype=object)),
            )
        return SaveResult(info=info, repairs=prepared.repairs, transformed_from=prepared.transformed_from, converted_from=prepared.converted_from, dropped_z=prepared.dropped_z)

    def restore(self, layer: str, version: int, *, author: str, reason: str, expected_parent: int | None = None) -> VersionInfo:
        """Append a new version of ``layer`` whose content equals ``version`` (same sha256)."""
        check_layer_name(layer)
        label = self._label(layer)
        self._refuse_read_only(label)
        author = _clean_text(author, what="author", source=label, max_chars=MAX_AUTHOR_CHARS, multiline=False)
        reason = _clean_text(reason, what="reason", source=label, max_chars=MAX_REASON_CHARS, multiline=True)
        with self._transaction(write=True, source=label) as con:
            self._lock_layer(con, layer)
            old = self._info(con, layer, version)
            latest = self._check_parent(con, layer, expected_parent, label)
            new = latest.version + 1
            rows = self._copy_features(con, layer, new, old.version)
            sha = _content_sha256(crs_epsg=self.crs_epsg, id_field=old.id_field, columns=old.columns, rows=rows)
            if sha != old.sha256:
                raise DataError(label, f"version {old.version} no longer matches its recorded sha256: the {self._storage_noun} was changed outside the store", f"restore the workspace {self._storage_noun} from a backup")
            return self._append_version(
                con, layer=layer, version=new, author=author, reason=reason, feature_count=len(rows), parent=latest.version,
                restored_from=old.version, sha=sha, id_field=old.id_field, columns=old.columns, repaired_ids=(), bounds=None,
            )

    def _check_parent(self, con: Any, layer: str, expected_parent: int | None, label: str) -> VersionInfo | None:
        latest = self._latest(con, layer)
        latest_no = latest.version if latest else 0
        if expected_parent is None or expected_parent == latest_no:
            return latest
        if expected_parent > latest_no:
            raise DataError(label, f"the edit is based on version {expected_parent}, but the layer has only {latest_no} version(s)", "load the layer from this workspace and edit that version")
        assert latest is not None
        nxt = self._version(con, layer, expected_parent + 1)
        assert nxt is not None
        later = f"; the latest is version {latest.version} by {latest.author} at {_iso(latest.saved_at)}" if latest.version != nxt.version else ""
        raise ConflictError(
            label,
            f"your edit is based on version {expected_parent}, but {nxt.author} saved version {nxt.version} at {_iso(nxt.saved_at)} UTC (reason: {nxt.reason}){later}; nothing was saved",
            f"merge: load the latest version (Workspace.load('{layer}'), version {latest.version}), re-apply your edits to it and save again with expected_parent={latest.version}",
            expected_parent=expected_parent,
            latest=latest,
        )

    def _append_version(self, con: Any, *, layer: str, version: int, author: str, reason: str, feature_count: int,
                        parent: int | None, restored_from: int | None, sha: str, id_field: str, columns: tuple[tuple[str, str], ...],
                        repaired_ids: tuple[str, ...], bounds: Any) -> VersionInfo:
        info = VersionInfo(
            layer=layer, version=version, author=author, saved_at=_parse_iso(_iso(_utcnow())), reason=reason, feature_count=feature_count,
            parent_version=parent, restored_from=restored_from, sha256=sha, id_field=id_field, columns=tuple(columns),
            repaired_ids=tuple(repaired_ids),
        )
        self._insert_version(con, info, bounds)
        return info

    # -- validation of input -----------------------------------------------------------------

    def _prepare(self, gdf: Any, *, label: str, id_field: str, coord_system: CoordSystem | str,
                 within: Any, within_tolerance_m2: float, min_area_m2: float) -> _Prepared:
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise DataError(label, f"expected a GeoDataFrame, got {type(gdf).__name__}", "read the file with geodata.vectors.read_vector or geopandas first")
        if len(gdf) == 0:
            raise DataError(label, "the layer has no features", "draw at least one polygon; the store keeps every earlier version anyway")
        if gdf._geometry_column_name not in gdf.columns:
            raise SchemaError(label, "the GeoDataFrame has no active geometry column", "set one with GeoDataFrame.set_geometry")
        crs = require_crs(gdf.crs, label)
        if not isinstance(id_field, str) or id_field not in gdf.columns or id_field == gdf.geometry.name:
            raise SchemaError(label, f"it has no id column '{id_field}' (columns: {', '.join(map(str, gdf.columns))})", "name the column that identifies each polygon with id_field=, or add one")
        ids_raw = list(gdf[id_field])
        blank = [i for i, v in enumerate(ids_raw) if _is_missing(v) or str(v).strip() == ""]
        if blank:
            raise SchemaError(label, f"column '{id_field}' is empty in rows {blank[:20]}", "give every polygon an id")
        ids = [str(v) for v in ids_raw]
        dup = sorted(i for i, n in Counter(ids).items() if n > 1)
        if dup:
            raise SchemaError(label, f"column '{id_field}' repeats the ids {dup[:20]}", "make the ids unique (one row per polygon)")
        long_ids = [i for i in ids if len(i) > MAX_ID_CHARS or _CONTROL_RE.search(i)]
        if long_ids:
            raise UnsafeInputError(label, f"ids longer than {MAX_ID_CHARS} characters or with control characters: {[i[:40] for i in long_ids[:5]]}", "use short printable ids")

        geoms = np.asarray(gdf.geometry.values, dtype=object)
        missing = [fid for fid, g in zip(ids, geoms) if g is None or g.is_empty]
        if missing:
            raise GeometryError(label, f"features {missing[:50]} have no geometry (missing or empty)", "draw them, or remove those rows")
        wrong = [(fid, g.geom_type) for fid, g in zip(ids, geoms) if g.geom_type not in ("Polygon", "MultiPolygon")]
        if wrong:
            raise GeometryError(label, f"only polygons are stored; features {[f'{f} ({t})' for f, t in wrong[:50]]} are not", "draw areas as polygons, or buffer points/lines into polygons first")

        # columns -> JSON
        geom_cols = [c for c in gdf.columns if c != gdf.geometry.name and isinstance(gdf[c].dtype, gpd.array.GeometryDtype)]
        if geom_cols:
            raise SchemaError(label, f"columns {geom_cols} hold geometries besides the active geometry", "drop them, or convert them to text (WKT) first")
        attr_cols = [c for c in gdf.columns if c not in (id_field, gdf.geometry.name)]
        names = [str(c) for c in attr_cols]
        if len(set(names)) != len(names) or id_field in names:
            raise SchemaError(label, f"column names repeat once turned into text: {names}", "rename the columns so each name is unique")
        columns = tuple((n, _column_kind(gdf[c])) for n, c in zip(names, attr_cols))
        attrs_json = []
        values = {n: list(gdf[c]) for n, c in zip(names, attr_cols)}
        for row, fid in enumerate(ids):
            rec = {n: _json_value(values[n][row], column=n, fid=fid, source=label) for n in names}
            attrs_json.append(json.dumps(rec, ensure_ascii=False, separators=(",", ":"), allow_nan=False))

        # coordinates: GCJ-02 / BD-09, then the workspace CRS, then 2-D
        system = CoordSystem(coord_system)
        converted = None
        if crs.is_geographic:
            check_lonlat_bounds(tuple(shapely.total_bounds(geoms)), label)
        if system is not CoordSystem.WGS84:
            if not crs.is_geographic:
                raise DataError(label, f"it is in projected {crs.to_string()}, but GCJ-02/BD-09 are lon/lat systems", "choose 'wgs84' as the source system for projected data")
            geoms = np.asarray(to_wgs84_geometries(geoms, system), dtype=object)
            crs = CRS.from_epsg(4326)
            converted = system.value
        if shapely.has_z(geoms).any():
            geoms = np.asarray(shapely.force_2d(geoms), dtype=object)
            dropped_z = True
        else:
            dropped_z = False
        # validity, in the coordinates as drawn (a degenerate outline stays degenerate there)
        geoms, repairs = _repair(geoms, crs=crs, ids=ids, label=label)
        store_crs = CRS.from_epsg(self.crs_epsg)
        transformed = None
        if crs != store_crs:
            transformed = crs.to_string()
            geoms = np.asarray(gpd.GeoSeries(geoms, crs=crs).to_crs(store_crs).values, dtype=object)
            if not np.isfinite(shapely.total_bounds(geoms)).all():
                raise DataError(label, f"the transform from {transformed} to EPSG:{self.crs_epsg} gave non-finite coordinates", "check that the declared CRS is right")
        # and again in the workspace CRS, in case the transform made a near-touching ring cross
        geoms, more = _repair(geoms, crs=store_crs, ids=ids, label=label)
        repairs.extend(r for r in more if r.feature_id not in {x.feature_id for x in repairs})
        area_m2 = gpd.GeoSeries(geoms, crs=store_crs).to_crs(ANALYSIS_CRS).area.to_numpy()
        tiny = [f"{fid} ({a:.3g} m2)" for fid, a in zip(ids, area_m2) if not a >= min_area_m2]
        if tiny:
            raise GeometryError(label, f"features {tiny[:50]} have less than {min_area_m2:g} m2 of area (slivers or degenerate outlines)", "redraw them as proper polygons, or remove them")

        geoms = np.asarray([g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) for g in geoms], dtype=object)

        if within is not None:
            self._check_within(geoms, ids, within, label=label, tolerance_m2=within_tolerance_m2)
        return _Prepared(
            ids=tuple(ids), attrs_json=tuple(attrs_json), geoms=tuple(geoms), id_field=id_field, columns=columns,
            repairs=tuple(repairs), transformed_from=transformed, converted_from=converted, dropped_z=dropped_z,
        )

    def _check_within(self, geoms: np.ndarray, ids: list[str], within: Any, *, label: str, tolerance_m2: float) -> None:
        if not isinstance(within, (gpd.GeoDataFrame, gpd.GeoSeries)):
            raise DataError(label, f"the study area must be a GeoDataFrame or GeoSeries with a CRS, got {type(within).__name__}", "wrap it: geopandas.GeoSeries([polygon], crs='EPSG:4490')")
        area_crs = require_crs(within.crs, f"{label}: study area")
        area = gpd.GeoSeries(within.geometry.values if isinstance(within, gpd.GeoDataFrame) else within.values, crs=area_crs)
        area = area[~(area.isna() | area.is_empty)]
        if len(area) == 0:
            raise DataError(label, "the study area has no geometry", "give a study-area polygon")
        study = shapely.union_all(shapely.make_valid(np.asarray(area.to_crs(ANALYSIS_CRS).values, dtype=object)))
        feats = np.asarray(gpd.GeoSeries(geoms, crs=CRS.from_epsg(self.crs_epsg)).to_crs(ANALYSIS_CRS).values, dtype=object)
        outside_m2 = shapely.area(shapely.difference(feats, study))
        bad = [f"{fid} ({a:,.1f} m2 outside)" for fid, a in zip(ids, outside_m2) if a > tolerance_m2]
        if bad:
            raise GeometryError(label, f"features {bad} lie (partly) outside the study area", "move or clip them to the study area, or choose the right study area")


    # -- export ------------------------------------------------------------------------------

    def export(self, layer: str, out_path: str | Path, *, version: int | None = None, fmt: str | None = None, crs: int | None = None) -> ExportResult:
        """Write a version (latest by default) to ``out_path`` atomically.

        ``fmt`` is "gpkg", "geojson" or "shp.zip" (inferred from the suffix when omitted: .gpkg,
        .geojson/.json, .zip); ``crs`` is 4490 or 4326 (default: the workspace CRS). An existing
        ``out_path`` is replaced only when it is byte-identical to an earlier export recorded in
        this workspace; anything else there is refused.
        """
        check_layer_name(layer)
        out = Path(out_path)
        label = f"{out} (export of {self._where()}, layer '{layer}')"
        self._refuse_read_only(label)
        fmt = _export_format(out, fmt, label)
        epsg = self.crs_epsg if crs is None else int(crs)
        if epsg not in STORE_CRS_CHOICES:
            raise DataError(label, f"export CRS EPSG:{crs} is not offered", f"choose one of {', '.join(f'EPSG:{c}' for c in STORE_CRS_CHOICES)}")
        if out.exists() and not out.is_file():
            raise DataError(label, "the target exists and is not a file", "choose a file name")
        gdf = self.load(layer, version)
        info_version = int(gdf.attrs["store_version"])
        if epsg != self.crs_epsg:
            gdf = gdf.to_crs(epsg=epsg)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:12]}.tmp{'.zip' if fmt == 'shp.zip' else out.suffix}")
        try:
            _write_export(gdf, tmp, fmt=fmt, layer=layer, stem=_stem(out))
            sha = sha256_file(tmp)
            with self._transaction(write=True, source=label) as con:
                self._lock_layer(con, _EXPORTS_LOCK)  # exporters queue (GeoPackage: the file lock)
                replaced = False
                if out.exists():
                    old_sha = sha256_file(out)
                    if not self._export_recorded(con, old_sha):
                        raise DataError(label, "the file exists and is not an unchanged earlier export of this workspace", "choose a new file name, or move the existing file away first")
                    replaced = True
                os.replace(tmp, out)
                self._insert_export(con, layer=layer, version=info_version, fmt=fmt, crs_epsg=epsg, path=str(out.resolve()), sha=sha, at=_utcnow())
        finally:
            if tmp.exists():
                tmp.unlink()
        return ExportResult(path=out, layer=layer, version=info_version, fmt=fmt, crs_epsg=epsg, sha256=sha, feature_count=len(gdf), replaced_earlier_export=replaced)

    # -- checks ------------------------------------------------------------------------------

    def verify(self) -> list[str]:
        """Problems found in the workspace (an empty list when it is sound): the storage's own
        checks, gap-free versions per layer, feature counts and content hashes of every version."""
        problems = list(self._integrity_problems())
        for layer in self.layers():
            hist = self.history(layer)
            numbers = [v.version for v in hist]
            if numbers != list(range(1, len(numbers) + 1)):
                problems.append(f"layer '{layer}': versions are not 1..{len(numbers)} without gaps: {numbers}")
            for v in hist:
                try:
                    self.load(layer, v.version, verify=True)
                except DataError as exc:
                    problems.append(f"layer '{layer}' version {v.version}: {exc.problem}")
        return problems


_EXPORTS_LOCK = "store_exports"  # a lock name no layer can have (the prefix is reserved)


class Workspace(WorkspaceBase):
    """A versioned GeoPackage workspace. Holds only a path and settings: cheap, picklable,
    safe to share between threads and processes (each call opens its own connection).

    Parameters
    ----------
    path
        The ``.gpkg`` file; created with the store tables when missing. An existing GeoPackage
        without the store tables gets them added (its other tables are left alone).
    crs
        EPSG code of the stored geometries, 4490 (CGCS2000, the default for a new file) or 4326.
        For an existing workspace, ``None`` means "whatever it was created with"; another value
        than that is refused.
    busy_timeout_s
        How long a writer waits for another writer before :class:`StoreBusyError`.
    read_only
        Open an existing workspace without ever writing to the file (SQLite ``mode=ro``): a
        missing file is refused instead of created, a GeoPackage without the store tables is
        refused (:class:`NotAWorkspaceError`) instead of getting them, and ``save``, ``restore``
        and ``export`` are refused. See :meth:`open_existing`.
    """

    def __init__(self, path: str | Path, *, crs: int | None = None, busy_timeout_s: float = 30.0, read_only: bool = False) -> None:
        self.path = Path(path)
        self.busy_timeout_s = float(busy_timeout_s)
        self.read_only = bool(read_only)
        if self.path.suffix.lower() != ".gpkg":
            raise DataError(self.path, "a workspace must be a GeoPackage file ending in .gpkg", "name the workspace file '<something>.gpkg'")
        if self.path.exists() and not self.path.is_file():
            raise DataError(self.path, "the path exists and is not a file", "choose a .gpkg file path")
        if crs is not None and int(crs) not in STORE_CRS_CHOICES:
            raise DataError(self.path, f"the workspace CRS EPSG:{crs} is not offered", f"choose one of {', '.join(f'EPSG:{c}' for c in STORE_CRS_CHOICES)} (4490 = CGCS2000)")
        existed = self.path.exists()
        if self.read_only:
            self.crs_epsg = self._open_read_only(int(crs) if crs is not None else None)
            return
        if existed:
            self._check_is_geopackage()
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.crs_epsg = self._initialise(int(crs) if crs is not None else None, existed)

    @classmethod
    def open_existing(cls, path: str | Path, *, crs: int | None = None, busy_timeout_s: float = 30.0) -> "Workspace":
        """An existing workspace, read-only: the file is never modified (not even given the store
        tables). Raises :class:`DataError` for a missing file and :class:`NotAWorkspaceError`
        for a GeoPackage without the store tables."""
        return cls(path, crs=crs, busy_timeout_s=busy_timeout_s, read_only=True)

    def _open_read_only(self, crs: int | None) -> int:
        if not self.path.is_file():
            raise DataError(self.path, "the workspace file does not exist", "give the path of an existing workspace .gpkg")
        self._check_is_geopackage()
        with self._transaction(write=False, source=str(self.path)) as con:
            stored = self._stored_crs(con, crs, True)
        if stored is None:
            raise NotAWorkspaceError(self.path, "the GeoPackage is not a workspace (no store tables)",
                                     "give the workspace .gpkg the dashboard saves red lines to (it was left unchanged)")
        return stored

    backend = "gpkg"
    _read_only_fix = "open it with Workspace(path) to save, restore or export"
    _storage_noun = "file"

    def _where(self) -> str:
        return self.path.name

    @property
    def identity(self) -> str:
        return f"gpkg:{self.path.resolve()}"

    # -- connections -------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self.read_only:  # SQLite itself refuses any write, and never creates the file
            uri = self.path.resolve().as_uri() + "?mode=ro"
            con = sqlite3.connect(uri, uri=True, timeout=self.busy_timeout_s, isolation_level=None)
        else:
            con = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
        for i, name in enumerate(("ST_MinX", "ST_MinY", "ST_MaxX", "ST_MaxY")):
            con.create_function(name, 1, _blob_bound(i), deterministic=True)
        con.create_function("ST_IsEmpty", 1, _blob_is_empty, deterministic=True)
        return con

    @contextmanager
    def _transaction(self, *, write: bool, source: str) -> Iterator[sqlite3.Connection]:
        """One SQLite transaction: ``BEGIN IMMEDIATE`` for writes (writers queue on the file
        lock), a deferred read transaction (a consistent snapshot) for reads."""
        if write:
            self._refuse_read_only(source)
        con = self._connect()
        try:
            try:
                con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.OperationalError as exc:
                raise self._busy(exc, source) from exc
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
        except sqlite3.IntegrityError:
            raise
        except sqlite3.DatabaseError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise self._busy(exc, source) from exc
            raise DataError(self.path, f"SQLite cannot use the file ({exc})", "check that it is a GeoPackage workspace and not damaged (run Workspace.verify on a copy)") from exc
        finally:
            con.close()

    def _busy(self, exc: Exception, source: str) -> DataError:
        if "locked" in str(exc) or "busy" in str(exc):
            return StoreBusyError(
                source,
                f"the workspace stayed locked by another writer for more than {self.busy_timeout_s:g} s ({exc})",
                "try again in a moment; if it persists, look for a stuck program holding the file open",
            )
        return DataError(source, f"SQLite cannot open the workspace ({exc})", "check the path and the file permissions")

    # -- creation ----------------------------------------------------------------------------

    def _check_is_geopackage(self) -> None:
        with open(self.path, "rb") as fh:
            head = fh.read(100)
        if len(head) == 0:
            return  # an empty file (e.g. a racing creator): initialise it
        if not head.startswith(b"SQLite format 3\x00"):
            raise DataError(self.path, "the file is not a GeoPackage (not an SQLite database)", "choose a new .gpkg file name for the workspace")
        app_id = struct.unpack(">I", head[68:72])[0]
        if app_id not in (_GPKG_APPLICATION_ID, 0):
            raise DataError(self.path, f"the SQLite file is not a GeoPackage (application id {app_id:#x})", "choose a new .gpkg file name for the workspace")

    def _stored_crs(self, con: sqlite3.Connection, crs: int | None, existed: bool) -> int | None:
        """The workspace CRS when the store tables exist (checked against ``crs``), else None."""
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if existed and tables and "gpkg_contents" not in tables:
            raise DataError(self.path, "the SQLite file has no gpkg_contents table: it is not a GeoPackage", "choose a new .gpkg file name for the workspace")
        if "store_meta" not in tables:
            clash = sorted(tables & {"versions", "exports"})
            if clash:
                raise DataError(self.path, f"the GeoPackage already has tables {clash} that are not the store's", "choose a new .gpkg file name for the workspace")
            return None
        meta = dict(con.execute("SELECT key, value FROM store_meta"))
        stored = int(meta["crs_epsg"])
        if meta.get("store_format") != STORE_FORMAT:
            raise DataError(self.path, f"the workspace has store format {meta.get('store_format')} (this code reads {STORE_FORMAT})", "open it with the matching version of the software")
        if crs is not None and crs != stored:
            raise CRSMismatchError(self.path, f"the workspace stores EPSG:{stored}, not the requested EPSG:{crs}", f"open it with crs=None (or crs={stored}); export with crs={crs} to get that CRS")
        return stored

    def _initialise(self, crs: int | None, existed: bool) -> int:
        source = str(self.path)
        if existed:  # opening an existing workspace only reads (no write lock)
            with self._transaction(write=False, source=source) as con:
                stored = self._stored_crs(con, crs, existed)
            if stored is not None:
                return stored
        with self._transaction(write=True, source=source) as con:
            stored = self._stored_crs(con, crs, existed)  # again, under the lock: a racing creator
            if stored is not None:
                return stored
            epsg = crs if crs is not None else 4490
            con.execute(f"PRAGMA application_id = {_GPKG_APPLICATION_ID}")
            con.execute(f"PRAGMA user_version = {_GPKG_USER_VERSION}")
            for sql in _GPKG_CORE_DDL:
                con.execute(sql)
            self._ensure_srs(con, 4326)
            self._ensure_srs(con, epsg)
            for sql in _STORE_DDL:
                con.execute(sql)
            now = _iso(_utcnow())
            con.executemany("INSERT INTO store_meta (key, value) VALUES (?, ?)", [("store_format", STORE_FORMAT), ("crs_epsg", str(epsg)), ("created_at_utc", now)])
            for table, desc in (("versions", "geodata.store: one row per saved version (who, when, why, sha256)"), ("exports", "geodata.store: exports written from this workspace")):
                con.execute(
                    "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) VALUES (?, 'attributes', ?, ?, ?)",
                    (table, table, desc, now),
                )
            return epsg

    @staticmethod
    def _ensure_srs(con: sqlite3.Connection, epsg: int) -> None:
        crs = CRS.from_epsg(epsg)
        con.execute(
            "INSERT OR IGNORE INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, organization_coordsys_id, definition, description) VALUES (?, ?, 'EPSG', ?, ?, ?)",
            (crs.name, epsg, epsg, crs.to_wkt("WKT1_GDAL"), crs.name),
        )

    def _ensure_layer(self, con: sqlite3.Connection, layer: str, source: str) -> None:
        # SQLite names are case-insensitive: 'Redlines' written by GDAL would clash with 'redlines'
        exists = con.execute("SELECT 1 FROM sqlite_master WHERE lower(name)=?", (layer,)).fetchone() or con.execute(
            "SELECT 1 FROM gpkg_contents WHERE lower(table_name)=? OR lower(identifier)=?", (layer, layer)).fetchone()
        known = con.execute("SELECT 1 FROM versions WHERE layer=? LIMIT 1", (layer,)).fetchone()
        if exists and known:
            return
        if exists:
            raise SchemaError(source, f"the GeoPackage already has a table or layer named '{layer}' (any case) that is not a store layer", "choose another layer name")
        q = _quote(layer)
        con.execute(
            f"CREATE TABLE {q} ("
            "fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "
            f"{GEOM_COLUMN} MULTIPOLYGON NOT NULL, "
            "store_version INTEGER NOT NULL, "
            "feature_id TEXT NOT NULL, "
            "attrs_json TEXT NOT NULL, "
            "UNIQUE (store_version, feature_id))"
        )
        for op in ("UPDATE", "DELETE"):
            con.execute(
                f"CREATE TRIGGER {_quote(layer + '_store_no_' + op.lower())} BEFORE {op} ON {q} "
                "BEGIN SELECT RAISE(ABORT, 'geodata.store: stored versions are append-only'); END"
            )
        # a version is sealed once its versions row exists: no rows may join it afterwards (the
        # store inserts a version's rows first and its versions row last, in one transaction)
        con.execute(
            f"CREATE TRIGGER {_quote(layer + '_store_sealed')} BEFORE INSERT ON {q} "
            f"WHEN EXISTS (SELECT 1 FROM versions WHERE layer = '{layer}' AND version = NEW.store_version) "
            "BEGIN SELECT RAISE(ABORT, 'geodata.store: this version is sealed; save a new version through the store'); END"
        )
        con.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id) VALUES (?, 'features', ?, ?, ?, ?)",
            (layer, layer, "geodata.store versioned layer: the features of every version (filter on store_version)", _iso(_utcnow()), self.crs_epsg),
        )
        con.execute(
            "INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m) VALUES (?, ?, 'MULTIPOLYGON', ?, 0, 0)",
            (layer, GEOM_COLUMN, self.crs_epsg),
        )

    # -- row storage (the hooks of WorkspaceBase) ----------------------------------------------

    def _layer_names(self, con: sqlite3.Connection) -> list[str]:
        return [r[0] for r in con.execute("SELECT DISTINCT layer FROM versions ORDER BY layer")]

    def _version(self, con: sqlite3.Connection, layer: str, version: int | None) -> VersionInfo | None:
        if version is None:
            row = con.execute(f"SELECT {_VERSION_COLS} FROM versions WHERE layer=? ORDER BY version DESC LIMIT 1", (layer,)).fetchone()
        else:
            row = con.execute(f"SELECT {_VERSION_COLS} FROM versions WHERE layer=? AND version=?", (layer, int(version))).fetchone()
        return _version_from_row(row) if row else None

    def _versions(self, con: sqlite3.Connection, layer: str) -> list[VersionInfo]:
        rows = con.execute(f"SELECT {_VERSION_COLS} FROM versions WHERE layer=? ORDER BY version", (layer,)).fetchall()
        return [_version_from_row(r) for r in rows]

    def _feature_rows(self, con: sqlite3.Connection, layer: str, version: int) -> list[tuple[str, str, bytes]]:
        rows = con.execute(
            f"SELECT feature_id, attrs_json, {GEOM_COLUMN} FROM {_quote(layer)} WHERE store_version=? ORDER BY fid", (version,)
        ).fetchall()
        return [(r[0], r[1], _gpkg_wkb(r[2])) for r in rows]

    def _insert_features(self, con: sqlite3.Connection, layer: str, version: int, prepared: _Prepared) -> list[tuple[str, str, bytes]]:
        hash_rows: list[tuple[str, str, bytes]] = []

        def rows() -> Iterator[tuple[bytes, int, str, str]]:
            for fid, attrs, geom in zip(prepared.ids, prepared.attrs_json, prepared.geoms):
                blob = _gpkg_blob(geom, self.crs_epsg)
                hash_rows.append((fid, attrs, _gpkg_wkb(blob)))
                yield blob, version, fid, attrs

        con.executemany(f"INSERT INTO {_quote(layer)} ({GEOM_COLUMN}, store_version, feature_id, attrs_json) VALUES (?, ?, ?, ?)", rows())
        return hash_rows

    def _copy_features(self, con: sqlite3.Connection, layer: str, new: int, old: int) -> list[tuple[str, str, bytes]]:
        q = _quote(layer)
        con.execute(
            f"INSERT INTO {q} ({GEOM_COLUMN}, store_version, feature_id, attrs_json) "
            f"SELECT {GEOM_COLUMN}, ?, feature_id, attrs_json FROM {q} WHERE store_version=? ORDER BY fid",
            (new, old),
        )
        return self._feature_rows(con, layer, new)

    def _insert_version(self, con: sqlite3.Connection, info: VersionInfo, bounds: Any) -> None:
        now = _iso(info.saved_at)
        con.execute(
            "INSERT INTO versions (layer, version, author, saved_at_utc, reason, feature_count, parent_version, restored_from, sha256, id_field, columns_json, repaired_json) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (info.layer, info.version, info.author, now, info.reason, info.feature_count, info.parent_version, info.restored_from, info.sha256,
             info.id_field, json.dumps([list(c) for c in info.columns], ensure_ascii=False), json.dumps(list(info.repaired_ids), ensure_ascii=False)),
        )
        if bounds is not None:
            minx, miny, maxx, maxy = (float(b) for b in bounds)
            con.execute(
                "UPDATE gpkg_contents SET last_change=?, min_x=min(coalesce(min_x, ?), ?), min_y=min(coalesce(min_y, ?), ?), "
                "max_x=max(coalesce(max_x, ?), ?), max_y=max(coalesce(max_y, ?), ?) WHERE table_name=?",
                (now, minx, minx, miny, miny, maxx, maxx, maxy, maxy, info.layer),
            )
        else:
            con.execute("UPDATE gpkg_contents SET last_change=? WHERE table_name=?", (now, info.layer))

    def _export_recorded(self, con: sqlite3.Connection, sha: str) -> bool:
        return con.execute("SELECT 1 FROM exports WHERE sha256=? LIMIT 1", (sha,)).fetchone() is not None

    def _insert_export(self, con: sqlite3.Connection, *, layer: str, version: int, fmt: str, crs_epsg: int, path: str, sha: str, at: datetime) -> None:
        con.execute(
            "INSERT INTO exports (layer, version, fmt, crs_epsg, path, sha256, exported_at_utc) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (layer, version, fmt, crs_epsg, path, sha, _iso(at)),
        )

    def _integrity_problems(self) -> list[str]:
        with self._transaction(write=False, source=str(self.path)) as con:
            res = [r[0] for r in con.execute("PRAGMA integrity_check")]
        return [] if res == ["ok"] else [f"integrity_check: {r}" for r in res]


# --------------------------------------------------------------------------------------------
# module-level helpers used by the workspace


def _repair(geoms: np.ndarray, *, crs: CRS, ids: Sequence[str], label: str) -> tuple[np.ndarray, list[Repair]]:
    """Repair invalid polygons with ``make_valid`` when that keeps an unambiguous polygonal area.

    The "linework" repair (kept) and the "structure" repair must agree on the area (within
    0.01 m2 or 1 ppm): they do for bow-ties and spikes, not for an outline that covers part of
    itself twice (a hole, or not?). Lines and points a repair leaves have no area and are dropped.
    """
    invalid = ~shapely.is_valid(geoms)
    if not invalid.any():
        return geoms, []
    geoms = geoms.copy()
    idx = np.flatnonzero(invalid)
    lw = [_polygonal(shapely.make_valid(geoms[i], method="linework")) for i in idx]
    st = [_polygonal(shapely.make_valid(geoms[i], method="structure", keep_collapsed=False)) for i in idx]
    lw_m2 = gpd.GeoSeries([g for g, _ in lw], crs=crs).to_crs(ANALYSIS_CRS).area.to_numpy()
    st_m2 = gpd.GeoSeries([g for g, _ in st], crs=crs).to_crs(ANALYSIS_CRS).area.to_numpy()
    collapsed, ambiguous = [], []
    for k, i in enumerate(idx):
        why = shapely.is_valid_reason(geoms[i])
        if lw[k][0].is_empty or not lw_m2[k] > 0:
            collapsed.append(f"{ids[i]} ({why})")
        elif abs(lw_m2[k] - st_m2[k]) > max(0.01, 1e-6 * lw_m2[k]):
            ambiguous.append(f"{ids[i]} ({why}: {lw_m2[k]:.1f} or {st_m2[k]:.1f} m2)")
    if collapsed:
        raise GeometryError(label, f"features {collapsed[:50]} are invalid and have no area left after repair", "redraw them as proper polygons")
    if ambiguous:
        raise GeometryError(label, f"features {ambiguous[:50]} overlap themselves: a repair could mean either area", "redraw them so the outline does not cross itself")
    repairs = []
    for k, i in enumerate(idx):
        repairs.append(Repair(feature_id=ids[i], problem=shapely.is_valid_reason(geoms[i]), area_m2=float(lw_m2[k]), dropped=lw[k][1]))
        geoms[i] = lw[k][0]
    return geoms, repairs


def _polygonal(geom: shapely.Geometry) -> tuple[shapely.Geometry, tuple[str, ...]]:
    """The polygonal part of a repaired geometry and the types of the parts dropped."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom, ()
    parts = list(getattr(geom, "geoms", [geom]))
    keep = [p for p in parts if p.geom_type in ("Polygon", "MultiPolygon") and not p.is_empty]
    dropped = tuple(p.geom_type for p in parts if p.geom_type not in ("Polygon", "MultiPolygon"))
    return (shapely.union_all(keep) if keep else shapely.Polygon()), dropped


def _export_format(out: Path, fmt: str | None, label: str) -> str:
    name = out.name.lower()
    inferred = "gpkg" if name.endswith(".gpkg") else "geojson" if name.endswith((".geojson", ".json")) else "shp.zip" if name.endswith(".zip") else None
    if fmt is None:
        fmt = inferred
    if fmt not in EXPORT_FORMATS:
        raise DataError(label, f"export format {fmt!r} is not offered", f"choose one of {list(EXPORT_FORMATS)} (file endings .gpkg, .geojson, .shp.zip)")
    if inferred != fmt:
        want = {"gpkg": ".gpkg", "geojson": ".geojson", "shp.zip": ".shp.zip"}[fmt]
        raise DataError(label, f"the file name does not end like a {fmt} file", f"name the file '*{want}'")
    return fmt


def _stem(out: Path) -> str:
    name = out.name
    for suffix in (".shp.zip", ".zip", ".gpkg", ".geojson", ".json"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)] or "layer"
    return out.stem or "layer"


def _write_export(gdf: gpd.GeoDataFrame, tmp: Path, *, fmt: str, layer: str, stem: str) -> None:
    if fmt == "gpkg":
        pyogrio.write_dataframe(gdf, tmp, driver="GPKG", layer=layer)
    elif fmt == "geojson":
        pyogrio.write_dataframe(gdf, tmp, driver="GeoJSON", layer=layer)
    else:
        with tempfile.TemporaryDirectory(dir=tmp.parent, prefix=".shpexport.") as d:
            shp = Path(d) / f"{stem}.shp"
            pyogrio.write_dataframe(gdf, shp, driver="ESRI Shapefile", encoding="UTF-8")
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for part in sorted(Path(d).iterdir()):
                    zf.write(part, arcname=part.name)


_VERSION_COLS = (
    "layer, version, author, saved_at_utc, reason, feature_count, parent_version, restored_from, sha256, id_field, columns_json, repaired_json"
)


def _version_from_row(row: Sequence[Any]) -> VersionInfo:
    (layer, version, author, saved_at, reason, count, parent, restored, sha, id_field, columns_json, repaired_json) = row
    return VersionInfo(
        layer=layer, version=int(version), author=author, saved_at=_parse_iso(saved_at), reason=reason, feature_count=int(count),
        parent_version=None if parent is None else int(parent), restored_from=None if restored is None else int(restored),
        sha256=sha, id_field=id_field, columns=tuple((str(n), str(k)) for n, k in json.loads(columns_json)),
        repaired_ids=tuple(json.loads(repaired_json)),
    )


# GeoPackage 1.3 core tables (as in the specification, Annex C).
_GPKG_CORE_DDL = (
    "CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, "
    "organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)",
    "CREATE TABLE IF NOT EXISTS gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE, "
    "description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), "
    "min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER, "
    "CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))",
    "CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL, "
    "srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), "
    "CONSTRAINT uk_gc_table_name UNIQUE (table_name), "
    "CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name), "
    "CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))",
    "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system')",
    "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system')",
)

_APPEND_ONLY = "BEGIN SELECT RAISE(ABORT, 'geodata.store: the {t} table is append-only'); END"
_STORE_DDL = (
    "CREATE TABLE store_meta (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE versions (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, layer TEXT NOT NULL, version INTEGER NOT NULL CHECK (version >= 1), "
    "author TEXT NOT NULL, saved_at_utc TEXT NOT NULL, reason TEXT NOT NULL, feature_count INTEGER NOT NULL, parent_version INTEGER, "
    "restored_from INTEGER, sha256 TEXT NOT NULL, id_field TEXT NOT NULL, columns_json TEXT NOT NULL, repaired_json TEXT NOT NULL, "
    "UNIQUE (layer, version))",
    # gap-free numbering, checked by the database itself
    "CREATE TRIGGER versions_gap_free BEFORE INSERT ON versions "
    "WHEN NEW.version <> (SELECT coalesce(max(version), 0) + 1 FROM versions WHERE layer = NEW.layer) "
    "BEGIN SELECT RAISE(ABORT, 'geodata.store: version numbers must be gap-free'); END",
    "CREATE TRIGGER versions_no_update BEFORE UPDATE ON versions " + _APPEND_ONLY.format(t="versions"),
    "CREATE TRIGGER versions_no_delete BEFORE DELETE ON versions " + _APPEND_ONLY.format(t="versions"),
    "CREATE TABLE exports (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, layer TEXT NOT NULL, version INTEGER NOT NULL, fmt TEXT NOT NULL, "
    "crs_epsg INTEGER NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL, exported_at_utc TEXT NOT NULL)",
    "CREATE TRIGGER exports_no_update BEFORE UPDATE ON exports " + _APPEND_ONLY.format(t="exports"),
    "CREATE TRIGGER exports_no_delete BEFORE DELETE ON exports " + _APPEND_ONLY.format(t="exports"),
    "CREATE TRIGGER store_meta_no_update BEFORE UPDATE ON store_meta " + _APPEND_ONLY.format(t="store_meta"),
    "CREATE TRIGGER store_meta_no_delete BEFORE DELETE ON store_meta " + _APPEND_ONLY.format(t="store_meta"),
)
