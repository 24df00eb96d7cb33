"""Greening coverage: which planning units are below target, by how much, how sure we are, and
where planting could go. Everyone sees the indicators, map, targets and candidates; logged-in
officers may also upload their own units, edit or upload targets (this session only) and upload
labelled sample points."""
import streamlit as st
from streamlit_folium import st_folium

from ui import auth, fmt, leaflet, state
from ui import greening_flow as flow
from ui.errors import show_data_error
from ui.i18n import t
from ui.progress import progress_bar

ctx = state.require_context()
lang = ctx.lang
K_SET = "green_unit_set"
K_UPLOAD = "green_units_file"
K_ID = "green_units_id"
K_NAME = "green_units_name"
K_COORD = "green_units_coord"
K_READ = "green_units_read"  # (file id, GeoDataFrame or DataError)
K_IND = "green_indicator"
K_TYEAR = "green_target_year"
K_TGT = "green_targets"  # (assessment key, base targets table, source label) edited by officers in this session
K_TGT_GEN = "green_targets_gen"
K_TGT_UPLOAD = "green_targets_file"
K_TGT_REJ = "green_tgt_rejected_upload"  # (assessment key, rejected rows of the uploaded CSV), keyed like K_TGT
K_COLOUR = "green_colour_by"
K_SHARE = "green_share"
K_PTS = "green_points"  # ((assessment key, unit, n, seed, year), points table)
K_LABELS = "green_labels"  # point id -> label (the editor's base)
K_PT_GEN = "green_pt_gen"
K_PT_UPLOAD = "green_pt_file"

st.title(t("green.title", lang))
st.caption(t("green.caption", lang))
user, officer = auth.officer_panel(lang)
leaflet.stop_without_vendor_files(lang)

# ------------------------------------------------------------------ controls
sets = ["zones"] + (["units"] if flow.has_units(ctx.config_path) else []) + (["upload"] if officer else [])
if st.session_state.get(K_SET) not in sets:
    st.session_state[K_SET] = "units" if "units" in sets else "zones"
c1, c2 = st.columns([2, 3])
unit_set = c1.selectbox(t("green.units", lang), sets, key=K_SET,
                        format_func=lambda s: t(f"green.units.{s}", lang) + (t("green.illustrative_tag", lang) if s == "units" and ctx.illustrative else ""),
                        help=t("green.units_help", lang))

choice = flow.UnitChoice(unit_set)
if unit_set == "upload":
    with st.container(border=True):
        u1, u2, u3 = st.columns([3, 2, 2])
        u2b = u2.container()
        upload = u1.file_uploader(t("green.upload", lang), type=["gpkg", "geojson", "json", "zip"], key=K_UPLOAD,
                                  help=t("green.upload_help", lang))
        coord = u3.radio(t("green.coord", lang), list(flow.COORD_SYSTEMS), key=K_COORD, format_func=lambda c: t(f"wet.coord.{c}", lang))
        if upload is None:
            st.info(t("green.upload_none", lang), icon=":material/upload_file:")
            st.stop()
        data = upload.getvalue()
        ident = (getattr(upload, "file_id", upload.name), flow.sha(data))
        kept = st.session_state.get(K_READ)
        if kept is None or kept[0] != ident:
            try:
                kept = (ident, flow.read_units_upload(data, upload.name))
            except flow.DataError as exc:
                kept = (ident, exc)
            st.session_state[K_READ] = kept
        if isinstance(kept[1], flow.DataError):
            show_data_error(kept[1], lang)
            st.stop()
        fields = flow.id_field_choices(kept[1])
        if not fields:
            st.error(t("green.upload_no_fields", lang))
            st.stop()
        # a new file starts from its likeliest id (never GeoJSON's automatic 0..n-1 when a text id exists)
        if st.session_state.get(K_ID) not in fields or st.session_state.get("green_units_id_for") != ident:
            st.session_state[K_ID] = fields[0]
            st.session_state.pop(K_NAME, None)
            st.session_state["green_units_id_for"] = ident
        id_field = u2.selectbox(t("green.id_field", lang), fields, key=K_ID)
        name_fields = flow.name_field_choices(kept[1], id_field)
        if st.session_state.get(K_NAME) not in name_fields:
            st.session_state[K_NAME] = name_fields[0]
        name_field = u2b.selectbox(t("green.name_field", lang), name_fields, key=K_NAME, help=t("green.name_field_help", lang),
                                   format_func=lambda f: flow.name_field_label(f, lang))
        choice = flow.UnitChoice("upload", upload=kept[1], sha=ident[1], id_field=id_field, coord=coord, name=upload.name,
                                 name_field=name_field)

progress_box = st.empty()
key = flow.assessment_key(ctx.config_path, choice)
try:
    ga = flow.cached_assessment(key)
    if ga is None:
        _, progress = progress_bar(progress_box, t("green.computing", lang), lang, step_label=flow.step_label)
        ga = flow.load_assessment(ctx.config_path, key, choice, progress=progress)
        progress_box.empty()
    layers = flow.cached_layers(ctx.config_path, key)
    if layers is None:  # not kept with the assessment (should not happen): rebuilt, with a progress bar
        _, progress = progress_bar(progress_box, t("green.computing", lang), lang, step_label=flow.step_label)
        layers = flow.load_layers(ctx.config_path, progress=progress)
        progress_box.empty()
except flow.DataError as exc:
    progress_box.empty()
    show_data_error(exc, lang)
    st.stop()

inds = flow.indicators(ga)
if st.session_state.get(K_IND) not in inds:
    st.session_state[K_IND] = inds[0]
ind = c2.selectbox(t("green.indicator", lang), inds, key=K_IND, format_func=lambda i: flow.indicator_name(i, lang))
st.caption(flow.indicator_help(ind, lang))

year = flow.pick_year(ga, ctx.year)
if year != ctx.year:
    st.info(t("green.year_fallback", lang, asked=ctx.year, year=year), icon=":material/event:")
if ctx.illustrative:  # an officer's uploaded units are theirs: only the demo's parks and targets are illustrative
    st.warning(t("green.illustrative_upload" if unit_set == "upload" else "green.illustrative", lang), icon=":material/science:")
all_notes = flow.notes(ga, lang)
for note in all_notes:
    if note.level != "caption":
        (st.warning if note.level == "warning" else st.info)(note.text, icon=":material/info:")
details = [n.text for n in all_notes if n.level == "caption"]
if details:
    st.caption(("；" if lang == "zh" else "; ").join(details))
und = flow.undefined_note(ga, ind, year, lang)
if und:
    st.warning(und, icon=":material/help:")

names = [t("green.tab.map", lang), t("green.tab.table", lang), t("green.tab.targets", lang), t("green.tab.plant", lang),
         t("green.tab.uncertainty", lang)]
# a keyed, state-tracking tab bar: a rerun (drawing points, uploading, editing) keeps the reader's tab
K_TAB = f"green_tab_{lang}"
if st.session_state.get(K_TAB) not in names:
    st.session_state.pop(K_TAB, None)
tabs = st.tabs(names, key=K_TAB, on_change="rerun")

# ------------------------------------------------------------------ targets (first: the map shows progress)
with tabs[2]:
    st.subheader(t("green.tg.title", lang))
    st.caption(t("green.tg.caption", lang))
    targets = None
    if officer:
        kept = st.session_state.get(K_TGT)
        if kept is None or kept[0] != key:
            kept = (key, flow.targets_frame(ga), t("green.tg.from_config", lang))
            st.session_state[K_TGT] = kept
        gen = st.session_state.setdefault(K_TGT_GEN, 0)
        with st.expander(t("green.tg.edit", lang), expanded=False, icon=":material/edit:"):
            st.caption(t("green.tg.edit_caption", lang, source=kept[2]))
            edited = st.data_editor(kept[1], key=f"green_tgt_editor_{gen}", num_rows="dynamic", hide_index=True, width="stretch",
                                    column_config={
                                        "unit_id": st.column_config.TextColumn(t("green.col.unit_id", lang)),
                                        "year": st.column_config.NumberColumn(t("green.col.year", lang), format="%d", step=1),
                                        "indicator": st.column_config.SelectboxColumn(t("green.col.indicator", lang), options=inds),
                                        "target_pct": st.column_config.NumberColumn(t("green.col.target", lang), min_value=0.0,
                                                                                    max_value=100.0, format="%.1f"),
                                        "source": st.column_config.TextColumn(t("green.col.target_source", lang)),
                                        "verified": st.column_config.CheckboxColumn(t("green.col.verified", lang)),
                                        "note": st.column_config.TextColumn(t("green.col.note", lang))})
            e1, e2, e3 = st.columns(3)
            up = e1.file_uploader(t("green.tg.upload", lang), type=["csv"], key=f"{K_TGT_UPLOAD}_{gen}")
            if up is not None:
                try:
                    acc, rej = flow.upload_targets(ga, up.getvalue(), up.name)
                    st.session_state[K_TGT] = (key, flow.uploaded_targets_frame(acc), up.name)
                    st.session_state[K_TGT_REJ] = (key, rej)
                    st.session_state[K_TGT_GEN] = gen + 1
                    st.rerun()
                except flow.DataError as exc:
                    show_data_error(exc, lang)
            if e2.button(t("green.tg.reset", lang), key="green_tgt_reset", icon=":material/restart_alt:"):
                st.session_state[K_TGT] = (key, flow.targets_frame(ga), t("green.tg.from_config", lang))
                st.session_state[K_TGT_GEN] = gen + 1
                st.session_state.pop(K_TGT_REJ, None)
                st.rerun()
        try:
            targets, rejected = flow.check_edited_targets(ga, edited, kept[2])
        except flow.DataError as exc:
            show_data_error(exc, lang)
            targets, rejected = None, None
        e3.download_button(t("green.tg.csv", lang), lambda d=edited.copy(): flow.csv_bytes(d), file_name="greening_targets.csv",
                           mime="text/csv", key="green_tgt_csv", icon=":material/download:", on_click="ignore")
        kept_rej = st.session_state.get(K_TGT_REJ)
        if kept_rej is not None and kept_rej[0] != key:  # another unit set or coordinate system: not these units' rows
            st.session_state.pop(K_TGT_REJ, None)
            kept_rej = None
        for rj in (rejected, None if kept_rej is None else kept_rej[1]):
            if rj is not None and len(rj):
                st.warning(t("green.tg.rejected", lang, n=len(rj)), icon=":material/rule:")
                st.dataframe(flow.rejected_view(rj, lang), hide_index=True, width="stretch")
        unmatched = flow.unmatched_note(ga, targets, lang)
        if unmatched:
            st.caption(unmatched)
    elif len(ga.targets_rejected):
        st.warning(t("green.tg.rejected", lang, n=len(ga.targets_rejected)), icon=":material/rule:")
        st.dataframe(flow.rejected_view(ga.targets_rejected, lang), hide_index=True, width="stretch")
    prog = flow.progress_for(ga, targets)
    tyears = flow.target_years(prog, ind)
    if tyears:
        if st.session_state.get(K_TYEAR) not in tyears:
            st.session_state[K_TYEAR] = flow.default_target_year(tyears, year)
        tyear = st.selectbox(t("green.tg.year", lang), tyears, key=K_TYEAR)
    else:
        tyear = None
    p = flow.progress_rows(prog, ind, tyear)
    if p.empty:
        st.info(t("green.tg.none", lang, ind=flow.indicator_name(ind, lang)), icon=":material/flag:")
    else:
        n = flow.status_counts(p)
        m1, m2, m3 = st.columns(3)
        m1.metric(t("green.tg.below", lang), f"{n['below']}", help=t("green.tg.below_help", lang, year=tyear))
        m2.metric(t("green.tg.met", lang), f"{n['met']}")
        m3.metric(t("green.tg.undefined", lang), f"{n['undefined']}")
        if not bool(p["target_verified"].all()):
            st.warning(t("green.tg.unverified", lang, n=int((~p["target_verified"].astype(bool)).sum()), total=len(p)),
                       icon=":material/gpp_maybe:")
        chart = flow.bullet_chart(ga, p, lang)
        if chart is not None:
            st.altair_chart(chart, key="green_bullet")
        st.caption(t("green.tg.chart_caption", lang))
        st.dataframe(flow.progress_table_view(ga, p, lang), hide_index=True, width="stretch")
        st.caption(t("green.tg.table_caption", lang))

# ------------------------------------------------------------------ uncertainty (before the map: points go on it)
# Heavy tab bodies are fragments: labelling points, moving the share slider or a map option reruns
# only that tab, not the map (~2 MB with the patches) and the tables. What another tab needs
# (new points on the map) reruns the whole page.
kept_pts = st.session_state.get(K_PTS)
points = flow.points_gdf(kept_pts[1]) if kept_pts is not None and kept_pts[0][0] == key else None


def _rerun_tab() -> None:
    """Rerun only the fragment being run (the whole page when this is a full run)."""
    from streamlit.errors import StreamlitInvalidLayoutContextError

    try:
        st.rerun(scope="fragment")
    except StreamlitInvalidLayoutContextError:
        st.rerun()


@st.fragment
def uncertainty_tab(ga, layers, key: str, year: int, lang: str, officer: bool) -> None:
    st.subheader(t("green.iv.title", lang))
    ivt = flow.intervals_table(ga, lang)
    if ivt is None:
        st.info(t("green.iv.none", lang), icon=":material/info:")
        st.page_link("app_pages/landcover.py", label=t("green.iv.link", lang), icon=":material/satellite_alt:")
    else:
        st.dataframe(ivt, hide_index=True, width="stretch")
    st.subheader(t("green.pt.title", lang))
    st.caption(t("green.pt.caption", lang))
    uids = list(ga.units["unit_id"].astype(str))
    unames = flow.unit_names(ga, lang)
    s1, s2, s3, s4 = st.columns([3, 1, 1, 1])
    pu = s1.selectbox(t("green.pt.unit", lang), uids, key="green_pt_unit", format_func=lambda u: f"{unames.get(u, u)} ({u})")
    pn = s2.number_input(t("green.pt.n", lang), min_value=1, max_value=flow.MAX_POINTS, value=flow.DEFAULT_POINTS, step=10, key="green_pt_n")
    pseed = s3.number_input(t("green.pt.seed", lang), min_value=0, max_value=10**6, value=0, step=1, key="green_pt_seed")
    s4.write("")
    draw = s4.button(t("green.pt.draw", lang), key="green_pt_draw", icon=":material/scatter_plot:", type="primary")
    ident = (key, pu, int(pn), int(pseed), year)
    if draw:
        try:
            st.session_state[K_PTS] = (ident, flow.draw_points(ga, layers, pu, int(pn), int(pseed), year))
            st.session_state[K_LABELS] = {}
            st.session_state[K_PT_GEN] = st.session_state.get(K_PT_GEN, 0) + 1
            st.rerun()  # the whole page: the map shows the new points
        except flow.DataError as exc:
            show_data_error(exc, lang)
    kept = st.session_state.get(K_PTS)
    if kept is None or kept[0][0] != key:
        st.info(t("green.pt.none", lang), icon=":material/scatter_plot:")
        return
    pts = kept[1]
    if kept[0] != ident:
        st.caption(t("green.pt.other", lang, unit=unames.get(kept[0][1], kept[0][1]), n=kept[0][2], seed=kept[0][3]))
    labels = st.session_state.setdefault(K_LABELS, {})
    gen = st.session_state.get(K_PT_GEN, 0)
    st.caption(t("green.pt.editor_caption", lang))
    edited = st.data_editor(flow.editor_frame(pts, labels, lang), key=f"green_pt_editor_{gen}", hide_index=True, width="stretch",
                            disabled=["point_id", "lon", "lat", "map_label"], num_rows="fixed",
                            column_config={"point_id": st.column_config.TextColumn(t("green.pt.point", lang)),
                                           "lon": st.column_config.NumberColumn(t("green.col.lon", lang), format="%.5f"),
                                           "lat": st.column_config.NumberColumn(t("green.col.lat", lang), format="%.5f"),
                                           "map_label": st.column_config.TextColumn(t("green.pt.map_label", lang)),
                                           "label": st.column_config.SelectboxColumn(t("green.pt.label", lang), options=flow.label_options(lang))})
    now = dict(zip(edited["point_id"].astype(str), flow.from_display(edited["label"], lang)))
    f1, f2, f3 = st.columns([2, 2, 3])
    fill = f1.selectbox(t("green.pt.fill", lang), list(flow.sampling.LABELS), key="green_pt_fill_label",
                        format_func=lambda lb: flow.label_name(lb, lang))
    if f2.button(t("green.pt.fill_go", lang), key="green_pt_fill"):
        st.session_state[K_LABELS] = {i: (v or fill) for i, v in now.items()}
        st.session_state[K_PT_GEN] = gen + 1
        _rerun_tab()
    f3.download_button(t("green.pt.csv", lang), lambda: flow.points_csv(pts, now),
                       file_name=f"sample_points_{kept[0][1]}_{kept[0][2]}_seed{kept[0][3]}.csv",
                       mime="text/csv", key="green_pt_csv", icon=":material/download:", on_click="ignore")
    if officer:
        up = st.file_uploader(t("green.pt.upload", lang), type=["csv"], key=f"{K_PT_UPLOAD}_{gen}", help=t("green.pt.upload_help", lang))
        if up is not None:
            try:
                st.session_state[K_LABELS] = {**now, **flow.read_labels(up.getvalue(), up.name, pts)}
                st.session_state[K_PT_GEN] = gen + 1
                _rerun_tab()
            except flow.DataError as exc:
                show_data_error(exc, lang)
    try:
        labs = [now.get(str(i)) for i in pts["point_id"]]
        est = flow.sampling.point_estimates(labs)
        st.markdown(t("green.pt.summary", lang, n=est.n_labelled, total=est.n_points, un=est.n_unlabelled))
        st.dataframe(flow.estimate_table(est, lang), hide_index=True, width="stretch", key="green_pt_estimates")
        for n_ in flow.estimate_notes(est.notes, lang):
            st.caption(n_)
        share = flow.map_share(ga, kept[0][1], kept[0][4])
        if share is not None and est.n_labelled:
            st.markdown(f"**{t('green.pt.compare', lang)}**")
            st.dataframe(flow.compare_table(flow.sampling.compare_with_map(est, share), lang), hide_index=True, width="stretch")
            ag = flow.sampling.agreement_table(labs, list(pts["map_label"]))
            st.markdown(f"**{t('green.pt.agreement', lang, pct=flow.pct_text(ag.agreement * 100), n=ag.n_compared)}**")
            st.dataframe(flow.agreement_view(ag, lang), hide_index=True, width="stretch")
            for n_ in flow.estimate_notes(ag.notes, lang):
                st.caption(n_)
    except flow.DataError as exc:
        show_data_error(exc, lang)


with tabs[4]:
    uncertainty_tab(ga, layers, key, year, lang, officer)


# ------------------------------------------------------------------ map
@st.fragment
def map_tab(ga, layers, key: str, ind: str, year: int, tyear, p, points, lang: str, tgt_sig) -> None:
    o1, o2, o3, o4, o5 = st.columns([3, 2, 2, 2, 2])
    colour_by = o1.segmented_control(t("green.map.colour_by", lang), list(flow.COLOUR_BY), key=K_COLOUR, default="value",
                                     format_func=lambda c: t(f"green.map.colour.{c}", lang)) or "value"
    has_parks = layers is not None and layers.parks is not None and len(layers.parks) > 0
    show_parks = o2.checkbox(t("green.layer.parks", lang), value=True, key="green_show_parks", disabled=not has_parks)
    show_patches = o3.checkbox(t("green.layer.patches", lang), value=False, key="green_show_patches")
    show_points = o4.checkbox(t("green.layer.points", lang), value=points is not None, disabled=points is None,
                              key=f"green_show_points_{st.session_state.get(K_PT_GEN, 0)}")  # new points: shown again
    show_lc = o5.checkbox(t("green.layer.landcover", lang, year=year), value=False, key="green_show_lc")
    overlay = flow.landcover_overlay(ga, year) if show_lc else None
    m, edges = flow.build_map(key, ga, layers, ind, year, p, lang, parks=show_parks and has_parks, patches=show_patches,
                              points=points if show_points else None, overlay=overlay, colour_by=colour_by)
    what = (ind, year, tyear, colour_by, show_parks, show_patches, show_points and points is not None and len(points), show_lc, tgt_sig)
    map_key = f"green_map_{lang}_{abs(hash((key, what))) % 10**8}"
    st_folium(m, key=map_key, height=560, use_container_width=True, returned_objects=[], center=m.view[0], zoom=m.view[1])
    st.html(flow.legend_html(ind, edges, lang, parks=show_parks and has_parks, patches=show_patches, colour_by=colour_by))
    tys = tyear if tyear is not None else fmt.DASH
    st.caption(t("green.map.caption_status", lang, tyear=tys) if colour_by == "status" else t("green.map.caption", lang, year=year, tyear=tys))
    if show_patches and len(ga.patches) > flow.MAX_MAP_PATCHES:
        st.caption(t("green.map.patches_shown", lang, shown=flow.MAX_MAP_PATCHES, n=len(ga.patches)))


with tabs[0]:
    tgt_sig = None if targets is None else int(flow.pd.util.hash_pandas_object(targets, index=False).sum())
    map_tab(ga, layers, key, ind, year, tyear, p, points, lang, tgt_sig)

# ------------------------------------------------------------------ table and change
with tabs[1]:
    st.subheader(t("green.table.title", lang, year=year))
    st.caption(t("green.table.caption", lang))
    st.dataframe(flow.unit_table(ga, year, lang), hide_index=True, width="stretch", key="green_unit_table")
    st.download_button(t("green.table.csv", lang), lambda: flow.unit_csv(ga, year, lang), file_name=f"greening_{ga.unit_set}_{year}.csv",
                       mime="text/csv", key="green_table_csv", icon=":material/download:", on_click="ignore")
    st.subheader(t("green.time.title", lang, ind=flow.indicator_name(ind, lang)))
    if len(ga.years) > 1:
        st.altair_chart(flow.time_chart(ga, ind, lang, p), key="green_time_chart")
        st.caption(t("green.time.caption", lang, first=ga.years[0], last=ga.years[-1], tyear=tyear if tyear is not None else fmt.DASH))
        st.markdown(f"**{t('green.time.change', lang, first=ga.years[0], last=ga.years[-1])}**")
        st.dataframe(flow.change_table(ga, ind, lang), hide_index=True, width="stretch", key="green_change_table")
    else:
        st.info(t("green.time.one_date", lang))
    with st.expander(t("green.method.title", lang)):
        st.markdown(t("green.method.text", lang, builtup=ga.builtup_source))
        st.dataframe(ga.roles.table, hide_index=True, width="stretch")


# ------------------------------------------------------------------ where to plant
@st.fragment
def plant_tab(ga, year: int, ind: str, lang: str) -> None:
    st.subheader(t("green.plant.title", lang, year=year))
    st.caption(t("green.plant.caption", lang))
    share = st.slider(t("green.plant.share", lang), 0, 100, 100, step=5, key=K_SHARE, format="%d%%",
                      help=t("green.plant.share_help", lang)) / 100.0
    tot = flow.candidate_totals(ga, year, share)
    k1, k2, k3 = st.columns(3)
    k1.metric(t("green.plant.area", lang), fmt.hectares(tot["ha"], lang), help=t("green.plant.area_help", lang))
    k1.caption(t("green.plant.greening_part", lang, ha=fmt.hectares(tot["greening_ha"], lang)))
    k2.metric(t("green.plant.removals", lang), fmt.tonnes(tot["removals"], "co2e_yr", lang))
    k3.metric(t("green.plant.stock", lang), fmt.tonnes(tot["stock"], "c", lang))
    st.caption(t("green.plant.linear", lang, share=round(share * 100)))
    st.warning(t("green.plant.unverified", lang), icon=":material/gpp_maybe:")
    st.dataframe(flow.candidate_table(ga, year, share, lang, ind), hide_index=True, width="stretch", key="green_cand_table")
    st.markdown(f"**{t('green.plant.patches', lang, year=ga.years[-1])}**")
    dn, dha = ga.patches_dropped
    st.caption(t("green.plant.patches_caption", lang, n=len(ga.patches), dropped=dn, dha=fmt.hectares(dha, lang),
                 min=f"{ga.config.greening.min_candidate_ha:g}"))
    st.dataframe(flow.patch_table(ga, lang), hide_index=True, width="stretch", height=360, key="green_patch_table")
    st.download_button(t("green.plant.csv", lang), lambda: flow.patch_csv(ga), file_name=f"planting_candidates_{ga.years[-1]}.csv",
                       mime="text/csv", key="green_patch_csv", icon=":material/download:", on_click="ignore")


with tabs[3]:
    plant_tab(ga, year, ind, lang)
