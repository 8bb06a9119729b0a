//! Accounts made from the command line: the first administrator (`fupin init`) and
//! one account per role for a demonstration (`fupin demo`).

use fupin_domain::DivisionCode;
use fupin_store::users::{self, NewUser, Role};
use fupin_store::views::{self, DivisionRow};
use fupin_store::{Store, StoreError};

use crate::{WebError, password};

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
fn check_username(username: &str) -> Result<(), WebError> {
    let ok = (1..=32).contains(&username.len())
        && username.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(WebError::Refused(format!("用户名“{username}”无效：应为 1–32 个英文字母、数字或 . _ -")))
    }
}

fn check_password(password: &str) -> Result<(), WebError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(WebError::Refused(format!("密码太短：至少 {MIN_PASSWORD_CHARS} 个字符")));
    }
    Ok(())
}

fn code_of(d: &DivisionRow) -> Result<DivisionCode, WebError> {
    DivisionCode::parse(&d.code).map_err(|e| WebError::Refused(e.to_string()))
}

async fn county(store: &Store) -> Result<DivisionRow, WebError> {
    views::county(store)
        .await?
        .ok_or_else(|| WebError::Refused("登记库中还没有县级区划：请先用 fupin init 写入区划".to_owned()))
}

/// `fupin init`: one county administrator; returns the password (generated if
/// `None`) to print once.
pub async fn create_admin(store: &Store, username: &str, password: Option<&str>) -> Result<String, WebError> {
    check_username(username)?;
    let password = password.map(str::to_owned).unwrap_or_else(password::generate);
    check_password(&password)?;
    let county = county(store).await?;
    let hash = password::hash(&password).await?;
    let area = code_of(&county)?;
    let user = NewUser {
        username,
        password_hash: &hash,
        role: Role::CountyAdmin,
        area: &area,
        display_name: &format!("{}管理员", county.name),
    };
    users::insert(store, &user).await.map_err(refused)?;
    Ok(password)
}

/// A store refusal (name taken) is the user's to read, not a server fault.
fn refused(e: StoreError) -> WebError {
    match e {
        StoreError::Refused(m) => WebError::Refused(m),
        other => WebError::Store(other),
    }
}

/// `fupin demo` only: one account per role, each with a fresh password — a county
/// administrator, a township officer of the first township that has households, a
/// village cadre and a helper cadre of the village with most households, a
/// department officer and an inspector for the county. An account that exists gets
/// a new password. Returns what to print.
pub async fn create_demo_accounts(store: &Store) -> Result<Vec<DemoAccount>, WebError> {
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
            let user = NewUser { username, password_hash: &hash, role, area: &code, display_name: &display_name };
            users::insert(store, &user).await.map_err(refused)?;
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
        assert!(check_password("short").is_err());
        assert!(check_password("long enough").is_ok());
    }
}
