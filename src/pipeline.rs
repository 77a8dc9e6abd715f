//! The whole pipeline in memory: source → IR → FileSet, then the protobuf
//! stubs from the plugins. Nothing here touches the project directory.

use std::path::PathBuf;

use crate::backend::go;
use crate::diagnostic::Diagnostic;
use crate::fileset::{FileSet, Ownership};
use crate::frontend::proto::{self, Compiled, ProtoInput};
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
}

/// A project rendered in memory, still without its protobuf stubs.
pub struct Rendered {
    pub project: go::Project,
    pub files: FileSet,
    pub compiled: Compiled,
}

/// Compiles the source and renders every kitgen-authored file.
pub fn render(source: &Source, name: &str, module: &str) -> Result<Rendered, Diagnostic> {
    let (compiled, sources, starter) = match source {
        Source::Starter => (
            proto::compile_source("addsvc.proto", STARTER_PROTO)?,
            vec![STARTER_PROTO_PATH.to_string()],
            true,
        ),
        Source::Protos { files, includes } => (
            proto::compile(&ProtoInput {
                files: files.clone(),
                includes: includes.clone(),
            })?,
            files.iter().map(|p| p.display().to_string()).collect(),
            false,
        ),
    };
    let options = go::Options {
        name: name.to_string(),
        module: module.to_string(),
        starter,
        sources,
    };
    let (project, mut files) = go::render(&compiled.api, &options)?;
    if starter {
        files.add(STARTER_PROTO_PATH, Ownership::User, STARTER_PROTO);
    }
    Ok(Rendered {
        project,
        files,
        compiled,
    })
}

/// Runs protoc-gen-go and protoc-gen-go-grpc and adds their files.
pub fn add_stubs(rendered: Rendered) -> Result<FileSet, PluginError> {
    let Rendered {
        project,
        mut files,
        compiled,
    } = rendered;
    let parameter = go::plugin_parameter(&project);
    let stubs = plugins::generate_stubs(&plugins::StubRequest {
        descriptor_set: &compiled.descriptor_set,
        files_to_generate: &compiled.project_files,
        parameter: &parameter,
    })?;
    for stub in stubs {
        files.add(stub.path, Ownership::Generated, stub.content);
    }
    Ok(files)
}
