//! The read queries behind the web pages: counts by area, household lists, one
//! household with its members, incomes, pairings and history, and search.
//!
//! Every function that lists households takes the area it may look in as a
//! [`DivisionCode`] (digits only, by construction), and the pages pass the signed-in
//! user's area, so a query can never reach outside it. Identifiers in the SQL come
//! from the schema; every value is bound.

use fupin_domain::schema::{HOUSEHOLDS, INCOMES, PERSONS};
use fupin_domain::{DivisionCode, HouseholdId, Value};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::rows::{self, safe};
use crate::writer::ChangeRecord;
use crate::{Store, StoreError};

/// `households.status` of a registered poor household (户类型 2 在册贫困户).
pub const STATUS_POOR: &str = "2";
/// `households.status` of a household that has exited poverty (户类型 3 已脱贫户).
pub const STATUS_EXITED: &str = "3";

/// SQL: the person of alias `a` is a member now (人员状态 empty or 1 在户); one who
/// died, married out or moved out keeps the row as history and is not.
pub fn present(a: &str) -> String {
    format!("COALESCE({a}.person_status, '1') = '1'")
}

/// SQL: the person of alias `a` counts in the year whose first and last days (ISO
/// text) are `year_start` and `year_end` (placeholders): born by its last day (出生日期
/// empty: counted), and a member now or one who left during or after that year (a
/// person counts in every year they lived in the household, a child from its birth).
pub fn counted_in_year(a: &str, year_start: &str, year_end: &str) -> String {
    format!(
        "(({} OR {a}.left_on >= {year_start}) \
         AND ({a}.birth_date IS NULL OR {a}.birth_date = '' OR {a}.birth_date <= {year_end}))",
        present(a)
    )
}

/// One row of `divisions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DivisionRow {
    pub code: String,
    pub name: String,
    /// `county`, `township` or `village`.
    pub level: String,
    pub parent_code: Option<String>,
}

/// The figures the overview shows for an area.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub households: i64,
    pub persons: i64,
    /// 在册贫困户.
    pub poor: i64,
    /// 已脱贫户.
    pub exited: i64,
    /// 监测对象: a monitoring type is set and the risk is not cleared.
    pub monitored: i64,
}

/// An area (township or village) with its figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaCounts {
    pub division: DivisionRow,
    pub counts: Counts,
}

/// One line of a village's household list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdLine {
    pub hh_id: String,
    /// 户主: the member whose relation is 01.
    pub head_name: Option<String>,
    pub group_no: Option<i64>,
    pub status: String,
    pub persons: i64,
}

/// A helper cadre paired with a household (结对帮扶), with the helper's details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairingLine {
    pub helper_id: String,
    pub helper_name: Option<String>,
    pub unit: Option<String>,
    pub unit_level: Option<String>,
    pub from_date: String,
    pub to_date: Option<String>,
}

/// What a search looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchQuery {
    /// A whole 证件号码: matches `persons.id_number` exactly.
    IdNumber(String),
    /// A 户编号 (exactly) or part of a name.
    Text(String),
}

/// One person (or household without members) found by a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub hh_id: String,
    pub village_code: String,
    pub village_name: Option<String>,
    pub person_name: Option<String>,
    pub relation: Option<String>,
    /// Unmasked: the page masks it.
    pub id_number: Option<String>,
    pub status: String,
    /// 人员状态 of a person who died or left (`2` 死亡 …); `None` for a member.
    pub person_status: Option<String>,
}

fn division_row(r: &AnyRow) -> Result<DivisionRow, sqlx::Error> {
    Ok(DivisionRow { code: r.try_get(0)?, name: r.try_get(1)?, level: r.try_get(2)?, parent_code: r.try_get(3)? })
}

/// `LIKE` pattern for every code inside `area`. Division codes are digits only, so
/// nothing needs escaping.
fn within(area: &DivisionCode) -> String {
    format!("{}%", area.as_str())
}

/// Escapes `%`, `_` and `\` for `LIKE … ESCAPE '\'`.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One division by code.
pub async fn division(store: &Store, code: &DivisionCode) -> Result<Option<DivisionRow>, StoreError> {
    let row = sqlx::query("SELECT code, name, level, parent_code FROM divisions WHERE code = $1")
        .bind(code.as_str().to_owned())
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|r| division_row(&r)).transpose()?)
}

/// Every county, township and village of the registry, in code order (a county's
/// townships and villages follow it): what an account's area is chosen from.
pub async fn all_divisions(store: &Store) -> Result<Vec<DivisionRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT code, name, level, parent_code FROM divisions \
         WHERE level IN ('county', 'township', 'village') ORDER BY code",
    )
    .fetch_all(store.pool())
    .await?;
    Ok(rows.iter().map(division_row).collect::<Result<Vec<_>, _>>()?)
}

/// The divisions directly below `code`, in code order.
pub async fn children(store: &Store, code: &DivisionCode) -> Result<Vec<DivisionRow>, StoreError> {
    let rows = sqlx::query("SELECT code, name, level, parent_code FROM divisions WHERE parent_code = $1 ORDER BY code")
        .bind(code.as_str().to_owned())
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(division_row).collect::<Result<_, _>>()?)
}

/// The registry's county (the first county-level division).
pub async fn county(store: &Store) -> Result<Option<DivisionRow>, StoreError> {
    let row = sqlx::query(
        "SELECT code, name, level, parent_code FROM divisions WHERE level = 'county' ORDER BY code LIMIT 1",
    )
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(|r| division_row(&r)).transpose()?)
}

/// Figures for every area inside `area`, grouped by the first `group_len` digits of
/// the village code (9: by township, 12: by village, the area's own length: a total).
async fn counts_grouped(
    store: &Store,
    area: &DivisionCode,
    group_len: usize,
) -> Result<Vec<(String, Counts)>, StoreError> {
    // The length is a number we chose, written into the SQL so that PostgreSQL sees an
    // integer literal (a bound BIGINT finds no `substr` to call).
    let group = format!("substr(village_code, 1, {group_len})");
    let hh_sql = format!(
        "SELECT {group}, COUNT(*), \
           COUNT(CASE WHEN status = $2 THEN 1 END), \
           COUNT(CASE WHEN status = $3 THEN 1 END), \
           COUNT(CASE WHEN monitor_type IS NOT NULL AND monitor_type <> '' \
                       AND (risk_cleared_on IS NULL OR risk_cleared_on = '') THEN 1 END) \
         FROM households WHERE village_code LIKE $1 GROUP BY {group}"
    );
    let rows = sqlx::query(safe(hh_sql))
        .bind(within(area))
        .bind(STATUS_POOR)
        .bind(STATUS_EXITED)
        .fetch_all(store.pool())
        .await?;
    let mut out: Vec<(String, Counts)> = Vec::with_capacity(rows.len());
    for r in &rows {
        let counts = Counts {
            households: r.try_get(1)?,
            persons: 0,
            poor: r.try_get(2)?,
            exited: r.try_get(3)?,
            monitored: r.try_get(4)?,
        };
        out.push((r.try_get(0)?, counts));
    }
    let persons_sql = format!(
        "SELECT substr(h.village_code, 1, {group_len}), COUNT(*) FROM persons p \
         JOIN households h ON h.hh_id = p.hh_id WHERE h.village_code LIKE $1 AND {present} \
         GROUP BY substr(h.village_code, 1, {group_len})",
        present = present("p"),
    );
    let persons: Vec<(String, i64)> =
        sqlx::query_as(safe(persons_sql)).bind(within(area)).fetch_all(store.pool()).await?;
    for (code, n) in persons {
        if let Some((_, c)) = out.iter_mut().find(|(k, _)| *k == code) {
            c.persons = n;
        }
    }
    Ok(out)
}

/// The divisions directly below `parent` (townships of a county, villages of a
/// township), each with its figures; areas without households show zeros.
pub async fn counts_by_child(store: &Store, parent: &DivisionCode) -> Result<Vec<AreaCounts>, StoreError> {
    let group_len = match parent.as_str().len() {
        6 => 9,
        9 => 12,
        _ => return Ok(Vec::new()),
    };
    let grouped = counts_grouped(store, parent, group_len).await?;
    let out = children(store, parent)
        .await?
        .into_iter()
        .map(|division| {
            let counts = grouped.iter().find(|(k, _)| *k == division.code).map(|(_, c)| *c).unwrap_or_default();
            AreaCounts { division, counts }
        })
        .collect();
    Ok(out)
}

/// The figures of one area as a whole.
pub async fn counts_in(store: &Store, area: &DivisionCode) -> Result<Counts, StoreError> {
    let grouped = counts_grouped(store, area, area.as_str().len()).await?;
    Ok(grouped.into_iter().map(|(_, c)| c).next().unwrap_or_default())
}

/// One page of a village's households in 户编号 order, and how many there are in all.
pub async fn households_in_village(
    store: &Store,
    village: &DivisionCode,
    limit: i64,
    offset: i64,
) -> Result<(Vec<HouseholdLine>, i64), StoreError> {
    let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM households WHERE village_code = $1")
        .bind(village.as_str().to_owned())
        .fetch_one(store.pool())
        .await?;
    let sql = format!(
        "SELECT h.hh_id, \
           (SELECT p.name FROM persons p WHERE p.hh_id = h.hh_id AND p.relation = '01' AND {present} \
            ORDER BY p.person_id LIMIT 1), \
           h.group_no, h.status, \
           (SELECT COUNT(*) FROM persons p WHERE p.hh_id = h.hh_id AND {present}) \
         FROM households h WHERE h.village_code = $1 ORDER BY h.hh_id LIMIT $2 OFFSET $3",
        present = present("p"),
    );
    let rows = sqlx::query(safe(sql))
        .bind(village.as_str().to_owned())
        .bind(limit)
        .bind(offset)
        .fetch_all(store.pool())
        .await?;
    let mut lines = Vec::with_capacity(rows.len());
    for r in &rows {
        lines.push(HouseholdLine {
            hh_id: r.try_get(0)?,
            head_name: r.try_get(1)?,
            group_no: r.try_get(2)?,
            status: r.try_get(3)?,
            persons: r.try_get(4)?,
        });
    }
    Ok((lines, total))
}

/// The village a household lies in (its `village_code` as stored), or `None` if
/// there is no such household: the one read a request's scope check needs.
pub async fn household_village(store: &Store, hh_id: &HouseholdId) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = sqlx::query_as("SELECT village_code FROM households WHERE hh_id = $1")
        .bind(hh_id.as_str().to_owned())
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|(v,)| v))
}

/// A household's whole row in the order of [`HOUSEHOLDS`]' columns.
pub async fn household(store: &Store, hh_id: &HouseholdId) -> Result<Option<Vec<Value>>, StoreError> {
    let sql = format!("SELECT {} FROM households WHERE hh_id = $1", rows::column_list(&HOUSEHOLDS));
    let row = sqlx::query(safe(sql)).bind(hh_id.as_str().to_owned()).fetch_optional(store.pool()).await?;
    Ok(row.map(|r| rows::read_row(&HOUSEHOLDS, &r)).transpose()?)
}

/// A household's members now (head first), each in the order of [`PERSONS`]' columns.
pub async fn persons_of(store: &Store, hh_id: &HouseholdId) -> Result<Vec<Vec<Value>>, StoreError> {
    let sql = format!(
        "SELECT {} FROM persons p WHERE hh_id = $1 AND {} ORDER BY relation, person_id",
        rows::column_list(&PERSONS),
        present("p")
    );
    let rows = sqlx::query(safe(sql)).bind(hh_id.as_str().to_owned()).fetch_all(store.pool()).await?;
    Ok(rows.iter().map(|r| rows::read_row(&PERSONS, r)).collect::<Result<_, _>>()?)
}

/// A household's former members (died, married out, moved out), most recent first:
/// their rows stay as history.
pub async fn former_persons_of(store: &Store, hh_id: &HouseholdId) -> Result<Vec<Vec<Value>>, StoreError> {
    let sql = format!(
        "SELECT {} FROM persons p WHERE hh_id = $1 AND NOT ({}) ORDER BY left_on DESC, person_id",
        rows::column_list(&PERSONS),
        present("p")
    );
    let rows = sqlx::query(safe(sql)).bind(hh_id.as_str().to_owned()).fetch_all(store.pool()).await?;
    Ok(rows.iter().map(|r| rows::read_row(&PERSONS, r)).collect::<Result<_, _>>()?)
}

/// A household's income years, oldest first, in the order of [`INCOMES`]' columns.
pub async fn incomes_of(store: &Store, hh_id: &HouseholdId) -> Result<Vec<Vec<Value>>, StoreError> {
    let sql = format!("SELECT {} FROM incomes WHERE hh_id = $1 ORDER BY year", rows::column_list(&INCOMES));
    let rows = sqlx::query(safe(sql)).bind(hh_id.as_str().to_owned()).fetch_all(store.pool()).await?;
    Ok(rows.iter().map(|r| rows::read_row(&INCOMES, r)).collect::<Result<_, _>>()?)
}

/// A household's pairings with its helpers, newest first.
pub async fn pairings_of(store: &Store, hh_id: &HouseholdId) -> Result<Vec<PairingLine>, StoreError> {
    let rows = sqlx::query(
        "SELECT p.helper_id, h.name, h.unit, h.unit_level, p.from_date, p.to_date \
         FROM pairings p LEFT JOIN helpers h ON h.helper_id = p.helper_id \
         WHERE p.hh_id = $1 ORDER BY p.from_date DESC, p.helper_id",
    )
    .bind(hh_id.as_str().to_owned())
    .fetch_all(store.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(PairingLine {
            helper_id: r.try_get(0)?,
            helper_name: r.try_get(1)?,
            unit: r.try_get(2)?,
            unit_level: r.try_get(3)?,
            from_date: r.try_get(4)?,
            to_date: r.try_get(5)?,
        });
    }
    Ok(out)
}

/// The registry head: the number of the newest change record (0 for an empty registry).
/// Every registry write goes through the writer and adds change records, so what was
/// read at one head is still true while the head has not moved.
pub async fn registry_head(store: &Store) -> Result<i64, StoreError> {
    let (head,): (i64,) =
        sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM change_log").fetch_one(store.pool()).await?;
    Ok(head)
}

/// The newest `limit` change records of a household: its own row, its current
/// members, its incomes (keys `hh_id|year`), its pairings (`helper|hh_id|date`) and
/// the explanation events of its findings (`hh_id|id|rule`, see `findings::event_key`).
pub async fn history_of(store: &Store, hh_id: &HouseholdId, limit: i64) -> Result<Vec<ChangeRecord>, StoreError> {
    let escaped = like_escape(hh_id.as_str());
    // One indexed query per kind of record (`change_log_entity` serves each); an OR
    // of the four makes PostgreSQL scan the whole log. A household's incomes are the
    // keys `hh_id|…`: on SQLite a LIKE prefix cannot use the index (its LIKE ignores
    // case), so it asks for the byte range `hh_id|` ..< `hh_id}` instead; on
    // PostgreSQL a range would follow the database's collation, so LIKE stays.
    const COLS: &str = "seq, at, actor, source, entity, entity_key, op, field, old_value, new_value, reason, \
                        prev_hash, hash";
    let incomes = match store.engine() {
        crate::Engine::Sqlite => "entity_key >= $2 AND entity_key < $5",
        crate::Engine::Postgres => "entity_key LIKE $2 ESCAPE '\\' AND $5 <> ''",
    };
    let sql = format!(
        "SELECT {COLS} FROM change_log WHERE entity = 'households' AND entity_key = $1 \
         UNION ALL SELECT {COLS} FROM change_log WHERE entity = 'persons' \
           AND entity_key IN (SELECT person_id FROM persons WHERE hh_id = $1) \
         UNION ALL SELECT {COLS} FROM change_log WHERE entity = 'incomes' AND {incomes} \
         UNION ALL SELECT {COLS} FROM change_log WHERE entity = 'findings' AND {incomes} \
         UNION ALL SELECT {COLS} FROM change_log WHERE entity = 'pairings' AND entity_key LIKE $3 ESCAPE '\\' \
         ORDER BY seq DESC LIMIT $4"
    );
    let incomes_from = match store.engine() {
        crate::Engine::Sqlite => format!("{hh_id}|"),
        crate::Engine::Postgres => format!("{escaped}|%"),
    };
    let rows = sqlx::query(safe(sql))
        .bind(hh_id.as_str().to_owned())
        .bind(incomes_from)
        .bind(format!("%|{escaped}|%"))
        .bind(limit)
        .bind(format!("{hh_id}}}"))
        .fetch_all(store.pool())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(ChangeRecord::from_row(r)?);
    }
    Ok(out)
}

fn search_hit(r: &AnyRow) -> Result<SearchHit, sqlx::Error> {
    Ok(SearchHit {
        hh_id: r.try_get(0)?,
        village_code: r.try_get(1)?,
        village_name: r.try_get(2)?,
        person_name: r.try_get(3)?,
        relation: r.try_get(4)?,
        id_number: r.try_get(5)?,
        status: r.try_get(6)?,
        person_status: r
            .try_get::<Option<String>, _>(7)?
            .filter(|s| !s.is_empty() && s != fupin_domain::schema::PRESENT),
    })
}

/// People and households inside `area` that match, at most `limit`.
pub async fn search(
    store: &Store,
    area: &DivisionCode,
    query: &SearchQuery,
    limit: i64,
) -> Result<Vec<SearchHit>, StoreError> {
    // A person who died or left is found too, with the 人员状态 that marks them.
    const SELECT: &str =
        "SELECT h.hh_id, h.village_code, d.name, p.name, p.relation, p.id_number, h.status, p.person_status";
    let rows = match query {
        SearchQuery::IdNumber(id) => {
            let sql = format!(
                "{SELECT} FROM persons p JOIN households h ON h.hh_id = p.hh_id \
                 LEFT JOIN divisions d ON d.code = h.village_code \
                 WHERE p.id_number = $2 AND h.village_code LIKE $1 ORDER BY h.hh_id, p.person_id LIMIT $3"
            );
            sqlx::query(safe(sql)).bind(within(area)).bind(id.clone()).bind(limit).fetch_all(store.pool()).await?
        }
        SearchQuery::Text(text) => {
            // The household by its number (with its head, if any), then people by name.
            let sql = format!(
                "{SELECT} FROM households h \
                 LEFT JOIN persons p ON p.hh_id = h.hh_id AND p.relation = '01' \
                   AND COALESCE(p.person_status, '1') = '1' \
                 LEFT JOIN divisions d ON d.code = h.village_code \
                 WHERE h.hh_id = $2 AND h.village_code LIKE $1 \
                 UNION ALL \
                 {SELECT} FROM persons p JOIN households h ON h.hh_id = p.hh_id \
                 LEFT JOIN divisions d ON d.code = h.village_code \
                 WHERE p.name LIKE $3 ESCAPE '\\' AND h.village_code LIKE $1 \
                 LIMIT $4"
            );
            sqlx::query(safe(sql))
                .bind(within(area))
                .bind(text.clone())
                .bind(format!("%{}%", like_escape(text)))
                .bind(limit)
                .fetch_all(store.pool())
                .await?
        }
    };
    let mut hits: Vec<SearchHit> = Vec::with_capacity(rows.len());
    for r in &rows {
        let hit = search_hit(r)?;
        if !hits.contains(&hit) {
            hits.push(hit);
        }
    }
    Ok(hits)
}

/// The first township (in code order) that has households: where a demo township
/// officer works.
pub async fn first_township_with_households(store: &Store) -> Result<Option<DivisionRow>, StoreError> {
    let row = sqlx::query(
        "SELECT d.code, d.name, d.level, d.parent_code FROM divisions d \
         WHERE d.level = 'township' AND EXISTS \
           (SELECT 1 FROM households h WHERE substr(h.village_code, 1, 9) = d.code) \
         ORDER BY d.code LIMIT 1",
    )
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(|r| division_row(&r)).transpose()?)
}

/// The village with the most households (the lower code on a tie).
pub async fn village_with_most_households(store: &Store) -> Result<Option<DivisionRow>, StoreError> {
    let row = sqlx::query(
        "SELECT d.code, d.name, d.level, d.parent_code FROM divisions d \
         JOIN (SELECT village_code, COUNT(*) AS n FROM households GROUP BY village_code) c \
           ON c.village_code = d.code \
         ORDER BY c.n DESC, d.code LIMIT 1",
    )
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(|r| division_row(&r)).transpose()?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(super::like_escape("a%b_c\\"), "a\\%b\\_c\\\\");
    }
}
