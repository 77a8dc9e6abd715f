//! The whole pipeline in memory: source → IR → FileSet, then the protobuf
//! stubs from the target. Nothing here touches the project directory.

use std::path::{Path, PathBuf};

use crate::backend::{Stubs, Table, Target};
use crate::diagnostic::Diagnostic;
use crate::fileset::{FileSet, Ownership};
use crate::frontend::{
    self,
    proto::{self, Compiled, ProtoInput},
};
use crate::lock::{self, Lock};

/// The built-in starter: go-kit's addsvc API.
pub const STARTER_PROTO: &str = include_str!("../fixtures/starter/addsvc.proto");
/// Where the starter's proto lands in a new project.
pub const STARTER_PROTO_PATH: &str = "proto/addsvc.proto";

/// Where the API comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The built-in addsvc starter.
    Starter,
    Protos {
        files: Vec<PathBuf>,
        includes: Vec<PathBuf>,
    },
    /// A Go interface or Rust trait file; `shown_as` is how the user named it.
    Code { path: PathBuf, shown_as: String },
}

/// Where the `.proto` derived from a code definition lives in the project.
pub fn derived_proto_path(name: &str) -> String {
    format!("proto/{name}.proto")
}

/// A project rendered in memory, still without its protobuf stubs.
pub struct Rendered {
    pub files: FileSet,
    pub compiled: Compiled,
    /// Notes from the target for the user (`note: ...`).
    pub notes: Vec<String>,
    stubs: Box<dyn Stubs>,
}

/// What to render besides the source itself.
#[derive(Clone)]
pub struct Settings {
    /// The target language.
    pub target: &'static dyn Target,
    pub name: String,
    pub module: String,
    /// The built-in starter's working implementation (go-kit addsvc's Sum
    /// and Concat logic) where the API has those methods.
    pub starter: bool,
    /// The sources as the README names them (relative to the project).
    pub source_names: Vec<String>,
    /// Service discovery backends to generate and link, by name.
    pub discovery: Vec<String>,
    /// The target's table of kitgen.toml.
    pub table: Table,
}

impl Settings {
    /// Project `name` with module path `module` in `target`, with nothing
    /// else chosen.
    pub fn new(target: &'static dyn Target, name: &str, module: &str) -> Settings {
        Settings {
            target,
            name: name.to_string(),
            module: module.to_string(),
            starter: false,
            source_names: Vec::new(),
            discovery: Vec::new(),
            table: Table::default(),
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("target", &self.target.name())
            .field("name", &self.name)
            .field("module", &self.module)
            .field("starter", &self.starter)
            .field("source_names", &self.source_names)
            .field("discovery", &self.discovery)
            .field("table", &self.table)
            .finish()
    }
}

/// Compiles the source and renders every kitgen-authored file.
pub fn render(source: &Source, settings: &Settings) -> Result<Rendered, Diagnostic> {
    let mut derived = None;
    let mut definition = None;
    let compiled = match source {
        Source::Starter => proto::compile_source("addsvc.proto", STARTER_PROTO)?,
        Source::Protos { files, includes } => proto::compile(&ProtoInput {
            files: files.clone(),
            includes: includes.clone(),
        })?,
        Source::Code { path, shown_as } => {
            let from = frontend::from_code(
                path,
                shown_as,
                &settings.name,
                &format!("{}.proto", settings.name),
            )?;
            derived = Some(from.proto);
            definition = Some(from.definition);
            from.compiled
        }
    };
    let starter = matches!(source, Source::Starter);
    let settings = &Settings {
        starter: starter || settings.starter,
        ..settings.clone()
    };
    let rendering = settings.target.render(&compiled, settings, definition)?;
    let mut files = rendering.files;
    if starter {
        files.add(STARTER_PROTO_PATH, Ownership::User, STARTER_PROTO);
    }
    if let Some(text) = derived {
        files.add(
            derived_proto_path(&settings.name),
            Ownership::Generated,
            text,
        );
    }
    Ok(Rendered {
        files,
        compiled,
        notes: rendering.notes,
        stubs: rendering.stubs,
    })
}

impl Rendered {
    /// Everything the protobuf stubs depend on, hashed (kitgen.lock keeps it).
    pub fn stubs_key(&self) -> String {
        self.stubs.key()
    }
}

/// Adds the protobuf stubs: from the project on disk when the lock says they
/// were made from the same input and are unchanged, else from the target.
pub fn add_stubs(rendered: Rendered, previous: Option<(&Path, &Lock)>) -> anyhow::Result<FileSet> {
    let key = rendered.stubs_key();
    let Rendered {
        mut files, stubs, ..
    } = rendered;
    if let Some(reused) = previous.and_then(|(dir, lock)| reuse_stubs(dir, lock, &key)) {
        for (path, contents) in reused {
            files.add_stub(path, contents);
        }
        return Ok(files);
    }
    for (path, contents) in stubs.generate()? {
        files.add_stub(path, contents);
    }
    Ok(files)
}

fn reuse_stubs(dir: &Path, lock: &Lock, key: &str) -> Option<Vec<(String, String)>> {
    if lock.stubs_key != key {
        return None;
    }
    let mut out = Vec::new();
    for file in lock.files.iter().filter(|f| f.stub) {
        let contents = std::fs::read_to_string(dir.join(&file.path)).ok()?;
        if file.sha256.as_deref() != Some(lock::sha256(contents.as_bytes()).as_str()) {
            return None;
        }
        out.push((file.path.clone(), contents));
    }
    (!out.is_empty()).then_some(out)
}
