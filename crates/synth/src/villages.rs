//! The county's villages from the division tree: how many households each gets, which
//! were 贫困村 and when they exited, and the yearly village attributes.

use crate::SynthError;
use crate::rnd::{self, Rng8};
use fupin_domain::{DivisionLevel, DivisionTree};

/// Years (inclusive) from which a village attribute is 是.
#[derive(Debug, Clone)]
pub struct Infra {
    pub paved_road: i32,
    pub bus: i32,
    pub clinic: i32,
    pub collective: i32,
    pub power_all: i32,
    pub safe_water: i32,
    /// 村集体经济收入 in the first year it exists, in 元.
    pub collective_base: i64,
}

#[derive(Debug, Clone)]
pub struct Village {
    pub code: String,
    pub name: String,
    pub town_code: String,
    pub town_name: String,
    /// 社区 (urban residents' committee): fewer rural households, never a 贫困村.
    pub community: bool,
    pub groups: u8,
    /// 贫困村退出年度 for a 贫困村.
    pub poor_exit: Option<i32>,
    pub households: usize,
    /// Chance that a household was ever 建档立卡.
    pub reg_prob: f64,
    /// Persons allowed in households that exit after the village did: 2% of the expected
    /// population keeps the village's incidence below the 3% exit line.
    pub late_budget: f64,
    pub late_used: usize,
    pub infra: Infra,
}

/// A name without its committee suffix, for place names such as 安置点.
pub fn short_name(name: &str) -> &str {
    name.trim_end_matches("居委会").trim_end_matches("委会").trim_end_matches("村民")
}

/// Plans every village of `county` in code order.
pub fn plan(
    rng: &mut Rng8,
    tree: &DivisionTree,
    county: &str,
    households: usize,
    first_year: i32,
) -> Result<Vec<Village>, SynthError> {
    if tree.get(county).is_none() {
        return Err(SynthError::NoCounty(county.to_owned()));
    }
    let mut villages = Vec::new();
    let mut weights = Vec::new();
    for d in tree.at_level(DivisionLevel::Village) {
        if !d.code.as_str().starts_with(county) {
            continue;
        }
        let code = d.code.as_str().to_owned();
        let town_code = code[..9].to_owned();
        let town_name = tree.get(&town_code).map(|t| t.name.clone()).unwrap_or_else(|| town_code.clone());
        let seq: u32 = code[9..].parse().unwrap_or(0);
        let community = d.name.contains("社区") || d.name.contains("居委会") || seq < 200;
        let weight = if community { rnd::real(rng, 0.15, 0.45) } else { rnd::real(rng, 0.6, 1.4) };
        weights.push(weight);
        let poor_exit = if !community && rnd::chance(rng, 0.42) {
            Some(first_year + rnd::weighted(rng, &[(2, 15), (3, 25), (4, 35), (5, 25)]))
        } else {
            None
        };
        let reg_prob = match (community, poor_exit.is_some()) {
            (true, _) => 0.12,
            (false, true) => 0.36,
            (false, false) => 0.22,
        };
        let groups = if community { rnd::int(rng, 1, 6) } else { rnd::int(rng, 3, 12) } as u8;
        let infra = infra(rng, first_year, community, poor_exit);
        villages.push(Village {
            code,
            name: d.name.clone(),
            town_code,
            town_name,
            community,
            groups,
            poor_exit,
            households: 0,
            reg_prob,
            late_budget: 0.0,
            late_used: 0,
            infra,
        });
    }
    if villages.is_empty() {
        return Err(SynthError::NoVillages(county.to_owned()));
    }
    // Largest remainder, ties by code order: deterministic and sums to `households`.
    let total: f64 = weights.iter().sum();
    let mut rema: Vec<(f64, usize)> = Vec::with_capacity(villages.len());
    let mut given = 0usize;
    for (i, v) in villages.iter_mut().enumerate() {
        let exact = households as f64 * weights[i] / total;
        v.households = exact.floor() as usize;
        given += v.households;
        rema.push((exact - exact.floor(), i));
    }
    rema.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in rema.iter().take(households - given) {
        villages[*i].households += 1;
    }
    for v in &mut villages {
        if v.households > 99_999 {
            return Err(SynthError::TooManyHouseholds(v.code.clone()));
        }
        v.late_budget = v.households as f64 * 3.2 * 0.02;
    }
    Ok(villages)
}

fn infra(rng: &mut Rng8, first: i32, community: bool, poor_exit: Option<i32>) -> Infra {
    let collective_base = rnd::int(rng, 20, 300) * 1000;
    if community {
        return Infra {
            paved_road: first - 10,
            bus: first - 5,
            clinic: first - 5,
            collective: first - 3,
            power_all: first - 20,
            safe_water: first - 5,
            collective_base,
        };
    }
    // A 贫困村 gets each item by its exit year (the exit indicators); others mostly had
    // them already and all have them by 2020.
    let by = |rng: &mut Rng8, lo: i32, hi: i32| rnd::int(rng, lo as i64, hi as i64) as i32;
    match poor_exit {
        Some(v) => Infra {
            paved_road: by(rng, first, v),
            bus: by(rng, first, 2021),
            clinic: by(rng, first, v),
            collective: by(rng, first + 1, v),
            power_all: by(rng, first - 2, v),
            safe_water: by(rng, first, v),
            collective_base: collective_base / 4,
        },
        None => {
            let early = |rng: &mut Rng8| {
                if rnd::chance(rng, 0.7) { first - 3 } else { by(rng, first, 2019) }
            };
            Infra {
                paved_road: early(rng),
                bus: early(rng),
                clinic: early(rng),
                collective: early(rng),
                power_all: early(rng),
                safe_water: early(rng),
                collective_base,
            }
        }
    }
}

/// One row of 村基本情况.
pub struct VillageYear<'a> {
    pub village: &'a Village,
    pub year: i32,
}

impl VillageYear<'_> {
    pub fn poor(&self) -> bool {
        self.village.poor_exit.is_some()
    }
    pub fn exit_year(&self) -> Option<i32> {
        self.village.poor_exit.filter(|v| *v <= self.year)
    }
    pub fn has(&self, since: i32) -> bool {
        self.year >= since
    }
    /// 村集体经济收入 in fen: grows about 12% a year once there is a collective economy.
    pub fn collective_income(&self) -> i64 {
        let i = &self.village.infra;
        if self.year < i.collective {
            return 0;
        }
        let years = (self.year - i.collective).min(30);
        let yuan = i.collective_base as f64 * 1.12f64.powi(years);
        (yuan.round() as i64) * 100
    }
}
