"""Reading uploaded spreadsheets (.xlsx, .csv) into rows of cells, whatever their encoding.

Domain importers (rosters, tickets) map the headers and validate the cells; this module only
turns bytes into a header row and numbered data rows, or refuses with a Chinese message.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from charset_normalizer import from_bytes

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls
BLANKS = re.compile(r"[\s\u3000\u00a0\ufeff\u200b]+")
# Control characters: invisible, and NUL is refused by PostgreSQL. Excel's "_x0000_" escapes bring them in.
CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x7f]")
# Named columns a file may have: a 12345 export has about 30, a roster 6. More is not one of our tables,
# and each unknown column would become a dropdown on the ticket mapping form.
MAX_COLUMNS = 200


@dataclass
class ErrorReport:
    """Row-by-row errors for the user: all are counted, the first `limit` are kept to show."""
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    limit: int = 500

    def fail(self, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < self.limit:
            self.errors.append(message)

    @property
    def ok(self) -> bool:
        return self.error_count == 0


class TableError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[Any]]]  # (line number as the user sees it, cells aligned to headers)
    encoding: Optional[str] = None
    skipped_blank_rows: int = 0
    formula_cells: set[tuple[int, int]] = field(default_factory=set)  # (line, column index)


def clean_cell(value: Any) -> Any:
    """Trim stray whitespace, tabs and invisible characters; empty becomes None."""
    if value is None:
        return None
    if isinstance(value, str):
        value = BLANKS.sub(" ", CONTROLS.sub("", value)).strip()
        return value or None
    return value


def cell_text(value: Any) -> str:
    """A cell as the text a person typed: None is "", a whole float (Excel's 12.0) loses its ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def normalise_header(text: Any) -> str:
    text = "" if text is None else str(text)
    text = BLANKS.sub("", text)
    text = text.replace("（", "(").replace("）", ")").replace("：", "").replace(":", "")
    return text.strip("*")


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 when valid, else the Chinese encoding charset-normalizer finds."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) and not data.startswith(b"\xff\xfe\x00\x00"):
        # Excel's "Unicode 文本" (UTF-16 with a BOM, tab-separated): its NUL bytes are not binary content.
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise TableError("文件中有无法识别的字符，可能已损坏。") from exc
        if "\x00" in text:
            raise TableError("文件包含二进制内容，不是文本表格。请上传 .xlsx 或 .csv 文件。")
        return text, "utf-16"
    if b"\x00" in data[:65536]:
        raise TableError("文件包含二进制内容，不是文本表格。请上传 .xlsx 或 .csv 文件。")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data, cp_isolation=["gb18030", "gbk", "big5", "utf_16"]).best()
    if best is None:
        # A short, mostly-ASCII GBK export ("XXX下" cells) is too "chaotic" for charset-normalizer;
        # GB18030 is what Chinese Excel writes, so take it when the bytes are valid GB18030.
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            raise TableError("无法识别文件编码。请用 Excel 另存为“CSV UTF-8”或 .xlsx 后再上传。") from None
    encoding = best.encoding
    if encoding in ("gbk", "gb2312"):
        encoding = "gb18030"  # superset: decodes every GBK file and more
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        raise TableError("文件中有无法识别的字符，可能已损坏。") from exc


def _csv_rows(text: str) -> Iterable[list[Any]]:
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    try:
        for row in csv.reader(io.StringIO(text, newline=""), dialect):
            yield row
    except csv.Error as exc:
        raise TableError(f"CSV 格式有误：{exc}") from exc


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")
_CELL_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]+)([0-9]+)"')


def _column_index(letters: bytes) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + (letter - 64)
    return index - 1


def _first_sheet_xml(archive: zipfile.ZipFile) -> bytes:
    """The XML of the workbook's first sheet, found the way Excel orders them (workbook.xml)."""
    workbook = archive.read("xl/workbook.xml")
    rels = archive.read("xl/_rels/workbook.xml.rels")
    first = re.search(rb'<(?:\w+:)?sheet\b[^>]*?\br(?:\w*):id="([^"]+)"', workbook) or \
        re.search(rb'<(?:\w+:)?sheet\b[^>]*?\bid="([^"]+)"', workbook)
    if first is None:
        raise KeyError("no sheet")
    target = re.search(rb'<Relationship\b[^>]*?\bId="' + re.escape(first.group(1)) + rb'"[^>]*?\bTarget="([^"]+)"', rels) \
        or re.search(rb'<Relationship\b[^>]*?\bTarget="([^"]+)"[^>]*?\bId="' + re.escape(first.group(1)) + rb'"', rels)
    if target is None:
        raise KeyError("no sheet target")
    name = target.group(1).decode()
    name = name.lstrip("/") if name.startswith("/") else "xl/" + name
    return archive.read(name)


def _formula_cells(data: bytes) -> set[tuple[int, int]]:
    """(Excel row, column index) of every cell holding a formula: its <c> element has an <f> child."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = _first_sheet_xml(archive)
    found = set()
    for match in _FORMULA_TAG.finditer(xml):
        window = xml[max(0, match.start() - 512):match.start()]  # the <c> that opens this cell is just before
        refs = list(_CELL_REF.finditer(window))
        if refs:
            found.add((int(refs[-1].group(2)), _column_index(refs[-1].group(1))))
    return found


def _plain(value: Any) -> Any:
    """calamine gives every number as a float: whole numbers (phone numbers, rooms) back to int."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if value == "":
        return None
    return value


def _xlsx_rows(data: bytes, formulas: set, max_rows: int) -> Iterable[list[Any]]:
    """Rows numbered as Excel numbers them. Values come from calamine (fast); formulas are found in
    the sheet's XML, and text typed to look like one ("=1+1") counts as a formula too."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
        formula_cells = _formula_cells(data)
    except Exception as exc:  # calamine and zipfile raise many kinds on files that are not .xlsx
        raise TableError("无法读取 Excel 文件，文件可能已损坏或不是 .xlsx 格式。") from exc
    if sheet.total_height > max_rows + 10000:  # far past any sane file: refuse before reading it all
        raise TableError(f"数据行太多：最多 {max_rows} 行，请分批导入。")
    # calamine pads the rows above the first used cell but not the columns to its left
    first_column = sheet.start[1] if sheet.start else 0
    lead = [None] * first_column
    formulas.update(formula_cells)
    try:
        for line, row in enumerate(sheet.iter_rows(), start=1):
            values = lead + [_plain(v) for v in row]
            for index, value in enumerate(values):
                if isinstance(value, str) and value.startswith("="):
                    formulas.add((line, index))
            yield values
    except Exception as exc:
        raise TableError("Excel 文件内容损坏，无法读取。") from exc


def read_table(filename: str, data: bytes, *, max_rows: int = 20000, max_columns: int = MAX_COLUMNS) -> Table:
    """Parse an uploaded .xlsx/.csv. Raises TableError with a message for the user."""
    if not data or not data.strip():
        raise TableError("文件是空的。")
    name = (filename or "").lower()
    formulas: set[tuple[int, int]] = set()
    encoding = None
    if data.startswith(OLE_MAGIC) or name.endswith(".xls"):
        raise TableError("不支持旧版 .xls 格式，请在 Excel 中另存为 .xlsx 或 .csv。")
    if data.startswith(XLSX_MAGIC):
        raw_rows: Iterable[list[Any]] = _xlsx_rows(data, formulas, max_rows)
    elif name.endswith(".xlsx"):
        raise TableError("无法读取 Excel 文件，文件可能已损坏或不是 .xlsx 格式。")
    else:
        text, encoding = decode_text(data)
        raw_rows = _csv_rows(text)

    headers: Optional[list[str]] = None
    rows: list[tuple[int, list[Any]]] = []
    blank = 0
    for line, raw in enumerate(raw_rows, start=1):
        cells = [clean_cell(v) for v in raw]
        if not any(c is not None for c in cells):
            blank += 1
            continue
        if headers is None:
            headers = [normalise_header(c) for c in cells]
            header_line = line
            named = sum(1 for h in headers if h)
            if named > max_columns:
                raise TableError(f"表头有 {named} 列，超过 {max_columns} 列的上限，不像是可导入的表格。"
                                 "请删去不需要的列后再上传。")
            continue
        if len(rows) >= max_rows:
            raise TableError(f"数据行太多：最多 {max_rows} 行，请分批导入。")
        width = len(headers)
        cells = (cells + [None] * width)[:width] if len(cells) <= width else cells
        if len(cells) > width and any(c is not None for c in cells[width:]):
            raise TableError(f"第 {line} 行的列数多于表头（{width} 列），请检查是否有多余的分隔符。")
        rows.append((line, cells[:width]))
    if headers is None:
        raise TableError("文件中没有表头行。")
    formula_cells = {(l, c) for (l, c) in formulas if l != header_line}
    return Table(headers, rows, encoding, blank, formula_cells)


def map_headers(headers: list[str], aliases: dict[str, list[str]]) -> dict[str, int]:
    """Find each canonical column among the headers by its known names (first alias wins)."""
    found: dict[str, int] = {}
    for canonical, names in aliases.items():
        for name in [canonical, *names]:
            key = normalise_header(name)
            if key in headers:
                found[canonical] = headers.index(key)
                break
    return found


def header_list(headers: Iterable[str], limit: int = 20, width: int = 30) -> str:
    """Headers for a message: the first `limit` non-blank ones, each cut to `width` characters, then
    "等 N 列" (a hostile file with thousands of long headers must not make a 40k-character message)."""
    names = [h for h in headers if h]
    if not names:
        return "（无）"
    shown = "、".join(h if len(h) <= width else h[:width] + "…" for h in names[:limit])
    return shown + (f" 等 {len(names)} 列" if len(names) > limit else "")


def is_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("=")
