//! Viewers for the unit tests of the use cases, built without a database.

use std::collections::BTreeSet;
use std::sync::Arc;

use fupin_domain::DivisionCode;
use fupin_store::users::{Role, User};

use crate::{Households, Viewer};

/// A viewer of `role` over `area` (a department officer of `department`); a helper
/// cadre's scope is the households `H1` and `H2`.
pub(crate) fn viewer(role: Role, area: &str, department: Option<&str>) -> Viewer {
    let user = User {
        username: format!("{role:?}").to_lowercase(),
        password_hash: String::new(),
        role,
        area: DivisionCode::parse(area).expect("a test area"),
        display_name: String::new(),
        disabled: false,
        failed_logins: 0,
        locked_until: None,
        created_at: String::new(),
        last_login_at: None,
        department: department.map(str::to_owned),
    };
    let households = match role {
        Role::HelperCadre => Households::Paired(Arc::new(BTreeSet::from(["H1".to_owned(), "H2".to_owned()]))),
        _ => Households::All,
    };
    Viewer { user, households }
}
