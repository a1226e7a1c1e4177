//! Users, roles and password hashes (argon2id).

use ipocket_db::{Row, Sql};

use crate::audit::{write_audit, AuditRecord, FieldChange};
use crate::error::{Error, Result};
use crate::model::{required_name, Actor, Role, User};
use crate::passwords::{
    dummy_hash, hash_password, hash_password_with, verify_password_with, PasswordMemory,
};
use crate::store::Inventory;

/// A checked self-service password change ([`Inventory::check_own_password_change`]),
/// waiting for [`Inventory::apply_own_password_change`].
// No Debug: it carries password hashes.
pub struct PasswordChange {
    user: User,
    checked_hash: String,
    new_hash: String,
}

/// A password check that passed ([`Inventory::verify_login`]), waiting for
/// [`Inventory::open_session`].
// No Debug: it carries password hashes.
#[derive(Clone)]
pub struct VerifiedLogin {
    pub(crate) user: User,
    /// The stored hash that was checked: the session opens only if it is still the same.
    pub(crate) checked_hash: String,
    /// The argon2 hash replacing an old bcrypt one.
    pub(crate) rehash: Option<String>,
}

/// The columns [`user_from_row`] reads.
const USER_COLUMNS: &str = "id, username, role, is_active, hashed_password";

/// A user and its stored password hash.
fn user_from_row(r: &Row) -> Result<(User, String)> {
    let role: String = r.get(2)?;
    Ok((
        User {
            id: r.get(0)?,
            username: r.get(1)?,
            role: role.parse().unwrap_or(Role::Viewer),
            is_active: r.get(3)?,
        },
        r.get(4)?,
    ))
}

pub(crate) fn user_row(c: &dyn Sql, id: i64) -> Result<(User, String)> {
    c.query_opt(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
        &[&id],
    )?
    .map(|r| user_from_row(&r))
    .transpose()?
    .ok_or_else(|| Error::not_found("user", id))
}

fn user_by_name(c: &dyn Sql, username: &str) -> Result<Option<(User, String)>> {
    c.query_opt(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?1"),
        &[&username],
    )?
    .map(|r| user_from_row(&r))
    .transpose()
}

fn active_admins(c: &dyn Sql) -> Result<i64> {
    Ok(c.query_one(
        "SELECT count(*) FROM users WHERE role = 'Admin' AND is_active = 1",
        &[],
    )?
    .get(0)?)
}

fn user_count(c: &dyn Sql) -> Result<i64> {
    Ok(c.query_one("SELECT count(*) FROM users", &[])?.get(0)?)
}

/// Inserts an active user with a hashed password, audited as `CREATE`. A duplicate name
/// is a conflict.
fn insert_user(
    tx: &dyn Sql,
    actor: &Actor,
    now: &str,
    username: String,
    hash: &str,
    role: Role,
) -> Result<User> {
    let id: i64 = tx
        .query_one(
            "INSERT INTO users (username, hashed_password, role, is_active) VALUES (?1, ?2, ?3, 1) RETURNING id",
            &[&username, &hash, &role.as_str()],
        )
        .map_err(|e| Error::from(e).or_conflict("username", &username))?
        .get(0)?;
    let u = User {
        id,
        username,
        role,
        is_active: true,
    };
    audit_user(
        tx,
        actor,
        now,
        &u,
        "CREATE",
        &[
            FieldChange::new("role", None, Some(role.to_string())),
            FieldChange::new("is_active", None, Some("true".into())),
        ],
    )?;
    Ok(u)
}

/// Ends every session of a user (inside the write that makes them invalid); how many.
pub(crate) fn delete_sessions_of(tx: &dyn Sql, user_id: i64) -> Result<u64> {
    Ok(tx.execute("DELETE FROM sessions WHERE user_id = ?1", &[&user_id])?)
}

pub(crate) fn audit_user(
    c: &dyn Sql,
    actor: &Actor,
    now: &str,
    u: &User,
    action: &str,
    ch: &[FieldChange],
) -> Result<()> {
    write_audit(
        c,
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
        self.read(|c| {
            c.query(
                &format!("SELECT {USER_COLUMNS} FROM users ORDER BY username"),
                &[],
            )?
            .iter()
            .map(|r| Ok(user_from_row(r)?.0))
            .collect()
        })
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
        self.write(|tx| insert_user(tx, actor, &now, username, &hash, role))
    }

    /// Creates `username` as Admin when there is no user at all; returns whether it did.
    /// Replicas starting together create it once: the count is checked again inside the
    /// write.
    pub fn bootstrap_admin(&mut self, username: &str, password: &str) -> Result<bool> {
        if self.read(user_count)? > 0 {
            return Ok(false);
        }
        let username = required_name("username", username)?;
        if password.is_empty() {
            return Err(Error::invalid("password", "password is required"));
        }
        let hash = hash_password(password)?;
        let now = self.now()?;
        self.write(|tx| {
            if user_count(tx)? > 0 {
                return Ok(false);
            }
            insert_user(tx, &Actor::system(), &now, username, &hash, Role::Admin)?;
            Ok(true)
        })
    }

    /// The active user with this name and password, or `None`.
    pub fn authenticate(&self, username: &str, password: &str) -> Result<Option<User>> {
        Ok(self.verify_login(username, password)?.map(|v| v.user))
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
        self.verify_login_with(username, password, &mut PasswordMemory::default())
    }

    /// [`Inventory::verify_login`] in reused argon2 working memory. An unknown or inactive
    /// user is checked against a dummy hash, so every failure takes as long.
    pub fn verify_login_with(
        &self,
        username: &str,
        password: &str,
        mem: &mut PasswordMemory,
    ) -> Result<Option<VerifiedLogin>> {
        let found = self.read(|c| user_by_name(c, username))?;
        let Some((user, hash)) = found.filter(|(u, _)| u.is_active) else {
            verify_password_with(password, dummy_hash(), mem);
            return Ok(None);
        };
        if !verify_password_with(password, &hash, mem) {
            return Ok(None);
        }
        let rehash = if hash.starts_with("$argon2") {
            None
        } else {
            Some(hash_password_with(password, mem)?)
        };
        Ok(Some(VerifiedLogin {
            user,
            checked_hash: hash,
            rehash,
        }))
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
        self.write(|tx| {
            let (old, _) = user_row(tx, id)?;
            let new = User {
                role: role.unwrap_or(old.role),
                is_active: is_active.unwrap_or(old.is_active),
                ..old.clone()
            };
            let loses_admin = old.role == Role::Admin
                && old.is_active
                && (new.role != Role::Admin || !new.is_active);
            if loses_admin && active_admins(tx)? <= 1 {
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
                    &[&id, h],
                )?;
                ch.push(FieldChange::new("password", None, Some("rotated".into())));
            }
            if ch.is_empty() {
                return Ok(old);
            }
            tx.execute(
                "UPDATE users SET role = ?2, is_active = ?3 WHERE id = ?1",
                &[&id, &new.role.as_str(), &new.is_active],
            )?;
            delete_sessions_of(tx, id)?;
            audit_user(tx, actor, &now, &new, "UPDATE", &ch)?;
            Ok(new)
        })
    }

    /// Self-service password change: the current password must verify and the new one differ.
    /// Every session of the user ends, the caller's included.
    ///
    /// The same as [`Inventory::check_own_password_change`] then
    /// [`Inventory::apply_own_password_change`]; a server calls those two separately so the
    /// hashing does not hold the writer.
    pub fn change_own_password(
        &mut self,
        user_id: i64,
        current: &str,
        new_password: &str,
    ) -> Result<()> {
        let mut mem = PasswordMemory::default();
        let change = self.check_own_password_change(user_id, current, new_password, &mut mem)?;
        self.apply_own_password_change(change)
    }

    /// The CPU-heavy, reading half of [`Inventory::change_own_password`]: checks the
    /// current password and hashes the new one.
    pub fn check_own_password_change(
        &self,
        user_id: i64,
        current: &str,
        new_password: &str,
        mem: &mut PasswordMemory,
    ) -> Result<PasswordChange> {
        if current == new_password {
            return Err(Error::invalid(
                "new_password",
                "new password must differ from the current one",
            ));
        }
        if new_password.is_empty() {
            return Err(Error::invalid("new_password", "password is required"));
        }
        let (user, hash) = self.read(|c| user_row(c, user_id))?;
        if !verify_password_with(current, &hash, mem) {
            return Err(Error::invalid(
                "current_password",
                "current password is wrong",
            ));
        }
        Ok(PasswordChange {
            user,
            checked_hash: hash,
            new_hash: hash_password_with(new_password, mem)?,
        })
    }

    /// The quick, writing half of [`Inventory::change_own_password`]. A conflict when the
    /// password changed since the check.
    pub fn apply_own_password_change(&mut self, change: PasswordChange) -> Result<()> {
        let now = self.now()?;
        self.write(|tx| {
            let (u, hash_now) = user_row(tx, change.user.id)?;
            if hash_now != change.checked_hash {
                return Err(Error::Conflict(
                    "the password changed meanwhile; log in again".into(),
                ));
            }
            tx.execute(
                "UPDATE users SET hashed_password = ?2 WHERE id = ?1",
                &[&u.id, &change.new_hash],
            )?;
            // Whoever knew the old password may hold a session: every session ends.
            delete_sessions_of(tx, u.id)?;
            audit_user(
                tx,
                &Actor::user(&u),
                &now,
                &u,
                "UPDATE",
                &[FieldChange::new(
                    "password",
                    None,
                    Some("self-service rotated".into()),
                )],
            )
        })
    }

    /// Deletes a user (Admin actor only; not yourself, not the last active Admin).
    /// Audit rows keep the user name.
    pub fn delete_user(&mut self, actor: &Actor, id: i64) -> Result<()> {
        actor.require_user_admin()?;
        if actor.user_id == Some(id) {
            return Err(Error::Conflict("you cannot delete yourself".into()));
        }
        let now = self.now()?;
        self.write(|tx| {
            let (u, _) = user_row(tx, id)?;
            if u.role == Role::Admin && u.is_active && active_admins(tx)? <= 1 {
                return Err(Error::Conflict(
                    "the last active Admin cannot be deleted".into(),
                ));
            }
            tx.execute("DELETE FROM users WHERE id = ?1", &[&id])?;
            audit_user(
                tx,
                actor,
                &now,
                &u,
                "DELETE",
                &[FieldChange::new("role", Some(u.role.to_string()), None)],
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passwords::verify_password;

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
            .read(|c| {
                Ok(c.query_one("SELECT token_hash FROM sessions", &[])?
                    .get(0)?)
            })
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
    fn unknown_and_inactive_users_cost_a_password_check_too() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let u = inv
            .create_user(&Actor::system(), "ed", "pw", Role::Editor)
            .unwrap();
        inv.update_user(&Actor::system(), u.id, None, Some(false), None)
            .unwrap();
        let _ = dummy_hash();
        let time = |inv: &Inventory, name: &str| {
            let started = std::time::Instant::now();
            for _ in 0..3 {
                assert!(inv.verify_login(name, "wrong").unwrap().is_none());
            }
            started.elapsed()
        };
        // Unknown and inactive users go through argon2 as a wrong password does: each takes
        // at least a quarter as long (before, they answered in a fraction of a millisecond).
        let inactive = time(&inv, "ed");
        let unknown = time(&inv, "nobody");
        inv.update_user(&Actor::system(), u.id, None, Some(true), None)
            .unwrap();
        let active = time(&inv, "ed");
        assert!(unknown * 4 > active, "{unknown:?} vs {active:?}");
        assert!(inactive * 4 > active, "{inactive:?} vs {active:?}");
    }

    #[test]
    fn bcrypt_hashes_of_the_original_verify_and_are_upgraded_on_login() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let legacy = bcrypt::hash("old-pw", 4).unwrap();
        assert!(verify_password("old-pw", &legacy));
        assert!(!verify_password("nope", &legacy));
        inv.write(|tx| {
            Ok(tx.execute(
                "INSERT INTO users (username, hashed_password, role, is_active) VALUES ('ed', ?1, 'Editor', 1)",
                &[&legacy],
            )?)
        })
        .unwrap();
        assert!(inv.login("ed", "bad").unwrap().is_none());
        let (u, _) = inv.login("ed", "old-pw").unwrap().unwrap();
        let stored = inv.read(|c| user_row(c, u.id)).unwrap().1;
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
