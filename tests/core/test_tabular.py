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
