"""A street-bound key sees only its street's tickets, on every list, detail and update feed."""
import pytest

from portal.accounts.models import Role
from portal.core.time import utcnow
from portal.tickets import services
from portal.tickets.models import TicketStatus as S
from tests.api.builders import errors_of, json_of, make_api_key, xml_of, xml_rows
from tests.helpers import make_street, make_ticket, make_user


@pytest.fixture
def world(app):
    heping, xinhua = make_street("和平街道"), make_street("新华街道")
    mine = make_ticket("桂花苑楼道灯坏了", street=heping, status=S.received, number="HP-1", received_at=utcnow())
    theirs = make_ticket("新华里下水道堵了", street=xinhua, status=S.received, number="XH-1", received_at=utcnow())
    unplaced = make_ticket("没派单的", number="NEW-1", received_at=utcnow())
    operator = make_user(Role.operator)
    services.dispatch(operator, mine, heping.id, "请和平街道办理")
    services.dispatch(operator, theirs, xinhua.id, "请新华街道办理")
    return {"heping_key": make_api_key(heping)[1], "district_key": make_api_key()[1],
            "mine": mine, "theirs": theirs, "unplaced": unplaced}


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_lists(client, world, fmt):
    def numbers(key, path, **args):
        response = client.get(f"/api/v1/{path}.{fmt}", query_string={"api_key": key, **args})
        assert response.status_code == 200
        if fmt == "xml":
            item = "request_update" if path == "servicerequestupdates" else "request"
            return sorted(row["service_request_id"] for row in xml_rows(xml_of(response), item))
        return sorted(row["service_request_id"] for row in json_of(response))

    assert numbers(world["heping_key"], "requests") == ["HP-1"]
    assert numbers(world["district_key"], "requests") == ["HP-1", "NEW-1", "XH-1"]
    assert numbers(world["heping_key"], "requests", service_request_id="XH-1,HP-1,NEW-1") == ["HP-1"]
    assert numbers(world["heping_key"], "requests", service_code="parking", status="open") == ["HP-1"]
    assert numbers(world["heping_key"], "servicerequestupdates") == ["HP-1"]
    assert numbers(world["district_key"], "servicerequestupdates") == ["HP-1", "XH-1"]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_detail_of_another_street_is_404(client, world, fmt):
    key = world["heping_key"]
    assert client.get(f"/api/v1/requests/HP-1.{fmt}", headers={"X-API-Key": key}).status_code == 200
    for number in ("XH-1", "NEW-1"):
        response = client.get(f"/api/v1/requests/{number}.{fmt}", headers={"X-API-Key": key})
        assert response.status_code == 404
        assert errors_of(response, fmt) == [(404, f"工单 {number} 不存在。")]
        assert "下水道" not in response.get_data(as_text=True)
    assert client.get("/api/v1/requests/XH-1.json", headers={"X-API-Key": world["district_key"]}).status_code == 200
