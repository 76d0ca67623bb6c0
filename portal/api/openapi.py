"""The OpenAPI 3.0 description of /api/v1: every endpoint, parameter, response and error served there."""
from __future__ import annotations

from typing import Any

from portal.api.open311 import MAX_RESULTS
from portal.api.queries import STATUS_PATTERN, list_pattern

OPENAPI_VERSION = "3.0.3"
API_VERSION = "1.0.0"

ERROR_RESPONSES = {
    "400": ("BadRequest", "参数缺失或无效（每个问题一条错误）。"),
    "401": ("Unauthorized", "缺少 API 密钥。"),
    "403": ("Forbidden", "API 密钥无效、已吊销，或无权进行此操作（街道密钥不能提交诉求）。"),
    "404": ("NotFound", "资源不存在：未知的格式扩展名、路径或工单编号（其他街道的工单同样答 404）。"),
    "429": ("TooManyRequests", "超过频率限制（默认每个密钥每分钟 120 次）。"),
    "500": ("ServerError", "服务器内部错误。"),
}


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _nullable(schema_type: str, description: str, **extra) -> dict[str, Any]:
    return {"type": schema_type, "nullable": True, "description": description, **extra}


def _both(schema: str) -> dict[str, Any]:
    """The same document in the two formats the path's extension chooses."""
    return {"application/json": {"schema": _ref("schemas", schema)},
            "application/xml": {"schema": _ref("schemas", schema)}}


def _responses(ok_description: str, ok_schema: str, *errors: str) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": {"description": ok_description, "content": _both(ok_schema)}}
    for code in errors:
        responses[code] = _ref("responses", ERROR_RESPONSES[code][0])
    return responses


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    # An empty value ("?as_of=") is taken as the parameter left out, as forms send it.
    return {"name": name, "in": "query", "required": False, "allowEmptyValue": True, "description": description,
            "schema": schema}


KEY_SECURITY = [{"ApiKeyQuery": []}, {"ApiKeyHeader": []}]


def _schemas(theme_codes: list[str]) -> dict[str, Any]:
    datetime_string = {"type": "string", "format": "date-time"}
    return {
        "Error": {
            "type": "object", "required": ["code", "description"], "xml": {"name": "error"},
            "properties": {
                "code": {"type": "integer", "description": "错误代码，与 HTTP 状态码相同。"},
                "description": {"type": "string", "description": "中文说明。"},
            },
        },
        "Errors": {"type": "array", "items": _ref("schemas", "Error"), "xml": {"name": "errors", "wrapped": True}},
        "Service": {
            "type": "object", "xml": {"name": "service"},
            "required": ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"],
            "properties": {
                "service_code": {"type": "string", "enum": theme_codes, "description": "主题代码（THEMES.md）。"},
                "service_name": {"type": "string", "description": "主题中文名称。"},
                "description": {"type": "string"},
                "metadata": {"type": "boolean", "enum": [False], "description": "无附加字段，恒为 false。"},
                "type": {"type": "string", "enum": ["realtime"]},
                "keywords": {"type": "string", "description": "逗号分隔的关键词。"},
                "group": {"type": "string", "description": "主题分组。"},
            },
        },
        "Services": {"type": "array", "items": _ref("schemas", "Service"),
                     "xml": {"name": "services", "wrapped": True}},
        "ServiceRequest": {
            "type": "object", "xml": {"name": "request"},
            "required": ["service_request_id", "status", "status_notes", "service_name", "service_code",
                         "description", "agency_responsible", "service_notice", "requested_datetime",
                         "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
                         "long", "media_url"],
            "properties": {
                "service_request_id": {"type": "string", "description": "工单编号。"},
                "status": {"type": "string", "enum": ["open", "closed"],
                           "description": "已接收、已派单、办理中、退单为 open；已办结、已回访、已并单为 closed。"},
                "status_notes": {"type": "string", "description": "中文办理状态（如“办理中”）。"},
                "service_name": {"type": "string"},
                "service_code": {"type": "string", "description": "工单的第一主题代码。"},
                "description": {"type": "string", "maxLength": 4000,
                                "description": "诉求内容，其中的姓名与电话已脱敏。"},
                "agency_responsible": _nullable("string", "承办街道，未派单时为导入的承办单位。"),
                "service_notice": _nullable("string", "办理进展或结果（已脱敏）。"),
                "requested_datetime": {**datetime_string, "description": "受理时间（+08:00）。"},
                "updated_datetime": {**datetime_string, "description": "最后更新时间；已办结的为办结时间。"},
                "expected_datetime": _nullable("string", "办理时限。", format="date-time"),
                "address": {"type": "string", "description": "诉求地址（已脱敏）。"},
                "address_id": _nullable("string", "匹配到的小区编号。"),
                "zipcode": _nullable("string", "邮编（暂不提供）。"),
                "lat": _nullable("number", "纬度（WGS84）。"),
                "long": _nullable("number", "经度（WGS84）。"),
                "media_url": _nullable("string", "附件地址（暂不提供）。"),
            },
        },
        "ServiceRequests": {"type": "array", "items": _ref("schemas", "ServiceRequest"),
                            "xml": {"name": "service_requests", "wrapped": True}},
        "CreatedRequest": {
            "type": "object", "xml": {"name": "request"},
            "required": ["service_request_id", "service_notice", "account_id"],
            "properties": {
                "service_request_id": {"type": "string", "description": "新工单的编号。"},
                "service_notice": {"type": "string"},
                "account_id": _nullable("string", "原样返回提交的 account_id。"),
            },
        },
        "CreatedRequests": {"type": "array", "items": _ref("schemas", "CreatedRequest"),
                            "xml": {"name": "service_requests", "wrapped": True}},
        "RequestUpdate": {
            "type": "object", "xml": {"name": "request_update"},
            "required": ["update_id", "service_request_id", "status", "updated_datetime", "description",
                         "media_url"],
            "properties": {
                "update_id": {"type": "string", "description": "事件编号，递增。"},
                "service_request_id": {"type": "string"},
                "status": {"type": "string", "enum": ["open", "closed"]},
                "updated_datetime": datetime_string,
                "description": {"type": "string", "description": "新状态及说明（已脱敏）。"},
                "media_url": _nullable("string", "暂不提供。"),
            },
        },
        "RequestUpdates": {"type": "array", "items": _ref("schemas", "RequestUpdate"),
                           "xml": {"name": "service_request_updates", "wrapped": True}},
        "NewRequest": {
            "type": "object",
            "required": ["service_code", "description"],
            "description": "位置必须提供：address_string，或同时提供 lat 与 long（两者须同时出现）。",
            "allOf": [
                {"anyOf": [{"required": ["address_string"]}, {"required": ["lat", "long"]}]},
                {"anyOf": [{"required": ["lat", "long"]},
                           {"not": {"anyOf": [{"required": ["lat"]}, {"required": ["long"]}]}}]},
            ],
            "properties": {
                "api_key": {"type": "string", "description": "API 密钥（也可放在 X-API-Key 请求头或查询参数中）。"},
                "jurisdiction_id": {"type": "string", "description": "单一辖区，忽略。"},
                "service_code": {"type": "string", "enum": theme_codes},
                "description": {"type": "string", "minLength": 1, "maxLength": 4000, "pattern": "\\S"},
                "address_string": {"type": "string", "minLength": 1, "maxLength": 256, "pattern": "\\S"},
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                "long": {"type": "number", "minimum": -180, "maximum": 180},
                "first_name": {"type": "string", "maxLength": 64},
                "last_name": {"type": "string", "maxLength": 64},
                "phone": {"type": "string", "maxLength": 32},
                "email": {"type": "string", "maxLength": 2048},
                "device_id": {"type": "string", "maxLength": 2048},
                "account_id": {"type": "string", "maxLength": 2048},
                "media_url": {"type": "string", "maxLength": 2048},
            },
        },
    }


# --- the project library (项目库) ------------------------------------------------------------------

def _json_ok(description: str, schema: str, *errors: str) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": {"description": description,
                                         "content": {"application/json": {"schema": _ref("schemas", schema)}}}}
    for code in errors:
        responses[code] = _ref("responses", ERROR_RESPONSES[code][0])
    return responses


def _project_params() -> list[dict[str, Any]]:
    return [
        _query("street_id", "只看该街道（街道密钥只能是本街道，其他街道结果为空）。",
               {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}),
        _query("as_of", "计算日期（北京时间），默认今天；2000-01-01 至 2100-12-31。",
               {"type": "string", "format": "date", "pattern": "^(?:20[0-9]{2}|2100)-"}),
    ]


def _project_paths(theme_codes: list[str]) -> dict[str, Any]:
    errors = ("400", "401", "403", "429", "500")
    return {
        "/projects/ranking.json": {
            "get": {
                "tags": ["projects"], "operationId": "getProjectRanking",
                "summary": "项目排序（储备、入库项目，含各因素得分明细）",
                "description": "0–100 分，五个因素在全区候选项目中缩放；排名为全区排名。",
                "security": KEY_SECURITY,
                "parameters": [
                    *_project_params(),
                    _query("category", "项目类别。", {"type": "string", "enum": ["basic", "improve", "enhance"]}),
                    _query("status", "项目状态（只含候选）。", {"type": "string", "enum": ["proposed", "approved"]}),
                ],
                "responses": _json_ok("排序结果", "ProjectRanking", *errors),
            },
        },
        "/projects/plan.json": {
            "get": {
                "tags": ["projects"], "operationId": "getAnnualPlan",
                "summary": "年度计划：给定预算（万元）选出总分最高的可实施项目",
                "description": "不具备实施条件的项目不入选；紧急基础类优先，其余按 0/1 背包精确求解。",
                "security": KEY_SECURITY,
                "parameters": [
                    {"name": "budget", "in": "query", "required": True,
                     "description": "年度预算，单位万元，0 至 100000000，最多两位小数（如 800 或 1250.50）。",
                     # a decimal string: "two decimals" is exact here, a float's multipleOf 0.01 is not
                     "schema": {"type": "string", "pattern": "^(?:[0-9]{1,8}(?:\\.[0-9]{1,2})?|100000000(?:\\.0{1,2})?)$",
                                "example": "800"}},
                    *_project_params(),
                ],
                "responses": _json_ok("年度计划", "AnnualPlan", *errors),
            },
        },
        "/projects/gaps.json": {
            "get": {
                "tags": ["projects"], "operationId": "getDemandGaps",
                "summary": "需求缺口：需求强度高、尚无在建或待建项目覆盖的小区 × 主题",
                "security": KEY_SECURITY,
                "parameters": [
                    *_project_params(),
                    _query("theme", "只看该主题（other 不列入）。",
                           {"type": "string", "enum": [c for c in theme_codes if c != "other"]}),
                ],
                "responses": _json_ok("需求缺口", "DemandGaps", *errors),
            },
        },
    }


def _project_schemas(theme_codes: list[str]) -> dict[str, Any]:
    money = {"type": "string", "pattern": "^[0-9]+\\.[0-9]{2}$", "description": "万元，两位小数。"}
    day = {"type": "string", "format": "date"}
    number = {"type": "number"}
    ranked_props = {
        "project_id": {"type": "integer"}, "name": {"type": "string"}, "street_id": {"type": "integer"},
        "street": {"type": "string", "nullable": True},
        "category": {"type": "string", "enum": ["basic", "improve", "enhance"]}, "category_label": {"type": "string"},
        "status": {"type": "string", "enum": ["proposed", "approved", "in_progress", "completed"]},
        "status_label": {"type": "string"}, "cost_wan": money, "households_covered": {"type": "integer"},
        "estates": {"type": "array", "items": {"type": "object", "required": ["id", "name"],
                                               "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}},
        "themes": {"type": "array", "items": {"type": "string", "enum": theme_codes}},
        "rank": {"type": "integer", "nullable": True}, "candidate": {"type": "boolean"},
        "total": {"type": "number", "minimum": 0, "maximum": 100},
        "factors": {"type": "array", "items": _ref("schemas", "ScoreFactor")},
        "eligible": {"type": "boolean"}, "ineligible_reason": {"type": "string", "nullable": True},
        "eligibility_note": {"type": "string"}, "consent_survey_id": {"type": "integer", "nullable": True},
        "weight_set_version": {"type": "integer"}, "urgent_basic": {"type": "boolean"}, "as_of": day,
    }
    return {
        "ScoreFactor": {
            "type": "object", "required": ["code", "label", "raw", "maximum", "scaled", "weight", "points"],
            "properties": {
                "code": {"type": "string", "enum": ["demand", "support", "urgency", "category", "cost"]},
                "label": {"type": "string"}, "raw": number,
                "maximum": {"type": "number", "description": "候选项目中该因素原始值的最大值（缩放分母）。"},
                "scaled": {"type": "number", "minimum": 0, "maximum": 1}, "weight": number,
                "points": {"type": "number", "description": "100 × 权重 × 缩放值。"},
                "unit": {"type": "string"}, "note": {"type": "string"},
            },
        },
        "RankedProject": {"type": "object", "required": ["project_id", "name", "total", "factors", "eligible"],
                          "properties": ranked_props},
        "ProjectRanking": {
            "type": "object", "required": ["as_of", "weight_set_version", "count", "projects"],
            "properties": {"as_of": day, "weight_set_version": {"type": "integer"}, "count": {"type": "integer"},
                           "projects": {"type": "array", "items": _ref("schemas", "RankedProject")}},
        },
        "PlanItem": {
            "type": "object", "required": ["project_id", "name", "total", "plan_reason", "urgent_first"],
            "properties": {**ranked_props, "plan_reason": {"type": "string", "description": "入选或未入选的原因。"},
                           "urgent_first": {"type": "boolean"}},
        },
        "AnnualPlan": {
            "type": "object", "required": ["budget_wan", "as_of", "totals", "chosen", "left_out"],
            "properties": {
                "budget_wan": money, "as_of": day, "street_id": {"type": "integer", "nullable": True},
                "weight_set_version": {"type": "integer"}, "urgent_basic_share": number,
                "totals": {"type": "object", "required": ["cost_wan", "score", "budget_left_wan", "chosen", "left_out"],
                           "properties": {"cost_wan": money, "score": number, "budget_left_wan": money,
                                          "chosen": {"type": "integer"}, "left_out": {"type": "integer"}}},
                "chosen": {"type": "array", "items": _ref("schemas", "PlanItem")},
                "left_out": {"type": "array", "items": _ref("schemas", "PlanItem")},
            },
        },
        "DemandGap": {
            "type": "object",
            "required": ["estate_id", "estate_name", "street_id", "street_name", "households", "theme", "theme_name",
                         "per_100", "counted", "urgent_share"],
            "properties": {
                "estate_id": {"type": "integer"}, "estate_name": {"type": "string"}, "street_id": {"type": "integer"},
                "street_name": {"type": "string"}, "households": {"type": "integer"},
                "theme": {"type": "string", "enum": theme_codes}, "theme_name": {"type": "string"},
                "per_100": {"type": "number", "description": "每百户需求强度（365 天，180 天半衰期）。"},
                "counted": {"type": "integer", "description": "计入的诉求条数。"},
                "urgent_share": {"type": "number", "minimum": 0, "maximum": 1},
            },
        },
        "DemandGaps": {
            "type": "object", "required": ["as_of", "window_days", "min_per_100", "min_counted", "count", "gaps"],
            "properties": {"as_of": day, "window_days": {"type": "integer"}, "min_per_100": number,
                           "min_counted": {"type": "integer"}, "count": {"type": "integer"},
                           "gaps": {"type": "array", "items": _ref("schemas", "DemandGap")}},
        },
    }


def openapi_document() -> dict[str, Any]:
    from nlp.themes import THEME_CODES

    format_param = _ref("parameters", "Format")
    window = ("按受理时间（状态变化时间）筛选，包含两端。ISO 8601 日期时间，必须带时区（Z、±HH:MM 或 ±HH），"
              "如 2026-03-01T00:00:00+08:00，也接受基本格式 20260301T000000+0800。未给出时为最近 90 天；"
              "只给一端时取其后（前）90 天；范围超过 90 天时只取 start_date 起的 90 天；"
              "start_date 晚于 end_date 时结果为空。")
    date_params = [_ref("parameters", "StartDate"), _ref("parameters", "EndDate")]
    jurisdiction = _ref("parameters", "Jurisdiction")
    code_list = list_pattern(THEME_CODES)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "民声 Minsheng API（Open311 GeoReport v2）",
            "version": API_VERSION,
            "description": (
                "12345 热线等系统通过 Open311 GeoReport v2 接口推送和查询工单：services 即诉求主题，"
                "requests 即工单。每个接口都有 .xml（规范要求的格式）与 .json 两种格式，由扩展名选择。"
                "除本文档与 services 外，调用都需要 API 密钥（api_key 参数或 X-API-Key 请求头），"
                "由区住建局管理员在“API 密钥”页面创建。街道密钥只能看到本街道的工单且不能提交诉求。"
                "所有日期时间为 W3C/ISO 8601 格式，以北京时间（+08:00）给出。来电人姓名和电话从不出现在"
                "响应中，诉求内容中的姓名和电话已脱敏。错误按 Open311 格式返回："
                "XML <errors><error><code/><description/></error></errors>，JSON [{\"code\", \"description\"}]。"
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "tags": [{"name": "open311", "description": "Open311 GeoReport v2"},
                 {"name": "projects", "description": "项目库：排序、年度计划、需求缺口（JSON）"},
                 {"name": "meta", "description": "本文档"}],
        "paths": {
            "/openapi.json": {
                "get": {
                    "tags": ["meta"], "operationId": "getOpenApi", "summary": "本 OpenAPI 文档（无需密钥）",
                    "security": [],
                    "responses": {
                        "200": {"description": "OpenAPI 3 文档",
                                "content": {"application/json": {"schema": {"type": "object"}}}},
                        "429": _ref("responses", "TooManyRequests"),
                    },
                },
            },
            "/services.{format}": {
                "parameters": [format_param],
                "get": {
                    "tags": ["open311"], "operationId": "getServices",
                    "summary": "服务类型列表（诉求主题）",
                    "description": "无需密钥；若提供了密钥则会校验。",
                    "security": [{}, *KEY_SECURITY],
                    "parameters": [jurisdiction],
                    "responses": _responses("服务类型", "Services", "403", "404", "429", "500"),
                },
            },
            "/requests.{format}": {
                "parameters": [format_param],
                "get": {
                    "tags": ["open311"], "operationId": "getServiceRequests",
                    "summary": "查询工单",
                    "description": f"按受理时间倒序，最多 {MAX_RESULTS} 条。",
                    "security": KEY_SECURITY,
                    "parameters": [
                        _query("service_request_id",
                               "工单编号，逗号分隔（给出时忽略其他条件）。", {"type": "string"}),
                        _query("service_code", "主题代码，逗号分隔；匹配工单的第一主题。",
                               {"type": "string", "pattern": code_list}),
                        _query("status", "open、closed，或逗号分隔两者（open,closed）。",
                               {"type": "string", "pattern": STATUS_PATTERN}),
                        *date_params,
                        jurisdiction,
                    ],
                    "responses": _responses("工单列表", "ServiceRequests", "400", "401", "403", "404", "429",
                                            "500"),
                },
                "post": {
                    "tags": ["open311"], "operationId": "createServiceRequest",
                    "summary": "提交诉求（新建工单，自动识别主题并匹配小区）",
                    "description": "需要区级密钥。service_code 作为工单的第一主题。",
                    "security": KEY_SECURITY,
                    "requestBody": {
                        "required": True,
                        "content": {"application/x-www-form-urlencoded": {
                            "schema": _ref("schemas", "NewRequest")}},
                    },
                    "responses": _responses("已受理", "CreatedRequests", "400", "401", "403", "404", "429", "500"),
                },
            },
            "/requests/{service_request_id}.{format}": {
                "parameters": [
                    {"name": "service_request_id", "in": "path", "required": True, "description": "工单编号",
                     "schema": {"type": "string"}},
                    format_param,
                ],
                "get": {
                    "tags": ["open311"], "operationId": "getServiceRequest", "summary": "查询单个工单",
                    "security": KEY_SECURITY,
                    "parameters": [jurisdiction],
                    "responses": _responses("一个工单（列表中仅一项）", "ServiceRequests", "401", "403", "404",
                                            "429", "500"),
                },
            },
            "/servicerequestupdates.{format}": {
                "parameters": [format_param],
                "get": {
                    "tags": ["open311"], "operationId": "getServiceRequestUpdates",
                    "summary": "工单状态变化（FixMyStreet 的 Open311 更新扩展）",
                    "description": f"在时间范围内的状态变化，按时间正序，最多 {MAX_RESULTS} 条。",
                    "security": KEY_SECURITY,
                    "parameters": [*date_params, jurisdiction],
                    "responses": _responses("状态变化", "RequestUpdates", "400", "401", "403", "404", "429",
                                            "500"),
                },
            },
            **_project_paths(list(THEME_CODES)),
        },
        "components": {
            "securitySchemes": {
                "ApiKeyQuery": {"type": "apiKey", "in": "query", "name": "api_key",
                                "description": "Open311 规定的 api_key 参数（POST 时也可放在表单中）。"},
                "ApiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
            "parameters": {
                "Format": {"name": "format", "in": "path", "required": True, "description": "响应格式",
                           "schema": {"type": "string", "enum": ["xml", "json"]}},
                "StartDate": {"name": "start_date", "in": "query", "required": False, "allowEmptyValue": True,
                              "description": window,
                              "schema": {"type": "string", "format": "date-time", "example": "2026-03-01T00:00:00+08:00"}},
                "EndDate": {"name": "end_date", "in": "query", "required": False, "allowEmptyValue": True,
                            "description": window,
                            "schema": {"type": "string", "format": "date-time", "example": "2026-03-31T23:59:59Z"}},
                "Jurisdiction": {"name": "jurisdiction_id", "in": "query", "required": False, "allowEmptyValue": True,
                                 "description": "单一辖区，忽略。", "schema": {"type": "string"}},
            },
            "schemas": {**_schemas(list(THEME_CODES)), **_project_schemas(list(THEME_CODES))},
            "responses": {
                name: {"description": description, "content": _both("Errors")}
                for name, description in ERROR_RESPONSES.values()
            },
        },
    }
