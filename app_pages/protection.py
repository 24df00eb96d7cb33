"""Protection zones: ecological red lines, ecological-space control areas, urban wetland red
lines, the Yangtze shoreline belt and drinking-water-source zones, screened against the land
cover. Everyone sees the zones, their figures, the ledger and the rules; logged-in ecology
officers also get the intakes, the flagged patches (zoom, export) and the project-location check."""
import streamlit as st
from streamlit_folium import st_folium

from ui import auth, fmt, leaflet, state
from ui import protection_flow as flow
from ui.errors import show_data_error
from ui.i18n import t, zone_names
from ui.progress import progress_bar

ctx = state.require_context()
lang = ctx.lang
K_TYPES = "prot_types"  # zone types shown on the map
K_PATCH = "prot_patch"  # the flagged patch the map zooms to (officers)
K_ZOOMED = "prot_zoomed"  # a patch was selected earlier: clearing it goes back to the whole area
K_UPLOAD = "prot_points_file"
K_COORD = "prot_points_coord"
K_POINTS = "prot_points_result"  # ((file id, coordinate system, screening key), result, DataError or UploadFailed)
K_POINTS_TABLE = "prot_points_table"  # ((the K_POINTS key, lang), the points table built from that result)

st.title(t("prot.title", lang))
st.caption(t("prot.caption", lang))
user, officer = auth.officer_panel(lang)
leaflet.stop_without_vendor_files(lang)

# always there, filled only while computing: an element that comes and goes above the tabs would
# make them new elements and send the reader back to the first tab
progress_box = st.empty()
try:
    ws = flow.workspace()
    flow.seed_demo_layers(ws, ctx.config_path)
    inputs = flow.zone_inputs(ws)
    key = flow.screening_key(ctx.cache_key, ctx.config_path, inputs)
    pa = flow.cached_screening(key)
    if pa is None:
        _, progress = progress_bar(progress_box, t("prot.computing", lang), lang, step_label=flow.step_label)
        pa = flow.load_screening(ctx.config_path, key, inputs, progress=progress)
        progress_box.empty()
    hist = flow.area_history(ws)
except flow.DataError as exc:
    progress_box.empty()
    show_data_error(exc, lang)
    st.stop()

year = flow.pick_year(pa, ctx.year)
if year != ctx.year:
    st.info(t("prot.year_fallback", lang, asked=ctx.year, year=year), icon=":material/event:")
if ctx.illustrative:
    st.warning(t("prot.illustrative", lang), icon=":material/science:")

k = flow.kpis(pa, year)
c1, c2, c3, c4, c5 = st.columns(5)
c1.metric(t("prot.kpi.zones", lang), f"{k.n_zones}", help=flow.types_text(k, lang))
c2.metric(t("prot.kpi.area", lang), fmt.hectares(k.union_ha, lang), help=t("prot.kpi.area_help", lang, total=fmt.hectares(k.sum_ha, lang)))
c3.metric(t("prot.kpi.non_conforming", lang, year=year), fmt.hectares(k.non_conforming_ha, lang),
          help=t("prot.kpi.non_conforming_help", lang, n=k.non_conforming_n))
c4.metric(t("prot.kpi.review", lang, year=year), fmt.hectares(k.review_ha, lang), help=t("prot.kpi.review_help", lang, n=k.review_n))
c5.metric(t("prot.kpi.new", lang, prev=k.previous if k.previous is not None else fmt.DASH),
          fmt.hectares(k.newly_flagged_ha, lang) if k.newly_flagged_ha is not None else fmt.DASH,
          help=t("prot.kpi.new_help", lang) if k.previous is not None else t("prot.kpi.new_none", lang))
st.caption(f"{t('prot.kpi.types', lang)}: {flow.types_text(k, lang)}")
st.caption(t("prot.kpi.overlap_note", lang))

# project points (officers): read before the map so the points are on it; the widgets are in their tab
points = None
upload = st.session_state.get(K_UPLOAD) if officer else None
if upload is not None:
    coord = st.session_state.get(K_COORD, "wgs84")
    ident = (getattr(upload, "file_id", upload.name), coord, key)
    kept = st.session_state.get(K_POINTS)
    if kept is None or kept[0] != ident:
        # checked once per file, coordinate system and screening; any failure is kept as a
        # message (never a traceback on every rerun) and the rest of the page goes on
        with st.spinner(t("prot.pt.checking", lang, name=upload.name)):
            kept = (ident, flow.try_check_upload(pa, upload.getvalue(), upload.name, coord, max_rows=flow.MAX_POINT_ROWS))
        st.session_state[K_POINTS] = kept
        st.session_state.pop(K_POINTS_TABLE, None)
    points = kept[1] if isinstance(kept[1], flow.PointsResult) else None

names = [t("prot.tab.map", lang), t("prot.tab.zones", lang), t("prot.tab.ledger", lang), t("prot.tab.rules", lang)]
if officer:
    names.append(t("prot.tab.points", lang))
tabs = st.tabs(names)

with tabs[0]:
    present = flow.zone_types_present(pa)
    shown = st.pills(t("prot.map.types", lang), present, selection_mode="multi", default=present, key=K_TYPES,
                     format_func=lambda z: flow.type_name(z, lang)) or []
    listed, center, zoom, outline = None, None, None, None
    pyear = year
    if officer:
        f1, f2, f3 = st.columns([3, 2, 1])
        ftypes = f1.multiselect(t("prot.filter.types", lang), present, default=present, key="prot_f_types",
                                format_func=lambda z: flow.type_name(z, lang))
        fstatus = f2.multiselect(t("prot.filter.status", lang), list(flow.STATUSES), default=list(flow.STATUSES), key="prot_f_status",
                                 format_func=lambda s: flow.status_name(s, lang))
        pyear = f3.selectbox(t("prot.filter.year", lang), pa.years, index=pa.years.index(year), key=f"prot_f_year_{year}")
        listed = flow.filter_patches(pa, year=pyear, types=ftypes, statuses=fstatus)
        choices = flow.patch_choices(pa, listed, lang)
        pick = st.selectbox(t("prot.patch.pick", lang), list(choices), index=None, key=K_PATCH, format_func=lambda x: choices.get(x, x),
                            placeholder=t("prot.patch.placeholder", lang), help=t("prot.patch.help", lang))
        if pick is not None:
            hit = flow.patch_center(pa, pick, pyear)
            if hit is not None:
                center, zoom = [hit[0], hit[1]], flow.SELECTED_ZOOM
                outline = flow.selected_outline(pa, pick, pyear, lang)
                st.session_state[K_ZOOMED] = True
        elif st.session_state.pop(K_ZOOMED, False):
            west, south, east, north = pa.zones_lonlat().total_bounds
            center, zoom = [(south + north) / 2, (west + east) / 2], 10
    m = flow.build_map(key, pa, lang, types=shown, year=pyear, patches=listed, intakes=officer, points=points)
    what = (tuple(shown), None if listed is None else tuple(listed["patch_id"]), points is not None and id(points))
    map_key = f"prot_map_{year}_{pyear}_{lang}_{abs(hash((key, what))) % 10**8}" + (f"_{user.username}" if officer else "")
    st_folium(m, key=map_key, height=560, use_container_width=True, returned_objects=[], center=center, zoom=zoom,
              feature_group_to_add=outline)
    st.html(flow.legend_html(lang, shown, officer=officer, points=points is not None))
    if points is not None and points.table.n_points:
        st.caption(t("prot.map.points_drawn", lang, shown=f"{min(points.table.n_points, flow.MAX_MAP_POINTS):,}",
                     n=f"{points.table.n_points:,}"))
    if officer:
        st.subheader(t("prot.patch.title", lang, year=pyear))
        st.caption(t("prot.patch.caption", lang, n=len(listed), ha=fmt.hectares(float(listed["area_ha"].sum()), lang)))
        st.caption(t("prot.patch.sum_note", lang))
        districts = zone_names(ctx.assessment, lang)
        st.dataframe(flow.patch_table(pa, listed, lang, districts), hide_index=True, width="stretch",
                     column_config={t("prot.col.area", lang): st.column_config.NumberColumn(format="%.2f")})
        d1, d2, d3 = st.columns([2, 2, 2])
        d1.download_button(t("prot.patch.csv", lang), flow.patch_csv(pa, listed, lang, districts), file_name=f"flagged_patches_{pyear}.csv",
                           mime="text/csv", key="prot_patch_csv", icon=":material/download:")
        crs = d2.selectbox(t("prot.patch.crs", lang), list(flow.EXPORT_CRS), key="prot_patch_crs",
                           format_func=lambda c: t(f"wet.crs.{c}", lang), label_visibility="collapsed")
        d3.download_button(t("prot.patch.gpkg", lang, crs=crs), lambda p=listed, c=crs: flow.export_gpkg(pa, p, c),
                           file_name=f"flagged_patches_{pyear}_epsg{crs}.gpkg", mime="application/geopackage+sqlite3",
                           key="prot_patch_gpkg", icon=":material/download:", help=t("prot.patch.gpkg_help", lang))
    else:
        st.caption(t("prot.public_note", lang))

with tabs[1]:
    st.subheader(t("prot.zones.title", lang, year=year))
    st.caption(t("prot.zones.caption", lang))
    zt = flow.zone_table(pa, year, lang)
    st.dataframe(zt, hide_index=True, width="stretch")
    st.download_button(t("prot.zones.csv", lang), flow.csv_bytes(zt), file_name=f"protection_zones_{year}.csv", mime="text/csv",
                       key="prot_zones_csv", icon=":material/download:")

with tabs[2]:
    st.subheader(t("prot.led.title", lang))
    st.caption(t("prot.led.caption", lang, tol=flow.NATURAL_TOL_HA, ndvi=flow.NDVI_TOL))
    led = flow.ledger_frame(pa, hist)
    default = [z for z in ("redline", "wetland_redline", "eco_space") if z in present] or present
    ltypes = st.multiselect(t("prot.filter.types", lang), present, default=default, key="prot_led_types",
                            format_func=lambda z: flow.type_name(z, lang))
    st.dataframe(flow.ledger_table(led, lang, ltypes), hide_index=True, width="stretch")
    if k.previous is None:
        st.info(t("prot.led.baseline", lang, year=year))
    else:
        chart = flow.ledger_chart(led, year, lang, ltypes)
        st.markdown(f"**{t('prot.led.chart', lang, prev=k.previous, year=year)}**")
        if chart.empty:
            st.success(t("prot.led.no_change", lang), icon=":material/check_circle:")
        else:
            # horizontal: x_label names the category axis (now vertical), y_label the values
            st.bar_chart(chart, x=chart.columns[0], y=chart.columns[2], color=chart.columns[1], stack=False, horizontal=True,
                         x_label=t("prot.col.zone", lang), y_label=t("prot.col.area", lang))

with tabs[3]:
    st.subheader(t("prot.rules.title", lang))
    n_unverified = flow.unverified_rules(pa)
    if n_unverified:
        st.warning(t("prot.rules.unverified", lang, n=n_unverified, total=len(pa.screening.rules.rules)), icon=":material/gpp_maybe:")
    st.dataframe(flow.rules_table(pa, lang), hide_index=True, width="stretch")
    st.caption(t("prot.rules.source", lang, path=flow.file_name(pa.provenance.get("rules")), sha=str(pa.provenance.get("rules_sha256") or "")[:12]))
    st.subheader(t("prot.method.belt", lang))
    st.markdown(t("prot.method.belt_text", lang, m=f"{float(pa.provenance.get('belt_distance_m') or 0):,.0f}"))
    wst = flow.water_source_table(pa, lang)
    if wst is not None:
        st.subheader(t("prot.method.ws", lang))
        st.caption(t("prot.method.ws_caption", lang))
        st.dataframe(wst, hide_index=True, width="stretch")
        with st.expander(t("prot.method.ws_raw", lang)):
            st.code("\n".join(pa.water_source_rules.describe()), language=None, wrap_lines=True)
    notes = list(pa.builder_notes) + list(pa.screening.notes)
    if notes:
        st.subheader(t("prot.method.notes", lang))
        st.caption(t("prot.method.notes_caption", lang))
        st.markdown("\n".join(f"- {n}" for n in notes))
    st.subheader(t("prot.rec.title", lang, year=year))
    st.caption(t("prot.rec.caption", lang))
    st.dataframe(flow.reconciliation_table(pa, year, lang), hide_index=True, width="stretch")
    mp = pa.screening.min_patch_ha
    st.caption(t("prot.method.min_patch", lang, ha=f"{mp:g}") if mp > 0 else t("prot.method.min_patch_none", lang))

if officer:
    with tabs[4]:
        st.subheader(t("prot.pt.title", lang))
        st.caption(t("prot.pt.caption", lang))
        st.radio(t("prot.pt.coord", lang), ["wgs84", "gcj02", "bd09"], horizontal=True, key=K_COORD,
                 format_func=lambda c: t(f"wet.coord.{c}", lang))
        st.file_uploader(t("prot.pt.upload", lang), type=["csv"], key=K_UPLOAD,
                         help=t("prot.pt.upload_help", lang, rows=f"{flow.MAX_POINT_ROWS:,}"))
        kept = st.session_state.get(K_POINTS)
        if upload is None:
            st.info(t("prot.pt.none", lang), icon=":material/upload_file:")
        elif kept is not None and isinstance(kept[1], flow.UploadFailed):
            st.error(t("prot.pt.failed", lang, name=kept[1].name, error=kept[1].error), icon=":material/bug_report:")
        elif kept is not None and isinstance(kept[1], flow.DataError):
            if flow.too_many_rows(kept[1]):
                st.error(t("prot.pt.too_many", lang, name=upload.name, rows=f"{flow.MAX_POINT_ROWS:,}"), icon=":material/table_rows:")
            show_data_error(kept[1], lang)
        elif points is not None:
            n = flow.point_counts(points)
            st.markdown(t("prot.pt.summary", lang, rows=points.table.n_rows, ok=points.table.n_points, bad=points.table.n_rejected,
                          nc=n["non_conforming"], review=n["review"], fine=n["ok"], out=n["outside"]))
            if points.table.n_points:
                built = st.session_state.get(K_POINTS_TABLE)
                if built is None or built[0] != (kept[0], lang):
                    built = ((kept[0], lang), flow.points_table(pa, points, lang))
                    st.session_state[K_POINTS_TABLE] = built
                st.dataframe(built[1], hide_index=True, width="stretch")
                st.download_button(t("prot.pt.csv", lang), lambda r=points: flow.points_csv(pa, r, lang),
                                   file_name="project_points_checked.csv", mime="text/csv", key="prot_points_csv",
                                   icon=":material/download:")
            if points.table.n_rejected:
                st.markdown(f"**{t('prot.pt.rejected', lang, n=points.table.n_rejected)}**")
                st.dataframe(flow.rejected_table(points, lang), hide_index=True, width="stretch")
                st.caption(t("prot.pt.rejected_caption", lang))
                st.download_button(t("prot.pt.rejected_csv", lang), lambda r=points: flow.rejected_csv(r),
                                   file_name="project_points_rejected.csv", mime="text/csv", key="prot_points_rejected_csv",
                                   icon=":material/download:")
