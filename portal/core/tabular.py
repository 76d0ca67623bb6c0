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
        value = BLANKS.sub(" ", value).strip()
        return value or None
    return value


def normalise_header(text: Any) -> str:
    text = "" if text is None else str(text)
    text = BLANKS.sub("", text)
    text = text.replace("（", "(").replace("）", ")").replace("：", "").replace(":", "")
    return text.strip("*")


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 when valid, else the Chinese encoding charset-normalizer finds."""
    if b"\x00" in data[:65536]:
        raise TableError("文件包含二进制内容，不是文本表格。请上传 .xlsx 或 .csv 文件。")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data, cp_isolation=["gb18030", "gbk", "big5", "utf_16"]).best()
    if best is None:
        raise TableError("无法识别文件编码。请用 Excel 另存为“CSV UTF-8”或 .xlsx 后再上传。")
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


def _xlsx_rows(data: bytes, formulas: set, max_rows: int) -> Iterable[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise TableError("无法读取 Excel 文件，文件可能已损坏或不是 .xlsx 格式。") from exc
    try:
        sheet = workbook.worksheets[0]
        # With data_only=False a formula cell's value is its formula text ("=SUM(A1:A3)"): plain values
        # are enough to spot formulas, and much faster than cell objects.
        for line, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if line > max_rows + 10000:  # far past any sane file: stop reading
                break
            for index, value in enumerate(row):
                if isinstance(value, str) and value.startswith("="):
                    formulas.add((line, index))
            yield list(row)
    except Exception as exc:  # openpyxl raises many kinds on corrupt sheets
        raise TableError("Excel 文件内容损坏，无法读取。") from exc
    finally:
        workbook.close()


def read_table(filename: str, data: bytes, *, max_rows: int = 20000) -> Table:
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


def is_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("=")
