//! Publishing: deployments of a project's versions, the site that serves
//! them (its address and who may open it), and the apps portal.

use serde::{Deserialize, Serialize};

/// Where a deployment stands. Whether it is the live one is the site's
/// business (`Site::live`), not a status: going live and rolling back only
/// move that pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(rename_all = "lowercase"))]
#[serde(rename_all = "lowercase")]
pub enum DeploymentStatus {
    /// Accepted; the build has not started.
    Queued,
    /// The build runs (see its log).
    Building,
    /// Built and checked: it can be served and promoted.
    Ready,
    /// The build or the health check failed (see `error` and the log).
    Failed,
    /// Was live and a newer publish replaced it; still served at its own
    /// address and can be promoted again.
    Superseded,
}

names!(DeploymentStatus { Queued => "queued", Building => "building", Ready => "ready", Failed => "failed", Superseded => "superseded" });

impl DeploymentStatus {
    /// Built, so it can be served and made live.
    pub fn servable(self) -> bool {
        matches!(self, Self::Ready | Self::Superseded)
    }

    /// The build has not ended yet.
    pub fn in_progress(self) -> bool {
        matches!(self, Self::Queued | Self::Building)
    }
}

/// Who may open a published app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(rename_all = "snake_case"))]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// The project's owner only.
    #[default]
    Private,
    /// Anyone with an account on this appliance.
    SignedIn,
    /// The owner and the people listed.
    People,
    /// Anyone who can reach the address, signed in or not.
    Public,
}

names!(Access { Private => "private", SignedIn => "signed_in", People => "people", Public => "public" });

/// One deployment as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deployment {
    pub id: String,
    pub project_id: String,
    /// The version (commit) it was built from.
    pub version: String,
    /// The version's message, first line.
    pub message: String,
    pub template: String,
    pub status: DeploymentStatus,
    /// Whether the site serves it now.
    pub live: bool,
    /// Why it failed.
    pub error: Option<String>,
    /// Who published it (display name), when the account still exists.
    pub author: Option<String>,
    /// Bytes of what it serves.
    pub size_bytes: Option<i64>,
    /// RFC 3339.
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// From the start of the build to its end.
    pub build_ms: Option<i64>,
    /// Its own address, which always serves this deployment (once built).
    pub url: String,
    /// For apps with a server: whether its container runs (`running`,
    /// `starting`, `crashed`, `stopped`); none for static apps.
    pub runtime: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeploymentList {
    pub deployments: Vec<Deployment>,
}

/// `POST /api/v1/projects/{id}/deployments`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// The version (a 40-character commit id) to publish; the latest when absent.
    #[serde(default)]
    pub version: Option<String>,
}

/// A project's site: its address, who may open it, what it serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Site {
    pub project_id: String,
    /// The DNS label of its address: `<name>.<apps domain>`.
    pub name: String,
    /// The production address.
    pub url: String,
    pub access: Access,
    /// With `people`: who besides the owner may open it (e-mail addresses).
    pub people: Vec<String>,
    /// Deployments kept besides the live one; older ones are removed.
    pub retention: i64,
    /// The deployment served at `url`, once one is live.
    pub live: Option<String>,
    /// Publish automatically each time the default branch changes (an agent
    /// turn, a save, a push, a pull from the remote).
    pub auto_deploy: bool,
}

/// `PUT /api/v1/projects/{id}/site`: every field is optional; absent ones stay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SiteUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub access: Option<Access>,
    /// E-mail addresses of accounts on this appliance.
    #[serde(default)]
    pub people: Option<Vec<String>>,
    #[serde(default)]
    pub retention: Option<i64>,
    #[serde(default)]
    pub auto_deploy: Option<bool>,
}

/// One app of the portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct App {
    pub project_id: String,
    pub name: String,
    /// The project's name, as people call the app.
    pub title: String,
    pub description: String,
    pub template: String,
    pub owner: String,
    pub access: Access,
    pub url: String,
    /// RFC 3339: when the live deployment went live.
    pub published_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppList {
    pub apps: Vec<App>,
}

/// A site name: a DNS label of lowercase letters, digits and inner hyphens,
/// 1 to 40 characters, not ending in `-` and 8 hexadecimal digits (that
/// form names one deployment: `<name>-<short id>`). Shared by the UI's form
/// and the server.
pub fn check_site_name(name: &str) -> Result<(), String> {
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if name.is_empty() || name.len() > 40 || !ok_chars {
        return Err(format!(
            "{name:?} is not a valid address name: use 1 to 40 lowercase letters, digits and hyphens"
        ));
    }
    if name.starts_with('-') || name.ends_with('-') || name.contains("--") {
        return Err(format!(
            "{name:?} is not a valid address name: hyphens go between letters or digits, one at a time"
        ));
    }
    if deployment_suffix(name).is_some() {
        return Err(format!(
            "{name:?} ends in a hyphen and 8 hexadecimal digits, the form kept for the addresses of single deployments"
        ));
    }
    Ok(())
}

/// Length of a deployment's short id in its address.
pub const SHORT_ID: usize = 8;

/// `(site name, short id)` when `label` has the form of one deployment's
/// address, `<name>-<8 hex digits>`.
pub fn deployment_suffix(label: &str) -> Option<(&str, &str)> {
    let (name, short) = label.rsplit_once('-')?;
    let hex = short.len() == SHORT_ID
        && short
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (hex && !name.is_empty()).then_some((name, short))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_names() {
        for ok in ["a", "team-calendar", "x1", "calendar-2026", "abc-deadbeefx"] {
            assert!(check_site_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "a--b",
            "A",
            "a_b",
            "a.b",
            "tool-deadbeef",
            &"a".repeat(41),
        ] {
            assert!(check_site_name(bad).is_err(), "{bad}");
        }
        assert_eq!(
            deployment_suffix("tool-0a1b2c3d"),
            Some(("tool", "0a1b2c3d"))
        );
        assert_eq!(deployment_suffix("team-calendar"), None);
        assert_eq!(deployment_suffix("-0a1b2c3d"), None);
    }
}
