"""``python -m sinks stac-search`` and ``stac-fetch``: the optional STAC loader on the command line.

The commands only parse options and call :mod:`geodata.stac`. Nothing else in the project needs
them: on a closed network imagery comes from files already on disk. The source is a STAC API
(``--endpoint``, default ``$SINKS_STAC_ENDPOINT``) or a static catalogue (``--catalog``, a path
or URL of ``catalog.json``).

Handlers return exit codes and let :class:`~geodata.errors.DataError` propagate; ``sinks.cli``
maps it to exit code 1. Malformed options exit with 2 (argparse).
"""
from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_COLLECTION = "sentinel-2-l2a"
DEFAULT_BANDS = "B03,B04,B08,B11"


def _bbox(text: str) -> tuple[float, float, float, float]:
    """``west,south,east,north`` in degrees; a DataError is a ValueError, so argparse exits 2."""
    from geodata.stac import check_bbox

    parts = [p for p in text.replace(" ", "").split(",") if p]
    return check_bbox(parts, source="--bbox")


def _assets(text: str) -> list[str] | dict[str, str]:
    """``B03,B04`` or ``B04=red,B08=nir`` (output name = asset key or band name)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("give at least one asset or band name, e.g. B03,B04,B08,B11")
    if any("=" in p for p in parts):
        pairs = [p.split("=", 1) if "=" in p else (p, p) for p in parts]
        if any(not a.strip() or not b.strip() for a, b in pairs):
            raise argparse.ArgumentTypeError(f"cannot read {text!r}: use NAME=ASSET pairs, e.g. B04=red,B08=nir")
        return {a.strip(): b.strip() for a, b in pairs}
    return parts


def _add_source_options(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument("--endpoint", help="STAC API root or its /search URL (default: $SINKS_STAC_ENDPOINT)")
    src.add_argument("--catalog", help="a static STAC catalogue instead of an API: path or URL of catalog.json")
    p.add_argument("--collection", default=DEFAULT_COLLECTION, help=f"collection id (default {DEFAULT_COLLECTION})")
    p.add_argument("--bbox", type=_bbox, required=True, metavar="W,S,E,N",
                   help="lon/lat box in degrees, e.g. 118.5,31.9,118.9,32.3")
    p.add_argument("--datetime", dest="datetime_range", metavar="START/END",
                   help="dates, e.g. 2025-04-01/2025-10-31 (whole days; .. for an open end)")
    p.add_argument("--max-cloud", type=float, metavar="PCT", help="keep items with eo:cloud_cover at most PCT")
    p.add_argument("--max-items", type=int, default=50, help="stop after this many items (default 50)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds allowed per HTTP response (default 30)")


def _find(args, ids: list[str] | None = None):
    from geodata.stac import read_static_catalog, search_items

    common = dict(collections=args.collection, bbox_lonlat=args.bbox, datetime_range=args.datetime_range,
                  max_cloud=args.max_cloud, ids=ids, max_items=args.max_items, timeout_s=args.timeout)
    if args.catalog:
        return read_static_catalog(args.catalog, **common)
    return search_items(args.endpoint, **common)


def _row(cells, widths) -> str:
    return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()


def format_items(items) -> str:
    """A plain-text table: id, collection, date, cloud cover, data assets."""
    header = ("id", "collection", "datetime (UTC)", "cloud %", "assets")
    rows = [
        (
            it.id,
            it.collection or "",
            it.datetime.strftime("%Y-%m-%d %H:%M") if it.datetime else "",
            f"{it.cloud_cover:.1f}" if it.cloud_cover is not None else "",
            ",".join(k for k, a in it.assets.items() if a.is_raster),
        )
        for it in items
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join([_row(header, widths), _row(["-" * w for w in widths], widths)] + [_row(r, widths) for r in rows])


def _cmd_search(args) -> int:
    items = _find(args)
    print(format_items(items))
    print(f"{len(items)} item(s)")
    return 0


def _pick(items, item_id: str | None):
    """The requested item, else the least cloudy one (the latest among equals)."""
    from geodata.errors import DataError

    if item_id:
        for it in items:
            if it.id == item_id:
                return it
        raise DataError(item_id, f"the item is not among the {len(items)} found",
                        "run stac-search with the same options and copy an id from its table")
    ts = lambda it: it.datetime.timestamp() if it.datetime else float("-inf")  # noqa: E731
    return min(items, key=lambda it: (it.cloud_cover if it.cloud_cover is not None else float("inf"), -ts(it)))


def _cmd_fetch(args) -> int:
    from geodata.stac import fetch_assets
    from sinks.cli import _Progress  # imported here: sinks.cli imports this module

    items = _find(args, ids=[args.item] if args.item else None)
    item = _pick(items, args.item)
    when = item.datetime.strftime("%Y-%m-%d") if item.datetime else "undated"
    cloud = f"{item.cloud_cover:.1f}% cloud" if item.cloud_cover is not None else "cloud cover unknown"
    print(f"item {item.id} ({when}, {cloud}), chosen from {len(items)} found")
    paths = fetch_assets(item, assets=args.assets, bbox_lonlat=args.bbox, out_dir=args.out,
                         progress=_Progress(), timeout_s=args.timeout)
    for name, path in paths.items():
        print(f"{name}\t{path}")
    print(f"wrote {len(paths)} file(s) to {args.out}")
    return 0


def add_parsers(sub) -> None:
    """Add ``stac-search`` and ``stac-fetch`` to an ``add_subparsers()`` object."""
    s = sub.add_parser("stac-search", help="list imagery items in a STAC API or static catalogue (optional, needs a network)")
    _add_source_options(s)
    s.set_defaults(func=_cmd_search)
    f = sub.add_parser("stac-fetch", help="download only the bbox window of an item's bands as GeoTIFFs (optional, needs a network)")
    _add_source_options(f)
    f.add_argument("--item", help="item id (default: the least cloudy item found)")
    f.add_argument("--assets", type=_assets, default=_assets(DEFAULT_BANDS), metavar="NAMES",
                   help=f"asset keys or band names, or NAME=ASSET pairs (default {DEFAULT_BANDS})")
    f.add_argument("--out", type=Path, required=True, help="output folder for <item>_<band>.tif")
    f.set_defaults(func=_cmd_fetch)
