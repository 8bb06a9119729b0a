//! The generated records before they are written: one household with its members,
//! income years and pairings at a time.

use time::Date;

/// One family member. Codes are the `data/codes/` codes; an empty code is written as
/// an empty cell (only faults blank a required one).
#[derive(Debug, Clone)]
pub struct Person {
    /// 2-digit member number inside the household.
    pub no: u8,
    pub name: String,
    pub male: bool,
    pub birth: Date,
    /// Age on 31 December of the latest income year.
    pub age: i32,
    pub id: String,
    /// Index into [`crate::ids::ADDRESSES`] of the number's address code.
    pub address: usize,
    pub relation: &'static str,
    pub ethnicity: &'static str,
    pub political: &'static str,
    pub education: &'static str,
    pub school: &'static str,
    pub chronic: bool,
    pub serious: bool,
    pub disabled: bool,
    pub disease: &'static str,
    pub disability_cert: String,
    pub labour: &'static str,
    pub skills: String,
    pub trained: bool,
    pub migrant_place: &'static str,
    pub migrant_months: i32,
    pub employer: &'static str,
    pub medical: bool,
    pub critical: bool,
    /// 职工基本医疗保险 (through an employer) instead of 城乡居民医保.
    pub employee_ins: bool,
    pub pension_ins: bool,
    pub dibao: bool,
    pub tekun: bool,
    pub phone: String,
}

impl Person {
    /// 健康状况 codes, `;`-separated.
    pub fn health(&self) -> String {
        if !(self.chronic || self.serious || self.disabled) {
            return "01".to_owned();
        }
        let mut s = String::new();
        for (flag, code) in [(self.chronic, "02"), (self.serious, "03"), (self.disabled, "04")] {
            if flag {
                if !s.is_empty() {
                    s.push(';');
                }
                s.push_str(code);
            }
        }
        s
    }

    pub fn healthy(&self) -> bool {
        !(self.chronic || self.serious || self.disabled)
    }

    pub fn sick(&self) -> bool {
        self.chronic || self.serious
    }

    /// 在校生状况 03–16: attends primary school or above.
    pub fn student(&self) -> bool {
        matches!(self.school.parse::<u8>(), Ok(3..=16))
    }

    /// 劳动技能 普通 or 技能.
    pub fn able(&self) -> bool {
        matches!(self.labour, "01" | "02")
    }

    pub fn working_age(&self) -> bool {
        (16..=65).contains(&self.age)
    }

    pub fn migrant(&self) -> bool {
        self.migrant_months > 0
    }
}

/// 易地扶贫搬迁 details.
#[derive(Debug, Clone)]
pub struct Relocation {
    pub kind: &'static str,
    pub mode: &'static str,
    pub site: String,
    pub site_code: String,
    pub year: i32,
    /// Tenths of a square metre.
    pub area: i64,
    pub demolished: bool,
}

impl Relocation {
    /// 分散安置 (modes 21–23).
    pub fn dispersed(&self) -> bool {
        self.mode.starts_with('2')
    }
}

/// 防返贫监测 details.
#[derive(Debug, Clone)]
pub struct Monitor {
    pub kind: &'static str,
    pub since: Date,
    pub risks: Vec<(&'static str, Date)>,
    pub cleared: Option<Date>,
}

/// One income year; amounts in fen.
#[derive(Debug, Clone, Default)]
pub struct Income {
    pub year: i32,
    pub members: i64,
    pub wages: i64,
    pub planting: i64,
    pub breeding: i64,
    pub other_business: i64,
    pub costs: i64,
    pub dividend: i64,
    pub other_property: i64,
    pub family_planning: i64,
    pub dibao: i64,
    pub tekun: i64,
    pub pension: i64,
    pub eco: i64,
    pub other_transfer: i64,
    pub medical_spending: i64,
    pub school_spending: i64,
    pub net_per_capita: i64,
    /// Deliberately below a line without registration or monitoring: "漏评" (the
    /// poverty line, up to 2020) or "漏监测" (the monitoring line, 2021 on); empty
    /// otherwise. Listed in `key/missed.csv`.
    pub missed: &'static str,
}

impl Income {
    /// Every income component, costs not subtracted.
    pub fn gross(&self) -> i64 {
        self.wages
            + self.planting
            + self.breeding
            + self.other_business
            + self.dividend
            + self.other_property
            + self.family_planning
            + self.dibao
            + self.tekun
            + self.pension
            + self.eco
            + self.other_transfer
    }

    pub fn business(&self) -> i64 {
        self.planting + self.breeding + self.other_business
    }
}

/// A helper paired with the household.
#[derive(Debug, Clone)]
pub struct Pairing {
    pub helper: String,
    pub from: Date,
    pub to: Option<Date>,
}

/// One rural household with everything written about it.
#[derive(Debug, Clone)]
pub struct Household {
    pub id: String,
    pub group: u8,
    pub phone: String,
    pub bank_name: &'static str,
    pub bank_account: String,
    /// Ever 建档立卡.
    pub registered: bool,
    pub status: &'static str,
    pub standard: &'static str,
    pub attribute: &'static str,
    pub identified_year: Option<i32>,
    pub planned_exit_year: Option<i32>,
    pub exit_year: Option<i32>,
    pub monitor: Option<Monitor>,
    pub main_cause: &'static str,
    pub other_causes: [&'static str; 2],
    pub military_family: bool,
    pub one_child: bool,
    pub two_daughters: bool,
    /// Areas in tenths of a 亩.
    pub farmland: i64,
    pub irrigated: i64,
    pub forest: i64,
    pub returned_forest: i64,
    pub orchard: i64,
    pub pasture: i64,
    pub water_surface: i64,
    pub farm_power: bool,
    pub home_power: bool,
    pub radio_tv: bool,
    pub water_difficult: bool,
    pub water_safe: bool,
    /// Tenths of a kilometre.
    pub road: i64,
    pub path_type: &'static str,
    /// Tenths of a square metre.
    pub house_area: i64,
    pub dangerous: bool,
    pub danger_grade: &'static str,
    pub toilet: bool,
    pub fuel: &'static str,
    pub coop: bool,
    pub relocation: Option<Relocation>,
    /// Raises breeding or other business income (risk 06 产业项目失败 needs it).
    pub breeding_project: bool,
    pub other_business_project: bool,
    /// Exited after its poor village did (counts toward the village's incidence).
    pub late_exit: bool,
    /// Never registered, yet below the poverty line up to 2020 (漏评).
    pub missed_poor: bool,
    /// Not monitored, yet below the monitoring line from 2021 (漏监测).
    pub missed_monitoring: bool,
    /// Registered, with an income above the poverty line while registered.
    pub above_line: bool,
    /// A 一般贫困户 that drew 低保 up to this year and no longer does.
    pub dibao_until: Option<i32>,
    /// Its members began working away in this year: no wages before.
    pub wages_from: Option<i32>,
    pub persons: Vec<Person>,
    pub incomes: Vec<Income>,
    pub pairings: Vec<Pairing>,
    /// A household column (schema name) written empty; only a fault sets it.
    pub blank: Option<&'static str>,
    /// No helper is paired with it; only a fault sets it.
    pub unpaired: bool,
    /// This member (人编号's last two digits) also serves as a helper cadre; only a
    /// fault sets it.
    pub helper_member: Option<u8>,
}

impl Household {
    /// Members able to work (劳动技能 01/02) aged 16–65.
    pub fn able_workers(&self) -> usize {
        self.persons.iter().filter(|p| p.able() && p.working_age()).count()
    }

    /// Any member with labour capacity at all (劳动技能 01/02).
    pub fn has_labour(&self) -> bool {
        self.persons.iter().any(|p| p.able())
    }

    pub fn exited(&self) -> bool {
        self.exit_year.is_some()
    }

    pub fn causes(&self) -> impl Iterator<Item = &'static str> + '_ {
        std::iter::once(self.main_cause).chain(self.other_causes).filter(|c| !c.is_empty())
    }
}
