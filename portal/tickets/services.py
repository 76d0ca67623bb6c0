"""Ticket operations (DESIGN.md §4). Every change checks scope and writes an event."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Optional, Sequence

from flask import current_app
from sqlalchemy import func, or_, select
from werkzeug.exceptions import Forbidden

from portal.accounts.models import Role
from portal.areas.gazetteer import AUTO_PLACE_CONFIDENCE, Gazetteer
from portal.areas.models import Estate, Street
from portal.audit.services import record_event, snapshot
from portal.core.errors import ServiceError
from portal.core.scoping import require_street, scoped
from portal.core.tagging import tag_texts
from portal.core.time import utcnow
from portal.core.workdays import add_working_days
from portal.demand.models import SignalSource
from portal.review.services import record_correction
from portal.demand.services import SignalInput, replace_signals, reporter_key
from portal.extensions import db
from portal.tickets.models import (
    REQUEST_TYPES, SATISFACTION_LEVELS, STATUS_LABELS, Ticket, TicketStatus, TicketTheme,
)

S = TicketStatus
OPERATORS = (Role.operator, Role.district_admin)
STREET_HANDLERS = (Role.street_staff, Role.district_admin)

# action: (allowed from, goes to, who may, Chinese name)
TRANSITIONS = {
    "dispatch": ({S.received, S.returned}, S.dispatched, OPERATORS, "派单"),
    "accept": ({S.dispatched}, S.in_progress, STREET_HANDLERS, "签收办理"),
    "return": ({S.dispatched, S.in_progress}, S.returned, STREET_HANDLERS, "退单"),
    "resolve": ({S.in_progress}, S.resolved, STREET_HANDLERS, "办结"),
    "callback": ({S.resolved}, S.callback, OPERATORS, "回访"),
    "merge": ({S.received, S.returned, S.dispatched, S.in_progress}, S.merged, OPERATORS, "并单"),
}
TRACKED_FIELDS = ["status", "street_id", "estate_id", "themes", "urgent", "due_at", "satisfaction"]


def allowed_actions(user, ticket: Ticket) -> list[str]:
    actions = []
    for action, (sources, _, roles, _) in TRANSITIONS.items():
        if ticket.status in sources and user.role in roles:
            if user.role == Role.street_staff and ticket.street_id != user.street_id:
                continue
            actions.append(action)
    return actions


def ticket_signals(ticket: Ticket) -> list[SignalInput]:
    """A placed, unmerged ticket is one signal per theme, from its caller (or itself when anonymous)."""
    if ticket.estate_id is None or ticket.needs_placement or ticket.status == S.merged:
        return []
    reporter = reporter_key("phone", ticket.caller_phone) if ticket.caller_phone else f"ticket:{ticket.number}"
    return [SignalInput(estate_id=ticket.estate_id, theme=code, occurred_at=ticket.received_at,
                        reporter_key=reporter, urgent=ticket.urgent, model_version=ticket.model_version)
            for code in ticket.themes]


def sync_signals(ticket: Ticket) -> None:
    db.session.flush()
    replace_signals(SignalSource.hotline, ticket.id, ticket_signals(ticket))


def _transition(actor, ticket: Ticket, action: str, note: Optional[str] = None, **changes) -> Ticket:
    sources, target, roles, name = TRANSITIONS[action]
    if actor.role not in roles:
        raise Forbidden()
    if actor.role == Role.street_staff:
        require_street(actor, ticket.street_id)
    if ticket.status not in sources:
        raise ServiceError(f"工单当前状态为「{STATUS_LABELS[ticket.status]}」，不能{name}。")
    before = snapshot(ticket, TRACKED_FIELDS)
    ticket.status = target
    for key, value in changes.items():
        setattr(ticket, key, value)
    record_event(actor, f"ticket.{action}", ticket, before=before, after=snapshot(ticket, TRACKED_FIELDS), note=note)
    if target == S.merged:
        sync_signals(ticket)  # a duplicate no longer counts as demand
    db.session.commit()
    return ticket


def due_date(start: datetime, urgent: bool) -> datetime:
    config = current_app.config
    if urgent:
        return start + timedelta(hours=config["TICKET_URGENT_HOURS"])
    return add_working_days(start, config["TICKET_DUE_WORKING_DAYS"],
                            frozenset(config["HOLIDAYS"]), frozenset(config["EXTRA_WORKDAYS"]))


def dispatch(actor, ticket: Ticket, street_id: int, note: Optional[str] = None) -> Ticket:
    if db.session.get(Street, street_id) is None:
        raise ServiceError("请选择承办街道。")
    now = utcnow()
    return _transition(actor, ticket, "dispatch", note, street_id=street_id, dispatched_at=now,
                       due_at=due_date(now, ticket.urgent), accepted_at=None,
                       responded_in_time=None)


RESPONSE_WINDOW = timedelta(hours=24)


def accept(actor, ticket: Ticket) -> Ticket:
    now = utcnow()
    in_time = ticket.dispatched_at is not None and now - ticket.dispatched_at <= RESPONSE_WINDOW
    return _transition(actor, ticket, "accept", accepted_at=now, responded_in_time=in_time)


def return_ticket(actor, ticket: Ticket, reason: str) -> Ticket:
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ServiceError("退单必须写明理由（至少 4 个字）。")
    return _transition(actor, ticket, "return", reason, return_reason=reason)


def resolve(actor, ticket: Ticket, resolution: str) -> Ticket:
    resolution = (resolution or "").strip()
    if not resolution:
        raise ServiceError("请填写办理结果。")
    return _transition(actor, ticket, "resolve", resolution, resolution=resolution, resolved_at=utcnow())


def record_callback(actor, ticket: Ticket, satisfaction: str, note: Optional[str] = None) -> Ticket:
    if satisfaction not in SATISFACTION_LEVELS:
        raise ServiceError("满意度只能是：满意、基本满意、不满意。")
    return _transition(actor, ticket, "callback", note, satisfaction=satisfaction, callback_at=utcnow())


def merge(actor, ticket: Ticket, target: Ticket) -> Ticket:
    if target.id == ticket.id:
        raise ServiceError("不能与自身并单。")
    if target.status == S.merged:
        raise ServiceError(f"工单 {target.number} 已被并单，请并入它所并入的工单。")
    return _transition(actor, ticket, "merge", f"并入 {target.number}", merged_into_id=target.id)


# --- tags and places -------------------------------------------------------------------------

def _set_themes(ticket: Ticket, themes: Sequence[str]) -> None:
    ticket.themes = list(themes)
    existing = {row.theme: row for row in ticket.theme_rows}
    ticket.theme_rows = [existing.get(code) or TicketTheme(theme=code) for code in themes]
    for rank, row in enumerate(ticket.theme_rows):
        row.rank = rank


def validate_themes(themes: Sequence[str]) -> list[str]:
    from nlp.themes import THEME_CODES

    themes = [t for i, t in enumerate(themes) if t and t not in themes[:i]]
    if not 1 <= len(themes) <= 3:
        raise ServiceError("每条诉求需要 1 到 3 个主题。")
    unknown = [t for t in themes if t not in THEME_CODES]
    if unknown:
        raise ServiceError(f"未知主题：{'、'.join(unknown)}。")
    if "other" in themes and len(themes) > 1:
        raise ServiceError("“其他”主题只能单独使用。")
    return themes


def apply_tags(ticket: Ticket, result) -> None:
    _set_themes(ticket, [code for code, _ in result.themes])
    ticket.theme_scores = {code: round(float(p), 4) for code, p in result.themes}
    ticket.urgent = bool(result.urgent)
    ticket.needs_review = bool(result.needs_review)
    ticket.model_version = result.model_version


def tag_text_of(ticket: Ticket) -> str:
    return "。".join(part for part in (ticket.title, ticket.content) if part)


def load_gazetteer() -> Gazetteer:
    return Gazetteer.from_estates(db.session.scalars(select(Estate)))


def apply_match(ticket: Ticket, gazetteer: Gazetteer) -> None:
    match = gazetteer.match(ticket.address or "", tag_text_of(ticket))
    if match and match.confidence >= AUTO_PLACE_CONFIDENCE:
        ticket.estate_id, ticket.estate_confidence, ticket.needs_placement = match.estate_id, match.confidence, False
    else:
        ticket.estate_id = match.estate_id if match else None
        ticket.estate_confidence = match.confidence if match else None
        ticket.needs_placement = True


def confirm_tags(actor, ticket: Ticket, themes: Sequence[str], urgent: bool) -> Ticket:
    """The operator (or the street handling it) accepts or corrects the suggested themes."""
    if actor.role == Role.street_staff:
        require_street(actor, ticket.street_id)
    themes = validate_themes(themes)
    before = {"themes": list(ticket.themes), "urgent": ticket.urgent, "needs_review": ticket.needs_review}
    _set_themes(ticket, themes)
    ticket.urgent = bool(urgent)
    ticket.needs_review = False
    ticket.tags_confirmed = True
    corrected = before["themes"] != themes or before["urgent"] != ticket.urgent
    record_event(actor, "ticket.tags.correct" if corrected else "ticket.tags.confirm", ticket, before=before,
                 after={"themes": themes, "urgent": ticket.urgent, "needs_review": False},
                 note=tag_text_of(ticket)[:2000] if corrected else None)
    record_correction(actor, SignalSource.hotline, ticket.id, tag_text_of(ticket), before,
                      {"themes": themes, "urgent": ticket.urgent}, ticket.street_id, ticket.model_version)
    sync_signals(ticket)
    db.session.commit()
    return ticket


def place(actor, ticket: Ticket, estate_id: int) -> Ticket:
    if actor.role == Role.street_staff:
        require_street(actor, ticket.street_id)
    estate = db.session.get(Estate, estate_id)
    if estate is None:
        raise ServiceError("所选小区不存在。")
    if actor.role == Role.street_staff and estate.street_id != actor.street_id:
        raise ServiceError("只能选择本街道的小区；不属于本街道的工单请退单。")
    before = {"estate_id": ticket.estate_id, "needs_placement": ticket.needs_placement}
    ticket.estate_id, ticket.estate_confidence, ticket.needs_placement = estate.id, 1.0, False
    record_event(actor, "ticket.place", ticket, before=before, after={"estate_id": estate.id, "needs_placement": False})
    sync_signals(ticket)
    db.session.commit()
    return ticket


# --- creating ---------------------------------------------------------------------------------

@dataclass
class TicketInput:
    content: str
    title: str = ""
    address: str = ""
    caller_name: Optional[str] = None
    caller_phone: Optional[str] = None
    request_type: Optional[str] = None
    number: Optional[str] = None
    received_at: Optional[datetime] = None
    source: str = "manual"
    latitude: Optional[float] = None
    longitude: Optional[float] = None
    handling_unit: Optional[str] = None
    extra: dict = field(default_factory=dict)


def next_number(now: Optional[datetime] = None) -> str:
    """Minsheng's own numbers for tickets entered here: MS + date + a daily sequence."""
    stamp = (now or utcnow()).strftime("%Y%m%d")
    prefix = f"MS{stamp}"
    last = db.session.scalar(select(func.max(Ticket.number)).where(Ticket.number.like(f"{prefix}%")))
    sequence = int(last[len(prefix):]) + 1 if last and last[len(prefix):].isdigit() else 1
    return f"{prefix}{sequence:05d}"


def validate_input(data: TicketInput) -> None:
    if not (data.content or "").strip():
        raise ServiceError("请填写诉求内容。")
    if len(data.content) > 20000:
        raise ServiceError("诉求内容过长（最多 20000 字）。")
    if data.request_type and data.request_type not in REQUEST_TYPES:
        raise ServiceError(f"诉求类型只能是：{'、'.join(REQUEST_TYPES)}。")


def create_ticket(actor, data: TicketInput) -> Ticket:
    if actor is not None and actor.role not in OPERATORS:
        raise Forbidden()
    validate_input(data)
    if data.number and db.session.scalar(select(Ticket.id).where(Ticket.number == data.number)):
        raise ServiceError(f"工单编号 {data.number} 已存在。")
    ticket = Ticket(
        number=data.number or next_number(), source=data.source, received_at=data.received_at or utcnow(),
        caller_name=data.caller_name or None, caller_phone=data.caller_phone or None,
        address=(data.address or "").strip(), title=(data.title or "").strip(), content=data.content.strip(),
        request_type=data.request_type or None, latitude=data.latitude, longitude=data.longitude,
        handling_unit=data.handling_unit,
    )
    apply_tags(ticket, tag_texts([tag_text_of(ticket)])[0])
    apply_match(ticket, load_gazetteer())
    db.session.add(ticket)
    db.session.flush()
    record_event(actor, "ticket.create", ticket, after=snapshot(ticket, TRACKED_FIELDS), note=data.source)
    sync_signals(ticket)
    db.session.commit()
    return ticket


OPEN_STATUSES = (S.received, S.dispatched, S.in_progress, S.returned)
DUPLICATE_DAYS = 90
DUPLICATE_CANDIDATES = 3000  # the most recent ones; a district's open tickets of 90 days can be 30,000


def _texts(stmt) -> list[tuple[int, str]]:
    return [(row.id, "。".join(p for p in (row.title, row.content) if p)) for row in db.session.execute(stmt)]


def street_open_tickets(street_id: int, user, limit_days: int = DUPLICATE_DAYS,
                        cap: int = DUPLICATE_CANDIDATES) -> list[tuple[int, str]]:
    """The open tickets of the last `limit_days` dispatched to a street or about its estates, as `user` may
    see them, as (id, title。content); the most recent `cap`."""
    since = utcnow() - timedelta(days=limit_days)
    street_estates = select(Estate.id).where(Estate.street_id == street_id)
    stmt = (select(Ticket.id, Ticket.title, Ticket.content)
            .where(Ticket.status.in_(OPEN_STATUSES), Ticket.received_at >= since,
                   or_(Ticket.street_id == street_id, Ticket.estate_id.in_(street_estates))))
    return _texts(scoped(stmt, Ticket, user).order_by(Ticket.received_at.desc(), Ticket.id.desc()).limit(cap))


def duplicate_candidates(ticket: Ticket, limit_days: int = DUPLICATE_DAYS,
                         cap: int = DUPLICATE_CANDIDATES) -> list[tuple[int, str]]:
    """The open tickets that could repeat `ticket` (并单建议): received in the last `limit_days`, about the same
    estate or not placed yet; for a ticket not placed, those of its street, or else those sharing a theme.
    The most recent `cap` of them: a ticket page must not compare against the whole district."""
    since = utcnow() - timedelta(days=limit_days)
    stmt = (select(Ticket.id, Ticket.title, Ticket.content)
            .where(Ticket.status.in_(OPEN_STATUSES), Ticket.received_at >= since, Ticket.id != ticket.id))
    if ticket.estate_id is not None:
        stmt = stmt.where(or_(Ticket.estate_id == ticket.estate_id, Ticket.estate_id.is_(None)))
    elif ticket.street_id is not None:
        stmt = stmt.where(Ticket.street_id == ticket.street_id)
    elif ticket.themes:
        stmt = stmt.where(Ticket.id.in_(select(TicketTheme.ticket_id).where(TicketTheme.theme.in_(list(ticket.themes)))))
    return _texts(stmt.order_by(Ticket.received_at.desc(), Ticket.id.desc()).limit(cap))
