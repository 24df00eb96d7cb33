"""HTML to PDF with a headless Chromium: the report's PDF is its HTML, printed.

One renderer for both formats means the PDF cannot say something the HTML does not. Chromium is
found from ``SINKS_CHROMIUM``, else ``chromium``, ``chromium-browser`` or ``google-chrome`` on
the PATH (Debian: ``apt-get install chromium fonts-noto-cjk``; without the CJK fonts Chinese
prints as boxes). Host names resolve to nothing (``--host-resolver-rules``), so a report can
never fetch anything from a network while it prints; the PDF is written to a temporary name and
renamed, so a failed print leaves no half-written file.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from geodata.errors import DataError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
          "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage", "--no-pdf-header-footer",
          "--disable-extensions", "--mute-audio", "--host-resolver-rules=MAP * ~NOTFOUND")


class PdfUnavailable(DataError):
    """No Chromium to print with (the HTML report is still written)."""


def find_chromium() -> str | None:
    """The Chromium executable to print with, or None."""
    env = os.environ.get("SINKS_CHROMIUM")
    if env:
        return env if Path(env).is_file() and os.access(env, os.X_OK) else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def html_to_pdf(html: Path, pdf: Path, *, timeout_s: float = 180.0) -> Path:
    """Print ``html`` (a local file) to ``pdf``; raises :class:`PdfUnavailable` or ``DataError``."""
    exe = find_chromium()
    if exe is None:
        raise PdfUnavailable(pdf, "no Chromium was found to print the PDF (the HTML report was written)",
                             "install it (Debian: sudo apt-get install chromium fonts-noto-cjk) or set SINKS_CHROMIUM to its path, "
                             "or print the HTML from any browser")
    html, pdf = Path(html).resolve(), Path(pdf)
    fd, tmp_name = tempfile.mkstemp(prefix=".pdf-", suffix=".pdf", dir=pdf.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    with tempfile.TemporaryDirectory(prefix="sinks-chromium-") as profile:
        cmd = [exe, *_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={tmp}", html.as_uri()]
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            tmp.unlink(missing_ok=True)
            raise DataError(pdf, f"Chromium did not finish printing within {timeout_s:.0f} s", "try again, or print the HTML report from a browser") from None
    if run.returncode != 0 or not tmp.exists() or tmp.stat().st_size < 1000 or tmp.read_bytes()[:5] != b"%PDF-":
        tmp.unlink(missing_ok=True)
        tail = (run.stderr or "").strip().splitlines()[-3:]
        raise DataError(pdf, f"Chromium could not print the report (exit {run.returncode}: {' | '.join(tail) or 'no message'})",
                        "check that Chromium starts on this machine (chromium --headless --version), or print the HTML from a browser")
    os.replace(tmp, pdf)
    return pdf
