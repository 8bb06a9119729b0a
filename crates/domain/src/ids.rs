//! The registry's keys as types: a [`HouseholdId`] (户编号) or [`PersonId`] (人编号) is
//! parsed once where it enters (a path, a form, a file) and travels typed from then on,
//! so no function deeper in has to wonder whether a string is a key.
//!
//! A key has the shape `schema::Kind::Key` describes and the importer accepts: 1 to 40
//! ASCII letters, digits and `-` (the generator writes the village code and a serial,
//! `61098110010100001`; a county's own files may use letters and dashes).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The longest key the registry stores (`schema::Kind::Key`).
pub const KEY_MAX_LEN: usize = 40;

/// Why a text is not a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Nothing was given.
    #[error("编号为空")]
    Empty,
    /// More than [`KEY_MAX_LEN`] characters.
    #[error("编号超过 {KEY_MAX_LEN} 个字符")]
    TooLong,
    /// A character other than an ASCII letter, a digit or `-` (control characters,
    /// spaces, slashes, Chinese text).
    #[error("编号中有不允许的字符（只能是字母、数字和 -）")]
    BadCharacter,
}

/// Checks `text` against the shape of a key.
fn check_key(text: &str) -> Result<(), KeyError> {
    if text.is_empty() {
        return Err(KeyError::Empty);
    }
    if text.len() > KEY_MAX_LEN {
        return Err(KeyError::TooLong);
    }
    if !text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(KeyError::BadCharacter);
    }
    Ok(())
}

macro_rules! key_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Parses a key: 1 to 40 ASCII letters, digits and `-`.
            pub fn parse(text: &str) -> Result<Self, KeyError> {
                check_key(text)?;
                Ok(Self(text.to_owned()))
            }

            /// The key as the registry stores it.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The key as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = KeyError;
            fn from_str(s: &str) -> Result<Self, KeyError> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = KeyError;
            fn try_from(s: String) -> Result<Self, KeyError> {
                check_key(&s)?;
                Ok(Self(s))
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::try_from(s).map_err(serde::de::Error::custom)
            }
        }
    };
}

key_type!(
    /// A household's key, 户编号.
    HouseholdId
);

key_type!(
    /// A person's key, 人编号.
    PersonId
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_and_county_keys_parse() {
        for k in ["61098110010100001", "H-001", "a", &"9".repeat(40)] {
            let id = HouseholdId::parse(k).unwrap();
            assert_eq!(id.as_str(), k);
            assert_eq!(id.to_string(), k);
            assert_eq!(PersonId::parse(k).unwrap().as_str(), k);
        }
    }

    #[test]
    fn what_cannot_be_a_key_is_refused() {
        assert_eq!(HouseholdId::parse(""), Err(KeyError::Empty));
        assert_eq!(HouseholdId::parse(&"1".repeat(41)), Err(KeyError::TooLong));
        for bad in ["61098110010100001\n", "a b", "../x", "户1", "1\u{0}", "a;b", "a%20"] {
            assert_eq!(HouseholdId::parse(bad), Err(KeyError::BadCharacter), "{bad:?}");
        }
    }

    #[test]
    fn serde_is_a_plain_string() {
        let id = HouseholdId::parse("H-1").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"H-1\"");
        assert_eq!(serde_json::from_str::<PersonId>("\"P1\"").unwrap().as_str(), "P1");
        assert!(serde_json::from_str::<PersonId>("\"P 1\"").is_err());
    }

    proptest! {
        #[test]
        fn parse_accepts_exactly_the_key_shape(s in "\\PC{0,45}|[A-Za-z0-9-]{0,45}") {
            let ok = !s.is_empty() && s.len() <= 40 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            let parsed = HouseholdId::parse(&s);
            prop_assert_eq!(parsed.is_ok(), ok);
            if let Ok(id) = parsed {
                prop_assert_eq!(id.as_str(), s.as_str());
                let back: HouseholdId = serde_json::from_str(&serde_json::to_string(&id).unwrap()).unwrap();
                prop_assert_eq!(back, id);
            }
        }
    }
}
