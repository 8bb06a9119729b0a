//! Masking of personal numbers for pages, downloads and API answers.

/// `610981********123X`: the address code and the last four characters stay.
pub fn id_number(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 10 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
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

#[cfg(test)]
mod tests {
    #[test]
    fn masks_keep_only_what_identifies_nothing() {
        assert_eq!(super::id_number("61098119900101123X"), "610981********123X");
        assert_eq!(super::phone("13812341234"), "138****1234");
        assert_eq!(super::account("6228480012345678"), "************5678");
        assert_eq!(super::id_number("123"), "***");
    }
}
