//! Faults in a household's own row, its latest income year, its pairings or its
//! monitoring risks. Each returns the detail for the key, or `None` when the household
//! cannot take the fault cleanly.

use crate::household::Gen;
use crate::model::{Household, Income};
use crate::rnd;
use crate::write::tenths;
use fupin_domain::Yuan;

type Done = Option<(Option<u8>, String)>;

pub fn inject(name: &str, hh: &mut Household, g: &mut Gen) -> Option<(Option<u8>, String)> {
    let detail = match name {
        "cause_illness_all_healthy" | "cause_school_no_student" | "cause_disability_nobody_disabled" => {
            cause(name, hh)?
        }
        "other_cause_repeats_main" => {
            if !hh.registered || hh.main_cause.is_empty() {
                return None;
            }
            let slot = if hh.other_causes[0].is_empty() { 0 } else { 1 };
            hh.other_causes[slot] = hh.main_cause;
            format!("其他致贫原因{} 改为与主要致贫原因相同的 {}", slot + 1, hh.main_cause)
        }
        "missing_main_cause" => {
            if !hh.registered || hh.main_cause.is_empty() {
                return None;
            }
            let old = std::mem::take(&mut hh.main_cause);
            format!("主要致贫原因（原为 {old}）清空")
        }
        "missing_home_power" | "missing_house_area" | "missing_water_safe" | "missing_fuel" | "missing_path_type" => {
            // Only in households never registered, so that no exit indicator reads it.
            if hh.registered {
                return None;
            }
            let (column, header) = match name {
                "missing_home_power" => ("home_power", "是否通生活用电"),
                "missing_house_area" => ("house_area", "住房面积"),
                "missing_water_safe" => ("water_safe", "是否饮水安全"),
                "missing_fuel" => ("fuel", "主要燃料类型"),
                _ => ("path_type", "入户路类型"),
            };
            hh.blank = Some(column);
            format!("{header}清空")
        }
        "farmland_too_large" => {
            if hh.causes().any(|c| c == "05") {
                return None;
            }
            let n = hh.persons.len() as i64;
            let old = hh.farmland;
            hh.farmland = n * rnd::int(&mut g.rng, 510, 800);
            format!("耕地面积由 {} 亩改为 {} 亩（{n} 人）", tenths(old), tenths(hh.farmland))
        }
        "forest_too_large" => {
            let n = hh.persons.len() as i64;
            let old = hh.forest;
            hh.forest = n * rnd::int(&mut g.rng, 710, 1000);
            format!("林地面积由 {} 亩改为 {} 亩（{n} 人）", tenths(old), tenths(hh.forest))
        }
        "road_too_far" => {
            let old = hh.road;
            hh.road = rnd::int(&mut g.rng, 510, 900);
            format!("与村主干路距离由 {} 公里改为 {} 公里", tenths(old), tenths(hh.road))
        }
        "dibao_household_without_dibao_member" => {
            if hh.attribute != "2" || hh.persons.iter().filter(|p| p.dibao).count() != 1 {
                return None;
            }
            let p = hh.persons.iter_mut().find(|p| p.dibao)?;
            p.dibao = false;
            format!("唯一享受低保的成员 {:02} 改为不享受低保", p.no)
        }
        "no_helper" => {
            if !hh.registered {
                return None;
            }
            hh.unpaired = true;
            "没有结对帮扶责任人".to_owned()
        }
        "monitor_unstable_work_nobody_able" | "monitor_unstable_work_no_work_records" => monitoring(name, hh)?,
        _ => return income(name, hh, g),
    };
    Some((None, detail))
}

fn cause(name: &str, hh: &mut Household) -> Option<String> {
    let (code, label, backed) = match name {
        "cause_illness_all_healthy" => ("01", "因病", hh.persons.iter().any(|p| p.sick())),
        "cause_school_no_student" => ("03", "因学", hh.persons.iter().any(|p| p.student())),
        _ => ("02", "因残", hh.persons.iter().any(|p| p.disabled)),
    };
    if !hh.registered || hh.main_cause == code || backed {
        return None;
    }
    let old = std::mem::replace(&mut hh.main_cause, code);
    Some(format!("主要致贫原因由 {old} 改为 {code} {label}"))
}

fn monitoring(name: &str, hh: &mut Household) -> Option<String> {
    // 弱劳动力 (05) can work too.
    let able = hh.persons.iter().any(|p| p.able() || p.labour == "05");
    let working = hh.persons.iter().any(|p| p.migrant());
    let fits = match name {
        "monitor_unstable_work_nobody_able" => !able,
        _ => able && !working,
    };
    let m = hh.monitor.as_mut()?;
    if !fits || m.risks.len() >= 3 || m.risks.iter().any(|r| r.0 == "07") {
        return None;
    }
    m.risks.push(("07", m.since));
    m.risks.sort_by_key(|r| r.1);
    Some(format!("风险类型加上 07 务工就业不稳，而{}", if able { "没有成员有务工记录" } else { "没有成员有劳动能力" }))
}

/// A whole-yuan amount of planting income that can move without emptying it.
fn movable(g: &mut Gen, inc: &Income) -> Option<i64> {
    let hi = (inc.planting / 100 - 1).min(3000);
    (hi >= 50).then(|| rnd::int(&mut g.rng, 50, hi) * 100)
}

/// Moves `amount` fen between two components of one income year (the net stays).
fn shift(from: &mut i64, to: &mut i64, amount: i64) {
    *from -= amount;
    *to += amount;
}

fn money(fen: i64) -> Yuan {
    Yuan::from_fen(fen)
}

fn income(name: &str, hh: &mut Household, g: &mut Gen) -> Done {
    let registered = hh.registered;
    let attribute = hh.attribute;
    let worker = hh.persons.iter().any(|p| p.migrant());
    let members = hh.persons.len() as i64;
    let line = g.lines.poverty(hh.incomes.last()?.year);
    let inc: &mut Income = hh.incomes.last_mut()?;
    let year = inc.year;
    let detail = match name {
        "income_not_adding_up" => {
            let old = inc.net_per_capita;
            // Stay on the same side of the lines, so no exit or monitoring rule changes
            // its answer.
            let delta = if old < line {
                -(rnd::int(&mut g.rng, 50, 200) * 100).min(old / 10)
            } else {
                rnd::int(&mut g.rng, 50, 500) * 100
            };
            if delta.abs() <= 100 {
                return None;
            }
            inc.net_per_capita = old + delta;
            format!("{year} 年人均纯收入填为 {}，按各项收入计算应为 {}", money(old + delta), money(old))
        }
        "business_income_without_costs" => {
            if inc.costs <= 0 || inc.business() <= inc.costs {
                return None;
            }
            // Take the costs out of the business income as well, so 人均纯收入 still adds up.
            let mut left = inc.costs;
            let mut parts = [&mut inc.planting, &mut inc.breeding, &mut inc.other_business];
            parts.sort_by_key(|x| std::cmp::Reverse(**x));
            for part in parts {
                let take = left.min((*part - 100).max(0));
                *part -= take;
                left -= take;
            }
            if left > 0 {
                return None;
            }
            let costs = std::mem::take(&mut inc.costs);
            format!("{year} 年生产经营性支出由 {} 改为 0，经营收入相应减少", money(costs))
        }
        "ordinary_household_with_benefit_money" => {
            if !registered || attribute != "1" || inc.dibao != 0 {
                return None;
            }
            let a = movable(g, inc)?;
            shift(&mut inc.planting, &mut inc.dibao, a);
            format!("{year} 年一般贫困户填了低保金 {}（种植业收入相应减少）", money(a))
        }
        "benefit_amount_zero" => {
            let (amount, what) = match attribute {
                "2" => (&mut inc.dibao, "低保金"),
                "3" => (&mut inc.tekun, "特困供养金"),
                _ => return None,
            };
            let a = std::mem::take(amount);
            if a == 0 {
                return None;
            }
            inc.other_transfer += a;
            format!("{year} 年{what}由 {} 改为 0，计入其他转移性收入", money(a))
        }
        "net_income_out_of_range" => {
            // Far above any line, in a household never registered: no exit or
            // monitoring rule changes its answer.
            if registered {
                return None;
            }
            let want = rnd::int(&mut g.rng, 100_001, 160_000) * 100;
            let add = (want - inc.net_per_capita) * members;
            inc.other_property += add;
            inc.net_per_capita = want;
            format!("{year} 年其他财产性收入增加 {}，人均纯收入 {}", money(add), money(want))
        }
        "wages_without_worker" => {
            if worker || inc.wages != 0 {
                return None;
            }
            let a = movable(g, inc)?;
            shift(&mut inc.planting, &mut inc.wages, a);
            format!("{year} 年无人务工却有工资性收入 {}（种植业收入相应减少）", money(a))
        }
        "worker_without_wages" => {
            if !worker || inc.wages == 0 {
                return None;
            }
            let a = inc.wages;
            shift(&mut inc.wages, &mut inc.other_transfer, a);
            format!("{year} 年有成员务工而工资性收入由 {} 改为 0，计入其他转移性收入", money(a))
        }
        _ => return None,
    };
    Some((None, detail))
}
