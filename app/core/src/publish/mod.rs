//! Publishing: a version of a project built in a hardened container into
//! an immutable deployment, served at the project's own address on the
//! apps domain. Static output is served by the appliance from the
//! deployment's files; apps with a server run as one container per
//! deployment. Going live and rolling back move one pointer (the site's
//! live deployment), only after the new one has passed its checks.
//!
//! Folders: `<data>/deployments/<project>/<deployment>/site` (what is
//! served or mounted) and `build.log` (the build's output, JSON lines).

pub mod apps;
mod auto_deploy;
pub mod build;
mod errors;
pub mod names;
mod publisher;
pub mod store;
pub mod unpack;

pub use autocrea_wire::publish::{Access, DeploymentStatus};
pub use errors::PublishError;
pub use publisher::{Publisher, Target};
pub use store::{DeploymentRow, SiteRow};
