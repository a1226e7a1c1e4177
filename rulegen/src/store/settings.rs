//! Settings kept in the store.

use std::path::PathBuf;

use super::audit::Change;
use super::{RuleStore, Settings, SETTING_KEYS};

/// The audit log's name for a setting.
const SETTING: &str = "ALERT_SETTING";
use crate::error::{Error, Result};
use crate::version::PrometheusVersion;

impl RuleStore {
    /// Sets one setting (see [`SETTING_KEYS`]); an empty value clears it.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<Settings> {
        if !SETTING_KEYS.contains(&key) {
            return Err(Error::invalid(
                "setting",
                format!("{key:?} is not one of {}", SETTING_KEYS.join(", ")),
            ));
        }
        let current: Option<String> = self.read(|c| {
            c.query_opt("SELECT value FROM rulegen_settings WHERE key = ?1", &[&key])?
                .map(|r| r.get(0))
                .transpose()
                .map_err(Into::into)
        })?;
        let wanted = Some(value).filter(|v| !v.is_empty());
        if current.as_deref() == wanted {
            // Nothing changes (the server sets its flags at every start): no write, no row.
            return self.settings();
        }
        let (before, after) = (
            current.map(|v| serde_json::json!({ key: v })),
            wanted.map(|v| serde_json::json!({ key: v })),
        );
        let change = || Change::of(SETTING, 0, key, before.as_ref(), after.as_ref());
        if value.is_empty() {
            self.audited(|tx| {
                tx.execute("DELETE FROM rulegen_settings WHERE key = ?1", &[&key])?;
                Ok(((), change()))
            })?;
            return self.settings();
        }
        match key {
            "target_version" => {
                value.parse::<PrometheusVersion>()?;
            }
            "backup_count" => {
                let n = value.parse::<usize>().map_err(|_| {
                    Error::invalid("backup_count", format!("{value:?} is not a number"))
                })?;
                if n > crate::files::MAX_BACKUPS {
                    return Err(Error::invalid(
                        "backup_count",
                        format!("{n} is more than {}", crate::files::MAX_BACKUPS),
                    ));
                }
            }
            "prometheus_url" => {
                crate::client::PrometheusClient::new(value)?;
            }
            _ => {}
        }
        self.audited(|tx| {
            tx.execute(
                "INSERT INTO rulegen_settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                &[&key, &value],
            )?;
            Ok(((), change()))
        })?;
        self.settings()
    }

    /// All settings, with defaults for those not set.
    pub fn settings(&self) -> Result<Settings> {
        let pairs = self.read(|c| {
            c.query("SELECT key, value FROM rulegen_settings", &[])?
                .iter()
                .map(|r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)))
                .collect::<Result<Vec<_>>>()
        })?;
        let mut s = Settings::default();
        for (k, v) in pairs {
            match k.as_str() {
                "rule_dir" => s.rule_dir = Some(PathBuf::from(v)),
                "prometheus_url" => s.prometheus_url = Some(v),
                "target_version" => s.target_version = v.parse()?,
                "backup_count" => {
                    s.backup_count = v.parse().map_err(|_| {
                        Error::invalid("backup_count", format!("{v:?} is not a number"))
                    })?
                }
                "promtool" => s.promtool = Some(PathBuf::from(v)),
                "prometheus_rule_dir" => s.prometheus_rule_dir = Some(PathBuf::from(v)),
                _ => {}
            }
        }
        Ok(s)
    }
}
