//! The household a request names, checked against the user's scope before the handler
//! runs: every route with `{hh_id}` takes [`HouseholdInScope`], so no handler reads a
//! household (members, incomes, pairings, history) it then has to refuse.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use fupin_domain::{DivisionCode, HouseholdId};
use fupin_store::views;

use crate::session::CurrentUser;
use crate::{AppState, WebError, api};

/// A household named by the request's `{hh_id}` that exists and lies inside the user's
/// scope (area and, for a helper cadre, pairing), with its village. Anything else —
/// a path segment that cannot be a 户编号, a household that does not exist, one outside
/// the scope (logged to `auth_log` by [`fupin_app::Viewer::household_in_scope`]) —
/// answers 404 before the handler runs: the error page, or under `/api/` the JSON
/// error, alike for all three.
#[derive(Debug, Clone)]
pub(crate) struct HouseholdInScope {
    /// The household's key.
    pub id: HouseholdId,
    /// The village it lies in.
    pub village: DivisionCode,
}

/// Why a household is not served: answered as the route's kind of error.
enum Refusal {
    NotFound,
    Store(fupin_store::StoreError),
    User(WebError),
}

impl HouseholdInScope {
    async fn find(parts: &mut Parts, state: &AppState) -> Result<HouseholdInScope, Refusal> {
        let user = CurrentUser::from_request_parts(parts, state).await.map_err(Refusal::User)?;
        let params = RawPathParams::from_request_parts(parts, state).await.map_err(|_| Refusal::NotFound)?;
        let raw = params.iter().find(|(name, _)| *name == "hh_id").map(|(_, v)| v).ok_or(Refusal::NotFound)?;
        let id = HouseholdId::parse(raw).map_err(|_| Refusal::NotFound)?;
        let village = views::household_village(&state.store, &id).await.map_err(Refusal::Store)?;
        let village = village.and_then(|v| DivisionCode::parse(&v).ok()).ok_or(Refusal::NotFound)?;
        if !user.household_in_scope(&state.store, id.as_str(), &village).await.map_err(Refusal::Store)? {
            return Err(Refusal::NotFound);
        }
        Ok(HouseholdInScope { id, village })
    }
}

impl FromRequestParts<AppState> for HouseholdInScope {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let is_api = parts.uri.path().starts_with("/api/");
        match Self::find(parts, state).await {
            Ok(found) => Ok(found),
            Err(Refusal::NotFound) if is_api => Err(api::ApiError::not_found().into_response()),
            Err(Refusal::NotFound) => Err(WebError::NotFound.into_response()),
            Err(Refusal::Store(e)) if is_api => Err(api::ApiError::from(e).into_response()),
            Err(Refusal::Store(e)) => Err(WebError::Store(e).into_response()),
            Err(Refusal::User(e)) => Err(e.into_response()),
        }
    }
}
