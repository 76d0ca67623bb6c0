"""Survey operations (DESIGN.md §5). Every write checks the actor's scope and records an event.

Residents write through `submit_response` with no actor; staff build surveys, issue access codes
and enter paper answers. One response per household is enforced by the database (a unique
constraint written with an upsert), not by looking first.
"""
from __future__ import annotations

import hashlib
import random
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable, Optional, Sequence

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import Forbidden
from werkzeug.security import check_password_hash, generate_password_hash

from portal.accounts.models import Role
from portal.areas.models import Estate, Household, Occupancy
from portal.areas.roster import normalise_building, normalise_room, normalise_unit
from portal.areas.services import estates_of_one_street
from portal.audit.services import record_event, snapshot
from portal.core.errors import ServiceError
from portal.core.scoping import require_street
from portal.core.time import utcnow
from portal.core.workdays import local_today
from portal.demand.models import SignalSource
from portal.demand.services import SignalInput, replace_many, replace_signals, reporter_key
from portal.extensions import db
from portal.review.services import record_correction
from portal.surveys.models import (
    CONSENT_OPTIONS, SCALE_VALUES, Channel, MatterType, QuestionKind, Survey, SurveyAnswer, SurveyEstate,
    SurveyQuestion, SurveyResponse, SurveyResponseVersion, TallyScope,
)

EDITORS = (Role.street_staff, Role.district_admin)
SURVEY_FIELDS = ["title", "intro", "matter_type", "tally_scope", "scope_targets", "opens_on", "closes_on"]
QUESTION_FIELDS = ["kind", "text", "required", "options", "max_choices", "position"]
CATEGORIES = ("基础类", "完善类", "提升类")
MAX_QUESTIONS = 60
MAX_OPTIONS = 40
MAX_TEXT_ANSWER = 2000
CODE_DIGITS = 6
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # invisible; PostgreSQL refuses NUL
SUBMIT_ATTEMPTS = 6

# 城镇老旧小区改造内容 (国办发〔2020〕23号): the preset items, each mapped to its demand theme.
RENOVATION_PRESET: list[tuple[str, str, str]] = [
    ("基础类", "供水管网及二次供水改造", "water_supply"),
    ("基础类", "排水管网改造、雨污分流", "drainage"),
    ("基础类", "燃气管道改造", "gas"),
    ("基础类", "供暖管网及设施改造", "heating"),
    ("基础类", "供电线路改造、架空线规整入地", "power"),
    ("基础类", "屋面防水、外墙及楼道修缮", "building_safety"),
    ("基础类", "楼道灯和路灯", "lighting"),
    ("基础类", "小区道路修补", "roads"),
    ("基础类", "消防设施和消防通道", "fire_safety"),
    ("基础类", "安防监控和门禁", "security"),
    ("基础类", "垃圾分类收集设施", "sanitation"),
    ("完善类", "加装电梯", "elevator"),
    ("完善类", "停车位改造和增设", "parking"),
    ("完善类", "电动自行车和汽车充电设施", "ev_charging"),
    ("完善类", "无障碍坡道和扶手", "accessibility"),
    ("完善类", "绿化和公共活动空间", "greening"),
    ("完善类", "健身器材和休闲设施", "greening"),
    ("完善类", "物业管理用房和物业服务", "property_mgmt"),
    ("提升类", "养老服务设施（日间照料、居家养老）", "elderly_care"),
    ("提升类", "社区食堂、老年助餐点", "elderly_care"),
    ("提升类", "托育设施", "childcare"),
    ("提升类", "儿童游乐场地", "childcare"),
]


# --- permissions and small helpers ------------------------------------------------------------

def require_editor(actor, street_id: Optional[int]) -> None:
    if actor is None or actor.role not in EDITORS:
        raise Forbidden()
    require_street(actor, street_id)


def new_slug() -> str:
    return secrets.token_urlsafe(6).replace("-", "x").replace("_", "y")


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def clean_code(raw: Optional[str]) -> str:
    """Residents type codes with spaces or full-width digits; keep only the digits."""
    text = (raw or "").translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    return re.sub(r"\D", "", text)[:32]


def household_label(building: str, unit: str, room: str) -> str:
    unit_part = f"{unit}单元" if unit else ""
    return f"{building}栋{unit_part}{room}室"


def unit_key(building: str, unit: str) -> str:
    return f"{building}-{unit}" if unit else building


def target_label(scope: TallyScope, target: str) -> str:
    if scope == TallyScope.unit and "-" in target:
        building, unit = target.split("-", 1)
        return f"{building}栋{unit}单元"
    return f"{target}栋"


# --- building a survey ------------------------------------------------------------------------

@dataclass
class SurveyInput:
    title: str
    estate_ids: list[int]
    matter_type: MatterType
    tally_scope: TallyScope
    opens_on: date
    closes_on: date
    intro: str = ""
    scope_targets_text: str = ""


def _estates_for(actor, estate_ids: Sequence[int]) -> list[Estate]:
    street_id, estates = estates_of_one_street(estate_ids, "一次调查只能覆盖同一个街道的小区。")
    require_editor(actor, street_id)
    return estates


def parse_targets(scope: TallyScope, text: str, estates: list[Estate]) -> list[str]:
    """Buildings ("3", "3号楼") or units ("3-2", "3栋2单元") the survey is limited to, checked against the roster."""
    lines = [line.strip() for line in re.split(r"[\n\r,，、;；]+", text or "") if line.strip()]
    if not lines:
        return []
    if scope == TallyScope.estate:
        raise ServiceError("表决范围为“整个小区”时不能指定楼栋或单元；请把表决范围改为按楼栋或按单元。")
    if len(estates) != 1:
        raise ServiceError("指定楼栋或单元时，调查只能选择一个小区。")
    estate = estates[0]
    rows = db.session.execute(select(Household.building, Household.unit).where(Household.estate_id == estate.id)).all()
    if not rows:
        raise ServiceError(f"小区「{estate.name}」还没有住户名册，无法指定楼栋或单元。请先导入名册。")
    buildings = {b for b, _ in rows}
    units = {unit_key(b, u) for b, u in rows}
    targets: list[str] = []
    for line in lines[:200]:
        if scope == TallyScope.building:
            target = normalise_building(line)
            if target not in buildings:
                raise ServiceError(f"名册中没有“{line}”这栋楼。")
        else:
            match = re.fullmatch(r"(.+?)\s*(?:[-－—/／]|号楼|栋|幢|号)\s*(.+?)(?:单元)?", line)
            if not match:
                raise ServiceError(f"“{line}”不是有效的单元，请写成“3-2”或“3栋2单元”。")
            target = unit_key(normalise_building(match.group(1)), normalise_unit(match.group(2)))
            if target not in units:
                raise ServiceError(f"名册中没有“{line}”这个单元。")
        if target not in targets:
            targets.append(target)
    return targets


def _check_input(data: SurveyInput) -> None:
    title = (data.title or "").strip()
    if not title:
        raise ServiceError("请填写调查名称。")
    if len(title) > 128:
        raise ServiceError("调查名称最多 128 个字。")
    if len(data.intro or "") > 5000:
        raise ServiceError("调查说明最多 5000 个字。")
    if data.opens_on is None or data.closes_on is None:
        raise ServiceError("请填写开始和截止日期。")
    if data.closes_on < data.opens_on:
        raise ServiceError("截止日期不能早于开始日期。")


def _has_responses(survey: Survey) -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(SurveyResponse)
                                  .where(SurveyResponse.survey_id == survey.id)))


def create_survey(actor, data: SurveyInput) -> Survey:
    _check_input(data)
    estates = _estates_for(actor, data.estate_ids)
    targets = parse_targets(data.tally_scope, data.scope_targets_text, estates)
    survey = Survey(slug=new_slug(), street_id=estates[0].street_id, title=data.title.strip(),
                    intro=(data.intro or "").strip(), matter_type=data.matter_type, tally_scope=data.tally_scope,
                    scope_targets=targets, opens_on=data.opens_on, closes_on=data.closes_on,
                    created_by_id=actor.id)
    survey.estate_links = [SurveyEstate(estate_id=e.id) for e in estates]
    db.session.add(survey)
    db.session.flush()
    record_event(actor, "survey.create", survey,
                 after={**snapshot(survey, SURVEY_FIELDS), "estate_ids": [e.id for e in estates]})
    db.session.commit()
    return survey


def update_survey(actor, survey: Survey, data: SurveyInput) -> Survey:
    require_editor(actor, survey.street_id)
    _check_input(data)
    estates = _estates_for(actor, data.estate_ids)
    if estates[0].street_id != survey.street_id:
        raise ServiceError("调查不能改到其他街道的小区。")
    targets = parse_targets(data.tally_scope, data.scope_targets_text, estates)
    new_ids = sorted(e.id for e in estates)
    locked_changed = (new_ids != sorted(survey.estate_ids) or data.tally_scope != survey.tally_scope
                      or targets != list(survey.scope_targets or []))
    if locked_changed and _has_responses(survey):
        raise ServiceError("已有住户作答，不能再修改覆盖的小区和表决范围（否则已收回的答卷会失去对应关系）。")
    before = {**snapshot(survey, SURVEY_FIELDS), "estate_ids": sorted(survey.estate_ids)}
    survey.title, survey.intro = data.title.strip(), (data.intro or "").strip()
    survey.matter_type, survey.tally_scope, survey.scope_targets = data.matter_type, data.tally_scope, targets
    survey.opens_on, survey.closes_on = data.opens_on, data.closes_on
    if new_ids != sorted(survey.estate_ids):
        survey.estate_links = [SurveyEstate(estate_id=i) for i in new_ids]
    db.session.flush()
    record_event(actor, "survey.update", survey, before=before,
                 after={**snapshot(survey, SURVEY_FIELDS), "estate_ids": new_ids})
    db.session.commit()
    return survey


# --- questions --------------------------------------------------------------------------------

@dataclass
class QuestionInput:
    kind: QuestionKind
    text: str
    required: bool = True
    options_text: str = ""
    max_choices: Optional[int] = None
    scale_low: str = ""
    scale_high: str = ""


def _theme_code(raw: str) -> Optional[str]:
    from nlp.themes import THEMES

    raw = raw.strip()
    for theme in THEMES:
        if raw in (theme.code, theme.name):
            return theme.code
    return None


def parse_options(text: str) -> list[dict[str, Any]]:
    """One option a line: `选项`, `选项｜主题`, or `类别｜选项｜主题` (类别 is 基础类/完善类/提升类;
    主题 is a theme code or its Chinese name)."""
    options: list[dict[str, Any]] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = [p.strip() for p in re.split(r"[|｜]", line)]
        category = None
        if len(parts) == 3:
            category, label, theme_raw = parts
            if category not in CATEGORIES:
                raise ServiceError(f"选项第 {number} 行：类别“{category}”应为 基础类、完善类 或 提升类。")
        elif len(parts) == 2:
            label, theme_raw = parts
        elif len(parts) == 1:
            label, theme_raw = parts[0], ""
        else:
            raise ServiceError(f"选项第 {number} 行格式不对：应为“选项”、“选项｜主题”或“类别｜选项｜主题”。")
        if not label:
            raise ServiceError(f"选项第 {number} 行没有选项文字。")
        if len(label) > 100:
            raise ServiceError(f"选项第 {number} 行太长（最多 100 个字）。")
        option: dict[str, Any] = {"label": label}
        if category:
            option["category"] = category
        if theme_raw:
            code = _theme_code(theme_raw)
            if code is None:
                raise ServiceError(f"选项第 {number} 行：未知主题“{theme_raw}”。主题请写主题代码或中文名称，如 parking 或 停车管理。")
            option["theme"] = code
        if any(o["label"] == label for o in options):
            raise ServiceError(f"选项“{label}”重复了。")
        options.append(option)
    if len(options) > MAX_OPTIONS:
        raise ServiceError(f"选项太多（最多 {MAX_OPTIONS} 个）。")
    return options


def options_text(options: Iterable[dict[str, Any]]) -> str:
    """The editable text form of stored options (the inverse of parse_options)."""
    from nlp.themes import theme_name

    lines = []
    for option in options or []:
        parts = ([option["category"]] if option.get("category") else []) + [option.get("label", "")]
        if option.get("theme"):
            parts.append(theme_name(option["theme"]))
        elif option.get("category"):
            parts.append("")
        lines.append("｜".join(parts))
    return "\n".join(lines)


def preset_options_text() -> str:
    return options_text([{"category": c, "label": label, "theme": t} for c, label, t in RENOVATION_PRESET])


def _question_values(data: QuestionInput) -> dict[str, Any]:
    text = (data.text or "").strip()
    if not text:
        raise ServiceError("请填写题目。")
    if len(text) > 500:
        raise ServiceError("题目最多 500 个字。")
    options: list[dict[str, Any]] = []
    max_choices = None
    if data.kind in (QuestionKind.single, QuestionKind.multiple):
        options = parse_options(data.options_text)
        if len(options) < 2:
            raise ServiceError("选择题至少需要两个选项，每行一个。")
        if data.kind == QuestionKind.multiple and data.max_choices:
            if not 1 <= data.max_choices <= len(options):
                raise ServiceError(f"“最多选几项”应在 1 到 {len(options)} 之间。")
            max_choices = data.max_choices
    elif data.kind == QuestionKind.scale:
        low, high = (data.scale_low or "").strip()[:20], (data.scale_high or "").strip()[:20]
        options = [{"label": low or "很不满意"}, {"label": high or "很满意"}]
    return {"kind": data.kind, "text": text, "required": bool(data.required), "options": options,
            "max_choices": max_choices}


def _require_unlocked(survey: Survey) -> None:
    if _has_responses(survey):
        raise ServiceError("已有住户作答，题目不能再修改（否则已收回的答卷会对不上题目）。")


def add_question(actor, survey: Survey, data: QuestionInput) -> SurveyQuestion:
    require_editor(actor, survey.street_id)
    _require_unlocked(survey)
    values = _question_values(data)
    if len(survey.questions) >= MAX_QUESTIONS:
        raise ServiceError(f"一份调查最多 {MAX_QUESTIONS} 道题。")
    position = max((q.position for q in survey.questions), default=0) + 1
    question = SurveyQuestion(survey_id=survey.id, position=position, **values)
    db.session.add(question)
    db.session.flush()
    record_event(actor, "survey.question.add", survey, after=snapshot(question, QUESTION_FIELDS),
                 note=f"第 {position} 题")
    db.session.commit()
    return question


def add_preset_question(actor, survey: Survey) -> SurveyQuestion:
    return add_question(actor, survey, QuestionInput(
        kind=QuestionKind.multiple, text="您认为本小区最需要改造的项目有哪些？（可多选）",
        options_text=preset_options_text(), required=False))


def update_question(actor, survey: Survey, question: SurveyQuestion, data: QuestionInput) -> SurveyQuestion:
    require_editor(actor, survey.street_id)
    if question.survey_id != survey.id:
        raise ServiceError("题目不属于这份调查。")
    _require_unlocked(survey)
    values = _question_values(data)
    before = snapshot(question, QUESTION_FIELDS)
    for key, value in values.items():
        setattr(question, key, value)
    record_event(actor, "survey.question.update", survey, before=before, after=snapshot(question, QUESTION_FIELDS))
    db.session.commit()
    return question


def delete_question(actor, survey: Survey, question: SurveyQuestion) -> None:
    require_editor(actor, survey.street_id)
    if question.survey_id != survey.id:
        raise ServiceError("题目不属于这份调查。")
    _require_unlocked(survey)
    before = snapshot(question, QUESTION_FIELDS)
    survey.questions.remove(question)
    db.session.delete(question)
    for position, q in enumerate(survey.questions, start=1):
        q.position = position
    record_event(actor, "survey.question.delete", survey, before=before)
    db.session.commit()


def move_question(actor, survey: Survey, question: SurveyQuestion, step: int) -> None:
    require_editor(actor, survey.street_id)
    if question.survey_id != survey.id:
        raise ServiceError("题目不属于这份调查。")
    _require_unlocked(survey)
    ordered = list(survey.questions)
    index = ordered.index(question)
    target = index + (1 if step > 0 else -1)
    if not 0 <= target < len(ordered):
        return
    ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, q in enumerate(ordered, start=1):
        q.position = position
    record_event(actor, "survey.question.move", survey, before={"position": index + 1},
                 after={"position": target + 1}, note=question.text[:100])
    db.session.commit()


# --- households in scope ----------------------------------------------------------------------

def in_targets(survey: Survey, building: str, unit: str) -> bool:
    targets = survey.scope_targets or []
    if not targets:
        return True
    if survey.tally_scope == TallyScope.building:
        return building in targets
    return unit_key(building, unit) in targets


def households_in_scope(survey: Survey) -> list[Household]:
    rows = db.session.scalars(
        select(Household).where(Household.estate_id.in_(survey.estate_ids))
        .order_by(Household.estate_id, Household.building, Household.unit, Household.room)).all()
    return [h for h in rows if in_targets(survey, h.building, h.unit)]


def household_in_scope(survey: Survey, household: Household) -> bool:
    return household.estate_id in survey.estate_ids and in_targets(survey, household.building, household.unit)


def find_household(survey: Survey, estate_id: Optional[int], building: str, unit: str, room: str) -> Optional[Household]:
    """The household at a typed address ("3号楼", "2单元", "301室" all work), if it is in the survey."""
    if estate_id not in survey.estate_ids:
        return None
    household = db.session.scalar(select(Household).where(
        Household.estate_id == estate_id, Household.building == normalise_building(building),
        Household.unit == normalise_unit(unit), Household.room == normalise_room(room)))
    if household is None or not household_in_scope(survey, household):
        return None
    return household


# --- access codes (入户码) ----------------------------------------------------------------------

def regenerate_codes(actor, survey: Survey, households: Sequence[Household]) -> list[tuple[Household, str]]:
    """New codes for these households. Returns the codes, which are stored only as hashes and so exist
    only in the caller's hands (the printable sheet): the old codes stop working at once."""
    require_editor(actor, survey.street_id)
    households = list(households)
    if not households:
        raise ServiceError("没有符合条件的住户，没有生成入户码。")
    limit = current_app.config.get("SURVEY_CODE_BATCH_MAX", 60)
    if len(households) > limit:
        raise ServiceError(f"一次最多生成 {limit} 户的入户码（每个入户码都要加密保存，比较耗时）。"
                           f"本次选中了 {len(households)} 户，请按楼栋分批生成。")
    outside = [h for h in households if not household_in_scope(survey, h)]
    if outside:
        raise ServiceError("所选住户不在本调查范围内。")
    issued = []
    for household in households:
        code = new_code()
        household.set_access_code(code)
        issued.append((household, code))
    record_event(actor, "survey.codes.regenerate", survey,
                 after={"households": len(issued), "household_ids": [h.id for h, _ in issued]},
                 note=f"重新生成 {len(issued)} 户入户码（旧码作废）")
    db.session.commit()
    return issued


def code_fingerprint(household: Household) -> str:
    """Changes whenever the code is regenerated, so a resident's open session ends with the old code."""
    return hashlib.sha256((household.access_code_hash or "").encode()).hexdigest()[:16]


_DUMMY_HASH: Optional[str] = None


def verify_household(survey: Survey, estate_id: Optional[int], building: str, unit: str, room: str,
                     code: str) -> Household:
    """The household whose address and code these are, or a ServiceError that does not say which part was wrong."""
    global _DUMMY_HASH
    household = find_household(survey, estate_id, building, unit, room)
    code = clean_code(code)
    if household is None or not household.access_code_hash:
        # Spend the same time as a real check, so timing does not tell which rooms exist.
        if _DUMMY_HASH is None:
            _DUMMY_HASH = generate_password_hash(new_code())
        check_password_hash(_DUMMY_HASH, code or "0")
        raise ServiceError("楼栋、单元、房号或入户码不正确。请对照社区发放的入户码通知单重新输入；"
                           "如果没有收到入户码，请联系社区居委会。")
    if not code or not household.check_access_code(code):
        raise ServiceError("楼栋、单元、房号或入户码不正确。请对照社区发放的入户码通知单重新输入；"
                           "如果没有收到入户码，请联系社区居委会。")
    return household


# --- answers ----------------------------------------------------------------------------------

@dataclass
class AnswerInput:
    question_id: int
    choices: list[int] = field(default_factory=list)
    number: Optional[int] = None
    text: Optional[str] = None

    @property
    def empty(self) -> bool:
        return not self.choices and self.number is None and not (self.text or "").strip()


def _int(value: Any) -> Optional[int]:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def parse_answers(survey: Survey, form) -> tuple[dict[int, AnswerInput], dict[int, str]]:
    """Read `q<id>` fields of a posted form into answers, with a Chinese message per bad question."""
    answers: dict[int, AnswerInput] = {}
    errors: dict[int, str] = {}
    for number, question in enumerate(survey.questions, start=1):
        name = f"q{question.id}"
        answer = AnswerInput(question.id)
        if question.kind == QuestionKind.multiple:
            raw = [v for v in form.getlist(name) if str(v).strip()]
            values = [_int(v) for v in raw]
            if any(v is None for v in values):
                errors[question.id] = f"第 {number} 题的选项无效，请重新选择。"
                continue
            answer.choices = sorted(set(values))
        elif question.kind in (QuestionKind.single, QuestionKind.consent, QuestionKind.scale):
            if len([v for v in form.getlist(name) if str(v).strip()]) > 1:
                errors[question.id] = f"第 {number} 题只能选一项。"
                continue
            raw = (form.get(name) or "").strip()
            if raw:
                value = _int(raw)
                if value is None:
                    errors[question.id] = f"第 {number} 题的选项无效，请重新选择。"
                    continue
                if question.kind == QuestionKind.scale:
                    answer.number = value
                else:
                    answer.choices = [value]
        else:
            answer.text = CONTROL_CHARACTERS.sub("", form.get(name) or "").strip() or None
        try:
            check_answer(question, answer, number)
        except ServiceError as exc:
            errors[question.id] = exc.message
            continue
        if not answer.empty:
            answers[question.id] = answer
    return answers, errors


def check_answer(question: SurveyQuestion, answer: AnswerInput, number: int) -> None:
    if answer.empty:
        if question.required:
            raise ServiceError(f"第 {number} 题是必答题，请作答。")
        return
    kind = question.kind
    if kind == QuestionKind.scale:
        if answer.number not in SCALE_VALUES or answer.choices or answer.text:
            raise ServiceError(f"第 {number} 题请选 1 到 5 分。")
    elif kind == QuestionKind.text:
        if answer.choices or answer.number is not None:
            raise ServiceError(f"第 {number} 题请填写文字。")
        if len(answer.text or "") > MAX_TEXT_ANSWER:
            raise ServiceError(f"第 {number} 题最多 {MAX_TEXT_ANSWER} 个字，请精简一些。")
    else:
        size = len(CONSENT_OPTIONS) if kind == QuestionKind.consent else len(question.options or [])
        if answer.number is not None or answer.text or any(not 0 <= c < size for c in answer.choices):
            raise ServiceError(f"第 {number} 题的选项无效，请重新选择。")
        if kind != QuestionKind.multiple and len(answer.choices) != 1:
            raise ServiceError(f"第 {number} 题只能选一项。")
        if len(set(answer.choices)) != len(answer.choices):
            raise ServiceError(f"第 {number} 题的选项重复了。")
        if kind == QuestionKind.multiple and question.max_choices and len(answer.choices) > question.max_choices:
            raise ServiceError(f"第 {number} 题最多选 {question.max_choices} 项。")


def validate_answers(survey: Survey, answers: dict[int, AnswerInput]) -> None:
    questions = {q.id: (n, q) for n, q in enumerate(survey.questions, start=1)}
    if not questions:
        raise ServiceError("这份调查还没有题目。")
    unknown = [qid for qid in answers if qid not in questions]
    if unknown:
        raise ServiceError("提交的答案与调查题目不符，请刷新页面后重新作答。")
    for qid, (number, question) in questions.items():
        check_answer(question, answers.get(qid) or AnswerInput(qid), number)
    if not any(not a.empty for a in answers.values()):
        raise ServiceError("请至少回答一道题再提交。")


def consent_value(answer: SurveyAnswer) -> Optional[str]:
    return consent_choice(answer.choices)


def consent_choice(choices: Optional[list[int]]) -> Optional[str]:
    """The consent option (yes / no / abstain code) an answer's stored choices name, if any."""
    if choices and 0 <= choices[0] < len(CONSENT_OPTIONS):
        return CONSENT_OPTIONS[choices[0]][0]
    return None


def answer_display(question: SurveyQuestion, answer: Any) -> str:
    """An answer as a resident reads it back ("同意", "加装电梯、停车位", "4 分")."""
    if answer is None:
        return "（未作答）"
    choices = answer.get("choices") if isinstance(answer, dict) else answer.choices
    number = answer.get("number") if isinstance(answer, dict) else answer.number
    text = answer.get("text") if isinstance(answer, dict) else answer.text
    if question.kind == QuestionKind.scale:
        return f"{number} 分" if number is not None else "（未作答）"
    if question.kind == QuestionKind.text:
        return text or "（未作答）"
    labels = question.choice_labels
    shown = [labels[c] for c in choices or [] if 0 <= c < len(labels)]
    return "、".join(shown) if shown else "（未作答）"


def _answer_row(answer: SurveyAnswer) -> dict[str, Any]:
    return {"question_id": answer.question_id, "choices": list(answer.choices or []), "number": answer.number,
            "text": answer.text, "themes": list(answer.themes or []), "urgent": answer.urgent}


def _event_summary(survey: Survey, rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """What changed, for the event log: choices in words, free text only by its length."""
    questions = {q.id: q for q in survey.questions}
    summary = {}
    for row in rows:
        question = questions.get(row["question_id"])
        if question is None:
            continue
        if question.kind == QuestionKind.text:
            summary[str(question.id)] = f"（意见 {len(row.get('text') or '')} 字）"
        else:
            summary[str(question.id)] = answer_display(question, row)
    return summary


@dataclass
class TagOutcome:
    themes: list[str]
    urgent: bool
    needs_review: bool
    model_version: Optional[str]


def tag_free_texts(texts: Sequence[str]) -> list[Optional[TagOutcome]]:
    """Tag free-text answers; a resident's answer is saved even when the theme model is unavailable."""
    if not texts:
        return []
    try:
        from portal.core.tagging import tag_texts

        results = tag_texts(list(texts))
    except Exception:  # model missing or broken: keep the answer, tag it later (retag_answers)
        current_app.logger.exception("survey answers could not be tagged")
        return [None] * len(texts)
    return [TagOutcome([code for code, _ in r.themes], bool(r.urgent), bool(r.needs_review), r.model_version)
            for r in results]


def _apply_tags(answer: SurveyAnswer, outcome: Optional[TagOutcome]) -> None:
    if outcome is None:
        answer.themes, answer.urgent, answer.needs_review, answer.model_version = [], False, True, None
    else:
        answer.themes, answer.urgent = outcome.themes, outcome.urgent
        answer.needs_review, answer.model_version = outcome.needs_review, outcome.model_version


def answer_signals(question: SurveyQuestion, answer: SurveyAnswer, estate_id: int, household_id: int,
                   at: datetime) -> list[SignalInput]:
    """Chosen items that map to a theme, and tagged free text, are demand from this household."""
    reporter = reporter_key("household", household_id)
    themes: list[str] = []
    urgent = False
    version = None
    if question.kind in (QuestionKind.single, QuestionKind.multiple):
        options = question.options or []
        themes = [options[c]["theme"] for c in answer.choices or [] if 0 <= c < len(options) and options[c].get("theme")]
    elif question.kind == QuestionKind.text and answer.text:
        themes, urgent, version = list(answer.themes or []), bool(answer.urgent), answer.model_version
    unique = list(dict.fromkeys(themes))  # two items of one theme are one signal from this household
    return [SignalInput(estate_id=estate_id, theme=code, occurred_at=at, reporter_key=reporter, urgent=urgent,
                        model_version=version) for code in unique]


def _insert_or_claim(survey: Survey, household: Household, channel: Channel, entered_by_id: Optional[int],
                     now: datetime):
    """INSERT the response, or on conflict bump its version: either way this transaction now holds
    the household's one row (PostgreSQL locks it; SQLite holds the write lock)."""
    table = SurveyResponse.__table__
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values(
        survey_id=survey.id, household_id=household.id, estate_id=household.estate_id, channel=channel,
        version=1, submitted_at=now, entered_by_id=entered_by_id, created_at=now)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.survey_id, table.c.household_id],
                                      set_={"version": table.c.version + 1})
    # The returned channel and times are still the replaced answer's: they go into its history row.
    stmt = stmt.returning(table.c.id, table.c.version, table.c.channel, table.c.submitted_at, table.c.entered_by_id)
    return db.session.execute(stmt).one()


def submit_response(actor, survey: Survey, household: Household, answers: dict[int, AnswerInput],
                    channel: Channel = Channel.online, *, today: Optional[date] = None) -> SurveyResponse:
    """Save a household's answers, replacing (and keeping in history) any earlier ones."""
    if channel == Channel.paper:
        require_editor(actor, survey.street_id)
    status = survey.status(today or local_today())
    if status == "not_started":
        raise ServiceError(f"本次调查将于 {survey.opens_on:%Y年%m月%d日} 开始，现在还不能提交。")
    if status == "closed":
        raise ServiceError(f"本次调查已于 {survey.closes_on:%Y年%m月%d日} 截止，不能再提交或修改。")
    if not household_in_scope(survey, household):
        raise ServiceError("该户不在本次调查范围内。")
    validate_answers(survey, answers)

    questions = {q.id: q for q in survey.questions}
    texts = [(qid, a.text) for qid, a in answers.items() if questions[qid].kind == QuestionKind.text and a.text]
    outcomes = dict(zip([qid for qid, _ in texts], tag_free_texts([t for _, t in texts])))
    survey_id, household_id, estate_id = survey.id, household.id, household.estate_id
    entered_by_id = actor.id if channel == Channel.paper else None

    for attempt in range(SUBMIT_ATTEMPTS):
        try:
            return _write_response(actor, survey, household, answers, outcomes, channel, entered_by_id)
        except (IntegrityError, OperationalError) as exc:
            # A concurrent first answer (unique violation) or a busy SQLite: start again from the top.
            db.session.rollback()
            if attempt == SUBMIT_ATTEMPTS - 1:
                current_app.logger.error("survey %s household %s: gave up after %s attempts: %s",
                                         survey_id, household_id, SUBMIT_ATTEMPTS, exc)
                raise ServiceError("提交的人太多，系统繁忙，请稍后再试一次。") from exc
            time.sleep(random.uniform(0.02, 0.1) * (attempt + 1))
            survey = db.session.get(Survey, survey_id)
            household = db.session.get(Household, household_id)
    raise AssertionError("unreachable")  # pragma: no cover


def _write_response(actor, survey: Survey, household: Household, answers: dict[int, AnswerInput],
                    outcomes: dict[int, Optional[TagOutcome]], channel: Channel,
                    entered_by_id: Optional[int]) -> SurveyResponse:
    now = utcnow()
    questions = {q.id: q for q in survey.questions}
    claimed = _insert_or_claim(survey, household, channel, entered_by_id, now)
    response_id, version = claimed.id, claimed.version
    before = None
    old_ids: list[int] = []
    if version > 1:
        old = db.session.scalars(select(SurveyAnswer).where(SurveyAnswer.response_id == response_id)
                                 .order_by(SurveyAnswer.question_id).execution_options(populate_existing=True)).all()
        rows = [_answer_row(a) for a in old]
        old_ids = [a.id for a in old]
        for answer in old:
            db.session.expunge(answer)  # deleted below in bulk; keep the session from flushing them
        db.session.add(SurveyResponseVersion(
            response_id=response_id, survey_id=survey.id, household_id=household.id, version=version - 1,
            channel=Channel(claimed.channel), submitted_at=claimed.submitted_at,
            entered_by_id=claimed.entered_by_id, replaced_at=now, answers=rows))
        before = {"version": version - 1, "channel": Channel(claimed.channel).value,
                  "answers": _event_summary(survey, rows)}
        db.session.execute(delete(SurveyAnswer).where(SurveyAnswer.response_id == response_id))
        db.session.execute(update(SurveyResponse).where(SurveyResponse.id == response_id).values(
            channel=channel, submitted_at=now, entered_by_id=entered_by_id))

    new_answers = []
    for qid, data in answers.items():
        if data.empty:
            continue
        answer = SurveyAnswer(response_id=response_id, survey_id=survey.id, question_id=qid,
                              choices=list(data.choices), number=data.number, text=data.text)
        if questions[qid].kind == QuestionKind.text:
            _apply_tags(answer, outcomes.get(qid))
        new_answers.append(answer)
    db.session.add_all(new_answers)
    db.session.flush()

    by_record: dict[str, list[SignalInput]] = {str(i): [] for i in old_ids}
    for answer in new_answers:
        by_record[str(answer.id)] = answer_signals(questions[answer.question_id], answer, household.estate_id,
                                                   household.id, now)
    replace_many(SignalSource.survey, by_record)

    rows = [_answer_row(a) for a in new_answers]
    record_event(actor, "survey.response.replace" if version > 1 else "survey.response.submit",
                 object_type="survey_responses", object_id=response_id, street_id=survey.street_id, before=before,
                 after={"survey_id": survey.id, "household_id": household.id, "version": version,
                        "channel": channel.value, "answers": _event_summary(survey, rows)},
                 note=f"{survey.title}：{household.estate.name} {household.label}（{channel.label}）")
    db.session.commit()
    return db.session.get(SurveyResponse, response_id, populate_existing=True)


def current_response(survey: Survey, household: Household) -> Optional[SurveyResponse]:
    return db.session.scalar(select(SurveyResponse).where(SurveyResponse.survey_id == survey.id,
                                                          SurveyResponse.household_id == household.id))


def response_history(response: SurveyResponse) -> list[SurveyResponseVersion]:
    return db.session.scalars(select(SurveyResponseVersion).where(SurveyResponseVersion.response_id == response.id)
                              .order_by(SurveyResponseVersion.version)).all()


def retag_answers(actor, survey: Survey) -> int:
    """Tag free-text answers that were saved while the theme model was unavailable."""
    require_editor(actor, survey.street_id)
    pending = db.session.execute(
        select(SurveyAnswer, SurveyResponse).join(SurveyResponse, SurveyAnswer.response_id == SurveyResponse.id)
        .where(SurveyAnswer.survey_id == survey.id, SurveyAnswer.text.is_not(None),
               SurveyAnswer.model_version.is_(None))).all()
    if not pending:
        return 0
    outcomes = tag_free_texts([answer.text for answer, _ in pending])
    if any(o is None for o in outcomes):
        raise ServiceError("主题识别模型暂时不可用，请稍后再试。")
    questions = {q.id: q for q in survey.questions}
    by_record = {}
    for (answer, response), outcome in zip(pending, outcomes):
        _apply_tags(answer, outcome)
        by_record[str(answer.id)] = answer_signals(questions[answer.question_id], answer, response.estate_id,
                                                   response.household_id, response.submitted_at)
    replace_many(SignalSource.survey, by_record)
    record_event(actor, "survey.answers.retag", survey, after={"answers": len(pending)})
    db.session.commit()
    return len(pending)


def confirm_answer_tags(actor, answer: SurveyAnswer, themes: Sequence[str], urgent: bool) -> SurveyAnswer:
    """Staff accept or correct the themes of a free-text answer; its demand signals follow."""
    from portal.tickets.services import validate_themes

    response = answer.response
    require_editor(actor, response.survey.street_id)
    if answer.text is None:
        raise ServiceError("只有意见建议类的文字答案需要核对主题。")
    themes = validate_themes(list(themes))
    before = {"themes": list(answer.themes or []), "urgent": bool(answer.urgent), "needs_review": answer.needs_review}
    answer.themes, answer.urgent, answer.needs_review, answer.tags_confirmed = themes, bool(urgent), False, True
    after = {"themes": themes, "urgent": answer.urgent, "needs_review": False}
    corrected = before["themes"] != themes or before["urgent"] != answer.urgent
    replace_signals(SignalSource.survey, answer.id, answer_signals(
        answer.question, answer, response.estate_id, response.household_id, response.submitted_at))
    record_event(actor, "survey.answer.tags.correct" if corrected else "survey.answer.tags.confirm", answer,
                 street_id=response.survey.street_id, before=before, after=after)
    record_correction(actor, SignalSource.survey, answer.id, answer.text, before, after, response.survey.street_id,
                      answer.model_version)
    db.session.commit()
    return answer


def record_export(actor, survey: Survey, rows: int) -> None:
    record_event(actor, "export", survey, note=f"意愿调查结果导出：{survey.title}，{rows} 份答卷（不含入户码）")
    db.session.commit()


def occupancy_label(household: Household) -> str:
    return "业主" if household.occupancy == Occupancy.owner else "租户"
