"""What an API key may read: tickets and their status changes, always through portal.core.scoping,
presented as Open311 documents with personal data masked."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Optional, Sequence

from sqlalchemy import String, cast, select
from sqlalchemy.orm import selectinload

from portal.api.open311 import (
    DESCRIPTION_MAX, MAX_RESULTS, ApiError, RequestView, status_label, status_of, statuses_for, w3c,
)
from portal.api.services import KeyPrincipal
from portal.audit.models import Event
from portal.core.masking import caller_name_for, caller_phone_for, text_for
from portal.core.scoping import scoped
from portal.extensions import db
from portal.tickets.models import Ticket, TicketStatus, TicketTheme

MAX_IDS = 1000
EVENT_SCAN_LIMIT = 20 * MAX_RESULTS  # status-changing events are filtered in Python (JSON columns)
# An import's note is its file name; a merge's names the other ticket, which may be another street's.
NOTE_HIDDEN = ("ticket.import_update", "ticket.merge")


def split_list(raw: Optional[str]) -> list[str]:
    """Open311's comma-delimited arguments ("a,b, c"); empty parts are dropped, order kept, no repeats."""
    items = [part.strip() for part in (raw or "").split(",")]
    return list(dict.fromkeys(item for item in items if item))


def list_pattern(values: Sequence[str]) -> str:
    """The comma list Open311 allows ("a,b" or "a, b"; empty means absent), as a regular expression."""
    one = "(" + "|".join(re.escape(v) for v in values) + ")"
    return f"^ *({one} *(, *{one} *)*)?$"


STATUS_PATTERN = list_pattern(["open", "closed"])


def parse_service_codes(raw: Optional[str]) -> list[str]:
    from nlp.themes import THEME_CODES

    codes = split_list(raw)
    unknown = [code for code in codes if code not in THEME_CODES]
    if unknown:
        raise ApiError(400, f"未知的 service_code：{'、'.join(c[:64] for c in unknown[:5])}。")
    if not re.fullmatch(list_pattern(THEME_CODES), raw or ""):
        raise ApiError(400, "service_code 应为逗号分隔的服务类型代码。")
    return codes


def parse_statuses(raw: Optional[str]) -> list[str]:
    if not re.fullmatch(STATUS_PATTERN, raw or ""):
        raise ApiError(400, "status 只能是 open 或 closed（可用逗号分隔同时指定，如 open,closed）。")
    return split_list(raw)


def visible_tickets(principal: KeyPrincipal):
    """Every ticket query of the API starts here: the key's street, as for a user of that street."""
    return scoped(select(Ticket), Ticket, principal).options(selectinload(Ticket.street))


def find_requests(principal: KeyPrincipal, *, ids: Sequence[str] = (), service_codes: Sequence[str] = (),
                  statuses: Sequence[str] = (), start: Optional[datetime] = None,
                  end: Optional[datetime] = None) -> list[Ticket]:
    stmt = visible_tickets(principal)
    if ids:  # "This overrides all other arguments."
        if len(ids) > MAX_IDS:
            raise ApiError(400, f"service_request_id 一次最多 {MAX_IDS} 个。")
        stmt = stmt.where(Ticket.number.in_(list(ids)))
    else:
        if service_codes:  # the service code of a ticket is its first theme
            stmt = stmt.where(Ticket.id.in_(select(TicketTheme.ticket_id).where(
                TicketTheme.theme.in_(list(service_codes)), TicketTheme.rank == 0)))
        if statuses:
            stmt = stmt.where(Ticket.status.in_(statuses_for(statuses)))
        if start is not None:
            stmt = stmt.where(Ticket.received_at >= start)
        if end is not None:
            stmt = stmt.where(Ticket.received_at <= end)
    stmt = stmt.order_by(Ticket.received_at.desc(), Ticket.id.desc()).limit(MAX_RESULTS)
    return list(db.session.scalars(stmt))


def get_request(principal: KeyPrincipal, number: str) -> Ticket:
    """One ticket by its number; another street's ticket is as absent as a missing one."""
    ticket = db.session.scalar(visible_tickets(principal).where(Ticket.number == number))
    if ticket is None:
        raise ApiError(404, f"工单 {number[:64]} 不存在。")
    return ticket


def masked(principal: KeyPrincipal, ticket: Ticket, text: Optional[str]) -> str:
    """Free text as the key may see it: the ticket's own caller name and phone are masked wherever they
    appear ("已电话告知张伟" too, which no pattern can know is a name), then nlp.mask's patterns run."""
    text = text or ""
    if not text:
        return ""
    if ticket.caller_phone and len(ticket.caller_phone.strip()) >= 5:
        text = text.replace(ticket.caller_phone.strip(), caller_phone_for(principal, ticket.caller_phone.strip()))
    if ticket.caller_name and len(ticket.caller_name.strip()) >= 2:
        text = text.replace(ticket.caller_name.strip(), caller_name_for(principal, ticket.caller_name.strip()))
    return text_for(principal, text)


def service_code_of(ticket: Ticket) -> str:
    return ticket.themes[0] if ticket.themes else "other"


def service_notice(ticket: Ticket, principal: KeyPrincipal) -> Optional[str]:
    status = ticket.status
    if status in (TicketStatus.received, TicketStatus.returned):
        return "已受理，等待派单至承办街道。"
    if status in (TicketStatus.dispatched, TicketStatus.in_progress):
        where = ticket.street.name if ticket.street else "承办街道"
        due = w3c(ticket.due_at)
        return f"已派单至{where}办理" + (f"，办理时限 {due}。" if due else "。")
    if status == TicketStatus.merged:
        return "与其他工单重复，已并单办理。"
    if ticket.resolution:
        return "办理结果：" + masked(principal, ticket, ticket.resolution)[:DESCRIPTION_MAX]
    return None


def present(ticket: Ticket, principal: KeyPrincipal) -> dict[str, Any]:
    """A ticket as an Open311 request: caller name and phone never appear, free text is masked."""
    from nlp.themes import theme_name

    code = service_code_of(ticket)
    text = "。".join(part for part in (ticket.title, ticket.content) if part)
    closed_at = ticket.resolved_at if ticket.status in (TicketStatus.resolved, TicketStatus.callback) else None
    return RequestView(
        service_request_id=ticket.number,
        status=status_of(ticket.status),
        status_notes=status_label(ticket.status),
        service_name=theme_name(code),
        service_code=code,
        description=masked(principal, ticket, text)[:DESCRIPTION_MAX],
        agency_responsible=ticket.street.name if ticket.street else (ticket.handling_unit or None),
        service_notice=service_notice(ticket, principal),
        requested_datetime=w3c(ticket.received_at),
        updated_datetime=w3c(closed_at or ticket.updated_at),
        expected_datetime=w3c(ticket.due_at),
        address=masked(principal, ticket, ticket.address),
        address_id=str(ticket.estate_id) if ticket.estate_id else None,
        zipcode=None,
        lat=ticket.latitude,
        long=ticket.longitude,
        media_url=None,
    ).as_row()


# --- status changes ------------------------------------------------------------------------------

def _status(snapshot: Any) -> Optional[str]:
    return snapshot.get("status") if isinstance(snapshot, dict) else None


def changes_status(event: Event) -> bool:
    """A step of the workflow (dispatch, accept, …, import updates), not the ticket's creation."""
    before, after = _status(event.before), _status(event.after)
    return before is not None and after is not None and before != after


def find_updates(principal: KeyPrincipal, start: datetime, end: datetime) -> list[tuple[Event, Ticket]]:
    """Status changes between start and end (inclusive), oldest first, of the tickets the key sees."""
    stmt = (select(Event, Ticket)
            .join(Ticket, cast(Ticket.id, String) == Event.object_id)
            .where(Event.object_type == "tickets", Event.action.like("ticket.%"),
                   Event.created_at >= start, Event.created_at <= end))
    stmt = scoped(stmt, Ticket, principal)  # the ticket's street now, as on its page
    stmt = stmt.order_by(Event.created_at, Event.id).limit(EVENT_SCAN_LIMIT)
    rows = [(event, ticket) for event, ticket in db.session.execute(stmt) if changes_status(event)]
    return rows[:MAX_RESULTS]


def present_update(event: Event, ticket: Ticket, principal: KeyPrincipal) -> dict[str, Any]:
    status = TicketStatus(_status(event.after))
    description = status_label(status)
    if event.note and event.action not in NOTE_HIDDEN:
        description += "：" + masked(principal, ticket, event.note)
    return {
        "update_id": str(event.id),
        "service_request_id": ticket.number,
        "status": status_of(status),
        "updated_datetime": w3c(event.created_at),
        "description": description[:DESCRIPTION_MAX],
        "media_url": None,
    }
