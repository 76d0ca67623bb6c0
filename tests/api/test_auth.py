"""API keys on the Open311 endpoints: missing, wrong and revoked keys; header and parameter; last use."""
import pytest

from portal.extensions import db
from tests.api.builders import errors_of, json_of, make_api_key, xml_of
from tests.helpers import make_street


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize("path", ["requests", "servicerequestupdates"])
def test_missing_key_is_401(client, fmt, path):
    response = client.get(f"/api/v1/{path}.{fmt}")
    assert response.status_code == 401
    [(code, description)] = errors_of(response, fmt)
    assert code == 401 and "API 密钥" in description


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_wrong_key_is_403(client, fmt):
    make_api_key()
    response = client.get(f"/api/v1/requests.{fmt}?api_key=ms_not-a-real-key")
    assert response.status_code == 403
    assert errors_of(response, fmt) == [(403, "API 密钥无效。")]
    assert client.get("/api/v1/requests.json", headers={"X-API-Key": "x" * 5000}).status_code == 403


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_revoked_key_is_403(client, fmt):
    _, raw = make_api_key(revoked=True)
    response = client.get(f"/api/v1/requests.{fmt}", query_string={"api_key": raw})
    assert response.status_code == 403
    [(code, description)] = errors_of(response, fmt)
    assert code == 403 and "吊销" in description


def test_key_from_header_parameter_or_form(client):
    _, raw = make_api_key()
    assert client.get("/api/v1/requests.json", headers={"X-API-Key": raw}).status_code == 200
    assert client.get("/api/v1/requests.json", query_string={"api_key": raw}).status_code == 200
    xml_of(client.get("/api/v1/requests.xml", query_string={"api_key": raw}))
    # POST: Open311 puts api_key in the form body; validation answering 400 proves the key was accepted
    response = client.post("/api/v1/requests.json", data={"api_key": raw})
    assert response.status_code == 400


def test_last_used_at_is_recorded(client):
    key, raw = make_api_key()
    assert key.last_used_at is None
    client.get("/api/v1/requests.json", headers={"X-API-Key": raw})
    db.session.refresh(key)
    assert key.last_used_at is not None


def test_street_key_cannot_create(client):
    _, raw = make_api_key(make_street())
    response = client.post("/api/v1/requests.xml", data={
        "api_key": raw, "service_code": "parking", "description": "小区停车难", "address_string": "和平路1号"})
    assert response.status_code == 403
    [(code, description)] = errors_of(response, "xml")
    assert code == 403 and "街道密钥" in description


def test_services_need_no_key_but_refuse_a_wrong_one(client):
    assert client.get("/api/v1/services.json").status_code == 200
    assert client.get("/api/v1/services.xml?api_key=wrong").status_code == 403
    _, raw = make_api_key()
    assert json_of(client.get("/api/v1/services.json", headers={"X-API-Key": raw}))


def test_two_different_keys_are_refused(client):
    _, first = make_api_key()
    _, second = make_api_key()
    response = client.get("/api/v1/requests.xml", headers={"X-API-Key": first}, query_string={"api_key": second})
    assert response.status_code == 403 and "多个不同的 API 密钥" in errors_of(response, "xml")[0][1]
    same = client.get("/api/v1/requests.json", headers={"X-API-Key": first}, query_string={"api_key": first})
    assert same.status_code == 200
