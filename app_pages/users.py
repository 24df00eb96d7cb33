"""Users (administrators only): the officer accounts, their roles and passwords, and the audit log.

The page is in the navigation only for a logged-in administrator (``app.py``), and checks the role
again itself, so its address alone opens nothing. Every change goes through
:class:`sinks.accounts.AccountStore` (policy, hashing, locking, the last-admin rule, the audit log);
this page only draws the forms.
"""
import streamlit as st

from sinks.accounts import MIN_PASSWORD_CHARS, ROLES
from ui import auth, state
from ui.auth import DataError
from ui.errors import show_data_error
from ui.i18n import t

ctx = state.require_context()
lang = ctx.lang
K_FLASH = "users_flash"

st.title(t("users.title", lang))
user, _ = auth.officer_panel(lang)
if user is None or not user.is_admin:
    st.info(t("users.admin_only", lang), icon=":material/lock:")
    st.stop()

try:
    store = auth.account_store()
    accounts = store.list()
except DataError as exc:
    show_data_error(exc, lang)
    st.stop()
st.caption(t("users.caption", lang, path=str(store.path)))
if K_FLASH in st.session_state:
    st.success(st.session_state.pop(K_FLASH), icon=":material/check:")


def role_name(role: str) -> str:
    return t(f"auth.role.{role}", lang)


def done(message: str) -> None:
    st.session_state[K_FLASH] = message
    st.rerun()


st.subheader(t("users.list", lang))
st.dataframe(auth.accounts_frame(accounts, lang), hide_index=True, width="stretch")

st.subheader(t("users.add", lang))
with st.form("users_add", clear_on_submit=True):
    c1, c2, c3 = st.columns(3)
    username = c1.text_input(t("users.col.username", lang), help=t("users.username_help", lang), autocomplete="off")
    display = c2.text_input(t("users.display_name", lang), autocomplete="off")
    role = c3.selectbox(t("users.role", lang), ROLES, format_func=role_name)
    p1, p2 = st.columns(2)
    pw1 = p1.text_input(t("users.password", lang, n=MIN_PASSWORD_CHARS), type="password", autocomplete="new-password")
    pw2 = p2.text_input(t("users.password2", lang), type="password", autocomplete="new-password")
    if st.form_submit_button(t("users.add.submit", lang), icon=":material/person_add:"):
        if pw1 != pw2:
            st.error(t("users.mismatch", lang), icon=":material/error:")
        else:
            try:
                a = store.add(username, pw1, role=role, display_name=display, actor=user.username)
            except DataError as exc:
                show_data_error(exc, lang)
            else:
                done(t("users.added", lang, name=a.username, role=role_name(a.role)))

if accounts:
    st.subheader(t("users.manage", lang))
    names = [a.username for a in accounts]
    who = st.selectbox(t("users.pick", lang), names, key="users_pick")
    target = next(a for a in accounts if a.username == who)
    c_pw, c_role, c_rm = st.columns(3)
    with c_pw.form("users_passwd", clear_on_submit=True):
        n1 = st.text_input(t("users.new_password", lang), type="password", autocomplete="new-password")
        n2 = st.text_input(t("users.password2", lang), type="password", autocomplete="new-password")
        if st.form_submit_button(t("users.passwd.submit", lang), icon=":material/password:"):
            if n1 != n2:
                st.error(t("users.mismatch", lang), icon=":material/error:")
            else:
                try:
                    store.set_password(who, n1, actor=user.username)
                except DataError as exc:
                    show_data_error(exc, lang)
                else:
                    done(t("users.passwd.done", lang, name=who))
    with c_role.form("users_role"):
        new_role = st.selectbox(t("users.role", lang), ROLES, index=ROLES.index(target.role), format_func=role_name)
        if st.form_submit_button(t("users.role.submit", lang), icon=":material/badge:"):
            try:
                store.set_role(who, new_role, actor=user.username)
            except DataError as exc:
                show_data_error(exc, lang)
            else:
                done(t("users.role.done", lang, name=who, role=role_name(new_role)))
    with c_rm.form("users_remove"):
        sure = st.checkbox(t("users.remove.confirm", lang))
        if st.form_submit_button(t("users.remove.submit", lang), icon=":material/person_remove:", disabled=who == user.username):
            if who == user.username:
                st.error(t("users.remove.self", lang), icon=":material/error:")
            elif sure:
                try:
                    store.remove(who, actor=user.username)
                except DataError as exc:
                    show_data_error(exc, lang)
                else:
                    done(t("users.remove.done", lang, name=who))
    if who == user.username:
        c_rm.caption(t("users.remove.self", lang))

log = store.audit(limit=100)
st.subheader(t("users.audit", lang, n=len(log)))
st.dataframe(auth.audit_frame(log, lang), hide_index=True, width="stretch")
