"""Reading meetings: lists, points by theme with keywords, similar open tickets. Always scoped."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from sqlalchemy import Select, or_, select

from portal.areas.models import Estate
from portal.core.scoping import scoped
from portal.extensions import db
from portal.minutes.models import Meeting, MeetingKind, MinutesPoint, meeting_estates

SIMILAR_PER_POINT = 3
# Minutes are phrased differently from hotline tickets: a looser cut than the finder's merge default (0.5).
SIMILAR_THRESHOLD = 0.4
KEYWORDS_PER_THEME = 8


@dataclass
class MeetingFilters:
    kind: Optional[MeetingKind] = None
    estate_id: Optional[int] = None
    q: str = ""

    @classmethod
    def from_args(cls, args) -> "MeetingFilters":
        kind = args.get("kind") or ""
        estate = args.get("estate_id", "")
        return cls(kind=MeetingKind(kind) if kind in MeetingKind.__members__ else None,
                   estate_id=int(estate) if estate.isdigit() else None, q=(args.get("q") or "").strip()[:100])


def meeting_query(filters: MeetingFilters, user) -> Select:
    stmt = scoped(select(Meeting), Meeting, user)
    if filters.kind:
        stmt = stmt.where(Meeting.kind == filters.kind)
    if filters.estate_id:
        stmt = stmt.where(Meeting.id.in_(select(meeting_estates.c.meeting_id)
                                         .where(meeting_estates.c.estate_id == filters.estate_id)))
    if filters.q:
        pattern = "%" + filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(Meeting.title.like(pattern, escape="\\"), Meeting.organiser.like(pattern, escape="\\")))
    return stmt.order_by(Meeting.held_on.desc(), Meeting.id.desc())


def estates_for(user) -> list[Estate]:
    return db.session.scalars(scoped(select(Estate).order_by(Estate.street_id, Estate.name), Estate, user)).all()


@dataclass
class ThemeGroup:
    theme: str
    points: list[MinutesPoint]
    keywords: list[tuple[str, float]] = field(default_factory=list)
    urgent: int = 0


def theme_groups(meeting: Meeting) -> tuple[list[ThemeGroup], list[MinutesPoint]]:
    """Points under each of their themes (most points first), with the theme's keywords;
    and the points still without a theme."""
    groups: dict[str, ThemeGroup] = {}
    untagged = []
    for point in meeting.points:
        if not point.themes:
            untagged.append(point)
        for theme in point.themes:
            group = groups.setdefault(theme, ThemeGroup(theme, []))
            group.points.append(point)
            group.urgent += 1 if point.urgent else 0
    ordered = sorted(groups.values(), key=lambda g: (-len(g.points), g.theme))
    if ordered:
        from nlp.keywords import extract_keywords
    for group in ordered:
        group.keywords = extract_keywords([p.text for p in group.points], top_k=KEYWORDS_PER_THEME)
    return ordered, untagged


def similar_open_tickets(meeting: Meeting, user) -> list[tuple[MinutesPoint, list[tuple[object, float]]]]:
    """For each point, the open tickets of the meeting's street that say nearly the same thing."""
    from portal.tickets.models import Ticket
    from portal.tickets.services import street_open_tickets

    if not meeting.points:
        return []
    candidates = [(i, text) for i, text in street_open_tickets(meeting.street_id, user) if text]
    if not candidates:
        return []
    from nlp.dedup import NearDuplicateFinder

    finder = NearDuplicateFinder()
    finder.fit(candidates)
    hits_by_point = [(point, finder.similar(point.text, threshold=SIMILAR_THRESHOLD, limit=SIMILAR_PER_POINT)) for point in meeting.points]
    ids = {i for _, hits in hits_by_point for i, _ in hits}
    tickets = {t.id: t for t in db.session.scalars(select(Ticket).where(Ticket.id.in_(ids)))} if ids else {}
    return [(point, [(tickets[i], score) for i, score in hits if i in tickets])
            for point, hits in hits_by_point if any(i in tickets for i, _ in hits)]
