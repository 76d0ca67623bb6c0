"""JSON/XML API under /api/v1 (Open311 GeoReport v2) and the API-key admin pages."""
from __future__ import annotations

import hashlib

from flask import (
    Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for,
)
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from portal.accounts.forms import EmptyForm
from portal.accounts.models import Role
from portal.api import open311, queries, services
from portal.api.forms import ApiKeyForm
from portal.api.models import ApiKey
from portal.api.open311 import FORMATS, ApiError
from portal.api.openapi import openapi_document
from portal.areas.models import Street
from portal.core.errors import ServiceError, database_away_errors
from portal.core.scoping import roles_required
from portal.core.time import utcnow
from portal.extensions import db, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
keys_bp = Blueprint("api_keys", __name__, url_prefix="/admin/api-keys")

DEFAULT_RATE_LIMIT = "120 per minute"


# --- plumbing: keys, formats, limits, errors ------------------------------------------------------

def presented_keys() -> list[str]:
    """Every key in the request: an X-API-Key header, Open311's api_key in the query string or the form."""
    found = [request.headers.get("X-API-Key", ""), *request.args.getlist("api_key")]
    if request.method == "POST":
        found += request.form.getlist("api_key")
    return list(dict.fromkeys(key.strip() for key in found if key and key.strip()))


def presented_key() -> str:
    """The one key of the request; two different keys are refused rather than one of them guessed."""
    keys = presented_keys()
    if len(keys) > 1:
        raise ApiError(403, "请求中有多个不同的 API 密钥，请只提供一个。")
    return keys[0] if keys else ""


def _rate_limit_key() -> str:
    keys = presented_keys()
    raw = keys[0] if keys else ""
    if raw:
        return "api-key:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]
    return "api-addr:" + (request.remote_addr or "unknown")


def _rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)


# One budget per key for the whole API (not one per endpoint).
limiter.shared_limit(_rate_limit, scope="open311-api", key_func=_rate_limit_key)(bp)


def requested_format() -> str:
    """The path's extension when it is .xml or .json (also on the catch-all route); else JSON."""
    fmt = (request.view_args or {}).get("fmt") or request.path.rsplit(".", 1)[-1]
    return fmt if fmt in FORMATS else "json"


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ApiError(404, f"不支持的格式 .{fmt[:16]}：请使用 .xml 或 .json。")
    return fmt


def principal() -> services.KeyPrincipal:
    """The caller's key (401/403 otherwise); each view asks once."""
    return services.KeyPrincipal.of(services.authenticate(presented_key()))


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    return open311.render_error(requested_format(), error.status, error.descriptions, error.headers)


def http_error(error: HTTPException):
    """Routing, method and rate-limit errors (Flask-Limiter adds its Retry-After and X-RateLimit headers)."""
    status = error.code or 500
    headers = {}
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    text = open311.ERROR_TEXT.get(status, open311.ERROR_TEXT[400 if status < 500 else 500])
    return open311.render_error(requested_format(), status, [text], headers)


# By code as well as by class: the app's own handlers by code (HTML pages) would win over a class handler.
bp.register_error_handler(HTTPException, http_error)
for _code in (400, 401, 403, 404, 405, 413, 429, 500):
    bp.register_error_handler(_code, http_error)


@bp.errorhandler(Exception)
def server_error(error: Exception):
    if isinstance(error, HTTPException):  # pragma: no cover - handled above
        return http_error(error)
    if isinstance(error, database_away_errors()):  # restarted or out of connections: the client may retry
        current_app.logger.warning("API: database unavailable: %s", (str(error).splitlines() or [""])[0])
        try:
            db.session.rollback()
        except database_away_errors():
            pass
        return open311.render_error(requested_format(), 503, [open311.ERROR_TEXT[503]], {"Retry-After": "5"})
    db.session.rollback()
    current_app.logger.exception("API error")
    return open311.render_error(requested_format(), 500, [open311.ERROR_TEXT[500]])


def allowed_methods() -> set[str]:
    """The methods the request's path really serves (the catch-all route below does not count)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = set()
    for method in ("GET", "POST"):
        try:
            endpoint, _ = adapter.match(method=method)
        except HTTPException:
            continue
        if endpoint != "api.unknown":
            allowed.add(method)
    if allowed:
        allowed |= {"OPTIONS"} | ({"HEAD"} if "GET" in allowed else set())
    return allowed


@bp.after_request
def api_headers(response):
    response.headers.setdefault("Cache-Control", "no-store")
    if request.method == "OPTIONS" and "Allow" in response.headers:  # Flask's automatic answer
        response.headers["Allow"] = ", ".join(sorted(allowed_methods()))
    return response


# --- Open311 --------------------------------------------------------------------------------------

@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/services.<fmt>")
def services_list(fmt: str):
    from nlp.themes import THEMES

    check_format(fmt)
    if presented_key():
        principal()  # optional here, but a wrong key is still refused
    return open311.render(fmt, "services", "service", [open311.service_row(theme) for theme in THEMES])


@bp.get("/requests.<fmt>")
def requests_list(fmt: str):
    check_format(fmt)
    caller = principal()
    args = request.args
    ids = queries.split_list(args.get("service_request_id"))
    if ids:
        tickets = queries.find_requests(caller, ids=ids)
    else:
        codes = queries.parse_service_codes(args.get("service_code"))
        statuses = queries.parse_statuses(args.get("status"))
        start, end = open311.date_window(args.get("start_date"), args.get("end_date"), utcnow())
        tickets = queries.find_requests(caller, service_codes=codes, statuses=statuses, start=start, end=end)
    return open311.render(fmt, "service_requests", "request", [queries.present(t, caller) for t in tickets])


@bp.post("/requests.<fmt>")
def requests_create(fmt: str):
    check_format(fmt)
    caller = principal()
    data = services.RequestInput.from_form(request.form)
    ticket = services.create_request(caller, data)
    notice = "诉求已受理，将派单至承办街道办理。" + ("（已标记为紧急）" if ticket.urgent else "")
    row = {"service_request_id": ticket.number, "service_notice": notice, "account_id": data.account_id or None}
    return open311.render(fmt, "service_requests", "request", [row])


@bp.get("/requests/<request_id>.<fmt>")
def requests_detail(request_id: str, fmt: str):
    check_format(fmt)
    caller = principal()
    ticket = queries.get_request(caller, request_id)
    return open311.render(fmt, "service_requests", "request", [queries.present(ticket, caller)])


@bp.get("/servicerequestupdates.<fmt>")
def request_updates(fmt: str):
    check_format(fmt)
    caller = principal()
    start, end = open311.date_window(request.args.get("start_date"), request.args.get("end_date"), utcnow())
    rows = [queries.present_update(event, ticket, caller) for event, ticket in queries.find_updates(caller, start, end)]
    return open311.render(fmt, "service_request_updates", "request_update", rows)


from portal.api import projects as _project_routes  # noqa: E402,F401  (the /projects/*.json routes on bp)


ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "TRACE", "QUERY", "OPTIONS"]


@bp.route("/", defaults={"rest": ""}, methods=ALL_METHODS, provide_automatic_options=False)
@bp.route("/<path:rest>", methods=ALL_METHODS, provide_automatic_options=False)
def unknown(rest: str):
    """Anything else under /api/v1 answers in Open311's error format: 405 for a known path with
    another method, 404 otherwise."""
    allowed = allowed_methods()
    if allowed and request.method not in allowed:
        raise MethodNotAllowed(valid_methods=sorted(allowed))
    raise NotFound()


# --- admin pages: API keys ------------------------------------------------------------------------

def _street_choices():
    streets = db.session.scalars(select(Street).order_by(Street.name)).all()
    return [(0, "全区（可查询所有街道的工单，可提交诉求）")] + [(s.id, f"{s.name}（只读本街道工单）") for s in streets]


@keys_bp.get("/")
@roles_required(Role.district_admin)
def index():
    keys = db.session.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(),
                                                      ApiKey.id.desc())).all()
    return render_template("api/keys.html", keys=keys, revoke_form=EmptyForm())


@keys_bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.district_admin)
def new():
    form = ApiKeyForm()
    form.street_id.choices = _street_choices()
    if form.validate_on_submit():
        try:
            key, raw = services.create_key(current_user, form.name.data, form.street_id.data or None)
        except ServiceError as exc:
            flash(exc.message, "error")
        else:
            # Rendered, not redirected: the key exists only in this response and is never shown again.
            return render_template("api/key_created.html", key=key, raw_key=raw)
    return render_template("api/key_new.html", form=form)


@keys_bp.post("/<int:key_id>/revoke")
@roles_required(Role.district_admin)
def revoke(key_id: int):
    key = db.get_or_404(ApiKey, key_id)
    if EmptyForm().validate_on_submit():
        try:
            services.revoke_key(current_user, key)
            flash(f"已吊销密钥「{key.name}」（{key.prefix}…），使用它的系统将无法再调用接口。", "success")
        except ServiceError as exc:
            flash(exc.message, "error")
    return redirect(url_for("api_keys.index"))
