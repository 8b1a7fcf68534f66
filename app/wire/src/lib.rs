//! What the console's JSON API sends and takes, declared once.
//!
//! The server serialises these types and the browser UI deserialises the very
//! same ones, so a renamed or retyped field fails the build of whichever side
//! was not changed, instead of failing at run time in a person's browser.
//!
//! Rules for this crate:
//! - Only data and the checks both sides share (e.g. a policy's validation):
//!   no database, no I/O. It builds for wasm with serde alone.
//! - Times are what the JSON carries: RFC 3339 text, or Unix seconds where the
//!   API has always sent numbers (agent threads and turns).
//! - The OpenAPI schema (`openapi`) and row mapping (`sqlx`) are features the
//!   server turns on; the UI never compiles them.
//! - The `/v1` (OpenAI) and Gitea APIs keep their own shapes in the server:
//!   they follow other people's specifications, not ours.

/// `as_str()` and `Display` for an enum the JSON carries as a name; the
/// names must be serde's (a test in each module checks that they are).
macro_rules! names {
    ($ty:ident { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $ty {
            /// Every variant, for tests and pickers.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];

            /// The name the JSON (and the database) carries.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),*
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod accounts;
pub mod agent;
pub mod audit;
pub mod env;
pub mod error;
pub mod files;
pub mod llm;
pub mod projects;
pub mod publish;
pub mod remote;
pub mod sandbox;
pub mod settings;
pub mod versions;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `names!` enum: `as_str()` is the name serde writes.
    #[test]
    fn names_are_the_json_names() {
        fn check<T: serde::Serialize + std::fmt::Display + Copy>(all: &[T]) {
            for v in all {
                assert_eq!(serde_json::to_value(v).unwrap(), v.to_string());
            }
        }
        check(agent::Role::ALL);
        check(agent::TurnStatus::ALL);
        check(agent::StepStatus::ALL);
        check(env::EnvScope::ALL);
        check(llm::ProviderKind::ALL);
        check(llm::ToolFormat::ALL);
        check(llm::LocalState::ALL);
        check(llm::WorkerState::ALL);
        check(publish::DeploymentStatus::ALL);
        check(publish::Access::ALL);
        check(remote::PullOutcome::ALL);
        check(sandbox::DevState::ALL);
        check(sandbox::Stream::ALL);
        check(settings::Severity::ALL);
        check(versions::AuthorKind::ALL);
        check(versions::ChangeKind::ALL);
    }
}
