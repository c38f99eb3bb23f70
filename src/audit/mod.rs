//! The audit log: an append-only record of privileged actions (imports, activations, rollbacks, assignments, key
//! changes) with who, when and what. The tables refuse UPDATE and DELETE (triggers in migration 0008).

mod storage;
pub use storage::AuditStore;

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::store_error::StoreError;

/// One recorded action.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Sequence number.
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Who: `key:ID:NAME`, `cli:USER`, or the name a caller gave when access control is off.
    pub actor: String,
    /// What, e.g. `generation.activated`, `incident.assigned`, `key.created`.
    pub action: String,
    /// On what, e.g. `generation:12`, `incident:40`.
    pub target: Option<String>,
    /// The rest.
    #[schema(value_type = Object)]
    pub details: Value,
}

/// Which entries to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this action.
    pub action: Option<String>,
    /// Only this actor.
    pub actor: Option<String>,
    /// Only entries older than this id (paging).
    pub before_id: Option<i64>,
    /// Page size.
    pub limit: u32,
}

/// Writes entries; a failed write is logged loudly but does not undo the action it records, which has already
/// committed.
#[derive(Debug, Clone)]
pub struct AuditLog {
    store: Arc<dyn AuditStore>,
}

impl AuditLog {
    /// A log over a store.
    pub fn new(store: Arc<dyn AuditStore>) -> Self {
        Self { store }
    }

    /// Records an action.
    pub async fn record(&self, actor: &str, action: &str, target: Option<String>, details: Value) {
        if let Err(e) = self.store.append_audit(actor, action, target.as_deref(), &details).await {
            tracing::error!(error = %e, actor, action, ?target, "the audit log could not record an action");
        }
    }

    /// Records an import (accepted, rejected or dry run) and the activation it made, if it did.
    pub async fn import(&self, actor: &str, report: &crate::import::Report) {
        let action = match (report.valid, report.dry_run) {
            (false, _) => "import.rejected",
            (true, true) => "import.checked",
            (true, false) => "import.staged",
        };
        let target = report.generation.map(|g| format!("generation:{g}"));
        let details = serde_json::json!({"file": report.file, "layer": report.layer, "features": report.features,
            "errors": report.errors.len(), "warnings": report.warnings.len()});
        self.record(actor, action, target.clone(), details).await;
        if report.activated {
            self.record(actor, "generation.activated", target, serde_json::json!({"by": "import"})).await;
        }
    }

    /// The actor name of a command-line user: `cli:` and `GRIDMAP_ACTOR` when set (a person's name on a shared
    /// account), else the login name (`USER`, `LOGNAME`, or the process's user id looked up in `/etc/passwd`), else
    /// `uid:N`.
    pub fn cli_actor() -> String {
        let named =
            ["GRIDMAP_ACTOR", "USER", "LOGNAME"].iter().find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()));
        format!("cli:{}", named.unwrap_or_else(login_name))
    }

    /// Lists entries.
    pub async fn list(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        self.store.audit_entries(filter).await
    }
}

/// The process's login name from its user id (`/proc/self/status`) and `/etc/passwd`; `uid:N` when the id has no
/// entry, `unknown` where there is no `/proc`.
fn login_name() -> String {
    let Some(uid) = std::fs::read_to_string("/proc/self/status").ok().and_then(|s| {
        s.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|ids| ids.split_whitespace().next().map(str::to_owned))
    }) else {
        return "unknown".into();
    };
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .find_map(|l| {
            let mut f = l.split(':');
            let (name, _, id) = (f.next()?, f.next()?, f.next()?);
            (id == uid).then(|| name.to_owned())
        })
        .unwrap_or_else(|| format!("uid:{uid}"))
}
