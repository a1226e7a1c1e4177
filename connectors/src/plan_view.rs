//! One read-only view of an import plan, whether core computed it here ([`ImportPlan`]) or
//! an ipocket server sent it back ([`RemotePlan`](crate::remote::RemotePlan)), so that the
//! dry-run reports print the same lines for both.

use ipocket_core::{ImportIssue, ImportPlan, ImportSummary, PlannedItem};

/// What a dry-run report needs from a plan.
pub trait PlanView {
    /// Create / update / skip counts.
    fn summary(&self) -> ImportSummary;
    /// Warnings about the whole import.
    fn plan_warnings(&self) -> &[ImportIssue];
    /// Every record, in apply order.
    fn planned_items(&self) -> Vec<PlannedItem<'_>>;
}

impl PlanView for ImportPlan {
    fn summary(&self) -> ImportSummary {
        self.summary
    }

    fn plan_warnings(&self) -> &[ImportIssue] {
        &self.warnings
    }

    fn planned_items(&self) -> Vec<PlannedItem<'_>> {
        self.items().collect()
    }
}
