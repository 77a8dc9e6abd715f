//! The Go target behind the seam ([`crate::backend::Target`]): project name
//! and module rules, kitgen.toml's `[go]` table, the interface-first copy,
//! and the protobuf stubs from protoc-gen-go and protoc-gen-go-grpc.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::backend::{Declaration, Flags, PreMerge, Rendering, Stubs, Table, Target};
use crate::config::CONFIG_FILE;
use crate::diagnostic::Diagnostic;
use crate::frontend::definition::Definition;
use crate::frontend::proto::Compiled;
use crate::pipeline::Settings;

use super::overrides::{GoPackageOverride, OverrideSource};
use super::{Options, iface, model, naming, plugins, signatures, sources};

/// The Go kit target.
pub struct Go;

/// `[go]`: settings of the Go target in kitgen.toml.
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

/// Names Go reserves besides its keywords, which a project name cannot be.
const RESERVED_NAMES: &[&str] = &["main", "test", "internal", "vendor", "testdata"];

impl Target for Go {
    fn name(&self) -> &'static str {
        "go"
    }

    /// A project name becomes a directory (`cmd/<name>`), a Go identifier
    /// and an environment variable prefix: lowercase letters, digits and `_`.
    fn validate_name(&self, name: &str) -> Result<(), Diagnostic> {
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
        } else if naming::GO_KEYWORDS.contains(&name) || RESERVED_NAMES.contains(&name) {
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
    /// letters, digits and `-._~`, none empty, none starting or ending with
    /// a dot, the first not starting with `-`. Nothing else reaches go.mod
    /// or the plugins' comma-separated parameter.
    fn validate_module(&self, module: &str) -> Result<(), Diagnostic> {
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

    fn discovery_backends(&self) -> &'static [&'static str] {
        &model::Discovery::NAMES
    }

    fn table_from_flags(&self, flags: &Flags) -> Result<toml::Table, Diagnostic> {
        let mut go_package = BTreeMap::new();
        for flag in &flags.go_packages {
            let Some((proto, value)) = flag.split_once('=') else {
                return Err(Diagnostic::new(format!(
                    "--go-package {flag:?}: expected FILE=IMPORT_PATH[;NAME]"
                ))
                .with_help(
                    "e.g. --go-package 'acme/money/v1/money.proto=example.com/acme/money;moneypb'",
                ));
            };
            if go_package
                .insert(proto.to_string(), value.to_string())
                .is_some()
            {
                return Err(Diagnostic::new(format!(
                    "--go-package {flag:?}: '{proto}' is given a go_package twice"
                )));
            }
        }
        let config = GoConfig { go_package };
        Ok(toml::Table::try_from(&config).unwrap_or_default())
    }

    fn check_table(&self, table: &Table) -> Result<(), Diagnostic> {
        overrides(table).map(drop)
    }

    /// Where `kitgen new` puts a Go interface file in the project, and its
    /// text: `internal/<package>/<file>` (a name Go would build only for
    /// tests or one platform becomes `<package>.go`). A Rust trait only
    /// derives the `.proto`.
    fn keep_definition(&self, from: &Path) -> Result<Option<(String, String)>, Diagnostic> {
        if from.extension().is_none_or(|e| e != "go") {
            return Ok(None);
        }
        let shown = from.display().to_string();
        let text = std::fs::read_to_string(from).map_err(|e| {
            Diagnostic::new(format!("cannot read {shown}: {e}"))
                .with_help("--from takes a .go or .rs file")
        })?;
        let definition = crate::frontend::go_interface::parse(&shown, &text)?;
        let package = definition.go.map(|g| g.package).unwrap_or_default();
        let stem = from
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = if file_stem_ok(&stem) {
            format!("{stem}.go")
        } else {
            format!("{package}.go")
        };
        Ok(Some((
            format!("{}/{file}", iface::package_dir(&package)),
            text,
        )))
    }

    fn render(
        &self,
        compiled: &Compiled,
        settings: &Settings,
        definition: Option<Definition>,
    ) -> Result<Rendering, Diagnostic> {
        let mut discovery = model::Discovery::default();
        for name in &settings.discovery {
            if !discovery.choose(name) {
                return Err(crate::config::validate_discovery(self, name)
                    .err()
                    .unwrap_or_else(|| Diagnostic::new(format!("unknown discovery {name:?}"))));
            }
        }
        let options = Options {
            name: settings.name.clone(),
            module: settings.module.clone(),
            starter: settings.starter,
            sources: settings.source_names.clone(),
            go_packages: overrides(&settings.table)?,
            interface: definition.and_then(|d| interface_placement(settings, d)),
            discovery,
        };
        let (project, files) = super::render(&compiled.api, &options)?;
        let notes = project
            .unpinned_imports
            .iter()
            .map(|path| {
                format!(
                    "{path} is imported as kitgen.toml says, but kitgen pins no module that holds it: \
                     add its module to go.mod (go get <module>@<version>); kitgen keeps what you add"
                )
            })
            .collect();
        let files_to_generate = compiled
            .project_files
            .iter()
            .filter(|f| project.proto_packages.contains_key(*f))
            .cloned()
            .collect();
        Ok(Rendering {
            files,
            notes,
            stubs: Box::new(GoStubs {
                descriptor_set: compiled.descriptor_set.clone(),
                files_to_generate,
                parameter: super::plugin_parameter(&project),
            }),
        })
    }

    fn next_steps(&self, name: &str) -> Vec<String> {
        vec![format!("go run ./cmd/{name}")]
    }

    fn source_file(&self, path: &str) -> bool {
        path.ends_with(".go")
    }

    fn declarations(&self, text: &str) -> BTreeSet<Declaration> {
        sources::declarations(text)
    }

    /// go.sum merges as a set of lines; a Go file the user implemented
    /// takes the new signatures of methods whose signature they left as
    /// kitgen wrote it, before the line merge (see [`signatures`]).
    fn premerge(&self, path: &str, base: &str, ours: &str, theirs: &str) -> PreMerge {
        if path == "go.sum" && ours != base {
            return PreMerge::Merged(sources::merge_go_sum(base, ours, theirs));
        }
        if path.ends_with(".go")
            && ours != base
            && theirs != base
            && let Some((base, ours)) = signatures::carry(base, ours, theirs)
        {
            return PreMerge::Carried { base, ours };
        }
        PreMerge::Lines
    }
}

/// Whether a file stem is one Go builds always, and safe as a path element.
fn file_stem_ok(stem: &str) -> bool {
    !stem.is_empty()
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !naming::special_file_stem(stem)
}

/// Interface first: a Go interface file inside the project (as `kitgen new`
/// puts it, in `internal/<package>/`) is the service layer, its directory
/// the user's package. A file outside the project (a project made before
/// kitgen kept interfaces) and a Rust trait give the derived-proto project.
fn interface_placement(settings: &Settings, definition: Definition) -> Option<iface::Placement> {
    let name = settings.source_names.first()?;
    let path = Path::new(name);
    let inside = path
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    if definition.go.is_none() || !inside || !name.ends_with(".go") {
        return None;
    }
    let dir = path
        .parent()
        .map(|d| d.to_string_lossy().replace('\\', "/"));
    Some(iface::Placement {
        definition,
        dir: dir.unwrap_or_default(),
        file: path.file_name()?.to_string_lossy().into_owned(),
    })
}

/// The `[go.go_package]` overrides of a `[go]` table, located where they
/// are written when it was read from kitgen.toml (a refusal then names
/// kitgen.toml:line:col).
pub fn overrides(table: &Table) -> Result<Vec<GoPackageOverride>, Diagnostic> {
    let Some(source) = &table.source else {
        let config: GoConfig =
            toml::Value::Table(table.value.clone())
                .try_into()
                .map_err(|e: toml::de::Error| {
                    Diagnostic::new(format!("invalid [go] table: {}", e.message()))
                })?;
        return Ok(config
            .go_package
            .into_iter()
            .map(|(proto, value)| GoPackageOverride {
                proto,
                value,
                source: None,
            })
            .collect());
    };
    #[derive(Deserialize)]
    struct File {
        #[serde(default)]
        go: Option<GoSpans>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct GoSpans {
        #[serde(default)]
        go_package: BTreeMap<toml::Spanned<String>, toml::Spanned<String>>,
    }
    let text = source.text.strip_prefix('\u{feff}').unwrap_or(&source.text);
    let file: File = toml::from_str(text).map_err(|e| {
        let d = Diagnostic::new(format!("invalid {CONFIG_FILE}: {}", e.message()));
        match e.span() {
            Some(span) => d.at_offset(source.file.clone(), text, span.start, span.len()),
            None => d.at_file(source.file.clone()),
        }
    })?;
    let shared: std::sync::Arc<str> = std::sync::Arc::from(text);
    Ok(file
        .go
        .map(|g| g.go_package)
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| GoPackageOverride {
            proto: k.get_ref().clone(),
            value: v.get_ref().clone(),
            source: Some(OverrideSource {
                file: source.file.clone(),
                text: shared.clone(),
                key: k.span(),
                value: v.span(),
            }),
        })
        .collect())
}

/// What protoc-gen-go and protoc-gen-go-grpc are asked for.
struct GoStubs {
    descriptor_set: Vec<u8>,
    files_to_generate: Vec<String>,
    parameter: String,
}

impl GoStubs {
    fn request(&self) -> plugins::StubRequest<'_> {
        plugins::StubRequest {
            descriptor_set: &self.descriptor_set,
            files_to_generate: &self.files_to_generate,
            parameter: &self.parameter,
        }
    }
}

impl Stubs for GoStubs {
    /// The request the plugins would read and their versions (see
    /// [`plugins::cache_key`]).
    fn key(&self) -> String {
        plugins::cache_key(&self.request())
    }

    fn generate(&self) -> anyhow::Result<Vec<(String, String)>> {
        let stubs = plugins::generate_stubs(&self.request())?;
        Ok(stubs
            .into_iter()
            .map(|s| (naming::stub_path(&s.path), s.content))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_must_be_identifiers() {
        for good in ["addsvc", "order_service", "svc2"] {
            assert!(Go.validate_name(good).is_ok(), "{good}");
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
            let err = Go.validate_name(bad).unwrap_err().to_string();
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
            assert!(Go.validate_module(good).is_ok(), "{good}");
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
            assert!(Go.validate_module(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_go_table_from_flags_and_from_kitgen_toml() {
        let flags = |f: &[&str]| Flags {
            go_packages: f.iter().map(|s| s.to_string()).collect(),
        };
        let table = Go
            .table_from_flags(&flags(&["a.proto=example.com/a;apb"]))
            .unwrap();
        assert_eq!(
            toml::to_string(&table).unwrap(),
            "[go_package]\n\"a.proto\" = \"example.com/a;apb\"\n"
        );
        assert!(Go.table_from_flags(&flags(&[])).unwrap().is_empty());
        let err = Go.table_from_flags(&flags(&["a.proto"])).unwrap_err();
        assert!(err.message.contains("expected FILE=IMPORT_PATH"), "{err}");
        let err = Go
            .table_from_flags(&flags(&["a.proto=x/a", "a.proto=x/b"]))
            .unwrap_err();
        assert!(err.message.contains("given a go_package twice"), "{err}");

        let read = |text: &str| Table {
            value: toml::Table::new(),
            source: Some(crate::backend::TableSource {
                file: "kitgen.toml".into(),
                text: text.into(),
            }),
        };
        let located = overrides(&read(
            "name = \"x\"\n\n[go.go_package]\n\"a.proto\" = \"x/a\"\n",
        ))
        .unwrap();
        let source = located[0].source.as_ref().unwrap();
        assert_eq!(&source.text[source.value.clone()], "\"x/a\"");
        let err = Go
            .check_table(&read("[go]\ngo_pakage = {}\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("kitgen.toml:2:1: invalid kitgen.toml: unknown field `go_pakage`"),
            "{err}"
        );
    }
}
