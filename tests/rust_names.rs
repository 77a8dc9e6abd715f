//! Hostile names for the Rust target: what kitgen accepts builds, what it
//! refuses is refused with file:line:col, exit 2 and nothing written.
//!
//! `accepted_names_build` generates fixtures/rustnames (RPCs named `type`,
//! `self`, `async`, `Clone`, `Into`, `Default`, `PollReady`; services named
//! `Endpoints`, `Services`, `Instrumentation`, `Fake`, `Client`; messages
//! named `Result`, `Option`, `Box`, `Status`, `String`, `Vec`; a package
//! `type.async…` beside a package `async…`; two test names that meet) and
//! builds, lints, formats and tests it in the shared CARGO_TARGET_DIR
//! (`$KITGEN_RUST_TARGET_DIR`, else target/rust-e2e), about a minute once
//! the dependencies are built.

mod support;

use std::fs;
use std::path::Path;

use support::{cargo_rust as cargo, kitgen, stderr};

#[test]
fn accepted_names_build() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rustnames");
    let tmp = tempfile::tempdir().unwrap();
    let proto = fixtures.join("hostile/v1/hostile.proto");
    let out = kitgen(
        &[
            "new",
            "hostile",
            "--lang",
            "rust",
            "--proto",
            proto.to_str().unwrap(),
            "-I",
            fixtures.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = tmp.path().join("hostile");
    cargo(
        &dir,
        &[
            "clippy",
            "--locked",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    );
    cargo(&dir, &["fmt", "--check"]);
    cargo(&dir, &["test", "--locked"]);
}

/// Each proto, the place kitgen must point at, and a word of its message.
const REFUSED: &[(&str, &str, &str)] = &[
    (
        // prost-build panicked on this one.
        "package e;\nenum Color {\n  COLOR_UNSPECIFIED = 0;\n  COLOR_RED = 1;\n  RED = 2;\n}\nmessage M { Color c = 1; }\nservice S { rpc Get(M) returns (M); }\n",
        "2:1",
        "COLOR_RED and RED are both Red",
    ),
    (
        "package e;\nmessage FooBar {}\nmessage Foo_Bar {}\nservice S { rpc Get(FooBar) returns (Foo_Bar); }\n",
        "3:1",
        "are both FooBar",
    ),
    (
        // prost-build names the oneof KindOneOf, for the nested Kind.
        "package e;\nmessage M {\n  oneof kind { int32 a = 1; string b = 2; }\n  message Kind {}\n  message KindOneOf {}\n  Kind k = 3;\n}\nservice S { rpc Get(M) returns (M); }\n",
        "5:3",
        "the oneof e.M.kind and e.M.KindOneOf are both KindOneOf",
    ),
    (
        "package e;\nmessage Sub { message Inner {} Inner i = 1; }\nmessage Other {}\nservice S { rpc Get(Sub) returns (e.sub.Other); }\n",
        "2:1",
        "is also package e.sub's",
    ),
    (
        "package e;\nmessage M {}\nservice S {\n  rpc GetFoo(M) returns (M);\n  rpc get_foo(M) returns (M);\n}\n",
        "5:3",
        "GetFoo and get_foo are both get_foo",
    ),
    (
        "package e;\nmessage M {}\nservice Status { rpc Get(M) returns (M); }\n",
        "3:1",
        "trait Status",
    ),
    (
        "package e;\nmessage M {}\nservice Self { rpc Get(M) returns (M); }\n",
        "3:1",
        "the keyword Self",
    ),
    (
        "package e;\nmessage M {}\nservice Result { rpc Get(M) returns (M); }\n",
        "3:1",
        "trait Result",
    ),
    // What every target refuses, refused by the Rust target too: the same
    // proto must not build in one language and be refused in the other.
    (
        "package e;\nmessage M {}\nservice S {}\n",
        "3:1",
        "declares no rpc",
    ),
    (
        "package e;\nimport \"google/api/annotations.proto\";\nmessage M { string name = 1; }\nservice S {\n  rpc A(M) returns (M) { option (google.api.http) = { get: \"/v1/{name=x/*}\" }; }\n  rpc B(M) returns (M) { option (google.api.http) = { get: \"/v1/{name=x/*}\" }; }\n}\n",
        "6:3",
        "matches the same requests as a route of e.S.A",
    ),
    (
        "package e;\nimport \"google/api/annotations.proto\";\nmessage M {}\nservice S {\n  rpc A(M) returns (M) { option (google.api.http) = { get: \"/healthz\" }; }\n}\n",
        "5:3",
        "would take /healthz",
    ),
];

#[test]
fn refused_names_are_located() {
    for (i, (proto, at, word)) in REFUSED.iter().enumerate() {
        let tmp = tempfile::tempdir().unwrap();
        let mut text = format!("syntax = \"proto3\";\n{proto}");
        if i == 3 {
            // The package e.sub, in a file of its own.
            fs::create_dir_all(tmp.path().join("e")).unwrap();
            fs::write(
                tmp.path().join("e/sub.proto"),
                "syntax = \"proto3\";\npackage e.sub;\nmessage Other {}\n",
            )
            .unwrap();
            text = text.replacen("package e;\n", "package e;\nimport \"e/sub.proto\";\n", 1);
        }
        fs::write(tmp.path().join("x.proto"), &text).unwrap();
        let out = kitgen(
            &[
                "new", "x", "--lang", "rust", "--proto", "x.proto", "-I", ".",
            ],
            tmp.path(),
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "case {i}: {err}");
        // The position counts the lines this test adds above the case.
        let (line, col) = at.split_once(':').unwrap();
        let line: usize = line.parse::<usize>().unwrap() + 1 + usize::from(i == 3);
        let at = format!("x.proto:{line}:{col}: ");
        assert!(err.contains(&at), "case {i}: want {at} in {err}");
        assert!(err.contains(word), "case {i}: want {word:?} in {err}");
        assert!(!err.contains("panicked"), "case {i}: {err}");
        assert!(
            !tmp.path().join("x").exists(),
            "case {i}: a project was written"
        );
    }
}
