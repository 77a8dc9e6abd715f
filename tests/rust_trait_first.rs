//! Trait first for the Rust target, without building a project (the
//! builds are tests/rust_e2e.rs's): `kitgen new --lang rust --from x.rs`
//! keeps the file as `src/<module>.rs` and records it; `generate` re-reads
//! it from there; what the adapter cannot serve is refused at its place in
//! the file, exit 2, nothing written.

mod support;

use std::fs;
use std::path::Path;

use support::{kitgen, stderr};

const TRAIT: &str = "\
use tonic::Status;

/// Point is a place.
pub struct Point {
    pub x: i64,
}

pub trait Places {
    async fn near(&self, at: Point) -> Result<Vec<Point>, Status>;
}
";

fn new_project(parent: &Path, file: &str, text: &str) -> std::process::Output {
    fs::write(parent.join(file), text).unwrap();
    kitgen(&["new", "x", "--lang", "rust", "--from", file], parent)
}

/// `--from service.rs`: `service` is a module kitgen writes, so the file is
/// kept as `src/api.rs`; edited there, `generate` carries the change in.
#[test]
fn the_trait_file_is_kept_recorded_and_re_read() {
    let tmp = tempfile::tempdir().unwrap();
    let out = new_project(tmp.path(), "service.rs", TRAIT);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let dir = tmp.path().join("x");
    assert_eq!(fs::read_to_string(dir.join("src/api.rs")).unwrap(), TRAIT);
    let config = fs::read_to_string(dir.join("kitgen.toml")).unwrap();
    assert!(config.contains("from = \"src/api.rs\""), "{config}");
    let lib = fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    assert!(
        lib.contains("pub mod adapter;")
            && lib.contains("#[allow(async_fn_in_trait)]\npub mod api;"),
        "{lib}"
    );
    let stub = fs::read_to_string(dir.join("src/places_service.rs")).unwrap();
    assert!(
        stub.contains("use crate::api::{Places, Point};")
            && stub.contains("impl Places for PlacesService {")
            && stub.contains("async fn near(&self, _at: Point) -> Result<Vec<Point>, Status> {")
            && stub.contains("Err(Status::unimplemented(\"near is not implemented yet\"))"),
        "{stub}"
    );
    let main = fs::read_to_string(dir.join("src/main.rs")).unwrap();
    assert!(
        main.contains(
            "places: x::adapter::PlacesAdapter(x::places_service::PlacesService::default()),"
        ),
        "{main}"
    );

    // A new field and a new method, written in the kept file.
    let edited = TRAIT
        .replace(
            "    pub x: i64,\n",
            "    pub x: i64,\n    pub label: Option<String>,\n",
        )
        .replace(
            "Result<Vec<Point>, Status>;\n",
            "Result<Vec<Point>, Status>;\n\n    fn count(&self) -> Result<u32, Status>;\n",
        );
    fs::write(dir.join("src/api.rs"), &edited).unwrap();
    let out = kitgen(&["generate"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(dir.join("src/api.rs")).unwrap(), edited);
    let adapter = fs::read_to_string(dir.join("src/adapter.rs")).unwrap();
    assert!(adapter.contains("label: value.label,"), "{adapter}");
    assert!(
        adapter.contains("let result = user::Places::count(&self.0)?;"),
        "a plain fn is called without .await:\n{adapter}"
    );
    let stub = fs::read_to_string(dir.join("src/places_service.rs")).unwrap();
    assert!(
        stub.contains("    fn count(&self) -> Result<u32, Status> {"),
        "{stub}"
    );
    let out = kitgen(&["check"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // Made private in the kept file: refused there, nothing written.
    let before = fs::read_to_string(dir.join("src/adapter.rs")).unwrap();
    fs::write(
        dir.join("src/api.rs"),
        edited.replace("    pub x: i64,", "    x: i64,"),
    )
    .unwrap();
    let out = kitgen(&["generate"], &dir);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("src/api.rs:5:5: field Point.x is not pub"),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(dir.join("src/adapter.rs")).unwrap(),
        before
    );
}

/// What the adapter cannot serve is refused where it is written: exit 2,
/// nothing written.
#[test]
fn what_the_adapter_cannot_serve_is_refused_with_a_location() {
    for (source, expected) in [
        (
            TRAIT.replace("pub trait Places", "trait Places"),
            "p.rs:8:7: trait Places is not pub",
        ),
        (
            TRAIT.replace("pub struct Point", "struct Point"),
            "p.rs:4:8: struct Point is not pub",
        ),
        (
            TRAIT.replace(
                "Result<Vec<Point>, Status>",
                "Result<Vec<Point>, Box<dyn std::error::Error>>",
            ),
            "p.rs:9:59: the error type of method near is not a plain type path",
        ),
        (
            format!(
                "{TRAIT}\npub struct Oops {{ pub why: String }}\n\npub trait More {{\n    fn m(&self, o: Oops) -> Result<(), Oops>;\n}}\n"
            ),
            "p.rs:15:20: type 'Oops' is the error type of the trait's methods: it cannot be data too",
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let out = new_project(tmp.path(), "p.rs", &source);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{source}\n{err}");
        assert!(err.contains(expected), "want {expected:?} in:\n{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!tmp.path().join("x").exists(), "nothing is written");
    }
}

/// An error type declared in the file is the implementation's: it may
/// carry data, and it is not a message of the API.
#[test]
fn an_error_type_declared_in_the_file_is_not_part_of_the_api() {
    let tmp = tempfile::tempdir().unwrap();
    let source = TRAIT.replace("Status>", "Error>").replace(
        "use tonic::Status;\n",
        "/// Error is why a method fails.\npub enum Error {\n    Missing(String),\n    Other { why: String },\n}\n",
    );
    let out = new_project(tmp.path(), "places.rs", &source);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let proto = fs::read_to_string(tmp.path().join("x/proto/x.proto")).unwrap();
    assert!(!proto.contains("Error"), "{proto}");
    let stub = fs::read_to_string(tmp.path().join("x/src/places_service.rs")).unwrap();
    assert!(
        stub.contains("use tonic::Status;\n\nuse crate::places::{Error, Places, Point};")
            && stub.contains("Err(Status::unimplemented(\"near is not implemented yet\").into())"),
        "{stub}"
    );
}

/// Every prefix of the trait fixtures (cut every few bytes), and each with
/// its identifiers swapped for names kitgen itself uses, renders through
/// the trait-first path without a panic: a project, or a refusal that
/// names the file.
#[test]
fn truncated_and_renamed_traits_render_or_are_refused_never_a_panic() {
    use kitgen::pipeline::{self, Source};
    let tmp = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/interfaces");
    let mut texts = Vec::new();
    for file in ["inventory.rs", "echo.rs"] {
        let text = fs::read_to_string(fixtures.join(file)).unwrap();
        for cut in (0..text.len())
            .step_by(7)
            .filter(|&i| text.is_char_boundary(i))
        {
            texts.push(text[..cut].to_string());
        }
        for (from, to) in [
            ("Item", "Invalid"),
            ("Warehouse", "Service"),
            ("Shape", "Request"),
            ("Point", "Status"),
            ("Level", "WarehouseAdapter"),
            ("sku", "request"),
            ("shape", "result"),
            ("Kind", "Self_"),
        ] {
            texts.push(text.replace(from, to));
        }
    }
    let (mut rendered, mut refused) = (0, 0);
    for (i, text) in texts.iter().enumerate() {
        let path = tmp.path().join(format!("t{i}.rs"));
        fs::write(&path, text).unwrap();
        let source = Source::Code {
            path,
            shown_as: "src/t.rs".into(),
        };
        let settings = pipeline::Settings {
            source_names: vec!["src/t.rs".into()],
            ..pipeline::Settings::new(&kitgen::backend::rust::Rust, "t", "t")
        };
        let result = std::panic::catch_unwind(|| pipeline::render(&source, &settings));
        match result {
            Ok(Ok(r)) => {
                assert!(
                    r.files.iter().any(|(p, _)| p == "src/adapter.rs"),
                    "case {i}"
                );
                rendered += 1;
            }
            Ok(Err(d)) => {
                let d = d.to_string();
                assert!(
                    d.contains("src/t.rs") || d.contains("no method"),
                    "case {i}: {d}"
                );
                refused += 1;
            }
            Err(_) => panic!("case {i} panicked:\n{text}"),
        }
    }
    eprintln!("{rendered} rendered, {refused} refused");
    assert!(
        rendered > 10 && refused > 10,
        "{rendered} rendered, {refused} refused"
    );
}

/// The kept file moved deeper into src/: refused (the project would
/// otherwise silently turn into a derived-proto one), nothing written.
#[test]
fn a_kept_trait_outside_a_module_of_its_own_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = new_project(tmp.path(), "places.rs", TRAIT);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let dir = tmp.path().join("x");
    fs::create_dir_all(dir.join("src/domain")).unwrap();
    fs::rename(dir.join("src/places.rs"), dir.join("src/domain/places.rs")).unwrap();
    let config = fs::read_to_string(dir.join("kitgen.toml")).unwrap();
    fs::write(
        dir.join("kitgen.toml"),
        config.replace("src/places.rs", "src/domain/places.rs"),
    )
    .unwrap();
    let lib = fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    let out = kitgen(&["generate"], &dir);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("a Rust trait kept in the project lives in src/<module>.rs"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(dir.join("src/lib.rs")).unwrap(), lib);
}
