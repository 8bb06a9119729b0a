//! The household page is served from memory while the registry has not changed; a
//! change made past the server (another process, the CLI) shows on the next request.

use crate::support::*;
use fupin_store::operations::{self, Edit};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_past_the_server_shows_on_the_next_household_page() {
    let app = spawn_app().await;
    let client = app.signed_in("village").await;
    let (status, page) = app.get(&client, "/household/H1").await;
    assert_eq!(status, 200);
    assert!(page.contains("张三") && !page.contains("李四四"), "{page}");
    // Read twice: the second answer comes from the cache and is the same page.
    let (_, again) = app.get(&client, "/household/H1").await;
    assert_eq!(page, again);

    // Straight into the store, as `fupin import` in another process would.
    let edit = Edit::new("测试", "更正姓名");
    operations::correct_field(&app.db.store, &edit, "persons", "P2", "name", "李四四").await.unwrap();
    let (status, page) = app.get(&client, "/household/H1").await;
    assert_eq!(status, 200);
    assert!(page.contains("李四四"), "the corrected name shows at once: {page}");
    assert!(page.contains("更正姓名"), "and so does its change record");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_account_is_signed_out_at_once_from_the_web() {
    let app = spawn_app().await;
    let village = app.signed_in("village").await;
    assert_eq!(app.get(&village, "/household/H1").await.0, 200);
    let admin = app.signed_in(ADMIN).await;
    let r = admin
        .post(format!("{}/admin/users/village/disable", app.base))
        .header("Origin", app.origin())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success() || r.status().is_redirection(), "{}", r.status());
    let r = village.get(format!("{}/household/H1", app.base)).send().await.unwrap();
    assert_eq!(r.url().path(), "/login", "the cached session is forgotten when the account is disabled");
}
