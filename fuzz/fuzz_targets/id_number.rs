//! 证件号码 and 残疾人证号: any text ends in a value or a problem, never a panic, and
//! what parses is stable.
#![no_main]

use fupin_domain::IdNumber;
use fupin_domain::id_number::{self, DisabilityCard};
use libfuzzer_sys::fuzz_target;

/// The properties of a valid number: it re-parses to itself, its parts are readable.
fn check_id(id: &IdNumber) {
    let s = id.as_str();
    assert_eq!(s.len(), 18, "{s:?}");
    assert_eq!(IdNumber::parse(s).as_ref(), Ok(id), "{s:?} does not re-parse to itself");
    assert_eq!(s.to_ascii_uppercase(), s, "{s:?} is not upper-case");
    let _ = id.birth_date();
    assert!(matches!(id.sex_code(), "1" | "2"));
    assert_eq!(id.address_code().len(), 6);
    assert_eq!(id.to_string(), s);
}

fuzz_target!(|text: &str| {
    let parsed = IdNumber::parse(text);
    if let Ok(id) = &parsed {
        check_id(id);
        // Surrounding spaces are ignored.
        assert_eq!(IdNumber::parse(&format!(" {text}\t")).as_ref(), Ok(id));
    }

    let card = DisabilityCard::parse(text);
    if let Ok(card) = &card {
        check_id(&card.id);
        let t = text.trim().to_ascii_uppercase();
        // The card number is the holder's 18-character ID followed by its digits.
        assert!(t.starts_with(card.id.as_str()), "card {t:?} does not begin with its ID {}", card.id);
        assert_eq!(t.len(), 18 + card.category.len() + card.grade.len(), "{t:?}");
        assert!(matches!(card.category.len(), 1 | 2) && card.category.len() == card.grade.len());
    }

    for id_type in ["01", "", "09", "02"] {
        let n = id_number::normalize(id_type, text);
        assert_eq!(n.stored, n.stored.trim(), "stored text keeps surrounding spaces");
        match (&n.id, &n.problem) {
            (Some(id), None) => {
                check_id(id);
                assert!(n.stored.starts_with(id.as_str()), "{id_type}: stored {:?} is not {id}…", n.stored);
                // Normalising the stored form again changes nothing.
                let again = id_number::normalize(id_type, &n.stored);
                assert_eq!(again, n, "{id_type}: normalising {:?} again differs", n.stored);
            }
            (None, Some(_)) => assert_eq!(n.stored, text.trim()),
            (None, None) => assert!(!matches!(id_type, "01" | "" | "09"), "{id_type}: neither id nor problem"),
            (Some(_), Some(_)) => panic!("{id_type}: both an id and a problem"),
        }
        match id_type {
            "01" | "" => assert_eq!(n.id.is_some(), parsed.is_ok()),
            "09" => assert_eq!(n.id.is_some(), card.is_ok()),
            _ => {}
        }
    }

    let _ = id_number::looks_like_scientific(text);
    let _ = IdNumber::upgrade15(text);
});
