//! ID numbers that are unique in the whole county without a hash set: a counter per
//! address code, birth day and sex hands out the 顺序码, so two people never share a
//! number unless a fault copies one on purpose.

use fupin_domain::id_number::compose;
use time::Date;

/// Address codes used for birthplaces: the county's current and abolished codes first,
/// then neighbouring counties people married in from.
pub const ADDRESSES: &[&str] = &[
    "610981", // 旬阳市 (since 2021)
    "610928", // 旬阳县, abolished but still inside older numbers
    "610902", // 汉滨区
    "610929", // 白河县
    "610925", // 岚皋县
    "610924", // 紫阳县
    "610926", // 平利县
    "420322", // 湖北省郧西县
];
pub const XUNYANG_NEW: usize = 0;
pub const XUNYANG_OLD: usize = 1;

/// First birth date the counters cover.
const BASE_YEAR: i32 = 1880;
/// Birth days through 2101, enough for any reference year the policy table can have.
const DAYS: usize = 366 * 222;
/// Sequences 0..=999 split by parity: 500 per sex and day.
const PER_SEX: u16 = 500;

pub struct IdAllocator {
    base: i32,
    next: Vec<u16>,
}

impl Default for IdAllocator {
    fn default() -> Self {
        Self::new()
    }
}

impl IdAllocator {
    pub fn new() -> Self {
        let base = crate::rnd::ymd(BASE_YEAR, 1, 1).to_julian_day();
        IdAllocator { base, next: vec![0; ADDRESSES.len() * DAYS * 2] }
    }

    fn slot(&self, address: usize, birth: Date, male: bool) -> Option<usize> {
        let day = usize::try_from(birth.to_julian_day() - self.base).ok()?;
        if day >= DAYS || address >= ADDRESSES.len() {
            return None;
        }
        Some((address * DAYS + day) * 2 + usize::from(male))
    }

    /// A fresh valid number for someone born on `birth`. When that day's sequences are
    /// used up the birth date moves by a day within the same calendar year (so ages on
    /// 31 December do not change); the date actually used is returned with the number.
    pub fn allocate(&mut self, address: usize, birth: Date, male: bool) -> (String, Date) {
        let mut b = birth;
        for step in 0..366 {
            if let Some(slot) = self.slot(address, b, male) {
                let k = self.next[slot];
                if k < PER_SEX {
                    self.next[slot] = k + 1;
                    // A fixed permutation of 0..500 so numbers do not all end in 001, 003…
                    let scrambled = (u32::from(k) * 263 + 101) % u32::from(PER_SEX);
                    let seq = (scrambled * 2 + u32::from(male)) as u16;
                    return (compose(ADDRESSES[address], b, seq, male).to_string(), b);
                }
            }
            // Walk backwards through the year, then forwards from the original date.
            let back = birth.to_julian_day() - (step + 1);
            let fwd = birth.to_julian_day() + (step + 2 - birth.ordinal() as i32);
            let cand = if (step + 1) < birth.ordinal() as i32 { back } else { fwd };
            b = Date::from_julian_day(cand).unwrap_or(birth);
        }
        // Unreachable in practice (500 people of one sex born on every day of a year in
        // one county); fall back to the number with sequence 0 rather than failing.
        (compose(ADDRESSES[address], birth, u16::from(male), male).to_string(), birth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fupin_domain::IdNumber;

    #[test]
    fn numbers_are_valid_and_unique() {
        let mut a = IdAllocator::new();
        let birth = crate::rnd::ymd(1970, 5, 4);
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..1200 {
            let male = i % 2 == 0;
            let (id, b) = a.allocate(XUNYANG_OLD, birth, male);
            let parsed = IdNumber::parse(&id).unwrap();
            assert_eq!(parsed.birth_date(), b);
            assert_eq!(b.year(), 1970);
            assert_eq!(parsed.sex_code(), if male { "1" } else { "2" });
            assert!(seen.insert(id));
        }
    }
}
