"""Helpers the AppTest page tests share (not tests themselves)."""
from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest


def login(at: AppTest, user: str, password: str) -> AppTest:
    """Log in through the sidebar panel (its form is the first on the page)."""
    at.text_input[0].input(user)
    at.text_input[1].input(password)
    at.get("form_submit_button")[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def map_args(at: AppTest) -> dict:
    """The arguments of the page's one folium map (its script, center, zoom ...)."""
    maps = [c for c in at.get("component_instance") if c.proto.component_name == "streamlit_folium.st_folium"]
    assert len(maps) == 1
    return json.loads(maps[0].proto.json_args)
