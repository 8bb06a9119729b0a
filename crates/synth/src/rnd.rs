//! Small random helpers over the one seeded generator, so every choice in the crate
//! draws from the same deterministic stream.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use time::Date;

pub type Rng8 = ChaCha8Rng;

/// True with probability `p`.
pub fn chance(rng: &mut Rng8, p: f64) -> bool {
    rng.random::<f64>() < p
}

/// A uniform integer in `lo..=hi` (`lo` when the range is empty).
pub fn int(rng: &mut Rng8, lo: i64, hi: i64) -> i64 {
    if hi <= lo { lo } else { rng.random_range(lo..=hi) }
}

/// A uniform real in `lo..hi`.
pub fn real(rng: &mut Rng8, lo: f64, hi: f64) -> f64 {
    if hi <= lo { lo } else { lo + rng.random::<f64>() * (hi - lo) }
}

/// One item by weight; the first item when all weights are zero.
pub fn weighted<T: Copy>(rng: &mut Rng8, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| *w).sum();
    if total == 0 {
        return items[0].0;
    }
    let mut r = rng.random_range(0..total);
    for (item, w) in items {
        if r < *w {
            return *item;
        }
        r -= w;
    }
    items[items.len() - 1].0
}

/// One item of a non-empty slice.
pub fn pick<T: Copy>(rng: &mut Rng8, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// A uniform date in `lo..=hi` (`lo` when the range is empty).
pub fn date(rng: &mut Rng8, lo: Date, hi: Date) -> Date {
    let (a, b) = (lo.to_julian_day(), hi.to_julian_day());
    if b <= a {
        return lo;
    }
    Date::from_julian_day(rng.random_range(a..=b)).unwrap_or(lo)
}

/// A date from its parts; the parts used in this crate are always valid, and an
/// impossible one falls back to 1 January of the year rather than panicking.
pub fn ymd(y: i32, m: u8, d: u8) -> Date {
    let month = time::Month::try_from(m).unwrap_or(time::Month::January);
    Date::from_calendar_date(y, month, d)
        .or_else(|_| Date::from_calendar_date(y, time::Month::January, 1))
        .unwrap_or(Date::MIN)
}
