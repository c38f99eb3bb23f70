//! `gridmap serve --config FILE` (or `GRIDMAP_CONFIG`): settings from a TOML file, one key per `serve` option
//! (`listen = "0.0.0.0:8080"`, `db = "postgres://…"`, `tile_cache_mb = 512`, `no_sample = true`,
//! `incident_categories = ["fire", "other"]`). Precedence: command line, then the option's `GRIDMAP_*` environment
//! variable, then the file, then the default. Each setting becomes command-line arguments and is checked by clap on
//! its own first, so a wrong key or value is reported with the file and line it is on.

use std::ffi::OsString;

use clap::{Args, Command};
use toml::de::{DeTable, DeValue};

/// Why the configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Unreadable file.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Not TOML (the parser's message gives line and column).
    #[error("{path}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// The TOML parser's message.
        message: String,
    },
    /// A key that is not a `serve` option.
    #[error("{path}:{line}: unknown setting `{key}`; the settings are the `serve` options: {known}")]
    UnknownKey {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// The key.
        key: String,
        /// Every known key.
        known: String,
    },
    /// A value the option refuses (or of a type it cannot take).
    #[error("{path}:{line}: {key}: {problem}")]
    Invalid {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// The key.
        key: String,
        /// What is wrong.
        problem: String,
    },
}

/// The process arguments with the configuration file's settings added as `--key value` after `serve`, for every
/// key given neither on the command line nor in its environment variable.
pub fn args_with_file(args: Vec<OsString>) -> Result<Vec<OsString>, ConfigError> {
    let text: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let path = text
        .iter()
        .position(|a| a == "--config")
        .and_then(|i| text.get(i + 1).cloned())
        .or_else(|| text.iter().find_map(|a| a.strip_prefix("--config=").map(str::to_owned)))
        .or_else(|| std::env::var("GRIDMAP_CONFIG").ok().filter(|p| !p.is_empty()));
    let mut out: Vec<OsString> =
        args.into_iter().filter(|a| a != "--config" && !a.to_string_lossy().starts_with("--config=")).collect();
    if let Some(i) = text.iter().position(|a| a == "--config") {
        // Drop the file name that followed --config.
        if let Some(p) = out.iter().position(|a| a.to_string_lossy() == text[i + 1]) {
            out.remove(p);
        }
    }
    let Some(path) = path else { return Ok(out) };
    let Some(serve) = out.iter().position(|a| a == "serve") else { return Ok(out) };
    let content = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read { path: path.clone(), source })?;
    let table = DeTable::parse(&content)
        .map_err(|e| ConfigError::Syntax { path: path.clone(), message: e.to_string().trim_end().to_owned() })?;
    let serve_options = super::ServeArgs::augment_args(Command::new("serve"));
    let known: Vec<String> = serve_options
        .get_arguments()
        .filter_map(|a| a.get_long())
        .filter(|l| *l != "config")
        .map(|l| l.replace('-', "_"))
        .collect();
    let mut extra = Vec::new();
    for (key, value) in table.get_ref() {
        let line = content[..key.span().start].matches('\n').count() + 1;
        let name = key.get_ref().to_string();
        let flag = format!("--{}", name.replace('_', "-"));
        if !known.contains(&name.replace('-', "_")) {
            return Err(ConfigError::UnknownKey { path: path.clone(), line, key: name, known: known.join(", ") });
        }
        let invalid = |problem: String| ConfigError::Invalid { path: path.clone(), line, key: name.clone(), problem };
        let setting = arguments(&flag, value.get_ref()).map_err(invalid)?;
        // Checked alone, so a bad value names this line rather than surfacing later without a place.
        if let Err(e) = serve_options.clone().no_binary_name(true).try_get_matches_from(setting.iter()) {
            return Err(invalid(first_line(&e)));
        }
        let env = format!("GRIDMAP_{}", name.replace('-', "_").to_uppercase());
        if text.iter().any(|a| *a == flag || a.starts_with(&format!("{flag}="))) || std::env::var_os(&env).is_some() {
            continue;
        }
        extra.extend(setting);
    }
    out.splice(serve + 1..serve + 1, extra);
    Ok(out)
}

/// The arguments one setting stands for: `true` is the bare flag, `false` nothing, a list its items joined by
/// commas (list options take comma-separated values), anything else its text.
fn arguments(flag: &str, value: &DeValue<'_>) -> Result<Vec<OsString>, String> {
    let text = match value {
        DeValue::Boolean(true) => return Ok(vec![OsString::from(flag)]),
        DeValue::Boolean(false) => return Ok(Vec::new()),
        DeValue::String(s) => s.to_string(),
        DeValue::Integer(i) => i.to_string(),
        DeValue::Float(f) => f.to_string(),
        DeValue::Array(items) => {
            let mut parts = Vec::new();
            for item in items.iter() {
                match item.get_ref() {
                    DeValue::String(s) => parts.push(s.to_string()),
                    DeValue::Integer(i) => parts.push(i.to_string()),
                    DeValue::Float(f) => parts.push(f.to_string()),
                    _ => return Err("a list may hold only strings and numbers".into()),
                }
            }
            parts.join(",")
        }
        DeValue::Datetime(_) => return Err("a date-time is not a value of any serve option".into()),
        DeValue::Table(_) => return Err("expected a value, found a table (settings are top-level keys)".into()),
    };
    Ok(vec![OsString::from(flag), OsString::from(text)])
}

/// The first line of a clap error without its `error: ` prefix.
fn first_line(e: &clap::Error) -> String {
    let text = e.to_string();
    let line = text.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_file(content: &str, extra: &[&str]) -> Result<Vec<String>, ConfigError> {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("gridmap.toml");
        std::fs::write(&file, content).expect("write");
        let mut args = vec!["gridmap", "serve", "--config", file.to_str().expect("path")];
        args.extend(extra);
        let out = args_with_file(args.iter().map(OsString::from).collect())?;
        Ok(out.iter().map(|a| a.to_string_lossy().into_owned()).collect())
    }

    #[test]
    fn file_settings_yield_to_the_command_line() {
        let file = "# district server\nlisten = \"0.0.0.0:9000\"\ntile_cache_mb = 512\nno_sample = true\n\
                    incident_categories = [\"fire\", \"other\"]\n";
        let out = with_file(file, &["--tile-cache-mb", "64"]).expect("args");
        assert_eq!(
            out,
            [
                "gridmap",
                "serve",
                "--incident-categories",
                "fire,other",
                "--listen",
                "0.0.0.0:9000",
                "--no-sample",
                "--tile-cache-mb",
                "64"
            ]
        );
    }

    #[test]
    fn mistakes_name_file_and_line() {
        let e = with_file("listen = \"127.0.0.1:9000\"\n\nbogus_option = 3\n", &[]).expect_err("unknown key");
        let text = e.to_string();
        assert!(
            text.contains("gridmap.toml:3: unknown setting `bogus_option`") && text.contains("tile_cache_mb"),
            "{text}"
        );
        let e = with_file("tile_cache_mb = \"lots\"\n", &[]).expect_err("bad value");
        assert!(e.to_string().contains("gridmap.toml:1: tile_cache_mb: invalid value"), "{e}");
        let e = with_file("listen = \"19001\"\n", &[]).expect_err("bad address");
        assert!(e.to_string().contains("gridmap.toml:1: listen"), "{e}");
        let e = with_file("listen\n", &[]).expect_err("syntax");
        assert!(e.to_string().contains("line 1"), "{e}");
    }
}
