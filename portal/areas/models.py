"""Places (DESIGN.md §2): Street → Community → Estate → Household."""
from __future__ import annotations

import enum
from decimal import Decimal
from typing import Optional

from sqlalchemy import JSON, ForeignKey, Numeric, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.extensions import db


class Street(db.Model):
    __tablename__ = "streets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)

    communities: Mapped[list["Community"]] = relationship(
        back_populates="street", order_by="Community.name"
    )

    @classmethod
    def street_clause(cls, street_id: int):
        return cls.id == street_id


class Community(db.Model):
    __tablename__ = "communities"
    __table_args__ = (UniqueConstraint("street_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))

    street: Mapped[Street] = relationship(back_populates="communities")
    estates: Mapped[list["Estate"]] = relationship(
        back_populates="community", order_by="Estate.name"
    )

    @classmethod
    def street_clause(cls, street_id: int):
        return cls.street_id == street_id


class Estate(db.Model):
    __tablename__ = "estates"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    # Copied from the community (which never changes street) so scoping needs no join.
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    address_patterns: Mapped[list[str]] = mapped_column(JSON, default=list)
    household_count: Mapped[int] = mapped_column(default=0)
    built_year: Mapped[Optional[int]]
    latitude: Mapped[Optional[Decimal]] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Optional[Decimal]] = mapped_column(Numeric(9, 6))

    community: Mapped[Community] = relationship(back_populates="estates")
    street: Mapped[Street] = relationship()
    households: Mapped[list["Household"]] = relationship(
        back_populates="estate", order_by="Household.id"
    )

    @classmethod
    def street_clause(cls, street_id: int):
        return cls.street_id == street_id


class Occupancy(str, enum.Enum):
    owner = "owner"
    tenant = "tenant"

    @property
    def label(self) -> str:
        return "业主" if self is Occupancy.owner else "租户"


class Household(db.Model):
    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("estate_id", "building", "unit", "room"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    building: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(32), default="")
    room: Mapped[str] = mapped_column(String(32))
    area_m2: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    occupancy: Mapped[Occupancy] = mapped_column(
        db.Enum(Occupancy, native_enum=False, length=16), default=Occupancy.owner
    )
    owner_id_number: Mapped[Optional[str]] = mapped_column(String(32))
    access_code_hash: Mapped[Optional[str]] = mapped_column(String(256))

    estate: Mapped[Estate] = relationship(back_populates="households")

    @property
    def label(self) -> str:
        unit = f"{self.unit}单元" if self.unit else ""
        return f"{self.building}栋{unit}{self.room}室"

    def set_access_code(self, code: str) -> None:
        self.access_code_hash = generate_password_hash(code)

    def check_access_code(self, code: str) -> bool:
        return bool(self.access_code_hash) and check_password_hash(self.access_code_hash, code)

    @classmethod
    def street_clause(cls, street_id: int):
        return cls.estate_id.in_(select(Estate.id).where(Estate.street_id == street_id))
