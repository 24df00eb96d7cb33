"""Showing bad input to the reader: a ``DataError`` becomes a clear message (file, problem, fix).

Any other exception is a bug and is left to Streamlit's own error display.
"""
from __future__ import annotations

import streamlit as st

from geodata.errors import DataError
from ui.i18n import ZH, t


def data_error_markdown(exc: DataError, lang: str | None = None) -> str:
    """The message as Markdown: a title naming the kind of problem, then file, problem, fix."""
    d = exc.as_dict()
    key = f"error.kind.{d['kind']}"
    kind = t(key if key in ZH else "error.kind.data", lang)
    source = d["source"].replace("`", "'")  # a file name cannot end the code span it is shown in
    return (
        f"**{t('error.title', lang)}: {kind}**\n\n"
        f"- **{t('error.file', lang)}**: `{source}`\n"
        f"- **{t('error.problem', lang)}**: {d['problem']}\n"
        f"- **{t('error.fix', lang)}**: {d['fix']}\n\n"
        f"{t('error.note', lang)}"
    )


def show_data_error(exc: DataError, lang: str | None = None) -> None:
    """Draw a ``DataError`` as an error box."""
    st.error(data_error_markdown(exc, lang), icon=":material/report:")
