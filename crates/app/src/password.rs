//! Passwords: Argon2id hashes as PHC strings, checked off the async threads (a hash
//! takes tens of milliseconds on purpose), and generated passwords for printed
//! accounts.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rand::Rng;

use crate::AppError;

/// Letters and digits that cannot be mistaken for one another when read aloud or
/// copied from paper (no 0/O, 1/l/I).
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";

/// A random password of 16 characters (about 93 bits).
pub fn generate() -> String {
    let mut rng = rand::rng();
    (0..16).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

fn hash_blocking(password: &str) -> Result<String, AppError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(e.to_string()))
}

/// Hashes at once. Each takes 19 MiB and a core for tens of milliseconds, so a flood
/// of sign-in attempts waits here instead of exhausting memory.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// The Argon2id PHC string of a password.
pub async fn hash(password: &str) -> Result<String, AppError> {
    let password = password.to_owned();
    let _permit = HASHING.acquire().await.map_err(|e| AppError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
}

/// A hash of a password nobody knows, checked when the username does not exist so
/// that a wrong username takes as long as a wrong password.
fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_blocking(&generate()).unwrap_or_default())
}

/// Whether `password` matches the stored hash; `None` checks the decoy and is false.
pub async fn verify(password: &str, stored: Option<&str>) -> Result<bool, AppError> {
    let password = password.to_owned();
    let known = stored.is_some();
    let stored = stored.map(str::to_owned);
    let _permit = HASHING.acquire().await.map_err(|e| AppError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let phc = stored.as_deref().unwrap_or_else(|| decoy());
        let parsed = PasswordHash::new(phc).map_err(|e| AppError::Internal(e.to_string()))?;
        let ok = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
        Ok(known && ok)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() {
        let h = hash("正确的密码").await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("正确的密码", Some(&h)).await.unwrap());
        assert!(!verify("错误的密码", Some(&h)).await.unwrap());
        assert!(!verify("正确的密码", None).await.unwrap());
    }

    /// An unknown name is checked against the decoy: it must cost what a real account's
    /// hash costs (same algorithm, memory, passes and lanes), or the time would tell.
    #[tokio::test]
    async fn the_decoy_costs_what_a_real_hash_costs() {
        let real = hash("某个密码").await.unwrap();
        let params = |phc: &str| {
            let h = PasswordHash::new(phc).unwrap();
            (h.algorithm.to_string(), h.version, h.params.to_string())
        };
        assert_eq!(params(decoy()), params(&real));
    }

    #[test]
    fn generated_passwords_differ_and_avoid_ambiguous_letters() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
        assert!(!a.contains(['0', 'O', '1', 'l', 'I']));
    }
}
