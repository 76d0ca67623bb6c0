"""The project library (项目库, DESIGN.md §6): renovation projects, the score weights district_admin sets,
and the scores computed with them.

A project belongs to one street (its estates all lie in it), so it is scoped like every other record.
`revision` counts saves: an edit form carries the revision it was loaded at, and a save made against an
older revision is refused, so the second of two editors is told about the first.
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Optional

from sqlalchemy import JSON, Date, Float, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.time import utcnow
from portal.extensions import db

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.areas.models import Estate, Street
    from portal.surveys.models import Survey


class ProjectCategory(str, enum.Enum):
    basic = "basic"
    improve = "improve"
    enhance = "enhance"

    @property
    def label(self) -> str:
        return {"basic": "基础类", "improve": "完善类", "enhance": "提升类"}[self.value]

    @property
    def factor(self) -> float:
        """The category factor of §6 (基础类应改尽改)."""
        return {"basic": 1.0, "improve": 0.6, "enhance": 0.3}[self.value]


class ProjectStatus(str, enum.Enum):
    proposed = "proposed"
    approved = "approved"
    in_progress = "in_progress"
    completed = "completed"

    @property
    def label(self) -> str:
        return {"proposed": "储备", "approved": "入库", "in_progress": "实施中", "completed": "已完成"}[self.value]

    @property
    def active(self) -> bool:
        """Counts as a project already taking care of its estates and themes (for demand gaps)."""
        return self is not ProjectStatus.completed


# The order a project moves through; a step back is allowed (e.g. 入库 → 储备 when a plan is revised).
STATUS_ORDER = [ProjectStatus.proposed, ProjectStatus.approved, ProjectStatus.in_progress, ProjectStatus.completed]


class Project(db.Model):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[ProjectCategory] = mapped_column(db.Enum(ProjectCategory, native_enum=False, length=16))
    status: Mapped[ProjectStatus] = mapped_column(
        db.Enum(ProjectStatus, native_enum=False, length=16), default=ProjectStatus.proposed, index=True)
    cost_wan: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # estimated cost in 万元
    households_covered: Mapped[int] = mapped_column(default=0)
    consent_survey_id: Mapped[Optional[int]] = mapped_column(ForeignKey("surveys.id"), index=True)
    started_on: Mapped[Optional[date]] = mapped_column(Date)  # set when it goes 实施中
    completed_on: Mapped[Optional[date]] = mapped_column(Date)  # set when it goes 已完成
    revision: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    street: Mapped["Street"] = relationship()
    consent_survey: Mapped[Optional["Survey"]] = relationship()
    created_by: Mapped[Optional["User"]] = relationship()
    estate_links: Mapped[list["ProjectEstate"]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectEstate.estate_id")
    theme_links: Mapped[list["ProjectTheme"]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectTheme.theme")

    @property
    def estate_ids(self) -> list[int]:
        return [link.estate_id for link in self.estate_links]

    @property
    def estates(self) -> list["Estate"]:
        return [link.estate for link in self.estate_links]

    @property
    def themes(self) -> list[str]:
        return [link.theme for link in self.theme_links]

    @classmethod
    def street_clause(cls, street_id: int):
        return cls.street_id == street_id


class ProjectEstate(db.Model):
    __tablename__ = "project_estates"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), primary_key=True, index=True)

    project: Mapped[Project] = relationship(back_populates="estate_links")
    estate: Mapped["Estate"] = relationship()


class ProjectTheme(db.Model):
    __tablename__ = "project_themes"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    theme: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)

    project: Mapped[Project] = relationship(back_populates="theme_links")


# The factors of §6 and their default weights, in display order.
FACTORS: list[tuple[str, str, float]] = [
    ("demand", "需求强度", 0.35),
    ("support", "居民支持", 0.20),
    ("urgency", "紧急程度", 0.20),
    ("category", "项目类别", 0.15),
    ("cost", "投资效益", 0.10),
]
DEFAULT_WEIGHTS: dict[str, float] = {code: weight for code, _, weight in FACTORS}
FACTOR_LABELS: dict[str, str] = {code: label for code, label, _ in FACTORS}


class WeightSet(db.Model):
    """One version of the score weights. The newest is in force; older ones stay so old scores explain."""
    __tablename__ = "project_weight_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    weights: Mapped[dict[str, float]] = mapped_column(JSON)  # factor code → weight; they sum to 1
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    created_by: Mapped[Optional["User"]] = relationship()


class ProjectScore(db.Model):
    """A project's score as last computed, with the weight set it used and every factor's numbers."""
    __tablename__ = "project_scores"
    __table_args__ = (UniqueConstraint("project_id", "weight_set_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    weight_set_id: Mapped[int] = mapped_column(ForeignKey("project_weight_sets.id"), index=True)
    total: Mapped[float] = mapped_column(Float)  # 0–100
    # factor code → {"raw": …, "scaled": 0–1, "weight": …, "points": …}
    factors: Mapped[dict[str, Any]] = mapped_column(JSON)
    eligible: Mapped[bool] = mapped_column(default=True)
    ineligible_reason: Mapped[str] = mapped_column(String(500), default="")
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[Project] = relationship()
    weight_set: Mapped[WeightSet] = relationship()
