"""`flask demo` builds a believable district and can run twice."""
import pytest
from collections import Counter

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.areas.models import Community, Estate, Household, Occupancy, Street
from portal.extensions import db
from portal.tickets.models import Ticket

pytestmark = pytest.mark.tagging


def counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Street, Community, Estate, Household, User, Ticket))


def test_demo_is_believable_and_idempotent(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    for username, password in [("admin", "minsheng-admin"), ("operator", "minsheng-operator"),
                               ("heping", "minsheng-heping"), ("xinhua", "minsheng-xinhua")]:
        assert username in result.output and password in result.output
        assert db.session.scalar(select(User).where(User.username == username)).check_password(password)

    first = counts()
    assert first[:3] == (2, 6, 12)
    for estate in db.session.scalars(select(Estate)):
        size = db.session.scalar(select(func.count()).where(Household.estate_id == estate.id))
        assert 60 <= size <= 400 and estate.household_count == size
        assert estate.aliases and estate.address_patterns
    tenants = db.session.scalar(select(func.count()).where(Household.occupancy == Occupancy.tenant))
    assert 0 < tenants < first[3] * 0.15
    owners = Counter(db.session.scalars(select(Household.owner_id_number).where(Household.owner_id_number.is_not(None))))
    assert sum(1 for n in owners.values() if n > 1) >= 5, "some owners hold several flats"
    areas = [float(a) for a in db.session.scalars(select(Household.area_m2))]
    assert 35 < min(areas) and max(areas) < 130

    tickets = db.session.scalars(select(Ticket)).all()
    assert first[5] == len(tickets) == 160
    assert sum(not t.needs_placement for t in tickets) >= 150, "demo addresses are matched to their estates"
    assert len({t.estate_id for t in tickets}) == 12 and any(t.urgent for t in tickets)

    assert runner.invoke(args=["demo"]).exit_code == 0
    assert counts() == first
