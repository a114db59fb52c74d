//! Airlock's storage: one data directory holding a SQLite database and a
//! content-addressed blob store.
//!
//! ```text
//! <data-dir>/
//!   FORMAT            on-disk format version; a newer one is refused
//!   airlock.db        SQLite (WAL): metadata cache, tarball records, admin rules,
//!                     decisions, the append-only download log
//!   airlock.db.id     the database's id: a missing, empty or other database is refused
//!   airlock.db.running  present while open: a crash's lost WAL is noticed
//!   blobs/v1/<algorithm>/<xx>/<hex>   verified tarballs, named by digest
//!   tmp/              partial downloads; emptied at start
//!   journal/          download records not yet folded into the database
//! ```
//!
//! SQL goes through sqlx so that PostgreSQL can replace SQLite for teams that run
//! several replicas; blobs are files that are only ever renamed into place after
//! their digest was checked, so a killed process never leaves a blob that is served.

mod advisories;
mod analyses;
mod blobs;
mod db;
mod decisions;
mod downloads;
mod error;
mod guard;
mod journal;
mod provenance;
mod retention;

pub use advisories::{AdvisoryRecord, TakedownRecord};
pub use analyses::AnalysisRecord;
pub use blobs::{BlobStore, BlobWriter};
pub use db::{Store, StoredPackument, TarballRecord};
pub use decisions::{DecisionRecord, DenialRecord, ExceptionRecord};
pub use downloads::DownloadRecord;
pub use error::Error;
pub use journal::{DownloadJournal, Folded};
pub use provenance::ProvenanceRecord;
pub use retention::IdleBlob;
