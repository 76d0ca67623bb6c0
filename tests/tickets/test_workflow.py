"""The 接诉即办 workflow: every transition, every forbidden one, events, due dates, scoping."""
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from portal.accounts.models import Role
from portal.audit.models import Event
from portal.core.errors import ServiceError
from portal.core.time import utcnow
from portal.core.workdays import to_local
from portal.extensions import db
from portal.tickets import services
from portal.tickets.models import Ticket, TicketStatus as S
from tests.helpers import make_street, make_ticket, make_user


@pytest.fixture
def people(app):
    street, other_street = make_street("和平街道"), make_street("新华街道")
    return {
        "operator": make_user(Role.operator),
        "staff": make_user(Role.street_staff, street=street),
        "other_staff": make_user(Role.street_staff, street=other_street),
        "admin": make_user(Role.district_admin),
        "street": street,
        "other_street": other_street,
    }


def events_of(ticket):
    return db.session.scalars(select(Event).where(Event.object_type == "tickets", Event.object_id == str(ticket.id))
                              .order_by(Event.id)).all()


def test_full_lifecycle_records_every_step(people):
    ticket = make_ticket()
    services.dispatch(people["operator"], ticket, people["street"].id, "请尽快处理")
    assert ticket.status == S.dispatched and ticket.street_id == people["street"].id and ticket.due_at
    services.accept(people["staff"], ticket)
    assert ticket.status == S.in_progress and ticket.responded_in_time is True
    services.resolve(people["staff"], ticket, "已协调物业划定临时车位")
    assert ticket.status == S.resolved and ticket.resolved_at
    services.record_callback(people["operator"], ticket, "基本满意", "居民认可")
    assert ticket.status == S.callback and ticket.satisfaction == "基本满意"
    steps = [(e.action, e.before["status"], e.after["status"]) for e in events_of(ticket)]
    assert steps == [
        ("ticket.dispatch", "received", "dispatched"),
        ("ticket.accept", "dispatched", "in_progress"),
        ("ticket.resolve", "in_progress", "resolved"),
        ("ticket.callback", "resolved", "callback"),
    ]
    assert events_of(ticket)[0].note == "请尽快处理" and events_of(ticket)[0].actor_id == people["operator"].id


def test_return_needs_a_reason_then_redispatch(people):
    ticket = make_ticket()
    services.dispatch(people["operator"], ticket, people["street"].id)
    with pytest.raises(ServiceError, match="退单必须写明理由"):
        services.return_ticket(people["staff"], ticket, "  ")
    assert ticket.status == S.dispatched
    services.return_ticket(people["staff"], ticket, "该地址属新华街道辖区")
    assert ticket.status == S.returned and ticket.return_reason == "该地址属新华街道辖区"
    services.dispatch(people["operator"], ticket, people["other_street"].id)
    assert ticket.status == S.dispatched and ticket.street_id == people["other_street"].id
    assert [e.action for e in events_of(ticket)] == ["ticket.dispatch", "ticket.return", "ticket.dispatch"]


def test_merge_into_another_ticket(people):
    first, duplicate = make_ticket(), make_ticket()
    services.merge(people["operator"], duplicate, first)
    assert duplicate.status == S.merged and duplicate.merged_into_id == first.id
    with pytest.raises(ServiceError, match="已被并单"):
        services.merge(people["operator"], make_ticket(), duplicate)
    with pytest.raises(ServiceError, match="不能与自身并单"):
        services.merge(people["operator"], first, first)


ALL_ACTIONS = {
    "dispatch": lambda p, t: services.dispatch(p["operator"], t, p["street"].id),
    "accept": lambda p, t: services.accept(p["staff"], t),
    "return": lambda p, t: services.return_ticket(p["staff"], t, "不属于本街道"),
    "resolve": lambda p, t: services.resolve(p["staff"], t, "已处理"),
    "callback": lambda p, t: services.record_callback(p["operator"], t, "满意"),
    "merge": lambda p, t: services.merge(p["operator"], t, make_ticket()),
}
ALLOWED_FROM = {name: sources for name, (sources, _, _, _) in services.TRANSITIONS.items()}


FORBIDDEN = [(a, s) for a in ALL_ACTIONS for s in S if s not in ALLOWED_FROM[a]]
ALLOWED = [(a, s) for a in ALL_ACTIONS for s in S if s in ALLOWED_FROM[a]]


@pytest.mark.parametrize("action,status", FORBIDDEN, ids=[f"{a}-from-{s.value}" for a, s in FORBIDDEN])
def test_forbidden_transitions_are_refused_with_a_message(people, action, status):
    ticket = make_ticket(status=status, street=people["street"])
    with pytest.raises(ServiceError) as refusal:
        ALL_ACTIONS[action](people, ticket)
    assert f"工单当前状态为「{status.label}」，不能" in refusal.value.message
    db.session.refresh(ticket)
    assert ticket.status == status and events_of(ticket) == []


@pytest.mark.parametrize("action,status", ALLOWED, ids=[f"{a}-from-{s.value}" for a, s in ALLOWED])
def test_allowed_transitions_from_each_state(people, action, status):
    ticket = make_ticket(status=status, street=people["street"], dispatched_at=utcnow())
    ALL_ACTIONS[action](people, ticket)
    assert ticket.status == services.TRANSITIONS[action][1]


def test_roles_and_streets(people):
    ticket = make_ticket()
    with pytest.raises(Forbidden):
        services.dispatch(people["staff"], ticket, people["street"].id)  # only operators dispatch
    services.dispatch(people["operator"], ticket, people["street"].id)
    with pytest.raises(Forbidden):
        services.accept(people["other_staff"], ticket)  # another street's staff
    with pytest.raises(Forbidden):
        services.accept(people["operator"], ticket)  # operators do not handle
    services.accept(people["admin"], ticket)
    assert ticket.status == S.in_progress


def test_due_dates(people, app):
    normal, urgent = make_ticket(), make_ticket(urgent=True)
    services.dispatch(people["operator"], normal, people["street"].id)
    services.dispatch(people["operator"], urgent, people["street"].id)
    assert urgent.due_at - urgent.dispatched_at == timedelta(hours=24)
    local_due, local_start = to_local(normal.due_at), to_local(normal.dispatched_at)
    assert local_due.time() == local_start.time()
    assert local_due.weekday() < 5 and 5 <= (local_due.date() - local_start.date()).days <= 9


def test_overdue_flag(people):
    late = make_ticket(status=S.dispatched, street=people["street"], due_at=utcnow() - timedelta(hours=1))
    on_time = make_ticket(status=S.dispatched, street=people["street"], due_at=utcnow() + timedelta(hours=1))
    done = make_ticket(status=S.resolved, street=people["street"], due_at=utcnow() - timedelta(days=3))
    assert late.is_overdue() and not on_time.is_overdue() and not done.is_overdue()


def test_late_acceptance_does_not_count_as_response(people):
    ticket = make_ticket(status=S.dispatched, street=people["street"], dispatched_at=utcnow() - timedelta(hours=30))
    services.accept(people["staff"], ticket)
    assert ticket.responded_in_time is False


def test_tag_correction_is_logged_with_before_and_after(people):
    ticket = make_ticket(themes=("parking",), needs_review=True)
    services.confirm_tags(people["operator"], ticket, ["ev_charging", "fire_safety"], True)
    assert ticket.themes == ["ev_charging", "fire_safety"] and ticket.urgent and not ticket.needs_review
    assert [r.theme for r in db.session.get(Ticket, ticket.id).theme_rows] == ["ev_charging", "fire_safety"]
    event = events_of(ticket)[-1]
    assert event.action == "ticket.tags.correct"
    assert event.before["themes"] == ["parking"] and event.after["themes"] == ["ev_charging", "fire_safety"]
    with pytest.raises(ServiceError, match="只能单独使用"):
        services.confirm_tags(people["operator"], ticket, ["other", "parking"], False)
    with pytest.raises(ServiceError, match="1 到 3 个主题"):
        services.confirm_tags(people["operator"], ticket, [], False)
    with pytest.raises(ServiceError, match="未知主题"):
        services.confirm_tags(people["operator"], ticket, ["flying_cars"], False)
