//! Scoped API tokens: named, long-lived bearer tokens that may only read what their scopes
//! name (`/metrics`, service discovery), for Prometheus and other machines. Only a hash is
//! stored (as for sessions); the token is shown once, at creation. A token is independent of
//! the Admin who created it: it lives until it is revoked or its optional expiry.

use std::fmt;
use std::str::FromStr;

use ipocket_db::{Row, Sql};
use serde::{Deserialize, Serialize};

use crate::audit::{write_audit, AuditRecord, FieldChange};
use crate::dialect::shift_time;
use crate::error::{Error, Result};
use crate::model::{required_name, Actor};
use crate::sessions::{ago, new_token, token_hash, TOUCH_EVERY_SECS};
use crate::store::Inventory;

/// Every API token starts with this, so a server tells it from a login token without a
/// lookup (and secret scanners can spot one).
pub const API_TOKEN_PREFIX: &str = "ipt_";

/// The longest expiry a token may be given, in days (100 years: "never" is no expiry).
pub const MAX_TOKEN_DAYS: u32 = 36_500;

/// What an API token may read. Every scope is read-only.
///
/// ```
/// use ipocket_core::TokenScope;
/// let s = TokenScope::parse_list("sd, metrics").unwrap();
/// assert_eq!(s, [TokenScope::Metrics, TokenScope::Sd]);
/// assert!(TokenScope::parse_list("metrics,write").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    /// `GET /metrics`.
    Metrics,
    /// `GET /sd/node` and `GET /api/v1/sd`.
    Sd,
}

impl TokenScope {
    /// Every scope, in their canonical order.
    pub const ALL: [TokenScope; 2] = [TokenScope::Metrics, TokenScope::Sd];

    /// `metrics` or `sd`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Metrics => "metrics",
            TokenScope::Sd => "sd",
        }
    }

    /// What the scope allows, for people.
    pub fn describe(self) -> &'static str {
        match self {
            TokenScope::Metrics => "read /metrics",
            TokenScope::Sd => "read /sd/node and /api/v1/sd",
        }
    }

    /// A comma-separated list (`metrics,sd`): sorted, without repeats, at least one.
    pub fn parse_list(text: &str) -> Result<Vec<TokenScope>> {
        let scopes = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<_>>>()?;
        normalize_scopes(&scopes)
    }
}

impl fmt::Display for TokenScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TokenScope {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "metrics" => Ok(TokenScope::Metrics),
            "sd" => Ok(TokenScope::Sd),
            _ => Err(Error::invalid(
                "scopes",
                format!("unknown scope {s:?} (use metrics, sd)"),
            )),
        }
    }
}

fn normalize_scopes(scopes: &[TokenScope]) -> Result<Vec<TokenScope>> {
    let mut v = scopes.to_vec();
    v.sort_unstable();
    v.dedup();
    if v.is_empty() {
        return Err(Error::invalid(
            "scopes",
            "at least one scope is required (metrics, sd)",
        ));
    }
    Ok(v)
}

fn scopes_text(scopes: &[TokenScope]) -> String {
    let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    names.join(",")
}

/// An API token as listed: never the token or its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    /// Stable, non-secret id (the row id).
    pub id: i64,
    /// Unique name (what the token is for: `prometheus-main`).
    pub name: String,
    /// What it may read.
    pub scopes: Vec<TokenScope>,
    /// The user who created it; `None` for the system (the command line).
    pub created_by: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS` UTC.
    pub created_at: String,
    /// When it stops working; `None`: never.
    pub expires_at: Option<String>,
    /// Its last accepted use, to the minute ([`TOUCH_EVERY_SECS`]); `None`: never used.
    pub last_used_at: Option<String>,
    /// Past `expires_at`: refused (listed until revoked).
    pub expired: bool,
}

/// What a presented token may do for one scope ([`Inventory::use_api_token`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenUse {
    /// A live token with the scope: allowed (its last use is recorded).
    Allowed(ApiToken),
    /// A live token without the scope: refuse with 403.
    OtherScope(ApiToken),
    /// No such token (never issued, revoked) or expired: refuse with 401.
    Unknown,
}

const COLUMNS: &str = "id, name, scopes, created_by, created_at, expires_at, last_used_at,
                       expires_at IS NOT NULL AND expires_at <= ?1";

fn token_row(r: &Row) -> Result<ApiToken> {
    let scopes: String = r.get(2)?;
    Ok(ApiToken {
        id: r.get(0)?,
        name: r.get(1)?,
        // Written only by this module; an unknown name (a newer build's scope) is dropped.
        scopes: scopes.split(',').filter_map(|s| s.parse().ok()).collect(),
        created_by: r.get(3)?,
        created_at: r.get(4)?,
        expires_at: r.get(5)?,
        last_used_at: r.get(6)?,
        expired: r.get(7)?,
    })
}

fn token_by_id(c: &dyn Sql, now: &str, id: i64) -> Result<ApiToken> {
    c.query_opt(
        &format!("SELECT {COLUMNS} FROM api_tokens WHERE id = ?2"),
        &[&now, &id],
    )?
    .map(|r| token_row(&r))
    .transpose()?
    .ok_or_else(|| Error::not_found("API token", id))
}

fn audit_token(
    c: &dyn Sql,
    actor: &Actor,
    now: &str,
    t: &ApiToken,
    action: &str,
    changes: &[FieldChange],
) -> Result<()> {
    write_audit(
        c,
        actor,
        now,
        &AuditRecord {
            target_type: "API_TOKEN",
            target_id: t.id,
            target_label: &t.name,
            action,
            changes,
            message: None,
        },
    )
}

impl Inventory {
    /// Creates an API token (Admin actor only) and returns it with the token itself, shown
    /// this once (`ipt_` and 64 hex digits; only a hash is stored). `expires_in_days`
    /// (1..=[`MAX_TOKEN_DAYS`]) sets an expiry; `None` never expires. A duplicate name is a
    /// conflict. Audited as `CREATE` of an `API_TOKEN`.
    ///
    /// ```
    /// use ipocket_core::{Actor, Inventory, TokenScope, TokenUse};
    /// let mut inv = Inventory::open_in_memory().unwrap();
    /// let (info, token) = inv
    ///     .create_api_token(&Actor::system(), "prometheus", &[TokenScope::Metrics], None)
    ///     .unwrap();
    /// assert!(token.starts_with("ipt_"));
    /// assert!(matches!(inv.use_api_token(&token, TokenScope::Metrics).unwrap(), TokenUse::Allowed(_)));
    /// assert!(matches!(inv.use_api_token(&token, TokenScope::Sd).unwrap(), TokenUse::OtherScope(_)));
    /// inv.revoke_api_token(&Actor::system(), info.id).unwrap();
    /// assert_eq!(inv.use_api_token(&token, TokenScope::Metrics).unwrap(), TokenUse::Unknown);
    /// ```
    pub fn create_api_token(
        &mut self,
        actor: &Actor,
        name: &str,
        scopes: &[TokenScope],
        expires_in_days: Option<u32>,
    ) -> Result<(ApiToken, String)> {
        actor.require_user_admin()?;
        let name = required_name("name", name)?;
        let scopes = normalize_scopes(scopes)?;
        if let Some(d) = expires_in_days {
            if !(1..=MAX_TOKEN_DAYS).contains(&d) {
                return Err(Error::invalid(
                    "expires_in_days",
                    format!(
                        "expires_in_days must be 1..={MAX_TOKEN_DAYS} (leave it out for no expiry)"
                    ),
                ));
            }
        }
        let token = format!("{API_TOKEN_PREFIX}{}", new_token());
        let now = self.now()?;
        let expires_at = expires_in_days
            .map(|d| shift_time(&now, i64::from(d) * 86_400))
            .transpose()?;
        self.write(|tx| {
            let id: i64 = tx
                .query_one(
                    "INSERT INTO api_tokens (name, token_hash, scopes, created_by_id, created_by, created_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                    &[
                        &name,
                        &token_hash(&token),
                        &scopes_text(&scopes),
                        &actor.user_id,
                        &actor.username,
                        &now,
                        &expires_at,
                    ],
                )
                .map_err(|e| match Error::from(e) {
                    e if e.is_unique_violation() => Error::Conflict(format!(
                        "an API token named {name:?} already exists"
                    )),
                    e => e,
                })?
                .get(0)?;
            let info = token_by_id(tx, &now, id)?;
            let mut ch = vec![FieldChange::new("scopes", None, Some(scopes_text(&scopes)))];
            if let Some(e) = &info.expires_at {
                ch.push(FieldChange::new("expires_at", None, Some(e.clone())));
            }
            audit_token(tx, actor, &now, &info, "CREATE", &ch)?;
            Ok((info, token))
        })
    }

    /// Every API token by name, expired ones included (they are refused but stay listed
    /// until revoked).
    pub fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        self.read(|c| {
            let now = self.now_in(c)?;
            c.query(
                &format!("SELECT {COLUMNS} FROM api_tokens ORDER BY name"),
                &[&now],
            )?
            .iter()
            .map(token_row)
            .collect()
        })
    }

    /// Revokes (deletes) an API token by id (Admin actor only); it stops working at once.
    /// Audited as `REVOKE` of an `API_TOKEN`. Returns what was revoked.
    pub fn revoke_api_token(&mut self, actor: &Actor, id: i64) -> Result<ApiToken> {
        actor.require_user_admin()?;
        let now = self.now()?;
        self.write(|tx| {
            let t = token_by_id(tx, &now, id)?;
            tx.execute("DELETE FROM api_tokens WHERE id = ?1", &[&id])?;
            let ch = [FieldChange::new(
                "scopes",
                Some(scopes_text(&t.scopes)),
                None,
            )];
            audit_token(tx, actor, &now, &t, "REVOKE", &ch)?;
            Ok(t)
        })
    }

    /// The live (issued, not revoked, not expired) API token a presented token is, without
    /// recording a use: for refusing it where it does not belong.
    pub fn api_token(&self, token: &str) -> Result<Option<ApiToken>> {
        let found = self.read(|c| live_token(c, &self.now_in(c)?, token))?;
        Ok(found.map(|(t, _)| t))
    }

    /// Checks a presented API token for one scope. An allowed use moves `last_used_at` on
    /// (at most once a minute, never waiting for the writer), so most checks only read.
    pub fn use_api_token(&self, token: &str, scope: TokenScope) -> Result<TokenUse> {
        self.read(|c| {
            let now = self.now_in(c)?;
            let Some((t, stale)) = live_token(c, &now, token)? else {
                return Ok(TokenUse::Unknown);
            };
            if !t.scopes.contains(&scope) {
                return Ok(TokenUse::OtherScope(t));
            }
            if stale {
                self.write_if_free(
                    c,
                    "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1",
                    &[&t.id, &now],
                )?;
            }
            Ok(TokenUse::Allowed(t))
        })
    }
}

/// The live token and whether its `last_used_at` is older than [`TOUCH_EVERY_SECS`].
fn live_token(c: &dyn Sql, now: &str, token: &str) -> Result<Option<(ApiToken, bool)>> {
    if !token.starts_with(API_TOKEN_PREFIX) {
        return Ok(None);
    }
    let found = c
        .query_opt(
            &format!(
                "SELECT {COLUMNS}, last_used_at IS NULL OR last_used_at <= ?3
                 FROM api_tokens WHERE token_hash = ?2"
            ),
            &[&now, &token_hash(token), &ago(now, TOUCH_EVERY_SECS)?],
        )?
        .map(|r| Ok::<_, Error>((token_row(&r)?, r.get::<bool>(8)?)))
        .transpose()?;
    Ok(found.filter(|(t, _)| !t.expired))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;
    use crate::{AuditFilter, Page};

    fn at(inv: &mut Inventory, t: &str) {
        inv.set_fixed_time(Some(t.to_string()));
    }

    #[test]
    fn only_admins_create_and_revoke_and_names_are_unique() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let sys = Actor::system();
        let ed = inv.create_user(&sys, "ed", "pw", Role::Editor).unwrap();
        let root = inv.create_user(&sys, "root", "pw", Role::Admin).unwrap();
        let m = [TokenScope::Metrics];
        assert!(matches!(
            inv.create_api_token(&Actor::user(&ed), "p", &m, None),
            Err(Error::Forbidden(_))
        ));
        let (t, _) = inv
            .create_api_token(&Actor::user(&root), " prom ", &m, None)
            .unwrap();
        assert_eq!(
            (t.name.as_str(), t.created_by.as_deref()),
            ("prom", Some("root"))
        );
        assert!(matches!(
            inv.create_api_token(&sys, "prom", &m, None),
            Err(Error::Conflict(_))
        ));
        for bad in [
            inv.create_api_token(&sys, "x", &[], None),
            inv.create_api_token(&sys, "", &m, None),
            inv.create_api_token(&sys, "x", &m, Some(0)),
            inv.create_api_token(&sys, "x", &m, Some(MAX_TOKEN_DAYS + 1)),
        ] {
            assert!(matches!(bad, Err(Error::Invalid { .. })), "{bad:?}");
        }
        assert!(matches!(
            inv.revoke_api_token(&Actor::user(&ed), t.id),
            Err(Error::Forbidden(_))
        ));
        inv.revoke_api_token(&sys, t.id).unwrap();
        assert!(matches!(
            inv.revoke_api_token(&sys, t.id),
            Err(Error::NotFound { .. })
        ));
        // The creator's name stays when the user goes.
        let (t2, _) = inv
            .create_api_token(&Actor::user(&root), "sd", &[TokenScope::Sd], None)
            .unwrap();
        inv.create_user(&sys, "root2", "pw", Role::Admin).unwrap();
        inv.delete_user(&sys, root.id).unwrap();
        assert_eq!(
            inv.api_tokens().unwrap()[0].created_by.as_deref(),
            Some("root")
        );
        assert_eq!(inv.api_tokens().unwrap()[0].id, t2.id);
    }

    #[test]
    fn stored_hashed_listed_without_the_token_and_audited() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let sys = Actor::system();
        let (t, token) = inv
            .create_api_token(
                &sys,
                "prom",
                &[TokenScope::Sd, TokenScope::Metrics],
                Some(30),
            )
            .unwrap();
        assert_eq!(token.len(), API_TOKEN_PREFIX.len() + 64);
        let stored: String = inv
            .read(|c| {
                Ok(
                    c.query_one("SELECT token_hash || scopes FROM api_tokens", &[])?
                        .get(0)?,
                )
            })
            .unwrap();
        assert!(
            !stored.contains(&token[API_TOKEN_PREFIX.len()..]),
            "{stored}"
        );
        let json = serde_json::to_string(&inv.api_tokens().unwrap()).unwrap();
        assert!(!json.contains(&token) && !json.contains(&token_hash(&token)));
        assert!(json.contains(r#""scopes":["metrics","sd"]"#), "{json}");
        assert!(t.expires_at.is_some() && t.last_used_at.is_none() && !t.expired);
        inv.revoke_api_token(&sys, t.id).unwrap();
        let log = inv
            .audit_log(&AuditFilter::default(), Page::default())
            .unwrap()
            .items;
        let rows: Vec<(&str, &str, &str)> = log
            .iter()
            .filter(|e| e.target_type == "API_TOKEN")
            .map(|e| {
                (
                    e.action.as_str(),
                    e.target_label.as_str(),
                    e.changes[0].field.as_ref(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [("REVOKE", "prom", "scopes"), ("CREATE", "prom", "scopes")]
        );
    }

    #[test]
    fn scope_expiry_and_last_use_at_most_once_a_minute() {
        let mut inv = Inventory::open_in_memory().unwrap();
        at(&mut inv, "2030-01-01 10:00:00");
        let (_, token) = inv
            .create_api_token(&Actor::system(), "m", &[TokenScope::Metrics], Some(1))
            .unwrap();
        let used = |inv: &Inventory| inv.api_tokens().unwrap()[0].last_used_at.clone();
        at(&mut inv, "2030-01-01 10:00:30");
        assert!(matches!(
            inv.use_api_token(&token, TokenScope::Metrics).unwrap(),
            TokenUse::Allowed(_)
        ));
        assert_eq!(used(&inv).as_deref(), Some("2030-01-01 10:00:30"));
        at(&mut inv, "2030-01-01 10:01:29");
        inv.use_api_token(&token, TokenScope::Metrics).unwrap();
        assert_eq!(used(&inv).as_deref(), Some("2030-01-01 10:00:30"));
        at(&mut inv, "2030-01-01 10:01:30");
        inv.use_api_token(&token, TokenScope::Metrics).unwrap();
        assert_eq!(used(&inv).as_deref(), Some("2030-01-01 10:01:30"));
        // The wrong scope is refused and is not a use.
        at(&mut inv, "2030-01-01 11:00:00");
        assert!(matches!(
            inv.use_api_token(&token, TokenScope::Sd).unwrap(),
            TokenUse::OtherScope(_)
        ));
        assert_eq!(used(&inv).as_deref(), Some("2030-01-01 10:01:30"));
        assert_eq!(inv.api_token(&token).unwrap().unwrap().name, "m");
        // Neither a login token nor a guess is an API token.
        assert_eq!(
            inv.use_api_token("ipt_00", TokenScope::Metrics).unwrap(),
            TokenUse::Unknown
        );
        // A day later it has expired: refused, still listed.
        at(&mut inv, "2030-01-02 10:00:00");
        assert_eq!(
            inv.use_api_token(&token, TokenScope::Metrics).unwrap(),
            TokenUse::Unknown
        );
        assert!(inv.api_tokens().unwrap()[0].expired);
        assert_eq!(inv.api_token(&token).unwrap(), None);
    }

    #[test]
    fn an_api_token_is_not_a_login() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let (_, token) = inv
            .create_api_token(&Actor::system(), "m", &TokenScope::ALL, None)
            .unwrap();
        assert_eq!(inv.session_user(&token).unwrap(), None);
    }
}
