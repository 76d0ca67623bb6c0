"""并单建议 on the ticket page: near-identical open tickets about the same place, recent, within scope, and
never a compare against the whole district."""
from datetime import timedelta

import pytest

from portal.accounts.models import Role
from portal.core.time import utcnow
from portal.tickets import services
from portal.tickets.models import TicketStatus
from tests.helpers import login, make_community, make_estate, make_street, make_ticket, make_user

LEAK = "幸福里小区3号楼下水道堵了，污水漫到单元门口，请尽快疏通"
LEAK_AGAIN = "幸福里小区3号楼的下水道又堵了，污水都漫到单元门口了，请尽快疏通"


@pytest.fixture
def place(app):
    heping, xinhua = make_street("和平街道"), make_street("新华街道")
    return {"heping": heping, "xinhua": xinhua,
            "xingfu": make_estate(make_community(heping), "幸福里"),
            "guihua": make_estate(make_community(heping), "桂花苑"),
            "xinhuali": make_estate(make_community(xinhua), "新华里")}


def similar_section(client, ticket) -> str:
    html = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    return html.split("可能重复的工单")[1].split("</section>")[0] if "可能重复的工单" in html else ""


def test_same_estate_or_unplaced_open_recent_tickets_are_suggested(client, place):
    ticket = make_ticket(LEAK, estate=place["xingfu"], street=place["heping"], themes=("drainage",))
    same = make_ticket(LEAK_AGAIN, estate=place["xingfu"], street=place["heping"], number="SAME-ESTATE")
    unplaced = make_ticket(LEAK_AGAIN, number="NOT-PLACED", themes=("drainage",))
    make_ticket(LEAK_AGAIN, estate=place["guihua"], street=place["heping"], number="OTHER-ESTATE")
    make_ticket(LEAK_AGAIN, estate=place["xingfu"], street=place["heping"], number="ALREADY-DONE",
                status=TicketStatus.resolved)
    make_ticket(LEAK_AGAIN, estate=place["xingfu"], street=place["heping"], number="LAST-SPRING",
                received_at=utcnow() - timedelta(days=120))
    make_ticket("小区广场舞噪音太大", estate=place["xingfu"], street=place["heping"], number="NOISE")
    login(client, make_user(Role.operator))
    section = similar_section(client, ticket)
    assert same.number in section and unplaced.number in section
    for absent in ("OTHER-ESTATE", "ALREADY-DONE", "LAST-SPRING", "NOISE", ticket.number):
        assert absent not in section, absent
    # the unplaced one, seen from its own page: it has no estate or street, so open tickets sharing a theme
    # (the others here are tagged parking)
    section = similar_section(client, unplaced)
    assert ticket.number in section and same.number not in section


def test_street_staff_are_not_shown_another_streets_ticket(client, place):
    ticket = make_ticket(LEAK, street=place["heping"], themes=("drainage",))
    make_ticket(LEAK_AGAIN, street=place["heping"], number="OURS", themes=("drainage",))
    make_ticket(LEAK_AGAIN, street=place["xinhua"], estate=place["xinhuali"], number="THEIRS", themes=("drainage",))
    login(client, make_user(Role.street_staff, street=place["heping"]))
    section = similar_section(client, ticket)
    assert "OURS" in section and "THEIRS" not in section


def test_only_the_most_recent_candidates_are_compared(place, monkeypatch):
    ticket = make_ticket(LEAK, estate=place["xingfu"], street=place["heping"])
    for days, number in ((1, "NEWEST"), (2, "NEWER"), (3, "OLDER")):
        make_ticket(LEAK_AGAIN, estate=place["xingfu"], street=place["heping"], number=number,
                    received_at=utcnow() - timedelta(days=days))
    numbers = {t_id for t_id, _ in services.duplicate_candidates(ticket, cap=2)}
    assert len(numbers) == 2
    from portal.tickets.models import Ticket
    from portal.extensions import db

    assert {db.session.get(Ticket, i).number for i in numbers} == {"NEWEST", "NEWER"}
