//! The one-time message after a change: a short-lived cookie the next page reads once
//! and forgets, with any data-quality warnings of the change.

use axum::http::{HeaderMap, header};
use cookie::{Cookie, SameSite};

use crate::display::scrub_ids;

/// The cookie's name.
const FLASH: &str = "fupin_flash";

/// What the household page shows once after a change.
pub(crate) struct Flash {
    pub message: String,
    pub warnings: Vec<String>,
}

/// The `Set-Cookie` that leaves `message` and `warnings` for the next page.
pub(crate) fn flash_cookie(message: &str, warnings: &[String]) -> String {
    let t = crate::i18n::current();
    let mut text = message.to_owned();
    for w in warnings {
        if text.len() + w.len() > 1500 {
            text.push('\n');
            text.push_str(t.t("edit.more_warnings"));
            break;
        }
        text.push('\n');
        text.push_str(w);
    }
    Cookie::build((FLASH, hex::encode(text.as_bytes())))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(cookie::time::Duration::seconds(120))
        .build()
        .to_string()
}

/// The message a change left for this page, and the `Set-Cookie` that forgets it.
pub(crate) fn take_flash(headers: &HeaderMap) -> Option<(Flash, String)> {
    let value = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v.to_owned()))
        .filter_map(Result::ok)
        .find(|c| c.name() == FLASH)
        .map(|c| c.value().to_owned())?;
    let text = String::from_utf8(hex::decode(value).ok()?).ok()?;
    let mut lines = text.lines().map(scrub_ids);
    let message = lines.next().unwrap_or_default();
    let flash = Flash { message, warnings: lines.collect() };
    let clear = Cookie::build((FLASH, ""))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string();
    Some((flash, clear))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_survives_its_cookie_once() {
        let set = flash_cookie("已保存：登记出生", &["张三（H101）：证件号码：校验位不符".to_owned()]);
        let pair = set.split(';').next().unwrap().to_owned();
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, format!("a=1; {pair}").parse().unwrap());
        let (flash, clear) = take_flash(&headers).expect("a message");
        assert_eq!(flash.message, "已保存：登记出生");
        assert_eq!(flash.warnings, ["张三（H101）：证件号码：校验位不符"]);
        assert!(clear.contains("Max-Age=0"), "{clear}");
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"));
    }
}
