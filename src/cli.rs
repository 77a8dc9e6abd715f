//! The command line: parses arguments, runs the pipeline, maps failures to
//! exit codes (2 for bad usage or input, 1 for everything else).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::backend::go;
use crate::diagnostic::Diagnostic;
use crate::fileset::{FileSet, Ownership};
use crate::pipeline::{self, Source};
use crate::sync;

#[derive(Debug, Parser)]
#[command(
    name = "kitgen",
    version,
    about = "Generate Go kit microservices from .proto service definitions",
    long_about = "kitgen turns a .proto service definition into a complete Go kit project: \
service, endpoint and transport layers (HTTP and gRPC), middleware, clients, tests. \
It needs no protoc: protobuf Go code comes from protoc-gen-go and protoc-gen-go-grpc, \
taken from PATH or built once at pinned versions with the Go toolchain."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new project from a .proto, or from the built-in addsvc starter.
    #[command(after_help = "Examples:
  kitgen new addsvc
      go-kit's addsvc API (Sum, Concat) with a working implementation, in ./addsvc
  kitgen new library --proto api/library.proto -I api -I third_party --module github.com/acme/library")]
    New(NewArgs),
}

#[derive(Debug, clap::Args)]
struct NewArgs {
    /// Project name: names the directory, the binaries (cmd/<name>) and the
    /// environment variable prefix. Lowercase letters, digits and '_'.
    name: String,

    /// A .proto file whose services to generate (repeatable). Without one,
    /// kitgen uses its built-in starter, go-kit's addsvc API.
    #[arg(long = "proto", value_name = "FILE")]
    protos: Vec<PathBuf>,

    /// An import root, as protoc's -I (repeatable). A --proto file's name is
    /// its path relative to the root that holds it. Without -I, each file's
    /// own directory is its root. google/protobuf/* and
    /// google/api/{annotations,http}.proto need no -I.
    #[arg(short = 'I', long = "include", value_name = "DIR")]
    includes: Vec<PathBuf>,

    /// Go module path of the project [default: the project name]
    #[arg(long, value_name = "PATH")]
    module: Option<String>,

    /// Project directory [default: ./<name>]
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,

    /// Write into an existing non-empty directory, replacing the files kitgen
    /// generates and leaving every other file alone.
    #[arg(long)]
    force: bool,

    /// Print the files that would be written, and write nothing.
    #[arg(long)]
    dry_run: bool,
}

/// What went wrong, and so which exit code to use.
#[derive(Debug)]
enum Failure {
    /// Bad usage or bad input: exit 2.
    Input(Diagnostic),
    /// Anything else: exit 1.
    Other(anyhow::Error),
}

impl From<Diagnostic> for Failure {
    fn from(d: Diagnostic) -> Self {
        Failure::Input(d)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Other(e)
    }
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout with exit 0 and usage errors with 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = match cli.command {
        Command::New(args) => new(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(d)) => {
            eprintln!("{d}");
            ExitCode::from(2)
        }
        Err(Failure::Other(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn new(args: NewArgs) -> Result<(), Failure> {
    validate_name(&args.name)?;
    let module = args.module.clone().unwrap_or_else(|| args.name.clone());
    validate_module(&module)?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    // Refuse a non-empty directory before any work, so the answer is fast.
    sync::check_target(&dir, args.force).map_err(|e| match e {
        sync::SyncError::Io { .. } => Failure::Other(e.into()),
        _ => Failure::Input(Diagnostic::new(e.to_string())),
    })?;

    let files = generate(&args, &module)?;

    if args.dry_run {
        println!("would write {} files to {}:", files.len(), dir.display());
        for (path, file) in files.iter() {
            let owner = match file.ownership {
                Ownership::Generated => "generated",
                Ownership::User => "yours",
            };
            println!("  {path}  ({owner})");
        }
        return Ok(());
    }
    sync::write_all(&dir, &files).context("writing the project")?;
    println!(
        "created {} ({} files) in {}",
        args.name,
        files.len(),
        dir.display()
    );
    println!();
    println!("  cd {}", dir.display());
    println!("  go run ./cmd/{}", args.name);
    Ok(())
}

/// Runs the whole pipeline in memory.
fn generate(args: &NewArgs, module: &str) -> Result<FileSet, Failure> {
    let source = if args.protos.is_empty() {
        if !args.includes.is_empty() {
            return Err(Diagnostic::new("-I needs a --proto file")
                .with_help(
                    "without --proto kitgen uses its built-in starter, which needs no include path",
                )
                .into());
        }
        Source::Starter
    } else {
        Source::Protos {
            files: args.protos.clone(),
            includes: args.includes.clone(),
        }
    };
    let rendered = pipeline::render(&source, &args.name, module)?;
    Ok(pipeline::add_stubs(rendered).context("generating protobuf Go code")?)
}

const GO_KEYWORDS_AND_RESERVED: &[&str] = &["main", "test", "internal", "vendor", "testdata"];

fn validate_name(name: &str) -> Result<(), Diagnostic> {
    let why = if name.is_empty() {
        Some("it is empty".to_string())
    } else if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        Some("it must start with a lowercase letter".to_string())
    } else if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        Some(format!(
            "'{c}' is not allowed: use lowercase letters, digits and '_'"
        ))
    } else if go::naming::GO_KEYWORDS.contains(&name) || GO_KEYWORDS_AND_RESERVED.contains(&name) {
        Some("it is a Go keyword or a name Go reserves".to_string())
    } else {
        None
    };
    match why {
        Some(why) => Err(Diagnostic::new(format!("'{name}' cannot be a project name: {why}"))
            .with_help("the name becomes a Go identifier: the binary cmd/<name>, and the env var prefix; e.g. addsvc or order_service")),
        None => Ok(()),
    }
}

fn validate_module(module: &str) -> Result<(), Diagnostic> {
    let valid = !module.is_empty()
        && !module.starts_with('/')
        && !module.ends_with('/')
        && !module.contains("//")
        && module
            .split('/')
            .all(|e| !e.is_empty() && e != "." && e != ".." && !e.starts_with('.'))
        && module
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~/".contains(c));
    if valid {
        Ok(())
    } else {
        Err(Diagnostic::new(format!("'{module}' is not a valid Go module path"))
            .with_help("use a path such as github.com/acme/library: letters, digits and - . _ ~ separated by /"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        ] {
            let err = validate_name(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn module_paths() {
        assert!(validate_module("github.com/acme/library").is_ok());
        assert!(validate_module("addsvc").is_ok());
        for bad in ["", "/abs", "a//b", "a b", "a/../b", "trailing/"] {
            assert!(validate_module(bad).is_err(), "{bad}");
        }
    }
}
