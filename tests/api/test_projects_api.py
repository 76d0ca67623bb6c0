"""/api/v1/projects/*.json: keys as for Open311, a street key sees its street only, answers equal the
library's own functions and match the OpenAPI schemas, bad input is a 400 in the API's error format."""
import pytest
from openapi_schema_validator import OAS30Validator

from portal.accounts.models import Role
from portal.api.services import KeyPrincipal
from portal.projects import plan, scoring
from portal.projects.gaps import demand_gaps
from portal.projects.models import ProjectStatus
from tests.api.builders import errors_of, json_of, make_api_key
from tests.helpers import make_estate, make_user
from tests.projects.builders import add_signals, make_project
from tests.projects.scoring_builders import AS_OF, three_projects

ENDPOINTS = ("/api/v1/projects/ranking.json", "/api/v1/projects/plan.json?budget=100",
             "/api/v1/projects/gaps.json")


@pytest.fixture
def world(app):
    world = three_projects()
    # two gaps: one in each street, none covered by a project
    hot_north = make_estate(world["a"].community, name="北湖新村", household_count=100)
    add_signals(hot_north, "lighting", [1, 2, 3, 4], as_of=AS_OF)
    add_signals(world["c"], "roads", [1, 2, 3, 4, 5], as_of=AS_OF)
    world["district_key"] = make_api_key(name="区大数据平台")[1]
    world["north_key"] = make_api_key(world["north"], name="北街道系统")[1]
    world["south_key"] = make_api_key(world["south"], name="南街道系统")[1]
    world["admin"] = make_user(Role.district_admin)
    return world


def get(client, url, key):
    sep = "&" if "?" in url else "?"
    return client.get(f"{url}{sep}as_of={AS_OF.isoformat()}", headers={"X-API-Key": key} if key else {})


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").get_json()


def validate(document, name, instance):
    OAS30Validator({**document["components"]["schemas"][name], "components": document["components"]}).validate(instance)


def test_ranking_is_the_libraries_ranking_with_each_factor(client, world, document):
    body = json_of(get(client, "/api/v1/projects/ranking.json", world["district_key"]))
    validate(document, "ProjectRanking", body)
    expected = [r.as_dict() for r in scoring.rank(world["admin"], as_of=AS_OF)]
    assert body["projects"] == expected and body["count"] == 3 and body["as_of"] == AS_OF.isoformat()
    first = body["projects"][0]
    assert {f["code"] for f in first["factors"]} == {"demand", "support", "urgency", "category", "cost"}
    assert abs(sum(f["points"] for f in first["factors"]) - first["total"]) < 0.05


def test_ranking_filters_and_bad_filters(client, world):
    key = world["district_key"]
    basic = json_of(get(client, "/api/v1/projects/ranking.json?category=basic", key))
    assert [p["name"] for p in basic["projects"]] == ["桂花苑排水改造"]
    south = json_of(get(client, f"/api/v1/projects/ranking.json?street_id={world['south'].id}", key))
    assert [p["name"] for p in south["projects"]] == ["南湖加装电梯"]
    for query in ("category=luxury", "status=completed", "street_id=abc", "street_id=-3", "as_of=2026-13-01",
                  "as_of=1800-01-01"):
        response = get(client, f"/api/v1/projects/ranking.json?{query}", key)
        assert response.status_code == 400, query
        [(code, text)] = errors_of(response, "json")
        assert code == 400 and text


def test_plan_for_a_budget(client, world, document):
    response = get(client, "/api/v1/projects/plan.json?budget=150", world["district_key"])
    body = json_of(response)
    validate(document, "AnnualPlan", body)
    expected = plan.annual_plan(world["admin"], plan.parse_budget("150"), as_of=AS_OF).as_dict()
    assert body == expected
    assert body["budget_wan"] == "150.00"
    assert float(body["totals"]["cost_wan"]) <= 150
    assert {p["name"] for p in body["chosen"]} | {p["name"] for p in body["left_out"]} == {
        "桂花苑排水改造", "梧桐里停车改造", "南湖加装电梯"}


@pytest.mark.parametrize("budget", ["", "abc", "-5", "1.234", "1e999", "NaN", "999999999999", "Infinity"])
def test_bad_budget_is_a_400_in_the_api_error_format(client, world, budget):
    response = get(client, f"/api/v1/projects/plan.json?budget={budget}", world["district_key"])
    assert response.status_code == 400
    [(code, text)] = errors_of(response, "json")
    assert code == 400 and "budget" in text


def test_missing_budget(client, world):
    response = get(client, "/api/v1/projects/plan.json", world["district_key"])
    assert response.status_code == 400 and "缺少 budget" in errors_of(response, "json")[0][1]


def test_gaps_json(client, world, document):
    body = json_of(get(client, "/api/v1/projects/gaps.json", world["district_key"]))
    validate(document, "DemandGaps", body)
    assert [(g["estate_name"], g["theme"]) for g in body["gaps"]] == [("南湖小区", "roads"), ("北湖新村", "lighting")]
    assert body["gaps"] == [g.as_dict() for g in demand_gaps(world["admin"], as_of=AS_OF)]
    lighting = json_of(get(client, "/api/v1/projects/gaps.json?theme=lighting", world["district_key"]))
    assert [g["theme"] for g in lighting["gaps"]] == ["lighting"]
    for query in ("theme=other", "theme=nope", "street_id=x"):
        assert get(client, f"/api/v1/projects/gaps.json?{query}", world["district_key"]).status_code == 400
    # an active project over the pair takes it off the list
    make_project([world["c"]], ["roads"], status=ProjectStatus.approved)
    body = json_of(get(client, "/api/v1/projects/gaps.json", world["district_key"]))
    assert [g["theme"] for g in body["gaps"]] == ["lighting"]


def test_a_street_key_sees_only_its_street(client, world):
    north = world["north_key"]
    ranking = json_of(get(client, "/api/v1/projects/ranking.json", north))
    assert {p["street_id"] for p in ranking["projects"]} == {world["north"].id}
    assert json_of(get(client, f"/api/v1/projects/ranking.json?street_id={world['south'].id}", north))["projects"] == []
    gaps = json_of(get(client, "/api/v1/projects/gaps.json", north))
    assert [g["estate_name"] for g in gaps["gaps"]] == ["北湖新村"]
    assert json_of(get(client, f"/api/v1/projects/gaps.json?street_id={world['south'].id}", north))["gaps"] == []
    budget = json_of(get(client, "/api/v1/projects/plan.json?budget=1000", north))
    names = {p["name"] for p in budget["chosen"] + budget["left_out"]}
    assert names == {"桂花苑排水改造", "梧桐里停车改造"}
    south = json_of(get(client, "/api/v1/projects/plan.json?budget=1000", world["south_key"]))
    assert {p["name"] for p in south["chosen"] + south["left_out"]} == {"南湖加装电梯"}
    # the same as the library gives that street's staff
    principal = KeyPrincipal(key_id=0, name="x", prefix="x", role=Role.street_staff, street_id=world["north"].id)
    assert ranking["projects"] == [r.as_dict() for r in scoring.rank(principal, as_of=AS_OF)]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_keys_are_required_and_checked(client, world, url):
    missing = get(client, url, None)
    assert missing.status_code == 401 and errors_of(missing, "json")[0][0] == 401
    assert get(client, url, "ms_not-a-key").status_code == 403
    _, revoked = make_api_key(revoked=True)
    assert get(client, url, revoked).status_code == 403
    assert client.post(url, headers={"X-API-Key": world["district_key"]}).status_code == 405
