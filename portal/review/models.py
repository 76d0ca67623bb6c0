"""Staff corrections of theme tags, records flagged for review, and versions of the theme model (issue 7)."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.time import utcnow
from portal.demand.models import SignalSource
from portal.extensions import db


class TagCorrection(db.Model):
    """One confirmation or correction of a record's themes by staff: the log, and training data."""
    __tablename__ = "tag_corrections"
    __table_args__ = (Index("ix_tag_corrections_record", "source", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[SignalSource] = mapped_column(db.Enum(SignalSource, native_enum=False, length=16))
    record_id: Mapped[str] = mapped_column(String(64))
    street_id: Mapped[Optional[int]] = mapped_column(ForeignKey("streets.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    themes: Mapped[list[str]] = mapped_column(JSON)
    urgent: Mapped[bool] = mapped_column(default=False)
    previous_themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    previous_urgent: Mapped[bool] = mapped_column(default=False)
    changed: Mapped[bool] = mapped_column(default=False)  # False: the suggestion was confirmed as it was
    model_version: Mapped[Optional[str]] = mapped_column(String(64))  # the model that had tagged the record
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    actor: Mapped[Optional["User"]] = relationship()  # noqa: F821

    @classmethod
    def street_clause(cls, street_id: int):
        return cls.street_id == street_id


class ReviewFlag(db.Model):
    """Staff put a record into the review queue by hand (the model was sure, but wrong)."""
    __tablename__ = "review_flags"
    __table_args__ = (Index("ix_review_flags_record", "source", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[SignalSource] = mapped_column(db.Enum(SignalSource, native_enum=False, length=16))
    record_id: Mapped[str] = mapped_column(String(64))
    street_id: Mapped[Optional[int]] = mapped_column(ForeignKey("streets.id"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    flagged_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[Optional[datetime]]

    @classmethod
    def street_clause(cls, street_id: int):
        return cls.street_id == street_id


class ModelStatus(str, enum.Enum):
    candidate = "candidate"
    active = "active"
    retired = "retired"
    discarded = "discarded"

    @property
    def label(self) -> str:
        return {"candidate": "待决定", "active": "使用中", "retired": "已停用", "discarded": "已放弃"}[self.value]


class ThemeModel(db.Model):
    """A theme model trained here from the corpus plus corrections. The shipped default is not a row."""
    __tablename__ = "theme_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(String(500))
    status: Mapped[ModelStatus] = mapped_column(db.Enum(ModelStatus, native_enum=False, length=16),
                                                default=ModelStatus.candidate, index=True)
    base_version: Mapped[Optional[str]] = mapped_column(String(64))  # the model in use when it was trained
    n_corrections: Mapped[int] = mapped_column(default=0)
    n_held_back: Mapped[int] = mapped_column(default=0)
    evaluation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    job_id: Mapped[Optional[int]] = mapped_column(ForeignKey("jobs.id"))
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[Optional[datetime]]
    note: Mapped[Optional[str]] = mapped_column(Text)
