"""Security headers, Chinese error pages, configuration from the environment."""
from pathlib import Path

from portal import create_app
from portal.accounts.models import Role
from tests.helpers import login, make_user


def test_security_headers(client, app):
    response = client.get("/")
    assert response.status_code == 200
    headers = response.headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"


def test_staff_pages_are_not_cached(client, app):
    login(client, make_user(Role.operator))
    assert client.get("/workbench").headers["Cache-Control"] == "no-store"


def test_error_pages_are_chinese(client, app):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "页面不存在" in response.get_data(as_text=True)
    login(client, make_user(Role.operator))
    response = client.get("/accounts/users")
    assert response.status_code == 403 and "无权访问" in response.get_data(as_text=True)


def test_500_page_is_chinese(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "系统出错了" in response.get_data(as_text=True) and "boom" not in response.get_data(as_text=True)


def test_oversized_request_gets_413_page(client, app):
    login(client, make_user(Role.district_admin))
    app.config["MAX_CONTENT_LENGTH"] = 10
    response = client.post("/areas/streets/new", data={"name": "x" * 100})
    assert response.status_code == 413 and "文件太大" in response.get_data(as_text=True)


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    first = create_app({"INSTANCE_PATH": str(tmp_path)})
    second = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert (Path(tmp_path) / "secret_key").stat().st_mode & 0o077 == 0
    assert first.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'minsheng.db'}"
    assert first.config["REDIS_URL"] is None


def test_environment_configuration(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db:5432/minsheng")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db:5432/minsheng"
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert not (Path(tmp_path) / "secret_key").exists()


def test_healthz(client, app):
    assert client.get("/healthz").get_json() == {"status": "ok"}
