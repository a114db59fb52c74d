/// Why an advisory source could not be read. The import that hit it takes nothing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("`{source_name}` is not a valid OSV record: {reason}")]
    Record { source_name: String, reason: String },

    #[error("`{source_name}` is not a readable zip archive")]
    Zip {
        source_name: String,
        #[source]
        source: zip::result::ZipError,
    },
}
