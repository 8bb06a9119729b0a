//! Income years. Each year first gets a target 人均纯收入 that puts the household on the
//! right side of that year's lines (below the poverty line while registered, above it
//! from the exit year on, below the monitoring line while a monitoring risk is open,
//! above it otherwise); the components are then realistic shares scaled to that target
//! in whole fen, so that (Σ components − 经营支出) ÷ 人口 is exact.

use crate::household::{Gen, LAST_EXIT_YEAR, MONITORING_FROM};
use crate::model::{Household, Income};
use crate::rnd;

pub fn incomes(g: &mut Gen, hh: &Household) -> Vec<Income> {
    let last = g.last_year;
    let mut first =
        if hh.registered { hh.identified_year.unwrap_or(g.first_year) } else { (last - 2).max(g.first_year) };
    if let Some(m) = &hh.monitor {
        first = first.min(m.since.year());
    }
    let members = hh.persons.len() as i64;
    // How well off the household is, fixed across its years: log-normal around the
    // mix's median, in monitoring lines.
    let median = f64::from(g.mix.income_median_pct) / 100.0;
    let sigma = f64::from(g.mix.income_sigma_pct) / 100.0;
    let z = {
        let u1 = rnd::real(&mut g.rng, 1e-9, 1.0);
        let u2 = rnd::real(&mut g.rng, 0.0, 1.0);
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    };
    let prosperity = (median * (sigma * z).exp()).clamp(0.75, 8.0);
    let above_share = rnd::real(&mut g.rng, 1.05, 1.6);
    let exit_margin = rnd::real(&mut g.rng, 1.15, 1.5);
    let poor_share = rnd::real(&mut g.rng, 0.55, 0.93);
    let mut out = Vec::with_capacity((last - first + 1).max(0) as usize);
    for year in first..=last {
        let pl = g.lines.poverty(year) as f64;
        let ml = g.lines.monitoring(year) as f64;
        let jitter = rnd::real(&mut g.rng, 0.95, 1.05);
        let still_poor = hh.registered && hh.exit_year.is_none_or(|e| year < e);
        let (open_risk, hardship) = match &hh.monitor {
            Some(m) if year >= m.since.year() => {
                let open = m.cleared.is_none_or(|c| year < c.year());
                (open && m.kind != "3", open && m.kind == "3")
            }
            _ => (false, false),
        };
        // 刚性支出 first: a household not at risk keeps its income after them clear of
        // the monitoring line, so the monitoring rules flag only the monitored.
        // Pupils of that year: school age then, or today's students already 6 then.
        let students = hh
            .persons
            .iter()
            .filter(|p| {
                let a = year - p.birth.year();
                (6..=18).contains(&a) || (p.student() && a >= 6)
            })
            .count() as i64;
        let school_spending = students * rnd::int(&mut g.rng, 300, 2500) * 100;
        let sick_spending = if hh.persons.iter().any(|p| p.sick()) { rnd::int(&mut g.rng, 300, 6000) * 100 } else { 0 };
        let mut missed = "";
        let pc = if still_poor && hh.above_line {
            // Registered for housing, schooling or illness rather than income.
            pl * above_share * jitter
        } else if still_poor {
            pl * (poor_share * jitter).min(0.97)
        } else if hh.missed_poor && year <= LAST_EXIT_YEAR {
            missed = "漏评";
            pl * (poor_share * jitter).min(0.97)
        } else if hh.missed_monitoring && year >= MONITORING_FROM && !open_risk && !hardship {
            missed = "漏监测";
            ml * rnd::real(&mut g.rng, 0.75, 0.95)
        } else if open_risk {
            rnd::real(&mut g.rng, pl * 1.08, (ml * 0.92).max(pl * 1.1))
        } else {
            let base = match hh.exit_year {
                Some(e) if hh.registered => pl * exit_margin * 1.06f64.powi(year - e) * jitter,
                _ => ml * prosperity * jitter,
            };
            let mut pc = base.max(pl * 1.1);
            if year >= MONITORING_FROM || hardship {
                // Households not under monitoring stay clear of the monitoring line, so no
                // rule would call them missed edge households.
                pc = pc.max(ml * rnd::real(&mut g.rng, 1.05, 1.3));
                if !hardship {
                    pc = pc.max(ml * 1.05 + (sick_spending + school_spending) as f64 / members as f64);
                }
            }
            pc
        };
        let pc_fen = (pc.round() as i64).max(1);
        let mut inc = components(g, hh, year, members, pc_fen * members);
        inc.net_per_capita = pc_fen;
        inc.missed = missed;
        // A sudden hardship (突发严重困难) while its risk is open: medical costs that
        // leave the household below the monitoring line once paid.
        inc.medical_spending = if hardship {
            let left = ml * rnd::real(&mut g.rng, 0.5, 0.9);
            ((pc_fen as f64 - left) * members as f64 / 100.0).ceil() as i64 * 100
        } else {
            sick_spending
        };
        inc.school_spending = school_spending;
        out.push(inc);
    }
    out
}

/// Splits `net` fen of net income into components.
fn components(g: &mut Gen, hh: &Household, year: i32, members: i64, net: i64) -> Income {
    let t = (year - 2014).max(0) as f64;
    let r = &mut g.rng;
    // Wages come from today's migrants who were of working age that year, from the year
    // their migration began: earlier years may have no wages although members work away
    // today (the rules compare wages with today's workers only in the latest year).
    let months: f64 = if hh.wages_from.is_some_and(|w| year < w) {
        0.0
    } else {
        hh.persons.iter().filter(|p| year - p.birth.year() >= 16).map(|p| f64::from(p.migrant_months.max(0))).sum()
    };
    let mut w = [0f64; 12];
    const WAGES: usize = 0;
    const PLANTING: usize = 1;
    const BREEDING: usize = 2;
    const OTHER_BUSINESS: usize = 3;
    const DIVIDEND: usize = 4;
    const OTHER_PROPERTY: usize = 5;
    const FAMILY_PLANNING: usize = 6;
    const DIBAO: usize = 7;
    const TEKUN: usize = 8;
    const PENSION: usize = 9;
    const ECO: usize = 10;
    const OTHER_TRANSFER: usize = 11;
    w[WAGES] = months * (1800.0 + 220.0 * t) * rnd::real(r, 0.8, 1.2);
    w[PLANTING] = hh.farmland as f64 / 10.0 * rnd::real(r, 350.0, 700.0)
        + hh.orchard as f64 / 10.0 * rnd::real(r, 500.0, 1200.0)
        + 200.0;
    if hh.breeding_project {
        w[BREEDING] = rnd::real(r, 1500.0, 9000.0);
    }
    if hh.other_business_project {
        w[OTHER_BUSINESS] = rnd::real(r, 2000.0, 12000.0);
    }
    if hh.registered && year >= 2017 && rnd::chance(r, 0.7) {
        w[DIVIDEND] = rnd::real(r, 200.0, 1000.0);
    }
    if rnd::chance(r, 0.08) {
        w[OTHER_PROPERTY] = rnd::real(r, 200.0, 3000.0);
    }
    if hh.one_child || hh.two_daughters {
        w[FAMILY_PLANNING] = rnd::real(r, 600.0, 1500.0);
    }
    if hh.attribute == "2" {
        let n = hh.persons.iter().filter(|p| p.dibao).count() as f64;
        w[DIBAO] = n * (1500.0 + 220.0 * t) * rnd::real(r, 0.7, 1.0);
    } else if hh.dibao_until.is_some_and(|u| year <= u) {
        // A 低保 that has since ended (the household is 一般贫困户 today).
        w[DIBAO] = (1500.0 + 220.0 * t) * rnd::real(r, 0.7, 1.0);
    }
    if hh.attribute == "3" {
        let n = hh.persons.iter().filter(|p| p.tekun).count() as f64;
        w[TEKUN] = n * (4000.0 + 350.0 * t);
    }
    // Pension for members who were 60 or older in that year.
    let old = hh.persons.iter().filter(|p| year - p.birth.year() >= 60).count() as f64;
    w[PENSION] = old * 12.0 * (85.0 + 10.0 * t);
    w[ECO] = hh.returned_forest as f64 / 10.0 * 110.0 + hh.forest as f64 / 10.0 * 12.0;
    let disabled = hh.persons.iter().filter(|p| p.disabled).count() as f64;
    w[OTHER_TRANSFER] = disabled * 720.0 + if rnd::chance(r, 0.2) { rnd::real(r, 100.0, 1500.0) } else { 0.0 };
    if hh.relocation.as_ref().is_some_and(|x| x.dispersed() && year <= x.year) {
        // 分散安置 is for households living off the land: planting and breeding make
        // well over 60% of their income up to the relocation year (later they may live
        // off wages).
        let gross: f64 = w.iter().sum();
        let farm = w[PLANTING] + w[BREEDING];
        let want = 0.8;
        if farm < want * gross {
            w[PLANTING] += (want * gross - farm) / (1.0 - want);
        }
    }
    let business = w[PLANTING] + w[BREEDING] + w[OTHER_BUSINESS];
    let cost_w = business * rnd::real(r, 0.2, 0.42);
    let raw_net: f64 = w.iter().sum::<f64>() - cost_w;
    // `w` is in 元 and `net` in fen.
    let scale = net as f64 / 100.0 / raw_net;
    // Whole yuan, at least 1 元 where the share is positive.
    let yuan = |x: f64| {
        if x > 0.0 { ((x * scale).round() as i64).max(1) * 100 } else { 0 }
    };
    let mut c: [i64; 12] = [0; 12];
    for (i, x) in w.iter().enumerate() {
        c[i] = yuan(*x);
    }
    let costs = yuan(cost_w);
    // The rounding remainder goes to the largest component, so the sum is exact.
    let residual = net - (c.iter().sum::<i64>() - costs);
    let largest = (0..12).max_by_key(|i| (c[*i], std::cmp::Reverse(*i))).unwrap_or(PLANTING);
    c[largest] += residual;
    let inc = Income {
        year,
        members,
        wages: c[WAGES],
        planting: c[PLANTING],
        breeding: c[BREEDING],
        other_business: c[OTHER_BUSINESS],
        costs,
        dividend: c[DIVIDEND],
        other_property: c[OTHER_PROPERTY],
        family_planning: c[FAMILY_PLANNING],
        dibao: c[DIBAO],
        tekun: c[TEKUN],
        pension: c[PENSION],
        eco: c[ECO],
        other_transfer: c[OTHER_TRANSFER],
        medical_spending: 0,
        school_spending: 0,
        net_per_capita: 0,
        missed: "",
    };
    debug_assert_eq!(inc.gross() - inc.costs, net);
    inc
}
