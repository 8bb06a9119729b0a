//! 拨打电话: whoever visits a household calls it from its card. The number is masked on
//! every page; calling shows it in full, with a `tel:` link, only after a reason is
//! given and a row is appended to the reveal log (查看记录), as for any number shown
//! unmasked — a helper cadre (帮扶责任人), who may reveal nothing else, may reveal this
//! one number of a paired household.
//!
//! Policy `Visitor`: county admins, township officers and village cadres inside their
//! area, helper cadres on their paired households (404 outside).

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fupin_app::reveal::{self, RevealError};
use fupin_domain::mask;
use serde::Deserialize;

use super::{Nav, html};
use crate::display::scrub_ids;
use crate::i18n::Tr;
use crate::scope::HouseholdInScope;
use crate::session::{CurrentUser, RemoteAddr};
use crate::{AppState, WebError};

#[derive(Deserialize)]
pub(crate) struct CallForm {
    #[serde(default)]
    reason: String,
}

#[derive(Template)]
#[template(path = "call.html")]
struct CallPage {
    t: Tr,
    nav: Option<Nav>,
    hh_id: String,
    head: String,
    masked: String,
    /// The whole number and its `tel:` target, once logged.
    number: Option<(String, String)>,
    reason: String,
    message: String,
}

/// `POST /my/household/{hh_id}/call`: the log row, then the number to call.
pub(crate) async fn submit(
    State(state): State<AppState>,
    t: Tr,
    user: CurrentUser,
    RemoteAddr(remote_addr): RemoteAddr,
    scope: HouseholdInScope,
    Form(form): Form<CallForm>,
) -> Result<Response, WebError> {
    let HouseholdInScope { id, .. } = scope;
    let (found, head) = match reveal::phone_to_call(&state.store, &id).await {
        Ok(found) => found,
        Err(RevealError::Empty(_)) => return Err(WebError::Refused(t.t("call.no_phone").into())),
        Err(e) => return Err(super::reveal::other(e)),
    };
    let mut page = CallPage {
        t,
        nav: Some(Nav::of(&state, &user).await?),
        head: head.unwrap_or_default(),
        masked: mask::phone(&found.value),
        number: None,
        reason: scrub_ids(form.reason.trim()),
        message: String::new(),
        hh_id: found.hh_id.clone(),
    };
    let refused = match reveal::reveal(
        &state.store,
        &user,
        &found,
        &form.reason,
        reveal::MAX_CALL_REASON,
        remote_addr.as_deref(),
    )
    .await
    {
        Ok(phone) => {
            let tel: String = phone.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
            page.number = Some((phone, tel));
            return Ok(html(&page)?.into_response());
        }
        Err(RevealError::NoReason) => t.t("call.no_reason").into(),
        Err(RevealError::ReasonTooLong(max)) => t.f1("call.too_long", "max", max),
        Err(e) => return Err(super::reveal::other(e)),
    };
    page.message = refused;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html(&page)?).into_response())
}
