"""Splitting consultation minutes (座谈会纪要) into points: plain Python, no Flask.

A point is one speaker turn ("楼长：…", "3号楼居民说…"), one numbered item ("一、", "1.", "（1）")
or, failing both, one paragraph. Titles, the meeting's particulars (时间、地点、主持人…), section
headings, page marks and blank lines are not points. Staff review the result before it is saved,
so the rules aim to be predictable rather than clever.

>>> [(p.speaker, p.text) for p in split_points("会议纪要\\n时间：3月5日\\n楼长：楼道灯坏了。\\n3号楼居民说车位太少")]
[('楼长', '楼道灯坏了。'), ('3号楼居民', '车位太少')]
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, replace
from typing import Iterable, Optional

MAX_TEXT_CHARS = 100_000  # about 60 pages of minutes; more is not one meeting
MAX_POINTS = 300
MAX_POINT_CHARS = 4000
MAX_SPEAKER_CHARS = 64
MAX_DOCX_UNCOMPRESSED = 100 * 1024 * 1024  # refuse zip bombs before python-docx inflates them

ZIP_MAGIC = b"PK\x03\x04"
# Invisible control characters go (PostgreSQL refuses NUL in text); vertical tab and form feed are line breaks.
CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .doc


class MinutesError(Exception):
    """A file or text that cannot be read as minutes; the message is for the user (Chinese)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ParsedPoint:
    text: str
    speaker: Optional[str] = None
    kind: str = "paragraph"  # speaker | numbered | paragraph


# --- reading files ----------------------------------------------------------------------------

def read_minutes(filename: str, data: bytes) -> str:
    """The text of an uploaded .docx or .txt file, one paragraph per line."""
    name = (filename or "").lower().strip()
    if not data or not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise MinutesError("文件是空的，请检查后重新上传。")
    if data.startswith(OLE_MAGIC) or name.endswith(".doc"):
        raise MinutesError("不支持旧版 .doc 格式，请在 Word 中“另存为” .docx 后再上传。")
    if name.endswith(".docx"):
        if not data.startswith(ZIP_MAGIC):
            raise MinutesError("无法读取 Word 文档，文件可能已损坏或不是 .docx 格式。")
        text = docx_text(data)
    elif name.endswith(".txt") or not name:
        if data.startswith(ZIP_MAGIC):
            raise MinutesError("这是一个压缩格式的文件（如 .docx），但文件名不是 .docx，请检查后重新上传。")
        text = decode_text_file(data)
    else:
        raise MinutesError("只支持 Word 文档（.docx）或纯文本文件（.txt）。")
    if not text.strip():
        raise MinutesError("文件中没有文字内容。")
    return text


def decode_text_file(data: bytes) -> str:
    """UTF-8, UTF-16 (Notepad's "Unicode") or GBK/GB18030, as Chinese Windows writes them."""
    from portal.core.tabular import TableError, decode_text

    for bom, encoding in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding)
            except UnicodeDecodeError as exc:
                raise MinutesError("文件中有无法识别的字符，可能已损坏。") from exc
    if b"\x00" in data[:65536]:
        raise MinutesError("文件不是纯文本，请上传 .txt 或 .docx 文件。")
    try:
        text, _ = decode_text(data)
    except TableError as exc:
        raise MinutesError("无法识别文件的文字编码，请用记事本“另存为” UTF-8 编码后再上传。") from exc
    return text


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_DOCX_UNCOMPRESSED:
                raise MinutesError("Word 文档解压后过大，无法读取。")
            if "word/document.xml" not in archive.namelist():
                raise MinutesError("无法读取 Word 文档，文件可能已损坏或不是 .docx 格式。")
    except zipfile.BadZipFile as exc:
        raise MinutesError("无法读取 Word 文档，文件可能已损坏或不是 .docx 格式。") from exc


def docx_text(data: bytes) -> str:
    """Paragraphs and tables of the body in document order; headings and sign-in tables left out."""
    _check_zip(data)
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                lines.extend(_table_lines(block))
                continue
            style = (block.style.name if block.style is not None else "") or ""
            if style.lower().startswith(("heading", "title")) or style.startswith("标题"):
                continue  # Word headings: section titles, never a point
            text = block.text or ""
            numbered = (block._p.pPr is not None and block._p.pPr.numPr is not None) or style.startswith("List")
            for i, line in enumerate(text.split("\n")):
                # Word's automatic numbering is not in the text: mark the item so it splits as one.
                lines.append(("• " + line) if numbered and i == 0 and line.strip() else line)
    except MinutesError:
        raise
    except Exception as exc:  # python-docx raises many kinds on damaged files
        raise MinutesError("无法读取 Word 文档，文件可能已损坏或不是 .docx 格式。") from exc
    return "\n".join(lines)


TABLE_SPEAKER = re.compile(r"发言人|发言者|反映人|提出人|姓名|身份|代表|人员")
TABLE_CONTENT = re.compile(r"意见|问题|内容|诉求|建议|发言|反映|情况|需求")
TABLE_SKIP = re.compile(r"序号|编号|电话|手机|联系|签名|签到|身份证|证件|备注|时间|日期")


def _row_cells(row) -> list[str]:
    cells: list[str] = []
    seen = set()
    for cell in row.cells:
        if id(cell._tc) in seen:  # a merged cell is returned once per grid column it spans
            continue
        seen.add(id(cell._tc))
        cells.append(_clean(cell.text.replace("\n", " ")))
    return cells


def _table_lines(table) -> list[str]:
    """A table of opinions becomes "speaker：content" lines; sign-in sheets (names, phones) are skipped."""
    rows = [_row_cells(row) for row in table.rows]
    rows = [r for r in rows if any(r)]
    if not rows:
        return []
    header = rows[0]
    looks_like_header = all(len(c) <= 12 and not _ends_sentence(c) for c in header) and any(
        TABLE_SPEAKER.search(c) or TABLE_CONTENT.search(c) or TABLE_SKIP.search(c) for c in header)
    lines: list[str] = []
    if looks_like_header:
        speaker_col = next((i for i, c in enumerate(header)
                            if TABLE_SPEAKER.search(c) and not TABLE_SKIP.search(c)), None)
        content_cols = [i for i, c in enumerate(header)
                        if TABLE_CONTENT.search(c) and not TABLE_SKIP.search(c) and i != speaker_col]
        if not content_cols:
            return []  # a sign-in sheet or a list of names: personal data, not demand
        for row in rows[1:]:
            content = "；".join(row[i] for i in content_cols if i < len(row) and row[i])
            if not content:
                continue
            speaker = row[speaker_col] if speaker_col is not None and speaker_col < len(row) else ""
            lines.append(f"{speaker}：{content}" if speaker and len(speaker) <= 20 else content)
        return lines
    for row in rows:
        cells = [c for c in row if c and not re.fullmatch(r"\d{1,3}[.、]?", c)]
        if not cells:
            continue
        if len(cells) == 2 and len(cells[0]) <= 20 and not _ends_sentence(cells[0]):
            lines.append(f"{cells[0]}：{cells[1]}")
        else:
            lines.append("；".join(cells))
    return lines


# --- splitting text ---------------------------------------------------------------------------

_FULLWIDTH = {**{0xFF10 + i: 0x30 + i for i in range(10)},
              **{0xFF21 + i: 0x41 + i for i in range(26)},
              **{0xFF41 + i: 0x61 + i for i in range(26)},
              0x3000: 0x20, 0x00A0: 0x20, 0x200B: None, 0x200C: None, 0x200D: None, 0xFEFF: None, 0x2028: 0x0A,
              0x2029: 0x0A, 0x0009: 0x20}
_SPACES = re.compile(r"[ \t]+")
TERMINAL = "。！？!?；;…”’\"）)】"
CN_NUM = "一二三四五六七八九十百零〇两"
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"

# A numbered item: the marker, then the item. The group name says which numbering style it is.
NUMBERED = re.compile(
    rf"^(?:"
    rf"(?P<cn>[{CN_NUM}]{{1,3}})\s*[、．.，,]"                     # 一、  十二、
    rf"|[（(]\s*(?P<pcn>[{CN_NUM}]{{1,3}})\s*[）)]"                # （一）
    rf"|[（(]\s*(?P<pnum>\d{{1,3}})\s*[）)]"                       # （1）
    rf"|(?P<num>\d{{1,3}})\s*(?:[、．]|\.(?!\d)|[)）])"            # 1.  1、  1）
    rf"|(?P<circ>[{CIRCLED}])"                                     # ①
    rf"|第(?P<ord>[{CN_NUM}\d]{{1,3}})(?:点|条|项)?[、，,：:是]"    # 第一，  第二点：
    rf"|(?P<bullet>[•·●○■□◆◇▪▶\-—*])(?=\s|[\u4e00-\u9fff])"       # bullets (and Word's own lists)
    rf")\s*(?P<rest>.*)$"
)

META_KEYS = re.compile(
    r"^(?:会议|会议的)?(?:时间|日期|地点|地址|主持|主持人|记录|记录人|记录员|纪要整理|整理|整理人|审核|审核人|审定|"
    r"参会人员|参会人|参加人员|参加人|出席人员|出席|列席人员|列席|缺席人员|缺席|与会人员|参会人数|出席人数|应到|实到|"
    r"主题|议题|名称|组织单位|主办单位|承办单位|召集人|抄送|报送|发送|附件|签发|联系人|联系电话|电话|"
    r"参会单位|参会对象|会议形式|形式)$")
HEADING_WORDS = re.compile(
    r"内容|情况|议程|摘要|纪要|记录|意见|问题|建议|事项|结论|决定|共识|备注|说明|议题|主题|概况|安排|总结|汇总|下一步|附")
HEADING_STRONG = re.compile(r"会议|情况|议程|概况|下一步|工作安排|汇总|摘要|发言$|内容$")
SPEAKER_HINT = re.compile(
    r"居民|业主|楼长|单元长|代表|住户|租户|党员|志愿者|网格员|物业|书记|主任|经理|委员|大爷|大妈|阿姨|奶奶|爷爷|大叔|大姐|"
    r"大哥|师傅|先生|女士|老师|同志|社工|商户|老人|老伯|工作人员|负责人|站长|所长|队长|组长|院长|村民|群众|"
    r"\d+\s*(?:号楼|号|栋|幢|座|单元|室)|[一二三四五六七八九十]+\s*(?:号楼|栋|幢|单元)")
META_PREFIX = re.compile(r"^(?:会议)?(?:时间|日期|地点)")
LABEL_VERB = re.compile(r"说道|说|讲|表示|提到|谈到|认为|发言|指出|补充|询问|问道|反映|提出|建议|希望|要求|回应|回复|答复|回答")
SAYING = re.compile(
    r"^(?P<label>[^，,。！？!?；;：:、\s][^，,。！？!?；;：:]{0,19}?)"
    r"(?P<verb>说道|说|讲|表示|提到|谈到|认为|指出|补充|反映|提出|建议|希望|要求|询问|问道)"
    r"(?:[：:，,]\s*|(?=[\u4e00-\u9fff“\"\d]))(?P<rest>.+)$")
KEEP_VERBS = {"反映", "提出", "建议", "希望", "要求"}  # they carry meaning: "建议增设充电桩"
COLON = re.compile(r"[：:]")
CLOSING = re.compile(r"^[（(]?(?:完|全文完|散会|会议结束|以上|此致|特此纪要|以上为会议纪要|会议纪要完)[）)]?[。.]?$")
IGNORE_LINE = re.compile(
    r"^(?:[-—_=*~·•.。\s]+|第\s*\d+\s*页.*|共\s*\d+\s*页|\d+\s*/\s*\d+|"
    r"[\d〇零一二三四五六七八九十年月日号\s./\-（）()上下午时分:：]{4,})$")


def _clean(line: str) -> str:
    return _SPACES.sub(" ", line.translate(_FULLWIDTH)).strip()


def _ends_sentence(text: str) -> bool:
    return bool(text) and text[-1] in TERMINAL


def _strip_brackets(label: str) -> str:
    """"【6栋业主】李阿姨" → "6栋业主 李阿姨"."""
    label = re.sub(r"[【\[](.+?)[】\]]", r"\1 ", label)
    return _SPACES.sub(" ", label.strip("【】[]<>《》 ")).strip()


def numbered(line: str) -> Optional[tuple[str, str]]:
    """(style, rest) of a numbered or bulleted item, else None."""
    match = NUMBERED.match(line)
    if not match or not match.group("rest").strip():
        return None
    style = next(name for name in ("cn", "pcn", "pnum", "num", "circ", "ord", "bullet") if match.group(name))
    rest = match.group("rest").strip()
    if style == "num" and re.match(r"^\d", rest):
        return None  # "1.5米", "2024.3"
    return style, rest


def _speaker_label(label: str) -> Optional[str]:
    """The speaker named before a colon ("社区王书记", "3号楼居民反映" → "3号楼居民"), or None."""
    label = _strip_brackets(label)
    if (not label or len(label) > 20 or re.search(r"[，,。！？!?；;“”\"]", label)
            or _meta_label(label) or label.lower().startswith(("http", "www"))):
        return None
    verb = LABEL_VERB.search(label)
    if verb and label[verb.end():].startswith("的"):
        return None  # "居民反映的主要问题": what was said, not who said it
    if verb and verb.start() > 0 and (verb.end() == len(label) or SPEAKER_HINT.search(label[:verb.start()])):
        label = label[:verb.start()].strip()  # "居民代表张建国提出以下意见" → "居民代表张建国"
    elif HEADING_WORDS.search(label):
        return None  # "居民意见", "会议内容": a heading, not a person
    return label[:MAX_SPEAKER_CHARS] or None


def speaker_of(line: str) -> Optional[tuple[str, str]]:
    """(speaker, what they said) when the line is a speaker turn, else None."""
    colon = COLON.search(line)
    if colon and 0 < colon.start() <= 24:
        label, rest = line[:colon.start()], line[colon.end():].strip()
        is_clock = colon.group() == ":" and label[-1:].isdigit() and rest[:1].isdigit()
        speaker = None if is_clock else _speaker_label(label)
        if speaker:
            return speaker, rest
    saying = SAYING.match(line)
    if (saying and SPEAKER_HINT.search(saying.group("label")) and not HEADING_WORDS.search(saying.group("label"))
            and not saying.group("rest").startswith("的")):
        label = _strip_brackets(saying.group("label"))
        verb, rest = saying.group("verb"), saying.group("rest").strip()
        return label[:MAX_SPEAKER_CHARS], (verb + rest if verb in KEEP_VERBS else rest)
    return None


def _meta_label(label: str) -> bool:
    label = label.replace(" ", "")
    return bool(META_KEYS.match(label) or META_PREFIX.match(label))


def _is_meta(line: str) -> bool:
    colon = COLON.search(line)
    return bool(colon and colon.start() <= 12 and _meta_label(line[:colon.start()]))


def _is_title(line: str, seen_content: bool) -> bool:
    if COLON.search(line) or _ends_sentence(line) or len(line) > 40:
        return False
    if re.search(r"纪要|会议记录|记录表|会议简报$", line):
        return True
    return not seen_content and bool(re.search(r"(?:座谈会|议事会|问需会|恳谈会|协商会|听证会|会议)$", line))


def _is_plain_heading(line: str) -> bool:
    """A short line naming a section ("会议基本情况", "居民主要意见：")."""
    if _ends_sentence(line) or len(line) > 16:
        return False
    return line.endswith(("：", ":")) or bool(HEADING_STRONG.search(line))


@dataclass
class _Line:
    kind: str  # blank | skip | speaker | numbered | plain
    text: str = ""
    speaker: Optional[str] = None
    style: Optional[str] = None
    raw: str = ""


def _classify(lines: Iterable[str]) -> list[_Line]:
    out: list[_Line] = []
    seen_content = False
    for raw in lines:
        line = _clean(raw)
        if not line:
            out.append(_Line("blank"))
            continue
        if _is_meta(line):
            out.append(_Line("skip", style="meta", raw=line))
            continue
        if IGNORE_LINE.match(line) or CLOSING.match(line) or _is_title(line, seen_content):
            out.append(_Line("skip", raw=line))
            continue
        item = numbered(line)
        if item:
            style, rest = item
            turn = speaker_of(rest)
            out.append(_Line("numbered", turn[1] if turn else rest, turn[0] if turn else None, style, line))
            seen_content = True
            continue
        turn = speaker_of(line)
        if turn:
            out.append(_Line("speaker", turn[1], turn[0], raw=line))
            seen_content = True
            continue
        if _is_plain_heading(line):
            out.append(_Line("skip", raw=line))
            continue
        out.append(_Line("plain", line, raw=line))
        seen_content = True
    return out


def _next_significant(lines: list[_Line], start: int) -> Optional[_Line]:
    for line in lines[start:]:
        if line.kind not in ("blank",):
            return line
    return None


def _is_section_heading(lines: list[_Line], index: int) -> bool:
    """"一、会议基本情况" heads a section; "1. 停车难" is a point. Headings are short, unpunctuated,
    end with a colon or name a section, or are followed by items of another style."""
    line = lines[index]
    text = line.text
    if line.speaker or len(text) > 20 or _ends_sentence(text):
        return False
    if text.endswith(("：", ":")) or HEADING_STRONG.search(text):
        return True
    after = _next_significant(lines, index + 1)
    if after is None:
        return False
    if after.kind == "skip" and after.style == "meta":
        return True  # "一、会议基本情况" followed by "时间：…"
    return (after.kind == "numbered" and after.style != line.style and HEADING_WORDS.search(text) is not None) or (
        after.kind == "speaker" and HEADING_WORDS.search(text) is not None)


def _is_intro(text: str) -> bool:
    return text.endswith(("：", ":")) and len(text) <= 30


def split_points(text: str, *, join_wrapped_lines: bool = True) -> list[ParsedPoint]:
    """Split minutes into points. `join_wrapped_lines` (pasted text and .txt) rejoins a paragraph that
    was hard-wrapped: a long line that stops mid-sentence continues on the next line."""
    if not text:
        return []
    lines = _classify(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    points: list[ParsedPoint] = []
    current: Optional[dict] = None
    # Set by an intro ("居民代表张建国：" alone, "业主提出以下意见："): what follows is theirs until
    # the next speaker or heading.
    context: Optional[str] = None
    previous = "blank"

    def close():
        nonlocal current
        if current is not None:
            body = current["text"].strip()
            if len(body.strip("，,。.；;：:、 ")) >= 2:
                points.append(ParsedPoint(body, current["speaker"], current["kind"]))
        current = None

    for index, line in enumerate(lines):
        if line.kind == "blank":
            close()
            previous = "blank"
        elif line.kind == "skip":
            close()
            context, previous = None, "skip"
        elif line.kind == "numbered":
            close()
            if _is_section_heading(lines, index):
                context, previous = None, "skip"
            elif not line.text or _is_intro(line.text):
                context, previous = line.speaker, "intro"
            else:
                current = {"text": line.text, "speaker": line.speaker or context, "kind": "numbered",
                           "last": len(line.text)}
                previous = "numbered"
        elif line.kind == "speaker":
            close()
            if not line.text or _is_intro(line.text):
                context, previous = line.speaker, "intro"
            else:
                context = None
                current = {"text": line.text, "speaker": line.speaker, "kind": "speaker", "last": len(line.text)}
                previous = "speaker"
        else:
            wrapped = (join_wrapped_lines and current is not None and previous != "blank"
                       and not _ends_sentence(current["text"]) and not _is_intro(current["text"])
                       and (current["last"] >= 20 or current["text"].endswith(("，", ",", "、"))))
            if wrapped:
                current["text"] += line.text
                current["last"] = len(line.text)
                continue
            close()
            current = {"text": line.text, "speaker": context, "kind": "speaker" if context else "paragraph",
                       "last": len(line.text)}
            previous = "plain"
    close()
    return points


def parse_minutes(filename: Optional[str], data: Optional[bytes], pasted: Optional[str]) -> tuple[str, list[ParsedPoint]]:
    """The minutes' text and its points, from an uploaded file or else pasted text."""
    if data is not None and filename:
        text = read_minutes(filename, data)
        is_docx = filename.lower().endswith(".docx")
    else:
        text = (pasted or "").replace("\r\n", "\n")
        is_docx = False
        if not text.strip():
            raise MinutesError("请上传纪要文件或粘贴纪要内容。")
    text = CONTROLS.sub("", text.replace("\x0b", "\n").replace("\x0c", "\n"))
    if len(text) > MAX_TEXT_CHARS:
        raise MinutesError(f"纪要过长（超过 {MAX_TEXT_CHARS // 10000} 万字），请分次录入。")
    points = split_points(text, join_wrapped_lines=not is_docx)
    if not points:
        raise MinutesError("纪要中没有找到可拆分的内容（只有标题、时间地点等），请检查文件或文字。")
    if len(points) > MAX_POINTS:
        raise MinutesError(f"纪要拆分出 {len(points)} 条，超过上限 {MAX_POINTS} 条，请分次录入。")
    return text, points


# --- editing a draft split (merge, split, delete) --------------------------------------------

def merge_with_next(points: list[ParsedPoint], index: int) -> list[ParsedPoint]:
    """Join point `index` and the one after it; a different speaker's words keep their name."""
    if not 0 <= index < len(points) - 1:
        raise MinutesError("最后一条没有下一条可以合并。")
    first, second = points[index], points[index + 1]
    tail = second.text
    if second.speaker and second.speaker != first.speaker:
        tail = f"{second.speaker}：{tail}"
    merged = ParsedPoint(f"{first.text}\n{tail}", first.speaker or None, first.kind)
    return points[:index] + [merged] + points[index + 2:]


def split_point(points: list[ParsedPoint], index: int, cursor: Optional[int] = None) -> list[ParsedPoint]:
    """Split point `index` at the cursor, or else at each line break in its text."""
    if not 0 <= index < len(points):
        raise MinutesError("要拆分的条目不存在。")
    point = points[index]
    text = point.text
    if cursor is not None and 0 < cursor < len(text) and text[:cursor].strip() and text[cursor:].strip():
        parts = [text[:cursor], text[cursor:]]
    else:
        parts = [part for part in text.split("\n") if part.strip()]
        if len(parts) < 2:
            raise MinutesError(f"第 {index + 1} 条无法拆分：请把光标放在要拆开的位置，或在该处换行，再点“拆分”。")
    pieces = [replace(point, text=part.strip()) for part in parts]
    return points[:index] + pieces + points[index + 1:]


def delete_point(points: list[ParsedPoint], index: int) -> list[ParsedPoint]:
    if not 0 <= index < len(points):
        raise MinutesError("要删除的条目不存在。")
    return points[:index] + points[index + 1:]
