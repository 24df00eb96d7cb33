"""The server settings that protect readers and the machine (.streamlit/config.toml)."""
from __future__ import annotations

import tomllib
from pathlib import Path

from ui import explorer_flow, greening_flow, landcover_flow, ledger_flow, protection_flow, wetlands_flow

ROOT = Path(__file__).resolve().parents[1]


def _config() -> dict:
    with open(ROOT / ".streamlit" / "config.toml", "rb") as f:
        return tomllib.load(f)


def test_no_traceback_reaches_a_reader():
    assert _config()["client"]["showErrorDetails"] == "none"


def test_the_server_upload_limit_sits_just_above_every_page_limit():
    """Streamlit refuses uploads over server.maxUploadSize (MB = 2^20 bytes) before they are sent;
    every page's own limit must be below it, so its bilingual message (file, problem, fix) is the
    one readers see for files a little too large; and it stays small (memory per upload)."""
    server = _config()["server"]["maxUploadSize"] * 2**20
    pages = [explorer_flow.MAX_UPLOAD_BYTES, greening_flow.MAX_UPLOAD_BYTES, landcover_flow.MAX_UPLOAD_BYTES,
             ledger_flow.MAX_UPLOAD_BYTES, protection_flow.MAX_POINT_BYTES, wetlands_flow.MAX_UPLOAD_BYTES]
    assert all(p < server for p in pages), (pages, server)
    assert server <= max(pages) + 8 * 2**20
