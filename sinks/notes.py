"""Notes that a UI can translate: English text plus a code and the values in it.

A :class:`Note` is a ``str`` (the English sentence the CLI prints and the tests read) that also
carries ``code`` and ``params``, so the dashboard says the same thing in 中文 from its own
wording (``ui.i18n`` key ``<page>.note.<code>``, e.g. ``green.note.<code>``) without parsing the English.
"""
from __future__ import annotations


class Note(str):
    """An English note with its ``code`` and ``params`` (numbers unformatted)."""

    code: str
    params: dict

    def __new__(cls, code: str, text: str, **params):
        obj = super().__new__(cls, text)
        obj.code = code
        obj.params = params
        return obj

    def __getnewargs_ex__(self):  # pickling (Streamlit caches) keeps code and params
        return (self.code, str(self)), dict(self.params)
