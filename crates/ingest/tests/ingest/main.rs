//! The crate's one integration-test binary: real files written at test time (and one
//! committed `.xls` fixture), read through the public API.

mod common;
mod cross_checks;
mod import;
mod import_problems;
mod no_panic;
mod read_files;
mod round_trip;
