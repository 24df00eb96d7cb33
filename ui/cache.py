"""Cached access to the core: one assessment per set of input files, shared by all sessions.

The cache key is made of primitives only: the configuration path and, for every input file it
names, (path, size, mtime_ns). Editing any input (or the config) changes the key, so the next
run recomputes. The computation itself runs outside any ``st.cache_*`` function so that the
progress bar drawn while it works is never replayed from a cache.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import streamlit as st

from geodata.errors import DataError
from sinks.config import load_config
from sinks.pipeline import Assessment, run_assessment

ROOT = Path(__file__).resolve().parents[1]
DEMO_CONFIG = ROOT / "configs" / "jiangbei_demo.toml"
DEMO_DATA = ROOT / "data"
_MAX_ENTRIES = 4

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class ConfigChoice:
    path: str
    name_zh: str
    name_en: str


def config_dir() -> Path:
    """The folder of run configurations offered in the sidebar: ``configs/``, or
    ``$SINKS_CONFIG_DIR`` (a deployment with its own areas, or a test with a broken one)."""
    return Path(os.environ.get("SINKS_CONFIG_DIR", ROOT / "configs"))


def list_configs() -> list[ConfigChoice]:
    """The run configurations under ``configs/*.toml``, the demo first, then the datasets saved
    in the workspace (``workspace/configs/*.toml``, e.g. a classified map)."""
    from sinks.landcover.datasets import workspace_dir

    out = []
    shipped = sorted(config_dir().glob("*.toml"), key=lambda p: (p != DEMO_CONFIG, p.name))
    for p in shipped + sorted((workspace_dir() / "configs").glob("*.toml")):
        try:
            cfg = load_config(p)
            out.append(ConfigChoice(str(p), cfg.name_zh, cfg.name_en))
        except ValueError:  # DataError is a ValueError: still list it, the run shows the problem
            out.append(ConfigChoice(str(p), p.stem, p.stem))
    return out


def file_stat(path: str | Path | None) -> tuple:
    """``(path, size, mtime_ns)`` of a file, the part of a cache key that changes when it does
    (``("", -1, -1)`` for no file, size and time -1 for a file that is not there)."""
    if path is None:
        return ("", -1, -1)
    try:
        s = Path(path).stat()
        return (str(path), s.st_size, s.st_mtime_ns)
    except OSError:
        return (str(path), -1, -1)


def fingerprint(config_path: str) -> str:
    """A primitive key for the inputs of ``config_path``: paths, sizes and mtimes."""
    p = Path(config_path).resolve()
    parts = [file_stat(p)]
    try:
        cfg = load_config(p)
        parts += [file_stat(cfg.landcover[y]) for y in cfg.years]
        parts += [file_stat(cfg.coefficients), file_stat(cfg.zones), file_stat(cfg.inventory)]
    except ValueError:
        pass
    return repr(parts)


def missing_demo_files(config_path: str) -> list[Path]:
    """Inputs of ``config_path`` that are absent and that ``sinks.demo`` builds (the demo's
    land-cover rasters under ``data/rasters`` and its inventory under ``data/inventory``)."""
    try:
        cfg = load_config(config_path)
    except ValueError:
        return []
    built_here = {(DEMO_DATA / "rasters").resolve(), (DEMO_DATA / "inventory").resolve()}
    wanted = list(cfg.landcover.values()) + ([cfg.inventory] if cfg.inventory is not None else [])
    return [p for p in wanted if not p.exists() and p.resolve().parent in built_here]


class KeyedLRU:
    """A small LRU of computed results with one lock per key, so two sessions never compute the
    same thing twice. ``on_evict(key)`` runs (under the lock) for each key pushed out."""

    def __init__(self, size: int, on_evict: Callable[[str], None] | None = None) -> None:
        self.size = size
        self.on_evict = on_evict
        self.lock = threading.Lock()
        self.items: OrderedDict[str, object] = OrderedDict()
        self.key_locks: dict[str, threading.Lock] = {}

    def get(self, key: str):
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key: str, value) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                old, _ = self.items.popitem(last=False)
                if self.on_evict is not None:
                    self.on_evict(old)

    def key_lock(self, key: str) -> threading.Lock:
        with self.lock:
            return self.key_locks.setdefault(key, threading.Lock())

    def get_or_compute(self, key: str, make: Callable[[], object]):
        """The value of ``key``, made once by ``make()`` under the key's lock when missing."""
        value = self.get(key)
        if value is not None:
            return value
        with self.key_lock(key):
            value = self.get(key)
            if value is None:
                value = make()
                self.put(key, value)
        return value


class _Store(KeyedLRU):
    """The last few assessments, and the lock that lets one session build the demo data."""

    def __init__(self) -> None:
        super().__init__(_MAX_ENTRIES)
        self.demo_lock = threading.Lock()


@st.cache_resource(show_spinner=False)
def _store() -> _Store:
    return _Store()


def cached_assessment(config_path: str) -> tuple[str, Assessment | None]:
    """(key, assessment) if this set of inputs was computed already, else (key, None)."""
    key = f"{Path(config_path).resolve()}|{fingerprint(config_path)}"
    return key, _store().get(key)


def load_assessment(config_path: str, *, progress: Progress | None = None) -> tuple[str, Assessment]:
    """The assessment of ``config_path``, computed once per set of input files.

    Raises ``DataError`` for unusable inputs (the caller shows it).
    """
    key, a = cached_assessment(config_path)
    if a is not None:
        return key, a
    store = _store()
    with store.key_lock(key):
        a = store.get(key)
        if a is None:
            a = run_assessment(config_path, progress=progress)
            store.put(key, a)
    return key, a


def build_demo_data(config_path: str, *, progress: Progress | None = None) -> None:
    """Build the embedded demo data into ``data/`` (once, even with several sessions).

    Raises ``DataError`` when the boundaries it starts from are missing or malformed.
    """
    from sinks.demo import BoundariesError, build_demo

    with _store().demo_lock:
        if missing_demo_files(config_path):
            try:
                build_demo(DEMO_DATA, progress=progress)
            except BoundariesError as exc:
                raise DataError(DEMO_DATA / "boundaries" / "jiangbei_boundaries.gpkg", str(exc),
                                "restore the boundaries file (python scripts/extract_boundaries.py) and reload") from exc


def clear() -> None:
    """Forget every cached assessment (tests, or after editing inputs in place)."""
    _store.clear()
