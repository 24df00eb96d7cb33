"""Layers ecology officers edit: wetland red lines and named wetland sites. Drafts from
drawings, suggestions from patches.

Both live in the versioned workspace (:class:`geodata.store.Workspace`; layers
:data:`REDLINES` and :data:`SITES`, described by an :class:`EditLayer`): every save is a new
version with author and reason, any version can be restored. This module only turns what an
officer does into a layer to save:

* :func:`drawings_to_frame`: the GeoJSON features Leaflet.draw returns (lon/lat) -> polygons with
  new ids;
* :func:`suggest_from_patches`: mapped wetland patches at least ``min_area_ha`` large and mostly
  outside every red line (candidates for a new red line);
* :func:`next_ids`, :func:`empty_layer`, :func:`merge_draft`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.errors import DataError

DRAWN_CRS = "EPSG:4326"  # Leaflet returns lon/lat on the map's datum (WGS84 = CGCS2000 here)


@dataclass(frozen=True)
class EditLayer:
    """A workspace layer officers edit: its name, id column and the prefix of new ids."""

    layer: str
    id_field: str
    prefix: str

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.id_field, "name_zh", "name_en", "note")


REDLINES = EditLayer("wetland_redlines", "redline_id", "RL")  # urban wetland red lines (plan item 15)
SITES = EditLayer("wetland_sites", "site_id", "WS")
ECO_REDLINES = EditLayer("eco_redlines", "redline_id", "ER")  # ecological protection red lines (given by the authority)
ECO_SPACE = EditLayer("eco_space_areas", "area_id", "ES")  # Jiangsu ecological-space control areas
LAYER, ID_FIELD, COLUMNS = REDLINES.layer, REDLINES.id_field, REDLINES.columns  # the red lines, most used


def empty_layer(crs: Any = DRAWN_CRS, spec: EditLayer = REDLINES) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: pd.Series(dtype="object") for c in spec.columns}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def next_ids(existing: Iterable[str], n: int, prefix: str = REDLINES.prefix) -> list[str]:
    """``n`` new ids ``<prefix>-001``... after the highest existing ``<prefix>-<number>`` (others
    ignored)."""
    pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)$")
    top = max((int(m.group(1)) for s in existing if (m := pattern.match(str(s)))), default=0)
    return [f"{prefix}-{top + i:03d}" for i in range(1, n + 1)]


def polygon_geometries(features: Sequence[dict] | None, *, source: str = "map drawing") -> list[dict]:
    """The GeoJSON geometries of Leaflet.draw features, refusing anything but polygons."""
    out = []
    for i, f in enumerate(features or [], start=1):
        geom = (f or {}).get("geometry")
        if not geom or geom.get("type") not in ("Polygon", "MultiPolygon"):
            kind = geom.get("type") if isinstance(geom, dict) else "nothing"
            raise DataError(source, f"drawing {i} is a {kind}, not a polygon", "draw with the polygon or rectangle tool")
        out.append(geom)
    return out


def drawings_to_frame(features: Sequence[dict] | None, *, existing_ids: Iterable[str] = (), source: str = "map drawing",
                      spec: EditLayer = REDLINES) -> gpd.GeoDataFrame:
    """Leaflet.draw features (GeoJSON dicts in lon/lat) -> a draft with new ids.

    Only polygons are kept (the toolbar offers polygon and rectangle); a drawing that is not a
    polygon raises :class:`DataError`. Self-intersections are left for the store to repair and
    report (:meth:`geodata.store.Workspace.save`), so the officer is told which outline changed.
    """
    geoms = [shapely.geometry.shape(g) for g in polygon_geometries(features, source=source)]
    ids = next_ids(existing_ids, len(geoms), spec.prefix)
    return gpd.GeoDataFrame({spec.id_field: ids, "name_zh": [""] * len(ids), "name_en": [""] * len(ids), "note": [""] * len(ids)},
                            geometry=gpd.GeoSeries(geoms, crs=DRAWN_CRS), crs=DRAWN_CRS)


def merge_draft(current: gpd.GeoDataFrame | None, draft: gpd.GeoDataFrame, *, remove_ids: Iterable[str] = (),
                spec: EditLayer = REDLINES) -> gpd.GeoDataFrame:
    """The layer to save: ``current`` without ``remove_ids``, plus ``draft`` (reprojected to the
    current layer's CRS). Columns outside the spec's columns of the current layer are kept."""
    drop = set(map(str, remove_ids))
    if current is None or current.empty:
        base = empty_layer(draft.crs if draft.crs is not None else DRAWN_CRS, spec)
    else:
        base = current[~current[spec.id_field].astype(str).isin(drop)]
    add = draft.to_crs(base.crs) if len(draft) and draft.crs != base.crs else draft
    clash = set(base[spec.id_field].astype(str)) & set(add[spec.id_field].astype(str))
    if clash:
        raise DataError(spec.layer, f"ids {sorted(clash)} are both in the layer and in the draft", "give the new features new ids (next_ids)")
    out = pd.concat([base, add], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=base.crs)


def suggest_from_patches(patches: gpd.GeoDataFrame, redlines: gpd.GeoDataFrame | None, *, min_area_ha: float = 8.0,
                         max_covered_share: float = 0.5, types: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """Wetland patches worth a red line: at least ``min_area_ha`` and with at most
    ``max_covered_share`` of their area inside the existing red lines.

    ``patches``: :meth:`wetlands.patches.WetlandPatches.to_geodataframe` (any projected or
    geographic CRS; shares are computed in a local equal-area-enough UTM zone). Returns the
    patches with a ``covered_share`` column, largest first. The 8 ha default is the Ramsar
    lake/pond size split used for the patch types, a starting point, not a rule.
    """
    if patches.empty:
        return patches.assign(covered_share=pd.Series(dtype="float64"))
    cand = patches[patches["area_ha"] >= float(min_area_ha)]
    if types is not None:
        cand = cand[cand["type"].isin(list(types))]
    if cand.empty:
        return cand.assign(covered_share=pd.Series(dtype="float64"))
    utm = cand.estimate_utm_crs()
    geoms = cand.to_crs(utm).geometry.values
    if redlines is None or redlines.empty:
        covered = np.zeros(len(cand))
    else:
        union = shapely.union_all(redlines.to_crs(utm).geometry.values)
        covered = shapely.area(shapely.intersection(geoms, union)) / np.maximum(shapely.area(geoms), 1e-9)
    out = cand.assign(covered_share=covered)
    out = out[out["covered_share"] <= float(max_covered_share)]
    return out.sort_values("area_ha", ascending=False)
