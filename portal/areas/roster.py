"""Household roster import: parse and validate, without touching the database."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation, ROUND_HALF_UP
from typing import Any, Optional

from portal.areas.models import Occupancy
from portal.core.tabular import ErrorReport, Table, TableError, cell_text, header_list, map_headers, read_table

HEADER_ALIASES = {
    "楼栋": ["楼号", "楼栋号", "栋号", "幢号", "楼幢", "栋", "幢", "楼"],
    "单元": ["单元号", "单元名称"],
    "房号": ["房间号", "室号", "户号", "门牌号", "房屋编号", "室"],
    # The legal tally uses the exclusive area; fall back to floor area when that is all there is.
    "面积": ["专有部分面积", "专有面积", "套内面积", "面积(㎡)", "面积(m²)", "面积(m2)", "面积(平方米)",
             "建筑面积", "建筑面积(㎡)", "建筑面积(m²)", "房屋面积"],
    "业主/租户": ["业主或租户", "住户类型", "居住类型", "身份", "类型", "产权类型", "住户身份"],
    "业主证件号": ["证件号", "证件号码", "身份证号", "身份证号码", "业主身份证号", "业主证件号码", "产权人证件号"],
}
REQUIRED = ("楼栋", "房号", "面积")
OWNER_WORDS = {"业主", "产权人", "房主", "所有权人", "owner", "自住", "业主自住"}
TENANT_WORDS = {"租户", "承租人", "租客", "租住", "tenant", "出租"}
MAX_AREA = Decimal("2000")
MAX_REPORTED_ERRORS = 200


@dataclass
class RosterRow:
    line: int
    building: str
    unit: str
    room: str
    area_m2: Decimal
    occupancy: Occupancy
    owner_id_number: Optional[str]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.building, self.unit, self.room)


@dataclass
class RosterParse(ErrorReport):
    rows: list[RosterRow] = field(default_factory=list)
    encoding: Optional[str] = None
    limit: int = MAX_REPORTED_ERRORS


def normalise_place_label(value: Any, suffixes: tuple[str, ...]) -> str:
    """'3号楼' → '3', '2单元' → '2', '301室' → '301'; keeps labels like 'A座' whole."""
    text = cell_text(value).replace(" ", "")
    for suffix in suffixes:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def normalise_building(value: Any) -> str:
    return normalise_place_label(value, ("号楼", "栋", "幢", "号", "楼"))


def normalise_unit(value: Any) -> str:
    return normalise_place_label(value, ("单元", "门"))


def normalise_room(value: Any) -> str:
    return normalise_place_label(value, ("室", "号", "房"))


def parse_area(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, (int, float)):
        number = Decimal(str(value))
    else:
        text = re.sub(r"(平方米|平米|㎡|m²|m2|M2)$", "", cell_text(value)).replace(",", "")
        number = Decimal(text)
    if not number.is_finite():
        raise ValueError
    return number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def parse_occupancy(value: Any) -> Occupancy:
    text = cell_text(value).lower()
    if not text or text in OWNER_WORDS:
        return Occupancy.owner
    if text in TENANT_WORDS:
        return Occupancy.tenant
    raise ValueError


def parse_owner_id(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, float):
        raise OverflowError  # Excel turned an ID number into a float and lost digits
    text = cell_text(value).replace(" ", "").upper()
    if not text:
        return None
    if not re.fullmatch(r"[0-9A-Z\-]{6,32}", text):
        raise ValueError
    return text


def validate_table(table: Table) -> RosterParse:
    result = RosterParse(encoding=table.encoding)
    columns = map_headers(table.headers, HEADER_ALIASES)
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        result.fail(f"缺少必需的列：{'、'.join(missing)}。文件中的列为：{header_list(table.headers)}。")
        return result
    if not table.rows:
        result.fail("文件中没有住户数据行。")
        return result

    seen: dict[tuple[str, str, str], int] = {}
    formula_columns = {(line, col) for line, col in table.formula_cells}
    for line, cells in table.rows:
        def cell(name: str) -> Any:
            return cells[columns[name]] if name in columns else None

        problems = []
        for name, index in columns.items():
            if (line, index) in formula_columns:
                problems.append(f"「{name}」是公式，请改为数值后再导入")
        if problems:
            result.fail(f"第 {line} 行：" + "；".join(problems) + "。")
            continue

        building = normalise_building(cell("楼栋"))
        unit = normalise_unit(cell("单元"))
        room = normalise_room(cell("房号"))
        if not building:
            problems.append("楼栋为空")
        if not room:
            problems.append("房号为空")
        for label, text in (("楼栋", building), ("单元", unit), ("房号", room)):
            if len(text) > 32:
                problems.append(f"{label}过长（最多 32 个字）")
        area = None
        raw_area = cell("面积")
        if raw_area is None:
            problems.append("面积为空")
        else:
            try:
                area = parse_area(raw_area)
                if area <= 0 or area > MAX_AREA:
                    problems.append(f"面积「{cell_text(raw_area)}」不在 0–{MAX_AREA} 平方米之间")
            except (InvalidOperation, ValueError):
                problems.append(f"面积「{cell_text(raw_area)[:20]}」不是数字")
        try:
            occupancy = parse_occupancy(cell("业主/租户"))
        except ValueError:
            occupancy = Occupancy.owner
            problems.append(f"业主/租户「{cell_text(cell('业主/租户'))[:20]}」无法识别，应填“业主”或“租户”")
        owner_id = None
        try:
            owner_id = parse_owner_id(cell("业主证件号"))
        except OverflowError:
            problems.append("业主证件号被 Excel 转成了数字，请把该列设为文本格式后重新填写")
        except ValueError:
            problems.append("业主证件号格式不对（只能包含数字、字母和短横线）")

        if not problems:
            key = (building, unit, room)
            if key in seen:
                unit_label = f"{unit}单元" if unit else ""
                problems.append(f"{building}栋{unit_label}{room}室与第 {seen[key]} 行重复")
            else:
                seen[key] = line
        if problems:
            result.fail(f"第 {line} 行：" + "；".join(problems) + "。")
            continue
        result.rows.append(RosterRow(line, building, unit, room, area, occupancy, owner_id))
    return result


def parse_roster(filename: str, data: bytes, *, max_rows: int = 20000) -> RosterParse:
    try:
        table = read_table(filename, data, max_rows=max_rows)
    except TableError as exc:
        result = RosterParse()
        result.fail(exc.message)
        return result
    return validate_table(table)
