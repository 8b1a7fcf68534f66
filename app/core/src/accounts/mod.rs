//! People and their credentials: users, password hashing, browser sessions,
//! personal API tokens and login throttling.

pub mod passwords;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod users;

pub use sessions::Session;
pub use throttle::LoginThrottle;
pub use tokens::ApiToken;
pub use users::User;

use crate::text::InvalidText;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Invalid(#[from] InvalidText),
    #[error("{0}")]
    WeakPassword(String),
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("wrong email or password")]
    WrongCredentials,
    #[error("the current password is wrong")]
    WrongCurrentPassword,
    #[error("too many failed sign-in attempts; try again in {}", describe_wait(*retry_after_secs))]
    Throttled { retry_after_secs: u64 },
    #[error("this account is disabled; ask an administrator")]
    Disabled,
    #[error("sign-up is closed on this server; ask an administrator for an account")]
    SignupClosed,
    #[error("no such user")]
    UserNotFound,
    #[error("no such API token")]
    TokenNotFound,
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

fn describe_wait(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs} seconds"),
        60..=119 => "1 minute".to_string(),
        _ => format!("{} minutes", secs.div_ceil(60)),
    }
}
