//! The API answer for the offline corrections awaiting review in the caller's area,
//! as the review page lists them (`pages::review`): values shown with code labels and
//! personal numbers masked, free text scrubbed.

use axum::Json;
use axum::extract::State;
use fupin_domain::schema::{self, HOUSEHOLDS, PERSONS};
use fupin_domain::{HouseholdId, Value};
use fupin_store::{offline_edits, views};
use serde::Serialize;

use super::{ApiError, ApiResult};
use crate::AppState;
use crate::display::{cell, raw, scrub_ids};
use crate::session::CurrentUser;

/// The most corrections a review answer holds (as on the review page).
pub(crate) const REVIEW_LIMIT: i64 = 200;

#[derive(Serialize)]
pub(crate) struct ReviewLine {
    key: String,
    hh_id: String,
    village_code: String,
    head_name: Option<String>,
    entity: String,
    entity_key: String,
    field: String,
    /// The value now, as shown (code labels, personal numbers masked).
    current: String,
    proposed: String,
    reason: String,
    submitted_by: String,
    submitted_at: String,
    base_version: i64,
    found_version: i64,
}

#[derive(Serialize)]
pub(crate) struct ReviewAnswer {
    area: String,
    total: i64,
    limited: bool,
    corrections: Vec<ReviewLine>,
}

/// A value of `table.column` as the review page shows it.
fn shown(state: &AppState, table: &str, column: &str, text: &str) -> String {
    match schema::table(table).and_then(|t| t.column(column)) {
        Some(col) => {
            let value = if text.is_empty() { Value::Null } else { Value::Text(text.to_owned()) };
            cell(col, &value, &state.codes)
        }
        None => scrub_ids(text),
    }
}

/// `GET /api/v1/review`: the offline corrections awaiting review in the caller's area.
pub(crate) async fn review(State(state): State<AppState>, user: CurrentUser) -> ApiResult<ReviewAnswer> {
    let pending = offline_edits::pending_in(&state.store, user.area(), REVIEW_LIMIT).await?;
    let total = offline_edits::pending_count(&state.store, user.area()).await?;
    let mut corrections = Vec::with_capacity(pending.len());
    for e in pending {
        // A stored key always has a key's shape: one that does not is no household.
        let hh = HouseholdId::parse(&e.hh_id).map_err(|_| ApiError::not_found())?;
        let persons = views::persons_of(&state.store, &hh).await?;
        let head_name = persons.iter().find(|p| raw(&PERSONS, p, "relation") == "01").map(|p| raw(&PERSONS, p, "name"));
        let current = if e.entity == "households" {
            views::household(&state.store, &hh).await?.map(|r| raw(&HOUSEHOLDS, &r, &e.field)).unwrap_or_default()
        } else {
            persons
                .iter()
                .find(|p| raw(&PERSONS, p, "person_id") == e.entity_key)
                .map(|p| raw(&PERSONS, p, &e.field))
                .unwrap_or_default()
        };
        corrections.push(ReviewLine {
            current: shown(&state, &e.entity, &e.field, &current),
            proposed: shown(&state, &e.entity, &e.field, &e.proposed_value),
            reason: scrub_ids(&e.reason),
            key: e.idempotency_key,
            hh_id: e.hh_id,
            village_code: e.village_code,
            head_name,
            entity: e.entity,
            entity_key: e.entity_key,
            field: e.field,
            submitted_by: e.submitted_by,
            submitted_at: e.submitted_at,
            base_version: e.base_version,
            found_version: e.found_version,
        });
    }
    Ok(Json(ReviewAnswer {
        area: user.area().to_string(),
        limited: (corrections.len() as i64) < total,
        total,
        corrections,
    }))
}
