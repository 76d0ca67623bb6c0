"""Survey results as JSON under /api/v1/surveys, for machines holding an API key (DESIGN.md §7).

Authentication, key scoping and the error format are portal.api's: a street key sees its street's
surveys only (another street's survey answers 404), free text is masked, access codes never leave.
This blueprint is registered by the app factory (CSRF-exempt, like the rest of /api/v1).
"""
from __future__ import annotations

import hashlib

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from portal.api import open311
from portal.api.open311 import ApiError
from portal.api.views import presented_key, principal
from portal.core.masking import text_for
from portal.core.scoping import scoped
from portal.extensions import db, limiter
from portal.surveys import results as survey_results
from portal.surveys.models import Survey, SurveyResponse
from portal.surveys.services import local_today

api_bp = Blueprint("survey_api", __name__, url_prefix="/api/v1/surveys")


def _rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", "120 per minute")


def _rate_limit_key() -> str:
    raw = presented_key()
    if raw:
        return "api-key:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]
    return "api-addr:" + (request.remote_addr or "unknown")


limiter.limit(_rate_limit, key_func=_rate_limit_key)(api_bp)


@api_bp.errorhandler(ApiError)
def api_error(error: ApiError):
    return open311.render_error("json", error.status, error.descriptions, error.headers)


@api_bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    status = error.code or 500
    text = open311.ERROR_TEXT.get(status, open311.ERROR_TEXT[400 if status < 500 else 500])
    return open311.render_error("json", status, [text])


@api_bp.errorhandler(Exception)
def server_error(error: Exception):
    if isinstance(error, HTTPException):  # pragma: no cover - handled above
        return http_error(error)
    db.session.rollback()
    current_app.logger.exception("survey API error")
    return open311.render_error("json", 500, [open311.ERROR_TEXT[500]])


@api_bp.after_request
def no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _survey_row(survey: Survey, responses: int) -> dict:
    return {"id": survey.id, "title": survey.title, "estates": [e.name for e in survey.estates],
            "opens_on": survey.opens_on.isoformat(), "closes_on": survey.closes_on.isoformat(),
            "status": survey.status(local_today()), "matter_type": survey.matter_type.value,
            "tally_scope": survey.tally_scope.value, "responses": responses}


@api_bp.get("/")
def survey_list():
    caller = principal()
    surveys = db.session.scalars(scoped(select(Survey).order_by(Survey.id), Survey, caller)).all()
    counts = dict(db.session.execute(
        select(SurveyResponse.survey_id, func.count()).where(SurveyResponse.survey_id.in_([s.id for s in surveys]))
        .group_by(SurveyResponse.survey_id)).all())
    return jsonify([_survey_row(s, counts.get(s.id, 0)) for s in surveys])


@api_bp.get("/<int:survey_id>/results")
def survey_results_json(survey_id: int):
    caller = principal()
    survey = db.session.scalar(scoped(select(Survey).where(Survey.id == survey_id), Survey, caller))
    if survey is None:
        raise ApiError(404, "调查不存在，或不在此 API 密钥的范围内。")
    by = request.args.get("by", "building")
    if by not in survey_results.BREAKDOWNS:
        raise ApiError(400, "by 只能是 building（按楼栋）或 unit（按单元）。")
    data = survey_results.compute(survey, by)
    return jsonify(survey_results.results_json(data, lambda text: text_for(caller, text)))


# --- OpenAPI: paths and schemas for portal/api/openapi.py to merge into its document -------------

def _error(name: str) -> dict:
    return {"$ref": f"#/components/responses/{name}"}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def openapi_paths() -> dict:
    """Paths relative to the /api/v1 server; errors reuse the document's Open311 error responses."""
    security = [{"ApiKeyQuery": []}, {"ApiKeyHeader": []}]
    return {
        "/surveys/": {"get": {
            "tags": ["surveys"], "operationId": "listSurveys", "summary": "意愿调查列表（按密钥范围）",
            "security": security,
            "responses": {"200": {"description": "调查列表", "content": _json({"type": "array",
                                                                               "items": _ref("SurveySummary")})},
                          "401": _error("Unauthorized"), "403": _error("Forbidden"),
                          "429": _error("TooManyRequests"), "500": _error("ServerError")}}},
        "/surveys/{survey_id}/results": {"get": {
            "tags": ["surveys"], "operationId": "getSurveyResults",
            "summary": "调查结果与《民法典》第二百七十八条法定表决统计",
            "description": "各题户数与占比（按楼栋或单元分组）、意见的主题统计（文字已脱敏）、每个表决单元的四个比例、"
                           "是否通过和还差多少户与面积。不含入户码、房号和业主证件号。街道密钥只能查本街道的调查。",
            "security": security,
            "parameters": [
                {"name": "survey_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                {"name": "by", "in": "query", "required": False, "description": "分组：building（默认）或 unit",
                 "schema": {"type": "string", "enum": ["building", "unit"]}},
            ],
            "responses": {"200": {"description": "调查结果", "content": _json(_ref("SurveyResults"))},
                          "400": _error("BadRequest"), "401": _error("Unauthorized"), "403": _error("Forbidden"),
                          "404": _error("NotFound"), "429": _error("TooManyRequests"),
                          "500": _error("ServerError")}}},
    }


def openapi_schemas() -> dict:
    number = {"type": "number"}
    decimal = {"type": "string", "description": "平方米，两位小数", "example": "86.50"}
    ratio = {"type": "object", "nullable": True, "description": "精确比例；分母为 0 时为 null",
             "properties": {"value": number, "numerator": {"type": "string"}, "denominator": {"type": "string"}}}
    return {
        "SurveySummary": {"type": "object", "properties": {
            "id": {"type": "integer"}, "title": {"type": "string"},
            "estates": {"type": "array", "items": {"type": "string"}},
            "opens_on": {"type": "string", "format": "date"}, "closes_on": {"type": "string", "format": "date"},
            "status": {"type": "string", "enum": ["not_started", "open", "closed"]},
            "matter_type": {"type": "string", "enum": ["major", "ordinary"]},
            "tally_scope": {"type": "string", "enum": ["estate", "building", "unit"]},
            "responses": {"type": "integer"}}},
        "SurveyTallyBody": {"type": "object", "properties": {
            "scope": {"type": "string"}, "has_roster": {"type": "boolean"}, "verdict": {"type": "string"},
            "passed": {"type": "boolean"}, "households": {"type": "integer"}, "tenants": {"type": "integer"},
            "owners": {"type": "integer"}, "area_m2": decimal, "voters": {"type": "integer"}, "voted_area_m2": decimal,
            "yes_voters": {"type": "integer"}, "yes_area_m2": decimal, "no_voters": {"type": "integer"},
            "no_area_m2": decimal, "abstain_voters": {"type": "integer"}, "abstain_area_m2": decimal,
            "tenant_votes_not_counted": {"type": "integer"},
            "ratios": {"type": "object", "properties": {k: ratio for k in (
                "participation_area", "participation_owners", "yes_area", "yes_owners")}},
            "checks": {"type": "object", "additionalProperties": {"type": "boolean"}},
            "needed": {"type": "object", "properties": {
                "more_voters": {"type": "integer"}, "more_voted_area_m2": decimal,
                "more_yes_voters": {"type": "integer"}, "more_yes_area_m2": decimal,
                "reachable": {"type": "boolean"}}}}},
        "SurveyResults": {"type": "object", "properties": {
            "id": {"type": "integer"}, "title": {"type": "string"},
            "estates": {"type": "array", "items": {"type": "string"}},
            "opens_on": {"type": "string", "format": "date"}, "closes_on": {"type": "string", "format": "date"},
            "matter_type": {"type": "string", "enum": ["major", "ordinary"]},
            "tally_scope": {"type": "string", "enum": ["estate", "building", "unit"]},
            "scope_targets": {"type": "array", "items": {"type": "string"}},
            "households_in_scope": {"type": "integer"}, "responses": {"type": "integer"},
            "online": {"type": "integer"}, "paper": {"type": "integer"},
            "response_rate": {"type": "number", "nullable": True},
            "estates_without_roster": {"type": "array", "items": {"type": "string"}},
            "questions": {"type": "array", "items": {"type": "object", "additionalProperties": True,
                                                     "properties": {"number": {"type": "integer"},
                                                                    "id": {"type": "integer"},
                                                                    "kind": {"type": "string"},
                                                                    "text": {"type": "string"},
                                                                    "answered": {"type": "integer"}}}},
            "legal_tally": {"type": "array", "items": {"type": "object", "properties": {
                "question_number": {"type": "integer"}, "question": {"type": "string"},
                "bodies": {"type": "array", "items": _ref("SurveyTallyBody")}}}}}},
    }
