//! Integration tests of the rules crate that need no database: load errors and
//! robustness of the checker, interpreter and compiler. The tests that run rules on a
//! registry (the interpreter against SQL, batches, the answer key) are the app crate's
//! (`crates/app/tests/check.rs`).

mod rules {
    mod batch_plan;
    mod load_errors;
    mod robust;
}
