"""Personal data never leaves through the API: caller names and phone numbers, in either format,
on every endpoint, even when they are written into the free text."""
import pytest

from portal.accounts.models import Role
from portal.core.time import utcnow
from portal.tickets import services
from portal.tickets.models import TicketStatus as S
from tests.api.builders import make_api_key
from tests.helpers import make_street, make_ticket, make_user

NAME, PHONE = "张伟", "13812345678"


@pytest.fixture
def ticket(app):
    street = make_street("和平街道")
    ticket = make_ticket(f"来电人{NAME}反映桂花苑3栋楼道灯坏了，联系电话{PHONE}", street=street, status=S.received,
                         caller_name=NAME, caller_phone=PHONE, number="HP-1", received_at=utcnow(),
                         address="和平路12号桂花苑3栋")
    operator, staff = make_user(Role.operator), make_user(Role.street_staff, street=street)
    services.dispatch(operator, ticket, street.id, f"请联系{NAME}（{PHONE}）")
    services.accept(staff, ticket)
    services.resolve(staff, ticket, f"已更换灯泡，已电话告知{NAME}，{PHONE}")
    return ticket


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize("path", ["requests", "requests/HP-1", "servicerequestupdates"])
def test_no_name_or_phone_in_any_response(client, ticket, fmt, path):
    for key in (make_api_key()[1], make_api_key(ticket.street)[1]):
        response = client.get(f"/api/v1/{path}.{fmt}", headers={"X-API-Key": key})
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert "HP-1" in body and "灯" in body  # the content is there ...
        assert PHONE not in body and NAME not in body  # ... the person is not
        assert "5678" in body  # masked (138****5678), not dropped
