"""Importing 12345 ticket exports (.xlsx/.csv): map headers, validate, tag, match, upsert.

All or nothing by default: a file with any bad row writes nothing and returns a row-by-row report.
With skip_invalid the valid rows are imported and the bad ones listed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable, Optional

from sqlalchemy import insert, select

from portal.areas.models import Street
from portal.audit.models import Event
from portal.audit.services import record_event
from portal.core.tabular import (
    ErrorReport, Table, TableError, cell_text, header_list, map_headers, normalise_header, read_table,
)
from portal.core.tagging import tag_texts
from portal.core.time import utcnow
from portal.core.workdays import to_utc_naive
from portal.demand.models import SignalSource
from portal.demand.services import replace_many
from portal.extensions import db
from portal.tickets import services
from portal.tickets.models import REQUEST_TYPES, HeaderMapping, Ticket, TicketStatus, TicketTheme

STANDARD_COLUMNS = ["工单编号", "受理时间", "来电人", "联系电话", "诉求地址", "诉求标题", "诉求内容",
                    "诉求类型", "承办单位", "办理状态", "办结时间", "满意度"]
REQUIRED_COLUMNS = ["工单编号", "受理时间", "诉求内容"]
HEADER_ALIASES = {
    "工单编号": ["工单号", "编号", "受理编号", "工单号码", "流水号", "工单编码", "业务编号"],
    "受理时间": ["来电时间", "登记时间", "创建时间", "受理日期", "接收时间", "来电日期", "留言时间"],
    "来电人": ["来电人姓名", "诉求人", "姓名", "市民姓名", "联系人", "反映人", "来电人员"],
    "联系电话": ["电话", "来电号码", "手机号", "联系方式", "来电电话", "手机号码", "联系人电话"],
    "诉求地址": ["地址", "事发地址", "事发地点", "问题地址", "发生地址", "诉求地点", "反映地址"],
    "诉求标题": ["标题", "工单标题", "主题", "留言标题", "诉求主题"],
    "诉求内容": ["内容", "问题描述", "来电内容", "诉求描述", "反映内容", "工单内容", "留言内容", "诉求详情"],
    "诉求类型": ["类型", "工单类型", "来电类型", "业务类型", "诉求分类"],
    "承办单位": ["办理单位", "承办部门", "责任单位", "处理单位", "主办单位"],
    "办理状态": ["状态", "工单状态", "处理状态"],
    "办结时间": ["办结日期", "完成时间", "结案时间", "办结"],
    "满意度": ["回访满意度", "评价", "满意程度", "回访结果"],
}
STATUS_WORDS = {
    TicketStatus.received: ["已受理", "待派单", "已接收", "新建", "待处理", "受理"],
    TicketStatus.dispatched: ["已派单", "待签收", "派发", "已转办", "转办"],
    TicketStatus.in_progress: ["办理中", "处理中", "已签收", "正在办理", "签收"],
    TicketStatus.resolved: ["已办结", "办结", "已完成", "已处理", "已解决", "已答复"],
    TicketStatus.callback: ["已回访", "已评价", "回访完成", "已回复评价"],
    TicketStatus.returned: ["退单", "已退回", "退回", "已退单"],
    TicketStatus.merged: ["已并单", "并单", "重复件", "重复工单"],
}
SATISFACTION_WORDS = {"满意": "满意", "非常满意": "满意", "很满意": "满意", "基本满意": "基本满意", "一般": "基本满意",
                      "不满意": "不满意", "非常不满意": "不满意", "很不满意": "不满意"}
EXCEL_EPOCH = datetime(1899, 12, 30)
DATE_FORMATS = ["%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d",
                "%Y-%m-%d", "%Y.%m.%d %H:%M:%S", "%Y.%m.%d", "%Y%m%d%H%M%S", "%Y%m%d", "%Y-%m-%dT%H:%M:%S"]
# The usual export forms ("2019/2/28 11:25:05", "2019-02-28"), read without strptime's cost per format.
NUMERIC_DATE = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
CHINESE_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日(?:\s*(\d{1,2})[时:](\d{1,2})(?:分|:)?(?:(\d{1,2})秒?)?)?$")
MAX_REPORTED_ERRORS = 500
MAX_SAVED_HEADER = HeaderMapping.source_header.type.length  # 128: a longer one cannot be remembered
BATCH = 2000
TAG_BATCH = 10 * BATCH


class MappingNeeded(Exception):
    """Required columns could not be found: the operator maps the unknown headers once."""

    def __init__(self, missing: list[str], unknown_headers: list[str], headers: list[str]):
        super().__init__("mapping needed")
        self.missing, self.unknown_headers, self.headers = missing, unknown_headers, headers

    @property
    def message(self) -> str:
        return (f"缺少必需的列：{'、'.join(self.missing)}。无法识别的列：{header_list(self.unknown_headers)}。"
                "请指定这些列对应的标准列后重新导入。")


@dataclass
class ParsedTicket:
    line: int
    number: str
    received_at: datetime
    content: str
    caller_name: Optional[str] = None
    caller_phone: Optional[str] = None
    address: str = ""
    title: str = ""
    request_type: Optional[str] = None
    handling_unit: Optional[str] = None
    status: Optional[TicketStatus] = None
    resolved_at: Optional[datetime] = None
    satisfaction: Optional[str] = None


@dataclass
class ImportReport(ErrorReport):
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    encoding: Optional[str] = None
    written: bool = False
    limit: int = MAX_REPORTED_ERRORS

    @property
    def summary(self) -> str:
        return f"imported {self.imported}, updated {self.updated}, skipped {self.skipped}"

    def as_dict(self) -> dict:
        return {"imported": self.imported, "updated": self.updated, "unchanged": self.unchanged,
                "skipped": self.skipped, "errors": self.errors, "error_count": self.error_count,
                "encoding": self.encoding, "written": self.written}


class ImportFailed(Exception):
    def __init__(self, report: ImportReport, message: str):
        super().__init__(message)
        self.report, self.message = report, message


# --- cell parsers ------------------------------------------------------------------------------

EARLIEST_YEAR, LATEST_YEAR = 1900, 2119  # the span of the %Y%m%d and Excel serial forms below


def parse_datetime(value: Any) -> datetime:
    """Cells as real exports have them: date cells, Excel serials, and the common text forms."""
    parsed = _parse_datetime(value)
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        raise ValueError  # "0001-01-01" is a typo, and overflows when moved to UTC
    return parsed


def _parse_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000 <= value <= 80000:  # Excel serial day number (1954–2119)
            return EXCEL_EPOCH + timedelta(days=float(value))
        if 19000101 <= value <= 21001231 and float(value).is_integer():
            return datetime.strptime(str(int(value)), "%Y%m%d")
        raise ValueError
    text = cell_text(value).replace("　", " ")
    text = re.sub(r"\s+", " ", text)
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return parse_datetime(float(text))
    match = NUMERIC_DATE.match(text)
    if match:
        y, _, mo, d, h, mi, s = match.groups()
        return datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
    match = CHINESE_DATE.match(text)
    if match:
        y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
        return datetime(y, mo, d, h, mi, s)
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError


def parse_status(value: Any) -> Optional[TicketStatus]:
    text = cell_text(value)
    if not text:
        return None
    for status, words in STATUS_WORDS.items():
        if text in words:
            return status
    for status, words in STATUS_WORDS.items():  # "已办结（回访中）" and the like
        if any(word in text for word in words if len(word) >= 2):
            return status
    raise ValueError


def parse_request_type(value: Any) -> Optional[str]:
    text = cell_text(value).rstrip("类")
    if not text:
        return None
    if text not in REQUEST_TYPES:
        raise ValueError
    return text


def parse_phone(value: Any) -> Optional[str]:
    text = re.sub(r"[\s()（）]", "", cell_text(value))
    if not text:
        return None
    if not re.fullmatch(r"\+?[\d\-]{5,20}", text):
        raise ValueError
    return text


# --- mapping -----------------------------------------------------------------------------------

def saved_mappings() -> dict[str, str]:
    return {m.source_header: m.standard_column for m in db.session.scalars(select(HeaderMapping))}


def save_mappings(actor, mapping: dict[str, str]) -> None:
    for source, standard in mapping.items():
        key = normalise_header(source)
        if standard not in STANDARD_COLUMNS or not key or len(key) > MAX_SAVED_HEADER:
            continue  # a header too long to keep is mapped for this import only (the caller passes it on)
        existing = db.session.scalar(select(HeaderMapping).where(HeaderMapping.source_header == key))
        if existing:
            existing.standard_column = standard
        else:
            db.session.add(HeaderMapping(source_header=key, standard_column=standard,
                                         created_by_id=getattr(actor, "id", None)))
        record_event(actor, "ticket.header_mapping", object_type="ticket_header_mappings",
                     after={"source": key, "standard": standard})
    db.session.commit()


def resolve_columns(table: Table, extra_mapping: Optional[dict[str, str]] = None) -> dict[str, int]:
    columns = map_headers(table.headers, HEADER_ALIASES)
    mapping = saved_mappings()
    mapping.update({normalise_header(k): v for k, v in (extra_mapping or {}).items()})
    for source, standard in mapping.items():
        if standard in STANDARD_COLUMNS and source in table.headers and standard not in columns:
            columns[standard] = table.headers.index(source)
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        used = set(columns.values())
        unknown = [h for i, h in enumerate(table.headers) if i not in used and h]
        raise MappingNeeded(missing, unknown, table.headers)
    return columns


# --- validation --------------------------------------------------------------------------------

def validate_rows(table: Table, columns: dict[str, int], report: ImportReport) -> list[ParsedTicket]:
    parsed: list[ParsedTicket] = []
    seen: dict[str, int] = {}
    formula_cells = table.formula_cells
    for line, cells in table.rows:
        def cell(name: str) -> Any:
            return cells[columns[name]] if name in columns else None

        problems = [f"「{name}」是公式" for name, index in columns.items() if (line, index) in formula_cells]
        if problems:
            report.fail(f"第 {line} 行：" + "；".join(problems) + "，请改为数值后再导入。")
            continue
        number = cell_text(cell("工单编号"))
        content = cell_text(cell("诉求内容"))
        if not number:
            problems.append("工单编号为空")
        elif len(number) > 64:
            problems.append("工单编号过长")
        if not content:
            problems.append("诉求内容为空")
        elif len(content) > 20000:
            problems.append("诉求内容过长（最多 20000 字）")
        received_at = resolved_at = None
        raw = cell("受理时间")
        if raw is None:
            problems.append("受理时间为空")
        else:
            try:
                received_at = parse_datetime(raw)
            except (ValueError, OverflowError):
                problems.append(f"受理时间「{cell_text(raw)[:30]}」无法识别")
        if cell("办结时间") is not None:
            try:
                resolved_at = parse_datetime(cell("办结时间"))
            except (ValueError, OverflowError):
                problems.append(f"办结时间「{cell_text(cell('办结时间'))[:30]}」无法识别")
        status = request_type = phone = None
        try:
            status = parse_status(cell("办理状态"))
        except ValueError:
            problems.append(f"办理状态「{cell_text(cell('办理状态'))[:20]}」无法识别")
        try:
            request_type = parse_request_type(cell("诉求类型"))
        except ValueError:
            problems.append(f"诉求类型「{cell_text(cell('诉求类型'))[:20]}」应为{'、'.join(REQUEST_TYPES)}之一")
        try:
            phone = parse_phone(cell("联系电话"))
        except ValueError:
            problems.append(f"联系电话「{cell_text(cell('联系电话'))[:20]}」格式不对")
        satisfaction = None
        if cell_text(cell("满意度")):
            satisfaction = SATISFACTION_WORDS.get(cell_text(cell("满意度")))
            if satisfaction is None:
                problems.append(f"满意度「{cell_text(cell('满意度'))[:20]}」应为满意、基本满意或不满意")
        if number and not problems:
            if number in seen:
                problems.append(f"工单编号 {number} 与第 {seen[number]} 行重复")
            else:
                seen[number] = line
        if problems:
            report.fail(f"第 {line} 行：" + "；".join(problems) + "。")
            continue
        parsed.append(ParsedTicket(
            line=line, number=number, received_at=to_utc_naive(received_at), content=content,
            caller_name=cell_text(cell("来电人"))[:64] or None, caller_phone=phone,
            address=cell_text(cell("诉求地址"))[:256], title=cell_text(cell("诉求标题"))[:256],
            request_type=request_type, handling_unit=cell_text(cell("承办单位"))[:128] or None,
            status=status, resolved_at=to_utc_naive(resolved_at) if resolved_at else None,
            satisfaction=satisfaction,
        ))
    return parsed


# --- writing -----------------------------------------------------------------------------------

def _street_lookup() -> Callable[[Optional[str]], Optional[int]]:
    streets = [(s.name, s.id) for s in db.session.scalars(select(Street))]

    def find(unit: Optional[str]) -> Optional[int]:
        if not unit:
            return None
        for name, street_id in streets:
            if name in unit or name.removesuffix("街道") + "街道办" in unit:
                return street_id
        return None

    return find


STATUS_FIELDS = ("status", "resolved_at", "satisfaction", "handling_unit")


def _ids_by_number(numbers: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(numbers), 900):
        found.update((number, ticket_id) for ticket_id, number in db.session.execute(
            select(Ticket.id, Ticket.number).where(Ticket.number.in_(numbers[start:start + 900]))))
    return found


def import_tickets(actor, filename: str, data: bytes, *, mapping: Optional[dict[str, str]] = None,
                   skip_invalid: bool = False, max_rows: int = 200000,
                   progress: Optional[Callable[[int, int], None]] = None) -> ImportReport:
    """Raises ImportFailed (nothing written) or MappingNeeded; returns the report otherwise."""
    report = ImportReport()
    try:
        table = read_table(filename, data, max_rows=max_rows)
    except TableError as exc:
        report.fail(exc.message)
        raise ImportFailed(report, exc.message)
    report.encoding = table.encoding
    columns = resolve_columns(table, mapping)
    parsed = validate_rows(table, columns, report)
    if report.error_count and not skip_invalid:
        raise ImportFailed(report, f"导入失败：共 {report.error_count} 处错误，未写入任何数据。")
    if not parsed:
        report.fail("文件中没有可导入的工单。") if not report.error_count else None
        raise ImportFailed(report, "文件中没有可导入的工单。")
    report.skipped = report.error_count

    total = len(parsed)
    step = lambda done: progress(done, total) if progress else None  # noqa: E731
    step(0)
    existing: dict[str, Ticket] = {}
    numbers = [p.number for p in parsed]
    for start in range(0, len(numbers), 900):
        for ticket in db.session.scalars(select(Ticket).where(Ticket.number.in_(numbers[start:start + 900]))):
            existing[ticket.number] = ticket
    street_for = _street_lookup()
    gazetteer = services.load_gazetteer()
    now = utcnow()
    actor_id = getattr(actor, "id", None)
    try:
        done = 0
        for p in (p for p in parsed if p.number in existing):
            ticket = existing[p.number]
            values = {"status": p.status or ticket.status, "resolved_at": p.resolved_at or ticket.resolved_at,
                      "satisfaction": p.satisfaction or ticket.satisfaction,
                      "handling_unit": p.handling_unit or ticket.handling_unit}
            before = {k: getattr(ticket, k) for k in STATUS_FIELDS}
            if before == values:
                report.unchanged += 1
            else:
                was_merged = ticket.status == TicketStatus.merged
                for key, value in values.items():
                    setattr(ticket, key, value)
                street_id = street_for(ticket.handling_unit)
                if street_id and ticket.street_id is None:
                    ticket.street_id = street_id
                record_event(actor, "ticket.import_update", ticket, before=before, after=values, note=filename)
                if was_merged != (ticket.status == TicketStatus.merged):
                    services.sync_signals(ticket)
                report.updated += 1
            done += 1
        db.session.flush()

        new = [p for p in parsed if p.number not in existing]
        tagged: list = []
        for start in range(0, len(new), BATCH):
            chunk = new[start:start + BATCH]
            if start % TAG_BATCH == 0:  # tagging forks a process pool: fewer, larger calls
                tagged = tag_texts(["。".join(x for x in (p.title, p.content) if x) for p in new[start:start + TAG_BATCH]])
            offset = start % TAG_BATCH
            results = tagged[offset:offset + len(chunk)]
            rows = []
            for p, result in zip(chunk, results):
                ticket = Ticket(number=p.number, source="import", received_at=p.received_at, content=p.content,
                                title=p.title, address=p.address, caller_name=p.caller_name,
                                caller_phone=p.caller_phone, request_type=p.request_type,
                                handling_unit=p.handling_unit)
                services.apply_tags(ticket, result)
                services.apply_match(ticket, gazetteer)
                status = p.status or TicketStatus.received
                street_id = street_for(p.handling_unit)
                if street_id is None and status != TicketStatus.received and not ticket.needs_placement:
                    street_id = gazetteer.entries[ticket.estate_id].street_id
                rows.append({
                    "number": p.number, "source": "import", "received_at": p.received_at, "content": p.content,
                    "title": p.title, "address": p.address, "caller_name": p.caller_name,
                    "caller_phone": p.caller_phone, "request_type": p.request_type,
                    "handling_unit": p.handling_unit, "status": status, "street_id": street_id,
                    "estate_id": ticket.estate_id, "estate_confidence": ticket.estate_confidence,
                    "needs_placement": ticket.needs_placement, "themes": ticket.themes,
                    "theme_scores": ticket.theme_scores, "urgent": ticket.urgent,
                    "needs_review": ticket.needs_review, "tags_confirmed": False,
                    "model_version": ticket.model_version, "resolved_at": p.resolved_at,
                    "satisfaction": p.satisfaction,
                    "dispatched_at": p.received_at if status != TicketStatus.received else None,
                    "created_at": now, "updated_at": now,
                })
            # A plain executemany, then the ids by number: RETURNING over many rows is slow in SQLAlchemy.
            db.session.execute(insert(Ticket), rows)
            id_of = _ids_by_number([row["number"] for row in rows])
            theme_rows, event_rows = [], []
            for row in rows:
                ticket_id = id_of[row["number"]]
                theme_rows += [{"ticket_id": ticket_id, "theme": code, "rank": rank}
                               for rank, code in enumerate(row["themes"])]
                event_rows.append({"created_at": now, "actor_id": actor_id, "action": "ticket.import",
                                   "object_type": "tickets", "object_id": str(ticket_id),
                                   "street_id": row["street_id"], "note": filename,
                                   "after": {"status": row["status"].value, "themes": row["themes"],
                                             "estate_id": row["estate_id"], "urgent": row["urgent"]}})
            if theme_rows:
                db.session.execute(insert(TicketTheme), theme_rows)
            signal_source = {}
            for row in rows:
                ticket = Ticket(id=id_of[row["number"]], **{k: row[k] for k in (
                    "number", "estate_id", "needs_placement", "status", "themes", "received_at", "urgent",
                    "caller_phone", "model_version")})
                signal_source[str(ticket.id)] = services.ticket_signals(ticket)
            replace_many(SignalSource.hotline, signal_source)
            db.session.execute(insert(Event), event_rows)
            report.imported += len(rows)
            done += len(rows)
            step(done)
        record_event(actor, "tickets.import", object_type="tickets",
                     note=f"{filename}: 新增 {report.imported}，更新 {report.updated}，跳过 {report.skipped}")
        db.session.commit()
        report.written = True
    except Exception:
        db.session.rollback()
        raise
    step(total)
    return report
