"""Project library operations (DESIGN.md §6). Every write checks the actor's scope and records an event.

A project lies in one street: the street of its estates. Saves are optimistic: an edit carries the
revision it was loaded at, and a save against an older revision is refused with the name of whoever
saved first, so two people editing the same project never silently overwrite each other.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Optional, Sequence

from sqlalchemy import Select, case, delete, func, or_, select, update
from werkzeug.exceptions import Forbidden

from portal.accounts.models import Role
from portal.areas.models import Estate
from portal.audit.models import Event
from portal.audit.services import record_event, snapshot
from portal.core.errors import ServiceError
from portal.core.scoping import can_act_on_street, scoped, street_limit
from portal.core.time import utcnow
from portal.core.workdays import local_today, to_local
from portal.extensions import db
from portal.projects.models import (
    STATUS_ORDER, Project, ProjectCategory, ProjectEstate, ProjectScore, ProjectStatus, ProjectTheme,
)
from portal.surveys.models import QuestionKind, Survey, SurveyQuestion

EDITORS = (Role.street_staff, Role.district_admin)
OBJECT_TYPE = Project.__tablename__
PROJECT_FIELDS = ["name", "description", "category", "cost_wan", "households_covered", "consent_survey_id",
                  "estate_ids", "themes", "status", "started_on", "completed_on", "revision"]
MAX_NAME = 128
MAX_DESCRIPTION = 5000
MAX_ESTATES = 50
MAX_THEMES = 8
MAX_COST_WAN = Decimal("100000")  # 10 亿元: far above any single old-estate renovation
MAX_HOUSEHOLDS = 100000
EARLIEST_DATE = date(2000, 1, 1)


class ProjectInputError(ServiceError):
    """A bad value in one field: the form shows the message under that field."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


class RevisionConflict(ServiceError):
    """Someone saved the project after the editor loaded it."""


@dataclass
class ProjectInput:
    name: str
    estate_ids: list[int]
    themes: list[str]
    category: Any  # ProjectCategory or its value
    cost_wan: Any  # Decimal, number or text such as "120.5"
    households_covered: Any  # int or text
    description: str = ""
    consent_survey_id: Optional[int] = None


@dataclass
class CheckedProject:
    """A ProjectInput whose every value has been checked and converted."""
    name: str
    street_id: int
    estates: list[Estate]
    themes: list[str]
    category: ProjectCategory
    cost_wan: Decimal
    households_covered: int
    description: str
    consent_survey: Optional[Survey]

    @property
    def estate_ids(self) -> list[int]:
        return sorted(e.id for e in self.estates)


# --- small helpers ------------------------------------------------------------------------------

def require_editor(actor, street_id: Optional[int]) -> None:
    if actor is None or getattr(actor, "role", None) not in EDITORS or not can_act_on_street(actor, street_id):
        raise Forbidden()


def theme_codes() -> list[str]:
    from nlp.themes import THEME_CODES

    return list(THEME_CODES)


def parse_cost(value: Any) -> Decimal:
    """万元 as typed or as a spreadsheet gives it: 120, 120.5, "1,200", "120万元"."""
    if value is None or isinstance(value, bool):
        raise ProjectInputError("cost_wan", "请填写投资估算（万元）。")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, (int, float)):
        number = Decimal(str(value))
    else:
        text = re.sub(r"\s+", "", str(value)).replace(",", "").replace("，", "")
        text = re.sub(r"(万元|万)$", "", text)
        if not text:
            raise ProjectInputError("cost_wan", "请填写投资估算（万元）。")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ProjectInputError("cost_wan", f"投资估算「{str(value)[:20]}」不是数字。") from None
    if not number.is_finite():
        raise ProjectInputError("cost_wan", "投资估算不是有效的数字。")
    if number <= 0 or number > MAX_COST_WAN:
        raise ProjectInputError("cost_wan", f"投资估算应大于 0 且不超过 {MAX_COST_WAN} 万元。")
    if number != number.quantize(Decimal("0.01")):
        raise ProjectInputError("cost_wan", "投资估算最多保留两位小数（单位：万元）。")
    return number.quantize(Decimal("0.01"))


def parse_households(value: Any) -> int:
    if value is None or isinstance(value, bool) or (isinstance(value, str) and not value.strip()):
        raise ProjectInputError("households_covered", "请填写覆盖户数（可以为 0）。")
    if isinstance(value, float):
        if not value.is_integer():
            raise ProjectInputError("households_covered", "覆盖户数应为整数。")
        value = int(value)
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise ProjectInputError("households_covered", "覆盖户数应为整数。")
        value = int(value)
    if isinstance(value, str):
        text = re.sub(r"\s+", "", value).replace(",", "")
        text = re.sub(r"(\d)\.0+$", r"\1", re.sub(r"户$", "", text))  # "96.0": a whole number as a CSV writer gave it
        if not re.fullmatch(r"-?\d+", text):
            raise ProjectInputError("households_covered", f"覆盖户数「{value[:20]}」应为整数。")
        if len(text) > 12:  # int() refuses thousands of digits; a dozen is out of range already
            raise ProjectInputError("households_covered", f"覆盖户数应在 0–{MAX_HOUSEHOLDS} 之间。")
        value = int(text)
    if not isinstance(value, int):  # a date or time cell from a spreadsheet
        raise ProjectInputError("households_covered", f"覆盖户数「{str(value)[:20]}」应为整数。")
    if value < 0 or value > MAX_HOUSEHOLDS:
        raise ProjectInputError("households_covered", f"覆盖户数应在 0–{MAX_HOUSEHOLDS} 之间。")
    return int(value)


def parse_category(value: Any) -> ProjectCategory:
    if isinstance(value, ProjectCategory):
        return value
    text = re.sub(r"\s+", "", str(value or ""))
    if not text:
        raise ProjectInputError("category", "请选择项目类别（基础类、完善类或提升类）。")
    for category in ProjectCategory:
        if text in (category.value, category.label, category.label[:2]):
            return category
    raise ProjectInputError("category", f"项目类别「{text[:20]}」无法识别，应为基础类、完善类或提升类。")


def _check_themes(themes: Iterable[str]) -> list[str]:
    from nlp.themes import OTHER, theme_name

    codes = theme_codes()
    chosen: list[str] = []
    for code in themes or []:
        code = (code or "").strip()
        if code not in codes:
            raise ProjectInputError("themes", f"主题「{code[:32]}」不存在。")
        if code not in chosen:
            chosen.append(code)
    if not chosen:
        raise ProjectInputError("themes", "请至少选择一个主题（项目解决哪类居民诉求）。")
    if len(chosen) > MAX_THEMES:
        raise ProjectInputError("themes", f"一个项目最多选 {MAX_THEMES} 个主题。")
    if OTHER in chosen and len(chosen) > 1:
        raise ProjectInputError("themes", f"“{theme_name(OTHER)}”不能与其他主题同时选择。")
    return chosen


def _check_estates(actor, estate_ids: Sequence[Any]) -> tuple[int, list[Estate]]:
    try:
        ids = sorted({int(i) for i in estate_ids or []})
    except (TypeError, ValueError):
        raise ProjectInputError("estate_ids", "所选小区不存在。") from None
    if not ids:
        raise ProjectInputError("estate_ids", "请至少选择一个小区。")
    if len(ids) > MAX_ESTATES:
        raise ProjectInputError("estate_ids", f"一个项目最多覆盖 {MAX_ESTATES} 个小区。")
    # Only estates the actor can see: another street's estate is "not found", as everywhere else.
    estates = list(db.session.scalars(scoped(select(Estate).where(Estate.id.in_(ids)), Estate, actor)))
    if len(estates) != len(ids):
        raise ProjectInputError("estate_ids", "所选小区不存在或不在您的管辖范围内。")
    streets = {e.street_id for e in estates}
    if len(streets) > 1:
        raise ProjectInputError("estate_ids", "一个项目的小区必须都在同一个街道（片区项目也不能跨街道）。")
    return streets.pop(), sorted(estates, key=lambda e: e.id)


def consent_surveys_for(actor, street_id: Optional[int] = None) -> list[Survey]:
    """Surveys the actor may link as a project's consent survey: visible, with a consent question."""
    stmt = scoped(select(Survey), Survey, actor).where(
        Survey.id.in_(select(SurveyQuestion.survey_id).where(SurveyQuestion.kind == QuestionKind.consent)))
    if street_id is not None:
        stmt = stmt.where(Survey.street_id == street_id)
    return list(db.session.scalars(stmt.order_by(Survey.opens_on.desc(), Survey.id.desc())))


def _check_survey(actor, survey_id: Any, street_id: int) -> Optional[Survey]:
    if survey_id in (None, "", 0):
        return None
    try:
        survey_id = int(survey_id)
    except (TypeError, ValueError):
        raise ProjectInputError("consent_survey_id", "所选表决调查不存在。") from None
    survey = db.session.scalar(scoped(select(Survey).where(Survey.id == survey_id), Survey, actor))
    if survey is None:
        raise ProjectInputError("consent_survey_id", "所选表决调查不存在。")
    if survey.street_id != street_id:
        raise ProjectInputError("consent_survey_id", "关联的表决调查必须与项目的小区在同一个街道。")
    if not any(q.kind == QuestionKind.consent for q in survey.questions):
        raise ProjectInputError("consent_survey_id", f"调查「{survey.title}」没有表决题，不能作为项目的表决调查。")
    return survey


def _check_name_free(street_id: int, name: str, exclude_id: Optional[int] = None) -> None:
    stmt = select(func.count()).select_from(Project).where(Project.street_id == street_id, Project.name == name)
    if exclude_id is not None:
        stmt = stmt.where(Project.id != exclude_id)
    if db.session.scalar(stmt):
        raise ProjectInputError("name", f"本街道已有项目「{name}」，请换一个名称（如加上年份或期数）。")


def check_input(actor, data: ProjectInput, *, exclude_id: Optional[int] = None,
                check_name: bool = True) -> CheckedProject:
    """Every rule of a project's fields, in the order the form shows them; raises ProjectInputError."""
    if actor is None or getattr(actor, "role", None) not in EDITORS:
        raise Forbidden()
    name = re.sub(r"\s+", " ", data.name or "").strip()
    if not name:
        raise ProjectInputError("name", "请填写项目名称。")
    if len(name) > MAX_NAME:
        raise ProjectInputError("name", f"项目名称最多 {MAX_NAME} 个字。")
    if name.startswith("="):  # Excel would run it as a formula when the library is exported
        raise ProjectInputError("name", "项目名称不能以“=”开头。")
    street_id, estates = _check_estates(actor, data.estate_ids)
    if not can_act_on_street(actor, street_id):
        raise Forbidden()
    themes = _check_themes(data.themes)
    category = parse_category(data.category)
    cost = parse_cost(data.cost_wan)
    households = parse_households(data.households_covered)
    total = sum(e.household_count or 0 for e in estates)
    if total and households > total:
        raise ProjectInputError("households_covered", f"覆盖户数（{households}）超过了所选小区的总户数（{total}）。")
    description = (data.description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise ProjectInputError("description", f"项目说明最多 {MAX_DESCRIPTION} 个字。")
    if description.startswith("="):
        raise ProjectInputError("description", "项目说明不能以“=”开头。")
    survey = _check_survey(actor, data.consent_survey_id, street_id)
    if check_name:
        _check_name_free(street_id, name, exclude_id)
    return CheckedProject(name, street_id, estates, themes, category, cost, households, description, survey)


def _apply(project: Project, checked: CheckedProject) -> None:
    project.name = checked.name
    project.street_id = checked.street_id
    project.category = checked.category
    project.cost_wan = checked.cost_wan
    project.households_covered = checked.households_covered
    project.description = checked.description
    project.consent_survey_id = checked.consent_survey.id if checked.consent_survey else None
    # Change the link rows in place: dropping and re-adding the same key in one flush is fragile.
    wanted = set(checked.estate_ids)
    for link in [link for link in project.estate_links if link.estate_id not in wanted]:
        project.estate_links.remove(link)
    have = {link.estate_id for link in project.estate_links}
    for estate_id in checked.estate_ids:
        if estate_id not in have:
            project.estate_links.append(ProjectEstate(estate_id=estate_id))
    for link in [link for link in project.theme_links if link.theme not in checked.themes]:
        project.theme_links.remove(link)
    have_themes = {link.theme for link in project.theme_links}
    for theme in checked.themes:
        if theme not in have_themes:
            project.theme_links.append(ProjectTheme(theme=theme))


def _state(project: Project) -> dict[str, Any]:
    state = snapshot(project, PROJECT_FIELDS)
    state["estate_ids"] = sorted(state["estate_ids"])
    state["themes"] = sorted(state["themes"])
    return state


# --- status and dates ---------------------------------------------------------------------------

def _check_day(value: Optional[date], label: str) -> None:
    if value is None:
        return
    if value < EARLIEST_DATE:
        raise ServiceError(f"{label}不能早于 {EARLIEST_DATE.isoformat()}。")
    if value > local_today():
        raise ServiceError(f"{label}不能晚于今天。")


def status_dates(status: ProjectStatus, *, previous: ProjectStatus, started_on: Optional[date],
                 completed_on: Optional[date], on_date: Optional[date] = None) -> tuple[Optional[date], Optional[date]]:
    """(started_on, completed_on) after moving to `status`. 实施中 sets the start (default today), 已完成
    sets the completion (default today, not before the start); going back clears what no longer holds."""
    today = local_today()
    if status is ProjectStatus.in_progress:
        if on_date is None and previous is ProjectStatus.completed and started_on:
            start = started_on  # reopened: it started when it started
        else:
            start = on_date or today
        _check_day(start, "开工日期")
        return start, None
    if status is ProjectStatus.completed:
        if started_on is None:
            raise ServiceError("项目还没有开工日期：请先把状态改为“实施中”并填写开工日期，再设为已完成。")
        done = on_date or today
        _check_day(done, "完成日期")
        if done < started_on:
            raise ServiceError(f"完成日期（{done.isoformat()}）不能早于开工日期（{started_on.isoformat()}）。")
        return started_on, done
    return None, None


def parse_status(value: Any) -> ProjectStatus:
    if isinstance(value, ProjectStatus):
        return value
    text = re.sub(r"\s+", "", str(value or ""))
    for status in ProjectStatus:
        if text in (status.value, status.label):
            return status
    raise ServiceError(f"项目状态「{text[:20]}」无法识别，应为储备、入库、实施中或已完成。")


def _bump_revision(project: Project, expected_revision: int) -> None:
    """Take the next revision only if nobody saved in between (one UPDATE … WHERE revision = expected)."""
    if expected_revision != project.revision:
        raise RevisionConflict(conflict_message(project))
    result = db.session.execute(
        update(Project).where(Project.id == project.id, Project.revision == expected_revision)
        .values(revision=expected_revision + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise RevisionConflict(conflict_message(db.session.get(Project, project.id)))
    project.revision = expected_revision + 1


def last_save(project: Project) -> Optional[Event]:
    return db.session.scalar(
        select(Event).where(Event.object_type == OBJECT_TYPE, Event.object_id == str(project.id),
                            Event.action.in_(["project.create", "project.update", "project.status"]))
        .order_by(Event.id.desc()).limit(1))


def conflict_message(project: Optional[Project]) -> str:
    event = last_save(project) if project is not None else None
    if event is None:
        return "该项目已被其他人修改，您看到的是旧版本，请刷新后重新修改。"
    who = event.actor.display_name if event.actor else "系统"
    when = to_local(event.created_at).strftime("%Y-%m-%d %H:%M")
    return f"该项目已被 {who} 于 {when} 修改，您看到的是旧版本，请刷新后重新修改。"


# --- writes -------------------------------------------------------------------------------------

def insert_project(actor, checked: CheckedProject, status: ProjectStatus, started_on: Optional[date],
            completed_on: Optional[date], note: Optional[str]) -> Project:
    """Add a checked project and its create event to the session; the caller commits (imports commit once)."""
    project = Project(status=status, started_on=started_on, completed_on=completed_on, revision=1,
                      created_by_id=actor.id)
    _apply(project, checked)
    db.session.add(project)
    db.session.flush()
    record_event(actor, "project.create", project, after=_state(project), note=note)
    return project


def create_project(actor, data: ProjectInput, *, status: ProjectStatus = ProjectStatus.proposed,
                   started_on: Optional[date] = None, completed_on: Optional[date] = None,
                   note: Optional[str] = None, commit: bool = True) -> Project:
    """A new project; normally 储备. Imports of older projects give their status and dates."""
    checked = check_input(actor, data)
    require_editor(actor, checked.street_id)
    status = parse_status(status)
    started_on, completed_on = initial_dates(status, started_on, completed_on)
    project = insert_project(actor, checked, status, started_on, completed_on, note)
    if commit:
        db.session.commit()
    return project


def initial_dates(status: ProjectStatus, started_on: Optional[date],
                   completed_on: Optional[date]) -> tuple[Optional[date], Optional[date]]:
    if status is ProjectStatus.in_progress:
        return status_dates(status, previous=ProjectStatus.approved, started_on=None, completed_on=None,
                            on_date=started_on)
    if status is ProjectStatus.completed:
        _check_day(started_on, "开工日期")
        return status_dates(status, previous=ProjectStatus.in_progress, started_on=started_on,
                            completed_on=None, on_date=completed_on)
    return None, None


def update_project(actor, project: Project, data: ProjectInput, expected_revision: int) -> Project:
    """Save the form's fields (not the status: that is change_status). Refuses a stale revision."""
    require_editor(actor, project.street_id)
    try:
        expected_revision = int(expected_revision)
    except (TypeError, ValueError):
        expected_revision = 0
    if expected_revision != project.revision:
        raise RevisionConflict(conflict_message(project))
    checked = check_input(actor, data, exclude_id=project.id)
    require_editor(actor, checked.street_id)
    before = _state(project)
    _bump_revision(project, expected_revision)
    _apply(project, checked)
    db.session.flush()
    record_event(actor, "project.update", project, before=before, after=_state(project))
    db.session.commit()
    return project


def change_status(actor, project: Project, status: Any, on_date: Optional[date] = None) -> Project:
    require_editor(actor, project.street_id)
    status = parse_status(status)
    if status is project.status:
        raise ServiceError(f"项目已经是“{status.label}”状态。")
    started_on, completed_on = status_dates(status, previous=project.status, started_on=project.started_on,
                                            completed_on=project.completed_on, on_date=on_date)
    before = {"status": project.status, "started_on": project.started_on, "completed_on": project.completed_on,
              "revision": project.revision}
    _bump_revision(project, project.revision)
    project.status = status
    project.started_on = started_on
    project.completed_on = completed_on
    after = {"status": status, "started_on": started_on, "completed_on": completed_on, "revision": project.revision}
    record_event(actor, "project.status", project, before=before, after=after)
    db.session.commit()
    return project


DELETABLE = (ProjectStatus.proposed, ProjectStatus.approved)


def delete_project(actor, project: Project) -> None:
    """Only a project not yet started: one in progress or done is part of the record (and of the
    after-completion check), so it stays."""
    require_editor(actor, project.street_id)
    if project.status not in DELETABLE:
        raise ServiceError(f"“{project.status.label}”的项目不能删除；如计划有变，请先把状态改回“入库”或“储备”。")
    before = _state(project)
    before["street_id"] = project.street_id
    record_event(actor, "project.delete", project, before=before, note=project.name)
    db.session.execute(delete(ProjectScore).where(ProjectScore.project_id == project.id))
    db.session.delete(project)
    db.session.commit()


def record_export(actor, rows: int, query: str) -> None:
    record_event(actor, "export", object_type=OBJECT_TYPE, street_id=street_limit(actor),
                 note=f"项目库导出: {rows} 行; 筛选 {query[:500]}")
    db.session.commit()


# --- reading ------------------------------------------------------------------------------------

@dataclass
class ProjectFilters:
    street_id: Optional[int] = None
    category: Optional[str] = None
    status: Optional[str] = None
    q: str = ""

    @classmethod
    def from_args(cls, args) -> "ProjectFilters":
        street = (args.get("street_id") or "").strip()
        category = args.get("category") or None
        status = args.get("status") or None
        return cls(street_id=int(street) if street.isdigit() and len(street) < 10 else None,
                   category=category if category in ProjectCategory.__members__ else None,
                   status=status if status in ProjectStatus.__members__ else None,
                   q=re.sub(r"\s+", " ", args.get("q") or "").strip()[:64])

    def as_args(self) -> dict[str, Any]:
        return {k: v for k, v in (("street_id", self.street_id), ("category", self.category),
                                  ("status", self.status), ("q", self.q)) if v}


def _like_pattern(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def project_query(filters: ProjectFilters, user) -> Select:
    stmt = scoped(select(Project), Project, user)
    if filters.street_id:
        stmt = stmt.where(Project.street_id == filters.street_id)
    if filters.category:
        stmt = stmt.where(Project.category == ProjectCategory(filters.category))
    if filters.status:
        stmt = stmt.where(Project.status == ProjectStatus(filters.status))
    if filters.q:
        pattern = _like_pattern(filters.q)
        stmt = stmt.where(or_(Project.name.like(pattern, escape="\\"), Project.id.in_(
            select(ProjectEstate.project_id).join(Estate, Estate.id == ProjectEstate.estate_id)
            .where(Estate.name.like(pattern, escape="\\")))))
    # the pipeline's order (储备 → 已完成), newest first within a status
    by_stage = case({s: i for i, s in enumerate(STATUS_ORDER)}, value=Project.status)
    return stmt.order_by(by_stage, Project.id.desc())


def history(project: Project) -> list[Event]:
    return list(db.session.scalars(
        select(Event).where(Event.object_type == OBJECT_TYPE, Event.object_id == str(project.id))
        .order_by(Event.created_at, Event.id)))


def next_statuses(project: Project) -> list[ProjectStatus]:
    return [s for s in STATUS_ORDER if s is not project.status]


def category_for_theme(theme: str) -> Optional[ProjectCategory]:
    """The category the 城镇老旧小区改造 list puts a theme's items in (排水 → 基础类, 加装电梯 → 完善类)."""
    from portal.surveys.services import RENOVATION_PRESET

    label = next((category for category, _, code in RENOVATION_PRESET if code == theme), None)
    return next((c for c in ProjectCategory if c.label == label), None)
