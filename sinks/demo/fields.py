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


def upsample_linear(coarse: FloatArray, factor: int, shape: tuple[int, int], margin: int = 0) -> FloatArray:
    """Bilinear upsampling of a coarse grid by an integer ``factor``.

    Coarse cell ``i`` (after ``margin`` leading cells) covers fine pixels
    ``i * factor .. (i + 1) * factor - 1``; values are interpolated between coarse cell centres.
    Works phase by phase (strided slices), which is much faster than fancy indexing.

    Parameters
    ----------
    coarse
        Coarse grid; must extend at least one cell beyond the fine extent on every side when
        ``margin = 1`` (otherwise it is edge-padded here).
    factor
        Integer upsampling factor.
    shape
        ``(rows, cols)`` of the output.
    margin
        Number of leading coarse cells (rows and columns) before the one aligned with pixel 0.

    Returns
    -------
    numpy.ndarray
        float32 array of ``shape``.
    """
    if margin == 0:
        coarse = np.pad(coarse, 1, mode="edge")
        margin = 1
    rows, cols = shape
    coarse = coarse.astype(np.float32, copy=False)

    # Phase j of each coarse cell sits at offset pos_j = (j + 0.5) / factor - 0.5 cells from the
    # cell centre: phases with pos_j < 0 interpolate towards the previous cell, others towards
    # the next one. Each half is one broadcast expression over a (.., cells, phases) view.
    pos = (np.arange(factor, dtype=np.float32) + 0.5) / factor - 0.5
    lo_half, hi_half = pos < 0, pos >= 0
    w_lo = (1.0 + pos[lo_half]).astype(np.float32)  # weight of the cell itself (previous: 1 - w)
    w_hi = pos[hi_half].astype(np.float32)  # weight of the next cell

    def along_rows(a: FloatArray, n: int) -> FloatArray:
        cells = -(-n // factor)
        cur = a[margin : margin + cells, None, :]
        prev = a[margin - 1 : margin - 1 + cells, None, :]
        nxt = a[margin + 1 : margin + 1 + cells, None, :]
        out = np.empty((cells, factor, a.shape[1]), dtype=np.float32)
        out[:, lo_half, :] = prev * (1.0 - w_lo)[None, :, None] + cur * w_lo[None, :, None]
        out[:, hi_half, :] = cur * (1.0 - w_hi)[None, :, None] + nxt * w_hi[None, :, None]
        return out.reshape(cells * factor, a.shape[1])[:n]

    def along_cols(a: FloatArray, n: int) -> FloatArray:
        cells = -(-n // factor)
        cur = a[:, margin : margin + cells, None]
        prev = a[:, margin - 1 : margin - 1 + cells, None]
        nxt = a[:, margin + 1 : margin + 1 + cells, None]
        out = np.empty((a.shape[0], cells, factor), dtype=np.float32)
        out[:, :, lo_half] = prev * (1.0 - w_lo)[None, None, :] + cur * w_lo[None, None, :]
        out[:, :, hi_half] = cur * (1.0 - w_hi)[None, None, :] + nxt * w_hi[None, None, :]
        return np.ascontiguousarray(out.reshape(a.shape[0], cells * factor)[:, :n])

    return along_cols(along_rows(coarse, rows), cols)


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], sigma_px: float) -> FloatArray:
    """Gaussian-correlated random field with zero mean and unit standard deviation.

    Fields with ``sigma_px >= 3`` are generated on a coarser grid (cells of half to two thirds
    of the correlation length) and bilinearly upsampled, which keeps the build fast: a field with
    ``sigma_px = 60`` costs less than one with ``sigma_px = 3``.

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
    factor = max(1, int(sigma_px // 2), int(sigma_px // 1.5) if sigma_px < 4 else 1) if sigma_px >= 3 else 1
    crows, ccols = -(-rows // factor) + 3, -(-cols // factor) + 3
    coarse = rng.standard_normal((crows, ccols), dtype=np.float32)
    coarse = ndimage.gaussian_filter(coarse, sigma_px / factor, mode="wrap", truncate=3.0)
    coarse -= coarse.mean(dtype=np.float64)
    std = float(coarse.std(dtype=np.float64))
    if std > 0:
        coarse /= std
    if factor == 1:
        return np.ascontiguousarray(coarse[1 : rows + 1, 1 : cols + 1])
    return upsample_linear(coarse, factor, shape, margin=1)


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
    rng: np.random.Generator, shape: tuple[int, int], mean_cell_px: float, factor: int = 2
) -> tuple[NDArray[np.int32], int]:
    """Label image of random Voronoi cells (field parcels, pond blocks).

    The tessellation is computed on a grid ``factor`` times coarser and replicated, so cell edges
    are staircases of ``factor`` pixels (at 30 m and ``factor = 2``, 60 m steps).

    Parameters
    ----------
    rng
        Random generator.
    shape
        ``(rows, cols)`` in pixels.
    mean_cell_px
        Mean cell size, in (full-resolution) pixels; 70 px is about 6.3 ha at 30 m.
    factor
        Coarsening factor of the tessellation.

    Returns
    -------
    labels, n
        int32 label image with values ``0 .. n-1`` and the number of cells ``n``.
    """
    crows, ccols = -(-shape[0] // factor), -(-shape[1] // factor)
    n = max(1, int(crows * ccols * factor * factor / mean_cell_px))
    flat = rng.choice(crows * ccols, size=n, replace=False)
    background = np.ones((crows, ccols), dtype=bool)
    background.flat[flat] = False
    ids = np.full((crows, ccols), -1, dtype=np.int32)
    ids.flat[flat] = np.arange(n, dtype=np.int32)
    idx = ndimage.distance_transform_edt(background, return_distances=False, return_indices=True)
    coarse = ids[idx[0], idx[1]]
    del idx
    full = np.repeat(np.repeat(coarse, factor, axis=0), factor, axis=1)
    return np.ascontiguousarray(full[: shape[0], : shape[1]]), n


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


def mode_filter(classes: NDArray[np.uint8], keep: BoolArray, min_same: int = 2) -> NDArray[np.uint8]:
    """Replace isolated pixels by the most frequent class among their 8 neighbours.

    A pixel is replaced only if fewer than ``min_same`` of its 8 neighbours share its class and
    it is not in ``keep``; this removes salt-and-pepper noise without moving patch edges.

    Parameters
    ----------
    classes
        Class codes (0 = nodata, never assigned to a valid pixel).
    keep
        Pixels that must not change (nodata, fixed features).
    min_same
        Minimum number of same-class neighbours for a pixel to stay.

    Returns
    -------
    numpy.ndarray
        Filtered copy.
    """
    padded = np.pad(classes, 1, mode="constant")
    rows, cols = classes.shape
    shifts = [(dr, dc) for dr in (0, 1, 2) for dc in (0, 1, 2) if (dr, dc) != (1, 1)]
    same = np.zeros(classes.shape, dtype=np.uint8)
    for dr, dc in shifts:
        same += padded[dr : dr + rows, dc : dc + cols] == classes
    lonely = (same < min_same) & (classes != 0) & ~keep
    rr, cc = np.nonzero(lonely)
    if rr.size == 0:
        return classes.copy()
    nb = np.stack([padded[rr + dr, cc + dc] for dr, dc in shifts], axis=1)  # (n, 8)
    counts = (nb[:, :, None] == nb[:, None, :]).sum(axis=2)
    counts[nb == 0] = -1
    best = nb[np.arange(nb.shape[0]), np.argmax(counts, axis=1)]
    out = classes.copy()
    ok = best != 0
    out[rr[ok], cc[ok]] = best[ok]
    return out
