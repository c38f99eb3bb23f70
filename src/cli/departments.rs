//! `gridmap departments list|put|remove`: the department register, with the same rules as the API and recorded in
//! the audit log.

use std::process::ExitCode;

use serde_json::json;

use super::{DepartmentsCommand, EXIT_REJECTED};
use crate::audit::AuditLog;
use crate::departments::{DepartmentError, DepartmentService};
use crate::events::Events;
use crate::incidents::Categories;

/// Runs a `departments` subcommand.
pub async fn run(command: DepartmentsCommand) -> anyhow::Result<ExitCode> {
    let (db, categories) = match &command {
        DepartmentsCommand::List { db, .. } | DepartmentsCommand::Remove { db, .. } => (&db.db, None),
        DepartmentsCommand::Put { db, incident_categories, .. } => (&db.db, incident_categories.clone()),
    };
    let store = super::open_store(db, false).await?;
    let categories = match categories {
        Some(list) => Categories::new(list.into_iter().map(|c| c.trim().to_owned()).filter(|c| !c.is_empty())),
        None => Categories::default(),
    };
    let service = DepartmentService::new(store.clone(), categories, Events::default());
    let audit = AuditLog::new(store.clone());
    let rejected = |e: DepartmentError| -> anyhow::Result<ExitCode> {
        match e {
            DepartmentError::Store(s) => Err(s.into()),
            other => {
                eprintln!("rejected: {other}");
                Ok(ExitCode::from(EXIT_REJECTED))
            }
        }
    };
    match command {
        DepartmentsCommand::List { json, .. } => {
            let all = service.list().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else {
                for d in all {
                    println!("{}\t{}\t{}", d.code, d.name, d.categories.join(","));
                }
            }
        }
        DepartmentsCommand::Put { code, name, categories, .. } => match service.put(&code, &name, &categories).await {
            Ok((d, is_new)) => {
                let action = if is_new { "department.created" } else { "department.updated" };
                let details = json!({"name": d.name, "categories": d.categories});
                audit.record(&AuditLog::cli_actor(), action, Some(format!("department:{code}")), details).await;
                eprintln!("department {} ({}) {}", d.code, d.name, if is_new { "added" } else { "updated" });
            }
            Err(e) => return rejected(e),
        },
        DepartmentsCommand::Remove { code, .. } => match service.delete(&code).await {
            Ok(d) => {
                let details = json!({"name": d.name, "categories": d.categories});
                audit
                    .record(&AuditLog::cli_actor(), "department.removed", Some(format!("department:{code}")), details)
                    .await;
                eprintln!("department {code} removed");
            }
            Err(e) => return rejected(e),
        },
    }
    Ok(ExitCode::SUCCESS)
}
