"""Consultation meetings (居民座谈会/议事会/问需会/恳谈会), their minutes points and follow-up (DESIGN.md §3)."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Optional

from sqlalchemy import JSON, CheckConstraint, Column, Date, ForeignKey, Integer, String, Table, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.time import utcnow
from portal.extensions import db

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.areas.models import Estate, Street


class MeetingKind(str, enum.Enum):
    forum = "forum"
    council = "council"
    needs = "needs"
    dialogue = "dialogue"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    MeetingKind.forum: "座谈会",
    MeetingKind.council: "议事会",
    MeetingKind.needs: "问需会",
    MeetingKind.dialogue: "恳谈会",
}

meeting_estates = Table(
    "meeting_estates",
    db.metadata,
    Column("meeting_id", Integer, ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True),
    Column("estate_id", Integer, ForeignKey("estates.id"), primary_key=True, index=True),
)


class Meeting(db.Model):
    __tablename__ = "meetings"
    __table_args__ = (CheckConstraint("attendee_count >= 0", name="attendee_count_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Every estate of a meeting is in this street: scoping needs no join.
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    kind: Mapped[MeetingKind] = mapped_column(db.Enum(MeetingKind, native_enum=False, length=16))
    title: Mapped[str] = mapped_column(String(128))
    held_on: Mapped[date] = mapped_column(Date, index=True)
    attendee_count: Mapped[int] = mapped_column(default=0)
    organiser: Mapped[str] = mapped_column(String(64))
    location: Mapped[str] = mapped_column(String(128), default="")
    minutes_text: Mapped[str] = mapped_column(Text, default="")  # as uploaded or pasted, before splitting
    source_filename: Mapped[Optional[str]] = mapped_column(String(256))
    points_saved_at: Mapped[Optional[datetime]]  # None while the split is a draft
    outcomes: Mapped[Optional[str]] = mapped_column(Text)  # closing record: what was agreed
    closed_at: Mapped[Optional[datetime]]
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    street: Mapped["Street"] = relationship()
    created_by: Mapped[Optional["User"]] = relationship()
    estates: Mapped[list["Estate"]] = relationship(secondary=meeting_estates, order_by="Estate.name")
    points: Mapped[list["MinutesPoint"]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="MinutesPoint.position")
    actions: Mapped[list["MeetingAction"]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by=lambda: [MeetingAction.due_on, MeetingAction.id])

    @classmethod
    def street_clause(cls, street_id: int):
        return cls.street_id == street_id

    @property
    def estate_ids(self) -> list[int]:
        return sorted(e.id for e in self.estates)

    @property
    def status(self) -> str:
        if self.closed_at:
            return "closed"
        return "recorded" if self.points_saved_at else "draft"

    @property
    def status_label(self) -> str:
        return {"draft": "待整理纪要", "recorded": "已录入", "closed": "已形成结论"}[self.status]


class MinutesPoint(db.Model):
    """One speaker turn, numbered item or paragraph of the minutes, tagged like a ticket."""
    __tablename__ = "minutes_points"
    __table_args__ = (UniqueConstraint("meeting_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    position: Mapped[int]  # 1-based order in the minutes
    speaker: Mapped[Optional[str]] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    theme_scores: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    urgent: Mapped[bool] = mapped_column(default=False)
    needs_review: Mapped[bool] = mapped_column(default=False)
    tags_confirmed: Mapped[bool] = mapped_column(default=False)
    model_version: Mapped[Optional[str]] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="points")

    @classmethod
    def street_clause(cls, street_id: int):
        return cls.meeting_id.in_(select(Meeting.id).where(Meeting.street_id == street_id))


class MeetingAction(db.Model):
    """A follow-up action of the closing record: what, who, by when."""
    __tablename__ = "meeting_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(String(500))
    owner: Mapped[str] = mapped_column(String(64))
    due_on: Mapped[date] = mapped_column(Date)
    done_at: Mapped[Optional[datetime]]
    # Hook for the project library (DESIGN.md §6), which does not exist yet: the project this action
    # became. No foreign key until the projects table exists; nothing reads or writes it today.
    project_id: Mapped[Optional[int]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="actions")

    @classmethod
    def street_clause(cls, street_id: int):
        return cls.meeting_id.in_(select(Meeting.id).where(Meeting.street_id == street_id))

    def is_overdue(self, today: date) -> bool:
        return self.done_at is None and self.due_on < today
