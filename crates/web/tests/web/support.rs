//! A real application on 127.0.0.1:0 over a fresh registry (SQLite, or PostgreSQL
//! when `FUPIN_TEST_DB` names one), seeded through the Writer with a small county.

use std::collections::HashMap;
use std::net::SocketAddr;

use fupin_domain::Value;
use fupin_domain::schema::{DIVISIONS, HELPERS, HOUSEHOLDS, INCOMES, PAIRINGS, PERSONS, Table};
use fupin_store::testing::{self, TestDb};
use fupin_store::writer::RowIn;
use fupin_store::{Actor, Store};
use fupin_web::{Application, Config};

pub const COUNTY: &str = "610981";
/// 城关镇: villages V1 and V2.
pub const TOWN_A: &str = "610981100";
/// 白柳镇: village V3.
pub const TOWN_B: &str = "610981101";
pub const V1: &str = "610981100201";
pub const V2: &str = "610981100202";
pub const V3: &str = "610981101201";

/// 张三, head of H1 in V1.
pub const ID_ZHANG: &str = "610981198001010016";
pub const ID_ZHANG_MASKED: &str = "610981************";
/// 李四, 张三's wife.
pub const ID_LI: &str = "61098119820305002X";
pub const PHONE_H1: &str = "13912345678";
/// Every full personal number seeded: none may appear on any page.
pub const SECRETS: &[&str] =
    &[ID_ZHANG, ID_LI, "610981197507070031", "610981196601010057", PHONE_H1, "13800001111", "6228480012345678"];

/// The county administrator created with [`fupin_app::accounts::create_admin`].
pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "管理员的密码-2026";

/// A running application and what its tests need to know.
pub struct TestApp {
    pub base: String,
    pub db: TestDb,
    /// Demo accounts by username: `county`, `township` (城关镇), `village` (V1)…
    pub passwords: HashMap<String, String>,
    pub server: tokio::task::JoinHandle<()>,
    /// Completing this stops the server gracefully ([`TestApp::stop_server`]).
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn row(table: &Table, cells: &[(&str, Value)]) -> RowIn {
    let mut values = vec![Value::Null; table.columns.len()];
    for (name, value) in cells {
        let i = table.index_of(name).unwrap_or_else(|| panic!("{}.{name} does not exist", table.name));
        values[i] = value.clone();
    }
    RowIn { values, source: Some("测试数据".into()) }
}

fn t(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn division(code: &str, name: &str, level: &str, parent: Option<&str>) -> RowIn {
    let parent = parent.map(t).unwrap_or(Value::Null);
    row(&DIVISIONS, &[("code", t(code)), ("name", t(name)), ("level", t(level)), ("parent_code", parent)])
}

fn person(id: &str, hh: &str, name: &str, relation: &str, extra: &[(&str, Value)]) -> RowIn {
    let mut cells = vec![("person_id", t(id)), ("hh_id", t(hh)), ("name", t(name)), ("relation", t(relation))];
    cells.extend(extra.iter().cloned());
    row(&PERSONS, &cells)
}

/// The hand-made county: 2 townships, 3 villages, 4 households, 6 persons.
pub async fn seed(store: &Store) {
    let mut w = store.writer(Actor::System).await.expect("writer");
    let divisions = vec![
        division(COUNTY, "旬阳市", "county", None),
        division(TOWN_A, "城关镇", "township", Some(COUNTY)),
        division(TOWN_B, "白柳镇", "township", Some(COUNTY)),
        division(V1, "东关村", "village", Some(TOWN_A)),
        division(V2, "西关村", "village", Some(TOWN_A)),
        division(V3, "白柳村", "village", Some(TOWN_B)),
    ];
    w.upsert(&DIVISIONS, divisions, "初始化区划").await.expect("divisions");
    let households = vec![
        row(
            &HOUSEHOLDS,
            &[
                ("hh_id", t("H1")),
                ("village_code", t(V1)),
                ("group_no", Value::Int(3)),
                ("phone", t(PHONE_H1)),
                ("bank_account", t("6228480012345678")),
                ("status", t("2")),
                ("main_cause", t("01")),
                ("identified_year", Value::Int(2014)),
                ("farmland_mu", Value::Real(2.5)),
                ("toilet", Value::Int(1)),
            ],
        ),
        row(
            &HOUSEHOLDS,
            &[
                ("hh_id", t("H2")),
                ("village_code", t(V1)),
                ("status", t("3")),
                ("monitor_type", t("1")),
                ("risk1", t("01")),
            ],
        ),
        row(
            &HOUSEHOLDS,
            &[
                ("hh_id", t("H3")),
                ("village_code", t(V2)),
                ("status", t("1")),
                ("monitor_type", t("2")),
                ("risk_cleared_on", t("2023-05-01")),
            ],
        ),
        row(&HOUSEHOLDS, &[("hh_id", t("H4")), ("village_code", t(V3)), ("status", t("2"))]),
    ];
    w.upsert(&HOUSEHOLDS, households, "导入").await.expect("households");
    let persons = vec![
        person(
            "P1",
            "H1",
            "张三",
            "01",
            &[
                ("sex", t("1")),
                ("birth_date", t("1980-01-01")),
                ("id_type", t("01")),
                ("id_number", t(ID_ZHANG)),
                ("health", t("02;04")),
                ("labour", t("01")),
                ("phone", t(PHONE_H1)),
            ],
        ),
        person("P2", "H1", "李四", "02", &[("sex", t("2")), ("id_number", t(ID_LI)), ("school_status", t("01"))]),
        person(
            "P3",
            "H1",
            "张小明",
            "03",
            &[("sex", t("1")), ("birth_date", t("2012-09-01")), ("school_status", t("06"))],
        ),
        person("P4", "H2", "王五", "01", &[("id_number", t("610981197507070031"))]),
        person("P5", "H3", "赵六", "01", &[]),
        person("P6", "H4", "孙七", "01", &[("id_number", t("610981196601010057"))]),
    ];
    w.upsert(&PERSONS, persons, "导入").await.expect("persons");
    let money = |hh: &str, year: i64, wages: i64, net: i64| {
        row(
            &INCOMES,
            &[
                ("hh_id", t(hh)),
                ("year", Value::Int(year)),
                ("members", Value::Int(3)),
                ("wages", Value::Int(wages)),
                ("net_per_capita", Value::Int(net)),
            ],
        )
    };
    w.upsert(&INCOMES, vec![money("H1", 2019, 900_000, 312_050), money("H1", 2020, 1_200_000, 400_000)], "导入")
        .await
        .expect("incomes");
    let helper = row(&HELPERS, &[("helper_id", t("G1")), ("name", t("刘帮扶")), ("unit", t("旬阳市农业农村局"))]);
    w.upsert(&HELPERS, vec![helper], "导入").await.expect("helpers");
    let pairing = row(&PAIRINGS, &[("helper_id", t("G1")), ("hh_id", t("H1")), ("from_date", t("2019-03-01"))]);
    w.upsert(&PAIRINGS, vec![pairing], "导入").await.expect("pairings");
    // A correction, so the history has an update with a masked old and new value.
    w.set_fields(&PERSONS, "P1", &[("phone", t("13800001111"))], "户主更换手机号").await.expect("phone");
    w.set_fields(&PERSONS, "P1", &[("phone", t(PHONE_H1))], "改回原号码").await.expect("phone back");
    w.commit().await.expect("commit");
}

/// Starts the real application on a fresh, seeded registry with its accounts.
pub async fn spawn_app() -> TestApp {
    let db = testing::fresh().await.expect("a fresh test database");
    seed(&db.store).await;
    start(db).await
}

/// Starts the application on a generated county: 旬阳's real division tree, `households`
/// households from the generator, imported through the real import driver.
pub async fn spawn_generated(households: usize) -> TestApp {
    let db = testing::fresh().await.expect("a fresh test database");
    let tree = fupin_domain::DivisionTree::builtin_xunyang();
    db.store.write_divisions(&tree, "610981").await.expect("divisions");
    let dir = tempfile::tempdir().expect("a directory for generated files");
    let cfg = fupin_synth::Config::xunyang(households, 11, time::macros::date!(2026 - 06 - 01));
    let summary = fupin_synth::generate(&cfg, &tree, dir.path(), None).expect("generate");
    let outcome = fupin_ingest::import(&db.store, &summary.files, None).await.expect("import runs");
    assert!(outcome.applied, "generated files import cleanly: {:?}", outcome.problems.first());
    start(db).await
}

async fn start(db: TestDb) -> TestApp {
    let mut passwords = HashMap::new();
    let admin = fupin_app::accounts::create_admin(&db.store, ADMIN, Some(ADMIN_PASSWORD)).await.expect("admin");
    passwords.insert(ADMIN.to_owned(), admin);
    for a in fupin_app::accounts::create_demo_accounts(&db.store).await.expect("demo accounts") {
        passwords.insert(a.username, a.password);
    }
    let (base, server, stop) = serve(&db, SocketAddr::from(([127, 0, 0, 1], 0))).await;
    TestApp { base, db, passwords, server, stop: Some(stop) }
}

/// Builds and runs the application on `listen` over the test's database.
async fn serve(
    db: &TestDb,
    listen: SocketAddr,
) -> (String, tokio::task::JoinHandle<()>, tokio::sync::oneshot::Sender<()>) {
    let config = Config { listen, today: time::macros::date!(2026 - 06 - 01), secure_cookies: false, tls: None };
    let app = Application::build(db.store.clone(), config).await.expect("the application starts");
    let base = format!("http://{}", app.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(e) = app.run_until(shutdown).await {
            panic!("server failed: {e}");
        }
    });
    (base, server, stop)
}

impl TestApp {
    /// Stops the server as a lost signal would look to a phone: the listener closes and
    /// open connections are closed, so the port refuses. The database stays.
    pub async fn stop_server(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let server = std::mem::replace(&mut self.server, tokio::spawn(async {}));
        tokio::time::timeout(std::time::Duration::from_secs(20), server)
            .await
            .expect("the server stops within 20 s")
            .expect("the server task ends cleanly");
    }

    /// Starts the application again on the same address and database.
    pub async fn restart_server(&mut self) {
        let addr: SocketAddr = self.base.trim_start_matches("http://").parse().expect("the server's address");
        let (base, server, stop) = serve(&self.db, addr).await;
        assert_eq!(base, self.base, "restarted on the same address");
        self.server = server;
        self.stop = Some(stop);
    }

    /// A browser-like client (keeps cookies) that is not signed in.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder().cookie_store(true).build().expect("client")
    }

    /// The `Origin` a same-origin form post carries.
    pub fn origin(&self) -> &str {
        &self.base
    }

    /// Posts the sign-in form as a browser on this site would.
    pub async fn login_as(&self, client: &reqwest::Client, user: &str, password: &str) -> reqwest::Response {
        client
            .post(format!("{}/login", self.base))
            .header("Origin", self.origin())
            .form(&[("username", user), ("password", password)])
            .send()
            .await
            .expect("login request")
    }

    /// A client signed in as one of the accounts.
    pub async fn signed_in(&self, user: &str) -> reqwest::Client {
        let client = self.client();
        let password = self.passwords.get(user).unwrap_or_else(|| panic!("no account {user}"));
        let r = self.login_as(&client, user, password).await;
        assert_eq!(r.status(), 200, "login as {user} ends on a page");
        assert!(!r.url().path().starts_with("/login"), "login as {user} failed");
        client
    }

    /// GET a page; returns status and body.
    pub async fn get(&self, client: &reqwest::Client, path: &str) -> (u16, String) {
        let r = client.get(format!("{}{path}", self.base)).send().await.expect("GET");
        let status = r.status().as_u16();
        (status, r.text().await.expect("body"))
    }

    /// A number from a plain SQL count, to compare pages with.
    pub async fn sql_count(&self, sql: &str) -> i64 {
        let (n,): (i64,) =
            sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(self.db.store.pool()).await.expect(sql);
        n
    }
}

/// Fails if a page shows any seeded personal number in full.
pub fn assert_no_secrets(page: &str, what: &str) {
    for s in SECRETS {
        assert!(!page.contains(s), "{what} shows {s} unmasked");
    }
}

/// The server log of this test process (every test's), captured from the first call on:
/// a global subscriber writing into memory, at `info` and above.
pub fn server_log() -> String {
    use std::sync::{Mutex, OnceLock};
    static LOG: OnceLock<&'static Mutex<Vec<u8>>> = OnceLock::new();
    struct Sink(&'static Mutex<Vec<u8>>);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let log = LOG.get_or_init(|| {
        let log: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        let installed = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || Sink(log))
            .try_init();
        assert!(installed.is_ok(), "no other test installs a global log subscriber");
        log
    });
    String::from_utf8_lossy(&log.lock().unwrap_or_else(std::sync::PoisonError::into_inner)).into_owned()
}
