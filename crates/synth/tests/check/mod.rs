//! An independent reading of the generated files: loads them as an importer would and
//! lists every inconsistency no fault should cause (named `x_…`): the generator's own
//! invariants, beyond the data-quality checks of the fault kinds (`oracle.rs`). Clean
//! and faulted output alike must have no finding here.

#![allow(dead_code)]

pub mod oracle;

use fupin_domain::id_number::DisabilityCard;
use fupin_domain::{IdNumber, IdProblem, PolicyLines, Yuan};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub type Row = BTreeMap<String, String>;

pub fn read(path: &Path) -> (Vec<String>, Vec<Row>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows =
        r.records().map(|rec| headers.iter().cloned().zip(rec.unwrap().iter().map(str::to_owned)).collect()).collect();
    (headers, rows)
}

pub struct Data {
    pub households: Vec<Row>,
    pub persons: Vec<Row>,
    pub incomes: Vec<Row>,
    pub villages: Vec<Row>,
    pub helpers: Vec<Row>,
    pub pairings: Vec<Row>,
    pub faults: Vec<Row>,
    pub monitoring: Vec<Row>,
    pub missed: Vec<Row>,
}

impl Data {
    pub fn load(dir: &Path) -> Data {
        Data {
            households: read(&dir.join("households.csv")).1,
            persons: read(&dir.join("persons.csv")).1,
            incomes: read(&dir.join("incomes.csv")).1,
            villages: read(&dir.join("village_years.csv")).1,
            helpers: read(&dir.join("helpers.csv")).1,
            pairings: read(&dir.join("pairings.csv")).1,
            faults: read(&dir.join("key/faults.csv")).1,
            monitoring: read(&dir.join("key/monitoring.csv")).1,
            missed: read(&dir.join("key/missed.csv")).1,
        }
    }

    pub fn members<'a>(&'a self, hh: &'a str) -> impl Iterator<Item = &'a Row> + 'a {
        self.persons.iter().filter(move |p| p["户编号"] == hh)
    }
}

pub type Finding = (String, String, String);

fn money(s: &str) -> i64 {
    Yuan::parse(s).unwrap().fen()
}

fn num(s: &str) -> f64 {
    if s.is_empty() { 0.0 } else { s.parse().unwrap() }
}

pub fn age(p: &Row, ref_year: i32) -> i32 {
    ref_year - p["出生日期"][..4].parse::<i32>().unwrap()
}

fn school_no(p: &Row) -> Option<u8> {
    p["在校生状况"].parse().ok()
}

fn student(p: &Row) -> bool {
    matches!(school_no(p), Some(3..=16))
}

fn health(p: &Row, code: &str) -> bool {
    p["健康状况"].split(';').any(|c| c == code)
}

fn able(p: &Row) -> bool {
    matches!(p["劳动技能"].as_str(), "01" | "02")
}

fn months(p: &Row) -> i64 {
    p["务工时间（月）"].parse().unwrap_or(0)
}

const INCOME_PARTS: [&str; 12] = [
    "工资性收入",
    "种植业收入",
    "养殖业收入",
    "其他生产经营性收入",
    "资产收益扶贫分红收入",
    "其他财产性收入",
    "计划生育金",
    "低保金",
    "特困供养金",
    "养老保险金",
    "生态补偿金",
    "其他转移性收入",
];

/// Every problem in the data, sorted.
pub fn findings(d: &Data) -> Vec<Finding> {
    let ref_year = d.incomes.iter().map(|i| i["年度"].parse::<i32>().unwrap()).max().unwrap();
    let policy = PolicyLines::builtin();
    let line = |y: i32| policy.for_year(y, "61").unwrap().poverty_line.fen();
    let mline = |y: i32| {
        let p = policy.for_year(y, "61").unwrap();
        p.monitoring_line.map(|m| m.fen()).unwrap_or(p.poverty_line.fen() * 3 / 2)
    };
    let mut out: BTreeSet<Finding> = BTreeSet::new();
    let mut add = |k: &str, hh: &str, p: &str| {
        out.insert((k.to_owned(), hh.to_owned(), p.to_owned()));
    };

    let mut by_hh: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for p in &d.persons {
        by_hh.entry(p["户编号"].as_str()).or_default().push(p);
    }
    let mut inc_by_hh: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for i in &d.incomes {
        inc_by_hh.entry(i["户编号"].as_str()).or_default().push(i);
    }

    // Numbers a fault made say something else than the person's row (their own kinds).
    let id_content_faults: BTreeSet<(&str, &str)> = d
        .faults
        .iter()
        .filter(|r| matches!(r["kind"].as_str(), "id_malformed" | "birth_date_id_mismatch" | "sex_id_mismatch"))
        .map(|r| (r["户编号"].as_str(), r["人编号"].as_str()))
        .collect();

    // ---- persons
    for p in &d.persons {
        let (hh, pid) = (p["户编号"].as_str(), p["人编号"].as_str());
        let a = age(p, ref_year);
        let id = p["证件号码"].as_str();
        match IdNumber::parse(id) {
            _ if id_content_faults.contains(&(hh, pid)) => {}
            Ok(n) => {
                if n.birth_date().to_string() != p["出生日期"] || n.sex_code() != p["性别"] {
                    add("x_id_birth_or_sex", hh, pid);
                }
            }
            // id_checksum and id_length.
            Err(IdProblem::Checksum { .. } | IdProblem::Length(17 | 19)) => {}
            Err(_) => add("x_id_other", hh, pid),
        }
        if p["证件类型"] != "01" {
            add("x_id_type", hh, pid);
        }
        // 03/04 with work is non_able_working.
        if months(p) > 0 && !able(p) && !matches!(p["劳动技能"].as_str(), "03" | "04") {
            add("x_unable_working", hh, pid);
        }
        if !(16..=65).contains(&a) && p["劳动技能"] != "04" {
            add("x_labour_outside_working_age", hh, pid);
        }
        if p["文化程度"].is_empty() && (a < 16 || matches!(school_no(p), Some(2..=16))) {
            add("x_missing_education_other", hh, pid);
        }
        // Grades 1–9: aged 6–14 on 31 August of the year (school starts in the September
        // after the sixth birthday).
        let born_after_august = p["出生日期"][5..7].parse::<u8>().unwrap() > 8;
        if (6..=14).contains(&(a - i32::from(born_after_august))) && !student(p) {
            add("x_compulsory_dropout", hh, pid);
        }
        if health(p, "01") && p["健康状况"] != "01" {
            add("x_health_mixed", hh, pid);
        }
        // An empty or short card is disabled_without_cert or disability_cert_length.
        if health(p, "04") && matches!(p["残疾证号"].chars().count(), 20 | 22) {
            match DisabilityCard::parse(&p["残疾证号"]) {
                Ok(c) if c.id.as_str() == id => {}
                _ => add("x_disability_cert", hh, pid),
            }
        } else if !health(p, "04") && !p["残疾证号"].is_empty() {
            add("x_cert_without_disability", hh, pid);
        }
        if p["是否参加城乡居民基本医疗保险"] == "否" && p["是否参加大病保险"] == "是" {
            add("x_critical_without_medical", hh, pid);
        }
    }

    // ---- households
    let hh_rows: BTreeMap<&str, &Row> = d.households.iter().map(|h| (h["户编号"].as_str(), h)).collect();
    let mut monitored = BTreeSet::new();
    let missed: BTreeSet<(&str, &str, &str)> =
        d.missed.iter().map(|r| (r["户编号"].as_str(), r["年度"].as_str(), r["类型"].as_str())).collect();
    for h in &d.households {
        let id = h["户编号"].as_str();
        let members = by_hh.get(id).cloned().unwrap_or_default();
        let n = members.len() as i64;
        let heads: Vec<&&Row> = members.iter().filter(|p| p["与户主关系"] == "01").collect();
        if heads.len() != 1 {
            add("x_head_count", id, "");
            continue;
        }
        let head = heads[0];
        let head_age = age(head, ref_year);
        for p in &members {
            let a = age(p, ref_year);
            let rel = p["与户主关系"].as_str();
            if matches!(rel, "03" | "04") && a > head_age - 15 {
                add("x_child_too_old", id, &p["人编号"]);
            }
            if matches!(rel, "11" | "12") && a < head_age + 15 {
                add("x_parent_too_young", id, &p["人编号"]);
            }
            if matches!(rel, "07" | "08" | "09" | "10") && a > head_age - 30 {
                add("x_grandchild_too_old", id, &p["人编号"]);
            }
        }
        let sick = members.iter().any(|p| health(p, "02") || health(p, "03"));
        let disabled = members.iter().any(|p| health(p, "04"));
        let has_student = members.iter().any(|p| student(p));
        let able_n = members.iter().filter(|p| able(p) && (16..=65).contains(&age(p, ref_year))).count();
        let main = h["主要致贫原因"].as_str();
        let others = [h["其他致贫原因1"].as_str(), h["其他致贫原因2"].as_str()];
        let status = h["户类型"].as_str();
        let registered = status == "2" || status == "3";
        if !registered && (!main.is_empty() || !h["贫困户属性"].is_empty() || !h["识别年度"].is_empty()) {
            add("x_ordinary_with_registry_fields", id, "");
        }
        if main == "08" && able_n > 1 {
            add("x_cause_labour", id, "");
        }
        for o in others {
            let bad = match o {
                "01" => !sick,
                "02" => !disabled,
                "03" => !has_student,
                "08" => able_n > 1,
                _ => false,
            };
            if bad {
                add("x_other_cause_unsupported", id, "");
            }
        }
        if !others[0].is_empty() && others[0] == others[1] {
            add("x_other_causes_equal", id, "");
        }
        if num(&h["有效灌溉面积（亩）"]) > num(&h["耕地面积（亩）"]) {
            add("x_irrigated_too_large", id, "");
        }
        let attr = h["贫困户属性"].as_str();
        // A member both 低保 and 特困 is dibao_and_tekun.
        let dibao_members = members.iter().filter(|p| p["是否享受低保"] == "是" && p["是否特困供养"] != "是").count();
        let tekun_members = members.iter().filter(|p| p["是否特困供养"] == "是").count();
        if attr != "2" && dibao_members > 0 {
            add("x_dibao_member_elsewhere", id, "");
        }
        if (attr == "3") != (tekun_members > 0) {
            add("x_tekun_flags", id, "");
        }
        if h["是否饮水困难"] == "是" && h["是否饮水安全"] == "是" {
            add("x_water", id, "");
        }
        if (h["是否危房户"] == "是") == h["危房等级"].is_empty() {
            add("x_danger_grade", id, "");
        }

        // ---- incomes
        let incs = inc_by_hh.get(id).cloned().unwrap_or_default();
        if incs.is_empty() {
            add("x_no_income", id, "");
        }
        for i in &incs {
            let year: i32 = i["年度"].parse().unwrap();
            let parts: i64 = INCOME_PARTS.iter().map(|k| money(&i[*k])).sum();
            let costs = money(&i["生产经营性支出"]);
            let m: i64 = i["家庭人口数"].parse().unwrap();
            if m != n {
                add("x_members", id, "");
            }
            let computed = Yuan::from_fen(parts - costs).per_person(m).unwrap().fen();
            if INCOME_PARTS.iter().any(|k| money(&i[*k]) < 0) || costs < 0 {
                add("x_negative_income", id, "");
            }
            // 一般贫困户 with such money is ordinary_household_with_benefit_money.
            if money(&i["低保金"]) > 0 && !matches!(attr, "1" | "2")
                || money(&i["特困供养金"]) > 0 && !matches!(attr, "1" | "3")
            {
                add("x_benefit_money_without_attribute", id, "");
            }
            // Exit criterion 1 and the monitoring line.
            if let Ok(e) = h["脱贫年度"].parse::<i32>()
                && year >= e
                && computed <= line(year)
            {
                add("x_exit_income", id, "");
            }
            if !h["监测对象类型"].is_empty() {
                monitored.insert(id);
                let since: i32 = h["纳入监测日期"][..4].parse().unwrap();
                let cleared: Option<i32> = h["风险消除日期"].get(..4).and_then(|y| y.parse().ok());
                let open = year >= since && cleared.is_none_or(|c| year < c);
                if open && h["监测对象类型"] != "3" && computed >= mline(year) {
                    add("x_monitored_income_above_line", id, "");
                }
                if year >= 2021 && !open && computed < mline(year) {
                    add("x_unmonitored_income_below_line", id, "");
                }
            } else if year >= 2021 && computed < mline(year) && !missed.contains(&(id, &i["年度"], "漏监测")) {
                add("x_unmonitored_income_below_line", id, "");
            }
            // A household listed as missed is below its line in that year, and unregistered
            // or unmonitored then.
            for kind in ["漏评", "漏监测"] {
                if missed.contains(&(id, &i["年度"], kind)) {
                    let below = if kind == "漏评" {
                        computed < line(year) && !registered && year <= 2020
                    } else {
                        computed < mline(year) && h["监测对象类型"].is_empty() && year >= 2021
                    };
                    if !below {
                        add("x_missed_not_below", id, "");
                    }
                }
            }
        }

        // ---- exit criteria (current state)
        if status == "3" {
            let e: i32 = h["脱贫年度"].parse().unwrap_or(0);
            let ident: i32 = h["识别年度"].parse().unwrap_or(9999);
            if e <= ident || e > 2020 {
                add("x_exit_year", id, "");
            }
            if h["是否饮水安全"] != "是" {
                add("x_exit_water", id, "");
            }
            if h["是否危房户"] == "是" && matches!(h["危房等级"].as_str(), "C" | "D") {
                add("x_exit_housing", id, "");
            }
            if members.iter().any(|p| {
                (p["是否参加城乡居民基本医疗保险"] != "是" || p["是否参加大病保险"] != "是")
                    && p["是否参加职工基本医疗保险"] != "是"
            }) {
                add("x_exit_insurance", id, "");
            }
        }

        // ---- monitoring
        if !h["监测对象类型"].is_empty() {
            let kind = h["监测对象类型"].as_str();
            if (kind == "1" && status != "3") || (kind == "2" && status != "1") {
                add("x_monitor_type_status", id, "");
            }
            let risks: Vec<&str> =
                (1..=5).map(|i| h[&format!("风险类型{i}")].as_str()).filter(|r| !r.is_empty()).collect();
            if risks.is_empty() || risks.len() > 3 {
                add("x_monitor_risk_count", id, "");
            }
            let has_labour = members.iter().any(|p| able(p));
            for r in &risks {
                let bad = match *r {
                    "01" => !sick,
                    "03" => !disabled,
                    "04" => able_n > 1,
                    // "07" is one of the monitor_unstable_work kinds.
                    "09" => !has_student,
                    _ => false,
                };
                if bad {
                    add("x_monitor_risk_unsupported", id, "");
                }
            }
            if !h["风险消除日期"].is_empty() && !has_labour {
                add("x_cleared_without_labour", id, "");
            }
            if h["纳入监测日期"].as_str() < "2021-01-01" {
                add("x_monitor_date", id, "");
            }
        }

        // ---- relocation
        if !h["安置方式"].is_empty() {
            if num(&h["安置住房面积（平方米）"]) > 25.0 * n as f64 {
                add("x_relocation_area", id, "");
            }
            let y: i32 = h["搬迁年度"].parse().unwrap();
            if !(2016..=2020).contains(&y) {
                add("x_relocation_year", id, "");
            }
            let labourers: Vec<&&Row> =
                members.iter().filter(|p| able(p) && (16..=65).contains(&age(p, ref_year))).collect();
            if labourers.is_empty() || labourers.iter().any(|p| p["掌握实用技术"].is_empty()) {
                add("x_relocation_skills", id, "");
            }
            if h["安置方式"].starts_with('2') {
                // Up to the relocation year: later the household may live off wages.
                for i in incs.iter().filter(|i| i["年度"].parse::<i32>().unwrap() <= y) {
                    let parts: i64 = INCOME_PARTS.iter().map(|k| money(&i[*k])).sum();
                    let farm = money(&i["种植业收入"]) + money(&i["养殖业收入"]);
                    if (farm as f64) < 0.6 * parts as f64 {
                        add("x_dispersed_farm_share", id, "");
                    }
                }
            }
        }
    }
    let _ = hh_rows;

    // ---- villages: exited poor villages have everything from their exit year on.
    for v in &d.villages {
        if !v["贫困村退出年度"].is_empty() {
            for k in ["是否通硬化路", "是否有标准化卫生室", "是否有村集体经济", "是否全部通生活用电", "是否通安全饮水"]
            {
                if v[k] != "是" {
                    add("x_village_exit", &v["行政村代码"], "");
                }
            }
        }
    }
    // Poverty incidence of each 贫困村 at its exit year stays under 3%.
    let mut exits: BTreeMap<&str, i32> = BTreeMap::new();
    for v in &d.villages {
        if let Ok(e) = v["贫困村退出年度"].parse::<i32>() {
            exits.insert(v["行政村代码"].as_str(), e);
        }
    }
    let mut pop: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for h in &d.households {
        let code = h["行政村代码"].as_str();
        if let Some(e) = exits.get(code) {
            let n = by_hh.get(h["户编号"].as_str()).map_or(0, |m| m.len());
            let entry = pop.entry(code).or_default();
            entry.0 += n;
            let ident: Option<i32> = h["识别年度"].parse().ok();
            let exit: Option<i32> = h["脱贫年度"].parse().ok();
            if ident.is_some_and(|i| i <= *e) && exit.is_none_or(|x| x > *e) {
                entry.1 += n;
            }
        }
    }
    for (code, (all, poor)) in pop {
        if all > 0 && poor * 100 >= all * 3 {
            add("x_village_incidence", code, "");
        }
    }
    for hid in &d.helpers {
        if IdNumber::parse(&hid["证件号码"]).is_err() {
            add("x_helper_id", &hid["帮扶人编号"], "");
        }
    }
    let _ = monitored;
    out.into_iter().collect()
}

/// Everything wrong in the generated folder: the fault kinds' oracle and the
/// generator's own invariants together, sorted.
pub fn all(dir: &Path, d: &Data) -> Vec<Finding> {
    let mut all: BTreeSet<Finding> = oracle::findings(&oracle::Db::load(dir)).into_iter().collect();
    all.extend(findings(d));
    all.into_iter().collect()
}

/// The key's rows as findings.
pub fn key(d: &Data) -> Vec<Finding> {
    let mut k: Vec<Finding> =
        d.faults.iter().map(|r| (r["kind"].clone(), r["户编号"].clone(), r["人编号"].clone())).collect();
    k.sort();
    k
}
