//! The synthetic county: every rural household of a real county's villages, with
//! members, registration and exit history, incomes, relocation, monitoring, helpers and
//! village attributes, written as the registry's exchange files, plus an answer key of
//! injected data-quality faults for testing the rules.
//!
//! Generation is deterministic for a seed (one ChaCha8 stream, no hash-map order in
//! the output) and streams: one household is generated, written and dropped at a time.
//!
//! Ages are taken on 31 December of `Config::last_year` ([`fupin_domain::date::year_end`]),
//! the reference date the rules use.

mod faults;
mod helpers;
mod household;
mod ids;
mod income;
mod model;
mod names;
mod rnd;
mod villages;
mod write;

pub use faults::{FAULT_KINDS, FaultKind, Group, Level};

use fupin_domain::{DivisionTree, PolicyLines};
use rand::SeedableRng;
use std::path::{Path, PathBuf};
use time::Date;

/// The distributions households are drawn from, in whole per-mille or per-cent so that
/// a configuration stays comparable. The rules must hold on clean data of any mix:
/// [`Mix::xunyang`] is the county the rules were written against, [`Mix::other`] a
/// deliberately different one (poorer, more registered, wider incomes, more weak
/// labour, more missed households).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix {
    /// Each village's registration rate, in per cent of its planned rate.
    pub registration_pct: u32,
    /// Median income of unregistered households, in per cent of the monitoring line
    /// (1.5 × the poverty line before there was one).
    pub income_median_pct: u32,
    /// Spread of those incomes: σ of their logarithm, in hundredths.
    pub income_sigma_pct: u32,
    /// Registered households whose income is above the line while they are registered
    /// (registered for housing, schooling or illness rather than income), per mille.
    pub poor_above_line_pm: u32,
    /// Unregistered households below the poverty line up to 2020 (漏评), per mille; the
    /// generator keeps them under 1.5 % of the unregistered households, so the county's
    /// missed-poor rate stays under the 2 % exit threshold.
    pub missed_poor_pm: u32,
    /// Unmonitored households below the monitoring line from 2021 (漏监测), per mille.
    pub missed_monitoring_pm: u32,
    /// Working-age members who are 弱劳动力或半劳动力 (2021 on) instead of ordinary
    /// labour, among those aged 55 or more or chronically ill, per mille.
    pub weak_labour_pm: u32,
    /// Migration propensity in per cent of the default.
    pub migration_pct: u32,
    /// Migrant households whose migration began in a later year (wages start then), per mille.
    pub late_migration_pm: u32,
    /// Registered 一般贫困户 who drew 低保 in earlier years and no longer do, per mille.
    pub dibao_ended_pm: u32,
    /// Migrants with an employer insured through 职工医保 rather than 城乡居民医保, per mille.
    pub employee_insurance_pm: u32,
}

impl Mix {
    /// 旬阳 as the rules were written against.
    pub fn xunyang() -> Mix {
        Mix {
            registration_pct: 100,
            income_median_pct: 190,
            income_sigma_pct: 35,
            poor_above_line_pm: 80,
            missed_poor_pm: 8,
            missed_monitoring_pm: 10,
            weak_labour_pm: 150,
            migration_pct: 100,
            late_migration_pm: 250,
            dibao_ended_pm: 150,
            employee_insurance_pm: 120,
        }
    }

    /// A different county: poorer and more often registered, incomes spread wider, more
    /// weak labour and migration, more missed households and ended 低保.
    pub fn other() -> Mix {
        Mix {
            registration_pct: 160,
            income_median_pct: 150,
            income_sigma_pct: 60,
            poor_above_line_pm: 200,
            missed_poor_pm: 30,
            missed_monitoring_pm: 40,
            weak_labour_pm: 400,
            migration_pct: 140,
            late_migration_pm: 500,
            dibao_ended_pm: 400,
            employee_insurance_pm: 350,
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Six-digit county code whose villages receive the households, e.g. `610981`.
    pub county: String,
    /// Rural households in the county (registered or not); ≈ 3.2 persons each.
    pub households: usize,
    /// Same seed, same configuration: byte-identical files.
    pub seed: u64,
    /// Data-quality faults to inject; at least one of each kind when ≥ [`FAULT_KINDS`].len()
    /// (the monitoring kinds only when the years reach 防返贫监测, 2021 on).
    pub faults: usize,
    /// Nothing is dated after this day.
    pub today: Date,
    /// First year of the registry (建档立卡 began in 2014).
    pub first_year: i32,
    /// Latest income year, normally the year of `today`.
    pub last_year: i32,
    /// The distributions to draw from.
    pub mix: Mix,
}

impl Config {
    /// 旬阳 (610981) from 2014 to the year of `today`, without faults.
    pub fn xunyang(households: usize, seed: u64, today: Date) -> Config {
        Config {
            county: "610981".into(),
            households,
            seed,
            faults: 0,
            today,
            first_year: 2014,
            last_year: today.year(),
            mix: Mix::xunyang(),
        }
    }
}

/// What was generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub households: usize,
    pub persons: usize,
    /// Faults injected (rows of `key/faults.csv`).
    pub faults: usize,
    /// The six exchange files, in the schema's table order (parents before children):
    /// exactly what an importer should read.
    pub files: Vec<PathBuf>,
    /// The answer key, `key/faults.csv`, `key/monitoring.csv` and `key/missed.csv`:
    /// never to be imported.
    pub key_files: Vec<PathBuf>,
}

/// Why generation failed. Messages are for the person running `fupin`.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// A [`Config`] value is out of range.
    #[error("生成参数无效：{0}")]
    Config(String),
    /// The county code is not in the division tree.
    #[error("区划树中没有县级区划 {0}")]
    NoCounty(String),
    /// The county has no 12-digit villages to put households in.
    #[error("区划 {0} 下没有村级区划（12 位代码）")]
    NoVillages(String),
    /// A year of the range has no poverty line.
    #[error("{0} 年在扶贫标准表（data/policy/lines.csv）中没有数据")]
    NoPolicy(i32),
    /// A village would need a sixth digit in its household numbers.
    #[error("村 {0} 分到的户数超过 99999，户编号（村代码 + 5 位）放不下")]
    TooManyHouseholds(String),
    /// Too few households could take the requested faults.
    #[error("户数太少，只能注入 {placed} 个错误（要求 {wanted} 个）")]
    Faults { placed: usize, wanted: usize },
    /// A file or folder could not be created or written.
    #[error("无法写入 {}：{source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// A CSV row could not be written.
    #[error("无法写入 {}：{source}", path.display())]
    Csv { path: PathBuf, source: csv::Error },
}

/// Tries to find a household that can take a fault before moving it to the next one.
const FAULT_TRIES: usize = 400;

/// Writes the exchange files into `out` and the answer key into `out/key/`.
///
/// Files in `out`: `households.csv`, `persons.csv`, `incomes.csv`, `village_years.csv`,
/// `helpers.csv`, `pairings.csv`, each UTF-8 without BOM, headed by the schema's Chinese
/// headers in schema order. In `out/key/`: `faults.csv` (`kind,户编号,人编号,detail`)
/// `monitoring.csv` (`户编号,监测对象类型,纳入监测日期,风险类型,风险消除日期`) and
/// `missed.csv` (`户编号,年度,类型`: the household-years deliberately left below a line
/// without registration or monitoring, 类型 漏评 or 漏监测).
pub fn generate(
    cfg: &Config,
    tree: &DivisionTree,
    out: &Path,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<Summary, SynthError> {
    let lines = check(cfg)?;
    let mut rng = rnd::Rng8::seed_from_u64(cfg.seed);
    let mut villages = villages::plan(&mut rng, tree, &cfg.county, cfg.households, cfg.first_year)?;
    std::fs::create_dir_all(out).map_err(|source| SynthError::Io { path: out.to_owned(), source })?;
    let mut w = write::Out::create(out)?;
    for v in &villages {
        for year in cfg.first_year..=cfg.last_year {
            w.village_year(&villages::VillageYear { village: v, year })?;
        }
    }

    let mut g = household::Gen {
        rng,
        ids: ids::IdAllocator::new(),
        lines,
        today: cfg.today,
        first_year: cfg.first_year,
        last_year: cfg.last_year,
        min_age: (cfg.last_year - cfg.today.year()).max(0),
        monitoring_on: cfg.last_year >= household::MONITORING_FROM
            && cfg.today >= rnd::ymd(household::MONITORING_FROM, 3, 1),
        mix: cfg.mix.clone(),
        unregistered: 0,
        missed_poor: 0,
    };
    let mut planner = faults::Planner::new(&mut g.rng, cfg.faults, cfg.households, g.monitoring_on);
    let mut donors = faults::Donors::default();
    let mut pool = helpers::HelperPool::new(&cfg.county);
    if let Some(pb) = progress {
        pb.set_length(cfg.households as u64);
    }
    let (mut h, mut persons, mut placed) = (0usize, 0usize, 0usize);
    for vi in 0..villages.len() {
        for j in 0..villages[vi].households {
            let hh_id = format!("{}{:05}", villages[vi].code, j + 1);
            let mut accepted = None;
            if let Some(kind) = planner.due(h) {
                for _ in 0..FAULT_TRIES {
                    let mut hh = g.household(&villages, vi, faults::hint(kind));
                    hh.id.clone_from(&hh_id);
                    if let Some(row) = faults::apply(kind, &mut hh, &mut g, &mut donors) {
                        accepted = Some((hh, row));
                        break;
                    }
                }
                if accepted.is_some() {
                    planner.placed();
                } else {
                    planner.postpone();
                }
            }
            let (mut hh, row) = match accepted {
                Some((hh, row)) => (hh, Some(row)),
                None => {
                    let mut hh = g.household(&villages, vi, household::Hint::None);
                    hh.id = hh_id;
                    (hh, None)
                }
            };
            if !hh.registered {
                g.unregistered += 1;
                g.missed_poor += usize::from(hh.missed_poor);
            }
            let v = &mut villages[vi];
            if hh.late_exit {
                v.late_used += hh.persons.len();
            }
            pool.pair(&mut g, &mut w, &mut hh, &v.town_name, &v.name)?;
            if let Some(no) = hh.helper_member {
                pool.enlist(&mut g, &mut w, &hh, no, &v.name)?;
            }
            w.household(&hh, &v.code)?;
            match row {
                Some(r) => {
                    w.fault(&r)?;
                    placed += 1;
                }
                None => donors.offer(&hh),
            }
            persons += hh.persons.len();
            h += 1;
            if let Some(pb) = progress {
                pb.inc(1);
            }
        }
    }
    if planner.remaining() > 0 {
        return Err(SynthError::Faults { placed, wanted: cfg.faults });
    }
    let (files, key_files) = w.finish()?;
    Ok(Summary { households: h, persons, faults: placed, files, key_files })
}

/// Checks the configuration and reads the lines for its years.
fn check(cfg: &Config) -> Result<household::Lines, SynthError> {
    let bad = |m: String| Err(SynthError::Config(m));
    if cfg.county.len() != 6 || !cfg.county.bytes().all(|b| b.is_ascii_digit()) {
        return bad(format!("县级区划代码“{}”应为 6 位数字", cfg.county));
    }
    if cfg.households == 0 {
        return bad("户数应大于 0".into());
    }
    if cfg.faults > cfg.households / 2 {
        return bad(format!(
            "错误数 {} 太多：每户至多一个错误，且至多一半的户可以有错误（共 {} 户）",
            cfg.faults, cfg.households
        ));
    }
    if cfg.first_year > cfg.last_year {
        return bad(format!("起始年度 {} 晚于最后年度 {}", cfg.first_year, cfg.last_year));
    }
    if cfg.last_year > cfg.today.year() {
        return bad(format!("最后年度 {} 晚于今天 {}", cfg.last_year, fupin_domain::date::iso(cfg.today)));
    }
    if cfg.first_year < 1949 || cfg.last_year > 2100 {
        return bad(format!("年度范围 {}–{} 超出 1949–2100", cfg.first_year, cfg.last_year));
    }
    let policy = PolicyLines::builtin();
    let province = &cfg.county[..2];
    let mut lines = household::Lines { first: cfg.first_year, poverty: Vec::new(), monitoring: Vec::new() };
    for year in cfg.first_year..=cfg.last_year {
        let p = policy.for_year(year, province).ok_or(SynthError::NoPolicy(year))?;
        let pl = p.poverty_line.fen();
        lines.poverty.push(pl);
        lines.monitoring.push(p.monitoring_line.map(|m| m.fen()).unwrap_or(pl * 3 / 2));
    }
    Ok(lines)
}
