//! The command line: parses arguments, runs the pipeline, maps failures to
//! exit codes (2 for bad usage or input, 1 for everything else).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use std::path::Path;

use crate::backend::{self, Table, Target};
use crate::config::{CONFIG_FILE, Config, SourceConfig, relative_to};
use crate::diagnostic::Diagnostic;
use crate::fileset::Ownership;
use crate::lock::Lock;
use crate::pipeline::{self, Source};
use crate::sync::{self, ChangeKind};

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
  kitgen new library --proto api/library.proto -I api -I third_party --module github.com/acme/library
  kitgen new addsvc --from service.go      (a Go interface; or service.rs, a Rust trait)")]
    New(NewArgs),
    /// Regenerate the project after its .proto changed, keeping every line you wrote.
    #[command(
        long_about = "Regenerate the project from the sources kitgen.toml names. \
Generated files are rewritten; a generated file you edited stops the run (exit 1) unless --force. \
Files that are yours (implementation, middleware, main.go, README, ...) get a three-way merge \
of your version with the new rendering; a true conflict is written with git-style markers, \
listed, and exits 1. A file of yours that you deleted stays deleted."
    )]
    Generate(ProjectArgs),
    /// Exit 1 with a unified diff when `kitgen generate` would change anything; write nothing.
    Check(CheckArgs),
    /// Print what `kitgen generate` would change, as a unified diff; write nothing.
    Diff(CheckArgs),
}

#[derive(Debug, clap::Args)]
struct ProjectArgs {
    /// Project directory (the one holding kitgen.toml)
    #[arg(long, value_name = "DIR", default_value = ".")]
    dir: PathBuf,

    /// Overwrite generated files that were edited by hand.
    #[arg(long)]
    force: bool,

    /// Print what would change, as a unified diff, and write nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Project directory (the one holding kitgen.toml)
    #[arg(long, value_name = "DIR", default_value = ".")]
    dir: PathBuf,
}

#[derive(Debug, clap::Args)]
struct NewArgs {
    /// Project name: names the directory, the binaries (cmd/<name>) and the
    /// environment variable prefix. Lowercase letters, digits and '_'.
    name: String,

    /// A .proto file whose services to generate (repeatable). Without one,
    /// nor --from, kitgen uses its built-in starter, go-kit's addsvc API.
    #[arg(long = "proto", value_name = "FILE", conflicts_with = "from")]
    protos: Vec<PathBuf>,

    /// A Go file declaring an interface, or a Rust file declaring a trait:
    /// kitgen derives the .proto from it (see the README for the types).
    #[arg(long, value_name = "FILE")]
    from: Option<PathBuf>,

    /// An import root, as protoc's -I (repeatable). A --proto file's name is
    /// its path relative to the root that holds it. Without -I, each file's
    /// own directory is its root. google/protobuf/* and
    /// google/api/{annotations,http}.proto need no -I.
    #[arg(short = 'I', long = "include", value_name = "DIR")]
    includes: Vec<PathBuf>,

    /// Where a proto file's Go code lives, as protoc's M option (repeatable):
    /// FILE as imports name it, then an import path inside the module to move
    /// its generated package there, or any other to import it from there.
    /// Kept in kitgen.toml's [go.go_package].
    #[arg(long = "go-package", value_name = "FILE=IMPORT_PATH[;NAME]")]
    go_packages: Vec<String>,

    /// The language of the project: go or rust; kitgen.toml keeps it as `target`.
    #[arg(long, value_name = "LANG", default_value = backend::DEFAULT_TARGET)]
    lang: String,

    /// Module path of the project (a Go module path) [default: the project name]
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

    /// Service discovery backends to generate and link, comma-separated:
    /// etcd, consul. None by default; kitgen.toml's `discovery` keeps them.
    #[arg(long, value_name = "BACKENDS", value_delimiter = ',')]
    discovery: Vec<String>,
}

/// What went wrong, and so which exit code to use.
#[derive(Debug)]
enum Failure {
    /// Bad usage or bad input: exit 2.
    Input(Diagnostic),
    /// Anything else: exit 1.
    Other(anyhow::Error),
    /// Already explained on the output (drift, conflicts): exit 1.
    Reported,
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
        Command::Generate(args) => generate(&args.dir, args.force, args.dry_run),
        Command::Check(args) => check(&args.dir, true),
        Command::Diff(args) => check(&args.dir, false),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Reported) => ExitCode::from(1),
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
    let target = backend::target(&args.lang).map_err(|d| {
        let message = format!("--lang {}: {}", args.lang, d.message);
        Diagnostic { message, ..d }
    })?;
    target.validate_name(&args.name)?;
    let module = args.module.clone().unwrap_or_else(|| args.name.clone());
    target.validate_module(&module)?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    // An existing directory is locked and any interrupted run in it finished
    // first; a new one is created (and locked) only once the project renders.
    let mut guard = if dir.is_dir() {
        Some(open_project(&dir, true)?)
    } else {
        None
    };
    // Refuse a non-empty directory before any work, so the answer is fast.
    sync::check_target(&dir, args.force).map_err(|e| match e {
        sync::SyncError::Io { .. } => Failure::Other(e.into()),
        _ => Failure::Input(Diagnostic::new(e.to_string())),
    })?;
    let starter = args.protos.is_empty() && args.from.is_none();
    if (starter || args.from.is_some()) && !args.includes.is_empty() {
        return Err(Diagnostic::new("-I needs a --proto file")
            .with_help(
                "without --proto kitgen uses its built-in starter, which needs no include path",
            )
            .into());
    }

    let table = target.table_from_flags(&backend::Flags {
        go_packages: args.go_packages.clone(),
    })?;

    // kitgen.toml names the sources relative to the project, so `generate`
    // works from anywhere; the starter's proto becomes the project's own.
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let mut discovery: Vec<String> = Vec::new();
    for backend in &args.discovery {
        crate::config::validate_discovery(target, backend)?;
        if !discovery.contains(backend) {
            discovery.push(backend.clone());
        }
    }
    let config = Config {
        name: args.name.clone(),
        module: module.clone(),
        target: target.name().into(),
        discovery,
        source: if starter {
            SourceConfig {
                protos: vec![pipeline::STARTER_PROTO_PATH.to_string()],
                from: None,
                includes: vec!["proto".to_string()],
                starter: true,
            }
        } else {
            let relative =
                |paths: &[PathBuf]| paths.iter().map(|p| relative_to(p, &dir, &cwd)).collect();
            SourceConfig {
                protos: relative(&args.protos),
                from: args.from.as_ref().map(|p| relative_to(p, &dir, &cwd)),
                includes: relative(&args.includes),
                starter: false,
            }
        },
        tables: if table.is_empty() {
            Default::default()
        } else {
            [(target.name().to_string(), toml::Value::Table(table.clone()))].into()
        },
    };
    // Interface first: the Go interface is copied into the project as the
    // user's package, and kitgen.toml names the copy from now on.
    let mut config = config;
    let copied = match &args.from {
        Some(from) => target.keep_definition(from)?,
        None => None,
    };
    if let Some((path, _)) = &copied {
        config.source.from = Some(path.clone());
    }
    let source = if starter {
        Source::Starter
    } else if let Some(from) = &args.from {
        Source::Code {
            path: from.clone(),
            shown_as: from.display().to_string(),
        }
    } else {
        Source::Protos {
            files: args.protos.clone(),
            includes: args.includes.clone(),
        }
    };
    let table = Table {
        value: table,
        source: None,
    };
    let rendered = pipeline::render(&source, &settings(target, &config, table))?;
    print_notes(&rendered.notes);
    // The starter compiles from memory under the same name as the file it
    // writes, so this key matches what `generate` computes from disk.
    let stubs_key = rendered.stubs_key();
    let mut files = pipeline::add_stubs(rendered, None).context("generating the protobuf code")?;
    files.add(CONFIG_FILE, Ownership::User, config.to_toml());
    // The starter's proto and the user's interface are the user's sources
    // from now on, not outputs.
    let mut untracked: Vec<&str> = vec![CONFIG_FILE];
    if starter {
        untracked.push(pipeline::STARTER_PROTO_PATH);
    }
    if let Some((path, text)) = &copied {
        files.add(path.as_str(), Ownership::User, text.as_str());
        untracked.push(path);
    }
    let untracked = untracked.as_slice();
    let plan = sync::plan(
        &dir,
        &files,
        &sync::PlanOptions {
            target,
            baseline: sync::Baseline::New,
            force: args.force,
            stubs_key,
            untracked,
        },
    )
    .context("reading the project")?;

    if refuse_unread(&plan) {
        return Err(Failure::Reported);
    }
    if args.dry_run {
        println!(
            "would write {} files to {}:",
            plan.writes.len() + usize::from(plan.lock_write.is_some()),
            dir.display()
        );
        for change in plan.writes.iter().chain(&plan.lock_write) {
            let owner = match files.get(&change.path).map(|f| f.ownership) {
                Some(Ownership::Generated) | None => "generated",
                Some(Ownership::User) => "yours",
            };
            println!("  {}  ({owner})", change.path);
        }
        return Ok(());
    }
    let created = guard.is_none();
    if created {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating '{}'", dir.display()))?;
        guard = Some(open_project(&dir, true)?);
    }
    if let Err(e) = sync::apply(&dir, &plan) {
        if created {
            // All or nothing: the directory this run made goes too.
            let _ = std::fs::remove_dir(&dir);
        }
        return Err(anyhow::Error::new(e).context("writing the project").into());
    }
    drop(guard);
    println!(
        "created {} ({} files) in {}",
        args.name,
        plan.writes.len() + usize::from(plan.lock_write.is_some()),
        dir.display()
    );
    for path in &plan.adopted {
        println!(
            "{:>9}  {path} (yours: kept as it is; kitgen merges into it from now on)",
            "kept"
        );
    }
    println!();
    println!("  cd {}", dir.display());
    for step in target.next_steps(&args.name) {
        println!("  {step}");
    }
    Ok(())
}

/// The target's notes for the user.
fn print_notes(notes: &[String]) {
    for note in notes {
        eprintln!("note: {note}");
    }
}

fn settings(target: &'static dyn Target, config: &Config, table: Table) -> pipeline::Settings {
    pipeline::Settings {
        target,
        name: config.name.clone(),
        module: config.module.clone(),
        starter: config.source.starter,
        source_names: match &config.source.from {
            Some(from) => vec![from.clone()],
            None => config.source.protos.clone(),
        },
        discovery: config.discovery.clone(),
        table,
    }
}

fn config_source(dir: &Path, config: &Config) -> Source {
    match &config.source.from {
        Some(from) => Source::Code {
            path: dir.join(from),
            shown_as: from.clone(),
        },
        None => Source::Protos {
            files: config.proto_paths(dir),
            includes: config.include_paths(dir),
        },
    }
}

/// Takes the project's lock (exclusive to write) and completes or rolls back
/// whatever a killed kitgen left half-written, before anything reads the tree.
fn open_project(dir: &Path, exclusive: bool) -> Result<sync::ProjectLock, Failure> {
    if !dir.is_dir() {
        // Config::load explains a missing project better.
        return Ok(sync::ProjectLock::none());
    }
    let busy = |e: sync::SyncError| Failure::Other(e.into());
    let mut guard = sync::lock_project(dir, exclusive).map_err(busy)?;
    if dir.join(sync::STATE_DIR).exists() {
        if !exclusive {
            drop(guard);
            guard = sync::lock_project(dir, true).map_err(busy)?;
        }
        match sync::recover(dir).context("finishing an interrupted kitgen run")? {
            Some(sync::Recovered::Completed(n)) => eprintln!(
                "note: completed an interrupted kitgen run ({n} files) before anything else"
            ),
            Some(sync::Recovered::RolledBack(path)) => eprintln!(
                "note: an interrupted kitgen run was rolled back ({} changed since); \
                 the project is as it was before it",
                path.as_deref().unwrap_or("a file")
            ),
            None => {}
        }
        if !exclusive {
            drop(guard);
            guard = sync::lock_project(dir, false).map_err(busy)?;
        }
    }
    Ok(guard)
}

/// Renders the project in `dir` from its kitgen.toml and plans the changes.
fn plan_project(dir: &Path, force: bool) -> Result<sync::Plan, Failure> {
    let (config, table) = Config::load_with_table(dir)?;
    let target = config.target()?;
    let lock = Lock::load(dir)?;
    let rendered = pipeline::render(
        &config_source(dir, &config),
        &settings(target, &config, table),
    )?;
    print_notes(&rendered.notes);
    let stubs_key = rendered.stubs_key();
    let files = pipeline::add_stubs(rendered, lock.as_ref().map(|l| (dir, l)))
        .context("generating the protobuf code")?;
    // Without a lock, the files on disk are adopted: nothing the user wrote is lost.
    let baseline = match &lock {
        Some(lock) => sync::Baseline::Locked(lock),
        None => sync::Baseline::Unlocked,
    };
    let plan = sync::plan(
        dir,
        &files,
        &sync::PlanOptions {
            target,
            baseline,
            force,
            stubs_key,
            untracked: &[CONFIG_FILE],
        },
    )
    .context("reading the project")?;
    Ok(plan)
}

fn generate(dir: &Path, force: bool, dry_run: bool) -> Result<(), Failure> {
    let _guard = open_project(dir, !dry_run)?;
    let plan = plan_project(dir, force)?;
    if dry_run {
        print_diff(&plan);
        return Ok(());
    }
    if refuse_unread(&plan) {
        return Err(Failure::Reported);
    }
    if !plan.unresolved.is_empty() {
        eprintln!(
            "error: conflict markers are still in these files of yours; nothing was changed:"
        );
        for path in &plan.unresolved {
            eprintln!("  {path}");
        }
        eprintln!(
            "  help: resolve each <<<<<<< ours / ||||||| base / ======= / >>>>>>> theirs block, then run kitgen generate again"
        );
        return Err(Failure::Reported);
    }
    if !plan.hand_edited.is_empty() {
        eprintln!("error: these generated files were edited by hand; nothing was changed:");
        for path in &plan.hand_edited {
            eprintln!("  {path}");
        }
        eprintln!(
            "  help: move your changes into a file of yours (see README.md), or pass --force to overwrite them"
        );
        return Err(Failure::Reported);
    }
    sync::apply(dir, &plan).context("writing the project")?;
    let mut changed = 0;
    for change in &plan.writes {
        changed += 1;
        let what = match change.kind {
            ChangeKind::Create => "created",
            ChangeKind::Update => "updated",
            ChangeKind::Merge => "merged",
            ChangeKind::Conflict => "CONFLICT",
            ChangeKind::Delete => "deleted",
        };
        println!("{what:>9}  {}", change.path);
    }
    for change in &plan.deletes {
        changed += 1;
        println!("{:>9}  {}", "deleted", change.path);
    }
    for path in &plan.kept_deleted {
        println!(
            "{:>9}  {path} (you deleted it; it stays deleted)",
            "skipped"
        );
    }
    if !plan.adopted.is_empty() {
        println!(
            "no kitgen.lock: your files were kept as they are and recorded; later generations merge into them"
        );
    }
    for (path, methods) in &plan.lacking {
        eprintln!(
            "warning: {path} was kept as it is (no lock to merge against), but it lacks what kitgen \
             renders for it; add these methods (see a fresh `kitgen new` for their stubs):"
        );
        for m in methods {
            eprintln!("  {m}");
        }
    }
    for path in &plan.orphaned {
        println!(
            "{:>9}  {path} (no longer generated; yours to keep or delete)",
            "kept"
        );
    }
    for (path, now) in &plan.moved {
        println!("{:>9}  {path} (found renamed as {now})", "moved");
    }
    if changed == 0 {
        println!("up to date");
    }
    if !plan.missing.is_empty() {
        eprintln!(
            "error: kitgen has new code (such as a new method's stub) for these files of yours, \
             which are gone, and no other file in their directory declares their types:"
        );
        for path in &plan.missing {
            eprintln!("  {path}");
        }
        eprintln!(
            "  help: restore them (or the types they declared), or pass --force to keep them deleted"
        );
        return Err(Failure::Reported);
    }
    if !plan.conflicts.is_empty() {
        eprintln!(
            "error: {} file(s) have conflicts between your edits and the new rendering; \
             resolve the <<<<<<< ours / >>>>>>> theirs blocks, then run kitgen generate again:",
            plan.conflicts.len()
        );
        for path in &plan.conflicts {
            eprintln!("  {path}");
        }
        return Err(Failure::Reported);
    }
    Ok(())
}

/// `check` (fail on drift) and `diff` (show it).
fn check(dir: &Path, fail: bool) -> Result<(), Failure> {
    let _guard = open_project(dir, false)?;
    let plan = plan_project(dir, false)?;
    print_diff(&plan);
    for path in &plan.unresolved {
        eprintln!("unresolved conflict markers in {path}");
    }
    for path in &plan.hand_edited {
        eprintln!("generated file edited by hand: {path}");
    }
    for path in &plan.missing {
        eprintln!("file of yours gone, with new code for it: {path}");
    }
    for (path, why) in &plan.refused {
        eprintln!("refused: {path}: {why}");
    }
    if fail && !plan.is_clean() {
        eprintln!("error: the project is not what its sources generate; run `kitgen generate`");
        return Err(Failure::Reported);
    }
    Ok(())
}

/// Says which files kitgen would not read (see [`sync::read_inside`]) or
/// merge into (not UTF-8), if any.
fn refuse_unread(plan: &sync::Plan) -> bool {
    if plan.refused.is_empty() {
        return false;
    }
    eprintln!("error: kitgen will not touch these files; nothing was changed:");
    for (path, why) in &plan.refused {
        eprintln!("  {path}: {why}");
    }
    eprintln!("  help: make each a regular UTF-8 file inside the project (or remove it)");
    true
}

fn print_diff(plan: &sync::Plan) {
    for change in plan.writes.iter().chain(&plan.deletes) {
        print!("{}", sync::unified_diff(change));
    }
}
