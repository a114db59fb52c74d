use std::path::PathBuf;

/// Storage failures, naming the file or table involved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot use the data directory `{path}`")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "the data directory `{path}` holds format {found}, but this Airlock reads format {expected}\nhint: use an Airlock at least as new as the one that wrote it, or point `--data-dir` at a fresh directory"
    )]
    Format {
        path: PathBuf,
        found: String,
        expected: u32,
    },

    #[error("the database `{path}` could not be opened or migrated")]
    Open {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },

    #[error(
        "the database `{path}` {reason}\nAirlock did not start, so that approvals, denials and the download log are not lost silently\nhint: put a backup in place with `airlock restore BACKUP.db` (backups come from `airlock backup`), or start over knowingly with `airlock restore --start-empty`, which sets the damaged database aside"
    )]
    DatabaseLost { path: PathBuf, reason: &'static str },

    #[error("database migration failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),

    #[error("database query failed")]
    Query(#[from] sqlx::Error),

    #[error("blob file `{path}` could not be written or read")]
    Blob {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("the downloaded bytes hash to `{actual}`, but the registry says `{expected}`")]
    IntegrityMismatch { expected: String, actual: String },
}
