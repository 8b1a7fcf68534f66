//! A project's environment variables and secrets: names and hints only.
//! Values go in (`EnvVarPut`) and never come back out.

use serde::{Deserialize, Serialize};

/// Where a variable is given to the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(rename_all = "lowercase"))]
#[serde(rename_all = "lowercase")]
pub enum EnvScope {
    /// The sandbox that serves the live preview.
    Preview,
    /// Deployments: their build and, for apps with a server, their container.
    Production,
}

names!(EnvScope { Preview => "preview", Production => "production" });

impl EnvScope {
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }
}

/// One variable as the API shows it: never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnvVar {
    pub scope: EnvScope,
    pub name: String,
    /// The value's last characters, for telling values apart; none for
    /// values too short to show any of safely.
    pub hint: Option<String>,
    /// Read while building (`NEXT_PUBLIC_*`, `VITE_*`): the value is written
    /// into the built app, so anyone who can open the app can read it.
    pub build_time: bool,
    /// RFC 3339.
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnvVarList {
    pub vars: Vec<EnvVar>,
}

/// `PUT /api/v1/projects/{id}/env/{scope}/{name}`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnvVarPut {
    pub value: String,
}

/// Never the value, should a request be logged.
impl std::fmt::Debug for EnvVarPut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnvVarPut { value: .. }")
    }
}

/// What a change did, and what the person may want to do next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnvChange {
    /// The variable as it is now (none after a delete).
    pub var: Option<EnvVar>,
    /// A production change and a live deployment built without it: the
    /// live app keeps the old values until it is published again.
    pub redeploy_suggested: bool,
    /// The version the live deployment was built from, to publish again.
    pub live_version: Option<String>,
    /// A preview change: the running sandbox was stopped so that its next
    /// start has the new values.
    pub preview_restarted: bool,
}

/// Most variables a scope holds.
pub const MAX_VARS: usize = 100;
/// Longest value, in bytes.
pub const MAX_VALUE: usize = 32 * 1024;

/// Names the appliance sets itself or that would break the app's
/// container: refused so that a variable cannot silently lose to ours.
const RESERVED: &[&str] = &[
    "PATH",
    "HOME",
    "HOSTNAME",
    "HOST",
    "PORT",
    "NODE_ENV",
    "NEXT_TELEMETRY_DISABLED",
    "TERM",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "NODE_OPTIONS",
];

/// A variable name: a letter or `_` first, then letters, digits and `_`,
/// up to 128 characters; not one the appliance reserves. Shared by the
/// UI's form and the server.
pub fn check_env_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !first_ok || !rest_ok || name.len() > 128 {
        return Err(format!(
            "{name:?} is not a valid variable name: use letters, digits and _, not starting with a digit, up to 128 characters"
        ));
    }
    if RESERVED.contains(&name) || name.starts_with("AUTOCREA_") {
        return Err(format!(
            "{name} is set by the appliance itself and cannot be changed"
        ));
    }
    Ok(())
}

/// A value: at most `MAX_VALUE` bytes, no NUL (a process environment
/// cannot carry one).
pub fn check_env_value(value: &str) -> Result<(), String> {
    if value.len() > MAX_VALUE {
        return Err(format!(
            "the value is {} bytes; at most {MAX_VALUE} are allowed",
            value.len()
        ));
    }
    if value.contains('\0') {
        return Err("the value contains a NUL character".into());
    }
    Ok(())
}

/// Whether the frameworks of the templates inline `name` into the built
/// app (Next.js `NEXT_PUBLIC_*`, Vite `VITE_*`).
pub fn is_build_time(name: &str) -> bool {
    name.starts_with("NEXT_PUBLIC_") || name.starts_with("VITE_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names() {
        for ok in ["A", "_X", "DATABASE_URL", "VITE_API", "a1_b"] {
            assert!(check_env_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1A",
            "A-B",
            "A B",
            "A=B",
            "PATH",
            "AUTOCREA_KEY",
            "NODE_OPTIONS",
            &"A".repeat(129),
        ] {
            assert!(check_env_name(bad).is_err(), "{bad}");
        }
        assert!(check_env_value("x\0y").is_err());
        assert!(check_env_value(&"x".repeat(MAX_VALUE + 1)).is_err());
        assert!(is_build_time("VITE_GREETING") && is_build_time("NEXT_PUBLIC_X"));
        assert!(!is_build_time("API_SECRET"));
    }
}
