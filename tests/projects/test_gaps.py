"""Demand gaps: high-intensity (estate, theme) pairs with no active project; the page, its filters and scoping."""
from datetime import date, timedelta

import pytest

from portal.accounts.models import Role
from portal.extensions import db
from portal.projects import intensity
from portal.projects.gaps import GAP_MIN_COUNTED, GAP_MIN_PER_100, demand_gaps, local_today
from portal.projects.models import ProjectStatus
from tests.helpers import login, make_community, make_estate, make_street, make_user
from tests.projects.builders import add_signals, make_project

AS_OF = date(2026, 11, 30)


@pytest.fixture
def world(app):
    heping, xinhua = make_street("和平街道"), make_street("新华街道")
    guihua = make_estate(make_community(heping), "桂花苑", household_count=100)
    xiangyang = make_estate(make_community(heping), "向阳新村", household_count=400)
    xinhuali = make_estate(make_community(xinhua), "新华里", household_count=100)
    return {"heping": heping, "xinhua": xinhua, "guihua": guihua, "xiangyang": xiangyang, "xinhuali": xinhuali,
            "admin": make_user(Role.district_admin), "staff": make_user(Role.street_staff, street=heping),
            "other": make_user(Role.street_staff, street=xinhua)}


def pairs(gaps):
    return [(g.estate.name, g.theme) for g in gaps]


def test_a_high_pair_without_a_project_is_listed_with_the_scores_numbers(world):
    add_signals(world["guihua"], "drainage", [5, 40, 100, 200], as_of=AS_OF)
    add_signals(world["guihua"], "drainage", [10], as_of=AS_OF, urgent=True)
    [gap] = demand_gaps(world["admin"], as_of=AS_OF)
    assert (gap.estate.name, gap.theme, gap.counted) == ("桂花苑", "drainage", 5)
    expected = sum(0.5 ** ((age) / 180) for age in (5, 40, 100, 200, 10))  # 100 households: per 100 = weighted
    assert gap.per_100 == pytest.approx(expected)
    # exactly the score's formula for that pair
    score = intensity.scoring_intensity([world["guihua"].id], ["drainage"], AS_OF)
    assert gap.per_100 == pytest.approx(score.per_100) and gap.counted == score.counted
    assert gap.urgent_share == pytest.approx(0.2)
    row = gap.as_dict()
    assert row["estate_id"] == world["guihua"].id and row["street_name"] == "和平街道"
    assert row["theme_name"] == "排水防涝" and row["counted"] == 5 and row["households"] == 100


def test_an_active_project_covers_the_pair_a_completed_one_does_not(world):
    add_signals(world["guihua"], "drainage", [5, 6, 7, 8], as_of=AS_OF)
    add_signals(world["guihua"], "elevator", [5, 6, 7, 8], as_of=AS_OF)
    add_signals(world["xiangyang"], "drainage", [1] * 12, as_of=AS_OF)
    make_project([world["guihua"], world["xiangyang"]], ["drainage"], status=ProjectStatus.approved)
    make_project([world["guihua"]], ["elevator"], status=ProjectStatus.completed,
                 started_on=date(2026, 1, 1), completed_on=date(2026, 3, 1))
    assert pairs(demand_gaps(world["admin"], as_of=AS_OF)) == [("桂花苑", "elevator")]
    for status in (ProjectStatus.proposed, ProjectStatus.in_progress):
        project = make_project([world["guihua"]], ["elevator"], status=status)
        assert demand_gaps(world["admin"], as_of=AS_OF) == [], status
        db.session.delete(project)
        db.session.commit()


def test_a_project_on_the_estate_but_another_theme_does_not_cover(world):
    add_signals(world["guihua"], "parking", [3, 4, 5], as_of=AS_OF)
    make_project([world["guihua"]], ["drainage"], status=ProjectStatus.in_progress)
    make_project([world["xiangyang"]], ["parking"], status=ProjectStatus.in_progress)
    assert pairs(demand_gaps(world["admin"], as_of=AS_OF)) == [("桂花苑", "parking")]


def test_below_either_threshold_is_not_a_gap(world):
    # enough signals but spread over many households: under the rate
    add_signals(world["xiangyang"], "roads", [1] * 7, as_of=AS_OF)  # 7 per 400 households = 1.75
    assert 7 * 100 / 400 < GAP_MIN_PER_100
    # a high rate from too few reports (a tiny estate)
    tiny = make_estate(make_community(world["heping"]), "小院", household_count=20)
    add_signals(tiny, "lighting", [1] * (GAP_MIN_COUNTED - 1), as_of=AS_OF)
    # repeats by one reporter within 30 days count once
    add_signals(world["guihua"], "noise", [1, 2, 3, 4, 5, 6], as_of=AS_OF, reporter="same")
    # old signals decay below the rate: 3 signals 360 days ago weigh about 0.75 per 100
    add_signals(world["guihua"], "gas", [360, 361, 362], as_of=AS_OF)
    # outside the window
    add_signals(world["guihua"], "heating", [370, 380, 390, 400], as_of=AS_OF)
    assert demand_gaps(world["admin"], as_of=AS_OF) == []


def test_other_is_never_a_gap_and_gaps_sort_by_intensity(world):
    add_signals(world["guihua"], "other", [1] * 10, as_of=AS_OF)
    add_signals(world["guihua"], "parking", [1] * 3, as_of=AS_OF)
    add_signals(world["xinhuali"], "parking", [1] * 6, as_of=AS_OF)
    add_signals(world["xiangyang"], "parking", [1] * 10, as_of=AS_OF)  # 2.5 per 100
    assert pairs(demand_gaps(world["admin"], as_of=AS_OF)) == [
        ("新华里", "parking"), ("桂花苑", "parking"), ("向阳新村", "parking")]
    assert pairs(demand_gaps(world["admin"], as_of=AS_OF, theme="other")) == []
    assert pairs(demand_gaps(world["admin"], as_of=AS_OF, theme="drainage")) == []


def test_street_staff_see_only_their_street(world):
    add_signals(world["guihua"], "parking", [1] * 4, as_of=AS_OF)
    add_signals(world["xinhuali"], "parking", [1] * 4, as_of=AS_OF)
    assert pairs(demand_gaps(world["staff"], as_of=AS_OF)) == [("桂花苑", "parking")]
    assert demand_gaps(world["staff"], as_of=AS_OF, street_id=world["xinhua"].id) == []
    assert pairs(demand_gaps(world["other"], as_of=AS_OF)) == [("新华里", "parking")]
    assert pairs(demand_gaps(world["admin"], as_of=AS_OF, street_id=world["xinhua"].id)) == [("新华里", "parking")]


# --- the page ------------------------------------------------------------------------------------

def test_gaps_page_lists_rows_with_links(client, world):
    today = local_today()
    add_signals(world["guihua"], "drainage", [1, 2, 3, 4], as_of=today)
    add_signals(world["xinhuali"], "parking", [1, 2, 3, 4, 5], as_of=today)
    login(client, world["admin"])
    page = client.get("/projects/gaps")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "桂花苑" in html and "新华里" in html and "排水防涝" in html
    assert f"estate_id={world['guihua'].id}" in html and "theme=drainage" in html
    assert f"date_from={(today - timedelta(days=364)).isoformat()}" in html  # the records behind the number
    filtered = client.get(f"/projects/gaps?street_id={world['xinhua'].id}&theme=parking").get_data(as_text=True)
    assert "新华里" in filtered and "桂花苑" not in filtered


def test_gaps_page_pages_the_list_most_intense_first(client, world, monkeypatch):
    from portal.projects import demand_views

    monkeypatch.setattr(demand_views, "GAPS_PER_PAGE", 2)
    today = local_today()
    add_signals(world["guihua"], "parking", [1] * 3, as_of=today)  # 3 per 100
    add_signals(world["xinhuali"], "parking", [1] * 6, as_of=today)  # 6 per 100
    add_signals(world["xiangyang"], "parking", [1] * 10, as_of=today)  # 2.5 per 100
    login(client, world["admin"])

    def names(query=""):
        html = client.get(f"/projects/gaps{query}").get_data(as_text=True)
        listed = [name for name in ("新华里", "桂花苑", "向阳新村") if f'<th scope="row">{name}' in html]
        return listed, html

    first, html = names()
    assert first == ["新华里", "桂花苑"] and "共 <strong id=\"gap-count\">3</strong> 处需求缺口" in html
    assert "本页第 1–2 处" in html and "第 1 / 2 页" in html and "page=2" in html
    second, html = names("?page=2")
    assert second == ["向阳新村"] and "本页第 3–3 处" in html and "上一页" in html
    for nonsense in ("?page=99", "?page=abc", "?page=-1", "?page=99999999999"):
        listed, _ = names(nonsense)
        assert listed in (["新华里", "桂花苑"], ["向阳新村"]), nonsense  # the nearest page, never a 500
    assert names("?page=99")[0] == ["向阳新村"]


def test_gaps_page_is_scoped_and_survives_bad_query_strings(client, world):
    today = local_today()
    add_signals(world["xinhuali"], "parking", [1, 2, 3, 4, 5], as_of=today)
    login(client, world["staff"])
    html = client.get(f"/projects/gaps?street_id={world['xinhua'].id}").get_data(as_text=True)
    assert "新华里" not in html and "只能查看本街道的数据" in html
    for query in ("street_id=abc", "street_id=99999999999", "theme=nonsense", "theme=%00", "street_id=-1"):
        assert client.get(f"/projects/gaps?{query}").status_code == 200, query


def test_gaps_page_needs_staff_or_admin(client, world):
    assert client.get("/projects/gaps").status_code == 302  # to the login page
    login(client, make_user(Role.operator))
    assert client.get("/projects/gaps").status_code == 403
