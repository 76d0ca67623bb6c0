"""Small builders for test data (in the style of CTFd's tests/helpers.py)."""
from __future__ import annotations

import csv
import io
import itertools
import re
from decimal import Decimal
from typing import Iterable, Optional

from portal.accounts.models import Role, User
from portal.areas.models import Community, Estate, Household, Occupancy, Street
from portal.extensions import db

PASSWORD = "correct-horse-9"
_sequence = itertools.count(1)


def _n() -> int:
    return next(_sequence)


def make_street(name: Optional[str] = None) -> Street:
    street = Street(name=name or f"测试街道{_n()}")
    db.session.add(street)
    db.session.commit()
    return street


def make_community(street: Optional[Street] = None, name: Optional[str] = None) -> Community:
    street = street or make_street()
    community = Community(street_id=street.id, name=name or f"测试社区{_n()}")
    db.session.add(community)
    db.session.commit()
    return community


def make_estate(community: Optional[Community] = None, name: Optional[str] = None, **fields) -> Estate:
    community = community or make_community()
    estate = Estate(community_id=community.id, street_id=community.street_id, name=name or f"测试小区{_n()}",
                    aliases=fields.pop("aliases", []), address_patterns=fields.pop("address_patterns", []),
                    **fields)
    db.session.add(estate)
    db.session.commit()
    return estate


def make_household(estate: Estate, building="1", unit="1", room=None, area="80.00",
                   occupancy=Occupancy.owner, owner_id_number=None) -> Household:
    household = Household(estate_id=estate.id, building=building, unit=unit, room=room or str(100 + _n()),
                          area_m2=Decimal(area), occupancy=occupancy, owner_id_number=owner_id_number)
    db.session.add(household)
    db.session.commit()
    return household


def make_user(role: Role = Role.district_admin, street: Optional[Street] = None,
              username: Optional[str] = None, password: str = PASSWORD, active: bool = True) -> User:
    if role == Role.street_staff and street is None:
        street = make_street()
    user = User(username=username or f"user{_n()}", display_name="测试用户", role=role,
                street_id=street.id if role == Role.street_staff else None, active=active)
    user.set_password(password, method="pbkdf2:sha256:1000")  # fast for tests; real accounts use scrypt
    db.session.add(user)
    db.session.commit()
    return user


def make_ticket(content="小区停车难，车位太少", *, estate: Optional[Estate] = None, street: Optional[Street] = None,
                status=None, themes=("parking",), urgent=False, number=None, **fields):
    """A ticket written directly (no tagging): for tests of workflow, scoping and counts."""
    from portal.tickets.models import Ticket, TicketStatus, TicketTheme

    ticket = Ticket(number=number or f"T{_n():06d}", content=content, status=status or TicketStatus.received,
                    estate_id=estate.id if estate else None,
                    street_id=street.id if street else fields.pop("street_id", None),
                    themes=list(themes), urgent=urgent, **fields)
    ticket.theme_rows = [TicketTheme(theme=code, rank=i) for i, code in enumerate(themes)]
    db.session.add(ticket)
    db.session.commit()
    return ticket


def login(client, user: User, password: str = PASSWORD):
    return client.post("/login", data={"username": user.username, "password": password})


def csv_bytes(rows: Iterable[Iterable], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: Iterable[Iterable]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in page"
    return match.group(1)
