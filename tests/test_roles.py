"""Roles (issue 10 part 4): the public reads, officers edit and upload, administrators manage users.

Every page of app.py is opened as the public with AppTest, plainly and with a hostile address
(`?role=admin&officer=1&edit=1&user=admin`): no file uploader, no editable table, no form but the
login, and only the buttons listed here as public (reading actions). The Users page does not exist
for the public or an officer (not even by its address); an administrator adds, re-roles and
removes accounts through it, and the last administrator cannot be removed.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sinks.accounts import AccountStore
from tests.apptest_kit import login

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
DEMO = ROOT / "configs" / "jiangbei_demo.toml"
ADMIN, OFFICER, PASSWORD = "admin.zhou", "officer.li", "correct-horse-9"
PAGES = ("overview", "carbon_accounts", "landcover", "wetlands", "protection", "greening", "explorer", "neutrality", "reports")
# buttons the public may press: each reads or computes, none writes or uploads
PUBLIC_BUTTONS = {
    "FormSubmitter:auth-Log in",  # the login form itself
    "green_pt_draw",  # draw random check points to label by eye (nothing is stored)
    "rep_build",  # build the report PDF of the public figures
}
HOSTILE = {"role": "admin", "officer": "1", "edit": "1", "user": ADMIN, "admin": "true"}


@pytest.fixture()
def env(tmp_path, monkeypatch):
    from ui.cache import missing_demo_files

    if missing_demo_files(str(DEMO)):
        from sinks.demo import build_demo

        build_demo(ROOT / "data")
    accounts = tmp_path / "accounts.json"
    store = AccountStore(accounts)
    store.add(ADMIN, PASSWORD, role="admin", display_name="Zhou Admin")
    store.add(OFFICER, PASSWORD, role="officer", display_name="Li Wei")
    monkeypatch.setenv("SINKS_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("SINKS_ACCOUNTS", str(accounts))
    return store


def _app(lang: str = "en", params: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=600)
    at.session_state["lang"] = lang
    at.run()
    for k, v in (params or {}).items():
        at.query_params[k] = v
    return at


def _open(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _edit_surface(at: AppTest) -> dict:
    """What on the page could change or upload anything."""
    return {
        "uploaders": [u.proto.label for u in at.get("file_uploader")],
        "editable_tables": sum(1 for d in at.get("arrow_data_frame") if d.proto.editing_mode != 0),
        "buttons": sorted(b.key or b.label for b in at.button if (b.key or b.label) not in PUBLIC_BUTTONS),
        "text_inputs": sorted(x.label for x in at.text_input if x.key not in ("auth_username", "auth_password")),
    }


NOTHING = {"uploaders": [], "editable_tables": 0, "buttons": [], "text_inputs": []}


@pytest.mark.parametrize("params", [None, HOSTILE], ids=["plain", "hostile-address"])
def test_the_public_cannot_reach_an_edit_action_on_any_page(env, params):
    seen = {}
    for page in PAGES:
        at = _open(_app("en", params), page)
        seen[page] = _edit_surface(at)
    assert {p: s for p, s in seen.items() if s != NOTHING} == {}, seen
    assert "_auth_session" not in at.session_state


def test_the_users_page_exists_only_for_an_administrator(env):
    at = _app("en")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/users.py")
    at = _open(_app("en"), "wetlands")
    login(at, OFFICER, PASSWORD)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/users.py")  # an officer edits red lines, not accounts
    at = _open(_app("en"), "wetlands")
    login(at, ADMIN, PASSWORD)
    at = _open(at, "users")
    assert at.title[0].value == "Users"
    table = at.dataframe[0].value
    assert list(table["Username"]) == [ADMIN, OFFICER] and list(table["Role"]) == ["administrator", "officer"]
    assert "password_hash" not in " ".join(map(str, table.columns)) and "scrypt" not in table.to_string()


def _add(at: AppTest, *values: str) -> None:
    """Fill the add-account form (username, display name, password, repeat) and submit it."""
    boxes = [x for x in at.text_input if x.key is None or not x.key.startswith("auth")]
    for box, v in zip(boxes, values):
        box.input(v)
    next(b for b in at.get("form_submit_button") if b.proto.form_id == "users_add").click().run()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_administrator_adds_re_roles_and_removes_accounts(env, lang):
    store = env
    at = _open(_app(lang), "wetlands")
    login(at, ADMIN, PASSWORD)
    at = _open(at, "users")
    # add: two different passwords change nothing; then the account appears
    _add(at, "planner.wu", "Wu Min", "a long passphrase 1", "a long passphrase 2")
    assert not at.exception and at.error and store.get("planner.wu") is None
    _add(at, "planner.wu", "Wu Min", "a long passphrase 1", "a long passphrase 1")
    assert not at.exception, [e.value for e in at.exception]
    assert store.get("planner.wu").role == "officer" and store.authenticate("planner.wu", "a long passphrase 1")
    # a weak password: the policy's message, nothing added
    _add(at, "weak.one", "", "short", "short")
    assert not at.exception and store.get("weak.one") is None and at.error
    # the role form and the remove form act on the chosen account
    at.selectbox(key="users_pick").set_value("planner.wu").run()
    next(s for s in at.selectbox if s.proto.form_id == "users_role").set_value("admin")
    next(b for b in at.get("form_submit_button") if b.proto.form_id == "users_role").click().run()
    assert not at.exception and store.get("planner.wu").role == "admin"
    at.selectbox(key="users_pick").set_value("planner.wu").run()
    next(c for c in at.checkbox if c.proto.form_id == "users_remove").check()
    next(b for b in at.get("form_submit_button") if b.proto.form_id == "users_remove").click().run()
    assert not at.exception and store.get("planner.wu") is None
    actions = [(r["action"], r["username"], r["actor"]) for r in store.audit() if r["actor"] == ADMIN and r["username"] == "planner.wu"]
    assert actions == [("remove", "planner.wu", ADMIN), ("role", "planner.wu", ADMIN), ("add", "planner.wu", ADMIN)]


def test_the_last_administrator_cannot_demote_themselves(env):
    store = env
    at = _open(_app("en"), "wetlands")
    login(at, ADMIN, PASSWORD)
    at = _open(at, "users")
    at.selectbox(key="users_pick").set_value(ADMIN).run()
    next(s for s in at.selectbox if s.proto.form_id == "users_role").set_value("officer")
    next(b for b in at.get("form_submit_button") if b.proto.form_id == "users_role").click().run()
    assert not at.exception
    assert any("last admin" in e.value for e in at.error), [e.value for e in at.error]
    assert store.get(ADMIN).role == "admin"
    remove = next(b for b in at.get("form_submit_button") if b.proto.form_id == "users_remove")
    assert remove.disabled  # nobody removes their own account
