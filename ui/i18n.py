"""Every visible string, in Chinese (default) and English: ``t(key, lang=None, **fields)``.

A test checks that both dictionaries have the same keys and the same ``{fields}``.
Land-cover names follow the ESA WorldCover legend; pools the InVEST / IPCC carbon pools.
"""
from __future__ import annotations

import re

ZH: dict[str, str] = {
    # frame
    "app.title": "江北碳汇看板",
    "nav.public": "公众",
    "nav.planners": "规划",
    "page.overview": "总览",
    "page.accounts": "碳账户",
    "sidebar.language": "语言 / Language",
    "sidebar.area": "评估区域",
    "sidebar.year": "年份（土地覆被）",
    "sidebar.illustrative": "示意数据",
    "sidebar.illustrative_help": "土地覆被与排放清单为合成的示意数据，并非调查结果；行政边界为真实数据（天地图、GSHHG）。",
    "sidebar.provenance": "计算时间 {run} · 分析坐标系 {crs} · 像元 {px} 米 · 系数表 {sha}",
    "app.no_config": "configs/ 目录下没有运行配置（*.toml）。请添加一个，例如 configs/jiangbei_demo.toml。",
    "progress.demo": "首次运行：正在生成示意土地覆被栅格（约需一分钟）",
    "progress.assessment": "正在计算碳储量与碳汇",
    "step.open": "读取土地覆被",
    "step.count": "统计 {year} 年各分区地类面积",
    "step.change": "统计 {period} 土地覆被变化",
    "step.inventory": "读取排放清单",
    "step.done": "完成",
    # errors
    "error.title": "输入数据有问题",
    "error.file": "文件",
    "error.problem": "问题",
    "error.fix": "解决办法",
    "error.note": "修正数据后刷新页面即可重新计算。（问题与解决办法的说明来自计算核心，为英文。）",
    "error.kind.data": "数据无法使用",
    "error.kind.missing_crs": "缺少坐标系",
    "error.kind.crs_mismatch": "坐标系不一致",
    "error.kind.grid": "栅格网格不可用",
    "error.kind.nodata": "无效值（nodata）问题",
    "error.kind.schema": "表格或图层结构不符",
    "error.kind.unknown_class": "系数表中缺少地类",
    "error.kind.geometry": "几何图形有误",
    "error.kind.unsafe_input": "不安全或过大的输入",
    "error.kind.empty_result": "结果为空",
    # overview
    "overview.title": "碳汇总览",
    "overview.caption": "{area} · {year} 年 · 全部分区",
    "illustrative.notice": "本区域为示意数据：土地覆被与排放清单是按公开统计合成的，不是调查或遥感解译结果，数字仅用于演示计算方法。",
    "kpi.stock": "碳储量总量",
    "kpi.stock_help": "{year}地上生物量、地下生物量、土壤有机碳与死有机质四个碳库之和（吨碳）。± 为 IPCC 方法 1 合成的不确定性。",
    "kpi.uncertainty_unknown": "不确定性未量化",
    "kpi.removals": "年净碳汇",
    "kpi.removals_delta": "增减法 · {period}",
    "kpi.removals_help": "增减法（IPCC 2006 第4卷式 2.7）：未变化土地的年生长量 + 转换增汇 − 转换损失，单位吨 CO₂e/年。",
    "kpi.emissions": "碳排放",
    "kpi.emissions_help": "排放清单中该年份（或之前最近一年）的排放量，吨 CO₂。",
    "kpi.no_inventory": "无排放清单",
    "kpi.offset": "碳汇抵消率",
    "kpi.offset_delta": "年净碳汇 ÷ 碳排放",
    "kpi.offset_help": "年净碳汇（增减法）占碳排放的比例。只比较年通量，从不与储量相比。",
    "map.title": "各分区年净碳汇",
    "map.measure": "着色依据",
    "map.measure.total": "分区总量",
    "map.measure.per_ha": "单位面积",
    "map.tip.removals": "年净碳汇",
    "map.tip.per_ha": "单位面积",
    "map.tip.stock": "碳储量",
    "map.tip.emissions": "碳排放",
    "map.tip.offset": "抵消率",
    "map.legend.total": "年净碳汇（增减法）",
    "map.legend.per_ha": "单位面积年净碳汇",
    "map.legend.note": "增减法，时段 {period}。绿色为碳汇，红色为碳源。",
    "map.caption": "底图离线提供（长江水面：GSHHG）；不向外网请求任何地图瓦片。将鼠标移到分区上可查看数值。",
    "methods.title": "方法说明",
    "methods.intro": "**储量差法**（IPCC 2006 第4卷式 2.8，InVEST 的“固碳量”）= (期末储量 − 期初储量) ÷ 年数 × 44/12；"
                     "**增减法**（式 2.7）= 未变化土地的年生长量 + 转换增汇 − 转换损失。"
                     "两者之差正是未变化土地（如林地保持为林地）的年生长量：储量差法用固定碳密度，看不到这部分。",
    "methods.compare": "{period}：储量差法 {sd}，增减法 {gl}，其中未变化土地的生长量 {growth}。看板中的年净碳汇采用增减法。",
    "methods.unverified": "系数表共 {total} 个数值，其中 {n} 个尚未对照原始文献表格核实（见“碳账户”页的系数表与来源）。本区各地类未核实的数值：{classes}。",
    "methods.source_required": "以下系数**需补充来源**，暂不计入碳汇：{items}。这些地类未变化部分的面积如下表所示，没有计入年净碳汇。",
    "methods.more": "分区、分碳库的完整账目、两种方法的逐区对比与系数来源见“碳账户”页，均可下载 CSV。",
    "unestimated.title": "未计入碳汇的面积（缺少有来源的年固碳速率）",
    # accounts
    "accounts.title": "碳账户",
    "accounts.caption": "{area} · {year} 年 · 面向规划人员的分区账目，所有表格可下载 CSV（未取整）",
    "accounts.stocks.title": "分区 × 碳库碳储量",
    "accounts.stocks.caption": "面积 × 碳密度（吨碳/公顷），按碳库求和；不确定性按 IPCC 方法 1 合成，空白表示系数缺少不确定性。",
    "accounts.flows.title": "年碳汇：储量差法与增减法对照",
    "accounts.flows.caption": "单位：吨 CO₂e/年（正值为碳汇）。**储量差法** =（期末 − 期初储量）÷ 年数 × 44/12；"
                              "**增减法** = 生长量 + 转换增汇 − 转换损失。“未计入面积”是缺少有来源年固碳速率的未变化土地。",
    "accounts.flows.none": "只有一个土地覆被年份，无法计算年碳汇（至少需要两个年份）。",
    "accounts.areas.title": "各分区地类面积（公顷）",
    "accounts.areas.caption": "ESA WorldCover 地类；无效值像元（nodata）单列，不计入任何碳库。",
    "accounts.coef.title": "碳密度与年固碳速率系数表",
    "accounts.coef.caption": "每个数值都有来源；勾选“未核实”的数值尚未对照原始表格核实。“需补充来源”的数值为空，不参与计算。",
    "download.csv": "下载 CSV",
    # columns and units
    "col.zone": "分区",
    "col.all_zones": "全部分区",
    "col.total": "合计",
    "col.uncertainty_pct": "不确定性 ±%",
    "col.uncertainty_help": "IPCC 方法 1 合成的 95% 置信区间半宽占估计值的百分比；空白表示有系数缺少不确定性。",
    "col.period": "时段",
    "col.stock_difference": "储量差法",
    "col.stock_difference_help": "（期末储量 − 期初储量）÷ 年数 × 44/12（IPCC 2006 第4卷式 2.8）",
    "col.gain_loss": "增减法净碳汇",
    "col.gain_loss_help": "生长量 + 转换增汇 − 转换损失（IPCC 2006 第4卷式 2.7）",
    "col.growth": "未变化土地生长量",
    "col.conversion_gain": "转换增汇",
    "col.conversion_loss": "转换损失",
    "col.unestimated_area": "未计入面积",
    "col.unestimated_help": "未变化土地中，其地类缺少有来源的年固碳速率（系数表中为“需补充来源”），其生长量没有计入。",
    "col.unestimated_classes": "涉及地类",
    "col.nodata": "无效值",
    "col.valid": "有效面积",
    "col.lucode": "地类代码",
    "col.class": "地类",
    "col.quantity": "指标",
    "col.value": "数值",
    "col.unit": "单位",
    "col.unverified": "未核实",
    "col.unverified_help": "勾选：该数值尚未对照原始文献表格核实（见备注）。",
    "col.status": "状态",
    "col.source": "来源",
    "col.note": "备注",
    "coef.source_required": "需补充来源",
    "unit.tc": "吨碳",
    "unit.tco2e_yr": "吨 CO₂e/年",
    "unit.wan_tc": "万吨碳",
    "unit.kt_c": "千吨碳",
    "unit.wan_tco2e_yr": "万吨 CO₂e/年",
    "unit.kt_co2e_yr": "千吨 CO₂e/年",
    "unit.ha": "公顷",
    "chart.stock": "碳储量",
    "chart.pool": "碳库",
    "chart.method": "方法",
    "chart.share": "面积占比",
    # land cover (ESA WorldCover)
    "lc.10": "林地",
    "lc.20": "灌木",
    "lc.30": "草地",
    "lc.40": "耕地",
    "lc.50": "建设用地",
    "lc.60": "裸地",
    "lc.70": "冰雪",
    "lc.80": "水体",
    "lc.90": "草本湿地",
    "lc.95": "红树林",
    "lc.100": "苔藓地衣",
    # pools and quantities
    "pool.c_above": "地上生物量",
    "pool.c_below": "地下生物量",
    "pool.c_soil": "土壤有机碳",
    "pool.c_dead": "死有机质",
    "qty.gain_tc_per_ha_yr": "年固碳速率",
}

EN: dict[str, str] = {
    # frame
    "app.title": "Jiangbei carbon sinks",
    "nav.public": "Public",
    "nav.planners": "Planners",
    "page.overview": "Overview",
    "page.accounts": "Carbon accounts",
    "sidebar.language": "语言 / Language",
    "sidebar.area": "Assessment area",
    "sidebar.year": "Year (land cover)",
    "sidebar.illustrative": "Illustrative data",
    "sidebar.illustrative_help": "Land cover and the emissions inventory are synthetic, illustrative data, not a survey; the boundaries are real (Tianditu, GSHHG).",
    "sidebar.provenance": "Computed {run} · analysis CRS {crs} · pixel {px} m · coefficients {sha}",
    "app.no_config": "There is no run configuration (*.toml) under configs/. Add one, e.g. configs/jiangbei_demo.toml.",
    "progress.demo": "First run: building the illustrative land-cover rasters (about a minute)",
    "progress.assessment": "Computing carbon stocks and sinks",
    "step.open": "opening the land cover",
    "step.count": "counting land cover {year} per zone",
    "step.change": "counting land-cover change {period}",
    "step.inventory": "reading the emissions inventory",
    "step.done": "done",
    # errors
    "error.title": "There is a problem with the input data",
    "error.file": "File",
    "error.problem": "Problem",
    "error.fix": "Fix",
    "error.note": "Correct the data and reload the page to recompute.",
    "error.kind.data": "the data cannot be used",
    "error.kind.missing_crs": "missing coordinate reference system",
    "error.kind.crs_mismatch": "coordinate systems do not match",
    "error.kind.grid": "unusable raster grid",
    "error.kind.nodata": "nodata problem",
    "error.kind.schema": "table or layer structure",
    "error.kind.unknown_class": "land-cover class missing from the coefficient table",
    "error.kind.geometry": "invalid geometry",
    "error.kind.unsafe_input": "unsafe or oversize input",
    "error.kind.empty_result": "empty result",
    # overview
    "overview.title": "Carbon sink overview",
    "overview.caption": "{area} · {year} · all zones",
    "illustrative.notice": "Illustrative data: land cover and the emissions inventory are synthesized from public statistics, not a survey or image classification. The figures demonstrate the method only.",
    "kpi.stock": "Total carbon stock",
    "kpi.stock_help": "Sum of the four pools (above- and below-ground biomass, soil organic carbon, dead organic matter) in {year}, t C. ± is the combined uncertainty (IPCC Approach 1).",
    "kpi.uncertainty_unknown": "uncertainty not quantified",
    "kpi.removals": "Net removals",
    "kpi.removals_delta": "gain-loss · {period}",
    "kpi.removals_help": "Gain-loss method (IPCC 2006 Vol.4 Eq. 2.7): growth on unchanged land + conversion gains − conversion losses, t CO₂e/yr.",
    "kpi.emissions": "Emissions",
    "kpi.emissions_help": "Emissions of the inventory for this year (or the latest year before it), t CO₂.",
    "kpi.no_inventory": "no emissions inventory",
    "kpi.offset": "Offset ratio",
    "kpi.offset_delta": "net removals ÷ emissions",
    "kpi.offset_help": "Annual net removals (gain-loss) as a share of emissions. Only annual flows are compared, never stocks.",
    "map.title": "Annual net removals by zone",
    "map.measure": "Colour by",
    "map.measure.total": "Zone total",
    "map.measure.per_ha": "Per hectare",
    "map.tip.removals": "Net removals",
    "map.tip.per_ha": "Per hectare",
    "map.tip.stock": "Carbon stock",
    "map.tip.emissions": "Emissions",
    "map.tip.offset": "Offset ratio",
    "map.legend.total": "Annual net removals (gain-loss)",
    "map.legend.per_ha": "Net removals per hectare",
    "map.legend.note": "Gain-loss method, period {period}. Green: sink; red: source.",
    "map.caption": "The basemap is served locally (Yangtze water surface: GSHHG); no map tiles are requested from the internet. Hover over a zone for its figures.",
    "methods.title": "Methods",
    "methods.intro": "**Stock-difference** (IPCC 2006 Vol.4 Eq. 2.8; InVEST's \"sequestration\") = (stock at end − stock at start) ÷ years × 44/12; "
                     "**gain-loss** (Eq. 2.7) = annual growth on unchanged land + conversion gains − conversion losses. "
                     "The difference between them is exactly the growth on unchanged land (e.g. forest remaining forest), which fixed carbon densities cannot see.",
    "methods.compare": "{period}: stock-difference {sd}, gain-loss {gl}, of which growth on unchanged land {growth}. The dashboard's annual net removals use gain-loss.",
    "methods.unverified": "{n} of the {total} values in the coefficient table have not yet been checked against the original tables (see the coefficient table and its sources on the Carbon accounts page). Unverified values of the classes present here: {classes}.",
    "methods.source_required": "These coefficients are **source required** and are not counted: {items}. The unchanged area of these classes, shown below, is not included in the annual net removals.",
    "methods.more": "The full accounts by zone and pool, the two methods zone by zone and the coefficient sources are on the Carbon accounts page, each downloadable as CSV.",
    "unestimated.title": "Area not counted in the removals (no sourced annual gain rate)",
    # accounts
    "accounts.title": "Carbon accounts",
    "accounts.caption": "{area} · {year} · zone accounts for planners; every table downloads as CSV (unrounded)",
    "accounts.stocks.title": "Carbon stock by zone and pool",
    "accounts.stocks.caption": "Area × carbon density (t C/ha), summed per pool; uncertainty combined by IPCC Approach 1, blank where a coefficient has no uncertainty.",
    "accounts.flows.title": "Annual removals: stock-difference vs gain-loss",
    "accounts.flows.caption": "Units: t CO₂e/yr (positive = sink). **Stock-difference** = (stock at end − stock at start) ÷ years × 44/12; "
                              "**gain-loss** = growth + conversion gains − conversion losses. \"Area not counted\" is unchanged land without a sourced annual gain rate.",
    "accounts.flows.none": "There is only one land-cover date, so no annual flow can be computed (two dates are needed).",
    "accounts.areas.title": "Land-cover area by zone (ha)",
    "accounts.areas.caption": "ESA WorldCover classes; nodata pixels are listed separately and counted in no pool.",
    "accounts.coef.title": "Carbon densities and annual gain rates",
    "accounts.coef.caption": "Every value has a source; values ticked \"unverified\" have not yet been checked against the original table. \"Source required\" values are empty and not used.",
    "download.csv": "Download CSV",
    # columns and units
    "col.zone": "Zone",
    "col.all_zones": "All zones",
    "col.total": "Total",
    "col.uncertainty_pct": "Uncertainty ±%",
    "col.uncertainty_help": "Half-width of the 95% confidence interval as a percentage of the estimate (IPCC Approach 1); blank where a coefficient lacks an uncertainty.",
    "col.period": "Period",
    "col.stock_difference": "Stock-difference",
    "col.stock_difference_help": "(stock at end − stock at start) ÷ years × 44/12 (IPCC 2006 Vol.4 Eq. 2.8)",
    "col.gain_loss": "Gain-loss net removals",
    "col.gain_loss_help": "growth + conversion gains − conversion losses (IPCC 2006 Vol.4 Eq. 2.7)",
    "col.growth": "Growth on unchanged land",
    "col.conversion_gain": "Conversion gains",
    "col.conversion_loss": "Conversion losses",
    "col.unestimated_area": "Area not counted",
    "col.unestimated_help": "Unchanged land whose class has no sourced annual gain rate (\"source required\" in the coefficient table); its growth is not counted.",
    "col.unestimated_classes": "Classes",
    "col.nodata": "Nodata",
    "col.valid": "Valid area",
    "col.lucode": "Code",
    "col.class": "Land cover",
    "col.quantity": "Quantity",
    "col.value": "Value",
    "col.unit": "Unit",
    "col.unverified": "Unverified",
    "col.unverified_help": "Ticked: this value has not yet been checked against the original table (see the note).",
    "col.status": "Status",
    "col.source": "Source",
    "col.note": "Note",
    "coef.source_required": "source required",
    "unit.tc": "t C",
    "unit.tco2e_yr": "t CO₂e/yr",
    "unit.wan_tc": "10⁴ t C",
    "unit.kt_c": "kt C",
    "unit.wan_tco2e_yr": "10⁴ t CO₂e/yr",
    "unit.kt_co2e_yr": "kt CO₂e/yr",
    "unit.ha": "ha",
    "chart.stock": "Carbon stock",
    "chart.pool": "Pool",
    "chart.method": "Method",
    "chart.share": "Share of area",
    # land cover (ESA WorldCover)
    "lc.10": "Tree cover",
    "lc.20": "Shrubland",
    "lc.30": "Grassland",
    "lc.40": "Cropland",
    "lc.50": "Built-up",
    "lc.60": "Bare / sparse vegetation",
    "lc.70": "Snow and ice",
    "lc.80": "Permanent water",
    "lc.90": "Herbaceous wetland",
    "lc.95": "Mangroves",
    "lc.100": "Moss and lichen",
    # pools and quantities
    "pool.c_above": "Above-ground biomass",
    "pool.c_below": "Below-ground biomass",
    "pool.c_soil": "Soil organic carbon",
    "pool.c_dead": "Dead organic matter",
    "qty.gain_tc_per_ha_yr": "Annual gain rate",
}

DICTS = {"zh": ZH, "en": EN}

# The core reports progress in English step names; these are the ones run_assessment uses.
_STEP_PATTERNS = (
    (re.compile(r"^open land cover$"), "step.open", None),
    (re.compile(r"^count land cover (\d+)$"), "step.count", "year"),
    (re.compile(r"^count change (\S+)$"), "step.change", "period"),
    (re.compile(r"^read emissions inventory$"), "step.inventory", None),
    (re.compile(r"^done$"), "step.done", None),
)


def _lang(lang: str | None) -> str:
    if lang in DICTS:
        return lang  # type: ignore[return-value]
    from ui.state import lang as current

    return current()


def t(key: str, lang: str | None = None, **fields) -> str:
    """The text for ``key`` in ``lang`` (default: the session's language), with ``{fields}`` filled.

    A missing key raises ``KeyError``: a typo must fail the tests, not show a raw key.
    """
    text = DICTS[_lang(lang)][key]
    return text.format(**fields) if fields else text


def lc_name(code: int, lang: str | None = None) -> str:
    """Land-cover class name (ESA WorldCover legend); unknown codes show as ``#code``."""
    d = DICTS[_lang(lang)]
    return d.get(f"lc.{int(code)}", f"#{int(code)}")


def pool_name(pool: str, lang: str | None = None) -> str:
    return t(f"pool.{pool}", lang)


def quantity_name(quantity: str, lang: str | None = None) -> str:
    """A coefficient quantity: a pool (t C/ha) or the annual gain rate (t C/ha/yr)."""
    return t(f"pool.{quantity}" if quantity.startswith("c_") else f"qty.{quantity}", lang)


def zone_names(a, lang: str | None = None) -> dict[str, str]:
    """zone_id -> display name in ``lang`` (from the zones layer's name fields)."""
    col = "name_zh" if _lang(lang) == "zh" else "name_en"
    return {str(z): str(n) for z, n in zip(a.zones["zone_id"], a.zones[col])}


def step_text(step: str, lang: str | None = None) -> str:
    """A progress step of the core in the reader's language (unknown steps pass through)."""
    for pattern, key, field in _STEP_PATTERNS:
        m = pattern.match(step)
        if m:
            return t(key, lang, **({field: m.group(1)} if field else {}))
    return step
