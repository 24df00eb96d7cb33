"""Seeded random fields and rank selection: the texture engine of the demo landscape.

Every random draw goes through :func:`rng_for`, which derives an independent
``numpy.random.Generator`` from the build seed and a fixed *stream name*, so that adding a new
component never shifts the random numbers of the existing ones, and a build is a pure function
of ``(seed, boundaries)``.
"""

from __future__ import annotations

import hashlib

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

FloatArray = NDArray[np.float32]
BoolArray = NDArray[np.bool_]


def rng_for(seed: int, *stream: str | int) -> np.random.Generator:
    """Return a generator for one named random stream of a build.

    Parameters
    ----------
    seed
        Build seed (any non-negative integer).
    *stream
        Names identifying the component, e.g. ``("bands", 2020, "noise")``.

    Returns
    -------
    numpy.random.Generator
        PCG64 generator seeded from ``seed`` and a stable hash of ``stream``.
    """
    digest = hashlib.sha256("/".join(str(s) for s in stream).encode("utf-8")).digest()
    words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]
    return np.random.default_rng(np.random.SeedSequence([int(seed), *words]))


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], sigma_px: float) -> FloatArray:
    """Gaussian-correlated random field with zero mean and unit standard deviation.

    Large correlation lengths are generated on a coarser grid (a quarter of ``sigma_px`` per
    coarse cell) and bilinearly upsampled, which is what keeps the build fast: a field with
    ``sigma_px = 60`` costs about as much as one with ``sigma_px = 4``.

    Parameters
    ----------
    rng
        Random generator (see :func:`rng_for`).
    shape
        ``(rows, cols)`` of the output, in pixels.
    sigma_px
        Correlation length (standard deviation of the Gaussian kernel), in pixels.

    Returns
    -------
    numpy.ndarray
        float32 array of ``shape``.
    """
    rows, cols = shape
    factor = max(1, int(sigma_px // 4))
    crows, ccols = rows // factor + 3, cols // factor + 3
    coarse = rng.standard_normal((crows, ccols), dtype=np.float32)
    coarse = ndimage.gaussian_filter(coarse, sigma_px / factor, mode="wrap")
    if factor > 1:
        coarse = ndimage.zoom(coarse, factor, order=1, grid_mode=False)
    out = np.ascontiguousarray(coarse[:rows, :cols], dtype=np.float32)
    out -= out.mean(dtype=np.float64)
    std = float(out.std(dtype=np.float64))
    if std > 0:
        out /= std
    return out


def point_blobs(
    rng: np.random.Generator,
    shape: tuple[int, int],
    density_per_px: float,
    sigma_px: float,
) -> FloatArray:
    """Field of Gaussian blobs at Poisson-distributed points (villages, ponds).

    Parameters
    ----------
    rng
        Random generator.
    shape
        ``(rows, cols)`` in pixels.
    density_per_px
        Expected number of blob centres per pixel (e.g. 1 per km² at 30 m is ``9e-4``).
    sigma_px
        Blob radius (Gaussian standard deviation), in pixels.

    Returns
    -------
    numpy.ndarray
        float32 field scaled so that an isolated blob of unit weight peaks at 1.
    """
    n = int(rng.poisson(density_per_px * shape[0] * shape[1]))
    img = np.zeros(shape, dtype=np.float32)
    rr = rng.integers(0, shape[0], n)
    cc = rng.integers(0, shape[1], n)
    weights = rng.uniform(0.5, 1.5, n).astype(np.float32)
    np.add.at(img, (rr, cc), weights)
    out = ndimage.gaussian_filter(img, sigma_px, mode="constant")
    out *= np.float32(2.0 * np.pi * sigma_px**2)
    return out


def voronoi_values(
    rng: np.random.Generator, shape: tuple[int, int], mean_cell_px: float
) -> tuple[NDArray[np.int32], int]:
    """Label image of random Voronoi cells (field parcels, management blocks).

    Parameters
    ----------
    rng
        Random generator.
    shape
        ``(rows, cols)`` in pixels.
    mean_cell_px
        Mean cell size, in pixels (e.g. 220 px is about 20 ha at 30 m).

    Returns
    -------
    labels, n
        int32 label image with values ``0 .. n-1`` and the number of cells ``n``.
    """
    n = max(1, int(shape[0] * shape[1] / mean_cell_px))
    flat = rng.choice(shape[0] * shape[1], size=n, replace=False)
    seeds = np.ones(shape, dtype=bool)
    seeds.flat[flat] = False
    ids = np.full(shape, -1, dtype=np.int32)
    ids.flat[flat] = np.arange(n, dtype=np.int32)
    idx = ndimage.distance_transform_edt(seeds, return_distances=False, return_indices=True)
    return ids[idx[0], idx[1]], n


def top_k(score: FloatArray, candidates: BoolArray, k: int) -> BoolArray:
    """Select the ``k`` candidate pixels with the highest score.

    Parameters
    ----------
    score
        Potential of each pixel (higher is chosen first).
    candidates
        Pixels that may be chosen.
    k
        Number of pixels to choose; clipped to ``[0, candidates.sum()]``.

    Returns
    -------
    numpy.ndarray
        Boolean mask with exactly ``min(k, n_candidates)`` True pixels.
    """
    idx = np.flatnonzero(candidates)
    out = np.zeros(candidates.shape, dtype=bool)
    k = int(max(0, min(k, idx.size)))
    if k == 0:
        return out
    if k < idx.size:
        vals = score.ravel()[idx]
        part = np.argpartition(-vals, k - 1)[:k]
        idx = idx[part]
    out.ravel()[idx] = True
    return out


def mode_filter(classes: NDArray[np.uint8], size: int, keep: BoolArray) -> NDArray[np.uint8]:
    """Replace isolated pixels by the most frequent class of their neighbourhood.

    A pixel is replaced only if fewer than two of its 8 neighbours share its class and it is not
    in ``keep``; this removes salt-and-pepper noise without moving patch edges.

    Parameters
    ----------
    classes
        Class codes (0 = nodata, never assigned to a valid pixel).
    size
        Neighbourhood width in pixels (odd).
    keep
        Pixels that must not change (nodata, fixed features).

    Returns
    -------
    numpy.ndarray
        Filtered copy.
    """
    codes = [int(c) for c in np.unique(classes) if c != 0]
    same = np.zeros(classes.shape, dtype=np.uint8)
    best = np.zeros(classes.shape, dtype=np.uint8)
    best_count = np.zeros(classes.shape, dtype=np.float32)
    kernel = np.ones((3, 3), dtype=np.float32)
    kernel[1, 1] = 0
    for c in codes:
        m = (classes == c).astype(np.float32)
        nb = ndimage.correlate(m, kernel, mode="constant")
        same[classes == c] = nb[classes == c].astype(np.uint8)
        if size != 3:
            nb = ndimage.uniform_filter(m, size, mode="constant")
        better = nb > best_count
        best[better] = c
        best_count[better] = nb[better]
    lonely = (same < 2) & (classes != 0) & ~keep & (best != 0)
    out = classes.copy()
    out[lonely] = best[lonely]
    return out
