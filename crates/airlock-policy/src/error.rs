/// What can be wrong with a policy.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("`{spec}` is not a valid package spec: {reason}")]
    InvalidSpec { spec: String, reason: String },

    #[error("the policy is invalid:\n{0}")]
    Toml(String),

    #[error("the policy is invalid: {0}")]
    Invalid(String),

    #[error("`{spec}` cannot be an exception: {reason}")]
    InvalidException { spec: String, reason: &'static str },
}
