"""The OpenAPI document: valid OpenAPI 3, covers every route, and describes what is really answered."""
import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from portal.tickets.models import TicketStatus as S
from portal.core.time import utcnow
from tests.api.builders import json_of, make_api_key
from tests.helpers import make_street, make_ticket


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.content_type == "application/json"
    return response.get_json()


def test_document_is_valid_openapi(document):
    validate(document)
    assert document["openapi"].startswith("3.")


def test_every_route_is_documented(app, document):
    documented = {(path, method.upper()) for path, item in document["paths"].items()
                  for method in item if method != "parameters"}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.unknown":
            path = rule.rule.removeprefix("/api/v1").replace("<fmt>", "{format}").replace(
                "<request_id>", "{service_request_id}")
            served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == documented


def _validate(document, schema_name, instance):
    schema = {**document["components"]["schemas"][schema_name], "components": document["components"]}
    OAS30Validator(schema).validate(instance)


def test_real_answers_match_their_schemas(client, document):
    street = make_street()
    make_ticket("路灯不亮", street=street, status=S.dispatched, number="A-1", received_at=utcnow(),
                due_at=utcnow(), latitude=39.9, longitude=116.4)
    make_ticket("下水道堵了", status=S.resolved, number="A-2", received_at=utcnow(), resolution="已疏通",
                resolved_at=utcnow())
    _, raw = make_api_key()
    headers = {"X-API-Key": raw}
    _validate(document, "Services", json_of(client.get("/api/v1/services.json")))
    _validate(document, "ServiceRequests", json_of(client.get("/api/v1/requests.json", headers=headers)))
    _validate(document, "ServiceRequests", json_of(client.get("/api/v1/requests/A-1.json", headers=headers)))
    _validate(document, "RequestUpdates", json_of(client.get("/api/v1/servicerequestupdates.json", headers=headers)))
    _validate(document, "Errors", json_of(client.get("/api/v1/requests.json")))
    _validate(document, "CreatedRequests", [{"service_request_id": "MS1", "service_notice": "x", "account_id": None}])
