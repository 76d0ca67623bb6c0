"""`flask demo`: a believable demo district, built through the same services staff use.

Idempotent: places and users are found by name before anything is created, and a roster is
imported only into an estate that has none yet.
"""
from __future__ import annotations

import csv
import io
import random
from decimal import Decimal

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from portal.accounts import services as accounts
from portal.accounts.models import Role, User
from portal.areas import services as areas
from portal.areas.models import Community, Estate, Household, Street
from portal.extensions import db

DISTRICT = "城南区"

# street → community → [(estate, aliases, address patterns, households, built year, lat, lon)]
PLACES = {
    "和平街道": {
        "桂花社区": [
            ("桂花苑", ["桂花小区", "桂花苑小区"], ["桂花路18号", "桂花路20-36号"], 248, 1994, "28.193210", "112.982410"),
            ("纺织厂宿舍", ["纺织宿舍", "老纺织厂家属院"], ["和平路101号", "和平路103号"], 96, 1982, "28.191020", "112.985830"),
        ],
        "向阳社区": [
            ("向阳新村", ["向阳村", "向阳新村小区"], ["向阳路5号", "向阳路7-15号"], 372, 1991, "28.188450", "112.979120"),
            ("电力公司宿舍", ["电业局宿舍", "供电宿舍"], ["五一路233号"], 64, 1987, "28.186770", "112.976540"),
        ],
        "东风社区": [
            ("东风里", ["东风里小区"], ["东风路66号", "东风路68号"], 180, 1989, "28.195880", "112.990310"),
            ("机械厂家属院", ["机械宿舍", "农机厂宿舍"], ["建湘路12号", "建湘路14-18号"], 132, 1985, "28.197240", "112.987950"),
        ],
    },
    "新华街道": {
        "新华里社区": [
            ("新华里小区", ["新华里", "新华小区"], ["新华路200号", "新华路202-220号"], 316, 1996, "28.201530", "112.968720"),
            ("邮电新村", ["邮电宿舍", "邮局宿舍"], ["解放西路88号"], 120, 1990, "28.203110", "112.965430"),
        ],
        "光明社区": [
            ("光明小区", ["光明苑"], ["光明巷1号", "光明巷3-9号"], 204, 1993, "28.206400", "112.971880"),
            ("粮食局宿舍", ["粮站宿舍", "粮食宿舍"], ["劳动路45号"], 72, 1981, "28.207910", "112.974210"),
        ],
        "建设社区": [
            ("建设新村", ["建设村", "建新小区"], ["建设路301号", "建设路303-315号"], 396, 1992, "28.210220", "112.962370"),
            ("师范学院老宿舍", ["师院宿舍", "师范老宿舍"], ["书院路9号"], 150, 1986, "28.212560", "112.959810"),
        ],
    },
}

DEMO_USERS = [
    # username, display name, role, street, password
    ("admin", "区住建局 李主任", Role.district_admin, None, "minsheng-admin"),
    ("operator", "12345 热线 王敏", Role.operator, None, "minsheng-operator"),
    ("heping", "和平街道 陈晓", Role.street_staff, "和平街道", "minsheng-heping"),
    ("xinhua", "新华街道 刘洋", Role.street_staff, "新华街道", "minsheng-xinhua"),
]

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"


def fake_id_number(rng: random.Random) -> str:
    """A well-formed but invented 18-digit resident ID (region 430103, a checksum that validates)."""
    body = "430103" + f"{rng.randint(1940, 1995)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}" + f"{rng.randint(0, 999):03d}"
    return body + ID_CHECK[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS)) % 11]


def roster_csv(household_total: int, built_year: int, rng: random.Random) -> bytes:
    """Walk-up blocks of 6 floors, 2 flats a landing; old estates have small, uneven flats."""
    units_per_building = 2 if household_total < 120 else 3
    per_unit = 12
    rows = []
    owners: list[str] = []
    base_area = 48 if built_year < 1988 else 62
    while len(rows) < household_total:
        index = len(rows)
        building = index // (units_per_building * per_unit) + 1
        unit = (index // per_unit) % units_per_building + 1
        floor = (index % per_unit) // 2 + 1
        flat = index % 2 + 1
        area = Decimal(base_area + rng.randint(-8, 30)) + Decimal(rng.randint(0, 99)) / 100
        if owners and rng.random() < 0.05:
            owner = rng.choice(owners)  # one owner, several flats
        else:
            owner = fake_id_number(rng) if rng.random() < 0.85 else ""
            if owner:
                owners.append(owner)
        occupancy = "租户" if rng.random() < 0.06 else "业主"
        rows.append([f"{building}号楼", f"{unit}单元", f"{floor}0{flat}", f"{area}", occupancy, owner])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["楼栋", "单元", "房号", "专有部分面积", "业主/租户", "业主证件号"])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _get_or_create_admin() -> User:
    username, name, role, _, password = DEMO_USERS[0]
    admin = db.session.scalar(select(User).where(User.username == username))
    return admin or accounts.create_user(None, username=username, password=password, role=role, display_name=name)


def build_demo() -> list[tuple[str, str, str, str]]:
    """Returns the demo logins (username, role label, street, password)."""
    admin = _get_or_create_admin()
    rng = random.Random(20261122)
    for street_name, communities in PLACES.items():
        street = db.session.scalar(select(Street).where(Street.name == street_name)) or areas.create_street(admin, street_name)
        for community_name, estates in communities.items():
            community = db.session.scalar(
                select(Community).where(Community.street_id == street.id, Community.name == community_name)
            ) or areas.create_community(admin, street.id, community_name)
            for name, aliases, patterns, households, built, lat, lon in estates:
                estate = db.session.scalar(
                    select(Estate).where(Estate.community_id == community.id, Estate.name == name))
                if estate is None:
                    estate = areas.create_estate(admin, areas.EstateInput(
                        name=name, community_id=community.id, aliases=aliases, address_patterns=patterns,
                        household_count=households, built_year=built, latitude=Decimal(lat), longitude=Decimal(lon)))
                data = roster_csv(households, built, rng)  # drawn every run so reruns stay deterministic
                has_roster = db.session.scalar(
                    select(func.count()).select_from(Household).where(Household.estate_id == estate.id))
                if not has_roster:
                    areas.import_roster(admin, estate, f"{name}-名册.csv", data)

    logins = []
    for username, name, role, street_name, password in DEMO_USERS:
        if db.session.scalar(select(User).where(User.username == username)) is None:
            street_id = db.session.scalar(select(Street.id).where(Street.name == street_name)) if street_name else None
            accounts.create_user(None, username=username, password=password, role=role,
                                 display_name=name, street_id=street_id)
        logins.append((username, role.label, street_name or "全区", password))
    return logins


@click.command("demo")
@with_appcontext
def demo_command():
    """Build the demo district (idempotent) and print the demo logins."""
    logins = build_demo()
    estates = db.session.scalar(select(func.count()).select_from(Estate))
    households = db.session.scalar(select(func.count()).select_from(Household))
    click.echo(f"demo district {DISTRICT}: {estates} estates, {households} households")
    click.echo("demo logins (username / role / street / password):")
    for username, role, street, password in logins:
        click.echo(f"  {username:10s} {role:10s} {street:6s} {password}")
