//! `fupin check`: evaluates the rule sets on the registry, records the findings as a
//! worklist (`fupin_store::findings`) and prints them as a table, JSON or XLSX.
//! Findings are not failures: the exit code is 0 whenever the check ran; bad
//! arguments exit with 2.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use fupin_app::check::{Plan, Progress, Report};
use fupin_domain::{CodeLists, DivisionCode};
use fupin_rules::{Rule, RuleSet};
use fupin_store::findings::{self, Filter, Finding, Status};
use fupin_store::reveals::{self, RevealRecord};

use crate::RegistryArgs;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Xlsx,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// 规则集（规则文件名，如 dq）；可重复；默认为除示例集 sample（default = false）外的全部内置规则集
    #[arg(long = "set", value_name = "NAME")]
    pub sets: Vec<String>,
    /// 只检查此区划（县 6 位、乡镇 9 位、村 12 位代码）内的户和人
    #[arg(long, value_name = "DIVISION")]
    pub scope: Option<String>,
    /// 政策年度（默认：登记库中最近的收入年度）
    #[arg(long)]
    pub year: Option<i32>,
    /// 输出格式
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// 输出文件（xlsx 必填；table、json 默认输出到屏幕）
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// 显示完整证件号码（默认打码）；须同时用 --reason 写明原因，每个号码记入查看记录
    #[arg(long)]
    pub reveal: bool,
    /// 显示完整号码的原因（与 --reveal 一起使用，必填）
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// 在标准错误上列出每条规则的用时和记录问题的用时（用于基准和排查）
    #[arg(long)]
    pub timings: bool,
    /// 一条 SQL 语句最多合并几条同级规则（默认：同级规则全部合并；1 = 每条规则单独一条语句）
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub batch: Option<u16>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// A bad argument: a clear message and exit code 2.
fn usage(message: String) -> anyhow::Result<ExitCode> {
    eprintln!("错误：{message}");
    Ok(ExitCode::from(2))
}

pub async fn run(a: CheckArgs) -> anyhow::Result<ExitCode> {
    let codes = CodeLists::builtin();
    let all = fupin_rules::load::builtin(&codes).context("加载内置规则")?;
    let sets: Vec<&RuleSet> = if a.sets.is_empty() {
        // Every set but those whose file says `default = false` (the showcase `sample`).
        all.iter().filter(|s| s.default).collect()
    } else {
        let mut chosen = Vec::new();
        for name in &a.sets {
            match all.iter().find(|s| &s.name == name) {
                Some(s) if !chosen.iter().any(|c: &&RuleSet| c.name == s.name) => chosen.push(s),
                Some(_) => {}
                None => {
                    let known: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
                    return usage(format!("没有名为“{name}”的规则集（可用：{}）", known.join("、")));
                }
            }
        }
        chosen
    };
    let reason = a.reason.as_deref().map(str::trim).unwrap_or_default();
    if a.reveal && reason.is_empty() {
        return usage("--reveal 会显示完整证件号码：须用 --reason 写明原因（每个号码记入查看记录）".into());
    }
    if !a.reveal && a.reason.is_some() {
        return usage("--reason 只与 --reveal 一起使用".into());
    }
    if reason.chars().count() > MAX_REASON {
        return usage(format!("--reason 最多 {MAX_REASON} 个字"));
    }
    let scope = match a.scope.as_deref().map(DivisionCode::parse).transpose() {
        Ok(s) => s,
        Err(e) => return usage(e.to_string()),
    };
    if a.format == Format::Xlsx && a.out.is_none() {
        return usage("--format xlsx 需要用 --out 指定输出文件".into());
    }
    let store = a.registry.open_existing().await?;
    super::require_county(&store).await?;
    if let Some(s) = &scope
        && !store.village_codes().await?.iter().any(|v| v.starts_with(s.as_str()))
    {
        return usage(format!("区划 {s} 不在本登记库的区划树中（或其下没有行政村）"));
    }
    let env = super::rules_env(&store, &a.registry, a.year).await?;
    let year = env.year;
    if env.poverty_line.is_none() {
        return usage(format!(
            "{year} 年没有扶贫标准（data/policy/lines.csv 中无此年度）：请用 --year 选择有标准的年度"
        ));
    }
    let plan = Plan { sets: sets.clone(), env: &env, scope: scope.clone(), now: time::OffsetDateTime::now_utc() };
    let mut bar = Bar::new(a.timings);
    let max_rules = a.batch.map_or(fupin_app::check::MAX_RULES, usize::from);
    let report = match fupin_app::check::run_batched(&store, &plan, &mut bar, max_rules).await {
        Ok(r) => r,
        Err(
            e @ (fupin_app::check::CheckError::DuplicateRule { .. } | fupin_app::check::CheckError::LineBasis { .. }),
        ) => {
            bar.0.finish_and_clear();
            return usage(e.to_string());
        }
        Err(e) => return Err(anyhow::Error::new(e).context("运行检查")),
    };
    bar.0.finish_and_clear();
    bar.print_timings();
    let filter = Filter {
        year: Some(year),
        rule_ids: report.rules_run.clone(),
        division: scope.as_ref().map(|d| d.as_str().to_owned()),
        hh_id: None,
        statuses: vec![Status::Open, Status::Explained],
    };
    let found = findings::list(&store, &filter).await?;
    let rules: HashMap<&str, &Rule> = sets.iter().flat_map(|s| s.rules.iter()).map(|r| (r.id.as_str(), r)).collect();
    if a.reveal {
        // The log first: if it cannot be written, nothing is printed in full.
        let values = revealed(&found, &rules);
        let actor = actor();
        let records: Vec<RevealRecord> = values
            .iter()
            .map(|v| RevealRecord {
                username: &actor,
                hh_id: &v.hh_id,
                table: v.table,
                key: &v.key,
                field: v.field,
                reason,
                remote_addr: None,
            })
            .collect();
        reveals::log_reveals(&store, &records).await.context("写入查看记录")?;
        eprintln!("已记入查看记录：{} 个完整号码（{actor}，原因：{reason}）", records.len());
    }
    let shown = Shown { found: &found, rules: &rules, reveal: a.reveal, year, report: &report };
    match a.format {
        Format::Table => write_text(a.out.as_deref(), &shown.table())?,
        Format::Json => write_text(a.out.as_deref(), &shown.json())?,
        Format::Xlsx => {
            let path = a.out.as_deref().unwrap_or(Path::new("findings.xlsx"));
            shown.xlsx(path).with_context(|| format!("写入 {}", path.display()))?;
            eprintln!("{}", shown.summary_line());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The longest `--reason` kept (as on the web's reveal form).
const MAX_REASON: usize = 500;

/// Who the reveal log names for a run on the command line: `命令行` as for every other
/// write of the CLI (`fupin user`), with the operating-system account when known.
fn actor() -> String {
    let name = fupin_app::accounts::ChangedBy::COMMAND_LINE.name;
    match std::env::var("USER").or_else(|_| std::env::var("LOGNAME")) {
        Ok(user) if !user.trim().is_empty() => format!("{name}（{}）", user.trim()),
        _ => name.to_owned(),
    }
}

/// One personal number a revealing run prints in full, as the reveal log names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Revealed {
    hh_id: String,
    table: &'static str,
    key: String,
    field: &'static str,
}

/// The personal numbers `--reveal` prints in full, each once however many findings
/// show it: a person's 证件号码 (the 证件号码 column), and every personal column read
/// by a rule's value whose shown value differs from its masked one (the findings keep
/// a value masked exactly when its expression reads a personal column).
fn revealed(found: &[Finding], rules: &HashMap<&str, &Rule>) -> BTreeSet<Revealed> {
    use fupin_rules::ir::{IrKind, Rec};
    let mut out = BTreeSet::new();
    for f in found {
        let hh_id = f.hh_id.clone().unwrap_or_else(|| f.entity_key.clone());
        let person = f.person_id.clone();
        if let (Some(_), Some(p)) = (&f.id_number, &person) {
            out.insert(Revealed { hh_id: hh_id.clone(), table: "persons", key: p.clone(), field: "id_number" });
        }
        if f.value_json == f.masked_value_json {
            continue;
        }
        let shown: serde_json::Value = serde_json::from_str(&f.value_json).unwrap_or_default();
        let masked: serde_json::Value = serde_json::from_str(&f.masked_value_json).unwrap_or_default();
        let Some(rule) = rules.get(f.rule_id.as_str()) else { continue };
        for (_, ir) in rule.values.iter().filter(|(name, _)| shown.get(name) != masked.get(name)) {
            let mut columns = Vec::new();
            ir.walk(&mut |n| {
                if let IrKind::Col { rec, column, .. } = &n.kind
                    && column.personal.is_some()
                {
                    columns.push((*rec, column.name));
                }
                true
            });
            for (rec, field) in columns {
                let (table, key) = match (rec, &person) {
                    (Rec::Household, _) | (_, None) => ("households", hh_id.clone()),
                    (_, Some(p)) => ("persons", p.clone()),
                };
                out.insert(Revealed { hh_id: hh_id.clone(), table, key, field });
            }
        }
    }
    out
}

fn write_text(out: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match out {
        Some(p) => std::fs::write(p, text).with_context(|| format!("写入 {}", p.display())),
        None => {
            let mut o = std::io::stdout().lock();
            o.write_all(text.as_bytes()).context("写到标准输出")
        }
    }
}

/// The progress bar on stderr (hidden when stderr is not a terminal).
struct Bar(indicatif::ProgressBar, Option<Timings>);

/// Wall times for `--timings`, of each rule or each statement of several rules: since
/// the previous one (or the start).
struct Timings {
    last: std::time::Instant,
    rules: Vec<(String, std::time::Duration)>,
}

impl Bar {
    fn print_timings(&self) {
        let Some(t) = &self.1 else { return };
        let mut rules = t.rules.clone();
        rules.sort_by_key(|r| std::cmp::Reverse(r.1));
        let total: std::time::Duration = rules.iter().map(|r| r.1).sum();
        eprintln!("规则用时（共 {} 项，{:.3} 秒）：", rules.len(), total.as_secs_f64());
        for (id, d) in &rules {
            eprintln!("  {id}\t{:.3} 秒", d.as_secs_f64());
        }
        eprintln!("记录问题清单：{:.3} 秒", t.last.elapsed().as_secs_f64());
    }

    fn new(timings: bool) -> Bar {
        let bar = if std::io::stderr().is_terminal() {
            indicatif::ProgressBar::new(0)
        } else {
            indicatif::ProgressBar::hidden()
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template("检查 {msg} [{bar:30}] 已判定 {pos}/{len} 个对象，用时 {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let timings = timings.then(|| Timings { last: std::time::Instant::now(), rules: Vec::new() });
        Bar(bar, timings)
    }
}

impl Progress for Bar {
    fn start(&mut self, rules: usize, judgements: u64) {
        self.0.set_length(judgements);
        self.0.set_message(format!("0/{rules} 条规则"));
        if let Some(t) = &mut self.1 {
            t.last = std::time::Instant::now();
        }
    }
    fn rule_done(&mut self, rule: &Rule, entities: u64) {
        self.0.inc(entities);
        self.0.set_message(format!("{}（{}）", rule.id, rule.title));
        if let Some(t) = &mut self.1 {
            let now = std::time::Instant::now();
            t.rules.push((rule.id.clone(), now - t.last));
            t.last = now;
        }
    }
    fn batch_done(&mut self, level: fupin_rules::Level, rules: &[&Rule], entities: u64) {
        self.0.inc(entities * rules.len() as u64);
        self.0.set_message(format!("{} 级 {} 条规则", level.as_str(), rules.len()));
        if let Some(t) = &mut self.1 {
            let now = std::time::Instant::now();
            t.rules.push((format!("{} 级 {} 条规则（一条语句）", level.as_str(), rules.len()), now - t.last));
            t.last = now;
        }
    }
}

fn severity_label(s: &str) -> &'static str {
    match s {
        "error" => "错误",
        "warning" => "警告",
        _ => "提示",
    }
}

struct Shown<'a> {
    found: &'a [Finding],
    rules: &'a HashMap<&'a str, &'a Rule>,
    reveal: bool,
    year: i32,
    report: &'a Report,
}

const HEADERS: [&str; 10] =
    ["规则编号", "规则", "严重程度", "户编号", "人编号", "证件号码", "说明", "状态", "首次发现", "最近发现"];

impl Shown<'_> {
    fn id_number(&self, f: &Finding) -> String {
        match &f.id_number {
            Some(n) if self.reveal => n.clone(),
            Some(n) => fupin_domain::mask::id_number(n),
            None => String::new(),
        }
    }

    fn explanation<'f>(&self, f: &'f Finding) -> &'f str {
        if self.reveal { &f.explanation } else { &f.masked_explanation }
    }

    fn title(&self, f: &Finding) -> String {
        self.rules.get(f.rule_id.as_str()).map(|r| r.title.clone()).unwrap_or_default()
    }

    fn row(&self, f: &Finding) -> [String; 10] {
        [
            f.rule_id.clone(),
            self.title(f),
            severity_label(&f.severity).to_owned(),
            f.hh_id.clone().unwrap_or_default(),
            f.person_id.clone().unwrap_or_default(),
            self.id_number(f),
            self.explanation(f).to_owned(),
            f.status.label().to_owned(),
            f.first_seen.clone(),
            f.last_seen.clone(),
        ]
    }

    fn summary_line(&self) -> String {
        let s = self.report.summary;
        let mut line = format!(
            "{} 年：检查 {} 条规则，现有问题 {} 条（新发现 {}，仍存在 {}，再次出现 {}）；本次已整改 {} 条",
            self.year,
            self.report.rules_run.len(),
            self.found.len(),
            s.new,
            s.still,
            s.reopened,
            s.fixed
        );
        if !self.report.rules_not_for_year.is_empty() {
            line.push_str(&format!(
                "\n不适用于 {} 年、未检查的规则：{}",
                self.year,
                self.report.rules_not_for_year.join("、")
            ));
        }
        line
    }

    fn table(&self) -> String {
        let mut out = String::new();
        out.push_str(&HEADERS.join("\t"));
        out.push('\n');
        for f in self.found {
            out.push_str(&self.row(f).join("\t"));
            out.push('\n');
        }
        let mut by_rule: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        let mut by_severity: BTreeMap<&str, usize> = BTreeMap::new();
        for f in self.found {
            *by_rule.entry((f.rule_id.as_str(), f.severity.as_str())).or_default() += 1;
            *by_severity.entry(f.severity.as_str()).or_default() += 1;
        }
        out.push_str("\n按规则统计：\n规则编号\t规则\t严重程度\t问题数\n");
        for ((id, sev), n) in &by_rule {
            let title = self.rules.get(id).map(|r| r.title.as_str()).unwrap_or("");
            out.push_str(&format!("{id}\t{title}\t{}\t{n}\n", severity_label(sev)));
        }
        out.push_str("\n按严重程度统计：\n");
        for sev in ["error", "warning", "info"] {
            out.push_str(&format!("{}\t{}\n", severity_label(sev), by_severity.get(sev).copied().unwrap_or(0)));
        }
        out.push('\n');
        out.push_str(&self.summary_line());
        out.push('\n');
        out
    }

    fn json(&self) -> String {
        let list: Vec<serde_json::Value> = self
            .found
            .iter()
            .map(|f| {
                let values = if self.reveal { &f.value_json } else { &f.masked_value_json };
                let values: serde_json::Value = serde_json::from_str(values).unwrap_or(serde_json::Value::Null);
                serde_json::json!({
                    "rule_id": f.rule_id,
                    "rule_set": f.rule_set,
                    "title": self.title(f),
                    "severity": f.severity,
                    "level": f.level,
                    "hh_id": f.hh_id,
                    "person_id": f.person_id,
                    "id_number": f.id_number.as_ref().map(|_| self.id_number(f)),
                    "village_code": f.village_code,
                    "year": f.year,
                    "values": values,
                    "explanation": self.explanation(f),
                    "status": f.status.as_str(),
                    "first_seen": f.first_seen,
                    "last_seen": f.last_seen,
                })
            })
            .collect();
        let s = self.report.summary;
        let doc = serde_json::json!({
            "year": self.year,
            "rules_run": self.report.rules_run,
            "rules_not_for_year": self.report.rules_not_for_year,
            "summary": { "new": s.new, "still": s.still, "reopened": s.reopened, "fixed": s.fixed },
            "findings": list,
        });
        let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        text.push('\n');
        text
    }

    fn xlsx(&self, path: &Path) -> anyhow::Result<()> {
        use rust_xlsxwriter::{Format, Workbook};
        let mut book = Workbook::new();
        let text = Format::new().set_num_format("@");
        let bold = Format::new().set_bold();
        let ws = book.add_worksheet();
        ws.set_name("问题清单")?;
        for (c, h) in HEADERS.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        for (r, f) in self.found.iter().enumerate() {
            for (c, cell) in self.row(f).iter().enumerate() {
                ws.write_string_with_format(r as u32 + 1, c as u16, cell, &text)?;
            }
        }
        book.save(path)?;
        Ok(())
    }
}
