"""The dashboard as an Excel workbook: the same filters, the same figures, every estate (not only the
busiest shown on screen). No personal data: counts only."""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from portal.demand import queries
from portal.demand.summary import Dashboard

BOLD = Font(bold=True)


def filter_lines(data: Dashboard, user) -> list[list]:
    from portal.areas.models import Estate, Street
    from portal.extensions import db
    from nlp.themes import theme_name

    f = data.filters
    street = db.session.get(Street, f.street_id) if f.street_id else None
    estate = db.session.get(Estate, f.estate_id) if f.estate_id else None
    scope = user.street.name if getattr(user, "street", None) and user.street_id else "全区"
    return [
        ["时间范围", f"{f.date_from.isoformat()} 至 {f.date_to.isoformat()}"],
        ["数据范围", scope],
        ["街道", street.name if street else "全部"],
        ["小区", estate.name if estate else "全部"],
        ["主题", theme_name(f.theme) if f.theme else "全部"],
        ["来源", f.source.label if f.source else "全部"],
        ["仅紧急", "是" if f.urgent else "否"],
        ["趋势粒度", "按月" if data.granularity == "month" else "按周"],
    ]


def _header(sheet, cells: list) -> None:
    row = []
    for value in cells:
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = BOLD
        row.append(cell)
    sheet.append(row)


def dashboard_workbook(data: Dashboard, user) -> tuple[io.BytesIO, int]:
    """The workbook and the number of data rows written."""
    from nlp.themes import theme_name

    workbook = Workbook(write_only=True)
    rows = 0
    overview = workbook.create_sheet("筛选条件")
    overview.column_dimensions["A"].width = 16
    overview.column_dimensions["B"].width = 60
    for line in filter_lines(data, user):
        overview.append(line)
    overview.append(["诉求信号合计", data.total])
    overview.append(["说明", "一条记录每个主题计一次；每百户件数 = 件数 × 100 ÷ 小区户数。"])

    themes = workbook.create_sheet("主题分布")
    _header(themes, ["主题", "主题代码", "件数", "占比"])
    for theme, n in data.distribution:
        themes.append([theme_name(theme), theme, n, round(n / data.total, 4) if data.total else None])
        rows += 1

    trend = workbook.create_sheet("趋势")
    _header(trend, ["月份" if data.granularity == "month" else "周（周一）", "件数"])
    for period, n in data.trend:
        trend.append([period, n])
        rows += 1

    heat = workbook.create_sheet("小区×主题")
    _header(heat, ["小区", "户数", "合计"] + [f"{theme_name(t)}（件）" for t in data.heat.themes]
            + [f"{theme_name(t)}（每百户）" for t in data.heat.themes])
    for estate_id, name, households in data.heat.estates:
        cells = [data.heat.cells.get((estate_id, t)) for t in data.heat.themes]
        heat.append([name, households, data.heat.estate_totals[estate_id]] + [c.count if c else 0 for c in cells]
                    + [(c.per_100 if c else 0) if households else None for c in cells])
        rows += 1

    hot = workbook.create_sheet("热点")
    hot.append([f"规则：截至 {data.filters.date_to.isoformat()} 的 7 天内，某小区某主题不少于 {queries.HOT_SPOT_MIN_COUNT} 件，"
                f"且不少于过去 {queries.BASELINE_WEEKS} 周周均值的 {queries.HOT_SPOT_FACTOR:g} 倍再加 {queries.HOT_SPOT_MARGIN} 件。"])
    _header(hot, ["小区", "主题", "本期件数", f"过去 {queries.BASELINE_WEEKS} 周周均值", "说明"])
    for spot in data.hot:
        hot.append([spot.estate_name, theme_name(spot.theme), spot.current, round(spot.baseline_mean, 2), spot.explanation])
        rows += 1

    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer, rows
