//! 帮扶责任人 and 结对帮扶: a pool of helper cadres per township, each paired with
//! about four households; some households changed helper once.

use crate::SynthError;
use crate::household::Gen;
use crate::ids;
use crate::model::{Household, Pairing};
use crate::names;
use crate::rnd;
use crate::write::{HelperRow, Out};
use time::Duration;

struct Helper {
    id: String,
    left: u8,
}

pub struct HelperPool {
    county: String,
    next_no: usize,
    town: String,
    pool: Vec<Helper>,
    /// Helpers written so far.
    pub count: usize,
}

impl HelperPool {
    pub fn new(county: &str) -> Self {
        HelperPool { county: county.to_owned(), next_no: 1, town: String::new(), pool: Vec::new(), count: 0 }
    }

    fn create(&mut self, g: &mut Gen, out: &mut Out, town: &str, village: &str) -> Result<usize, SynthError> {
        let id = format!("BF{}{:05}", self.county, self.next_no);
        self.next_no += 1;
        let male = rnd::chance(&mut g.rng, 0.62);
        let year = rnd::int(&mut g.rng, 1965, 1998) as i32;
        let birth = rnd::date(&mut g.rng, rnd::ymd(year, 1, 1), rnd::ymd(year, 12, 31));
        let address = rnd::pick(&mut g.rng, &[ids::XUNYANG_OLD, ids::XUNYANG_OLD, ids::XUNYANG_NEW, 2]);
        let (id_number, birth) = g.ids.allocate(address, birth, male);
        let surname = names::surname(&mut g.rng);
        let name = names::full_name(&mut g.rng, surname, male, birth.year());
        let level = rnd::weighted(&mut g.rng, &[(1u8, 3), (2, 7), (3, 45), (4, 35), (5, 10)]);
        let unit = names::unit(&mut g.rng, level, town, village);
        let phone = names::phone(&mut g.rng);
        out.helper(&HelperRow {
            id: &id,
            name: &name,
            id_number: &id_number,
            unit: &unit,
            unit_level: level,
            phone: &phone,
        })?;
        self.count += 1;
        let left = rnd::int(&mut g.rng, 2, 6) as u8;
        self.pool.push(Helper { id, left });
        Ok(self.pool.len() - 1)
    }

    /// Writes member `no` of `hh` as a village-level helper cadre of this township,
    /// with the member's own name and ID number, and offers the helper to the next
    /// households (the helper_is_poor fault).
    pub fn enlist(
        &mut self,
        g: &mut Gen,
        out: &mut Out,
        hh: &Household,
        no: u8,
        village: &str,
    ) -> Result<(), SynthError> {
        let Some(p) = hh.persons.iter().find(|p| p.no == no) else { return Ok(()) };
        let id = format!("BF{}{:05}", self.county, self.next_no);
        self.next_no += 1;
        let unit = names::unit(&mut g.rng, 5, &self.town, village);
        let phone = if p.phone.is_empty() { names::phone(&mut g.rng) } else { p.phone.clone() };
        out.helper(&HelperRow { id: &id, name: &p.name, id_number: &p.id, unit: &unit, unit_level: 5, phone: &phone })?;
        self.count += 1;
        let left = rnd::int(&mut g.rng, 2, 6) as u8;
        self.pool.push(Helper { id, left });
        Ok(())
    }

    /// A helper of this township with room for one more household.
    fn take(&mut self, g: &mut Gen, out: &mut Out, town: &str, village: &str) -> Result<String, SynthError> {
        let i = match self.pool.iter().rposition(|h| h.left > 0) {
            Some(i) => i,
            None => self.create(g, out, town, village)?,
        };
        self.pool[i].left = self.pool[i].left.saturating_sub(1);
        Ok(self.pool[i].id.clone())
    }

    /// An earlier helper of this township other than `not`.
    fn other(
        &mut self,
        g: &mut Gen,
        out: &mut Out,
        not: &str,
        town: &str,
        village: &str,
    ) -> Result<String, SynthError> {
        let idx: Vec<usize> = (0..self.pool.len()).filter(|i| self.pool[*i].id != not).collect();
        let i = if idx.is_empty() { self.create(g, out, town, village)? } else { rnd::pick(&mut g.rng, &idx) };
        Ok(self.pool[i].id.clone())
    }

    /// Pairs a registered or monitored household with helpers.
    pub fn pair(
        &mut self,
        g: &mut Gen,
        out: &mut Out,
        hh: &mut Household,
        town: &str,
        village: &str,
    ) -> Result<(), SynthError> {
        if town != self.town {
            self.town = town.to_owned();
            self.pool.clear();
        }
        if hh.unpaired {
            return Ok(());
        }
        let from = if hh.registered {
            let y = hh.identified_year.unwrap_or(g.first_year);
            let (lo, hi) = if y == 2014 {
                (rnd::ymd(y, 10, 1), rnd::ymd(y, 12, 31))
            } else {
                (rnd::ymd(y, 3, 1), rnd::ymd(y, 11, 30))
            };
            rnd::date(&mut g.rng, lo, hi.min(g.today))
        } else if let Some(m) = &hh.monitor {
            // Paired within days, and within the year it is monitored from (a monitored
            // household has a helper at the end of each year its risk is open).
            (m.since + Duration::days(rnd::int(&mut g.rng, 0, 15))).min(rnd::ymd(m.since.year(), 12, 31)).min(g.today)
        } else {
            return Ok(());
        };
        let helper = self.take(g, out, town, village)?;
        let change_lo = from + Duration::days(365);
        let change_hi = g.today.min(rnd::ymd(2023, 12, 31));
        if hh.registered && change_lo <= change_hi && rnd::chance(&mut g.rng, 0.25) {
            let change = rnd::date(&mut g.rng, change_lo, change_hi);
            let old = self.other(g, out, &helper, town, village)?;
            hh.pairings.push(Pairing { helper: old, from, to: Some(change - Duration::days(1)) });
            hh.pairings.push(Pairing { helper, from: change, to: None });
        } else {
            hh.pairings.push(Pairing { helper, from, to: None });
        }
        Ok(())
    }
}
