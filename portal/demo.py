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


# Hotline summaries for the demo's tickets, written for the demo (not training data): "{where}" is
# filled with an estate's name, alias or address.
DEMO_COMPLAINTS = [
    ("来电人反映{where}3栋楼道灯坏了半个多月，晚上老人上下楼只能摸黑，希望尽快修好。", "投诉"),
    ("来电人称{where}小区内车位严重不足，晚上车辆停满消防通道，多次找物业未解决。", "投诉"),
    ("市民反映{where}5栋一楼下水道堵塞，污水从地漏往外冒，家里已经进水。", "求助"),
    ("来电人反映{where}楼道里有人用插线板给电动车充电，电线从窗户拉下来，存在火灾隐患。", "举报"),
    ("来电人咨询{where}加装电梯的申请流程，家中老人住六楼，上下楼困难。", "咨询"),
    ("来电反映{where}高层水压不足，早晚用水高峰时七楼以上基本没水。", "投诉"),
    ("来电人称{where}垃圾站三天没有清运，垃圾堆到路边，气味很大。", "投诉"),
    ("来电人反映{where}门口烧烤摊每晚营业到凌晨，油烟和噪音严重扰民。", "投诉"),
    ("来电人反映{where}2栋顶楼屋面漏水，下雨时家中天花板滴水，墙皮脱落。", "求助"),
    ("来电人举报{where}一楼住户私自扩建院子，占用了公共绿地和通道。", "举报"),
    ("来电人反映{where}老旧小区改造施工半年未完工，路面挖开后无人管理，出行不便。", "投诉"),
    ("来电人称{where}暖气片不热，室温只有十三四度，家中有婴儿和老人。", "投诉"),
    ("来电人反映{where}单元门禁损坏，外来人员随意进出，最近有电动车电瓶被盗。", "投诉"),
    ("来电人建议在{where}增设老年食堂，独居老人吃饭不方便。", "建议"),
    ("来电人反映{where}儿童滑梯生锈松动，存在安全隐患，希望更换。", "投诉"),
    ("来电人反映{where}物业费上涨但服务越来越差，保洁一周才来一次。", "投诉"),
    ("来电人称在{where}楼道闻到很浓的燃气味，怀疑管道漏气，请求尽快派人查看。", "求助"),
    ("来电人反映{where}小区主干道坑洼不平，雨天积水，老人容易摔倒。", "投诉"),
    ("来电人反映{where}电线杆上的线路杂乱下垂，像蜘蛛网一样，担心漏电。", "投诉"),
    ("来电人咨询孩子明年上小学的学区划分，户籍在{where}。", "咨询"),
    # vague ones, as real calls often are: the model is unsure and they land in the review queue
    ("来电人反映{where}的问题反映好几次了一直没人管，希望领导重视。", "投诉"),
    ("来电人称{where}那边的情况很糟糕，要求相关部门过来看看。", "投诉"),
]


def build_demo_tickets(actor, rng: random.Random, count: int = 160) -> None:
    """About half a year of hotline tickets through the real importer (idempotent on 工单编号), with a burst
    of parking complaints at one estate in the last week so the dashboard shows a hot spot."""
    from datetime import datetime, timedelta

    from portal.tickets.importer import ImportFailed, import_tickets

    estates = db.session.scalars(select(Estate).order_by(Estate.id)).all()
    if not estates:
        return
    now = datetime.now().replace(microsecond=0)
    rows = [["工单编号", "受理时间", "来电人", "联系电话", "诉求地址", "诉求内容", "诉求类型", "办理状态"]]
    for i in range(count):
        burst = i >= count - 12
        estate = estates[0] if burst else rng.choice(estates)
        text, kind = DEMO_COMPLAINTS[1] if burst else rng.choice(DEMO_COMPLAINTS)
        where = rng.choice([estate.name, *(estate.aliases or [])])
        received = now - timedelta(minutes=rng.randint(60, 6 * 24 * 60) if burst else rng.randint(60, 180 * 24 * 60))
        status = "已受理" if received > now - timedelta(days=3) else rng.choice(["已派单", "办理中", "已办结", "已办结"])
        rows.append([f"DEMO{i + 1:05d}", received.strftime("%Y/%m/%d %H:%M:%S"), rng.choice("王李张刘陈杨赵黄") + "女士",
                     f"13{rng.randint(100000000, 999999999)}", rng.choice(estate.address_patterns or [estate.name]),
                     text.format(where=where), kind, status])
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    try:
        import_tickets(actor, "演示工单.csv", out.getvalue().encode("utf-8"))
    except ImportFailed as exc:  # the demo must still come up: say why there are no tickets
        click.echo(f"demo tickets not imported: {exc}")


# (name, estates, themes, category, cost 万元, households or None for all, status, days since start, days since completion)
DEMO_PROJECTS = [
    ("桂花苑停车与消防通道整治", ["桂花苑"], ["parking", "fire_safety"], "improve", "85", None, "approved", None, None),
    ("和平片区供水排水燃气管网改造", ["纺织厂宿舍", "电力公司宿舍"], ["water_supply", "drainage", "gas"], "basic",
     "420", None, "proposed", None, None),
    ("向阳新村加装电梯（一期）", ["向阳新村"], ["elevator", "accessibility"], "improve", "360", 96, "in_progress", 60, None),
    ("东风里屋面防水与外墙修缮", ["东风里"], ["building_safety"], "basic", "150", None, "completed", 330, 160),
    ("新华里小区雨污分流改造", ["新华里小区"], ["drainage"], "basic", "260.5", None, "approved", None, None),
    ("光明小区老年助餐点", ["光明小区"], ["elderly_care"], "enhance", "45", 120, "proposed", None, None),
    ("建设新村电动车充电棚", ["建设新村"], ["ev_charging", "fire_safety"], "improve", "38.6", None, "proposed", None, None),
    ("邮电新村路灯和楼道灯改造", ["邮电新村"], ["lighting"], "basic", "18", None, "in_progress", 20, None),
]


def build_demo_projects(admin) -> None:
    """The project library through the same services staff use, each created by its street's staff.
    Idempotent: a project whose name its street already has is left as it is."""
    from datetime import timedelta

    from portal.projects import services as projects
    from portal.projects.models import Project, ProjectStatus

    today = projects.local_today()
    for name, estate_names, themes, category, cost, households, status, started, completed in DEMO_PROJECTS:
        estates = db.session.scalars(select(Estate).where(Estate.name.in_(estate_names)).order_by(Estate.id)).all()
        if len(estates) != len(estate_names):
            continue
        street_id = estates[0].street_id
        if db.session.scalar(select(Project.id).where(Project.street_id == street_id, Project.name == name)):
            continue
        actor = db.session.scalar(select(User).where(User.role == Role.street_staff, User.street_id == street_id)
                                  .order_by(User.id)) or admin
        surveys = projects.consent_surveys_for(actor, street_id)
        survey = next((s for s in surveys if set(s.estate_ids) & {e.id for e in estates}), None)
        project = projects.create_project(actor, projects.ProjectInput(
            name=name, estate_ids=[e.id for e in estates], themes=themes, category=category, cost_wan=cost,
            households_covered=households if households is not None else sum(e.household_count for e in estates),
            description="演示项目", consent_survey_id=survey.id if survey else None))
        if status != "proposed":
            projects.change_status(actor, project, ProjectStatus.approved)
        if started is not None:
            projects.change_status(actor, project, ProjectStatus.in_progress, on_date=today - timedelta(days=started))
        if completed is not None:
            projects.change_status(actor, project, ProjectStatus.completed, on_date=today - timedelta(days=completed))


@click.command("demo")
@with_appcontext
def demo_command():
    """Build the demo district (idempotent) and print the demo logins."""
    logins = build_demo()
    build_demo_tickets(_get_or_create_admin(), random.Random(20261201))
    build_demo_projects(_get_or_create_admin())
    estates = db.session.scalar(select(func.count()).select_from(Estate))
    households = db.session.scalar(select(func.count()).select_from(Household))
    from portal.tickets.models import Ticket

    from portal.projects.models import Project

    tickets = db.session.scalar(select(func.count()).select_from(Ticket))
    projects = db.session.scalar(select(func.count()).select_from(Project))
    click.echo(f"demo district {DISTRICT}: {estates} estates, {households} households, {tickets} hotline tickets, "
               f"{projects} projects")
    click.echo("demo logins (username / role / street / password):")
    for username, role, street, password in logins:
        click.echo(f"  {username:10s} {role:10s} {street:6s} {password}")
