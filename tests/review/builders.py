"""Builders of tagged records awaiting review, written directly (no tagging)."""
from __future__ import annotations

from datetime import date

from portal.core.time import utcnow
from portal.extensions import db
from portal.minutes.models import Meeting, MeetingKind, MinutesPoint
from portal.suggestions.models import Suggestion
from portal.surveys.models import Channel, SurveyAnswer, SurveyResponse
from tests.helpers import make_household
from tests.surveys.builders import make_survey, question


def make_suggestion(estate, content="小区门口的路灯坏了", themes=("lighting",), needs_review=True, urgent=False):
    suggestion = Suggestion(estate_id=estate.id, street_id=estate.street_id, content=content, themes=list(themes),
                            theme_scores={t: 0.41 for t in themes}, urgent=urgent, needs_review=needs_review,
                            model_version="m-test", access_token_hash=f"h{db.session.query(Suggestion).count()}-{estate.id}")
    db.session.add(suggestion)
    db.session.commit()
    return suggestion


def make_point(estate, text="3号楼楼长：楼道灯坏了两个月", themes=("lighting",), needs_review=True):
    meeting = Meeting(street_id=estate.street_id, kind=MeetingKind.forum, title="问需座谈会", held_on=date(2026, 11, 3),
                      attendee_count=12, organiser="社区居委会", points_saved_at=utcnow())
    meeting.estates = [estate]
    point = MinutesPoint(position=1, text=text, themes=list(themes), theme_scores={t: 0.4 for t in themes},
                         needs_review=needs_review, model_version="m-test")
    meeting.points = [point]
    db.session.add(meeting)
    db.session.commit()
    return point


def make_text_answer(estate, text="停车太难了，晚上回来没地方停", themes=("parking",), needs_review=True):
    from portal.surveys.models import QuestionKind

    survey = make_survey([estate])
    household = make_household(estate)
    response = SurveyResponse(survey_id=survey.id, household_id=household.id, estate_id=estate.id,
                              channel=Channel.online)
    answer = SurveyAnswer(survey_id=survey.id, question_id=question(survey, QuestionKind.text).id, text=text,
                          themes=list(themes), needs_review=needs_review, model_version="m-test")
    response.answers = [answer]
    db.session.add(response)
    db.session.commit()
    return answer
