"""Ticket import under hostile input (hypothesis): any upload ends in a report or a clean Chinese error,
a failed import writes nothing, every accepted ticket satisfies the columns' rules, and well-formed rows
in any encoding and format come back exactly as typed."""
from __future__ import annotations

import io
import itertools
from datetime import date, datetime, timedelta

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st
from sqlalchemy import select

from portal.accounts.models import Role
from portal.core.tabular import TableError, clean_cell, read_table
from portal.core.workdays import to_local
from portal.extensions import db
from portal.tickets.importer import (
    HEADER_ALIASES, REQUEST_TYPES, STANDARD_COLUMNS, STATUS_WORDS, ImportFailed, MappingNeeded, import_tickets,
    parse_datetime, parse_phone, parse_request_type, parse_status,
)
from portal.tickets.models import Ticket, TicketStatus
from tests.fuzz_support import (
    ENCODINGS, assert_chinese, cell_values, csv_bytes, fuzz, row_counts, uploads, xlsx_bytes,
)
from tests.helpers import make_community, make_estate, make_street, make_user

pytestmark = [pytest.mark.tagging, pytest.mark.fuzz]

KNOWN = STANDARD_COLUMNS + [alias for names in HEADER_ALIASES.values() for alias in names]
PLAUSIBLE = {
    "工单编号": ["GD1", "GD2", "A-3", "20240305001"],
    "受理时间": ["2024-03-05", "2024/3/5 09:12:30", 45362.5, datetime(2024, 3, 5, 9, 12), "2024年3月5日"],
    "诉求内容": ["楼道灯坏了两个月", "小区车位太少，晚上停车难", "下水道堵了"],
}
_numbers = itertools.count(1)


@pytest.fixture
def admin(app):
    street = make_street("和平街道")
    make_estate(make_community(street), "桂花苑", address_patterns=["桂花路18-36号"])
    return make_user(Role.district_admin)


def _check_stored(ticket: Ticket) -> None:
    """What an accepted row must look like once stored, whatever the file held."""
    assert ticket.number and ticket.number == ticket.number.strip() and len(ticket.number) <= 64
    assert ticket.content and ticket.content == ticket.content.strip() and len(ticket.content) <= 20000
    assert ticket.status in TicketStatus
    assert ticket.received_at is not None and 1900 <= ticket.received_at.year <= 2119
    assert ticket.caller_phone is None or (5 <= len(ticket.caller_phone.lstrip("+")) <= 20)
    assert ticket.request_type is None or ticket.request_type in REQUEST_TYPES
    assert ticket.satisfaction in (None, "满意", "基本满意", "不满意")
    assert len(ticket.title or "") <= 256 and len(ticket.address or "") <= 256


@fuzz(150)
@given(upload=uploads(KNOWN, required=["工单编号", "受理时间", "诉求内容"], plausible=PLAUSIBLE),
       skip_invalid=st.booleans())
@example(upload=("t.csv", "工单编号,受理时间,诉求内容\nA1,0001-01-01,楼道灯坏了\n".encode()), skip_invalid=False)
@example(upload=("t.csv", "工单编号,受理时间,诉求内容\nA1,9999-12-31 23:59,楼道灯坏了\n".encode()), skip_invalid=False)
@example(upload=("t.csv", "\ufeff工单编号\t受理时间\t诉求内容\r\nA2\t2024-03-05\t漏水\r\n".encode("utf-16")),
         skip_invalid=False)
def test_any_upload_is_a_report_or_a_clean_error(admin, upload, skip_invalid):
    filename, data = upload
    before = row_counts()
    try:
        report = import_tickets(admin, filename, data, skip_invalid=skip_invalid)
    except ImportFailed as failure:
        event("refused")
        assert_chinese(failure.message)
        assert failure.report.errors and not failure.report.written
        for message in failure.report.errors:
            assert_chinese(message)
        assert row_counts() == before
        return
    except MappingNeeded as needed:
        event("mapping needed")
        assert_chinese(needed.message) and needed.missing
        assert row_counts() == before
        return
    event("imported")
    assert report.written and report.imported + report.updated + report.unchanged >= 1
    assert report.skipped == report.error_count and (skip_invalid or report.error_count == 0)
    after = row_counts()
    assert after["tickets"] == before["tickets"] + report.imported
    for ticket in db.session.scalars(select(Ticket)):
        _check_stored(ticket)


# --- through the pages: upload, job page, header mapping -------------------------------------------

@pytest.fixture
def app_config():
    return {"JOBS_INLINE": True}  # the import job runs in the request, as a worker would run it


@fuzz(60)
@given(upload=uploads(KNOWN, required=["工单编号", "受理时间", "诉求内容"], plausible=PLAUSIBLE), data=st.data())
@example(upload=("t.csv", ("编号X" * 60 + ",受理时间,诉求内容\nA1,2024-03-05,漏水\n").encode()), data=None)
def test_the_import_pages_never_answer_500(client, admin, upload, data):
    from portal.jobs.models import Job
    from tests.helpers import login

    login(client, admin)
    filename, payload = upload
    response = client.post("/tickets/import", data={"file": (io.BytesIO(payload), filename)},
                           content_type="multipart/form-data")
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 200:  # refused by the form itself (the file's extension)
        return
    assert client.get(response.headers["Location"]).status_code == 200
    job = db.session.scalars(select(Job).order_by(Job.id.desc())).first()
    db.session.refresh(job)
    if not (job.result or {}).get("mapping_needed"):
        return
    event("mapping asked")
    unknown = job.result["unknown_headers"]
    columns = st.sampled_from(["工单编号", "受理时间", "诉求内容", "", "不存在的列"])
    form = {f"map-{i}": (data.draw(columns) if data else "工单编号") for i in range(len(unknown))}
    retry = client.post(f"/tickets/import/{job.id}/mapping", data=form)
    assert retry.status_code == 302, retry.status_code
    assert client.get(retry.headers["Location"]).status_code == 200


# --- well-formed rows come back as typed ---------------------------------------------------------

WORDS = "楼道灯坏了停车难小区车位太少下水道堵塞漏水电梯故障垃圾清运不及时噪音扰民路面坑洼"
contents = st.text(alphabet=st.sampled_from(WORDS + "，。！？ 0123456789abcXYZ"), min_size=1, max_size=60).filter(
    lambda t: clean_cell(t) is not None and not t.strip().startswith(("=", "-", "+", "@")))
moments = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda d: d.replace(microsecond=0))
DATE_TEXT = ["{:%Y/%m/%d %H:%M:%S}", "{:%Y-%m-%d %H:%M:%S}", "{:%Y-%m-%dT%H:%M:%S}", "{:%Y%m%d%H%M%S}",
             "{0.year}年{0.month}月{0.day}日 {0.hour}时{0.minute}分{0.second}秒"]


@st.composite
def clean_files(draw):
    rows = draw(st.lists(st.tuples(contents, moments, st.sampled_from(list(STATUS_WORDS))), min_size=1, max_size=5))
    prefix = f"P{next(_numbers)}-"  # numbers new to the database in every example
    table = [["工单编号", "受理时间", "诉求内容", "办理状态"]]
    for i, (content, moment, status) in enumerate(rows):
        when = draw(st.sampled_from(DATE_TEXT + ["cell"]))
        table.append([f"{prefix}{i}", moment if when == "cell" else when.format(moment), content,
                      STATUS_WORDS[status][0]])
    kind = draw(st.sampled_from(["xlsx", *(e for e in ENCODINGS if e != "big5")]))  # big5 has no simplified
    if kind == "xlsx":
        return "t.xlsx", xlsx_bytes(table), rows, prefix
    table = [[v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, datetime) else v for v in row] for row in table]
    return "t.csv", csv_bytes(table, kind), rows, prefix


@fuzz(80)
@given(upload=clean_files())
def test_clean_rows_in_any_encoding_and_format_round_trip(admin, upload):
    filename, data, rows, prefix = upload
    report = import_tickets(admin, filename, data)
    assert (report.imported, report.error_count) == (len(rows), 0)
    for i, (content, moment, status) in enumerate(rows):
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == f"{prefix}{i}"))
        assert ticket.content == clean_cell(content)
        assert to_local(ticket.received_at).replace(tzinfo=None) == moment
        assert ticket.status == status


def test_header_only_and_blank_files_fail_cleanly(admin):
    for data in ("工单编号,受理时间,诉求内容\n".encode(), b"\r\n,,,\r\n", "\ufeff".encode()):
        with pytest.raises(ImportFailed) as failure:
            import_tickets(admin, "t.csv", data)
        assert_chinese(failure.value.message)


# --- the cell parsers are total ------------------------------------------------------------------

@fuzz(400)
@given(value=cell_values)
@example(value="0001-01-01")
@example(value="9999-12-31 23:59:59")
@example(value="0001年1月1日")
@example(value=date(1, 1, 1))
def test_parse_datetime_is_total_and_sane(value):
    try:
        parsed = parse_datetime(value)
    except (ValueError, OverflowError):
        return
    assert isinstance(parsed, datetime)
    assert 1900 <= parsed.year <= 2119  # a date no 12345 export has is refused, not stored


@fuzz(200)
@given(moment=st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2100, 12, 30)).map(
    lambda d: d.replace(microsecond=0)), form=st.sampled_from(DATE_TEXT))
def test_parse_datetime_reads_back_what_it_is_given(moment, form):
    assert parse_datetime(form.format(moment)) == moment
    assert parse_datetime(moment) == moment
    assert parse_datetime(moment.date()) == datetime.combine(moment.date(), datetime.min.time())


@fuzz(200)
@given(day=st.integers(20000, 79999), fraction=st.integers(0, 86399))
def test_excel_serials_are_days_since_1899_12_30(day, fraction):
    serial = day + fraction / 86400
    parsed = parse_datetime(serial)
    assert abs(parsed - (datetime(1899, 12, 30) + timedelta(days=serial))) < timedelta(seconds=1)


@fuzz(300)
@given(value=cell_values)
def test_parse_phone_status_and_type_are_total(value):
    for parse in (parse_phone, parse_status, parse_request_type):
        try:
            result = parse(value)
        except ValueError:
            continue
        if parse is parse_phone and result is not None:
            assert result == parse_phone(result)  # idempotent: stored phones parse to themselves
        if parse is parse_status:
            assert result is None or result in TicketStatus
        if parse is parse_request_type:
            assert result is None or result in REQUEST_TYPES


@fuzz(200)
@given(digits=st.from_regex(r"\+?[0-9][0-9\-]{4,19}", fullmatch=True), spaces=st.sampled_from(["", " ", "　"]))
def test_phone_numbers_keep_their_digits(digits, spaces):
    typed = spaces.join(digits)
    assert parse_phone(typed) == digits


@fuzz(150)
@given(status=st.sampled_from(list(STATUS_WORDS)), data=st.data())
def test_every_status_word_reads_as_its_status(status, data):
    word = data.draw(st.sampled_from(STATUS_WORDS[status]))
    assert parse_status(word) == status
    assert parse_status(f" {word} ") == status


@fuzz(200)
@given(upload=uploads(KNOWN))
def test_read_table_is_total(upload):
    """The reader under every importer: a table or a TableError, and a table's rows fit its header."""
    filename, data = upload
    try:
        table = read_table(filename, data)
    except TableError as error:
        assert_chinese(error.message)
        return
    width = len(table.headers)
    assert all(len(cells) == width for _, cells in table.rows)
    assert [line for line, _ in table.rows] == sorted({line for line, _ in table.rows})
    assert all(isinstance(h, str) for h in table.headers)


# --- regressions found by the properties above -------------------------------------------------

def test_regression_year_one_is_refused_not_a_crash(admin):
    """'0001-01-01' parsed, then overflowed when moved to UTC (OverflowError, a 500 on the upload page)."""
    data = "工单编号,受理时间,诉求内容\nA1,0001-01-01,楼道灯坏了\nA2,2024-03-05,漏水\n".encode()
    with pytest.raises(ImportFailed) as failure:
        import_tickets(admin, "t.csv", data)
    assert failure.value.report.errors == ["第 2 行：受理时间「0001-01-01」无法识别。"]
    assert db.session.scalar(select(Ticket.id)) is None


def test_regression_short_mostly_ascii_gbk_csv_is_read(admin):
    """charset-normalizer found no encoding for this GBK file ("无法识别文件编码")."""
    rows = [["工单编号", "受理时间", "诉求内容", "办理状态"]] + [[f"P{i}", "2001/01/01 00:00:00", "XXX下", "已受理"]
                                                        for i in range(3)]
    report = import_tickets(admin, "t.csv", csv_bytes(rows, "gbk"))
    assert (report.imported, report.encoding) == (3, "gb18030")
    assert db.session.scalar(select(Ticket.content).where(Ticket.number == "P0")) == "XXX下"


def test_regression_utf16_unicode_text_is_read(admin):
    """Excel's "Unicode 文本" (UTF-16, BOM, tabs) was refused as binary for its NUL bytes."""
    data = "工单编号\t受理时间\t诉求内容\r\nA2\t2024-03-05\t楼顶漏水\r\n".encode("utf-16")
    report = import_tickets(admin, "t.txt.csv", data)
    assert (report.imported, report.encoding) == (1, "utf-16")
    assert db.session.scalar(select(Ticket.content)) == "楼顶漏水"


def test_regression_excel_escaped_nul_does_not_reach_the_database(admin):
    """"_x0000_" in a cell is NUL to calamine; PostgreSQL refused the insert and the import crashed."""
    data = xlsx_bytes([["工单编号", "受理时间", "诉求内容"], ["A_x0000_1", "2024-03-05", "楼顶_x0001_漏水_x0000_"]])
    assert import_tickets(admin, "t.xlsx", data).imported == 1
    assert db.session.execute(select(Ticket.number, Ticket.content)).all() == [("A1", "楼顶漏水")]


def test_regression_a_header_too_long_to_remember_can_still_be_mapped(client, admin):
    """Saving the mapping of a 300-character header overflowed source_header (128) on PostgreSQL: a 500."""
    from portal.jobs.models import Job
    from tests.helpers import login

    login(client, admin)
    data = ("编号X" * 100 + ",受理时间,诉求内容\nA1,2024-03-05,楼顶漏水\n").encode()
    first = client.post("/tickets/import", data={"file": (io.BytesIO(data), "t.csv")}, content_type="multipart/form-data")
    job = db.session.get(Job, int(first.headers["Location"].rstrip("/").rsplit("/", 1)[-1]))
    assert job.result["mapping_needed"] and job.result["unknown_headers"] == ["编号X" * 100]
    retry = client.post(f"/tickets/import/{job.id}/mapping", data={"map-0": "工单编号"})
    assert retry.status_code == 302
    assert db.session.scalar(select(Ticket.content).where(Ticket.number == "A1")) == "楼顶漏水"
