"""Project import under hostile input (hypothesis): any upload ends in created projects or a ProjectImportError
with Chinese, row-numbered messages; on error nothing at all is written; every created project keeps the
form's rules; and the cell parsers shared with the form are total."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st
from sqlalchemy import select

from portal.core.errors import ServiceError
from portal.extensions import db
from portal.projects import services
from portal.projects.importer import COLUMNS, HEADER_ALIASES, IGNORED, ProjectImportError, import_projects, parse_themes
from portal.projects.models import Project
from tests.fuzz_support import assert_chinese, cell_values, fuzz, row_counts, uploads, xlsx_bytes
from tests.projects.test_library import place  # noqa: F401  (the fixture)

pytestmark = pytest.mark.fuzz

KNOWN = COLUMNS + IGNORED + [alias for names in HEADER_ALIASES.values() for alias in names]
REQUIRED = ["项目名称", "小区", "主题", "类别", "投资估算（万元）", "覆盖户数"]
_names = iter(range(10**9))
PLAUSIBLE = {
    "项目名称": ["桂花苑排水防涝改造", "加装电梯", "=HYPERLINK(1)", "向阳新村适老化改造"],
    "小区": ["桂花苑", "桂花苑、纺织厂宿舍", "桂花社区/桂花苑", "新华里小区", "桂花小区", "不存在的小区", "/"],
    "主题": ["排水防涝", "elevator, 无障碍", "养老；accessibility", "unicorns"],
    "类别": ["基础类", "完善类", "提升类", "basic", "豪华类"],
    "投资估算（万元）": [180.5, "360", "95.25万元", "0", "-1", "1e999999", "1.005", "1,200"],
    "覆盖户数": [248, "120户", None, "-1", "9" * 5000, date(2024, 3, 5), datetime(2024, 3, 5, 9, 0), 1.5],
    "状态": ["", "入库", "储备", "已完成", "实施中", "??"],
    "开工日期": [None, "2024-03-01", date(2024, 3, 1), "0001-01-01", "下周一"],
    "完成日期": [None, "2024-12-31", "2023-01-01"],
}


@fuzz(150)
@given(upload=uploads(KNOWN, required=REQUIRED, plausible=PLAUSIBLE), who=st.sampled_from(["staff", "admin"]))
@example(upload=("p.csv", "项目名称,小区,主题,类别,投资估算（万元）,覆盖户数\n电梯,桂花苑,elevator,完善类,360,99999\n".encode()),
         who="staff")
def test_any_upload_creates_valid_projects_or_nothing(place, upload, who):  # noqa: F811
    actor = place[who]
    before = row_counts()
    try:
        summary = import_projects(actor, *upload)
    except ProjectImportError as failure:
        event("refused")
        assert_chinese(failure.message)
        assert failure.report.errors
        for message in failure.report.errors:
            assert_chinese(message)
        assert row_counts() == before
        return
    event("imported")
    assert summary.created == len(summary.project_ids) >= 1
    assert row_counts()["projects"] == before["projects"] + summary.created
    for project in db.session.scalars(select(Project).where(Project.id.in_(summary.project_ids))):
        assert project.name and not project.name.startswith("=") and "\x00" not in project.name
        assert Decimal("0") < project.cost_wan <= services.MAX_COST_WAN
        assert 0 <= project.households_covered <= services.MAX_HOUSEHOLDS
        assert project.estate_ids and project.themes
        if who == "staff":
            assert project.street_id == place["heping"].id  # never another street's estate
    # the same file again: every name is now taken, so it is refused whole
    with pytest.raises(ProjectImportError):
        import_projects(actor, *upload)


# --- good files import whole --------------------------------------------------------------------

GOOD = {"小区": ["桂花苑", "桂花苑、纺织厂宿舍", "桂花社区/桂花苑", "桂花小区", "向阳新村"],
        "主题": ["排水防涝", "elevator, 无障碍", "养老；accessibility", "parking"],
        "类别": ["基础类", "完善类", "提升类", "basic"],
        "投资估算（万元）": [180.5, "360", "95.25万元", "1,200", 0.01],
        "覆盖户数": [0, 96, "120户", None, 96.0]}


@st.composite
def good_files(draw):
    count = draw(st.integers(1, 5))
    prefix = f"项目{next(_names)}-"
    rows = [[f"{prefix}{i}", *(draw(st.sampled_from(GOOD[c])) for c in REQUIRED[1:])] for i in range(count)]
    order = draw(st.permutations(range(len(REQUIRED))))
    table = [[REQUIRED[i] for i in order]] + [[row[i] for i in order] for row in rows]
    if draw(st.booleans()):
        return "p.xlsx", xlsx_bytes(table), count
    from tests.fuzz_support import csv_bytes

    return "p.csv", csv_bytes(table, draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))), count


@fuzz(60)
@given(upload=good_files())
def test_good_files_import_every_row(place, upload):  # noqa: F811
    filename, data, count = upload
    try:
        summary = import_projects(place["staff"], filename, data)
    except ProjectImportError as failure:
        raise AssertionError(failure.report.errors) from None
    assert summary.created == count


@st.composite
def good_files_with_one_hostile_row(draw):
    count = draw(st.integers(1, 4))
    prefix = f"项目{next(_names)}-"
    rows = [[f"{prefix}{i}", *(draw(st.sampled_from(GOOD[c])) for c in REQUIRED[1:])] for i in range(count)]
    hostile = [draw(st.one_of(st.sampled_from(PLAUSIBLE[c]), cell_values)) for c in REQUIRED]
    rows.insert(draw(st.integers(0, count)), hostile)
    table = [REQUIRED, *rows]
    if draw(st.booleans()):
        return "p.xlsx", xlsx_bytes(table), count, prefix
    from tests.fuzz_support import csv_bytes

    return "p.csv", csv_bytes(table, "utf-8"), count, prefix


@fuzz(100)
@given(upload=good_files_with_one_hostile_row())
def test_one_bad_row_among_good_ones_writes_nothing(place, upload):  # noqa: F811
    filename, data, count, prefix = upload
    before = row_counts()
    try:
        summary = import_projects(place["staff"], filename, data)
    except ProjectImportError as failure:
        event("refused whole")
        for message in failure.report.errors:  # by row, or for the file (a NUL byte makes a CSV binary)
            assert_chinese(message)
        assert row_counts() == before
        return
    event("the odd row was valid")  # or blank, and skipped like any blank row
    assert summary.created in (count, count + 1)
    names = set(db.session.scalars(select(Project.name).where(Project.id.in_(summary.project_ids))))
    assert {f"{prefix}{i}" for i in range(count)} <= names


# --- the parsers shared with the form are total ---------------------------------------------------

odd_values = st.one_of(cell_values, st.sampled_from([time(9, 30), timedelta(days=2), Decimal("NaN"), Decimal("1E+999"),
                                                     "9" * 5000, "²", "٣٤", "１２０户"]))


@fuzz(400)
@given(value=odd_values)
@example(value=date(2024, 3, 5))
@example(value="9" * 5000)
def test_cell_parsers_are_total(value):
    for parse in (services.parse_cost, services.parse_households, services.parse_category, services.parse_status,
                  parse_themes):
        try:
            result = parse(value)
        except ServiceError as error:
            assert_chinese(error.message)
            continue
        if parse is services.parse_cost:
            assert Decimal("0") < result <= services.MAX_COST_WAN and result == result.quantize(Decimal("0.01"))
        if parse is services.parse_households:
            assert isinstance(result, int) and 0 <= result <= services.MAX_HOUSEHOLDS


@pytest.mark.parametrize("households", [date(2024, 3, 5), datetime(2024, 3, 5, 9, 0), "9" * 5000])
def test_regression_a_date_or_a_huge_number_of_households_is_explained(place, households):  # noqa: F811
    """A date cell reached `value < 0` (TypeError) and 5000 digits int()'s limit (ValueError): both crashed."""
    rows = [REQUIRED, ["电梯", "桂花苑", "elevator", "完善类", 360, households]]
    with pytest.raises(ProjectImportError) as failure:
        import_projects(place["staff"], "p.xlsx", xlsx_bytes(rows))
    [message] = failure.value.report.errors
    assert message.startswith("第 2 行：") and "覆盖户数" in message
    assert db.session.scalar(select(Project.id)) is None


@fuzz(50)
@given(upload=uploads(KNOWN, required=REQUIRED, plausible=PLAUSIBLE))
def test_the_import_page_never_answers_500(client, place, upload):  # noqa: F811
    import io

    from tests.helpers import login

    login(client, place["staff"])
    filename, data = upload
    before = row_counts()["projects"]
    response = client.post("/projects/import", data={"file": (io.BytesIO(data), filename)},
                           content_type="multipart/form-data")
    assert response.status_code in (302, 422), response.status_code
    if response.status_code == 422:  # (logging in is an event: count the projects alone here)
        assert row_counts()["projects"] == before
