//! 查询: find people and households in the user's area by name, 户编号, or a whole
//! ID number (matched exactly, shown masked); what is found and what the user may see
//! of it is `fupin_app::search`'s, this module shows it.
//!
//! The search forms post (`POST /search`): a whole ID number typed into them must not
//! end up in a URL, where browser history, proxies and server logs keep it. `GET
//! /search?q=` still answers names and 户编号 (links, bookmarks) and refuses a whole
//! ID number with 400, without looking it up.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fupin_app::search::{self, classify};
use fupin_store::views::SearchQuery;
use serde::Deserialize;

use super::{Nav, html};
use crate::display::masked;
use crate::i18n::Tr;
use crate::session::CurrentUser;
use crate::{AppState, WebError};
use fupin_domain::schema::Personal;

#[derive(Deserialize, Default)]
pub(crate) struct SearchParams {
    #[serde(default)]
    q: Option<String>,
    /// `xlsx`: the hits as a download.
    format: Option<String>,
}

struct Hit {
    name: String,
    relation: String,
    id_number: String,
    hh_id: String,
    village: String,
    status: String,
    /// 已故, 已婚出, 已迁出 for a former member (found too); empty for a member.
    former: &'static str,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    t: Tr,
    nav: Option<Nav>,
    q: String,
    searched: bool,
    hits: Vec<Hit>,
    limited: bool,
    /// Why nothing was searched (a whole ID number in a URL).
    message: String,
}

/// `GET /search?q=`: names and 户编号; a whole ID number is refused (400), not looked up.
pub(crate) async fn show(
    State(state): State<AppState>,
    t: Tr,
    user: CurrentUser,
    Query(params): Query<SearchParams>,
) -> Result<Response, WebError> {
    if let Some(SearchQuery::IdNumber(_)) = params.q.as_deref().and_then(classify) {
        tracing::warn!(username = %user.user.username, "整号查询出现在网址中，已拒绝");
        let page = SearchPage {
            t,
            nav: Some(Nav::of(&state, &user).await?),
            q: String::new(),
            searched: false,
            hits: Vec::new(),
            limited: false,
            message: t.t("search.id_in_url").to_owned(),
        };
        return Ok((StatusCode::BAD_REQUEST, html(&page)?).into_response());
    }
    answer(state, t, user, params).await
}

/// `POST /search` (the search forms): the same answer, with the query in the body.
pub(crate) async fn submit(
    State(state): State<AppState>,
    t: Tr,
    user: CurrentUser,
    Form(params): Form<SearchParams>,
) -> Result<Response, WebError> {
    answer(state, t, user, params).await
}

async fn answer(state: AppState, t: Tr, user: CurrentUser, params: SearchParams) -> Result<Response, WebError> {
    let q = params.q.unwrap_or_default();
    let query = classify(&q);
    let found = match &query {
        Some(query) => search::search(&state.store, &user, query).await?,
        None => Vec::new(),
    };
    let limited = search::limited(&found);
    let codes = &state.codes;
    let hits: Vec<Hit> = found
        .into_iter()
        .map(|h| Hit {
            name: h.person_name.unwrap_or_default(),
            relation: h.relation.map(|r| codes.label("relation", &r).to_owned()).unwrap_or_default(),
            id_number: h.id_number.map(|n| masked(Personal::IdNumber, &n)).unwrap_or_default(),
            village: h.village_name.unwrap_or(h.village_code),
            status: codes.label("household_status", &h.status).to_owned(),
            former: match h.person_status.as_deref() {
                None => "",
                Some("2") => t.t("search.former.died"),
                Some("3") => t.t("search.former.married_out"),
                Some(_) => t.t("search.former.moved_out"),
            },
            hh_id: h.hh_id,
        })
        .collect();
    if super::edit_xlsx::wants_xlsx(params.format.as_deref()) {
        return xlsx(&hits);
    }
    let page = SearchPage {
        t,
        nav: Some(Nav::of(&state, &user).await?),
        // The box shows back what was typed, except a whole ID number, which would
        // otherwise sit unmasked on the page.
        q: if matches!(query, Some(SearchQuery::IdNumber(_))) { String::new() } else { q.trim().to_owned() },
        searched: query.is_some(),
        limited,
        hits,
        message: String::new(),
    };
    Ok(html(&page)?.into_response())
}

/// The hits as XLSX: every cell text, ID numbers masked as on the page.
fn xlsx(hits: &[Hit]) -> Result<Response, WebError> {
    use super::edit_xlsx::{self, XCell::Text};
    let rows: Vec<Vec<edit_xlsx::XCell>> = hits
        .iter()
        .map(|h| {
            [&format!("{}{}", h.name, h.former), &h.relation, &h.id_number, &h.hh_id, &h.village, &h.status]
                .into_iter()
                .map(|s| Text(s.clone()))
                .collect()
        })
        .collect();
    let headers = ["姓名", "与户主关系", "证件号码", "户编号", "村", "户类型"];
    Ok(edit_xlsx::download("search.xlsx", edit_xlsx::workbook("查询结果", &headers, &rows)?))
}
