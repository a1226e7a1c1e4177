//! The browser session: a server-side session (the same `sessions` table as API tokens) in
//! an `HttpOnly`, `SameSite=Lax` cookie, the CSRF token derived from it, and flash messages.

use ipocket_core::{Actor, Role, User};

use crate::http::ApiRequest;
use crate::AppState;

/// The session cookie: the session token itself (only its hash is stored).
pub(crate) const SESSION_COOKIE: &str = "ipocket_session";
/// The login form's CSRF cookie (before there is a session).
pub(crate) const LOGIN_CSRF_COOKIE: &str = "ipocket_login_csrf";
/// Messages shown once on the next page.
pub(crate) const FLASH_COOKIE: &str = "ipocket_flash";

/// The value of a cookie of the request.
pub(crate) fn cookie<'r>(req: &'r ApiRequest, name: &str) -> Option<&'r str> {
    req.headers
        .get_all(hyper::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value. `max_age` `Some(0)` deletes; `None` lasts the browser session.
pub(crate) fn set_cookie(
    req: &ApiRequest,
    secure: bool,
    name: &str,
    value: &str,
    max_age: Option<u64>,
) -> String {
    let mut c = format!("{name}={value}; Path=/ui; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure || behind_tls(req) {
        c.push_str("; Secure");
    }
    c
}

/// A TLS-terminating proxy in front says so.
fn behind_tls(req: &ApiRequest) -> bool {
    req.header("x-forwarded-proto")
        .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// The form token of a session: a keyed hash of the session token, so it is stable for the
/// session, differs between sessions and does not reveal the session token.
pub(crate) fn csrf_token(session_token: &str) -> String {
    use blake2::Digest;
    let d = blake2::Blake2s256::new()
        .chain_update(b"ipocket-ui-csrf\0")
        .chain_update(session_token.as_bytes())
        .finalize();
    hex(&d[..16])
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 16 random bytes, hex: the login form token and CSP nonces.
pub(crate) fn random_token() -> String {
    use password_hash::rand_core::{OsRng, RngCore};
    let mut buf = [0u8; 16];
    OsRng.fill_bytes(&mut buf);
    hex(&buf)
}

pub(crate) fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Who is logged in, as pages see it.
pub(crate) struct Session {
    pub(crate) user: User,
    pub(crate) token: String,
    pub(crate) csrf: String,
}

impl Session {
    pub(crate) fn actor(&self) -> Actor {
        Actor::user(&self.user)
    }

    /// Whether the user may change inventory data (the API's rule).
    pub(crate) fn can_write(&self) -> bool {
        self.actor().require_data_write().is_ok()
    }

    pub(crate) fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }
}

/// The session of the request's cookie, if it is valid.
pub(crate) async fn current(state: &AppState, req: &ApiRequest) -> Option<Session> {
    let token = cookie(req, SESSION_COOKIE)?.to_string();
    let lookup = token.clone();
    let user = state
        .read_auth(move |inv| inv.session_user(&lookup))
        .await
        .ok()??;
    let _ = req.user.set(user.clone());
    Some(Session {
        user,
        csrf: csrf_token(&token),
        token,
    })
}

/// How a flash message looks.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum FlashKind {
    Success,
    Info,
    Warning,
    Error,
}

impl FlashKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FlashKind::Success => "success",
            FlashKind::Info => "info",
            FlashKind::Warning => "warning",
            FlashKind::Error => "error",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "success" => FlashKind::Success,
            "info" => FlashKind::Info,
            "warning" => FlashKind::Warning,
            "error" => FlashKind::Error,
            _ => return None,
        })
    }
}

/// Most messages a flash cookie carries, and their longest text (as the original).
const FLASH_MAX: usize = 5;
const FLASH_MAX_CHARS: usize = 400;

/// `kind:text` pairs, percent-encoded, joined by `&` (a cookie value has no `;` or space).
pub(crate) fn encode_flash(messages: &[(FlashKind, String)]) -> String {
    messages
        .iter()
        .take(FLASH_MAX)
        .map(|(k, m)| {
            let text: String = m.chars().take(FLASH_MAX_CHARS).collect();
            format!("{}:{}", k.as_str(), percent_encode(&text))
        })
        .collect::<Vec<_>>()
        .join("&")
}

pub(crate) fn decode_flash(value: &str) -> Vec<(FlashKind, String)> {
    value
        .split('&')
        .filter_map(|part| {
            let (k, m) = part.split_once(':')?;
            Some((FlashKind::parse(k)?, crate::http::percent_decode(m)))
        })
        .take(FLASH_MAX)
        .collect()
}

/// Percent-encodes everything but unreserved characters (for cookies and query strings).
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flash_round_trip() {
        let m = vec![
            (
                FlashKind::Success,
                "Created 10.0.0.1; ok & done".to_string(),
            ),
            (FlashKind::Error, "ünïcode: 100%".to_string()),
        ];
        let v = encode_flash(&m);
        assert!(!v.contains(';') && !v.contains(' '));
        assert_eq!(decode_flash(&v), m);
        assert!(decode_flash("bogus:x&nokind").is_empty());
    }

    #[test]
    fn csrf_differs_per_session_and_hides_the_token() {
        let a = csrf_token("token-a");
        assert_eq!(a, csrf_token("token-a"));
        assert_ne!(a, csrf_token("token-b"));
        assert_eq!(a.len(), 32);
        assert!(!a.contains("token"));
        assert!(same_token(&a, &a.clone()));
        assert!(!same_token(&a, &csrf_token("token-b")));
    }
}
