"""Results: counts and shares per question by building and unit, free text by theme, the legal tally per
voting body (estate, building, unit) from the roster, the Excel export; scoping and masking."""
import io
import json
import re
from decimal import Decimal
from fractions import Fraction

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.audit.models import Event
from portal.extensions import db
from portal.surveys import results as survey_results
from portal.surveys.models import MatterType, QuestionKind, TallyScope
from tests.helpers import login, make_community, make_estate, make_household
from tests.surveys.builders import answer, make_survey, question

pytestmark = pytest.mark.usefixtures("fake_tagger")


@pytest.fixture
def answered(estate_world):
    world, h = estate_world, estate_world["households"]
    survey = world["survey"]
    answer(survey, h["301"], consent=0, items=(1, 2), score=4, text="停车太难，来电人张伟13812345678")
    answer(survey, h["302"], consent=0, items=(1,), score=2, text="楼顶漏水")
    answer(survey, h["501"], consent=1, items=(2,), score=5, text="垃圾没人清")  # the tenant
    return world


def test_counts_and_shares_by_building_and_by_unit(answered):
    survey = answered["survey"]
    by_building = survey_results.compute(survey, "building")
    assert (by_building.households, by_building.responses, by_building.online) == (4, 3, 3)
    items = next(q for q in by_building.questions if q.question.kind == QuestionKind.multiple)
    assert items.total.answered == 3 and items.total.counts[1:3] == [2, 2]
    assert items.total.shares[1] == pytest.approx(2 / 3)
    assert [(g.label, g.households, g.answered, g.counts[1], g.counts[2]) for g in items.groups] == [
        ("3栋", 3, 2, 2, 1), ("5栋", 1, 1, 0, 1)]
    scale = next(q for q in by_building.questions if q.question.kind == QuestionKind.scale)
    assert scale.total.counts == [0, 1, 0, 1, 1] and scale.total.mean == pytest.approx(11 / 3)
    by_unit = survey_results.compute(survey, "unit")
    consent = next(q for q in by_unit.questions if q.question.kind == QuestionKind.consent)
    assert [(g.label, g.counts) for g in consent.groups] == [
        ("3栋1单元", [0, 0, 0]), ("3栋2单元", [2, 0, 0]), ("5栋1单元", [0, 1, 0])]
    assert survey_results.compute(survey, "nonsense").breakdown == "building"


def test_free_text_is_tagged_and_filtered_by_theme(answered):
    results = survey_results.compute(answered["survey"], "building", theme="parking")
    text = next(q for q in results.questions if q.is_text)
    assert [t.household_label for t in text.texts] == ["3栋2单元301室"]
    everything = next(q for q in survey_results.compute(answered["survey"]).questions if q.is_text)
    assert dict(everything.theme_counts) == {"parking": 1, "building_safety": 1, "sanitation": 1}


def test_estate_tally_counts_owners_only_and_says_what_is_missing(answered):
    tally = survey_results.compute(answered["survey"]).tallies[0]
    (row,) = tally.rows
    t = row.result
    assert row.label == "桂花苑"
    assert (t.households, t.tenants, t.owners, t.area) == (4, 1, 3, Decimal("248.80"))
    assert (t.voters, t.voted_area, t.yes_voters, t.tenant_votes) == (2, Decimal("158.80"), 2, 1)
    assert t.participation_owners_ok and not t.participation_area_ok and not t.passed
    # 2/3 of 248.80 m² is 165.866…: 7.07 m² more, which only the owner of 3-1-101 can bring
    assert (t.more_voters_needed, t.more_voted_area_needed) == (1, Decimal("7.07"))
    assert (t.more_yes_voters_needed, t.more_yes_area_needed) == (1, Decimal("7.07")) and t.reachable


def test_building_scope_tallies_each_building_over_its_own_households(answered):
    survey = answered["survey"]
    survey.tally_scope = TallyScope.building
    db.session.commit()
    rows = survey_results.compute(survey).tallies[0].rows
    assert [r.label for r in rows] == ["3栋", "5栋"]
    three, five = (r.result for r in rows)
    assert (three.owners, three.voters, three.yes_voters) == (3, 2, 2)
    assert five.owners == 0 and five.tenant_votes == 1 and five.verdict == "范围内没有业主，无法统计"


def test_a_unit_inside_the_estate_is_its_own_voting_body(estate_world):
    world, h = estate_world, estate_world["households"]
    survey = make_survey([world["estate"]], title="3栋2单元加装电梯", scope=TallyScope.unit, targets=["3-2"])
    answer(survey, h["301"], consent=0)
    answer(survey, h["302"], consent=0)
    results = survey_results.compute(survey)
    assert results.households == 2
    (row,) = results.tallies[0].rows
    assert row.label == "3栋2单元" and row.result.owners == 2 and row.result.passed
    assert row.result.yes_owner_ratio == 1 and row.result.participation_area_ratio == 1


def test_owners_of_several_flats_are_one_person(estate_world):
    world, h = estate_world, estate_world["households"]
    for room in ("301", "302"):
        h[room].owner_id_number = "110101195001011234"
    db.session.commit()
    answer(world["survey"], h["301"], consent=0)
    (row,) = survey_results.compute(world["survey"]).tallies[0].rows
    assert row.result.owners == 2 and row.result.voters == 1  # 301 and 302 are one person; 101 another


def test_an_estate_without_a_roster_is_reported_not_guessed(estate_world):
    world = estate_world
    bare = make_estate(make_community(world["heping"]), "无名册小区")
    survey = make_survey([world["estate"], bare], title="片区调查", matter=MatterType.ordinary)
    answer(survey, world["households"]["301"], consent=0)
    results = survey_results.compute(survey)
    assert results.estates_without_roster == ["无名册小区"]
    rows = {r.label: r.result for r in results.tallies[0].rows}
    assert not rows["无名册小区"].has_roster and rows["无名册小区"].verdict == "无名册，无法统计"
    assert rows["桂花苑"].voters == 1


def test_results_page_shows_charts_tables_and_the_tally(client, answered):
    survey = answered["survey"]
    login(client, answered["staff"])
    page = client.get(f"/surveys/{survey.id}/results").get_data(as_text=True)
    assert "法定表决" in page and "未通过" in page and "参与表决还差 1 名业主、7.07 m²" in page
    assert "66.67%" in page and "63.83%" in page  # 2 of 3 owners; 158.80 of 248.80 m²
    assert "租户作答 1（不计入）" in page
    charts = json.loads(re.search(r'<script type="application/json" id="survey-charts">(.*?)</script>', page, re.S).group(1))
    items = next(c for c in charts if c["labels"][1] == "加装电梯")
    assert items["groups"] == ["3栋", "5栋"] and items["totals"][1] == 2
    assert f'id="{items["id"]}"' in page  # a chart, with its table beside it
    assert "<th>合计</th>" in page
    assert "13812345678" not in page and "张伟" not in page  # free text is masked for street staff
    filtered = client.get(f"/surveys/{survey.id}/results?theme=building_safety").get_data(as_text=True)
    assert "楼顶漏水" in filtered and "停车太难" not in filtered
    assert client.get(f"/surveys/{survey.id}/results?theme=<script>&by=zzz").status_code == 200


def test_results_page_without_answers_or_roster_does_not_break(client, estate_world):
    world = estate_world
    bare = make_estate(make_community(world["heping"]), "空小区")
    survey = make_survey([bare], title="空调查")
    login(client, world["staff"])
    page = client.get(f"/surveys/{survey.id}/results").get_data(as_text=True)
    assert "没有住户名册，无法统计法定表决" in page and "还没有人回答这道题" in page


def test_excel_export_is_scoped_has_no_codes_and_is_logged(client, answered):
    world = answered
    h = world["households"]["301"]
    h.owner_id_number = "110101195001011234"
    db.session.commit()
    login(client, world["staff"])
    response = client.get(f"/surveys/{world['survey'].id}/results.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["概况", "题目统计", "法定表决", "答卷明细", "意见建议"]
    cells = [str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    everything = "\n".join(cells)
    for secret in ("123456", "654321", "111222", "110101195001011234", "13812345678", "pbkdf2", "scrypt"):
        assert secret not in everything
    tally = list(book["法定表决"].iter_rows(values_only=True))
    assert tally[1][1] == "桂花苑" and tally[1][2] == "未通过" and tally[1][7] == "66.67%" and tally[1][16] == 1
    detail = list(book["答卷明细"].iter_rows(values_only=True))
    assert [r[3] for r in detail[1:]] == ["301", "302", "501"]
    assert detail[3][:6] == ("桂花苑", "5", "1", "501", "租户", "线上")
    event = db.session.scalar(select(Event).where(Event.action == "export"))
    assert event.actor_id == world["staff"].id and "3 份答卷" in event.note
    client.post("/logout")
    login(client, world["other_staff"])
    assert client.get(f"/surveys/{world['survey'].id}/results.xlsx").status_code == 404


def test_district_admin_sees_free_text_in_full(client, answered):
    login(client, answered["admin"])
    page = client.get(f"/surveys/{answered['survey'].id}/results").get_data(as_text=True)
    assert "13812345678" in page


def test_demand_dashboard_links_back_to_the_survey(client, answered):
    from portal.demand.models import DemandSignal, SignalSource
    from portal.demand.sources import load_records

    with client.application.test_request_context():
        login(client, answered["staff"])
        pairs = [(s.source, s.record_id) for s in db.session.scalars(select(DemandSignal))]
        refs = load_records(pairs, answered["staff"])
        other = load_records(pairs, answered["other_staff"])
    assert refs and all(r.url.startswith(f"/surveys/{answered['survey'].id}/results#q") for r in refs.values())
    assert any("加装电梯" in r.text for r in refs.values())
    assert all(source == SignalSource.survey for source, _ in refs)
    assert other == {}  # another street sees none of them


def _tally_view(tallies):
    return [(t.number, t.question.id, [(r.key, r.label, r.result) for r in t.rows]) for t in tallies]


def test_consent_tallies_alone_equal_the_full_results(answered):
    """Project scores read only the consent tallies (consent_tallies, plain columns); they must be the
    results page's tallies in every scope, with several flats of one owner, a replaced answer, a tenant and
    an estate without a roster."""
    world, h = answered, answered["households"]
    survey = world["survey"]
    for room in ("301", "302"):
        h[room].owner_id_number = "110101195001011234"
    db.session.commit()
    answer(survey, h["302"], consent=1, items=(1,))  # 302 changes its mind: only the new answer counts
    for scope in (TallyScope.estate, TallyScope.building, TallyScope.unit):
        survey.tally_scope = scope
        db.session.commit()
        full = survey_results.compute(survey).tallies
        assert full and _tally_view(survey_results.consent_tallies(survey)) == _tally_view(full), scope
    targeted = make_survey([world["estate"]], title="3栋2单元加装电梯", scope=TallyScope.unit, targets=["3-2"])
    answer(targeted, h["301"], consent=0)
    bare = make_estate(make_community(world["heping"]), "无名册小区")
    wide = make_survey([world["estate"], bare], title="片区调查", matter=MatterType.ordinary)
    answer(wide, h["501"], consent=0)
    answer(wide, h["101"], consent=2)
    for other in (targeted, wide):
        full = survey_results.compute(other).tallies
        assert _tally_view(survey_results.consent_tallies(other)) == _tally_view(full)
    rows = {r.label: r.result for r in survey_results.consent_tallies(wide)[0].rows}
    assert rows["桂花苑"].voters == 1 and rows["桂花苑"].tenant_votes == 1 and not rows["无名册小区"].has_roster
