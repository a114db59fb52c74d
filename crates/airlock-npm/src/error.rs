/// What can be wrong with npm data handed to this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("`{name}` is not a valid npm package name: {reason}")]
    InvalidName { name: String, reason: &'static str },

    #[error("`{file}` is not a tarball of `{name}`: expected `{expected}-<version>.tgz`")]
    InvalidTarballFile {
        name: String,
        file: String,
        expected: String,
    },

    #[error("`{value}` is not a valid integrity string: {reason}")]
    InvalidIntegrity { value: String, reason: &'static str },

    #[error("the packument of `{name}` is not valid JSON")]
    PackumentJson {
        name: String,
        #[source]
        source: serde_json::Error,
    },

    #[error("the packument of `{name}` is malformed: {reason}")]
    PackumentShape { name: String, reason: String },
}
