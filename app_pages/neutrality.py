"""Net neutrality (public): where the area stands against its emissions, the evidence for the
peak, the paths to 2060 and the early warnings. Everyone reads every figure (each with its unit
and its 95 % interval) and chooses the inventory series, the zones, the removal method and the
scenario; logged-in officers may also upload an inventory and edit the scenarios, both kept in
this session only."""
import streamlit as st

from ui import auth, fmt, state
from ui import ledger_flow as flow
from ui.errors import show_data_error
from ui.i18n import t, zone_names
from ui.progress import progress_bar

ctx = state.require_context()
lang = ctx.lang
a = ctx.assessment
K_DS, K_ZONES, K_METHOD, K_SCEN, K_UP, K_EDIT = flow.K_DS, flow.K_ZONES, flow.K_METHOD, flow.K_SCEN, flow.K_UP, flow.K_EDIT
K_DS_NEXT = "neut_dataset_next"  # set by the upload, applied before the selector is drawn
K_UP_ERR = "neut_upload_error"  # (sha, DataError) of the last upload that failed
K_UP_GEN = "neut_upload_gen"
K_ED_GEN = "neut_editor_gen"
K_WZONE = "neut_warn_zone"
K_SHARE = "neut_share"

st.title(t("neut.title", lang))
st.caption(t("neut.caption", lang, area=ctx.area_name))
if ctx.illustrative:
    st.warning(t("illustrative.notice", lang), icon=":material/science:")
with st.sidebar:
    st.markdown(f"**{t('neut.settings', lang)}**")
    box = st.container()
user, officer = auth.officer_panel(lang)
# always there, filled only while computing (an element that comes and goes above the tabs would
# make them new elements and send the reader back to the first tab)
progress_box = st.empty()


def upload_panel(in_use: bool = False) -> None:
    """Officers: upload an inventory (CSV / Excel); accepted and rejected rows; kept in the session.
    ``in_use``: the page reckons with the upload (its notes are shown with the inventory's)."""
    gen = st.session_state.get(K_UP_GEN, 0)
    st.markdown(f"**{t('neut.up.title', lang)}**")
    st.caption(t("neut.up.caption", lang))
    up = st.file_uploader(t("neut.up.label", lang), type=["csv", "xlsx"], key=f"neut_inv_file_{gen}", help=t("neut.up.help", lang))
    if up is not None:
        data = up.getvalue()
        sig = flow.sha(data)
        kept = st.session_state.get(K_UP)
        if kept is None or kept.sha != sig:
            failed = st.session_state.get(K_UP_ERR)
            if failed is None or failed[0] != sig:
                try:
                    inv_up = flow.read_upload(data, up.name, a.zone_ids)
                    st.session_state[K_UP] = flow.Upload(sig, up.name, inv_up)
                    st.session_state[K_DS_NEXT] = f"up:{inv_up.primary}"
                    st.session_state.pop(K_UP_ERR, None)
                    st.rerun()
                except flow.DataError as exc:
                    st.session_state[K_UP_ERR] = failed = (sig, exc)
            show_data_error(failed[1], lang)
    kept = st.session_state.get(K_UP)
    if kept is None:
        return
    inv_up = kept.inventory
    st.success(t("neut.up.read", lang, name=kept.name, ok=len(inv_up.rows), rejected=len(inv_up.rejected),
                 datasets=flow.sep(lang).join(inv_up.datasets)), icon=":material/task:")
    st.info(t("neut.up.session", lang), icon=":material/lock_clock:")
    if len(inv_up.rejected):
        st.warning(t("neut.inv.rejected", lang, n=len(inv_up.rejected)), icon=":material/rule:")
        st.dataframe(flow.rejected_view(inv_up, lang), hide_index=True, width="stretch", key="neut_up_rejected")
    notes = [] if in_use else flow.notes_text(inv_up.notes, lang)
    if notes:
        st.markdown(flow.bullets(notes))
    if st.button(t("neut.up.remove", lang), key="neut_up_remove", icon=":material/delete:"):
        st.session_state.pop(K_UP, None)
        st.session_state.pop(K_UP_ERR, None)
        st.session_state[K_UP_GEN] = gen + 1
        st.session_state[K_DS_NEXT] = "cfg:"
        st.rerun()


# ------------------------------------------------------------------ controls
upload = st.session_state.get(K_UP) if officer else None
options = flow.dataset_options(a.inventory, upload)
if not options:
    st.error(t("neut.no_inventory", lang), icon=":material/report:")
    if officer:
        upload_panel()
    st.stop()
flow.restore_choice(st.session_state)
pending = st.session_state.pop(K_DS_NEXT, None)
if pending is not None:
    st.session_state[K_DS] = pending if pending in options else options[0]
if st.session_state.get(K_DS) not in options:
    st.session_state[K_DS] = options[0]
zone_ids = list(a.zone_ids)
names = zone_names(a, lang)
if K_ZONES not in st.session_state or not set(st.session_state[K_ZONES]) <= set(zone_ids):
    st.session_state[K_ZONES] = zone_ids
if st.session_state.get(K_METHOD) not in flow.METHODS:
    st.session_state[K_METHOD] = flow.headline_method(ctx.config_path)
with box:
    dataset = st.selectbox(t("neut.ctl.dataset", lang), options, key=K_DS, help=t("neut.ctl.dataset_help", lang),
                           format_func=lambda o: flow.dataset_label(o, a.inventory, upload, lang))
    picked = st.multiselect(t("neut.ctl.zones", lang), zone_ids, key=K_ZONES, format_func=lambda z: names.get(z, z),
                            help=t("neut.ctl.zones_help", lang))
    method = st.radio(t("neut.ctl.method", lang), list(flow.METHODS), key=K_METHOD, help=t("neut.ctl.method_help", lang),
                      format_func=lambda m: flow.method_name(m, lang))
    scen_box = st.container()
flow.remember_choice(st.session_state)
zones = tuple(z for z in zone_ids if z in set(picked))
if not zones:
    st.info(t("neut.ctl.no_zones", lang), icon=":material/layers:")
    st.stop()

cfg_key = flow.config_key(ctx.config_path)
kept_edit = st.session_state.get(K_EDIT) if officer else None  # an officer's edits end with the login
edited = kept_edit[1] if kept_edit is not None and kept_edit[0] == cfg_key else None
choice = flow.Choice(dataset, zones, method, edited, upload)
key = flow.ledger_key(ctx.cache_key, ctx.config_path, choice)
try:
    L = flow.cached_ledger(key)
    if L is None:
        _, progress = progress_bar(progress_box, t("neut.computing", lang), lang, step_label=flow.step_label)
        L = flow.load_ledger(ctx.config_path, a, key, choice, progress=progress)
        progress_box.empty()
    sids = [s.id for s in L.scenarios]
    if sids and st.session_state.get(K_SCEN) not in sids:
        st.session_state[K_SCEN] = sids[0]
    with scen_box:
        sid = st.selectbox(t("neut.ctl.scenario", lang), sids, key=K_SCEN, help=t("neut.ctl.scenario_help", lang),
                           format_func=lambda i: flow.scenario_name(flow.scenario_by_id(L, i), lang)) if sids else None
    cards = flow.kpi_cards(L, lang, sid)
except flow.DataError as exc:
    progress_box.empty()
    show_data_error(exc, lang)
    if officer:
        upload_panel()
    st.stop()

# ------------------------------------------------------------------ headline
for row in (cards[:3], cards[3:]):  # two rows of three: labels, values and intervals stay whole
    for col, c in zip(st.columns(len(row)), row):
        col.metric(c.label, c.value, delta=c.delta, delta_color="gray", delta_arrow="off", help=c.help, border=True)
st.markdown(flow.md(flow.summary(L, lang, sid)))
if choice.source == "up" and upload is not None:
    st.info(t("neut.using_upload", lang, name=upload.name), icon=":material/upload_file:")
if edited is not None:
    st.info(t("neut.using_edited", lang), icon=":material/edit_note:")
by_place = flow.split_notes(L)

names_tabs = [t("neut.tab.position", lang), t("neut.tab.inventory", lang), t("neut.tab.trajectories", lang), t("neut.tab.warning", lang),
              t("neut.tab.projects", lang)]
K_TAB = f"neut_tab_{lang}"
if st.session_state.get(K_TAB) not in names_tabs:
    st.session_state.pop(K_TAB, None)
tabs = st.tabs(names_tabs, key=K_TAB, on_change="rerun")

# ------------------------------------------------------------------ position
with tabs[0]:
    st.subheader(t("neut.pos.title", lang))
    st.caption(t("neut.pos.caption", lang, dataset=L.dataset, zones=flow.sep(lang).join(names.get(z, z) for z in L.zone_ids)))
    st.altair_chart(flow.emissions_chart(L, lang), key="neut_em_chart")
    st.caption(t("neut.pos.em_caption", lang))
    st.altair_chart(flow.removals_chart(L, lang), key="neut_rem_chart")
    st.caption(t("neut.pos.rem_caption", lang))
    st.markdown(f"**{t('neut.pos.table', lang)}**")
    st.dataframe(flow.position_table(L, lang), hide_index=True, width="stretch", key="neut_pos_table")
    st.download_button(t("neut.pos.csv", lang), lambda: flow.position_csv(L), file_name=f"net_position_{L.dataset}.csv", mime="text/csv",
                       key="neut_pos_csv", icon=":material/download:", on_click="ignore")
    st.markdown(f"**{t('neut.pos.scope', lang)}**")
    st.markdown(flow.bullets(flow.notes_text(L.removals.scope, lang)))
    if by_place["position"]:
        st.markdown(flow.bullets(flow.notes_text(by_place["position"], lang)))
    with st.expander(t("neut.pos.method", lang), icon=":material/functions:"):
        st.dataframe(flow.removals_table(L, lang), hide_index=True, width="stretch", key="neut_rem_table")
        st.markdown(flow.bullets(flow.notes_text(L.removals.notes, lang)))

# ------------------------------------------------------------------ inventory
with tabs[1]:
    st.subheader(t("neut.inv.title", lang))
    st.caption(t("neut.inv.caption", lang, primary=L.inventory.primary, dataset=L.dataset))
    c1, c2 = st.columns(2)
    with c1:
        st.altair_chart(flow.sources_chart(L, lang), key="neut_src_chart")
    with c2:
        rc = flow.ratio_chart(L, lang)
        if rc is not None:
            st.altair_chart(rc, key="neut_ratio_chart")
        else:
            st.info(t("neut.inv.one_series", lang), icon=":material/info:")
    for line in flow.disagreement(L, lang):
        st.warning(line, icon=":material/compare_arrows:")
    st.markdown(f"**{t('neut.inv.sectors', lang, dataset=L.dataset)}**")
    st.altair_chart(flow.sector_chart(L, lang), key="neut_sector_chart")
    st.caption(t("neut.inv.sectors_caption", lang))
    inv_notes = flow.notes_text(L.inventory.notes, lang)
    if inv_notes:
        st.markdown(f"**{t('neut.inv.notes', lang)}**")
        st.markdown(flow.bullets(inv_notes))
    if choice.source == "cfg":
        st.markdown(f"**{t('neut.inv.rejected_title', lang)}**")
        if len(L.inventory.rejected):
            st.warning(t("neut.inv.rejected", lang, n=len(L.inventory.rejected)), icon=":material/rule:")
            st.dataframe(flow.rejected_view(L.inventory, lang), hide_index=True, width="stretch", key="neut_rejected")
        else:
            st.caption(t("neut.inv.none_rejected", lang, n=len(L.inventory.rows)))
    if officer:
        with st.container(border=True):
            upload_panel(in_use=choice.source == "up")
    else:
        st.caption(t("neut.up.public", lang))

# ------------------------------------------------------------------ trajectories
with tabs[2]:
    pk = L.peak
    st.subheader(t("neut.tr.peak_title", lang))
    st.markdown(t("neut.tr.peak_status", lang, status=flow.peak_status_name(pk.status, lang), zones=flow.zone_label(L, flow.TOTAL, lang)))
    st.altair_chart(flow.peak_chart(L, lang), key="neut_peak_chart")
    st.markdown(flow.bullets(flow.notes_text(pk.evidence, lang, peak=pk)))
    with st.expander(t("neut.tr.peak_zones", lang)):
        st.dataframe(flow.peak_table(L, lang), hide_index=True, width="stretch", key="neut_peak_table")
    st.subheader(t("neut.tr.sc_title", lang))
    chart = flow.scenario_chart(L, lang, sid)
    if chart is None:
        st.info(t("neut.tr.no_scenarios", lang), icon=":material/info:")
    else:
        st.altair_chart(chart, key="neut_sc_chart")
        st.caption(t("neut.tr.sc_caption", lang))
        st.markdown(f"**{t('neut.tr.neutral_title', lang)}**")
        st.dataframe(flow.neutrality_table(L, lang), hide_index=True, width="stretch", key="neut_neutral_table")
        st.markdown(f"**{t('neut.tr.assumptions', lang)}**")
        st.dataframe(flow.scenarios_table(L, lang), hide_index=True, width="stretch", key="neut_sc_table")
        st.caption(t("neut.tr.assumptions_caption", lang))
        if officer and sid is not None:
            s = flow.scenario_by_id(L, sid)
            gen = st.session_state.get(K_ED_GEN, 0)
            with st.expander(t("neut.ed.title", lang, name=flow.scenario_name(s, lang)), expanded=edited is not None, icon=":material/edit:"):
                st.caption(t("neut.ed.caption", lang))
                with st.form(f"neut_ed_form_{gen}_{s.id}", border=False):
                    cols = st.columns(len(flow.SECTORS))
                    sectors = {sec: cols[i].text_input(fmt.with_unit(flow.sector_name(sec, lang), t("neut.unit.pct_yr", lang), lang),
                                                       value=flow.steps_default(s, sec), key=f"neut_ed_{sec}_{gen}_{s.id}")
                               for i, sec in enumerate(flow.SECTORS)}
                    g1, g2, g3, g4, g5 = st.columns(5)
                    gdp = g1.text_input(fmt.with_unit(t("neut.sc.gdp", lang), t("neut.unit.pct_yr", lang), lang),
                                        value=flow.steps_default(s, "gdp"), key=f"neut_ed_gdp_{gen}_{s.id}")
                    aff = g2.number_input(fmt.with_unit(t("neut.sc.aff", lang), t("neut.unit.ha_yr", lang), lang), min_value=0.0,
                                          max_value=1e6, value=float(s.afforestation_ha_yr), step=50.0, key=f"neut_ed_aff_{gen}_{s.id}")
                    aff_u = g3.number_input(t("neut.sc.aff_until", lang), min_value=2000, max_value=2100, value=s.afforestation_until,
                                            step=1, key=f"neut_ed_aff_until_{gen}_{s.id}")
                    wet = g4.number_input(fmt.with_unit(t("neut.sc.wet", lang), t("neut.unit.ha_yr", lang), lang), min_value=0.0,
                                          max_value=1e6, value=float(s.wetland_restoration_ha_yr), step=10.0, key=f"neut_ed_wet_{gen}_{s.id}")
                    wet_u = g5.number_input(t("neut.sc.wet_until", lang), min_value=2000, max_value=2100, value=s.wetland_restoration_until,
                                            step=1, key=f"neut_ed_wet_until_{gen}_{s.id}")
                    apply = st.form_submit_button(t("neut.ed.apply", lang), icon=":material/calculate:", type="primary", key="neut_ed_apply")
                if apply:
                    try:
                        new = flow.edited_scenario(s, lang, sectors=sectors, gdp=gdp, aff_ha=aff, aff_until=aff_u, wet_ha=wet, wet_until=wet_u)
                        st.session_state[K_EDIT] = (cfg_key, tuple(new if x.id == s.id else x for x in L.scenarios))
                        st.session_state[K_ED_GEN] = gen + 1
                        st.rerun()
                    except flow.EditError as exc:
                        st.error(str(exc), icon=":material/error:")
                if edited is not None and st.button(t("neut.ed.reset", lang), key="neut_ed_reset", icon=":material/restart_alt:"):
                    st.session_state.pop(K_EDIT, None)
                    st.session_state[K_ED_GEN] = gen + 1
                    st.rerun()
        elif not officer:
            st.caption(t("neut.ed.login", lang))
        dc = flow.dual_control_view(L, lang, sid)
        st.markdown(f"**{t('neut.tr.dc_title', lang)}**")
        if dc is None:
            st.info(t("neut.tr.dc_none", lang), icon=":material/info:")
        else:
            st.dataframe(flow.style_dual_control(dc, lang), hide_index=True, width="stretch", key="neut_dc_table")
            st.caption(t("neut.tr.dc_caption", lang))
    if by_place["trajectories"]:
        with st.expander(t("neut.tr.notes", lang), icon=":material/info:"):
            st.markdown(flow.bullets(flow.notes_text(by_place["trajectories"], lang)))


# ------------------------------------------------------------------ early warning
@st.fragment
def warning_tab(L, lang: str) -> None:
    zs = flow.warning_zones(L)
    st.subheader(t("neut.w.title", lang))
    st.caption(t("neut.w.caption", lang))
    if not zs:
        st.info(t("neut.w.none", lang), icon=":material/info:")
        return
    if st.session_state.get(K_WZONE) not in zs:
        st.session_state[K_WZONE] = zs[0]
    z = st.selectbox(t("neut.w.zone", lang), zs, key=K_WZONE, format_func=lambda v: flow.zone_label(L, v, lang))
    chart = flow.warning_matrix(L, z, lang)
    if chart is not None:
        st.altair_chart(chart, key="neut_warn_chart")
    st.caption(t("neut.w.legend", lang))
    st.markdown(f"**{t('neut.w.latest', lang)}**")
    st.dataframe(flow.latest_table(L, lang), hide_index=True, width="stretch", key="neut_warn_latest")
    st.markdown(f"**{t('neut.w.rules', lang)}**")
    st.dataframe(flow.rules_table(L, lang), hide_index=True, width="stretch", key="neut_warn_rules")
    st.caption(t("neut.w.policy", lang))


with tabs[3]:
    warning_tab(L, lang)


# ------------------------------------------------------------------ carbon-sink projects
@st.fragment
def projects_tab(L, lang: str, notes: list) -> None:
    st.subheader(t("neut.pj.title", lang))
    st.caption(t("neut.pj.caption", lang))
    pv = flow.projects_at(L, 1.0) if L.projects is not None else None
    if pv is None:
        st.info(t("neut.pj.none", lang), icon=":material/info:")
    else:
        share = st.slider(t("neut.pj.share", lang), 0, 100, 100, step=5, key=K_SHARE, format="%d%%", help=t("neut.pj.share_help", lang)) / 100.0
        pv = flow.projects_at(L, share)
        tot = flow.projects_totals(pv)
        st.markdown(flow.md(t("neut.pj.summary", lang, share=round(share * 100), ha=fmt.hectares(tot["ha"], lang), years=pv.years,
                              balance=fmt.tonnes(tot["balance"], "co2e", lang), per_yr=fmt.tonnes(tot["per_yr"], "co2e_yr", lang))))
        st.dataframe(flow.projects_table(pv, lang), hide_index=True, width="stretch", key="neut_pj_table")
        if bool(pv.table["upper_bound"].any()):
            st.warning(t("neut.pj.upper", lang), icon=":material/vertical_align_top:")
        st.caption(t("neut.pj.no_interval", lang))
        st.markdown(flow.bullets(flow.notes_text(pv.notes, lang)))
    if notes:
        st.markdown(flow.bullets(flow.notes_text(notes, lang)))


with tabs[4]:
    projects_tab(L, lang, by_place["projects"])
