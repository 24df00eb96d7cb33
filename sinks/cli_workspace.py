"""``python -m sinks workspace``: back up, restore, verify, migrate and describe the officers' workspace.

::

    python -m sinks workspace info                       # format, CRS, layers, versions, format history
    python -m sinks workspace verify                     # every version's content hash; exit 1 on problems
    python -m sinks workspace migrate                    # bring an older store format to this program's
    python -m sinks workspace backup [DEST.gpkg]         # default: <workspace folder>/backups/workspace-<UTC>.gpkg
    python -m sinks workspace restore BACKUP.gpkg        # verify it, then replace the workspace (the old one is kept)

Every subcommand takes ``--workspace PATH_OR_URL`` (a ``.gpkg`` file or a ``postgresql://`` URL;
default ``DATABASE_URL``, else ``$SINKS_WORKSPACE/workspace.gpkg``, the file the dashboard uses)
and ``--schema`` (PostGIS; default ``$DATABASE_SCHEMA`` or ``workspace``). ``info``, ``verify`` and
``backup`` open the workspace read-only; only ``migrate`` and ``restore`` change it. Progress goes
to stderr; a connection string is always shown with its password masked. Handlers let
``DataError`` propagate: ``sinks.cli.main`` prints file, problem and fix and exits 1.

Register with ``add_parsers(sub)`` on the ``add_subparsers`` object of ``sinks.cli``.
"""
from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone
from pathlib import Path

from geodata.store import MIGRATE_COMMAND, STORE_FORMAT_VERSION, WorkspaceBase, WorkspaceSummary
from geodata.workspace import is_database_url, mask_url, open_workspace, restore_backup, workspace_target
from sinks.landcover.datasets import workspace_dir

WORKSPACE_FILE = "workspace.gpkg"  # the dashboard's file in the workspace folder (ui.wetlands_flow.WORKSPACE_FILE)


def _default() -> Path:
    return workspace_dir() / WORKSPACE_FILE


def _where(args, ws: WorkspaceBase | None = None) -> str:
    """The workspace as named on the command line or by the environment, password masked."""
    where = mask_url(str(workspace_target(args.workspace, default=_default())))
    schema = getattr(ws, "schema", None)
    return f"{where} schema '{schema}'" if schema else where


def _open(args, *, read_only: bool = True) -> WorkspaceBase:
    return open_workspace(args.workspace, default=_default(), schema=args.schema, read_only=read_only)


def _print_summary(s: WorkspaceSummary, where: str) -> None:
    pending = f" (older than this program's {STORE_FORMAT_VERSION}: run `{MIGRATE_COMMAND}`)" if s.store_format < STORE_FORMAT_VERSION else ""
    print(f"workspace: {where} ({s.backend})")
    print(f"store format {s.store_format}{pending}; EPSG:{s.crs_epsg}; created {s.created_at}")
    if s.layers:
        width = max(len(name) for name, _, _ in s.layers)
        for name, versions, latest in s.layers:
            print(f"  {name:<{width}}  {versions:>5} version(s), latest with {latest} feature(s)")
    print(f"{len(s.layers)} layer(s), {s.versions} version(s), {s.features} feature row(s), {s.exports} export record(s)")


def _cmd_info(args) -> int:
    ws = _open(args)
    _print_summary(ws.summary(), _where(args, ws))
    print("store format history:")
    for c in ws.format_history():
        came = "created" if c.from_format is None else f"from {c.from_format}"
        print(f"  {c.at:%Y-%m-%dT%H:%M:%SZ}  format {c.store_format} ({came}) by {c.program}: {c.note}")
    return 0


def _cmd_verify(args) -> int:
    ws = _open(args)
    s = ws.summary()
    print(f"verifying {s.versions} version(s) of {len(s.layers)} layer(s) in {_where(args, ws)} ...", flush=True)
    t0 = time.perf_counter()
    problems = ws.verify()
    for p in problems:
        print(f"- {p}")
    took = time.perf_counter() - t0
    if problems:
        print(f"{len(problems)} problem(s) found in {took:.1f} s; restore the workspace from a backup "
              "(`python -m sinks workspace restore BACKUP.gpkg`)")
        return 1
    print(f"no problems: every version matches its content hash ({s.features} feature row(s), {took:.1f} s)")
    return 0


def _cmd_migrate(args) -> int:
    found = _open(args)  # read-only first: a missing workspace is refused, never created
    before = found.store_format
    if before == STORE_FORMAT_VERSION:
        print(f"{_where(args, found)} already has store format {before}; nothing to do")
        return 0
    print(f"migrating {_where(args, found)} from store format {before} to {STORE_FORMAT_VERSION} (one transaction) ...", flush=True)
    t0 = time.perf_counter()
    ws = _open(args, read_only=False)
    last = ws.format_history()[-1]
    print(f"migrated from format {ws.migrated_from or before} to {ws.store_format} in {time.perf_counter() - t0:.2f} s: {last.note}")
    return 0


def _cmd_backup(args) -> int:
    from sinks.cli import _Progress  # here: sinks.cli imports this module

    ws = _open(args)  # read-only: a backup never writes to the workspace
    dest = args.dest
    if dest is None:
        dest = workspace_dir() / "backups" / f"workspace-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.gpkg"
    res = ws.backup(dest, progress=_Progress())
    s = res.summary
    print(f"backed up {_where(args, ws)} to {res.path}: {len(s.layers)} layer(s), {s.versions} version(s), {s.features} feature row(s), "
          f"{s.exports} export record(s); {res.bytes / 1e6:.2f} MB in {res.seconds:.2f} s; verified")
    print(f"sha256 {res.sha256} (in {res.checksum_path.name}; check with `sha256sum -c {res.checksum_path.name}`)")
    return 0


def _cmd_restore(args) -> int:
    from sinks.cli import _Progress

    res = restore_backup(args.backup, args.workspace, default=_default(), schema=args.schema, progress=_Progress())
    s = res.summary
    print(f"restored {res.backup} into {mask_url(res.target)}: {len(s.layers)} layer(s), {s.versions} version(s), "
          f"{s.features} feature row(s), {s.exports} export record(s) in {res.seconds:.2f} s")
    if res.migrated_from is not None:
        print(f"the backup had store format {res.migrated_from}; the restored workspace has format {s.store_format}")
    if res.kept_previous:
        kind = "schema" if is_database_url(str(workspace_target(args.workspace, default=_default()))) else "file"
        print(f"the workspace it replaced is kept as {kind} {res.kept_previous} (remove it when no longer needed)")
    return 0


def add_parsers(sub) -> None:
    """Add ``workspace`` (with info, verify, migrate, backup, restore) to ``python -m sinks``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--workspace", default=None,
                        help="a .gpkg file or a postgresql:// URL (default: $DATABASE_URL, else $SINKS_WORKSPACE/workspace.gpkg)")
    common.add_argument("--schema", default=None, help="PostgreSQL schema of the workspace (default: $DATABASE_SCHEMA, else 'workspace')")
    ws = sub.add_parser("workspace", help="back up, restore, verify, migrate or describe the officers' workspace (red-line versions)")
    wsub = ws.add_subparsers(dest="workspace_command", required=True)

    i = wsub.add_parser("info", parents=[common], help="store format, CRS, layers and versions, format history (read-only)")
    i.set_defaults(func=_cmd_info)

    v = wsub.add_parser("verify", parents=[common], help="check every version's content hash (read-only); exit 1 on problems")
    v.set_defaults(func=_cmd_verify)

    m = wsub.add_parser("migrate", parents=[common], help=f"bring an older store format to format {STORE_FORMAT_VERSION} (one transaction)")
    m.set_defaults(func=_cmd_migrate)

    b = wsub.add_parser("backup", parents=[common], help="write a verified GeoPackage copy while others may keep saving")
    b.add_argument("dest", nargs="?", type=Path, default=None,
                   help="the new .gpkg file (default: <workspace folder>/backups/workspace-<UTC>.gpkg; never overwritten)")
    b.set_defaults(func=_cmd_backup)

    r = wsub.add_parser("restore", parents=[common], help="verify a backup, then replace the workspace with it (the old one is kept)")
    r.add_argument("backup", type=Path, help="a .gpkg written by `workspace backup` (its .sha256 beside it is checked when present)")
    r.set_defaults(func=_cmd_restore)
