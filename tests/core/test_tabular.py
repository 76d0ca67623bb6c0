"""The spreadsheet reader: Excel row numbers, formulas found in the sheet XML, numbers as Excel shows them."""
import io
from datetime import datetime

import pytest
from openpyxl import Workbook

from portal.core.tabular import TableError, read_table


def xlsx(build) -> bytes:
    workbook = Workbook()
    build(workbook.active)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_rows_keep_excel_numbers_when_the_sheet_starts_lower_and_to_the_right():
    def build(sheet):
        sheet["C3"], sheet["D3"] = "房号", "面积"
        sheet["C4"], sheet["D4"] = 101, 86.5
        sheet["C6"], sheet["D6"] = "102", 72
    table = read_table("r.xlsx", xlsx(build))
    assert table.headers[-2:] == ["房号", "面积"]
    assert [(line, cells[-2:]) for line, cells in table.rows] == [(4, [101, 86.5]), (6, ["102", 72])]
    assert table.skipped_blank_rows >= 1


def test_formulas_and_formula_looking_text_are_reported_by_cell():
    def build(sheet):
        sheet.append(["工单编号", "联系电话", "受理时间"])
        sheet.append(["A1", 13812345678, datetime(2024, 3, 5, 9, 12)])
        sheet.append(["A2", "=HYPERLINK(\"http://x\")", "=TODAY()"])
        sheet["A4"] = "=CONCAT(\"A\",3)"
    table = read_table("t.xlsx", xlsx(build))
    assert table.formula_cells == {(3, 1), (3, 2), (4, 0)}
    line, cells = table.rows[0]
    assert cells[1] == 13812345678 and isinstance(cells[1], int)  # not 13812345678.0
    assert cells[2] == datetime(2024, 3, 5, 9, 12)


@pytest.mark.parametrize("data", [b"PK\x03\x04garbage", b"PK\x03\x04" + bytes(range(256)) * 40])
def test_broken_xlsx_is_refused_with_a_message(data):
    with pytest.raises(TableError, match="无法读取 Excel 文件"):
        read_table("x.xlsx", data)


def _csv(rows) -> bytes:
    return "\n".join(",".join(row) for row in rows).encode("utf-8")


def test_more_named_columns_than_the_limit_are_refused_in_both_formats():
    from portal.core.tabular import MAX_COLUMNS
    from tests.helpers import xlsx_bytes

    wide = [f"列{i}" for i in range(MAX_COLUMNS + 1)]
    for name, data in (("t.csv", _csv([wide, ["x"] * len(wide)])), ("t.xlsx", xlsx_bytes([wide, ["x"] * len(wide)]))):
        with pytest.raises(TableError, match=f"表头有 {MAX_COLUMNS + 1} 列，超过 {MAX_COLUMNS} 列的上限"):
            read_table(name, data)
    at_limit = wide[:MAX_COLUMNS]
    assert len(read_table("t.csv", _csv([at_limit, ["x"] * MAX_COLUMNS])).headers) == MAX_COLUMNS


def test_empty_header_cells_do_not_count_towards_the_limit():
    # a sheet formatted far to the right reads as many empty columns after the real ones
    from tests.helpers import xlsx_bytes

    header = ["工单编号", "诉求内容"] + [None] * 500
    table = read_table("t.xlsx", xlsx_bytes([header, ["A1", "漏水"]]))
    assert table.headers[:2] == ["工单编号", "诉求内容"]
