//! The exchange files, column by column in the order `fupin_domain::schema` gives, and
//! the answer key. Each table's columns are matched to the generator's fields once by
//! name, so a column added to the schema later is written empty rather than shifted.

use crate::SynthError;
use crate::faults::FaultRow;
use crate::model::{Household, Income};
use crate::villages::VillageYear;
use fupin_domain::Yuan;
use fupin_domain::date::iso;
use fupin_domain::schema::{self, Table};
use std::fmt::Write as _;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use time::Date;

/// `是` / `否`.
pub fn yes(b: bool) -> &'static str {
    if b { "是" } else { "否" }
}

/// A decimal held in tenths, printed plainly: `2.5`, `3`.
pub fn tenths(v: i64) -> String {
    if v % 10 == 0 { format!("{}", v / 10) } else { format!("{}.{}", v / 10, (v % 10).abs()) }
}

macro_rules! fields {
    ($name:ident { $($var:ident = $col:literal),* $(,)? }) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name { $($var,)* Unknown }
        impl $name {
            fn from_name(n: &str) -> Self {
                match n { $($col => $name::$var,)* _ => $name::Unknown }
            }
        }
    };
}

fields!(HhF {
    HhId = "hh_id", VillageCode = "village_code", GroupNo = "group_no", Phone = "phone",
    BankName = "bank_name", BankAccount = "bank_account", Status = "status", Standard = "standard",
    Attribute = "attribute", IdentifiedYear = "identified_year", PlannedExitYear = "planned_exit_year",
    ExitYear = "exit_year", RelapseYear = "relapse_year", MonitorType = "monitor_type",
    MonitorSince = "monitor_since", Risk1 = "risk1", Risk1On = "risk1_on", Risk2 = "risk2",
    Risk2On = "risk2_on", Risk3 = "risk3", Risk3On = "risk3_on", Risk4 = "risk4", Risk4On = "risk4_on",
    Risk5 = "risk5", Risk5On = "risk5_on", RiskClearedOn = "risk_cleared_on", MainCause = "main_cause",
    OtherCause1 = "other_cause1", OtherCause2 = "other_cause2", MilitaryFamily = "military_family",
    OneChild = "one_child", TwoDaughters = "two_daughters", Farmland = "farmland_mu",
    Irrigated = "irrigated_mu", Forest = "forest_mu", ReturnedForest = "returned_forest_mu",
    Orchard = "orchard_mu", Pasture = "pasture_mu", WaterSurface = "water_surface_mu",
    FarmPower = "farm_power", HomePower = "home_power", RadioTv = "radio_tv",
    WaterDifficult = "water_difficult", WaterSafe = "water_safe", RoadKm = "road_km",
    PathType = "path_type", HouseArea = "house_area", DangerousHouse = "dangerous_house",
    DangerGrade = "danger_grade", Toilet = "toilet", Fuel = "fuel", Coop = "coop",
    RelocationType = "relocation_type", RelocationMode = "relocation_mode",
    RelocationSite = "relocation_site", RelocationSiteCode = "relocation_site_code",
    RelocationYear = "relocation_year", RelocationArea = "relocation_area",
    OldHouseDemolished = "old_house_demolished",
});

fields!(PF {
    PersonId = "person_id", HhId = "hh_id", Name = "name", Sex = "sex", BirthDate = "birth_date",
    IdType = "id_type", IdNumber = "id_number", Relation = "relation", Ethnicity = "ethnicity",
    Political = "political", Education = "education", School = "school_status", Health = "health",
    Disease = "disease", DisabilityCert = "disability_cert", Labour = "labour", Skills = "skills",
    Trained = "trained", MigrantPlace = "migrant_place", MigrantMonths = "migrant_months",
    Employer = "employer", Medical = "medical_insurance", Critical = "critical_insurance",
    EmployeeIns = "employee_insurance", Pension = "pension_insurance", Dibao = "dibao", Tekun = "tekun", Soldier = "active_soldier",
    Phone = "phone",
});

fields!(IF {
    HhId = "hh_id", Year = "year", Members = "members", Wages = "wages", Planting = "planting",
    Breeding = "breeding", OtherBusiness = "other_business", Costs = "business_costs",
    Dividend = "dividend", OtherProperty = "other_property", FamilyPlanning = "family_planning",
    Dibao = "dibao_money", Tekun = "tekun_money", Pension = "pension_money", Eco = "eco_money",
    OtherTransfer = "other_transfer", Medical = "medical_spending", School = "school_spending",
    Net = "net_per_capita",
});

fields!(VF {
    Code = "village_code", Year = "year", Poor = "poor_village", ExitYear = "village_exit_year",
    Paved = "paved_road", Bus = "bus", Clinic = "clinic", Collective = "collective_economy",
    CollectiveIncome = "collective_income", Power = "power_all", Water = "safe_water",
});

fields!(HeF {
    HelperId = "helper_id", Name = "name", IdNumber = "id_number", Unit = "unit",
    UnitLevel = "unit_level", Phone = "phone",
});

fields!(PaF { HelperId = "helper_id", HhId = "hh_id", From = "from_date", To = "to_date" });

/// One table's file: a csv writer, the field of each column and a reused row buffer.
struct TableFile<F> {
    path: PathBuf,
    w: csv::Writer<BufWriter<File>>,
    fields: Vec<F>,
    row: Vec<String>,
}

fn create(path: &Path) -> Result<csv::Writer<BufWriter<File>>, SynthError> {
    let f = File::create(path).map_err(|source| SynthError::Io { path: path.to_owned(), source })?;
    Ok(csv::WriterBuilder::new().from_writer(BufWriter::with_capacity(1 << 18, f)))
}

impl<F: Copy> TableFile<F> {
    fn new(dir: &Path, table: &Table, map: fn(&str) -> F) -> Result<Self, SynthError> {
        let path = dir.join(format!("{}.csv", table.name));
        let mut w = create(&path)?;
        w.write_record(table.columns.iter().map(|c| c.header))
            .map_err(|source| SynthError::Csv { path: path.clone(), source })?;
        let fields = table.columns.iter().map(|c| map(c.name)).collect();
        Ok(TableFile { path, w, fields, row: vec![String::new(); table.columns.len()] })
    }

    /// Fills each cell with `fill(field, cell)` and writes the row.
    fn write(&mut self, mut fill: impl FnMut(F, &mut String)) -> Result<(), SynthError> {
        for (cell, f) in self.row.iter_mut().zip(&self.fields) {
            cell.clear();
            fill(*f, cell);
        }
        self.w.write_record(&self.row).map_err(|source| SynthError::Csv { path: self.path.clone(), source })
    }

    fn finish(mut self) -> Result<PathBuf, SynthError> {
        self.w.flush().map_err(|source| SynthError::Io { path: self.path.clone(), source })?;
        Ok(self.path)
    }
}

fn date(cell: &mut String, d: Date) {
    cell.push_str(&iso(d));
}
fn opt_year(cell: &mut String, y: Option<i32>) {
    if let Some(y) = y {
        let _ = write!(cell, "{y}");
    }
}
fn money(cell: &mut String, fen: i64) {
    let _ = write!(cell, "{}", Yuan::from_fen(fen));
}

/// Every output file, open for writing.
pub struct Out {
    households: TableFile<HhF>,
    persons: TableFile<PF>,
    incomes: TableFile<IF>,
    villages: TableFile<VF>,
    helpers: TableFile<HeF>,
    pairings: TableFile<PaF>,
    faults: csv::Writer<BufWriter<File>>,
    faults_path: PathBuf,
    monitoring: csv::Writer<BufWriter<File>>,
    monitoring_path: PathBuf,
    missed: csv::Writer<BufWriter<File>>,
    missed_path: PathBuf,
}

/// The helper row as the pool creates it.
pub struct HelperRow<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub id_number: &'a str,
    pub unit: &'a str,
    pub unit_level: u8,
    pub phone: &'a str,
}

impl Out {
    pub fn create(dir: &Path) -> Result<Out, SynthError> {
        let key = dir.join("key");
        std::fs::create_dir_all(&key).map_err(|source| SynthError::Io { path: key.clone(), source })?;
        let faults_path = key.join("faults.csv");
        let mut faults = create(&faults_path)?;
        faults
            .write_record(["kind", "户编号", "人编号", "detail"])
            .map_err(|source| SynthError::Csv { path: faults_path.clone(), source })?;
        let monitoring_path = key.join("monitoring.csv");
        let mut monitoring = create(&monitoring_path)?;
        monitoring
            .write_record(["户编号", "监测对象类型", "纳入监测日期", "风险类型", "风险消除日期"])
            .map_err(|source| SynthError::Csv { path: monitoring_path.clone(), source })?;
        let missed_path = key.join("missed.csv");
        let mut missed = create(&missed_path)?;
        missed
            .write_record(["户编号", "年度", "类型"])
            .map_err(|source| SynthError::Csv { path: missed_path.clone(), source })?;
        Ok(Out {
            households: TableFile::new(dir, &schema::HOUSEHOLDS, HhF::from_name)?,
            persons: TableFile::new(dir, &schema::PERSONS, PF::from_name)?,
            incomes: TableFile::new(dir, &schema::INCOMES, IF::from_name)?,
            villages: TableFile::new(dir, &schema::VILLAGES, VF::from_name)?,
            helpers: TableFile::new(dir, &schema::HELPERS, HeF::from_name)?,
            pairings: TableFile::new(dir, &schema::PAIRINGS, PaF::from_name)?,
            faults,
            faults_path,
            monitoring,
            monitoring_path,
            missed,
            missed_path,
        })
    }

    /// Flushes everything; returns the exchange files in the schema's table order
    /// (parents before children, the order an importer applies them) and the key files.
    pub fn finish(self) -> Result<(Vec<PathBuf>, Vec<PathBuf>), SynthError> {
        let written = [
            self.households.finish()?,
            self.persons.finish()?,
            self.incomes.finish()?,
            self.villages.finish()?,
            self.helpers.finish()?,
            self.pairings.finish()?,
        ];
        let mut files = Vec::with_capacity(written.len());
        for t in schema::TABLES {
            let name = format!("{}.csv", t.name);
            if let Some(p) = written.iter().find(|p| p.file_name().is_some_and(|f| f == name.as_str())) {
                files.push(p.clone());
            }
        }
        let mut key = Vec::new();
        for (mut w, path) in
            [(self.faults, self.faults_path), (self.monitoring, self.monitoring_path), (self.missed, self.missed_path)]
        {
            w.flush().map_err(|source| SynthError::Io { path: path.clone(), source })?;
            key.push(path);
        }
        Ok((files, key))
    }

    pub fn village_year(&mut self, vy: &VillageYear<'_>) -> Result<(), SynthError> {
        let v = vy.village;
        let i = &v.infra;
        self.villages.write(|f, c| match f {
            VF::Code => c.push_str(&v.code),
            VF::Year => {
                let _ = write!(c, "{}", vy.year);
            }
            VF::Poor => c.push_str(yes(vy.poor())),
            VF::ExitYear => opt_year(c, vy.exit_year()),
            VF::Paved => c.push_str(yes(vy.has(i.paved_road))),
            VF::Bus => c.push_str(yes(vy.has(i.bus))),
            VF::Clinic => c.push_str(yes(vy.has(i.clinic))),
            VF::Collective => c.push_str(yes(vy.has(i.collective))),
            VF::CollectiveIncome => money(c, vy.collective_income()),
            VF::Power => c.push_str(yes(vy.has(i.power_all))),
            VF::Water => c.push_str(yes(vy.has(i.safe_water))),
            VF::Unknown => {}
        })
    }

    pub fn helper(&mut self, h: &HelperRow<'_>) -> Result<(), SynthError> {
        self.helpers.write(|f, c| match f {
            HeF::HelperId => c.push_str(h.id),
            HeF::Name => c.push_str(h.name),
            HeF::IdNumber => c.push_str(h.id_number),
            HeF::Unit => c.push_str(h.unit),
            HeF::UnitLevel => {
                let _ = write!(c, "{}", h.unit_level);
            }
            HeF::Phone => c.push_str(h.phone),
            HeF::Unknown => {}
        })
    }

    pub fn fault(&mut self, r: &FaultRow) -> Result<(), SynthError> {
        self.faults
            .write_record([r.kind, r.hh_id.as_str(), r.person_id.as_str(), r.detail.as_str()])
            .map_err(|source| SynthError::Csv { path: self.faults_path.clone(), source })
    }

    /// All rows of one household: the household, its members, incomes and pairings,
    /// and its line in the monitoring key.
    pub fn household(&mut self, hh: &Household, village_code: &str) -> Result<(), SynthError> {
        let blank = hh.blank.map(HhF::from_name);
        self.households.write(|f, c| {
            if blank != Some(f) {
                household_cell(hh, village_code, f, c)
            }
        })?;
        for p in &hh.persons {
            self.persons.write(|f, c| match f {
                PF::PersonId => {
                    let _ = write!(c, "{}{:02}", hh.id, p.no);
                }
                PF::HhId => c.push_str(&hh.id),
                PF::Name => c.push_str(&p.name),
                PF::Sex => c.push_str(if p.male { "1" } else { "2" }),
                PF::BirthDate => date(c, p.birth),
                PF::IdType => c.push_str("01"),
                PF::IdNumber => c.push_str(&p.id),
                PF::Relation => c.push_str(p.relation),
                PF::Ethnicity => c.push_str(p.ethnicity),
                PF::Political => c.push_str(p.political),
                PF::Education => c.push_str(p.education),
                PF::School => c.push_str(p.school),
                PF::Health => c.push_str(&p.health()),
                PF::Disease => c.push_str(p.disease),
                PF::DisabilityCert => c.push_str(&p.disability_cert),
                PF::Labour => c.push_str(p.labour),
                PF::Skills => c.push_str(&p.skills),
                PF::Trained => c.push_str(yes(p.trained)),
                PF::MigrantPlace => c.push_str(p.migrant_place),
                PF::MigrantMonths => {
                    let _ = write!(c, "{}", p.migrant_months);
                }
                PF::Employer => c.push_str(p.employer),
                PF::Medical => c.push_str(yes(p.medical)),
                PF::Critical => c.push_str(yes(p.critical)),
                PF::EmployeeIns => c.push_str(yes(p.employee_ins)),
                PF::Pension => c.push_str(yes(p.pension_ins)),
                PF::Dibao => c.push_str(yes(p.dibao)),
                PF::Tekun => c.push_str(yes(p.tekun)),
                PF::Soldier => c.push_str(yes(false)),
                PF::Phone => c.push_str(&p.phone),
                PF::Unknown => {}
            })?;
        }
        for inc in &hh.incomes {
            self.incomes.write(|f, c| income_cell(hh, inc, f, c))?;
            if !inc.missed.is_empty() {
                self.missed
                    .write_record([hh.id.as_str(), inc.year.to_string().as_str(), inc.missed])
                    .map_err(|source| SynthError::Csv { path: self.missed_path.clone(), source })?;
            }
        }
        for pa in &hh.pairings {
            self.pairings.write(|f, c| match f {
                PaF::HelperId => c.push_str(&pa.helper),
                PaF::HhId => c.push_str(&hh.id),
                PaF::From => date(c, pa.from),
                PaF::To => {
                    if let Some(t) = pa.to {
                        date(c, t)
                    }
                }
                PaF::Unknown => {}
            })?;
        }
        if let Some(m) = &hh.monitor {
            let risks: Vec<&str> = m.risks.iter().map(|r| r.0).collect();
            let since = iso(m.since);
            let cleared = m.cleared.map(iso).unwrap_or_default();
            self.monitoring
                .write_record([hh.id.as_str(), m.kind, since.as_str(), risks.join(";").as_str(), cleared.as_str()])
                .map_err(|source| SynthError::Csv { path: self.monitoring_path.clone(), source })?;
        }
        Ok(())
    }
}

fn household_cell(hh: &Household, village_code: &str, f: HhF, c: &mut String) {
    let m = hh.monitor.as_ref();
    let risk = |i: usize| m.and_then(|m| m.risks.get(i));
    let r = hh.relocation.as_ref();
    match f {
        HhF::HhId => c.push_str(&hh.id),
        HhF::VillageCode => c.push_str(village_code),
        HhF::GroupNo => {
            let _ = write!(c, "{}", hh.group);
        }
        HhF::Phone => c.push_str(&hh.phone),
        HhF::BankName => c.push_str(hh.bank_name),
        HhF::BankAccount => c.push_str(&hh.bank_account),
        HhF::Status => c.push_str(hh.status),
        HhF::Standard => c.push_str(hh.standard),
        HhF::Attribute => c.push_str(hh.attribute),
        HhF::IdentifiedYear => opt_year(c, hh.identified_year),
        HhF::PlannedExitYear => opt_year(c, hh.planned_exit_year),
        HhF::ExitYear => opt_year(c, hh.exit_year),
        HhF::RelapseYear => {}
        HhF::MonitorType => c.push_str(m.map(|m| m.kind).unwrap_or("")),
        HhF::MonitorSince => {
            if let Some(m) = m {
                date(c, m.since)
            }
        }
        HhF::Risk1 | HhF::Risk2 | HhF::Risk3 | HhF::Risk4 | HhF::Risk5 => {
            let i =
                [HhF::Risk1, HhF::Risk2, HhF::Risk3, HhF::Risk4, HhF::Risk5].iter().position(|x| *x == f).unwrap_or(0);
            if let Some(r) = risk(i) {
                c.push_str(r.0);
            }
        }
        HhF::Risk1On | HhF::Risk2On | HhF::Risk3On | HhF::Risk4On | HhF::Risk5On => {
            let i = [HhF::Risk1On, HhF::Risk2On, HhF::Risk3On, HhF::Risk4On, HhF::Risk5On]
                .iter()
                .position(|x| *x == f)
                .unwrap_or(0);
            if let Some(r) = risk(i) {
                date(c, r.1);
            }
        }
        HhF::RiskClearedOn => {
            if let Some(d) = m.and_then(|m| m.cleared) {
                date(c, d)
            }
        }
        HhF::MainCause => c.push_str(hh.main_cause),
        HhF::OtherCause1 => c.push_str(hh.other_causes[0]),
        HhF::OtherCause2 => c.push_str(hh.other_causes[1]),
        HhF::MilitaryFamily => c.push_str(yes(hh.military_family)),
        HhF::OneChild => c.push_str(yes(hh.one_child)),
        HhF::TwoDaughters => c.push_str(yes(hh.two_daughters)),
        HhF::Farmland => c.push_str(&tenths(hh.farmland)),
        HhF::Irrigated => c.push_str(&tenths(hh.irrigated)),
        HhF::Forest => c.push_str(&tenths(hh.forest)),
        HhF::ReturnedForest => c.push_str(&tenths(hh.returned_forest)),
        HhF::Orchard => c.push_str(&tenths(hh.orchard)),
        HhF::Pasture => c.push_str(&tenths(hh.pasture)),
        HhF::WaterSurface => c.push_str(&tenths(hh.water_surface)),
        HhF::FarmPower => c.push_str(yes(hh.farm_power)),
        HhF::HomePower => c.push_str(yes(hh.home_power)),
        HhF::RadioTv => c.push_str(yes(hh.radio_tv)),
        HhF::WaterDifficult => c.push_str(yes(hh.water_difficult)),
        HhF::WaterSafe => c.push_str(yes(hh.water_safe)),
        HhF::RoadKm => c.push_str(&tenths(hh.road)),
        HhF::PathType => c.push_str(hh.path_type),
        HhF::HouseArea => c.push_str(&tenths(hh.house_area)),
        HhF::DangerousHouse => c.push_str(yes(hh.dangerous)),
        HhF::DangerGrade => c.push_str(hh.danger_grade),
        HhF::Toilet => c.push_str(yes(hh.toilet)),
        HhF::Fuel => c.push_str(hh.fuel),
        HhF::Coop => c.push_str(yes(hh.coop)),
        HhF::RelocationType => c.push_str(r.map(|r| r.kind).unwrap_or("")),
        HhF::RelocationMode => c.push_str(r.map(|r| r.mode).unwrap_or("")),
        HhF::RelocationSite => c.push_str(r.map(|r| r.site.as_str()).unwrap_or("")),
        HhF::RelocationSiteCode => c.push_str(r.map(|r| r.site_code.as_str()).unwrap_or("")),
        HhF::RelocationYear => opt_year(c, r.map(|r| r.year)),
        HhF::RelocationArea => {
            if let Some(r) = r {
                c.push_str(&tenths(r.area))
            }
        }
        HhF::OldHouseDemolished => {
            if let Some(r) = r {
                c.push_str(yes(r.demolished))
            }
        }
        HhF::Unknown => {}
    }
}

fn income_cell(hh: &Household, inc: &Income, f: IF, c: &mut String) {
    match f {
        IF::HhId => c.push_str(&hh.id),
        IF::Year => {
            let _ = write!(c, "{}", inc.year);
        }
        IF::Members => {
            let _ = write!(c, "{}", inc.members);
        }
        IF::Wages => money(c, inc.wages),
        IF::Planting => money(c, inc.planting),
        IF::Breeding => money(c, inc.breeding),
        IF::OtherBusiness => money(c, inc.other_business),
        IF::Costs => money(c, inc.costs),
        IF::Dividend => money(c, inc.dividend),
        IF::OtherProperty => money(c, inc.other_property),
        IF::FamilyPlanning => money(c, inc.family_planning),
        IF::Dibao => money(c, inc.dibao),
        IF::Tekun => money(c, inc.tekun),
        IF::Pension => money(c, inc.pension),
        IF::Eco => money(c, inc.eco),
        IF::OtherTransfer => money(c, inc.other_transfer),
        IF::Medical => money(c, inc.medical_spending),
        IF::School => money(c, inc.school_spending),
        IF::Net => money(c, inc.net_per_capita),
        IF::Unknown => {}
    }
}
