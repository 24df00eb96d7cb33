"""Carbon accounts (planners): stocks by pool, the two flow methods, land-cover areas, coefficients."""
import streamlit as st

from ui import charts, state, tables
from ui.i18n import t

ctx = state.require_context()
a, year, lang = ctx.assessment, ctx.year, ctx.lang

st.title(t("accounts.title"))
st.caption(t("accounts.caption", area=ctx.area_name, year=year))
if ctx.illustrative:
    st.warning(t("illustrative.notice"), icon=":material/science:")

st.subheader(t("accounts.stocks.title"))
st.caption(t("accounts.stocks.caption"))
tables.show(tables.stocks_by_pool(a, year, lang), key="stocks", lang=lang)
st.altair_chart(charts.stocks_chart(a, year, lang))

st.subheader(t("accounts.flows.title"))
st.markdown(t("accounts.flows.caption"))
flows = tables.flows(a, year, lang)
if flows is None:
    st.info(t("accounts.flows.none"))
else:
    tables.show(flows, key="flows", lang=lang)
    st.altair_chart(charts.methods_chart(a, year, lang))

st.subheader(t("accounts.areas.title"))
st.caption(t("accounts.areas.caption"))
tables.show(tables.areas_by_class(a, year, lang), key="areas", lang=lang)
st.altair_chart(charts.land_cover_chart(a, year, lang))

st.subheader(t("accounts.coef.title"))
st.caption(t("accounts.coef.caption"))
tables.show(tables.coefficients(a, lang), key="coefficients", lang=lang, height=420)
