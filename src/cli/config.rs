//! `gridmap serve --config FILE` (or `GRIDMAP_CONFIG`): settings from a file of `key = value` lines (TOML-style;
//! `#` starts a comment, values may be quoted), one key per `serve` option (`listen = "0.0.0.0:8080"`,
//! `db = "postgres://…"`, `tile_cache_mb = 512`, `no_sample = true`). Precedence: command line, then the option's
//! `GRIDMAP_*` environment variable, then the file, then the default. The file becomes command-line arguments, so
//! clap checks its values like any other.

use std::ffi::OsString;

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
    /// A line that is not `key = value`.
    #[error("{path}:{line}: expected `key = value`, found {text:?}")]
    Syntax {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// The line.
        text: String,
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
    let mut extra = Vec::new();
    for (n, raw) in content.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(ConfigError::Syntax { path: path.clone(), line: n + 1, text: raw.to_owned() });
        };
        let key = key.trim().replace('_', "-");
        let value = value.trim().trim_matches('"').to_owned();
        let flag = format!("--{key}");
        let env = format!("GRIDMAP_{}", key.replace('-', "_").to_uppercase());
        if text.iter().any(|a| *a == flag || a.starts_with(&format!("{flag}="))) || std::env::var_os(&env).is_some() {
            continue;
        }
        match value.as_str() {
            "true" => extra.push(OsString::from(flag)),
            "false" => {}
            _ => extra.extend([OsString::from(flag), OsString::from(value)]),
        }
    }
    out.splice(serve + 1..serve + 1, extra);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_settings_yield_to_the_command_line() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("gridmap.toml");
        std::fs::write(&file, "# district server\nlisten = \"0.0.0.0:9000\"\ntile_cache_mb = 512\nno_sample = true\n")
            .expect("write");
        let args = ["gridmap", "serve", "--config", file.to_str().expect("path"), "--tile-cache-mb", "64"];
        let out = args_with_file(args.iter().map(OsString::from).collect()).expect("args");
        let out: Vec<String> = out.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(out, ["gridmap", "serve", "--listen", "0.0.0.0:9000", "--no-sample", "--tile-cache-mb", "64"]);
        std::fs::write(&file, "listen\n").expect("write");
        let e = args_with_file(
            ["gridmap", "serve", "--config", file.to_str().expect("p")].iter().map(OsString::from).collect(),
        );
        assert!(e.expect_err("syntax").to_string().contains(":1:"));
    }
}
