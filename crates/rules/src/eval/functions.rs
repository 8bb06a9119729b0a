//! The arithmetic of built-in functions that the SQL compiler mirrors: GB 11643
//! checksums, `int()` of a decimal, ages in whole years.

/// GB 11643 weights of the first 17 digits and the check characters by sum mod 11.
pub const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
pub const ID_CHECK_CHARS: &str = "10X98765432";

/// `id_checksum_ok`: `None` unless 18 characters, the first 17 digits and
/// characters 7–14 a valid date; else whether the 18th is the check character.
pub fn id_checksum_ok(id: &str) -> Option<bool> {
    let b = id.as_bytes();
    if id.chars().count() != 18 || b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| id[r].parse::<u32>().ok();
    let (y, m, d) = (num(6..10)?, num(10..12)?, num(12..14)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if !(1..=days).contains(&d) {
        return None;
    }
    let sum: u32 = b[..17].iter().zip(ID_WEIGHTS).map(|(c, w)| u32::from(c - b'0') * w).sum();
    let check = ID_CHECK_CHARS.as_bytes()[(sum % 11) as usize];
    Some(b[17].to_ascii_uppercase() == check)
}

/// The number `id_valid` accepts: exactly 18 characters that
/// [`fupin_domain::IdNumber::parse`] takes (a 15-digit number is not upgraded here).
pub fn valid_id18(text: &str) -> Option<fupin_domain::IdNumber> {
    if text.chars().count() != 18 {
        return None;
    }
    fupin_domain::IdNumber::parse(text).ok()
}

/// `int(x)` of a decimal: toward zero; none outside 64 bits (and for NaN).
pub fn real_to_int(r: f64) -> Option<i64> {
    // Both bounds excluded, as CEL's conformance cases say (`int(-9223372036854775808.0)`
    // is an error); every double in between truncates into range.
    (r > -9_223_372_036_854_775_808.0 && r < 9_223_372_036_854_775_808.0).then(|| r.trunc() as i64)
}

/// Whole years from an ISO birth date to an ISO reference date, as SQL computes it.
pub fn age(birth: &str, on: &str) -> Option<i64> {
    let y = |s: &str| s.get(0..4)?.parse::<i64>().ok();
    let md = |s: &str| s.get(5..10).map(str::to_owned);
    let (by, oy, bmd, omd) = (y(birth)?, y(on)?, md(birth)?, md(on)?);
    Some(oy - by - i64::from(omd < bmd))
}
