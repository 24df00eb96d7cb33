"""One error family for bad input: every message names the file, the problem and the fix.

Modelled on ``rasterio.errors``: the errors are also ``ValueError`` so callers that only
know the standard library still catch them. Pages show a ``DataError`` as a clear message;
any other exception is a bug.
"""
from __future__ import annotations

from pathlib import Path


class DataError(ValueError):
    """Input data that cannot be used as given.

    Parameters
    ----------
    source
        The file (or upload name, or layer) the problem is in.
    problem
        What is wrong, with the offending values.
    fix
        What the user can do about it.
    """

    kind = "data"

    def __init__(self, source: str | Path | None, problem: str, fix: str) -> None:
        self.source = str(source) if source is not None else "<input>"
        self.problem = problem
        self.fix = fix
        super().__init__(f"{self.source}: {problem}. Fix: {fix}")

    def as_dict(self) -> dict[str, str]:
        """The three parts, for a UI that lays them out separately."""
        return {"kind": self.kind, "source": self.source, "problem": self.problem, "fix": self.fix}


class MissingCRSError(DataError):
    kind = "missing_crs"


class CRSMismatchError(DataError):
    kind = "crs_mismatch"


class GridError(DataError):
    """Rotated, non-square, mismatched or otherwise unusable raster grid."""

    kind = "grid"


class NoDataError(DataError):
    """Nodata not declared, or nothing but nodata."""

    kind = "nodata"


class SchemaError(DataError):
    """A table or layer lacks a column, or a column holds the wrong kind of value."""

    kind = "schema"


class UnknownClassError(DataError):
    """Land-cover codes present in a raster but missing from a coefficient table."""

    kind = "unknown_class"


class GeometryError(DataError):
    kind = "geometry"


class UnsafeInputError(DataError):
    """Hostile or oversize input: path traversal in a zip, zip bomb, too large."""

    kind = "unsafe_input"


class EmptyResultError(DataError):
    kind = "empty_result"
