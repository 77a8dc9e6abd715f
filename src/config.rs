//! `kitgen.toml`: what a project is generated from, so `kitgen generate` and
//! `kitgen check` need no flags. It is the user's file: kitgen writes it once.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::diagnostic::Diagnostic;

pub const CONFIG_FILE: &str = "kitgen.toml";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Project name: binaries, env prefix, metrics namespace.
    pub name: String,
    /// Go module path.
    pub module: String,
    /// Target language; only "go" today.
    pub target: String,
    pub source: SourceConfig,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// .proto files, relative to the project directory.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protos: Vec<String>,
    /// Or a Go interface (.go) or Rust trait (.rs) file, relative to the
    /// project directory: kitgen derives the .proto from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Import roots, relative to the project directory.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub includes: Vec<String>,
    /// Keep go-kit addsvc's working Sum and Concat (the built-in starter).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub addsvc_example: bool,
}

impl Config {
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).expect("config serializes");
        format!(
            "# kitgen project file: what this project is generated from.\n\
             # `kitgen generate` reads it; paths are relative to this file.\n\n{body}"
        )
    }

    /// Reads `kitgen.toml` from `dir`.
    pub fn load(dir: &Path) -> Result<Config, Diagnostic> {
        let path = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Diagnostic::new(format!("cannot read {}: {e}", path.display()))
                .with_help("run kitgen in a project made by `kitgen new`, or pass --dir")
        })?;
        let config: Config = toml::from_str(&text).map_err(|e| {
            let d = Diagnostic::new(format!("invalid {CONFIG_FILE}: {}", e.message()));
            match e.span() {
                Some(span) => {
                    d.at_offset(path.display().to_string(), &text, span.start, span.len())
                }
                None => d.at_file(path.display().to_string()),
            }
        })?;
        if config.source.protos.is_empty() == config.source.from.is_none() {
            return Err(Diagnostic::new(format!(
                "{CONFIG_FILE} must name either [source] protos or [source] from"
            ))
            .at_file(path.display().to_string())
            .with_help("protos = [\"api/x.proto\"] for .proto files, from = \"service.go\" for an interface or trait"));
        }
        if config.target != "go" {
            return Err(
                Diagnostic::new(format!("unknown target '{}'", config.target))
                    .at_file(path.display().to_string())
                    .with_help("the only target today is \"go\""),
            );
        }
        Ok(config)
    }

    pub fn proto_paths(&self, dir: &Path) -> Vec<PathBuf> {
        self.source.protos.iter().map(|p| dir.join(p)).collect()
    }

    pub fn include_paths(&self, dir: &Path) -> Vec<PathBuf> {
        self.source.includes.iter().map(|p| dir.join(p)).collect()
    }
}

/// `path` relative to `base`, both made absolute against `cwd` and normalized
/// lexically (symlinks are left alone, as the user wrote them). Uses `/`.
pub fn relative_to(path: &Path, base: &Path, cwd: &Path) -> String {
    let path = normalize(&cwd.join(path));
    let base = normalize(&cwd.join(base));
    let p: Vec<_> = path.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".to_string(); b.len() - common];
    parts.extend(
        p[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let cwd = Path::new("/home/u/work");
        assert_eq!(
            relative_to(Path::new("api/x.proto"), Path::new("svc"), cwd),
            "../api/x.proto"
        );
        assert_eq!(
            relative_to(Path::new("svc/proto/x.proto"), Path::new("svc"), cwd),
            "proto/x.proto"
        );
        assert_eq!(
            relative_to(Path::new("/abs/x.proto"), Path::new("./svc"), cwd),
            "../../../../abs/x.proto"
        );
        assert_eq!(relative_to(Path::new("svc"), Path::new("svc"), cwd), ".");
    }

    #[test]
    fn round_trips_and_rejects_typos() {
        let config = Config {
            name: "addsvc".into(),
            module: "github.com/acme/addsvc".into(),
            target: "go".into(),
            source: SourceConfig {
                protos: vec!["proto/addsvc.proto".into()],
                from: None,
                includes: vec!["proto".into()],
                addsvc_example: true,
            },
        };
        let text = config.to_toml();
        assert_eq!(toml::from_str::<Config>(&text).unwrap(), config);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            text.replace("protos", "protoz"),
        )
        .unwrap();
        let err = Config::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("kitgen.toml:"), "{err}");
    }
}
