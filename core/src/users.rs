//! Users, roles and password hashes (argon2id).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rusqlite::{params, Connection, OptionalExtension};

use crate::audit::{write_audit, AuditRecord, FieldChange};
use crate::error::{Error, Result};
use crate::model::{required_name, Actor, Role, User};
use crate::store::Inventory;

/// Hashes a password as a PHC string (`$argon2id$…`).
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Password(e.to_string()))
}

/// Checks a password against a stored hash: argon2 (PHC string) or, for
/// databases of the original ipocket, bcrypt (`$2a$`/`$2b$`/`$2y$`). A
/// malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    if hash.starts_with("$2") {
        return bcrypt::verify(password, hash).unwrap_or(false);
    }
    match PasswordHash::new(hash) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// A password check that passed ([`Inventory::verify_login`]), waiting for
/// [`Inventory::open_session`].
// No Debug: it carries password hashes.
#[derive(Clone)]
pub struct VerifiedLogin {
    user: User,
    /// The stored hash that was checked: the session opens only if it is still the same.
    checked_hash: String,
    /// The argon2 hash replacing an old bcrypt one.
    rehash: Option<String>,
}

fn token_hash(token: &str) -> String {
    use blake2::Digest;
    let d = blake2::Blake2s256::digest(token.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn new_token() -> String {
    use argon2::password_hash::rand_core::RngCore;
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn user_row(conn: &Connection, id: i64) -> Result<(User, String)> {
    conn.query_row(
        "SELECT id, username, role, is_active, hashed_password FROM users WHERE id = ?1",
        [id],
        |r| {
            let role: String = r.get(2)?;
            Ok((
                User {
                    id: r.get(0)?,
                    username: r.get(1)?,
                    role: role.parse().unwrap_or(Role::Viewer),
                    is_active: r.get(3)?,
                },
                r.get::<_, String>(4)?,
            ))
        },
    )
    .optional()?
    .ok_or_else(|| Error::not_found("user", id))
}

fn active_admins(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM users WHERE role = 'Admin' AND is_active = 1",
        [],
        |r| r.get(0),
    )?)
}

fn audit_user(
    conn: &Connection,
    actor: &Actor,
    now: &str,
    u: &User,
    action: &str,
    ch: &[FieldChange],
) -> Result<()> {
    write_audit(
        conn,
        actor,
        now,
        &AuditRecord {
            target_type: "USER",
            target_id: u.id,
            target_label: &u.username,
            action,
            changes: ch,
            message: None,
        },
    )
}

impl Inventory {
    /// All users by name.
    pub fn users(&self) -> Result<Vec<User>> {
        let mut st = self
            .conn
            .prepare("SELECT id FROM users ORDER BY username")?;
        let ids: Vec<i64> = st
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        ids.into_iter()
            .map(|id| Ok(user_row(&self.conn, id)?.0))
            .collect()
    }

    /// Creates a user (Admin actor only). Duplicate names are a conflict.
    pub fn create_user(
        &mut self,
        actor: &Actor,
        username: &str,
        password: &str,
        role: Role,
    ) -> Result<User> {
        actor.require_user_admin()?;
        let username = required_name("username", username)?;
        if password.is_empty() {
            return Err(Error::invalid("password", "password is required"));
        }
        let hash = hash_password(password)?;
        let now = self.now()?;
        let tx = self.write_tx()?;
        let exists: bool = tx.query_row(
            "SELECT count(*) > 0 FROM users WHERE username = ?1",
            [&username],
            |r| r.get(0),
        )?;
        if exists {
            return Err(Error::Conflict(format!(
                "username {username:?} already exists"
            )));
        }
        tx.execute(
            "INSERT INTO users (username, hashed_password, role, is_active) VALUES (?1, ?2, ?3, 1)",
            params![username, hash, role.as_str()],
        )?;
        let u = User {
            id: tx.last_insert_rowid(),
            username,
            role,
            is_active: true,
        };
        audit_user(
            &tx,
            actor,
            &now,
            &u,
            "CREATE",
            &[
                FieldChange::new("role", None, Some(role.to_string())),
                FieldChange::new("is_active", None, Some("true".into())),
            ],
        )?;
        tx.commit()?;
        Ok(u)
    }

    /// Creates `username` as Admin when there is no user at all; returns whether it did.
    pub fn bootstrap_admin(&mut self, username: &str, password: &str) -> Result<bool> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
        if n > 0 {
            return Ok(false);
        }
        self.create_user(&Actor::system(), username, password, Role::Admin)?;
        Ok(true)
    }

    /// The active user with this name and password, or `None`.
    pub fn authenticate(&self, username: &str, password: &str) -> Result<Option<User>> {
        let id: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM users WHERE username = ?1",
                [username],
                |r| r.get(0),
            )
            .optional()?;
        let Some(id) = id else { return Ok(None) };
        let (u, hash) = user_row(&self.conn, id)?;
        Ok((u.is_active && verify_password(password, &hash)).then_some(u))
    }

    /// Checks the password and opens a session; returns the user and the bearer
    /// token (64 hex characters). Only a hash of the token is stored. Writes a
    /// `LOGIN` audit row.
    ///
    /// A bcrypt hash from the original ipocket is replaced by an argon2 hash
    /// on the first successful login (audited as `password: upgraded`).
    ///
    /// The same as [`Inventory::verify_login`] then [`Inventory::open_session`]; a server
    /// calls those two separately so the slow hashing runs on a reading connection.
    pub fn login(&mut self, username: &str, password: &str) -> Result<Option<(User, String)>> {
        let Some(verified) = self.verify_login(username, password)? else {
            return Ok(None);
        };
        self.open_session(verified)
    }

    /// The CPU-heavy half of [`Inventory::login`]: checks the password and, for an old
    /// bcrypt hash, computes its argon2 replacement. Reads only, so it may run on any
    /// connection while another one writes.
    pub fn verify_login(&self, username: &str, password: &str) -> Result<Option<VerifiedLogin>> {
        let Some(user) = self.authenticate(username, password)? else {
            return Ok(None);
        };
        let old_hash = user_row(&self.conn, user.id)?.1;
        let rehash = if old_hash.starts_with("$argon2") {
            None
        } else {
            Some(hash_password(password)?)
        };
        Ok(Some(VerifiedLogin {
            user,
            checked_hash: old_hash,
            rehash,
        }))
    }

    /// The quick, writing half of [`Inventory::login`]: stores the session (and the
    /// upgraded hash). `None` when the user was deactivated or its password changed
    /// since [`Inventory::verify_login`].
    pub fn open_session(&mut self, verified: VerifiedLogin) -> Result<Option<(User, String)>> {
        let token = new_token();
        let now = self.now()?;
        let tx = self.write_tx()?;
        let (u, hash_now) = user_row(&tx, verified.user.id)?;
        if !u.is_active || hash_now != verified.checked_hash {
            return Ok(None);
        }
        if let Some(h) = verified.rehash {
            tx.execute(
                "UPDATE users SET hashed_password = ?2 WHERE id = ?1",
                params![u.id, h],
            )?;
            let ch = [FieldChange::new("password", None, Some("upgraded".into()))];
            audit_user(&tx, &Actor::user(&u), &now, &u, "UPDATE", &ch)?;
        }
        tx.execute(
            "INSERT INTO sessions (token_hash, user_id, created_at) VALUES (?1, ?2, ?3)",
            params![token_hash(&token), u.id, now],
        )?;
        audit_user(&tx, &Actor::user(&u), &now, &u, "LOGIN", &[])?;
        tx.commit()?;
        Ok(Some((u, token)))
    }

    /// The active user a session token belongs to.
    pub fn session_user(&self, token: &str) -> Result<Option<User>> {
        let id: Option<i64> = self
            .conn
            .query_row(
                "SELECT user_id FROM sessions WHERE token_hash = ?1",
                [token_hash(token)],
                |r| r.get(0),
            )
            .optional()?;
        match id {
            Some(id) => {
                let (u, _) = user_row(&self.conn, id)?;
                Ok(u.is_active.then_some(u))
            }
            None => Ok(None),
        }
    }

    /// Ends one session (logout); returns whether it existed.
    pub fn logout(&mut self, token: &str) -> Result<bool> {
        let now = self.now()?;
        let tx = self.write_tx()?;
        let id: Option<i64> = tx
            .query_row(
                "SELECT user_id FROM sessions WHERE token_hash = ?1",
                [token_hash(token)],
                |r| r.get(0),
            )
            .optional()?;
        let Some(id) = id else { return Ok(false) };
        let (u, _) = user_row(&tx, id)?;
        tx.execute(
            "DELETE FROM sessions WHERE token_hash = ?1",
            [token_hash(token)],
        )?;
        audit_user(&tx, &Actor::user(&u), &now, &u, "LOGOUT", &[])?;
        tx.commit()?;
        Ok(true)
    }

    /// Ends every session of a user (Admin actor only); returns how many.
    pub fn revoke_sessions(&mut self, actor: &Actor, user_id: i64) -> Result<usize> {
        actor.require_user_admin()?;
        let now = self.now()?;
        let tx = self.write_tx()?;
        let (u, _) = user_row(&tx, user_id)?;
        let n = tx.execute("DELETE FROM sessions WHERE user_id = ?1", [user_id])?;
        let ch = [FieldChange::new(
            "sessions",
            Some(n.to_string()),
            Some("0".into()),
        )];
        audit_user(&tx, actor, &now, &u, "UPDATE", &ch)?;
        tx.commit()?;
        Ok(n)
    }

    /// Changes role, active flag and/or password (Admin actor only).
    ///
    /// The last active Admin cannot be demoted or deactivated. Any change ends every session
    /// of the user (in the same transaction): a rotated password locks out whoever knew the
    /// old one, and a new role or a reactivation starts from a fresh login.
    pub fn update_user(
        &mut self,
        actor: &Actor,
        id: i64,
        role: Option<Role>,
        is_active: Option<bool>,
        password: Option<&str>,
    ) -> Result<User> {
        actor.require_user_admin()?;
        let hash = password.map(hash_password).transpose()?;
        let now = self.now()?;
        let tx = self.write_tx()?;
        let (old, _) = user_row(&tx, id)?;
        let new = User {
            role: role.unwrap_or(old.role),
            is_active: is_active.unwrap_or(old.is_active),
            ..old.clone()
        };
        let loses_admin =
            old.role == Role::Admin && old.is_active && (new.role != Role::Admin || !new.is_active);
        if loses_admin && active_admins(&tx)? <= 1 {
            return Err(Error::Conflict(
                "the last active Admin cannot be demoted or deactivated".into(),
            ));
        }
        let mut ch = Vec::new();
        if old.role != new.role {
            ch.push(FieldChange::new(
                "role",
                Some(old.role.to_string()),
                Some(new.role.to_string()),
            ));
        }
        if old.is_active != new.is_active {
            ch.push(FieldChange::new(
                "is_active",
                Some(old.is_active.to_string()),
                Some(new.is_active.to_string()),
            ));
        }
        if let Some(h) = &hash {
            tx.execute(
                "UPDATE users SET hashed_password = ?2 WHERE id = ?1",
                params![id, h],
            )?;
            ch.push(FieldChange::new("password", None, Some("rotated".into())));
        }
        if ch.is_empty() {
            return Ok(old);
        }
        tx.execute(
            "UPDATE users SET role = ?2, is_active = ?3 WHERE id = ?1",
            params![id, new.role.as_str(), new.is_active],
        )?;
        tx.execute("DELETE FROM sessions WHERE user_id = ?1", [id])?;
        audit_user(&tx, actor, &now, &new, "UPDATE", &ch)?;
        tx.commit()?;
        Ok(new)
    }

    /// Self-service password change: the current password must verify and the new one differ.
    /// Every session of the user ends, the caller's included.
    pub fn change_own_password(
        &mut self,
        user_id: i64,
        current: &str,
        new_password: &str,
    ) -> Result<()> {
        if current == new_password {
            return Err(Error::invalid(
                "new_password",
                "new password must differ from the current one",
            ));
        }
        if new_password.is_empty() {
            return Err(Error::invalid("new_password", "password is required"));
        }
        let (u, hash) = user_row(&self.conn, user_id)?;
        if !verify_password(current, &hash) {
            return Err(Error::invalid(
                "current_password",
                "current password is wrong",
            ));
        }
        let h = hash_password(new_password)?;
        let now = self.now()?;
        let tx = self.write_tx()?;
        tx.execute(
            "UPDATE users SET hashed_password = ?2 WHERE id = ?1",
            params![user_id, h],
        )?;
        // Whoever knew the old password may hold a session: every session ends.
        tx.execute("DELETE FROM sessions WHERE user_id = ?1", [user_id])?;
        audit_user(
            &tx,
            &Actor::user(&u),
            &now,
            &u,
            "UPDATE",
            &[FieldChange::new(
                "password",
                None,
                Some("self-service rotated".into()),
            )],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Deletes a user (Admin actor only; not yourself, not the last active Admin).
    /// Audit rows keep the user name.
    pub fn delete_user(&mut self, actor: &Actor, id: i64) -> Result<()> {
        actor.require_user_admin()?;
        if actor.user_id == Some(id) {
            return Err(Error::Conflict("you cannot delete yourself".into()));
        }
        let now = self.now()?;
        let tx = self.write_tx()?;
        let (u, _) = user_row(&tx, id)?;
        if u.role == Role::Admin && u.is_active && active_admins(&tx)? <= 1 {
            return Err(Error::Conflict(
                "the last active Admin cannot be deleted".into(),
            ));
        }
        tx.execute("DELETE FROM users WHERE id = ?1", [id])?;
        audit_user(
            &tx,
            actor,
            &now,
            &u,
            "DELETE",
            &[FieldChange::new("role", Some(u.role.to_string()), None)],
        )?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_argon2_and_verify() {
        let h = hash_password("s3cret").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("s3cret", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("s3cret", "not a hash"));
    }

    #[test]
    fn users_lifecycle_and_admin_rules() {
        let mut inv = Inventory::open_in_memory().unwrap();
        assert!(inv.bootstrap_admin("root", "pw").unwrap());
        assert!(!inv.bootstrap_admin("root2", "pw").unwrap());
        let root = inv.authenticate("root", "pw").unwrap().expect("login");
        assert!(inv.authenticate("root", "bad").unwrap().is_none());
        let admin = Actor::user(&root);
        let ed = inv.create_user(&admin, "ed", "pw", Role::Editor).unwrap();
        assert!(matches!(
            inv.create_user(&admin, "ed", "x", Role::Viewer),
            Err(Error::Conflict(_))
        ));
        // an Editor cannot manage users; an Admin writes data too
        let ed_actor = Actor::user(&ed);
        assert!(matches!(
            inv.create_user(&ed_actor, "v", "pw", Role::Viewer),
            Err(Error::Forbidden(_))
        ));
        inv.create_project(&admin, "p", None, None).unwrap();
        // last admin protected
        assert!(matches!(
            inv.update_user(&admin, root.id, Some(Role::Viewer), None, None),
            Err(Error::Conflict(_))
        ));
        assert!(matches!(
            inv.delete_user(&admin, root.id),
            Err(Error::Conflict(_))
        ));
        // deactivated users cannot log in
        inv.update_user(&admin, ed.id, None, Some(false), None)
            .unwrap();
        assert!(inv.authenticate("ed", "pw").unwrap().is_none());
        inv.delete_user(&admin, ed.id).unwrap();
        assert_eq!(inv.users().unwrap().len(), 1);
    }

    #[test]
    fn sessions_survive_reopen_and_end_on_logout_deactivation_revocation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut inv = Inventory::open(&path).unwrap();
        assert!(inv.bootstrap_admin("root", "pw").unwrap());
        let ed = inv
            .create_user(&Actor::system(), "ed", "pw", Role::Editor)
            .unwrap();
        assert!(inv.login("ed", "bad").unwrap().is_none());
        let (u, token) = inv.login("ed", "pw").unwrap().unwrap();
        assert_eq!(u.id, ed.id);
        assert_eq!(token.len(), 64);
        drop(inv);
        let mut inv = Inventory::open(&path).unwrap();
        assert_eq!(inv.session_user(&token).unwrap().map(|u| u.id), Some(ed.id));
        let stored: String = inv
            .conn
            .query_row("SELECT token_hash FROM sessions", [], |r| r.get(0))
            .unwrap();
        assert_ne!(stored, token, "the token itself is not stored");
        inv.update_user(&Actor::system(), ed.id, None, Some(false), None)
            .unwrap();
        assert!(inv.session_user(&token).unwrap().is_none());
        inv.update_user(&Actor::system(), ed.id, None, Some(true), None)
            .unwrap();
        assert!(inv.session_user(&token).unwrap().is_none());
        let (_, token) = inv.login("ed", "pw").unwrap().unwrap();
        assert!(inv.logout(&token).unwrap());
        assert!(inv.session_user(&token).unwrap().is_none());
        let (_, t2) = inv.login("ed", "pw").unwrap().unwrap();
        assert_eq!(inv.revoke_sessions(&Actor::system(), ed.id).unwrap(), 1);
        assert!(inv.session_user(&t2).unwrap().is_none());
    }

    #[test]
    fn an_admin_changing_role_active_flag_or_password_ends_the_users_sessions() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let sys = Actor::system();
        let u = inv.create_user(&sys, "ed", "pw", Role::Editor).unwrap();
        let (_, t1) = inv.login("ed", "pw").unwrap().unwrap();
        // No change: the session stays.
        inv.update_user(&sys, u.id, Some(Role::Editor), Some(true), None)
            .unwrap();
        assert!(inv.session_user(&t1).unwrap().is_some());
        inv.update_user(&sys, u.id, Some(Role::Viewer), None, None)
            .unwrap();
        assert!(inv.session_user(&t1).unwrap().is_none(), "role change");
        let (_, t2) = inv.login("ed", "pw").unwrap().unwrap();
        inv.update_user(&sys, u.id, None, None, Some("pw2"))
            .unwrap();
        assert!(
            inv.session_user(&t2).unwrap().is_none(),
            "password rotation"
        );
        let (_, t3) = inv.login("ed", "pw2").unwrap().unwrap();
        inv.update_user(&sys, u.id, None, Some(false), None)
            .unwrap();
        inv.update_user(&sys, u.id, None, Some(true), None).unwrap();
        assert!(
            inv.session_user(&t3).unwrap().is_none(),
            "reactivation does not revive the old session"
        );
    }

    #[test]
    fn bcrypt_hashes_of_the_original_verify_and_are_upgraded_on_login() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let legacy = bcrypt::hash("old-pw", 4).unwrap();
        assert!(verify_password("old-pw", &legacy));
        assert!(!verify_password("nope", &legacy));
        inv.conn
            .execute(
                "INSERT INTO users (username, hashed_password, role, is_active) VALUES ('ed', ?1, 'Editor', 1)",
                [&legacy],
            )
            .unwrap();
        assert!(inv.login("ed", "bad").unwrap().is_none());
        let (u, _) = inv.login("ed", "old-pw").unwrap().unwrap();
        let stored = user_row(&inv.conn, u.id).unwrap().1;
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(inv.login("ed", "old-pw").unwrap().is_some());
    }

    #[test]
    fn own_password_change_checks_current() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let u = inv
            .create_user(&Actor::system(), "v", "old", Role::Viewer)
            .unwrap();
        assert!(inv.change_own_password(u.id, "bad", "new").is_err());
        assert!(inv.change_own_password(u.id, "old", "old").is_err());
        let (_, token) = inv.login("v", "old").unwrap().unwrap();
        inv.change_own_password(u.id, "old", "new").unwrap();
        assert!(inv.authenticate("v", "new").unwrap().is_some());
        assert_eq!(inv.session_user(&token).unwrap(), None, "sessions end");
    }
}
