"""Tickets become demand signals: one per theme once placed; corrections, placement and merges follow."""
import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.demand.models import DemandSignal, SignalSource
from portal.extensions import db
from portal.tickets import services
from portal.tickets.models import TicketStatus as S
from tests.helpers import make_community, make_estate, make_street, make_ticket, make_user


@pytest.fixture
def setting(app):
    street = make_street("和平街道")
    estate = make_estate(make_community(street), "桂花苑")
    return {"estate": estate, "street": street, "operator": make_user(Role.operator)}


def signals():
    return [(s.source, s.estate_id, s.street_id, s.theme, s.urgent)
            for s in db.session.scalars(select(DemandSignal).order_by(DemandSignal.theme))]


def test_placing_a_ticket_creates_its_signals(setting):
    ticket = make_ticket("飞线充电", themes=("ev_charging", "fire_safety"), urgent=True, needs_placement=True,
                         caller_phone="13812345678")
    services.sync_signals(ticket)
    assert signals() == []  # not placed yet: no estate to count it for
    services.place(setting["operator"], ticket, setting["estate"].id)
    estate, street = setting["estate"].id, setting["street"].id
    assert signals() == [(SignalSource.hotline, estate, street, "ev_charging", True),
                         (SignalSource.hotline, estate, street, "fire_safety", True)]
    key = db.session.scalar(select(DemandSignal.reporter_key))
    assert "13812345678" not in key and key.startswith("phone:")


def test_correction_replaces_signals(setting):
    ticket = make_ticket(themes=("parking",), estate=setting["estate"])
    services.sync_signals(ticket)
    services.confirm_tags(setting["operator"], ticket, ["drainage"], False)
    assert [s[3] for s in signals()] == ["drainage"]


def test_merged_duplicate_stops_counting(setting):
    first = make_ticket(estate=setting["estate"])
    duplicate = make_ticket(estate=setting["estate"])
    services.sync_signals(first)
    services.sync_signals(duplicate)
    assert len(signals()) == 2
    services.merge(setting["operator"], duplicate, first)
    assert len(signals()) == 1
    assert duplicate.status == S.merged
