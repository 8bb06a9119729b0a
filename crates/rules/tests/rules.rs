//! Integration tests of the rules crate, on the engine `FUPIN_TEST_DB` names.

mod rules {
    mod agreement;
    mod check_run;
    mod conformance;
    mod county;
    mod examples;
    mod load_errors;
    mod robust;
    mod semantics;
}
