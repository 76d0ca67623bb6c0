"""Minutes under hostile input (hypothesis): any bytes or text give points or a clean Chinese MinutesError;
no point is empty and no point says what the minutes did not (its text and speaker are found in the
minutes once spacing, full-width forms and brackets are set aside); text files decode back to what was
written in every encoding Chinese Windows uses; a meeting recorded from any pasted text is stored whole
or not at all."""
from __future__ import annotations

import io
import re
from datetime import date

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

from portal.accounts.models import Role
from portal.core.errors import ServiceError
from portal.minutes import services
from portal.minutes.models import MeetingKind
from portal.minutes.parsing import (
    MAX_POINTS, MAX_SPEAKER_CHARS, MinutesError, _clean, parse_minutes, read_minutes, split_points,
)
from tests.fuzz_support import NASTY_TEXT, assert_chinese, corrupted, fuzz, row_counts
from tests.helpers import make_community, make_estate, make_street, make_user

pytestmark = pytest.mark.fuzz

SPEAKERS = ["楼长：", "3号楼居民说", "居民代表：", "【6栋业主】李阿姨反映：", "社区王书记: ", "张建国（5号楼楼长）：",
            "物业经理表示", "业主提出以下意见：", "居民意见：", "10:30", ""]
MARKERS = ["一、", "二、", "1.", "2．", "（1）", "(2)", "①", "第一，", "第二点：", "• ", "- ", "1.5米", "2024.3", ""]
LINES = ["时间：2024年3月5日上午9:30", "地  点：桂花社区二楼会议室", "参会人员：居民代表12人", "桂花苑小区居民座谈会纪要",
         "会议基本情况", "二〇二四年三月五日", "第1页 共2页", "散会。", "（完）", "", "   ", "\t"]
SAYINGS = ["楼道灯坏了两个月了，晚上上下楼很不方便。", "小区车位太少，晚上回来根本没地方停车", "希望加装电梯，老人爬楼太辛苦。",
           "下水道经常堵，一下雨污水就往外冒，", "味道很大。", "建议增设电动车充电桩", "楼道堆满杂物", "大家的意见我们都记下了。"]


@st.composite
def minutes_lines(draw):
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return draw(st.sampled_from(LINES))
    if kind == 1:
        return draw(st.sampled_from(NASTY_TEXT)) + draw(st.text(max_size=20))
    if kind == 2:
        return draw(st.text(max_size=60))
    return draw(st.sampled_from(MARKERS)) + draw(st.sampled_from(SPEAKERS)) + draw(
        st.one_of(st.sampled_from(SAYINGS), st.text(min_size=1, max_size=40)))


minutes_texts = st.builds(lambda lines, newline: newline.join(lines),
                          st.lists(minutes_lines(), max_size=25), st.sampled_from(["\n", "\r\n", "\r", "\u2028", "\n\n"]))

_SET_ASIDE = re.compile(r"[\s【】\[\]<>《》]+")


def flat(text: str) -> str:
    """The minutes as the splitter compares them: each line cleaned, then spacing and brackets dropped."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return _SET_ASIDE.sub("", "".join(_clean(line) for line in lines))


def check_points(source: str, points) -> None:
    whole = flat(source)
    assert 0 < len(points) <= MAX_POINTS
    for point in points:
        assert point.text.strip() and len(point.text.strip("，,。.；;：:、 ")) >= 2, point
        assert point.kind in ("speaker", "numbered", "paragraph")
        assert flat(point.text) in whole, (point.text[:60], source[:200])
        if point.speaker is not None:
            assert point.speaker.strip() and len(point.speaker) <= MAX_SPEAKER_CHARS
            assert flat(point.speaker) in whole, point.speaker


@fuzz(300)
@given(text=minutes_texts)
@example(text="楼长：楼道灯\x00坏了两个月")
@example(text="\u2028\u2029楼长：\u200b\u200b")
def test_pasted_text_gives_points_from_the_text_or_a_clean_error(text):
    try:
        stored, points = parse_minutes(None, None, text)
    except MinutesError as error:
        event("refused")
        assert_chinese(error.message)
        return
    event("split")
    assert "\x00" not in stored and all("\x00" not in p.text for p in points)
    check_points(stored, points)


@fuzz(200)
@given(text=minutes_texts, join=st.booleans())
def test_split_points_never_invents_text(text, join):
    points = split_points(text, join_wrapped_lines=join)
    whole = flat(text)
    for point in points:
        assert point.text.strip()
        assert flat(point.text) in whole


TEXT_ENCODINGS = [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("gb18030", b""), ("utf-16-le", b"\xff\xfe"),
                  ("utf-16-be", b"\xfe\xff")]
chinese_minutes = st.builds(
    lambda lines: "\n".join(lines),
    st.lists(st.builds(lambda m, s, t: m + s + t, st.sampled_from(MARKERS), st.sampled_from(SPEAKERS),
                       st.sampled_from(SAYINGS)), min_size=1, max_size=12))


@fuzz(150)
@given(text=chinese_minutes, encoding=st.sampled_from(TEXT_ENCODINGS))
def test_text_files_decode_to_what_was_written(text, encoding):
    codec, bom = encoding
    assert read_minutes("纪要.txt", bom + text.encode(codec)) == text


def docx_bytes(lines: list[str], styles: list[str], table: list[list[str]]) -> bytes:
    import docx

    document = docx.Document()
    for line, style in zip(lines, styles):
        document.add_paragraph(line, style=style or None)
    if table:
        width = max(len(row) for row in table)
        grid = document.add_table(rows=len(table), cols=width)
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


_XML_SAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@st.composite
def docx_uploads(draw):
    lines = [_XML_SAFE.sub("", line) for line in draw(st.lists(minutes_lines(), max_size=12))]
    styles = [draw(st.sampled_from(["", "", "List Number", "List Bullet", "Heading 1", "Title"])) for _ in lines]
    cell = st.one_of(st.sampled_from(["发言人", "意见", "问题", "序号", "电话", "张三", "13812345678"] + SAYINGS),
                     st.text(max_size=15).map(lambda t: _XML_SAFE.sub("", t)))
    table = draw(st.lists(st.lists(cell, min_size=1, max_size=4), max_size=4))
    data = docx_bytes(lines, styles, table)
    if draw(st.integers(0, 4)) == 0:
        data = draw(corrupted(data))
    names = st.one_of(st.just("纪要.docx"), st.sampled_from(["纪要.DOCX", "纪要.txt", "纪要.doc", "纪要", "纪要.pdf"]))
    return draw(names), data


@fuzz(120)
@given(upload=docx_uploads())
def test_docx_and_damaged_files_give_points_or_a_clean_error(upload):
    filename, data = upload
    try:
        text, points = parse_minutes(filename, data, None)
    except MinutesError as error:
        event("refused")
        assert_chinese(error.message)
        return
    event("split")
    check_points(text, points)


@fuzz(200)
@given(data=st.one_of(st.binary(max_size=300), st.sampled_from([b"", b"\xff\xfe", b"\xfe\xff\x00", b"PK\x03\x04",
                                                                b"\xd0\xcf\x11\xe0", b"\xef\xbb\xbf"])),
       filename=st.sampled_from(["纪要.txt", "纪要.docx", "纪要", "", "纪要.doc", "a.TXT "]))
@example(data="楼长：灯坏了\x00".encode("utf-16"), filename="纪要.txt")
def test_any_bytes_are_read_or_refused_in_chinese(data, filename):
    try:
        text = read_minutes(filename, data)
    except MinutesError as error:
        assert_chinese(error.message)
        return
    assert isinstance(text, str) and text.strip()


# --- through the service: all or nothing ---------------------------------------------------------

@pytest.fixture
def staff(app):
    street = make_street("和平街道")
    estate = make_estate(make_community(street, "桂花社区"), "桂花苑")
    return make_user(Role.street_staff, street=street), estate


@fuzz(100)
@given(text=minutes_texts)
@example(text="楼长：楼道灯\x00坏了两个月")
def test_a_meeting_from_any_pasted_text_is_stored_or_refused(staff, text):
    user, estate = staff
    data = services.MeetingInput(kind=MeetingKind.forum, title="问需座谈会", held_on=date(2024, 3, 5),
                                 estate_ids=[estate.id], attendee_count=12, organiser="居委会")
    before = row_counts()
    try:
        meeting = services.create_meeting(user, data, pasted=text)
    except ServiceError as error:
        assert_chinese(error.message)
        assert row_counts() == before
        return
    assert meeting.id and "\x00" not in meeting.minutes_text
    check_points(meeting.minutes_text, services.draft_points(meeting))


def test_regression_control_characters_are_dropped_from_minutes(staff):
    """NUL in pasted text or a UTF-16 file reached minutes_text; PostgreSQL refused it (a 500)."""
    user, estate = staff
    data = services.MeetingInput(kind=MeetingKind.forum, title="问需座谈会", held_on=date(2024, 3, 5),
                                 estate_ids=[estate.id], attendee_count=12, organiser="居委会")
    meeting = services.create_meeting(user, data, filename="纪要.txt",
                                      file_data="楼长：楼道灯\x00坏了两个月\x0c3号楼居民说车位太少".encode("utf-16"))
    assert meeting.minutes_text == "楼长：楼道灯坏了两个月\n3号楼居民说车位太少"
    assert [(p.speaker, p.text) for p in services.draft_points(meeting)] == [
        ("楼长", "楼道灯坏了两个月"), ("3号楼居民", "车位太少")]


# --- through the page ----------------------------------------------------------------------------

@fuzz(60)
@given(text=minutes_texts, upload=st.one_of(st.none(), docx_uploads()),
       title=st.one_of(st.just("问需座谈会"), st.sampled_from(NASTY_TEXT), st.text(max_size=130)))
@example(text="楼长：楼道灯坏了两个月", upload=None, title="问需\x00座谈会")
def test_the_new_meeting_page_never_answers_500(client, staff, text, upload, title):
    from tests.helpers import login

    user, estate = staff
    login(client, user)
    form = {"kind": "forum", "title": title, "held_on": "2024-03-05", "estate_ids": [estate.id],
            "attendee_count": "12", "organiser": "居委会", "location": "", "minutes_text": text}
    if upload is not None:
        form["minutes_file"] = (io.BytesIO(upload[1]), upload[0])
    before = row_counts()
    response = client.post("/meetings/new", data=form, content_type="multipart/form-data")
    assert response.status_code in (302, 422), response.status_code
    if response.status_code == 422:
        assert row_counts()["meetings"] == before["meetings"]
    else:
        assert client.get(response.headers["Location"]).status_code == 200
