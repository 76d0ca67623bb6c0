"""Project import and export: a good file in every accepted form, each kind of garbage refused with a
row-numbered message and nothing written, estates looked up within the importer's scope, and an
export that imports back to the same projects."""
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from werkzeug.exceptions import Forbidden

from portal.audit.models import Event
from portal.extensions import db
from portal.projects import importer, services
from portal.projects.importer import ProjectImportError, import_projects
from portal.projects.models import Project, ProjectCategory, ProjectStatus
from tests.helpers import csv_bytes, login, make_community, make_estate, xlsx_bytes
from tests.projects.builders import make_project
from tests.projects.test_library import place  # noqa: F401  (the fixture)

HEADER = ["项目名称", "小区", "主题", "类别", "投资估算（万元）", "覆盖户数", "状态", "说明"]
TODAY = services.local_today()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def good_rows():
    return [
        HEADER,
        ["桂花苑排水防涝改造", "桂花苑", "排水防涝", "基础类", 180.5, 248, "", "雨污分流"],
        ["桂花社区加装电梯", "桂花苑、纺织厂宿舍", "elevator, 无障碍", "完善类", "360", None, "入库", None],
        ["向阳新村适老化改造", "向阳新村", "养老；accessibility", "提升类", "95.25万元", "120户", "储备", ""],
    ]


def count_projects():
    return db.session.scalar(select(func.count()).select_from(Project))


def refused(actor, filename, data) -> list[str]:
    with pytest.raises(ProjectImportError) as info:
        import_projects(actor, filename, data)
    assert count_projects() == 0, "all or nothing"
    assert not db.session.scalar(select(func.count()).select_from(Event).where(Event.object_type == "projects"))
    return info.value.report.errors


def test_a_good_file_imports_every_row_with_events(place):  # noqa: F811
    summary = import_projects(place["staff"], "项目.xlsx", xlsx_bytes(good_rows()))
    assert summary.created == 3
    projects = {p.name: p for p in db.session.scalars(select(Project))}
    drain = projects["桂花苑排水防涝改造"]
    assert drain.estate_ids == [place["guihua"].id] and drain.themes == ["drainage"]
    assert drain.category is ProjectCategory.basic and drain.cost_wan == Decimal("180.50")
    assert drain.households_covered == 248 and drain.status is ProjectStatus.proposed and drain.description == "雨污分流"
    lift = projects["桂花社区加装电梯"]
    assert sorted(lift.estate_ids) == sorted([place["guihua"].id, place["fangzhi"].id])
    assert sorted(lift.themes) == ["accessibility", "elevator"] and lift.status is ProjectStatus.approved
    assert lift.households_covered == 248 + 96  # blank: every household of its estates
    care = projects["向阳新村适老化改造"]
    assert care.cost_wan == Decimal("95.25") and care.households_covered == 120
    assert care.category is ProjectCategory.enhance and sorted(care.themes) == ["accessibility", "elderly_care"]
    assert all(p.street_id == place["heping"].id and p.created_by_id == place["staff"].id for p in projects.values())
    creates = db.session.scalars(select(Event).where(Event.action == "project.create")).all()
    assert len(creates) == 3 and all(e.note == "导入：项目.xlsx" for e in creates)
    [batch] = db.session.scalars(select(Event).where(Event.action == "project.import")).all()
    assert sorted(batch.after["project_ids"]) == sorted(summary.project_ids) and batch.street_id == place["heping"].id


def test_csv_in_gbk_and_utf8_and_aliased_headers(place):  # noqa: F811
    rows = [["名称", "涉及小区", "诉求主题", "项目类别", "投资估算", "受益户数", "项目状态", "备注"],
            ["桂花苑路灯改造", "桂花小区", "照明", "基础", "30", "200", "", "桂花小区是别名"]]
    assert import_projects(place["staff"], "p.csv", csv_bytes(rows, "gbk")).encoding == "gb18030"
    rows[1][0] = "桂花苑路灯改造二期"
    assert import_projects(place["staff"], "p.csv", csv_bytes(rows, "utf-8-sig")).created == 1
    assert {p.estate_ids[0] for p in db.session.scalars(select(Project))} == {place["guihua"].id}


def test_started_and_finished_projects_bring_their_dates(place):  # noqa: F811
    start, done = TODAY - timedelta(days=400), TODAY - timedelta(days=100)
    rows = [HEADER + ["开工日期", "完成日期"],
            ["桂花苑屋面防水", "桂花苑", "building_safety", "基础类", 50, 248, "已完成", "", start, done.isoformat()],
            ["向阳新村道路修补", "向阳新村", "道路交通", "基础类", 40, 372, "实施中", "", start.strftime("%Y/%m/%d"), None],
            ["纺织厂宿舍充电棚", "纺织厂宿舍", "充电设施", "完善类", 12, 96, "实施中", "", None, None]]
    import_projects(place["staff"], "p.xlsx", xlsx_bytes(rows))
    projects = {p.name: p for p in db.session.scalars(select(Project))}
    assert (projects["桂花苑屋面防水"].started_on, projects["桂花苑屋面防水"].completed_on) == (start, done)
    assert projects["向阳新村道路修补"].started_on == start and projects["向阳新村道路修补"].completed_on is None
    assert projects["纺织厂宿舍充电棚"].started_on == TODAY


@pytest.mark.parametrize("row, words", [
    (["", "桂花苑", "排水防涝", "基础类", 10, 1, "", ""], "请填写项目名称"),
    (["甲", "", "排水防涝", "基础类", 10, 1, "", ""], "请至少选择一个小区"),
    (["甲", "不存在的小区", "排水防涝", "基础类", 10, 1, "", ""], "找不到小区「不存在的小区」"),
    (["甲", "新华里小区", "排水防涝", "基础类", 10, 1, "", ""], "找不到小区「新华里小区」"),  # another street's
    (["甲", "桂花苑", "", "基础类", 10, 1, "", ""], "请至少选择一个主题"),
    (["甲", "桂花苑", "下水道", "基础类", 10, 1, "", ""], "主题「下水道」无法识别"),
    (["甲", "桂花苑", "环境", "基础类", 10, 1, "", ""], "主题「环境」无法识别"),  # 环境卫生 or 环境污染?
    (["甲", "桂花苑", "其他、排水防涝", "基础类", 10, 1, "", ""], "不能与其他主题同时选择"),
    (["甲", "桂花苑", "排水防涝", "", 10, 1, "", ""], "请选择项目类别"),
    (["甲", "桂花苑", "排水防涝", "豪华类", 10, 1, "", ""], "项目类别「豪华类」无法识别"),
    (["甲", "桂花苑", "排水防涝", "基础类", None, 1, "", ""], "请填写投资估算"),
    (["甲", "桂花苑", "排水防涝", "基础类", 0, 1, "", ""], "应大于 0"),
    (["甲", "桂花苑", "排水防涝", "基础类", "12.345", 1, "", ""], "两位小数"),
    (["甲", "桂花苑", "排水防涝", "基础类", "约十万", 1, "", ""], "不是数字"),
    (["甲", "桂花苑", "排水防涝", "基础类", 10, -3, "", ""], "0–100000"),
    (["甲", "桂花苑", "排水防涝", "基础类", 10, 1.5, "", ""], "整数"),
    (["甲", "桂花苑", "排水防涝", "基础类", 10, 9999, "", ""], "超过了所选小区的总户数"),
    (["甲", "桂花苑", "排水防涝", "基础类", 10, 1, "完工", ""], "项目状态「完工」无法识别"),
    (["甲", "桂花苑", "排水防涝", "基础类", 10, 1, "已完成", ""], "请填写开工日期"),
])
def test_one_bad_row_means_nothing_is_written(place, row, words):  # noqa: F811
    rows = good_rows()
    rows.insert(2, row)
    errors = refused(place["staff"], "p.xlsx", xlsx_bytes(rows))
    assert len(errors) == 1 and errors[0].startswith("第 3 行：") and words in errors[0], errors


def test_every_bad_row_is_listed(place):  # noqa: F811
    rows = good_rows() + [["乙", "无此小区", "无此主题", "基础类", -1, 1, "", ""], ["丙", "桂花苑", "排水防涝", "基础类", 0, 1, "", ""]]
    errors = refused(place["staff"], "p.xlsx", xlsx_bytes(rows))
    assert errors[0].startswith("第 5 行：") and "找不到小区「无此小区」" in errors[0] and "无此主题" in errors[0]
    assert errors[1].startswith("第 6 行：") and "应大于 0" in errors[1]


def test_dates_must_be_real_and_in_order(place):  # noqa: F811
    header = HEADER + ["开工日期", "完成日期"]
    base = ["桂花苑屋面防水", "桂花苑", "building_safety", "基础类", 50, 248, "已完成", ""]
    for start, done, words in [("去年", None, "开工日期「去年」不是有效日期"),
                               (TODAY - timedelta(days=5), TODAY - timedelta(days=9), "不能早于开工日期"),
                               (TODAY - timedelta(days=5), TODAY + timedelta(days=9), "不能晚于今天")]:
        [error] = refused(place["staff"], "p.xlsx", xlsx_bytes([header, base + [start, done]]))
        assert words in error


def test_names_repeated_in_the_file_or_already_in_the_library(place):  # noqa: F811
    rows = good_rows() + [["桂花苑排水防涝改造", "桂花苑", "排水防涝", "基础类", 10, 1, "", ""]]
    [error] = refused(place["staff"], "p.xlsx", xlsx_bytes(rows))
    assert error == "第 5 行：项目名称「桂花苑排水防涝改造」与第 2 行重复。"
    make_project([place["xiangyang"]], ["elderly_care"], name="向阳新村适老化改造")
    with pytest.raises(ProjectImportError) as info:
        import_projects(place["staff"], "p.xlsx", xlsx_bytes(good_rows()))
    assert info.value.report.errors == ["第 4 行：本街道已有项目「向阳新村适老化改造」，请换一个名称（或不要重复导入）。"]
    assert count_projects() == 1


def test_ambiguous_estate_names_must_be_qualified(place):  # noqa: F811
    twin = make_estate(make_community(place["heping"], "东风社区"), "桂花苑", household_count=50)
    rows = good_rows()[:2]
    [error] = refused(place["staff"], "p.xlsx", xlsx_bytes(rows))
    assert "有 2 个小区都叫「桂花苑」，请写明社区" in error and "「东风社区/桂花苑」" in error
    rows[1][1] = "东风社区/桂花苑"
    rows[1][5] = 50
    import_projects(place["staff"], "p.xlsx", xlsx_bytes(rows))
    assert db.session.scalar(select(Project)).estate_ids == [twin.id]


def test_estates_of_two_streets_in_one_row(place):  # noqa: F811
    rows = [HEADER, ["跨街道", "桂花苑、新华里小区", "排水防涝", "基础类", 10, 1, "", ""]]
    [error] = refused(place["admin"], "p.xlsx", xlsx_bytes(rows))
    assert error.startswith("第 2 行：") and "同一个街道" in error


@pytest.mark.parametrize("filename, data, words", [
    ("p.xlsx", b"", "文件是空的"),
    ("p.csv", b"   \n  ", "文件是空的"),
    ("p.csv", "项目名称,小区,主题,类别,投资估算（万元）,覆盖户数\n".encode(), "没有项目数据行"),
    ("p.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "不支持旧版 .xls"),
    ("p.xlsx", b"PK\x03\x04 not really a zip", "无法读取 Excel 文件"),
    ("p.xlsx", b"just text pretending", "无法读取 Excel 文件"),
    ("p.csv", b"\x00\x01\x02binary\x00", "二进制内容"),
    ("p.csv", "名称,地址\n桂花苑,桂花路\n".encode(), "缺少必需的列：小区、主题、类别、投资估算（万元）、覆盖户数"),
])
def test_files_that_are_not_a_project_list(place, filename, data, words):  # noqa: F811
    errors = refused(place["staff"], filename, data)
    assert words in errors[0], errors


def test_unknown_and_repeated_columns_are_refused(place):  # noqa: F811
    rows = good_rows()
    rows[0] = HEADER + ["负责人"]
    rows[1] = rows[1] + ["张三"]
    assert "无法识别的列：负责人" in refused(place["staff"], "p.xlsx", xlsx_bytes(rows))[0]
    rows = good_rows()
    rows[0] = HEADER[:-1] + ["项目名称"]
    assert "表头重复：项目名称" in refused(place["staff"], "p.xlsx", xlsx_bytes(rows))[0]


def test_a_cell_without_a_header_is_refused(place):  # noqa: F811
    rows = good_rows()
    rows[0] = HEADER + [None]
    rows[2] = rows[2] + ["多出来的"]
    errors = refused(place["staff"], "p.xlsx", xlsx_bytes(rows))
    assert errors == ["第 3 行：有数据写在没有表头的列里。"]


def test_formulas_are_refused(place):  # noqa: F811
    rows = good_rows()
    rows[2][4] = "=100+200"
    errors = refused(place["staff"], "p.xlsx", xlsx_bytes(rows))
    assert errors == ["第 3 行：「投资估算（万元）」是公式，请改为数值或文字后再导入。"]
    rows = good_rows()
    rows[1][0] = "=HYPERLINK(\"http://example.invalid\",\"点我\")"
    assert "「项目名称」是公式" in refused(place["staff"], "p.csv", csv_bytes(rows))[0]


def test_huge_files_are_refused_before_any_work(place):  # noqa: F811
    row = ["项目", "桂花苑", "排水防涝", "基础类", 10, 1, "", ""]
    rows = [HEADER] + [[f"项目{i}"] + row[1:] for i in range(importer.MAX_ROWS + 1)]
    [error] = refused(place["staff"], "p.csv", csv_bytes(rows))
    assert f"最多 {importer.MAX_ROWS} 行" in error


def test_only_editors_import(place):  # noqa: F811
    with pytest.raises(Forbidden):
        import_projects(place["operator"], "p.xlsx", xlsx_bytes(good_rows()))


# --- over HTTP ----------------------------------------------------------------------------------

def upload(client, filename, data):
    return client.post("/projects/import", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def test_import_page(client, place):  # noqa: F811
    login(client, place["staff"])
    assert "下载导入模板" in client.get("/projects/import").get_data(as_text=True)
    bad = good_rows() + [["乙", "新华里小区", "排水防涝", "基础类", 10, 1, "", ""]]
    response = upload(client, "p.xlsx", xlsx_bytes(bad))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "未导入任何项目" in html and "第 5 行：找不到小区「新华里小区」" in html
    assert count_projects() == 0
    response = upload(client, "p.txt", b"abc")
    assert response.status_code == 422 and "只支持 .xlsx 或 .csv 文件" in response.get_data(as_text=True)
    response = upload(client, "p.xlsx", xlsx_bytes(good_rows()))
    assert response.status_code == 302 and count_projects() == 3


def test_the_template_imports_where_its_estates_exist(client, place):  # noqa: F811
    make_estate(make_community(place["heping"], "向阳社区二"), "电力公司宿舍", household_count=64)
    login(client, place["staff"])
    response = client.get("/projects/import/template.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    assert import_projects(place["staff"], "模板.xlsx", response.data).created == 2


def exported(client, query=""):
    response = client.get(f"/projects/export.xlsx{query}")
    assert response.status_code == 200 and response.mimetype == XLSX
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    return response.data, [list(r) for r in sheet.iter_rows(values_only=True)]


def test_export_honours_filters_and_scope_and_is_logged(client, place):  # noqa: F811
    import_projects(place["staff"], "p.xlsx", xlsx_bytes(good_rows()))
    make_project([place["xinhuali"]], ["parking"], name="新华里停车场改造")
    login(client, place["staff"])
    _, rows = exported(client)
    assert rows[0][:3] == ["编号", "街道", "项目名称"]
    assert {r[2] for r in rows[1:]} == {"桂花苑排水防涝改造", "桂花社区加装电梯", "向阳新村适老化改造"}
    _, rows = exported(client, "?category=improve")
    assert [r[2] for r in rows[1:]] == ["桂花社区加装电梯"]
    _, rows = exported(client, f"?street_id={place['xinhua'].id}")  # not theirs to choose
    assert "新华里停车场改造" not in {r[2] for r in rows[1:]}
    [event] = db.session.scalars(select(Event).where(Event.action == "export", Event.object_type == "projects")
                                 .order_by(Event.id)).all()[:1]
    assert event.street_id == place["heping"].id and "3 行" in event.note
    client.post("/logout")
    login(client, place["admin"])
    _, rows = exported(client, "?q=新华")
    assert [r[2] for r in rows[1:]] == ["新华里停车场改造"] and rows[1][1] == "新华街道"


def test_export_imports_back_to_the_same_projects(client, place):  # noqa: F811
    twin = make_estate(make_community(place["heping"], "东风社区"), "桂花苑", household_count=50)
    start = TODAY - timedelta(days=300)
    import_projects(place["staff"], "p.xlsx", xlsx_bytes([
        HEADER + ["开工日期", "完成日期"],
        ["桂花苑排水防涝改造", "桂花社区/桂花苑", "排水防涝、道路交通", "基础类", 180.5, 248, "", "雨污分流\n第二行", None, None],
        ["东风桂花苑加装电梯", "东风社区/桂花苑", "电梯", "完善类", "360", 40, "入库", None, None, None],
        ["向阳新村屋面防水", "向阳新村", "房屋安全与修缮", "基础类", 99.99, 372, "已完成", "", start, TODAY],
        ["纺织厂宿舍充电棚", "纺织厂宿舍", "充电设施", "完善类", 12, 96, "实施中", "", start, None],
    ]))

    def state():
        return sorted((p.name, tuple(sorted(p.estate_ids)), tuple(sorted(p.themes)), p.category, p.cost_wan,
                       p.households_covered, p.status, p.started_on, p.completed_on, p.description)
                      for p in db.session.scalars(select(Project)))

    before = state()
    login(client, place["staff"])
    data, rows = exported(client)
    assert "桂花社区/桂花苑" in {r[3] for r in rows[1:]} and "东风社区/桂花苑" in {r[3] for r in rows[1:]}
    for project in db.session.scalars(select(Project)).all():
        db.session.delete(project)
    db.session.commit()
    assert import_projects(place["staff"], "项目库.xlsx", data).created == 4
    assert state() == before
    assert twin.id in {e for p in db.session.scalars(select(Project)) for e in p.estate_ids}
