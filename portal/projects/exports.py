"""The project library as an Excel sheet whose columns the importer reads back (编号 and 街道 are for
people and ignored on import), and the empty import template."""
from __future__ import annotations

import io
from typing import Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from portal.projects.importer import COLUMNS, EstateResolver
from portal.projects.models import Project, ProjectCategory, ProjectStatus

EXPORT_COLUMNS = ["编号", "街道", *COLUMNS]
BOLD = Font(bold=True)
WIDTHS = {"编号": 8, "街道": 12, "项目名称": 28, "小区": 24, "主题": 20, "说明": 40}


def _sheet(workbook: Workbook, title: str, headers: list[str]):
    sheet = workbook.create_sheet(title)
    for index, header in enumerate(headers):
        sheet.column_dimensions[chr(ord("A") + index)].width = WIDTHS.get(header, 14)
    row = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = BOLD
        row.append(cell)
    sheet.append(row)
    return sheet


def project_row(project: Project, resolver: EstateResolver) -> list:
    from nlp.themes import theme_name

    return [project.id, project.street.name,
            project.name,
            "、".join(resolver.label(e) for e in project.estates),
            "、".join(theme_name(t) for t in project.themes),
            project.category.label,
            project.cost_wan,
            project.households_covered,
            project.status.label,
            project.started_on,
            project.completed_on,
            project.description or None]


def _plain_cells(sheet, values: list) -> list:
    """Text beginning with "=" stays text: openpyxl would otherwise write it as a formula."""
    cells = []
    for value in values:
        if isinstance(value, str) and value.startswith("="):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cells.append(cell)
        else:
            cells.append(value)
    return cells


def projects_workbook(projects: Iterable[Project], user) -> tuple[io.BytesIO, int]:
    """The workbook and the number of projects in it."""
    resolver = EstateResolver(user)
    workbook = Workbook(write_only=True)
    sheet = _sheet(workbook, "项目库", EXPORT_COLUMNS)
    rows = 0
    for project in projects:
        sheet.append(_plain_cells(sheet, project_row(project, resolver)))
        rows += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer, rows


def template_workbook() -> io.BytesIO:
    workbook = Workbook(write_only=True)
    sheet = _sheet(workbook, "项目清单", COLUMNS)
    sheet.append(["桂花苑排水防涝改造", "桂花苑", "排水防涝", ProjectCategory.basic.label, 180, 248,
                  ProjectStatus.proposed.label, None, None, "雨污分流，更换破损管网"])
    sheet.append(["向阳新村、电力公司宿舍加装电梯", "向阳新村、电力公司宿舍", "电梯、无障碍", ProjectCategory.improve.label,
                  "360.5", None, ProjectStatus.approved.label, None, None, "覆盖户数留空即为所选小区的全部户数"])
    notes = workbook.create_sheet("填写说明")
    for line in [
        ["列", "说明"],
        ["项目名称", "必填，同一街道内不能重名"],
        ["小区", "必填，可填多个，用“、”“,”或“；”分隔；须在同一街道。重名的小区写成“社区/小区”"],
        ["主题", "必填，可填多个，填主题名称（如“排水防涝”）或代码（如 drainage）"],
        ["类别", "必填：基础类、完善类或提升类"],
        ["投资估算（万元）", "必填，大于 0，最多两位小数"],
        ["覆盖户数", "整数；留空为所选小区的全部户数"],
        ["状态", "可选：储备（默认）、入库、实施中、已完成"],
        ["开工日期、完成日期", "实施中、已完成的项目用；已完成的项目须填开工日期，完成日期不填为今天"],
        ["说明", "可选"],
        ["注意", "第一张工作表是数据；不要用公式；任何一行有错，整个文件都不会导入"],
    ]:
        notes.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer
