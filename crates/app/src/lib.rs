//! The use cases: what the command line, the pages and the API ask of the registry.
//! Each takes the [`Viewer`] asking (their role and scope) and answers plain data; the
//! pages turn it into HTML and the API into JSON, and neither decides on its own what a
//! user may see or do.
//!
//! Architecture invariant: this crate speaks no SQL and no HTTP. It reads and writes
//! through `fupin_store`, checks and compiles rules through `fupin_rules`, and knows
//! nothing of `fupin_web`.

pub mod accounts;
pub mod check;
pub mod dashboard;
pub mod edits;
pub mod error;
pub mod findings;
pub mod password;
pub mod reveal;
pub mod search;
pub mod sign_in;
#[cfg(test)]
mod testing;
pub mod viewer;

pub use error::{AppError, AppResult};
pub use viewer::{Households, Viewer};
