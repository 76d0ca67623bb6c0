"""Writes to places. Each checks the actor's scope and records an event."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Optional, Sequence

from sqlalchemy import func, select
from werkzeug.exceptions import Forbidden

from portal.accounts.models import Role
from portal.areas.models import Community, Estate, Household, Occupancy, Street
from portal.areas.roster import RosterParse, parse_roster
from portal.audit.services import record_event, snapshot
from portal.core.errors import ServiceError
from portal.core.scoping import require_street
from portal.extensions import db

ESTATE_FIELDS = ["name", "community_id", "aliases", "address_patterns", "household_count",
                 "built_year", "latitude", "longitude"]
HOUSEHOLD_FIELDS = ["building", "unit", "room", "area_m2", "occupancy", "owner_id_number"]


def split_list(text: Optional[str]) -> list[str]:
    """Aliases and address patterns are typed one per line or separated by 、，,；;"""
    if not text:
        return []
    items = [item.strip() for item in re.split(r"[\n\r,，、;；]+", text)]
    unique: list[str] = []
    for item in items:
        if item and item not in unique:
            unique.append(item[:64])
    return unique


def _require_admin(actor) -> None:
    if actor.role != Role.district_admin:
        raise Forbidden()


def _require_place_editor(actor, street_id: int) -> None:
    if actor.role not in (Role.street_staff, Role.district_admin):
        raise Forbidden()
    require_street(actor, street_id)


def _unique_name(model, name: str, *conditions, exclude_id=None, message: str) -> None:
    stmt = select(func.count()).select_from(model).where(model.name == name, *conditions)
    if exclude_id is not None:
        stmt = stmt.where(model.id != exclude_id)
    if db.session.scalar(stmt):
        raise ServiceError(message)


def create_street(actor, name: str) -> Street:
    _require_admin(actor)
    name = name.strip()
    _unique_name(Street, name, message=f"街道「{name}」已存在。")
    street = Street(name=name)
    db.session.add(street)
    db.session.flush()
    record_event(actor, "street.create", street, street_id=street.id, after={"name": name})
    db.session.commit()
    return street


def update_street(actor, street: Street, name: str) -> Street:
    _require_admin(actor)
    name = name.strip()
    _unique_name(Street, name, exclude_id=street.id, message=f"街道「{name}」已存在。")
    before = snapshot(street, ["name"])
    street.name = name
    record_event(actor, "street.update", street, street_id=street.id, before=before, after={"name": name})
    db.session.commit()
    return street


def create_community(actor, street_id: int, name: str) -> Community:
    _require_place_editor(actor, street_id)
    if db.session.get(Street, street_id) is None:
        raise ServiceError("所选街道不存在。")
    name = name.strip()
    _unique_name(Community, name, Community.street_id == street_id,
                 message=f"本街道已有社区「{name}」。")
    community = Community(street_id=street_id, name=name)
    db.session.add(community)
    db.session.flush()
    record_event(actor, "community.create", community, after={"name": name, "street_id": street_id})
    db.session.commit()
    return community


def update_community(actor, community: Community, name: str) -> Community:
    _require_place_editor(actor, community.street_id)
    name = name.strip()
    _unique_name(Community, name, Community.street_id == community.street_id,
                 exclude_id=community.id, message=f"本街道已有社区「{name}」。")
    before = snapshot(community, ["name"])
    community.name = name
    record_event(actor, "community.update", community, before=before, after={"name": name})
    db.session.commit()
    return community


@dataclass
class EstateInput:
    name: str
    community_id: int
    aliases: list[str]
    address_patterns: list[str]
    household_count: int = 0
    built_year: Optional[int] = None
    latitude: Optional[Decimal] = None
    longitude: Optional[Decimal] = None


def _community_for(actor, community_id: int) -> Community:
    community = db.session.get(Community, community_id)
    if community is None:
        raise ServiceError("所选社区不存在。")
    _require_place_editor(actor, community.street_id)
    return community


def _apply_estate(estate: Estate, data: EstateInput, community: Community) -> None:
    estate.name = data.name.strip()
    estate.community_id = community.id
    estate.street_id = community.street_id
    estate.aliases = [a for a in data.aliases if a != estate.name]
    estate.address_patterns = data.address_patterns
    estate.household_count = data.household_count
    estate.built_year = data.built_year
    estate.latitude = data.latitude
    estate.longitude = data.longitude


def create_estate(actor, data: EstateInput) -> Estate:
    community = _community_for(actor, data.community_id)
    _unique_name(Estate, data.name.strip(), Estate.community_id == community.id,
                 message=f"社区「{community.name}」已有小区「{data.name.strip()}」。")
    estate = Estate()
    _apply_estate(estate, data, community)
    db.session.add(estate)
    db.session.flush()
    record_event(actor, "estate.create", estate, after=snapshot(estate, ESTATE_FIELDS))
    db.session.commit()
    return estate


def update_estate(actor, estate: Estate, data: EstateInput) -> Estate:
    _require_place_editor(actor, estate.street_id)
    community = _community_for(actor, data.community_id)
    if community.street_id != estate.street_id:
        # Moving an estate between streets would silently hand its records to another office.
        raise ServiceError("小区不能转到其他街道的社区。")
    _unique_name(Estate, data.name.strip(), Estate.community_id == community.id,
                 exclude_id=estate.id, message=f"社区「{community.name}」已有小区「{data.name.strip()}」。")
    before = snapshot(estate, ESTATE_FIELDS)
    _apply_estate(estate, data, community)
    record_event(actor, "estate.update", estate, before=before, after=snapshot(estate, ESTATE_FIELDS))
    db.session.commit()
    return estate


@dataclass
class HouseholdInput:
    building: str
    unit: str
    room: str
    area_m2: Decimal
    occupancy: Occupancy
    owner_id_number: Optional[str] = None


def estates_of_one_street(estate_ids: Sequence[int], mixed_streets_message: str) -> tuple[int, list[Estate]]:
    """The estates a survey or meeting covers: at least one, every one existing, all in one street.
    Callers check the actor may act on that street."""
    ids = sorted({int(i) for i in estate_ids or []})
    if not ids:
        raise ServiceError("请至少选择一个小区。")
    estates = list(db.session.scalars(select(Estate).where(Estate.id.in_(ids))))
    if len(estates) != len(ids):
        raise ServiceError("所选小区不存在。")
    streets = {e.street_id for e in estates}
    if len(streets) > 1:
        raise ServiceError(mixed_streets_message)
    return streets.pop(), estates


def _household_exists(estate_id: int, data: HouseholdInput, exclude_id=None) -> bool:
    stmt = select(func.count()).select_from(Household).where(
        Household.estate_id == estate_id,
        Household.building == data.building,
        Household.unit == data.unit,
        Household.room == data.room,
    )
    if exclude_id is not None:
        stmt = stmt.where(Household.id != exclude_id)
    return bool(db.session.scalar(stmt))


def _apply_household(household: Household, data: HouseholdInput) -> None:
    for name in HOUSEHOLD_FIELDS:
        setattr(household, name, getattr(data, name))


def _sync_household_count(estate: Estate) -> None:
    """The roster is authoritative once an estate has one."""
    count = db.session.scalar(select(func.count()).select_from(Household).where(Household.estate_id == estate.id))
    if count:
        estate.household_count = count


def create_household(actor, estate: Estate, data: HouseholdInput) -> Household:
    _require_place_editor(actor, estate.street_id)
    if _household_exists(estate.id, data):
        raise ServiceError("该小区已有这一户（楼栋、单元、房号相同）。")
    household = Household(estate_id=estate.id)
    _apply_household(household, data)
    db.session.add(household)
    db.session.flush()
    _sync_household_count(estate)
    record_event(actor, "household.create", household, street_id=estate.street_id,
                 after=snapshot(household, HOUSEHOLD_FIELDS))
    db.session.commit()
    return household


def update_household(actor, household: Household, data: HouseholdInput) -> Household:
    estate = household.estate
    _require_place_editor(actor, estate.street_id)
    if _household_exists(estate.id, data, exclude_id=household.id):
        raise ServiceError("该小区已有这一户（楼栋、单元、房号相同）。")
    before = snapshot(household, HOUSEHOLD_FIELDS)
    _apply_household(household, data)
    record_event(actor, "household.update", household, street_id=estate.street_id,
                 before=before, after=snapshot(household, HOUSEHOLD_FIELDS))
    db.session.commit()
    return household


class RosterImportError(ServiceError):
    def __init__(self, parse: RosterParse):
        super().__init__(f"导入失败：共 {parse.error_count} 处错误，未写入任何数据。")
        self.parse = parse


@dataclass
class RosterImportSummary:
    created: int
    updated: int
    unchanged: int
    encoding: Optional[str]


def import_roster(actor, estate: Estate, filename: str, data: bytes, *, max_rows: int = 20000) -> RosterImportSummary:
    """All or nothing: any invalid row means nothing is written. Upserts on building+unit+room."""
    _require_place_editor(actor, estate.street_id)
    parse = parse_roster(filename, data, max_rows=max_rows)
    if not parse.ok:
        raise RosterImportError(parse)
    existing = {
        (h.building, h.unit, h.room): h
        for h in db.session.scalars(select(Household).where(Household.estate_id == estate.id))
    }
    created = updated = unchanged = 0
    try:
        for row in parse.rows:
            household = existing.get(row.key)
            values: dict[str, Any] = {
                "area_m2": row.area_m2, "occupancy": row.occupancy, "owner_id_number": row.owner_id_number,
            }
            if household is None:
                db.session.add(Household(estate_id=estate.id, building=row.building, unit=row.unit,
                                         room=row.room, **values))
                created += 1
            elif any(getattr(household, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(household, k, v)
                updated += 1
            else:
                unchanged += 1
        db.session.flush()
        before_count = estate.household_count
        _sync_household_count(estate)
        record_event(actor, "roster.import", estate,
                     before={"household_count": before_count},
                     after={"household_count": estate.household_count},
                     note=f"{filename}: 新增 {created}，更新 {updated}，未变 {unchanged}")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return RosterImportSummary(created, updated, unchanged, parse.encoding)


def record_export(actor, estate: Estate, what: str, rows: int) -> None:
    record_event(actor, "export", estate, note=f"{what}: {rows} 行")
    db.session.commit()
