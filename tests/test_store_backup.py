"""Backup, restore and store-format migrations of the workspace (geodata.store, geodata.store_pg,
geodata.workspace.restore_backup) and ``python -m sinks workspace``.

Every test taking ``backend`` runs on a GeoPackage file (``[gpkg]``) and on PostGIS (``[pg]``,
a fresh schema per test; skipped with the reason when PostGIS is unreachable, failed under
CI=true): see ``tests/test_store.py``. Backups are GeoPackage files on both backends. The
figures a report may quote (versions and rows copied, seconds) are printed (``pytest -s``),
never asserted.
"""
from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import signal
import sqlite3
import time
from pathlib import Path

import pyogrio
import pytest
import shapely

from geodata import store, store_pg
from geodata.errors import DataError
from geodata.files import sha256_file
from geodata.store import STORE_FORMAT_VERSION, Workspace
from geodata.store_pg import PostgisWorkspace
from geodata.workspace import restore_backup
from sinks.cli import main
from tests import test_store as ts
from tests.test_store import layer_of, open_target

backend = ts.backend  # the [gpkg] / [pg] fixture of test_store.py


def restore_into(be, name: str, backup: Path, **kw):
    """``restore_backup`` into the workspace ``name`` of the backend (created when missing)."""
    kind, where = be.target(name)
    if kind == "gpkg":
        return restore_backup(backup, where, **kw)
    url, schema = where
    res = restore_backup(backup, url, schema=schema, **kw)
    if res.kept_previous:
        be.schemas.append(res.kept_previous)  # dropped after the test
    return res


def fill(ws) -> None:
    """Two layers, five versions (one a restore), two exports."""
    ws.save("redlines", layer_of(3), author="王工", reason="first draw")
    ws.save("redlines", layer_of(2, prefix="s"), author="李工", reason="second\nline two")
    ws.restore("redlines", 1, author="王工", reason="revert")
    ws.save("sites", layer_of(4, prefix="site"), author="a", reason="sites")
    ws.save("sites", layer_of(1, prefix="site"), author="b", reason="fewer")


def everything(ws) -> dict:
    """Every version record and the content of every version (hash recomputed by load)."""
    out = {}
    for layer in ws.layers():
        for v in ws.history(layer):
            gdf = ws.load(layer, v.version)
            out[(layer, v.version)] = (v, gdf.attrs["store_sha256"], list(gdf["feature_id"]))
    return out


def snapshot(be, ws) -> str:
    """The backend's byte/row snapshot of a workspace (GeoPackage: the file's sha256)."""
    return be.snapshot(ws)


# ---------------------------------------------------------------------------------------------
# backup -> restore round trips


def test_backup_and_restore_reproduce_every_version(backend, tmp_path: Path):
    ws = backend.open(crs=4490)
    fill(ws)
    ws.export("redlines", tmp_path / "out.geojson")
    ws.export("sites", tmp_path / "sites.gpkg", crs=4326)
    before = everything(ws)
    res = ws.backup(tmp_path / "bk" / "backup.gpkg")
    s = res.summary
    print(f"\n[{backend.kind}] backup: {len(s.layers)} layers, {s.versions} versions, {s.features} feature rows, {s.exports} exports, "
          f"{res.bytes} bytes in {res.seconds:.3f} s")
    assert (s.versions, s.features, s.exports, s.store_format) == (5, 3 + 2 + 3 + 4 + 1, 2, STORE_FORMAT_VERSION)
    assert res.path.is_file() and res.checksum_path.read_text().split() == [res.sha256, "backup.gpkg"]
    assert not [p for p in res.path.parent.iterdir() if p.name.startswith(".")]  # no temporary file left
    # the backup is a GeoPackage workspace: same records, same hashes, same format history
    copy = Workspace.open_existing(res.path)
    assert everything(copy) == before and copy.verify() == []
    assert copy.format_history() == ws.format_history()
    assert "redlines" in {str(n) for n, _ in pyogrio.list_layers(res.path)}
    # restored into a new workspace of the same backend: every version's content hash again
    back = restore_into(backend, "restored", res.path)
    print(f"[{backend.kind}] restore into a new workspace: {back.summary.versions} versions in {back.seconds:.3f} s")
    assert back.kept_previous is None and back.migrated_from is None
    restored = backend.open("restored")
    assert everything(restored) == before and restored.verify() == []
    assert restored.summary().exports == 2 and restored.format_history() == ws.format_history()
    # and the restored workspace carries on: the next version is 3, the export check knows old exports
    assert restored.save("redlines", layer_of(1), author="c", reason="after restore").info.version == 4
    # the export records came along: the earlier export may be replaced, as in the original
    assert restored.export("redlines", tmp_path / "out.geojson", version=4).replaced_earlier_export


def test_restore_replaces_a_workspace_and_keeps_the_previous_one(backend, tmp_path: Path):
    ws = backend.open(crs=4490)
    fill(ws)
    bk = ws.backup(tmp_path / "b.gpkg").path
    ws.save("redlines", layer_of(5, prefix="late"), author="z", reason="after the backup")
    old = everything(ws)
    res = restore_into(backend, "work", bk)
    assert res.kept_previous
    assert everything(backend.open()) == everything(Workspace.open_existing(bk))
    assert backend.open().history("redlines")[-1].version == 3
    # nothing is lost: the replaced workspace is kept and still a sound workspace
    if backend.kind == "gpkg":
        kept = Workspace(res.kept_previous)
        assert Path(res.kept_previous).name.startswith("work.before-restore-")
    else:
        kept = PostgisWorkspace(ws.url, schema=res.kept_previous)
        assert res.kept_previous.startswith(f"{ws.schema}_before_restore_")
    assert everything(kept) == old and kept.verify() == []
    # the kept one's triggers check its own tables (PostGIS functions name their schema)
    assert kept.save("redlines", layer_of(1), author="k", reason="kept").info.version == 5
    assert backend.open().save("redlines", layer_of(1), author="k", reason="live").info.version == 4


def test_backup_refuses_to_overwrite_and_a_read_only_workspace_can_be_backed_up(backend, tmp_path: Path):
    ws = backend.open(crs=4490)
    ws.save("redlines", layer_of(2), author="a", reason="r")
    ro = ts.reopen_existing(ws)
    bk = ro.backup(tmp_path / "b.gpkg").path  # a backup never writes to the workspace
    before = sha256_file(bk)
    with pytest.raises(DataError, match="never overwrites") as err:
        ws.backup(bk)
    assert err.value.fix and sha256_file(bk) == before
    with pytest.raises(DataError, match="must end in .gpkg"):
        ws.backup(tmp_path / "b.sqlite")


# ---------------------------------------------------------------------------------------------
# a backup while another process saves


N_LIVE_SAVES = 12


def _keep_saving(target: tuple, started, n: int) -> None:
    ws = open_target(target)
    for k in range(n):
        ws.save("redlines", layer_of(20, prefix=f"k{k}f"), author="writer", reason=f"save {k}")
        if k == 1:
            started.set()


def test_backup_while_another_process_saves_is_consistent(backend, tmp_path: Path):
    target = backend.target("live")
    open_target(target, crs=4490).save("redlines", layer_of(2), author="seed", reason="seed")
    ctx = mp.get_context("spawn")
    started = ctx.Event()
    proc = ctx.Process(target=_keep_saving, args=(target, started, N_LIVE_SAVES))
    proc.start()
    backups = []
    try:
        assert started.wait(60), "the writer never started"
        for i in range(6):
            if not proc.is_alive():
                break
            backups.append(open_target(target).backup(tmp_path / f"b{i}.gpkg"))  # verified inside
    finally:
        proc.join(120)
    assert proc.exitcode == 0 and backups
    live = open_target(target).history("redlines")
    assert len(live) == 1 + N_LIVE_SAVES
    for res in backups:
        copy = Workspace.open_existing(res.path)
        hist = copy.history("redlines")
        assert hist == live[: len(hist)]  # a prefix of the live history: one consistent moment
        assert copy.verify() == []
        print(f"\n[{backend.kind}] backup during saves: {len(hist)} of {len(live)} versions, {res.summary.features} rows, {res.seconds:.3f} s")


# ---------------------------------------------------------------------------------------------
# damaged, changed and foreign backups are refused; the target stays as it was


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_restore_refuses_damaged_changed_or_foreign_files(backend, tmp_path: Path):
    ws = backend.open(crs=4490)
    fill(ws)
    good = ws.backup(tmp_path / "good.gpkg")
    before = snapshot(backend, ws)
    cases = {}
    # 1. any changed byte, with the checksum file beside it
    flipped = tmp_path / "flipped.gpkg"
    flipped.write_bytes(good.path.read_bytes())
    (tmp_path / "flipped.gpkg.sha256").write_text(good.checksum_path.read_text().replace("good.gpkg", "flipped.gpkg"))
    _flip(flipped, flipped.stat().st_size // 2)
    cases[flipped] = "does not match its checksum file"
    # 2. a changed coordinate of one stored polygon (in its WKB), no checksum file: the content
    # hash catches it
    tampered = tmp_path / "tampered.gpkg"
    data = good.path.read_bytes()
    wkb = shapely.to_wkb(Workspace.open_existing(good.path).load("sites", 2).geometry.iloc[0], byte_order=1, flavor="iso")
    at = data.find(wkb)
    assert at > 0
    tampered.write_bytes(data)
    _flip(tampered, at + len(wkb) // 2)
    cases[tampered] = "fails its checks"
    # 3. cut in half
    cut = tmp_path / "cut.gpkg"
    cut.write_bytes(data[: len(data) // 2])
    cases[cut] = "not a usable workspace backup|fails its checks"
    # 4. a GeoPackage that is not a workspace, 5. not even SQLite, 6. missing
    plain = tmp_path / "plain.gpkg"
    layer_of(2).to_file(plain, layer="zones", driver="GPKG", engine="pyogrio")
    cases[plain] = "not a usable workspace backup: the GeoPackage is not a workspace"
    text = tmp_path / "notes.gpkg"
    text.write_text("not a database\n" * 200)
    cases[text] = "not a usable workspace backup: the file is not a GeoPackage"
    cases[tmp_path / "missing.gpkg"] = "does not exist"
    for path, problem in cases.items():
        with pytest.raises(DataError, match=problem) as err:
            restore_into(backend, "work", path)
        assert str(path) in err.value.source and err.value.fix, path
        assert snapshot(backend, ws) == before, path  # the target is untouched
    assert not [p for p in tmp_path.iterdir() if ".before-restore-" in p.name or p.name.startswith(".")]
    assert everything(backend.open()) == everything(Workspace.open_existing(good.path))


def test_a_failure_mid_restore_leaves_the_target_as_it_was(backend, tmp_path: Path, monkeypatch):
    ws = backend.open(crs=4490)
    fill(ws)
    bk = ws.backup(tmp_path / "b.gpkg").path
    ws.save("redlines", layer_of(3, prefix="late"), author="z", reason="after the backup")
    before, records = snapshot(backend, ws), everything(ws)
    if backend.kind == "gpkg":  # the copy is made and migrated, then the disk fails before the swap
        real = store._fsync

        def failing_fsync(path):
            if ".restore-" in Path(path).name:
                raise RuntimeError("disk vanished (injected)")
            real(path)

        monkeypatch.setattr(store, "_fsync", failing_fsync)
    else:  # the third feature row written into the new schema fails
        backend.fail_on_third_row(monkeypatch)
    with pytest.raises(RuntimeError, match="injected"):
        restore_into(backend, "work", bk)
    monkeypatch.undo()
    assert snapshot(backend, ws) == before and everything(ws) == records
    if backend.kind == "gpkg":
        assert sorted(p.name for p in tmp_path.iterdir()) == ["b.gpkg", "b.gpkg.sha256", "work.gpkg"]
    else:
        assert _schemas_like(backend, ws.schema) == [ws.schema]


def _schemas_like(be, schema: str) -> list[str]:
    with be.connect() as con:
        return [r[0] for r in con.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s ORDER BY 1", (schema + "%",))]


def _die_mid_restore(kind: str, backup: str, where, started) -> None:
    """Child process: a restore that signals and hangs half-way (GeoPackage: with the restored
    copy written beside the target; PostGIS: with the old schema renamed and rows copied)."""
    def hang():
        started.set()
        time.sleep(120)

    if kind == "gpkg":
        real = store._fsync

        def slow_fsync(p):
            if ".restore-" in Path(p).name:
                hang()
            real(p)

        store._fsync = slow_fsync
        restore_backup(backup, where)
    else:
        real_ewkb, calls = store_pg._ewkb, {"n": 0}

        def slow_ewkb(geom, srid):
            calls["n"] += 1
            if calls["n"] == 5:
                hang()
            return real_ewkb(geom, srid)

        store_pg._ewkb = slow_ewkb
        url, schema = where
        restore_backup(backup, url, schema=schema)


def test_a_killed_restore_leaves_the_target_intact(backend, tmp_path: Path):
    ws = backend.open(crs=4490)
    fill(ws)
    bk = ws.backup(tmp_path / "b.gpkg").path
    ws.save("redlines", layer_of(3, prefix="late"), author="z", reason="after the backup")
    before, records = snapshot(backend, ws), everything(ws)
    ctx = mp.get_context("spawn")
    started = ctx.Event()
    proc = ctx.Process(target=_die_mid_restore, args=(backend.kind, str(bk), backend.target("work")[1], started))
    proc.start()
    try:
        assert started.wait(60), "the restore never got half-way"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.join(30)
    assert proc.exitcode == -signal.SIGKILL
    if backend.kind == "pg":
        for _ in range(100):  # the server rolls the dead session's transaction back
            if _schemas_like(backend, ws.schema) == [ws.schema]:
                break
            time.sleep(0.1)
        assert _schemas_like(backend, ws.schema) == [ws.schema]
    else:  # only the temporary copy is left over, beside the untouched target
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".work.gpkg.restore-")]
        assert len(leftovers) == 1 and not [p for p in tmp_path.iterdir() if ".before-restore-" in p.name]
    assert snapshot(backend, ws) == before and everything(ws) == records and ws.verify() == []
    res = restore_into(backend, "work", bk)  # and a second attempt goes through
    assert res.kept_previous and backend.open().history("redlines")[-1].version == 3


# ---------------------------------------------------------------------------------------------
# store format: 1 -> 2 on a writable open, idempotent, newer refused


# sha256 of the format-1 DDL as shipped (PostGIS: as rendered for schema "s", SRID 4490). The
# format-1 creation code must never change: new layouts are new MIGRATIONS.
FORMAT_1_GPKG_DDL_SHA256 = "ad46067cba024415a9427f4767c658bc498441600a70b93ee02b84f8230da0a6"
FORMAT_1_PG_DDL_SHA256 = "13de9b45777ff2a40831a56281f551432d0b48f4551d23c25cbfd5fd74815c75"


def make_format_1(be, out_dir: Path, name: str = "old"):
    """A format-1 workspace as the format-1 program left it: the format-1 tables (the frozen
    creation code this program runs before its migrations, store_meta saying "1") and two
    layers saved through the store's row hooks, which format 2 did not change."""
    kind, where = be.target(name)
    if kind == "gpkg":
        ws = Workspace._bare(path=Path(where), crs_epsg=4490, store_format=1)
    else:
        url, schema = where
        ws = PostgisWorkspace._bare(url=url, schema=schema, crs_epsg=4490, store_format=1)
    with ws._transaction(write=True, source="format 1 fixture") as con:
        if kind == "pg":
            con.execute(f'CREATE SCHEMA "{ws.schema}"')
        ws._create_store_tables(con, 4490, "2025-03-01T08:00:00.000000Z")
    fill(ws)
    ws.export("redlines", out_dir / "f1.geojson")
    return ws


def _layout(be, ws) -> list:
    """The store's tables, columns, indexes and triggers (GeoPackage: sqlite_master's SQL)."""
    if be.kind == "gpkg":
        con = sqlite3.connect(ws.path)
        try:
            return sorted(con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchall())
        finally:
            con.close()
    with be.connect() as con:
        cols = con.execute("SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = %s", (ws.schema,)).fetchall()
        trig = con.execute("SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                           "WHERE n.nspname = %s AND NOT t.tgisinternal", (ws.schema,)).fetchall()
        idx = con.execute("SELECT tablename, indexname FROM pg_indexes WHERE schemaname = %s", (ws.schema,)).fetchall()
        return sorted(cols) + sorted(trig) + sorted(idx)


def test_format_1_reads_read_only_and_migrates_once_on_a_writable_open(backend, tmp_path: Path):
    old = make_format_1(backend, tmp_path)
    records = everything(old)
    # read-only: format 1 is read as it is, never changed
    before = snapshot(backend, old)
    ro = ts.reopen_existing(old)
    assert ro.store_format == 1 and everything(ro) == records and ro.verify() == []
    assert [c.store_format for c in ro.format_history()] == [1] and ro.summary().store_format == 1
    assert snapshot(backend, old) == before
    # writable: migrated to format 2 in one transaction, the data untouched, the change recorded
    t0 = time.perf_counter()
    ws = backend.open("old")
    print(f"\n[{backend.kind}] migration 1 -> {STORE_FORMAT_VERSION} of {len(records)} versions: {time.perf_counter() - t0:.3f} s (open included)")
    assert (ws.migrated_from, ws.store_format) == (1, STORE_FORMAT_VERSION)
    hist = ws.format_history()
    assert [(c.store_format, c.from_format) for c in hist] == [(1, None), (2, 1)]
    assert hist[0].at.isoformat() == "2025-03-01T08:00:00+00:00" and "store_formats" in hist[1].note
    assert hist[1].program == store.PROGRAM and hist[1].at.tzinfo is not None
    assert everything(ws) == records and ws.verify() == []
    # idempotent: the next opens find format 2 and change nothing
    after = snapshot(backend, ws)
    again = backend.open("old")
    assert again.migrated_from is None and len(again.format_history()) == 2 and snapshot(backend, ws) == after
    # a migrated workspace is laid out exactly like a new one
    fresh = backend.open("fresh", crs=4490)
    fill(fresh)
    assert _layout(backend, ws) == _layout(backend, fresh)
    # and saves go on where format 1 left off
    assert ws.save("redlines", layer_of(1), author="a", reason="after migration").info.version == 4
    # the history is append-only too
    if backend.kind == "gpkg":
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            sqlite3.connect(ws.path).execute("DELETE FROM store_formats")
    else:
        import psycopg

        with backend.connect() as con, pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="append-only"):
            con.execute(f'UPDATE "{ws.schema}".store_formats SET note = \'x\'')


def test_a_failed_migration_leaves_format_1(backend, tmp_path: Path, monkeypatch):
    old = make_format_1(backend, tmp_path)
    before = snapshot(backend, old)
    module = store if backend.kind == "gpkg" else store_pg
    real = module.MIGRATIONS[0]

    def half(ws, con):
        real.apply(ws, con)  # the new table is created ...
        raise RuntimeError("power cut (injected)")  # ... and the step dies

    monkeypatch.setattr(type(old), "MIGRATIONS", (store.Migration(1, 2, real.what, half),))
    with pytest.raises(RuntimeError, match="injected"):
        backend.open("old")
    monkeypatch.undo()
    assert snapshot(backend, old) == before and ts.reopen_existing(old).store_format == 1
    assert backend.open("old").store_format == STORE_FORMAT_VERSION


def _open_at(target: tuple, start_at: float) -> None:
    while time.time() < start_at:
        time.sleep(0.005)
    assert open_target(target).store_format == STORE_FORMAT_VERSION


def test_processes_opening_a_format_1_workspace_at_once_migrate_it_once(backend, tmp_path: Path):
    old = make_format_1(backend, tmp_path)
    records = everything(old)
    kind, where = backend.target("old")
    ctx = mp.get_context("spawn")
    start_at = time.time() + 4.0  # all three open together, once imported
    procs = [ctx.Process(target=_open_at, args=((kind, where), start_at)) for _ in range(3)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
    assert [proc.exitcode for proc in procs] == [0, 0, 0]
    ws = ts.reopen_existing(old)
    assert [(c.store_format, c.from_format) for c in ws.format_history()] == [(1, None), (2, 1)]  # one migration
    assert everything(ws) == records and ws.verify() == []


def test_restore_refuses_a_schema_that_is_not_a_workspace(pg_url: str, tmp_path: Path):
    be = ts.PgBackend(pg_url)
    try:
        url, schema = be.target("foreign")[1]
        bk = PostgisWorkspace(url, schema=be.target("src")[1][1], crs=4490)
        bk.save("redlines", layer_of(1), author="a", reason="r")
        path = bk.backup(tmp_path / "b.gpkg").path
        with be.connect() as con:
            con.execute(f'CREATE SCHEMA "{schema}"')
            con.execute(f'CREATE TABLE "{schema}".parcels (id int)')
        with pytest.raises(DataError, match="tables that are not a workspace's") as err:
            restore_backup(path, url, schema=schema)
        assert "nothing was changed" in err.value.problem and "another schema" in err.value.fix
        assert _schemas_like(be, schema) == [schema]
        with be.connect() as con:
            assert con.execute(f'SELECT count(*) FROM "{schema}".parcels').fetchone() == (0,)
    finally:
        be.drop()


def _set_meta_format(be, ws, value: str) -> None:
    if be.kind == "gpkg":
        con = sqlite3.connect(ws.path, isolation_level=None)
        con.execute("DROP TRIGGER store_meta_no_update")
        con.execute("UPDATE store_meta SET value = ? WHERE key = 'store_format'", (value,))
        con.close()
    else:
        with be.connect() as con:
            con.execute(f'ALTER TABLE "{ws.schema}".store_meta DISABLE TRIGGER store_meta_no_update_delete')
            con.execute(f'UPDATE "{ws.schema}".store_meta SET value = %s WHERE key = \'store_format\'', (value,))


def test_a_workspace_of_a_newer_program_is_refused(backend, tmp_path: Path):
    ws = backend.open(crs=4490)
    ws.save("redlines", layer_of(1), author="a", reason="r")
    bk = ws.backup(tmp_path / "b.gpkg").path
    _set_meta_format(backend, ws, str(STORE_FORMAT_VERSION + 1))
    before = snapshot(backend, ws)
    for opener in (lambda: backend.open(), lambda: ts.reopen_existing(ws)):
        with pytest.raises(DataError, match=f"store format {STORE_FORMAT_VERSION + 1}, newer than") as err:
            opener()
        assert "upgrade this program" in err.value.fix
    assert snapshot(backend, ws) == before
    # a backup made by a newer program is refused as well (before anything is touched)
    bk.with_name(bk.name + ".sha256").unlink()  # (else the changed bytes fail the checksum first)
    newer = Workspace(bk)
    _set_meta_format(ts.GpkgBackend(tmp_path), newer, "99")
    with pytest.raises(DataError, match="not a usable workspace backup.*newer than"):
        restore_into(backend, "other", bk)


def test_the_format_1_creation_code_is_frozen(tmp_path: Path):
    gpkg = "\n".join(store._STORE_DDL_V1)
    assert hashlib.sha256(gpkg.encode()).hexdigest() == FORMAT_1_GPKG_DDL_SHA256
    steps = [(m.from_format, m.to_format) for m in store.MIGRATIONS]
    assert steps == [(k, k + 1) for k in range(1, STORE_FORMAT_VERSION)]
    assert [(m.from_format, m.to_format) for m in store_pg.MIGRATIONS] == steps


def test_the_format_1_postgis_creation_code_is_frozen(pg_url: str):
    import psycopg

    with psycopg.connect(pg_url) as con:
        text = "\n".join(s.as_string(con) for s in store_pg._ddl("s", 4490))
    assert hashlib.sha256(text.encode()).hexdigest() == FORMAT_1_PG_DDL_SHA256


def test_a_format_1_backup_restores_as_format_2(backend, tmp_path: Path):
    old = make_format_1(backend, tmp_path)
    records = everything(old)
    bk = ts.reopen_existing(old).backup(tmp_path / "f1.gpkg")
    assert bk.summary.store_format == (1 if backend.kind == "gpkg" else 2)  # a file copy keeps its format
    res = restore_into(backend, "new", bk.path)
    assert res.summary.store_format == STORE_FORMAT_VERSION
    assert res.migrated_from == (1 if backend.kind == "gpkg" else None)  # PostGIS backups are written in the current format
    new = backend.open("new")
    assert everything(new) == records
    assert [(c.store_format, c.from_format) for c in new.format_history()][-1] == (2, 1)


# ---------------------------------------------------------------------------------------------
# python -m sinks workspace ...


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(["workspace", *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_on_the_default_geopackage(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SINKS_WORKSPACE", str(tmp_path / "wsdir"))
    rc, out, err = run_cli(capsys, "info")
    assert rc == 1 and "workspace.gpkg" in err and "problem: the workspace file does not exist" in err and "fix:" in err
    assert not (tmp_path / "wsdir" / "workspace.gpkg").exists()  # info never creates a workspace
    ws = Workspace(tmp_path / "wsdir" / "workspace.gpkg", crs=4490)
    fill(ws)
    rc, out, _ = run_cli(capsys, "info")
    assert rc == 0 and "store format 2; EPSG:4490" in out and "redlines" in out and "2 layer(s), 5 version(s), 13 feature row(s)" in out
    rc, out, _ = run_cli(capsys, "verify")
    assert rc == 0 and "no problems" in out
    rc, out, _ = run_cli(capsys, "migrate")
    assert rc == 0 and "already has store format 2; nothing to do" in out
    rc, out, err = run_cli(capsys, "backup")
    backups = sorted((tmp_path / "wsdir" / "backups").glob("workspace-*.gpkg"))
    assert rc == 0 and len(backups) == 1 and "5 version(s)" in out and "verified" in out and "sha256sum -c" in out
    assert "[100%]" in err  # progress lines on stderr
    print(f"\n[cli] {out.strip()}")
    rc, out, err = run_cli(capsys, "backup", str(backups[0]))
    assert rc == 1 and "never overwrites" in err
    ws.save("redlines", layer_of(1), author="z", reason="later")
    rc, out, err = run_cli(capsys, "restore", str(backups[0]))
    assert rc == 0 and "restored" in out and "kept as file" in out and "before-restore-" in out
    assert Workspace(tmp_path / "wsdir" / "workspace.gpkg").history("redlines")[-1].version == 3
    # a damaged backup: exit 1, file / problem / fix, nothing replaced
    _flip(backups[0], backups[0].stat().st_size // 2)
    before = sha256_file(tmp_path / "wsdir" / "workspace.gpkg")
    rc, out, err = run_cli(capsys, "restore", str(backups[0]))
    assert rc == 1 and f"error: {backups[0]}" in err and "problem: the file does not match its checksum" in err and "fix:" in err
    assert sha256_file(tmp_path / "wsdir" / "workspace.gpkg") == before


def test_cli_verify_reports_a_changed_workspace(tmp_path: Path, capsys):
    ws = Workspace(tmp_path / "w.gpkg", crs=4490)
    ws.save("redlines", layer_of(2), author="a", reason="r")
    con = sqlite3.connect(ws.path, isolation_level=None)  # an outsider edits a stored row
    con.execute("DROP TRIGGER redlines_store_no_update")
    con.execute("UPDATE redlines SET attrs_json = replace(attrs_json, '1', '9')")
    con.close()
    rc, out, _ = run_cli(capsys, "verify", "--workspace", str(ws.path))
    assert rc == 1 and "version 1" in out and "1 problem(s) found" in out and "workspace restore" in out


def test_cli_migrates_a_format_1_workspace_and_refuses_a_newer_one(backend, tmp_path: Path, capsys):
    old = make_format_1(backend, tmp_path)
    args = ["--workspace", str(old.path)] if backend.kind == "gpkg" else ["--workspace", old.url, "--schema", old.schema]
    rc, out, _ = run_cli(capsys, "info", *args)
    assert rc == 0 and "store format 1 (older than this program's 2: run `python -m sinks workspace migrate`)" in out
    rc, out, _ = run_cli(capsys, "migrate", *args)
    assert rc == 0 and "migrated from format 1 to 2" in out
    rc, out, _ = run_cli(capsys, "migrate", *args)
    assert rc == 0 and "nothing to do" in out
    _set_meta_format(backend, old, "7")
    for cmd in ("info", "migrate", "verify", "backup"):
        rc, out, err = run_cli(capsys, cmd, *args)
        assert rc == 1 and "store format 7, newer than" in err and "fix: upgrade this program" in err, cmd


def test_cli_never_prints_the_database_password(pg_url: str, tmp_path: Path, monkeypatch, capsys):
    from psycopg.conninfo import conninfo_to_dict

    password = conninfo_to_dict(pg_url).get("password")
    be = ts.PgBackend(pg_url)
    try:
        url, schema = be.target("cli")[1]
        fill(PostgisWorkspace(url, schema=schema, crs=4490))
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("DATABASE_SCHEMA", schema)
        outputs = []
        for argv in (["info"], ["verify"], ["migrate"], ["backup", str(tmp_path / "b.gpkg")], ["restore", str(tmp_path / "b.gpkg")],
                     ["restore", str(tmp_path / "missing.gpkg")], ["info", "--schema", "public"]):
            rc, out, err = run_cli(capsys, *argv)
            outputs.append((argv[0], rc, out + err))
            if "kept as schema" in out:
                be.schemas.append(out.split("kept as schema ")[1].split()[0])
        assert [rc for _, rc, _ in outputs] == [0, 0, 0, 0, 0, 1, 1]
        assert "kept as schema" in outputs[4][2] and "***" in outputs[0][2]
        if password:
            assert not any(f":{password}@" in text for _, _, text in outputs)
        print(f"\n[cli pg] {next(line for line in outputs[3][2].splitlines() if line.startswith('backed up'))}")
    finally:
        be.drop()
