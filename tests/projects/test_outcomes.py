"""After completion: demand 180 days before start vs 180 days after completion, young projects like for
like, aggregation by category and theme, scoping, the page and the partial the project page includes."""
from datetime import date, timedelta

import pytest
from flask import render_template_string

from portal.accounts.models import Role
from portal.projects import outcomes
from portal.projects.gaps import local_today
from portal.projects.models import ProjectCategory, ProjectStatus
from tests.helpers import login, make_community, make_estate, make_street, make_user
from tests.projects.builders import add_signals, make_project

STARTED, COMPLETED = date(2026, 3, 1), date(2026, 5, 1)
AS_OF = date(2026, 12, 31)  # more than 180 days after completion


def on_days(estate, theme, days, *, as_of=AS_OF, **kwargs):
    """One signal at local noon on each of `days` (each from its own reporter)."""
    add_signals(estate, theme, [(as_of - day).days + 0.5 for day in days], as_of=as_of, **kwargs)


@pytest.fixture
def world(app):
    heping, xinhua = make_street("和平街道"), make_street("新华街道")
    guihua = make_estate(make_community(heping), "桂花苑", household_count=100)
    xiangyang = make_estate(make_community(heping), "向阳新村", household_count=300)
    xinhuali = make_estate(make_community(xinhua), "新华里", household_count=200)
    return {"heping": heping, "xinhua": xinhua, "guihua": guihua, "xiangyang": xiangyang, "xinhuali": xinhuali,
            "admin": make_user(Role.district_admin), "staff": make_user(Role.street_staff, street=heping),
            "other": make_user(Role.street_staff, street=xinhua)}


def completed(estates, themes, *, started=STARTED, done=COMPLETED, **kwargs):
    return make_project(estates, themes, status=ProjectStatus.completed, started_on=started, completed_on=done,
                        **kwargs)


def test_before_and_after_windows_on_constructed_signals(world):
    estate = world["guihua"]
    project = completed([estate], ["drainage"])
    before_first = STARTED - timedelta(days=180)
    after_last = COMPLETED + timedelta(days=180)
    on_days(estate, "drainage", [before_first, STARTED - timedelta(days=90), STARTED - timedelta(days=60),
                                 STARTED - timedelta(days=30), STARTED - timedelta(days=2), STARTED - timedelta(days=1)])
    on_days(estate, "drainage", [COMPLETED + timedelta(days=1), after_last])
    # none of these count: the day before the before-window, the works (start day to completion day),
    # the day after the after-window, another theme, another estate
    on_days(estate, "drainage", [before_first - timedelta(days=1), STARTED, date(2026, 4, 1), COMPLETED,
                                 after_last + timedelta(days=1)])
    on_days(estate, "parking", [STARTED - timedelta(days=5)])
    on_days(world["xiangyang"], "drainage", [STARTED - timedelta(days=5)])
    result = outcomes.outcome_of(project, AS_OF)
    assert result.state == outcomes.COMPLETE and result.days == 180
    assert (result.before_start, result.before_end) == (before_first, STARTED - timedelta(days=1))
    assert (result.after_start, result.after_end) == (COMPLETED + timedelta(days=1), after_last)
    f = result.figures
    assert (f.before_counted, f.after_counted) == (6, 2)
    assert (f.before_per_100, f.after_per_100) == (pytest.approx(6.0), pytest.approx(2.0))  # 100 households
    assert f.change == pytest.approx(-4.0) and f.change_pct == pytest.approx(-2 / 3)
    row = result.as_dict()
    assert row["state"] == "complete" and row["change"] == -4.0 and row["before"]["from"] == before_first.isoformat()


def test_no_decay_and_once_per_reporter_per_30_days(world):
    estate = world["xiangyang"]  # 300 households
    project = completed([estate], ["elevator"])
    on_days(estate, "elevator", [STARTED - timedelta(days=170), STARTED - timedelta(days=10)])  # no decay: 1 each
    on_days(estate, "elevator", [STARTED - timedelta(days=20), STARTED - timedelta(days=15)], reporter="one-phone")
    f = outcomes.outcome_of(project, AS_OF).figures
    assert f.before_counted == 3 and f.before_per_100 == pytest.approx(1.0)
    assert f.after_per_100 == 0 and f.change_pct == pytest.approx(-1.0)


def test_a_young_project_is_compared_like_for_like_and_a_very_young_one_waits(world):
    estate = world["guihua"]
    project = completed([estate], ["drainage"])
    as_of = COMPLETED + timedelta(days=60)
    on_days(estate, "drainage", [STARTED - timedelta(days=d) for d in (10, 50, 100, 150)], as_of=as_of)
    on_days(estate, "drainage", [COMPLETED + timedelta(days=5)], as_of=as_of)
    result = outcomes.outcome_of(project, as_of)
    assert result.state == outcomes.PARTIAL and result.days == 60
    assert "竣工未满 180 天，截至今日" in result.state_label
    assert result.before_start == STARTED - timedelta(days=60)  # the 60 days just before the start, not 180
    assert (result.figures.before_counted, result.figures.after_counted) == (2, 1)

    waiting = outcomes.outcome_of(project, COMPLETED + timedelta(days=10))
    assert waiting.state == outcomes.PENDING and not waiting.compared
    assert "before_per_100" not in waiting.as_dict()


def test_projects_without_both_dates_are_not_evaluated(world):
    make_project([world["guihua"]], ["drainage"], status=ProjectStatus.in_progress, started_on=STARTED)
    make_project([world["guihua"]], ["drainage"], status=ProjectStatus.completed)
    assert outcomes.project_outcomes(world["admin"], as_of=AS_OF) == []


def test_aggregation_by_category_and_by_theme(world):
    guihua, xiangyang = world["guihua"], world["xiangyang"]
    drains = completed([guihua], ["drainage", "roads"], category=ProjectCategory.basic)
    lifts = completed([xiangyang], ["elevator"], category=ProjectCategory.enhance)
    completed([world["xinhuali"]], ["drainage"], category=ProjectCategory.basic, done=AS_OF - timedelta(days=5))
    before = STARTED - timedelta(days=20)
    after = COMPLETED + timedelta(days=20)
    on_days(guihua, "drainage", [before] * 4)  # 4 reporters before, 1 after
    on_days(guihua, "drainage", [after])
    on_days(guihua, "roads", [before])  # 1 before, 3 after: roads got worse
    on_days(guihua, "roads", [after] * 3)
    on_days(xiangyang, "elevator", [before] * 6)  # 300 households: 2.0 → 1.0
    on_days(xiangyang, "elevator", [after] * 3)
    found = outcomes.project_outcomes(world["admin"], as_of=AS_OF)
    assert len(found) == 3 and outcomes.summary_counts(found) == {"complete": 2, "pending": 1}

    categories = {g.key: g for g in outcomes.by_category(found)}
    assert set(categories) == {"basic", "enhance"}  # the pending one is left out of the sums
    basic = categories["basic"]
    assert basic.projects == 1 and basic.reduced == 1  # 5 → 4 per 100 over both its themes
    assert (basic.figures.before_per_100, basic.figures.after_per_100) == (pytest.approx(5.0), pytest.approx(4.0))
    basic_result = next(o for o in found if o.project.id == drains.id)
    assert basic_result.figures.change == pytest.approx(-1.0)
    assert categories["enhance"].figures.change_pct == pytest.approx(-0.5)
    assert categories["enhance"].reduced == 1

    themes = {g.key: g for g in outcomes.by_theme(found)}
    assert themes["drainage"].figures.change == pytest.approx(-3.0) and themes["drainage"].reduced == 1
    assert themes["roads"].figures.change == pytest.approx(2.0) and themes["roads"].reduced == 0
    assert themes["elevator"].figures.change == pytest.approx(-1.0)
    assert [g.key for g in outcomes.by_theme(found)][0] == "drainage"  # the largest drop first
    assert lifts.id in {o.project.id for o in found}


def test_street_staff_see_only_their_streets_outcomes(world):
    mine = completed([world["guihua"]], ["drainage"])
    theirs = completed([world["xinhuali"]], ["drainage"])
    assert [o.project.id for o in outcomes.project_outcomes(world["staff"], as_of=AS_OF)] == [mine.id]
    assert outcomes.project_outcomes(world["staff"], as_of=AS_OF, street_id=world["xinhua"].id) == []
    assert [o.project.id for o in outcomes.project_outcomes(world["other"], as_of=AS_OF)] == [theirs.id]
    assert len(outcomes.project_outcomes(world["admin"], as_of=AS_OF)) == 2


# --- pages ---------------------------------------------------------------------------------------

def test_outcomes_page_per_project_and_aggregated(client, world):
    today = local_today()
    started, done = today - timedelta(days=400), today - timedelta(days=200)
    completed([world["guihua"]], ["drainage"], name="桂花苑排水改造", started=started, done=done)
    completed([world["xinhuali"]], ["parking"], name="新华里停车改造", started=started, done=done)
    young = completed([world["xiangyang"]], ["elevator"], name="向阳新村加装电梯", started=started,
                      done=today - timedelta(days=45))
    on_days(world["guihua"], "drainage", [started - timedelta(days=3)] * 4, as_of=today)
    on_days(world["guihua"], "drainage", [done + timedelta(days=3)], as_of=today)
    login(client, world["admin"])
    html = client.get("/projects/outcomes").get_data(as_text=True)
    assert "桂花苑排水改造" in html and "新华里停车改造" in html and "向阳新村加装电梯" in html
    assert "-3.00" in html and "-75.0%" in html and "基础类" in html and "排水防涝" in html
    assert "竣工未满 180 天，截至今日" in html  # the young one
    assert young.id


def test_outcomes_page_is_scoped_and_survives_bad_query_strings(client, world):
    today = local_today()
    started, done = today - timedelta(days=400), today - timedelta(days=200)
    completed([world["guihua"]], ["drainage"], name="桂花苑排水改造", started=started, done=done)
    completed([world["xinhuali"]], ["parking"], name="新华里停车改造", started=started, done=done)
    login(client, world["staff"])
    html = client.get(f"/projects/outcomes?street_id={world['xinhua'].id}").get_data(as_text=True)
    assert "新华里停车改造" not in html and "桂花苑排水改造" in html
    for query in ("street_id=x", "street_id=0", "street_id=123456789012"):
        assert client.get(f"/projects/outcomes?{query}").status_code == 200


def test_outcomes_page_needs_staff_or_admin(client, world):
    login(client, make_user(Role.operator))
    assert client.get("/projects/outcomes").status_code == 403


def test_the_partial_for_the_project_page(app, world):
    estate = world["guihua"]
    today = local_today()
    project = completed([estate], ["drainage", "roads"], started=today - timedelta(days=500),
                        done=today - timedelta(days=300))
    on_days(estate, "drainage", [project.started_on - timedelta(days=2)] * 2, as_of=today)
    with app.test_request_context("/"):
        html = render_template_string('{% include "projects/demand/_project_outcome.html" %}', project=project)
        assert "改造成效" in html and "2.00" in html and "-100.0%" in html and "道路交通" in html
        fresh = make_project([estate], ["drainage"], status=ProjectStatus.in_progress, started_on=today)
        assert render_template_string('{% include "projects/demand/_project_outcome.html" %}', project=fresh).strip() == ""
        waiting = completed([estate], ["drainage"], started=today - timedelta(days=40), done=today - timedelta(days=3))
        html = render_template_string('{% include "projects/demand/_project_outcome.html" %}', project=waiting)
        assert "待评估" in html


def test_the_project_page_shows_the_outcome(client, world):
    today = local_today()
    project = completed([world["guihua"]], ["drainage"], name="桂花苑排水改造", started=today - timedelta(days=400),
                        done=today - timedelta(days=200))
    on_days(world["guihua"], "drainage", [project.started_on - timedelta(days=3)] * 4, as_of=today)
    login(client, world["staff"])
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert 'id="project-outcome"' in html and "4.00" in html and "-100.0%" in html
