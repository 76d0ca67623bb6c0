"""Survey results, the legal tally included, as JSON under /api/v1/surveys: API key, scoped, masked."""
import json

import pytest

from portal.api import services as api_services
from portal.extensions import csrf
from portal.surveys.models import QuestionKind
from tests.helpers import make_community, make_estate, make_household
from tests.surveys.builders import answer, give_code, make_survey

pytestmark = pytest.mark.usefixtures("fake_tagger")


@pytest.fixture
def api(app, estate_world):
    """The survey API blueprint, registered here as the app factory will register it."""
    from portal.surveys.api import api_bp

    if "survey_api" not in app.blueprints:
        csrf.exempt(api_bp)
        app.register_blueprint(api_bp)
    world = estate_world
    h = world["households"]
    answer(world["survey"], h["301"], consent=0, items=(1,), text="停车难，电话13812345678找张伟")
    answer(world["survey"], h["302"], consent=2, items=(1, 2))
    xinhuali = make_estate(make_community(world["xinhua"]), "新华里")
    give_code(make_household(xinhuali, "1", "1", "101"))
    world["theirs"] = make_survey([xinhuali], title="新华里调查")
    _, world["street_key"] = api_services.create_key(world["admin"], "和平街道系统", world["heping"].id)
    _, world["district_key"] = api_services.create_key(world["admin"], "区级大屏")
    return world


def get(client, path, key=None, **params):
    headers = {"X-API-Key": key} if key else {}
    response = client.get(path, headers=headers, query_string=params)
    return response, json.loads(response.data)


def test_a_key_is_required(client, api):
    response, body = get(client, "/api/v1/surveys/")
    assert response.status_code == 401 and body[0]["code"] == 401 and "API 密钥" in body[0]["description"]
    response, body = get(client, f"/api/v1/surveys/{api['survey'].id}/results", key="ms_wrong")
    assert response.status_code == 403 and body[0]["description"] == "API 密钥无效。"


def test_a_street_key_sees_its_street_only(client, api):
    response, body = get(client, "/api/v1/surveys/", key=api["street_key"])
    assert response.status_code == 200 and [s["title"] for s in body] == ["桂花苑改造意愿调查"]
    assert body[0]["responses"] == 2 and body[0]["status"] == "open"
    response, body = get(client, f"/api/v1/surveys/{api['theirs'].id}/results", key=api["street_key"])
    assert response.status_code == 404 and "新华里" not in response.get_data(as_text=True)
    _, body = get(client, "/api/v1/surveys/", key=api["district_key"])
    assert sorted(s["title"] for s in body) == ["新华里调查", "桂花苑改造意愿调查"]
    # the key may also come as Open311's api_key parameter
    response, _ = get(client, "/api/v1/surveys/", api_key=api["street_key"])
    assert response.status_code == 200


def test_results_json_has_counts_breakdowns_and_the_legal_tally(client, api):
    response, body = get(client, f"/api/v1/surveys/{api['survey'].id}/results", key=api["street_key"], by="unit")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert body["households_in_scope"] == 4 and body["responses"] == 2 and body["matter_type"] == "major"
    items = next(q for q in body["questions"] if q["kind"] == "multiple")
    elevator = items["options"][1]
    assert elevator == {"label": "加装电梯", "count": 2, "share": 1.0, "theme": "elevator"}
    assert [g["group"] for g in items["by_unit"]] == ["3栋1单元", "3栋2单元", "5栋1单元"]
    (body_tally,) = body["legal_tally"][0]["bodies"]
    assert body_tally["scope"] == "桂花苑" and body_tally["passed"] is False
    assert (body_tally["owners"], body_tally["voters"], body_tally["yes_voters"], body_tally["abstain_voters"]) == (3, 2, 1, 1)
    assert body_tally["ratios"]["participation_owners"] == {"value": pytest.approx(2 / 3), "numerator": "2",
                                                            "denominator": "3"}
    assert body_tally["ratios"]["yes_owners"]["value"] == 0.5
    assert body_tally["needed"]["more_voted_area_m2"] == "7.07"
    # 1 yes and 1 abstention: a major matter needs 2 more yes votes, and only one owner has not voted
    assert body_tally["needed"]["more_yes_voters"] == 2 and body_tally["needed"]["reachable"] is False
    text = next(q for q in body["questions"] if q["kind"] == "text")
    assert text["themes"] == [{"theme": "parking", "count": 1}]
    raw = response.get_data(as_text=True)
    assert "13812345678" not in raw and "张伟" not in raw  # free text masked for machines
    assert "123456" not in raw and "access_code" not in raw and "301" not in raw  # no codes, no rooms


def test_bad_parameters_get_an_error_in_the_api_format(client, api):
    response, body = get(client, f"/api/v1/surveys/{api['survey'].id}/results", key=api["street_key"], by="room")
    assert response.status_code == 400 and "by 只能是" in body[0]["description"]
    response, body = get(client, "/api/v1/surveys/999999/results", key=api["district_key"])
    assert response.status_code == 404 and body[0]["code"] == 404


def test_openapi_fragment_merges_into_a_valid_document(app):
    from openapi_spec_validator import validate

    from portal.api.openapi import openapi_document
    from portal.surveys.api import api_bp, openapi_paths, openapi_schemas

    document = openapi_document()
    document["paths"].update(openapi_paths())
    document["components"]["schemas"].update(openapi_schemas())
    validate(document)
    if "survey_api" not in app.blueprints:
        app.register_blueprint(api_bp)
    rules = {r.rule for r in app.url_map.iter_rules()}
    for path in openapi_paths():  # every documented path is served
        assert "/api/v1" + path.replace("{survey_id}", "<int:survey_id>") in rules
