"""Ticket import: encodings, header variants and mappings, dates, idempotency, garbage, all-or-nothing."""
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.audit.models import Event
from portal.core.workdays import to_local
from portal.extensions import db
from portal.tickets.importer import ImportFailed, MappingNeeded, import_tickets, parse_datetime, save_mappings
from portal.tickets.models import Ticket, TicketStatus, TicketTheme
from tests.helpers import csv_bytes, make_community, make_estate, make_street, make_user, xlsx_bytes

pytestmark = pytest.mark.tagging

HEADER = ["工单编号", "受理时间", "来电人", "联系电话", "诉求地址", "诉求标题", "诉求内容", "诉求类型",
          "承办单位", "办理状态", "办结时间", "满意度"]
ROWS = [
    ["GD2024001", "2024/3/5 09:12:30", "张伟", "13812345678", "桂花路20号桂花苑3栋", "停车难",
     "小区车位太少，晚上回来根本没地方停，车都停到消防通道上了", "投诉", "和平街道", "已办结", "2024-03-08", "满意"],
    ["GD2024002", "2024-03-06", "李娜", "0731-8888666", "向阳新村5栋", "楼道漏水",
     "5栋顶楼屋面漏水，下雨天家里天花板一直滴水", "求助", "", "已受理", "", ""],
    ["GD2024003", 45362.5, "王芳", "", "城南区人民医院", "",
     "咨询医保异地报销需要准备哪些材料", "咨询", "", "已受理", "", ""],
]


@pytest.fixture
def district(app):
    heping = make_street("和平街道")
    guihua = make_estate(make_community(heping), "桂花苑", address_patterns=["桂花路18-36号"])
    xiangyang = make_estate(make_community(heping), "向阳新村", aliases=["向阳村"])
    return {"admin": make_user(Role.district_admin), "street": heping, "guihua": guihua, "xiangyang": xiangyang}


def count(model=Ticket):
    return db.session.scalar(select(func.count()).select_from(model))


def test_clean_csv_is_tagged_matched_and_logged(district):
    report = import_tickets(district["admin"], "export.csv", csv_bytes([HEADER, *ROWS]))
    assert (report.imported, report.updated, report.skipped) == (3, 0, 0)
    assert report.summary == "imported 3, updated 0, skipped 0"
    first = db.session.scalar(select(Ticket).where(Ticket.number == "GD2024001"))
    assert first.estate_id == district["guihua"].id and not first.needs_placement
    assert first.status == TicketStatus.resolved and first.street_id == district["street"].id
    assert first.satisfaction == "满意" and first.caller_phone == "13812345678"
    assert "parking" in first.themes and first.model_version
    assert to_local(first.received_at).replace(tzinfo=None) == datetime(2024, 3, 5, 9, 12, 30)
    hospital = db.session.scalar(select(Ticket).where(Ticket.number == "GD2024003"))
    assert hospital.needs_placement and hospital.estate_id is None
    assert hospital.themes == ["other"]
    assert to_local(hospital.received_at).replace(tzinfo=None) == datetime(2024, 3, 11, 12, 0)  # Excel serial 45362.5
    assert count(TicketTheme) == sum(len(t.themes) for t in db.session.scalars(select(Ticket)))
    assert db.session.scalar(select(func.count()).where(Event.action == "ticket.import")) == 3


def test_gbk_csv_with_header_variants_and_stray_whitespace(district):
    header = ["工单号", "来电时间", "姓名", "电话", "事发地址", "问题描述", "办理单位", "工单状态"]
    rows = [["\tGD9 ", " 2024年3月5日 9时12分 ", "赵六", " 139 0000 1111 ", "向阳村2栋", "楼道灯坏了半个月没人修\t", "", "办理中"]]
    report = import_tickets(district["admin"], "gbk.csv", csv_bytes([header, *rows], "gbk"))
    assert report.imported == 1 and report.encoding == "gb18030"
    ticket = db.session.scalar(select(Ticket))
    assert ticket.number == "GD9" and ticket.caller_phone == "13900001111"
    assert ticket.content == "楼道灯坏了半个月没人修" and ticket.status == TicketStatus.in_progress
    assert ticket.estate_id == district["xiangyang"].id


def test_xlsx_with_date_cells(district):
    rows = [HEADER, ["X1", datetime(2024, 2, 28, 11, 25, 5), "", "", "桂花苑", "", "垃圾清运不及时，臭气熏天", "投诉", "", "", None, ""]]
    assert import_tickets(district["admin"], "t.xlsx", xlsx_bytes(rows)).imported == 1


def test_mixed_date_formats():
    expected = datetime(2019, 2, 28, 11, 25, 5)
    assert parse_datetime("2019/2/28 11:25:05") == expected
    assert parse_datetime("2019-02-28 11:25:05") == expected
    assert parse_datetime("2019年2月28日 11时25分5秒") == expected
    assert parse_datetime("2019-02-28") == datetime(2019, 2, 28)
    assert parse_datetime("20190228") == datetime(2019, 2, 28)
    assert parse_datetime(43524) == datetime(2019, 2, 28)
    assert parse_datetime(43524.475752314815).replace(microsecond=0) == expected
    assert parse_datetime(date(2019, 2, 28)) == datetime(2019, 2, 28)
    for bad in ("昨天", "2019-13-01", "", 12):
        with pytest.raises(ValueError):
            parse_datetime(bad)


def test_reimport_updates_status_fields_and_never_duplicates(district):
    import_tickets(district["admin"], "a.csv", csv_bytes([HEADER, *ROWS]))
    later = [row[:] for row in ROWS]
    later[1][9], later[1][10], later[1][11] = "已办结", "2024/3/9 10:00", "基本满意"
    report = import_tickets(district["admin"], "b.csv", csv_bytes([HEADER, *later]))
    assert (report.imported, report.updated, report.unchanged) == (0, 1, 2)
    assert count() == 3
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == "GD2024002"))
    assert ticket.status == TicketStatus.resolved and ticket.satisfaction == "基本满意"
    event = db.session.scalar(select(Event).where(Event.action == "ticket.import_update"))
    assert event.before["status"] == "received" and event.after["status"] == "resolved"


def test_missing_required_column_asks_for_a_mapping_and_the_mapping_is_saved(district):
    header = ["单号", "受理时间", "市民诉求"]
    data = csv_bytes([header, ["A1", "2024-01-02", "路灯不亮"]])
    with pytest.raises(MappingNeeded) as needed:
        import_tickets(district["admin"], "x.csv", data)
    assert needed.value.missing == ["工单编号", "诉求内容"]
    assert needed.value.unknown_headers == ["单号", "市民诉求"]
    assert "缺少必需的列：工单编号、诉求内容" in needed.value.message
    assert count() == 0
    # explicit mapping for this import (the command line's --map)
    assert import_tickets(district["admin"], "x.csv", data, mapping={"单号": "工单编号", "市民诉求": "诉求内容"}).imported == 1
    # a saved mapping serves every later import
    save_mappings(district["admin"], {"单号": "工单编号", "市民诉求": "诉求内容"})
    assert import_tickets(district["admin"], "y.csv", csv_bytes([header, ["A2", "2024-01-03", "水压低"]])).imported == 1


def expect_failure(actor, filename, data, **kwargs):
    before = (count(), count(Event), count(TicketTheme))
    with pytest.raises(ImportFailed) as failure:
        import_tickets(actor, filename, data, **kwargs)
    assert (count(), count(Event), count(TicketTheme)) == before, "nothing is written on error"
    return failure.value


def test_bad_rows_are_reported_row_by_row_and_nothing_is_written(district):
    rows = [ROWS[0], ["GD5", "下周一", "", "12ab", "", "", "路灯坏了", "抱怨", "", "火星状态", "", "很好"],
            ["", "2024-01-01", "", "", "", "", "", "", "", "", "", ""], ROWS[0]]
    failure = expect_failure(district["admin"], "bad.csv", csv_bytes([HEADER, *rows]))
    assert failure.message == "导入失败：共 3 处错误，未写入任何数据。"
    assert failure.report.errors == [
        "第 3 行：受理时间「下周一」无法识别；办理状态「火星状态」无法识别；诉求类型「抱怨」应为咨询、求助、投诉、举报、建议、表扬之一；"
        "联系电话「12ab」格式不对；满意度「很好」应为满意、基本满意或不满意。",
        "第 4 行：工单编号为空；诉求内容为空。",
        "第 5 行：工单编号 GD2024001 与第 2 行重复。",
    ]


def test_skip_invalid_imports_the_good_rows(district):
    rows = [ROWS[0], ["GD5", "下周一", "", "", "", "", "内容", "", "", "", "", ""], ROWS[1]]
    report = import_tickets(district["admin"], "mixed.csv", csv_bytes([HEADER, *rows]), skip_invalid=True)
    assert (report.imported, report.skipped) == (2, 1)
    assert report.errors == ["第 3 行：受理时间「下周一」无法识别。"]
    assert report.summary == "imported 2, updated 0, skipped 1"


@pytest.mark.parametrize("garbage,filename", [
    (bytes(range(256)) * 50, "t.csv"),
    (b"PK\x03\x04\x14\x00garbage", "t.xlsx"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "t.csv"),
    (b"", "t.csv"),
])
def test_garbage_files(district, garbage, filename):
    with pytest.raises((ImportFailed, MappingNeeded)):
        import_tickets(district["admin"], filename, garbage)
    assert count() == 0


def test_formulas_are_refused(district):
    rows = [HEADER, ["F1", "=NOW()", "", "", "", "", "=HYPERLINK(\"http://x\")", "", "", "", "", ""]]
    failure = expect_failure(district["admin"], "f.xlsx", xlsx_bytes(rows))
    assert failure.report.errors == ["第 2 行：「受理时间」是公式；「诉求内容」是公式，请改为数值后再导入。"]


def test_ten_thousand_empty_rows_are_skipped(district):
    rows = [HEADER, ROWS[0]] + [[""] * len(HEADER)] * 10000 + [ROWS[1]]
    assert import_tickets(district["admin"], "sparse.csv", csv_bytes(rows)).imported == 2
    rows_xlsx = [HEADER, ROWS[0]] + [[None] * len(HEADER)] * 10000 + [ROWS[1]]
    db.session.execute(TicketTheme.__table__.delete())
    db.session.execute(Ticket.__table__.delete())
    db.session.commit()
    assert import_tickets(district["admin"], "sparse.xlsx", xlsx_bytes(rows_xlsx)).imported == 2


def test_too_many_rows(district):
    rows = [HEADER] + [[f"N{i}", "2024-01-01", "", "", "", "", "路面坑洼", "", "", "", "", ""] for i in range(30)]
    failure = expect_failure(district["admin"], "big.csv", csv_bytes(rows), max_rows=20)
    assert failure.report.errors == ["数据行太多：最多 20 行，请分批导入。"]


def test_cli_import_prints_one_summary_line(app, district, tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(csv_bytes([["单号", "受理时间", "诉求内容"], ["C1", "2024-01-02", "小区没有充电桩，只能飞线充电"]]))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tickets", "import", str(path), "--map", "单号=工单编号"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == "imported 1, updated 0, skipped 0"
    again = runner.invoke(args=["tickets", "import", str(path), "--map", "单号=工单编号"])
    assert again.stdout.strip().splitlines()[-1] == "imported 0, updated 0, skipped 0"
    bad = runner.invoke(args=["tickets", "import", str(path), "--map", "单号=不存在的列"])
    assert bad.exit_code != 0 and "标准列名" in bad.output
