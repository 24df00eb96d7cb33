"""Data layer: files, CRS, grids, the zonal engine and the error types.

Lowest layer: imports nothing from ``wetlands``, ``sinks``, ``ui`` or streamlit.
"""
