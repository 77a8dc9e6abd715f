//! No input may panic kitgen: every fixture and corpus proto, Go interface
//! and Rust trait, truncated and mutated in many ways, must give either a
//! project or a diagnostic.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

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

#[test]
fn mutated_protos_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let (mut projects, mut diagnostics) = (0, 0);
    let settings = pipeline::Settings {
        name: "fuzz".into(),
        module: "fuzz".into(),
        target: &kitgen::backend::go::Go,
        starter: true,
        source_names: vec!["fuzz.proto".into()],
        discovery: Vec::new(),
        table: Default::default(),
    };
    for (name, src) in seeds() {
        for round in 0..150 {
            let mutated = mutate(&src, &mut rng);
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
            let result =
                panic::catch_unwind(AssertUnwindSafe(|| pipeline::render(&source, &settings)));
            match result {
                Ok(Ok(_)) => projects += 1,
                Ok(Err(d)) => {
                    diagnostics += 1;
                    let text = d.to_string();
                    assert!(text.starts_with("error: "), "{text}");
                }
                Err(_) => panic!("{name} mutation {round} panicked; input:\n{mutated}"),
            }
        }
    }
    eprintln!("{projects} projects, {diagnostics} diagnostics, no panic");
    assert!(projects > 0 && diagnostics > 0);
}
