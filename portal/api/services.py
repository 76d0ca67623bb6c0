"""API keys and the writes made through the API. Every change checks who may and writes an event."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Optional

from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from portal.accounts.models import Role
from portal.api.models import ApiKey
from portal.api.open311 import DESCRIPTION_MAX, ApiError
from portal.areas.models import Street
from portal.audit.services import record_event
from portal.core.errors import ServiceError
from portal.core.time import utcnow
from portal.extensions import db
from portal.tickets import services as tickets
from portal.tickets.models import Ticket

KEY_PREFIX = "ms_"
VISIBLE_PREFIX_LENGTH = 10  # "ms_" and 7 characters: enough to tell keys apart, useless to an attacker
TOUCH_INTERVAL = timedelta(minutes=1)  # last_used_at is written at most once a minute per key
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # invisible; PostgreSQL refuses NUL


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class KeyPrincipal:
    """The caller behind an API key, shaped like a user for portal.core.scoping and masking:
    a district key acts as an operator (all streets, may create tickets), a street key as that
    street's staff (one street, read only). It never sees personal data and is no user row."""
    key_id: int
    name: str
    prefix: str
    role: Role
    street_id: Optional[int]
    is_authenticated: bool = True
    sees_personal_data: bool = False
    id = None  # not a users.id: events it causes carry no actor

    @classmethod
    def of(cls, key: ApiKey) -> "KeyPrincipal":
        role = Role.operator if key.street_id is None else Role.street_staff
        return cls(key_id=key.id, name=key.name, prefix=key.prefix, role=role, street_id=key.street_id)

    @property
    def label(self) -> str:
        return f"API 密钥「{self.name}」（{self.prefix}…）"


# --- keys ---------------------------------------------------------------------------------------

def _require_admin(actor) -> None:
    if actor is None or getattr(actor, "role", None) != Role.district_admin:
        raise Forbidden()


def create_key(actor, name: str, street_id: Optional[int] = None) -> tuple[ApiKey, str]:
    """A new key; returns the row and the key itself, which is never stored and never shown again."""
    _require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise ServiceError("请填写密钥名称（例如使用它的系统）。")
    if len(name) > 64:
        raise ServiceError("密钥名称最多 64 个字。")
    if street_id is not None and db.session.get(Street, street_id) is None:
        raise ServiceError("所选街道不存在。")
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, prefix=raw[:VISIBLE_PREFIX_LENGTH], key_hash=hash_key(raw), street_id=street_id,
                 created_by_id=actor.id)
    db.session.add(key)
    db.session.flush()
    record_event(actor, "api_key.create", key, street_id=street_id,
                 after={"name": name, "prefix": key.prefix, "street_id": street_id})
    db.session.commit()
    return key, raw


def revoke_key(actor, key: ApiKey) -> ApiKey:
    _require_admin(actor)
    if key.revoked_at is not None:
        raise ServiceError(f"密钥「{key.name}」已于之前吊销。")
    key.revoked_at = utcnow()
    record_event(actor, "api_key.revoke", key, before={"revoked_at": None},
                 after={"revoked_at": key.revoked_at, "name": key.name, "prefix": key.prefix})
    db.session.commit()
    return key


def authenticate(raw: Optional[str]) -> ApiKey:
    """The active key behind `raw`, or an Open311 error: 401 when none is given, 403 when it is wrong or revoked."""
    raw = (raw or "").strip()
    if not raw:
        raise ApiError(401, "缺少 API 密钥：请用 api_key 参数或 X-API-Key 请求头提供。")
    key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(raw))) if len(raw) <= 256 else None
    if key is None:
        raise ApiError(403, "API 密钥无效。")
    if key.revoked_at is not None:
        raise ApiError(403, "API 密钥已被吊销，请联系区住建局管理员。")
    touch(key)
    return key


def touch(key: ApiKey) -> None:
    """Bookkeeping, not a change of anything anyone decided: no event."""
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_INTERVAL:
        key.last_used_at = now
        db.session.commit()


# --- creating service requests ------------------------------------------------------------------

@dataclass
class RequestInput:
    """The fields of an Open311 POST requests call (after parsing, before validation)."""
    service_code: str = ""
    description: str = ""
    address_string: str = ""
    lat: Optional[str] = None
    long: Optional[str] = None
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    email: str = ""
    device_id: str = ""
    account_id: str = ""
    media_url: str = ""

    @classmethod
    def from_form(cls, form) -> "RequestInput":
        def get(name):
            return CONTROL_CHARACTERS.sub("", form.get(name) or "").strip()

        return cls(service_code=get("service_code"), description=get("description"),
                   address_string=get("address_string"), lat=get("lat") or None, long=get("long") or None,
                   first_name=get("first_name"), last_name=get("last_name"), phone=get("phone"),
                   email=get("email"), device_id=get("device_id"), account_id=get("account_id"),
                   media_url=get("media_url"))


def _coordinate(name: str, raw: str, limit: float, errors: list[str]) -> Optional[float]:
    try:
        value = float(raw)
    except ValueError:
        errors.append(f"{name} 必须是数字（WGS84 经纬度）。")
        return None
    if not -limit <= value <= limit:  # also rejects nan and inf
        errors.append(f"{name} 超出范围（-{limit:g} 到 {limit:g}）。")
        return None
    return value


def caller_name(first: str, last: str) -> str:
    """Chinese names are family name first ("张" + "三"); Latin ones "John Smith"."""
    if not first or not last:
        return first or last
    if first.isascii() and last.isascii():
        return f"{first} {last}"
    return last + first


def validate_request(data: RequestInput) -> tickets.TicketInput:
    from nlp.themes import THEME_CODES

    errors = []
    if not data.service_code:
        errors.append("缺少 service_code（服务类型代码，见 services 接口）。")
    elif data.service_code not in THEME_CODES:
        errors.append(f"未知的 service_code：{data.service_code[:64]}。")
    if not data.description:
        errors.append("缺少 description（诉求内容）。")
    elif len(data.description) > DESCRIPTION_MAX:
        errors.append(f"description 过长（最多 {DESCRIPTION_MAX} 字）。")
    lat = long = None
    if (data.lat is None) != (data.long is None):
        errors.append("lat 与 long 必须同时提供。")
    elif data.lat is not None:
        lat = _coordinate("lat", data.lat, 90, errors)
        long = _coordinate("long", data.long, 180, errors)
    if not data.address_string and data.lat is None and data.long is None:
        errors.append("缺少位置：请提供 address_string，或同时提供 lat 与 long。")
    if len(data.address_string) > 256:
        errors.append("address_string 过长（最多 256 字）。")
    name = caller_name(data.first_name, data.last_name)
    if len(name) > 64:
        errors.append("first_name 与 last_name 合计过长（最多 64 字）。")
    if len(data.phone) > 32:
        errors.append("phone 过长（最多 32 个字符）。")
    for field in ("email", "device_id", "account_id", "media_url"):
        if len(getattr(data, field)) > 2048:
            errors.append(f"{field} 过长。")
    if errors:
        raise ApiError(400, *errors)
    return tickets.TicketInput(content=data.description, address=data.address_string, caller_name=name or None,
                               caller_phone=data.phone or None, source="open311", latitude=lat, longitude=long)


def lead_themes(service_code: str, themes: list[str]) -> list[str]:
    """The caller's service code first, then the model's other themes: at most 3, `other` alone."""
    from nlp.themes import MAX_THEMES, OTHER

    if service_code == OTHER:
        return [OTHER]
    rest = [code for code in themes if code not in (service_code, OTHER)]
    return [service_code] + rest[:MAX_THEMES - 1]


def set_lead_theme(principal: KeyPrincipal, ticket: Ticket, service_code: str) -> Ticket:
    """Put the theme the caller chose first. Proposed for portal.tickets.services (see the report);
    here it uses that module's helpers so the rows, signals and event stay consistent. Commits."""
    themes = tickets.validate_themes(lead_themes(service_code, list(ticket.themes)))
    if themes != list(ticket.themes):
        before = {"themes": list(ticket.themes)}
        tickets._set_themes(ticket, themes)
        record_event(principal, "ticket.tags.open311", ticket, before=before, after={"themes": themes},
                     note=f"Open311 service_code={service_code}，{principal.label}")
        tickets.sync_signals(ticket)
    db.session.commit()
    return ticket


def create_request(principal: KeyPrincipal, data: RequestInput) -> Ticket:
    """POST requests: a ticket, tagged and matched at once, led by the caller's service code."""
    if principal.street_id is not None:
        raise ApiError(403, "街道密钥只能查询本街道的工单，不能提交诉求。")
    ticket_input = validate_request(data)
    try:
        ticket = tickets.create_ticket(principal, ticket_input)
    except ServiceError as exc:
        raise ApiError(400, exc.message)
    except Forbidden:
        raise ApiError(403, "该 API 密钥无权提交诉求。")
    record_event(principal, "api_key.request", object_type="api_keys", object_id=principal.key_id,
                 after={"ticket": ticket.number, "service_code": data.service_code},
                 note=f"{principal.label} 提交工单 {ticket.number}")
    return set_lead_theme(principal, ticket, data.service_code)
