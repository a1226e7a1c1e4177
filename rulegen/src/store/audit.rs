//! Every write of the rule store leaves a row in the inventory's audit log (same file, same
//! transaction), as the user [`RuleStore::as_actor`] names, or the system.

use std::cell::RefCell;

use ipocket_db::{AuditActor, AuditRow, Sql};
use serde::Serialize;
use serde_json::Value;

use super::RuleStore;
use crate::error::Result;

/// What one write changed: the target and its state before and after (`None`: did not
/// exist / no longer exists).
pub(super) struct Change {
    pub(super) target_type: &'static str,
    pub(super) id: i64,
    pub(super) label: String,
    pub(super) action: &'static str,
    pub(super) before: Option<Value>,
    pub(super) after: Option<Value>,
}

impl Change {
    /// `before` → `after` of one target (both serialised; the action from which is `None`).
    pub(super) fn of<T: Serialize>(
        target_type: &'static str,
        id: i64,
        label: impl Into<String>,
        before: Option<&T>,
        after: Option<&T>,
    ) -> Change {
        let json = |v: Option<&T>| v.and_then(|v| serde_json::to_value(v).ok());
        Change {
            target_type,
            id,
            label: label.into(),
            action: match (before.is_some(), after.is_some()) {
                (false, _) => "CREATE",
                (true, true) => "UPDATE",
                (true, false) => "DELETE",
            },
            before: json(before),
            after: json(after),
        }
    }

    /// The changed top-level fields as core's `FieldChange` list (`[{"field","before",
    /// "after"}]`, values as text), without `id`.
    fn field_changes(&self) -> Vec<Value> {
        let empty = serde_json::Map::new();
        let obj = |v: &Option<Value>| match v {
            Some(Value::Object(o)) => o.clone(),
            _ => empty.clone(),
        };
        let (before, after) = (obj(&self.before), obj(&self.after));
        let text = |v: Option<&Value>| match v {
            None | Some(Value::Null) => Value::Null,
            Some(Value::String(s)) => Value::String(s.clone()),
            Some(other) => Value::String(other.to_string()),
        };
        let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .filter(|k| *k != "id" && before.get(*k) != after.get(*k))
            .map(|k| {
                serde_json::json!({"field": k, "before": text(before.get(k)), "after": text(after.get(k))})
            })
            .collect()
    }
}

/// Resets the actor when [`RuleStore::as_actor`] ends, panics included.
struct Restore<'a> {
    cell: &'a RefCell<AuditActor>,
    previous: Option<AuditActor>,
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        if let Some(p) = self.previous.take() {
            *self.cell.borrow_mut() = p;
        }
    }
}

impl RuleStore {
    /// Runs `f` with every write it makes audited as done by `actor` (without it, writes are
    /// audited as the system).
    ///
    /// ```
    /// use ipocket_rulegen::{AuditActor, RuleStore};
    /// let store = RuleStore::open_in_memory()?;
    /// let ed = AuditActor { user_id: Some(2), username: Some("ed".into()) };
    /// let g = store.as_actor(ed, |s| s.create_group("prod", ""))?;
    /// assert_eq!(g.name, "prod");
    /// # Ok::<(), ipocket_rulegen::Error>(())
    /// ```
    pub fn as_actor<T>(
        &self,
        actor: AuditActor,
        f: impl FnOnce(&RuleStore) -> Result<T>,
    ) -> Result<T> {
        let previous = self.actor.replace(actor);
        let _restore = Restore {
            cell: &self.actor,
            previous: Some(previous),
        };
        f(self)
    }

    /// Runs `write` and the audit row of what it changed in one transaction.
    pub(super) fn audited<T>(
        &self,
        write: impl FnOnce(&dyn Sql) -> Result<(T, Change)>,
    ) -> Result<T> {
        self.audited_many(|tx| write(tx).map(|(out, change)| (out, vec![change])))
    }

    /// [`RuleStore::audited`] for a write that changes several records (one row each).
    pub(super) fn audited_many<T>(
        &self,
        write: impl FnOnce(&dyn Sql) -> Result<(T, Vec<Change>)>,
    ) -> Result<T> {
        self.db.write(super::RULES_LOCK, |tx| {
            let (out, all) = write(tx)?;
            let audit = ipocket_db::has_audit_table(tx)?;
            for change in all.iter().filter(|_| audit) {
                let changes = change.field_changes();
                let changes = (!changes.is_empty()).then(|| Value::Array(changes).to_string());
                ipocket_db::write_audit(
                    tx,
                    &self.actor.borrow(),
                    &AuditRow {
                        target_type: change.target_type,
                        target_id: change.id,
                        target_label: &change.label,
                        action: change.action,
                        changes: changes.as_deref(),
                        message: None,
                        created_at: None,
                    },
                )?;
            }
            Ok(out)
        })
    }
}
