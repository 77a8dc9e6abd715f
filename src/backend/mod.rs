//! Targets: everything language-specific, behind one seam.
//!
//! A [`Target`] maps the IR onto one language and renders every file of the
//! project into a [`FileSet`]; it also owns what only that language knows:
//! which names a project may take and what a module path is, its table in
//! kitgen.toml, the protobuf stubs and their cache key, the definition file
//! `kitgen new --from` keeps in the project, and how a file of the user's is
//! merged beyond lines. The pipeline, sync and the CLI reach a target only
//! through this trait, found by name in [`TARGETS`].
//!
//! Why a trait object and not an enum over per-language options: a target
//! is a closed bundle of behaviour, not data the pipeline inspects. With an
//! enum every operation would be a `match` here naming each language, and a
//! new target would touch each arm; with a trait it is its own module (its
//! `impl Target`) plus one line in [`TARGETS`]. Its per-language state (the
//! Go package model, the plugins' request) stays inside the target: the
//! pipeline only holds what [`Target::render`] returns, a [`Rendering`]
//! whose stubs are another small trait, [`Stubs`].

pub mod go;
pub mod rust;

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use crate::diagnostic::Diagnostic;
use crate::fileset::FileSet;
use crate::frontend::definition::Definition;
use crate::frontend::proto::Compiled;

/// Every target this kitgen renders. Adding one is its module and a line
/// here (and its name out of [`PLANNED`]).
pub static TARGETS: &[&dyn Target] = &[&go::Go, &rust::Rust];

/// Targets kitgen.toml and `--lang` may name that this kitgen does not
/// render yet: refused with a message that says so, not as a typo.
pub const PLANNED: &[&str] = &[];

/// The target kitgen uses when none is named.
pub const DEFAULT_TARGET: &str = "go";

/// The target called `name`, or why there is none.
pub fn target(name: &str) -> Result<&'static dyn Target, Diagnostic> {
    find(TARGETS, PLANNED, name)
}

/// [`target`] over any registry, for tests.
fn find<'a>(
    targets: &[&'a dyn Target],
    planned: &[&str],
    name: &str,
) -> Result<&'a dyn Target, Diagnostic> {
    if let Some(t) = targets.iter().find(|t| t.name() == name) {
        return Ok(*t);
    }
    let known = targets
        .iter()
        .map(|t| format!("\"{}\"", t.name()))
        .collect::<Vec<_>>()
        .join(", ");
    let help = if targets.len() == 1 {
        format!("the only target today is {known}")
    } else {
        format!("the targets are {known}")
    };
    Err(if planned.contains(&name) {
        Diagnostic::new(format!(
            "the {name} target is not available in this kitgen yet"
        ))
        .with_help(help)
    } else {
        Diagnostic::new(format!("unknown target '{name}'")).with_help(help)
    })
}

/// One target language.
pub trait Target: Sync + std::panic::RefUnwindSafe {
    /// Its name: kitgen.toml's `target`, `kitgen new --lang`, and the key of
    /// its table in kitgen.toml.
    fn name(&self) -> &'static str;

    /// Whether `name` can be a project name (it becomes directories and
    /// identifiers in this language).
    fn validate_name(&self, name: &str) -> Result<(), Diagnostic>;

    /// Whether `module` is a module path in this language.
    fn validate_module(&self, module: &str) -> Result<(), Diagnostic>;

    /// The service discovery backends it can generate (kitgen.toml's
    /// `discovery`, `kitgen new --discovery`).
    fn discovery_backends(&self) -> &'static [&'static str];

    /// Its table of kitgen.toml made from `kitgen new`'s flags; empty when
    /// they set nothing. Refuses a flag of another target.
    fn table_from_flags(&self, flags: &Flags) -> Result<toml::Table, Diagnostic>;

    /// Checks its table of kitgen.toml, located where it is written.
    fn check_table(&self, table: &Table) -> Result<(), Diagnostic>;

    /// `kitgen new --from FILE`: where the definition file is kept in the
    /// project as the user's own (interface first), and its text; `None`
    /// when the project only derives a `.proto` from it.
    fn keep_definition(&self, from: &Path) -> Result<Option<(String, String)>, Diagnostic>;

    /// Renders every file the target writes but the protobuf stubs, which
    /// the returned [`Rendering`] makes on demand.
    fn render(
        &self,
        compiled: &Compiled,
        settings: &crate::pipeline::Settings,
        definition: Option<Definition>,
    ) -> Result<Rendering, Diagnostic>;

    /// What to run after `kitgen new` made project `name` in `dir`.
    fn next_steps(&self, name: &str) -> Vec<String>;

    /// Whether `path` is a source file of this language, whose
    /// [`Target::declarations`] sync reads to find a file of the user's
    /// that was renamed, or that lacks what kitgen renders for it.
    fn source_file(&self, path: &str) -> bool {
        let _ = path;
        false
    }

    /// The top-level declarations of a source file.
    fn declarations(&self, text: &str) -> std::collections::BTreeSet<Declaration> {
        let _ = text;
        Default::default()
    }

    /// A merge of its own for a file of the user's at `path`, before (or
    /// instead of) the line merge of `base`, `ours` and `theirs`.
    fn premerge(&self, path: &str, base: &str, ours: &str, theirs: &str) -> PreMerge {
        let _ = (path, base, ours, theirs);
        PreMerge::Lines
    }
}

/// One top-level declaration of a source file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Declaration {
    /// As the language writes it, e.g. `func (addService) Sum`: shown to
    /// the user, and what two files are compared by.
    pub text: String,
    pub kind: DeclarationKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DeclarationKind {
    /// A type: other code depends on it.
    Type,
    /// A free function.
    Function,
    /// A method of a type.
    Method,
}

/// What [`Target::premerge`] made of a file of the user's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreMerge {
    /// Nothing: merge the lines as they are.
    Lines,
    /// The merge itself, conflict-free (e.g. go.sum, a set of lines).
    Merged(String),
    /// Merge these lines instead: `base` and `ours` with what the new
    /// rendering changed carried in where the user did not edit it (e.g. a
    /// method's new signature above the user's body).
    Carried { base: String, ours: String },
}

/// What `kitgen new` was given for the target's table.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--go-package FILE=IMPORT_PATH[;NAME]`, as given.
    pub go_packages: Vec<String>,
}

/// A target's table of kitgen.toml (`[go]`), and where it was read so that
/// a refusal names file:line:col.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub value: toml::Table,
    /// `None` for a table made from flags.
    pub source: Option<TableSource>,
}

/// The kitgen.toml a table was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSource {
    /// The file as the user knows it (its path).
    pub file: String,
    /// Its whole text: the target reads its table's spans from it.
    pub text: Arc<str>,
}

impl TableSource {
    /// `d` located at `span` of the file.
    pub fn locate(&self, d: Diagnostic, span: Range<usize>) -> Diagnostic {
        d.at_offset(self.file.clone(), &self.text, span.start, span.len())
    }
}

/// A target's project in memory, still without its protobuf stubs.
pub struct Rendering {
    pub files: FileSet,
    /// Notes for the user (printed as `note: ...`), e.g. a module to require.
    pub notes: Vec<String>,
    pub stubs: Box<dyn Stubs>,
}

/// The protobuf code a target generates from the compiled protos.
pub trait Stubs {
    /// A hash of everything the stubs depend on: kitgen.lock keeps it, and
    /// stubs on disk made under the same key are reused.
    fn key(&self) -> String;

    /// Generates them: project-relative path and contents.
    fn generate(&self) -> anyhow::Result<Vec<(String, String)>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_go_target_is_registered_and_the_default() {
        let go = target(DEFAULT_TARGET).unwrap();
        assert_eq!(go.name(), "go");
        for t in TARGETS {
            assert!(
                !PLANNED.contains(&t.name()),
                "{} is planned and built",
                t.name()
            );
        }
    }

    #[test]
    fn unknown_and_planned_targets_are_refused_with_what_there_is() {
        let only_go: &[&dyn Target] = &[&go::Go];
        let err = find(only_go, &["rust"], "rust").err().unwrap().to_string();
        assert!(
            err.contains("the rust target is not available in this kitgen yet"),
            "{err}"
        );
        assert!(err.contains("the only target today is \"go\""), "{err}");
        let err = find(only_go, &["rust"], "cobol").err().unwrap().to_string();
        assert!(err.contains("unknown target 'cobol'"), "{err}");
        let err = find(only_go, &[], "rust").err().unwrap().to_string();
        assert!(err.contains("unknown target 'rust'"), "{err}");
        let two: &[&dyn Target] = &[&go::Go, &go::Go];
        let err = find(two, &[], "x").err().unwrap().to_string();
        assert!(err.contains("the targets are \"go\", \"go\""), "{err}");
        assert_eq!(find(only_go, &["rust"], "go").unwrap().name(), "go");
    }
}
