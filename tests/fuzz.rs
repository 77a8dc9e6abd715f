//! Fuzzing every parser kitgen has, without nightly (cargo-fuzz needs it):
//! real inputs mutated structure-aware (tokens of the format spliced in,
//! chunks moved, truncations) and plain random bytes, fed to the proto
//! frontend (protox), the Go interface (tree-sitter-go) and Rust trait (syn)
//! frontends, kitgen.toml and kitgen.lock. Then whole `kitgen generate` runs
//! on projects (a Go one and a Rust one) with a mutated kitgen.toml or
//! kitgen.lock, in a sandbox:
//! nothing may panic and nothing outside the project may change.
//!
//! A bounded pass runs with the tests. `KITGEN_FUZZ_SECONDS=600` runs each
//! target for that long instead; `KITGEN_FUZZ_SEED` changes the inputs.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

mod support;
use std::time::{Duration, Instant};
use support::{XorShift, files_under};

use kitgen::config::{CONFIG_FILE, Config};
use kitgen::lock::{LOCK_FILE, Lock};
use kitgen::pipeline::{self, Source};

fn seed() -> u64 {
    std::env::var("KITGEN_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x2545_f491_4f6c_dd1d)
        | 1
}

/// How long one target runs: a bounded number of cases, or a time budget.
struct Budget {
    cases: usize,
    deadline: Option<Instant>,
    done: usize,
}

impl Budget {
    fn new(cases: usize) -> Budget {
        let deadline = std::env::var("KITGEN_FUZZ_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .map(|s| Instant::now() + Duration::from_secs(s));
        Budget {
            cases,
            deadline,
            done: 0,
        }
    }

    fn more(&mut self) -> bool {
        self.done += 1;
        match self.deadline {
            Some(d) => Instant::now() < d,
            None => self.done <= self.cases,
        }
    }
}

fn seeds(ext: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in [root.join("fixtures"), root.join("../shared/corpus")] {
        for path in files_under(&dir) {
            if path.extension().is_some_and(|e| e == ext)
                && let Ok(text) = fs::read_to_string(&path)
            {
                out.push((
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    text,
                ));
            }
        }
    }
    assert!(!out.is_empty(), "no .{ext} seeds");
    out
}

/// Mutates `src`: random bytes, truncation, deletion, a token of the
/// format spliced in, a chunk copied elsewhere; sometimes all random bytes.
fn mutate(src: &str, tokens: &[&str], rng: &mut XorShift) -> Vec<u8> {
    let mut bytes = src.as_bytes().to_vec();
    if rng.below(16) == 0 {
        return (0..rng.below(512)).map(|_| rng.next() as u8).collect();
    }
    for _ in 0..=rng.below(3) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(6) {
            0 => bytes.truncate(at),
            1 if at < bytes.len() => {
                let end = (at + 1 + rng.below(16)).min(bytes.len());
                bytes.drain(at..end);
            }
            2 | 3 => {
                let token = tokens[rng.below(tokens.len())].as_bytes();
                bytes.splice(at..at, token.iter().copied());
            }
            4 if at < bytes.len() => {
                let end = (at + rng.below(64)).min(bytes.len());
                let chunk = bytes[at..end].to_vec();
                let to = rng.below(bytes.len() + 1);
                bytes.splice(to..to, chunk);
            }
            _ => {
                let b = rng.next() as u8;
                if at < bytes.len() {
                    bytes[at] = b;
                } else {
                    bytes.push(b);
                }
            }
        }
    }
    bytes
}

const PROTO_TOKENS: &[&str] = &[
    "message ",
    "service ",
    "rpc ",
    "returns (",
    "stream ",
    "repeated ",
    "map<string, ",
    "oneof ",
    "enum ",
    "option ",
    "import \"",
    "package ",
    "syntax = \"proto3\";",
    "edition = \"2023\";",
    "(google.api.http) = {get: \"/v1/{name=shelves/*}\"}",
    "{",
    "}",
    ";",
    "= 1",
    "\u{feff}",
    "\u{0}",
    "é",
    "//",
    "/*",
    "\"",
    "optional ",
    "reserved ",
    "extend ",
    "option go_package = \"x\";",
];
const GO_TOKENS: &[&str] = &[
    "interface {",
    "}",
    "func ",
    "context.Context",
    "error",
    "(",
    ")",
    ", ",
    "chan ",
    "[]",
    "map[",
    "*",
    "type ",
    "struct {",
    "iota",
    "const (",
    "package ",
    "import \"context\"",
    "...",
    "\u{feff}",
];
const RUST_TOKENS: &[&str] = &[
    "trait ", "fn ", "&self", "Result<", ">", "async ", "{", "}", "(", ")", "Vec<", "Option<",
    "HashMap<", "struct ", "enum ", "impl ", "pub ", "&", "dyn ", "'a", "\u{feff}", "#[",
];
const TOML_TOKENS: &[&str] = &[
    "[go.go_package]",
    "[go]",
    "\"proto/addsvc.proto\" = \"../x;type\"",
    "\"google/type/date.proto\" = \"google.golang.org/genproto/googleapis/type/date\"",
    "\"x.proto\" = \"github.com/acme/addsvc/pkg/service;service\"",
    "go_package = { \"a\" = 1 }",
    "name = \"../../x\"",
    "module = \"a b\"",
    "module = \"../P,module=,M=\"",
    "name = \"\"",
    "[source]",
    "protos = [\"../x.proto\"]",
    "from = \"/etc/passwd\"",
    "includes = [\"\"]",
    "target = \"rust\"",
    "addsvc_example = true",
    "\"\"\"",
    "'''",
    "\\u0000",
    "[[x]]",
    "=",
    "\n",
    "\u{feff}",
    "\r\n",
];
const LOCK_TOKENS: &[&str] = &[
    "[[file]]\npath = \"../outside/secret\"\nowner = \"generated\"\n",
    "path = \"/etc/passwd\"",
    "path = \"a\\u0000b\"",
    "owner = \"user\"",
    "deleted = true",
    "stub = true",
    "base = \"\"\"",
    "format = 2",
    "format = 1",
    "sha256 = \"00\"",
    "kitgen = \"9\"",
    "\u{feff}",
    "\n",
    "'''",
    "path = \".kitgen/txn/journal\"",
    "path = \"kitgen.lock\"",
];

/// Runs every case: `make` builds an input, `check` runs the parser on it
/// (true: accepted, false: refused with a diagnostic). A panic is a finding:
/// its input is saved under `target/fuzz-findings/`, the run goes on, and
/// the test fails at the end listing them.
fn fuzz(
    name: &str,
    cases: usize,
    mut make: impl FnMut(&mut XorShift) -> Vec<u8>,
    mut check: impl FnMut(&[u8]) -> bool,
) {
    let mut rng = XorShift(seed());
    let mut budget = Budget::new(cases);
    let (mut ok, mut refused) = (0usize, 0usize);
    let mut findings = Vec::new();
    let start = Instant::now();
    while budget.more() {
        let input = make(&mut rng);
        match panic::catch_unwind(AssertUnwindSafe(|| check(&input))) {
            Ok(true) => ok += 1,
            Ok(false) => refused += 1,
            Err(_) => {
                let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-findings");
                fs::create_dir_all(&dir).unwrap();
                let file = dir.join(format!("{name}-{}-{}", seed(), budget.done));
                fs::write(&file, &input).unwrap();
                findings.push(file);
            }
        }
    }
    eprintln!(
        "fuzz {name}: {} executions in {:.1?} ({ok} accepted, {refused} refused), {} panics",
        ok + refused + findings.len(),
        start.elapsed(),
        findings.len()
    );
    assert!(
        findings.is_empty(),
        "{name}: inputs that panicked: {findings:#?}"
    );
}

/// Renders a source: accepted, or refused with a diagnostic (never a panic).
fn render(source: &Source) -> bool {
    let settings = pipeline::Settings {
        name: "fuzz".into(),
        module: "fuzz".into(),
        target: &kitgen::backend::go::Go,
        starter: false,
        source_names: vec!["fuzz".into()],
        discovery: Vec::new(),
        table: Default::default(),
    };
    match pipeline::render(source, &settings) {
        Ok(_) => true,
        Err(d) => {
            assert!(d.to_string().starts_with("error: "), "{d}");
            false
        }
    }
}

fn code_target(name: &str, ext: &str, tokens: &[&str], cases: usize) {
    let sandbox = tempfile::tempdir().unwrap();
    let seeds = seeds(ext);
    let path = sandbox.path().join(format!("fuzz.{ext}"));
    fuzz(
        name,
        cases,
        |rng| mutate(&seeds[rng.below(seeds.len())].1, tokens, rng),
        |bytes| {
            fs::write(&path, bytes).unwrap();
            render(&Source::Code {
                path: path.clone(),
                shown_as: format!("fuzz.{ext}"),
            })
        },
    );
    assert_eq!(
        fs::read_dir(sandbox.path()).unwrap().count(),
        1,
        "wrote beside the input"
    );
}

#[test]
fn fuzz_proto_frontend() {
    let sandbox = tempfile::tempdir().unwrap();
    let path = sandbox.path().join("fuzz.proto");
    // Seeds that compile on their own (no -I), so mutations start from
    // valid input and reach past the parser into lowering and rendering.
    let seeds: Vec<(String, String)> = seeds("proto")
        .into_iter()
        .filter(|(_, src)| {
            fs::write(&path, src).unwrap();
            render(&Source::Protos {
                files: vec![path.clone()],
                includes: vec![],
            })
        })
        .collect();
    assert!(seeds.len() >= 5, "{} valid proto seeds", seeds.len());
    fuzz(
        "proto",
        600,
        |rng| mutate(&seeds[rng.below(seeds.len())].1, PROTO_TOKENS, rng),
        |bytes| {
            fs::write(&path, bytes).unwrap();
            render(&Source::Protos {
                files: vec![path.clone()],
                includes: vec![],
            })
        },
    );
    assert_eq!(
        fs::read_dir(sandbox.path()).unwrap().count(),
        1,
        "wrote beside the input"
    );
}

#[test]
fn fuzz_go_interface_frontend() {
    code_target("go-interface", "go", GO_TOKENS, 600);
}

#[test]
fn fuzz_rust_trait_frontend() {
    code_target("rust-trait", "rs", RUST_TOKENS, 600);
}

const CONFIG_SEED: &str = "# kitgen project file\n\nname = \"addsvc\"\nmodule = \"github.com/acme/addsvc\"\ntarget = \"go\"\n\n[source]\nprotos = [\"proto/addsvc.proto\"]\nincludes = [\"proto\"]\naddsvc_example = true\n\n[go.go_package]\n\"common.proto\" = \"github.com/acme/addsvc/internal/commonpb\"\n";

#[test]
fn fuzz_kitgen_toml() {
    let sandbox = tempfile::tempdir().unwrap();
    fuzz(
        "kitgen.toml",
        3000,
        |rng| mutate(CONFIG_SEED, TOML_TOKENS, rng),
        |bytes| {
            fs::write(sandbox.path().join(CONFIG_FILE), bytes).unwrap();
            match Config::load_with_table(sandbox.path()) {
                Ok((config, table)) => {
                    let overrides =
                        kitgen::backend::go::overrides(&table).expect("checked on load");
                    // Every override is located in the file it came from.
                    for o in &overrides {
                        let source = o.source.as_ref().expect("located");
                        assert!(source.key.end <= source.text.len());
                        assert!(source.value.end <= source.text.len());
                    }
                    // What loads is what `new` accepts: no name or module that
                    // could steer a path or a parameter.
                    let target = config.target().expect("checked on load");
                    assert!(target.validate_name(&config.name).is_ok());
                    assert!(target.validate_module(&config.module).is_ok());
                    true
                }
                Err(d) => {
                    assert!(d.to_string().starts_with("error: "), "{d}");
                    false
                }
            }
        },
    );
}

const LOCK_SEED: &str = "format = 1\nkitgen = \"0.1.0\"\nstubs_key = \"k\"\n\n[[file]]\npath = \"pb/x.pb.go\"\nowner = \"generated\"\nsha256 = \"ab\"\nstub = true\n\n[[file]]\npath = \"pkg/service/add.go\"\nowner = \"user\"\nsha256 = \"cd\"\nbase = \"\"\"\npackage service\n\"\"\"\n";

#[test]
fn fuzz_kitgen_lock() {
    let sandbox = tempfile::tempdir().unwrap();
    fuzz(
        "kitgen.lock",
        3000,
        |rng| mutate(LOCK_SEED, LOCK_TOKENS, rng),
        |bytes| {
            fs::write(sandbox.path().join(LOCK_FILE), bytes).unwrap();
            match Lock::load(sandbox.path()) {
                Ok(Some(lock)) => {
                    // Every path a loaded lock names is inside the project.
                    for f in &lock.files {
                        assert!(kitgen::fileset::check_path(&f.path).is_ok(), "{:?}", f.path);
                    }
                    true
                }
                Ok(None) => unreachable!("the lock was written"),
                Err(d) => {
                    assert!(d.to_string().starts_with("error: "), "{d}");
                    false
                }
            }
        },
    );
}

/// Every file under `root` with its contents.
fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    files_under(root)
        .into_iter()
        .map(|p| {
            let bytes = fs::read(&p).unwrap_or_default();
            (p, bytes)
        })
        .collect()
}

/// Whole `kitgen generate` runs on a real project whose kitgen.toml or
/// kitgen.lock is mutated (a Go project's or a Rust one's): exit 0, 1 or 2, never a panic, and nothing
/// outside the project changes.
#[test]
fn fuzz_generate_with_mutated_project_files() {
    let sandbox = tempfile::tempdir().unwrap();
    let outside = sandbox.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("secret.txt"), "secret\n").unwrap();
    let work = sandbox.path().join("work");
    fs::create_dir_all(&work).unwrap();
    // A Go project and a Rust one: each case mutates one file of one of them.
    type Project = (&'static str, PathBuf, Vec<(String, Vec<u8>)>);
    let projects: Vec<Project> = [
        ("go", vec!["new", "addsvc"]),
        ("rust", vec!["new", "addrs", "--lang", "rust"]),
    ]
    .into_iter()
    .map(|(lang, args)| {
        let out = support::kitgen(&args, &work);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let project = work.join(args[1]);
        let pristine = [CONFIG_FILE, LOCK_FILE]
            .iter()
            .map(|f| (f.to_string(), fs::read(project.join(f)).unwrap()))
            .collect();
        (lang, project, pristine)
    })
    .collect();
    let outside_before = snapshot(&outside);
    let mut rng = XorShift(seed());
    let mut budget = Budget::new(40);
    let mut codes = [[0usize; 3]; 2];
    let start = Instant::now();
    while budget.more() {
        let lang = rng.below(2);
        let (name, project, pristine) = &projects[lang];
        let which = rng.below(2);
        let (file, text) = &pristine[which];
        let text = String::from_utf8_lossy(text).into_owned();
        let tokens = if which == 0 { TOML_TOKENS } else { LOCK_TOKENS };
        let mutated = mutate(&text, tokens, &mut rng);
        for (f, t) in pristine {
            fs::write(project.join(f), t).unwrap();
        }
        fs::write(project.join(file), &mutated).unwrap();
        let out = support::kitgen(&["generate", "--force"], project);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        assert!(
            matches!(code, Some(0..=2)) && !stderr.contains("panicked"),
            "{name} {file} case {}: {code:?} {stderr}\ninput: {}",
            budget.done,
            String::from_utf8_lossy(&mutated)
        );
        codes[lang][code.unwrap() as usize] += 1;
        assert_eq!(
            snapshot(&outside),
            outside_before,
            "wrote outside the project"
        );
        let beside: Vec<_> = fs::read_dir(&work)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(beside.len(), 2, "wrote beside the projects: {beside:?}");
    }
    eprintln!(
        "fuzz generate: {} runs in {:.1?} (go exit 0/1/2: {:?}, rust exit 0/1/2: {:?}), \
         0 panics, 0 writes outside",
        codes.iter().flatten().sum::<usize>(),
        start.elapsed(),
        codes[0],
        codes[1]
    );
}
