"""The database away (restarted, out of connections) answers 503 in the API's own error format, with
Retry-After, never a 500; the next request is served as usual."""
import pytest
from sqlalchemy.exc import OperationalError

from tests.api.builders import errors_of, make_api_key


def _down(*args, **kwargs):
    raise OperationalError("SELECT 1", {}, Exception("terminating connection due to administrator command"))


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_api_answers_503_when_the_database_is_away(client, monkeypatch, fmt):
    _, raw = make_api_key()
    monkeypatch.setattr("portal.api.queries.find_requests", _down)
    response = client.get(f"/api/v1/requests.{fmt}", headers={"X-API-Key": raw})
    # Retry-After is there (Flask-Limiter's own header, the key's window, takes the place of ours on the API)
    assert response.status_code == 503 and response.headers["Retry-After"].isdigit()
    assert errors_of(response, fmt) == [(503, "数据库暂时无法连接，请求没有完成，请稍后重试。")]
    assert "administrator command" not in response.get_data(as_text=True)
    monkeypatch.undo()
    assert client.get(f"/api/v1/requests.{fmt}", headers={"X-API-Key": raw}).status_code == 200


def test_other_errors_are_still_a_500(client, monkeypatch):
    _, raw = make_api_key()
    monkeypatch.setattr("portal.api.queries.find_requests", lambda *a, **k: 1 / 0)
    response = client.get("/api/v1/requests.json", headers={"X-API-Key": raw})
    assert response.status_code == 500
    assert errors_of(response, "json") == [(500, "服务器内部错误，已记录，请稍后重试。")]
