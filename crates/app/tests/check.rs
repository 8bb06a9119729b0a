//! Integration tests of the check (`fupin_app::check`), on the engine `FUPIN_TEST_DB`
//! names: the interpreter against SQL (shipped examples, semantics, county built-ins,
//! CEL's conformance cases, generated households), batches against single rules, the
//! runner and its findings, and the rule sets against the generator's answer keys. One
//! binary, so it links once.

mod check {
    mod agreement;
    mod batch;
    mod check_run;
    mod conformance;
    mod county;
    mod dq_key;
    mod examples;
    mod semantics;
    mod sets_clean;
}
