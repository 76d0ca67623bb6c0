"""servicerequestupdates: status changes from the event log, in FixMyStreet's update format."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.audit.models import Event
from portal.core.time import utcnow
from portal.extensions import db
from portal.tickets import services
from tests.api.builders import json_of, make_api_key, xml_of, xml_rows
from tests.api.test_documents import W3C_LOCAL
from tests.helpers import make_street, make_ticket, make_user

UPDATE_FIELDS = ["update_id", "service_request_id", "status", "updated_datetime", "description", "media_url"]


@pytest.fixture
def history(app):
    street = make_street("和平街道")
    operator, staff = make_user(Role.operator), make_user(Role.street_staff, street=street)
    ticket = make_ticket("楼道灯坏了", number="HP-1", received_at=utcnow())
    services.dispatch(operator, ticket, street.id, "请尽快处理")
    services.confirm_tags(operator, ticket, ["lighting"], False)  # not a status change
    services.accept(staff, ticket)
    services.resolve(staff, ticket, "已更换灯泡")
    return {"key": make_api_key()[1], "ticket": ticket}


def test_xml(client, history):
    root = xml_of(client.get("/api/v1/servicerequestupdates.xml", query_string={"api_key": history["key"]}))
    assert root.tag == "service_request_updates"
    rows = xml_rows(root, "request_update")
    assert [list(row) for row in rows] == [UPDATE_FIELDS] * 3
    assert [(row["service_request_id"], row["status"], row["description"]) for row in rows] == [
        ("HP-1", "open", "已派单：请尽快处理"), ("HP-1", "open", "办理中"), ("HP-1", "closed", "已办结：已更换灯泡")]
    events = db.session.scalars(select(Event.id).where(Event.action.in_(
        ["ticket.dispatch", "ticket.accept", "ticket.resolve"])).order_by(Event.id)).all()
    assert [row["update_id"] for row in rows] == [str(i) for i in events]
    assert all(W3C_LOCAL.match(row["updated_datetime"]) for row in rows)
    assert all(row["media_url"] is None for row in rows)


def test_json_and_start_date(client, history):
    key = history["key"]
    rows = json_of(client.get("/api/v1/servicerequestupdates.json", query_string={"api_key": key}))
    assert [list(row) for row in rows] == [UPDATE_FIELDS] * 3
    assert [row["status"] for row in rows] == ["open", "open", "closed"]
    resolved_at = db.session.scalar(select(Event.created_at).where(Event.action == "ticket.resolve"))
    since = (resolved_at - timedelta(microseconds=1)).isoformat() + "Z"
    rows = json_of(client.get("/api/v1/servicerequestupdates.json", query_string={"api_key": key, "start_date": since}))
    assert [row["description"] for row in rows] == ["已办结：已更换灯泡"]
    later = (utcnow() + timedelta(minutes=1)).isoformat() + "+00:00"
    assert json_of(client.get("/api/v1/servicerequestupdates.json",
                              query_string={"api_key": key, "start_date": later})) == []
    # FixMyStreet sends both ends; the window is inclusive
    start = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    end = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(json_of(client.get("/api/v1/servicerequestupdates.json",
                                  query_string={"api_key": key, "start_date": start, "end_date": end}))) == 3


def test_imports_and_merges_keep_their_notes_to_themselves(client, history):
    operator = make_user(Role.operator)
    duplicate = make_ticket("楼道灯坏了", number="HP-2", received_at=utcnow())
    services.merge(operator, duplicate, history["ticket"])
    rows = json_of(client.get("/api/v1/servicerequestupdates.json", headers={"X-API-Key": history["key"]}))
    assert rows[-1]["service_request_id"] == "HP-2"
    assert (rows[-1]["status"], rows[-1]["description"]) == ("closed", "已并单")
