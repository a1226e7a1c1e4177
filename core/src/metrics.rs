//! Inventory gauges for `/metrics`.

use serde::Serialize;

use crate::error::Result;
use crate::store::Inventory;

/// One sample: labels and value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricSample {
    /// Label pairs in output order.
    pub labels: Vec<(String, String)>,
    /// Value.
    pub value: f64,
}

/// One metric family (all gauges here).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricFamilyValue {
    /// Metric name.
    pub name: &'static str,
    /// `# HELP` text.
    pub help: &'static str,
    /// `# TYPE` (`gauge`).
    pub metric_type: &'static str,
    /// Samples.
    pub samples: Vec<MetricSample>,
}

/// The inventory's `/metrics` families, in the original's order first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InventoryMetrics {
    /// Families.
    pub families: Vec<MetricFamilyValue>,
}

impl InventoryMetrics {
    /// Renders the families with the `ipocket-expfmt` encoder, with HELP and TYPE lines.
    ///
    /// ```
    /// use ipocket_core::Inventory;
    /// use ipocket_expfmt::Format;
    /// let text = Inventory::open_in_memory().unwrap().inventory_metrics().unwrap().render(Format::Text);
    /// assert!(text.starts_with("# HELP ipam_ip_total IP assets in the inventory, archived included.\n# TYPE ipam_ip_total gauge\nipam_ip_total 0\n"));
    /// ```
    pub fn render(&self, format: ipocket_expfmt::Format) -> String {
        let mut enc = ipocket_expfmt::Encoder::new(format);
        self.encode(&mut enc);
        enc.finish()
    }

    /// Writes the families into `enc`, for a page that adds more families after them (the
    /// server's `/metrics`); [`Encoder::finish`](ipocket_expfmt::Encoder::finish) ends it.
    pub fn encode(&self, enc: &mut ipocket_expfmt::Encoder) {
        for f in &self.families {
            enc.help(f.name, f.help);
            enc.metric_type(f.name, ipocket_expfmt::MetricType::Gauge);
            for s in &f.samples {
                let labels: ipocket_expfmt::Labels<'_> = s
                    .labels
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                enc.sample(&ipocket_expfmt::Sample::new(f.name, labels, s.value));
            }
        }
    }

    /// The unlabelled value of a family, if present.
    pub fn value(&self, name: &str) -> Option<f64> {
        self.families
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.samples.iter().find(|s| s.labels.is_empty()))
            .map(|s| s.value)
    }
}

fn gauge(name: &'static str, help: &'static str, value: f64) -> MetricFamilyValue {
    MetricFamilyValue {
        name,
        help,
        metric_type: "gauge",
        samples: vec![MetricSample {
            labels: vec![],
            value,
        }],
    }
}

impl Inventory {
    /// Counts for `/metrics`.
    ///
    /// The first five families are the original's, in its order. ipocket has no
    /// owner field (the original removed it), so `ipam_ip_unassigned_owner_total`
    /// and `ipam_ip_unassigned_both_total` are always 0, as in the original.
    /// They are gauges (values go down) despite the `_total` names kept for
    /// dashboard compatibility.
    pub fn inventory_metrics(&self) -> Result<InventoryMetrics> {
        let ((total, archived, unassigned), active_by_type) = self.read(|c| {
            // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back so both read an integer.
            let r = c.query_one(
                "SELECT count(*),
                        CAST(COALESCE(SUM(archived), 0) AS BIGINT),
                        CAST(COALESCE(SUM(CASE WHEN archived = 0 AND project_id IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT)
                 FROM ip_assets",
                &[],
            )?;
            let counts: (i64, i64, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let by_type = c
                .query(
                    "SELECT type, count(*) FROM ip_assets WHERE archived = 0 GROUP BY type",
                    &[],
                )?
                .iter()
                .map(|r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)))
                .collect::<Result<std::collections::HashMap<_, _>>>()?;
            Ok((counts, by_type))
        })?;
        let mut families = vec![
            gauge(
                "ipam_ip_total",
                "IP assets in the inventory, archived included.",
                total as f64,
            ),
            gauge(
                "ipam_ip_archived_total",
                "Archived IP assets.",
                archived as f64,
            ),
            gauge(
                "ipam_ip_unassigned_project_total",
                "Active IP assets without a project.",
                unassigned as f64,
            ),
            gauge(
                "ipam_ip_unassigned_owner_total",
                "Always 0: ipocket has no owner field (kept for compatibility).",
                0.0,
            ),
            gauge(
                "ipam_ip_unassigned_both_total",
                "Always 0: ipocket has no owner field (kept for compatibility).",
                0.0,
            ),
        ];
        let mut by_type = MetricFamilyValue {
            name: "ipam_ip_active",
            help: "Active IP assets by type.",
            metric_type: "gauge",
            samples: vec![],
        };
        for t in crate::AssetType::ALL {
            let n = active_by_type.get(t.as_str()).copied().unwrap_or(0);
            by_type.samples.push(MetricSample {
                labels: vec![("type".into(), t.to_string())],
                value: n as f64,
            });
        }
        families.push(by_type);
        let mut used = MetricFamilyValue {
            name: "ipam_range_used_addresses",
            help: "Active IP assets inside each range.",
            metric_type: "gauge",
            samples: vec![],
        };
        let mut usable = MetricFamilyValue {
            name: "ipam_range_usable_addresses",
            help: "Assignable addresses of each range.",
            metric_type: "gauge",
            samples: vec![],
        };
        for u in self.all_range_utilization()? {
            let labels = vec![
                ("range".to_string(), u.range.name.clone()),
                ("cidr".to_string(), u.range.cidr.clone()),
            ];
            used.samples.push(MetricSample {
                labels: labels.clone(),
                value: u.used as f64,
            });
            usable.samples.push(MetricSample {
                labels,
                value: u.usable as f64,
            });
        }
        families.push(used);
        families.push(usable);
        Ok(InventoryMetrics { families })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Actor, AssetType, NewIpAsset};

    #[test]
    fn empty_inventory_is_all_zero() {
        let m = Inventory::open_in_memory()
            .unwrap()
            .inventory_metrics()
            .unwrap();
        let names: Vec<_> = m.families.iter().map(|f| f.name).collect();
        assert_eq!(
            &names[..5],
            [
                "ipam_ip_total",
                "ipam_ip_archived_total",
                "ipam_ip_unassigned_project_total",
                "ipam_ip_unassigned_owner_total",
                "ipam_ip_unassigned_both_total"
            ]
        );
        assert!(m.families[..5]
            .iter()
            .all(|f| f.samples[0].value == 0.0 && f.metric_type == "gauge" && !f.help.is_empty()));
    }

    #[test]
    fn rendered_text_parses_back_with_help_and_type() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let a = Actor::system();
        inv.create_ip_asset(&a, &NewIpAsset::new("10.0.0.1", AssetType::Vm))
            .unwrap();
        inv.create_ip_range(&a, "lab \"a\"", "10.0.0.0/30", None)
            .unwrap();
        for format in [
            ipocket_expfmt::Format::Text,
            ipocket_expfmt::Format::OpenMetrics,
        ] {
            let text = inv.inventory_metrics().unwrap().render(format);
            let fams = ipocket_expfmt::parse_families(text.as_bytes(), format).unwrap();
            let total = fams.iter().find(|f| f.name == "ipam_ip_total").unwrap();
            assert_eq!(total.metric_type, ipocket_expfmt::MetricType::Gauge);
            assert!(total.help.is_some());
            assert_eq!(total.samples[0].value, 1.0);
            let used = fams
                .iter()
                .find(|f| f.name == "ipam_range_used_addresses")
                .unwrap();
            assert_eq!(used.samples[0].labels.get("range"), Some("lab \"a\""));
            assert_eq!(used.samples[0].labels.get("cidr"), Some("10.0.0.0/30"));
        }
    }

    #[test]
    fn counts_follow_the_original_meaning() {
        let mut inv = Inventory::open_in_memory().unwrap();
        let a = Actor::system();
        let p = inv.create_project(&a, "core", None, None).unwrap();
        inv.create_ip_asset(
            &a,
            &NewIpAsset {
                project_id: Some(p.id),
                ..NewIpAsset::new("10.0.0.1", AssetType::Vm)
            },
        )
        .unwrap();
        inv.create_ip_asset(&a, &NewIpAsset::new("10.0.0.2", AssetType::Os))
            .unwrap();
        inv.create_ip_asset(&a, &NewIpAsset::new("10.0.0.3", AssetType::Os))
            .unwrap();
        inv.archive_ip_asset(&a, "10.0.0.3").unwrap();
        inv.create_ip_range(&a, "lab", "10.0.0.0/24", None).unwrap();
        let m = inv.inventory_metrics().unwrap();
        assert_eq!(m.value("ipam_ip_total"), Some(3.0));
        assert_eq!(m.value("ipam_ip_archived_total"), Some(1.0));
        assert_eq!(m.value("ipam_ip_unassigned_project_total"), Some(1.0));
        assert_eq!(m.value("ipam_ip_unassigned_owner_total"), Some(0.0));
        let os = &m
            .families
            .iter()
            .find(|f| f.name == "ipam_ip_active")
            .unwrap()
            .samples[0];
        assert_eq!((os.labels[0].1.as_str(), os.value), ("OS", 1.0));
        let used = &m
            .families
            .iter()
            .find(|f| f.name == "ipam_range_used_addresses")
            .unwrap()
            .samples[0];
        assert_eq!(used.value, 2.0);
    }
}
