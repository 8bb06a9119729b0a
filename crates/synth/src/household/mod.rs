//! One household at a time: members, registration history, conditions, relocation,
//! monitoring and income years, all kept consistent with each other.
//! The members themselves are drawn in `members`.

use crate::ids::IdAllocator;
use crate::model::{Household, Monitor, Person, Relocation};
use crate::names;
use crate::rnd::{self, Rng8};
use crate::villages::{self, Village};
use time::{Date, Duration};

mod members;

/// The poverty line and the monitoring line per year, in fen.
pub struct Lines {
    pub first: i32,
    pub poverty: Vec<i64>,
    /// The published monitoring line, or 1.5 × the poverty line before there was one.
    pub monitoring: Vec<i64>,
}

impl Lines {
    fn at(v: &[i64], first: i32, year: i32) -> i64 {
        let i = (year - first).clamp(0, v.len() as i32 - 1) as usize;
        v[i]
    }
    pub fn poverty(&self, year: i32) -> i64 {
        Self::at(&self.poverty, self.first, year)
    }
    pub fn monitoring(&self, year: i32) -> i64 {
        Self::at(&self.monitoring, self.first, year)
    }
}

/// What a fault needs the next household to be; generation stays realistic otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    None,
    /// Ever 建档立卡.
    Registered,
    /// A 特困供养 household whose one member is 40–65, chronically ill, without labour.
    Tekun,
    /// A 低保 household with exactly one 低保 member.
    DibaoSingle,
}

/// The year Xunyang's last registered households exited (the county exited in 2020).
pub const LAST_EXIT_YEAR: i32 = 2020;
/// First year of 防返贫监测 (2021 onwards).
pub const MONITORING_FROM: i32 = 2021;

pub struct Gen {
    pub rng: Rng8,
    pub ids: IdAllocator,
    pub lines: Lines,
    pub today: Date,
    pub first_year: i32,
    pub last_year: i32,
    /// Youngest possible age on the reference date (a child must be born by today).
    pub min_age: i32,
    pub monitoring_on: bool,
    pub mix: crate::Mix,
    /// Accepted households never registered, and those of them left below the poverty
    /// line (漏评): the budget that keeps 漏评 under 1.5 %.
    pub unregistered: usize,
    pub missed_poor: usize,
}

/// 漏评 stays under this share (per mille) of the unregistered households, below the
/// 2 % missed-poor rate of the county exit criteria.
const MISSED_POOR_CAP_PM: usize = 15;

impl Gen {
    fn chance(&mut self, p: f64) -> bool {
        rnd::chance(&mut self.rng, p)
    }
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        rnd::int(&mut self.rng, lo, hi)
    }
    fn age(&mut self, lo: i32, hi: i32) -> i32 {
        self.int(lo as i64, hi as i64) as i32
    }
    fn pm(&mut self, per_mille: u32) -> bool {
        self.chance(f64::from(per_mille) / 1000.0)
    }

    /// Generates one household of village `vi`. Its 户编号 and pairings are set by the
    /// caller once the household is accepted.
    pub fn household(&mut self, villages: &[Village], vi: usize, hint: Hint) -> Household {
        let v = &villages[vi];
        let reg_prob = (v.reg_prob * f64::from(self.mix.registration_pct) / 100.0).min(0.95);
        let registered = hint != Hint::None || self.chance(reg_prob);
        let persons = self.members(registered, hint);
        let group = self.int(1, v.groups as i64) as u8;
        let mut hh = Household {
            id: String::new(),
            group,
            phone: String::new(),
            bank_name: "",
            bank_account: String::new(),
            registered,
            status: "1",
            standard: "",
            attribute: "",
            identified_year: None,
            planned_exit_year: None,
            exit_year: None,
            monitor: None,
            main_cause: "",
            other_causes: ["", ""],
            military_family: false,
            one_child: false,
            two_daughters: false,
            farmland: 0,
            irrigated: 0,
            forest: 0,
            returned_forest: 0,
            orchard: 0,
            pasture: 0,
            water_surface: 0,
            farm_power: true,
            home_power: true,
            radio_tv: true,
            water_difficult: false,
            water_safe: true,
            road: 0,
            path_type: "3",
            house_area: 0,
            dangerous: false,
            danger_grade: "",
            toilet: true,
            fuel: "1",
            coop: false,
            relocation: None,
            breeding_project: false,
            other_business_project: false,
            late_exit: false,
            missed_poor: false,
            missed_monitoring: false,
            above_line: false,
            dibao_until: None,
            wages_from: None,
            persons,
            incomes: Vec::new(),
            pairings: Vec::new(),
            blank: None,
            unpaired: false,
            helper_member: None,
        };
        hh.phone = hh.persons.iter().find(|p| !p.phone.is_empty()).map(|p| p.phone.clone()).unwrap_or_default();
        hh.bank_name = rnd::pick(&mut self.rng, names::BANKS);
        hh.bank_account = names::bank_account(&mut self.rng);
        if registered {
            self.registration(&mut hh, v, hint);
        }
        self.conditions(&mut hh);
        self.relocation(&mut hh, villages, vi);
        hh.monitor = self.monitoring(&hh);
        self.history(&mut hh);
        hh.incomes = crate::income::incomes(self, &hh);
        hh
    }

    /// What changed over the years and what the county missed: registered households
    /// above the line, 低保 that ended, migration that began late, households left
    /// below a line unregistered (漏评) or unmonitored (漏监测). Past income years then
    /// disagree with today's attributes, as real registries do.
    fn history(&mut self, hh: &mut Household) {
        let mix = self.mix.clone();
        if hh.registered {
            hh.above_line = self.pm(mix.poor_above_line_pm);
            let ident = hh.identified_year.unwrap_or(self.first_year);
            let until = (self.last_year - 1).min(2022);
            if hh.attribute == "1" && ident <= until && self.pm(mix.dibao_ended_pm) {
                hh.dibao_until = Some(self.age(ident, until));
            }
        } else {
            let room = (self.missed_poor + 1) * 1000 <= MISSED_POOR_CAP_PM * (self.unregistered + 1);
            hh.missed_poor = room && self.first_year <= LAST_EXIT_YEAR && self.pm(mix.missed_poor_pm);
        }
        hh.missed_monitoring = self.monitoring_on && hh.monitor.is_none() && self.pm(mix.missed_monitoring_pm);
        if hh.persons.iter().any(|p| p.migrant()) && self.first_year < self.last_year && self.pm(mix.late_migration_pm)
        {
            hh.wages_from = Some(self.age(self.first_year + 1, self.last_year));
        }
    }

    fn registration(&mut self, hh: &mut Household, v: &Village, hint: Hint) {
        let size = hh.persons.len();
        hh.standard = if self.chance(0.9) { "1" } else { "2" };
        let first = self.first_year;
        let last_ident = match v.poor_exit {
            Some(ve) => (first + 2).min(ve - 1),
            None => first + 2,
        }
        .min(self.last_year)
        .max(first);
        let ident = loop {
            let y = first + rnd::weighted(&mut self.rng, &[(0, 80), (1, 10), (2, 10)]);
            if y <= last_ident {
                break y;
            }
        };
        hh.identified_year = Some(ident);
        // Exit years as the county reported them: most in 2016–2019, never the
        // identification year itself, everyone by 2020.
        const EXIT_WEIGHTS: [(i32, u32); 6] = [(2015, 8), (2016, 17), (2017, 20), (2018, 25), (2019, 24), (2020, 6)];
        let later = |y: i32| y > ident && y <= LAST_EXIT_YEAR.max(ident + 1);
        let mut all: Vec<(i32, u32)> = EXIT_WEIGHTS.iter().copied().filter(|(y, _)| later(*y)).collect();
        if all.is_empty() {
            all.push((ident + 1, 1));
        }
        let exit = match v.poor_exit {
            Some(ve) => {
                let in_time: Vec<(i32, u32)> = all.iter().copied().filter(|(y, _)| *y <= ve).collect();
                let late: Vec<(i32, u32)> = all.iter().copied().filter(|(y, _)| *y > ve).collect();
                let budget_ok = (v.late_used + size) as f64 <= v.late_budget;
                if !late.is_empty() && (in_time.is_empty() || (budget_ok && self.chance(0.5))) {
                    hh.late_exit = true;
                    rnd::weighted(&mut self.rng, &late)
                } else {
                    rnd::weighted(&mut self.rng, &in_time)
                }
            }
            None => rnd::weighted(&mut self.rng, &all),
        };
        hh.planned_exit_year = Some(if self.chance(0.8) {
            exit
        } else {
            (exit + self.age(-1, 1)).clamp(ident + 1, LAST_EXIT_YEAR.max(ident + 1))
        });
        if exit <= self.last_year {
            hh.exit_year = Some(exit);
            hh.status = "3";
        } else {
            hh.status = "2";
        }

        // 贫困户属性 and the members' 低保/特困 flags.
        let able = hh.able_workers();
        let vulnerable = hh.persons.iter().any(|p| !p.healthy() || p.age >= 70) || able == 0;
        hh.attribute = match hint {
            Hint::Tekun => "3",
            Hint::DibaoSingle => "2",
            _ if able == 0 && size <= 2 && self.chance(0.45) => "3",
            _ if self.chance(if vulnerable { 0.3 } else { 0.12 }) => "2",
            _ => "1",
        };
        match hh.attribute {
            "3" => hh.persons.iter_mut().for_each(|p| p.tekun = true),
            "2" => {
                if hint == Hint::DibaoSingle || self.chance(0.4) {
                    // 分类施保: only the member who needs it most.
                    let i = hh
                        .persons
                        .iter()
                        .position(|p| !p.healthy())
                        .or_else(|| hh.persons.iter().position(|p| p.age >= 70))
                        .unwrap_or(0);
                    hh.persons[i].dibao = true;
                } else {
                    hh.persons.iter_mut().for_each(|p| p.dibao = true);
                }
            }
            _ => {}
        }
        self.causes(hh);
    }

    /// 致贫原因 backed by the members: 因病 needs a sick member, 因残 a disabled one,
    /// 因学 a student, 缺劳力 at most one able worker. The backing member was born by
    /// the identification year: a child born later is not counted in the years before
    /// its birth, where the cause is judged too.
    fn causes(&mut self, hh: &mut Household) {
        let ident = hh.identified_year.unwrap_or(self.first_year);
        let born = |p: &&Person| p.birth.year() <= ident;
        let sick = hh.persons.iter().filter(born).any(|p| p.sick());
        let disabled = hh.persons.iter().filter(born).any(|p| p.disabled);
        let student = hh.persons.iter().filter(born).any(|p| p.student());
        let few = hh.able_workers() <= 1;
        let w = |ok: bool, w: u32| if ok { w } else { 0 };
        let mut cand: Vec<(&'static str, u32)> = vec![
            ("01", w(sick, 60)),
            ("02", w(disabled, 14)),
            ("03", w(student, 14)),
            ("04", 3),
            ("05", 3),
            ("06", 1),
            ("07", 15),
            ("08", w(few, 14)),
            ("09", 15),
            ("10", 3),
            ("11", 4),
            ("99", 1),
        ];
        let main = rnd::weighted(&mut self.rng, &cand);
        hh.main_cause = main;
        let n = rnd::weighted(&mut self.rng, &[(0usize, 50), (1, 35), (2, 15)]);
        for slot in 0..n {
            for c in cand.iter_mut() {
                if c.0 == main || (slot == 1 && c.0 == hh.other_causes[0]) {
                    c.1 = 0;
                }
            }
            if cand.iter().all(|c| c.1 == 0) {
                break;
            }
            hh.other_causes[slot] = rnd::weighted(&mut self.rng, &cand);
        }
    }

    // ---------------------------------------------------------------- conditions

    fn conditions(&mut self, hh: &mut Household) {
        let n = hh.persons.len() as i64;
        let reg = hh.registered;
        let per = if reg { self.int(4, 20) } else { self.int(6, 30) };
        hh.farmland = (n * per).max(3);
        hh.irrigated = if self.chance(0.4) { hh.farmland * self.int(0, 30) / 100 } else { 0 };
        hh.forest = if self.chance(0.8) { self.int(5, 400) } else { 0 };
        hh.returned_forest = if self.chance(0.4) { self.int(5, 50) } else { 0 };
        hh.orchard = if self.chance(0.3) { self.int(2, 30) } else { 0 };
        hh.pasture = if self.chance(0.03) { self.int(5, 50) } else { 0 };
        hh.water_surface = if self.chance(0.02) { self.int(1, 20) } else { 0 };
        hh.farm_power = self.chance(0.95);
        hh.radio_tv = self.chance(0.97);
        hh.road = if self.chance(0.85) { self.int(0, 30) } else { self.int(30, 150) };
        hh.path_type = rnd::weighted(&mut self.rng, &[("3", 80), ("2", 14), ("1", 4), ("4", 2)]);
        let per_m2 = if reg { self.int(180, 450) } else { self.int(250, 600) };
        hh.house_area = (n * per_m2).max(300);
        hh.toilet = self.chance(0.85);
        hh.fuel = rnd::weighted(&mut self.rng, &[("1", 55), ("3", 15), ("4", 28), ("9", 2)]);
        hh.coop = self.chance(if reg { 0.4 } else { 0.15 });
        hh.military_family = self.chance(0.015);
        let sons = hh.persons.iter().filter(|p| p.relation == "03").count();
        let daughters = hh.persons.iter().filter(|p| p.relation == "04").count();
        hh.one_child = sons + daughters == 1 && self.chance(0.4);
        hh.two_daughters = sons == 0 && daughters == 2 && self.chance(0.4);
        // Projects need someone to run them.
        let workers = hh.able_workers() > 0;
        hh.breeding_project = workers && self.chance(0.3);
        hh.other_business_project = workers && self.chance(0.1);
    }

    fn relocation(&mut self, hh: &mut Household, villages: &[Village], vi: usize) {
        if hh.able_workers() == 0 {
            // Each relocated household's main labourer must master a skill, so only
            // households with a labourer are moved here.
            return;
        }
        let last = LAST_EXIT_YEAR.min(self.last_year);
        let (start, end, kind) = if hh.registered {
            let ident = hh.identified_year.unwrap_or(self.first_year);
            let end = hh.exit_year.unwrap_or(last).min(last);
            (ident.max(2016), end, "1")
        } else {
            (2016, last, "2")
        };
        if start > end || !self.chance(if hh.registered { 0.13 } else { 0.012 }) {
            return;
        }
        let year = self.age(start, end);
        let mode: &'static str = if hh.registered {
            rnd::weighted(
                &mut self.rng,
                &[("11", 40), ("12", 10), ("13", 5), ("14", 20), ("21", 10), ("22", 8), ("23", 7)],
            )
        } else {
            rnd::weighted(&mut self.rng, &[("11", 50), ("12", 15), ("13", 5), ("14", 30)])
        };
        let v = &villages[vi];
        let (site, site_code) = if mode.starts_with('1') {
            let in_town: Vec<&Village> =
                villages.iter().filter(|x| x.community && x.town_code == v.town_code).collect();
            let any: Vec<&Village> = villages.iter().filter(|x| x.community).collect();
            let pool = if !in_town.is_empty() { in_town } else { any };
            if pool.is_empty() {
                (format!("{}集中安置点", v.town_name), v.code.clone())
            } else {
                let s = rnd::pick(&mut self.rng, &pool);
                (format!("{}安置点", villages::short_name(&s.name)), s.code.clone())
            }
        } else {
            let pool: Vec<&Village> = villages.iter().filter(|x| !x.community && x.town_code == v.town_code).collect();
            let s = if pool.is_empty() { v } else { rnd::pick(&mut self.rng, &pool) };
            (format!("{}（分散安置）", villages::short_name(&s.name)), s.code.clone())
        };
        let n = hh.persons.len() as i64;
        let area = n * self.int(180, 250);
        hh.relocation = Some(Relocation { kind, mode, site, site_code, year, area, demolished: self.chance(0.85) });
        hh.house_area = area;
        hh.dangerous = false;
        hh.danger_grade = "";
        hh.path_type = "3";
        hh.road = self.int(0, 10);
        hh.toilet = true;
        for p in hh.persons.iter_mut().filter(|p| p.able() && p.working_age()) {
            if p.skills.is_empty() {
                p.skills.push_str(rnd::pick(&mut self.rng, names::SKILLS));
            }
            p.trained = true;
        }
    }

    // ---------------------------------------------------------------- monitoring

    fn monitoring(&mut self, hh: &Household) -> Option<Monitor> {
        if !self.monitoring_on {
            return None;
        }
        let kind = if hh.exited() && hh.status == "3" {
            if !self.chance(0.085) {
                return None;
            }
            if self.chance(0.1) { "3" } else { "1" }
        } else if !hh.registered {
            if !self.chance(0.024) {
                return None;
            }
            if self.chance(0.17) { "3" } else { "2" }
        } else {
            return None;
        };
        // All three types exist from 2021 (突发严重困难户 too, 中农组发〔2021〕7号).
        let first = MONITORING_FROM;
        let last = self.last_year.min(self.today.year());
        if first > last {
            return None;
        }
        let years: Vec<(i32, u32)> = (first..=last)
            .map(|y| (y, [35u32, 25, 15, 12, 8, 5].get((y - first) as usize).copied().unwrap_or(4)))
            .collect();
        let y = rnd::weighted(&mut self.rng, &years);
        let lo = rnd::ymd(y, 1, 1).max(rnd::ymd(MONITORING_FROM, 3, 1));
        let hi = rnd::ymd(y, 12, 31).min(self.today);
        if hi < lo {
            return None;
        }
        let since = rnd::date(&mut self.rng, lo, hi);

        let sick = hh.persons.iter().any(|p| p.sick());
        let disabled = hh.persons.iter().any(|p| p.disabled);
        let student = hh.persons.iter().any(|p| p.student());
        let migrant = hh.persons.iter().any(|p| p.migrant() && p.able());
        let few = hh.able_workers() <= 1;
        let business = hh.breeding_project || hh.other_business_project;
        let w = |ok: bool, w: u32| if ok { w } else { 0 };
        let mut cand: Vec<(&'static str, u32)> = vec![
            ("01", w(sick, 40)),
            ("03", w(disabled, 12)),
            ("04", w(few, 10)),
            ("07", w(migrant, 15)),
            ("09", w(student, 8)),
            ("0201", 3),
            ("0202", 4),
            ("0205", 3),
            ("05", 6),
            ("06", w(business, 5)),
            ("99", 2),
        ];
        let mut risks: Vec<(&'static str, Date)> = Vec::with_capacity(3);
        if kind == "3" {
            // A sudden hardship: illness, an accident or a disaster.
            let r = rnd::weighted(&mut self.rng, &[("01", w(sick, 50)), ("05", 30), ("0202", 20)]);
            risks.push((r, since));
        }
        let n = rnd::weighted(&mut self.rng, &[(1usize, 60), (2, 30), (3, 10)]);
        while risks.len() < n {
            for c in cand.iter_mut() {
                if risks.iter().any(|r| r.0 == c.0) {
                    c.1 = 0;
                }
            }
            if cand.iter().all(|c| c.1 == 0) {
                break;
            }
            let r = rnd::weighted(&mut self.rng, &cand);
            let on = if risks.is_empty() { since } else { (since + Duration::days(self.int(0, 200))).min(self.today) };
            risks.push((r, on));
        }
        risks.sort_by_key(|r| r.1);
        // Cleared only with labour capacity, after at least half a year of stable income
        // and in a later calendar year than the start.
        let cleared = if hh.has_labour() && self.chance(0.45) {
            let earliest = (since + Duration::days(183)).max(rnd::ymd(since.year() + 1, 1, 1));
            let latest = self.today.min(earliest + Duration::days(500));
            if earliest <= latest { Some(rnd::date(&mut self.rng, earliest, latest)) } else { None }
        } else {
            None
        };
        Some(Monitor { kind, since, risks, cleared })
    }
}
