//! A remote's URL is user input that the appliance's git then connects to,
//! so it is checked strictly before it is stored and again (with its host
//! resolved) before every push or fetch:
//! - only `https://` (or `http://` when the admin allows it): no `ext::`,
//!   `file://`, `ssh://` or scp-like forms, which run programs or reach
//!   the local disk;
//! - no credentials inside it (they would be stored and shown in clear):
//!   the token field is for them;
//! - no address of the appliance itself (loopback, unless allowed), and
//!   never link-local or cloud metadata addresses (SSRF). Private networks
//!   stay allowed: the company's own GitLab usually lives on one.
//!
//! The host is resolved here and git is pinned to those addresses
//! (`http.curloptResolve`), so a DNS answer that changes between the check
//! and the connection (rebinding) cannot send git elsewhere.

use super::RemoteError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What the admin allows (`[remote]` in the config).
#[derive(Debug, Clone, Copy, Default)]
pub struct UrlPolicy {
    pub allow_http: bool,
    pub allow_loopback: bool,
}

/// A checked remote URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    /// The URL as git gets it (normalised by the WHATWG parser).
    pub url: String,
    pub host: String,
    pub port: u16,
    pub https: bool,
}

const URL_MAX: usize = 2048;

/// Checks the URL's form (no network). An IP literal host is checked here
/// too; a name is checked by [`resolve`].
pub fn parse(raw: &str, policy: UrlPolicy) -> Result<RemoteUrl, RemoteError> {
    let raw = raw.trim();
    let invalid = |m: &str| RemoteError::Invalid(m.to_string());
    if raw.is_empty() {
        return Err(invalid("the remote's URL is required"));
    }
    if raw.len() > URL_MAX {
        return Err(invalid("the remote's URL is too long"));
    }
    // An option-looking string or a control character never reaches git.
    if raw.starts_with('-') || raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(invalid(
            "the remote's URL may not start with '-' or contain spaces or control characters",
        ));
    }
    let lower = raw.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err(invalid(
            "the remote's URL must start with https:// (ssh, file, ext:: and other transports are not supported)",
        ));
    }
    let url = url::Url::parse(raw).map_err(|e| invalid(&format!("not a valid URL: {e}")))?;
    let https = match url.scheme() {
        "https" => true,
        "http" if policy.allow_http => false,
        "http" => {
            return Err(invalid(
                "the remote's URL must use https:// (the admin has not allowed plain http)",
            ))
        }
        _ => return Err(invalid("the remote's URL must start with https://")),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "put no credentials in the URL: give the user name and the access token in their own fields, where the token is stored encrypted",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            "the remote's URL may not have a query or a fragment",
        ));
    }
    if url.path().trim_matches('/').is_empty() {
        return Err(invalid(
            "the remote's URL must name a repository (https://host/owner/name.git)",
        ));
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
        Some(url::Host::Ipv4(ip)) => {
            check_address(IpAddr::V4(ip), policy)?;
            ip.to_string()
        }
        Some(url::Host::Ipv6(ip)) => {
            check_address(IpAddr::V6(ip), policy)?;
            ip.to_string()
        }
        None => return Err(invalid("the remote's URL has no host")),
    };
    let port = url
        .port_or_known_default()
        .ok_or_else(|| invalid("the remote's URL has no port"))?;
    Ok(RemoteUrl {
        url: url.to_string(),
        host,
        port,
        https,
    })
}

/// Resolves the host and checks every address it has; returns them for
/// pinning (`http.curloptResolve`).
pub async fn resolve(url: &RemoteUrl, policy: UrlPolicy) -> Result<Vec<IpAddr>, RemoteError> {
    let addrs: Vec<IpAddr> = match url.host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((url.host.as_str(), url.port))
            .await
            .map_err(|e| {
                RemoteError::Failed(format!(
                    "cannot resolve the remote's host {}: {e}",
                    url.host
                ))
            })?
            .map(|a| a.ip())
            .collect(),
    };
    if addrs.is_empty() {
        return Err(RemoteError::Failed(format!(
            "the remote's host {} has no address",
            url.host
        )));
    }
    for ip in &addrs {
        check_address(*ip, policy)?;
    }
    Ok(addrs)
}

/// `http.curloptResolve`'s value: `host:port:addr,addr` (IPv6 in brackets).
pub fn pin(url: &RemoteUrl, addrs: &[IpAddr]) -> String {
    let list: Vec<String> = addrs
        .iter()
        .map(|a| match a {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        })
        .collect();
    let host = match url.host.parse::<Ipv6Addr>() {
        Ok(_) => format!("[{}]", url.host),
        Err(_) => url.host.clone(),
    };
    format!("{host}:{}:{}", url.port, list.join(","))
}

/// Refuses the addresses a user's URL must never reach.
pub fn check_address(ip: IpAddr, policy: UrlPolicy) -> Result<(), RemoteError> {
    // An IPv4 address written as IPv6 (::ffff:127.0.0.1) is the IPv4 one.
    let ip = match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    let refuse = |why: &str| {
        Err(RemoteError::Invalid(format!(
            "the remote's address {ip} is {why}; the appliance does not connect there"
        )))
    };
    if is_metadata(ip) {
        return refuse("a cloud metadata address");
    }
    match ip {
        IpAddr::V4(v4) => {
            if v4.is_unspecified() || v4.octets()[0] == 0 {
                return refuse("unspecified");
            }
            if v4.is_link_local() {
                return refuse("link-local");
            }
            if v4.is_broadcast() || v4.is_multicast() {
                return refuse("a broadcast or multicast address");
            }
            if v4.is_loopback() && !policy.allow_loopback {
                return refuse("loopback (the appliance's own host)");
            }
            // Sandboxes, apps and databases sit on this host's bridge
            // networks, kept apart from each other; git runs on the host
            // and must not become the way across.
            if !policy.allow_loopback && on_bridge_network(v4) {
                return refuse("on one of this host's container networks");
            }
        }
        IpAddr::V6(v6) => {
            if v6.is_unspecified() {
                return refuse("unspecified");
            }
            if (v6.segments()[0] & 0xffc0) == 0xfe80 {
                return refuse("link-local");
            }
            if v6.is_multicast() {
                return refuse("a multicast address");
            }
            if v6.is_loopback() && !policy.allow_loopback {
                return refuse("loopback (the appliance's own host)");
            }
        }
    }
    Ok(())
}

/// Whether `ip` is on a network directly attached to one of this host's
/// Linux bridges (Docker's networks are bridges), from the routing table.
fn on_bridge_network(ip: Ipv4Addr) -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/net/route") else {
        return false;
    };
    let is_bridge = |iface: &str| {
        std::path::Path::new("/sys/class/net")
            .join(iface)
            .join("bridge")
            .exists()
    };
    bridge_networks(&table, is_bridge)
        .iter()
        .any(|(net, mask)| u32::from(ip) & mask == *net)
}

/// `(network, mask)` of the directly connected routes (no gateway) of the
/// interfaces `is_bridge` accepts, from `/proc/net/route`'s text (addresses
/// in the host's byte order, as hex).
fn bridge_networks(table: &str, is_bridge: impl Fn(&str) -> bool) -> Vec<(u32, u32)> {
    let addr = |hex: &str| {
        u32::from_str_radix(hex, 16)
            .ok()
            .map(|v| u32::from(Ipv4Addr::from(v.to_ne_bytes())))
    };
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (iface, dest, gateway, mask) = (f.first()?, f.get(1)?, f.get(2)?, f.get(7)?);
            let direct = addr(gateway)? == 0;
            (direct && is_bridge(iface)).then_some((addr(dest)?, addr(mask)?))
        })
        .collect()
}

/// Instance metadata services: AWS, GCP and Azure at 169.254.169.254
/// (link-local anyway), AWS's IPv6 one, Alibaba's, Oracle's.
fn is_metadata(ip: IpAddr) -> bool {
    const V4: [Ipv4Addr; 3] = [
        Ipv4Addr::new(169, 254, 169, 254),
        Ipv4Addr::new(100, 100, 100, 200),
        Ipv4Addr::new(192, 0, 0, 192),
    ];
    match ip {
        IpAddr::V4(v4) => V4.contains(&v4),
        IpAddr::V6(v6) => v6 == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: UrlPolicy = UrlPolicy {
        allow_http: false,
        allow_loopback: false,
    };
    const LAB: UrlPolicy = UrlPolicy {
        allow_http: true,
        allow_loopback: true,
    };

    fn refused(raw: &str, policy: UrlPolicy) -> String {
        match parse(raw, policy) {
            Err(RemoteError::Invalid(m)) => m,
            other => panic!("{raw} was not refused: {other:?}"),
        }
    }

    #[test]
    fn https_urls_pass() {
        let u = parse("https://github.com/acme/tool.git", STRICT).unwrap();
        assert_eq!(u.host, "github.com");
        assert_eq!(u.port, 443);
        assert!(u.https);
        let u = parse("https://10.1.2.3:8443/team/app.git", STRICT).unwrap();
        assert_eq!((u.host.as_str(), u.port), ("10.1.2.3", 8443));
        parse("https://192.168.1.10/a/b", STRICT).unwrap();
    }

    #[test]
    fn credentials_in_the_url_are_refused() {
        let m = refused("https://user:ghp_secret@github.com/a/b.git", STRICT);
        assert!(m.contains("token"), "{m}");
        assert!(!m.contains("ghp_secret"));
        refused("https://user@github.com/a/b.git", STRICT);
    }

    #[test]
    fn other_transports_are_refused() {
        for raw in [
            "ftp://example.com/a.git",
            "ssh://git@example.com/a.git",
            "git@github.com:a/b.git",
            "ext::sh -c touch% /tmp/pwned",
            "file:///etc/passwd",
            "/srv/repo.git",
            "--upload-pack=touch /tmp/x",
            "-https://example.com/a",
            "https://example.com/a b",
            "https://example.com/a\nb",
            "https://example.com/a%0a\tx",
            "https://example.com/",
            "https://example.com/a?x=1",
        ] {
            refused(raw, STRICT);
        }
        let m = refused("http://example.com/a.git", STRICT);
        assert!(m.contains("https"), "{m}");
        parse("http://example.com/a.git", LAB).unwrap();
    }

    #[test]
    fn own_and_metadata_addresses_are_refused() {
        for raw in [
            "https://127.0.0.1/a.git",
            "https://[::1]/a.git",
            "https://[::ffff:127.0.0.1]/a.git",
            "https://0.0.0.0/a.git",
            "https://169.254.169.254/latest",
            "https://[fe80::1]/a.git",
            "https://100.100.100.200/a.git",
            "https://2130706433/a.git", // 127.0.0.1 as one number
        ] {
            refused(raw, STRICT);
        }
        // Loopback when the admin allows it; metadata never.
        parse("http://127.0.0.1:9/a.git", LAB).unwrap();
        refused("https://169.254.169.254/x", LAB);
        refused("https://[fd00:ec2::254]/x", LAB);
    }

    #[tokio::test]
    async fn names_are_checked_after_resolution() {
        let u = parse("https://localhost/a.git", STRICT).unwrap();
        assert!(matches!(
            resolve(&u, STRICT).await,
            Err(RemoteError::Invalid(_))
        ));
        let addrs = resolve(&u, LAB).await.unwrap();
        assert!(addrs.iter().all(|a| a.is_loopback()));
        assert!(pin(&u, &addrs).starts_with("localhost:443:"));
    }
}

#[cfg(test)]
mod bridge_tests {
    use super::*;

    #[test]
    fn container_networks_come_from_the_routing_table() {
        let table =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n\
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        let nets = bridge_networks(table, |i| i == "docker0");
        if cfg!(target_endian = "little") {
            assert_eq!(
                nets,
                [(
                    u32::from(Ipv4Addr::new(172, 17, 0, 0)),
                    u32::from(Ipv4Addr::new(255, 255, 0, 0))
                )]
            );
        }
        assert_eq!(nets.len(), 1, "eth0's networks are not bridges");
    }
}
