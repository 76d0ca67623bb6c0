"""12345 hotline tickets (DESIGN.md §3, §4)."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Optional

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.time import utcnow
from portal.extensions import db

if TYPE_CHECKING:
    from portal.areas.models import Estate, Street


class TicketStatus(str, enum.Enum):
    received = "received"
    dispatched = "dispatched"
    in_progress = "in_progress"
    resolved = "resolved"
    callback = "callback"
    returned = "returned"
    merged = "merged"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    TicketStatus.received: "已接收",
    TicketStatus.dispatched: "已派单",
    TicketStatus.in_progress: "办理中",
    TicketStatus.resolved: "已办结",
    TicketStatus.callback: "已回访",
    TicketStatus.returned: "退单",
    TicketStatus.merged: "已并单",
}
OPEN_STATUSES = (TicketStatus.received, TicketStatus.dispatched, TicketStatus.in_progress, TicketStatus.returned)
REQUEST_TYPES = ("咨询", "求助", "投诉", "举报", "建议", "表扬")
SATISFACTION_LEVELS = ("满意", "基本满意", "不满意")


class Ticket(db.Model):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_street_status", "street_id", "status"),
        Index("ix_tickets_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)  # 工单编号
    source: Mapped[str] = mapped_column(String(16), default="manual")  # manual, import, open311
    received_at: Mapped[datetime] = mapped_column(default=utcnow)  # 受理时间
    caller_name: Mapped[Optional[str]] = mapped_column(String(64))  # 来电人 — personal data
    caller_phone: Mapped[Optional[str]] = mapped_column(String(32))  # 联系电话 — personal data
    address: Mapped[str] = mapped_column(String(256), default="")  # 诉求地址
    title: Mapped[str] = mapped_column(String(256), default="")  # 诉求标题
    content: Mapped[str] = mapped_column(Text)  # 诉求内容
    request_type: Mapped[Optional[str]] = mapped_column(String(8))  # 诉求类型
    handling_unit: Mapped[Optional[str]] = mapped_column(String(128))  # 承办单位 as exported
    latitude: Mapped[Optional[float]] = mapped_column(Float)
    longitude: Mapped[Optional[float]] = mapped_column(Float)

    status: Mapped[TicketStatus] = mapped_column(
        db.Enum(TicketStatus, native_enum=False, length=16), default=TicketStatus.received, index=True)
    street_id: Mapped[Optional[int]] = mapped_column(ForeignKey("streets.id"), index=True)  # set on dispatch
    estate_id: Mapped[Optional[int]] = mapped_column(ForeignKey("estates.id"), index=True)
    estate_confidence: Mapped[Optional[float]] = mapped_column(Float)
    needs_placement: Mapped[bool] = mapped_column(default=False, index=True)

    themes: Mapped[list[str]] = mapped_column(JSON, default=list)  # codes, most important first
    theme_scores: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    urgent: Mapped[bool] = mapped_column(default=False)
    needs_review: Mapped[bool] = mapped_column(default=False, index=True)
    tags_confirmed: Mapped[bool] = mapped_column(default=False)
    model_version: Mapped[Optional[str]] = mapped_column(String(64))

    dispatched_at: Mapped[Optional[datetime]]
    due_at: Mapped[Optional[datetime]]
    accepted_at: Mapped[Optional[datetime]]
    responded_in_time: Mapped[Optional[bool]]  # accepted within 24 h of dispatch (三率: response rate)
    resolved_at: Mapped[Optional[datetime]]  # 办结时间
    resolution: Mapped[Optional[str]] = mapped_column(Text)
    return_reason: Mapped[Optional[str]] = mapped_column(Text)
    callback_at: Mapped[Optional[datetime]]
    satisfaction: Mapped[Optional[str]] = mapped_column(String(8))  # 满意度
    merged_into_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tickets.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    street: Mapped[Optional["Street"]] = relationship()
    estate: Mapped[Optional["Estate"]] = relationship()
    merged_into: Mapped[Optional["Ticket"]] = relationship(remote_side="Ticket.id")
    theme_rows: Mapped[list["TicketTheme"]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketTheme.rank")

    @classmethod
    def street_clause(cls, street_id: int):
        return cls.street_id == street_id

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now: Optional[datetime] = None) -> bool:
        return (self.due_at is not None
                and self.status in (TicketStatus.dispatched, TicketStatus.in_progress)
                and (now or utcnow()) > self.due_at)


class TicketTheme(db.Model):
    """One row per (ticket, theme): lets lists and counts filter by theme on any database."""
    __tablename__ = "ticket_themes"
    __table_args__ = (UniqueConstraint("ticket_id", "theme"), Index("ix_ticket_themes_theme", "theme", "ticket_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    theme: Mapped[str] = mapped_column(String(32))
    rank: Mapped[int] = mapped_column(default=0)

    ticket: Mapped[Ticket] = relationship(back_populates="theme_rows")


class HeaderMapping(db.Model):
    """An operator's answer to "which standard column is this header?", kept for later imports."""
    __tablename__ = "ticket_header_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_header: Mapped[str] = mapped_column(String(128), unique=True)
    standard_column: Mapped[str] = mapped_column(String(32))
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
