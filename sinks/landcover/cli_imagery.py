"""``python -m sinks indices`` and ``python -m sinks classify``: options in, library calls out.

Registered by ``sinks.cli`` with :func:`add_parsers`. Handlers return exit codes (0 done,
2 options that do not fit together) and let :class:`~geodata.errors.DataError` propagate:
``sinks.cli.main`` prints it (file, problem, fix) and exits 1.

Examples::

    python -m sinks indices --bands data/rasters/jiangbei_bands_2020.tif --out ndvi_2020.tif
    python -m sinks indices --bands T50_B03.tif T50_B04.tif T50_B08.tif --sensor sentinel2 \\
        --indices ndvi,ndwi --out idx.tif
    python -m sinks classify --bands B.tif --method rules [--rules my_rules.toml] --out map.tif
    python -m sinks classify --bands B.tif --method rf --training samples.gpkg --class-field CODE \\
        [--mapping legend.csv] [--seed 0] [--holdout 0.3] --out map.tif
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.replace(";", ",").split(",") if v.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {text!r}") from exc


def _band_map(text: str) -> dict[str, int | str]:
    out: dict[str, int | str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise argparse.ArgumentTypeError(f"expected name=band pairs such as red=3,nir=4, got {part!r}")
        k, v = (s.strip() for s in part.split("=", 1))
        out[k] = int(v) if v.isdigit() else v
    return out


def _nodata(text: str) -> float | str | None:
    t = text.strip().lower()
    if t == "none":
        return None
    if t == "auto":
        return "auto"
    try:
        return float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("--nodata takes a number, 'auto' or 'none'") from exc


def _add_band_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("bands")
    g.add_argument("--bands", nargs="+", required=True, metavar="FILE",
                   help="one multiband file or several single-band files (all on one grid)")
    g.add_argument("--sensor", choices=("sentinel2", "landsat89", "custom"), default="custom",
                   help="band ids and DN scaling: sentinel2 (B3/B4/B8/B11, DN/10000), landsat89 (SR_B3..SR_B6, "
                        "DN x 0.0000275 - 0.2), custom (band descriptions / --band-map, scale from the file or --scale)")
    g.add_argument("--band-map", type=_band_map, metavar="NAME=BAND,...",
                   help="which band is which, e.g. green=2,red=3,nir=4,swir1=5 (1-based, across the files in order) or nir=B08")
    g.add_argument("--scale", type=float, help="reflectance = DN x scale + offset (overrides the file and the sensor)")
    g.add_argument("--offset", type=float, help="see --scale (reflectance units)")
    g.add_argument("--boa-offset", action="store_true",
                   help="Sentinel-2 L2A from processing baseline 04.00 (2022-01-25 on): apply BOA_ADD_OFFSET = -1000")
    g.add_argument("--nodata", type=_nodata, default="auto", metavar="VALUE|auto|none",
                   help="fill value of the bands (default: as declared, else the sensor's fill value)")
    g.add_argument("--cloud-mask", type=Path, metavar="FILE", help="a mask raster on the same grid (e.g. Sentinel-2 SCL resampled)")
    g.add_argument("--cloud-band", type=int, default=1, help="band of --cloud-mask (default 1)")
    g.add_argument("--cloud-values", type=_floats, metavar="V,V,...", help="mask values to drop, e.g. 3,8,9,10 for SCL")
    p.add_argument("--block-size", type=int, default=512, help="window edge in pixels (memory per block)")
    p.add_argument("--out", type=Path, required=True, help="the GeoTIFF to write (replaced atomically)")


def _open(args):
    from geodata.bands import open_bands

    paths = args.bands[0] if len(args.bands) == 1 else list(args.bands)
    return open_bands(
        paths, sensor=args.sensor, bands=args.band_map, scale=args.scale, offset=args.offset,
        boa_add_offset=args.boa_offset, nodata=args.nodata, cloud_mask=args.cloud_mask,
        cloud_band=args.cloud_band, cloud_values=args.cloud_values,
    )


def _usage_error(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2


def _check_band_args(args) -> int | None:
    if args.cloud_mask is not None and not args.cloud_values:
        return _usage_error("--cloud-mask needs --cloud-values (the mask values that mean cloud, shadow, ...)")
    if args.cloud_values and args.cloud_mask is None:
        return _usage_error("--cloud-values needs --cloud-mask")
    if args.boa_offset and args.sensor != "sentinel2":
        return _usage_error("--boa-offset is for --sensor sentinel2")
    if args.block_size < 16:
        return _usage_error("--block-size must be at least 16 pixels")
    return None


def cmd_indices(args) -> int:
    """Write NDVI / NDWI / MNDWI (/ NDBI) as a float32 GeoTIFF and print their statistics."""
    from sinks.cli import _Progress  # here: sinks.cli imports this module
    from sinks.landcover.indices import INDEX_BANDS, write_indices

    if (rc := _check_band_args(args)) is not None:
        return rc
    names = [n.strip().lower() for n in args.indices.split(",") if n.strip()]
    unknown = [n for n in names if n not in INDEX_BANDS]
    if unknown or not names:
        return _usage_error(f"--indices takes a list of {', '.join(INDEX_BANDS)}; not {', '.join(unknown) or 'empty'}")
    bs = _open(args)
    print(f"bands: {bs.describe()}", file=sys.stderr)
    res = write_indices(bs, args.out, indices=names, block_size=args.block_size, progress=_Progress())
    for s in res.stats:
        print(f"{s.name:6s} min {s.min:8.4f}  mean {s.mean:8.4f}  max {s.max:8.4f}  valid {s.valid_px:,} px")
    print(f"wrote {res.path} ({res.width}x{res.height}, {', '.join(res.indices)}; NaN = no data)")
    return 0


def cmd_classify(args) -> int:
    """Classify with rules or a random forest and write a WorldCover-coded GeoTIFF."""
    import numpy as np

    from sinks.cli import _Progress
    from sinks.landcover import classify as C

    if (rc := _check_band_args(args)) is not None:
        return rc
    if args.method == "rf":
        if args.training is None or args.class_field is None:
            return _usage_error("--method rf needs --training SAMPLES and --class-field COLUMN")
        if not 0 <= args.holdout < 1:
            return _usage_error("--holdout must be a fraction in [0, 1)")
        if args.holdout > 0 and args.min_samples < 2:
            return _usage_error("a stratified held-out set needs --min-samples 2 or more (or --holdout 0)")
    elif args.training is not None or args.mapping is not None:
        return _usage_error("--training / --mapping are for --method rf")
    if args.method == "rules" and args.texture:
        return _usage_error("--texture is for --method rf")

    progress = _Progress()
    bs = _open(args)
    print(f"bands: {bs.describe()}", file=sys.stderr)
    if args.method == "rules":
        rules = C.load_rules(args.rules)
        print(f"rules ({rules.source}): {rules.summary()}", file=sys.stderr)
        res = C.classify_rules(bs, rules, args.out, block_size=args.block_size, progress=progress)
    else:
        spec = C.FeatureSpec.default(bs, texture=args.texture)
        progress("training samples", 0.0)
        samples = C.extract_samples(
            bs, args.training, class_field=args.class_field, mapping=args.mapping, features=spec,
            min_per_class=args.min_samples, layer=args.training_layer, max_px_per_polygon=args.max_px_per_polygon,
            drop_invalid=args.drop_invalid, block_size=args.block_size, seed=args.seed,
        )
        progress("training samples", 1.0)
        for note in samples.notes:
            print(f"note: {note}", file=sys.stderr)
        grouped = len(np.unique(samples.sample_id)) < len(samples.sample_id)  # polygons: keep them whole
        tr, te = C.holdout_split(samples.labels, holdout=args.holdout, seed=args.seed,
                                 groups=samples.sample_id if grouped else None)
        progress("training the random forest", 0.0)
        model = C.train_classifier(samples.features.iloc[tr], samples.labels[tr], seed=args.seed,
                                   n_estimators=args.n_estimators, n_jobs=-1)
        progress("training the random forest", 1.0)
        print("training pixels per class: " + ", ".join(f"{c}: {n}" for c, n in model.training_counts_.items()))
        if te.size:
            from sinks.landcover.accuracy import confusion_matrix

            pred = model.predict(samples.features.iloc[te])
            cm = confusion_matrix(pred, samples.labels[te])
            print(f"held-out accuracy ({te.size} sample pixels, {args.holdout:.0%} held out, seed {args.seed}"
                  f"{', whole polygons' if grouped else ''}): overall {cm.overall_accuracy:.3f}, kappa {cm.kappa:.3f}")
            print("  (pixels from the training layer, not a probability sample: for map accuracy and "
                  "adjusted areas use `python -m sinks accuracy` with a stratified reference sample)")
        else:
            print("held-out accuracy: not estimated (--holdout 0)")
        res = C.classify_supervised(bs, model, args.out, block_size=args.block_size, progress=progress)
    total = sum(res.class_counts_px.values())
    for code, n in sorted(res.class_counts_px.items()):
        ha = f"{n * res.pixel_area_m2 / 10_000:12,.1f} ha" if res.pixel_area_m2 else ""
        print(f"{code:4d} {C.WORLDCOVER_CLASSES.get(code, '?'):26s} {n:12,d} px {ha} {n / total:6.1%}")
    if res.unclassified_px:
        print(f"{res.unclassified_px:,} valid pixel(s) could not be classified (a feature was NaN) and were written as 0")
    print(f"wrote {res.path} ({res.method}; uint8 ESA WorldCover codes, 0 = no data)")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the ``indices`` and ``classify`` subcommands to ``python -m sinks``."""
    p = sub.add_parser("indices", help="NDVI / NDWI / MNDWI from reflectance bands, as a float32 GeoTIFF")
    _add_band_options(p)
    p.add_argument("--indices", default="ndvi,ndwi,mndwi", help="comma list of ndvi, ndwi, mndwi, ndbi (default ndvi,ndwi,mndwi)")
    p.set_defaults(func=cmd_indices)

    c = sub.add_parser("classify", help="land cover (ESA WorldCover codes) from reflectance: threshold rules or a random forest")
    _add_band_options(c)
    c.add_argument("--method", choices=("rules", "rf"), required=True)
    c.add_argument("--rules", type=Path, help="rules TOML (default data/landcover/rules_worldcover.toml)")
    c.add_argument("--training", type=Path, help="training points or polygons (GeoPackage, GeoJSON, zipped shapefile)")
    c.add_argument("--training-layer", help="layer of --training")
    c.add_argument("--class-field", help="column of --training holding the classes")
    c.add_argument("--mapping", type=Path, help="CSV code,worldcover translating your classes to ESA WorldCover codes")
    c.add_argument("--seed", type=int, default=0, help="random seed (split and forest; same seed, same map)")
    c.add_argument("--holdout", type=float, default=0.3, help="share of samples held out for accuracy (default 0.3)")
    c.add_argument("--n-estimators", type=int, default=200, help="trees in the forest (default 200)")
    c.add_argument("--texture", action="store_true", help="add 3x3 local mean and std of NDVI as features")
    c.add_argument("--min-samples", type=int, default=10, help="fewest sample pixels per class (default 10)")
    c.add_argument("--max-px-per-polygon", type=int, help="draw at most this many pixels from each training polygon")
    c.add_argument("--drop-invalid", action="store_true", help="leave out samples on nodata / cloud instead of stopping")
    c.set_defaults(func=cmd_classify)
