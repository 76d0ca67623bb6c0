"""Minsheng (民声): the Flask application factory."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Optional

from flask import Flask

from portal.config import DEFAULT_INSTANCE, PROJECT_ROOT, Defaults, from_environment
from portal.extensions import csrf, db, limiter, login_manager, migrate


def create_app(config: Optional[Mapping[str, Any]] = None) -> Flask:
    """Build the app. `config` overrides what the environment gives (tests pass their own)."""
    config = dict(config or {})
    instance_path = Path(config.pop("INSTANCE_PATH", DEFAULT_INSTANCE))
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_object(Defaults)
    env = from_environment(instance_path)
    env.update(config)
    app.config.update(env)

    if app.config.get("PROXY_HOPS"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from portal import models  # noqa: F401  (register every table)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from portal.core import web

    web.init_app(app)

    from portal.accounts.views import bp as accounts_bp
    from portal.api.views import bp as api_bp, keys_bp as api_keys_bp
    from portal.areas.views import bp as areas_bp
    from portal.audit.views import bp as audit_bp
    from portal.core.views import bp as core_bp
    from portal.demand.views import bp as demand_bp
    from portal.jobs.views import bp as jobs_bp
    from portal.minutes.views import bp as minutes_bp
    from portal.projects.demand_views import bp as project_demand_bp
    from portal.projects.priority_views import bp as priority_bp
    from portal.projects.public_views import bp as public_projects_bp
    from portal.projects.views import bp as projects_bp
    from portal.review.views import bp as review_bp
    from portal.suggestions.views import bp as suggestions_bp, public_bp as suggestion_public_bp
    from portal.surveys.views import bp as surveys_bp, public_bp as survey_public_bp
    from portal.tickets.views import bp as tickets_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(areas_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(tickets_bp)
    app.register_blueprint(demand_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(surveys_bp)
    app.register_blueprint(survey_public_bp)
    app.register_blueprint(minutes_bp)
    app.register_blueprint(suggestions_bp)
    app.register_blueprint(suggestion_public_bp)
    app.register_blueprint(projects_bp)
    app.register_blueprint(priority_bp)
    app.register_blueprint(project_demand_bp)
    app.register_blueprint(public_projects_bp)
    csrf.exempt(api_bp)  # API clients authenticate with keys, not cookies
    app.register_blueprint(api_bp)
    app.register_blueprint(api_keys_bp)
    app.register_blueprint(audit_bp)

    from portal.accounts.cli import user_cli
    from portal.backup.cli import backup_cli
    from portal.demo import demo_command
    from portal.jobs.cli import jobs_cli
    from portal.tickets.cli import tickets_cli

    app.cli.add_command(user_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(tickets_cli)
    app.cli.add_command(demo_command)
    return app
