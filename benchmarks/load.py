"""Load: browser-less sessions read the dashboard over Streamlit's websocket while officers save.

    .venv/bin/python benchmarks/load.py [--sessions 8] [--rounds 1] [--writers 2] [--deadline 600]
        [--pages overview,wetlands,...] [--save-interval 0.5] [--port PORT --workspace DIR]

Starts ``streamlit run app.py`` on a free port of 127.0.0.1 with its own workspace and accounts
file in a temporary folder (or uses the server already listening on ``--port``, whose workspace
folder ``--workspace`` names), loads every page once to warm the caches, then runs ``--sessions``
concurrent sessions, each one websocket that loads the ``--pages`` in turn ``--rounds`` times,
WHILE ``--writers`` officer processes repeatedly load, edit and save versions of the layer
``load_test`` into the same workspace GeoPackage (``geodata.store.Workspace``). At the end the
workspace is verified (``Workspace.verify``) and every save an officer was told succeeded is
looked up again (rows lost must be 0). Prints a table and one JSON line; the exit code is 1 when
any page load failed or did not finish before ``--deadline`` seconds, a writer hit an unexpected
error, the workspace does not verify, or a row is lost.

The client speaks the frontend's protocol (``streamlit.proto``): a session is one websocket on
``/_stcore/stream`` (subprotocol ``streamlit``); a page load is a ``BackMsg.rerun_script`` whose
``ClientState`` carries the page's url path as ``page_name`` (the server resolves it through
``st.navigation``) and the query string; the server answers with ForwardMsgs (``new_session``,
``navigation``, ``delta`` ..., ``script_finished``). A load is done at ``script_finished``
FINISHED_SUCCESSFULLY (FINISHED_EARLY_FOR_RERUN is a ``st.rerun``/``st.switch_page`` inside the
load: keep reading). Errors: an exception element, an ``st.error`` alert, ``page_not_found``, a
compilation error, a closed socket, or no ``script_finished`` before the deadline.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LAYER = "load_test"  # not a layer any page reads or edits: the pages are not disturbed
WORKSPACE_FILE = "workspace.gpkg"  # as ui.wetlands_flow.WORKSPACE_FILE (not imported: that module imports streamlit)
DEFAULT_PAGES = ("overview", "explorer?area=district:pukou", "wetlands", "protection", "greening", "neutrality")
MAX_MESSAGE_BYTES = 512 * 2**20  # a map can be tens of MB (Streamlit's own limit is 200 MB)


# ---------------------------------------------------------------------------------------------
# the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health(base: str, timeout_s: float = 5.0) -> bool:
    """Whether ``GET /_stcore/health`` answers ``ok``."""
    try:
        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=timeout_s) as r:
            return r.read().decode().strip() == "ok"
    except OSError:
        return False


@contextlib.contextmanager
def streamlit_server(root: Path, *, start_timeout_s: float = 120.0, watch_files: bool = False) -> Iterator[tuple[str, Path]]:
    """``streamlit run app.py`` on a free port of 127.0.0.1 with its own workspace
    (``root/ws``) and accounts file until the block ends; yields (base URL, workspace folder).
    The log is ``root/streamlit.log``.

    The file watcher is off unless ``watch_files``, as in a deployment: with it on, a source
    file saved during the run (another developer's edit) makes Streamlit evict the app's modules
    from ``sys.modules`` while other sessions are importing them, and their runs fail with
    ``KeyError: 'geodata'`` inside importlib (seen here with 8 sessions)."""
    port = free_port()
    ws_dir = root / "ws"
    env = {k: v for k, v in os.environ.items() if k not in ("SINKS_CONFIG_DIR", "DATABASE_URL")}
    env |= {"SINKS_WORKSPACE": str(ws_dir), "SINKS_ACCOUNTS": str(root / "accounts.json")}
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    if not watch_files:
        cmd += ["--server.fileWatcherType", "none"]
    log = root / "streamlit.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        give_up = time.monotonic() + start_timeout_s
        while not health(base, 2.0):
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
            if time.monotonic() > give_up:
                raise RuntimeError(f"streamlit did not answer /_stcore/health within {start_timeout_s:g} s:\n{log.read_text(errors='replace')}")
            time.sleep(0.5)
        yield base, ws_dir
    finally:
        proc.terminate()
        end_process(proc, timeout_s=15)


def end_process(proc: subprocess.Popen, *, timeout_s: float) -> None:
    """Wait up to ``timeout_s`` for ``proc`` to end, then kill it."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=timeout_s)
    if proc.poll() is None:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------------------------------------------
# the browser-less client


@dataclass
class PageLoad:
    """One page load of one session."""

    session: int
    page: str
    seconds: float | None = None  # None: did not finish
    deltas: int = 0
    bytes: int = 0
    ran: str | None = None  # the url path of the page the server ran (its navigation message)
    reruns: int = 0  # runs that ended early for a rerun inside the load (st.rerun / st.switch_page)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.seconds is not None and not self.errors


def _rerun_msg(page: str) -> bytes:
    """The BackMsg the frontend sends to load ``page`` ("url_path" or "url_path?query")."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    name, _, query = page.partition("?")
    msg = BackMsg()
    cs = msg.rerun_script
    cs.page_name = name  # resolved by url path; the frontend leaves page_script_hash empty for a typed URL
    cs.query_string = query
    cs.context_info.timezone = "Asia/Shanghai"
    cs.context_info.timezone_offset = -480
    cs.context_info.locale = "zh-CN"
    cs.context_info.url = f"http://127.0.0.1/{page}"
    return msg.SerializeToString()


def _element_error(delta) -> str | None:
    """The text of an exception element or an ``st.error`` alert, else None."""
    if delta.WhichOneof("type") != "new_element":
        return None
    el = delta.new_element
    kind = el.WhichOneof("type")
    if kind == "exception":
        return f"exception {el.exception.type}: {el.exception.message}"[:500]
    if kind == "alert":
        from streamlit.proto.Alert_pb2 import Alert

        if el.alert.format == Alert.ERROR:
            return f"st.error: {el.alert.body}"[:500]
    return None


async def load_page(conn, session: int, page: str, *, until: float) -> PageLoad:
    """Send one page load on an open websocket and read ForwardMsgs to its ``script_finished``
    (or until the monotonic time ``until``)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    result = PageLoad(session=session, page=page)
    t0 = time.monotonic()
    await conn.write_message(_rerun_msg(page), binary=True)
    while True:
        left = until - time.monotonic()
        if left <= 0:
            result.errors.append(f"no script_finished before the deadline ({time.monotonic() - t0:.1f} s)")
            return result
        try:
            data = await asyncio.wait_for(conn.read_message(), timeout=left)
        except asyncio.TimeoutError:
            continue
        if data is None:
            result.errors.append(f"the websocket closed ({conn.close_code} {conn.close_reason})")
            return result
        result.bytes += len(data)
        msg = ForwardMsg()
        msg.ParseFromString(data)
        kind = msg.WhichOneof("type")
        if kind == "delta":
            result.deltas += 1
            problem = _element_error(msg.delta)
            if problem:
                result.errors.append(problem)
        elif kind == "navigation":
            nav = msg.navigation
            result.ran = {a.page_script_hash: a.url_pathname for a in nav.app_pages}.get(nav.page_script_hash)
        elif kind == "page_not_found":
            result.errors.append(f"page not found: {page}")
        elif kind == "session_event" and msg.session_event.WhichOneof("type") == "script_compilation_exception":
            result.errors.append(f"script compilation error: {msg.session_event.script_compilation_exception.message}"[:500])
        elif kind == "script_finished":
            status = msg.script_finished
            if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                result.reruns += 1
                continue
            if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                result.errors.append("the script finished with a compile error")
            if result.ran != page.partition("?")[0]:
                result.errors.append(f"the server ran the page {result.ran!r}, not {page!r}")
            result.seconds = time.monotonic() - t0
            return result


async def run_session(ws_url: str, session: int, pages: list[str], rounds: int, *, until: float) -> list[PageLoad]:
    """One browser-less session: one websocket, ``pages`` in turn, ``rounds`` times."""
    from tornado.websocket import websocket_connect

    todo = [p for _ in range(rounds) for p in pages]
    done: list[PageLoad] = []
    try:
        conn = await asyncio.wait_for(
            websocket_connect(ws_url, subprotocols=["streamlit"], max_message_size=MAX_MESSAGE_BYTES),
            timeout=max(1.0, until - time.monotonic()))
    except (OSError, asyncio.TimeoutError) as exc:
        return [PageLoad(session=session, page=p, errors=[f"cannot connect: {exc!r}"]) for p in todo]
    try:
        for page in todo:
            load = await load_page(conn, session, page, until=until)
            done.append(load)
            if load.seconds is None:  # the socket is gone or time is up: the rest did not run
                done += [PageLoad(session=session, page=p, errors=["not started (an earlier load did not finish)"])
                         for p in todo[len(done):]]
                break
    finally:
        conn.close()
    return done


def run_sessions(base: str, sessions: int, pages: list[str], rounds: int, *, until: float) -> list[PageLoad]:
    """``sessions`` concurrent sessions (one event loop); every page load, in session order."""
    ws_url = base.replace("http://", "ws://", 1) + "/_stcore/stream"

    async def everyone() -> list[list[PageLoad]]:
        return await asyncio.gather(*(run_session(ws_url, i, pages, rounds, until=until) for i in range(sessions)))

    return [load for per_session in asyncio.run(everyone()) for load in per_session]


# ---------------------------------------------------------------------------------------------
# the officers (separate processes)


def _base_layer(n: int = 24):
    """``n`` small squares over Jiangbei (lon/lat), ids f0..f{n-1}."""
    import geopandas as gpd
    import shapely

    cells = [shapely.box(118.60 + 0.02 * (i % 6), 32.05 + 0.02 * (i // 6), 118.61 + 0.02 * (i % 6), 32.06 + 0.02 * (i // 6))
             for i in range(n)]
    return gpd.GeoDataFrame({"feature_id": [f"f{i}" for i in range(n)], "edit_no": [0] * n, "officer": [""] * n},
                            geometry=cells, crs="EPSG:4326")


def writer_main(workspace: Path, author: str, stop_file: Path, interval_s: float, seed: int) -> int:
    """An officer: load the latest ``load_test``, edit one feature, save with ``expected_parent``
    (an optimistic check), until ``stop_file`` exists. One JSON line per outcome on stdout:
    ``saved`` (version, features, sha256), ``conflict`` (someone saved first), ``busy``
    (StoreBusyError), ``error`` (anything else)."""
    import shapely

    from geodata.errors import DataError
    from geodata.store import ConflictError, StoreBusyError, Workspace

    rng = random.Random(seed)
    ws = Workspace(workspace / WORKSPACE_FILE)

    def emit(**kw) -> None:
        print(json.dumps(kw), flush=True)

    emit(event="ready", author=author)

    edit = 0
    while not stop_file.exists():
        edit += 1
        try:
            if LAYER in ws.layers():
                gdf = ws.load(LAYER).to_crs("EPSG:4326")
                parent = int(gdf.attrs["store_version"])
            else:
                gdf, parent = _base_layer(), 0
            i = rng.randrange(len(gdf))
            dx = rng.uniform(-0.001, 0.001)
            gdf.loc[i, "geometry"] = shapely.affinity.translate(gdf.geometry.iloc[i], xoff=dx)
            gdf.loc[i, "edit_no"] = edit
            gdf.loc[i, "officer"] = author
            res = ws.save(LAYER, gdf, author=author, reason=f"load test edit {edit}", expected_parent=parent)
            emit(event="saved", version=res.info.version, features=res.info.feature_count, sha256=res.info.sha256, author=author)
        except ConflictError:
            emit(event="conflict", author=author)
        except StoreBusyError as exc:
            emit(event="busy", author=author, message=str(exc)[:300])
        except (DataError, OSError, ValueError) as exc:
            emit(event="error", author=author, message=f"{type(exc).__name__}: {exc}"[:500])
        time.sleep(interval_s)
    return 0


class Writers:
    """``n`` officer processes (this file run with ``--writer``) and the events they print, read
    by one thread per process."""

    def __init__(self, workspace: Path, n: int, interval_s: float) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="load_writers_"))
        self.stop_file = self._dir / "stop"
        self.procs = [self._spawn(i, workspace, interval_s) for i in range(n)]
        self.events: list[list[dict]] = [[] for _ in self.procs]
        self._threads = [threading.Thread(target=self._read, args=(p, ev), daemon=True) for p, ev in zip(self.procs, self.events)]
        for t in self._threads:
            t.start()

    def _spawn(self, i: int, workspace: Path, interval_s: float) -> subprocess.Popen:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--writer", f"officer-{i + 1}", "--workspace", str(workspace),
               "--stop-file", str(self.stop_file), "--save-interval", str(interval_s), "--seed", str(i)]
        with open(self._dir / f"officer-{i + 1}.err", "wb") as err:
            return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err, text=True)

    @staticmethod
    def _read(proc: subprocess.Popen, events: list[dict]) -> None:
        for line in proc.stdout:
            with contextlib.suppress(json.JSONDecodeError):
                events.append(json.loads(line))

    def wait_first_saves(self, *, until: float) -> None:
        """Until every officer has tried one save (imports and opening the workspace take a few
        seconds), so the sessions start with the writers already at work."""
        while time.monotonic() < until and not all(
                any(e["event"] != "ready" for e in ev) or p.poll() is not None for p, ev in zip(self.procs, self.events)):
            time.sleep(0.2)

    def stop(self, *, timeout_s: float) -> list[dict]:
        """Ask the officers to stop after their current save; every event. An officer still
        saving after ``timeout_s`` is killed (its acknowledged saves were printed before)."""
        self.stop_file.touch()
        give_up = time.monotonic() + timeout_s
        out = []
        for i, (p, t, ev) in enumerate(zip(self.procs, self._threads, self.events)):
            end_process(p, timeout_s=max(0.1, give_up - time.monotonic()))
            t.join(timeout=10)
            p.stdout.close()
            out += ev
            if p.returncode:
                err = (self._dir / f"officer-{i + 1}.err").read_text(errors="replace").strip()[-500:]
                out.append({"event": "error", "message": f"officer-{i + 1} exited with {p.returncode}: {err}"})
        shutil.rmtree(self._dir, ignore_errors=True)
        return out


def check_workspace(workspace: Path, saved: list[dict]) -> dict:
    """``verify()`` problems, and the acknowledged saves whose version is missing or differs
    (author, sha256, feature count) with the rows they held."""
    from geodata.store import Workspace

    ws = Workspace.open_existing(workspace / WORKSPACE_FILE)
    problems = ws.verify()
    present = {v.version: v for v in ws.history(LAYER)} if LAYER in ws.layers() else {}
    lost_versions, lost_rows = [], 0
    for s in saved:
        v = present.get(s["version"])
        if v is None or v.sha256 != s["sha256"] or v.author != s["author"] or v.feature_count != s["features"]:
            lost_versions.append(s["version"])
            lost_rows += s["features"]
            continue
        rows = len(ws.load(LAYER, s["version"]))
        if rows != s["features"]:
            lost_versions.append(s["version"])
            lost_rows += s["features"] - rows
    return {"verify_problems": problems, "versions_present": len(present), "versions_lost": lost_versions, "rows_lost": lost_rows}


# ---------------------------------------------------------------------------------------------
# the run


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def run_load(base: str, workspace: Path, *, sessions: int, rounds: int, writers: int, pages: list[str],
             until: float, save_interval_s: float = 0.5, warm: bool = True) -> dict:
    """Warm every page once, time one session alone (the baseline), then sessions and writers
    together; the summary (a dict)."""
    t_start = time.monotonic()
    warm_loads: list[PageLoad] = []
    alone: list[PageLoad] = []
    warm_s = 0.0
    if warm:
        warm_loads = run_sessions(base, 1, pages, 1, until=until)
        warm_s = time.monotonic() - t_start
        alone = run_sessions(base, 1, pages, 1, until=until)
        warm_loads += alone  # their errors count as warm-up errors
    alone_s = sum(x.seconds for x in alone if x.ok)
    officers = Writers(workspace, writers, save_interval_s)
    officers.wait_first_saves(until=min(until, time.monotonic() + 120))
    t0 = time.monotonic()
    loads = run_sessions(base, sessions, pages, rounds, until=until) if sessions else []
    load_s = time.monotonic() - t0
    events = officers.stop(timeout_s=max(30.0, until - time.monotonic()))
    saved = [e for e in events if e["event"] == "saved"]
    check = check_workspace(workspace, saved) if (workspace / WORKSPACE_FILE).exists() else \
        {"verify_problems": [f"no workspace at {workspace / WORKSPACE_FILE}"], "versions_present": 0, "versions_lost": [], "rows_lost": 0}
    ok = [x.seconds for x in loads if x.ok]
    failed = [x for x in warm_loads + loads if not x.ok]
    writer_errors = [e["message"] for e in events if e["event"] == "error"]
    per_page = {}
    for p in pages:
        secs = [x.seconds for x in loads if x.page == p and x.ok]
        per_page[p] = {"loads": len(secs), "p50_s": _r(_pct(secs, 0.5)), "max_s": _r(max(secs) if secs else None),
                       "alone_s": _r(next((x.seconds for x in alone if x.page == p and x.ok), None))}
    return {
        "sessions": sessions, "rounds": rounds, "pages": pages, "writers": writers,
        "health_ok": health(base),
        "warm_s": round(warm_s, 1), "warm_errors": sum(not x.ok for x in warm_loads),
        "page_loads": len(loads), "page_loads_ok": len(ok),
        "errors": sum(bool(x.errors) and x.seconds is not None for x in loads) + len(writer_errors),
        "unfinished": sum(x.seconds is None for x in loads),
        "error_messages": [f"session {x.session} {x.page}: {x.errors[0]}" for x in failed][:5] + writer_errors[:5],
        "p50_s": _r(_pct(ok, 0.5)), "p95_s": _r(_pct(ok, 0.95)), "max_s": _r(max(ok) if ok else None),
        "loads_per_s": _r(len(ok) / load_s if load_s > 0 else None),
        "alone_round_s": _r(alone_s) if alone else None,
        "alone_loads_per_s": _r(len(alone) / alone_s) if alone and alone_s > 0 else None,
        "deltas_per_load": _r(sum(x.deltas for x in loads) / len(loads) if loads else None, 1),
        "mb_received": _r(sum(x.bytes for x in loads) / 2**20, 1),
        "per_page": per_page,
        "saves": len(saved), "saves_busy": sum(e["event"] == "busy" for e in events),
        "saves_conflict": sum(e["event"] == "conflict" for e in events),
        "versions_present": check["versions_present"], "versions_lost": len(check["versions_lost"]),
        "rows_lost": check["rows_lost"], "verify_problems": check["verify_problems"][:5],
        "load_s": round(load_s, 1), "wall_s": round(time.monotonic() - t_start, 1),
    }


def _r(x: float | None, nd: int = 2) -> float | None:
    return None if x is None else round(x, nd)


def failed(summary: dict) -> bool:
    return bool(summary["errors"] or summary["unfinished"] or summary["warm_errors"] or summary["versions_lost"]
                or summary["rows_lost"] or summary["verify_problems"] or not summary["health_ok"])


def server_tracebacks(log: Path, limit: int = 3) -> list[str]:
    """The first ``limit`` tracebacks in a Streamlit log (what the redacted exception elements
    hide from the client)."""
    blocks: list[list[str]] = []
    inside = False
    for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
        if line.startswith("Traceback"):
            blocks.append([line])
            inside = True
        elif inside:
            blocks[-1].append(line)
            inside = not line or line[0].isspace()  # the unindented exception line ends it
    return ["\n".join(b) for b in blocks[:limit]]


def print_summary(s: dict) -> None:
    rows = [
        ("sessions x rounds x pages", f"{s['sessions']} x {s['rounds']} x {len(s['pages'])}"),
        ("officer writers", s["writers"]),
        ("warm-up (one session, every page once)", f"{s['warm_s']} s"),
        ("one session alone: a round, loads per second", f"{s['alone_round_s']} s, {s['alone_loads_per_s']}"),
        ("page loads finished / asked", f"{s['page_loads_ok']} / {s['page_loads']}"),
        ("errors / unfinished", f"{s['errors']} / {s['unfinished']}"),
        ("page load p50 / p95 / max", f"{s['p50_s']} / {s['p95_s']} / {s['max_s']} s"),
        ("page loads per second", s["loads_per_s"]),
        ("deltas per load, MB received", f"{s['deltas_per_load']}, {s['mb_received']}"),
        ("saves done / refused busy / conflicts", f"{s['saves']} / {s['saves_busy']} / {s['saves_conflict']}"),
        ("versions present / lost, rows lost", f"{s['versions_present']} / {s['versions_lost']}, {s['rows_lost']}"),
        ("verify()", "ok" if not s["verify_problems"] else s["verify_problems"]),
        ("/_stcore/health after", "ok" if s["health_ok"] else "FAILED"),
        ("load phase / wall time", f"{s['load_s']} s / {s['wall_s']} s"),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    for page, p in s["per_page"].items():
        print(f"  {page:<{width - 2}}  {p['loads']} loads, p50 {p['p50_s']} s, max {p['max_s']} s (alone {p['alone_s']} s)")
    for m in s["error_messages"]:
        print(f"ERROR {m}")
    print("LOAD " + json.dumps(s, ensure_ascii=False))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--writers", type=int, default=2)
    ap.add_argument("--deadline", type=float, default=600.0, help="seconds for the whole run, warm-up included")
    ap.add_argument("--pages", default=",".join(DEFAULT_PAGES), help="comma-separated url paths, each may carry ?query")
    ap.add_argument("--save-interval", type=float, default=0.5, help="seconds an officer waits between saves")
    ap.add_argument("--port", type=int, help="use the server already on 127.0.0.1:PORT (give --workspace too)")
    ap.add_argument("--workspace", type=Path, help="the server's workspace folder ($SINKS_WORKSPACE)")
    ap.add_argument("--no-warm", action="store_true", help="skip the warm-up round and the one-session baseline")
    ap.add_argument("--watch-files", action="store_true", help="leave Streamlit's file watcher on (off by default, as deployed)")
    ap.add_argument("--writer", help=argparse.SUPPRESS)  # internal: run as one officer process
    ap.add_argument("--stop-file", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.writer:
        return writer_main(args.workspace, args.writer, args.stop_file, args.save_interval, args.seed)
    until = time.monotonic() + args.deadline
    pages = [p.strip().lstrip("/") for p in args.pages.split(",") if p.strip()]
    kw = dict(sessions=args.sessions, rounds=args.rounds, writers=args.writers, pages=pages, until=until,
              save_interval_s=args.save_interval, warm=not args.no_warm)
    if args.port:
        if args.workspace is None:
            ap.error("--port needs --workspace (the server's SINKS_WORKSPACE folder)")
        summary = run_load(f"http://127.0.0.1:{args.port}", args.workspace, **kw)
    else:
        with tempfile.TemporaryDirectory(prefix="sinks_load_") as tmp:
            with streamlit_server(Path(tmp), watch_files=args.watch_files) as (base, ws_dir):
                summary = run_load(base, ws_dir, **kw)
            for tb in server_tracebacks(Path(tmp) / "streamlit.log") if failed(summary) else []:
                print(f"SERVER LOG\n{tb}")
    print_summary(summary)
    return 1 if failed(summary) else 0


if __name__ == "__main__":
    sys.exit(main())
