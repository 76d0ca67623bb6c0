"""Shared pieces for the property-based (hypothesis) tests of the parsers: hostile cell values, header rows,
whole uploads in every encoding and format, and checks that an error is a clean Chinese one and that a
failed import wrote nothing."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.extensions import db

CJK = re.compile(r"[\u4e00-\u9fff]")

# Bounded so each property adds seconds, not minutes, to `make test`; deadline off: the first example
# of a test pays for the model load and the database's warm-up.
FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much])


def fuzz(max_examples: int = 120) -> settings:
    return settings(FUZZ, max_examples=max_examples)


def assert_chinese(message: str) -> None:
    """A message for the user: non-empty, in Chinese, and not a Python exception's text."""
    assert isinstance(message, str) and message.strip(), message
    assert CJK.search(message), message
    assert "Traceback" not in message and "Error:" not in message, message


# --- cell values --------------------------------------------------------------------------------

# Values people and exports really put in cells, and the ones that break parsers.
NASTY_TEXT = [
    "", " ", "\u3000", "\t", "\r\n", "\n\n", "\x00", "\x01\x02", "\x7f", "\ufeff", "\u200b", "\u202e反转", "\ufffd",
    "𠀀𪚥", "👨‍👩‍👧", "é", "ｅ", "１２３", "٣٤٥", "=1+1", "=HYPERLINK(\"http://x\",\"点我\")", "+SUM(1)", "-1", "@A1",
    "=cmd|' /C calc'!A0", "'", '"', '""', ",", ";", "\\", "%s%n", "{0}", "<script>", "NULL", "None", "null", "nan",
    "NaN", "inf", "-inf", "1e309", "0", "-0", "00", "0.000", "1,234.5", "99999", "45362.5", "20240305",
    "2024/3/5 09:12:30", "2024-02-30", "2024-13-01", "0001-01-01", "0001-01-01 00:00", "9999-12-31 23:59:59",
    "2024年3月5日", "2024年2月30日 25时61分", "已办结", "办理中", "退单", "投诉", "满意", "业主", "租户", "86.5㎡",
    "13812345678", "0731-8888666", "+86 138 1234 5678", "(0731)88886666", "430103198001011234", "43010319800101123x",
    "桂花苑", "和平街道", "3号楼", "2单元", "301室",
    "_x0000_", "A_x0001_1", "_x001F_", "_x000D_",  # Excel's escapes: calamine turns them into control characters
]


def _huge(draw_char: str, size: int) -> str:
    return draw_char * size


texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(NASTY_TEXT),
    st.builds(lambda a, b: a + b, st.sampled_from(NASTY_TEXT), st.text(max_size=10)),
    st.builds(_huge, st.sampled_from(["长", "a", "1", " ", "𠀀", "="]), st.sampled_from([255, 4001, 20001, 40000])),
)
numbers = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1, 20000, 45362.5, 80000, 19000101, 21001231, 2**53 + 1, 13812345678, 1e15, 1e-300]),
)
moments = st.one_of(st.dates(min_value=date(1, 1, 1)), st.datetimes(min_value=datetime(1, 1, 1)))
cell_values = st.one_of(st.none(), texts, texts, numbers, moments, st.booleans())


def header_rows(known: list[str]) -> st.SearchStrategy[list]:
    """Header rows mixing the module's known column names with anything at all, repeats included."""
    name = st.one_of(st.sampled_from(known), st.sampled_from(known), texts, st.none())
    return st.lists(name, max_size=len(known) + 3)


# --- whole uploads ------------------------------------------------------------------------------

ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16", "big5"]


def _plain(value) -> str:
    return "" if value is None else str(value)


def csv_bytes(rows: list[list], encoding: str, delimiter: str = ",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows([[_plain(v) for v in row] for row in rows])
    # An encoding that lacks a character loses it, as Excel's "save as" does.
    return out.getvalue().encode(encoding, errors="replace")


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xlsx_cell(value):
    if isinstance(value, str):
        return _ILLEGAL_XML.sub("", value)[:32767]  # Excel refuses the rest; openpyxl raises on them
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return str(value)
    if isinstance(value, (date, datetime)) and value.year < 1900:
        return value.isoformat()  # Excel has no dates before 1900
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**15:
        return str(value)
    return value


def xlsx_bytes(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append([_xlsx_cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@st.composite
def corrupted(draw, data: bytes) -> bytes:
    """The file with a few bytes overwritten, or cut short: a damaged download. Positions are drawn from a
    fixed range and folded onto the file: an .xlsx carries its save time, so its length can differ by a byte
    between two runs of one example, and a range bounded by the length would make hypothesis's replay
    draw differently (FlakyStrategyDefinition)."""
    data = bytearray(data)
    if draw(st.booleans()):
        return bytes(data[:draw(st.integers(0, 1 << 20)) % (len(data) + 1)])
    for _ in range(draw(st.integers(1, 8))):
        data[draw(st.integers(0, 1 << 20)) % len(data)] = draw(st.integers(0, 255))
    return bytes(data)


@st.composite
def uploads(draw, known_headers: list[str], *, required: list[str] = (), plausible: dict = None, max_rows: int = 6,
            filenames=None):
    """(filename, bytes) of an arbitrary upload: CSV in any encoding and delimiter, .xlsx, a damaged .xlsx,
    or plain garbage; the table's headers and cells are drawn from the hostile strategies above. Half the
    headers include the `required` columns, and a column named in `plausible` ({header: values}) often
    holds one of its values, so that files get past the header check and rows are valid now and then:
    the paths that write are fuzzed too."""
    header = draw(header_rows(known_headers))
    if required and draw(st.booleans()):
        extra = draw(st.lists(st.sampled_from(known_headers), max_size=3)) if draw(st.booleans()) else header[:4]
        header = draw(st.permutations(list(required) + extra))
    width = max(len(header), 1)
    plausible = plausible or {}
    columns = [st.sampled_from(plausible[h]) if h in plausible else None for h in header] or [None]

    @st.composite
    def row(draw):
        if draw(st.integers(0, 4)) == 0:  # ragged: too short or too long
            return draw(st.lists(cell_values, max_size=width + 2))
        return [draw(cell_values if column is None or not draw(st.integers(0, 3)) else column)
                for column in columns]

    rows = draw(st.lists(row(), min_size=1 if required else 0, max_size=max_rows))
    table = [header, *rows]
    kind = draw(st.sampled_from(["csv", "csv", "xlsx", "xlsx", "damaged", "bytes"]))
    if kind == "csv":
        data = csv_bytes(table, draw(st.sampled_from(ENCODINGS)), draw(st.sampled_from([",", "\t", ";"])))
    elif kind == "xlsx":
        data = xlsx_bytes(table)
    elif kind == "damaged":
        data = draw(corrupted(xlsx_bytes(table)))
    else:
        data = draw(st.binary(max_size=400))
    names = filenames or ["upload.csv", "upload.xlsx", "upload.CSV", "上传.xlsx", "upload.xls", "upload", "upload.txt"]
    natural = "upload.xlsx" if kind in ("xlsx", "damaged") else "upload.csv"
    name = draw(st.one_of(st.just(natural), st.sampled_from(names)))
    return name, data


# --- the database -------------------------------------------------------------------------------

def row_counts() -> dict[str, int]:
    """Rows in every table: a failed import must leave all of them as they were."""
    db.session.expire_all()
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}
