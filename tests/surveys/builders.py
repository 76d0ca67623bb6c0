"""Builders for survey tests (on top of tests/helpers.py)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Iterable, Optional

from werkzeug.security import generate_password_hash

from portal.extensions import db
from portal.surveys.models import MatterType, QuestionKind, Survey, SurveyEstate, SurveyQuestion, TallyScope
from portal.surveys.services import AnswerInput, local_today, submit_response

PRESET_ITEMS = [
    {"category": "基础类", "label": "排水管网改造", "theme": "drainage"},
    {"category": "完善类", "label": "加装电梯", "theme": "elevator"},
    {"category": "完善类", "label": "停车位改造", "theme": "parking"},
    {"category": "完善类", "label": "健身器材", "theme": "greening"},
    {"category": "完善类", "label": "绿化", "theme": "greening"},
    {"category": "提升类", "label": "其他（不归主题）"},
]


def give_code(household, code: str = "123456") -> str:
    """An access code hashed cheaply (the app uses the slow default; tests need not)."""
    household.access_code_hash = generate_password_hash(code, method="pbkdf2:sha256:1000")
    db.session.commit()
    return code


def make_survey(estates: Iterable, *, title: str = "桂花苑改造意愿调查", matter=MatterType.major,
                scope=TallyScope.estate, targets: Optional[list[str]] = None, opens_on: Optional[date] = None,
                closes_on: Optional[date] = None, questions: Optional[list[dict]] = None) -> Survey:
    estates = list(estates)
    today = local_today()
    survey = Survey(slug=f"t{len(title)}{estates[0].id}x{db.session.query(Survey).count() + 1}", street_id=estates[0].street_id,
                    title=title, intro="请每户填写一份。", matter_type=matter, tally_scope=scope,
                    scope_targets=targets or [], opens_on=opens_on or today - timedelta(days=1),
                    closes_on=closes_on or today + timedelta(days=14))
    survey.estate_links = [SurveyEstate(estate_id=e.id) for e in estates]
    if questions is None:
        questions = [
            {"kind": QuestionKind.consent, "text": "您是否同意实施本次改造？"},
            {"kind": QuestionKind.multiple, "text": "最需要改造的项目", "options": PRESET_ITEMS, "required": False},
            {"kind": QuestionKind.scale, "text": "您对小区现状的满意度", "required": False,
             "options": [{"label": "很不满意"}, {"label": "很满意"}]},
            {"kind": QuestionKind.text, "text": "其他意见建议", "required": False},
        ]
    survey.questions = [SurveyQuestion(position=i, kind=q["kind"], text=q["text"], required=q.get("required", True),
                                       options=q.get("options", []), max_choices=q.get("max_choices"))
                        for i, q in enumerate(questions, start=1)]
    db.session.add(survey)
    db.session.commit()
    return survey


def question(survey: Survey, kind: QuestionKind) -> SurveyQuestion:
    return next(q for q in survey.questions if q.kind == kind)


def answer(survey, household, consent=None, items=(), score=None, text=None):
    """A resident's online response: consent option index, multiple-choice items, a 1–5 score, free text."""
    data = {}
    for kind, value in ((QuestionKind.consent, consent), (QuestionKind.scale, score)):
        q = question(survey, kind)
        if value is not None:
            data[q.id] = AnswerInput(q.id, [value]) if kind == QuestionKind.consent else AnswerInput(q.id, number=value)
    if items:
        q = question(survey, QuestionKind.multiple)
        data[q.id] = AnswerInput(q.id, list(items))
    if text:
        q = question(survey, QuestionKind.text)
        data[q.id] = AnswerInput(q.id, text=text)
    if question(survey, QuestionKind.consent).id not in data:
        question(survey, QuestionKind.consent).required = False
    return submit_response(None, survey, household, data)
