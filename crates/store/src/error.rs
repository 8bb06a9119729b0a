//! Errors of the store. Database errors keep their cause for the log; the message a
//! user sees says what failed in plain words.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The `--db` URL names no engine we speak.
    #[error("数据库地址“{0}”无法识别：应为 postgres://… 或 sqlite:…")]
    BadUrl(String),
    /// The database could not be reached or opened.
    #[error("无法打开数据库 {0}：{1}")]
    Connect(String, #[source] sqlx::Error),
    #[error("无法创建数据目录 {0}：{1}")]
    Io(String, #[source] std::io::Error),
    #[error("数据库迁移失败：{0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("数据库错误：{0}")]
    Sql(#[from] sqlx::Error),
    #[error("没有名为 {0} 的登记表")]
    UnknownTable(String),
    /// A chained write without the chains' key.
    #[error(
        "没有变更链密钥，不能写入：数据目录中的 chain.key 不存在，或未用 --chain-key 文件（环境变量 FUPIN_CHAIN_KEY）给出密钥"
    )]
    NoChainKey,
    /// A write that would break the registry's structure; the reason is for the user.
    #[error("{0}")]
    Refused(String),
}
