//! Frontends turn a service definition into the language-neutral [`crate::ir::Api`].
//!
//! A `.proto` goes through protox directly. A service written as code (a Go
//! interface or a Rust trait) is read into a [`definition::Definition`],
//! lowered into the IR, and written out as a derived `.proto`, which then
//! takes the same road: everything downstream is identical.

pub mod definition;
pub mod derive;
pub mod go_interface;
pub mod proto;
pub mod rust_trait;
mod source_info;

use std::path::Path;

use crate::diagnostic::Diagnostic;

/// A service definition read from code, and the `.proto` derived from it.
pub struct FromCode {
    pub compiled: proto::Compiled,
    /// The derived `.proto` text.
    pub proto: String,
    /// What the file declares, as read.
    pub definition: definition::Definition,
}

/// Reads a Go interface (`.go`) or Rust trait (`.rs`) file and derives its
/// `.proto` in package `package`, compiled as `proto_name`.
pub fn from_code(
    path: &Path,
    shown_as: &str,
    package: &str,
    proto_name: &str,
) -> Result<FromCode, Diagnostic> {
    let source = std::fs::read_to_string(path).map_err(|e| {
        Diagnostic::new(format!("cannot read {shown_as}: {e}"))
            .with_help("--from takes a .go or .rs file")
    })?;
    let definition = match path.extension().and_then(|e| e.to_str()) {
        Some("go") => go_interface::parse(shown_as, &source)?,
        Some("rs") => rust_trait::parse(shown_as, &source)?,
        _ => {
            return Err(
                Diagnostic::new(format!("{shown_as} is neither a .go nor a .rs file"))
                    .at_file(shown_as)
                    .with_help(
                        "--from takes a Go file with an interface or a Rust file with a trait",
                    ),
            );
        }
    };
    let api = definition.lower(package, proto_name)?;
    // The header names the file alone: the same whether kitgen runs from the
    // project or beside it.
    let file_name = path
        .file_name()
        .map_or(shown_as.into(), |n| n.to_string_lossy());
    let text = derive::proto(&api, &file_name);
    let compiled = proto::compile_source(proto_name, &text).map_err(|d| {
        Diagnostic::new(format!(
            "kitgen derived an invalid .proto from {shown_as}: {d}"
        ))
        .at_file(shown_as)
        .with_help("this is a kitgen bug: please report it with the file")
    })?;
    Ok(FromCode {
        compiled,
        proto: text,
        definition,
    })
}
