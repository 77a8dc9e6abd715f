//! `kitgen.toml`: what a project is generated from, so `kitgen generate` and
//! `kitgen check` need no flags. It is the user's file: kitgen writes it once.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::backend::{self, Table, TableSource, Target};
use crate::diagnostic::Diagnostic;

pub const CONFIG_FILE: &str = "kitgen.toml";

/// Unknown keys are refused by [`Config::load`]: `tables` takes every key
/// the struct does not name, and only the target's own table may be one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Project name: binaries, env prefix, metrics namespace.
    pub name: String,
    /// Module path, as the target spells it (a Go module path).
    pub module: String,
    /// Target language: a name in [`backend::TARGETS`].
    pub target: String,
    /// Service discovery backends to generate and link: "etcd", "consul".
    /// None by default: a project links no registry client it does not use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discovery: Vec<String>,
    pub source: SourceConfig,
    /// The target's table (`[go]`), by the target's name; the target reads it.
    #[serde(flatten)]
    pub tables: BTreeMap<String, toml::Value>,
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
    /// The built-in starter: keep go-kit addsvc's working Sum and Concat.
    /// Projects made before the key was renamed say `addsvc_example`.
    #[serde(
        default,
        alias = "addsvc_example",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub starter: bool,
}

impl Config {
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).expect("config serializes");
        format!(
            "# kitgen project file: what this project is generated from.\n\
             # `kitgen generate` reads it; paths are relative to this file.\n\n{body}"
        )
    }

    /// Reads `kitgen.toml` from `dir`, and the target's table in it
    /// (located, so that the target's refusal names kitgen.toml:line:col).
    pub fn load_with_table(dir: &Path) -> Result<(Config, Table), Diagnostic> {
        let path = dir.join(CONFIG_FILE);
        // Not through a link out of the project: an error would quote it.
        let text = match crate::sync::read_inside(dir, CONFIG_FILE) {
            Ok(Some(bytes)) => String::from_utf8(bytes).map_err(|_| {
                Diagnostic::new(format!("{CONFIG_FILE} is not UTF-8 text"))
                    .at_file(path.display().to_string())
            })?,
            Ok(None) => {
                return Err(Diagnostic::new(format!(
                    "cannot read {}: there is no such file",
                    path.display()
                ))
                .with_help("run kitgen in a project made by `kitgen new`, or pass --dir"));
            }
            Err(why) => {
                return Err(
                    Diagnostic::new(format!("refusing to read {}: {why}", path.display()))
                        .at_file(path.display().to_string()),
                );
            }
        };
        // A byte order mark, as some Windows editors save, means nothing here.
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let config: Config = toml::from_str(text).map_err(|e| {
            let d = Diagnostic::new(format!("invalid {CONFIG_FILE}: {}", e.message()));
            match e.span() {
                Some(span) => d.at_offset(path.display().to_string(), text, span.start, span.len()),
                None => d.at_file(path.display().to_string()),
            }
        })?;
        if config.source.protos.is_empty() == config.source.from.is_none() {
            let d = Diagnostic::new(format!(
                "{CONFIG_FILE} must name either [source] protos or [source] from"
            ))
            .with_help("protos = [\"api/x.proto\"] for .proto files, from = \"service.go\" for an interface or trait");
            // At the [source] table's header, where there is one.
            let header = text.lines().scan(0, |offset, line| {
                let here = *offset;
                *offset += line.len() + 1;
                Some((here, line))
            });
            let at = header
                .filter(|(_, line)| line.trim_start().starts_with("[source]"))
                .map(|(offset, line)| {
                    (
                        offset + line.len() - line.trim_start().len(),
                        "[source]".len(),
                    )
                })
                .next();
            return Err(match at {
                Some((offset, len)) => d.at_offset(path.display().to_string(), text, offset, len),
                None => d.at_file(path.display().to_string()),
            });
        }
        // The target decides what a name and a module may be: the name
        // becomes directories and identifiers, the module goes into the
        // build files. Both are held to the rules `kitgen new` applies,
        // located at their value.
        #[derive(Deserialize)]
        struct Spans {
            name: toml::Spanned<String>,
            module: toml::Spanned<String>,
            target: toml::Spanned<String>,
            #[serde(default)]
            discovery: Vec<toml::Spanned<String>>,
        }
        let spans: Option<Spans> = toml::from_str(text).ok();
        let keys: Option<BTreeMap<toml::Spanned<String>, serde::de::IgnoredAny>> =
            toml::from_str(text).ok();
        let file = path.display().to_string();
        let locate = |d: Diagnostic, span: Option<std::ops::Range<usize>>| match span {
            Some(span) => d.at_offset(file.clone(), text, span.start, span.len()),
            None => d.at_file(file.clone()),
        };
        let target = backend::target(&config.target)
            .map_err(|d| locate(d, spans.as_ref().map(|s| s.target.span())))?;
        target
            .validate_name(&config.name)
            .map_err(|d| locate(d, spans.as_ref().map(|s| s.name.span())))?;
        target
            .validate_module(&config.module)
            .map_err(|d| locate(d, spans.as_ref().map(|s| s.module.span())))?;
        for (i, backend) in config.discovery.iter().enumerate() {
            let span = || {
                spans
                    .as_ref()
                    .and_then(|s| s.discovery.get(i))
                    .map(|b| b.span())
            };
            validate_discovery(target, backend).map_err(|d| locate(d, span()))?;
            if config.discovery[..i].contains(backend) {
                return Err(locate(
                    Diagnostic::new(format!("discovery names \"{backend}\" twice")),
                    span(),
                ));
            }
        }
        // Any other key is the target's table, or a mistake.
        for (key, value) in &config.tables {
            let span = || {
                keys.as_ref()
                    .and_then(|keys| keys.keys().find(|k| k.get_ref() == key).map(|k| k.span()))
            };
            if key != target.name() {
                let help =
                    if backend::target(key).is_ok() || backend::PLANNED.contains(&key.as_str()) {
                        format!(
                            "[{key}] is the {key} target's table; this project's target is \"{}\"",
                            target.name()
                        )
                    } else {
                        format!(
                            "the keys are name, module, target, discovery, [source] and [{}]",
                            target.name()
                        )
                    };
                return Err(
                    locate(Diagnostic::new(format!("unknown field `{key}`")), span())
                        .with_help(help),
                );
            }
            if !value.is_table() {
                return Err(locate(
                    Diagnostic::new(format!("`{key}` must be a table ([{key}])")),
                    span(),
                ));
            }
        }
        let table = Table {
            value: config.table(),
            source: Some(TableSource {
                file,
                text: Arc::from(text),
            }),
        };
        target.check_table(&table)?;
        Ok((config, table))
    }

    /// Reads `kitgen.toml` from `dir`.
    pub fn load(dir: &Path) -> Result<Config, Diagnostic> {
        Config::load_with_table(dir).map(|(config, _)| config)
    }

    /// The target this project is generated for (checked on load).
    pub fn target(&self) -> Result<&'static dyn Target, Diagnostic> {
        backend::target(&self.target)
    }

    /// The target's table, empty when there is none.
    pub fn table(&self) -> toml::Table {
        match self.tables.get(&self.target) {
            Some(toml::Value::Table(t)) => t.clone(),
            _ => toml::Table::new(),
        }
    }

    pub fn proto_paths(&self, dir: &Path) -> Vec<PathBuf> {
        self.source.protos.iter().map(|p| dir.join(p)).collect()
    }

    pub fn include_paths(&self, dir: &Path) -> Vec<PathBuf> {
        self.source.includes.iter().map(|p| dir.join(p)).collect()
    }
}

/// A service discovery backend `target` can generate.
pub fn validate_discovery(target: &dyn Target, name: &str) -> Result<(), Diagnostic> {
    let names = target.discovery_backends();
    if names.contains(&name) {
        return Ok(());
    }
    Err(
        Diagnostic::new(format!("unknown discovery backend {name:?}")).with_help(format!(
            "discovery takes any of {}",
            names
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    )
}

/// `path` relative to `base`, both made absolute against `cwd` and normalized
/// lexically (symlinks are left alone, as the user wrote them). Uses `/`.
pub fn relative_to(path: &Path, base: &Path, cwd: &Path) -> String {
    let path = normalize(&cwd.join(path));
    let base = normalize(&cwd.join(base));
    // Both are absolute, so a relative path always exists.
    let relative = pathdiff::diff_paths(&path, &base).unwrap_or(path);
    let parts: Vec<_> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
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
            discovery: vec!["etcd".into()],
            source: SourceConfig {
                protos: vec!["proto/addsvc.proto".into()],
                from: None,
                includes: vec!["proto".into()],
                starter: true,
            },
            tables: BTreeMap::from([(
                "go".to_string(),
                toml::Value::Table(
                    toml::from_str(
                        "[go_package]\n\"google/type/money.proto\" = \"google.golang.org/genproto/googleapis/type/money\"\n",
                    )
                    .unwrap(),
                ),
            )]),
        };
        let text = config.to_toml();
        assert_eq!(toml::from_str::<Config>(&text).unwrap(), config);
        assert!(text.contains("\nstarter = true\n"), "{text}");
        // A project made before the key was renamed still reads.
        let old = text.replace("\nstarter = true\n", "\naddsvc_example = true\n");
        assert_eq!(toml::from_str::<Config>(&old).unwrap(), config);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            text.replace("protos", "protoz"),
        )
        .unwrap();
        let err = Config::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("kitgen.toml:"), "{err}");
    }

    #[test]
    fn discovery_backends_are_validated_where_they_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let write = |discovery: &str| {
            std::fs::write(
                dir.path().join(CONFIG_FILE),
                format!(
                    "name = \"a\"\nmodule = \"a\"\ntarget = \"go\"\ndiscovery = {discovery}\n\n[source]\nprotos = [\"a.proto\"]\n"
                ),
            )
            .unwrap();
        };
        write(r#"["consul", "etcd"]"#);
        let config = Config::load(dir.path()).unwrap();
        assert_eq!(config.discovery, ["consul", "etcd"]);
        for (bad, message) in [
            (
                r#"["etcd", "zookeeper"]"#,
                "unknown discovery backend \"zookeeper\"",
            ),
            (r#"["etcd", "etcd"]"#, "discovery names \"etcd\" twice"),
        ] {
            write(bad);
            let err = Config::load(dir.path()).unwrap_err().to_string();
            assert!(err.contains(message), "{bad}: {err}");
            assert!(
                err.contains("kitgen.toml:4:"),
                "{bad}: located on line 4: {err}"
            );
        }
    }
}
