"""Embedded demo "Jiangbei New Area (illustrative)": a seeded, reproducible data generator.

Synthetic land cover (ESA WorldCover codes, 2020 and 2025), Sentinel-2-like reflectance bands,
the illustrative site polygons and a demo emissions inventory, calibrated to published facts
about Jiangbei New Area (Nanjing). Everything it writes is labelled illustrative.

Usage::

    from sinks.demo import build_demo
    paths = build_demo(Path("data"))

or ``python -m sinks.demo --data-dir data``.
"""

from sinks.demo.build import DemoPaths, build_demo
from sinks.demo.constants import DEFAULT_SEED, GENERATOR_VERSION
from sinks.demo.landscape import BoundariesError

__all__ = ["DEFAULT_SEED", "GENERATOR_VERSION", "BoundariesError", "DemoPaths", "build_demo"]
