//! The checked form of an expression: every name resolved to a column, a derived
//! value or a built-in, every node typed, every implicit conversion explicit. The
//! interpreter (`eval.rs`) and the SQL compiler (`sql.rs`) both read this form only,
//! so they cannot disagree about what a name means or how money is compared.

use fupin_domain::schema::Column;

/// The type of a value in a rule expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Bool,
    /// A whole number (counts, years, ages, months).
    Int,
    /// A decimal number (亩, 平方米, 公里; also ratios of money).
    Real,
    /// Money, exact to the fen. Literals compared with money are 元.
    Money,
    Text,
    /// A date, ISO-8601 text (compares in calendar order).
    Date,
    /// One code of the named list.
    Code(&'static str),
    /// Several codes of the named list (a multi-code column).
    Codes(&'static str),
}

impl Ty {
    pub fn is_numeric(self) -> bool {
        matches!(self, Ty::Int | Ty::Real | Ty::Money)
    }
    pub fn is_textual(self) -> bool {
        matches!(self, Ty::Text | Ty::Date | Ty::Code(_))
    }
    /// The Chinese name used in messages.
    pub fn name(self) -> String {
        match self {
            Ty::Bool => "布尔（是/否）".into(),
            Ty::Int => "整数".into(),
            Ty::Real => "小数".into(),
            Ty::Money => "金额".into(),
            Ty::Text => "文本".into(),
            Ty::Date => "日期".into(),
            Ty::Code(l) => format!("代码（{l}）"),
            Ty::Codes(l) => format!("多选代码（{l}）"),
        }
    }
}

/// Which row a column is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rec {
    /// `p`: the person a person-level rule is checking.
    Person,
    /// `h`: the household.
    Household,
    /// `h.income`: the household's `incomes` row of the policy year.
    Income,
    /// `v`: the household's `village_years` row of the policy year.
    Village,
    /// A member bound by an aggregate; the number is the nesting depth (1 = outermost).
    Member(u8),
    /// A row of another of the household's lists (`h.incomes`, `h.pairings`) bound by
    /// an aggregate at this depth.
    Item(u8, List),
}

impl Rec {
    /// The registry table the record is a row of.
    pub fn table(self) -> &'static str {
        crate::check::table_of(self).name
    }
}

/// A list an aggregate runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    /// `members`: the household's `persons` rows.
    Members,
    /// `h.incomes`: the household's `incomes` rows of every year.
    Incomes,
    /// `h.pairings`: the household's `pairings` rows (结对帮扶), ended or not.
    Pairings,
    /// Township and county rules: every registered household of the area
    /// (`households`), or those poor in the policy year (`poor_households`).
    AreaHouseholds { poor: bool },
    /// Township and county rules: the members of those households (`persons`,
    /// `poor_persons`).
    AreaPersons { poor: bool },
    /// Township and county rules: the policy year's `village_years` rows of the
    /// area's villages that have registered households (`villages`).
    AreaVillages,
}

impl List {
    /// A list of a township or county rule, whose element is bound as a household,
    /// a person or a village rather than as a member of the checked household.
    pub fn is_area(self) -> bool {
        matches!(self, List::AreaHouseholds { .. } | List::AreaPersons { .. } | List::AreaVillages)
    }
}

/// A policy value of the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    Poverty,
    Monitoring,
}

/// A village-level total over all the village's registered households (`v.persons`…).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VillageTotal {
    /// Persons of all the village's households.
    Persons,
    /// Persons of the households poor in the policy year (identified by then, not yet exited).
    PoorPersons,
    Households,
    PoorHouseholds,
}

/// A value of the area a township or county rule checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaValue {
    /// The division code (6 digits for a county, 9 for a township).
    Code,
    /// The year the area's county exited the poverty-county list
    /// (`data/policy/county_exit.csv`); null for a county not listed.
    CountyExitYear,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

/// A test of one text against another (CEL's string functions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextTest {
    /// `x.contains(y)`
    Contains,
    /// `x.startsWith(y)`
    StartsWith,
    /// `x.endsWith(y)`
    EndsWith,
}

/// A regular expression of `matches`, written as a text literal in the rule and
/// compiled once at load (RE2 syntax, as CEL specifies, by `regex-automata`).
#[derive(Clone)]
pub struct Pattern {
    pub source: String,
    pub regex: regex_automata::meta::Regex,
}

impl Pattern {
    /// The compiled pattern, or the parser's message.
    pub fn new(source: &str) -> Result<Pattern, String> {
        let regex = regex_automata::meta::Regex::new(source).map_err(|e| e.to_string())?;
        Ok(Pattern { source: source.to_owned(), regex })
    }
    /// Whether the pattern matches somewhere in `text` (CEL: not anchored).
    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

impl std::fmt::Debug for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pattern({:?})", self.source)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.source == other.source
    }
}

/// What is read from a 公民身份号码 (GB 11643, 18 characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdPart {
    /// `id_valid(x)`: 18 characters, 17 digits, a real birth date (1880–2100) and the
    /// right check character (X and x alike); false for any other text.
    Valid,
    /// `id_birth_date(x)`: the birth date of a valid number; null otherwise.
    BirthDate,
    /// `id_sex(x)`: the sex code ('1' 男 for an odd 17th digit, '2' 女) of a valid
    /// number; null otherwise.
    Sex,
}

/// An implicit conversion the checker made explicit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conv {
    /// Int → Real.
    IntToReal,
    /// Money (fen) → Real (元).
    MoneyToReal,
    /// An Int written as 元 → Money (fen).
    YuanToMoney,
}

/// A literal after checking. Money is in fen.
#[derive(Debug, Clone, PartialEq)]
pub enum Const {
    Bool(bool),
    Int(i64),
    Real(f64),
    Money(i64),
    Text(String),
}

/// A checked expression: a node and its type.
#[derive(Debug, Clone, PartialEq)]
pub struct Ir {
    pub ty: Ty,
    pub kind: IrKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum IrKind {
    Const(Const),
    /// A stored column of a row; `index` is its position in the schema table.
    Col {
        rec: Rec,
        column: &'static Column,
        index: usize,
    },
    /// Whole years of age at the reference date of a person (`p.age`, `m.age`).
    Age(Rec),
    Year,
    RefDate,
    Line(Line),
    /// `has(x.f)`: the value is present.
    Present(Box<Ir>),
    /// `is_null(x)`: the value is missing.
    Missing(Box<Ir>),
    Not(Box<Ir>),
    And(Box<Ir>, Box<Ir>),
    Or(Box<Ir>, Box<Ir>),
    Cmp(Cmp, Box<Ir>, Box<Ir>),
    Arith(Arith, Box<Ir>, Box<Ir>),
    Neg(Box<Ir>),
    Conv(Conv, Box<Ir>),
    /// `c ? a : b`
    Cond(Box<Ir>, Box<Ir>, Box<Ir>),
    /// `x in [...]` over constants.
    InList(Box<Ir>, Vec<Const>),
    /// `in_codes(x, [...])`: one of the codes of a (multi-)code value is in the list.
    InCodes(Box<Ir>, Vec<String>),
    /// `is_code(x)`: every code of the value is in the column's own code list.
    IsCode(Box<Ir>, &'static str),
    /// `id_valid(x)`, `id_birth_date(x)`, `id_sex(x)`: see [`IdPart`].
    Id(IdPart, Box<Ir>),
    /// `x.contains(y)`, `x.startsWith(y)`, `x.endsWith(y)`.
    TextTest(TextTest, Box<Ir>, Box<Ir>),
    /// `x + y` of two texts.
    Concat(Box<Ir>, Box<Ir>),
    /// `x.matches('re')`: the pattern matches somewhere in x (interpreter only).
    Matches(Box<Ir>, Pattern),
    /// `int(x)` of a decimal (toward zero) or a text (decimal digits with an optional
    /// sign); null when the value does not fit in 64 bits or the text is no integer.
    ToInt(Box<Ir>),
    /// `string(x)` of an integer, a boolean ('true'/'false') or a text-like value.
    ToText(Box<Ir>),
    /// `size(text)`: characters.
    Length(Box<Ir>),
    /// `id_checksum_ok(x)`: for 18 characters whose first 17 are digits with a valid
    /// date in characters 7–14, whether the 18th (X and x alike) is the GB 11643 check
    /// character of the first 17; null for anything else.
    IdChecksum(Box<Ir>),
    /// `upper(text)`: ASCII letters in upper case (`x` of an ID number becomes `X`).
    Upper(Box<Ir>),
    /// `days_between(a, b)`: whole days from date `a` to date `b` (negative when `b`
    /// is earlier); null when either is missing.
    DaysBetween(Box<Ir>, Box<Ir>),
    /// A total over the village of a village-level rule.
    Village(VillageTotal),
    /// A value of the checked township or county (`area.code`, `area.county_exit_year`).
    Area(AreaValue),
    /// `x.first_with_id` of a person: the smallest 人编号 in the county whose
    /// 证件号码 equals theirs (X and x alike); null without a 证件号码.
    FirstWithId(Rec),
    /// `x.helper_count` of a person: how many 帮扶责任人 (`helpers`) have their
    /// 证件号码 (X and x alike); null without a 证件号码.
    HelperCount(Rec),
    /// An aggregate over one of the household's lists; `depth` names the bound row.
    Agg {
        kind: crate::ast::AggKind,
        list: List,
        depth: u8,
        body: Box<Ir>,
    },
}

impl Ir {
    pub fn new(ty: Ty, kind: IrKind) -> Ir {
        Ir { ty, kind }
    }

    /// Visits every node, parents first.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Ir) -> bool) {
        if !f(self) {
            return;
        }
        match &self.kind {
            IrKind::Const(_)
            | IrKind::Col { .. }
            | IrKind::Age(_)
            | IrKind::Year
            | IrKind::RefDate
            | IrKind::FirstWithId(_)
            | IrKind::HelperCount(_)
            | IrKind::Village(_)
            | IrKind::Area(_)
            | IrKind::Line(_) => {}
            IrKind::Present(a)
            | IrKind::Missing(a)
            | IrKind::Not(a)
            | IrKind::Neg(a)
            | IrKind::Conv(_, a)
            | IrKind::InList(a, _)
            | IrKind::InCodes(a, _)
            | IrKind::IsCode(a, _)
            | IrKind::Id(_, a)
            | IrKind::Matches(a, _)
            | IrKind::ToInt(a)
            | IrKind::ToText(a)
            | IrKind::Length(a)
            | IrKind::Upper(a)
            | IrKind::IdChecksum(a)
            | IrKind::Agg { body: a, .. } => a.walk(f),
            IrKind::And(a, b)
            | IrKind::Or(a, b)
            | IrKind::Cmp(_, a, b)
            | IrKind::Arith(_, a, b)
            | IrKind::TextTest(_, a, b)
            | IrKind::Concat(a, b)
            | IrKind::DaysBetween(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            IrKind::Cond(c, a, b) => {
                c.walk(f);
                a.walk(f);
                b.walk(f);
            }
        }
    }

    /// The values whose absence the missing-value policy looks at: every column,
    /// age and policy line read outside `has()`/`is_null()` and outside aggregates
    /// (an aggregate handles its members' missing values itself).
    pub fn referenced(&self) -> Vec<&Ir> {
        let mut out: Vec<&Ir> = Vec::new();
        self.walk(&mut |n| match &n.kind {
            IrKind::Present(_) | IrKind::Missing(_) | IrKind::Agg { .. } => false,
            IrKind::Col { .. }
            | IrKind::Age(_)
            | IrKind::FirstWithId(_)
            | IrKind::HelperCount(_)
            | IrKind::Area(AreaValue::CountyExitYear)
            | IrKind::Line(Line::Monitoring) => {
                if !out.contains(&n) {
                    out.push(n);
                }
                false
            }
            _ => true,
        });
        out
    }

    /// The registry columns this expression reads, as `(table, column)`: every
    /// column of any record, aggregates and `has()` included; an age reads
    /// `persons.birth_date`, `first_with_id` and `helper_count` read `persons.id_number`,
    /// and a village total or a list of poor households reads what makes a household
    /// poor in a year (`households.identified_year`, `exit_year`). What a department
    /// may see is judged on this set (a rule reading any other column is not theirs).
    pub fn columns(&self, out: &mut std::collections::BTreeSet<(&'static str, &'static str)>) {
        const POOR: [(&str, &str); 2] = [("households", "identified_year"), ("households", "exit_year")];
        self.walk(&mut |n| {
            match &n.kind {
                IrKind::Col { rec, column, .. } => {
                    out.insert((rec.table(), column.name));
                }
                IrKind::Age(_) => {
                    out.insert(("persons", "birth_date"));
                }
                IrKind::FirstWithId(_) | IrKind::HelperCount(_) => {
                    out.insert(("persons", "id_number"));
                }
                IrKind::Village(VillageTotal::PoorPersons | VillageTotal::PoorHouseholds)
                | IrKind::Agg {
                    list: List::AreaHouseholds { poor: true } | List::AreaPersons { poor: true }, ..
                } => {
                    out.extend(POOR);
                }
                _ => {}
            }
            true
        });
    }

    /// Whether the SQL compiler can translate this expression.
    pub fn sql_blocker(&self) -> Option<&'static str> {
        let mut blocker = None;
        self.walk(&mut |n| {
            match &n.kind {
                IrKind::Matches(..) => {
                    blocker = Some("matches() 的正则表达式只在解释器中实现（SQLite 没有 REGEXP，PostgreSQL 的正则方言与 RE2 不同）")
                }
                IrKind::IsCode(a, _) if matches!(a.ty, Ty::Codes(_)) => {
                    blocker = Some("多选代码字段的 is_code() 只在解释器中实现")
                }
                _ => {}
            }
            blocker.is_none()
        });
        blocker
    }
}
