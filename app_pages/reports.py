"""Reports (public): the net-neutrality report to download, in 中文 and English, as HTML and PDF,
with every table as CSV. It reports exactly what the Net neutrality page shows (the inventory
series, zones, removal method, and an officer's upload or edited scenarios of this session) and
is built by the same writer as ``python -m sinks report``."""
import streamlit as st
import streamlit.components.v1 as components

from sinks.ledger.pdf import find_chromium
from ui import auth, state
from ui import ledger_flow as flow
from ui.errors import show_data_error
from ui.i18n import t, zone_names
from ui.progress import progress_bar

ctx = state.require_context()
lang = ctx.lang
a = ctx.assessment
K_LANGS = "rep_langs"
K_PDF = "rep_pdf"
K_BUILT = "rep_built"  # the ledger key, languages and PDF flag of the report last built

st.title(t("rep.title", lang))
st.caption(t("rep.caption", lang, area=ctx.area_name))
if ctx.illustrative:
    st.warning(t("illustrative.notice", lang), icon=":material/science:")
user, officer = auth.officer_panel(lang)

choice = flow.session_choice(st.session_state, a, ctx.config_path, officer=officer)
if choice is None:
    st.error(t("neut.no_inventory", lang), icon=":material/report:")
    st.stop()
names = zone_names(a, lang)
st.markdown(f"**{t('rep.what', lang)}**")
st.markdown(flow.bullets([
    t("rep.what.dataset", lang, dataset=flow.dataset_label(choice.dataset, a.inventory, choice.upload, lang)),
    t("rep.what.zones", lang, zones=flow.sep(lang).join(names.get(z, z) for z in choice.zones)),
    t("rep.what.method", lang, method=flow.method_name(choice.method, lang)),
    t("rep.what.scenarios_edited", lang) if choice.scenarios is not None else t("rep.what.scenarios", lang),
]))
st.caption(t("rep.what.change", lang))
st.page_link("app_pages/neutrality.py", label=t("rep.to_neutrality", lang), icon=":material/balance:")

chromium = find_chromium()
c1, c2 = st.columns(2)
langs = c1.segmented_control(t("rep.langs", lang), ["zh", "en"], selection_mode="multi", default=["zh", "en"], key=K_LANGS,
                             format_func=lambda c: {"zh": "中文", "en": "English"}[c])
pdf = c2.toggle(t("rep.pdf", lang), value=chromium is not None, key=K_PDF, disabled=chromium is None,
                help=t("rep.pdf_help", lang) if chromium is not None else t("rep.no_chromium", lang))
if chromium is None:
    st.info(t("rep.no_chromium", lang), icon=":material/print_disabled:")
langs = tuple(c for c in ("zh", "en") if c in (langs or []))
if not langs:
    st.info(t("rep.no_langs", lang), icon=":material/translate:")
    st.stop()

key = flow.ledger_key(ctx.cache_key, ctx.config_path, choice)
built = st.session_state.get(K_BUILT)
want = (key, langs, bool(pdf))
if st.button(t("rep.build", lang), type="primary", icon=":material/description:", key="rep_build") or built == want:
    try:
        L = flow.cached_ledger(key)
        bar = None
        if L is None:
            bar, progress = progress_bar(st, t("neut.computing", lang), lang, step_label=flow.step_label)
            L = flow.load_ledger(ctx.config_path, a, key, choice, progress=progress)
        with st.spinner(t("rep.writing", lang)):
            files, warnings = flow.report_files(L, key, langs, bool(pdf))
        if bar is not None:
            bar.empty()
    except flow.DataError as exc:
        show_data_error(exc, lang)
        st.stop()
    st.session_state[K_BUILT] = want
    for w in warnings:
        st.warning(t("rep.warn_pdf", lang, detail=w), icon=":material/print_disabled:")
    h = L.headline()
    st.success(t("rep.done", lang, year=h.year, n=len(files)), icon=":material/task_alt:")
    folder = f"ledger_report_{L.dataset}_{h.year}"
    cols = st.columns(len(langs) * 2 + 1)
    i = 0
    for code in langs:
        label = {"zh": "中文", "en": "English"}[code]
        html_name, pdf_name = f"report_{code}.html", f"report_{code}.pdf"
        cols[i].download_button(t("rep.dl_html", lang, lang_name=label), files[html_name], file_name=f"{folder}_{code}.html",
                                mime="text/html", key=f"rep_dl_html_{code}", icon=":material/html:", on_click="ignore")
        i += 1
        if pdf_name in files:
            cols[i].download_button(t("rep.dl_pdf", lang, lang_name=label), files[pdf_name], file_name=f"{folder}_{code}.pdf",
                                    mime="application/pdf", key=f"rep_dl_pdf_{code}", icon=":material/picture_as_pdf:", on_click="ignore")
        i += 1
    cols[-1].download_button(t("rep.dl_zip", lang), lambda: flow.zip_bytes(files, folder), file_name=f"{folder}.zip",
                             mime="application/zip", key="rep_dl_zip", icon=":material/folder_zip:", on_click="ignore")
    st.caption(t("rep.files", lang, names=flow.sep(lang).join(sorted(files))))
    preview = langs[0] if lang not in langs else lang
    st.markdown(f"**{t('rep.preview', lang)}**")
    components.html(files[f"report_{preview}.html"].decode("utf-8"), height=900, scrolling=True)
else:
    st.info(t("rep.press", lang), icon=":material/touch_app:")
