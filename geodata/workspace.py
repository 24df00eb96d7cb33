"""Which workspace backend to open: a GeoPackage file (the default) or PostGIS (``DATABASE_URL``).

::

    ws = open_workspace(default="workspace/workspace.gpkg")   # DATABASE_URL if set, else the file
    ws = open_workspace("postgresql://sinks:***@db/sinks")    # PostGIS, explicitly
    ws = open_workspace("other.gpkg", read_only=True)         # that file, whatever DATABASE_URL says

Rule: an explicit argument wins (a ``postgresql://`` URL opens PostGIS, a path opens that
GeoPackage), so a file a user names is never silently swapped for a database; with no argument,
``DATABASE_URL`` (when set and non-empty) opens PostGIS, else the ``default`` GeoPackage.
``DATABASE_SCHEMA`` names the PostgreSQL schema (default ``workspace``). Both classes have the
same public methods and results (:class:`geodata.store.WorkspaceBase`).

Backups are GeoPackage files on both backends (``ws.backup("backups/w-2026-05-01.gpkg")``);
:func:`restore_backup` verifies one and puts it in place of the workspace the same rule names
(``python -m sinks workspace backup|restore|verify|migrate|info`` is the command line).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from geodata.errors import DataError
from geodata.store import Progress, RestoreResult, Workspace, WorkspaceBase

DATABASE_URL_ENV = "DATABASE_URL"
DATABASE_SCHEMA_ENV = "DATABASE_SCHEMA"

__all__ = ["DATABASE_SCHEMA_ENV", "DATABASE_URL_ENV", "database_url", "is_database_url", "mask_url", "open_workspace", "restore_backup",
           "workspace_target"]


def is_database_url(text: object) -> bool:
    """True for a ``postgresql://`` (or ``postgres://``) connection URL."""
    return isinstance(text, str) and text.strip().lower().startswith(("postgresql://", "postgres://"))


_URL_PASSWORD = re.compile(r"^(?P<head>\s*[a-z][a-z0-9+.-]*://[^:@/?#]*):(?P<pw>.*)@(?=[^@]*$)", re.IGNORECASE | re.DOTALL)


def mask_url(url: str) -> str:
    """The connection string with any password replaced by ``***`` (for messages and logs).

    A URL's password is everything between the first ``:`` after the user and the LAST ``@``
    (libpq's reading: it may hold unencoded ``?``, ``#`` or ``/``, which would fool a URL parser);
    a ``password=`` parameter or key-value pair is masked too."""
    text = str(url)
    text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}:***@", text)
    return re.sub(r"(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^&\s]+)", r"\1***", text)


def database_url() -> str | None:
    """``DATABASE_URL`` when it is set to something, else None."""
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    return url or None


def open_workspace(path_or_url: str | Path | None = None, *, default: str | Path | None = None, crs: int | None = None,
                   read_only: bool = False, schema: str | None = None, busy_timeout_s: float = 30.0) -> WorkspaceBase:
    """Open a workspace on the backend the argument or the environment names.

    Parameters
    ----------
    path_or_url
        A ``postgresql://`` URL (PostGIS) or a ``.gpkg`` path (GeoPackage). ``None``: use
        ``DATABASE_URL`` when set, else ``default``.
    default
        The GeoPackage to use when neither an argument nor ``DATABASE_URL`` is given.
    crs
        4490 or 4326 for a new workspace; ``None`` = 4490 when created, else what it was created with.
    read_only
        Open an existing workspace without ever writing (``open_existing``).
    schema
        PostgreSQL schema (default ``$DATABASE_SCHEMA`` or ``workspace``); ignored for a GeoPackage.
    """
    target = workspace_target(path_or_url, default=default)
    if is_database_url(target):
        from geodata.store_pg import PostgisWorkspace  # psycopg only when PostGIS is used

        return PostgisWorkspace(str(target), schema=_schema(schema), crs=crs, busy_timeout_s=busy_timeout_s, read_only=read_only)
    return Workspace(target, crs=crs, busy_timeout_s=busy_timeout_s, read_only=read_only)


def workspace_target(path_or_url: str | Path | None = None, *, default: str | Path | None = None) -> str | Path:
    """The workspace the rule of :func:`open_workspace` names: the argument, else ``DATABASE_URL``,
    else ``default`` (a URL may hold a password: show it with :func:`mask_url`)."""
    target: str | Path | None = path_or_url
    if target is None or (isinstance(target, str) and not target.strip()):
        url = database_url()
        if url and not is_database_url(url):  # e.g. postgresql+psycopg:// (SQLAlchemy): never read as a file path
            raise DataError(DATABASE_URL_ENV, f"{mask_url(url)[:80]!r} is not a postgresql:// URL",
                            "write it as postgresql://user:password@host:5432/database (no '+driver' part), or unset it for the GeoPackage file")
        target = url or default
    if target is None:
        raise DataError(DATABASE_URL_ENV, "no workspace was named", "give a .gpkg path or a postgresql:// URL, or set DATABASE_URL")
    return target


def _schema(schema: str | None) -> str:
    from geodata.store_pg import DEFAULT_SCHEMA

    return schema or os.environ.get(DATABASE_SCHEMA_ENV, "").strip() or DEFAULT_SCHEMA


def restore_backup(backup: str | Path, path_or_url: str | Path | None = None, *, default: str | Path | None = None,
                   schema: str | None = None, progress: Progress | None = None, busy_timeout_s: float = 30.0) -> RestoreResult:
    """Verify the GeoPackage ``backup`` and put it in place of the workspace named as for
    :func:`open_workspace`, atomically; the replaced workspace is kept (a GeoPackage as
    ``<name>.before-restore-<UTC>.gpkg``, a PostGIS schema as ``<schema>_before_restore_<UTC>``).
    See :meth:`geodata.store.Workspace.restore_backup` and
    :meth:`geodata.store_pg.PostgisWorkspace.restore_backup`."""
    target = workspace_target(path_or_url, default=default)
    if is_database_url(target):
        from geodata.store_pg import PostgisWorkspace

        return PostgisWorkspace.restore_backup(backup, str(target), schema=_schema(schema), progress=progress, busy_timeout_s=busy_timeout_s)
    return Workspace.restore_backup(backup, target, progress=progress, busy_timeout_s=busy_timeout_s)

