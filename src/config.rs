//! `kitgen.toml`: what a project is generated from, so `kitgen generate` and
//! `kitgen check` need no flags. It is the user's file: kitgen writes it once.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::backend::go::{GoPackageOverride, OverrideSource};
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
    /// Service discovery backends to generate and link: "etcd", "consul".
    /// None by default: a project links no registry client it does not use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discovery: Vec<String>,
    pub source: SourceConfig,
    /// The Go target's settings.
    #[serde(default, skip_serializing_if = "GoConfig::is_empty")]
    pub go: GoConfig,
}

/// `[go]`: settings of the Go target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoConfig {
    /// `[go.go_package]`: proto file (as imports name it) → `import/path`
    /// or `import/path;name`, as protoc's `M` option. An import path inside
    /// the module moves the generated package there; any other imports the
    /// file's Go code from that package instead of generating it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub go_package: BTreeMap<String, String>,
}

impl GoConfig {
    fn is_empty(&self) -> bool {
        self.go_package.is_empty()
    }
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
        // The name becomes a directory (cmd/<name>) and identifiers, the
        // module goes into go.mod and the plugins' parameter: both are held
        // to the rules `kitgen new` applies, located at their value.
        #[derive(Deserialize)]
        struct Spans {
            name: toml::Spanned<String>,
            module: toml::Spanned<String>,
            target: toml::Spanned<String>,
            #[serde(default)]
            discovery: Vec<toml::Spanned<String>>,
        }
        let spans: Option<Spans> = toml::from_str(text).ok();
        let locate = |d: Diagnostic, span: Option<std::ops::Range<usize>>| match span {
            Some(span) => d.at_offset(path.display().to_string(), text, span.start, span.len()),
            None => d.at_file(path.display().to_string()),
        };
        validate_name(&config.name)
            .map_err(|d| locate(d, spans.as_ref().map(|s| s.name.span())))?;
        validate_module(&config.module)
            .map_err(|d| locate(d, spans.as_ref().map(|s| s.module.span())))?;
        for (i, backend) in config.discovery.iter().enumerate() {
            let span = || {
                spans
                    .as_ref()
                    .and_then(|s| s.discovery.get(i))
                    .map(|b| b.span())
            };
            validate_discovery(backend).map_err(|d| locate(d, span()))?;
            if config.discovery[..i].contains(backend) {
                return Err(locate(
                    Diagnostic::new(format!("discovery names \"{backend}\" twice")),
                    span(),
                ));
            }
        }
        if config.target != "go" {
            return Err(locate(
                Diagnostic::new(format!("unknown target '{}'", config.target))
                    .with_help("the only target today is \"go\""),
                spans.as_ref().map(|s| s.target.span()),
            ));
        }
        Ok(config)
    }

    /// Reads `kitgen.toml` from `dir` with the Go package overrides located
    /// where they are written, so that a refusal names kitgen.toml:line:col.
    pub fn load_with_overrides(dir: &Path) -> Result<(Config, Vec<GoPackageOverride>), Diagnostic> {
        let config = Config::load(dir)?;
        if config.go.go_package.is_empty() {
            return Ok((config, Vec::new()));
        }
        let path = dir.join(CONFIG_FILE);
        // Load read it as UTF-8 already.
        let text = crate::sync::read_inside(dir, CONFIG_FILE)
            .ok()
            .flatten()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        #[derive(Deserialize)]
        struct Spans {
            go: GoSpans,
        }
        #[derive(Deserialize)]
        struct GoSpans {
            go_package: BTreeMap<toml::Spanned<String>, toml::Spanned<String>>,
        }
        let spans = toml::from_str::<Spans>(text).ok();
        let shared: Arc<str> = Arc::from(text);
        let file = path.display().to_string();
        let overrides = config
            .go
            .go_package
            .iter()
            .map(|(proto, value)| {
                let source = spans.as_ref().and_then(|s| {
                    s.go.go_package
                        .iter()
                        .find(|(k, _)| k.get_ref() == proto)
                        .map(|(k, v)| OverrideSource {
                            file: file.clone(),
                            text: shared.clone(),
                            key: k.span(),
                            value: v.span(),
                        })
                });
                GoPackageOverride {
                    proto: proto.clone(),
                    value: value.clone(),
                    source,
                }
            })
            .collect();
        Ok((config, overrides))
    }

    /// The discovery backends, validated on load.
    pub fn discovery(&self) -> crate::backend::go::model::Discovery {
        let mut chosen = crate::backend::go::model::Discovery::default();
        for name in &self.discovery {
            chosen.choose(name);
        }
        chosen
    }

    pub fn proto_paths(&self, dir: &Path) -> Vec<PathBuf> {
        self.source.protos.iter().map(|p| dir.join(p)).collect()
    }

    pub fn include_paths(&self, dir: &Path) -> Vec<PathBuf> {
        self.source.includes.iter().map(|p| dir.join(p)).collect()
    }
}

/// A service discovery backend kitgen can generate.
pub fn validate_discovery(name: &str) -> Result<(), Diagnostic> {
    let names = crate::backend::go::model::Discovery::NAMES;
    if names.contains(&name) {
        return Ok(());
    }
    Err(
        Diagnostic::new(format!("unknown discovery backend {name:?}")).with_help(format!(
            "discovery takes any of {}",
            names.map(|n| format!("\"{n}\"")).join(", ")
        )),
    )
}

/// Names Go reserves besides its keywords, which a project name cannot be.
const RESERVED_NAMES: &[&str] = &["main", "test", "internal", "vendor", "testdata"];

/// A project name becomes a directory (`cmd/<name>`), a Go identifier and an
/// environment variable prefix: lowercase letters, digits and `_`.
pub fn validate_name(name: &str) -> Result<(), Diagnostic> {
    let why = if name.is_empty() {
        Some("it is empty".to_string())
    } else if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        Some("it must start with a lowercase letter".to_string())
    } else if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        Some(format!(
            "{c:?} is not allowed: use lowercase letters, digits and '_'"
        ))
    } else if crate::backend::go::naming::GO_KEYWORDS.contains(&name)
        || RESERVED_NAMES.contains(&name)
    {
        Some("it is a Go keyword or a name Go reserves".to_string())
    } else {
        None
    };
    match why {
        Some(why) => Err(Diagnostic::new(format!("{name:?} cannot be a project name: {why}"))
            .with_help("the name becomes a Go identifier: the binary cmd/<name>, and the env var prefix; e.g. addsvc or order_service")),
        None => Ok(()),
    }
}

/// A Go module path as `go mod` accepts it (golang.org/x/mod/module's
/// CheckPath, less its special cases): `/`-separated elements of ASCII
/// letters, digits and `-._~`, none empty, none starting or ending with a dot,
/// the first not starting with `-`. Nothing else reaches go.mod or the
/// plugins' comma-separated parameter.
pub fn validate_module(module: &str) -> Result<(), Diagnostic> {
    let why = if module.is_empty() {
        Some("it is empty".to_string())
    } else if let Some(c) = module
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-._~/".contains(*c)))
    {
        Some(format!("{c:?} is not allowed"))
    } else if module.starts_with('-') {
        Some("it starts with '-'".to_string())
    } else if module
        .split('/')
        .any(|e| e.is_empty() || e.starts_with('.') || e.ends_with('.'))
    {
        Some("an element is empty or starts or ends with '.'".to_string())
    } else {
        None
    };
    match why {
        Some(why) => Err(Diagnostic::new(format!("{module:?} is not a valid Go module path: {why}"))
            .with_help("use a path such as github.com/acme/library: letters, digits and - . _ ~ separated by /")),
        None => Ok(()),
    }
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
    fn project_names_must_be_identifiers() {
        for good in ["addsvc", "order_service", "svc2"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for (bad, why) in [
            ("my-svc", "'-' is not allowed"),
            ("2fast", "start with a lowercase letter"),
            ("Add", "start with a lowercase letter"),
            ("func", "Go keyword"),
            ("", "empty"),
            ("a/b", "'/' is not allowed"),
            ("../../escaped", "start with a lowercase letter"),
        ] {
            let err = validate_name(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn module_paths() {
        for good in [
            "github.com/acme/library",
            "addsvc",
            "example.com/a-b/c_d/v2",
        ] {
            assert!(validate_module(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "/abs",
            "a//b",
            "a b",
            "a/../b",
            "trailing/",
            "../PLUGESC,module=,M=",
            "a\nb",
            "a=b",
            "-flag",
            "a./b",
            "a\\b",
        ] {
            assert!(validate_module(bad).is_err(), "{bad:?}");
        }
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
                addsvc_example: true,
            },
            go: GoConfig {
                go_package: BTreeMap::from([(
                    "google/type/money.proto".to_string(),
                    "google.golang.org/genproto/googleapis/type/money".to_string(),
                )]),
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
        assert!(config.discovery().etcd && config.discovery().consul);
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
