"""Survey answers as demand records: what the demand dashboard shows for a survey signal and where it links."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from portal.core.scoping import scoped
from portal.demand.models import SignalSource
from portal.demand.sources import RecordRef, register
from portal.extensions import db
from portal.surveys.models import QuestionKind, Survey, SurveyAnswer, SurveyQuestion


@register(SignalSource.survey)
def survey_answers(ids: list[str], user) -> dict[str, RecordRef]:
    from portal.core.masking import text_for
    from portal.surveys.services import answer_display

    numeric = [int(i) for i in ids if i.isdigit()]
    if not numeric:
        return {}
    stmt = scoped(select(SurveyAnswer, SurveyQuestion, Survey)
                  .join(SurveyQuestion, SurveyAnswer.question_id == SurveyQuestion.id)
                  .join(Survey, SurveyAnswer.survey_id == Survey.id)
                  .where(SurveyAnswer.id.in_(numeric)), Survey, user)
    refs = {}
    for answer, question, survey in db.session.execute(stmt):
        if question.kind == QuestionKind.text:
            text = text_for(user, answer.text or "")
        else:
            text = f"{question.text} —— 选择：{answer_display(question, answer)}"
        refs[str(answer.id)] = RecordRef(SignalSource.survey, str(answer.id), f"意愿调查「{survey.title}」", text,
                                         url_for("surveys.results", survey_id=survey.id, _anchor=f"q{question.id}"))
    return refs
