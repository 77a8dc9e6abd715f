//! The whole pipeline in memory: source → IR → FileSet, then the protobuf
//! stubs from the plugins. Nothing here touches the project directory.

use std::path::{Path, PathBuf};

use crate::backend::go;
use crate::diagnostic::Diagnostic;
use crate::fileset::{FileSet, Ownership};
use crate::frontend::{
    self,
    proto::{self, Compiled, ProtoInput},
};
use crate::lock::{self, Lock};
use crate::plugins::{self, PluginError};

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

/// Interface first: a Go interface file inside the project (as `kitgen new`
/// puts it, in `internal/<package>/`) is the service layer, its directory
/// the user's package. A file outside the project (a project made before
/// kitgen kept interfaces) and a Rust trait give the derived-proto project.
fn interface_placement(
    settings: &Settings,
    definition: frontend::definition::Definition,
) -> Option<go::iface::Placement> {
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
    Some(go::iface::Placement {
        definition,
        dir: dir.unwrap_or_default(),
        file: path.file_name()?.to_string_lossy().into_owned(),
    })
}

/// A project rendered in memory, still without its protobuf stubs.
pub struct Rendered {
    pub project: go::Project,
    pub files: FileSet,
    pub compiled: Compiled,
}

/// What to render besides the source itself.
#[derive(Debug, Clone)]
pub struct Settings {
    pub name: String,
    pub module: String,
    /// Keep go-kit addsvc's Sum and Concat logic where the API has them.
    pub addsvc_example: bool,
    /// The sources as the README names them (relative to the project).
    pub source_names: Vec<String>,
    /// kitgen.toml's `[go.go_package]`: where proto files' Go code lives.
    pub go_packages: Vec<go::GoPackageOverride>,
    /// Service discovery backends to generate and link.
    pub discovery: go::model::Discovery,
}

/// Compiles the source and renders every kitgen-authored file.
pub fn render(source: &Source, settings: &Settings) -> Result<Rendered, Diagnostic> {
    let mut derived = None;
    let mut interface = None;
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
            interface = interface_placement(settings, from.definition);
            from.compiled
        }
    };
    let starter = matches!(source, Source::Starter);
    let options = go::Options {
        name: settings.name.clone(),
        module: settings.module.clone(),
        starter: starter || settings.addsvc_example,
        sources: settings.source_names.clone(),
        go_packages: settings.go_packages.clone(),
        interface,
        discovery: settings.discovery,
    };
    let (project, mut files) = go::render(&compiled.api, &options)?;
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
        project,
        files,
        compiled,
    })
}

impl Rendered {
    /// The proto files whose Go code the project holds, in dependency order.
    fn files_to_generate(&self) -> Vec<String> {
        self.compiled
            .project_files
            .iter()
            .filter(|f| self.project.proto_packages.contains_key(*f))
            .cloned()
            .collect()
    }

    /// Everything the protobuf plugins' output depends on, hashed: the request
    /// they would read and their versions (see [`plugins::cache_key`]).
    pub fn stubs_key(&self) -> String {
        plugins::cache_key(&plugins::StubRequest {
            descriptor_set: &self.compiled.descriptor_set,
            files_to_generate: &self.files_to_generate(),
            parameter: &go::plugin_parameter(&self.project),
        })
    }
}

/// Adds the protobuf stubs: from the project on disk when the lock says they
/// were made from the same input and are unchanged, else from the plugins.
pub fn add_stubs(
    rendered: Rendered,
    previous: Option<(&Path, &Lock)>,
) -> Result<FileSet, PluginError> {
    let key = rendered.stubs_key();
    let files_to_generate = rendered.files_to_generate();
    let Rendered {
        project,
        mut files,
        compiled,
    } = rendered;
    if let Some(reused) = previous.and_then(|(dir, lock)| reuse_stubs(dir, lock, &key)) {
        for (path, contents) in reused {
            files.add_stub(path, contents);
        }
        return Ok(files);
    }
    let parameter = go::plugin_parameter(&project);
    let stubs = plugins::generate_stubs(&plugins::StubRequest {
        descriptor_set: &compiled.descriptor_set,
        files_to_generate: &files_to_generate,
        parameter: &parameter,
    })?;
    for stub in stubs {
        files.add_stub(go::naming::stub_path(&stub.path), stub.content);
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
