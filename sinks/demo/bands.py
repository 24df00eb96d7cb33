"""Synthetic Sentinel-2-like surface reflectance (green, red, NIR, SWIR1) for a land-cover map.

Each class is a mixture of *endmember* spectra with spatially smooth mixing fractions (canopy
gaps, crop phenology per parcel, urban green, water turbidity, flooded marsh), then a point
spread function mixes neighbouring pixels and sensor-like noise is added. The classes therefore
overlap in index space the way real ones do: NDVI/NDWI/MNDWI thresholds separate them
sensibly but imperfectly (see ``tests/test_demo_data.py`` for the achieved accuracy).

The endmember values are typical Sentinel-2 L2A summer reflectances (B3 green, B4 red, B8 NIR,
B11 SWIR1) of the kind shown in any spectral library or S2 class-statistics study: dense
broadleaf canopy NIR ~0.30 and red ~0.03; built-up red ~0.12, NIR ~0.18, SWIR1 ~0.22; clear
water NIR ~0.02, green ~0.06, SWIR1 ~0.01; turbid Yangtze water brighter in green/red. They are
generic demo values, NOT calibrated to imagery of Jiangbei.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from sinks.demo import constants as K
from sinks.demo.fields import FloatArray, rng_for, smooth_field
from sinks.demo.landscape import Landscape

BAND_NAMES: tuple[str, ...] = ("green", "red", "nir", "swir1")
SCALE = 0.0001  # reflectance = DN x SCALE
DN_MAX = 10_000

# Endmember reflectance (green, red, nir, swir1), unitless surface reflectance.
ENDMEMBERS: dict[str, tuple[float, float, float, float]] = {
    "tree": (0.045, 0.030, 0.300, 0.140),
    "shrub": (0.060, 0.055, 0.255, 0.190),
    "grass": (0.075, 0.068, 0.270, 0.215),
    "crop_green": (0.065, 0.045, 0.330, 0.185),
    "soil": (0.095, 0.120, 0.190, 0.280),
    "paddy_water": (0.070, 0.060, 0.080, 0.045),
    "built": (0.100, 0.120, 0.180, 0.220),
    "bare": (0.120, 0.150, 0.210, 0.300),
    "water_clear": (0.060, 0.040, 0.020, 0.010),
    "water_turbid": (0.095, 0.085, 0.045, 0.020),
    "wetland": (0.055, 0.045, 0.190, 0.075),
}

PSF_SIGMA_PX = 0.55  # mixing with neighbours (sensor PSF and resampling), pixels
NOISE_MULT = 0.035  # multiplicative noise (relative standard deviation)
NOISE_ADD = 0.004  # additive noise (reflectance standard deviation)
BRIGHTNESS_SD = 0.07  # smooth illumination/BRDF/atmosphere residual (relative)
FLOODED_PADDY_SHARE = 0.07  # share of crop parcels flooded (transplanted rice) on the image date


def _em(name: str) -> NDArray[np.float32]:
    return np.asarray(ENDMEMBERS[name], dtype=np.float32)[:, None]


def _mix(a: str, b: str, frac_b: FloatArray) -> NDArray[np.float32]:
    """``(4, n)`` spectra: ``(1 - f) * a + f * b``."""
    fb = np.clip(frac_b, 0.0, 1.0).astype(np.float32)[None, :]
    return _em(a) * (1.0 - fb) + _em(b) * fb


def synthesize_bands(
    landscape: Landscape, year: int, seed: int, progress: Callable[[str, float], None] | None = None
) -> NDArray[np.uint16]:
    """Reflectance bands for one year of the landscape.

    Parameters
    ----------
    landscape
        Generated landscape (land cover, parcels, river mask).
    year
        Which land-cover year to render (2020 or 2025).
    seed
        Build seed.
    progress
        Optional callback ``(message, fraction)``.

    Returns
    -------
    numpy.ndarray
        uint16 array ``(4, rows, cols)`` in the order of :data:`BAND_NAMES`, reflectance x 10000,
        0 outside the study area (valid pixels are clipped to 1..10000).
    """
    lc = landscape.landcover[year]
    shape = lc.shape
    valid = lc != K.NODATA
    refl = np.zeros((4,) + shape, dtype=np.float32)

    def field(name: str, sigma: float, *, per_year: bool = True) -> FloatArray:
        stream = ("bands", year, name) if per_year else ("bands", name)
        return smooth_field(rng_for(seed, *stream), shape, sigma)

    # Crop phenology: one green fraction per parcel (drawn per year: rotation, sowing dates).
    rng = rng_for(seed, "bands", year, "parcels")
    n = landscape.n_parcels
    green = rng.beta(2.6, 1.3, n).astype(np.float32)
    flooded = rng.random(n) < FLOODED_PADDY_SHARE
    flood_frac = np.where(flooded, rng.uniform(0.4, 0.9, n), 0.0).astype(np.float32)

    for cls in K.CLASSES:
        m = lc == cls
        if not m.any():
            continue
        if cls == K.TREE:
            s = _mix("tree", "grass", 0.12 + 0.10 * field("canopy_gaps", 4.0, per_year=False)[m])
        elif cls == K.SHRUB:
            s = _mix("shrub", "soil", 0.18 + 0.12 * field("shrub_soil", 3.0)[m])
        elif cls == K.GRASS:
            f = 0.22 + 0.16 * field("grass_dry", 3.0)[m]
            s = _mix("grass", "soil", f)
        elif cls == K.CROP:
            pid = landscape.parcels[m]
            g = np.clip(green[pid] + 0.08 * field("crop_within", 3.0)[m], 0.0, 1.0)
            s = _mix("soil", "crop_green", g)
            fw = flood_frac[pid]
            s = s * (1.0 - fw)[None, :] + _em("paddy_water") * fw[None, :]
        elif cls == K.BUILT:
            f = 0.14 + 0.12 * field("urban_green", 3.0, per_year=False)[m]
            s = _mix("built", "tree", f)
            s = s * (1.0 + 0.12 * field("roof_albedo", 3.0, per_year=False)[m])[None, :]
        elif cls == K.BARE:
            s = _mix("bare", "grass", 0.12 + 0.10 * field("bare_veg", 3.0)[m])
        elif cls == K.WATER:
            turbid = np.where(landscape.river[m], 0.75, 0.25) + 0.2 * field("turbidity", 20.0)[m]
            s = _mix("water_clear", "water_turbid", turbid)
            algae = np.clip(0.05 + 0.06 * field("algae", 4.0)[m], 0.0, 0.3)
            s = s * (1.0 - algae)[None, :] + _em("wetland") * algae[None, :]
        elif cls == K.WETLAND:
            q = 0.22 + 0.15 * field("marsh_water", 4.0)[m]
            s = _mix("wetland", "water_clear", np.clip(q, 0.0, 0.7))
        else:  # pragma: no cover - all legend classes handled above
            raise ValueError(f"no spectra for class {cls}")
        refl[:, m] = s
    if progress:
        progress(f"bands {year}: class spectra", 0.0)

    brightness = 1.0 + BRIGHTNESS_SD * field("brightness", 40.0)
    refl *= brightness[None]
    del brightness

    # Point spread function: normalised convolution inside the study area only.
    w = ndimage.gaussian_filter(valid.astype(np.float32), PSF_SIGMA_PX, truncate=3.0)
    w = np.where(valid, np.maximum(w, 1e-3), 1.0).astype(np.float32)
    for b in range(4):
        refl[b] = ndimage.gaussian_filter(refl[b], PSF_SIGMA_PX, truncate=3.0) / w
    del w

    rng = rng_for(seed, "bands", year, "noise")
    out = np.zeros((4,) + shape, dtype=np.uint16)
    for b in range(4):
        band = refl[b]
        noise = rng.standard_normal(shape, dtype=np.float32)
        band *= 1.0 + NOISE_MULT * noise
        noise = rng.standard_normal(shape, dtype=np.float32)
        band += NOISE_ADD * noise
        dn = np.clip(np.rint(band * DN_MAX), 1, DN_MAX).astype(np.uint16)
        dn[~valid] = 0
        out[b] = dn
    return out


def indices(bands: NDArray[np.uint16]) -> dict[str, NDArray[np.float32]]:
    """NDVI, NDWI (McFeeters) and MNDWI from a ``(4, ...)`` band stack in :data:`BAND_NAMES` order.

    Nodata (0) pixels give NaN.
    """
    g, r, n, s = (bands[i].astype(np.float32) for i in range(4))
    with np.errstate(invalid="ignore", divide="ignore"):
        ndvi = (n - r) / (n + r)
        ndwi = (g - n) / (g + n)
        mndwi = (g - s) / (g + s)
    bad = bands[0] == 0
    for a in (ndvi, ndwi, mndwi):
        a[bad] = np.nan
    return {"ndvi": ndvi, "ndwi": ndwi, "mndwi": mndwi}
