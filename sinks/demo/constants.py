"""Cited constants of the illustrative Jiangbei demo: grid, legend, sites and calibration targets.

Everything here is a *demo* parameter. Published figures carry their source; the rest are
stated modelling choices, marked as such. Coordinates are WGS84 (lon, lat in degrees).

Sources abbreviated below (full URLs in ``shared/data/*/PROVENANCE.md`` of the project's
reference data; nothing is read from there at build time):

* [PA] Jiangbei protected-area facts: Laoshan National Forest Park 76.5 km² (news.08nm.com/?p=38470),
  80 km² (tulouyiriyou.com/introduce/4755.html), 6700 ha with >90 % forest
  (blog.sina.cn ... blog_67afa3290102x0ni); NE–SW ridge about 30 km x 3–5 km, est. 1991-08-02,
  highest peak Longdongshan 442 m. Lvshuiwan / Xijiangkou wetland park: 1679.08 ha after the 2017
  revision, 17.23 km² before it, about 11 km along the north bank from the Third Yangtze Bridge
  corridor to opposite the Youth Olympic Park (www.tjchuhang.com/201710/110811605.htm).
  Baguazhou: island 55.62 km², about 33,000 people (zangaopet.com/w/c8ace71bc2a906e8.html).
* [MODIS] MCD12C1 v006 2019 class shares by district (Friedl & Sulla-Menashe 2015,
  doi:10.5067/MODIS/MCD12C1.006), computed for the project on the Tianditu polygons: Pukou
  savanna 40.1 %, cropland/natural mosaic 22.3 %, urban 21.0 %, cropland 10.1 %, water 6.6 %;
  Liuhe cropland 85.1 %, urban 9.6 %, mosaic 2.6 %, savanna 2.0 %, water 0.7 %.
* [NJ2016] Nanjing 2016 tree cover (林木覆盖率) 29.86 % (kexingxing.cn/news1014/201711/159351.html).
* [WC] ESA WorldCover v100/v200 product legend and colour table (esa-worldcover.org; the colour
  table embedded in every WorldCover tile).
"""

from __future__ import annotations

from typing import Final

GENERATOR_NAME: Final = "sinks.demo"
# The version is written into every raster's GENERATOR tag: bump it when the rasters change.
# Any other code change (e.g. 1.1.0 + the units/parks layers) already forces a rebuild through
# the manifest's code_sha256, and leaves the rasters byte-identical.
GENERATOR_VERSION: Final = "1.1.0"  # 1.1: rasters are COGs with internal overviews
DEMO_NAME_EN: Final = "Jiangbei New Area (illustrative)"
DEMO_NAME_ZH: Final = "江北新区（示意）"
ILLUSTRATIVE_TAG: Final = "synthetic demo data, not a survey"
DEFAULT_SEED: Final = 2025
YEARS: Final = (2020, 2025)

# --------------------------------------------------------------------------- grid
CRS_UTM: Final = "EPSG:32650"  # WGS 84 / UTM zone 50N
PIXEL_M: Final = 30.0  # pixel size (m); Landsat-like, one pixel = 0.09 ha on the grid
GRID_MARGIN_M: Final = 1500.0  # margin around the study-area bounds (m)
TILE_PX: Final = 256

# --------------------------------------------------------------------------- legend [WC]
TREE: Final = 10
SHRUB: Final = 20
GRASS: Final = 30
CROP: Final = 40
BUILT: Final = 50
BARE: Final = 60
WATER: Final = 80
WETLAND: Final = 90
NODATA: Final = 0

CLASSES: Final[dict[int, str]] = {
    TREE: "Tree cover",
    SHRUB: "Shrubland",
    GRASS: "Grassland",
    CROP: "Cropland",
    BUILT: "Built-up",
    BARE: "Bare / sparse vegetation",
    WATER: "Permanent water bodies",
    WETLAND: "Herbaceous wetland",
}
# Official WorldCover colours (RGB), as in the colour table of the WorldCover v200 tiles [WC].
WORLDCOVER_RGB: Final[dict[int, tuple[int, int, int]]] = {
    10: (0, 100, 0),
    20: (255, 187, 34),
    30: (255, 255, 76),
    40: (240, 150, 255),
    50: (250, 0, 0),
    60: (180, 180, 180),
    70: (240, 240, 240),
    80: (0, 100, 200),
    90: (0, 150, 160),
    95: (0, 207, 117),
    100: (250, 230, 160),
}

# --------------------------------------------------------------------------- zones
# Zone ids of the boundaries GeoPackage (layer ``zones``), in raster-code order 1, 2, 3.
ZONE_IDS: Final = ("pukou", "liuhe", "baguazhou")

# Class-share targets of each zone's LAND, i.e. the zone minus the Yangtze polygon (the Yangtze
# itself is always class 80 and is reported separately). Derivation (a stated rule, not data):
#
#   WorldCover-like share = sum over MODIS IGBP classes of (MODIS share) x (assumed WorldCover
#   composition of that IGBP class at 30 m), with the assumed compositions
#     savanna (10-30 % canopy): 45 % tree, 35 % crop, 10 % grass, 10 % built/other;
#     cropland/natural mosaic:  55 % crop, 20 % tree, 15 % built, 10 % grass/other;
#     cropland:                 85 % crop, 6 % built, 4 % tree, 5 % water/grass;
#     urban:                    75 % built, 25 % urban green/water,
#   then divided by the land fraction of the polygon (the Tianditu Pukou polygon holds ~124 km²
#   of the Yangtze, 13.4 %; Liuhe 44.8 km², 3.0 %) and rounded.
#   Pukou:  tree 0.45*40.1 + 0.20*22.3 = 22.5 % of the polygon -> 26 % of land, capped at 25 %
#           (Nanjing-wide tree cover 29.86 % [NJ2016] includes village and roadside trees);
#           crop 0.35*40.1 + 0.55*22.3 + 0.85*10.1 = 34.9 % -> 36 % of land after giving grass,
#           wetland and ponds their share; built 21.0 / 0.866 = 24 % of land.
#   Liuhe:  crop 85.1 % at 5 km is mostly fields with villages, ponds and shelterbelts at 30 m:
#           crop 71 %, built 12 % (9.6 % MODIS urban plus villages MODIS cannot resolve),
#           tree 6.5 % (northern hills: Jinniu Lake, Pingshan), water 3 % (ponds, Jinniu Lake,
#           Chu River), grass 5 %.
#   Baguazhou: an island of fields and villages with a shoal wetland ring [PA]; a judgement.
# Full-zone shares (including the Yangtze) then come out near the targets of the brief:
# Pukou tree ~22 %, crop ~31 %, built ~21 %, water ~15 %; Liuhe crop ~69 %, built ~12 %,
# tree ~6 %, water ~6 %.
LAND_SHARE_TARGETS: Final[dict[str, dict[int, float]]] = {
    "pukou": {TREE: 0.25, SHRUB: 0.015, GRASS: 0.07, CROP: 0.36, BUILT: 0.24, BARE: 0.015, WATER: 0.025, WETLAND: 0.025},
    "liuhe": {TREE: 0.065, SHRUB: 0.007, GRASS: 0.05, CROP: 0.71, BUILT: 0.12, BARE: 0.008, WATER: 0.03, WETLAND: 0.01},
    "baguazhou": {TREE: 0.06, SHRUB: 0.0, GRASS: 0.04, CROP: 0.56, BUILT: 0.13, BARE: 0.01, WATER: 0.03, WETLAND: 0.17},
}

# --------------------------------------------------------------------------- sites
# Laoshan National Forest Park [PA]. Centre: the brief's "roughly centred near 118.56 E, 32.08 N"
# (approximate; the ridge then runs through central Pukou between Tangquan to the north-west and
# Jiangpu to the south-east). Axis bearing 52 deg (SW-NE) and 30 km length from [PA].
LAOSHAN_CENTRE: Final = (118.56, 32.08)
LAOSHAN_BEARING_DEG: Final = 52.0
LAOSHAN_LENGTH_M: Final = 30_000.0
LAOSHAN_MEAN_HALF_WIDTH_M: Final = 1_450.0  # shape parameter only; the area is fixed below
LAOSHAN_PARK_HA: Final = 8_000.0  # park polygon: the "80 km²" figure [PA]
LAOSHAN_TREE_HA: Final = 7_650.0  # tree cover inside it: the "76.5 km²" figure [PA] (95.6 %)

# Lvshuiwan / Xijiangkou wetland park [PA]: a strip along the Pukou (north) bank between the
# Third Yangtze Bridge corridor (upstream end) and opposite the Youth Olympic Park (downstream
# end). End points are approximate bank positions chosen for the demo, 11 km apart.
LVSHUIWAN_UPSTREAM: Final = (118.600, 31.972)
LVSHUIWAN_DOWNSTREAM: Final = (118.668, 32.052)
LVSHUIWAN_LAND_WIDTH_M: Final = 1_150.0  # typical inland width (brief: 0.8-1.5 km)
LVSHUIWAN_SHOAL_WIDTH_M: Final = 250.0  # shoal beyond the GSHHG bank line drawn as water
LVSHUIWAN_SITE_HA: Final = 1_723.0  # strip polygon: the pre-2017 extent, 17.23 km² [PA]
LVSHUIWAN_WETLAND_HA: Final = 1_679.0  # wetland inside it: the 2017 revised extent [PA]

# Baguazhou riverside shoal wetland ring: "a 200-500 m ring inside its shoreline" (project
# guidance in protected_areas/PROVENANCE.md). Demo choice: the 20 % of the island land nearest
# the river (about 660 ha, ~200-250 m wide, on the 33 km² GSHHG island clipped to Qixia).
BAGUAZHOU_RING_SHARE: Final = 0.20
BAGUAZHOU_RING_WETLAND_SHARE: Final = 0.82

# Built-up seeds: (site_id, name_zh, name_en, lon, lat, semi-major m, semi-minor m, bearing deg,
# weight). Centres from the brief; sizes are demo choices.
BUILT_SEEDS: Final = (
    ("pukou_seat", "江浦街道（浦口区政府驻地）", "Jiangpu street (Pukou seat)", 118.62, 32.06, 3_000.0, 2_000.0, 40.0, 1.0),
    (
        "taishan_dingshan", "泰山—顶山街道（江北核心区）", "Taishan / Dingshan (Jiangbei core, near the bridges)",
        118.70, 32.12, 4_200.0, 2_300.0, 35.0, 1.0,
    ),
    ("liuhe_seat", "雄州街道（六合区政府驻地）", "Xiongzhou street (Liuhe seat)", 118.83, 32.34, 2_600.0, 2_000.0, 20.0, 1.0),
)
# Riverside industrial strip (Dachang / Changlu, Liuhe): land within a few km of the Yangtze
# between these longitudes (brief: ~118.75-118.85 E, 32.18-32.25 N).
INDUSTRIAL_STRIP_LON: Final = (118.745, 118.875)
INDUSTRIAL_STRIP_DEPTH_M: Final = 2_000.0
INDUSTRIAL_STRIP_HA: Final = 3_000.0
# Synthetic secondary towns placed at random (seeded) on zone land, at least this far from seats.
N_TOWNS: Final[dict[str, int]] = {"pukou": 4, "liuhe": 6, "baguazhou": 0}
TOWN_MIN_SPACING_M: Final = 7_000.0
VILLAGES_PER_KM2: Final = 0.6  # scattered villages (demo choice)

# Jinniu Lake (Liuhe) [PA: area not published in the sources consulted]: illustrative 7 km².
JINNIU_LAKE_CENTRE: Final = (118.93, 32.48)
JINNIU_LAKE_HA: Final = 700.0
# Chu River (滁河) [PA]: NOT in GSHHG/WDBII, so drawn as a SYNTHETIC meander line through these
# approximate control points (Pukou's northern edge, then through Liuhe past the Liuhe seat to
# the Yangtze); width grows downstream.
CHU_RIVER_POINTS: Final = (
    (118.385, 32.142), (118.46, 32.160), (118.55, 32.188), (118.63, 32.205), (118.69, 32.238),
    (118.73, 32.290), (118.78, 32.322), (118.83, 32.333), (118.865, 32.303), (118.885, 32.270),
)
CHU_RIVER_WIDTH_M: Final = (70.0, 150.0)  # upstream, mouth
# The illustrative Chu River ecological corridor (a demo red line): channel + this much land each side.
CHU_CORRIDOR_M: Final = 200.0

# --------------------------------------------------------------------------- change 2020 -> 2025
# Urban growth: share of each zone's 2020 cropland converted to built-up (brief: ~2-4 %).
URBAN_GROWTH_OF_CROP: Final[dict[str, float]] = {"pukou": 0.035, "liuhe": 0.025, "baguazhou": 0.01}
# Afforestation (crop/grass -> tree), ha: Laoshan ridge margins (Pukou), northern hills (Liuhe).
AFFORESTATION_HA: Final[dict[str, float]] = {"pukou": 350.0, "liuhe": 150.0, "baguazhou": 0.0}
# Wetland loss and restoration as shares of the 2020 wetland total (net -5.0 %, brief: 3-8 %);
# the loss avoids the Lvshuiwan park.
WETLAND_LOSS_SHARE: Final = 0.065
WETLAND_RESTORE_SHARE: Final = 0.015
