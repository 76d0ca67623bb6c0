"""A small but realistic district for backup tests, and a full dump of every table's rows."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import inspect, select, text

from portal.accounts import services as accounts
from portal.accounts.models import Role
from portal.areas.models import Occupancy
from portal.extensions import db
from portal.minutes import services as minutes
from portal.surveys import services as surveys
from portal.surveys.models import QuestionKind
from portal.surveys.services import AnswerInput
from portal.tickets import services as tickets
from tests.helpers import make_community, make_estate, make_household, make_street, make_ticket, make_user
from tests.projects.builders import add_signals, make_project
from tests.review.builders import make_point, make_suggestion
from tests.surveys.builders import give_code, make_survey, question


def build_district() -> dict:
    """Two streets with estates, rosters, users, tickets in several states (with their events),
    a survey with answers (one replaced), minutes with an action, a suggestion, projects and signals.
    Tagging must be faked by the caller (monkeypatch portal.core.tagging.tag_texts)."""
    heping, xinhua = make_street("和平街道"), make_street("新华街道")
    guihua = make_estate(make_community(heping, "桂花社区"), "桂花苑", aliases=["桂花小区"],
                         address_patterns=["和平路12号"], household_count=4)
    mingzhu = make_estate(make_community(xinhua, "明珠社区"), "明珠花园", household_count=2)
    households = [
        make_household(guihua, "3", "2", "301", area="86.50", owner_id_number="110101195001011234"),
        make_household(guihua, "3", "2", "302", area="72.30", owner_id_number="110101196502023456"),
        make_household(guihua, "5", "1", "501", area="60.00", occupancy=Occupancy.tenant),
        make_household(mingzhu, "1", "1", "101", area="95.25", owner_id_number="11010119700303789X"),
    ]
    give_code(households[0], "123456")
    admin = make_user(Role.district_admin, username="admin")
    operator = make_user(Role.operator, username="operator")
    staff = make_user(Role.street_staff, street=heping, username="heping")
    accounts.authenticate("heping", "wrong-password", "127.0.0.1")  # a failed login in the event log

    t1 = make_ticket("楼道漏水严重，来电人张伟13812345678", estate=guihua, themes=("building_safety",), urgent=True,
                     caller_name="张伟", caller_phone="13812345678", address="和平路12号3栋")
    t2 = make_ticket("小区停车难", estate=mingzhu, themes=("parking",), caller_name="李娜", caller_phone="13900001111")
    make_ticket("路灯不亮", themes=("lighting",), needs_placement=True)
    tickets.dispatch(operator, t1, heping.id, note="请尽快处理")
    tickets.accept(staff, t1)
    tickets.resolve(staff, t1, "已修复屋面防水")
    tickets.dispatch(operator, t2, xinhua.id)

    survey = make_survey([guihua])
    consent, items = question(survey, QuestionKind.consent), question(survey, QuestionKind.multiple)
    free = question(survey, QuestionKind.text)
    surveys.submit_response(None, survey, households[0], {consent.id: AnswerInput(consent.id, [0]),
                                                          items.id: AnswerInput(items.id, [1, 2]),
                                                          free.id: AnswerInput(free.id, text="停车太难")})
    surveys.submit_response(None, survey, households[0], {consent.id: AnswerInput(consent.id, [1])})  # replaced
    surveys.submit_response(None, survey, households[1], {consent.id: AnswerInput(consent.id, [0])})

    point = make_point(guihua, "5号楼居民：电梯经常坏")
    minutes.add_action(admin, point.meeting, "联系电梯维保单位", "社区居委会", date.today() + timedelta(days=7))
    make_suggestion(mingzhu, "门口的垃圾桶太少")

    make_project([guihua], ("building_safety", "drainage"), cost_wan="120.5")
    make_project([guihua, mingzhu], ("parking",), name="片区停车改造", cost_wan="300")
    add_signals(guihua, "drainage", [3, 40, 200], as_of=date.today(), urgent=True)
    db.session.commit()
    # Ids, not objects: a restore closes the session the objects belong to.
    return {"estate_id": guihua.id, "household_ids": [h.id for h in households], "admin_id": admin.id,
            "area": Decimal("86.50")}


def all_rows() -> dict[str, list[tuple]]:
    """Every row of every table (alembic_version too), in primary-key order: two databases with equal
    results hold exactly the same records."""
    db.session.remove()
    result = {}
    with db.engine.connect() as conn:
        inspector = inspect(conn)
        for name in sorted(inspector.get_table_names()):
            columns = [c["name"] for c in inspector.get_columns(name)]
            order = inspector.get_pk_constraint(name).get("constrained_columns") or columns
            quoted = ", ".join(f'"{c}"' for c in columns)
            rows = conn.execute(text(f'SELECT {quoted} FROM "{name}" ORDER BY '
                                     + ", ".join(f'"{c}"' for c in order))).all()
            result[name] = [tuple(row) for row in rows]
    return result
