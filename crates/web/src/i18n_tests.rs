//! The catalogue kept whole: both languages with the same keys and placeholders,
//! every key used exists, every key is used, and no template writes Chinese itself.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use axum::http::HeaderMap;

use super::*;

fn catalogue(lang: Lang) -> (&'static str, Messages) {
    let (_, file, text) = FILES.into_iter().find(|(l, _, _)| *l == lang).expect("a file per language");
    let (messages, errors) = parse(file, text);
    assert!(errors.is_empty(), "{file} has errors:\n{}", errors.join("\n"));
    (file, messages)
}

/// The files under `dir` (recursively) whose name ends in `ext`.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path, ext));
        } else if path.to_string_lossy().ends_with(ext) {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The keys a source asks for: the literal first argument of `.t(`, `.f1(`, `.f2(`
/// and `.f3(`, outside `//` comment lines. Returns (key, line) pairs.
fn keys_used(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        for call in [".t(\"", ".f1(\"", ".f2(\"", ".f3(\""] {
            let mut rest = line;
            while let Some(at) = rest.find(call) {
                let after = &rest[at + call.len()..];
                let end = after.find('"').unwrap_or(after.len());
                out.push((after[..end].to_owned(), i + 1));
                rest = &after[end..];
            }
        }
    }
    out
}

/// Every use of a key in the templates and the crate's sources (this file aside: it
/// asks for missing keys on purpose), with where it is.
fn all_uses() -> Vec<(String, String)> {
    let dir = crate_dir();
    let mut sources = files(&dir.join("templates"), ".html");
    sources.extend(files(&dir.join("src"), ".rs").into_iter().filter(|p| !p.ends_with("i18n_tests.rs")));
    let mut out = Vec::new();
    for path in sources {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.strip_prefix(&dir).unwrap().display().to_string();
        for (key, line) in keys_used(&text) {
            out.push((key, format!("{name}:{line}")));
        }
    }
    out
}

/// `{name}` placeholders of a message.
fn placeholders(message: &str) -> BTreeSet<&str> {
    message
        .split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(name, _)| name))
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .collect()
}

#[test]
fn both_languages_have_the_same_keys_and_placeholders() {
    let (zh_file, zh) = catalogue(Lang::Zh);
    let (en_file, en) = catalogue(Lang::En);
    let mut problems = Vec::new();
    for (file, have, other) in [(en_file, &en, &zh), (zh_file, &zh, &en)] {
        let mut missing: Vec<&String> = other.keys().filter(|k| !have.contains_key(*k)).collect();
        missing.sort();
        for key in missing {
            problems.push(format!("{file} lacks {key}"));
        }
    }
    let mut keys: Vec<&String> = zh.keys().filter(|k| en.contains_key(*k)).collect();
    keys.sort();
    for key in keys {
        let (a, b) = (placeholders(&zh[key]), placeholders(&en[key]));
        if a != b {
            problems.push(format!("{key}: {zh_file} has placeholders {a:?}, {en_file} {b:?}"));
        }
        if en[key].trim().is_empty() || zh[key].trim().is_empty() {
            problems.push(format!("{key} is empty in a file"));
        }
    }
    assert!(problems.is_empty(), "the catalogues differ:\n{}", problems.join("\n"));
}

#[test]
fn every_key_used_exists_and_every_key_is_used() {
    let uses = all_uses();
    assert!(uses.len() > 100, "the scanner finds the calls ({} found)", uses.len());
    let mut problems = Vec::new();
    for lang in [Lang::Zh, Lang::En] {
        let (file, messages) = catalogue(lang);
        for (key, at) in &uses {
            if !messages.contains_key(key) {
                problems.push(format!("{at} uses {key}, missing from {file}"));
            }
        }
        let used: BTreeSet<&str> = uses.iter().map(|(k, _)| k.as_str()).collect();
        let mut unused: Vec<&String> = messages.keys().filter(|k| !used.contains(k.as_str())).collect();
        unused.sort();
        for key in unused {
            problems.push(format!("{file}: {key} is not used anywhere"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Chinese characters and the full-width punctuation that comes with them.
fn is_chinese(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{3000}'..='\u{303F}' | '\u{FF00}'..='\u{FFEF}')
}

#[test]
fn templates_write_no_chinese_outside_the_catalogue() {
    let dir = crate_dir();
    let mut problems = Vec::new();
    for path in files(&dir.join("templates"), ".html") {
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, line) in text.lines().enumerate() {
            let found: String = line.chars().filter(|c| is_chinese(*c)).collect();
            if !found.is_empty() {
                problems.push(format!("{}:{}: {found}", path.strip_prefix(&dir).unwrap().display(), i + 1));
            }
        }
    }
    assert!(problems.is_empty(), "Chinese text belongs in i18n/zh.toml:\n{}", problems.join("\n"));
    assert!(is_chinese('户') && is_chinese('（') && !is_chinese('›') && !is_chinese('a'));
}

#[test]
fn a_missing_key_shows_itself_and_placeholders_fill() {
    let en = Tr::new(Lang::En);
    assert_eq!(en.t("no.such.key"), "no.such.key");
    assert_eq!(Tr::new(Lang::Zh).t("login.title"), "登录");
    assert_eq!(en.t("login.title"), "Sign in");
    assert_eq!(en.f1("no.such.key", "n", 3), "no.such.key");
    assert_eq!(fill("{count} 户，{n} 人 {x} {", &[("count", &3), ("n", &"7")]), "3 户，7 人 {x} {");
    assert_eq!(placeholders("{count} 户，{n} 人"), BTreeSet::from(["count", "n"]));
}

#[test]
fn the_parser_names_file_and_line() {
    let (m, errors) = parse("zh.toml", "# comment\n\n\"ok.key\" = \"好 \\\"引\\\" \\u4e2d\" # trailing\n");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(m["ok.key"], "好 \"引\" 中");
    for (text, line) in [
        ("\"a\" = \"x\"\n\"a\" = \"again\"\n", 2),
        ("\"a\" = \"x\"\n\n\"open\" = \"x\n", 3),
        ("\"a\" = \"x\"\nnoquote = x\n", 2),
    ] {
        let (_, errors) = parse("zh.toml", text);
        assert_eq!(errors.len(), 1, "{text}: {errors:?}");
        assert!(errors[0].starts_with(&format!("zh.toml:{line}")), "{text}: {errors:?}");
    }
    let (_, errors) = parse("zh.toml", "\"a\" = \"x\"\n\"b\" = 3\n\"bad key\" = \"y\"\n");
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors.iter().any(|e| e.starts_with("zh.toml:2")) && errors.iter().any(|e| e.starts_with("zh.toml:3")));
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(*k, v.parse().unwrap());
    }
    h
}

#[test]
fn the_cookie_wins_then_accept_language_then_chinese() {
    assert_eq!(Lang::of(&headers(&[])), Lang::Zh);
    assert_eq!(Lang::of(&headers(&[("accept-language", "en-GB,en;q=0.9")])), Lang::En);
    assert_eq!(Lang::of(&headers(&[("accept-language", "fr-FR, en;q=0.5, zh-CN;q=0.8")])), Lang::Zh);
    assert_eq!(Lang::of(&headers(&[("accept-language", "fr, de;q=0.5")])), Lang::Zh);
    assert_eq!(Lang::of(&headers(&[("accept-language", "en;q=0")])), Lang::Zh);
    assert_eq!(Lang::of(&headers(&[("cookie", "a=b; lang=en"), ("accept-language", "zh-CN")])), Lang::En);
    assert_eq!(Lang::of(&headers(&[("cookie", "lang=zh"), ("accept-language", "en")])), Lang::Zh);
    assert_eq!(Lang::of(&headers(&[("cookie", "lang=xx"), ("accept-language", "en")])), Lang::En);
}

#[test]
fn the_way_back_stays_on_the_site() {
    let cases = HashMap::from([
        ("http://127.0.0.1:8080/area/610981?year=2025", "/area/610981?year=2025"),
        ("https://fupin.example/", "/"),
        ("https://fupin.example", "/"),
        ("https://evil.example//other.site/x", "/"),
        ("/household/H1#members", "/household/H1"),
        ("http://host/lang/en", "/"),
        ("javascript:alert(1)", "/"),
    ]);
    for (referer, want) in cases {
        assert_eq!(local_path(referer), want, "{referer}");
    }
}
