from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Optional

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.core.time import utcnow
from portal.extensions import db

if TYPE_CHECKING:
    from portal.areas.models import Street


class Role(str, enum.Enum):
    operator = "operator"
    street_staff = "street_staff"
    district_admin = "district_admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.operator: "热线工单员",
    Role.street_staff: "街道工作人员",
    Role.district_admin: "区住建局管理员",
}


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role = 'street_staff') = (street_id IS NOT NULL)",
            name="street_staff_has_street",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(db.Enum(Role, native_enum=False, length=32))
    street_id: Mapped[Optional[int]] = mapped_column(ForeignKey("streets.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[Optional[datetime]]

    street: Mapped[Optional["Street"]] = relationship()

    def set_password(self, password: str, method: str = "scrypt") -> None:
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.district_admin

    @property
    def is_operator(self) -> bool:
        return self.role == Role.operator

    @property
    def is_street_staff(self) -> bool:
        return self.role == Role.street_staff

    @property
    def sees_personal_data(self) -> bool:
        """DESIGN.md §1: only operators and district_admin see callers' names and phones in full."""
        return self.role in (Role.operator, Role.district_admin)
