"""Small file helpers: hashes for provenance, and report folders written all at once."""
from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from geodata.errors import DataError


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks (memory does not grow with the file)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def atomic_report_dir(out: str | Path, *, marker: str) -> Iterator[Path]:
    """Write a report folder all at once: yields a temporary folder beside ``out`` and swaps it in
    when the block ends without error; on error the temporary folder goes and ``out`` is untouched.

    ``out`` may be new, empty, or an earlier report (a folder holding ``marker``); any other
    existing folder is refused, so a typo in ``--out`` never replaces someone's documents.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / marker).exists())):
        raise DataError(out, f"the output folder exists and is not an earlier report (no {marker})", "choose a new or empty folder for --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield tmp
        if out.exists():
            old = out.with_name(f".{out.name}.old-report")
            if old.exists():
                shutil.rmtree(old)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
