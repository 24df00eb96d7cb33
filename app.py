"""Jiangbei carbon-sink dashboard: the frame (page config, navigation, sidebar) around every page.

Run with ``streamlit run app.py``. The sidebar is drawn here once; pages only draw their screen
from the context this script resolves (assessment, year, language).
"""
import streamlit as st

from geodata.errors import DataError
from ui import auth, cache, state
from ui.errors import show_data_error
from ui.i18n import t
from ui.progress import progress_bar


if state.KEY_LANG not in st.session_state and st.query_params.get("lang") in state.LANGS:
    st.session_state[state.KEY_LANG] = st.query_params["lang"]  # a shared link keeps its language
lang = state.lang()
# a local favicon: a Material icon here would be fetched from fonts.gstatic.com (not offline)
st.set_page_config(page_title=t("app.title"), page_icon=str(cache.ROOT / "static" / "favicon.png"), layout="wide",
                   initial_sidebar_state="expanded")

overview = st.Page("app_pages/overview.py", title=t("page.overview"), icon=":material/public:", url_path="overview")
accounts = st.Page("app_pages/carbon_accounts.py", title=t("page.accounts"), icon=":material/table_chart:",
                   url_path="carbon-accounts")
landcover = st.Page("app_pages/landcover.py", title=t("page.landcover"), icon=":material/satellite_alt:", url_path="landcover")
wetlands = st.Page("app_pages/wetlands.py", title=t("page.wetlands"), icon=":material/water:", url_path="wetlands")
protection = st.Page("app_pages/protection.py", title=t("page.protection"), icon=":material/shield:", url_path="protection")
greening = st.Page("app_pages/greening.py", title=t("page.greening"), icon=":material/park:", url_path="greening")
explorer = st.Page("app_pages/explorer.py", title=t("page.explorer"), icon=":material/travel_explore:", url_path="explorer")
neutrality = st.Page("app_pages/neutrality.py", title=t("page.neutrality"), icon=":material/balance:", url_path="neutrality")
reports = st.Page("app_pages/reports.py", title=t("page.reports"), icon=":material/description:", url_path="reports")
# Streamlit serves the default page at "/" only (opening its url_path shows "page not found"), so
# the default is a hidden entry that forwards to the Overview: "/overview" stays a real address.
home = st.Page(lambda: None, title=t("page.overview"), url_path="home", default=True, visibility="hidden")
nav = {t("nav.public"): [home, overview, explorer, neutrality, reports], t("nav.planners"): [accounts, landcover, greening],
       t("nav.ecology"): [wetlands, protection]}
viewer = auth.current_user()
if viewer is not None and viewer.is_admin:  # for anyone else "/users" is not a page at all (and it checks again)
    nav[t("nav.admin")] = [st.Page("app_pages/users.py", title=t("page.users"), icon=":material/manage_accounts:", url_path="users")]
page = st.navigation(nav, position="sidebar", expanded=True)
if page is home:
    st.switch_page(overview)

with st.sidebar:
    st.markdown(f"### {t('app.title')}")
    st.radio(t("sidebar.language"), state.LANGS, format_func=lambda c: {"zh": "中文", "en": "English"}[c],
             key=state.KEY_LANG, horizontal=True)
    if lang == "en":
        st.query_params["lang"] = "en"
    elif "lang" in st.query_params:
        del st.query_params["lang"]
    choices = cache.list_configs()
    labels = {c.path: (c.name_zh if lang == "zh" else c.name_en) for c in choices}
    if state.KEY_CONFIG in st.session_state and st.session_state[state.KEY_CONFIG] not in labels:
        del st.session_state[state.KEY_CONFIG]
    config_path = st.selectbox(t("sidebar.area"), list(labels), format_func=labels.get, key=state.KEY_CONFIG)

state.set_context(None)
if config_path is None:
    st.error(t("app.no_config"))
    st.stop()

try:
    if cache.missing_demo_files(config_path):  # first run: build the embedded demo, as `make demo` would
        bar, progress = progress_bar(st, t("progress.demo"), lang)
        cache.build_demo_data(config_path, progress=progress)
        bar.empty()
    key, assessment = cache.cached_assessment(config_path)
    if assessment is None:
        bar, progress = progress_bar(st, t("progress.assessment"), lang)
        key, assessment = cache.load_assessment(config_path, progress=progress)
        bar.empty()
except DataError as exc:
    show_data_error(exc, lang)
    st.stop()

years = assessment.years
if st.session_state.get(state.KEY_YEAR) not in years:
    st.session_state[state.KEY_YEAR] = years[-1]
with st.sidebar:
    year = st.selectbox(t("sidebar.year"), years, key=state.KEY_YEAR)
    if assessment.provenance.get("area", {}).get("illustrative"):
        st.badge(t("sidebar.illustrative"), icon=":material/science:", color="orange", help=t("sidebar.illustrative_help"))
    prov = assessment.provenance
    st.caption(t("sidebar.provenance", run=prov.get("run_at_utc", ""), crs=prov.get("analysis_crs", ""),
                 px="×".join(f"{v:g}" for v in prov.get("pixel_size_m", [])),
                 sha=str(prov.get("coefficient_table", {}).get("sha256", ""))[:12]))

state.set_context(state.Context(assessment=assessment, cache_key=key, config_path=config_path, year=int(year), lang=lang))
page.run()
