"""Open311 GeoReport v2 documents: element names, status mapping, dates, XML and JSON rendering.

Plain functions over plain data: the views pass dicts in and get a Flask response out. XML is built with
ElementTree (never by string concatenation); JSON follows the spec's "Spark convention" (a list of
objects whose keys are the XML element names).
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping, Optional, Sequence

from flask import Response

from portal.core.workdays import LOCAL_TZ, to_local
from portal.tickets.models import STATUS_LABELS, TicketStatus

FORMATS = ("xml", "json")
MIME = {"xml": "application/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
DESCRIPTION_MAX = 4000  # the spec's limit for description, in and out
DEFAULT_WINDOW = timedelta(days=90)  # "the range defaults to most recent 90 days"
MAX_WINDOW = timedelta(days=90)  # "... but may not span more than 90 days"
MAX_RESULTS = 1000  # "or first 1000 requests returned, whichever is smallest"

# Internal status → Open311 status. Resolved, called back and merged (a duplicate) are finished.
CLOSED_STATUSES = frozenset({TicketStatus.resolved, TicketStatus.callback, TicketStatus.merged})
OPEN311_STATUS = {status: ("closed" if status in CLOSED_STATUSES else "open") for status in TicketStatus}

# Service groups (Open311 "group") for the fixed themes of THEMES.md.
THEME_GROUPS = {
    "市政设施": ("drainage", "water_supply", "gas", "heating", "power", "lighting", "ev_charging"),
    "交通与停车": ("parking", "roads"),
    "房屋与更新改造": ("building_safety", "elevator", "renovation", "illegal_construction"),
    "养老托育与无障碍": ("elderly_care", "childcare", "accessibility"),
    "物业与环境": ("property_mgmt", "sanitation", "pollution", "noise", "greening"),
    "安全": ("fire_safety", "security"),
    "其他": ("other",),
}
GROUP_OF = {code: group for group, codes in THEME_GROUPS.items() for code in codes}


class ApiError(Exception):
    """An Open311 error answer: HTTP status and one or more (code, Chinese description) pairs."""

    def __init__(self, status: int, *descriptions: str, headers: Optional[Mapping[str, str]] = None):
        super().__init__("; ".join(descriptions))
        self.status = status
        self.descriptions = list(descriptions) or ["请求无法处理。"]
        self.headers = dict(headers or {})


ERROR_TEXT = {
    400: "请求有误，无法处理。",
    401: "缺少 API 密钥：请用 api_key 参数或 X-API-Key 请求头提供。",
    403: "API 密钥无效或无权进行此操作。",
    404: "请求的资源不存在。",
    405: "不支持该请求方法。",
    413: "请求内容过大。",
    429: "请求过于频繁，请稍后再试。",
    500: "服务器内部错误，已记录，请稍后重试。",
    503: "数据库暂时无法连接，请求没有完成，请稍后重试。",
}


# --- dates ----------------------------------------------------------------------------------------

def w3c(value: Optional[datetime]) -> Optional[str]:
    """A stored naive-UTC timestamp as W3C/ISO 8601 in China time: 2026-03-01T09:30:00+08:00."""
    if value is None:
        return None
    return to_local(value).replace(microsecond=0).isoformat()


# ISO 8601 date and time with a zone: the W3C note's extended form that Open311 requires
# (2026-03-01T08:00:00+08:00, seconds optional) or the basic form (20260301T080000+0800); zone Z, ±hh:mm or ±hh.
W3C_DATETIME = re.compile(
    r"(\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?|\d{8}[Tt]\d{4}(\d{2}([.,]\d+)?)?)"
    r"([Zz]|[+-]\d{2}(:?\d{2})?)")


def _clamped(value: datetime, delta: timedelta = timedelta(0)) -> datetime:
    """value + delta in naive UTC, held to the representable range (year 1 to 9999)."""
    try:
        utc = value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value
        return utc + delta
    except OverflowError:  # at the ends of the calendar
        return datetime.min if value.year < 5000 else datetime.max


def parse_w3c(name: str, raw: Optional[str]) -> Optional[datetime]:
    """A W3C/ISO 8601 date-time with any offset (Z or ±hh:mm) → naive UTC; None when absent or empty."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if not W3C_DATETIME.fullmatch(text):
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}([Tt ][\d:.,]+)?", text):
            raise ApiError(400, f"{name} 必须是带时区的日期时间（例如 2026-03-01T00:00:00+08:00 或 "
                                "2026-02-28T16:00:00Z）。")
        raise ApiError(400, f"{name} 不是有效的 ISO 8601 日期时间（例如 2026-03-01T00:00:00+08:00）。")
    try:
        value = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1] in "Zz" else text.replace(",", "."))
    except ValueError:
        raise ApiError(400, f"{name} 不是有效的日期时间（例如 2026-03-01T00:00:00+08:00）。")
    return _clamped(value)


def date_window(start_raw: Optional[str], end_raw: Optional[str], now: datetime) -> tuple[datetime, datetime]:
    """[start, end] in naive UTC: the last 90 days when neither is given, 90 days from the one given,
    and never more than 90 days: a longer range keeps its first 90 days. A start after the end is an
    empty range (it matches nothing), not an error."""
    errors = []
    start = end = None
    for name, raw in (("start_date", start_raw), ("end_date", end_raw)):
        try:
            value = parse_w3c(name, raw)
        except ApiError as exc:
            errors.extend(exc.descriptions)
            continue
        if name == "start_date":
            start = value
        else:
            end = value
    if errors:
        raise ApiError(400, *errors)
    if start is None and end is None:
        end = now
        start = now - DEFAULT_WINDOW
    elif start is None:
        start = _clamped(end, -DEFAULT_WINDOW)
    elif end is None:
        end = _clamped(start, DEFAULT_WINDOW)
    if end - start > MAX_WINDOW:
        end = _clamped(start, MAX_WINDOW)
    return start, end


def local_now() -> datetime:
    return datetime.now(LOCAL_TZ)


# --- rendering ------------------------------------------------------------------------------------

# Characters XML 1.0 cannot carry at all (control characters from spreadsheets, lone surrogates).
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'


def _text(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return XML_INVALID.sub("", str(value))


def to_xml(root: str, item: Optional[str], rows: Sequence[Mapping[str, Any]]) -> bytes:
    """<root><item><field>value</field>…</item>…</root>; None is an empty element (<account_id/>)."""
    tree = ET.Element(root)
    for row in rows:
        parent = ET.SubElement(tree, item) if item else tree
        for key, value in row.items():
            ET.SubElement(parent, key).text = _text(value)
    ET.indent(tree)
    return XML_DECLARATION + ET.tostring(tree, encoding="unicode").encode("utf-8") + b"\n"


def render(fmt: str, root: str, item: str, rows: Sequence[Mapping[str, Any]], status: int = 200,
           headers: Optional[Mapping[str, str]] = None) -> Response:
    if fmt == "xml":
        body = to_xml(root, item, rows)
    else:
        body = json.dumps(list(rows), ensure_ascii=False).encode("utf-8", "replace")
    response = Response(body, status=status, mimetype=None, content_type=MIME[fmt])
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def render_error(fmt: str, status: int, descriptions: Iterable[str],
                 headers: Optional[Mapping[str, str]] = None) -> Response:
    rows = [{"code": status, "description": text} for text in descriptions]
    return render(fmt if fmt in FORMATS else "json", "errors", "error", rows, status, headers)


# --- documents ------------------------------------------------------------------------------------

def service_row(theme) -> dict[str, Any]:
    return {
        "service_code": theme.code,
        "service_name": theme.name,
        "description": theme.description,
        "metadata": False,
        "type": "realtime",
        "keywords": ", ".join(theme.keywords),
        "group": GROUP_OF.get(theme.code, "其他"),
    }


@dataclass
class RequestView:
    """What one ticket shows through the API; personal data is already masked by the caller."""
    service_request_id: str
    status: str
    status_notes: str
    service_name: str
    service_code: str
    description: str
    agency_responsible: Optional[str]
    service_notice: Optional[str]
    requested_datetime: Optional[str]
    updated_datetime: Optional[str]
    expected_datetime: Optional[str]
    address: str
    address_id: Optional[str]
    zipcode: Optional[str]
    lat: Optional[float]
    long: Optional[float]
    media_url: Optional[str]

    def as_row(self) -> dict[str, Any]:
        return dict(self.__dict__)


def status_of(status: TicketStatus) -> str:
    return OPEN311_STATUS[status]


def status_label(status: TicketStatus) -> str:
    return STATUS_LABELS[status]


def statuses_for(open311_statuses: Iterable[str]) -> list[TicketStatus]:
    wanted = set(open311_statuses)
    return [status for status, value in OPEN311_STATUS.items() if value in wanted]
