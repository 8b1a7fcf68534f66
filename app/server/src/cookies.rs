//! The console's cookie names and reading a cookie from a request. A leaf
//! module: the extractors (`extract`) and the preview origin (`preview`)
//! both read cookies, and the preview's state lives in `AppState`, so the
//! helpers cannot live with the extractors, which need `AppState`.

use axum::http::{header, HeaderMap};

/// Cookie names; `__Host-` prefixed (which forces Secure, Path=/ and no
/// Domain) when the console is served over HTTPS.
pub struct CookieNames {
    pub session: &'static str,
    pub csrf: &'static str,
}

pub fn cookie_names(https: bool) -> CookieNames {
    if https {
        CookieNames {
            session: "__Host-autocrea_session",
            csrf: "__Host-autocrea_csrf",
        }
    } else {
        CookieNames {
            session: "autocrea_session",
            csrf: "autocrea_csrf",
        }
    }
}

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    cookies(headers, name).next()
}

/// Every value of cookie `name` in the request: a sibling origin can plant
/// one of the same name for the parent domain, which browsers send too.
pub fn cookies<'a>(headers: &'a HeaderMap, name: &str) -> impl Iterator<Item = &'a str> + 'a {
    let name = name.to_string();
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(move |(k, _)| *k == name)
        .map(|(_, v)| v)
}
