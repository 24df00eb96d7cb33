"""Wetlands & red lines: the wetland map and inventory for everyone; drawing, saving, restoring
and exporting red lines for logged-in ecology officers."""
import streamlit as st
from streamlit_folium import st_folium

from ui import auth, fmt, leaflet, state
from ui import wetlands_flow as flow
from ui.errors import show_data_error
from ui.i18n import t

ctx = state.require_context()
lang, a, year = ctx.lang, ctx.assessment, ctx.year
K_DRAFT_NAMES = "wet_draft_names"
K_MSG = "wet_msg"

st.title(t("wet.title", lang))
st.caption(t("wet.caption", lang))
with st.sidebar:
    st.markdown(f"**{t('wet.officer_mode', lang)}**")
    auth.login_panel(lang)
user = auth.current_user()
officer = user is not None and user.can_edit

missing = leaflet.missing_vendor_files()
if missing:
    st.error(t("wet.vendor_missing", lang, files=", ".join(missing)))
    st.stop()

try:
    with st.spinner(t("wet.computing", lang, year=year)):
        layer = flow.patches(ctx.config_path, year)
        lc = flow.overlay(ctx.config_path, year)
    ws = flow.workspace()
    redlines, version = flow.load_redlines(ws)
except flow.DataError as exc:
    show_data_error(exc, lang)
    st.stop()

if msg := st.session_state.pop(K_MSG, None):
    st.success(msg, icon=":material/check_circle:")

p = layer.gdf
water_ha, veg_ha = flow.cover_totals(p)
red_ha = flow.total_area_ha(redlines)
c1, c2, c3, c4 = st.columns(4)
c1.metric(t("wet.kpi.patches", lang, year=year), f"{len(p):,}", help=t("wet.kpi.patches_help", lang, n=layer.n_dropped, ha=fmt.hectares(layer.dropped_ha, lang), min=fmt.hectares(flow.MIN_PATCH_HA, lang)))
c2.metric(t("wet.kpi.vegetated", lang), fmt.hectares(veg_ha, lang))
c3.metric(t("wet.kpi.water", lang), fmt.hectares(water_ha, lang))
c4.metric(t("wet.kpi.redlines", lang), f"{len(redlines)}", help=t("wet.kpi.redlines_help", lang, ha=fmt.hectares(red_ha, lang), v=version))

tab_map, tab_inv, tab_red = st.tabs([t("wet.tab.map", lang), t("wet.tab.inventory", lang), t("wet.tab.redlines", lang)])

with tab_map:
    suggest = None
    if officer:
        with st.expander(t("wet.suggest.title", lang)):
            if st.toggle(t("wet.suggest.show", lang), key="wet_suggest_on"):
                min_ha = st.number_input(t("wet.suggest.min_ha", lang), min_value=1.0, value=8.0, step=1.0, key="wet_suggest_ha",
                                         help=t("wet.suggest.help", lang))
                suggest = flow.suggestions(p, redlines, min_ha)
                st.caption(t("wet.suggest.count", lang, n=len(suggest)))
    m = flow.build_map(zones=a.zones, patch_layer=layer, redlines=redlines, lc=lc, lang=lang, suggestions=suggest)
    if officer:
        leaflet.add_draw_control(m)
        st.caption(t("wet.draw.help", lang))
    # the key carries the red-line version: after a save the map starts without the old drafts
    out = st_folium(m, key=f"wet_map_{version}_{year}_{lang}", height=560, use_container_width=True,
                    returned_objects=["all_drawings"] if officer else [])
    st.html(flow.legend_html(lang))

    if officer:
        drawings = (out or {}).get("all_drawings") or []
        st.subheader(t("wet.draft.title", lang))
        try:
            draft = flow.draft_from_drawings(drawings, redlines)
        except flow.DataError as exc:
            show_data_error(exc, lang)
            draft = flow.draft_from_drawings([], redlines)
        if suggest is not None and len(suggest):
            labels = flow.suggestion_labels(suggest, lang)
            pick = st.multiselect(t("wet.suggest.pick", lang), list(labels), key="wet_suggest_pick", format_func=labels.get)
            if pick:
                draft = flow.add_patches_to_draft(draft, redlines, suggest, pick)
        upload = st.file_uploader(t("wet.upload.label", lang), type=["gpkg", "geojson", "json", "zip"], key="wet_upload",
                                  help=t("wet.upload.help", lang))
        coord = st.radio(t("wet.upload.coord", lang), ["wgs84", "gcj02", "bd09"], horizontal=True, key="wet_upload_coord",
                         format_func=lambda c: t(f"wet.coord.{c}", lang))
        if upload is not None:
            try:
                draft = flow.add_upload_to_draft(draft, redlines, upload, coord)
            except flow.DataError as exc:
                show_data_error(exc, lang)
        if draft.empty:
            st.info(t("wet.draft.empty", lang), icon=":material/draw:")
        else:
            table = flow.draft_table(draft)
            edited = st.data_editor(table, key=f"wet_draft_{version}", hide_index=True, width="stretch",
                                    disabled=[flow.ID_FIELD, "area_ha"],
                                    column_config={"area_ha": st.column_config.NumberColumn(t("wet.col.area", lang), format="%.2f"),
                                                   "name_zh": t("wet.col.name_zh", lang), "name_en": t("wet.col.name_en", lang),
                                                   "note": t("wet.col.note", lang), flow.ID_FIELD: t("wet.col.redline", lang)})
            draft = flow.apply_draft_edits(draft, edited)
        with st.form("wet_save"):
            remove = st.multiselect(t("wet.save.remove", lang), flow.redline_ids(redlines), key="wet_remove")
            reason = st.text_area(t("wet.save.reason", lang), key="wet_reason", max_chars=2000)
            submitted = st.form_submit_button(t("wet.save.button", lang), type="primary")
        if submitted:
            if not reason.strip():
                st.error(t("wet.save.need_reason", lang))
            elif draft.empty and not remove:
                st.warning(t("wet.save.nothing", lang))
            else:
                try:
                    res = flow.save_redlines(ws, redlines, draft, remove=remove, author=user.username, reason=reason,
                                             expected_parent=version, study_area=a.zones)
                except flow.ConflictError as exc:
                    st.error(t("wet.save.conflict", lang, mine=version, latest=exc.latest.version, who=exc.latest.author,
                               when=exc.latest.saved_at.strftime('%Y-%m-%d %H:%M UTC')), icon=":material/sync_problem:")
                except flow.DataError as exc:
                    show_data_error(exc, lang)
                else:
                    st.session_state[K_MSG] = flow.saved_message(res, lang)
                    st.rerun()

with tab_inv:
    st.caption(t("wet.inv.caption", lang, year=year, rules="; ".join(layer.rules)))
    summary = flow.patch_summary(p, a.zones, lang)
    st.dataframe(summary, hide_index=True, width="stretch")
    st.download_button(t("wet.inv.download", lang), flow.patch_csv(p), file_name=f"wetland_patches_{year}.csv", mime="text/csv",
                       key="wet_inv_dl", icon=":material/download:")

with tab_red:
    if redlines.empty:
        st.info(t("wet.red.none", lang))
    else:
        st.dataframe(flow.redline_table(redlines, lang), hide_index=True, width="stretch")
    hist = flow.history(ws)
    if hist:
        st.subheader(t("wet.red.history", lang))
        st.dataframe(flow.history_table(hist, lang), hide_index=True, width="stretch")
        if officer:
            with st.form("wet_restore"):
                pick = st.selectbox(t("wet.red.restore_pick", lang), [h.version for h in hist[:-1]] or [None], key="wet_restore_v")
                why = st.text_input(t("wet.save.reason", lang), key="wet_restore_reason")
                go = st.form_submit_button(t("wet.red.restore", lang))
            if go and pick is not None:
                try:
                    info = flow.restore(ws, int(pick), author=user.username, reason=why, expected_parent=version)
                except flow.ConflictError as exc:
                    st.error(t("wet.save.conflict", lang, mine=version, latest=exc.latest.version, who=exc.latest.author,
                               when=exc.latest.saved_at.strftime('%Y-%m-%d %H:%M UTC')))
                except flow.DataError as exc:
                    show_data_error(exc, lang)
                else:
                    st.session_state[K_MSG] = t("wet.red.restored", lang, v=info.version, src=pick)
                    st.rerun()
        st.subheader(t("wet.red.export", lang))
        e1, e2 = st.columns(2)
        fmt_choice = e1.selectbox(t("wet.red.export_fmt", lang), ["gpkg", "geojson", "shp.zip"], key="wet_exp_fmt")
        crs_choice = e2.selectbox(t("wet.red.export_crs", lang), list(flow.EXPORT_CRS), key="wet_exp_crs",
                                  format_func=lambda c: t(f"wet.crs.{c}", lang))
        try:
            data, name = flow.export_bytes(ws, fmt_choice, int(crs_choice), version)
        except flow.DataError as exc:
            show_data_error(exc, lang)
        else:
            st.download_button(t("wet.red.download", lang, name=name), data, file_name=name, key="wet_exp_dl", icon=":material/download:")
