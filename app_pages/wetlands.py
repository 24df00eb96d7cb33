"""Wetlands & red lines: the wetland map and inventory for everyone; drawing, saving, restoring
and exporting red lines and named wetland sites for logged-in ecology officers."""
import streamlit as st
from streamlit_folium import st_folium

from ui import auth, fmt, leaflet, state
from ui import wetlands_flow as flow
from ui.errors import show_data_error
from ui.i18n import t
from ui.progress import progress_bar

ctx = state.require_context()
lang, a, year = ctx.lang, ctx.assessment, ctx.year
K_MSG = "wet_msg"  # a message to show once after a rerun
K_TARGET = "wet_target"  # which layer the officer edits: a key of ui.wetlands_flow.EDIT_LAYERS
# per officer and edited layer (suffix _<layer>_<username>), so a draft never passes to the next login:
K_BASE = "wet_base"  # the version the officer's draft builds on
K_GEN = "wet_gen"  # bumped after each own save or restore: a fresh map, uploader and form
K_ITEMS = "wet_items"  # the draft's new outlines, by source (ui.wetlands_flow: drawn, uploaded, patches)
K_NAMES = "wet_names"  # {id: {column: text}}: names and notes the officer changed in the table
K_DELETE = "wet_delete"  # ids ticked for deletion in the table
K_EXPORT = "wet_export"  # ((layer, version, format, crs), bytes, file name) of the last prepared export


def kept(name: str, target: str, default):
    """Session state of one edited layer of the logged-in officer."""
    return st.session_state.setdefault(f"{name}_{target}_{user.username}", default)


def put(name: str, target: str, value) -> None:
    st.session_state[f"{name}_{target}_{user.username}"] = value


st.title(t("wet.title", lang))
st.caption(t("wet.caption", lang))
user, officer = auth.officer_panel(lang)
leaflet.stop_without_vendor_files(lang)

try:
    ws = flow.workspace()
    flow.seed_demo_layers(ws, ctx.config_path)
    redlines, version = flow.load_layer(ws, flow.REDLINES)
    sites, sites_version = flow.load_layer(ws, flow.SITES)
    current = {"redlines": redlines, "sites": sites}
    versions = {"redlines": version, "sites": sites_version}
    for name in ("eco_redlines", "eco_space"):  # the protection-zone layers, edited here, screened on their own page
        current[name], versions[name] = flow.load_layer(ws, flow.EDIT_LAYERS[name])
    key = flow.inventory_key(ctx.cache_key, redlines, sites if sites_version else None)
    inv = flow.cached_inventory(key)
    progress_box = st.empty()  # always there (see `notice` below), filled only while computing
    if inv is None:
        _, progress = progress_bar(progress_box, t("wet.computing", lang), lang)
        inv = flow.load_inventory(ctx.config_path, key, redlines, sites if sites_version else None, progress=progress)
        progress_box.empty()
    layer = flow.patch_layer(inv, key, year)
    lc = flow.overlay(ctx.config_path, year)
except flow.DataError as exc:
    show_data_error(exc, lang)
    st.stop()
period = flow.period_for(inv, year)

# always one element here, message or not: a message that comes and goes above the tabs would
# make them new elements and send the reader back to the first tab
notice = st.empty()
if msg := st.session_state.pop(K_MSG, None):
    notice.success(msg, icon=":material/check_circle:")

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
                                              t("wet.tab.layers", lang)])

with tab_map:
    suggest = None
    target, spec, gen, items = "redlines", flow.REDLINES, 0, {}
    if officer:
        target = st.segmented_control(t("wet.edit.target", lang), list(flow.EDIT_LAYERS), key=K_TARGET, default="redlines",
                                      format_func=lambda k: t(f"wet.edit.{k}", lang)) or "redlines"
        spec = flow.EDIT_LAYERS[target]
        # the version this officer's draft builds on: a save by someone else meanwhile is a conflict
        base = kept(K_BASE, target, versions[target])
        gen = kept(K_GEN, target, 0)
        items, names, delete = kept(K_ITEMS, target, {}), kept(K_NAMES, target, {}), kept(K_DELETE, target, set())
        if base != versions[target]:
            st.warning(t("wet.base.stale", lang, base=base, latest=versions[target]), icon=":material/sync_problem:")
            if st.button(t("wet.base.rebase", lang), key=f"wet_rebase_{target}"):
                put(K_BASE, target, versions[target])
                st.rerun()
        if target in flow.WETLAND_TARGETS:  # wetland patches suggest wetland layers only
            with st.expander(t(f"wet.suggest.title_{target}", lang)):
                if st.toggle(t("wet.suggest.show", lang), key="wet_suggest_on"):
                    min_ha = st.number_input(t("wet.suggest.min_ha", lang), min_value=1.0, value=8.0, step=1.0,
                                             key="wet_suggest_ha", help=t("wet.suggest.help", lang))
                    suggest = flow.suggestions(p, current[target], min_ha)
                    st.caption(t("wet.suggest.count", lang, n=len(suggest)))
    # each map (what it shows: layer, versions, year, language, suggestions) is its own component,
    # since Leaflet is rebuilt when its content changes: what was drawn on another map stays in
    # the draft and is drawn dashed here
    shows = (tuple(versions.values()), None if suggest is None else tuple(suggest["patch_id"]))
    map_key = f"{target}_{gen}_{year}_{lang}_{abs(hash(shows)) % 10**8}"
    carried = flow.carried_drawings(items, map_key) if officer else []
    m = flow.build_map(zones=a.zones, patch_layer=layer, redlines=redlines, lc=lc, lang=lang, suggestions=suggest,
                       alerts=flow.alert_outlines(inv, period), carried=carried, sites=sites,
                       protection=None if target in flow.WETLAND_TARGETS else current[target], protection_spec=spec)
    if officer:
        leaflet.add_draw_control(m, lang)
        st.caption(t("wet.draw.help", lang))
        out = st_folium(m, key=f"wet_map_{map_key}_{user.username}", height=560, use_container_width=True,
                        returned_objects=["all_drawings"])
        if out and out.get("all_drawings") is not None:
            try:
                flow.sync_drawings(items, map_key, out["all_drawings"])
            except flow.DataError as exc:
                show_data_error(exc, lang)
    else:
        st_folium(m, key=f"wet_map_{year}_{lang}", height=560, use_container_width=True, returned_objects=[])
    st.html(flow.legend_html(lang))

    if officer:
        st.subheader(t(f"wet.draft.title_{target}", lang))
        if suggest is not None and len(suggest):
            labels = flow.suggestion_labels(suggest, lang)
            pick = st.multiselect(t("wet.suggest.pick", lang), list(labels), key=f"wet_suggest_pick_{target}_{gen}", format_func=labels.get)
            flow.add_patch_items(items, suggest, pick)
        upload = st.file_uploader(t(f"wet.upload.label_{target}", lang), type=["gpkg", "geojson", "json", "zip"],
                                  key=f"wet_upload_{target}_{gen}", help=t("wet.upload.help", lang))
        coord = st.radio(t("wet.upload.coord", lang), ["wgs84", "gcj02", "bd09"], horizontal=True, key="wet_upload_coord",
                         format_func=lambda c: t(f"wet.coord.{c}", lang))
        if upload is not None:
            try:
                flow.add_upload_items(items, upload, coord, spec)
            except flow.DataError as exc:
                show_data_error(exc, lang)
        known = flow.ids_ever(ws, spec)
        draft_all = flow.draft_frame(items, known, spec)
        base_table = flow.edit_table(current[target], draft_all, spec)
        if base_table.empty:
            st.info(t("wet.draft.empty", lang), icon=":material/draw:")
        else:
            st.caption(t("wet.draft.names_help", lang))
            shown_table = flow.edit_table(current[target], draft_all, spec, names=names, delete=delete)
            # a new editor whenever what it shows changes (rows or the officer's own changes), so
            # its row-position edits can never land on another feature
            ekey = hash((tuple(shown_table[spec.id_field]), repr(sorted(names.items())), tuple(sorted(delete))))
            edited = st.data_editor(shown_table, key=f"wet_table_{target}_{gen}_{ekey}", hide_index=True, width="stretch",
                                    disabled=[spec.id_field, "area_ha", "new"],
                                    column_config={"area_ha": st.column_config.NumberColumn(t("wet.col.area", lang), format="%.2f"),
                                                   "new": st.column_config.CheckboxColumn(t("wet.col.new", lang)),
                                                   "delete": st.column_config.CheckboxColumn(t("wet.col.delete", lang), help=t("wet.col.delete_help", lang)),
                                                   "name_zh": t("wet.col.name_zh", lang), "name_en": t("wet.col.name_en", lang),
                                                   "note": t("wet.col.note", lang), spec.id_field: t("wet.col.id", lang)})
            typed, ticked = flow.table_edits(base_table, edited, spec)
            if typed != names or ticked != delete:
                put(K_NAMES, target, typed)
                put(K_DELETE, target, ticked)
                st.rerun()
        if items and st.button(t("wet.draft.discard", lang), key=f"wet_discard_{target}", icon=":material/delete_sweep:"):
            put(K_ITEMS, target, {})
            put(K_GEN, target, gen + 1)
            st.rerun()
        with st.form(f"wet_save_{target}"):
            reason = st.text_area(t("wet.save.reason", lang), key=f"wet_reason_{target}_{gen}", max_chars=2000)
            clip = st.checkbox(t("wet.save.clip", lang), value=True, key="wet_clip", help=t("wet.save.clip_help", lang))
            submitted = st.form_submit_button(t(f"wet.save.button_{target}", lang), type="primary")
        if submitted:
            existing = set(flow.feature_ids(current[target], spec))
            remove = sorted(delete & existing)
            draft = flow.draft_frame(items, known, spec, drop=delete)
            renamed = flow.renamed_ids(current[target], names, spec)
            if not reason.strip():
                st.error(t("wet.save.need_reason", lang))
            elif draft.empty and not remove and not renamed:
                st.warning(t("wet.save.nothing", lang))
            elif draft.empty and existing and set(remove) >= existing:
                st.error(t(f"wet.save.not_empty_{target}", lang))
            else:
                try:
                    res, clipped = flow.save_edits(ws, current[target], draft, remove=remove, by=user, reason=reason,
                                                   expected_parent=base, study_area=a.zones, clip=clip, names=names, spec=spec)
                except flow.ConflictError as exc:
                    st.error(t("wet.save.conflict", lang, mine=base, latest=exc.latest.version, who=exc.latest.author,
                               when=exc.latest.saved_at.strftime('%Y-%m-%d %H:%M UTC')), icon=":material/sync_problem:")
                except flow.DataError as exc:
                    show_data_error(exc, lang)
                else:
                    # a fresh map, uploader and form for this layer; the names are in the saved version
                    put(K_BASE, target, res.info.version)
                    put(K_GEN, target, gen + 1)
                    put(K_ITEMS, target, {})
                    put(K_NAMES, target, {})
                    put(K_DELETE, target, set())
                    st.session_state[K_MSG] = flow.saved_message(res, lang, clipped, target)
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
    shown = st.segmented_control(t("wet.edit.shown", lang), list(flow.EDIT_LAYERS), key="wet_shown", default="redlines",
                                 format_func=lambda k: t(f"wet.edit.{k}", lang)) or "redlines"
    sspec, sver = flow.EDIT_LAYERS[shown], versions[shown]
    if current[shown].empty:
        st.info(t(f"wet.red.none_{shown}", lang))
    else:
        st.dataframe(flow.layer_table(current[shown], lang, sspec), hide_index=True, width="stretch")
    hist = flow.history(ws, sspec)
    if hist:
        st.subheader(t("wet.red.history", lang))
        st.dataframe(flow.history_table(hist, lang, authors=officer), hide_index=True, width="stretch")
        if officer and len(hist) > 1:
            with st.form(f"wet_restore_{shown}"):
                pick = st.selectbox(t("wet.red.restore_pick", lang), [h.version for h in hist[:-1]], key=f"wet_restore_v_{shown}")
                why = st.text_input(t("wet.red.restore_reason", lang), key=f"wet_restore_reason_{shown}")
                go = st.form_submit_button(t("wet.red.restore", lang))
            rbase = kept(K_BASE, shown, sver)
            if go and not why.strip():
                st.error(t("wet.save.need_reason", lang))
            elif go and pick is not None:
                try:
                    info = flow.restore(ws, int(pick), by=user, reason=why, expected_parent=rbase, spec=sspec)
                except flow.ConflictError as exc:
                    st.error(t("wet.save.conflict", lang, mine=rbase, latest=exc.latest.version, who=exc.latest.author,
                               when=exc.latest.saved_at.strftime('%Y-%m-%d %H:%M UTC')))
                except flow.DataError as exc:
                    show_data_error(exc, lang)
                else:
                    # the restored version is the new base; typed renames and deletions referred to the old one
                    put(K_BASE, shown, info.version)
                    put(K_NAMES, shown, {})
                    put(K_DELETE, shown, set())
                    st.session_state[K_MSG] = t("wet.red.restored", lang, v=info.version, src=pick)
                    st.rerun()
    if hist and officer:
        st.subheader(t("wet.red.export", lang))
        e1, e2 = st.columns(2)
        fmt_choice = e1.selectbox(t("wet.red.export_fmt", lang), ["gpkg", "geojson", "shp.zip"], key="wet_exp_fmt")
        crs_choice = e2.selectbox(t("wet.red.export_crs", lang), list(flow.EXPORT_CRS), key="wet_exp_crs",
                                  format_func=lambda c: t(f"wet.crs.{c}", lang))
        wanted = (shown, sver, fmt_choice, int(crs_choice))
        # the file is written (and logged in the workspace) only when asked for, not on every view
        if st.button(t("wet.red.prepare", lang), key="wet_exp_go", icon=":material/file_export:"):
            try:
                st.session_state[K_EXPORT] = (wanted, *flow.export_bytes(ws, fmt_choice, int(crs_choice), sver, sspec, by=user))
            except flow.DataError as exc:
                show_data_error(exc, lang)
        ready = st.session_state.get(K_EXPORT)
        if ready and ready[0] == wanted:
            st.download_button(t("wet.red.download", lang, name=ready[2]), ready[1], file_name=ready[2], key="wet_exp_dl",
                               icon=":material/download:")
