"""The API-key admin pages: create shows the key once, the list never, revoke; district_admin only."""
import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.api.models import ApiKey
from portal.api.services import hash_key
from portal.audit.models import Event
from portal.extensions import db
from tests.helpers import login, make_street, make_user


@pytest.fixture
def admin(app, client):
    user = make_user(Role.district_admin)
    login(client, user)
    return user


def test_create_shows_the_key_once(client, admin):
    street = make_street("和平街道")
    page = client.post("/admin/api-keys/new", data={"name": "和平街道大屏", "street_id": street.id})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    key = db.session.scalar(select(ApiKey))
    raw = html.split('id="api-key">', 1)[1].split("<", 1)[0]
    assert raw.startswith("ms_") and len(raw) >= 40 and raw.startswith(key.prefix)
    assert key.key_hash == hash_key(raw) and raw not in (key.prefix, key.key_hash)
    assert key.street_id == street.id and key.created_by_id == admin.id
    assert "只显示这一次" in html and page.headers["Cache-Control"] == "no-store"
    listing = client.get("/admin/api-keys/").get_data(as_text=True)
    assert "和平街道大屏" in listing and key.prefix in listing and raw not in listing
    event = db.session.scalar(select(Event).where(Event.action == "api_key.create"))
    assert event.actor_id == admin.id and event.object_id == str(key.id) and raw not in str(event.after)
    assert client.get("/api/v1/requests.json", headers={"X-API-Key": raw}).status_code == 200


def test_district_key_and_validation(client, admin):
    assert "范围" in client.get("/admin/api-keys/new").get_data(as_text=True)
    client.post("/admin/api-keys/new", data={"name": "12345 热线系统", "street_id": 0})
    assert db.session.scalar(select(ApiKey.street_id)) is None
    page = client.post("/admin/api-keys/new", data={"name": "", "street_id": 0})
    assert "请填写密钥名称" in page.get_data(as_text=True)
    assert client.post("/admin/api-keys/new", data={"name": "x", "street_id": 999}).status_code == 200
    assert db.session.scalar(select(db.func.count(ApiKey.id))) == 1


def test_revoke(client, admin):
    html = client.post("/admin/api-keys/new", data={"name": "热线", "street_id": 0}).get_data(as_text=True)
    raw = html.split('id="api-key">', 1)[1].split("<", 1)[0]
    key = db.session.scalar(select(ApiKey))
    response = client.post(f"/admin/api-keys/{key.id}/revoke", follow_redirects=True)
    assert "已吊销密钥" in response.get_data(as_text=True)
    db.session.refresh(key)
    assert key.revoked_at is not None
    assert db.session.scalar(select(Event.actor_id).where(Event.action == "api_key.revoke")) == admin.id
    assert client.get("/api/v1/requests.json", headers={"X-API-Key": raw}).status_code == 403
    again = client.post(f"/admin/api-keys/{key.id}/revoke", follow_redirects=True)
    assert "已于之前吊销" in again.get_data(as_text=True)
    assert client.post("/admin/api-keys/999/revoke").status_code == 404


@pytest.mark.parametrize("role", [Role.operator, Role.street_staff])
def test_other_roles_get_403(client, role):
    login(client, make_user(role))
    make_user(Role.district_admin)
    assert client.get("/admin/api-keys/").status_code == 403
    assert client.get("/admin/api-keys/new").status_code == 403
    assert client.post("/admin/api-keys/new", data={"name": "x", "street_id": 0}).status_code == 403
    assert client.post("/admin/api-keys/1/revoke").status_code == 403
    assert db.session.scalar(select(ApiKey.id)) is None


def test_anonymous_is_sent_to_login(client, app):
    response = client.get("/admin/api-keys/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
