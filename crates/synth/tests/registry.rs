//! The faults as the rules will meet them: generated files imported into a registry
//! (on the engine `FUPIN_TEST_DB` names) and exported again. The importer keeps every
//! fault (a warning at most, never a refusal), and the fault kinds' checks on the
//! registry's rows find exactly the answer key, for three seeds.

mod check;

use check::Data;
use check::oracle::{self, Db};
use fupin_domain::DivisionTree;
use fupin_domain::schema::TABLES;
use fupin_ingest::Exporter;
use fupin_store::testing;
use fupin_synth::{Config, FAULT_KINDS, generate};

#[tokio::test]
async fn faults_survive_import_and_export_and_the_checks_find_the_key() {
    let tree = DivisionTree::builtin_xunyang();
    for seed in [7, 8, 9] {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = Config::xunyang(400, seed, time::macros::date!(2026 - 03 - 15));
        cfg.faults = FAULT_KINDS.len() + 10;
        let s = generate(&cfg, &tree, dir.path(), None).unwrap();
        let db = testing::fresh().await.unwrap();
        db.store.write_divisions(&tree, "610981").await.unwrap();
        let o = fupin_ingest::import(&db.store, &s.files, None).await.unwrap();
        let errors: Vec<String> = o.problems.iter().filter(|p| p.is_error()).map(|p| p.to_string()).collect();
        assert!(o.applied && o.errors == 0, "seed {seed}: the import refused faulty data: {errors:#?}");

        let out = tempfile::tempdir().unwrap();
        for table in TABLES {
            let mut e = Exporter::create(&out.path().join(format!("{}.csv", table.name)), table).unwrap();
            db.store
                .for_each_row::<fupin_store::StoreError>(table, |row| {
                    e.write_row(&row).unwrap();
                    Ok(())
                })
                .await
                .unwrap();
            e.finish().unwrap();
        }
        let key = check::key(&Data::load(dir.path()));
        let found = oracle::findings(&Db::load(out.path()));
        assert_eq!(found, key, "seed {seed}: the checks on the registry's rows against the key");
    }
}
