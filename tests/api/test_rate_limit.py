"""Flask-Limiter on the API: per key, answered in Open311's error format."""
import pytest

from tests.api.builders import errors_of, make_api_key


@pytest.fixture
def app_config():
    return {"API_RATE_LIMIT": "3 per minute"}


def test_rate_limit_is_per_key_and_answers_429_in_open311_format(client):
    _, first = make_api_key()
    _, second = make_api_key()
    # one budget for the whole API, whatever the endpoint, method or way the key is passed
    assert client.get("/api/v1/requests.xml", headers={"X-API-Key": first}).status_code == 200
    assert client.post("/api/v1/requests.json", data={"api_key": first}).status_code == 400
    assert client.get("/api/v1/servicerequestupdates.json", query_string={"api_key": first}).status_code == 200
    response = client.get("/api/v1/requests/X-1.xml", headers={"X-API-Key": first})
    assert response.status_code == 429
    [(code, description)] = errors_of(response, "xml")
    assert code == 429 and "频繁" in description
    assert response.headers.get("Retry-After")
    assert client.get("/api/v1/requests.json", query_string={"api_key": second}).status_code == 200
