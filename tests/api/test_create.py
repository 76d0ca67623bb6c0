"""POST requests: validation of every field (both formats), then a ticket tagged, matched and led by
the caller's service code."""
import pytest
from sqlalchemy import select

from portal.api.services import lead_themes
from portal.audit.models import Event
from portal.extensions import db
from portal.tickets.models import Ticket, TicketStatus
from tests.api.builders import errors_of, json_of, make_api_key, xml_of, xml_rows
from tests.helpers import make_community, make_estate, make_street

VALID = {"service_code": "lighting", "description": "桂花苑3栋楼道灯坏了三个月，晚上上下楼很危险",
         "address_string": "和平路12号桂花苑3栋"}


@pytest.fixture
def key(app):
    return make_api_key()[1]


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize("change,message", [
    ({"service_code": None}, "缺少 service_code"),
    ({"service_code": "unicorns"}, "未知的 service_code：unicorns"),
    ({"description": None}, "缺少 description"),
    ({"description": "   "}, "缺少 description"),
    ({"description": "长" * 4001}, "description 过长"),
    ({"address_string": None}, "缺少位置"),
    ({"address_string": None, "lat": "39.9"}, "lat 与 long 必须同时提供"),
    ({"address_string": None, "lat": "north", "long": "116.4"}, "lat 必须是数字"),
    ({"address_string": None, "lat": "39.9", "long": "200"}, "long 超出范围"),
    ({"address_string": None, "lat": "nan", "long": "116.4"}, "lat 超出范围"),
    ({"phone": "1" * 33}, "phone 过长"),
])
def test_validation(client, key, fmt, change, message):
    data = {"api_key": key, **VALID, **change}
    response = client.post(f"/api/v1/requests.{fmt}", data={k: v for k, v in data.items() if v is not None})
    assert response.status_code == 400
    descriptions = [d for code, d in errors_of(response, fmt) if code == 400]
    assert any(message in d for d in descriptions), descriptions
    assert db.session.scalar(select(Ticket.id)) is None


def test_every_problem_is_reported_at_once(client, key):
    response = client.post("/api/v1/requests.json", data={"api_key": key})
    descriptions = [d for _, d in errors_of(response, "json")]
    assert len(descriptions) == 3 and all(descriptions)


def test_lead_themes():
    assert lead_themes("parking", ["property_mgmt", "parking"]) == ["parking", "property_mgmt"]
    assert lead_themes("parking", ["noise", "sanitation", "pollution"]) == ["parking", "noise", "sanitation"]
    assert lead_themes("parking", ["other"]) == ["parking"]
    assert lead_themes("other", ["parking", "noise"]) == ["other"]


@pytest.mark.tagging
def test_create_xml(client):
    street = make_street("和平街道")
    estate = make_estate(make_community(street), "桂花苑", address_patterns=["和平路12号"])
    key, raw = make_api_key()
    response = client.post("/api/v1/requests.xml", data={
        "api_key": raw, **VALID, "first_name": "伟", "last_name": "张", "phone": "13812345678",
        "email": "zw@example.com", "account_id": "A-42", "lat": "39.9", "long": "116.4", "jurisdiction_id": "x"})
    assert response.status_code == 200, response.data.decode()
    root = xml_of(response)
    assert root.tag == "service_requests"
    [row] = xml_rows(root, "request")
    assert list(row) == ["service_request_id", "service_notice", "account_id"]
    assert row["account_id"] == "A-42" and row["service_notice"]
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == row["service_request_id"]))
    assert ticket.source == "open311" and ticket.status == TicketStatus.received
    assert ticket.caller_name == "张伟" and ticket.caller_phone == "13812345678"
    assert ticket.estate_id == estate.id and not ticket.needs_placement  # matched at once
    assert ticket.themes[0] == "lighting" and 1 <= len(ticket.themes) <= 3
    assert [r.theme for r in ticket.theme_rows] == ticket.themes
    assert (ticket.latitude, ticket.longitude) == (39.9, 116.4)
    actions = db.session.scalars(select(Event.action).order_by(Event.id)).all()
    assert actions[0] == "ticket.create" and "api_key.request" in actions
    use = db.session.scalar(select(Event).where(Event.action == "api_key.request"))
    assert use.object_id == str(key.id) and use.after["ticket"] == ticket.number and use.actor_id is None


@pytest.mark.tagging
def test_create_json_puts_the_service_code_first(client):
    _, raw = make_api_key()
    response = client.post("/api/v1/requests.json", headers={"X-API-Key": raw}, data={
        "service_code": "property_mgmt", "description": "小区停车难，车位太少，晚上只能停在消防通道上",
        "lat": "39.9", "long": "116.4"})
    assert response.status_code == 200, response.data.decode()
    [row] = json_of(response)
    assert row["account_id"] is None
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == row["service_request_id"]))
    assert ticket.themes[0] == "property_mgmt" and len(ticket.themes) <= 3 and "other" not in ticket.themes
    assert ticket.needs_placement  # no address: a person places it
    event = db.session.scalar(select(Event).where(Event.action == "ticket.tags.open311"))
    assert event.after["themes"] == ticket.themes and event.before["themes"] != ticket.themes
    detail = json_of(client.get(f"/api/v1/requests/{ticket.number}.json", headers={"X-API-Key": raw}))
    assert detail[0]["service_code"] == "property_mgmt" and detail[0]["status"] == "open"


@pytest.mark.tagging
def test_create_other_stays_alone(client):
    _, raw = make_api_key()
    response = client.post("/api/v1/requests.json", data={
        "api_key": raw, "service_code": "other", "description": "小区停车难，物业乱收费", "address_string": "某路1号"})
    [row] = json_of(response)
    assert db.session.scalar(select(Ticket.themes).where(Ticket.number == row["service_request_id"])) == ["other"]
