//! Keeps sandboxes away from the host's own services. An internal Docker
//! network has no route out, but the host itself still answers on the
//! bridge's gateway address, so anything listening on 0.0.0.0 (the
//! appliance, a database) would be reachable from a sandbox. Two INPUT
//! rules on each sandbox bridge (the internal one and the egress one, whose
//! sandboxes may reach the internet but not the host) close that: replies
//! to connections the host opened (the preview proxy) pass, everything else
//! is dropped.

use super::docker::{BRIDGE_NAME, EGRESS_BRIDGE_NAME};
use std::process::Command;

/// Installs the rules when missing, for the internal sandbox bridge and the
/// egress one (whose containers may reach the internet, never the host).
/// Needs root and `iptables`; says why not otherwise.
pub fn guard_host() -> Result<(), String> {
    for bridge in [BRIDGE_NAME, EGRESS_BRIDGE_NAME] {
        guard_bridge(bridge)?;
    }
    Ok(())
}

fn guard_bridge(bridge: &str) -> Result<(), String> {
    let rules: [&[&str]; 2] = [
        &["-i", bridge, "-j", "DROP"],
        &[
            "-i",
            bridge,
            "-m",
            "conntrack",
            "--ctstate",
            "ESTABLISHED,RELATED",
            "-j",
            "ACCEPT",
        ],
    ];
    let mut all_present = true;
    for rule in rules {
        all_present &= iptables(&[&["-C", "INPUT"], rule].concat())?;
    }
    if all_present {
        return Ok(());
    }
    // Remove any half and insert both at the top, DROP first, so ACCEPT
    // ends up above it.
    for rule in rules {
        while iptables(&[&["-D", "INPUT"], rule].concat())? {}
    }
    for rule in rules {
        if !iptables(&[&["-I", "INPUT", "1"], rule].concat())? {
            return Err(format!("iptables refused the rule {}", rule.join(" ")));
        }
    }
    Ok(())
}

fn iptables(args: &[&str]) -> Result<bool, String> {
    let out = Command::new("iptables")
        .args(["-w", "5"])
        .args(args)
        .output()
        .map_err(|e| format!("cannot run iptables: {e}"))?;
    if out.status.code() == Some(4)
        || String::from_utf8_lossy(&out.stderr).contains("Permission denied")
    {
        return Err(format!(
            "iptables needs root: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.status.success())
}
