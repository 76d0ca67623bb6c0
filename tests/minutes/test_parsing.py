"""Splitting minutes into points: .txt and .docx with messy real-world formatting (no database)."""
import io

import docx
import pytest

from portal.minutes.parsing import (
    MinutesError, ParsedPoint, delete_point, merge_with_next, parse_minutes, read_minutes, split_point, split_points,
)


def pairs(points):
    return [(p.speaker, p.text) for p in points]


MESSY_TXT = """\
桂花苑小区居民座谈会纪要

时间：2024年3月5日上午9:30
地  点：桂花社区二楼会议室
主持人：王丽（社区书记）
参会人员：居民代表12人、物业公司、街道城建科
二〇二四年三月五日

一、会议基本情况
二、居民发言
楼长：3号楼楼道灯坏了两个月了，晚上上下楼很不方便。
3号楼居民说小区车位太少，晚上回来根本没地方停车

居民代表：
1. 希望加装电梯，老人爬楼太辛苦。
2．单元门禁坏了，外来人员随便进出。
社区王书记: 大家的意见我们都记下了。
张建国（5号楼楼长）：下水道经常堵，一下雨污水就往外冒，
味道很大。
【6栋业主】李阿姨反映：楼顶漏水
（1）垃圾站离楼太近，夏天有异味
（2）健身器材年久失修
①建议增设电动车充电桩
②楼道堆满杂物
第1页 共2页

散会。
"""


def test_txt_with_speakers_numbering_headers_and_blank_lines():
    assert pairs(split_points(MESSY_TXT)) == [
        ("楼长", "3号楼楼道灯坏了两个月了，晚上上下楼很不方便。"),  # full-width colon
        ("3号楼居民", "小区车位太少，晚上回来根本没地方停车"),  # "…说" without a colon
        ("居民代表", "希望加装电梯，老人爬楼太辛苦。"),  # the items under "居民代表：" are theirs
        ("居民代表", "单元门禁坏了，外来人员随便进出。"),
        ("社区王书记", "大家的意见我们都记下了。"),  # half-width colon, a name with a title
        ("张建国（5号楼楼长）", "下水道经常堵，一下雨污水就往外冒，味道很大。"),  # a wrapped line is rejoined
        ("6栋业主 李阿姨", "楼顶漏水"),
        (None, "垃圾站离楼太近，夏天有异味"),
        (None, "健身器材年久失修"),
        (None, "建议增设电动车充电桩"),
        (None, "楼道堆满杂物"),
    ]


def test_kinds_say_how_each_point_was_found():
    kinds = [p.kind for p in split_points("楼长：灯坏了。\n1. 停车难\n小区绿化太少了。")]
    assert kinds == ["speaker", "numbered", "paragraph"]


def test_paragraphs_without_speakers_or_numbers_are_one_point_each():
    text = "小区停车难，车位严重不足。\n\n\n路灯晚上经常不亮。\n垃圾清运不及时，夏天味道大。\n"
    assert pairs(split_points(text)) == [
        (None, "小区停车难，车位严重不足。"), (None, "路灯晚上经常不亮。"), (None, "垃圾清运不及时，夏天味道大。")]


def test_short_unpunctuated_lines_stay_separate_points():
    assert [p.text for p in split_points("停车难\n路灯不亮\n电梯老旧")] == ["停车难", "路灯不亮", "电梯老旧"]


@pytest.mark.parametrize("line,expected", [
    ("居民代表：希望增加健身器材。", ("居民代表", "希望增加健身器材。")),
    ("居民代表:希望增加健身器材。", ("居民代表", "希望增加健身器材。")),
    ("居民代表 张建国：希望增加健身器材。", ("居民代表 张建国", "希望增加健身器材。")),
    ("物业公司李经理：下周安排维修。", ("物业公司李经理", "下周安排维修。")),
    ("12栋2单元住户说：楼道扶手松了。", ("12栋2单元住户", "楼道扶手松了。")),
    ("张大爷说楼下广场舞太吵了", ("张大爷", "楼下广场舞太吵了")),
    ("3号楼居民反映楼道灯坏了", ("3号楼居民", "反映楼道灯坏了")),
    ("居民代表张建国提出：增设充电桩。", ("居民代表张建国", "增设充电桩。")),
    ("李阿姨：", None),  # an intro alone is not a point
])
def test_speaker_labels(line, expected):
    points = split_points(line)
    assert (pairs(points)[0] if points else None) == expected


@pytest.mark.parametrize("line", [
    "上午9:30准时开会，大家都到了。",  # a clock time is not a speaker
    "经过讨论，大家一致认为：停车问题最突出。",  # a sentence before the colon
    "问题：楼道灯坏了",  # a heading word, not a person
])
def test_colons_that_are_not_speakers(line):
    assert pairs(split_points(line)) == [(None, line)]


@pytest.mark.parametrize("marker", ["一、", "十二、", "1.", "1．", "1、", "1)", "（1）", "(一)", "①", "第一，", "• ", "- "])
def test_numbering_styles(marker):
    assert pairs(split_points(f"{marker}希望增设电动车充电桩\n{marker}楼道灯不亮")) == [
        (None, "希望增设电动车充电桩"), (None, "楼道灯不亮")]


def test_numbers_inside_text_are_not_items():
    assert [p.text for p in split_points("1.5米宽的消防通道被占了。")] == ["1.5米宽的消防通道被占了。"]


def test_section_headings_are_skipped_and_items_under_a_speaker_inherit_it():
    text = "一、居民反映的主要问题：\n（一）停车难，车位太少\n（二）路灯不亮\n二、下一步工作安排\n社区书记：\n1. 联系物业修路灯\n"
    assert pairs(split_points(text)) == [
        (None, "停车难，车位太少"), (None, "路灯不亮"), ("社区书记", "联系物业修路灯")]


def test_only_headers_gives_nothing():
    assert split_points("桂花苑居民议事会会议纪要\n时间：3月5日\n地点：社区\n参会人员：12人\n\n散会") == []


def test_fullwidth_digits_and_spaces_are_normalised():
    assert pairs(split_points("３号楼居民：　楼顶漏水。")) == [("3号楼居民", "楼顶漏水。")]


# --- files ------------------------------------------------------------------------------------

def test_txt_in_gbk_utf8_bom_and_utf16():
    text = "楼长：楼道灯坏了。\r\n3号楼居民说车位太少。\r\n"
    for data in (text.encode("gb18030"), b"\xef\xbb\xbf" + text.encode("utf-8"), b"\xff\xfe" + text.encode("utf-16-le")):
        _, points = parse_minutes("纪要.txt", data, None)
        assert pairs(points) == [("楼长", "楼道灯坏了。"), ("3号楼居民", "车位太少。")]


def make_docx(build) -> bytes:
    document = docx.Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def fill(table, rows):
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value


def test_docx_paragraphs_headings_lists_and_tables_in_order():
    def build(d):
        d.add_heading("桂花苑居民议事会会议纪要", 1)
        d.add_paragraph("时间：2024年3月5日")
        d.add_heading("居民发言", 2)
        d.add_paragraph("居民代表李阿姨：小区里电动车乱停，还有人飞线充电")
        d.add_paragraph("停车位不够", style="List Number")
        d.add_paragraph("路灯不亮", style="List Number")
        fill(d.add_table(rows=3, cols=3), [["序号", "发言人", "主要意见"],
                                           ["1", "6号楼业主", "屋顶漏水，墙皮脱落"], ["2", "", "希望增加老年食堂"]])
        fill(d.add_table(rows=2, cols=3), [["姓名", "楼栋", "联系电话"], ["张三", "3栋", "13812345678"]])
        paragraph = d.add_paragraph("3号楼居民说：垃圾桶太少")
        paragraph.add_run().add_break()  # a line break inside one paragraph
        paragraph.add_run("5号楼居民：楼道堆满杂物")
        fill(d.add_table(rows=2, cols=2), [["楼长", "单元门锁坏了"], ["网格员", "已登记"]])

    text, points = parse_minutes("纪要.docx", make_docx(build), None)
    assert pairs(points) == [
        ("居民代表李阿姨", "小区里电动车乱停，还有人飞线充电"),
        (None, "停车位不够"),  # short lines of a docx are never joined: each paragraph is its own
        (None, "路灯不亮"),
        ("6号楼业主", "屋顶漏水，墙皮脱落"),
        (None, "希望增加老年食堂"),
        ("3号楼居民", "垃圾桶太少"),
        ("5号楼居民", "楼道堆满杂物"),
        ("楼长", "单元门锁坏了"),
        ("网格员", "已登记"),
    ]
    assert "13812345678" not in text and "张三" not in text  # a sign-in sheet is personal data, not minutes
    assert "桂花苑居民议事会会议纪要" not in text


@pytest.mark.parametrize("filename,data,message", [
    ("纪要.txt", b"", "文件是空的"),
    ("纪要.txt", b"   \r\n\r\n  ", "文件是空的"),
    ("纪要.docx", b"", "文件是空的"),
    ("纪要.docx", b"not a zip at all", "无法读取 Word 文档"),
    ("纪要.docx", b"PK\x03\x04broken", "无法读取 Word 文档"),
    ("纪要.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "不支持旧版 .doc"),
    ("纪要.pdf", b"%PDF-1.4 ...", "只支持 Word 文档（.docx）或纯文本文件（.txt）"),
    ("纪要.txt", b"PK\x03\x04" + b"\x00" * 50, "文件名不是 .docx"),
    ("纪要.txt", b"abc\x00\x01\x02def", "不是纯文本"),
])
def test_unreadable_files_say_why(filename, data, message):
    with pytest.raises(MinutesError) as error:
        parse_minutes(filename, data, None)
    assert message in error.value.message


def test_empty_docx_and_headers_only():
    with pytest.raises(MinutesError, match="没有文字内容"):
        read_minutes("纪要.docx", make_docx(lambda d: None))
    with pytest.raises(MinutesError, match="没有找到可拆分的内容"):
        parse_minutes("纪要.txt", "居民座谈会纪要\n时间：3月5日\n".encode(), None)
    with pytest.raises(MinutesError, match="请上传纪要文件或粘贴纪要内容"):
        parse_minutes(None, None, "  \n ")


def test_a_xlsx_renamed_docx_is_refused():
    from tests.helpers import xlsx_bytes

    with pytest.raises(MinutesError, match="无法读取 Word 文档"):
        parse_minutes("纪要.docx", xlsx_bytes([["a", "b"]]), None)


def test_limits():
    with pytest.raises(MinutesError, match="纪要过长"):
        parse_minutes(None, None, "停车难。\n" * 30000)
    with pytest.raises(MinutesError, match="超过上限 300 条"):
        parse_minutes(None, None, "".join(f"{i}. 第{i}条意见\n" for i in range(1, 320)))


# --- editing the draft ------------------------------------------------------------------------

DRAFT = [ParsedPoint("楼道灯坏了。", "楼长"), ParsedPoint("车位太少。单元门也坏了。", "3号楼居民"), ParsedPoint("垃圾多。")]


def test_merge_keeps_the_other_speakers_name():
    merged = merge_with_next(DRAFT, 0)
    assert pairs(merged) == [("楼长", "楼道灯坏了。\n3号楼居民：车位太少。单元门也坏了。"), (None, "垃圾多。")]
    with pytest.raises(MinutesError, match="没有下一条"):
        merge_with_next(DRAFT, 2)


def test_split_at_the_cursor_or_at_line_breaks():
    assert pairs(split_point(DRAFT, 1, cursor=5)) == [
        ("楼长", "楼道灯坏了。"), ("3号楼居民", "车位太少。"), ("3号楼居民", "单元门也坏了。"), (None, "垃圾多。")]
    lines = [ParsedPoint("停车难\n路灯不亮\n", None)]
    assert [p.text for p in split_point(lines, 0)] == ["停车难", "路灯不亮"]
    with pytest.raises(MinutesError, match="无法拆分"):
        split_point(DRAFT, 0, cursor=0)  # caret at the very start: nothing to split off
    with pytest.raises(MinutesError, match="不存在"):
        split_point(DRAFT, 7)


def test_delete():
    assert [p.text for p in delete_point(DRAFT, 1)] == ["楼道灯坏了。", "垃圾多。"]
    with pytest.raises(MinutesError):
        delete_point(DRAFT, -1)
