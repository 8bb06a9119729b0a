//! Masking of personal numbers for pages, downloads and API answers.
//!
//! A mask must not be undone by what else a page shows. An ID number (GB 11643) is
//! address code (6), birth date (8), sequence (3) and check digit (1): the birth date
//! is shown beside it, the check digit follows from the other 17 and the sequence's
//! parity is the sex, so a mask that hid only the birth date (or only the sequence)
//! could be rebuilt. Only the address code — the county, which the page names anyway —
//! stays; birth date, sequence and check digit are all hidden, so that even with the
//! birth date and sex known some five hundred numbers remain possible.

/// `610981************`: only the address code (the first six characters) stays.
pub fn id_number(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 10 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..6].iter().collect();
    format!("{head}{}", "*".repeat(chars.len() - 6))
}

/// Text stored with ID numbers masked as before (`610981********123X`: the last four
/// shown), masked as now ([`id_number`]): for masked copies kept in the database (the
/// findings' values and explanations), which a new check run rewrites only for the
/// findings it sees again.
pub fn remask_ids(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && (chars[i].is_ascii_digit() || matches!(chars[i], '*' | 'X' | 'x')) {
            i += 1;
        }
        if i == start {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let run: String = chars[start..i].iter().collect();
        let masked_id = matches!(run.len(), 15 | 18 | 20 | 22)
            && run.bytes().take(6).all(|b| b.is_ascii_digit())
            && run.contains('*');
        out.push_str(&if masked_id { id_number(&run) } else { run });
    }
    out
}

/// `138****1234`.
pub fn phone(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

/// `************1234`: only the last four digits of a bank account.
pub fn account(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{}{tail}", "*".repeat(chars.len() - 4))
}

/// Whether a run of 16–19 digits passes the Luhn check every bank card number
/// carries (ISO/IEC 7812): how a card number typed into free text is recognised.
pub fn looks_like_card(digits: &str) -> bool {
    if !(16..=19).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Masks anything in free text that looks like an ID number (15 or 18 characters,
/// digits with perhaps a final X; a 20-character 残疾证号, which begins with one), a
/// bank card number (16–19 digits passing the Luhn check) or a mobile number (11
/// digits from 1), also written in groups (`6228 4800 1234 5671`, `139 1234 5678`,
/// `610981 19800101 0016`, or with `-`), for text typed by people (change reasons,
/// visit notes) that a page, download or API answer shows.
pub fn scrub_ids(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_alphanumeric() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let run: String = chars[start..i].iter().collect();
        // A card, phone or ID number written in groups: digit runs joined by single
        // spaces or '-' (`6228 4800 1234 5671`, `139 1234 5678`, `610981 19800101 0016`);
        // the longest run of groups that is one of them is masked.
        if run.bytes().all(|b| b.is_ascii_digit()) {
            // After each further group: where it ends and the digits so far.
            let mut groups: Vec<(usize, String)> = Vec::new();
            let (mut end, mut digits) = (i, run.clone());
            while end + 1 < chars.len() && matches!(chars[end], ' ' | '-') && chars[end + 1].is_ascii_digit() {
                let mut j = end + 1;
                while j < chars.len() && chars[j].is_ascii_digit() {
                    j += 1;
                }
                // An ID number's last group may end in X.
                let x = j < chars.len()
                    && matches!(chars[j], 'X' | 'x')
                    && chars.get(j + 1).is_none_or(|c| !c.is_ascii_alphanumeric());
                if j < chars.len() && chars[j].is_ascii_alphanumeric() && !x {
                    break;
                }
                digits.extend(&chars[end + 1..j]);
                if x {
                    digits.push(chars[j]);
                    groups.push((j + 1, digits.clone()));
                    break;
                }
                end = j;
                groups.push((end, digits.clone()));
                if digits.len() > 19 {
                    break;
                }
            }
            if let Some((end, masked)) =
                groups.iter().rev().find_map(|(end, d)| grouped_number(run.len(), d).map(|m| (*end, m)))
            {
                out.push_str(&masked);
                i = end;
                continue;
            }
        }
        out.push_str(&scrub_run(&run));
    }
    out
}

/// Groups of digits joined (`digits`, the first group `first` long), masked if they
/// make a card number (Luhn), a mobile number written 3-4-4 or 3-8, or an ID number
/// written from its 6-digit address code on (15 or 18 characters, perhaps a final X).
fn grouped_number(first: usize, digits: &str) -> Option<String> {
    let n = digits.len();
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if looks_like_card(digits) {
        Some(account(digits))
    } else if first == 3 && n == 11 && digits.starts_with('1') && all_digits(digits) {
        Some(phone(digits))
    } else if first == 6
        && (n == 15 || n == 18)
        && all_digits(&digits[..n - 1])
        && (digits.ends_with(['X', 'x']) || all_digits(&digits[n - 1..]))
    {
        Some(id_number(digits))
    } else {
        None
    }
}

/// One run of letters and digits of free text, masked if it is a personal number.
fn scrub_run(run: &str) -> String {
    let n = run.len();
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let id_like = (n == 15 || n == 18) && digits(&run[..n - 1]) && (run.ends_with(['X', 'x']) || digits(&run[n - 1..]));
    // A 残疾证号: the holder's ID number, then its category and grade digits.
    let disability_cert = n == 20
        && digits(&run[..17])
        && (digits(&run[17..18]) || matches!(&run[17..18], "X" | "x"))
        && digits(&run[18..]);
    if id_like || disability_cert {
        id_number(run)
    } else if looks_like_card(run) {
        account(run)
    } else if n == 11 && run.starts_with('1') && digits(run) {
        phone(run)
    } else {
        run.to_owned()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_keep_only_what_identifies_nothing() {
        assert_eq!(super::id_number("61098119900101123X"), "610981************");
        assert_eq!(super::id_number("610981900101123"), "610981*********");
        assert_eq!(super::phone("13812341234"), "138****1234");
        assert_eq!(super::account("6228480012345678"), "************5678");
        assert_eq!(super::id_number("123"), "***");
    }

    #[test]
    fn an_id_mask_hides_birth_date_sequence_and_check_digit() {
        let masked = super::id_number("61098119900101123X");
        // Nothing of positions 7–18 is left to combine with a shown birth date or sex.
        assert!(masked[6..].bytes().all(|b| b == b'*'), "{masked}");
    }

    #[test]
    fn masks_stored_the_old_way_are_masked_anew() {
        assert_eq!(
            super::remask_ids(r#"{"id":"610981********123X","n":"610981*****0123","p":"138****1234"}"#),
            r#"{"id":"610981************","n":"610981*********","p":"138****1234"}"#
        );
        assert_eq!(super::remask_ids("年龄 35，户 61098110020100001"), "年龄 35，户 61098110020100001");
    }

    #[test]
    fn card_numbers_are_recognised_by_their_check_digit() {
        assert!(super::looks_like_card("6228480012345671"), "a Luhn-valid 16-digit card");
        assert!(super::looks_like_card("4111111111111111"));
        assert!(!super::looks_like_card("6228480012345678"), "check digit wrong");
        assert!(!super::looks_like_card("622848001234567"), "15 digits");
        assert!(!super::looks_like_card("62284800123456781234"), "20 digits");
    }
}
