"""Builders shared by the scoring, plan and priority-page tests."""
from __future__ import annotations

from datetime import date

from portal.extensions import db
from portal.projects.models import ProjectCategory
from portal.surveys.models import Channel, QuestionKind, SurveyAnswer, SurveyResponse
from tests.helpers import make_community, make_estate, make_household, make_street
from tests.projects.builders import add_signals, make_project

AS_OF = date(2026, 11, 30)
YES, NO, ABSTAIN = 0, 1, 2  # the consent question's option indexes


def vote(survey, household, choice: int) -> SurveyResponse:
    """A household's consent answer written directly (no tagging involved)."""
    consent = next(q for q in survey.questions if q.kind == QuestionKind.consent)
    response = SurveyResponse(survey_id=survey.id, household_id=household.id, estate_id=household.estate_id,
                              channel=Channel.online)
    response.answers = [SurveyAnswer(survey_id=survey.id, question_id=consent.id, choices=[choice])]
    db.session.add(response)
    db.session.commit()
    return response


def owners(estate, count: int, area: str = "80.00") -> list:
    return [make_household(estate, building="1", unit="1", room=f"{101 + i}", area=area) for i in range(count)]


def three_projects():
    """The hand-computed world of test_scoring: two streets, three candidates.

    Every signal is 180 days old (decay 0.5).
    P1 basic,   A (100 hh) drainage: 2 + 1 urgent signals → 1.5 → per 100 = 1.5, urgent 1/3; 100 hh / 100 万
    P2 improve, B (200 hh) parking:  3 signals            → 1.5 → per 100 = 0.75, urgent 0;  200 hh / 50 万
    P3 enhance, C (100 hh, street 2) elevator: 1 + 1 urgent at 360 days → 0.5 → 0.5, urgent 1/2; 100 hh / 200 万
    """
    north, south = make_street("北街道"), make_street("南街道")
    north_community, south_community = make_community(north), make_community(south)
    a = make_estate(north_community, name="桂花苑", household_count=100)
    b = make_estate(north_community, name="梧桐里", household_count=200)
    c = make_estate(south_community, name="南湖小区", household_count=100)
    add_signals(a, "drainage", [180, 180], as_of=AS_OF)
    add_signals(a, "drainage", [180], as_of=AS_OF, urgent=True)
    add_signals(b, "parking", [180, 180, 180], as_of=AS_OF)
    add_signals(c, "elevator", [360], as_of=AS_OF)
    add_signals(c, "elevator", [360], as_of=AS_OF, urgent=True)
    p1 = make_project([a], ["drainage"], name="桂花苑排水改造", category=ProjectCategory.basic, cost_wan="100")
    p2 = make_project([b], ["parking"], name="梧桐里停车改造", category=ProjectCategory.improve, cost_wan="50")
    p3 = make_project([c], ["elevator"], name="南湖加装电梯", category=ProjectCategory.enhance, cost_wan="200")
    return {"north": north, "south": south, "a": a, "b": b, "c": c, "p1": p1, "p2": p2, "p3": p3}


def ticket_with_signal(estate, theme: str, days_ago: float, *, as_of: date, urgent: bool = False,
                       content: str = "小区下水道堵塞，污水漫到家门口，来电人张伟13812345678"):
    """A real ticket and its demand signal (record_id = the ticket's id), so pages can click through to it."""
    from datetime import datetime, timedelta

    from sqlalchemy import insert

    from portal.demand.models import DemandSignal, SignalSource, local_day_of
    from portal.demand.services import rebuild_rollup
    from portal.projects.intensity import window_end
    from tests.helpers import make_ticket

    occurred = window_end(as_of) - timedelta(days=days_ago)
    ticket = make_ticket(content, estate=estate, street_id=estate.street_id, themes=(theme,), urgent=urgent,
                         caller_name="张伟", caller_phone="13812345678", received_at=occurred)
    db.session.execute(insert(DemandSignal), [{
        "source": SignalSource.hotline, "record_id": str(ticket.id), "estate_id": estate.id,
        "street_id": estate.street_id, "theme": theme, "occurred_at": occurred, "local_day": local_day_of(occurred),
        "urgent": urgent, "weight": 1.0, "reporter_key": f"phone:{ticket.id}", "created_at": datetime(2026, 1, 1)}])
    rebuild_rollup()
    db.session.commit()
    return ticket
