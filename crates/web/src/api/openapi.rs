//! The OpenAPI 3.1 document of `/api/v1`, served at `/api/v1/openapi.json`.
//!
//! Written by hand with `serde_json::json!` (no generator dependency). A test here
//! checks that every `/api/v1` route of the router's table is in the document and
//! every path of the document is a route, so the two cannot drift apart.

use axum::Json;
use serde_json::{Value, json};

use super::SEARCH_LIMIT;
use super::households::{HISTORY_LIMIT, PER_PAGE};
use super::review::REVIEW_LIMIT;
use super::visits::VISITS_LIMIT;
use fupin_app::findings::PER_PAGE as FINDINGS_PER_PAGE;

/// `GET /api/v1/openapi.json` (public: it describes, it holds no data).
pub(crate) async fn document() -> Json<Value> {
    Json(build())
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// A GET operation answering `schema` with 200, and the errors every call may get.
fn get(id: &str, summary: &str, description: &str, parameters: Value, schema: &str, secured: bool) -> Value {
    let mut responses = json!({
        "200": { "description": "成功", "content": { "application/json": { "schema": schema_ref(schema) } } },
    });
    if secured {
        let error =
            |d: &str| json!({ "description": d, "content": { "application/json": { "schema": schema_ref("Error") } } });
        responses["401"] = error("未登录，或访问令牌无效、已撤销");
        responses["404"] = error("记录不存在，或不在调用者的管辖范围内（两者答复相同）");
    }
    let mut op = json!({
        "operationId": id,
        "summary": summary,
        "description": description,
        "parameters": parameters,
        "responses": responses,
    });
    if !secured {
        op["security"] = json!([]);
    }
    json!({ "get": op })
}

/// The POST that records a visit: a JSON body, 201 or 200, 403 and 422 besides.
fn post_visit() -> Value {
    let error =
        |d: &str| json!({ "description": d, "content": { "application/json": { "schema": schema_ref("Error") } } });
    let recorded = |d: &str| json!({ "description": d, "content": { "application/json": { "schema": schema_ref("RecordedVisit") } } });
    json!({
        "operationId": "record_visit",
        "summary": "记录走访",
        "description": "记录一次对该户的走访。同一个 key 重发只记录一次（答复 200 和第一次记录的走访）。部门数据员和督查人员答复 403；字段不对答复 422 并说明原因。用访问令牌调用时不需要 Origin 标头；用会话 Cookie 调用时须是同源请求。",
        "parameters": [path_param("hh_id", "户编号，须在调用者的管辖范围内（帮扶责任人：结对农户）")],
        "requestBody": { "required": true, "content": { "application/json": { "schema": schema_ref("NewVisit") } } },
        "responses": {
            "201": recorded("已记录"),
            "200": recorded("这个 key 已记录过，未重复记录"),
            "401": error("未登录，或访问令牌无效、已撤销"),
            "403": error("调用者的角色不能记录走访"),
            "404": error("记录不存在，或不在调用者的管辖范围内（两者答复相同）"),
            "422": error("字段不对：日期、方式、走访情况或 key"),
        },
    })
}

/// The POST that searches with the query in the body (a whole ID number).
fn post_search() -> Value {
    let error =
        |d: &str| json!({ "description": d, "content": { "application/json": { "schema": schema_ref("Error") } } });
    json!({
        "operationId": "search_post",
        "summary": "查询（请求内容）",
        "description": format!("与 GET 相同，查询内容在请求内容中，可以是完整证件号码（不出现在网址中），最多 {SEARCH_LIMIT} 条。用访问令牌调用时不需要 Origin 标头；用会话 Cookie 调用时须是同源请求。"),
        "requestBody": { "required": true, "content": { "application/json": { "schema": schema_ref("SearchQuery") } } },
        "responses": {
            "200": { "description": "成功", "content": { "application/json": { "schema": schema_ref("SearchResult") } } },
            "400": error("请求内容不是 {\"q\": …}，或 q 为空"),
            "401": error("未登录，或访问令牌无效、已撤销"),
        },
    })
}

/// The POST that proposes, confirms or rejects an explanation of a finding.
fn post_explanation() -> Value {
    let error =
        |d: &str| json!({ "description": d, "content": { "application/json": { "schema": schema_ref("Error") } } });
    json!({
        "operationId": "explain_finding",
        "summary": "说明问题",
        "description": "提出说明（propose，须写理由）：警告和提示级的问题立即视为已说明，错误级的问题须由提出人以外的乡镇干部或县级管理员确认（confirm）或退回（reject，须写理由）。与问题清单页面的检查相同：只有县级管理员、乡镇干部和村干部可以提出，只有乡镇干部和县级管理员可以确认或退回，其他情况答复 403；问题不在管辖范围内答复 404；状态不允许（如确认没有待确认说明的问题）或请求内容不对答复 422 并说明原因。每一步都记入变更记录。用访问令牌调用时不需要 Origin 标头；用会话 Cookie 调用时须是同源请求。",
        "parameters": [path_param("id", "问题编号，须在调用者的管辖范围内")],
        "requestBody": { "required": true, "content": { "application/json": { "schema": schema_ref("Explanation") } } },
        "responses": {
            "200": { "description": "已办理；答复问题现在的状态和说明记录", "content": { "application/json": { "schema": schema_ref("FindingDetail") } } },
            "401": error("未登录，或访问令牌无效、已撤销"),
            "403": error("调用者的角色不能办理这一步"),
            "404": error("记录不存在，或不在调用者的管辖范围内（两者答复相同）"),
            "422": error("状态不允许这一步，或请求内容不对：说明原因"),
        },
    })
}

fn path_param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": { "type": "string" } })
}

fn nullable(t: &str) -> Value {
    json!({ "type": [t, "null"] })
}

fn schemas() -> Value {
    let mut all = base_schemas();
    if let (Some(all), Value::Object(more)) = (all.as_object_mut(), more_schemas()) {
        all.extend(more);
    }
    all
}

/// The schemas of the dashboard, visits, review and findings answers.
fn more_schemas() -> Value {
    let string = json!({ "type": "string" });
    let integer = json!({ "type": "integer" });
    json!({
        "StatusFigures": {
            "type": "object",
            "required": ["by_status", "households", "persons", "monitored_households", "monitored_persons", "poor_persons", "incidence_percent", "below_threshold"],
            "properties": {
                "by_status": { "type": "array", "description": "按当年户类型：一般农户、在册贫困户、已脱贫户", "items": {
                    "type": "object", "required": ["status", "label", "households", "persons"],
                    "properties": { "status": string, "label": string, "households": integer, "persons": integer },
                } },
                "households": integer, "persons": integer,
                "monitored_households": { "type": "integer", "description": "年底风险未消除的监测户" },
                "monitored_persons": integer,
                "poor_persons": { "type": "integer", "description": "在册贫困人口（贫困发生率的分子）" },
                "incidence_percent": { "type": ["number", "null"], "description": "贫困发生率（%），无人口时为空" },
                "below_threshold": { "type": "boolean", "description": "低于当年退出标准" },
            },
        },
        "ChildFigures": {
            "allOf": [schema_ref("StatusFigures"), { "type": "object", "required": ["code", "name"], "properties": { "code": string, "name": string } }],
        },
        "Dashboard": {
            "type": "object",
            "required": ["area", "year", "threshold_percent", "threshold_note", "children", "total", "exits", "monitoring", "visits"],
            "properties": {
                "area": schema_ref("AreaRef"), "year": integer,
                "threshold_percent": { "type": ["number", "null"], "description": "当年贫困发生率退出标准（%）" },
                "threshold_note": nullable("string"),
                "children": { "type": "array", "items": schema_ref("ChildFigures"), "description": "下一级区划（村：本村）；部门数据员看不到户类型时为空" },
                "total": { "oneOf": [schema_ref("StatusFigures"), { "type": "null" }], "description": "合计；部门数据员看不到户类型时为 null（脱贫、监测、走访各项同理为空）" },
                "exits": { "type": "array", "description": "历年脱贫户数、人数（到所选年份为止）", "items": {
                    "type": "object", "required": ["year", "households", "persons"],
                    "properties": { "year": integer, "households": integer, "persons": integer },
                } },
                "monitoring": { "type": "array", "description": "监测对象按类型：风险未消除、已消除", "items": {
                    "type": "object", "required": ["monitor_type", "label", "open", "cleared"],
                    "properties": { "monitor_type": string, "label": string, "open": integer, "cleared": integer },
                } },
                "visits": {
                    "type": "object", "required": ["quarter_start", "quarter_end", "children"],
                    "description": "走访合规：当季（往年为第四季度）应走访、已走访的户",
                    "properties": {
                        "quarter_start": string, "quarter_end": string,
                        "children": { "type": "array", "items": {
                            "type": "object", "required": ["code", "name", "due", "visited", "missed", "rate_percent"],
                            "properties": { "code": string, "name": string, "due": integer, "visited": integer,
                                "missed": integer, "rate_percent": { "type": "number" } },
                        } },
                    },
                },
            },
        },
        "Visit": {
            "type": "object", "required": ["id", "visitor", "visited_on", "mode", "mode_label", "notes", "created_at"],
            "properties": {
                "id": integer, "visitor": string, "visited_on": { "type": "string", "format": "date" },
                "mode": { "type": "string", "enum": ["in_person", "phone"] }, "mode_label": string,
                "notes": { "type": "string", "description": "走访情况；其中的证件号码已遮蔽" },
                "created_at": { "type": "string", "format": "date-time" },
            },
        },
        "Visits": {
            "type": "object", "required": ["hh_id", "total", "limited", "visits"],
            "properties": {
                "hh_id": string, "total": integer,
                "limited": { "type": "boolean", "description": format!("只给出了最新的 {VISITS_LIMIT} 次") },
                "visits": { "type": "array", "items": schema_ref("Visit") },
            },
        },
        "SearchQuery": {
            "type": "object", "required": ["q"], "additionalProperties": false,
            "properties": { "q": { "type": "string", "maxLength": 50, "description": "姓名（部分）、户编号或完整的 18 位（15 位）证件号码" } },
        },
        "NewVisit": {
            "type": "object", "required": ["visited_on", "mode", "key"], "additionalProperties": false,
            "properties": {
                "visited_on": { "type": "string", "format": "date", "description": "走访日期，不晚于今天、不早于一年前" },
                "mode": { "type": "string", "enum": ["in_person", "phone"] },
                "notes": { "type": "string", "maxLength": fupin_store::visits::MAX_NOTES_CHARS },
                "key": { "type": "string", "minLength": 16, "maxLength": 100, "pattern": "^[A-Za-z0-9_-]+$",
                    "description": "幂等键：同一次走访重发时用同一个 key" },
            },
        },
        "RecordedVisit": {
            "type": "object", "required": ["new", "visit"],
            "properties": { "new": { "type": "boolean", "description": "false：这个 key 记录过" }, "visit": schema_ref("Visit") },
        },
        "Correction": {
            "type": "object",
            "required": ["key", "hh_id", "village_code", "entity", "entity_key", "field", "current", "proposed", "reason", "submitted_by", "submitted_at", "base_version", "found_version"],
            "properties": {
                "key": string, "hh_id": string, "village_code": string, "head_name": nullable("string"),
                "entity": { "type": "string", "enum": ["households", "persons"] }, "entity_key": string, "field": string,
                "current": { "type": "string", "description": "现在的值（代码标签；个人号码已遮蔽）" },
                "proposed": { "type": "string", "description": "提出的值（同上）" },
                "reason": string, "submitted_by": string, "submitted_at": string,
                "base_version": integer, "found_version": integer,
            },
        },
        "Review": {
            "type": "object", "required": ["area", "total", "limited", "corrections"],
            "properties": {
                "area": string, "total": integer,
                "limited": { "type": "boolean", "description": format!("只给出了前 {REVIEW_LIMIT} 条") },
                "corrections": { "type": "array", "items": schema_ref("Correction") },
            },
        },
        "Finding": {
            "type": "object",
            "required": ["id", "rule_id", "title", "severity", "level", "year", "entity", "status", "explanation", "values", "first_seen", "last_seen"],
            "properties": {
                "id": integer, "rule_id": string,
                "title": { "type": "string", "description": "规则的中文标题（非内置规则为其编号）" },
                "severity": { "type": "string", "enum": ["error", "warning", "info"] },
                "level": string, "year": integer, "hh_id": nullable("string"), "village_code": nullable("string"),
                "entity": string,
                "status": { "type": "string", "enum": ["open", "proposed", "explained", "fixed"] },
                "explanation": { "type": "string", "description": "问题说明，个人号码已遮蔽" },
                "values": { "description": "涉及的值，个人号码已遮蔽" },
                "proposed_by": nullable("string"), "proposed_reason": nullable("string"),
                "first_seen": string, "last_seen": string,
            },
        },
        "FindingDetail": {
            "allOf": [schema_ref("Finding"), {
                "type": "object", "required": ["history"],
                "properties": {
                    "proposed_at": nullable("string"), "confirmed_by": nullable("string"),
                    "confirmed_at": nullable("string"), "fixed_at": nullable("string"),
                    "history": { "type": "array", "items": schema_ref("ChangeRecord"),
                        "description": "说明的提出、确认、退回，按时间先后，取自变更记录" },
                },
            }],
        },
        "Explanation": {
            "type": "object", "required": ["action"], "additionalProperties": false,
            "properties": {
                "action": { "type": "string", "enum": ["propose", "confirm", "reject"],
                    "description": "propose 提出说明；confirm 确认；reject 退回" },
                "reason": { "type": "string", "maxLength": 500, "description": "理由：提出和退回时必填" },
            },
        },
        "Findings": {
            "type": "object", "required": ["area", "page", "pages", "per_page", "total", "findings"],
            "properties": {
                "area": schema_ref("AreaRef"), "page": integer, "pages": integer,
                "per_page": { "type": "integer", "const": FINDINGS_PER_PAGE }, "total": integer,
                "findings": { "type": "array", "items": schema_ref("Finding") },
            },
        },
    })
}

fn base_schemas() -> Value {
    let string = json!({ "type": "string" });
    let integer = json!({ "type": "integer" });
    json!({
        "Error": {
            "type": "object", "required": ["error"],
            "properties": { "error": { "type": "string", "description": "中文说明" } },
        },
        "Counts": {
            "type": "object", "required": ["households", "persons", "poor", "exited", "monitored"],
            "properties": {
                "households": { "type": "integer", "description": "户数" },
                "persons": { "type": "integer", "description": "人数" },
                "poor": { "type": ["integer", "null"], "description": "在册贫困户（看不到户类型的部门数据员为 null）" },
                "exited": { "type": ["integer", "null"], "description": "已脱贫户（同上）" },
                "monitored": { "type": ["integer", "null"], "description": "监测对象（风险未消除；同上）" },
            },
        },
        "AreaRef": {
            "type": "object", "required": ["code", "name", "level"],
            "properties": {
                "code": { "type": "string", "description": "区划代码（县 6 位、乡镇 9 位、村 12 位）" },
                "name": string,
                "level": { "type": "string", "enum": ["province", "city", "county", "township", "village"] },
            },
        },
        "AreaLine": {
            "allOf": [schema_ref("AreaRef"), { "type": "object", "required": ["counts"], "properties": { "counts": schema_ref("Counts") } }],
        },
        "Area": {
            "allOf": [schema_ref("AreaRef"), {
                "type": "object", "required": ["counts", "children"],
                "properties": {
                    "counts": schema_ref("Counts"),
                    "children": { "type": "array", "items": schema_ref("AreaLine"), "description": "下一级区划（村没有）" },
                },
            }],
        },
        "HouseholdLine": {
            "type": "object", "required": ["hh_id", "head_name", "group_no", "status", "status_label", "persons"],
            "properties": {
                "hh_id": string, "head_name": nullable("string"), "group_no": nullable("integer"),
                "status": { "type": "string", "description": "户类型代码" }, "status_label": string,
                "persons": integer,
            },
        },
        "HouseholdList": {
            "type": "object", "required": ["village", "page", "pages", "per_page", "total", "households"],
            "properties": {
                "village": schema_ref("AreaRef"), "page": integer, "pages": integer,
                "per_page": { "type": "integer", "const": PER_PAGE }, "total": integer,
                "households": { "type": "array", "items": schema_ref("HouseholdLine") },
            },
        },
        "Field": {
            "type": "object", "required": ["name", "header", "value"],
            "description": "一个字段：数据库列名、中文表头、存储值（个人号码为遮蔽后的值）、代码标签或可读值",
            "properties": {
                "name": string, "header": string,
                "value": { "type": "string", "description": "存储值；证件号码、电话、银行账号只显示部分" },
                "label": { "type": "string", "description": "代码的名称、是/否、金额（元）等可读形式" },
                "masked": { "type": "boolean", "description": "值已遮蔽（个人号码）" },
            },
        },
        "Row": {
            "type": "object", "required": ["fields"],
            "properties": { "fields": { "type": "array", "items": schema_ref("Field") } },
        },
        "Pairing": {
            "type": "object", "required": ["helper_id", "from_date"],
            "properties": {
                "helper_id": string, "helper_name": nullable("string"), "unit": nullable("string"),
                "unit_level": nullable("string"), "unit_level_label": nullable("string"),
                "from_date": string, "to_date": nullable("string"),
            },
        },
        "Household": {
            "type": "object",
            "required": ["hh_id", "village", "head_name", "status", "status_label", "fields", "members", "incomes", "pairings"],
            "properties": {
                "hh_id": string, "village": schema_ref("AreaRef"), "head_name": nullable("string"),
                "status": string, "status_label": string,
                "fields": { "type": "array", "items": schema_ref("Field"), "description": "户信息" },
                "members": { "type": "array", "items": schema_ref("Row"), "description": "家庭成员，户主在前" },
                "incomes": { "type": "array", "items": schema_ref("Row"), "description": "各年度收入，金额以分存储" },
                "pairings": { "type": "array", "items": schema_ref("Pairing"), "description": "结对帮扶" },
            },
        },
        "ChangeRecord": {
            "type": "object", "required": ["seq", "at", "actor", "entity", "entity_key", "op"],
            "properties": {
                "seq": integer, "at": { "type": "string", "format": "date-time" }, "actor": string,
                "source": nullable("string"), "entity": string, "entity_key": string,
                "op": { "type": "string", "enum": ["I", "U", "D"], "description": "新增、修改一个字段、删除" },
                "field": nullable("string"),
                "old_value": { "description": "修改前的值（新增、删除时为整行），个人号码已遮蔽" },
                "new_value": { "description": "修改后的值（新增、删除时为整行），个人号码已遮蔽" },
                "reason": nullable("string"),
            },
        },
        "History": {
            "type": "object", "required": ["hh_id", "limited", "records"],
            "properties": {
                "hh_id": string,
                "limited": { "type": "boolean", "description": format!("只给出了最新的 {HISTORY_LIMIT} 条") },
                "records": { "type": "array", "items": schema_ref("ChangeRecord") },
            },
        },
        "SearchHit": {
            "type": "object", "required": ["hh_id", "village_code", "status", "status_label"],
            "properties": {
                "hh_id": string, "village_code": string, "village_name": nullable("string"),
                "name": nullable("string"), "relation": nullable("string"), "relation_label": nullable("string"),
                "id_number": { "type": ["string", "null"], "description": "证件号码，已遮蔽" },
                "status": string, "status_label": string,
                "person_status": { "type": ["string", "null"], "description": "人员状态：已故、婚出、迁出的原成员才有（2 死亡，3 婚出，4 迁出）" },
                "person_status_label": nullable("string"),
            },
        },
        "SearchResult": {
            "type": "object", "required": ["q", "limited", "hits"],
            "properties": {
                "q": { "type": "string", "description": "查询内容；按完整证件号码查询时为空" },
                "limited": { "type": "boolean", "description": format!("只给出了前 {SEARCH_LIMIT} 条") },
                "hits": { "type": "array", "items": schema_ref("SearchHit") },
            },
        },
        "Me": {
            "type": "object", "required": ["username", "display_name", "role", "role_label", "area"],
            "properties": {
                "username": string, "display_name": string,
                "role": { "type": "string", "enum": ["county_admin", "township_officer", "village_cadre", "helper_cadre", "department_officer", "inspector"] },
                "role_label": string, "area": schema_ref("AreaRef"),
            },
        },
        "OpenApi": { "type": "object", "description": "本文档" },
    })
}

/// The whole document.
pub(crate) fn build() -> Value {
    let code = path_param("code", "区划代码，须在调用者的管辖范围内");
    let hh_id = path_param("hh_id", "户编号，须在调用者的管辖范围内");
    let page = json!({ "name": "page", "in": "query", "required": false,
        "description": "页码，从 1 开始；缺省或无效时为第 1 页", "schema": { "type": "integer", "minimum": 1 } });
    let q = json!({ "name": "q", "in": "query", "required": true,
        "description": "姓名（部分）、户编号或完整的 18 位（15 位）证件号码", "schema": { "type": "string", "maxLength": 50 } });
    let query = |name: &str, description: &str, schema: Value| json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema });
    let year = query("year", "年份，缺省或超出范围时为今年", json!({ "type": "integer", "minimum": 2014 }));
    let area_q = query("area", "区划代码，缺省为调用者的区域", json!({ "type": "string" }));
    let rule_q = query("rule", "规则编号", json!({ "type": "string" }));
    let severity_q = query("severity", "级别", json!({ "type": "string", "enum": ["error", "warning", "info"] }));
    let status_q =
        query("status", "状态", json!({ "type": "string", "enum": ["open", "proposed", "explained", "fixed"] }));
    let year_q = query("year", "政策年度", json!({ "type": "integer" }));
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "fupin 数据接口",
            "version": "1",
            "description": "县级防返贫监测登记库的数据接口：读取与网页相同的记录，另可记录走访、说明问题。与网页相同的管辖范围检查：范围以外的记录与不存在的记录一样答复 404；证件号码、电话和银行账号一律只显示部分。认证：网页登录的会话 Cookie，或在“访问令牌”页面（/account/tokens）创建的个人访问令牌（Authorization: Bearer）。错误答复为 {\"error\": \"中文说明\"}。",
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearerAuth": [] }, { "cookieAuth": [] }],
        "paths": {
            "/api/v1/me": get("me", "当前用户", "调用者的账号、角色和管辖区域。", json!([]), "Me", true),
            "/api/v1/areas/{code}": get("area", "区域概况",
                "一个县、乡镇或村的户数、人数、在册贫困户、已脱贫户、监测对象，以及下一级各区划的同样数字。帮扶责任人只看结对农户，答复 403。",
                json!([code]), "Area", true),
            "/api/v1/areas/{code}/households": get("village_households", "村户列表",
                format!("一个村（12 位代码）的户，按户编号排序，每页 {PER_PAGE} 户；不是村的代码答复 404；帮扶责任人答复 403。").as_str(),
                json!([code, page]), "HouseholdList", true),
            "/api/v1/households/{hh_id}": get("household", "户详情",
                "户信息（带代码标签）、家庭成员、各年度收入、结对帮扶；个人号码已遮蔽。帮扶责任人只能查看结对农户；部门数据员只得到户编号、村、姓名和本部门的字段。",
                json!([hh_id]), "Household", true),
            "/api/v1/households/{hh_id}/history": get("household_history", "户变更记录",
                format!("户、成员、收入和结对帮扶的变更记录，最新的在前，最多 {HISTORY_LIMIT} 条；个人号码已遮蔽。").as_str(),
                json!([hh_id]), "History", true),
            "/api/v1/search": {
                "get": get("search", "查询",
                    format!("在管辖范围内按姓名或户编号查找，最多 {SEARCH_LIMIT} 条；缺少 q 时答复 400。完整的证件号码不能放在网址中（答复 400）：请用 POST。").as_str(),
                    json!([q]), "SearchResult", true)["get"],
                "post": post_search(),
            },
            "/api/v1/dashboard/{code}": get("dashboard", "统计看板",
                "一个县、乡镇或村某一年的统计：下一级各区划的户类型户数人数、贫困发生率与退出标准、历年脱贫、监测对象按类型、当季走访合规。帮扶责任人答复 403。",
                json!([code, year]), "Dashboard", true),
            "/api/v1/households/{hh_id}/visits": {
                "get": get("household_visits", "户走访记录",
                    format!("该户的走访，最新的在前，最多 {VISITS_LIMIT} 次。").as_str(),
                    json!([hh_id]), "Visits", true)["get"],
                "post": post_visit(),
            },
            "/api/v1/review": get("review", "待审核的离线更正",
                format!("调用者管辖范围内待审核的离线更正，最多 {REVIEW_LIMIT} 条；只有县级管理员、乡镇干部和村干部可用，其他角色答复 403。").as_str(),
                json!([]), "Review", true),
            "/api/v1/findings": get("findings", "问题清单",
                format!("数据质量检查发现的问题，可按区域、规则、级别、状态、政策年度筛选，每页 {FINDINGS_PER_PAGE} 条；筛选值无效时答复 400，区域不在管辖范围内答复 404；帮扶责任人答复 403。").as_str(),
                json!([area_q, rule_q, severity_q, status_q, year_q, page]), "Findings", true),
            "/api/v1/findings/{id}": {
                "get": get("finding", "一个问题",
                    "一个问题及其说明记录（提出、确认、退回，取自变更记录）。帮扶责任人只能查看结对农户的问题；不在管辖范围内答复 404。",
                    json!([path_param("id", "问题编号，须在调用者的管辖范围内")]), "FindingDetail", true)["get"],
                "post": post_explanation(),
            },
            "/api/v1/openapi.json": get("openapi", "接口说明", "本文档（无需认证）。", json!([]), "OpenApi", false),
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http", "scheme": "bearer",
                    "description": "个人访问令牌：登录后在 /account/tokens 创建，只显示一次；撤销后立即失效。令牌具有其账号的角色和管辖范围。",
                },
                "cookieAuth": {
                    "type": "apiKey", "in": "cookie", "name": "fupin_session",
                    "description": "网页登录的会话 Cookie（HTTPS 部署时名为 __Host-fupin）。",
                },
            },
            "schemas": schemas(),
        },
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn the_document_and_the_router_list_the_same_api_routes() {
        let doc = build();
        let documented: BTreeSet<(String, String)> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |m| (m.to_uppercase(), path.clone())))
            .collect();
        let routed: BTreeSet<(String, String)> = crate::routes()
            .into_iter()
            .filter(|r| r.path.starts_with("/api/v1/"))
            .map(|r| (r.method.to_string(), r.path.to_owned()))
            .collect();
        assert_eq!(documented, routed);
    }

    #[test]
    fn every_schema_referenced_is_defined() {
        let doc = build();
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for part in text.split("#/components/schemas/").skip(1) {
            let name: String = part.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            assert!(schemas.contains_key(&name), "{name} is referenced but not defined");
        }
    }
}
