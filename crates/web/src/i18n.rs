//! The message catalogue: every text a page shows, in Chinese (the default and the UI
//! language) and in English, one file per language under `crates/web/i18n/`.
//!
//! Keys are dotted and grouped by page (`login.title`, `nav.search`). Templates and
//! handlers ask a [`Tr`] for a key: `t.t("key")`, or `t.f1("key", "count", n)` for a
//! message with named placeholders (`共 {count} 户`). The language of a request is its
//! `lang` cookie (set by `GET /lang/{lang}`, the switcher in every page's footer), else
//! its `Accept-Language` header, else Chinese.
//!
//! The files are compiled in and parsed once. A key missing at run time shows the key
//! itself, visibly, instead of failing the page; the tests below fail on any key
//! missing from either file, on any key a template or handler uses that the files
//! lack, on any key nobody uses, and on any Chinese character written into a template
//! instead of the catalogue.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt::Display;
use std::sync::LazyLock;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE, LOCATION, REFERER, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};

use crate::AppState;

/// A language the pages can be read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 中文, the default.
    #[default]
    Zh,
    /// English.
    En,
}

/// The cookie that keeps the reader's choice.
pub(crate) const COOKIE_NAME: &str = "lang";

impl Lang {
    /// `zh` or `en`, as in the cookie and the switcher's links.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The value of the page's `<html lang>`.
    pub fn html(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// `zh` or `en`; anything else is not a language we have.
    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language a request asks for: the `lang` cookie, else the best
    /// `Accept-Language` entry we have (`zh-CN`, `en-GB;q=0.8`…), else Chinese.
    pub fn of(headers: &HeaderMap) -> Lang {
        let cookie = headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| Cookie::split_parse(v.to_owned()))
            .filter_map(Result::ok)
            .find(|c| c.name() == COOKIE_NAME)
            .and_then(|c| Lang::parse(c.value()));
        cookie
            .or_else(|| {
                headers.get_all(ACCEPT_LANGUAGE).iter().filter_map(|v| v.to_str().ok()).find_map(accept_language)
            })
            .unwrap_or_default()
    }
}

/// The preferred language of one `Accept-Language` value, among those we have: the
/// highest `q` wins, the earlier entry on a tie; `q=0` means "not this one".
fn accept_language(value: &str) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for entry in value.split(',') {
        let mut parts = entry.split(';');
        let tag = parts.next().unwrap_or("").trim();
        let q =
            parts.filter_map(|p| p.trim().strip_prefix("q=")).find_map(|q| q.trim().parse::<f32>().ok()).unwrap_or(1.0);
        let primary = tag.split(['-', '_']).next().unwrap_or("");
        let Some(lang) = Lang::parse(primary) else { continue };
        if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, l)| l)
}

/// One language's messages by key.
type Messages = HashMap<String, String>;

/// The compiled-in files, by language.
const FILES: [(Lang, &str, &str); 2] = [
    (Lang::Zh, "i18n/zh.toml", include_str!("../i18n/zh.toml")),
    (Lang::En, "i18n/en.toml", include_str!("../i18n/en.toml")),
];

/// Both catalogues, parsed at first use. A line that does not parse is logged and
/// skipped (the tests keep the files clean); its key then shows as itself.
static CATALOGUE: LazyLock<[Messages; 2]> = LazyLock::new(|| {
    FILES.map(|(_, file, text)| {
        let (messages, errors) = parse(file, text);
        for e in errors {
            tracing::error!(error = %e, "界面文字目录有误");
        }
        messages
    })
});

/// Parses both catalogues now (at start), so that a broken line is logged then.
pub(crate) fn load() {
    LazyLock::force(&CATALOGUE);
}

/// Parses a catalogue: a TOML table of quoted dotted keys (`"nav.my" = "我的农户"`),
/// each a string. Returns the messages and the errors, each naming file and line.
pub(crate) fn parse(file: &str, text: &str) -> (Messages, Vec<String>) {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let table: toml::Table = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            let at = e.span().map(|s| format!("{file}:{}", line_of(s.start))).unwrap_or_else(|| file.to_owned());
            return (Messages::new(), vec![format!("{at}：{}", e.message())]);
        }
    };
    let mut messages = Messages::new();
    let mut errors = Vec::new();
    for (key, value) in table {
        let line = text.find(&format!("\"{key}\"")).map(line_of).unwrap_or(0);
        let key_ok = !key.is_empty()
            && key.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        match value {
            _ if !key_ok => errors.push(format!("{file}:{line}：键“{key}”只能由字母、数字、下划线和点组成")),
            toml::Value::String(v) => {
                messages.insert(key, v);
            }
            _ => errors.push(format!("{file}:{line}：键“{key}”的值应为放在双引号中的文字")),
        }
    }
    (messages, errors)
}

/// The messages of one request's language: what templates and handlers ask for text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tr {
    lang: Lang,
}

impl Tr {
    /// The messages of `lang`.
    pub fn new(lang: Lang) -> Tr {
        Tr { lang }
    }

    /// The language, for `<html lang>` and the switcher.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The message of `key`, or the key itself when the catalogue lacks it.
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        let index = match self.lang {
            Lang::Zh => 0,
            Lang::En => 1,
        };
        match CATALOGUE[index].get(key) {
            Some(m) => m.as_str(),
            None => key,
        }
    }

    /// The message of `key` with its placeholder `{a}` filled in.
    pub fn f1(&self, key: &str, a: &str, av: impl Display) -> String {
        fill(self.t(key), &[(a, &av)])
    }

    /// The message of `key` with two placeholders filled in.
    pub fn f2(&self, key: &str, a: &str, av: impl Display, b: &str, bv: impl Display) -> String {
        fill(self.t(key), &[(a, &av), (b, &bv)])
    }

    /// The message of `key` with three placeholders filled in.
    #[allow(clippy::too_many_arguments)]
    pub fn f3(
        &self,
        key: &str,
        a: &str,
        av: impl Display,
        b: &str,
        bv: impl Display,
        c: &str,
        cv: impl Display,
    ) -> String {
        fill(self.t(key), &[(a, &av), (b, &bv), (c, &cv)])
    }
}

/// Replaces each `{name}` of `message` by its value; a placeholder without a value
/// stays as written, so a mistake shows instead of vanishing.
fn fill(message: &str, args: &[(&str, &dyn Display)]) -> String {
    let mut out = String::with_capacity(message.len() + 16);
    let mut rest = message;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            args.iter().find(|(n, _)| *n == name).map(|(_, v)| (v, close))
        });
        match value {
            Some((v, close)) => {
                out.push_str(&v.to_string());
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

impl<S: Send + Sync> FromRequestParts<S> for Tr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Tr, Infallible> {
        Ok(Tr::new(Lang::of(&parts.headers)))
    }
}

tokio::task_local! {
    /// The language of the request being handled, for answers built without the
    /// request at hand (the error page of a [`crate::WebError`]).
    static REQUEST_LANG: Lang;
}

/// The language of the request being handled; Chinese outside a request.
pub(crate) fn current() -> Tr {
    Tr::new(REQUEST_LANG.try_with(|l| *l).unwrap_or_default())
}

/// Runs the rest of the request with its language known to [`current`].
pub(crate) async fn scope(request: Request, next: Next) -> Response {
    let lang = Lang::of(request.headers());
    REQUEST_LANG.scope(lang, next.run(request)).await
}

/// `GET /lang/{lang}`: keeps the choice in a cookie for a year and goes back to the
/// page the link was on. Only a language changes, nothing of the registry, so a GET
/// is safe; the way back is taken as a path only, so it cannot lead off the site.
pub(crate) async fn switch(
    State(state): State<AppState>,
    axum::extract::Path(code): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(lang) = Lang::parse(&code) else {
        let t = current();
        return crate::error::error_page(
            StatusCode::NOT_FOUND,
            t.t("error.not_found.title"),
            t.t("error.not_found.body"),
        );
    };
    let cookie = Cookie::build((COOKIE_NAME, lang.code()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies)
        .path("/")
        .max_age(cookie::time::Duration::days(365))
        .build()
        .to_string();
    let back = headers.get(REFERER).and_then(|r| r.to_str().ok()).map(local_path).unwrap_or_else(|| "/".to_owned());
    let mut response = StatusCode::SEE_OTHER.into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        h.insert(SET_COOKIE, v);
    }
    h.insert(LOCATION, HeaderValue::from_str(&back).unwrap_or(HeaderValue::from_static("/")));
    response
}

/// The path and query of a `Referer`, never another site (`//host` or a scheme).
fn local_path(referer: &str) -> String {
    let rest = referer.split_once("://").map(|(_, r)| r.find('/').map(|i| &r[i..]).unwrap_or("/")).unwrap_or(referer);
    let path = rest.split('#').next().unwrap_or("/");
    if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') && !path.starts_with("/lang/") {
        path.to_owned()
    } else {
        "/".to_owned()
    }
}

#[cfg(test)]
#[path = "i18n_tests.rs"]
mod tests;
