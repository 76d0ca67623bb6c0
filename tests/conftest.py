"""Test setup: every database test runs on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set.

The schema is built once per database by the real migrations (flask db upgrade); each test then
starts from empty tables.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from portal import create_app
from portal.config import normalise_database_url
from portal.extensions import db, limiter

pytest_plugins = ["tests.playwright_fixtures"]

DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
OUTPUT_DIR = Path(__file__).resolve().parent.parent / "test-output"


def _reset_postgres_schema(url: str) -> None:
    """Start from an empty schema in the throw-away database TEST_DATABASE_URL names."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in inspect(conn).get_table_names():
            conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="session", params=DATABASES)
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        url = normalise_database_url(os.environ["TEST_DATABASE_URL"])
        _reset_postgres_schema(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "schema",
                      "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance"))})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    return url


def _empty_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(text(f'DELETE FROM "{table}"'))
    db.session.commit()


def make_test_app(database_url, tmp_path, **overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def theme_model_path(tmp_path_factory):
    """The shipped model (`make model` builds it); trained once into a temp dir when it is missing."""
    from nlp.tagger import default_model_path

    path = Path(default_model_path())
    if not path.exists():
        from nlp.training import corpus_paths, load_labelled_csv, train

        path = tmp_path_factory.mktemp("model") / "default.joblib"
        train(load_labelled_csv(corpus_paths())).save(path)
    return str(path)


@pytest.fixture
def app_config():
    """Override in a test module to change the app's configuration."""
    return {}


@pytest.fixture
def app(database_url, tmp_path, app_config, request):
    if "tagging" in request.keywords:
        app_config = {"THEME_MODEL_PATH": request.getfixturevalue("theme_model_path"), **app_config}
    app = make_test_app(database_url, tmp_path, **app_config)
    with app.app_context():
        limiter.reset()
        _empty_tables()
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def output_dir():
    OUTPUT_DIR.mkdir(exist_ok=True)
    return OUTPUT_DIR
