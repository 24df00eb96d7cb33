"""Sink explorer (public): pick a district, street, wetland site or red line, draw or upload any
area, and read its card: land cover, carbon by pool, annual removals with their interval, change,
greening, protection zones inside, rank among peers, plain equivalents. Maps by year, a swipe
between two dates, a timelapse; the address bar carries the view, so a link opens it again."""
import streamlit as st
from streamlit_folium import st_folium

from ui import explorer_flow as flow
from ui import auth, fmt, leaflet, share, state
from ui.errors import show_data_error
from ui.i18n import t

ctx = state.require_context()
lang = ctx.lang
years = ctx.assessment.years
K_AREA = "exp_area"  # (kind, area_id, geometry, name_zh, name_en, notes) of the chosen area
K_LINK = "exp_link_read"  # the link's view was applied (once per session)
K_LINK_NOTES = "exp_link_notes"
K_YEAR = "exp_year"
K_CMP = "exp_cmp"
K_LAYER = "exp_layer"
K_PALETTE = "exp_palette"
K_SHOWN = "exp_shown"
K_PICK = "exp_pick"
K_FIND = "exp_find"
K_SEEN = "exp_seen"  # the last click / drawing already acted on
K_UPLOAD = "exp_upload"
K_COORD = "exp_coord"

st.title(t("exp.title", lang))
st.caption(t("exp.caption", lang, area=ctx.area_name))
if ctx.illustrative:
    st.warning(t("illustrative.notice", lang), icon=":material/science:")
with st.expander(t("exp.about.title", lang), icon=":material/help:"):
    st.markdown(t("exp.about.body", lang))
leaflet.stop_without_vendor_files(lang)
user, officer = auth.officer_panel(lang)  # uploads are officers' (issue 10: the public reads, draws, never uploads)

try:
    sets = flow.areas(ctx.config_path)
except flow.DataError as exc:
    show_data_error(exc, lang)
    st.stop()

if not st.session_state.get(K_LINK):  # a shared link: its view, once
    st.session_state[K_LINK] = True
    view, notes = share.decode_view(st.query_params.to_dict(), years=years,
                                    ids={k: set(map(str, g["id"])) for k, g in sets.items()})
    st.session_state[K_LINK_NOTES] = notes
    if view.kind == "drawn":
        st.session_state[K_AREA] = ("drawn", "", view.shape, t("exp.drawn_name", "zh"), t("exp.drawn_name", "en"), ())
    elif view.kind:
        row = sets[view.kind].set_index("id").loc[view.area_id]
        st.session_state[K_AREA] = (view.kind, view.area_id, row.geometry, str(row["name_zh"]), str(row["name_en"]), ())
        st.session_state[K_PICK] = view.kind
    if view.year is not None:
        st.session_state[K_YEAR] = view.year
    if view.compare_year is not None:
        st.session_state[K_CMP] = view.compare_year
    if view.layer:
        st.session_state[K_LAYER] = view.layer
for note in st.session_state.get(K_LINK_NOTES, ()):
    st.warning(t("exp.link_note", lang, text=flow.note_text(note, lang)), icon=":material/link_off:")

if st.session_state.get(K_YEAR) not in years:
    st.session_state[K_YEAR] = ctx.year if ctx.year in years else years[-1]
kinds = [k for k in flow.KINDS if k in sets]
if K_SHOWN not in st.session_state:
    st.session_state[K_SHOWN] = kinds[:2]
if st.session_state.get(K_PICK) not in kinds:
    st.session_state[K_PICK] = kinds[0]


def choose(kind: str, area_id: str, geom, name_zh: str, name_en: str, notes=()) -> None:
    st.session_state[K_AREA] = (kind, area_id, geom, name_zh, name_en, tuple(notes))


area = st.session_state.get(K_AREA)

# ---- choose an area ---------------------------------------------------------------------------
st.subheader(t("exp.choose.title", lang))
tab_map, tab_find, tab_upload = st.tabs([t("exp.tab.map", lang), t("exp.tab.find", lang), t("exp.tab.upload", lang)])
with tab_find:
    options = flow.area_options(sets, lang)
    found = st.selectbox(t("exp.find", lang), list(options), format_func=options.get, index=None,
                         placeholder=t("exp.find.hint", lang), key=K_FIND)
    if found and st.session_state.get(K_SEEN + "_find") != found:
        st.session_state[K_SEEN + "_find"] = found
        kind, _, area_id = found.partition(":")
        row = sets[kind].set_index("id").loc[area_id]
        choose(kind, area_id, row.geometry, str(row["name_zh"]), str(row["name_en"]))
        area = st.session_state[K_AREA]
with tab_upload:
    if not officer:
        st.info(t("exp.upload.public", lang), icon=":material/lock:")
    else:
        c1, c2 = st.columns([2, 1])
        upload = c1.file_uploader(t("exp.upload", lang), type=["geojson", "json", "zip", "gpkg"], key=K_UPLOAD,
                                  help=t("exp.upload.help", lang))
        coord = c2.radio(t("exp.coord", lang), ["wgs84", "gcj02", "bd09"], key=K_COORD,
                         format_func=lambda c: t(f"exp.coord.{c}", lang))
        if upload is not None and st.session_state.get(K_SEEN + "_upload") != (upload.file_id, coord):
            st.session_state[K_SEEN + "_upload"] = (upload.file_id, coord)
            try:
                geom, notes = flow.read_area_upload(upload.getvalue(), upload.name, coord)
                stem = upload.name.rsplit(".", 1)[0]
                choose("upload", stem, geom, stem, stem, notes)
                area = st.session_state[K_AREA]
            except flow.DataError as exc:
                show_data_error(exc, lang)
with tab_map:
    c1, c2 = st.columns([3, 2])
    shown = c1.multiselect(t("exp.shown", lang), kinds, key=K_SHOWN, format_func=lambda k: flow.kind_name(k, lang))
    pick = c2.radio(t("exp.pick", lang), kinds, key=K_PICK, horizontal=True, format_func=lambda k: flow.kind_name(k, lang))
    study = sets[kinds[0]].total_bounds
    view_bounds = flow.padded_bounds(area[2]) if area else tuple(study)
    m, sent = flow.pick_map(sets, shown=sorted(set(shown) | {pick}), selected=area[2] if area else None,
                            view_bounds=view_bounds, lang=lang)
    map_col, legend_col = st.columns([5, 1])
    with map_col:
        out = st_folium(m, key="exp_map", height=520, use_container_width=True,
                        returned_objects=["last_object_clicked", "all_drawings"])  # not last_clicked: a click while
        # drawing would rerun the page and lose the half-drawn polygon
    with legend_col:
        st.markdown(flow.legend_html(sorted(set(shown) | {pick}, key=flow.KINDS.index), lang), unsafe_allow_html=True)
        st.caption(t("exp.map.hint", lang))
    out = out or {}
    drawn = flow.drawn_geometry(out.get("all_drawings"))
    seen = st.session_state.setdefault(K_SEEN, {})
    if drawn is not None and seen.get("drawn") != drawn.wkt:
        seen["drawn"] = drawn.wkt
        seen["click"] = out.get("last_object_clicked")
        # computed on the shape its link carries, so a recipient sees the same figures
        choose("drawn", "", share.link_shape(drawn), t("exp.drawn_name", "zh"), t("exp.drawn_name", "en"))
        st.rerun()
    click = out.get("last_object_clicked")
    if click and seen.get("click") != click:
        seen["click"] = click
        hit = flow.feature_at(sets, pick, float(click["lng"]), float(click["lat"]))
        if hit is None:
            st.info(t("exp.click.none", lang, kind=flow.kind_name(pick, lang)), icon=":material/touch_app:")
        else:
            row = sets[pick].set_index("id").loc[hit]
            choose(pick, hit, row.geometry, str(row["name_zh"]), str(row["name_en"]))
            st.rerun()
    n_sent = sum(v.n_sent for v in sent.values())
    st.caption(t("exp.map.sent", lang, n=n_sent, total=sum(v.n_total for v in sent.values()),
                 v=sum(v.vertices_sent for v in sent.values()), vt=sum(v.vertices_total for v in sent.values()),
                 tol=f"{max((v.tolerance_m for v in sent.values()), default=0):.0f}"))

if not area:
    st.info(t("exp.choose.hint", lang), icon=":material/ads_click:")
    st.stop()
if st.button(t("exp.clear", lang), key="exp_clear", icon=":material/close:"):
    del st.session_state[K_AREA]
    st.rerun()

# ---- the card ---------------------------------------------------------------------------------
kind, area_id, geom, name_zh, name_en, area_notes = area
progress_box = st.empty()
try:
    card = flow.prepared_card(ctx.config_path, ctx.cache_key, kind=kind, area_id=area_id, geom=geom, name_zh=name_zh,
                              name_en=name_en, progress_box=progress_box, lang=lang)
    progress_box.empty()
except flow.DataError as exc:
    progress_box.empty()
    show_data_error(exc, lang)
    st.stop()
peer_kind = flow.peer_kind(kind, sets)

name = name_zh if lang == "zh" else name_en
st.subheader(flow.title_text(kind, name or area_id, lang))
year = st.select_slider(t("exp.year", lang), options=years, key=K_YEAR, format_func=lambda y: fmt.year(y, lang))
for note in tuple(area_notes) + tuple(card.notes):
    st.info(flow.note_text(note, lang), icon=":material/info:")

(c1, c2), (c3, c4) = st.columns(2), st.columns(2)  # two by two: a Chinese removals figure with its unit needs the width
c1.metric(t("exp.card.area", lang), fmt.hectares(card.area_ha, lang))
s = card.stock_totals[card.stock_totals["year"] == year].iloc[0]
c2.metric(fmt.with_unit(t("exp.card.stock", lang), fmt.year(year, lang), lang), fmt.tonnes(s["stock_tc"], "c", lang),
          help=t("exp.card.stock_help", lang))
c2.caption(flow.interval(s["stock_tc"], s["low_tc"], s["high_tc"], "c", lang) + " · " + flow.density_text(s["stock_tc_per_ha"], lang))
r = flow.removal_row(card, year)
if r is not None:
    c3.metric(fmt.with_unit(t("exp.card.removals", lang), fmt.period(r["period"], lang), lang), fmt.tonnes(r["removals_tco2e_yr"], "co2e_yr", lang),
              help=t("exp.card.removals_help", lang))
    c3.caption(flow.interval(r["removals_tco2e_yr"], r["low_tco2e_yr"], r["high_tco2e_yr"], "co2e_yr", lang)
               + " · " + fmt.per_hectare(r["removals_tco2e_ha_yr"], lang))
g = card.greening[card.greening["year"] == year]
if len(g):
    c4.metric(t("exp.card.forest", lang), f"{g.iloc[0]['forest_coverage_pct']:.1f}%")
    c4.caption(flow.label_value(t("exp.card.green", lang), f"{g.iloc[0]['green_coverage_pct']:.1f}%", lang))
intro, items = flow.equivalent_sentences(card, year, lang)
if items:
    st.markdown(intro + "\n" + "\n".join(f"- {x}" for x in items[:3]))
    with st.expander(t("exp.eq.more", lang) if len(items) > 3 else t("exp.eq.sources", lang)):
        if len(items) > 3:
            st.markdown("\n".join(f"- {x}" for x in items[3:]))
        st.markdown(f"**{t('exp.eq.sources', lang)}**\n\n" + flow.equivalent_sources(card, lang))

tabs = st.tabs([t(f"exp.tab.{x}", lang) for x in ("landcover", "pools", "change", "greening", "protection", "rank")])
with tabs[0]:
    st.dataframe(flow.landcover_table(card, lang), hide_index=True, width="stretch")
with tabs[1]:
    st.dataframe(flow.stock_table(card, year, lang), hide_index=True, width="stretch")
    st.caption(t("exp.pools.note", lang))
with tabs[2]:
    st.dataframe(flow.change_table(card, lang), hide_index=True, width="stretch")
with tabs[3]:
    st.dataframe(flow.greening_table(card, lang), hide_index=True, width="stretch")
with tabs[4]:
    if len(card.protection):
        st.dataframe(flow.protection_table(card, lang), hide_index=True, width="stretch")
    else:
        st.caption(t("exp.protection.none", lang))
with tabs[5]:
    st.dataframe(flow.rank_table(card, year, lang), hide_index=True, width="stretch")
    st.caption(t("exp.rank.note", lang, peers=flow.kind_name(peer_kind, lang)))

# ---- maps: a year, a swipe between two dates, a timelapse --------------------------------------
st.subheader(t("exp.maps.title", lang))
c1, c2 = st.columns([3, 2])
layers = [x for x in share.LAYERS if x != "change" or len(years) > 1]  # a change needs two dates
if st.session_state.get(K_LAYER) not in layers:
    st.session_state[K_LAYER] = layers[0]
layer = c1.radio(t("exp.layer", lang), layers, key=K_LAYER, horizontal=True, format_func=lambda x: t(f"exp.layer.{x}", lang))
palette = c2.radio(t("exp.palette", lang), ("worldcover", "colourblind"), key=K_PALETTE, horizontal=True,
                   format_func=lambda x: t(f"exp.palette.{x}", lang), disabled=layer != "landcover")
png = flow.area_map_png(ctx.config_path, card, layer=layer, year=year, palette=palette, lang=lang)
st.image(png, caption=t(f"exp.layer.{layer}.caption", lang, year=year, period=flow.period_text(card, year, lang)), width="stretch")
if len(years) > 1:
    others = [y for y in years if y != year]
    if st.session_state.get(K_CMP) not in others:
        st.session_state[K_CMP] = others[0]
    cmp_year = st.selectbox(t("exp.compare", lang), others, key=K_CMP, format_func=lambda y: fmt.year(y, lang))
    left, right = sorted((year, cmp_year))
    st.iframe(flow.swipe(ctx.config_path, card, years=(left, right), palette=palette, lang=lang), height=flow.SWIPE_HEIGHT_PX + 40)
    gif = flow.timelapse(ctx.config_path, card, layer=layer, palette=palette, lang=lang)
    with st.expander(t("exp.timelapse", lang), icon=":material/movie:"):
        st.image(gif, caption=t("exp.timelapse.caption", lang, layer=t(f"exp.layer.{'stock' if layer == 'change' else layer}", lang),
                                years=", ".join(map(str, years))))
        st.download_button(t("exp.download.gif", lang), gif, file_name=f"timelapse_{card.geometry_hash[:10]}.gif", mime="image/gif")
else:
    cmp_year = None

# ---- share and download -------------------------------------------------------------------------
params = share.encode_view(share.View(kind=kind if kind in flow.KINDS else "drawn", area_id=area_id, shape=geom, year=year,
                                      layer=layer, compare_year=cmp_year))
flow.set_link(params)
st.subheader(t("exp.share.title", lang))
if kind not in flow.KINDS:
    parts, holes = share.shape_parts(geom)
    if "shape" not in params:
        st.caption(t("exp.share.too_detailed", lang))
    elif parts > 1 or holes:
        st.caption(t("exp.share.partial", lang, parts=parts, holes=holes))
    elif share.shape_param(geom)[1]:
        st.caption(t("exp.share.simplified", lang))
st.code(flow.link_text(params, lang), language=None)
c1, c2 = st.columns(2)
c1.download_button(t("exp.download.csv", lang), flow.card_csv(card), file_name=f"area_card_{card.geometry_hash[:10]}.csv",
                   mime="text/csv", icon=":material/table_view:")
c2.download_button(t("exp.download.png", lang), flow.card_png(ctx.config_path, card, year=year, layer=layer, palette=palette, lang=lang),
                   file_name=f"area_card_{card.geometry_hash[:10]}_{year}.png", mime="image/png", icon=":material/image:")
st.caption(t("exp.provenance", lang, sha=card.geometry_hash[:12]))
