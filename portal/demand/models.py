"""Demand signals (DESIGN.md §3): every tagged record becomes one row per (estate, theme).

Rows are derived: a source record's signals are replaced whenever its themes, estate or status change,
so counts always follow the records they come from.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.time import utcnow
from portal.extensions import db


class SignalSource(str, enum.Enum):
    hotline = "hotline"
    survey = "survey"
    minutes = "minutes"
    suggestion = "suggestion"

    @property
    def label(self) -> str:
        return {"hotline": "12345 热线", "survey": "意愿调查", "minutes": "座谈会", "suggestion": "网上建议"}[self.value]


class DemandSignal(db.Model):
    __tablename__ = "demand_signals"
    __table_args__ = (
        Index("ix_demand_signals_record", "source", "record_id"),
        Index("ix_demand_signals_street_time", "street_id", "occurred_at"),
        Index("ix_demand_signals_estate_theme_time", "estate_id", "theme", "occurred_at"),
        Index("ix_demand_signals_theme_time", "theme", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[SignalSource] = mapped_column(db.Enum(SignalSource, native_enum=False, length=16))
    record_id: Mapped[str] = mapped_column(String(64))  # the ticket / answer / minutes point / suggestion id
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"))
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"))  # copied from the estate for scoping
    theme: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime]
    urgent: Mapped[bool] = mapped_column(default=False)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    reporter_key: Mapped[str] = mapped_column(String(64))  # one per reporter per theme per 30 days (§6)
    model_version: Mapped[Optional[str]] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @classmethod
    def street_clause(cls, street_id: int):
        return cls.street_id == street_id
