"""Wetland extent, inventory and change; later protection zones and compliance.

Sits above ``geodata`` and below ``sinks``: it works on the zonal engine's tables.
"""
