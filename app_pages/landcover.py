"""Land cover & NDVI (planners): imagery views with a swipe, classification, accuracy, save."""
import streamlit as st

from ui import auth, fmt, imagery, state, tables
from ui import landcover_flow as flow
from ui.errors import show_data_error
from ui.i18n import lc_name, t

ctx = state.require_context()
lang, year = ctx.lang, ctx.year
KEY_RESULT = "lc_result"
KEY_FLASH = "lc_flash"

st.title(t("landcover.title"))
st.caption(t("landcover.caption", area=ctx.area_name, year=year))
user, officer = auth.officer_panel(lang)  # classifying, uploads and saving are officers' work

# ------------------------------------------------------------------ 1. imagery
st.subheader(t("landcover.imagery.title"))
choices = {c.path: c for c in flow.imagery_choices(year)}
if not choices:
    st.info(t("landcover.imagery.none", folder=str(flow.imagery_dir())))
    st.stop()
if st.session_state.get("lc_imagery") not in choices:
    st.session_state.pop("lc_imagery", None)
pick_col, sensor_col = st.columns([3, 2])
path = pick_col.selectbox(t("landcover.imagery.pick"), list(choices), format_func=lambda p: flow.choice_label(choices[p], lang),
                          key="lc_imagery", help=t("landcover.imagery.pick_help", folder=str(flow.imagery_dir())))
sensor = sensor_col.radio(t("landcover.sensor"), flow.SENSORS, format_func=lambda s: t(f"landcover.sensor.{s}", lang), horizontal=True,
                          key="lc_sensor", help=t("landcover.sensor_help"))
choice = choices[path]
try:
    bandset = flow.open_imagery(path, sensor)
    views = flow.imagery_views(path, sensor)
except flow.DataError as exc:
    show_data_error(exc, lang)
    st.stop()
st.caption(t("landcover.imagery.bands", bands=bandset.describe()))
if choice.demo:
    st.warning(t("landcover.synthetic_notice"), icon=":material/science:")

run_key = (path, sensor)
result = st.session_state.get(KEY_RESULT)
if result is not None and (result["key"] != run_key or not result["result"].path.exists()):
    result = None

# ------------------------------------------------------------------ 2. views and swipe
st.subheader(t("landcover.views.title"))
pictures = {"false_colour": views["false_colour"], "ndvi": views["ndvi"]}
classes_in = {}
if result is not None:
    pictures["classes"], classes_in["classes"] = flow.class_view(result["result"].path)
if choice.truth is not None:
    pictures["truth"], classes_in["truth"] = flow.class_view(choice.truth)
pictures = {k: v for k, v in pictures.items() if v is not None}
names = list(pictures)
a_col, b_col, s_col = st.columns([1, 1, 2])
if st.session_state.pop("lc_show_new_map", False) and "classes" in names:
    st.session_state["lc_view_b"] = "classes"  # a new map: show it beside the imagery
for key, default in (("lc_view_a", names[0]), ("lc_view_b", "classes" if "classes" in names else names[-1])):
    if st.session_state.get(key) not in names:
        st.session_state[key] = default
view_a = a_col.selectbox(t("landcover.views.left"), names, format_func=lambda v: t(f"landcover.view.{v}", lang), key="lc_view_a")
view_b = b_col.selectbox(t("landcover.views.right"), names, format_func=lambda v: t(f"landcover.view.{v}", lang), key="lc_view_b")
position = s_col.slider(t("landcover.views.swipe"), 0, 100, 50, step=1, format="%d%%", key="lc_swipe", help=t("landcover.views.swipe_help"))
swipe_col, legend_col = st.columns([3, 2], vertical_alignment="top")
swipe_col.image(imagery.swipe(pictures[view_a], pictures[view_b], position), width="stretch", output_format="PNG",
                caption=t("landcover.views.swipe_caption", left=t(f"landcover.view.{view_a}"), right=t(f"landcover.view.{view_b}"), pct=position))
with legend_col:
    for v in dict.fromkeys((view_a, view_b)):
        st.html(flow.legend_html(v, lang, classes_in.get(v)))
left, right = st.columns(2)
for col, v in ((left, view_a), (right, view_b)):
    col.image(pictures[v], width="stretch", output_format="PNG", caption=t(f"landcover.view.{v}"))
stats = views["ndvi_stats"]
h, w = views["full_shape"]
st.caption(t("landcover.views.caption", w=w, h=h, px=pictures[names[0]].shape[1], lo=f"{stats['min']:.2f}",
             mean=f"{stats['mean']:.2f}", hi=f"{stats['max']:.2f}"))

if not officer:
    st.info(t("landcover.public", lang), icon=":material/lock:")
    st.stop()

# ------------------------------------------------------------------ 3. classify
st.subheader(t("landcover.classify.title"))
method = st.radio(t("landcover.method"), ("rules", "rf"), format_func=lambda m: t(f"landcover.method.{m}", lang), horizontal=True, key="lc_method")
run = None
if method == "rules":
    rules = flow.default_rules()
    st.caption(t("landcover.rules.caption"))
    with st.form("lc_rules_form"):
        values, enabled = {}, {}
        for r in rules.rules:
            st.markdown(f"**{lc_name(r.code)} ({r.code})** · `{r.name}`")
            cols = st.columns([1.2] + [1] * len(r.conditions))
            enabled[r.name] = cols[0].checkbox(t("landcover.rules.enabled"), value=r.enabled, key=f"lc_on_{r.name}",
                                               help=r.disabled_reason or None)
            for c, cond in zip(cols[1:], r.conditions):
                values[(r.name, cond.variable, cond.op)] = c.number_input(
                    f"{cond.variable} {cond.op}", value=float(cond.value), step=0.01, format="%.3f",
                    key=f"lc_thr_{r.name}_{cond.variable}_{cond.op}", help=f"{cond.rationale}\n\n{t('landcover.rules.source')}: {cond.source}")
        st.caption(t("landcover.rules.default", code=rules.default_code, name=lc_name(rules.default_code)))
        if st.form_submit_button(t("landcover.rules.run"), type="primary", icon=":material/play_arrow:"):
            run = ("rules", values, enabled)
    with st.expander(t("landcover.rules.rationale_title")):
        st.caption(t("landcover.rules.rationale_note"))
        st.dataframe(flow.rules_frame(rules, lang), hide_index=True)
else:
    sources = (["demo"] if choice.truth is not None else []) + ["upload"]
    source = st.radio(t("landcover.rf.source"), sources, format_func=lambda s: t(f"landcover.rf.source.{s}", lang), horizontal=True, key="lc_rf_source")
    n_col, trees_col = st.columns(2)
    trees = trees_col.number_input(t("landcover.rf.trees"), 10, 300, flow.RF_TREES, step=10, key="lc_rf_trees")
    samples = class_field = None
    if source == "demo":
        n_train = n_col.number_input(t("landcover.rf.n"), 200, 3000, flow.DEMO_TRAIN_N, step=100, key="lc_rf_n")
        st.info(t("landcover.rf.demo_notice"), icon=":material/science:")
    else:
        up = st.file_uploader(t("landcover.rf.upload"), type=list(flow.UPLOAD_TYPES), key="lc_rf_upload",
                              help=t("landcover.rf.upload_help", mb=flow.MAX_UPLOAD_BYTES // 2**20))
        if up is not None:
            try:
                samples = flow.read_upload(up)
            except flow.DataError as exc:
                show_data_error(exc, lang)
            else:
                fields = flow.candidate_class_fields(samples)
                class_field = st.selectbox(t("landcover.rf.class_field"), fields, key="lc_rf_field", help=t("landcover.rf.class_field_help"))
                st.caption(t("landcover.rf.upload_rows", n=len(samples)))
    ready = source == "demo" or (samples is not None and class_field is not None)
    if st.button(t("landcover.rf.run"), type="primary", disabled=not ready, key="lc_rf_run", icon=":material/play_arrow:"):
        run = ("rf", source, samples, class_field, int(trees), int(n_train) if source == "demo" else None)

if run is not None:
    bar, progress = flow.progress_bar(t("landcover.progress.rules" if run[0] == "rules" else "landcover.progress.rf"), lang)
    try:
        if run[0] == "rules":
            res = flow.run_rules(bandset, flow.edited_rules(run[1], run[2]), progress=progress)
            training = None
        else:
            _, source, samples, class_field, trees, n_train = run
            if source == "demo":
                samples, class_field = flow.demo_samples(choice.truth, n_total=n_train, seed=flow.DEMO_TRAIN_SEED), "class"
            res, ts = flow.run_random_forest(bandset, samples, class_field=class_field, n_trees=trees, progress=progress)
            training = ts.counts
        assessment = flow.demo_assessment(res.path, choice.truth) if choice.truth is not None else None
    except flow.DataError as exc:
        bar.empty()
        show_data_error(exc, lang)
    else:
        bar.empty()
        st.session_state[KEY_RESULT] = {"key": run_key, "result": res, "assessment": assessment, "training": training}
        st.session_state["lc_show_new_map"] = True
        st.rerun()  # redraw the views with the new map

if result is not None:
    res = result["result"]
    st.success(t("landcover.result.done", method=t(f"landcover.method.{'rules' if res.method == 'rules' else 'rf'}"), path=str(res.path)),
               icon=":material/check_circle:")
    tables.show(flow.result_table(res, lang, training=result["training"]), key="lc_result", lang=lang)

# ------------------------------------------------------------------ 4. accuracy
KEY_SAMPLE = "lc_ref_sample"
KEY_REF = "lc_ref_result"


def accuracy_report(a, caption: str, key: str) -> None:
    """OA, kappa, confusion matrix, per-class UA/PA/F1 and Olofsson adjusted areas of one assessment."""
    st.caption(caption)
    m1, m2, m3 = st.columns(3)
    m1.metric(t("landcover.acc.oa"), fmt.pct(a.area.overall_accuracy, lang), f"± {fmt.pct(a.area.overall_accuracy_ci, lang)}",
              delta_color="off", delta_arrow="off", help=t("landcover.acc.oa_help"))
    m2.metric(t("landcover.acc.kappa"), f"{a.confusion.kappa:.3f}", help=t("landcover.acc.kappa_help"))
    m3.metric(t("landcover.acc.n_samples"), f"{a.confusion.n_samples:,}")
    st.markdown(f"**{t('landcover.acc.confusion')}**")
    tables.show(flow.confusion_table(a, lang), key=f"{key}_confusion", lang=lang)
    st.markdown(f"**{t('landcover.acc.per_class')}**")
    tables.show(flow.per_class_table(a, lang), key=f"{key}_per_class", lang=lang)
    st.markdown(f"**{t('landcover.acc.areas')}**")
    st.caption(t("landcover.acc.areas_caption"))
    tables.show(flow.area_table(a, lang), key=f"{key}_areas", lang=lang)
    st.altair_chart(flow.area_chart(a, lang), key=f"{key}_area_chart")


if result is not None:
    st.subheader(t("landcover.acc.title"))
    a = result["assessment"]
    if a is None:
        st.info(t("landcover.acc.no_reference"))
    else:
        accuracy_report(a, t("landcover.acc.caption", n=a.confusion.n_samples, seed=flow.DEMO_REF_SEED), "lc")

    # your own reference points, for any classified map: sample design, then labelled upload
    map_path = result["result"].path
    st.markdown(f"#### {t('landcover.ref.title')}")
    st.caption(t("landcover.ref.caption"))
    with st.container(border=True):
        st.markdown(f"**{t('landcover.ref.design_title')}**")
        n_col, min_col = st.columns(2)
        n_ref = n_col.number_input(t("landcover.ref.n"), 20, 5000, flow.REF_SAMPLE_N, step=50, key="lc_ref_n", help=t("landcover.ref.n_help"))
        min_ref = min_col.number_input(t("landcover.ref.min_per_class"), 1, 500, flow.REF_MIN_PER_CLASS, step=5, key="lc_ref_min",
                                       help=t("landcover.ref.min_per_class_help"))
        sample_key = (str(map_path), int(n_ref), int(min_ref), flow.REF_SAMPLE_SEED)
        if st.button(t("landcover.ref.design"), key="lc_ref_design", icon=":material/scatter_plot:"):
            try:
                st.session_state[KEY_SAMPLE] = {"key": sample_key, "sample": flow.proposed_sample(
                    map_path, n_total=int(n_ref), min_per_class=int(min_ref), seed=flow.REF_SAMPLE_SEED)}
            except flow.DataError as exc:
                show_data_error(exc, lang)
        proposed = st.session_state.get(KEY_SAMPLE)
        if proposed is not None and proposed["key"] == sample_key:
            sample = proposed["sample"]
            st.caption(t("landcover.ref.sample_ready", n=sample.n_points, seed=sample.seed, alloc=flow.allocation_text(sample, lang)))
            st.download_button(t("landcover.ref.download"), data=sample.data, file_name=sample.file_name, mime=flow.GPKG_MIME,
                               key="lc_ref_sample_dl", on_click="ignore", icon=":material/download:")
    with st.container(border=True):
        st.markdown(f"**{t('landcover.ref.upload_title')}**")
        up = st.file_uploader(t("landcover.ref.upload"), type=list(flow.REF_UPLOAD_TYPES), key="lc_ref_upload",
                              help=t("landcover.ref.upload_help", mb=flow.MAX_UPLOAD_BYTES // 2**20))
        ref_key = None
        if up is not None:
            try:
                points = flow.read_upload(up)
            except flow.DataError as exc:
                show_data_error(exc, lang)
            else:
                fields = flow.candidate_class_fields(points)
                ref_field = st.selectbox(t("landcover.ref.class_field"), fields, index=flow.default_class_field(fields) if fields else None,
                                         key="lc_ref_field", help=t("landcover.ref.class_field_help"))
                st.caption(t("landcover.rf.upload_rows", n=len(points)))
                ref_key = (str(map_path), up.file_id, ref_field)
                if st.button(t("landcover.ref.run"), type="primary", disabled=ref_field is None, key="lc_ref_run", icon=":material/play_arrow:"):
                    try:
                        st.session_state[KEY_REF] = {"key": ref_key, "name": up.name, "assessment": flow.reference_assessment(
                            map_path, points, class_field=ref_field, name=up.name)}
                    except flow.DataError as exc:
                        st.session_state.pop(KEY_REF, None)
                        show_data_error(exc, lang)
    stored = st.session_state.get(KEY_REF)
    if stored is not None and ref_key is not None and stored["key"] == ref_key:
        ra = stored["assessment"]
        accuracy_report(ra, t("landcover.ref.report_caption", n=ra.confusion.n_samples, name=stored["name"], field=ra.class_field), "lc_ref")

# ------------------------------------------------------------------ 5. save
if result is not None:
    st.subheader(t("landcover.save.title"))
    res = result["result"]
    with st.form("lc_save_form"):
        name = st.text_input(t("landcover.save.name"), value=flow.default_dataset_name(res, year),
                             key="lc_save_name", help=t("landcover.save.name_help"))
        if st.form_submit_button(t("landcover.save.button"), icon=":material/save:"):
            try:
                saved = flow.save_dataset(ctx.config_path, res.path, year=year, name=name)
            except flow.DataError as exc:
                show_data_error(exc, lang)
            else:
                st.session_state[KEY_FLASH] = t("landcover.save.done", name=name, path=str(saved.config_path),
                                                years=", ".join(map(str, saved.years)))
                st.rerun()  # the sidebar lists the new dataset on this rerun
if st.session_state.get(KEY_FLASH):
    st.success(st.session_state.pop(KEY_FLASH), icon=":material/save:")
