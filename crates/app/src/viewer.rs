//! Who is asking, and what they may see: the signed-in user with their scope. Every use
//! case takes a [`Viewer`]; the pages, the API and the CLI build one and nothing else
//! decides what a user may see.

use std::collections::BTreeSet;
use std::sync::Arc;

use fupin_domain::departments::Departments;
use fupin_domain::schema::Table;
use fupin_domain::{DivisionCode, Value, mask};
use fupin_store::users::{self, Role, User};
use fupin_store::writer::ChangeRecord;
use fupin_store::{Store, StoreError, views};

/// Which households inside the area a user may see.
#[derive(Debug, Clone)]
pub enum Households {
    /// Every household of the area (every role but helper cadres).
    All,
    /// Only these (a helper cadre's households paired with their helper on the
    /// configured today, 结对帮扶); any other is answered like one that does not exist.
    Paired(Arc<BTreeSet<String>>),
}

/// The signed-in user with the households they may see. Every check of a household
/// goes through [`Viewer::may_see_household`].
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The account.
    pub user: User,
    /// The households inside the area they may see.
    pub households: Households,
}

impl Viewer {
    /// The user with their scope: a helper cadre's pairings are read once per request
    /// (one indexed query), so an ended pairing is out of scope at once.
    pub async fn load(store: &Store, user: User, today: time::Date) -> Result<Viewer, StoreError> {
        let households = match user.role {
            Role::HelperCadre => {
                let ids = users::paired_households(store, &user.username, today).await?;
                Households::Paired(Arc::new(ids.into_iter().collect()))
            }
            _ => Households::All,
        };
        Ok(Viewer { user, households })
    }

    /// Whether the user's scope is a set of paired households rather than an area
    /// (helper cadres): area overviews, dashboards and lists are not for them.
    pub fn paired_only(&self) -> bool {
        matches!(self.households, Households::Paired(_))
    }

    /// Whether the user sees the values of `table.column`: every role but a department
    /// officer sees all; a department officer (部门数据员) only the identifying columns
    /// and their own department's (`data/policy/department_fields.csv`).
    pub fn may_see_field(&self, table: &str, column: &str) -> bool {
        self.user.role != Role::DepartmentOfficer
            || Departments::builtin().sees(self.user.department.as_deref(), table, column)
    }

    /// `row` of `table` with every value the user may not see emptied, so that pages,
    /// downloads and API answers built from it leave those columns out entirely.
    pub fn visible(&self, table: &Table, row: &[Value]) -> Vec<Value> {
        table
            .columns
            .iter()
            .zip(row)
            .map(|(c, v)| if self.may_see_field(table.name, c.name) { v.clone() } else { Value::Null })
            .collect()
    }

    /// A change record as the user may see it: every one, except that a department
    /// officer sees the changes of the columns they see only, and of a whole row added
    /// or removed only those columns (none of a table they see nothing of).
    pub fn visible_record(&self, r: &ChangeRecord) -> Option<ChangeRecord> {
        if let Some(field) = &r.field {
            return self.may_see_field(&r.entity, field).then(|| r.clone());
        }
        if self.user.role != Role::DepartmentOfficer {
            return Some(r.clone());
        }
        let keep = |v: &Option<String>| -> Option<Option<String>> {
            let Some(v) = v else { return Some(None) };
            let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(v).ok()?;
            let kept: serde_json::Map<String, serde_json::Value> =
                map.into_iter().filter(|(k, _)| self.may_see_field(&r.entity, k)).collect();
            (!kept.is_empty()).then(|| Some(serde_json::Value::Object(kept).to_string()))
        };
        Some(ChangeRecord { old_value: keep(&r.old_value)?, new_value: keep(&r.new_value)?, ..r.clone() })
    }

    /// A search hit with the values the user may not see emptied (as [`Self::visible`]).
    pub fn visible_hit(&self, mut hit: views::SearchHit) -> views::SearchHit {
        if !self.may_see_field("persons", "relation") {
            hit.relation = None;
        }
        if !self.may_see_field("persons", "id_number") {
            hit.id_number = None;
        }
        if !self.may_see_field("households", "status") {
            hit.status = String::new();
        }
        if !self.may_see_field("persons", "person_status") {
            hit.person_status = None;
        }
        hit
    }

    /// Whether a household (by id and village) lies inside the user's scope: inside the
    /// area and, for a helper cadre, paired with their helper today.
    pub fn may_see_household(&self, hh_id: &str, village: &DivisionCode) -> bool {
        self.may_see(village)
            && match &self.households {
                Households::All => true,
                Households::Paired(ids) => ids.contains(hh_id),
            }
    }

    /// [`may_see_household`](Self::may_see_household) for a request that names one
    /// household: a household that exists but lies outside the user's scope answers
    /// like a missing one, and the attempt goes to the security log (`auth_log`).
    pub async fn household_in_scope(
        &self,
        store: &Store,
        hh_id: &str,
        village: &DivisionCode,
    ) -> Result<bool, StoreError> {
        if self.may_see_household(hh_id, village) {
            return Ok(true);
        }
        // The id comes from the request: logged with any personal number in it masked.
        let hh_id = mask::scrub_ids(hh_id);
        tracing::warn!(username = %self.user.username, hh_id, "拒绝访问范围之外的农户");
        let detail = format!("out of scope: household {hh_id}");
        let record = users::AuthRecord {
            username: &self.user.username,
            event: users::AuthEvent::RequestRefused,
            detail: &detail,
            actor: None,
            remote_addr: None,
        };
        users::log_auth(store, &record).await?;
        Ok(false)
    }

    /// The division the user may see.
    pub fn area(&self) -> &DivisionCode {
        &self.user.area
    }

    /// Whether a division (or a household's village) lies inside the user's area.
    pub fn may_see(&self, code: &DivisionCode) -> bool {
        code.within(&self.user.area)
    }
}
