//! No input may panic kitgen: every fixture and corpus proto, Go interface
//! and Rust trait, truncated and mutated in many ways, must give either a
//! project or a diagnostic.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kitgen::pipeline::{self, Source};

mod support;
use support::{XorShift, files_under};

fn seeds() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in [root.join("fixtures"), root.join("../shared/corpus")] {
        for entry in files_under(&dir) {
            if entry
                .extension()
                .is_some_and(|e| e == "proto" || e == "go" || e == "rs")
            {
                out.push((
                    entry.file_name().unwrap().to_string_lossy().into_owned(),
                    fs::read_to_string(&entry).unwrap(),
                ));
            }
        }
    }
    out.sort();
    assert!(out.len() >= 14, "fixtures and corpus are present");
    out
}

const TOKENS: &[&str] = &[
    "context.Context",
    "error",
    "interface {",
    "struct {",
    "func(",
    "chan ",
    "[]",
    "map[",
    "*",
    "iota",
    "&self",
    "Result<",
    "Option<",
    "Vec<",
    "HashMap<",
    "async fn ",
    "trait ",
    "enum ",
    "impl ",
    "<T>",
    "{",
    "}",
    ";",
    "=",
    "\"",
    "stream ",
    "rpc ",
    "message ",
    "service ",
    "option ",
    "map<",
    ">",
    "oneof ",
    "repeated ",
    "optional ",
    "import \"x.proto\";",
    "(google.api.http) = {get: \"/v1/{a=**}/{b}\"}",
    "(google.api.http) = {post: \"/{name=x/*}:do\" body: \"name\"}",
    "edition = \"2023\";",
    "0",
    "-1",
    "\u{0}",
    "é",
    "//",
    "/*",
    "features.",
    "returns (",
    ")",
    "google.protobuf.Empty",
];

/// Names that clash with Go, with what protoc-gen-go and protoc-gen-go-grpc
/// declare, with kitgen's own names and with Go's special file suffixes.
const CLASHING_NAMES: &[&str] = &[
    "type",
    "package",
    "func",
    "string",
    "Service",
    "Service_",
    "Errors",
    "Middleware",
    "Set",
    "Routes",
    "Server",
    "AddTest",
    "StoreWindows",
    "StoreLinuxAmd64",
    "AddClient",
    "AddServer",
    "UnimplementedAddServer",
    "Add_SumClient",
    "SumStream",
    "SumEndpoint",
    "get_sum",
    "GetSum",
    "Outer_Inner",
    "X_",
    "_x",
    "edition",
];

/// Replaces one identifier of `src` by a clashing name.
fn rename(chars: &mut Vec<char>, rng: &mut XorShift) {
    let mut words = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_alphabetic() && (i == 0 || !chars[i - 1].is_ascii_alphanumeric()) {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            words.push((start, i));
        } else {
            i += 1;
        }
    }
    if words.is_empty() {
        return;
    }
    let (start, end) = words[rng.below(words.len())];
    let name = CLASHING_NAMES[rng.below(CLASHING_NAMES.len())];
    chars.splice(start..end, name.chars());
}

fn mutate(src: &str, rng: &mut XorShift) -> String {
    let mut bytes: Vec<char> = src.chars().collect();
    for _ in 0..=rng.below(3) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(6) {
            4 | 5 => rename(&mut bytes, rng),
            0 => bytes.truncate(at),
            1 if at < bytes.len() => {
                bytes.remove(at);
            }
            2 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                for (i, c) in token.chars().enumerate() {
                    bytes.insert((at + i).min(bytes.len()), c);
                }
            }
            _ if at < bytes.len() => {
                let end = (at + rng.below(40)).min(bytes.len());
                let chunk: Vec<char> = bytes[at..end].to_vec();
                let to = rng.below(bytes.len() + 1);
                for (i, c) in chunk.into_iter().enumerate() {
                    bytes.insert((to + i).min(bytes.len()), c);
                }
            }
            _ => {}
        }
    }
    bytes.into_iter().collect()
}

/// Panics seen anywhere in the process, caught or not (prost-build and
/// tonic-prost-build run inside kitgen's `catch_unwind`: a panic there turns
/// into a diagnostic, and is still a finding here).
static PANICS: AtomicUsize = AtomicUsize::new(0);

/// Mutations per seed: `KITGEN_ROBUSTNESS_ROUNDS`, 75 without it
/// (`KITGEN_ROBUSTNESS_SEED` changes the inputs).
fn rounds() -> usize {
    std::env::var("KITGEN_ROBUSTNESS_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(75)
}

#[derive(Default)]
struct Counts {
    projects: usize,
    diagnostics: usize,
}

/// Renders `source` in memory through `target`: a project or a diagnostic
/// starting `error: `, never a panic. A refusal by the Rust target of an
/// input the Go target accepts is the Rust backend's own: it must name the
/// file it is about.
fn render(
    source: &Source,
    target: &'static dyn kitgen::backend::Target,
    go_accepted: Option<bool>,
    counts: &mut Counts,
    case: &dyn Fn() -> String,
) -> bool {
    let settings = pipeline::Settings {
        name: "fuzz".into(),
        module: "fuzz".into(),
        target,
        starter: true,
        source_names: vec!["fuzz.proto".into()],
        discovery: Vec::new(),
        table: Default::default(),
    };
    let before = PANICS.load(Ordering::SeqCst);
    let result = panic::catch_unwind(AssertUnwindSafe(|| pipeline::render(source, &settings)));
    let lang = target.name();
    assert_eq!(
        PANICS.load(Ordering::SeqCst),
        before,
        "{lang}: {} panicked",
        case()
    );
    match result {
        Ok(Ok(_)) => {
            counts.projects += 1;
            true
        }
        Ok(Err(d)) => {
            counts.diagnostics += 1;
            let text = d.to_string();
            assert!(text.starts_with("error: "), "{lang}: {}: {text}", case());
            assert!(
                !d.message.starts_with("internal error"),
                "{lang}: {}: {text}",
                case()
            );
            if go_accepted == Some(true) {
                assert!(
                    d.location.is_some(),
                    "{lang}: {}: unlocated refusal: {text}",
                    case()
                );
            }
            false
        }
        Err(_) => panic!("{lang}: {} panicked", case()),
    }
}

#[test]
fn mutated_protos_never_panic() {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        previous(info);
    }));
    let tmp = tempfile::tempdir().unwrap();
    let seed = std::env::var("KITGEN_ROBUSTNESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15u64)
        | 1;
    let mut rng = XorShift(seed);
    let (mut go_time, mut rust_time) = (Duration::ZERO, Duration::ZERO);
    let (mut inputs, mut go, mut rust) = (0, Counts::default(), Counts::default());
    for (name, src) in seeds() {
        for round in 0..rounds() {
            let mutated = mutate(&src, &mut rng);
            inputs += 1;
            let path = tmp.path().join(&name);
            fs::write(&path, &mutated).unwrap();
            let source = if name.ends_with(".proto") {
                Source::Protos {
                    files: vec![path.clone()],
                    includes: vec![],
                }
            } else {
                Source::Code {
                    path: path.clone(),
                    shown_as: name.clone(),
                }
            };
            let case = || format!("{name} mutation {round}; input:\n{mutated}");
            let start = Instant::now();
            let accepted = render(&source, &kitgen::backend::go::Go, None, &mut go, &case);
            go_time += start.elapsed();
            let start = Instant::now();
            render(
                &source,
                &kitgen::backend::rust::Rust,
                Some(accepted),
                &mut rust,
                &case,
            );
            rust_time += start.elapsed();
        }
    }
    eprintln!(
        "{inputs} inputs; go: {} projects, {} diagnostics in {go_time:.1?}; \
         rust: {} projects, {} diagnostics in {rust_time:.1?}; 0 panics",
        go.projects, go.diagnostics, rust.projects, rust.diagnostics
    );
    assert!(go.projects > 0 && go.diagnostics > 0);
    assert!(rust.projects > 0 && rust.diagnostics > 0);
}
