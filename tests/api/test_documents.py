"""Open311 documents checked against the GeoReport v2 examples: root and element names, field set,
status mapping, W3C datetimes with the +08:00 offset, filters, and errors in both formats."""
import re
from datetime import datetime, timedelta

import pytest

from portal.core.time import utcnow
from portal.tickets.models import TicketStatus as S
from tests.api.builders import errors_of, json_of, make_api_key, xml_of, xml_rows
from tests.helpers import make_community, make_estate, make_street, make_ticket

SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
W3C_LOCAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")


@pytest.fixture
def key(app):
    return make_api_key()[1]


@pytest.fixture
def ticket(app):
    street = make_street("和平街道")
    estate = make_estate(make_community(street), "桂花苑")
    return make_ticket("楼道灯坏了三个月", estate=estate, street=street, status=S.dispatched, number="HP-0001",
                       themes=("lighting", "security"), address="和平路12号桂花苑3栋",
                       received_at=datetime(2026, 3, 1, 1, 30), updated_at=datetime(2026, 3, 1, 2, 0),
                       due_at=datetime(2026, 3, 6, 1, 30), latitude=39.9, longitude=116.4)


WINDOW = {"start_date": "2026-02-28T00:00:00+08:00", "end_date": "2026-03-02T00:00:00Z"}


def test_services_xml(client):
    root = xml_of(client.get("/api/v1/services.xml"))
    assert root.tag == "services"
    rows = xml_rows(root, "service")
    assert [list(row) for row in rows] == [SERVICE_FIELDS] * len(rows)
    parking = next(row for row in rows if row["service_code"] == "parking")
    assert parking["service_name"] == "停车管理"
    assert parking["metadata"] == "false" and parking["type"] == "realtime"
    assert "停车难" in parking["keywords"].split(", ") and parking["group"]
    assert [row["service_code"] for row in rows if row["service_code"] == "other"] == ["other"]


def test_services_json(client):
    rows = json_of(client.get("/api/v1/services.json"))
    from nlp.themes import THEME_CODES

    assert [row["service_code"] for row in rows] == THEME_CODES
    assert all(list(row) == SERVICE_FIELDS and row["metadata"] is False for row in rows)


def test_request_xml_matches_the_spec_example(client, key, ticket):
    root = xml_of(client.get("/api/v1/requests.xml", query_string={"api_key": key, **WINDOW}))
    assert root.tag == "service_requests"
    [row] = xml_rows(root, "request")
    assert list(row) == REQUEST_FIELDS
    assert row == {
        "service_request_id": "HP-0001", "status": "open", "status_notes": "已派单", "service_name": "照明",
        "service_code": "lighting", "description": "楼道灯坏了三个月", "agency_responsible": "和平街道",
        "service_notice": "已派单至和平街道办理，办理时限 2026-03-06T09:30:00+08:00。",
        "requested_datetime": "2026-03-01T09:30:00+08:00", "updated_datetime": "2026-03-01T10:00:00+08:00",
        "expected_datetime": "2026-03-06T09:30:00+08:00", "address": "和平路12号桂花苑3栋",
        "address_id": str(ticket.estate_id), "zipcode": None, "lat": "39.9", "long": "116.4", "media_url": None,
    }


def test_request_json_matches_the_spec_example(client, key, ticket):
    [row] = json_of(client.get("/api/v1/requests.json", query_string={"api_key": key, **WINDOW}))
    assert list(row) == REQUEST_FIELDS
    assert row["service_request_id"] == "HP-0001" and row["status"] == "open"
    assert row["lat"] == 39.9 and row["long"] == 116.4 and row["zipcode"] is None and row["media_url"] is None
    for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C_LOCAL.match(row[name]), row[name]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_single_request(client, key, ticket, fmt):
    response = client.get(f"/api/v1/requests/HP-0001.{fmt}", headers={"X-API-Key": key})
    rows = xml_rows(xml_of(response), "request") if fmt == "xml" else json_of(response)
    assert [row["service_request_id"] for row in rows] == ["HP-0001"]
    missing = client.get(f"/api/v1/requests/NOPE-1.{fmt}", headers={"X-API-Key": key})
    assert missing.status_code == 404 and errors_of(missing, fmt) == [(404, "工单 NOPE-1 不存在。")]


def test_number_with_dots_and_dashes(client, key):
    make_ticket("路灯不亮", number="2026.03-17", themes=("lighting",))
    rows = json_of(client.get("/api/v1/requests/2026.03-17.json", headers={"X-API-Key": key}))
    assert rows[0]["service_request_id"] == "2026.03-17"


@pytest.mark.parametrize("status,open311,notes", [
    (S.received, "open", "已接收"), (S.dispatched, "open", "已派单"), (S.in_progress, "open", "办理中"),
    (S.returned, "open", "退单"), (S.resolved, "closed", "已办结"), (S.callback, "closed", "已回访"),
    (S.merged, "closed", "已并单"),
])
def test_status_mapping(client, key, status, open311, notes):
    make_ticket(status=status, number="S-1", resolution="已划定临时停车位", resolved_at=utcnow())
    [row] = json_of(client.get("/api/v1/requests.json", headers={"X-API-Key": key}))
    assert (row["status"], row["status_notes"]) == (open311, notes)
    wanted = json_of(client.get(f"/api/v1/requests.json?status={open311}", headers={"X-API-Key": key}))
    other = "closed" if open311 == "open" else "open"
    unwanted = json_of(client.get(f"/api/v1/requests.json?status={other}", headers={"X-API-Key": key}))
    assert [r["service_request_id"] for r in wanted] == ["S-1"] and unwanted == []


def test_filters(client, key):
    now = utcnow()
    make_ticket("停车难", number="P-1", themes=("parking", "property_mgmt"), received_at=now - timedelta(days=1))
    make_ticket("物业不管", number="M-1", themes=("property_mgmt", "parking"), received_at=now - timedelta(days=2))
    make_ticket("去年的", number="OLD-1", themes=("parking",), received_at=now - timedelta(days=200))

    def numbers(**args):
        return [row["service_request_id"] for row in
                json_of(client.get("/api/v1/requests.json", query_string={"api_key": key, **args}))]

    assert numbers() == ["P-1", "M-1"]  # newest first, default window is the last 90 days
    assert numbers(service_code="parking") == ["P-1"]  # the service code is the first theme
    assert numbers(service_code="parking,property_mgmt") == ["P-1", "M-1"]
    assert numbers(service_request_id="OLD-1, M-1,NONE", status="closed") == ["M-1", "OLD-1"]  # overrides
    old = (now - timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert numbers(start_date=old) == ["OLD-1"]  # 90 days from the start
    assert numbers(end_date=(now - timedelta(days=150)).isoformat() + "+00:00") == ["OLD-1"]  # 90 days before
    assert numbers(status="open, closed", start_date=(now - timedelta(hours=36)).isoformat() + "Z") == ["P-1"]
    basic = (now - timedelta(hours=36) + timedelta(hours=8)).strftime("%Y%m%dT%H%M%S+0800")  # ISO 8601 basic form
    assert numbers(start_date=basic) == ["P-1"]
    assert numbers(start_date="0001-01-01T00:00:00+08:00") == []  # the ends of the calendar are not errors
    after = (now + timedelta(days=1)).isoformat() + "Z"
    assert numbers(start_date=after, end_date=old) == []  # start after end: an empty range
    assert numbers(start_date=old, end_date=after) == ["OLD-1"]  # more than 90 days: the first 90
    assert numbers(end_date="9999-12-31T23:59:59-05:00") == []


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize("args,message", [
    ({"start_date": "yesterday"}, "start_date 不是有效的 ISO 8601 日期时间"),
    ({"end_date": "2026-13-01T00:00:00Z"}, "end_date 不是有效的日期时间"),
    ({"start_date": "2026-03-01T00:00:00"}, "start_date 必须是带时区的日期时间"),
    ({"start_date": "2026-03-01"}, "start_date 必须是带时区的日期时间"),
    ({"start_date": "2026-02-30T00:00:00+08:00"}, "start_date 不是有效的日期时间"),
    ({"start_date": "2026-03-01 00:00:00+08:00"}, "start_date 不是有效的 ISO 8601 日期时间"),
    ({"service_code": "parking,unicorns"}, "未知的 service_code：unicorns"),
    ({"status": "pending"}, "status 只能是 open 或 closed"),
])
def test_bad_filters_are_400(client, key, fmt, args, message):
    for path in ("requests", "servicerequestupdates"):
        if path == "servicerequestupdates" and not {"start_date", "end_date"} & set(args):
            continue
        response = client.get(f"/api/v1/{path}.{fmt}", query_string={"api_key": key, **args})
        assert response.status_code == 400
        [(code, description)] = errors_of(response, fmt)
        assert code == 400 and message in description


def test_two_bad_dates_give_two_errors(client, key):
    response = client.get("/api/v1/requests.xml", query_string={"api_key": key, "start_date": "x", "end_date": "y"})
    assert [code for code, _ in errors_of(response, "xml")] == [400, 400]


@pytest.mark.parametrize("path", ["/api/v1/services.html", "/api/v1/requests.csv", "/api/v1/requests/HP-1.yaml",
                                  "/api/v1/servicerequestupdates.txt", "/api/v1/nothing-here", "/api/v1/"])
def test_unknown_format_or_path_is_404_in_json(client, key, path):
    response = client.get(path, headers={"X-API-Key": key})
    assert response.status_code == 404
    [(code, description)] = errors_of(response, "json")
    assert code == 404 and description


def test_wrong_method_is_405_in_open311_format(client, key):
    response = client.delete("/api/v1/requests.xml", headers={"X-API-Key": key})
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert errors_of(response, "xml")[0][0] == 405
    assert client.post("/api/v1/services.json").status_code == 405
    options = client.options("/api/v1/requests.json")
    assert options.status_code == 200 and options.headers["Allow"] == "GET, HEAD, OPTIONS, POST"
    assert client.options("/api/v1/services.json").headers["Allow"] == "GET, HEAD, OPTIONS"
    assert client.options("/api/v1/nothing").status_code == 404
    traced = client.open("/api/v1/services.json", method="TRACE")
    assert traced.status_code == 405 and traced.headers["Allow"] and errors_of(traced, "json")[0][0] == 405


def test_spreadsheet_control_characters_do_not_break_the_xml(client, key):
    make_ticket("楼道灯\x0b坏了\x1f", number="CTRL-1", received_at=utcnow())
    [row] = xml_rows(xml_of(client.get("/api/v1/requests.xml", headers={"X-API-Key": key})), "request")
    assert row["description"] == "楼道灯坏了"
