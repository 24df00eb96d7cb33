"""The versioned workspace in PostgreSQL/PostGIS: the server option of :mod:`geodata.store`.

Same public methods and results as the GeoPackage :class:`geodata.store.Workspace` (``save``,
``load``, ``history``, ``info``, ``layers``, ``restore``, ``export``, ``verify``,
``open_existing``; frozen ``VersionInfo`` / ``SaveResult`` / ``ExportResult``; ``ConflictError``,
``StoreBusyError``): everything that is not storage (input checks, repairs, CRS transforms,
attribute JSON, content sha256, conflicts, exports) is the shared
:class:`geodata.store.WorkspaceBase`. The same content gets the same sha256 in both backends.

Usage::

    ws = PostgisWorkspace("postgresql://sinks:***@db.example/sinks", crs=4490)  # schema 'workspace'
    ro = PostgisWorkspace.open_existing(url)                                   # read-only

or, choosing the backend from ``DATABASE_URL``, :func:`geodata.workspace.open_workspace`.

Layout (and why)
----------------
- One PostgreSQL schema per workspace (``workspace`` by default) with four tables: ``store_meta``
  (store format, CRS), ``versions`` (one row per saved version: who, when (timestamptz), why,
  count, parent, sha256, columns as JSONB), ``exports``, and ONE ``features`` table
  (``layer``, ``store_version``, ``feature_id``, ``attrs_json``, ``geom
  geometry(MultiPolygon, <workspace SRID>)`` with a GiST index). One features table rather than a
  table per layer: the schema is fixed at creation (a save runs no DDL), layer names are only ever
  bound values, and QGIS opens ``features`` filtered on ``layer`` and ``store_version``. The schema
  name is the only identifier put into SQL (checked, and passed as ``psycopg.sql.Identifier``);
  every value is a bound parameter.
- Attributes stay JSON *text* (not JSONB): JSONB reorders keys and rewrites numbers, which would
  change the content hash; the text is hashed exactly as in the GeoPackage.
- Geometries are written with ``COPY`` as EWKB and read back with ``ST_AsBinary(geom, 'NDR')``:
  PostGIS keeps the doubles exactly, so the WKB (and the sha256) round-trips bit for bit.
- Append-only in the database: triggers refuse UPDATE, DELETE and TRUNCATE of every store table,
  rows joining a version that is already recorded (sealed), and version numbers that are not
  ``max + 1`` (gap-free); ``UNIQUE (layer, version)`` checks again.
- Writers: one transaction per save (READ COMMITTED) that first takes a per-layer
  ``pg_advisory_xact_lock`` (key from the schema and layer names), then reads the latest version,
  so numbers are unique and gap-free; ``lock_timeout`` (the busy timeout, 30 s by default) turns a
  long wait into :class:`StoreBusyError`. A failed, or killed, writer's transaction is rolled back
  by the server (nothing half-saved) and its lock released. Reads run in REPEATABLE READ READ ONLY
  transactions (a consistent snapshot); ``open_existing`` opens every transaction READ ONLY, so
  the server itself refuses writes.
- Store format and migrations as in :mod:`geodata.store` (the same format numbers; this
  backend's ``MIGRATIONS``; format 2 added ``store_formats``). Backups are GeoPackage files
  (:meth:`WorkspaceBase.backup`: one REPEATABLE READ snapshot, no server tools needed);
  :meth:`PostgisWorkspace.restore_backup` loads one in ONE transaction and swaps schemas, keeping
  the replaced one as ``<schema>_before_restore_<UTC>``.
- A connection per call, like the GeoPackage store: the object holds only the URL and settings
  (picklable, safe across threads and processes). Messages show the URL with the password masked.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg
import shapely
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from geodata.errors import DataError
from geodata.workspace import is_database_url, mask_url
from geodata.store import (
    GEOM_COLUMN,
    STORE_CRS_CHOICES,
    STORE_FORMAT_VERSION,
    FormatChange,
    Migration,
    NotAWorkspaceError,
    Progress,
    RestoreResult,
    StoreBusyError,
    VersionInfo,
    Workspace,
    WorkspaceBase,
    _no_progress,
    _Prepared,
    _utcnow,
    verify_backup,
)

DEFAULT_SCHEMA = "workspace"
SCHEMA_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,47}")
CONNECT_TIMEOUT_S = 10
_PG_RESERVED_SCHEMAS = ("pg_", "information_schema", "public", "topology", "tiger")

__all__ = ["DEFAULT_SCHEMA", "PostgisWorkspace", "is_database_url", "mask_url"]


def _lock_key(schema: str, name: str) -> int:
    """A signed 64-bit advisory-lock key for (schema, layer)."""
    digest = hashlib.sha256(f"geodata.store\0{schema}\0{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _ewkb(geom: shapely.Geometry, srid: int) -> bytes:
    """A MultiPolygon as 2-D little-endian EWKB with its SRID (what ``COPY`` into the column takes)."""
    return shapely.to_wkb(shapely.set_srid(geom, srid), byte_order=1, output_dimension=2, include_srid=True, flavor="extended")


def _iso_wkb(geom: shapely.Geometry) -> bytes:
    return shapely.to_wkb(geom, byte_order=1, output_dimension=2, flavor="iso")


class PostgisWorkspace(WorkspaceBase):
    """A versioned workspace in one schema of a PostgreSQL database with PostGIS.

    Parameters
    ----------
    url
        A libpq connection string, normally ``postgresql://user:password@host:port/dbname``.
        The database needs the PostGIS extension (``CREATE EXTENSION postgis``, by its owner).
    schema
        The schema holding this workspace (created with the store tables on first open).
    crs
        4490 (CGCS2000, the default for a new workspace) or 4326; ``None`` for an existing one
        means "whatever it was created with", another value than that is refused.
    busy_timeout_s
        How long a writer waits for another writer of the same layer before
        :class:`StoreBusyError` (PostgreSQL ``lock_timeout``).
    read_only
        Never write: a schema without the store tables is refused (:class:`NotAWorkspaceError`)
        instead of created, every transaction is READ ONLY, ``save``/``restore``/``export`` are
        refused. See :meth:`open_existing`.
    """

    backend = "postgis"
    _read_only_fix = "open it with PostgisWorkspace(url) (or open_workspace without read_only) to save, restore or export"
    _storage_noun = "database"

    def __init__(self, url: str, *, schema: str = DEFAULT_SCHEMA, crs: int | None = None, busy_timeout_s: float = 30.0,
                 read_only: bool = False) -> None:
        if not isinstance(url, str) or not url.strip():
            raise DataError("DATABASE_URL", "no PostgreSQL connection string was given", "set DATABASE_URL=postgresql://user:password@host:5432/dbname")
        self.url = url.strip()
        self.schema = schema
        self.busy_timeout_s = float(busy_timeout_s)
        self.read_only = bool(read_only)
        self._check_schema_name()
        if crs is not None and int(crs) not in STORE_CRS_CHOICES:
            raise DataError(self._where(), f"the workspace CRS EPSG:{crs} is not offered", f"choose one of {', '.join(f'EPSG:{c}' for c in STORE_CRS_CHOICES)} (4490 = CGCS2000)")
        self.crs_epsg = self._initialise(int(crs) if crs is not None else None)

    @classmethod
    def open_existing(cls, url: str, *, schema: str = DEFAULT_SCHEMA, crs: int | None = None, busy_timeout_s: float = 30.0) -> "PostgisWorkspace":
        """An existing workspace, read-only: nothing in the database is created or changed.
        Raises :class:`NotAWorkspaceError` when the schema has no store tables."""
        return cls(url, schema=schema, crs=crs, busy_timeout_s=busy_timeout_s, read_only=True)

    def __repr__(self) -> str:
        return f"PostgisWorkspace({mask_url(self.url)!r}, schema={self.schema!r}, crs={getattr(self, 'crs_epsg', None)}, read_only={self.read_only})"

    def _where(self) -> str:
        return f"{mask_url(self.url)} schema '{self.schema}'"

    def _check_schema_name(self) -> None:
        schema = self.schema
        if not isinstance(schema, str) or not SCHEMA_NAME_RE.fullmatch(schema) or schema.startswith(_PG_RESERVED_SCHEMAS):
            raise DataError(self._where(), f"the schema name {schema!r} is not allowed",
                            "use 1-48 lower-case ASCII letters, digits or '_', starting with a letter (not public or pg_*), e.g. 'workspace'")

    @property
    def identity(self) -> str:
        return f"postgis:{mask_url(self.url)}#{self.schema}"

    # -- connections -------------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection:
        try:
            return psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_S, application_name="geodata.store")
        except psycopg.Error as exc:
            raise DataError(self._where(), f"cannot connect to PostgreSQL ({self._clean(exc)})",
                            "check DATABASE_URL (host, port, database, user, password) and that the server is running") from None

    def _clean(self, exc: BaseException) -> str:
        """The first line of a driver message, without the password should it appear. When the
        connection string itself cannot be parsed, libpq's message quotes it: only the error's
        class is kept then."""
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        try:
            password = conninfo_to_dict(self.url).get("password")
        except (psycopg.Error, ValueError, TypeError):
            return f"{type(exc).__name__}: the connection string cannot be parsed"
        text = mask_url(text)
        return text.replace(str(password), "***") if password else text

    @contextmanager
    def _transaction(self, *, write: bool, source: str) -> Iterator[psycopg.Connection]:
        """One transaction: READ COMMITTED for writes (writers queue on advisory locks taken
        inside), REPEATABLE READ READ ONLY for reads (one consistent snapshot)."""
        if write:
            self._refuse_read_only(source)
        con = self._connect()
        try:
            con.isolation_level = psycopg.IsolationLevel.READ_COMMITTED if write else psycopg.IsolationLevel.REPEATABLE_READ
            con.read_only = self.read_only or not write
            try:
                con.execute("SELECT set_config('lock_timeout', %s, true)", (f"{max(1, int(self.busy_timeout_s * 1000))}ms",))
                yield con
                con.commit()
            except BaseException:
                if not con.closed:
                    try:
                        con.rollback()
                    except psycopg.Error:
                        pass  # the connection broke: the server rolls the transaction back itself
                raise
        except (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled) as exc:
            raise StoreBusyError(
                source,
                f"the workspace stayed locked by another writer for more than {self.busy_timeout_s:g} s ({self._clean(exc)})",
                "try again in a moment; if it persists, look for a stuck program holding a transaction open (pg_stat_activity)",
            ) from None
        except psycopg.OperationalError as exc:
            raise DataError(self._where(), f"the connection to PostgreSQL failed ({self._clean(exc)})", "check that the server is running and reachable, then try again") from None
        except psycopg.Error as exc:  # privileges, a read-only standby, bad values: a message, never a raw driver error
            raise DataError(self._where(), f"PostgreSQL refused the request ({type(exc).__name__}: {self._clean(exc)})",
                            "check the database role's privileges (CREATE on the database, or USAGE/SELECT/INSERT on the schema) "
                            "and that the server accepts writes") from None
        finally:
            con.close()

    def _lock_layer(self, con: psycopg.Connection, layer: str) -> None:
        con.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(self.schema, layer),))

    def _t(self, table: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(table))

    # -- creation ----------------------------------------------------------------------------

    def _tables(self, con: psycopg.Connection, schema: str | None = None) -> set[str]:
        return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema or self.schema,))}

    def _read_store(self, con: psycopg.Connection, crs: int | None) -> tuple[int, int] | None:
        """(workspace CRS, store format) when the schema holds a store, else None."""
        tables = self._tables(con)
        if "store_meta" not in tables:
            clash = sorted(tables & {"versions", "exports", "features", "store_formats"})
            if clash:
                raise DataError(self._where(), f"the schema already has tables {clash} that are not the store's", "choose another schema for the workspace")
            return None
        return self._check_store(self._meta(con), crs, self._where())

    def _check_server(self, con: psycopg.Connection, epsg: int | None) -> None:
        if not con.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
            raise DataError(self._where(), "the database has no PostGIS extension",
                            "as the database owner run: CREATE EXTENSION postgis; (packages postgresql-15-postgis-3 / postgis)")
        if epsg is not None and not con.execute("SELECT 1 FROM spatial_ref_sys WHERE srid = %s", (epsg,)).fetchone():
            raise DataError(self._where(), f"PostGIS has no EPSG:{epsg} in spatial_ref_sys", "update PostGIS, or choose crs=4326")

    def _initialise(self, crs: int | None) -> int:
        source = self._where()
        with self._transaction(write=False, source=source) as con:  # opening an existing one only reads
            found = self._read_store(con, crs)
        if found is not None and self.read_only:
            return self._opened_read_only(found)
        if found is not None and found[1] == STORE_FORMAT_VERSION:
            self.store_format = found[1]
            return found[0]
        if self.read_only:
            raise NotAWorkspaceError(source, "the schema holds no workspace (no store tables)",
                                     "give the database URL and schema the dashboard saves red lines to (nothing was created)")
        with self._transaction(write=True, source=source) as con:
            self._lock_layer(con, "store_meta")  # racing creators and migrators queue; the second finds the work done
            found = self._read_store(con, crs)
            if found is None:
                self._check_server(con, crs if crs is not None else 4490)
                con.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
            return self._migrate_or_create(con, found, crs)

    def _meta(self, con: psycopg.Connection) -> dict[str, str]:
        return dict(con.execute(sql.SQL("SELECT key, value FROM {}").format(self._t("store_meta"))).fetchall())

    def _create_store_tables(self, con: psycopg.Connection, epsg: int, created_at: str) -> None:
        for stmt in _ddl(self.schema, epsg):
            con.execute(stmt)
        con.execute(sql.SQL("INSERT INTO {} (key, value) VALUES (%s, %s), (%s, %s), (%s, %s)").format(self._t("store_meta")),
                    ("store_format", "1", "crs_epsg", str(epsg), "created_at_utc", created_at))

    def _set_format(self, con: psycopg.Connection, fmt: int) -> None:
        t = self._t("store_meta")
        con.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER store_meta_no_update_delete").format(t))  # this transaction only
        con.execute(sql.SQL("UPDATE {} SET value = %s WHERE key = 'store_format'").format(t), (str(fmt),))
        con.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER store_meta_no_update_delete").format(t))

    def _format_rows(self, con: psycopg.Connection) -> list[FormatChange]:
        rows = con.execute(sql.SQL("SELECT store_format, from_format, applied_at, program, note FROM {} ORDER BY id").format(self._t("store_formats")))
        return [FormatChange(int(f), None if g is None else int(g), at.astimezone(timezone.utc), program, note) for f, g, at, program, note in rows]

    def _insert_format_change(self, con: psycopg.Connection, change: FormatChange) -> None:
        con.execute(sql.SQL("INSERT INTO {} (store_format, from_format, applied_at, program, note) VALUES (%s, %s, %s, %s, %s)").format(
            self._t("store_formats")), (change.store_format, change.from_format, change.at, change.program, change.note))

    def _export_rows(self, con: psycopg.Connection) -> list[dict[str, Any]]:
        rows = con.execute(sql.SQL("SELECT layer, version, fmt, crs_epsg, path, sha256, exported_at FROM {} ORDER BY id").format(self._t("exports")))
        return [dict(layer=r[0], version=int(r[1]), fmt=r[2], crs_epsg=int(r[3]), path=r[4], sha=r[5], at=r[6].astimezone(timezone.utc)) for r in rows]

    # -- backup and restore --------------------------------------------------------------------

    def _write_backup(self, tmp: Path, progress: Progress) -> None:
        """One REPEATABLE READ snapshot of the schema, written as a GeoPackage workspace."""
        with self._transaction(write=False, source=self._where()) as con:
            created_at, history = self._seed(con)
            dst = Workspace._bare(path=tmp, crs_epsg=self.crs_epsg)
            with dst._transaction(write=True, source=str(tmp)) as dst_con:
                dst._create_store(dst_con, self.crs_epsg, created_at=created_at, history=history)
                self._copy_into(con, dst, dst_con, progress)

    @classmethod
    def restore_backup(cls, backup: str | Path, url: str, *, schema: str = DEFAULT_SCHEMA, progress: Progress | None = None,
                       busy_timeout_s: float = 30.0) -> RestoreResult:
        """Replace the workspace in ``schema`` with the content of the GeoPackage ``backup``, in
        ONE transaction.

        The backup is verified first (:func:`geodata.store.verify_backup`); a damaged, changed or
        foreign file is refused and nothing is touched. Then, in one transaction under the
        creators' advisory lock: the tables of the current workspace are locked (saves and reads
        in progress finish first; ``busy_timeout_s`` bounds the wait), its schema is renamed to
        ``<schema>_before_restore_<UTC>`` (kept, so a restore loses nothing; drop it when no
        longer wanted), a new schema of the old name gets the store (current format) and every
        version, export record and format-history row of the backup; each version's content hash
        is recomputed from the rows as stored. A failure anywhere, or a killed process, rolls
        everything back: the workspace stays as it was. A schema holding other tables than a
        workspace's is refused. Sessions that wait on the lock continue in the restored schema.
        """
        t0 = time.perf_counter()
        report = progress or _no_progress
        src = verify_backup(backup, progress=report)
        target = cls._bare(url=str(url).strip(), schema=schema, crs_epsg=src.crs_epsg, busy_timeout_s=float(busy_timeout_s))
        target._check_schema_name()
        source, kept = target._where(), None
        with target._transaction(write=True, source=source) as con, src._transaction(write=False, source=str(src.path)) as src_con:
            target._lock_layer(con, "store_meta")
            target._check_server(con, src.crs_epsg)
            tables = target._tables(con)
            if tables and "store_meta" not in tables:
                raise DataError(source, f"the schema holds tables that are not a workspace's ({sorted(tables)[:10]}); nothing was changed",
                                "restore into another schema (--schema / DATABASE_SCHEMA), or move those tables away")
            s = sql.Identifier(schema)
            if tables:
                target._check_store(target._meta(con), None, source)  # a newer program's workspace is not replaced
                con.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.SQL(", ").join(target._t(t) for t in sorted(tables))))
                kept = target._free_schema(con)
                con.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(s, sql.Identifier(kept)))
                for stmt in _functions(kept, replace=True):  # the kept schema's triggers check the kept tables
                    con.execute(stmt)
            else:
                con.execute(sql.SQL("DROP SCHEMA IF EXISTS {}").format(s))  # empty (RESTRICT: never drops anything)
            con.execute(sql.SQL("CREATE SCHEMA {}").format(s))
            created_at, history = src._seed(src_con)
            target._create_store(con, src.crs_epsg, created_at=created_at, history=history)
            src._copy_into(src_con, target, con, report)
        summary = cls(target.url, schema=schema, busy_timeout_s=busy_timeout_s).summary()
        return RestoreResult(backup=src.path, target=source, kept_previous=kept, migrated_from=src.store_format if src.store_format < STORE_FORMAT_VERSION else None,
                             seconds=time.perf_counter() - t0, summary=summary)

    def _free_schema(self, con: psycopg.Connection) -> str:
        """``<schema>_before_restore_<UTC>`` (at most 48 characters), not taken yet."""
        stamp = _utcnow().strftime("%Y%m%dt%H%M%S")
        for n in range(1, 1000):
            tail = f"_before_restore_{stamp}" + ("" if n == 1 else f"_{n}")
            name = self.schema[: 48 - len(tail)] + tail
            if not con.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (name,)).fetchone():
                return name
        raise DataError(self._where(), "too many kept schemas for this second", "try again")

    # -- row storage (the hooks of WorkspaceBase) ----------------------------------------------

    def _layer_names(self, con: psycopg.Connection) -> list[str]:
        return [r[0] for r in con.execute(sql.SQL("SELECT DISTINCT layer FROM {} ORDER BY layer").format(self._t("versions")))]

    def _version(self, con: psycopg.Connection, layer: str, version: int | None) -> VersionInfo | None:
        q = sql.SQL("SELECT {} FROM {} WHERE layer = %s").format(_VERSION_COLS, self._t("versions"))
        if version is None:
            row = con.execute(q + sql.SQL(" ORDER BY version DESC LIMIT 1"), (layer,)).fetchone()
        else:
            row = con.execute(q + sql.SQL(" AND version = %s"), (layer, int(version))).fetchone()
        return _version_from_row(row) if row else None

    def _versions(self, con: psycopg.Connection, layer: str) -> list[VersionInfo]:
        q = sql.SQL("SELECT {} FROM {} WHERE layer = %s ORDER BY version").format(_VERSION_COLS, self._t("versions"))
        return [_version_from_row(r) for r in con.execute(q, (layer,))]

    def _feature_rows(self, con: psycopg.Connection, layer: str, version: int) -> list[tuple[str, str, bytes]]:
        q = sql.SQL("SELECT feature_id, attrs_json, ST_AsBinary({g}, 'NDR') FROM {t} WHERE layer = %s AND store_version = %s ORDER BY fid").format(
            g=sql.Identifier(GEOM_COLUMN), t=self._t("features"))
        return [(r[0], r[1], bytes(r[2])) for r in con.execute(q, (layer, version))]

    def _insert_features(self, con: psycopg.Connection, layer: str, version: int, prepared: _Prepared) -> list[tuple[str, str, bytes]]:
        hash_rows: list[tuple[str, str, bytes]] = []
        copy = sql.SQL("COPY {} (layer, store_version, feature_id, attrs_json, {}) FROM STDIN").format(self._t("features"), sql.Identifier(GEOM_COLUMN))
        with con.cursor() as cur, cur.copy(copy) as cp:
            for fid, attrs, geom in zip(prepared.ids, prepared.attrs_json, prepared.geoms):
                ewkb = _ewkb(geom, self.crs_epsg)
                hash_rows.append((fid, attrs, _iso_wkb(geom)))
                cp.write_row((layer, version, fid, attrs, ewkb.hex()))
        return hash_rows

    def _copy_features(self, con: psycopg.Connection, layer: str, new: int, old: int) -> list[tuple[str, str, bytes]]:
        t = self._t("features")
        con.execute(sql.SQL("INSERT INTO {t} (layer, store_version, feature_id, attrs_json, {g}) "
                            "SELECT layer, %s, feature_id, attrs_json, {g} FROM {t} WHERE layer = %s AND store_version = %s ORDER BY fid").format(
                                t=t, g=sql.Identifier(GEOM_COLUMN)), (new, layer, old))
        return self._feature_rows(con, layer, new)

    def _insert_version(self, con: psycopg.Connection, info: VersionInfo, bounds: Any) -> None:
        con.execute(
            sql.SQL("INSERT INTO {} (layer, version, author, saved_at, reason, feature_count, parent_version, restored_from, sha256, "
                    "id_field, columns, repaired_ids) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb)").format(self._t("versions")),
            (info.layer, info.version, info.author, info.saved_at, info.reason, info.feature_count, info.parent_version, info.restored_from,
             info.sha256, info.id_field, json.dumps([list(c) for c in info.columns], ensure_ascii=False),
             json.dumps(list(info.repaired_ids), ensure_ascii=False)),
        )

    def _export_recorded(self, con: psycopg.Connection, sha: str) -> bool:
        return con.execute(sql.SQL("SELECT 1 FROM {} WHERE sha256 = %s LIMIT 1").format(self._t("exports")), (sha,)).fetchone() is not None

    def _insert_export(self, con: psycopg.Connection, *, layer: str, version: int, fmt: str, crs_epsg: int, path: str, sha: str, at: datetime) -> None:
        con.execute(sql.SQL("INSERT INTO {} (layer, version, fmt, crs_epsg, path, sha256, exported_at) VALUES (%s, %s, %s, %s, %s, %s, %s)").format(
            self._t("exports")), (layer, version, fmt, crs_epsg, path, sha, at))

    def _integrity_problems(self) -> list[str]:
        """The append-only triggers must all be there and enabled (a table owner can disable them)."""
        with self._transaction(write=False, source=self._where()) as con:
            rows = con.execute(
                "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND NOT t.tgisinternal", (self.schema,)).fetchall()
        found = {(r[0], r[1]): r[2] for r in rows}
        problems = []
        for table, trigger in _TRIGGERS + (_TRIGGERS_2 if self.store_format >= 2 else ()):
            state = found.get((table, trigger))
            if state is None:
                problems.append(f"trigger {trigger} on {table} is missing: the table is no longer protected (append-only)")
            elif state not in ("O", "A"):  # D = disabled; R = replica-only: never fires in ordinary sessions
                problems.append(f"trigger {trigger} on {table} is disabled (state {state!r}): the table is no longer protected (append-only)")
        return problems


# --------------------------------------------------------------------------------------------
# schema

_VERSION_COLS = sql.SQL(
    "layer, version, author, saved_at, reason, feature_count, parent_version, restored_from, sha256, id_field, columns, repaired_ids"
)


def _version_from_row(row: Any) -> VersionInfo:
    (layer, version, author, saved_at, reason, count, parent, restored, sha, id_field, columns, repaired) = row
    return VersionInfo(
        layer=layer, version=int(version), author=author, saved_at=saved_at.astimezone(timezone.utc), reason=reason, feature_count=int(count),
        parent_version=None if parent is None else int(parent), restored_from=None if restored is None else int(restored),
        sha256=sha, id_field=id_field, columns=tuple((str(n), str(k)) for n, k in columns), repaired_ids=tuple(str(i) for i in repaired),
    )


# (table, trigger) pairs that keep the store append-only; verify() checks they exist and are enabled
_TRIGGERS = tuple(
    [(t, f"{t}_no_update_delete") for t in ("store_meta", "versions", "exports", "features")]
    + [(t, f"{t}_no_truncate") for t in ("store_meta", "versions", "exports", "features")]
    + [("versions", "versions_gap_free"), ("features", "features_sealed")]
)


_TRIGGERS_2 = (("store_formats", "store_formats_no_update_delete"), ("store_formats", "store_formats_no_truncate"))


def _append_only_triggers(s: sql.Identifier, table: str) -> list[sql.Composable]:
    t = sql.Identifier(table)
    return [
        sql.SQL("CREATE TRIGGER {n} BEFORE UPDATE OR DELETE ON {s}.{t} FOR EACH ROW EXECUTE FUNCTION {s}.store_append_only()").format(
            n=sql.Identifier(f"{table}_no_update_delete"), s=s, t=t),
        sql.SQL("CREATE TRIGGER {n} BEFORE TRUNCATE ON {s}.{t} FOR EACH STATEMENT EXECUTE FUNCTION {s}.store_append_only()").format(
            n=sql.Identifier(f"{table}_no_truncate"), s=s, t=t),
    ]


def _functions(schema: str, *, replace: bool = False) -> list[sql.Composable]:
    """The trigger functions; their bodies name the schema (it passed SCHEMA_NAME_RE, and is quoted)."""
    s = sql.Identifier(schema)
    f = sql.SQL
    create = f("CREATE OR REPLACE FUNCTION" if replace else "CREATE FUNCTION")
    return [
        f("{c} {s}.store_append_only() RETURNS trigger LANGUAGE plpgsql AS $body$ BEGIN "
          "RAISE EXCEPTION 'geodata.store: the % table is append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation'; "
          "END $body$").format(c=create, s=s),
        f("{c} {s}.store_gap_free() RETURNS trigger LANGUAGE plpgsql AS $body$ BEGIN "
          "IF NEW.version <> (SELECT coalesce(max(version), 0) + 1 FROM {s}.versions WHERE layer = NEW.layer) THEN "
          "RAISE EXCEPTION 'geodata.store: version numbers must be gap-free (layer %, version %)', NEW.layer, NEW.version "
          "USING ERRCODE = 'integrity_constraint_violation'; END IF; RETURN NEW; END $body$").format(c=create, s=s),
        f("{c} {s}.store_sealed() RETURNS trigger LANGUAGE plpgsql AS $body$ BEGIN "
          "IF EXISTS (SELECT 1 FROM {s}.versions WHERE layer = NEW.layer AND version = NEW.store_version) THEN "
          "RAISE EXCEPTION 'geodata.store: version % of layer % is sealed; save a new version through the store', NEW.store_version, NEW.layer "
          "USING ERRCODE = 'integrity_constraint_violation'; END IF; RETURN NEW; END $body$").format(c=create, s=s),
    ]


def _pg_format_2(ws: "PostgisWorkspace", con: psycopg.Connection) -> None:
    """Format 1 -> 2: the append-only history of store formats (``store_formats``: format, from,
    time, program, note), protected like every store table."""
    s = sql.Identifier(ws.schema)
    con.execute(sql.SQL("CREATE TABLE {s}.store_formats (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, store_format integer NOT NULL, "
                        "from_format integer, applied_at timestamptz NOT NULL, program text NOT NULL, note text NOT NULL)").format(s=s))
    for stmt in _append_only_triggers(s, "store_formats"):
        con.execute(stmt)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, 2, "format 2: a history of store formats (store_formats)", _pg_format_2),
)
PostgisWorkspace.MIGRATIONS = MIGRATIONS


def _ddl(schema: str, srid: int) -> list[sql.Composable]:
    """Format 1 exactly as it was shipped. Never edit: a change of layout is a new step in MIGRATIONS."""
    s = sql.Identifier(schema)
    f = sql.SQL
    out: list[sql.Composable] = [
        f("CREATE TABLE {s}.store_meta (key text PRIMARY KEY, value text NOT NULL)").format(s=s),
        f("CREATE TABLE {s}.versions (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, layer text NOT NULL, "
          "version integer NOT NULL CHECK (version >= 1), author text NOT NULL, saved_at timestamptz NOT NULL, reason text NOT NULL, "
          "feature_count integer NOT NULL, parent_version integer, restored_from integer, sha256 text NOT NULL, id_field text NOT NULL, "
          "columns jsonb NOT NULL, repaired_ids jsonb NOT NULL, UNIQUE (layer, version))").format(s=s),
        f("CREATE TABLE {s}.exports (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, layer text NOT NULL, version integer NOT NULL, "
          "fmt text NOT NULL, crs_epsg integer NOT NULL, path text NOT NULL, sha256 text NOT NULL, exported_at timestamptz NOT NULL)").format(s=s),
        f("CREATE INDEX ON {s}.exports (sha256)").format(s=s),
        f("CREATE TABLE {s}.features (fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, layer text NOT NULL, "
          "store_version integer NOT NULL, feature_id text NOT NULL, attrs_json text NOT NULL, "
          "{g} geometry(MultiPolygon, {srid}) NOT NULL, UNIQUE (layer, store_version, feature_id))").format(
              s=s, g=sql.Identifier(GEOM_COLUMN), srid=sql.Literal(int(srid))),
        f("CREATE INDEX ON {s}.features USING gist ({g})").format(s=s, g=sql.Identifier(GEOM_COLUMN)),
        f("COMMENT ON TABLE {s}.features IS 'geodata.store versioned layers: the features of every version of every layer "
          "(filter on layer and store_version); append-only'").format(s=s),
    ]
    out += _functions(schema)
    out += [
        f("CREATE TRIGGER versions_gap_free BEFORE INSERT ON {s}.versions FOR EACH ROW EXECUTE FUNCTION {s}.store_gap_free()").format(s=s),
        f("CREATE TRIGGER features_sealed BEFORE INSERT ON {s}.features FOR EACH ROW EXECUTE FUNCTION {s}.store_sealed()").format(s=s),
    ]
    for table in ("store_meta", "versions", "exports", "features"):
        out += _append_only_triggers(s, table)
    return out
