"""Free-text answers tagged by the real theme model become themed (and urgent) demand signals."""
import pytest
from sqlalchemy import select

from portal.demand.models import DemandSignal, SignalSource
from portal.extensions import db
from portal.surveys import services
from portal.surveys.models import QuestionKind, SurveyAnswer
from tests.surveys.builders import question

pytestmark = pytest.mark.tagging


def test_free_text_answers_are_tagged_by_the_theme_model(estate_world):
    survey = estate_world["survey"]
    consent, text = question(survey, QuestionKind.consent), question(survey, QuestionKind.text)
    services.submit_response(None, survey, estate_world["households"]["301"], {
        consent.id: services.AnswerInput(consent.id, [0]),
        text.id: services.AnswerInput(text.id, text="楼道里电动车飞线充电，晚上插着电没人管，怕起火")})
    answer = db.session.scalar(select(SurveyAnswer).where(SurveyAnswer.question_id == text.id))
    assert "ev_charging" in answer.themes and answer.model_version
    themes = {s.theme for s in db.session.scalars(select(DemandSignal).where(DemandSignal.source == SignalSource.survey))}
    assert "ev_charging" in themes and themes == set(answer.themes)
