"""Residents' online suggestions (网上建议): tagged like tickets, answered by their street."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Optional

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.time import utcnow
from portal.extensions import db

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.areas.models import Estate, Street


class SuggestionStatus(str, enum.Enum):
    open = "open"
    replied = "replied"

    @property
    def label(self) -> str:
        return "待回复" if self is SuggestionStatus.open else "已回复"


class Suggestion(db.Model):
    __tablename__ = "suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)  # the estate's, for scoping
    content: Mapped[str] = mapped_column(Text)
    contact_name: Mapped[Optional[str]] = mapped_column(String(64))  # optional — personal data
    contact_phone: Mapped[Optional[str]] = mapped_column(String(32))  # optional — personal data
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    theme_scores: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    urgent: Mapped[bool] = mapped_column(default=False)
    needs_review: Mapped[bool] = mapped_column(default=False)
    tags_confirmed: Mapped[bool] = mapped_column(default=False)
    model_version: Mapped[Optional[str]] = mapped_column(String(64))
    status: Mapped[SuggestionStatus] = mapped_column(
        db.Enum(SuggestionStatus, native_enum=False, length=16), default=SuggestionStatus.open, index=True)
    reply: Mapped[Optional[str]] = mapped_column(Text)
    replied_at: Mapped[Optional[datetime]]
    replied_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    # The resident's private link carries a random token; only its SHA-256 is kept.
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    estate: Mapped["Estate"] = relationship()
    street: Mapped["Street"] = relationship()
    replied_by: Mapped[Optional["User"]] = relationship()

    @classmethod
    def street_clause(cls, street_id: int):
        return cls.street_id == street_id
