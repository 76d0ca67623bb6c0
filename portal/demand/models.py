"""Demand signals (DESIGN.md §3): every tagged record becomes one row per (estate, theme).

Rows are derived: a source record's signals are replaced whenever its themes, estate or status change,
so counts always follow the records they come from.

`DemandDailyCount` is the dashboard's rollup: signals counted per local day, estate, theme, source and
urgent flag. It is derived from `demand_signals` again (services.replace_many recomputes the touched
estate-days in the same transaction), so every dashboard figure equals a count over the signal rows.
`DemandMonthlyCount` sums the daily rollup per month for long ranges (queries.py combines the two).
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Optional

from sqlalchemy import Date, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.time import utcnow
from portal.core.workdays import to_local
from portal.extensions import db


class SignalSource(str, enum.Enum):
    hotline = "hotline"
    survey = "survey"
    minutes = "minutes"
    suggestion = "suggestion"

    @property
    def label(self) -> str:
        return {"hotline": "12345 热线", "survey": "意愿调查", "minutes": "座谈会", "suggestion": "网上建议"}[self.value]


def local_day_of(occurred_at: datetime) -> date:
    """The Asia/Shanghai calendar day of a naive-UTC instant: the day a signal is counted on."""
    return to_local(occurred_at).date()


def _default_local_day(context) -> Optional[date]:
    occurred = context.get_current_parameters().get("occurred_at")
    return local_day_of(occurred) if occurred else None


class DemandSignal(db.Model):
    __tablename__ = "demand_signals"
    __table_args__ = (
        Index("ix_demand_signals_record", "source", "record_id"),
        Index("ix_demand_signals_street_time", "street_id", "occurred_at"),
        # intensity walks (scores, gaps) read (estate, theme) pairs over a year in this order; on PostgreSQL
        # the included columns let them come from the index alone (migration 0011)
        Index("ix_demand_signals_estate_theme_time", "estate_id", "theme", "occurred_at", "id",
              postgresql_include=["reporter_key", "urgent", "weight"]),
        Index("ix_demand_signals_theme_time", "theme", "occurred_at"),
        # recomputing the rollup of touched estate-days
        Index("ix_demand_signals_estate_day", "estate_id", "local_day"),
        # representative records: newest first, urgent first, per theme
        Index("ix_demand_signals_theme_urgent_time", "theme", "urgent", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[SignalSource] = mapped_column(db.Enum(SignalSource, native_enum=False, length=16))
    record_id: Mapped[str] = mapped_column(String(64))  # the ticket / answer / minutes point / suggestion id
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"))
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"))  # copied from the estate for scoping
    theme: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime]
    local_day: Mapped[date] = mapped_column(Date, default=_default_local_day)  # local date of occurred_at
    urgent: Mapped[bool] = mapped_column(default=False)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    reporter_key: Mapped[str] = mapped_column(String(64))  # one per reporter per theme per 30 days (§6)
    model_version: Mapped[Optional[str]] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @classmethod
    def street_clause(cls, street_id: int):
        return cls.street_id == street_id


class DemandDailyCount(db.Model):
    """n = the number of demand_signals rows with these values (kept exact by services.replace_many)."""
    __tablename__ = "demand_daily_counts"
    __table_args__ = (
        Index("ix_demand_daily_counts_day", "local_day", "theme"),
        Index("ix_demand_daily_counts_street_day", "street_id", "local_day"),
        Index("ix_demand_daily_counts_theme_day", "theme", "local_day"),
    )

    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), primary_key=True)
    local_day: Mapped[date] = mapped_column(Date, primary_key=True)
    theme: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[SignalSource] = mapped_column(db.Enum(SignalSource, native_enum=False, length=16), primary_key=True)
    urgent: Mapped[bool] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), primary_key=True)
    n: Mapped[int]

    @classmethod
    def street_clause(cls, street_id: int):
        return cls.street_id == street_id


MONTHLY_SOURCES = [s.value for s in SignalSource]


class SplitCounts:
    """Count columns of a summed rollup: all, urgent, and each per source."""
    n: Mapped[int]
    n_urgent: Mapped[int]
    n_hotline: Mapped[int]
    n_survey: Mapped[int]
    n_minutes: Mapped[int]
    n_suggestion: Mapped[int]
    n_urgent_hotline: Mapped[int]
    n_urgent_survey: Mapped[int]
    n_urgent_minutes: Mapped[int]
    n_urgent_suggestion: Mapped[int]

    @classmethod
    def count_column(cls, source: Optional[SignalSource], urgent: bool):
        """The column holding the count for a source filter and the urgent-only switch."""
        name = "n" + ("_urgent" if urgent else "") + (f"_{source.value}" if source else "")
        return getattr(cls, name)

    @classmethod
    def street_clause(cls, street_id: int):
        return cls.street_id == street_id


class DemandMonthlyCount(SplitCounts, db.Model):
    """The daily rollup summed per local month, estate and theme, with the source and urgent splits as
    columns: a 90-day or one-year view reads a few rows per (estate, theme) instead of one per day.
    Derived from demand_daily_counts by services.refresh_rollup, in the same transaction."""
    __tablename__ = "demand_monthly_counts"
    __table_args__ = (
        Index("ix_demand_monthly_counts_month", "month", "theme"),
        Index("ix_demand_monthly_counts_street_month", "street_id", "month"),
    )

    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the first day of the local month
    theme: Mapped[str] = mapped_column(String(32), primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), primary_key=True)


class DemandStreetDailyCount(SplitCounts, db.Model):
    """The daily rollup summed per street (no estate), with the same count columns: the weekly trend of a
    street or of the district reads one row per day and theme. Derived like the monthly one."""
    __tablename__ = "demand_street_daily_counts"
    __table_args__ = (Index("ix_demand_street_daily_counts_day", "local_day"),)

    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), primary_key=True)
    local_day: Mapped[date] = mapped_column(Date, primary_key=True)
    theme: Mapped[str] = mapped_column(String(32), primary_key=True)
