//! The Rust target behind the seam ([`crate::backend::Target`]).

use std::path::Path;

use crate::backend::{Flags, Rendering, Stubs, Table, Target};
use crate::diagnostic::Diagnostic;
use crate::frontend::definition::Definition;
use crate::frontend::proto::Compiled;
use crate::pipeline::Settings;

use super::{Options, TraitFirstSource, adapter, pb};

/// The Rust target: tonic, axum, tower.
pub struct Rust;

impl Target for Rust {
    fn name(&self) -> &'static str {
        "rust"
    }

    /// A project name becomes the package, the library crate, the binary
    /// and the env var prefix: lowercase letters, digits and `_`, not a Rust
    /// keyword nor a crate the project links.
    fn validate_name(&self, name: &str) -> Result<(), Diagnostic> {
        let why = if name.is_empty() {
            Some("it is empty".to_string())
        } else if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            Some("it must start with a lowercase letter".to_string())
        } else {
            name.chars()
                .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
                .map(|c| format!("{c:?} is not allowed: use lowercase letters, digits and '_'"))
        };
        match why {
            Some(why) => Err(Diagnostic::new(format!("{name:?} cannot be a project name: {why}"))
                .with_help("the name becomes the crate, the binary and the env var prefix; e.g. addsvc or order_service")),
            None => super::model::validate_name(name),
        }
    }

    /// A Rust project has no module path: the crate is named after the
    /// project. `--module` is refused unless it is the name itself (the
    /// default kitgen.toml records).
    fn validate_module(&self, module: &str) -> Result<(), Diagnostic> {
        if module
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !module.is_empty()
        {
            return Ok(());
        }
        Err(
            Diagnostic::new(format!("{module:?}: a Rust project has no module path"))
                .with_help("leave out --module: the crate is named after the project"),
        )
    }

    /// etcd only: Consul has no Rust registration yet.
    fn discovery_backends(&self) -> &'static [&'static str] {
        &["etcd"]
    }

    fn table_from_flags(&self, flags: &Flags) -> Result<toml::Table, Diagnostic> {
        if !flags.go_packages.is_empty() {
            return Err(
                Diagnostic::new("--go-package is an option of the go target")
                    .with_help("leave it out with --lang rust"),
            );
        }
        Ok(toml::Table::new())
    }

    fn check_table(&self, table: &Table) -> Result<(), Diagnostic> {
        match table.value.keys().next() {
            None => Ok(()),
            Some(key) => {
                let d = Diagnostic::new(format!(
                    "[rust] has no setting {key:?}: the rust target takes none yet"
                ));
                Err(match &table.source {
                    Some(source) => d.at_file(source.file.clone()),
                    None => d,
                })
            }
        }
    }

    /// A Rust trait is kept as the user's module `src/<file>.rs` (trait
    /// first); a Go interface only derives the `.proto`.
    fn keep_definition(&self, from: &Path) -> Result<Option<(String, String)>, Diagnostic> {
        if from.extension().is_none_or(|e| e != "rs") {
            return Ok(None);
        }
        let shown = from.display().to_string();
        let text = std::fs::read_to_string(from).map_err(|e| {
            Diagnostic::new(format!("cannot read {shown}: {e}"))
                .with_help("--from takes a .go or .rs file")
        })?;
        let definition = crate::frontend::rust_trait::parse(&shown, &text)?;
        let stem = from
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let module = adapter::module_for(&stem, &definition);
        Ok(Some((format!("src/{module}.rs"), text)))
    }

    fn render(
        &self,
        compiled: &Compiled,
        settings: &Settings,
        definition: Option<Definition>,
    ) -> Result<Rendering, Diagnostic> {
        // kitgen.toml and --discovery are checked against
        // discovery_backends already; a caller of the pipeline may not be.
        if let Some(name) = settings
            .discovery
            .iter()
            .find(|d| !self.discovery_backends().contains(&d.as_str()))
        {
            return Err(
                Diagnostic::new(format!("unknown discovery backend {name:?}"))
                    .with_help("the rust target takes discovery = [\"etcd\"]"),
            );
        }
        let options = Options {
            name: settings.name.clone(),
            starter: settings.starter,
            sources: settings.source_names.clone(),
            discovery: settings.discovery.clone(),
        };
        let trait_first = trait_first(settings, definition)?;
        let files = super::render_project(&compiled.api, &options, trait_first.as_ref())?;
        // Generated here, not on demand: a protobuf refusal is the user's
        // input error (exit 2, nothing written), not a failure afterwards.
        let stubs = pb::generate(&compiled.api, &compiled.descriptor_set)?;
        Ok(Rendering {
            files,
            notes: Vec::new(),
            stubs: Box::new(RustStubs {
                key: stubs_key(&compiled.descriptor_set),
                files: stubs,
            }),
        })
    }

    fn next_steps(&self, name: &str) -> Vec<String> {
        vec![format!("cargo run --bin {name}")]
    }
}

/// The user's Rust file as the service layer, when the project keeps it
/// (`from = "src/<module>.rs"`); a project whose `from` names a file
/// elsewhere (made before kitgen kept Rust traits) only derives the `.proto`.
fn trait_first(
    settings: &Settings,
    definition: Option<Definition>,
) -> Result<Option<TraitFirstSource>, Diagnostic> {
    let (Some(definition), Some(source)) = (
        definition.filter(|d| d.rust.is_some()),
        settings.source_names.first(),
    ) else {
        return Ok(None);
    };
    let Some(module) = adapter::module_of_source(source) else {
        if source.starts_with("src/") {
            return Err(Diagnostic::new(format!(
                "kitgen.toml's from = {source:?}: a Rust trait kept in the project lives in src/<module>.rs"
            ))
            .with_help("move the file to src/ as a module of its own (lowercase letters, digits and _), and say so in kitgen.toml"));
        }
        return Ok(None);
    };
    Ok(Some(TraitFirstSource {
        definition,
        module,
        package: settings.name.clone(),
    }))
}

/// What the protobuf code depends on: the descriptors, and the generators'
/// versions (kitgen's own, which pins them).
fn stubs_key(descriptor_set: &[u8]) -> String {
    let mut input = format!(
        "rust\nkitgen {}\nprost-build 0.14 tonic-prost-build 0.14\n",
        env!("CARGO_PKG_VERSION")
    )
    .into_bytes();
    input.extend_from_slice(descriptor_set);
    crate::lock::sha256(&input)
}

struct RustStubs {
    key: String,
    files: Vec<(String, String)>,
}

impl Stubs for RustStubs {
    fn key(&self) -> String {
        self.key.clone()
    }

    fn generate(&self) -> anyhow::Result<Vec<(String, String)>> {
        Ok(self.files.clone())
    }
}
