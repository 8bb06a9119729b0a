//! 查询 as a use case: people and households in the viewer's scope by name, 户编号, or
//! a whole ID number (matched exactly). The search page and the API ask here and show
//! the hits (ID numbers masked); a hit outside the viewer's scope (another area, or for
//! a helper cadre a household not paired with them) is never answered, and the values
//! a department officer does not see are emptied.

use fupin_domain::DivisionCode;
use fupin_store::Store;
use fupin_store::views::{self, SearchHit, SearchQuery};

use crate::{AppResult, Viewer};

/// At most this many hits are answered.
pub const LIMIT: i64 = 100;

/// Longer input is cut: nobody's name or number is this long.
const MAX_CHARS: usize = 50;

/// What a query asks for: an 18- or 15-character ID number (digits, perhaps ending in
/// X) is looked up exactly; anything else is a 户编号 or part of a name; nothing typed
/// is no query.
pub fn classify(q: &str) -> Option<SearchQuery> {
    let q: String = q.trim().chars().take(MAX_CHARS).collect();
    if q.is_empty() {
        return None;
    }
    let n = q.len();
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if q.is_ascii() && (n == 18 || n == 15) && digits(&q[..n - 1]) && (digits(&q[n - 1..]) || q.ends_with(['x', 'X'])) {
        return Some(SearchQuery::IdNumber(q.to_ascii_uppercase()));
    }
    Some(SearchQuery::Text(q))
}

/// The hits of `query` inside the viewer's scope (at most [`LIMIT`] looked up), with
/// the values they may not see emptied.
pub async fn search(store: &Store, viewer: &Viewer, query: &SearchQuery) -> AppResult<Vec<SearchHit>> {
    let found = views::search(store, viewer.area(), query, LIMIT).await?;
    Ok(found
        .into_iter()
        .filter(|h| DivisionCode::parse(&h.village_code).is_ok_and(|v| viewer.may_see_household(&h.hh_id, &v)))
        .map(|h| viewer.visible_hit(h))
        .collect())
}

/// Whether an answer of these hits may have left some out.
pub fn limited(hits: &[SearchHit]) -> bool {
    hits.len() as i64 >= LIMIT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_id_numbers_are_looked_up_exactly() {
        assert_eq!(classify(" 61098119900101123x "), Some(SearchQuery::IdNumber("61098119900101123X".into())));
        assert_eq!(classify("610981900101123"), Some(SearchQuery::IdNumber("610981900101123".into())));
        assert_eq!(classify("张三"), Some(SearchQuery::Text("张三".into())));
        assert_eq!(classify("6109811990"), Some(SearchQuery::Text("6109811990".into())));
        assert_eq!(classify("   "), None);
    }
}
