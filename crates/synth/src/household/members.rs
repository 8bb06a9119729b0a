//! The members of a household: who lives in it (the family's shape by age and sex),
//! then each person's attributes, schooling by birth month included.

use super::{Gen, Hint, MONITORING_FROM};
use crate::model::Person;
use crate::{ids, names, rnd};
use time::Date;

/// A family member before attributes: who, of which sex and age, with which surname.
struct Skel {
    relation: &'static str,
    male: bool,
    age: i32,
    surname: &'static str,
    /// Married into the household (may have a number from a neighbouring county).
    married_in: bool,
}

impl Gen {
    // ---------------------------------------------------------------- members

    pub(super) fn members(&mut self, registered: bool, hint: Hint) -> Vec<Person> {
        let skels = self.skeletons(registered, hint);
        let base_eth = rnd::weighted(&mut self.rng, &[("01", 985), ("03", 5), ("15", 4), ("06", 3), ("11", 3)]);
        let mut persons: Vec<Person> = Vec::with_capacity(skels.len());
        for (i, s) in skels.iter().enumerate() {
            let mut p = self.person(s, registered, base_eth);
            p.no = (i + 1) as u8;
            persons.push(p);
        }
        if hint == Hint::Tekun {
            // The one member: chronically ill and without labour, the case the
            // tekun_with_able_member fault turns into an able one.
            let p = &mut persons[0];
            p.chronic = true;
            p.serious = false;
            p.disabled = false;
            p.disability_cert.clear();
            p.disease = rnd::pick(&mut self.rng, names::CHRONIC);
            p.labour = "03";
            p.migrant_place = "";
            p.migrant_months = 0;
            p.employer = "";
        }
        persons
    }

    fn skeletons(&mut self, registered: bool, hint: Hint) -> Vec<Skel> {
        let min = self.min_age;
        let mut out: Vec<Skel> = Vec::with_capacity(6);
        let head_surname = names::surname(&mut self.rng);
        if hint == Hint::Tekun {
            let age = self.age(40, 65);
            let male = self.chance(0.7);
            out.push(Skel { relation: "01", male, age, surname: head_surname, married_in: false });
            return out;
        }
        let weights: &[(char, u32)] = if registered {
            &[('A', 15), ('B', 17), ('C', 33), ('D', 8), ('E', 15), ('F', 3), ('G', 9)]
        } else {
            &[('A', 9), ('B', 15), ('C', 39), ('D', 10), ('E', 16), ('F', 3), ('G', 8)]
        };
        let mut kind = rnd::weighted(&mut self.rng, weights);
        // Types with married children need an old enough head; fall back to a nuclear family.
        loop {
            out.clear();
            match kind {
                'A' => {
                    let age = if self.chance(0.7) { self.age(65, 92) } else { self.age(40, 64) };
                    let male = self.chance(0.6);
                    out.push(Skel { relation: "01", male, age, surname: head_surname, married_in: false });
                }
                'B' => {
                    let age = self.age(40, 85);
                    let male = self.chance(0.93);
                    out.push(Skel { relation: "01", male, age, surname: head_surname, married_in: false });
                    self.spouse(&mut out);
                }
                'C' | 'D' => {
                    let age = if kind == 'D' { self.age(25, 56) } else { self.age(25, 60) };
                    let male = self.chance(0.92);
                    out.push(Skel { relation: "01", male, age, surname: head_surname, married_in: false });
                    if self.chance(0.95) {
                        self.spouse(&mut out);
                    }
                    let n = rnd::weighted(&mut self.rng, &[(1, 30), (2, 50), (3, 20)]);
                    self.children(&mut out, n, 38);
                    if kind == 'D' {
                        let head_age = out[0].age;
                        let father = self.chance(0.55);
                        let mother = !father || self.chance(0.8);
                        if father {
                            let a = head_age + self.age(22, 34);
                            if a <= 96 {
                                out.push(Skel {
                                    relation: "11",
                                    male: true,
                                    age: a,
                                    surname: head_surname,
                                    married_in: false,
                                });
                            }
                        }
                        if mother {
                            let a = head_age + self.age(20, 32);
                            if a <= 96 {
                                let s = names::surname(&mut self.rng);
                                out.push(Skel { relation: "12", male: false, age: a, surname: s, married_in: true });
                            }
                        }
                    }
                }
                'E' | 'F' => {
                    let age = self.age(50, 76);
                    let male = self.chance(if kind == 'F' { 0.97 } else { 0.9 });
                    out.push(Skel { relation: "01", male, age, surname: head_surname, married_in: false });
                    if kind == 'F' || self.chance(0.85) {
                        self.spouse(&mut out);
                    }
                    let mother_age = mother_age(&out);
                    let child_age = mother_age - self.age(22, 32);
                    if child_age < 22 {
                        kind = 'C';
                        continue;
                    }
                    let family = father_surname(&out);
                    let (child_rel, child_male, inlaw_rel) =
                        if kind == 'E' { ("03", true, "05") } else { ("04", false, "06") };
                    out.push(Skel {
                        relation: child_rel,
                        male: child_male,
                        age: child_age,
                        surname: family,
                        married_in: false,
                    });
                    let mut parent_age = child_age;
                    let mut grand_surname = family;
                    if kind == 'F' || self.chance(0.85) {
                        let a = (child_age + if child_male { self.age(-5, 2) } else { self.age(-2, 5) }).max(22);
                        let s = names::surname(&mut self.rng);
                        out.push(Skel { relation: inlaw_rel, male: !child_male, age: a, surname: s, married_in: true });
                        if child_male {
                            parent_age = a;
                        } else if self.chance(0.5) {
                            grand_surname = s;
                        }
                    }
                    let n = rnd::weighted(&mut self.rng, &[(1, 55), (2, 40), (3, 5)]);
                    for _ in 0..n {
                        let a = parent_age - self.age(20, 34);
                        if a < min {
                            continue;
                        }
                        let m = self.chance(0.52);
                        let rel = match (kind, m) {
                            ('E', true) => "07",
                            ('E', false) => "08",
                            (_, true) => "09",
                            (_, false) => "10",
                        };
                        out.push(Skel { relation: rel, male: m, age: a, surname: grand_surname, married_in: false });
                    }
                    if kind == 'E' && self.chance(0.15) {
                        let a = mother_age - self.age(25, 40);
                        if a >= 16 && a < child_age {
                            let m = self.chance(0.5);
                            out.push(Skel {
                                relation: if m { "03" } else { "04" },
                                male: m,
                                age: a,
                                surname: family,
                                married_in: false,
                            });
                        }
                    }
                }
                _ => {
                    // 'G': one parent with children.
                    let age = self.age(28, 60);
                    let male = self.chance(0.45);
                    out.push(Skel { relation: "01", male, age, surname: head_surname, married_in: false });
                    let n = rnd::weighted(&mut self.rng, &[(1, 55), (2, 45)]);
                    self.children(&mut out, n, 30);
                }
            }
            break;
        }
        out
    }

    fn spouse(&mut self, out: &mut Vec<Skel>) {
        let head = &out[0];
        let (hm, ha) = (head.male, head.age);
        let d = if hm { self.age(-8, 2) } else { self.age(-2, 8) };
        let age = (ha + d).clamp(22, 95);
        let s = names::surname(&mut self.rng);
        out.push(Skel { relation: "02", male: !hm, age, surname: s, married_in: true });
    }

    /// Up to `n` children of the head, aged at most `max_age`, born when their mother
    /// was 20–38.
    fn children(&mut self, out: &mut Vec<Skel>, n: usize, max_age: i32) {
        let mother = mother_age(out);
        let surname = father_surname(out);
        for _ in 0..n {
            let a = mother - self.age(20, 38);
            if a < self.min_age || a > max_age {
                continue;
            }
            let m = self.chance(0.52);
            out.push(Skel { relation: if m { "03" } else { "04" }, male: m, age: a, surname, married_in: false });
        }
    }

    fn birth_date(&mut self, age: i32) -> Date {
        let year = self.last_year - age;
        let lo = rnd::ymd(year, 1, 1);
        let hi = rnd::ymd(year, 12, 31).min(self.today);
        rnd::date(&mut self.rng, lo, hi)
    }

    fn person(&mut self, s: &Skel, registered: bool, base_eth: &'static str) -> Person {
        let birth = self.birth_date(s.age);
        let address = if birth.year() >= 2000 {
            ids::XUNYANG_NEW
        } else if s.married_in && self.chance(0.2) {
            self.int(2, ids::ADDRESSES.len() as i64 - 1) as usize
        } else if self.chance(0.7) {
            ids::XUNYANG_OLD
        } else {
            ids::XUNYANG_NEW
        };
        let (id, birth) = self.ids.allocate(address, birth, s.male);
        let age = s.age;
        let name = names::full_name(&mut self.rng, s.surname, s.male, birth.year());
        let ethnicity = if self.chance(0.95) { base_eth } else { "01" };
        let political = if age >= 25 && self.chance(if s.male { 0.06 } else { 0.02 }) {
            "01"
        } else if (14..=28).contains(&age) && self.chance(0.25) {
            "03"
        } else {
            "13"
        };
        // Health: registered households carry more illness and disability.
        let r = if registered { 2.0 } else { 1.0 };
        let age_f = if age < 18 {
            0.4
        } else if age >= 60 {
            1.6
        } else {
            1.0
        };
        let disabled = self.chance(0.035 * r * age_f);
        let serious = self.chance(
            0.012
                * r
                * if age >= 50 {
                    2.0
                } else if age < 18 {
                    0.3
                } else {
                    1.0
                },
        );
        let chronic_p = match age {
            ..=29 => 0.01,
            30..=49 => 0.04,
            50..=64 => 0.12,
            _ => 0.25,
        } * if registered { 2.0 } else { 1.0 };
        let chronic = self.chance(chronic_p);
        let disease = if serious {
            rnd::pick(&mut self.rng, names::SERIOUS)
        } else if chronic {
            rnd::pick(&mut self.rng, names::CHRONIC)
        } else {
            ""
        };
        let disability_cert =
            if disabled { format!("{id}{}{}", self.int(1, 7), self.int(1, 4)) } else { String::new() };
        let (education, school) = self.schooling(age, birth);
        let student = matches!(school.parse::<u8>(), Ok(3..=16));
        // Labour: children and the elderly have none; working-age people depend on health.
        let mut skills = String::new();
        let mut able = false;
        let labour = if !(16..=65).contains(&age) {
            "04"
        } else if serious || disabled {
            if self.chance(0.75) { "03" } else { "04" }
        } else if chronic && self.chance(0.35) {
            "03"
        } else {
            able = true;
            if !student && self.chance(0.3) {
                skills.push_str(rnd::pick(&mut self.rng, names::SKILLS));
                if self.chance(0.6) { "02" } else { "01" }
            } else {
                "01"
            }
        };
        // 弱劳动力或半劳动力 (from 2021): older or chronically ill people of working age.
        let labour = if labour == "01"
            && self.last_year >= MONITORING_FROM
            && !student
            && skills.is_empty()
            && (age >= 55 || chronic)
            && self.pm(self.mix.weak_labour_pm)
        {
            able = false;
            "05"
        } else {
            labour
        };
        let trained = if skills.is_empty() { self.chance(0.08) } else { self.chance(0.8) };
        let (mut migrant_place, mut migrant_months, mut employer) = ("", 0, "");
        let migrate = if registered { 0.35 } else { 0.45 } * f64::from(self.mix.migration_pct) / 100.0;
        if able && !student && (18..=60).contains(&age) && self.chance(migrate.min(0.9)) {
            migrant_place = rnd::weighted(&mut self.rng, &[("1", 15), ("2", 20), ("3", 25), ("4", 40)]);
            migrant_months = rnd::weighted(
                &mut self.rng,
                &[(3, 4), (4, 4), (5, 5), (6, 8), (7, 6), (8, 10), (9, 10), (10, 15), (11, 15), (12, 23)],
            );
            if self.chance(0.5) {
                employer = names::employer(&mut self.rng, migrant_place);
            }
        }
        // 职工医保 through an employer replaces 城乡居民医保 and its 大病保险.
        let employee_ins = !employer.is_empty() && migrant_months >= 10 && self.pm(self.mix.employee_insurance_pm);
        let medical = !employee_ins && (registered || self.chance(0.99));
        let critical = medical;
        let pension_ins = age >= 16 && !student && self.chance(0.93);
        let phone = if (s.relation == "01" && self.chance(0.85)) || ((18..=70).contains(&age) && self.chance(0.45)) {
            names::phone(&mut self.rng)
        } else {
            String::new()
        };
        Person {
            no: 0,
            name,
            male: s.male,
            birth,
            age,
            id,
            address,
            relation: s.relation,
            ethnicity,
            political,
            education,
            school,
            chronic,
            serious,
            disabled,
            disease,
            disability_cert,
            labour,
            skills,
            trained,
            migrant_place,
            migrant_months,
            employer,
            medical,
            critical,
            employee_ins,
            pension_ins,
            dibao: false,
            tekun: false,
            phone,
        }
    }

    /// 文化程度 and 在校生状况 on 31 December of the latest year. Children start school in
    /// the September after they turn 6, so those born after 31 August start a year later:
    /// the grade follows the age on 31 August. Grades 1–9 (compulsory) are always
    /// attended; after grade 9 some leave school.
    fn schooling(&mut self, age: i32, birth: Date) -> (&'static str, &'static str) {
        let age_aug = age - i32::from(u8::from(birth.month()) > 8);
        let grade = age_aug - 5;
        let school: &'static str = match grade {
            ..=-3 => "",
            -2..=0 => rnd::weighted(&mut self.rng, &[("02", 85), ("01", 15)]),
            1..=6 => "03",
            7 => "04",
            8 => "05",
            9 => "06",
            10 => rnd::weighted(&mut self.rng, &[("07", 55), ("10", 12), ("01", 33)]),
            11 => rnd::weighted(&mut self.rng, &[("08", 50), ("07", 5), ("11", 10), ("01", 35)]),
            12 => rnd::weighted(&mut self.rng, &[("09", 45), ("08", 5), ("12", 12), ("01", 38)]),
            13 => rnd::weighted(&mut self.rng, &[("13", 15), ("16", 15), ("09", 5), ("01", 65)]),
            14 => rnd::weighted(&mut self.rng, &[("14", 8), ("16", 22), ("01", 70)]),
            15 => rnd::weighted(&mut self.rng, &[("15", 6), ("16", 22), ("01", 72)]),
            16 | 17 => rnd::weighted(&mut self.rng, &[("16", 20), ("01", 80)]),
            18 => rnd::weighted(&mut self.rng, &[("16", 10), ("01", 90)]),
            _ => "01",
        };
        let birth_year = birth.year();
        let education = match school {
            "" | "02" => "06",
            "01" if grade <= 0 => "06",
            "03" => "02",
            "04" | "05" | "06" => "03",
            "07" | "08" | "09" | "10" | "11" | "12" => "04",
            "13" | "14" | "15" | "16" => "05",
            _ => {
                // Not in school: what the cohort reached.
                let e = match birth_year {
                    ..=1949 => rnd::weighted(&mut self.rng, &[("01", 45), ("02", 45), ("03", 9), ("04", 1)]),
                    1950..=1964 => {
                        rnd::weighted(&mut self.rng, &[("01", 18), ("02", 45), ("03", 30), ("04", 6), ("05", 1)])
                    }
                    1965..=1979 => {
                        rnd::weighted(&mut self.rng, &[("01", 5), ("02", 30), ("03", 50), ("04", 12), ("05", 3)])
                    }
                    1980..=1994 => {
                        rnd::weighted(&mut self.rng, &[("01", 1), ("02", 10), ("03", 55), ("04", 22), ("05", 12)])
                    }
                    _ => rnd::weighted(&mut self.rng, &[("02", 3), ("03", 42), ("04", 30), ("05", 25)]),
                };
                match (e, age) {
                    ("05", ..=20) => "04",
                    ("04", ..=17) => "03",
                    // Left after compulsory school: at least 初中.
                    ("01" | "02", ..=24) => "03",
                    _ => e,
                }
            }
        };
        (education, school)
    }

    // ---------------------------------------------------------------- registration
}

fn mother_age(out: &[Skel]) -> i32 {
    out.iter()
        .filter(|s| s.relation == "01" || s.relation == "02")
        .find(|s| !s.male)
        .map(|s| s.age)
        .unwrap_or(out[0].age - 2)
}

fn father_surname(out: &[Skel]) -> &'static str {
    out.iter()
        .filter(|s| s.relation == "01" || s.relation == "02")
        .find(|s| s.male)
        .map(|s| s.surname)
        .unwrap_or(out[0].surname)
}
