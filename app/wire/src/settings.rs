//! The appliance's own settings, as admins change them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstanceSettings {
    /// Anyone may create an account (the first account is always allowed).
    pub open_signup: bool,
}

impl Default for InstanceSettings {
    /// A new appliance lets people sign up; admins close it when they want.
    fn default() -> Self {
        Self { open_signup: true }
    }
}

/// The instance settings, and what the admin should know about this setup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettingsView {
    #[serde(flatten)]
    pub settings: InstanceSettings,
    /// E.g. `preview_cookie_tossing`: previews could set cookies the console reads.
    pub warnings: Vec<Warning>,
}

/// Something the admin should know about how this appliance is set up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Warning {
    /// `preview_cookie_tossing`
    pub code: String,
    pub severity: Severity,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    /// E.g. the single-machine `localhost` setup.
    Info,
}

names!(Severity { Warning => "warning", Info => "info" });

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateSettings {
    pub open_signup: Option<bool>,
}
