"""Data layer: files, CRS, grids, the zonal engine, Cloud-Optimized GeoTIFF writing, the
versioned GeoPackage workspace store (``geodata.store``) and the error types.

Lowest layer: imports nothing from ``wetlands``, ``sinks``, ``ui`` or streamlit.
"""
