"""Session state: the sidebar's choices and the per-run context the pages draw from.

``app.py`` owns the widgets (language, area, year) and, once the assessment is loaded, stores a
:class:`Context` for this script run; pages only read it with :func:`require_context`.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from sinks.pipeline import Assessment

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
KEY_LANG = "lang"
KEY_CONFIG = "config"
KEY_YEAR = "year"
_KEY_CONTEXT = "_ctx"


def lang() -> str:
    """The reader's language: ``"zh"`` (default) or ``"en"``."""
    value = st.session_state.get(KEY_LANG, DEFAULT_LANG)
    return value if value in LANGS else DEFAULT_LANG


@dataclass(frozen=True)
class Context:
    """What every page needs, resolved once per script run by ``app.py``."""

    assessment: Assessment
    cache_key: str  # primitive identity of the inputs (config path + file fingerprints)
    config_path: str
    year: int
    lang: str

    @property
    def illustrative(self) -> bool:
        return bool(self.assessment.provenance.get("area", {}).get("illustrative", False))

    @property
    def area_name(self) -> str:
        area = self.assessment.provenance.get("area", {})
        return str(area.get("name_zh" if self.lang == "zh" else "name_en", ""))


def set_context(ctx: Context | None) -> None:
    st.session_state[_KEY_CONTEXT] = ctx


def context() -> Context | None:
    return st.session_state.get(_KEY_CONTEXT)


def require_context() -> Context:
    """The run's context; stops the page quietly when app.py could not load an assessment
    (app.py has already shown why)."""
    ctx = context()
    if ctx is None:
        st.stop()
    return ctx

