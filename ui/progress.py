"""The progress bar of a long computation, with its time budget.

One helper for every page: :func:`progress_bar` draws a bar in a container (``st`` itself, an
``st.empty()`` placeholder, a column) and returns the ``progress(step, fraction)`` callback the
core calls. The step is shown in the reader's language (``step_label``), the fraction is clamped
to 0..1, and every call checks the request's :class:`~geodata.budget.TimeBudget`, so a
computation that runs too long stops with a :class:`~geodata.budget.TimeBudgetError` (shown like
any DataError) instead of leaving the page spinning.
"""
from __future__ import annotations

from typing import Callable

from geodata.budget import TimeBudget
from ui.i18n import step_text

Progress = Callable[[str, float], None]


def progress_bar(box, label: str, lang: str, *, step_label: Callable[[str, str], str] | None = None,
                 budget: TimeBudget | None = None) -> tuple[object, Progress]:
    """``(bar, progress)``: a bar in ``box`` headed ``label`` and its callback. The budget (default
    ``$SINKS_TIME_BUDGET_S`` from now) is named after ``label``."""
    bar = box.progress(0.0, text=label)
    name = step_label or (lambda s, lg: step_text(s, lg))
    watch = budget or TimeBudget.from_env(label)

    def progress(step: str, fraction: float) -> None:
        watch.check(step)
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=f"{label} · {name(step, lang)}")

    return bar, progress
