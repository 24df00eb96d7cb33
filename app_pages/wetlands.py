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
K_MSG = "wet_msg"  # a message to show once after a rerun
K_BASE = "wet_base"  # the red-line version the officer's draft builds on
K_GEN = "wet_gen"  # bumped after each own save or restore: a fresh map, uploader and form
K_DRAWN = "wet_drawn"  # {"year|lang": [GeoJSON features drawn on that map]}
K_EXPORT = "wet_export"  # ((version, format, crs), bytes, file name) of the last prepared export
K_NAMES = "wet_names"  # {red-line id: {"name_zh", "name_en", "note"}} typed into the draft table

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
    ws = flow.workspace()
    flow.seed_demo_redlines(ws, ctx.config_path)
    redlines, version = flow.load_redlines(ws)
    key = flow.inventory_key(ctx.cache_key, redlines)
    inv = flow.cached_inventory(key)
    if inv is None:
        bar = st.progress(0.0, text=t("wet.computing", lang))
        inv = flow.load_inventory(ctx.config_path, key, redlines,
                                  progress=lambda step, f: bar.progress(min(max(f, 0.0), 1.0), text=f"{t('wet.computing', lang)} · {step}"))
        bar.empty()
    layer = flow.patch_layer(inv, key, year)
    lc = flow.overlay(ctx.config_path, year)
except flow.DataError as exc:
    show_data_error(exc, lang)
    st.stop()
period = flow.period_for(inv, year)

if msg := st.session_state.pop(K_MSG, None):
    st.success(msg, icon=":material/check_circle:")

p = layer.gdf
water_ha, veg_ha = flow.cover_totals(p)
red_ha = flow.total_area_ha(redlines)
n_alerts = int((inv.alerts["period"] == period).sum()) if period else 0
c1, c2, c3, c4, c5 = st.columns(5)
c1.metric(t("wet.kpi.patches", lang, year=year), f"{len(p):,}", help=t("wet.kpi.patches_help", lang, n=layer.n_dropped, ha=fmt.hectares(layer.dropped_ha, lang), min=fmt.hectares(layer.min_area_ha, lang)))
c2.metric(t("wet.kpi.vegetated", lang), fmt.hectares(veg_ha, lang))
c3.metric(t("wet.kpi.water", lang), fmt.hectares(water_ha, lang), help=t("wet.kpi.water_help", lang))
c4.metric(t("wet.kpi.redlines", lang), f"{len(redlines)}", help=t("wet.kpi.redlines_help", lang, ha=fmt.hectares(red_ha, lang), v=version))
c5.metric(t("wet.kpi.alerts", lang, period=fmt.period(period, lang) if period else fmt.DASH), f"{n_alerts}",
          help=t("wet.kpi.alerts_help", lang, ha=fmt.hectares(inv.alert_min_loss_ha, lang)))

tab_map, tab_inv, tab_chg, tab_red = st.tabs([t("wet.tab.map", lang), t("wet.tab.inventory", lang), t("wet.tab.change", lang),
                                              t("wet.tab.redlines", lang)])

with tab_map:
    suggest = None
    if officer:
        # the version this officer's draft builds on: a save by someone else meanwhile is a conflict
        base = st.session_state.setdefault(K_BASE, version)
        gen = st.session_state.setdefault(K_GEN, 0)
        if base != version:
            st.warning(t("wet.base.stale", lang, base=base, latest=version), icon=":material/sync_problem:")
            if st.button(t("wet.base.rebase", lang), key="wet_rebase"):
                st.session_state[K_BASE] = version
                st.rerun()
        with st.expander(t("wet.suggest.title", lang)):
            if st.toggle(t("wet.suggest.show", lang), key="wet_suggest_on"):
                min_ha = st.number_input(t("wet.suggest.min_ha", lang), min_value=1.0, value=8.0, step=1.0, key="wet_suggest_ha",
                                         help=t("wet.suggest.help", lang))
                suggest = flow.suggestions(p, redlines, min_ha)
                st.caption(t("wet.suggest.count", lang, n=len(suggest)))
    # drawings are kept per map (year, language): switching either draws a fresh map, and what
    # was drawn on the other one is carried over (shown dashed) instead of being lost
    sig = f"{year}|{lang}"
    drawn = st.session_state.setdefault(K_DRAWN, {}) if officer else {}
    carried = [f for k, fs in drawn.items() if k != sig for f in fs]
    m = flow.build_map(zones=a.zones, patch_layer=layer, redlines=redlines, lc=lc, lang=lang, suggestions=suggest,
                       alerts=flow.alert_outlines(inv, period), carried=carried)
    if officer:
        leaflet.add_draw_control(m, lang)
        st.caption(t("wet.draw.help", lang))
        out = st_folium(m, key=f"wet_map_{gen}_{sig}", height=560, use_container_width=True, returned_objects=["all_drawings"])
        if out and out.get("all_drawings") is not None:
            drawn[sig] = out["all_drawings"]
    else:
        st_folium(m, key=f"wet_map_{sig}", height=560, use_container_width=True, returned_objects=[])
    st.html(flow.legend_html(lang))

    if officer:
        st.subheader(t("wet.draft.title", lang))
        known = flow.ids_ever(ws)
        try:
            draft = flow.draft_from_drawings(carried + drawn.get(sig, []), known)
        except flow.DataError as exc:
            show_data_error(exc, lang)
            draft = flow.draft_from_drawings([], known)
        if suggest is not None and len(suggest):
            labels = flow.suggestion_labels(suggest, lang)
            pick = st.multiselect(t("wet.suggest.pick", lang), list(labels), key=f"wet_suggest_pick_{gen}", format_func=labels.get)
            if pick:
                draft = flow.add_patches_to_draft(draft, known, suggest, pick)
        upload = st.file_uploader(t("wet.upload.label", lang), type=["gpkg", "geojson", "json", "zip"], key=f"wet_upload_{gen}",
                                  help=t("wet.upload.help", lang))
        coord = st.radio(t("wet.upload.coord", lang), ["wgs84", "gcj02", "bd09"], horizontal=True, key="wet_upload_coord",
                         format_func=lambda c: t(f"wet.coord.{c}", lang))
        if upload is not None:
            try:
                draft = flow.add_upload_to_draft(draft, known, upload, coord)
            except flow.DataError as exc:
                show_data_error(exc, lang)
        names = st.session_state.setdefault(K_NAMES, {})  # typed names and notes, by red-line id
        draft = flow.apply_names(draft, names)
        if draft.empty:
            st.info(t("wet.draft.empty", lang), icon=":material/draw:")
        else:
            edited = st.data_editor(flow.draft_table(draft), key=f"wet_draft_{gen}_{len(draft)}", hide_index=True, width="stretch",
                                    disabled=[flow.ID_FIELD, "area_ha"],
                                    column_config={"area_ha": st.column_config.NumberColumn(t("wet.col.area", lang), format="%.2f"),
                                                   "name_zh": t("wet.col.name_zh", lang), "name_en": t("wet.col.name_en", lang),
                                                   "note": t("wet.col.note", lang), flow.ID_FIELD: t("wet.col.redline", lang)})
            names.update(flow.names_from_editor(edited))
            draft = flow.apply_names(draft, names)
        with st.form("wet_save"):
            remove = st.multiselect(t("wet.save.remove", lang), flow.redline_ids(redlines), key=f"wet_remove_{gen}")
            reason = st.text_area(t("wet.save.reason", lang), key=f"wet_reason_{gen}", max_chars=2000)
            clip = st.checkbox(t("wet.save.clip", lang), value=True, key="wet_clip", help=t("wet.save.clip_help", lang))
            submitted = st.form_submit_button(t("wet.save.button", lang), type="primary")
        if submitted:
            if not reason.strip():
                st.error(t("wet.save.need_reason", lang))
            elif draft.empty and not remove:
                st.warning(t("wet.save.nothing", lang))
            elif remove and draft.empty and set(remove) >= set(flow.redline_ids(redlines)):
                st.error(t("wet.save.not_empty", lang))
            else:
                try:
                    res, clipped = flow.save_redlines(ws, redlines, draft, remove=remove, author=user.username, reason=reason,
                                                      expected_parent=base, study_area=a.zones, clip=clip)
                except flow.ConflictError as exc:
                    st.error(t("wet.save.conflict", lang, mine=base, latest=exc.latest.version, who=exc.latest.author,
                               when=exc.latest.saved_at.strftime('%Y-%m-%d %H:%M UTC')), icon=":material/sync_problem:")
                except flow.DataError as exc:
                    show_data_error(exc, lang)
                else:
                    # a fresh map, uploader and draft; the draft's names are kept by id in the saved layer
                    st.session_state[K_BASE] = res.info.version
                    st.session_state[K_GEN] = gen + 1
                    st.session_state[K_DRAWN] = {}
                    st.session_state[K_NAMES] = {}
                    st.session_state[K_MSG] = flow.saved_message(res, lang, clipped)
                    st.rerun()

with tab_inv:
    st.subheader(t("wet.site.title", lang, year=year))
    st.dataframe(flow.sites_table(inv, year, lang), hide_index=True, width="stretch")
    st.caption(t("wet.site.caption", lang))
    st.subheader(t("wet.inv.patches", lang, year=year))
    st.caption(t("wet.inv.caption", lang, year=year, rules="; ".join(layer.rules)))
    st.dataframe(flow.patch_summary(p, a.zones, lang), hide_index=True, width="stretch")
    st.download_button(t("wet.inv.download", lang), flow.patch_csv(p), file_name=f"wetland_patches_{year}.csv", mime="text/csv",
                       key="wet_inv_dl", icon=":material/download:")

with tab_chg:
    if period is None:
        st.info(t("wet.chg.one_date", lang))
    else:
        st.subheader(t("wet.chg.title", lang, period=fmt.period(period, lang)))
        st.caption(t("wet.chg.caption", lang))
        st.dataframe(flow.change_table(inv, period, lang), hide_index=True, width="stretch")
        dest = flow.destination_frame(inv, period, lang)
        if len(dest):
            where, became = dest.columns[:2]
            st.bar_chart(dest, x=became, y="area_ha", color=where, stack=False, horizontal=True,
                         x_label=t("wet.chg.became_axis", lang), y_label=t("wet.col.area", lang))
        st.subheader(t("wet.alert.title", lang, ha=fmt.hectares(inv.alert_min_loss_ha, lang)))
        alerts = flow.alerts_table(inv, period, lang)
        if alerts.empty:
            st.success(t("wet.alert.none", lang), icon=":material/check_circle:")
        else:
            st.dataframe(alerts, hide_index=True, width="stretch")
            st.caption(t("wet.alert.caption", lang))

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
                why = st.text_input(t("wet.red.restore_reason", lang), key="wet_restore_reason")
                go = st.form_submit_button(t("wet.red.restore", lang))
            if go and not why.strip():
                st.error(t("wet.save.need_reason", lang))
            elif go and pick is not None:
                try:
                    info = flow.restore(ws, int(pick), author=user.username, reason=why,
                                        expected_parent=st.session_state.get(K_BASE, version))
                except flow.ConflictError as exc:
                    st.error(t("wet.save.conflict", lang, mine=st.session_state.get(K_BASE, version), latest=exc.latest.version,
                               who=exc.latest.author, when=exc.latest.saved_at.strftime('%Y-%m-%d %H:%M UTC')))
                except flow.DataError as exc:
                    show_data_error(exc, lang)
                else:
                    st.session_state[K_BASE] = info.version
                    st.session_state[K_GEN] = st.session_state.get(K_GEN, 0) + 1
                    st.session_state[K_MSG] = t("wet.red.restored", lang, v=info.version, src=pick)
                    st.rerun()
        st.subheader(t("wet.red.export", lang))
        e1, e2 = st.columns(2)
        fmt_choice = e1.selectbox(t("wet.red.export_fmt", lang), ["gpkg", "geojson", "shp.zip"], key="wet_exp_fmt")
        crs_choice = e2.selectbox(t("wet.red.export_crs", lang), list(flow.EXPORT_CRS), key="wet_exp_crs",
                                  format_func=lambda c: t(f"wet.crs.{c}", lang))
        wanted = (version, fmt_choice, int(crs_choice))
        # the file is written (and logged in the workspace) only when asked for, not on every view
        if st.button(t("wet.red.prepare", lang), key="wet_exp_go", icon=":material/file_export:"):
            try:
                st.session_state[K_EXPORT] = (wanted, *flow.export_bytes(ws, fmt_choice, int(crs_choice), version))
            except flow.DataError as exc:
                show_data_error(exc, lang)
        ready = st.session_state.get(K_EXPORT)
        if ready and ready[0] == wanted:
            st.download_button(t("wet.red.download", lang, name=ready[2]), ready[1], file_name=ready[2], key="wet_exp_dl",
                               icon=":material/download:")
