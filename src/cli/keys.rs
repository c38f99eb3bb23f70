//! `gridmap keys create|list|revoke`: API keys, recorded in the audit log.

use std::process::ExitCode;

use serde_json::json;

use super::{EXIT_REJECTED, KeysCommand};
use crate::audit::AuditLog;
use crate::auth::Scope;
use crate::auth::keys::generate;
use crate::layers::Layer;

/// Why a scope names nothing in the active generation (`None`: it names a street or community there).
async fn scope_problem(store: &dyn crate::store::Store, scope: &Scope) -> anyhow::Result<Option<String>> {
    let (layer, code) = match scope {
        Scope::Street(c) => (Layer::Streets, c),
        Scope::Community(c) => (Layer::Communities, c),
    };
    let Some(active) = store.active_generation().await? else {
        return Ok(Some("no boundaries are active yet: import and activate them first".into()));
    };
    let codes = store.layer_codes(active, layer).await?;
    if codes.iter().any(|(c, _)| c == code) {
        return Ok(None);
    }
    let mut near: Vec<&str> = codes.iter().map(|(c, _)| c.as_str()).filter(|c| c.contains(code.as_str())).collect();
    near.truncate(5);
    let hint = if near.is_empty() { String::new() } else { format!(" (codes containing it: {})", near.join(", ")) };
    Ok(Some(format!("{} {code} is not in the active generation {active}{hint}", layer.singular())))
}

/// Runs a `keys` subcommand.
pub async fn run(command: KeysCommand) -> anyhow::Result<ExitCode> {
    let db = match &command {
        KeysCommand::Create { db, .. } | KeysCommand::List { db, .. } | KeysCommand::Revoke { db, .. } => &db.db,
    };
    let store = super::open_store(db, false).await?;
    let audit = AuditLog::new(store.clone());
    match command {
        KeysCommand::Create { role, name, scope, .. } => {
            if let Some(scope) = &scope
                && let Some(problem) = scope_problem(store.as_ref(), scope).await?
            {
                eprintln!("rejected: --scope {scope}: {problem}");
                return Ok(ExitCode::from(EXIT_REJECTED));
            }
            let name = name.unwrap_or_else(|| role.to_string());
            let (secret, key) = generate(&name, role, scope);
            let stored = store.create_key(&key).await?;
            let details =
                json!({"name": stored.name, "role": stored.role, "scope": stored.scope, "prefix": stored.prefix});
            audit.record(&AuditLog::cli_actor(), "key.created", Some(format!("key:{}", stored.id)), details).await;
            eprintln!("key {} ({}, {}) created; it is shown only this once:", stored.id, stored.name, stored.role);
            println!("{secret}");
        }
        KeysCommand::List { json, .. } => {
            let keys = store.keys().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&keys)?);
            } else {
                println!(
                    "{:>4}  {:<12}  {:<10}  {:<24}  {:<25}  {:<8}  name",
                    "id", "prefix", "role", "scope", "created", "state"
                );
                for k in keys {
                    let scope = k.scope.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
                    let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
                    println!(
                        "{:>4}  {:<12}  {:<10}  {:<24}  {:<25}  {:<8}  {}",
                        k.id, k.prefix, k.role, scope, k.created_at, state, k.name
                    );
                }
            }
        }
        KeysCommand::Revoke { id, .. } => match store.revoke_key(id).await? {
            Some(k) => {
                let details = json!({"name": k.name, "role": k.role});
                audit.record(&AuditLog::cli_actor(), "key.revoked", Some(format!("key:{id}")), details).await;
                println!("key {id} ({}) revoked at {}", k.name, k.revoked_at.unwrap_or_default());
            }
            None => {
                eprintln!("error: API key {id} does not exist");
                return Ok(ExitCode::from(EXIT_REJECTED));
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}
