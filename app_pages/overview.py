"""Overview (public): headline figures, the map of annual net removals, and how they were made."""
import streamlit as st

from ui import kpi, maps, state
from ui.i18n import t

ctx = state.require_context()
a, year, lang = ctx.assessment, ctx.year, ctx.lang

st.title(t("overview.title"))
st.caption(t("overview.caption", area=ctx.area_name, year=year))
if ctx.illustrative:
    st.warning(t("illustrative.notice"), icon=":material/science:")

kpi.draw_kpis(kpi.kpi_cards(a.kpis(year), lang))

st.subheader(t("map.title"))
measure = st.radio(t("map.measure"), maps.MEASURES, format_func=lambda m: t(f"map.measure.{m}", lang),
                   horizontal=True, key="map_measure")
deck, legend = maps.removals_map(a, year, lang, measure=measure)
map_col, legend_col = st.columns([4, 1.25], vertical_alignment="top")
with map_col:
    st.pydeck_chart(deck, height=520, key="removals_map")
with legend_col:
    maps.draw_legend(legend)
st.caption(t("map.caption"))

st.subheader(t("methods.title"))
st.markdown(kpi.methods_note(a, year, lang))
st.markdown(f"**{t('unestimated.title')}**")
st.dataframe(kpi.unestimated_table(a, year, lang), hide_index=True)
st.caption(t("methods.more"))
