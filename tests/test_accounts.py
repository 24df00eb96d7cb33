"""Officer accounts: hashing, the credentials file (outside the repo, atomic, locked), throttling,
session expiry, the ``accounts`` command line and the login panel (AppTest)."""
from __future__ import annotations

import io
import json
import multiprocessing
import re
import stat
from pathlib import Path

import pytest

from geodata.errors import DataError
from sinks import accounts as acc
from sinks.accounts import (
    AccountError,
    AccountsFileMissing,
    AccountStore,
    LoginThrottle,
    LoginThrottled,
    PasswordPolicyError,
    Session,
)
from sinks.cli import main
from ui.i18n import EN, ZH

ROOT = Path(__file__).resolve().parents[1]
PW = "correct horse battery"


class Clock:
    """A clock the test moves by hand (Unix seconds)."""

    def __init__(self, t: float = 1_750_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def store(tmp_path) -> AccountStore:
    s = AccountStore(tmp_path / "cfg" / "accounts.json", throttle=LoginThrottle(), clock=Clock())
    s.add("li.wei", PW, role="officer", display_name="Li Wei")
    return s


# ---------------------------------------------------------------------------------------- hashing


def test_hash_round_trip_and_wrong_password():
    h = acc.hash_password("a long passphrase")
    assert acc.verify_password("a long passphrase", h)
    assert not acc.verify_password("a long passphrasE", h)
    assert not acc.verify_password("", h)
    assert acc.hash_password("a long passphrase") != h  # a fresh salt every time


def test_hash_string_carries_its_parameters():
    h = acc.hash_password("a long passphrase", n=2**10, r=4, p=2)
    m = re.fullmatch(r"scrypt\$n=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)", h)
    assert m, h
    assert (int(m[1]), int(m[2]), int(m[3])) == (1024, 4, 2)
    params, salt, key = acc.parse_hash(h)
    assert params == {"n": 1024, "r": 4, "p": 2} and len(salt) == 16 and len(key) == 32
    # verification reads the parameters from the string, not from the module defaults
    assert acc.verify_password("a long passphrase", h)
    default = acc.hash_password("x" * 10)
    assert default.startswith(f"scrypt$n={acc.SCRYPT_N},r={acc.SCRYPT_R},p={acc.SCRYPT_P}$")
    for bad in ("bcrypt$x$y$z", "scrypt$n=3,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$" + "A" * 44, "scrypt$n=1024$a$b"):
        with pytest.raises(ValueError):
            acc.parse_hash(bad)


def test_password_policy_messages():
    assert acc.password_problems("li.wei", "ten chars!") == []
    assert acc.password_problems("li.wei", "short") == ["it has 5 characters; at least 10 are required"]
    with pytest.raises(PasswordPolicyError, match="same as the username"):
        acc.check_password("officer.one", "Officer.One")
    with pytest.raises(AccountError, match="3 to 32 characters"):
        acc.check_username("a b")
    assert acc.check_username("  Li.Wei ") == "li.wei"


# ---------------------------------------------------------------------------------------- the file


def test_file_format_mode_and_no_hash_in_list(store):
    doc = json.loads(store.path.read_text(encoding="utf-8"))
    assert doc["format"] == "jiangbei-sinks-accounts" and doc["version"] == acc.FORMAT_VERSION
    (rec,) = doc["users"]
    assert set(rec) == {"username", "role", "display_name", "password_hash", "created_utc", "updated_utc"}
    assert rec["password_hash"].startswith("scrypt$") and PW not in store.path.read_text(encoding="utf-8")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rec["created_utc"])
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    (a,) = store.list()
    assert (a.username, a.role, a.display_name) == ("li.wei", "officer", "Li Wei")
    assert not hasattr(a, "password_hash")


def test_add_passwd_remove(store):
    with pytest.raises(AccountError, match="already exists"):
        store.add("LI.WEI", "another password")
    store.add("zhao.admin", "admin passphrase", role="admin")
    with pytest.raises(AccountError, match="unknown role"):
        store.add("someone", "a passphrase ok", role="root")
    assert [a.username for a in store.list()] == ["li.wei", "zhao.admin"]
    store.clock.t += 60
    store.set_password("li.wei", "a brand new passphrase")
    assert store.authenticate("li.wei", PW) is None
    assert store.authenticate("Li.Wei", "a brand new passphrase").username == "li.wei"
    with pytest.raises(AccountError, match="last admin"):  # nobody could manage users after
        store.remove("zhao.admin")
    with pytest.raises(AccountError, match="last admin"):
        store.set_role("zhao.admin", "officer")
    assert store.set_role("li.wei", "admin").is_admin
    store.remove("zhao.admin")
    with pytest.raises(AccountError, match="no user 'zhao.admin'"):
        store.remove("zhao.admin")
    assert [(a.username, a.role) for a in store.list()] == [("li.wei", "admin")]
    # every change and login is in the audit log, newest first, without a password or hash
    log = store.audit()
    assert [(r["action"], r["username"]) for r in log] == [
        ("remove", "zhao.admin"), ("role", "li.wei"), ("login", "li.wei"), ("login_failed", "li.wei"),
        ("passwd", "li.wei"), ("add", "zhao.admin"), ("add", "li.wei")]
    assert log[1]["role"] == "admin" and all(r["actor"] for r in log)
    text = store.audit_path.read_text()
    assert PW not in text and "scrypt" not in text and "a brand new passphrase" not in text
    assert store.audit_path.stat().st_mode & 0o777 == 0o600


def test_file_inside_the_repository_is_refused(tmp_path, monkeypatch):
    for inside in (ROOT / "accounts.json", ROOT / "data" / "secrets" / "a.json"):
        with pytest.raises(DataError, match="inside the repository") as ei:
            AccountStore(inside)
        assert ei.value.source == str(inside) and "SINKS_ACCOUNTS" in ei.value.fix
    monkeypatch.setenv("SINKS_ACCOUNTS", str(ROOT / "accounts.json"))
    with pytest.raises(DataError, match="inside the repository"):
        AccountStore()
    link = tmp_path / "sneaky"
    link.symlink_to(ROOT, target_is_directory=True)  # a path that only looks outside
    with pytest.raises(DataError, match="inside the repository"):
        AccountStore(link / "accounts.json")
    assert not (ROOT / "accounts.json").exists()
    monkeypatch.setenv("SINKS_ACCOUNTS", str(tmp_path / "ok.json"))
    assert AccountStore().path == (tmp_path / "ok.json").resolve()
    monkeypatch.delenv("SINKS_ACCOUNTS")
    assert acc.default_accounts_path() == Path.home() / ".config" / "jiangbei-sinks" / "accounts.json"


def test_failed_write_leaves_the_old_file_and_no_temp(store, monkeypatch):
    before = store.path.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(acc.os, "replace", broken_replace)
    with pytest.raises(AccountError, match="could not be written") as ei:
        store.add("wang.fang", "another passphrase")
    assert ei.value.source == str(store.path)
    monkeypatch.undo()
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["accounts.json", "accounts.json.audit.jsonl", "accounts.json.lock"]
    assert [r["action"] for r in store.audit()] == ["add"]  # the failed add is not recorded
    assert [a.username for a in store.list()] == ["li.wei"]


@pytest.mark.parametrize("content, problem", [
    ("{not json", "not valid JSON (line 1, column 2"),
    ('{"users": []}', "not a credentials file"),
    ('{"format": "jiangbei-sinks-accounts", "version": 99, "users": []}', "version 99"),
    ('{"format": "jiangbei-sinks-accounts", "version": 1, "users": [{"username": "x"}]}', "user entry 0 lacks"),
])
def test_broken_file_is_a_clear_error_never_empty(tmp_path, content, problem):
    path = tmp_path / "accounts.json"
    path.write_text(content, encoding="utf-8")
    s = AccountStore(path, throttle=LoginThrottle())
    for call in (s.list, lambda: s.authenticate("li.wei", PW), lambda: s.add("new.user", "a passphrase ok")):
        with pytest.raises(DataError) as ei:
            call()
        assert ei.value.source == str(path) and problem in ei.value.problem and ei.value.fix
    assert path.read_text(encoding="utf-8") == content  # a broken file is never overwritten


def _add_users(path: str, worker: int, barrier) -> None:
    s = AccountStore(path)
    barrier.wait()
    for i in range(5):
        s.add(f"user{worker}-{i}", f"passphrase {worker}-{i}")


def test_concurrent_adds_from_several_processes_lose_nothing(tmp_path):
    path = tmp_path / "accounts.json"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    procs = [ctx.Process(target=_add_users, args=(str(path), w, barrier)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    names = [a.username for a in AccountStore(path).list()]
    assert sorted(names) == sorted(f"user{w}-{i}" for w in range(4) for i in range(5))
    assert len(names) == 20
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


# ---------------------------------------------------------------------------------------- logging in


def test_authenticate(store):
    a = store.authenticate("li.wei", PW)
    assert a is not None and a.username == "li.wei" and a.can_edit and not a.is_admin
    assert store.authenticate("li.wei", "wrong password") is None
    assert store.authenticate("nobody", PW) is None


def test_unknown_user_costs_a_hash_like_a_known_one(store, monkeypatch):
    calls = []
    real = acc._scrypt
    monkeypatch.setattr(acc, "_scrypt", lambda *a: calls.append(a[2:]) or real(*a))
    store.authenticate("li.wei", "wrong password")
    store.authenticate("nobody.here", "wrong password")
    assert len(calls) == 2 and calls[0] == calls[1]  # same n, r, p, length


def test_no_file_yet_says_how_to_create_one(tmp_path):
    s = AccountStore(tmp_path / "none" / "accounts.json", throttle=LoginThrottle())
    assert s.list() == [] and not s.exists()
    with pytest.raises(AccountsFileMissing) as ei:
        s.authenticate("li.wei", PW)
    assert "python -m sinks accounts add" in ei.value.fix and f"SINKS_ACCOUNTS={s.path}" in ei.value.fix


def test_throttled_after_five_failures_and_recovers_after_the_window(store):
    clock = store.clock
    for _ in range(acc.MAX_FAILURES):
        assert store.authenticate("li.wei", "wrong password") is None
        clock.t += 10
    with pytest.raises(LoginThrottled) as ei:
        store.authenticate("li.wei", PW)  # even the right password is refused now
    assert ei.value.retry_after_s == pytest.approx(acc.LOCKOUT_S - 10)
    with pytest.raises(LoginThrottled):
        store.authenticate("LI.WEI", PW)  # the same user in other letters
    assert store.authenticate("nobody", PW) is None  # other usernames are not affected
    clock.t += acc.LOCKOUT_S - 11
    with pytest.raises(LoginThrottled) as ei:
        store.authenticate("li.wei", PW)
    assert ei.value.retry_after_s == pytest.approx(1)
    clock.t += 1
    assert store.authenticate("li.wei", PW).username == "li.wei"


def test_a_stranger_guessing_from_one_place_does_not_lock_the_officer_out(store):
    """Five failures from one address lock that address out for the name; the officer logs in
    from their own. Failures from many addresses together (50) lock the name for everyone."""
    for _ in range(acc.MAX_FAILURES):
        assert store.authenticate("li.wei", "wrong password", client="203.0.113.9") is None
    with pytest.raises(LoginThrottled):
        store.authenticate("li.wei", PW, client="203.0.113.9")
    assert store.authenticate("li.wei", PW, client="10.0.0.5").username == "li.wei"
    # a campaign from many addresses: 4 tries each, never 5 from one place
    for n in range(acc.MAX_FAILURES_ANY_CLIENT - acc.MAX_FAILURES - 1):
        assert store.authenticate("li.wei", "wrong password", client=f"198.51.100.{n // 4}") is None
    assert store.authenticate("li.wei", PW, client="10.0.0.5").username == "li.wei"  # 49 failures: still open
    assert store.authenticate("li.wei", "wrong password", client="198.51.100.200") is None  # the 50th
    with pytest.raises(LoginThrottled):
        store.authenticate("li.wei", PW, client="10.0.0.5")  # now locked for everyone
    log = [r for r in store.audit() if r["action"] == "login_throttled"]
    assert log[0]["actor"] == "10.0.0.5" and log[-1]["actor"] == "203.0.113.9"


def test_failures_spread_over_more_than_the_window_do_not_throttle(store):
    for _ in range(acc.MAX_FAILURES - 1):
        store.authenticate("li.wei", "wrong password")
    store.clock.t += acc.FAILURE_WINDOW_S + 1
    store.authenticate("li.wei", "wrong password")
    assert store.authenticate("li.wei", PW) is not None  # 1 failure in the window, not 5


def test_unknown_users_are_throttled_too(store):
    for _ in range(acc.MAX_FAILURES):
        store.authenticate("ghost", "whatever pw")
    with pytest.raises(LoginThrottled):
        store.authenticate("ghost", "whatever pw")


def test_success_clears_the_failure_count(store):
    for _ in range(acc.MAX_FAILURES - 1):
        store.authenticate("li.wei", "wrong password")
    assert store.authenticate("li.wei", PW)
    for _ in range(acc.MAX_FAILURES - 1):
        store.authenticate("li.wei", "wrong password")
    assert store.authenticate("li.wei", PW)



def _parallel_wrong_guesses(store, monkeypatch, n: int) -> tuple[int, int, list]:
    """``n`` threads guess a wrong password for li.wei at the same moment. Every hash is held
    until each thread has either reached it or been refused, so the guesses truly overlap
    (no sleeps). Returns (hashes run, LoginThrottled count, other outcomes)."""
    import threading

    real = acc._scrypt
    cond = threading.Condition()
    state = {"hashed": 0, "throttled": 0}
    release = threading.Event()
    others: list = []

    def counting_scrypt(*a):
        with cond:
            state["hashed"] += 1
            cond.notify_all()
        release.wait(timeout=10)
        return real(*a)

    monkeypatch.setattr(acc, "_scrypt", counting_scrypt)
    start = threading.Barrier(n)

    def guess(i: int) -> None:
        start.wait(timeout=10)
        try:
            others.append(store.authenticate("li.wei", f"wrong guess {i}"))
        except LoginThrottled:
            with cond:
                state["throttled"] += 1
                cond.notify_all()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    with cond:
        cond.wait_for(lambda: state["hashed"] + state["throttled"] >= n, timeout=10)
    release.set()
    for th in threads:
        th.join(timeout=30)
    return state["hashed"], state["throttled"], others


def test_parallel_guesses_cannot_beat_the_throttle(store, monkeypatch):
    hashed, throttled, others = _parallel_wrong_guesses(store, monkeypatch, 20)
    assert hashed == acc.MAX_FAILURES  # only 5 of the 20 simultaneous guesses reach the password check
    assert throttled == 20 - acc.MAX_FAILURES
    assert others == [None] * acc.MAX_FAILURES
    with pytest.raises(LoginThrottled):  # and the name is now locked out
        store.authenticate("li.wei", PW)


def test_in_flight_slots_are_given_back(store, monkeypatch):
    throttle = store.throttle
    key = (str(store.path), "li.wei")
    for _ in range(acc.MAX_FAILURES):
        throttle.begin(key, "li.wei", store.clock())
    with pytest.raises(LoginThrottled):
        throttle.begin(key, "li.wei", store.clock())  # all five slots in flight
    throttle.success(key, reserved=True)
    throttle.release(key)
    throttle.begin(key, "li.wei", store.clock())  # slots come back
    # an attempt that errors (damaged hash) gives its slot back without counting a failure
    monkeypatch.setattr(acc, "verify_password", lambda *a: (_ for _ in ()).throw(ValueError("bad")))
    other = AccountStore(store.path, throttle=LoginThrottle(), clock=store.clock)
    for _ in range(2 * acc.MAX_FAILURES):
        with pytest.raises(AccountError):
            other.authenticate("li.wei", PW)
    assert other.throttle._in_flight == {} and other.throttle._failures == {}

# ---------------------------------------------------------------------------------------- sessions


def test_session_expiry(store):
    t0 = store.clock.t
    s = store.login("li.wei", PW)
    assert (s.username, s.role, s.display_name, s.logged_in_at, s.last_seen) == ("li.wei", "officer", "Li Wei", t0, t0)
    assert not s.is_expired(t0 + acc.SESSION_IDLE_S - 1)
    assert s.is_expired(t0 + acc.SESSION_IDLE_S)  # 30 min idle
    # active every 20 minutes: alive until 8 hours after logging in, then expired
    for k in range(1, 24):
        s = s.touch(t0 + k * 20 * 60)
        assert not s.is_expired(t0 + k * 20 * 60 + 1), k
    s = s.touch(t0 + acc.SESSION_MAX_S - 60)
    assert not s.is_expired(t0 + acc.SESSION_MAX_S - 1)
    assert s.is_expired(t0 + acc.SESSION_MAX_S)
    assert store.login("li.wei", "wrong password") is None


def test_session_ends_when_the_account_changes(store):
    s = store.login("li.wei", PW)
    assert s.matches(store.get("li.wei"))
    store.clock.t += 5
    store.set_password("li.wei", "a brand new passphrase")
    assert not s.matches(store.get("li.wei"))
    s2 = store.login("li.wei", "a brand new passphrase")
    store.remove("li.wei")
    assert not s2.matches(store.get("li.wei"))
    assert Session.start(acc.Account("a", "admin", "A", "t", "t"), 0.0).is_admin


# ---------------------------------------------------------------------------------------- command line


def _cli(monkeypatch, capsys, argv, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_add_list_passwd_remove(tmp_path, monkeypatch, capsys):
    path = tmp_path / "acc" / "accounts.json"
    monkeypatch.setenv("SINKS_ACCOUNTS", str(path))
    rc, out, _ = _cli(monkeypatch, capsys, ["accounts", "add", "Li.Wei", "--role", "officer", "--name", "Li Wei", "--password-stdin"], PW + "\n")
    assert rc == 0 and "added li.wei (officer, Li Wei)" in out
    rc, out, _ = _cli(monkeypatch, capsys, ["accounts", "add", "zhao", "--role", "admin", "--password-stdin", "--file", str(path)], "admin passphrase\n")
    assert rc == 0
    rc, out, _ = _cli(monkeypatch, capsys, ["accounts", "list"])
    assert rc == 0 and "2 account(s)" in out and "scrypt" not in out
    assert re.search(r"li\.wei\s+officer\s+Li Wei", out) and re.search(r"zhao\s+admin\s+zhao", out)
    assert AccountStore(path, throttle=LoginThrottle()).authenticate("li.wei", PW) is not None

    rc, _, err = _cli(monkeypatch, capsys, ["accounts", "add", "bob", "--password-stdin"], "short\n")
    assert rc == 1 and "password for bob" in err and "at least 10" in err and "fix:" in err
    rc, _, err = _cli(monkeypatch, capsys, ["accounts", "passwd", "nobody", "--password-stdin"], "whatever long\n")
    assert rc == 1 and f"error: {path}" in err and "no user 'nobody'" in err

    rc, out, _ = _cli(monkeypatch, capsys, ["accounts", "passwd", "li.wei", "--password-stdin"], "another passphrase\n")
    assert rc == 0 and "changed the password of li.wei" in out
    s = AccountStore(path, throttle=LoginThrottle())
    assert s.authenticate("li.wei", "another passphrase") and not s.authenticate("li.wei", PW)

    rc, _, err = _cli(monkeypatch, capsys, ["accounts", "remove", "zhao"])
    assert rc == 1 and "last admin" in err and "fix:" in err
    rc, out, _ = _cli(monkeypatch, capsys, ["accounts", "role", "li.wei", "admin"])
    assert rc == 0 and "li.wei is now admin" in out
    rc, out, _ = _cli(monkeypatch, capsys, ["accounts", "remove", "zhao"])
    assert rc == 0 and "removed zhao" in out
    rc, out, _ = _cli(monkeypatch, capsys, ["accounts", "list"])
    assert "1 account(s)" in out and "zhao" not in out

    monkeypatch.setenv("SINKS_ACCOUNTS", str(ROOT / "accounts.json"))
    rc, _, err = _cli(monkeypatch, capsys, ["accounts", "list"])
    assert rc == 1 and "inside the repository" in err and "fix:" in err


def test_cli_prompts_twice(tmp_path, monkeypatch, capsys):
    path = tmp_path / "accounts.json"
    answers = iter(["first passphrase", "second passphrase"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    rc, _, err = _cli(monkeypatch, capsys, ["accounts", "add", "li.wei", "--file", str(path)])
    assert rc == 1 and "differ" in err and not path.exists()
    answers = iter([PW, PW])
    rc, out, _ = _cli(monkeypatch, capsys, ["accounts", "add", "li.wei", "--file", str(path)])
    assert rc == 0 and AccountStore(path, throttle=LoginThrottle()).authenticate("li.wei", PW)


# ---------------------------------------------------------------------------------------- login panel


def test_i18n_auth_keys_in_both_languages():
    keys = {k for k in ZH if k.startswith("auth.")}
    assert keys == {k for k in EN if k.startswith("auth.")} and len(keys) >= 15


def _panel_app():
    import streamlit as st

    from ui.auth import is_officer, login_panel

    lang = st.session_state.get("test_lang", "en")
    with st.sidebar:
        login_panel(lang)
    st.write("officer" if is_officer() else "public")


def _login(at, username, password):
    at.sidebar.text_input(key="auth_username").input(username)
    at.sidebar.text_input(key="auth_password").input(password)
    submit = [b for b in at.sidebar.button if b.key and b.key.startswith("FormSubmitter:auth")]
    submit[0].click().run()
    assert not at.exception, at.exception
    return at


def test_login_panel(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    path = tmp_path / "accounts.json"
    monkeypatch.setenv("SINKS_ACCOUNTS", str(path))
    monkeypatch.setattr(acc, "THROTTLE", LoginThrottle())

    # no file yet: the exact command to create one, no form
    at = AppTest.from_function(_panel_app, default_timeout=30).run()
    assert not at.exception, at.exception
    assert "does not exist" in at.sidebar.info[0].value and str(path) in at.sidebar.info[0].value
    assert "python -m sinks accounts add" in at.sidebar.code[0].value and f"SINKS_ACCOUNTS={path}" in at.sidebar.code[0].value
    assert not at.sidebar.text_input

    AccountStore(path).add("li.wei", PW, display_name="Li Wei")
    at = AppTest.from_function(_panel_app, default_timeout=30).run()
    assert any(m.value == "public" for m in at.main.markdown)

    # wrong password and unknown user: the same message
    _login(at, "li.wei", "wrong password")
    assert [e.value for e in at.sidebar.error] == [EN["auth.failed"]]
    assert at.sidebar.text_input(key="auth_password").value == ""
    _login(at, "nobody", "wrong password")
    assert [e.value for e in at.sidebar.error] == [EN["auth.failed"]]
    assert not [b for b in at.sidebar.button if b.key == "auth_logout"]

    # right credentials: name, role and a logout button; the page sees an officer
    _login(at, "li.wei", PW)
    assert not at.sidebar.error
    assert any("Li Wei (officer)" in m.value for m in at.sidebar.markdown)
    assert at.sidebar.button(key="auth_logout").label == EN["auth.logout"]
    assert any(m.value == "officer" for m in at.main.markdown)

    at.sidebar.button(key="auth_logout").click().run()
    assert at.sidebar.text_input(key="auth_username") is not None
    assert any(m.value == "public" for m in at.main.markdown)


def test_login_panel_throttled_and_expired_in_chinese(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    path = tmp_path / "accounts.json"
    monkeypatch.setenv("SINKS_ACCOUNTS", str(path))
    monkeypatch.setattr(acc, "THROTTLE", LoginThrottle())
    AccountStore(path).add("li.wei", PW, display_name="李伟")
    at = AppTest.from_function(_panel_app, default_timeout=30)
    at.session_state["test_lang"] = "zh"
    at.run()
    for _ in range(acc.MAX_FAILURES):
        _login(at, "li.wei", "wrong password")
    _login(at, "li.wei", PW)
    assert [e.value for e in at.sidebar.error] == [ZH["auth.throttled"].format(minutes=15)]

    monkeypatch.setattr(acc, "THROTTLE", LoginThrottle())
    _login(at, "li.wei", PW)
    assert any("李伟（工作人员）" in m.value for m in at.sidebar.markdown)
    # 31 minutes idle: logged out with a note saying why
    s = at.session_state["_auth_session"]
    at.session_state["_auth_session"] = Session(s.username, s.role, s.display_name, s.logged_in_at - 31 * 60,
                                                s.last_seen - 31 * 60, s.account_updated_utc)
    at.run()
    assert [w.value for w in at.sidebar.warning] == [ZH["auth.expired"].format(idle=30, hours=8)]
    assert any(m.value == "public" for m in at.main.markdown)


@pytest.mark.parametrize("ip, local", [(None, True), ("127.0.0.1", True), ("::1", True), ("127.0.1.1", True),
                                       ("10.0.0.5", False), ("203.0.113.9", False), ("::ffff:10.0.0.5", False)])
def test_the_set_up_hint_with_the_server_path_is_for_the_server_only(ip, local):
    """With no accounts file, the login panel shows the file's path and the command that
    creates it only to a browser on the server itself; others read one plain line."""
    from ui.auth import is_local_client

    assert is_local_client(ip) is local
