//! Accounts: the first administrator (`fupin init`), one account per role for a
//! demonstration (`fupin demo`), and the county admin's account management, shared by
//! the `/admin/users` pages and `fupin user`: create, disable/enable, reset password,
//! change role and area. Each management step is checked here (role, area level,
//! password strength) and written to the sign-in audit log.

use fupin_domain::DivisionCode;
use fupin_store::users::{self, AuthEvent, AuthRecord, NewUser, Role};
use fupin_store::views::{self, DivisionRow};
use fupin_store::{Store, StoreError, tokens};

use crate::{AppError, password};
use fupin_domain::departments::Departments;

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// A demonstration account, printed once by `fupin demo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAccount {
    pub username: String,
    pub password: String,
    /// 角色, e.g. 村干部.
    pub role_label: &'static str,
    /// The area the account sees, e.g. 棕溪镇.
    pub area_name: String,
}

impl std::fmt::Display for DemoAccount {
    /// One line to print: `village      密码 …  村干部 · 东关村`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:<12} 密码 {}  {} · {}", self.username, self.password, self.role_label, self.area_name)
    }
}

/// Usernames are what people type on a phone: ASCII letters, digits, `.`, `_`, `-`.
fn check_username(username: &str) -> Result<(), AppError> {
    let ok = (1..=32).contains(&username.len())
        && username.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(AppError::Refused(format!("用户名“{username}”无效：应为 1–32 个英文字母、数字或 . _ -")))
    }
}

/// Passwords refused as the first ones anybody tries.
const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "passw0rd",
    "password1",
    "12345678",
    "123456789",
    "1234567890",
    "87654321",
    "qwertyui",
    "qwerty123",
    "abcdefgh",
    "abc12345",
    "iloveyou",
    "admin123",
    "admin888",
    "fupin123",
    "a1234567",
];

/// Refuses a password that is short or easy to guess, saying why.
fn check_password(password: &str, username: &str) -> Result<(), AppError> {
    let weak = |why: &str| Err(AppError::Refused(format!("密码太弱：{why}")));
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::Refused(format!("密码太短：至少 {MIN_PASSWORD_CHARS} 个字符")));
    }
    let lower = password.to_lowercase();
    if password.chars().all(|c| c.is_ascii_digit()) {
        return weak("不能全是数字");
    }
    if password.chars().all(|c| password.starts_with(c)) {
        return weak("不能是同一个字符重复");
    }
    if !username.is_empty() && lower.contains(&username.to_lowercase()) {
        return weak("不能包含用户名");
    }
    if COMMON_PASSWORDS.contains(&lower.as_str()) {
        return weak("这是常见密码，请换一个");
    }
    Ok(())
}

fn code_of(d: &DivisionRow) -> Result<DivisionCode, AppError> {
    DivisionCode::parse(&d.code).map_err(|e| AppError::Refused(e.to_string()))
}

async fn county(store: &Store) -> Result<DivisionRow, AppError> {
    views::county(store)
        .await?
        .ok_or_else(|| AppError::Refused("登记库中还没有县级区划：请先用 fupin init 写入区划".to_owned()))
}

/// `fupin init`: one county administrator; returns the password (generated if
/// `None`) to print once.
pub async fn create_admin(store: &Store, username: &str, password: Option<&str>) -> Result<String, AppError> {
    check_username(username)?;
    let password = password.map(str::to_owned).unwrap_or_else(password::generate);
    check_password(&password, username)?;
    let county = county(store).await?;
    let hash = password::hash(&password).await?;
    let area = code_of(&county)?;
    let user = NewUser {
        username,
        password_hash: &hash,
        role: Role::CountyAdmin,
        area: &area,
        display_name: &format!("{}管理员", county.name),
        department: None,
    };
    users::insert(store, &user).await.map_err(refused)?;
    let detail = format!("{}，{}（{}），由 fupin init 创建", Role::CountyAdmin.label(), county.name, area);
    log(store, ChangedBy::COMMAND_LINE, username, AuthEvent::UserCreated, &detail).await?;
    Ok(password)
}

/// A store refusal (name taken) is the user's to read, not a server fault.
fn refused(e: StoreError) -> AppError {
    match e {
        StoreError::Refused(m) => AppError::Refused(m),
        other => AppError::Store(other),
    }
}

/// `fupin demo` only: one account per role, each with a fresh password — a county
/// administrator, a township officer of the first township that has households, a
/// village cadre and a helper cadre of the village with most households, a
/// department officer and an inspector for the county. An account that exists gets
/// a new password. Returns what to print.
pub async fn create_demo_accounts(store: &Store) -> Result<Vec<DemoAccount>, AppError> {
    let county = county(store).await?;
    let township = views::first_township_with_households(store).await?;
    let village = views::village_with_most_households(store).await?;
    let mut plan: Vec<(&str, Role, &DivisionRow)> = vec![("county", Role::CountyAdmin, &county)];
    if let Some(t) = &township {
        plan.push(("township", Role::TownshipOfficer, t));
    }
    if let Some(v) = &village {
        plan.push(("village", Role::VillageCadre, v));
        plan.push(("helper", Role::HelperCadre, v));
    }
    plan.push(("department", Role::DepartmentOfficer, &county));
    plan.push(("inspector", Role::Inspector, &county));

    let mut out = Vec::with_capacity(plan.len());
    for (username, role, area) in plan {
        let password = password::generate();
        let hash = password::hash(&password).await?;
        if users::find(store, username).await?.is_some() {
            users::set_password(store, username, &hash).await?;
        } else {
            let code = code_of(area)?;
            let display_name = format!("{}{}（演示）", area.name, role.label());
            // The demo department officer is 民政's: 低保 and 特困 are what they see.
            let department = (role == Role::DepartmentOfficer).then_some(DEMO_DEPARTMENT);
            let user =
                NewUser { username, password_hash: &hash, role, area: &code, display_name: &display_name, department };
            users::insert(store, &user).await.map_err(refused)?;
        }
        if role == Role::HelperCadre {
            // The demo helper cadre is the helper of its village with most households
            // paired, so that 我的农户 lists real households.
            let code = code_of(area)?;
            let helper = fupin_store::visits::busiest_helper_in(store, &code).await?;
            fupin_store::visits::set_helper(store, username, helper.as_deref()).await?;
        }
        out.push(DemoAccount {
            username: username.to_owned(),
            password,
            role_label: role.label(),
            area_name: area.name.clone(),
        });
    }
    Ok(out)
}

/// The department of the demo department officer: 民政.
const DEMO_DEPARTMENT: &str = "03";

/// Who makes an account change, for the sign-in audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangedBy<'a> {
    /// The county admin's username, or 命令行 for `fupin user`.
    pub name: &'a str,
    /// The browser's address, when the change came over the web.
    pub remote_addr: Option<&'a str>,
}

impl ChangedBy<'static> {
    /// `fupin user …` on the server's command line.
    pub const COMMAND_LINE: ChangedBy<'static> = ChangedBy { name: "命令行", remote_addr: None };
}

/// An account to create, as typed on the form or the command line.
#[derive(Debug, Clone, Copy)]
pub struct AccountRequest<'a> {
    pub username: &'a str,
    /// 姓名; empty means "area name + role", e.g. 东关村村干部.
    pub display_name: &'a str,
    pub role: Role,
    /// The division code the account is bound to.
    pub area: &'a str,
    /// The first password; `None` generates one.
    pub password: Option<&'a str>,
    /// 部门 (code or name, `data/codes/department.csv`): required for a department
    /// officer, refused for any other role.
    pub department: Option<&'a str>,
}

/// A role by its stored name (`village_cadre`) or its Chinese name (村干部).
pub fn parse_role(text: &str) -> Result<Role, AppError> {
    let text = text.trim();
    Role::parse(text).or_else(|| Role::ALL.into_iter().find(|r| r.label() == text)).ok_or_else(|| {
        let known: Vec<String> = Role::ALL.iter().map(|r| format!("{}（{}）", r.as_str(), r.label())).collect();
        AppError::Refused(format!("未知角色“{text}”：应为 {}", known.join("、")))
    })
}

/// The division `text` names, if it is in the registry and of the level `role` needs.
async fn check_area(store: &Store, role: Role, text: &str) -> Result<(DivisionCode, DivisionRow), AppError> {
    let text = text.trim();
    let code = DivisionCode::parse(text).map_err(|e| AppError::Refused(e.to_string()))?;
    let Some(row) = views::division(store, &code).await? else {
        return Err(AppError::Refused(format!("区划代码 {text} 不在本登记库的区划中")));
    };
    let want = role.area_level();
    if code.level() != want {
        return Err(AppError::Refused(format!(
            "角色“{}”应绑定{}级区划，而 {}（{text}）是{}级",
            role.label(),
            want.label(),
            row.name,
            code.level().label()
        )));
    }
    Ok((code, row))
}

/// The department code an account of `role` gets from `text`: required (and known)
/// for a department officer, refused for any other role. Returns it with its name.
fn check_department(role: Role, text: Option<&str>) -> Result<Option<(String, String)>, AppError> {
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    let departments = Departments::builtin();
    match (role, text) {
        (Role::DepartmentOfficer, Some(text)) => {
            let code = departments.find(text).map_err(AppError::Refused)?;
            Ok(Some((code.code.clone(), code.label.clone())))
        }
        (Role::DepartmentOfficer, None) => {
            let known: Vec<String> =
                departments.codes.codes.iter().map(|c| format!("{}（{}）", c.code, c.label)).collect();
            Err(AppError::Refused(format!("部门数据员账号须指定部门：{}", known.join("、"))))
        }
        (_, Some(text)) => {
            Err(AppError::Refused(format!("只有部门数据员账号有部门，角色“{}”不能指定部门“{text}”", role.label())))
        }
        (_, None) => Ok(None),
    }
}

/// The account named `username`, or a refusal naming it.
async fn existing(store: &Store, username: &str) -> Result<users::User, AppError> {
    users::find(store, username).await?.ok_or_else(|| AppError::Refused(format!("没有用户名为“{username}”的账号")))
}

async fn log(store: &Store, by: ChangedBy<'_>, username: &str, event: AuthEvent, detail: &str) -> Result<(), AppError> {
    let record = AuthRecord { username, event, detail, actor: Some(by.name), remote_addr: by.remote_addr };
    Ok(users::log_auth(store, &record).await?)
}

/// Creates an account; returns its first password (generated when none was given),
/// to be shown once.
pub async fn add_user(store: &Store, by: ChangedBy<'_>, req: &AccountRequest<'_>) -> Result<String, AppError> {
    let username = req.username.trim();
    check_username(username)?;
    let (code, area) = check_area(store, req.role, req.area).await?;
    let department = check_department(req.role, req.department)?;
    let password = match req.password.filter(|p| !p.is_empty()) {
        Some(p) => {
            check_password(p, username)?;
            p.to_owned()
        }
        None => password::generate(),
    };
    let display_name = match req.display_name.trim() {
        "" => format!("{}{}", area.name, req.role.label()),
        name if name.chars().count() > 40 => return Err(AppError::Refused("姓名太长：最多 40 个字".to_owned())),
        name => name.to_owned(),
    };
    let hash = password::hash(&password).await?;
    let user = NewUser {
        username,
        password_hash: &hash,
        role: req.role,
        area: &code,
        display_name: &display_name,
        department: department.as_ref().map(|d| d.0.as_str()),
    };
    users::insert(store, &user).await.map_err(refused)?;
    let mut detail = format!("{}，{}（{}）", req.role.label(), area.name, code);
    if let Some((code, name)) = &department {
        detail.push_str(&format!("，部门 {name}（{code}）"));
    }
    log(store, by, username, AuthEvent::UserCreated, &detail).await?;
    Ok(password)
}

/// Disables (ending its sessions and revoking its API tokens) or enables an account. An admin cannot disable
/// their own account, so the county is never left without one by a slip.
pub async fn set_disabled(store: &Store, by: ChangedBy<'_>, username: &str, disabled: bool) -> Result<(), AppError> {
    existing(store, username).await?;
    if disabled && by.name == username {
        return Err(AppError::Refused("不能停用自己的账号".to_owned()));
    }
    let (_, revoked) = users::set_disabled(store, username, disabled).await?;
    let event = if disabled { AuthEvent::UserDisabled } else { AuthEvent::UserEnabled };
    log(store, by, username, event, "").await?;
    log_revoked(store, by, username, &revoked, "停用账号时撤销").await
}

/// One `token_revoked` row per token.
async fn log_revoked(
    store: &Store,
    by: ChangedBy<'_>,
    username: &str,
    names: &[String],
    why: &str,
) -> Result<(), AppError> {
    for name in names {
        log(store, by, username, AuthEvent::TokenRevoked, &tokens::revocation_detail(name, why)).await?;
    }
    Ok(())
}

/// Creates an API token for the signed-in `user` after checking their password
/// again (a stolen session alone cannot mint a lasting credential), valid for `days`
/// (default [`tokens::DEFAULT_DAYS`], at most [`tokens::MAX_DAYS`]); logged. Returns
/// when it expires.
pub async fn create_token(
    store: &Store,
    by: ChangedBy<'_>,
    user: &users::User,
    password: &str,
    name: &str,
    days: Option<i64>,
    token_hash: &str,
) -> Result<String, AppError> {
    if !password::verify(password, Some(&user.password_hash)).await? {
        return Err(AppError::Refused("密码不对：创建访问令牌须再次输入自己的登录密码".to_owned()));
    }
    let days = days.unwrap_or(tokens::DEFAULT_DAYS);
    let expires = tokens::create(store, &user.username, name, token_hash, days).await.map_err(refused)?;
    let detail = format!("令牌“{}”，有效期 {days} 天，至 {expires}", name.trim());
    log(store, by, &user.username, AuthEvent::TokenCreated, &detail).await?;
    Ok(expires)
}

/// Revokes `owner`'s token `name` (by the owner, or a county admin); logged. A name
/// `owner` has no token of is [`AppError::NotFound`]; one revoked already is a no-op.
pub async fn revoke_token(store: &Store, by: ChangedBy<'_>, owner: &str, name: &str) -> Result<(), AppError> {
    let name = name.trim();
    if !tokens::exists(store, owner, name).await? {
        return Err(AppError::NotFound);
    }
    if tokens::revoke(store, owner, name).await? {
        let why = if by.name == owner { "本人撤销" } else { "管理员撤销" };
        log_revoked(store, by, owner, &[name.to_owned()], why).await?;
    }
    Ok(())
}

/// Gives an account a new password (generated when none is given), clears its lock,
/// ends its sessions and revokes its API tokens; returns the password, to be shown
/// once.
pub async fn reset_password(
    store: &Store,
    by: ChangedBy<'_>,
    username: &str,
    password: Option<&str>,
) -> Result<String, AppError> {
    existing(store, username).await?;
    let password = match password.filter(|p| !p.is_empty()) {
        Some(p) => {
            check_password(p, username)?;
            p.to_owned()
        }
        None => password::generate(),
    };
    let hash = password::hash(&password).await?;
    let revoked = users::set_password(store, username, &hash).await?;
    log(store, by, username, AuthEvent::PasswordReset, "").await?;
    log_revoked(store, by, username, &revoked, "重置密码时撤销").await?;
    Ok(password)
}

/// Changes an account's role and, when given, its area and department; without an
/// area the account keeps its own, which must suit the new role, and a department
/// officer without a department given keeps theirs. An admin cannot change their own
/// role.
pub async fn change_role(
    store: &Store,
    by: ChangedBy<'_>,
    username: &str,
    role: Role,
    area: Option<&str>,
    department: Option<&str>,
) -> Result<(), AppError> {
    let user = existing(store, username).await?;
    if by.name == username {
        return Err(AppError::Refused("不能更改自己的角色或区域".to_owned()));
    }
    let area = area.map(str::trim).filter(|a| !a.is_empty()).unwrap_or(user.area.as_str()).to_owned();
    let (code, row) = check_area(store, role, &area).await?;
    let department = department.map(str::trim).filter(|d| !d.is_empty());
    let kept =
        (role == Role::DepartmentOfficer && department.is_none()).then_some(user.department.as_deref()).flatten();
    let department = check_department(role, department.or(kept))?;
    users::set_role(store, username, role, &code, department.as_ref().map(|d| d.0.as_str())).await?;
    let mut detail = format!("{} · {} → {}，{}（{}）", user.role.label(), user.area, role.label(), row.name, code);
    if let Some((code, name)) = &department {
        detail.push_str(&format!("，部门 {name}（{code}）"));
    }
    log(store, by, username, AuthEvent::RoleChanged, &detail).await
}

/// Links a helper-cadre account to its helper (`helpers.helper_id`): 我的农户 then
/// lists the households paired with that helper. Refuses another role or an unknown
/// helper; logged like a role change.
pub async fn set_helper(store: &Store, by: ChangedBy<'_>, username: &str, helper_id: &str) -> Result<(), AppError> {
    let user = existing(store, username).await?;
    if user.role != Role::HelperCadre {
        return Err(AppError::Refused(format!("{username} 不是帮扶责任人账号，不能关联帮扶责任人")));
    }
    let helper_id = helper_id.trim();
    let name = fupin_store::visits::helper_name(store, helper_id)
        .await?
        .ok_or_else(|| AppError::Refused(format!("帮扶责任人 {helper_id} 不存在")))?;
    fupin_store::visits::set_helper(store, username, Some(helper_id)).await?;
    log(store, by, username, AuthEvent::RoleChanged, &format!("关联帮扶责任人 {name}（{helper_id}）")).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_demo_account_prints_on_one_line() {
        let a = DemoAccount {
            username: "village".into(),
            password: "pw".into(),
            role_label: Role::VillageCadre.label(),
            area_name: "东关村".into(),
        };
        assert_eq!(a.to_string(), "village      密码 pw  村干部 · 东关村");
    }

    #[test]
    fn usernames_and_passwords_are_checked() {
        assert!(check_username("admin").is_ok());
        assert!(check_username("张三").is_err());
        assert!(check_username("").is_err());
        assert_eq!(parse_role("村干部").unwrap(), Role::VillageCadre);
        assert_eq!(parse_role("township_officer").unwrap(), Role::TownshipOfficer);
        assert!(parse_role("root").unwrap_err().to_string().contains("未知角色"));
        let dep = |role, d| check_department(role, d).map_err(|e| e.to_string());
        assert_eq!(dep(Role::DepartmentOfficer, Some("民政")).unwrap(), Some(("03".into(), "民政".into())));
        assert_eq!(dep(Role::DepartmentOfficer, Some(" 07 ")).unwrap().unwrap().1, "公安");
        assert!(dep(Role::DepartmentOfficer, None).unwrap_err().contains("须指定部门"));
        assert!(dep(Role::DepartmentOfficer, Some("")).unwrap_err().contains("须指定部门"));
        assert!(dep(Role::DepartmentOfficer, Some("42")).unwrap_err().contains("未知部门“42”"));
        assert!(dep(Role::VillageCadre, Some("03")).unwrap_err().contains("只有部门数据员"));
        assert_eq!(dep(Role::VillageCadre, None).unwrap(), None);
        assert!(check_password("short", "a").is_err());
        assert!(check_password("long enough", "a").is_ok());
        for weak in ["12345678901", "aaaaaaaaaa", "Password", "zhang-2026-zhang"] {
            assert!(check_password(weak, "zhang").is_err(), "{weak}");
        }
    }
}
