//! 统计看板 as a use case: an area's figures for one year (county → township →
//! village), counted once for the dashboard page and the API alike, with the sections
//! the viewer may see.
//!
//! The figures are `GROUP BY` queries of the registry (`fupin_store::dashboard_views`);
//! the exit threshold comes from `data/policy/exit.csv`; 走访合规 counts the visits of
//! the quarter (the current one, or the year's last for a past year).
//!
//! Pre-aggregation: an area's registry figures for a year are kept in memory under the
//! head of the change history. Every registry write moves the head, so a kept answer is
//! never stale: after a write the next request counts again. Visits are not in the
//! change history, so they are counted on every request.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use fupin_domain::exit_policy::ExitPolicy;
use fupin_domain::{DivisionCode, DivisionLevel};
use fupin_store::dashboard_views::{self, MonitorFigures, Quarter, StatusFigures};
use fupin_store::users::Role;
use fupin_store::views::{self, DivisionRow};
use fupin_store::{Store, audit};

use crate::{AppError, AppResult, Viewer};

/// The first year a dashboard offers (建档立卡 began in 2014).
pub const FIRST_YEAR: i32 = 2014;

/// The year asked for (`?year=`), or the year of `today` when none or out of range
/// ([`FIRST_YEAR`] to this year).
pub fn year_of(today: time::Date, asked: Option<&str>) -> i32 {
    let this_year = today.year();
    asked
        .and_then(|y| y.trim().parse::<i32>().ok())
        .filter(|y| (FIRST_YEAR..=this_year).contains(y))
        .unwrap_or(this_year)
}

/// The years a dashboard offers, newest first.
pub fn years(today: time::Date) -> Vec<i32> {
    (FIRST_YEAR..=today.year()).rev().collect()
}

/// The sections of a dashboard a viewer sees: a department officer those over their
/// own columns (户类型 and 贫困发生率, 脱贫年度, 监测对象), and no 走访 (field work).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sections {
    /// 户类型 by child area, and 贫困发生率.
    pub status: bool,
    /// 脱贫 by exit year.
    pub exit_year: bool,
    /// 监测对象 by type.
    pub monitor_type: bool,
    /// 走访合规.
    pub visits: bool,
}

impl Sections {
    /// The sections `viewer` sees.
    pub fn of(viewer: &Viewer) -> Sections {
        Sections {
            status: viewer.may_see_field("households", "status"),
            exit_year: viewer.may_see_field("households", "exit_year"),
            monitor_type: viewer.may_see_field("households", "monitor_type"),
            visits: viewer.user.role != Role::DepartmentOfficer,
        }
    }
}

/// An area's registry figures for a year, as the store counted them.
#[derive(Debug, Default)]
struct Counted {
    by_child: Vec<(String, StatusFigures)>,
    exits: Vec<(i32, i64, i64)>,
    monitoring: Vec<MonitorFigures>,
}

/// Figures by (head of the change history, area, year).
type Cache = Mutex<HashMap<(String, String, i32), Arc<Counted>>>;
static CACHE: LazyLock<Cache> = LazyLock::new(|| Mutex::new(HashMap::new()));
/// Entries kept before the cache starts again (areas × years × a few heads).
const CACHE_ENTRIES: usize = 1024;

/// The registry figures of `code` in `year`, counted again only when the registry has changed.
async fn counted(store: &Store, code: &DivisionCode, year: i32) -> AppResult<Arc<Counted>> {
    let head = audit::head(store).await?;
    let key = (head.hash, code.to_string(), year);
    if let Some(f) = CACHE.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(f);
    }
    let figures = Arc::new(Counted {
        by_child: dashboard_views::status_by_child(store, code, year).await?,
        exits: dashboard_views::exits_by_year(store, code, year).await?,
        monitoring: dashboard_views::monitoring_by_type(store, code, year).await?,
    });
    if let Ok(mut cache) = CACHE.lock() {
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key, figures.clone());
    }
    Ok(figures)
}

/// 贫困发生率 in percent, or `None` for an area without persons.
pub fn rate(f: &StatusFigures) -> Option<f64> {
    let all = f.total_persons();
    (all > 0).then(|| f.poor_persons() as f64 * 100.0 / all as f64)
}

/// Whether a 贫困发生率 lies below the exit threshold (false when either is unknown).
pub fn below(rate: Option<f64>, threshold: Option<f64>) -> bool {
    matches!((rate, threshold), (Some(r), Some(t)) if r < t)
}

/// The sum of several areas' figures.
pub fn sum<'a>(figures: impl IntoIterator<Item = &'a StatusFigures>) -> StatusFigures {
    let mut total = StatusFigures::default();
    for f in figures {
        for i in 0..3 {
            total.households[i] += f.households[i];
            total.persons[i] += f.persons[i];
        }
        total.monitored_households += f.monitored_households;
        total.monitored_persons += f.monitored_persons;
    }
    total
}

/// 走访合规 of one child area in the quarter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitFigures {
    /// The child area.
    pub code: String,
    pub name: String,
    /// Households due a visit, and those visited.
    pub due: i64,
    pub visited: i64,
}

impl VisitFigures {
    /// Those due and not visited.
    pub fn missed(&self) -> i64 {
        self.due - self.visited
    }

    /// Visited ÷ due in percent (only areas with households due are listed).
    pub fn rate(&self) -> f64 {
        self.visited as f64 * 100.0 / self.due as f64
    }
}

/// An area's dashboard for a year as the viewer may see it: what a section the viewer
/// does not see would hold is left empty.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// The area.
    pub area: DivisionRow,
    pub year: i32,
    /// What the viewer sees.
    pub sections: Sections,
    /// The children the figures are by (townships of a county, villages of a township,
    /// the village itself), in code order.
    pub children: Vec<DivisionRow>,
    /// Figures by child code (children without households are absent); empty when
    /// the viewer does not see 户类型.
    pub by_child: Vec<(String, StatusFigures)>,
    /// The whole area's figures (all zero when the viewer does not see 户类型).
    pub total: StatusFigures,
    /// The exit threshold of 贫困发生率 (percent) of the year, and its note, when the
    /// policy has one for the county's province.
    pub threshold: Option<f64>,
    pub threshold_note: Option<String>,
    /// (exit year, households, persons) up to the year.
    pub exits: Vec<(i32, i64, i64)>,
    /// 监测对象 by type.
    pub monitoring: Vec<MonitorFigures>,
    /// The quarter whose visits are counted.
    pub quarter: Quarter,
    /// 走访合规 of the children with households due a visit, in their order.
    pub visits: Vec<VisitFigures>,
}

impl Dashboard {
    /// The figures of one child (zero for one without households).
    pub fn of(&self, child: &str) -> StatusFigures {
        self.by_child.iter().find(|(k, _)| k == child).map(|(_, f)| *f).unwrap_or_default()
    }
}

/// The dashboard of `code` (inside the viewer's area, else not found; a county,
/// township or village that exists, else not found) in `year`, as of `today`. A
/// helper cadre, whose scope is households rather than an area, has no dashboard.
pub async fn dashboard(
    store: &Store,
    viewer: &Viewer,
    code: &DivisionCode,
    year: i32,
    today: time::Date,
) -> AppResult<Dashboard> {
    if viewer.paired_only() {
        return Err(AppError::Forbidden);
    }
    if !viewer.may_see(code) {
        return Err(AppError::NotFound);
    }
    let area = views::division(store, code).await?.ok_or(AppError::NotFound)?;
    let children = match code.level() {
        DivisionLevel::County | DivisionLevel::Township => views::children(store, code).await?,
        DivisionLevel::Village => vec![area.clone()],
        _ => return Err(AppError::NotFound),
    };
    let sections = Sections::of(viewer);
    let counted = counted(store, code, year).await?;
    let by_child = if sections.status { counted.by_child.clone() } else { Vec::new() };
    let total = sum(by_child.iter().map(|(_, f)| f));
    let policy = ExitPolicy::builtin();
    let criteria = policy.for_year(year, &code.as_str()[..2]);
    let quarter = Quarter::for_year(year, today);
    let visits = if sections.visits {
        let counted = dashboard_views::visits_by_child(store, code, year, &quarter).await?;
        let of = |c: &str| counted.iter().find(|(k, _, _)| k == c).map(|(_, d, v)| (*d, *v)).unwrap_or((0, 0));
        children
            .iter()
            .map(|d| {
                let (due, visited) = of(&d.code);
                VisitFigures { code: d.code.clone(), name: d.name.clone(), due, visited }
            })
            .filter(|v| v.due > 0)
            .collect()
    } else {
        Vec::new()
    };
    Ok(Dashboard {
        area,
        year,
        sections,
        children,
        by_child,
        total,
        threshold: criteria.map(|c| c.village_incidence_max_percent),
        threshold_note: criteria.map(|c| c.note.clone()),
        exits: if sections.exit_year { counted.exits.clone() } else { Vec::new() },
        monitoring: if sections.monitor_type { counted.monitoring.clone() } else { Vec::new() },
        quarter,
        visits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::viewer;

    #[test]
    fn a_year_outside_the_range_is_this_year() {
        let today = time::Date::from_calendar_date(2024, time::Month::May, 1).unwrap_or(time::Date::MIN);
        assert_eq!(year_of(today, Some(" 2020 ")), 2020);
        assert_eq!(year_of(today, Some("2013")), 2024);
        assert_eq!(year_of(today, Some("2025")), 2024);
        assert_eq!(year_of(today, Some("x")), 2024);
        assert_eq!(year_of(today, None), 2024);
        assert_eq!(years(today).first(), Some(&2024));
        assert_eq!(years(today).last(), Some(&FIRST_YEAR));
    }

    #[test]
    fn rates_and_totals() {
        let a =
            StatusFigures { households: [1, 2, 3], persons: [10, 5, 5], monitored_households: 1, monitored_persons: 2 };
        let b =
            StatusFigures { households: [0, 1, 0], persons: [0, 5, 0], monitored_households: 0, monitored_persons: 0 };
        let t = sum([&a, &b]);
        assert_eq!(
            (t.households, t.persons, t.monitored_households, t.monitored_persons),
            ([1, 3, 3], [10, 10, 5], 1, 2)
        );
        assert_eq!(rate(&a), Some(25.0));
        assert_eq!(rate(&StatusFigures::default()), None);
        assert!(below(Some(2.0), Some(3.0)));
        assert!(!below(Some(3.0), Some(3.0)));
        assert!(!below(None, Some(3.0)));
        assert!(!below(Some(1.0), None));
        let v = VisitFigures { code: String::new(), name: String::new(), due: 4, visited: 3 };
        assert_eq!((v.missed(), v.rate()), (1, 75.0));
    }

    #[test]
    fn a_department_officer_sees_only_their_sections() {
        let all = Sections { status: true, exit_year: true, monitor_type: true, visits: true };
        assert_eq!(Sections::of(&viewer(Role::CountyAdmin, "610981", None)), all);
        assert_eq!(Sections::of(&viewer(Role::Inspector, "610981", None)), all);
        let officer = Sections::of(&viewer(Role::DepartmentOfficer, "610981", Some("02")));
        assert!(!officer.visits);
        assert!(!officer.status, "户类型 is 乡村振兴's");
    }
}
