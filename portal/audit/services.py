from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from dataclasses import dataclass
from typing import Any, Optional

from portal.audit.models import Event
from portal.extensions import db


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def snapshot(obj: Any, fields: list[str]) -> dict[str, Any]:
    return {name: _jsonable(getattr(obj, name)) for name in fields}


def record_event(
    actor,
    action: str,
    obj: Any = None,
    *,
    object_type: Optional[str] = None,
    object_id: Any = None,
    street_id: Optional[int] = None,
    before: Optional[dict] = None,
    after: Optional[dict] = None,
    note: Optional[str] = None,
) -> Event:
    """Adds an event to the session; the caller's transaction commits it with the change."""
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
        if street_id is None:
            street_id = getattr(obj, "street_id", None)
    event = Event(
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=object_type or "system",
        object_id=None if object_id is None else str(object_id),
        street_id=street_id,
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        note=note,
    )
    db.session.add(event)
    return event


# -- the audit page (district_admin): kinds of action, filters, personal-data views ------------------

PERSONAL_DATA_VIEW = "personal_data.view"
LOGIN_ACTIONS = ("login", "logout", "login.failed")
CORRECTION_SUFFIX = ".tags.correct"
EXPORT_ACTIONS = ("export", "export.download", "backup.create")  # export.download: an export job's file

# kind code -> label; the order is the order of the filter's options
ACTION_KINDS = {
    "export": "导出与备份",
    "correction": "主题更正",
    "personal_data": "查看个人信息",
    "login": "登录与退出",
    "login_failed": "登录失败",
    "other": "其他操作",
}


def kind_of(action: str) -> str:
    if action in EXPORT_ACTIONS:
        return "export"
    if action.endswith(CORRECTION_SUFFIX):
        return "correction"
    if action == PERSONAL_DATA_VIEW:
        return "personal_data"
    if action == "login.failed":
        return "login_failed"
    if action in LOGIN_ACTIONS:
        return "login"
    return "other"


def kind_clause(kind: str):
    """The WHERE clause that keeps the events of one kind (the same split as kind_of)."""
    from sqlalchemy import and_, false, not_

    correction = Event.action.like("%" + CORRECTION_SUFFIX)
    clauses = {
        "export": Event.action.in_(EXPORT_ACTIONS),
        "correction": correction,
        "personal_data": Event.action == PERSONAL_DATA_VIEW,
        "login": Event.action.in_(LOGIN_ACTIONS),
        "login_failed": Event.action == "login.failed",
    }
    if kind == "other":
        return and_(not_(Event.action.in_(EXPORT_ACTIONS + LOGIN_ACTIONS + (PERSONAL_DATA_VIEW,))), not_(correction))
    return clauses[kind] if kind in clauses else false()


def record_personal_data_view(actor, obj: Any, fields: list[str], *, window_minutes: int = 10) -> Optional[Event]:
    """Log that `actor` saw `fields` of `obj` unmasked, and commit. The same person reloading the
    same record within `window_minutes` (a redirect after every action) is logged once."""
    from datetime import timedelta

    from sqlalchemy import select

    from portal.core.time import utcnow

    object_type, object_id = obj.__tablename__, str(obj.id)
    recent = db.session.scalar(
        select(Event.id).where(Event.action == PERSONAL_DATA_VIEW, Event.actor_id == getattr(actor, "id", None),
                               Event.object_type == object_type, Event.object_id == object_id,
                               Event.created_at >= utcnow() - timedelta(minutes=window_minutes)).limit(1))
    if recent is not None:
        return None
    event = record_event(actor, PERSONAL_DATA_VIEW, obj, after={"fields": list(fields)},
                         note="查看未打码的个人信息：" + "、".join(fields))
    db.session.commit()
    return event


@dataclass
class EventFilters:
    kind: Optional[str] = None
    actor_id: Optional[int] = None
    no_actor: bool = False  # the command line, the public, a failed login with an unknown name
    street_id: Optional[int] = None
    object_type: Optional[str] = None
    date_from: Optional[date] = None  # local dates, both ends included
    date_to: Optional[date] = None
    q: str = ""


def event_query(filters: EventFilters):
    """Events matching the filters, newest first. Only district_admin reads these (the views check)."""
    from datetime import timedelta

    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from portal.core.workdays import to_utc_naive

    stmt = select(Event).options(selectinload(Event.actor))
    if filters.kind:
        stmt = stmt.where(kind_clause(filters.kind))
    if filters.no_actor:
        stmt = stmt.where(Event.actor_id.is_(None))
    elif filters.actor_id is not None:
        stmt = stmt.where(Event.actor_id == filters.actor_id)
    if filters.street_id is not None:
        stmt = stmt.where(Event.street_id == filters.street_id)
    if filters.object_type:
        stmt = stmt.where(Event.object_type == filters.object_type)
    if filters.date_from and filters.date_from > date.min:  # 0001-01-01 in local time is before year 1 in UTC
        stmt = stmt.where(Event.created_at >= to_utc_naive(datetime.combine(filters.date_from, datetime.min.time())))
    if filters.date_to and filters.date_to < date.max:
        end = datetime.combine(filters.date_to + timedelta(days=1), datetime.min.time())
        stmt = stmt.where(Event.created_at < to_utc_naive(end))
    if filters.q:
        escaped = filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Event.note.ilike(f"%{escaped}%", escape="\\"))
    return stmt.order_by(Event.created_at.desc(), Event.id.desc())


def object_types() -> list[str]:
    from sqlalchemy import select

    return list(db.session.scalars(select(Event.object_type).distinct().order_by(Event.object_type)))
