"""A time budget per computation: a message instead of a hang.

Every long computation of the core reports progress (``progress(step, fraction)``); a
:class:`TimeBudget` rides on those calls: once the budget is spent, the next progress call raises
:class:`TimeBudgetError` (a :class:`~geodata.errors.DataError`: file / problem / fix), the
computation unwinds (nothing half-written: writes are atomic) and the page says what happened
and what to do. The check costs one clock read per progress call; a single step that runs past the
budget is stopped at its end, not in the middle.

The budget is ``$SINKS_TIME_BUDGET_S`` seconds (default :data:`DEFAULT_BUDGET_S`), the same for
every computation a request starts. Cached results cost nothing, so a budget only bites on a cold
computation that is too big for the server (a whole province drawn at once, a huge image): raise
it for a slow machine rather than lower the work.

Usage::

    budget = TimeBudget.from_env("the protection screening")
    result = screen(cfg, progress=budget.watch(bar_callback))
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from typing import Callable

from geodata.errors import DataError

__all__ = ["DEFAULT_BUDGET_S", "ENV_VAR", "TimeBudget", "TimeBudgetError", "budget_seconds"]

ENV_VAR = "SINKS_TIME_BUDGET_S"
#: Ten minutes: the demo's coldest path (the first assessment plus the greening masks plus the
#: protection screening for the explorer's first card) takes about 1.5 minutes on 2 cores.
DEFAULT_BUDGET_S = 600.0

Progress = Callable[[str, float], None]


class TimeBudgetError(DataError):
    """A computation ran past its time budget and was stopped."""

    kind = "time_budget"


def budget_seconds(environ: dict | None = None) -> float:
    """The budget from ``$SINKS_TIME_BUDGET_S``; a value that is not a positive number is a
    :class:`DataError` naming the variable (a typo must not silently lift the limit)."""
    env = os.environ if environ is None else environ
    raw = env.get(ENV_VAR)
    if raw is None or raw.strip() == "":
        return DEFAULT_BUDGET_S
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise DataError(f"${ENV_VAR}", f"{raw[:40]!r} is not a positive number of seconds",
                        f"set it to e.g. {DEFAULT_BUDGET_S:.0f}, or unset it for the default")
    return value


@dataclass
class TimeBudget:
    """``seconds`` for the computation named ``what`` (in messages), counted from its first
    progress call: time spent waiting for another session computing the same cached result does
    not count (the computation this budget watches has not started)."""

    seconds: float
    what: str
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=math.nan)

    @classmethod
    def from_env(cls, what: str, **kwargs) -> "TimeBudget":
        return cls(budget_seconds(), what, **kwargs)

    @property
    def elapsed_s(self) -> float:
        return 0.0 if math.isnan(self.started) else self.clock() - self.started

    def check(self, step: str = "") -> None:
        """Start the clock (first call), or raise :class:`TimeBudgetError` when the budget is spent."""
        if math.isnan(self.started):
            self.started = self.clock()
        elapsed = self.elapsed_s
        if elapsed > self.seconds:
            at = f" at step {step!r}" if step else ""
            raise TimeBudgetError(
                self.what,
                f"stopped after {elapsed:.0f} s{at}: the time budget per computation is {self.seconds:.0f} s",
                f"choose a smaller area, fewer dates or a smaller image; on a slow server an administrator "
                f"can raise ${ENV_VAR} (now {self.seconds:.0f})")

    def watch(self, progress: Progress | None = None) -> Progress:
        """A progress callback that checks the budget, then passes the call on to ``progress``."""
        def report(step: str, fraction: float) -> None:
            self.check(step)
            if progress is not None:
                progress(step, fraction)
        return report
