"""Importing a project list (.xlsx/.csv) into the project library, all or nothing.

Every row is checked by the same rules as the form (services.check_input) before anything is written;
one bad row means nothing is imported and the user gets a row-numbered list of what to fix.
Estates are named as people name them and looked up within the importer's own scope: a street's staff
can only name their street's estates, and a name two estates share must be qualified ("社区/小区").
"""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import Forbidden

from portal.areas.models import Estate
from portal.audit.services import record_event
from portal.core.errors import ServiceError
from portal.core.scoping import scoped, street_limit
from portal.core.tabular import (
    ErrorReport, TableError, cell_text, header_list, is_formula, map_headers, normalise_header, read_table,
)
from portal.extensions import db
from portal.projects import services
from portal.projects.models import Project, ProjectStatus

COLUMNS = ["项目名称", "小区", "主题", "类别", "投资估算（万元）", "覆盖户数", "状态", "开工日期", "完成日期", "说明"]
REQUIRED = ["项目名称", "小区", "主题", "类别", "投资估算（万元）", "覆盖户数"]
# Written by the export for people to read; accepted and ignored on import so an export re-imports.
IGNORED = ["编号", "街道"]
HEADER_ALIASES = {
    "项目名称": ["名称", "项目", "项目名"],
    "小区": ["小区名称", "涉及小区", "覆盖小区", "所在小区", "实施小区"],
    "主题": ["诉求主题", "需求主题", "主题分类"],
    "类别": ["项目类别", "改造类别", "改造内容类别", "分类"],
    "投资估算（万元）": ["投资估算", "投资估算(万元)", "估算投资(万元)", "估算投资", "投资(万元)", "投资额(万元)",
                   "概算(万元)", "总投资(万元)", "费用(万元)"],
    "覆盖户数": ["受益户数", "户数", "涉及户数", "惠及户数"],
    "状态": ["项目状态", "进度"],
    "开工日期": ["开工时间", "开始日期", "实施日期"],
    "完成日期": ["完工日期", "完成时间", "竣工日期"],
    "说明": ["项目说明", "备注", "描述", "项目描述", "改造内容"],
}
MAX_ROWS = 2000
MAX_REPORTED_ERRORS = 200
LIST_SEPARATORS = re.compile(r"[、,，;；\n\r]+")
THEME_SEPARATORS = re.compile(r"[、,，;；|｜/／\s]+")
QUALIFIER = re.compile(r"[/／]")


def _squash(text: Any) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", "" if text is None else str(text)))


class EstateResolver:
    """Estate names (and aliases) within one user's scope → estates; and back, to the shortest label that
    names one estate ("桂花苑", or "桂花社区/桂花苑" where two communities each have a 桂花苑)."""

    def __init__(self, user):
        stmt = scoped(select(Estate).options(joinedload(Estate.community), joinedload(Estate.street)), Estate, user)
        self.estates = list(db.session.scalars(stmt).unique())
        self.by_name: dict[str, list[Estate]] = defaultdict(list)
        self.by_alias: dict[str, list[Estate]] = defaultdict(list)
        for estate in self.estates:
            self.by_name[_squash(estate.name)].append(estate)
            for alias in estate.aliases or []:
                if _squash(alias) != _squash(estate.name):
                    self.by_alias[_squash(alias)].append(estate)

    @staticmethod
    def _qualified(estate: Estate, qualifiers: list[str]) -> bool:
        places = [_squash(estate.community.name), _squash(estate.street.name)]
        return all(q in places for q in qualifiers)

    def resolve(self, text: str) -> Estate:
        parts = [_squash(p) for p in QUALIFIER.split(text)]
        if any(not p for p in parts) or len(parts) > 3:
            raise ServiceError(f"小区「{text}」的写法不对，应写小区名，或“社区/小区”“街道/社区/小区”。")
        name, qualifiers = parts[-1], parts[:-1]
        candidates = self.by_name.get(name) or self.by_alias.get(name) or []
        candidates = [e for e in candidates if self._qualified(e, qualifiers)]
        if not candidates:
            raise ServiceError(f"找不到小区「{text}」（或不在您的管辖范围内）。")
        if len(candidates) > 1:
            examples = "、".join(f"「{self.label(e, full=True)}」" for e in candidates[:3])
            raise ServiceError(f"有 {len(candidates)} 个小区都叫「{text}」，请写明社区，如 {examples}。")
        return candidates[0]

    def label(self, estate: Estate, *, full: bool = False) -> str:
        """The shortest name that resolve() maps back to this estate alone."""
        forms = [f"{estate.community.name}/{estate.name}", f"{estate.street.name}/{estate.community.name}/{estate.name}"]
        if not full:
            forms.insert(0, estate.name)
        for form in forms:
            try:
                if self.resolve(form).id == estate.id:
                    return form
            except ServiceError:
                continue
        return forms[-1]


def parse_themes(value: Any) -> list[str]:
    from nlp.themes import THEMES

    by_word = {}
    for theme in THEMES:
        by_word[theme.code.lower()] = theme.code
        by_word[_squash(theme.name)] = theme.code
    codes, unknown = [], []
    for word in THEME_SEPARATORS.split(cell_text(value)):
        if not word:
            continue
        code = by_word.get(_squash(word).lower()) or by_word.get(_squash(word))
        if code is None and len(_squash(word)) >= 2:  # a short form: "绿化" for 绿化与公共空间, if only one fits
            fits = {theme.code for theme in THEMES if _squash(theme.name).startswith(_squash(word))}
            code = fits.pop() if len(fits) == 1 else None
        if code is None:
            unknown.append(word)
        elif code not in codes:
            codes.append(code)
    if unknown:
        raise ServiceError(f"主题「{'、'.join(unknown)[:60]}」无法识别，请填写主题名称（如“排水防涝”）或代码（如 drainage）。")
    return codes


def parse_day(value: Any, label: str) -> Optional[date]:
    from portal.tickets.importer import parse_datetime

    if value is None or cell_text(value) == "":
        return None
    try:
        return parse_datetime(value).date()
    except (ValueError, OverflowError):
        raise ServiceError(f"{label}「{cell_text(value)[:20]}」不是有效日期，请写成 2026-03-01。") from None


@dataclass
class ParsedProject:
    line: int
    data: services.ProjectInput
    checked: services.CheckedProject
    status: ProjectStatus
    started_on: Optional[date]
    completed_on: Optional[date]


@dataclass
class ImportReport(ErrorReport):
    rows: list[ParsedProject] = field(default_factory=list)
    encoding: Optional[str] = None
    limit: int = MAX_REPORTED_ERRORS


class ProjectImportError(ServiceError):
    def __init__(self, report: ImportReport):
        super().__init__(f"导入失败：共 {report.error_count} 处错误，未导入任何项目。请改正后重新上传。")
        self.report = report


@dataclass
class ImportSummary:
    created: int
    encoding: Optional[str]
    project_ids: list[int]


def _check_headers(headers: list[str], report: ImportReport) -> Optional[dict[str, int]]:
    columns = map_headers(headers, HEADER_ALIASES)
    known = {normalise_header(n) for canonical, names in HEADER_ALIASES.items() for n in [canonical, *names]}
    known |= {normalise_header(n) for n in IGNORED}
    unknown = [h for h in headers if h and h not in known]
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        report.fail(f"缺少必需的列：{'、'.join(missing)}。文件中的列为：{header_list(headers)}。请使用导入模板。")
    if unknown:
        report.fail(f"无法识别的列：{header_list(unknown)}。可用的列为：{'、'.join(COLUMNS)}。")
    repeated = sorted({h for h in headers if h and headers.count(h) > 1})
    if repeated:
        report.fail(f"表头重复：{header_list(repeated)}。")
    return None if (missing or unknown or repeated) else columns


def validate(actor, filename: str, data: bytes, *, max_rows: int = MAX_ROWS) -> ImportReport:
    """Parse and check every row; writes nothing."""
    report = ImportReport()
    try:
        table = read_table(filename, data, max_rows=max_rows)
    except TableError as exc:
        report.fail(exc.message)
        return report
    report.encoding = table.encoding
    columns = _check_headers(table.headers, report)
    if columns is None:
        return report
    blank_headed = [i for i, h in enumerate(table.headers) if not h]
    if not table.rows:
        report.fail("文件中没有项目数据行。")
        return report

    resolver = EstateResolver(actor)
    existing = set(db.session.execute(select(Project.street_id, Project.name)).all())
    seen: dict[tuple[int, str], int] = {}
    for line, cells in table.rows:
        def cell(name: str) -> Any:
            return cells[columns[name]] if name in columns else None

        # a CSV cell typed as "=…" is a formula to Excel too, when someone opens an export of it
        formulas = [name for name, index in columns.items()
                    if (line, index) in table.formula_cells or is_formula(cells[index])]
        if formulas:
            report.fail(f"第 {line} 行：「{'」「'.join(formulas)}」是公式，请改为数值或文字后再导入。")
            continue
        if any(cells[i] is not None for i in blank_headed):
            report.fail(f"第 {line} 行：有数据写在没有表头的列里。")
            continue
        problems: list[str] = []
        estate_ids: list[int] = []
        for text in LIST_SEPARATORS.split(cell_text(cell("小区"))):
            if text.strip():
                try:
                    estate_ids.append(resolver.resolve(text.strip()).id)
                except ServiceError as exc:
                    problems.append(exc.message.rstrip("。"))
        themes: list[str] = []
        try:
            themes = parse_themes(cell("主题"))
        except ServiceError as exc:
            problems.append(exc.message.rstrip("。"))
        status, started_on, completed_on = ProjectStatus.proposed, None, None
        try:
            if cell_text(cell("状态")):
                status = services.parse_status(cell_text(cell("状态")))
            started_on = parse_day(cell("开工日期"), "开工日期")
            completed_on = parse_day(cell("完成日期"), "完成日期")
        except ServiceError as exc:
            problems.append(exc.message.rstrip("。"))
        if problems:  # the remaining checks need the estates and themes
            report.fail(f"第 {line} 行：" + "；".join(problems) + "。")
            continue
        households = cell("覆盖户数")
        if households is None:  # blank: every household of its estates
            households = sum(e.household_count or 0 for e in resolver.estates if e.id in estate_ids)
        project_input = services.ProjectInput(
            name=cell_text(cell("项目名称")), estate_ids=estate_ids, themes=themes, category=cell_text(cell("类别")),
            cost_wan=cell("投资估算（万元）"), households_covered=households, description=cell_text(cell("说明")))
        try:
            checked = services.check_input(actor, project_input, check_name=False)
            if status is ProjectStatus.completed and started_on is None:
                raise ServiceError("状态为“已完成”的项目请填写开工日期")
            started, completed = services.initial_dates(status, started_on, completed_on)
        except ServiceError as exc:
            report.fail(f"第 {line} 行：{exc.message.rstrip('。')}。")
            continue
        key = (checked.street_id, checked.name)
        if key in seen:
            report.fail(f"第 {line} 行：项目名称「{checked.name}」与第 {seen[key]} 行重复。")
            continue
        if key in existing:
            report.fail(f"第 {line} 行：本街道已有项目「{checked.name}」，请换一个名称（或不要重复导入）。")
            continue
        seen[key] = line
        report.rows.append(ParsedProject(line, project_input, checked, status, started, completed))
    return report


def import_projects(actor, filename: str, data: bytes, *, max_rows: int = MAX_ROWS) -> ImportSummary:
    """All or nothing: any bad row raises ProjectImportError and nothing is written."""
    if actor is None or getattr(actor, "role", None) not in services.EDITORS:
        raise Forbidden()
    report = validate(actor, filename, data, max_rows=max_rows)
    if not report.ok:
        raise ProjectImportError(report)
    created: list[Project] = []
    note = f"导入：{filename}"[:200]
    try:
        for row in report.rows:
            services.require_editor(actor, row.checked.street_id)
            created.append(services.insert_project(actor, row.checked, row.status, row.started_on, row.completed_on, note))
        record_event(actor, "project.import", object_type=services.OBJECT_TYPE, street_id=street_limit(actor),
                     after={"project_ids": [p.id for p in created]}, note=f"{filename}: 新增 {len(created)} 个项目")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return ImportSummary(len(created), report.encoding, [p.id for p in created])
