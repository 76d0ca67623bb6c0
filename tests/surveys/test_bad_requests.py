"""Malformed requests of every kind get a page with a message (4xx), never a server error, and change nothing."""
import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.surveys.models import Survey, SurveyQuestion, SurveyResponse
from tests.helpers import login
from tests.surveys.builders import make_survey

pytestmark = pytest.mark.usefixtures("fake_tagger")

STAFF_REQUESTS = [
    ("get", "/surveys/{id}/poster?estate_id=abc&building=%00"),
    ("get", "/surveys/{id}/poster"),
    ("get", "/surveys/{id}/paper?estate_id=abc&building=3&room=301"),
    ("get", "/surveys/{id}/paper?estate_id=999999&building=" + "9" * 500 + "&room=1"),
    ("get", "/surveys/{id}/results?by=../../etc&theme=%27%22"),
    ("get", "/surveys/{id}/results.xlsx?by=x"),
    ("get", "/surveys/{id}/questions/999999/edit"),
    ("get", "/surveys/{id}/questions/new?kind=<b>"),
    ("post", "/surveys/{id}/questions/{other_q}/delete"),
    ("post", "/surveys/{id}/questions/{q}/move?direction=sideways"),
    ("post", "/surveys/{id}/codes"),
    ("post", "/surveys/{id}/codes", {"form": "batch", "batch-estate_id": "abc", "batch-confirm": "y"}),
    ("post", "/surveys/{id}/codes", {"form": "one", "one-estate_id": "{estate}", "one-building": "",
                                     "one-room": ""}),
    ("post", "/surveys/{id}/paper", {"estate_id": "{estate}", "building": "3", "unit": "2", "room": "301",
                                     "q{q}": ["0", "1"]}),
    ("post", "/surveys/{id}/edit", {"title": "x", "estate_ids": ["abc"], "opens_on": "x", "closes_on": ""}),
    ("post", "/surveys/new", {"title": "x" * 300, "estate_ids": ["999999"], "matter_type": "major",
                              "tally_scope": "estate", "opens_on": "2026-01-01", "closes_on": "2026-01-02"}),
    ("post", "/surveys/{id}/questions/new", {"kind": "multiple", "text": "t", "options": "｜｜｜\n" * 3}),
    ("post", "/surveys/{id}/questions/new", {"kind": "multiple", "text": "t", "options": "\n".join(
        f"选项{i}" for i in range(60))}),
    ("post", "/surveys/{id}/questions/new", {"kind": "multiple", "text": "t", "options": "a\nb",
                                             "max_choices": "-1"}),
]
PUBLIC_REQUESTS = [
    ("post", "/s/{slug}", {"estate_id": "abc", "building": "3", "room": "301", "code": "123456"}),
    ("post", "/s/{slug}", {"estate_id": "999999", "building": "3", "room": "301", "code": "123456"}),
    ("post", "/s/{slug}", {"estate_id": "{estate}", "building": "3" * 100, "room": "301", "code": "1" * 100}),
    ("post", "/s/{slug}/answer", {"q{q}": "0"}),  # not identified
    ("get", "/s/{slug}/thanks"),
    ("post", "/s/{slug}/leave"),
    ("get", "/s/" + "x" * 300),
    ("get", "/s/{slug}?e=abc&b=" + "9" * 300),
]


def _fill(value, ids):
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value.format(**ids) if isinstance(value, str) else value


def _ids(world):
    survey = world["survey"]
    other = make_survey([world["estate"]], title="另一份")
    return {"id": survey.id, "slug": survey.slug, "estate": world["estate"].id, "q": survey.questions[0].id,
            "other_q": other.questions[0].id}


def _counts():
    return [db.session.scalar(select(func.count()).select_from(m)) for m in (Survey, SurveyQuestion, SurveyResponse)]


@pytest.mark.parametrize("request_", STAFF_REQUESTS)
def test_staff_pages_answer_bad_input_without_crashing(client, estate_world, request_):
    ids = _ids(estate_world)
    before = _counts()
    login(client, estate_world["staff"])
    method, path, *data = request_
    data = {_fill(k, ids): _fill(v, ids) for k, v in (data[0] if data else {}).items()}
    response = getattr(client, method)(_fill(path, ids), data=data)
    assert response.status_code < 500
    if response.status_code >= 400:
        assert "系统出错了" not in response.get_data(as_text=True)
    assert _counts() == before


@pytest.mark.parametrize("request_", PUBLIC_REQUESTS)
def test_resident_pages_answer_bad_input_without_crashing(client, estate_world, request_):
    ids = _ids(estate_world)
    before = _counts()
    method, path, *data = request_
    data = {_fill(k, ids): _fill(v, ids) for k, v in (data[0] if data else {}).items()}
    response = getattr(client, method)(_fill(path, ids), data=data)
    assert response.status_code < 500
    assert _counts() == before
