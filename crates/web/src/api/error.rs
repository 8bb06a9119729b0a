//! The JSON API's error answer (`{"error": "…"}` with a status) and how a caller is
//! authenticated: a bearer token, else the session cookie.

use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::session::{self, CurrentUser};
use crate::{AppState, WebError};

/// An API error: a status and a Chinese sentence, answered as `{"error": "…"}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: &str) -> ApiError {
        ApiError { status, message: message.to_owned() }
    }

    /// No session and no valid token.
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "未登录或访问令牌无效：请先登录，或在 Authorization 标头中提供有效的访问令牌（Bearer）",
        )
    }

    /// A helper cadre asking for an area's answers: their scope is their paired
    /// households (`/api/v1/search`, `/api/v1/households/{hh_id}`), not an area.
    pub fn paired_only() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "帮扶责任人只能查看结对帮扶的农户，不能查看片区数据")
    }

    /// A role the route is not for.
    pub fn forbidden(why: &str) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, why)
    }

    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "记录不存在，或不在您的管辖范围内")
    }
}

/// The body of every error answer.
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(ErrorBody { error: &self.message })).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        r
    }
}

impl From<WebError> for ApiError {
    fn from(e: WebError) -> ApiError {
        match e {
            WebError::NotFound => ApiError::not_found(),
            WebError::SignIn => ApiError::unauthorized(),
            WebError::Forbidden => ApiError::new(StatusCode::FORBIDDEN, "无权访问"),
            WebError::BadRequest(m) => ApiError { status: StatusCode::BAD_REQUEST, message: m },
            WebError::Refused(m) => ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, message: m },
            other => {
                tracing::error!(error = %other, "接口请求处理失败");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "服务器出错了，已记录在日志中，请稍后再试")
            }
        }
    }
}

impl From<fupin_store::StoreError> for ApiError {
    fn from(e: fupin_store::StoreError) -> ApiError {
        WebError::from(e).into()
    }
}

/// A use case's answer as the API gives it, with the pages' statuses (see
/// `From<AppError> for WebError`): 404, 403, 400, 422 with their messages, else 500.
impl From<fupin_app::AppError> for ApiError {
    fn from(e: fupin_app::AppError) -> ApiError {
        WebError::from(e).into()
    }
}

/// What an API handler returns: a JSON answer or an [`ApiError`].
pub(crate) type ApiResult<T> = Result<Json<T>, ApiError>;

/// The caller of an API route: a bearer token if the request carries an
/// `Authorization` header (and then only the token counts), else the session cookie.
pub(crate) async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<CurrentUser, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return crate::session::current_user(state, headers).await.map_err(ApiError::from);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty() && t.len() <= 200)
        .ok_or_else(ApiError::unauthorized)?;
    let user = match fupin_store::tokens::token_use(&state.store, &session::token_hash(token)).await? {
        fupin_store::tokens::TokenUse::Live(user) if !user.disabled => user,
        fupin_store::tokens::TokenUse::Expired { username, name } => {
            tracing::warn!(username = %username, token = %name, "拒绝过期的访问令牌");
            let detail = format!("令牌“{name}”已过期");
            let record = fupin_store::users::AuthRecord {
                username: &username,
                event: fupin_store::users::AuthEvent::TokenExpired,
                detail: &detail,
                actor: None,
                remote_addr: None,
            };
            fupin_store::users::log_auth(&state.store, &record).await?;
            return Err(ApiError::unauthorized());
        }
        _ => return Err(ApiError::unauthorized()),
    };
    Ok(CurrentUser::load(&state.store, user, state.config.today).await?)
}
