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
    ws.backup("backups/redlines-2026-05-01.gpkg")                # verified copy, others may save meanwhile
    Workspace.restore_backup("backups/redlines-2026-05-01.gpkg", "workspace/redlines.gpkg")

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
- Store format (``STORE_FORMAT_VERSION``, kept in ``store_meta``) and ``MIGRATIONS``, steps
  (from, to, function): a writable open of an older workspace applies every step in ONE
  transaction (a failed step leaves the old format) and appends it to ``store_formats`` (format,
  from, UTC time, program); a read-only open never migrates and reads formats from
  ``OLDEST_READABLE_FORMAT`` on (older: "run ``python -m sinks workspace migrate``"); a format
  newer than this program's is refused ("upgrade the program"), never guessed at. A new workspace
  is created in format 1 by the frozen format-1 code and then migrated, so new and migrated
  workspaces are laid out alike. Format 2 added ``store_formats`` and an index on
  ``exports(sha256)``; the store_meta format row is the one thing a migration updates (the
  program of format 1 then refuses the file instead of writing to a layout it does not know).
- Backup and restore (:meth:`WorkspaceBase.backup`, :meth:`Workspace.restore_backup`,
  :func:`verify_backup`): a backup is a new GeoPackage workspace file on either backend, written
  beside its target, synced, verified (every version's hash) and renamed into place, with a
  ``.sha256`` beside it. A restore verifies the backup first and swaps the target atomically,
  keeping the replaced workspace (``<name>.before-restore-<UTC>.gpkg``).
- Backends: everything above that is not SQLite (input checks, repairs, CRS, attribute JSON,
  hashes, conflicts, exports, verify) is :class:`WorkspaceBase`; :class:`Workspace` adds the
  GeoPackage storage, :class:`geodata.store_pg.PostgisWorkspace` the PostGIS one (the server
  option), and :func:`geodata.workspace.open_workspace` chooses by ``DATABASE_URL``.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import sqlite3
import struct
import shutil
import tempfile
import time
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
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

STORE_FORMAT_VERSION = 2  # the store format this program writes (see MIGRATIONS)
STORE_FORMAT = str(STORE_FORMAT_VERSION)  # as kept in store_meta
OLDEST_READABLE_FORMAT = 1  # read-only opens read formats from here up without migrating
PROGRAM = "geodata.store (Jiangbei carbon-sink dashboard)"
MIGRATE_COMMAND = "python -m sinks workspace migrate"
BACKUP_CHECKSUM_SUFFIX = ".sha256"
STORE_CRS_CHOICES = (4490, 4326)
EXPORT_FORMATS = ("gpkg", "geojson", "shp.zip")
LAYER_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,47}")
RESERVED_NAMES = frozenset({"versions", "exports", "store_meta", "store_formats"})
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
class FormatChange:
    """One row of the store-format history (append-only): the format a workspace got, when, by what."""

    store_format: int
    from_format: int | None  # None: the workspace was created in this format
    at: datetime  # UTC
    program: str
    note: str


@dataclass(frozen=True)
class Migration:
    """One step of the store format: ``apply(workspace, connection)`` turns format ``from_format``
    into ``to_format`` inside the caller's transaction (every step of an open runs in ONE
    transaction, so a failed migration leaves the workspace in its old format)."""

    from_format: int
    to_format: int
    what: str
    apply: Callable[[Any, Any], None]


@dataclass(frozen=True)
class WorkspaceSummary:
    """What a workspace holds (``python -m sinks workspace info``; backup and restore results)."""

    where: str  # never a password
    backend: str
    store_format: int
    crs_epsg: int
    created_at: str  # UTC, ISO 8601
    layers: tuple[tuple[str, int, int], ...]  # (layer, versions, features of the latest)
    versions: int
    features: int  # feature rows stored, over every version
    exports: int


@dataclass(frozen=True)
class BackupResult:
    path: Path
    checksum_path: Path  # ``<backup>.sha256`` (``sha256sum -c`` reads it)
    sha256: str
    bytes: int
    seconds: float
    summary: WorkspaceSummary  # of the backup file


@dataclass(frozen=True)
class RestoreResult:
    backup: Path
    target: str  # the restored workspace (never a password)
    kept_previous: str | None  # where the workspace replaced by the restore was kept (file or schema)
    migrated_from: int | None  # the backup's format when it was older than this program's
    seconds: float
    summary: WorkspaceSummary  # of the restored workspace


Progress = Callable[[str, float], None]


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

    # store format, migrations and copies (backup / restore)

    store_format: int = STORE_FORMAT_VERSION  # the format of the store as opened
    migrated_from: int | None = None  # the format this open migrated from, if it did
    MIGRATIONS: tuple[Migration, ...] = ()  # this backend's steps, oldest first

    def _meta(self, con: Any) -> dict[str, str]:  # pragma: no cover - abstract
        """The ``store_meta`` rows."""
        raise NotImplementedError

    def _create_store_tables(self, con: Any, epsg: int, created_at: str) -> None:  # pragma: no cover - abstract
        """Create the store in format 1 exactly as format 1 was shipped (never edit: changes are
        new migrations), with ``store_meta`` saying format "1"; ``_create_store`` migrates it."""
        raise NotImplementedError

    def _set_format(self, con: Any, fmt: int) -> None:  # pragma: no cover - abstract
        """Record ``fmt`` as the store format in ``store_meta`` (append-only for everyone else)."""
        raise NotImplementedError

    def _format_rows(self, con: Any) -> list[FormatChange]:  # pragma: no cover - abstract
        """The ``store_formats`` history (format 2 on), oldest first."""
        raise NotImplementedError

    def _insert_format_change(self, con: Any, change: FormatChange) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _export_rows(self, con: Any) -> list[dict[str, Any]]:  # pragma: no cover - abstract
        """Every export record, oldest first, as keyword arguments of ``_insert_export``."""
        raise NotImplementedError

    def _write_backup(self, tmp: Path, progress: Progress) -> None:  # pragma: no cover - abstract
        """Write a GeoPackage workspace holding this workspace's content (one snapshot) to ``tmp``."""
        raise NotImplementedError

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
                # recorded first, the file put in place last: a failed insert leaves the old file; only a
                # failing commit (after the rename) could leave a file unrecorded
                self._insert_export(con, layer=layer, version=info_version, fmt=fmt, crs_epsg=epsg, path=str(out.resolve()), sha=sha, at=_utcnow())
                os.replace(tmp, out)
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
                except (ValueError, shapely.errors.ShapelyError) as exc:  # a damaged geometry blob
                    problems.append(f"layer '{layer}' version {v.version}: its rows cannot be read ({exc})")
        return problems


    # -- store format and migrations -----------------------------------------------------------

    def _check_store(self, meta: dict[str, str], crs: int | None, source: Any) -> tuple[int, int]:
        """(workspace CRS, store format) from ``store_meta``; refuses a format from a newer
        program and a CRS other than the requested one."""
        raw = meta.get("store_format")
        try:
            fmt = int(str(raw))
        except ValueError:
            fmt = 0
        if fmt < 1:
            raise DataError(source, f"the store format {raw!r} is not one this program wrote", "choose the workspace the dashboard saves red lines to")
        if fmt > STORE_FORMAT_VERSION:
            raise DataError(
                source,
                f"the workspace has store format {fmt}, newer than the formats this program knows (1..{STORE_FORMAT_VERSION}): a newer version of the program created or migrated it",
                "upgrade this program (update the code and reinstall its requirements) before opening it; nothing was changed",
            )
        stored = int(meta["crs_epsg"])
        if crs is not None and crs != stored:
            raise CRSMismatchError(source, f"the workspace stores EPSG:{stored}, not the requested EPSG:{crs}", f"open it with crs=None (or crs={stored}); export with crs={crs} to get that CRS")
        return stored, fmt

    def _opened_read_only(self, found: tuple[int, int]) -> int:
        """A read-only open reads older formats from OLDEST_READABLE_FORMAT on (it never migrates)."""
        epsg, fmt = found
        if fmt < OLDEST_READABLE_FORMAT:
            raise DataError(
                self._where(),
                f"the workspace has the old store format {fmt}, which this program reads only after migrating it to format {STORE_FORMAT_VERSION}",
                f"run `{MIGRATE_COMMAND} --workspace <this workspace>` once (every version is kept), then open it again",
            )
        self.store_format = fmt
        return epsg

    def _migration_path(self, found: int) -> list[Migration]:
        steps, fmt = [], found
        by_from = {m.from_format: m for m in self.MIGRATIONS}
        while fmt < STORE_FORMAT_VERSION:
            step = by_from.get(fmt)
            if step is None or step.to_format <= fmt:
                raise DataError(self._where(), f"this program has no migration from store format {fmt}", "open it with the program version that wrote it and make a backup; report the problem")
            steps.append(step)
            fmt = step.to_format
        return steps

    def _apply_migrations(self, con: Any, found: int, *, record: bool = True) -> None:
        """Bring the store from format ``found`` to the current one inside the caller's ONE
        transaction; with ``record`` each step is appended to the format history."""
        meta = self._meta(con)
        for step in self._migration_path(found):
            step.apply(self, con)
            self._set_format(con, step.to_format)
            if record:
                if step.from_format == 1:  # format 2 introduced the history: say when format 1 began
                    self._insert_format_change(con, _format_1_created(meta))
                self._insert_format_change(con, FormatChange(step.to_format, step.from_format, _utcnow(), PROGRAM, step.what))

    def _create_store(self, con: Any, epsg: int, *, created_at: str | None = None, history: Sequence[FormatChange] | None = None) -> None:
        """A new store in the current format: format 1, then every migration (one code path for
        new and migrated workspaces), then the format history (``history`` when copying)."""
        now = _utcnow()
        self._create_store_tables(con, epsg, created_at or _iso(now))
        self._apply_migrations(con, 1, record=False)
        for change in history or [FormatChange(STORE_FORMAT_VERSION, None, now, PROGRAM, "created")]:
            self._insert_format_change(con, change)

    def _migrate_or_create(self, con: Any, found: tuple[int, int] | None, crs: int | None) -> int:
        """Inside a write transaction (under the creators' lock): migrate an older store or create
        a new one; returns the workspace CRS."""
        if found is not None:
            epsg, fmt = found
            if fmt < STORE_FORMAT_VERSION:
                self._apply_migrations(con, fmt)
                self.migrated_from = fmt
        else:
            epsg = crs if crs is not None else 4490
            self._create_store(con, epsg)
        self.store_format = STORE_FORMAT_VERSION
        return epsg

    def _history_rows(self, con: Any, meta: dict[str, str]) -> list[FormatChange]:
        return self._format_rows(con) if int(meta["store_format"]) >= 2 else [_format_1_created(meta)]

    def format_history(self) -> tuple[FormatChange, ...]:
        """The store formats this workspace had, oldest first (format 1 kept no history: its row
        is made from ``created_at_utc``)."""
        with self._transaction(write=False, source=self._where()) as con:
            return tuple(self._history_rows(con, self._meta(con)))

    # -- what it holds, copies, backups --------------------------------------------------------

    def summary(self) -> WorkspaceSummary:
        """Format, CRS, layers (versions, features of the latest), totals and exports."""
        with self._transaction(write=False, source=self._where()) as con:
            return self._summary(con)

    def _summary(self, con: Any) -> WorkspaceSummary:
        meta = self._meta(con)
        layers, versions, features = [], 0, 0
        for layer in self._layer_names(con):
            hist = self._versions(con, layer)
            layers.append((layer, len(hist), hist[-1].feature_count))
            versions += len(hist)
            features += sum(v.feature_count for v in hist)
        return WorkspaceSummary(
            where=self._where(), backend=self.backend, store_format=int(meta["store_format"]), crs_epsg=int(meta["crs_epsg"]),
            created_at=meta.get("created_at_utc", "?"), layers=tuple(layers), versions=versions, features=features,
            exports=len(self._export_rows(con)),
        )

    @classmethod
    def _bare(cls, **attrs: Any) -> Any:
        """An instance that opens nothing (for a store this program is about to create by copying)."""
        ws = cls.__new__(cls)
        ws.busy_timeout_s, ws.read_only = 30.0, False
        ws.__dict__.update(attrs)
        return ws

    def _seed(self, con: Any) -> tuple[str, list[FormatChange]]:
        """(created_at_utc, format history) a copy of this store starts with: the history as it
        is, plus a row for the conversion when this store is of an older format."""
        meta = self._meta(con)
        history = self._history_rows(con, meta)
        fmt = int(meta["store_format"])
        if fmt < STORE_FORMAT_VERSION:
            history.append(FormatChange(STORE_FORMAT_VERSION, fmt, _utcnow(), PROGRAM, f"converted from format {fmt} while copied (backup or restore)"))
        return meta["created_at_utc"], history

    def _copy_into(self, con: Any, dst: "WorkspaceBase", dst_con: Any, progress: Progress) -> None:
        """Copy every version of every layer and every export record into the (new, empty) store
        ``dst`` with its hooks; each version's content hash is recomputed from the rows as
        stored in ``dst`` and must equal the record."""
        plan = [(layer, self._versions(con, layer)) for layer in self._layer_names(con)]
        total, done = max(1, sum(len(h) for _, h in plan)), 0
        for layer, hist in plan:
            dst._ensure_layer(dst_con, layer, dst._label(layer))
            for info in hist:
                rows = self._feature_rows(con, layer, info.version)
                geoms = tuple(shapely.from_wkb([r[2] for r in rows])) if rows else ()
                prepared = _Prepared(ids=tuple(r[0] for r in rows), attrs_json=tuple(r[1] for r in rows), geoms=geoms, id_field=info.id_field,
                                     columns=info.columns, repairs=(), transformed_from=None, converted_from=None, dropped_z=False)
                stored = dst._insert_features(dst_con, layer, info.version, prepared)
                sha = _content_sha256(crs_epsg=self.crs_epsg, id_field=info.id_field, columns=info.columns, rows=stored)
                if sha != info.sha256 or len(stored) != info.feature_count:
                    raise DataError(self._label(layer), f"version {info.version} no longer matches its record ({len(stored)} features, sha256 {sha[:12]}..., recorded {info.sha256[:12]}...); nothing was copied",
                                    f"run `python -m sinks workspace verify` on it; restore the {self._storage_noun} from an earlier backup")
                dst._insert_version(dst_con, info, shapely.total_bounds(np.asarray(geoms, dtype=object)) if geoms else None)
                done += 1
                progress(f"copying layer {layer}", done / total)
        for export in self._export_rows(con):
            dst._insert_export(dst_con, **export)

    def backup(self, dest: str | Path, *, progress: Progress | None = None) -> BackupResult:
        """Write a consistent copy of the whole workspace to ``dest``, a new ``.gpkg`` file,
        while others may go on saving.

        The copy is a GeoPackage workspace on either backend (one format: it opens with
        :class:`Workspace`, QGIS or GDAL, and restores into either backend): a GeoPackage is
        copied page by page with SQLite's online backup inside one read transaction; PostGIS is
        read in one REPEATABLE READ transaction (one snapshot) and written as the same layers,
        versions, export records and format history, with byte-identical content hashes. Why not
        ``pg_dump``: it needs the server's client tools of a matching version on the operator's
        machine, writes a format only PostgreSQL restores, and checks no content hash; this file
        is verified before it is kept. It is written to a temporary file beside ``dest``, synced,
        checked with :meth:`verify` (every version's hash), then renamed into place; its sha256
        goes to ``<dest>.sha256`` (``sha256sum -c`` reads it). An existing ``dest`` is refused.
        """
        t0 = time.perf_counter()
        report = progress or _no_progress
        out = _new_file_target(dest, what="backup", fix="choose a new file name, e.g. with the date: workspace-20260101.gpkg")
        tmp = _temp_beside(out, "backup")
        try:
            self._write_backup(tmp, report)
            _fsync(tmp)
            summary = _checked_copy(tmp, report)
            sha = sha256_file(tmp)
            os.replace(tmp, out)
            _fsync(out.parent)
            checksum = _write_checksum(out, sha)
        finally:
            tmp.unlink(missing_ok=True)
        return BackupResult(path=out, checksum_path=checksum, sha256=sha, bytes=out.stat().st_size, seconds=time.perf_counter() - t0,
                            summary=dataclasses.replace(summary, where=str(out)))


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
            found = self._read_store(con, crs, True)
        if found is None:
            raise NotAWorkspaceError(self.path, "the GeoPackage is not a workspace (no store tables)",
                                     "give the workspace .gpkg the dashboard saves red lines to (it was left unchanged)")
        return self._opened_read_only(found)

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

    def _read_store(self, con: sqlite3.Connection, crs: int | None, existed: bool) -> tuple[int, int] | None:
        """(workspace CRS, store format) when the store tables exist, else None."""
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if existed and tables and "gpkg_contents" not in tables:
            raise DataError(self.path, "the SQLite file has no gpkg_contents table: it is not a GeoPackage", "choose a new .gpkg file name for the workspace")
        if "store_meta" not in tables:
            clash = sorted(tables & {"versions", "exports", "store_formats"})
            if clash:
                raise DataError(self.path, f"the GeoPackage already has tables {clash} that are not the store's", "choose a new .gpkg file name for the workspace")
            return None
        return self._check_store(self._meta(con), crs, self.path)

    def _initialise(self, crs: int | None, existed: bool) -> int:
        source = str(self.path)
        if existed:  # opening an existing workspace of the current format only reads (no write lock)
            with self._transaction(write=False, source=source) as con:
                found = self._read_store(con, crs, existed)
            if found is not None and found[1] == STORE_FORMAT_VERSION:
                self.store_format = found[1]
                return found[0]
        with self._transaction(write=True, source=source) as con:
            # again, under the lock: a racing creator or migrator went first
            return self._migrate_or_create(con, self._read_store(con, crs, existed), crs)

    def _meta(self, con: sqlite3.Connection) -> dict[str, str]:
        return dict(con.execute("SELECT key, value FROM store_meta"))

    def _create_store_tables(self, con: sqlite3.Connection, epsg: int, created_at: str) -> None:
        con.execute(f"PRAGMA application_id = {_GPKG_APPLICATION_ID}")
        con.execute(f"PRAGMA user_version = {_GPKG_USER_VERSION}")
        for sql in _GPKG_CORE_DDL:
            con.execute(sql)
        self._ensure_srs(con, 4326)
        self._ensure_srs(con, epsg)
        for sql in _STORE_DDL_V1:
            con.execute(sql)
        con.executemany("INSERT INTO store_meta (key, value) VALUES (?, ?)", [("store_format", "1"), ("crs_epsg", str(epsg)), ("created_at_utc", created_at)])
        for table, desc in (("versions", "geodata.store: one row per saved version (who, when, why, sha256)"), ("exports", "geodata.store: exports written from this workspace")):
            _register_table(con, table, desc)

    def _set_format(self, con: sqlite3.Connection, fmt: int) -> None:
        con.execute("DROP TRIGGER store_meta_no_update")  # inside the migration's transaction only
        con.execute("UPDATE store_meta SET value = ? WHERE key = 'store_format'", (str(fmt),))
        con.execute(_STORE_META_NO_UPDATE)

    def _format_rows(self, con: sqlite3.Connection) -> list[FormatChange]:
        rows = con.execute("SELECT store_format, from_format, applied_at_utc, program, note FROM store_formats ORDER BY fid").fetchall()
        return [FormatChange(int(f), None if g is None else int(g), _parse_iso(at), program, note) for f, g, at, program, note in rows]

    def _insert_format_change(self, con: sqlite3.Connection, change: FormatChange) -> None:
        con.execute("INSERT INTO store_formats (store_format, from_format, applied_at_utc, program, note) VALUES (?, ?, ?, ?, ?)",
                    (change.store_format, change.from_format, _iso(change.at), change.program, change.note))

    def _export_rows(self, con: sqlite3.Connection) -> list[dict[str, Any]]:
        rows = con.execute("SELECT layer, version, fmt, crs_epsg, path, sha256, exported_at_utc FROM exports ORDER BY fid").fetchall()
        return [dict(layer=r[0], version=int(r[1]), fmt=r[2], crs_epsg=int(r[3]), path=r[4], sha=r[5], at=_parse_iso(r[6])) for r in rows]

    # -- backup and restore --------------------------------------------------------------------

    def _write_backup(self, tmp: Path, progress: Progress) -> None:
        with self._transaction(write=False, source=str(self.path)) as con:
            _sqlite_snapshot(con, tmp, progress, f"copying {self.path.name}")

    @classmethod
    def restore_backup(cls, backup: str | Path, target: str | Path, *, progress: Progress | None = None,
                       busy_timeout_s: float = 30.0) -> RestoreResult:
        """Replace the GeoPackage workspace ``target`` with the content of ``backup``, atomically.

        The backup is verified first (:func:`verify_backup`: its checksum file when present,
        then every version's content hash); a damaged, changed or foreign file is refused with
        a :class:`DataError` and nothing is touched. It is then copied to a temporary file
        beside ``target``, migrated to the current store format when older, checked again,
        synced and renamed over ``target`` while the target's write lock is held (no save is
        half-way meanwhile). The replaced file is kept, as a hard link where the file system
        allows, as ``<name>.before-restore-<UTC>.gpkg``: a restore loses nothing. Until the
        rename the target is untouched, so a failed or killed restore leaves it as it was (at
        most a ``.<name>.restore-*.tmp.gpkg`` file remains beside it).
        """
        t0 = time.perf_counter()
        report = progress or _no_progress
        src = verify_backup(backup, progress=report)
        out = Path(target)
        if out.suffix.lower() != ".gpkg" or (out.exists() and not out.is_file()):
            raise DataError(out, "the restore target must be a .gpkg file path", "name the workspace file '<something>.gpkg'")
        if out.exists() and out.resolve() == src.path.resolve():
            raise DataError(out, "the backup and the target are the same file", "give the workspace to restore into with --workspace")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = _temp_beside(out, "restore")
        try:
            with src._transaction(write=False, source=str(src.path)) as con:
                _sqlite_snapshot(con, tmp, report, f"copying {src.path.name}")
            restored = cls(tmp, busy_timeout_s=busy_timeout_s)  # writable: migrates an older format in one transaction
            _checked_copy(tmp, report)
            _fsync(tmp)
            kept = _swap_in(tmp, out, busy_timeout_s=busy_timeout_s)
        finally:
            tmp.unlink(missing_ok=True)
        summary = cls.open_existing(out).summary()
        return RestoreResult(backup=src.path, target=str(out), kept_previous=None if kept is None else str(kept),
                             migrated_from=restored.migrated_from, seconds=time.perf_counter() - t0, summary=summary)

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
_STORE_META_NO_UPDATE = "CREATE TRIGGER store_meta_no_update BEFORE UPDATE ON store_meta " + _APPEND_ONLY.format(t="store_meta")
# Format 1 exactly as it was shipped. Never edit: a change of layout is a new step in MIGRATIONS
# (a new workspace is created in format 1 and migrated, so new and migrated stores are alike).
_STORE_DDL_V1 = (
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
    _STORE_META_NO_UPDATE,
    "CREATE TRIGGER store_meta_no_delete BEFORE DELETE ON store_meta " + _APPEND_ONLY.format(t="store_meta"),
)


def _register_table(con: sqlite3.Connection, table: str, description: str) -> None:
    """List a store table in gpkg_contents (GDAL / QGIS then show it as an attribute table)."""
    con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) VALUES (?, 'attributes', ?, ?, ?)",
                (table, table, description, _iso(_utcnow())))


def _gpkg_format_2(ws: "Workspace", con: sqlite3.Connection) -> None:
    """Format 1 -> 2: the append-only history of store formats (``store_formats``: format, from,
    UTC time, program, note) and an index on ``exports(sha256)`` (the lookup every export makes;
    the PostGIS store had it from the start)."""
    con.execute("CREATE TABLE store_formats (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, store_format INTEGER NOT NULL, "
                "from_format INTEGER, applied_at_utc TEXT NOT NULL, program TEXT NOT NULL, note TEXT NOT NULL)")
    for op in ("UPDATE", "DELETE"):
        con.execute(f"CREATE TRIGGER store_formats_no_{op.lower()} BEFORE {op} ON store_formats " + _APPEND_ONLY.format(t="store_formats"))
    con.execute("CREATE INDEX exports_sha256 ON exports (sha256)")
    _register_table(con, "store_formats", "geodata.store: the store formats this workspace had (migrations), append-only")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, 2, "format 2: a history of store formats (store_formats) and an index on exports(sha256)", _gpkg_format_2),
)
Workspace.MIGRATIONS = MIGRATIONS


def _format_1_created(meta: dict[str, str]) -> FormatChange:
    return FormatChange(1, None, _parse_iso(meta["created_at_utc"]), "unknown (format 1 kept no history of formats)", "created")


# --------------------------------------------------------------------------------------------
# backup files: written beside their target, synced, verified, renamed into place


def _no_progress(step: str, fraction: float) -> None:
    return None


def _new_file_target(dest: str | Path, *, what: str, fix: str) -> Path:
    out = Path(dest)
    if out.suffix.lower() != ".gpkg":
        raise DataError(out, f"a {what} is a GeoPackage file and must end in .gpkg", "name it '<something>.gpkg'")
    if out.exists():
        raise DataError(out, f"the file exists: a {what} never overwrites a file", fix)
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def _temp_beside(out: Path, tag: str) -> Path:
    """A temporary ``.gpkg`` in the target's folder (same file system: the rename is atomic)."""
    return out.with_name(f".{out.name}.{tag}-{uuid.uuid4().hex[:12]}.tmp.gpkg")


def _fsync(path: Path) -> None:
    """Flush a file, or a folder's entries (after a rename), to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_checksum(out: Path, sha: str) -> Path:
    side = out.with_name(out.name + BACKUP_CHECKSUM_SUFFIX)
    tmp = side.with_name(f".{side.name}.{uuid.uuid4().hex[:12]}.tmp")
    tmp.write_text(f"{sha}  {out.name}\n", encoding="ascii")
    _fsync(tmp)
    os.replace(tmp, side)
    return side


_BACKUP_PAGES = 1024  # pages per step of SQLite's online backup (4 MiB at 4 KiB pages)


def _sqlite_snapshot(con: sqlite3.Connection, tmp: Path, progress: Progress, step: str) -> None:
    """Copy the database of ``con`` (inside a read transaction: one consistent snapshot; writers
    wait to commit until it ends) page by page to the new file ``tmp``."""
    con.execute("SELECT count(*) FROM sqlite_master").fetchone()  # takes the shared lock now
    dst = sqlite3.connect(tmp)
    try:
        con.backup(dst, pages=_BACKUP_PAGES, progress=lambda status, remaining, total: progress(step, 1.0 - remaining / total if total else 1.0))
    finally:
        dst.close()


def _checked_copy(path: Path, progress: Progress) -> WorkspaceSummary:
    """Open a copy read-only and verify every version; a copy with problems is refused."""
    progress("verifying the copy", 0.0)
    copy = Workspace.open_existing(path)
    problems = copy.verify()
    if problems:
        raise DataError(path, f"the copy fails its checks ({len(problems)} problem(s): {'; '.join(problems[:5])})",
                        "nothing was replaced; run `python -m sinks workspace verify` on the source")
    progress("verifying the copy", 1.0)
    return copy.summary()


def verify_backup(backup: str | Path, *, progress: Progress | None = None) -> Workspace:
    """Check a backup file before it is used; return it opened read-only.

    Refused with a :class:`DataError` (naming the file, the problem and the fix): a missing
    file; a file that no longer matches its ``<backup>.sha256`` (when present); a file that is
    not a GeoPackage workspace; a damaged one (SQLite ``integrity_check``, gaps in versions,
    any version whose rows no longer give its recorded sha256); a format of a newer program.
    """
    report = progress or _no_progress
    path = Path(backup)
    fix = "use another (earlier) backup; a backup is the .gpkg written by `python -m sinks workspace backup`"
    if not path.is_file():
        raise DataError(path, "the backup file does not exist" if not path.exists() else "the backup is not a file", fix)
    report("verifying the backup", 0.0)
    side = path.with_name(path.name + BACKUP_CHECKSUM_SUFFIX)
    if side.is_file():
        recorded = side.read_text(encoding="ascii", errors="replace").split()[:1]
        actual = sha256_file(path)
        if recorded != [actual]:
            raise DataError(path, f"the file does not match its checksum file {side.name} (recorded {(recorded or ['nothing'])[0][:16]}..., the file has {actual[:16]}...): it was changed or damaged after the backup", fix)
    try:
        ws = Workspace.open_existing(path)
        problems = ws.verify()
    except DataError as exc:
        raise DataError(path, f"the file is not a usable workspace backup: {exc.problem}", fix) from None
    if problems:
        raise DataError(path, f"the backup fails its checks ({len(problems)} problem(s): {'; '.join(problems[:5])})", f"it is damaged or was changed: {fix}")
    report("verifying the backup", 1.0)
    return ws


def _free_name(target: Path, tag: str) -> Path:
    """``<stem>.<tag>-<UTC>.gpkg`` beside ``target``, not taken yet."""
    stamp = _utcnow().strftime("%Y%m%dT%H%M%SZ")
    for n in range(1, 1000):
        cand = target.with_name(f"{target.stem}.{tag}-{stamp}{'' if n == 1 else f'-{n}'}.gpkg")
        if not cand.exists():
            return cand
    raise DataError(target, f"too many '{tag}' files for {stamp}", "move old ones away")


def _swap_in(tmp: Path, target: Path, *, busy_timeout_s: float) -> Path | None:
    """Rename ``tmp`` over ``target``; the replaced file is kept under a new name (returned).

    The target's write lock (``BEGIN IMMEDIATE``) is held meanwhile, so no save is half-way
    (and a hot journal of a crashed writer is rolled back first). A target SQLite cannot open
    (damaged) is replaced as it is, its journal kept beside the kept copy.
    """
    if not target.exists():
        os.replace(tmp, target)
        _fsync(target.parent)
        return None
    kept = _free_name(target, "before-restore")
    con = sqlite3.connect(target, timeout=busy_timeout_s, isolation_level=None)
    locked = False
    try:
        try:
            con.execute("BEGIN IMMEDIATE")
            locked = True
        except sqlite3.DatabaseError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreBusyError(target, f"another writer held the workspace for more than {busy_timeout_s:g} s ({exc}); nothing was replaced",
                                     "run the restore again when no one is saving") from exc
        journal = target.with_name(target.name + "-journal")
        if not locked and journal.exists():  # never let a stale journal meet the new file
            os.replace(journal, kept.with_name(kept.name + "-journal"))
        try:
            os.link(target, kept)
        except OSError:
            shutil.copy2(target, kept)
        try:
            os.replace(tmp, target)
        except BaseException:
            kept.unlink(missing_ok=True)
            raise
    finally:
        if locked:
            con.execute("ROLLBACK")
        con.close()
    _fsync(target.parent)
    return kept
