"""Login, logout, password hashing, rate limits, CSRF and cookie flags."""
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from portal.accounts.models import Role, User
from portal.audit.models import Event
from portal.extensions import db
from tests.helpers import PASSWORD, csrf_token_from, login, make_street, make_user


def test_password_is_hashed_with_scrypt(app):
    from portal.accounts.services import create_user

    user = create_user(None, username="hashcheck", password=PASSWORD, role=Role.operator)
    assert PASSWORD not in user.password_hash
    assert user.password_hash.startswith("scrypt:")
    assert user.check_password(PASSWORD) and not user.check_password("wrong")


def test_login_success_redirects_to_workbench_and_is_logged(client, app):
    user = make_user(Role.operator, username="wangmin")
    response = login(client, user)
    assert response.status_code == 302 and response.headers["Location"].endswith("/workbench")
    assert "工作台" in client.get("/workbench").get_data(as_text=True)
    assert db.session.scalar(select(Event.action).where(Event.actor_id == user.id)) == "login"
    assert db.session.get(User, user.id).last_login_at is not None


def test_wrong_password_is_refused_in_chinese_and_logged(client, app):
    user = make_user(Role.operator)
    response = login(client, user, password="not-the-password")
    assert "用户名或密码不正确。" in response.get_data(as_text=True)
    assert client.get("/workbench").status_code == 302
    assert db.session.scalar(select(Event.action)) == "login.failed"


def test_inactive_user_cannot_log_in(client, app):
    user = make_user(Role.operator, active=False)
    assert "用户名或密码不正确。" in login(client, user).get_data(as_text=True)


def test_next_parameter_only_allows_local_paths(client, app):
    user = make_user(Role.district_admin)
    data = {"username": user.username, "password": PASSWORD}
    assert client.post("/login?next=/areas/", data=data).headers["Location"] == "/areas/"
    client.post("/logout")
    assert client.post("/login?next=https://evil.example/", data=data).headers["Location"].endswith("/workbench")
    client.post("/logout")
    assert client.post("/login?next=//evil.example/", data=data).headers["Location"].endswith("/workbench")


def test_logout_needs_post(client, app):
    login(client, make_user(Role.operator))
    assert client.get("/logout").status_code == 405
    client.post("/logout")
    assert client.get("/workbench").status_code == 302


def test_login_is_rate_limited(client, app):
    user = make_user(Role.operator)
    statuses = [login(client, user, password="guess").status_code for _ in range(12)]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429
    response = login(client, user)  # even the right password waits
    assert response.status_code == 429 and "操作太频繁" in response.get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite(client, app):
    response = login(client, make_user(Role.operator))
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


class TestCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_login_without_token_is_refused(self, client, app):
        user = make_user(Role.operator)
        response = login(client, user)
        assert response.status_code == 400
        assert "页面已过期或表单校验失败" in response.get_data(as_text=True)
        assert client.get("/workbench").status_code == 302

    def test_login_with_token_works_and_other_posts_need_it(self, client, app):
        user = make_user(Role.district_admin)
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
        response = client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302
        assert client.post("/areas/streets/new", data={"name": "无令牌街道"}).status_code == 400
        from portal.areas.models import Street
        assert db.session.scalar(select(Street)) is None


def test_role_navigation(client, app):
    street = make_street("和平街道")
    expectations = {
        Role.operator: (["工作台", "地名库"], ["用户管理", "小区与住户"]),
        Role.street_staff: (["工作台", "小区与住户", "和平街道"], ["用户管理", "地名库"]),
        Role.district_admin: (["工作台", "小区与住户", "用户管理"], ["地名库"]),
    }
    for role, (present, absent) in expectations.items():
        user = make_user(role, street=street if role == Role.street_staff else None)
        login(client, user)
        page = client.get("/workbench").get_data(as_text=True)
        nav = page.split('<nav class="main-nav"')[1].split("</header>")[0]
        for text in present:
            assert text in page if text == "和平街道" else text in nav, (role, text)
        for text in absent:
            assert text not in nav, (role, text)
        client.post("/logout")


def test_cli_user_create(app):
    street = make_street("新华街道")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["user", "create", "--username", "liuyang", "--role", "street_staff",
                                 "--street", "新华街道", "--password", "long-enough-1"])
    assert result.exit_code == 0, result.output
    assert "created user liuyang (street_staff)" in result.output
    user = db.session.scalar(select(User).where(User.username == "liuyang"))
    assert user.street_id == street.id and user.check_password("long-enough-1")

    missing = runner.invoke(args=["user", "create", "--username", "nobody", "--role", "street_staff",
                                  "--password", "long-enough-1"])
    assert missing.exit_code != 0 and "街道工作人员必须绑定一个已存在的街道。" in missing.output
    short = runner.invoke(args=["user", "create", "--username", "shorty", "--role", "operator", "--password", "123"])
    assert short.exit_code != 0 and "密码至少 8 位。" in short.output
    unknown = runner.invoke(args=["user", "create", "--username", "x1y", "--role", "street_staff",
                                  "--street", "不存在街道", "--password", "long-enough-1"])
    assert "街道「不存在街道」不存在。" in unknown.output


def test_admin_manages_users(client, app):
    street = make_street("和平街道")
    admin = make_user(Role.district_admin)
    login(client, admin)
    client.post("/accounts/users", data={"username": "chenxiao", "display_name": "陈晓", "role": "street_staff",
                                         "street_id": street.id, "password": "long-enough-1"})
    user = db.session.scalar(select(User).where(User.username == "chenxiao"))
    assert user.street_id == street.id
    page = client.post("/accounts/users", data={"username": "nostreet", "role": "street_staff", "street_id": 0,
                                                "password": "long-enough-1"}).get_data(as_text=True)
    assert "街道工作人员必须绑定一个已存在的街道。" in page
    client.post(f"/accounts/users/{user.id}/active")
    assert db.session.get(User, user.id).active is False
    assert "不能停用自己的账号。" in client.post(f"/accounts/users/{admin.id}/active", follow_redirects=True).get_data(as_text=True)


def test_non_admin_cannot_manage_users(client, app):
    login(client, make_user(Role.operator))
    assert client.get("/accounts/users").status_code == 403
