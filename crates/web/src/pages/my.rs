//! 我的农户: the phone pages of field work. `/my` lists the households the user
//! visits — a helper cadre's paired households (结对帮扶), everyone else's area —
//! least recently visited first, each with its last visit and whether it was visited
//! this quarter (一季一上门); `/my/household/{hh_id}` is a compact card with the
//! head, members, masked phone, last visits and the button to record one.
//!
//! Scope: a helper cadre sees only the households paired with their helper today
//! (any other is 404, like a household that does not exist); every other role its area.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use fupin_domain::schema::{HOUSEHOLDS, PERSONS};
use fupin_domain::{DivisionCode, mask};
use fupin_store::users::Role;
use fupin_store::views;
use fupin_store::visits::{self, MyHousehold};

use super::{Nav, html};
use crate::display::{raw, scrub_ids};
use crate::i18n::Tr;
use crate::scope::HouseholdInScope;
use crate::session::CurrentUser;
use crate::{AppState, WebError};

/// Longest list shown: the households most in need of a visit come first.
const LIST_LIMIT: i64 = 300;

/// Visits shown on the card.
const CARD_VISITS: i64 = 5;

/// Whether a role records visits: everyone but department officers and inspectors,
/// who only read.
pub(crate) fn may_visit(role: Role) -> bool {
    !matches!(role, Role::DepartmentOfficer | Role::Inspector)
}

/// One line of the list.
struct Line {
    hh_id: String,
    head: String,
    persons: i64,
    village: String,
    last_visit: String,
    this_quarter: bool,
}

#[derive(Template)]
#[template(path = "my_list.html")]
struct ListPage {
    t: Tr,
    nav: Option<Nav>,
    lines: Vec<Line>,
    quarter: String,
    visited: usize,
    limited: bool,
    /// A helper-cadre account not linked to a helper: nothing to list, say why.
    unlinked: bool,
    /// Flagged offline corrections awaiting review in the area, for roles that review.
    to_review: Option<i64>,
}

/// `/my`.
pub(crate) async fn list(State(state): State<AppState>, t: Tr, user: CurrentUser) -> Result<Response, WebError> {
    let today = state.config.today;
    let quarter_start = fupin_domain::date::iso(visits::quarter_start(today));
    let mut unlinked = false;
    let found: Vec<MyHousehold> = if user.user.role == Role::HelperCadre {
        match visits::helper_of(&state.store, &user.user.username).await? {
            Some(helper) => visits::paired_households(&state.store, &helper, today, LIST_LIMIT)
                .await?
                .into_iter()
                .filter(|h| DivisionCode::parse(&h.village_code).is_ok_and(|v| user.may_see(&v)))
                .collect(),
            None => {
                unlinked = true;
                Vec::new()
            }
        }
    } else {
        visits::households_by_last_visit(&state.store, user.area(), LIST_LIMIT).await?
    };
    let limited = found.len() as i64 >= LIST_LIMIT;
    let mut village_names = std::collections::HashMap::new();
    let mut lines = Vec::with_capacity(found.len());
    for h in found {
        if !village_names.contains_key(&h.village_code) {
            let name = match DivisionCode::parse(&h.village_code) {
                Ok(code) => views::division(&state.store, &code).await?.map(|d| d.name),
                Err(_) => None,
            };
            village_names.insert(h.village_code.clone(), name.unwrap_or_else(|| h.village_code.clone()));
        }
        let this_quarter = h.last_visit.as_deref().is_some_and(|d| d >= quarter_start.as_str());
        lines.push(Line {
            village: village_names[&h.village_code].clone(),
            head: h.head_name.unwrap_or_default(),
            persons: h.persons,
            last_visit: h.last_visit.unwrap_or_default(),
            this_quarter,
            hh_id: h.hh_id,
        });
    }
    let visited = lines.iter().filter(|l| l.this_quarter).count();
    let to_review = match super::edit::may_edit(user.user.role) {
        true => Some(fupin_store::offline_edits::pending_count(&state.store, user.area()).await?),
        false => None,
    };
    let page = ListPage {
        t,
        to_review,
        nav: Some(Nav::of(&state, &user).await?),
        quarter: t.f2("my.quarter", "year", today.year(), "quarter", (u8::from(today.month()) - 1) / 3 + 1),
        visited,
        limited,
        unlinked,
        lines,
    };
    Ok(html(&page)?.into_response())
}

/// A visit as the card lists it.
pub(crate) struct VisitLine {
    pub visited_on: String,
    pub mode: &'static str,
    pub visitor: String,
    pub notes: String,
}

#[derive(Template)]
#[template(path = "my_household.html")]
struct CardPage {
    t: Tr,
    nav: Option<Nav>,
    hh_id: String,
    head: String,
    village: String,
    persons: usize,
    phone: String,
    visits: Vec<VisitLine>,
    this_quarter: bool,
    may_visit: bool,
    /// Whether the role corrects the registry (记录更正).
    may_edit: bool,
    /// Flagged offline corrections of this household awaiting review (editors only).
    to_review: i64,
    flash: Option<super::edit::Flash>,
}

/// `/my/household/{hh_id}`.
pub(crate) async fn card(
    State(state): State<AppState>,
    t: Tr,
    user: CurrentUser,
    scope: HouseholdInScope,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let HouseholdInScope { id, village } = scope;
    let hh_id = id.to_string();
    let row = views::household(&state.store, &id).await?.ok_or(WebError::NotFound)?;
    let persons = views::persons_of(&state.store, &id).await?;
    let head = persons.iter().find(|p| raw(&PERSONS, p, "relation") == "01");
    // A department officer sees no phone (not even masked) unless it is their column.
    let phone = match raw(&HOUSEHOLDS, &user.visible(&HOUSEHOLDS, &row), "phone") {
        p if !p.is_empty() => p,
        _ => head.map(|p| raw(&PERSONS, &user.visible(&PERSONS, p), "phone")).unwrap_or_default(),
    };
    let recent = visits::visits_of(&state.store, &id, CARD_VISITS).await?;
    let quarter_start = fupin_domain::date::iso(visits::quarter_start(state.config.today));
    let this_quarter = recent.first().is_some_and(|v| v.visited_on >= quarter_start);
    let village = views::division(&state.store, &village).await?.map(|d| d.name).unwrap_or_else(|| village.to_string());
    let (flash, clear) = super::edit::take_flash(&headers).unzip();
    let page = CardPage {
        t,
        nav: Some(Nav::of(&state, &user).await?),
        head: head.map(|p| raw(&PERSONS, p, "name")).unwrap_or_default(),
        village,
        persons: persons.len(),
        phone: if phone.is_empty() { String::new() } else { mask::phone(&phone) },
        visits: recent
            .into_iter()
            .map(|v| VisitLine {
                visited_on: v.visited_on,
                mode: super::visit::mode_label(t, v.mode),
                visitor: v.visitor,
                notes: scrub_ids(&v.notes),
            })
            .collect(),
        this_quarter,
        may_visit: may_visit(user.user.role),
        may_edit: may_visit(user.user.role),
        to_review: match super::edit::may_edit(user.user.role) {
            true => fupin_store::offline_edits::pending_count_of(&state.store, &id).await?,
            false => 0,
        },
        flash,
        hh_id,
    };
    let body = html(&page)?;
    Ok(match clear {
        Some(cookie) => ([(axum::http::header::SET_COOKIE, cookie)], body).into_response(),
        None => body.into_response(),
    })
}
