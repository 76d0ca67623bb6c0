"""Lets the demand pages click through from a minutes signal to its point (portal.demand.sources)."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.core.scoping import PLACE_EDITORS, scoped
from portal.demand.models import SignalSource
from portal.demand.sources import RecordRef, register
from portal.extensions import db
from portal.minutes.models import MinutesPoint


@register(SignalSource.minutes)
def minutes_points(ids: list[str], user) -> dict[str, RecordRef]:
    if getattr(user, "role", None) not in PLACE_EDITORS:
        return {}  # operators may count this demand but not open the records behind it
    numeric = [int(i) for i in ids if i.isdigit()]
    stmt = scoped(select(MinutesPoint).where(MinutesPoint.id.in_(numeric)), MinutesPoint, user)
    refs = {}
    for point in db.session.scalars(stmt.options(selectinload(MinutesPoint.meeting))):
        meeting = point.meeting
        refs[str(point.id)] = RecordRef(
            SignalSource.minutes, str(point.id), f"{meeting.kind.label}「{meeting.title}」第 {point.position} 条",
            point.text, url_for("minutes.detail", meeting_id=meeting.id, _anchor=f"point-{point.id}"))
    return refs
