"""Command line: ``python -m sinks.demo [--data-dir data] [--seed 2025] [--force]``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sinks.demo.build import build_demo
from sinks.demo.constants import DEFAULT_SEED, GENERATOR_NAME, GENERATOR_VERSION
from sinks.demo.landscape import BoundariesError


def main(argv: list[str] | None = None) -> int:
    """Build the demo data set and print one progress line per step; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m sinks.demo",
        description='Build the seeded demo "Jiangbei New Area (illustrative)" (synthetic data, not a survey).',
    )
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="data folder (default: data)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default: {DEFAULT_SEED})")
    parser.add_argument("--force", action="store_true", help="rebuild even if the outputs are current")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()

    def progress(message: str, fraction: float) -> None:
        print(f"[{GENERATOR_NAME} {GENERATOR_VERSION}] {time.perf_counter() - t0:5.1f}s {fraction:4.0%}  {message}", flush=True)

    try:
        build_demo(args.data_dir, seed=args.seed, force=args.force, progress=progress)
    except BoundariesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
