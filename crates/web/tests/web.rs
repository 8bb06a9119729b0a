//! The web application end to end: the real server on 127.0.0.1:0 over a fresh
//! registry (SQLite by default; PostgreSQL when `FUPIN_TEST_DB=postgres://…`), driven
//! by an HTTP client with cookies and by headless Chromium.

#[path = "web/admin.rs"]
mod admin;
#[path = "web/api.rs"]
mod api;
#[path = "web/api_more.rs"]
mod api_more;
#[path = "web/auth.rs"]
mod auth;
#[path = "web/browser.rs"]
mod browser;
#[path = "web/browser_offline.rs"]
mod browser_offline;
#[path = "web/cache.rs"]
mod cache;
#[path = "web/dashboard.rs"]
mod dashboard;
#[path = "web/departments.rs"]
mod departments;
#[path = "web/edit.rs"]
mod edit;
#[path = "web/findings.rs"]
mod findings;
#[path = "web/forged.rs"]
mod forged;
#[path = "web/i18n.rs"]
mod i18n;
#[path = "web/layout.rs"]
mod layout;
#[path = "web/offline_sync.rs"]
mod offline_sync;
#[path = "web/pages.rs"]
mod pages;
#[path = "web/reveal.rs"]
mod reveal;
#[path = "web/routes.rs"]
mod routes;
#[path = "web/scope.rs"]
mod scope;
#[path = "web/support.rs"]
mod support;
#[path = "web/visit.rs"]
mod visit;
