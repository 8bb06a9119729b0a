//! What a use case answers when it does not succeed. The pages and the API turn each
//! kind into their own answer (a Chinese page or a JSON error) with the same status.

use fupin_store::StoreError;

/// Why a use case did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No such record, or one outside the user's scope: both answer alike (404), so
    /// that numbers cannot be probed.
    #[error("记录不存在")]
    NotFound,
    /// The user's role may not do this (403).
    #[error("无权访问")]
    Forbidden,
    /// The request itself is malformed (400); the message is for the user.
    #[error("{0}")]
    BadRequest(String),
    /// Refused on its merits (422: a name taken, an unknown area, a structural
    /// problem of an edit); the message is for the user.
    #[error("{0}")]
    Refused(String),
    /// The database failed; details go to the log, the user sees only that it failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something inside failed (hashing a password, a task); details go to the log.
    #[error("{0}")]
    Internal(String),
}

/// What every use case returns.
pub type AppResult<T> = Result<T, AppError>;
