"""The time budget per computation (geodata.budget, ui.progress): a message instead of a hang."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geodata.budget import DEFAULT_BUDGET_S, ENV_VAR, TimeBudget, TimeBudgetError, budget_seconds
from geodata.errors import DataError
from sinks.accounts import AccountStore
from tests.apptest_kit import login

ROOT = Path(__file__).resolve().parents[1]


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_the_budget_stops_at_the_first_progress_call_past_it():
    clock = Clock()
    seen = []
    b = TimeBudget(30.0, "the protection screening", clock=clock)
    clock.t += 500.0  # waiting for another session's computation of the same result: not counted
    watch = b.watch(lambda s, f: seen.append((s, f)))
    watch("count land cover 2020", 0.1)  # the clock starts here
    clock.t += 30.0  # exactly the budget: still allowed
    watch("count land cover 2025", 0.5)
    clock.t += 0.5
    with pytest.raises(TimeBudgetError) as ei:
        watch("count change 2020-2025", 0.8)
    assert seen == [("count land cover 2020", 0.1), ("count land cover 2025", 0.5)]  # the late call is not passed on
    e = ei.value
    assert isinstance(e, DataError) and e.kind == "time_budget" and e.source == "the protection screening"
    assert "stopped after 30 s at step 'count change 2020-2025'" in e.problem and "budget per computation is 30 s" in e.problem
    assert ENV_VAR in e.fix and "smaller area" in e.fix


@pytest.mark.parametrize("raw, want", [(None, DEFAULT_BUDGET_S), ("", DEFAULT_BUDGET_S), ("90", 90.0), (" 2.5 ", 2.5)])
def test_budget_from_the_environment(raw, want):
    assert budget_seconds({} if raw is None else {ENV_VAR: raw}) == want


@pytest.mark.parametrize("raw", ["0", "-5", "abc", "nan", "inf", "1e999"])
def test_a_bad_budget_setting_is_refused_not_ignored(raw):
    with pytest.raises(DataError, match=ENV_VAR) as ei:
        budget_seconds({ENV_VAR: raw})
    assert "positive number of seconds" in ei.value.problem


def test_a_classification_past_its_budget_says_so_on_the_page(tmp_path, monkeypatch):
    """The land-cover rules classification (never cached) with a 1 ms budget: the page shows
    the time-budget message, in the reader's language, and raises nothing."""
    monkeypatch.setenv("SINKS_WORKSPACE", str(tmp_path / "ws"))
    AccountStore(tmp_path / "accounts.json").add("planner.wu", "correct-horse-9", role="officer")
    monkeypatch.setenv("SINKS_ACCOUNTS", str(tmp_path / "accounts.json"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["lang"] = "en"
    at.run()
    at.switch_page("app_pages/landcover.py").run()
    login(at, "planner.wu", "correct-horse-9")
    monkeypatch.setenv(ENV_VAR, "0.001")
    submit = [b for b in at.button if b.key and b.key.startswith("FormSubmitter:lc_rules_form")]
    submit[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any("ran past its time budget" in e and ENV_VAR in e for e in errors), errors
    assert not at.metric  # no half result shown
