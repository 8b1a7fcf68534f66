//! What the appliance stores about language models: the master key that
//! encrypts users' provider keys, those keys, the admin's policy (which
//! providers and models users may pick) and the usage of every call.

pub mod keys;
pub mod local_status;
pub mod master_key;
pub mod policy;
pub mod shared_keys;
pub mod usage;

#[derive(Debug, thiserror::Error)]
pub enum LlmStoreError {
    #[error("{0}")]
    Invalid(String),
    #[error("not found")]
    NotFound,
    #[error("the master key {path} is not usable: {message}")]
    MasterKey { path: String, message: String },
    #[error("a stored key could not be decrypted (was the master key changed?)")]
    Decrypt,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
