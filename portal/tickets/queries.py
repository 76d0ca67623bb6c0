"""Ticket lists and counts, always through the scoping helper."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Optional

from sqlalchemy import Select, and_, case, func, or_, select

from portal.core.scoping import scoped
from portal.core.time import utcnow
from portal.core.workdays import to_utc_naive
from portal.extensions import db
from portal.tickets.models import Ticket, TicketStatus, TicketTheme


@dataclass
class TicketFilters:
    status: Optional[str] = None
    theme: Optional[str] = None
    street_id: Optional[int] = None
    estate_id: Optional[int] = None
    date_from: Optional[date] = None
    date_to: Optional[date] = None
    overdue: bool = False
    urgent: bool = False
    needs_review: bool = False
    needs_placement: bool = False
    q: str = ""

    @classmethod
    def from_args(cls, args) -> "TicketFilters":
        def day(name):  # outside 1900–2100 is ignored like any unreadable date (9999-12-31 + 1 day overflows)
            try:
                parsed = date.fromisoformat(args.get(name, "")) if args.get(name) else None
            except ValueError:
                return None
            return parsed if parsed and date(1900, 1, 1) <= parsed <= date(2100, 12, 31) else None

        def number(name):  # an id: a database integer, so a 20-digit one is ignored, not a 500
            value = args.get(name, "")
            return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None

        status = args.get("status") or None
        return cls(
            status=status if status in TicketStatus.__members__ else None,
            theme=(args.get("theme") or None), street_id=number("street_id"), estate_id=number("estate_id"),
            date_from=day("date_from"), date_to=day("date_to"),
            overdue=args.get("overdue") == "1", urgent=args.get("urgent") == "1",
            needs_review=args.get("needs_review") == "1", needs_placement=args.get("needs_placement") == "1",
            q=(args.get("q") or "").strip()[:100],
        )


def overdue_clause(now: Optional[datetime] = None):
    return and_(Ticket.due_at.is_not(None), Ticket.due_at < (now or utcnow()),
                Ticket.status.in_([TicketStatus.dispatched, TicketStatus.in_progress]))


def ticket_query(filters: TicketFilters, user) -> Select:
    stmt = scoped(select(Ticket), Ticket, user)
    if filters.status:
        stmt = stmt.where(Ticket.status == TicketStatus(filters.status))
    if filters.theme:
        stmt = stmt.where(Ticket.id.in_(select(TicketTheme.ticket_id).where(TicketTheme.theme == filters.theme)))
    if filters.street_id:
        stmt = stmt.where(Ticket.street_id == filters.street_id)
    if filters.estate_id:
        stmt = stmt.where(Ticket.estate_id == filters.estate_id)
    if filters.date_from:
        stmt = stmt.where(Ticket.received_at >= to_utc_naive(datetime.combine(filters.date_from, datetime.min.time())))
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), datetime.min.time())
        stmt = stmt.where(Ticket.received_at < to_utc_naive(end))
    if filters.overdue:
        stmt = stmt.where(overdue_clause())
    if filters.urgent:
        stmt = stmt.where(Ticket.urgent.is_(True))
    if filters.needs_review:
        stmt = stmt.where(Ticket.needs_review.is_(True))
    if filters.needs_placement:
        stmt = stmt.where(Ticket.needs_placement.is_(True))
    if filters.q:
        pattern = "%" + filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(Ticket.content.like(pattern, escape="\\"), Ticket.title.like(pattern, escape="\\"),
                              Ticket.address.like(pattern, escape="\\"), Ticket.number.like(pattern, escape="\\")))
    return stmt.order_by(Ticket.received_at.desc(), Ticket.id.desc())


@dataclass
class StreetRates:
    street_id: int
    street_name: str
    dispatched: int
    responded: int
    resolved: int
    callbacks: int
    satisfied: int

    @staticmethod
    def _rate(part: int, whole: int) -> Optional[float]:
        return round(part / whole, 4) if whole else None

    @property
    def response_rate(self):
        return self._rate(self.responded, self.dispatched)

    @property
    def resolution_rate(self):
        return self._rate(self.resolved, self.dispatched)

    @property
    def satisfaction_rate(self):
        return self._rate(self.satisfied, self.callbacks)


def three_rates(user, start: datetime, end: datetime) -> list[StreetRates]:
    """三率 per street over tickets dispatched in [start, end) (UTC):
    response = accepted within 24 h of dispatch; resolution = resolved or called back;
    satisfaction = 满意 or 基本满意 among those called back."""
    from portal.areas.models import Street

    responded = case((Ticket.responded_in_time.is_(True), 1), else_=0)
    resolved = case((Ticket.status.in_([TicketStatus.resolved, TicketStatus.callback]), 1), else_=0)
    called = case((Ticket.satisfaction.is_not(None), 1), else_=0)
    satisfied = case((Ticket.satisfaction.in_(["满意", "基本满意"]), 1), else_=0)
    stmt = (select(Street.id, Street.name, func.count(Ticket.id), func.coalesce(func.sum(responded), 0),
                   func.coalesce(func.sum(resolved), 0), func.coalesce(func.sum(called), 0),
                   func.coalesce(func.sum(satisfied), 0))
            .join(Ticket, and_(Ticket.street_id == Street.id, Ticket.dispatched_at >= start,
                               Ticket.dispatched_at < end, Ticket.status != TicketStatus.merged), isouter=True)
            .group_by(Street.id, Street.name).order_by(Street.name))
    stmt = scoped(stmt, Street, user)
    return [StreetRates(*row) for row in db.session.execute(stmt)]
