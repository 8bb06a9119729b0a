//! 公民身份号码 (GB 11643-1999): checksum, birth date, sex, address code, the 15-digit
//! upgrade, and the 20/22-character 残疾人证 numbers built on it.
//!
//! Address codes are never checked against a current division list: older numbers carry
//! abolished codes such as 610928 (旬阳县 before it became 旬阳市 610981).

use std::fmt;
use time::{Date, Month};

/// ISO 7064 MOD 11-2 weights for the first 17 digits.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for S = Σ aᵢwᵢ mod 11 = 0…10.
const CHECK: [u8; 11] = *b"10X98765432";

/// A valid 18-character citizen ID number: digits, a real birth date, a passing check
/// character (upper-case `X`). Constructed only through [`IdNumber::parse`] or
/// [`IdNumber::upgrade15`], so holding one means it is valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdNumber(String);

/// Why a text is not a valid ID number. Messages are for village cadres.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdProblem {
    #[error("证件号码为空")]
    Empty,
    #[error("证件号码“{0}”被 Excel 改成了科学计数法，末尾数字已丢失；请把该列设为“文本”格式后重新录入或导出")]
    ScientificNotation(String),
    #[error("证件号码位数为 {0} 位，身份证应为 18 位（或旧的 15 位）")]
    Length(usize),
    #[error("残疾人证号位数为 {0} 位，应为 20 或 22 位")]
    DisabilityLength(usize),
    #[error("证件号码第 {0} 位“{1}”不是数字")]
    Character(usize, char),
    #[error("证件号码中的出生日期 {0} 不是有效日期")]
    BirthDate(String),
    #[error("证件号码校验位错误：应为 {expected}，实为 {found}")]
    Checksum { expected: char, found: char },
}

/// Computes the check character for 17 ASCII digits.
pub fn check_char(first17: &[u8]) -> char {
    debug_assert_eq!(first17.len(), 17);
    let s: u32 = first17.iter().zip(WEIGHTS).map(|(d, w)| (d - b'0') as u32 * w).sum();
    CHECK[(s % 11) as usize] as char
}

/// True for text such as `6.10981E+17` or `6.10981199001e17`: an ID number that a
/// spreadsheet turned into a floating-point number, losing digits.
pub fn looks_like_scientific(text: &str) -> bool {
    let t = text.trim();
    let Some((mantissa, exp)) = t.split_once(['E', 'e']) else { return false };
    let exp = exp.strip_prefix('+').unwrap_or(exp);
    !mantissa.is_empty()
        && mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && mantissa.contains('.')
        && !exp.is_empty()
        && exp.bytes().all(|b| b.is_ascii_digit())
}

fn birth_date(digits: &[u8]) -> Result<Date, IdProblem> {
    let text = std::str::from_utf8(digits).unwrap_or_default();
    let bad = || IdProblem::BirthDate(text.to_owned());
    let y: i32 = text[0..4].parse().map_err(|_| bad())?;
    let m: u8 = text[4..6].parse().map_err(|_| bad())?;
    let d: u8 = text[6..8].parse().map_err(|_| bad())?;
    if !(1880..=2100).contains(&y) {
        return Err(bad());
    }
    let month = Month::try_from(m).map_err(|_| bad())?;
    Date::from_calendar_date(y, month, d).map_err(|_| bad())
}

impl IdNumber {
    /// Parses an 18-character number (lower-case `x` accepted) or upgrades a 15-digit
    /// one. Surrounding spaces are ignored.
    pub fn parse(text: &str) -> Result<IdNumber, IdProblem> {
        let t = text.trim();
        if t.is_empty() {
            return Err(IdProblem::Empty);
        }
        if looks_like_scientific(t) {
            return Err(IdProblem::ScientificNotation(t.to_owned()));
        }
        match t.chars().count() {
            15 => Self::upgrade15(t),
            18 => Self::parse18(t),
            n => Err(IdProblem::Length(n)),
        }
    }

    fn parse18(t: &str) -> Result<IdNumber, IdProblem> {
        let b = t.as_bytes();
        for (i, c) in t.chars().enumerate() {
            let ok = c.is_ascii_digit() || (i == 17 && (c == 'X' || c == 'x'));
            if !ok {
                return Err(IdProblem::Character(i + 1, c));
            }
        }
        birth_date(&b[6..14])?;
        let expected = check_char(&b[..17]);
        let found = (b[17] as char).to_ascii_uppercase();
        if expected != found {
            return Err(IdProblem::Checksum { expected, found });
        }
        Ok(IdNumber(t.to_ascii_uppercase()))
    }

    /// Upgrades a 15-digit number: `19` goes before the six-digit birth date and the
    /// check character is appended.
    pub fn upgrade15(t: &str) -> Result<IdNumber, IdProblem> {
        if let Some((i, c)) = t.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(IdProblem::Character(i + 1, c));
        }
        if t.len() != 15 {
            return Err(IdProblem::Length(t.len()));
        }
        let mut s = String::with_capacity(18);
        s.push_str(&t[..6]);
        s.push_str("19");
        s.push_str(&t[6..]);
        birth_date(&s.as_bytes()[6..14])?;
        let c = check_char(s.as_bytes());
        s.push(c);
        Ok(IdNumber(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 地址码: the six-digit division code at registration (may be abolished).
    pub fn address_code(&self) -> &str {
        &self.0[..6]
    }

    pub fn birth_date(&self) -> Date {
        birth_date(&self.0.as_bytes()[6..14]).expect("validated at construction")
    }

    /// GB/T 2261.1 sex code: `1` 男 when the 17th digit is odd, `2` 女 otherwise.
    pub fn sex_code(&self) -> &'static str {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 { "1" } else { "2" }
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A 残疾人证 number: the holder's ID number followed by 类别 and 等级 digits
/// (20 characters, or 22 in the later two-digit form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisabilityCard {
    pub id: IdNumber,
    pub category: String,
    pub grade: String,
}

impl DisabilityCard {
    pub fn parse(text: &str) -> Result<DisabilityCard, IdProblem> {
        let t = text.trim();
        let n = t.chars().count();
        if n != 20 && n != 22 {
            return Err(IdProblem::DisabilityLength(n));
        }
        if !t.is_ascii() {
            return Err(IdProblem::DisabilityLength(n));
        }
        // The first 18 characters are the ID number as written: spaces inside them would
        // let a 15-digit number through (`610928830212302 \t\t23`) and keep the spaces.
        let head = &t[..18];
        if let Some((i, c)) = head.char_indices().find(|(_, c)| c.is_whitespace()) {
            return Err(IdProblem::Character(i + 1, c));
        }
        let id = IdNumber::parse(head)?;
        let rest = &t[18..];
        if let Some((i, c)) = rest.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(IdProblem::Character(19 + i, c));
        }
        let half = rest.len() / 2;
        Ok(DisabilityCard { id, category: rest[..half].to_owned(), grade: rest[half..].to_owned() })
    }
}

/// What to store for a 证件号码 as given in a file, and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    /// The 18-character form where the text converts; otherwise the trimmed text as given
    /// (a data-quality problem is kept and reported, not dropped).
    pub stored: String,
    /// The valid ID number inside, if any.
    pub id: Option<IdNumber>,
    pub problem: Option<IdProblem>,
}

/// Normalises a 证件号码 for its 证件类型 (`01` 身份证, `02` 军官证, `09` 残疾人证).
/// Other document types are kept as given without a check.
pub fn normalize(id_type: &str, text: &str) -> Normalized {
    let t = text.trim();
    let keep = |problem: IdProblem| Normalized { stored: t.to_owned(), id: None, problem: Some(problem) };
    match id_type {
        "01" | "" => match IdNumber::parse(t) {
            Ok(id) => Normalized { stored: id.to_string(), id: Some(id), problem: None },
            Err(p) => keep(p),
        },
        "09" => match DisabilityCard::parse(t) {
            Ok(card) => Normalized { stored: t.to_ascii_uppercase(), id: Some(card.id), problem: None },
            Err(p) => keep(p),
        },
        _ => Normalized { stored: t.to_owned(), id: None, problem: None },
    }
}

/// Builds a valid 18-character number from its parts; the generator uses it.
pub fn compose(address: &str, birth: Date, sequence: u16, male: bool) -> IdNumber {
    let mut seq = sequence % 1000;
    if (seq % 2 == 1) != male {
        seq = (seq + 1) % 1000;
    }
    let mut s = format!("{address}{:04}{:02}{:02}{seq:03}", birth.year(), u8::from(birth.month()), birth.day());
    let c = check_char(s.as_bytes());
    s.push(c);
    IdNumber(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VECTOR: &str = "11010519491231002X";

    #[test]
    fn the_published_vector_passes() {
        let id = IdNumber::parse(VECTOR).unwrap();
        assert_eq!(check_char(&VECTOR.as_bytes()[..17]), 'X');
        assert_eq!(id.birth_date().to_string(), "1949-12-31");
        assert_eq!(id.sex_code(), "2");
        assert_eq!(id.address_code(), "110105");
        assert_eq!(IdNumber::parse("11010519491231002x").unwrap().as_str(), VECTOR);
    }

    #[test]
    fn every_single_digit_change_fails() {
        let b = VECTOR.as_bytes();
        for pos in 0..18 {
            for d in b"0123456789X" {
                if *d == b[pos] || (pos < 17 && *d == b'X') {
                    continue;
                }
                let mut changed = b.to_vec();
                changed[pos] = *d;
                let s = String::from_utf8(changed).unwrap();
                assert!(IdNumber::parse(&s).is_err(), "{s} should fail");
            }
        }
    }

    #[test]
    fn every_adjacent_swap_fails() {
        let b = VECTOR.as_bytes();
        for pos in 0..17 {
            if b[pos] == b[pos + 1] {
                continue;
            }
            let mut swapped = b.to_vec();
            swapped.swap(pos, pos + 1);
            let s = String::from_utf8(swapped).unwrap();
            assert!(IdNumber::parse(&s).is_err(), "{s} should fail");
        }
    }

    #[test]
    fn fifteen_digits_upgrade() {
        let id = IdNumber::parse("610928850312021").unwrap();
        assert_eq!(&id.as_str()[..17], "61092819850312021");
        assert_eq!(id.address_code(), "610928");
        assert_eq!(id.sex_code(), "1");
    }

    #[test]
    fn abolished_county_code_is_accepted() {
        let birth = Date::from_calendar_date(1970, Month::May, 4).unwrap();
        let id = compose("610928", birth, 123, true);
        assert!(IdNumber::parse(id.as_str()).is_ok());
    }

    #[test]
    fn bad_inputs_say_why() {
        assert_eq!(IdNumber::parse(""), Err(IdProblem::Empty));
        assert!(matches!(IdNumber::parse("6.10981E+17"), Err(IdProblem::ScientificNotation(_))));
        assert_eq!(IdNumber::parse("1234"), Err(IdProblem::Length(4)));
        assert!(matches!(IdNumber::parse("11010519491331002X"), Err(IdProblem::BirthDate(_))));
        assert!(matches!(IdNumber::parse("1101051949123100AX"), Err(IdProblem::Character(17, 'A'))));
        assert!(matches!(IdNumber::parse("110105194912310021"), Err(IdProblem::Checksum { .. })));
        assert!(IdNumber::parse("身份证号码一二三四五六七八九十一二三").is_err());
    }

    #[test]
    fn disability_cards_hold_an_id() {
        let card = DisabilityCard::parse(&format!("{VECTOR}14")).unwrap();
        assert_eq!(card.id.as_str(), VECTOR);
        assert_eq!((card.category.as_str(), card.grade.as_str()), ("1", "4"));
        let card = DisabilityCard::parse(&format!("{VECTOR}0102")).unwrap();
        assert_eq!((card.category.as_str(), card.grade.as_str()), ("01", "02"));
        assert!(DisabilityCard::parse(VECTOR).is_err());
        let n = normalize("09", &format!("{VECTOR}14"));
        assert!(n.problem.is_none());
    }

    /// Found by `fuzz/` (target `id_number`): a 15-digit number padded with spaces to
    /// 18 characters was accepted as a card and stored with the spaces inside.
    #[test]
    fn disability_cards_need_the_18_character_number() {
        assert_eq!(DisabilityCard::parse("610928830212302 \t\t23"), Err(IdProblem::Character(16, ' ')));
        let n = normalize("09", "610928850312021   14");
        assert_eq!(n.problem, Some(IdProblem::Character(16, ' ')));
        assert!(n.id.is_none());
    }

    #[test]
    fn normalize_keeps_bad_numbers_with_their_problem() {
        let n = normalize("01", "110105194912310021");
        assert_eq!(n.stored, "110105194912310021");
        assert!(matches!(n.problem, Some(IdProblem::Checksum { .. })));
        let n = normalize("01", "610928850312021");
        assert_eq!(n.stored.len(), 18);
        assert!(n.problem.is_none());
    }

    proptest! {
        #[test]
        fn composed_numbers_always_parse(y in 1900i32..2025, m in 1u8..=12, d in 1u8..=28, seq in 0u16..1000, male: bool) {
            let birth = Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap();
            let id = compose("610981", birth, seq, male);
            let parsed = IdNumber::parse(id.as_str()).unwrap();
            prop_assert_eq!(parsed.birth_date(), birth);
            prop_assert_eq!(parsed.sex_code(), if male { "1" } else { "2" });
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,30}") {
            let _ = IdNumber::parse(&s);
            let _ = DisabilityCard::parse(&s);
            let _ = normalize("09", &s);
        }
    }
}
