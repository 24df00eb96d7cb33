"""Streamlit helpers for the dashboard: state, cached core calls, maps, charts, tables, i18n, formats.

Besides ``app.py`` and ``app_pages/``, this is the only package that imports streamlit. Pages draw;
everything they show is reshaped and labelled here from the core's results.
"""
