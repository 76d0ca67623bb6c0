"""Roster import: all-or-nothing, Chinese row-by-row errors, encodings and garbage."""
from decimal import Decimal

import io

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.areas import services
from portal.areas.models import Household, Occupancy
from portal.audit.models import Event
from portal.extensions import db
from tests.helpers import csv_bytes, login, make_estate, make_household, make_user, xlsx_bytes

HEADER = ["楼栋", "单元", "房号", "专有部分面积", "业主/租户", "业主证件号"]
ROWS = [
    ["1号楼", "1单元", "101", "86.5", "业主", "430103198001011234"],
    ["1号楼", "1单元", "102", "72.35", "租户", ""],
    ["2栋", "2", "301室", "90", "业主", "430103198001011234"],
]


def household_count(estate) -> int:
    return db.session.scalar(select(func.count()).select_from(Household).where(Household.estate_id == estate.id))


def event_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Event))


@pytest.fixture
def admin(app):
    return make_user(Role.district_admin)


@pytest.fixture
def estate(app):
    return make_estate()


def test_clean_utf8_csv_creates_households(admin, estate):
    summary = services.import_roster(admin, estate, "roster.csv", csv_bytes([HEADER, *ROWS]))

    assert (summary.created, summary.updated, summary.unchanged) == (3, 0, 0)
    rows = db.session.scalars(select(Household).order_by(Household.room)).all()
    assert [(h.building, h.unit, h.room) for h in rows] == [("1", "1", "101"), ("1", "1", "102"), ("2", "2", "301")]
    assert rows[0].area_m2 == Decimal("86.50")
    assert rows[1].occupancy == Occupancy.tenant and rows[1].owner_id_number is None
    assert estate.household_count == 3
    assert db.session.scalar(select(Event.action).where(Event.object_type == "estates")) == "roster.import"


def test_gbk_csv_with_floor_area_header(admin, estate):
    data = csv_bytes([["楼号", "单元", "房间号", "建筑面积(㎡)", "身份"], ["3", "1", "502", "65.2㎡", "业主"]], "gbk")
    summary = services.import_roster(admin, estate, "名册.csv", data)
    assert summary.created == 1 and summary.encoding == "gb18030"
    assert db.session.scalar(select(Household.area_m2)) == Decimal("65.20")


def test_gb18030_csv_with_rare_characters(admin, estate):
    data = csv_bytes([["楼栋", "房号", "面积"], ["𠀋园1", "101", "50"]], "gb18030")
    services.import_roster(admin, estate, "roster.csv", data)
    assert db.session.scalar(select(Household.building)) == "𠀋园1"


def test_xlsx_with_numeric_cells(admin, estate):
    data = xlsx_bytes([HEADER, [1, 1, 101, 86.5, "业主", "430103198001011234"], [1, 2, 201, 70, "", None]])
    services.import_roster(admin, estate, "roster.xlsx", data)
    assert household_count(estate) == 2
    assert db.session.scalar(select(Household.room).where(Household.unit == "2")) == "201"


def test_exclusive_area_wins_over_floor_area(admin, estate):
    data = csv_bytes([["楼栋", "房号", "建筑面积", "专有部分面积"], ["1", "101", "100", "82.4"]])
    services.import_roster(admin, estate, "r.csv", data)
    assert db.session.scalar(select(Household.area_m2)) == Decimal("82.40")


def expect_failure(admin, estate, filename, data) -> list[str]:
    before_households, before_events = household_count(estate), event_count()
    with pytest.raises(services.RosterImportError) as failure:
        services.import_roster(admin, estate, filename, data)
    assert household_count(estate) == before_households, "a failed import must write nothing"
    assert event_count() == before_events
    return failure.value.parse.errors


def test_wrong_columns_name_what_is_missing(admin, estate):
    errors = expect_failure(admin, estate, "r.csv", csv_bytes([["姓名", "电话"], ["张三", "13800000000"]]))
    assert errors == ["缺少必需的列：楼栋、房号、面积。文件中的列为：姓名、电话。"]


def test_duplicate_rooms_report_both_lines(admin, estate):
    errors = expect_failure(admin, estate, "r.csv", csv_bytes([HEADER, ROWS[0], ROWS[1], ["1", "1", "101室", "50", "", ""]]))
    assert errors == ["第 4 行：1栋1单元101室与第 2 行重复。"]


def test_every_bad_row_is_reported_and_nothing_is_written(admin, estate):
    make_household(estate, room="999")
    data = csv_bytes([HEADER, ROWS[0], ["", "1", "", "abc", "房东", "12"], ["1", "1", "103", "-5", "业主", ""],
                      ["1", "1", "104", "3000", "业主", "中文证件"]])
    errors = expect_failure(admin, estate, "r.csv", data)
    assert errors == [
        "第 3 行：楼栋为空；房号为空；面积「abc」不是数字；业主/租户「房东」无法识别，应填“业主”或“租户”；业主证件号格式不对（只能包含数字、字母和短横线）。",
        "第 4 行：面积「-5」不在 0–2000 平方米之间。",
        "第 5 行：面积「3000」不在 0–2000 平方米之间；业主证件号格式不对（只能包含数字、字母和短横线）。",
    ]


@pytest.mark.parametrize("garbage", [
    bytes(range(256)) * 40,
    b"\xff\xfe\x00\x00garbage\x00",
    b"PK\x03\x04not really a zip file",
])
def test_garbage_bytes_are_refused(admin, estate, garbage):
    errors = expect_failure(admin, estate, "roster.csv", garbage)
    assert len(errors) == 1 and ("文件" in errors[0] or "缺少必需的列" in errors[0])


def test_garbage_named_xlsx_is_refused(admin, estate):
    assert expect_failure(admin, estate, "roster.xlsx", b"hello, world") == [
        "无法读取 Excel 文件，文件可能已损坏或不是 .xlsx 格式。"]


def test_legacy_xls_gets_a_save_as_hint(admin, estate):
    assert "另存为 .xlsx" in expect_failure(admin, estate, "roster.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100)[0]


def test_empty_file(admin, estate):
    assert expect_failure(admin, estate, "roster.csv", b"") == ["文件是空的。"]
    assert expect_failure(admin, estate, "roster.csv", csv_bytes([HEADER])) == ["文件中没有住户数据行。"]


def test_formulas_in_xlsx_are_refused(admin, estate):
    data = xlsx_bytes([HEADER, ["1", "1", "101", "=40+40", "业主", None]])
    assert expect_failure(admin, estate, "r.xlsx", data) == ["第 2 行：「面积」是公式，请改为数值后再导入。"]


def test_id_number_turned_into_a_float_by_excel(admin, estate):
    data = xlsx_bytes([HEADER, ["1", "1", "101", 80, "业主", 4.30103198001011e17]])
    assert "被 Excel 转成了数字" in expect_failure(admin, estate, "r.xlsx", data)[0]


def test_blank_rows_and_stray_whitespace_are_ignored(admin, estate):
    data = csv_bytes([[], HEADER, [" 1 ", "\t1", "101\u3000", " 80 ", " 业主", ""], [], ["", "", "", "", "", ""],
                      ["1", "1", "102", "81", "业主", ""]])
    summary = services.import_roster(admin, estate, "r.csv", data)
    assert summary.created == 2
    assert db.session.scalar(select(Household.room).order_by(Household.room)) == "101"


def test_too_many_rows(admin, estate):
    rows = [HEADER] + [["1", "1", str(i), "50", "", ""] for i in range(30)]
    with pytest.raises(services.RosterImportError) as failure:
        services.import_roster(admin, estate, "r.csv", csv_bytes(rows), max_rows=20)
    assert failure.value.parse.errors == ["数据行太多：最多 20 行，请分批导入。"]


def test_reimport_updates_without_duplicating(admin, estate):
    services.import_roster(admin, estate, "r.csv", csv_bytes([HEADER, *ROWS]))
    changed = [ROWS[0], ["1号楼", "1单元", "102", "75", "业主", ""], ROWS[2], ["3", "1", "101", "60", "", ""]]
    summary = services.import_roster(admin, estate, "r.csv", csv_bytes([HEADER, *changed]))
    assert (summary.created, summary.updated, summary.unchanged) == (1, 1, 2)
    assert household_count(estate) == 4
    updated = db.session.scalar(select(Household).where(Household.room == "102"))
    assert updated.area_m2 == Decimal("75.00") and updated.occupancy == Occupancy.owner


def test_upload_page_shows_row_errors_in_chinese(client, app, estate):
    staff = make_user(Role.street_staff, street=estate.street)
    login(client, staff)
    data = csv_bytes([HEADER, ROWS[0], ["1", "1", "101", "x", "", ""]])
    response = client.post(f"/areas/estates/{estate.id}/roster",
                           data={"file": (io.BytesIO(data), "名册.csv")},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "导入失败：共 1 处错误，未写入任何数据。" in page
    assert "第 3 行：面积「x」不是数字；与第 2 行重复" not in page  # a bad row is not also compared
    assert "第 3 行：面积「x」不是数字。" in page
    assert household_count(estate) == 0


def test_upload_page_accepts_a_good_file(client, app, estate):
    login(client, make_user(Role.district_admin))
    response = client.post(f"/areas/estates/{estate.id}/roster",
                           data={"file": (io.BytesIO(csv_bytes([HEADER, *ROWS])), "r.csv")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "导入成功：新增 3 户，更新 0 户，未变 0 户。" in response.get_data(as_text=True)


def test_upload_refuses_other_extensions(client, app, estate):
    login(client, make_user(Role.district_admin))
    response = client.post(f"/areas/estates/{estate.id}/roster",
                           data={"file": (io.BytesIO(b"x"), "roster.pdf")},
                           content_type="multipart/form-data")
    assert "只支持 .xlsx 或 .csv 文件。" in response.get_data(as_text=True)
    assert household_count(estate) == 0
