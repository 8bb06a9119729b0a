//! 用户管理, for county administrators only: the list of accounts (role, area,
//! disabled, last sign-in), creating one, and on each account's page disabling or
//! enabling it, resetting its password and changing its role or area. Each change is
//! a same-origin POST form; a generated password is shown once, on the answer to the
//! POST, and never again. The checks themselves live in `fupin_app::accounts`, shared
//! with `fupin user`.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use fupin_store::users::{self, Role, User};
use fupin_store::views::{self, DivisionRow};
use serde::Deserialize;

use super::{Nav, html};
use crate::display::beijing;
use crate::i18n::Tr;
use crate::session::{Admin, RemoteAddr};
use crate::{AppState, WebError};
use fupin_app::AppError;
use fupin_app::accounts::{self, AccountRequest, ChangedBy};
use fupin_domain::departments::Departments;

/// A role as a choice on a form.
struct RoleOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

fn role_options(t: Tr, selected: &str) -> Vec<RoleOption> {
    Role::ALL
        .into_iter()
        .map(|r| RoleOption { value: r.as_str(), label: super::role_label(t, r), selected: r.as_str() == selected })
        .collect()
}

/// A division as a choice on a form, indented by level.
struct AreaOption {
    code: String,
    label: String,
    selected: bool,
}

fn area_options(t: Tr, divisions: &[DivisionRow], selected: &str) -> Vec<AreaOption> {
    divisions
        .iter()
        .map(|d| {
            let (indent, level) = match d.level.as_str() {
                "county" => ("", t.t("level.county")),
                "township" => ("\u{3000}", t.t("level.township")),
                _ => ("\u{3000}\u{3000}", t.t("level.village_short")),
            };
            AreaOption {
                code: d.code.clone(),
                label: format!(
                    "{indent}{}",
                    t.f3("admin.area_option", "name", &d.name, "level", level, "code", &d.code)
                ),
                selected: d.code == selected,
            }
        })
        .collect()
}

/// A department as a choice on a form (code-list labels are data, shown as recorded).
struct DepartmentOption {
    code: String,
    label: String,
    selected: bool,
}

fn department_options(selected: &str) -> Vec<DepartmentOption> {
    Departments::builtin()
        .codes
        .codes
        .iter()
        .map(|c| DepartmentOption {
            code: c.code.clone(),
            label: format!("{} {}", c.code, c.label),
            selected: c.code == selected,
        })
        .collect()
}

/// One account as the list shows it.
struct UserLine {
    username: String,
    display_name: String,
    role: &'static str,
    area: String,
    /// A department officer's department (`03 民政`), else empty.
    department: String,
    disabled: bool,
    locked: bool,
    last_login: String,
}

fn line(t: Tr, user: &User, names: &HashMap<String, String>) -> UserLine {
    let code = user.area.as_str();
    let locked = user
        .locked_until
        .as_deref()
        .and_then(users::parse_timestamp)
        .is_some_and(|t| t > time::OffsetDateTime::now_utc());
    UserLine {
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        role: super::role_label(t, user.role),
        area: names.get(code).map(|n| format!("{n}（{code}）")).unwrap_or_else(|| code.to_owned()),
        department: user
            .department
            .as_deref()
            .map(|d| format!("{d} {}", Departments::builtin().codes.label(d).unwrap_or_default()))
            .unwrap_or_default(),
        disabled: user.disabled,
        locked,
        last_login: user.last_login_at.as_deref().map(beijing).unwrap_or_else(|| t.t("admin.never").to_owned()),
    }
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    t: Tr,
    nav: Option<Nav>,
    users: Vec<UserLine>,
    message: String,
    form: CreateForm,
    roles: Vec<RoleOption>,
    areas: Vec<AreaOption>,
    departments: Vec<DepartmentOption>,
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage {
    t: Tr,
    nav: Option<Nav>,
    user: UserLine,
    message: String,
    roles: Vec<RoleOption>,
    areas: Vec<AreaOption>,
    departments: Vec<DepartmentOption>,
    /// The account's API tokens, each revocable here.
    tokens: Vec<crate::api::tokens::TokenRow>,
}

#[derive(Template)]
#[template(path = "admin_password.html")]
struct PasswordPage {
    t: Tr,
    nav: Option<Nav>,
    title: &'static str,
    username: String,
    password: String,
}

/// The form that creates an account; a missing field reads as empty.
#[derive(Deserialize, Default)]
pub(crate) struct CreateForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    area: String,
    /// Required for a department officer, else empty.
    #[serde(default)]
    department: String,
    /// Empty: generate one.
    #[serde(default)]
    password: String,
}

/// The password-reset form: empty generates one.
#[derive(Deserialize)]
pub(crate) struct ResetForm {
    #[serde(default)]
    password: String,
}

/// The role form: empty area keeps the account's own, and so does an empty
/// department of a department officer.
#[derive(Deserialize)]
pub(crate) struct RoleForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    area: String,
    #[serde(default)]
    department: String,
}

fn by<'a>(admin: &'a Admin, remote: &'a RemoteAddr) -> ChangedBy<'a> {
    ChangedBy { name: &admin.0.user.username, remote_addr: remote.0.as_deref() }
}

async fn area_names(state: &AppState) -> Result<(Vec<DivisionRow>, HashMap<String, String>), WebError> {
    let divisions = views::all_divisions(&state.store).await?;
    let names = divisions.iter().map(|d| (d.code.clone(), d.name.clone())).collect();
    Ok((divisions, names))
}

async fn users_page(
    state: &AppState,
    t: Tr,
    admin: &Admin,
    status: StatusCode,
    message: String,
    form: CreateForm,
) -> Result<Response, WebError> {
    let (divisions, names) = area_names(state).await?;
    let users = users::list(&state.store).await?.iter().map(|u| line(t, u, &names)).collect();
    let page = UsersPage {
        t,
        nav: Some(Nav::of(state, &admin.0).await?),
        users,
        message,
        roles: role_options(t, &form.role),
        areas: area_options(t, &divisions, &form.area),
        departments: department_options(&form.department),
        form,
    };
    Ok((status, html(&page)?).into_response())
}

/// The account in the path; 404 when there is none.
async fn target(state: &AppState, username: &str) -> Result<User, WebError> {
    users::find(&state.store, username).await?.ok_or(WebError::NotFound)
}

async fn user_page(
    state: &AppState,
    t: Tr,
    admin: &Admin,
    user: &User,
    status: StatusCode,
    message: String,
) -> Result<Response, WebError> {
    let (divisions, names) = area_names(state).await?;
    let page = UserPage {
        t,
        nav: Some(Nav::of(state, &admin.0).await?),
        user: line(t, user, &names),
        message,
        roles: role_options(t, user.role.as_str()),
        areas: area_options(t, &divisions, user.area.as_str()),
        departments: department_options(user.department.as_deref().unwrap_or_default()),
        tokens: crate::api::tokens::rows(state, t, &user.username).await?,
    };
    Ok((status, html(&page)?).into_response())
}

fn password_page(t: Tr, nav: Nav, title: &'static str, username: &str, password: String) -> Result<Response, WebError> {
    let page = PasswordPage { t, nav: Some(nav), title, username: username.to_owned(), password };
    Ok(html(&page)?.into_response())
}

/// `GET /admin/users`.
pub(crate) async fn list(State(state): State<AppState>, t: Tr, admin: Admin) -> Result<Response, WebError> {
    users_page(&state, t, &admin, StatusCode::OK, String::new(), CreateForm::default()).await
}

/// `POST /admin/users`: creates an account and shows its first password once.
pub(crate) async fn create(
    State(state): State<AppState>,
    t: Tr,
    admin: Admin,
    remote: RemoteAddr,
    Form(form): Form<CreateForm>,
) -> Result<Response, WebError> {
    let outcome = match accounts::parse_role(&form.role) {
        Ok(role) => {
            let request = AccountRequest {
                username: &form.username,
                display_name: &form.display_name,
                role,
                area: &form.area,
                password: Some(form.password.as_str()).filter(|p| !p.is_empty()),
                department: Some(form.department.as_str()),
            };
            accounts::add_user(&state.store, by(&admin, &remote), &request).await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(password) => {
            let nav = Nav::of(&state, &admin.0).await?;
            password_page(t, nav, t.t("admin.created"), form.username.trim(), password)
        }
        Err(AppError::Refused(m)) => {
            // The form comes back as typed, without the password.
            let form = CreateForm { password: String::new(), ..form };
            users_page(&state, t, &admin, StatusCode::UNPROCESSABLE_ENTITY, m, form).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /admin/users/{username}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    t: Tr,
    admin: Admin,
    Path(username): Path<String>,
) -> Result<Response, WebError> {
    let user = target(&state, &username).await?;
    user_page(&state, t, &admin, &user, StatusCode::OK, String::new()).await
}

/// Back to the account's page after a change, or the page with the refusal.
async fn after(
    state: &AppState,
    t: Tr,
    admin: &Admin,
    username: &str,
    outcome: Result<(), AppError>,
) -> Result<Response, WebError> {
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/admin/users/{username}")).into_response()),
        Err(AppError::Refused(m)) => {
            let user = target(state, username).await?;
            user_page(state, t, admin, &user, StatusCode::UNPROCESSABLE_ENTITY, m).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The token named in a revocation form.
#[derive(Deserialize)]
pub(crate) struct TokenForm {
    #[serde(default)]
    name: String,
}

/// `POST /admin/users/{username}/tokens/revoke`: a county admin revokes any account's
/// token by name (logged); an account or a token that does not exist is 404.
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    t: Tr,
    admin: Admin,
    remote: RemoteAddr,
    Path(username): Path<String>,
    Form(form): Form<TokenForm>,
) -> Result<Response, WebError> {
    let user = target(&state, &username).await?;
    let outcome = accounts::revoke_token(&state.store, by(&admin, &remote), &user.username, &form.name).await;
    after(&state, t, &admin, &user.username, outcome).await
}

async fn set_disabled(
    state: AppState,
    t: Tr,
    admin: Admin,
    remote: RemoteAddr,
    username: String,
    disabled: bool,
) -> Result<Response, WebError> {
    let user = target(&state, &username).await?;
    let outcome = accounts::set_disabled(&state.store, by(&admin, &remote), &user.username, disabled).await;
    state.cache.forget_sessions();
    after(&state, t, &admin, &user.username, outcome).await
}

/// `POST /admin/users/{username}/disable`: the account can no longer sign in and its
/// sessions end.
pub(crate) async fn disable(
    State(state): State<AppState>,
    t: Tr,
    admin: Admin,
    remote: RemoteAddr,
    Path(username): Path<String>,
) -> Result<Response, WebError> {
    set_disabled(state, t, admin, remote, username, true).await
}

/// `POST /admin/users/{username}/enable`.
pub(crate) async fn enable(
    State(state): State<AppState>,
    t: Tr,
    admin: Admin,
    remote: RemoteAddr,
    Path(username): Path<String>,
) -> Result<Response, WebError> {
    set_disabled(state, t, admin, remote, username, false).await
}

/// `POST /admin/users/{username}/reset`: a new password (typed or generated), shown once.
pub(crate) async fn reset(
    State(state): State<AppState>,
    t: Tr,
    admin: Admin,
    remote: RemoteAddr,
    Path(username): Path<String>,
    Form(form): Form<ResetForm>,
) -> Result<Response, WebError> {
    let user = target(&state, &username).await?;
    let typed = Some(form.password.as_str()).filter(|p| !p.is_empty());
    let outcome = accounts::reset_password(&state.store, by(&admin, &remote), &user.username, typed).await;
    state.cache.forget_sessions();
    match outcome {
        Ok(password) => {
            let nav = Nav::of(&state, &admin.0).await?;
            password_page(t, nav, t.t("admin.reset_done"), &user.username, password)
        }
        Err(e) => after(&state, t, &admin, &user.username, Err(e)).await,
    }
}

/// `POST /admin/users/{username}/role`: another role and area.
pub(crate) async fn role(
    State(state): State<AppState>,
    t: Tr,
    admin: Admin,
    remote: RemoteAddr,
    Path(username): Path<String>,
    Form(form): Form<RoleForm>,
) -> Result<Response, WebError> {
    let user = target(&state, &username).await?;
    let outcome = match accounts::parse_role(&form.role) {
        Ok(role) => {
            let area = Some(form.area.as_str()).filter(|a| !a.trim().is_empty());
            let department = Some(form.department.as_str());
            accounts::change_role(&state.store, by(&admin, &remote), &user.username, role, area, department).await
        }
        Err(e) => Err(e),
    };
    state.cache.forget_sessions();
    after(&state, t, &admin, &user.username, outcome).await
}
