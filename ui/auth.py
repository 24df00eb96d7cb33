"""Officer mode in the dashboard: the login form and who is logged in.

Viewing is public; pages that draw, edit or save wetland red lines ask :func:`is_officer` (or
:func:`require_officer`, which also explains why the tools are hidden). The credentials, hashing,
throttling and expiry rules live in :mod:`sinks.accounts`; this module only keeps the
:class:`~sinks.accounts.Session` in ``st.session_state`` under a private key and draws the form.

Each call re-reads the account (a small JSON file), so removing a user, changing their password
or their role ends their open sessions at their next click.
"""
from __future__ import annotations

import math
import time

import pandas as pd
import streamlit as st

from geodata.errors import DataError
from sinks.accounts import SESSION_IDLE_S, SESSION_MAX_S, AccountsFileMissing, AccountStore, LoginThrottled, Session, create_command
from ui.i18n import t

_KEY_SESSION = "_auth_session"
_KEY_NOTICE = "_auth_notice"  # (level, i18n key, fields) shown once by the next login_panel


def _store() -> AccountStore:
    """The credentials file the dashboard reads (``$SINKS_ACCOUNTS`` is looked up on every call)."""
    return AccountStore()


def _notice(level: str, key: str, **fields) -> None:
    st.session_state[_KEY_NOTICE] = (level, key, fields)


def current_user(now: float | None = None) -> Session | None:
    """The logged-in officer (username, role, display_name, logged_in_at, last_seen), or ``None``
    when nobody is logged in, the login has expired or the account has changed since.

    A live session's ``last_seen`` moves to ``now``. Any problem reading the credentials file
    counts as logged out (fail closed); :func:`login_panel` shows the problem.
    """
    session: Session | None = st.session_state.get(_KEY_SESSION)
    if session is None:
        return None
    now = time.time() if now is None else now
    if session.is_expired(now):
        st.session_state.pop(_KEY_SESSION, None)
        _notice("warning", "auth.expired", idle=SESSION_IDLE_S // 60, hours=SESSION_MAX_S // 3600)
        return None
    try:
        account = _store().get(session.username)
    except DataError:
        st.session_state.pop(_KEY_SESSION, None)
        return None
    if not session.matches(account):
        st.session_state.pop(_KEY_SESSION, None)
        _notice("warning", "auth.ended")
        return None
    session = session.touch(now)
    st.session_state[_KEY_SESSION] = session
    return session


def is_officer() -> bool:
    """Someone allowed to draw, edit and save red lines (an officer or an admin) is logged in."""
    user = current_user()
    return user is not None and user.can_edit


def require_officer(lang: str | None = None) -> bool:
    """:func:`is_officer`; when not, an info line says that editing needs a login."""
    if is_officer():
        return True
    st.info(t("auth.required", lang), icon=":material/lock:")
    return False


def logout() -> None:
    st.session_state.pop(_KEY_SESSION, None)


def _client() -> str | None:
    """The browser's address as the server sees it (None when unknown, e.g. under AppTest)."""
    try:
        return st.context.ip_address
    except Exception:  # noqa: BLE001 - outside a browser session
        return None


def is_local_client(ip: str | None) -> bool:
    """A browser on the server itself (or no browser: AppTest, scripts)."""
    return ip is None or ip in ("127.0.0.1", "::1", "localhost") or ip.startswith("127.")


def _on_submit(form_key: str) -> None:
    """Form callback (runs before the script): try the login, keep the outcome for the panel."""
    username = str(st.session_state.get(f"{form_key}_username", "") or "").strip()
    password = str(st.session_state.get(f"{form_key}_password", "") or "")
    st.session_state[f"{form_key}_password"] = ""  # never keep the password in the session
    if not username or not password:
        _notice("warning", "auth.empty")
        return
    try:
        session = _store().login(username, password, client=_client())
    except LoginThrottled as exc:
        _notice("error", "auth.throttled", minutes=max(1, math.ceil(exc.retry_after_s / 60)))
        return
    except AccountsFileMissing:
        return  # the panel explains how to create the file
    except DataError as exc:
        st.session_state[_KEY_NOTICE] = ("data_error", exc, {})
        return
    if session is None:
        _notice("error", "auth.failed")  # the same words whether or not the user exists
        return
    st.session_state[_KEY_SESSION] = session
    st.session_state[f"{form_key}_username"] = ""


def _show_file_error(exc: DataError, lang: str | None) -> None:
    d = exc.as_dict()
    st.error(
        f"**{t('auth.file_error', lang)}**\n\n"
        f"- **{t('error.file', lang)}**: `{d['source']}`\n"
        f"- **{t('error.problem', lang)}**: {d['problem']}\n"
        f"- **{t('error.fix', lang)}**: {d['fix']}",
        icon=":material/report:",
    )


def _show_notice(lang: str | None) -> None:
    notice = st.session_state.pop(_KEY_NOTICE, None)
    if notice is None:
        return
    level, key, fields = notice
    if level == "data_error":
        _show_file_error(key, lang)
    elif level == "error":
        st.error(t(key, lang, **fields), icon=":material/error:")
    else:
        st.warning(t(key, lang, **fields), icon=":material/warning:")


def login_panel(lang: str | None = None, *, key: str = "auth") -> Session | None:
    """Draw the login form (or, when logged in, the name, role and a logout button) in the
    current container (the page puts it in ``st.sidebar`` or an expander). Returns the session.

    Messages: wrong credentials (the same whether or not the user exists); too many failures with
    the minutes left; no credentials file yet, with the command that creates one; a broken file.
    """
    user = current_user()
    _show_notice(lang)
    if user is not None:
        role = t(f"auth.role.{user.role}", lang)
        st.markdown(f":material/verified_user: {t('auth.logged_in', lang, name=user.display_name, role=role)}")
        st.button(t("auth.logout", lang), key=f"{key}_logout", on_click=logout, icon=":material/logout:")
        return user
    try:
        store = _store()
    except DataError as exc:
        _show_file_error(exc, lang)
        return None
    if not store.exists():
        if is_local_client(_client()):  # the server's own path and a shell command: for its operator only
            st.info(t("auth.no_accounts", lang, path=str(store.path)), icon=":material/info:")
            st.code(create_command(store.path, role="officer"), language="bash")
        else:
            st.caption(t("auth.no_accounts_remote", lang))
        return None
    st.caption(t("auth.intro", lang))
    with st.form(key, clear_on_submit=False, border=False):
        st.text_input(t("auth.username", lang), key=f"{key}_username", autocomplete="username")
        st.text_input(t("auth.password", lang), key=f"{key}_password", type="password", autocomplete="current-password")
        st.form_submit_button(t("auth.submit", lang), on_click=_on_submit, args=(key,), icon=":material/login:")
    return None


def officer_panel(lang: str | None = None) -> tuple[Session | None, bool]:
    """The sidebar's "officer mode" heading and login panel, for a page officers edit on;
    returns the logged-in user (or None) and whether they may edit."""
    with st.sidebar:
        st.markdown(f"**{t('wet.officer_mode', lang)}**")
        login_panel(lang)
    user = current_user()
    return user, user is not None and user.can_edit


# ---- the Users page (administrators) ------------------------------------------------------------

def account_store() -> AccountStore:
    """The credentials file the dashboard reads (for the Users page)."""
    return _store()


def accounts_frame(accounts, lang: str | None) -> pd.DataFrame:
    """The accounts as a table (never a hash)."""
    return pd.DataFrame({
        t("users.col.username", lang): [a.username for a in accounts],
        t("users.col.name", lang): [a.display_name for a in accounts],
        t("users.col.role", lang): [t(f"auth.role.{a.role}", lang) for a in accounts],
        t("users.col.created", lang): [a.created_utc for a in accounts],
        t("users.col.updated", lang): [a.updated_utc for a in accounts],
    })


def audit_frame(records: list[dict], lang: str | None) -> pd.DataFrame:
    """Audit records (newest first) as a table; every value shown as text, never as Markdown."""
    cols = (("utc", "users.audit.utc"), ("action", "users.audit.action"), ("username", "users.audit.username"),
            ("actor", "users.audit.actor"), ("role", "users.col.role"))
    return pd.DataFrame({t(key, lang): [str(r.get(field, "")) for r in records] for field, key in cols})
