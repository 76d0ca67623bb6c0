"""API keys for hotline systems and other machines (DESIGN.md §7).

Only a SHA-256 hash of each key is stored; the key itself is shown once, when it is created.
A key bound to a street sees only that street's tickets and cannot create tickets; a district key
(street_id NULL) sees every street and may create tickets.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Optional

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.time import utcnow
from portal.extensions import db

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.areas.models import Street


class ApiKey(db.Model):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))  # who uses it, e.g. "12345 热线系统"
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, shown to tell keys apart
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the whole key
    street_id: Mapped[Optional[int]] = mapped_column(ForeignKey("streets.id"), index=True)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[Optional[datetime]]
    last_used_at: Mapped[Optional[datetime]]

    street: Mapped[Optional["Street"]] = relationship()
    created_by: Mapped[Optional["User"]] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_create(self) -> bool:
        """Only district keys may create tickets (a street key reads its street only)."""
        return self.street_id is None
