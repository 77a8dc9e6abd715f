//! The OpenAPI document of generated projects, checked by tools no one here
//! wrote: `openapi-spec-validator` on every fixture and every proto of the
//! corpus, and `openapi-core` on real requests to, and responses from, running
//! servers (the starter and the library). Both come from PyPI; scripts/test.sh
//! installs them.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use kitgen::pipeline::{self, Source};
use support::{
    Server, agent, check_exchanges, corpus, generate, go_build, request, run, step, take_exchanges,
};
use yaml_rust2::{Yaml, YamlLoader};

const DOCUMENT: &str = "pkg/openapi/openapi.json";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Every source to describe: the starter, each fixture, each corpus proto
/// that declares a service.
fn sources() -> Vec<(String, Source)> {
    let f = fixtures();
    let protos = |files: &[&str], includes: &[&str]| Source::Protos {
        files: files.iter().map(|x| f.join(x)).collect(),
        includes: includes.iter().map(|x| f.join(x)).collect(),
    };
    let mut out = vec![
        ("starter".to_string(), Source::Starter),
        (
            "imports".into(),
            protos(&["imports/acme/orders/v1/orders.proto"], &["imports"]),
        ),
        ("services".into(), protos(&["services/services.proto"], &[])),
        (
            "wellknown".into(),
            protos(&["wellknown/wellknown.proto"], &[]),
        ),
        ("types".into(), protos(&["types/types.proto"], &[])),
        (
            "streaming".into(),
            protos(&["streaming/streaming.proto"], &[]),
        ),
        (
            "httprules".into(),
            protos(&["httprules/httprules.proto"], &[]),
        ),
        (
            "presence".into(),
            protos(&["presence/presence.proto"], &["presence"]),
        ),
    ];
    for file in ["addsvc.go", "addsvc.rs", "inventory.go", "inventory.rs"] {
        out.push((
            format!("interfaces-{file}"),
            Source::Code {
                path: f.join("interfaces").join(file),
                shown_as: file.into(),
            },
        ));
    }
    let corpus = corpus();
    let googleapis = corpus.join("googleapis");
    let mut corpus_protos: Vec<PathBuf> = walk(&corpus)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "proto"))
        .filter(|p| {
            fs::read_to_string(p)
                .expect("read proto")
                .lines()
                .any(|l| l.starts_with("service "))
        })
        .collect();
    corpus_protos.sort();
    for proto in corpus_protos {
        let includes = if proto.starts_with(&googleapis) {
            vec![googleapis.clone()]
        } else {
            Vec::new()
        };
        let name = proto
            .strip_prefix(&corpus)
            .expect("inside the corpus")
            .display()
            .to_string();
        out.push((
            format!("corpus-{name}"),
            Source::Protos {
                files: vec![proto],
                includes,
            },
        ));
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn try_render(source: &Source) -> Result<pipeline::Rendered, kitgen::diagnostic::Diagnostic> {
    pipeline::render(
        source,
        &pipeline::Settings {
            name: "svc".into(),
            module: "example.com/svc".into(),
            target: &kitgen::backend::go::Go,
            starter: false,
            source_names: Vec::new(),
            discovery: Vec::new(),
            table: Default::default(),
        },
    )
}

fn render(source: &Source) -> String {
    let rendered = pipeline::render(
        source,
        &pipeline::Settings {
            name: "svc".into(),
            module: "example.com/svc".into(),
            target: &kitgen::backend::go::Go,
            starter: false,
            source_names: Vec::new(),
            discovery: Vec::new(),
            table: Default::default(),
        },
    )
    .unwrap_or_else(|d| panic!("{d}"));
    rendered
        .files
        .get(DOCUMENT)
        .expect("the document is rendered")
        .contents
        .clone()
}

#[test]
fn every_fixture_and_corpus_document_is_valid_openapi() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut paths = Vec::new();
    let mut refused = Vec::new();
    for (i, (name, source)) in sources().iter().enumerate() {
        // A proto kitgen refuses as a whole has no project and no document.
        if let Err(d) = try_render(source) {
            refused.push(format!("{name}: {d}"));
            continue;
        }
        let doc = render(source);
        assert_eq!(
            doc,
            render(source),
            "{name}: the document is not deterministic"
        );
        let path = tmp.path().join(format!("{i:02}.json"));
        fs::write(&path, doc).expect("write document");
        paths.push((name.clone(), path));
    }
    let out = run(
        Command::new("openapi-spec-validator").args(paths.iter().map(|(_, p)| p)),
        std::time::Duration::from_secs(300),
    );
    let ok = out.stdout.lines().filter(|l| l.ends_with(": OK")).count();
    eprintln!(
        "openapi-spec-validator: {ok} of {} documents OK",
        paths.len()
    );
    eprintln!("refused by kitgen, so no document: {refused:#?}");
    for (name, path) in &paths {
        assert!(
            out.stdout.contains(&format!("{}: OK", path.display())),
            "{name}: not valid OpenAPI 3.1:\n{}\n{}",
            out.stdout,
            out.stderr
        );
    }
    assert!(out.status.success(), "{}", out.stderr);
    assert!(paths.len() > 40, "only {} documents", paths.len());
}

fn load(source: &Source) -> Yaml {
    YamlLoader::load_from_str(&render(source))
        .expect("JSON is YAML")
        .remove(0)
}

fn at<'a>(doc: &'a Yaml, path: &[&str]) -> &'a Yaml {
    path.iter().fold(doc, |node, key| match node {
        Yaml::Array(items) => &items[key.parse::<usize>().expect("index")],
        _ => &node[*key],
    })
}

fn schema<'a>(doc: &'a Yaml, name: &str) -> &'a Yaml {
    let schema = at(doc, &["components", "schemas", name]);
    assert!(!schema.is_badvalue(), "no schema {name}");
    schema
}

fn str_list(node: &Yaml) -> Vec<&str> {
    node.as_vec()
        .map(|v| v.iter().filter_map(Yaml::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn schemas_follow_the_proto3_json_mapping() {
    let f = fixtures();
    let proto = |file: &str| Source::Protos {
        files: vec![f.join(file)],
        includes: Vec::new(),
    };
    let wkt = load(&proto("wellknown/wellknown.proto"));
    let format = |doc: &Yaml, name: &str| {
        let s = schema(doc, name);
        (
            s["type"].as_str().map(str::to_string),
            s["format"].as_str().map(str::to_string),
        )
    };
    let string = Some("string".to_string());
    assert_eq!(
        format(&wkt, "google.protobuf.Timestamp"),
        (string.clone(), Some("date-time".into()))
    );
    assert_eq!(format(&wkt, "google.protobuf.Duration").0, string);
    assert_eq!(format(&wkt, "google.protobuf.FieldMask").0, string);
    assert_eq!(
        format(&wkt, "google.protobuf.StringValue"),
        (string.clone(), None)
    );
    assert_eq!(
        format(&wkt, "google.protobuf.Int32Value"),
        (Some("integer".into()), Some("int32".into()))
    );
    assert_eq!(
        format(&wkt, "google.protobuf.Struct").0,
        Some("object".into())
    );
    assert!(
        schema(&wkt, "google.protobuf.Value")["type"].is_badvalue(),
        "Value is any JSON"
    );
    // Timestamps and wrappers are single query parameters.
    let list = at(&wkt, &["paths", "/v1/events", "get", "parameters"]);
    let names: Vec<&str> = list
        .as_vec()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["since", "window", "limit"]);

    // Enums by name, 64-bit integers as strings (numbers accepted), bytes as
    // base64, maps as objects, a oneof as "at most one of", JSON names.
    let types = load(&proto("types/types.proto"));
    let hash = types["components"]["schemas"].as_hash().expect("schemas");
    let enums: Vec<&Yaml> = hash
        .values()
        .filter(|s| !s["anyOf"][0]["enum"].is_badvalue())
        .collect();
    // Written by name, read by name or number.
    assert!(!enums.is_empty());
    for e in &enums {
        assert_eq!(e["anyOf"][0]["type"].as_str(), Some("string"), "{e:?}");
        assert_eq!(e["anyOf"][1]["type"].as_str(), Some("integer"), "{e:?}");
    }
    let text = format!("{types:?}");
    assert!(text.contains(r#"String("type"): Array([String("string"), String("integer")]), String("format"): String("int64")"#), "{text}");
    assert!(
        text.contains(r#"String("contentEncoding"): String("base64")"#),
        "{text}"
    );
    assert!(text.contains(r#"String("additionalProperties")"#), "{text}");
    // A map is one object (a repeated field of entries only in descriptors).
    let maps: Vec<&Yaml> = hash
        .values()
        .map(|s| &s["properties"]["perWarehouse"])
        .filter(|p| !p.is_badvalue())
        .collect();
    assert_eq!(maps.len(), 1, "{text}");
    assert_eq!(maps[0]["type"].as_str(), Some("object"), "{:?}", maps[0]);
    assert!(
        !maps[0]["additionalProperties"].is_badvalue(),
        "{:?}",
        maps[0]
    );
    assert!(
        text.contains(r#"String("propertyNames"): Hash({String("pattern")"#),
        "int64 map keys: {text}"
    );
    assert!(text.contains(r#"String("oneOf")"#), "{text}");
    assert!(
        text.contains(r#"String("perWarehouse")"#) && !text.contains(r#"String("per_warehouse")"#),
        "{text}"
    );

    // field_behavior: REQUIRED, OUTPUT_ONLY, INPUT_ONLY.
    let googleapis = corpus().join("googleapis");
    let corpus_proto = |file: &str| Source::Protos {
        files: vec![googleapis.join(file)],
        includes: vec![googleapis.clone()],
    };
    let lib = load(&corpus_proto("google/example/library/v1/library.proto"));
    let pubsub = load(&corpus_proto("google/pubsub/v1/pubsub.proto"));
    let topic = schema(&pubsub, "google.pubsub.v1.Topic");
    assert_eq!(
        topic["properties"]["tags"]["writeOnly"].as_bool(),
        Some(true)
    );
    let kinesis = schema(
        &pubsub,
        "google.pubsub.v1.IngestionDataSourceSettings.AwsKinesis",
    );
    assert_eq!(
        kinesis["properties"]["state"]["readOnly"].as_bool(),
        Some(true)
    );
    assert!(
        kinesis["properties"]["state"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("state of the Kinesis")),
        "proto comments are descriptions"
    );

    // GET /v1/shelves: only unbound fields, as query parameters.
    let params = at(&lib, &["paths", "/v1/shelves", "get", "parameters"]);
    let names: Vec<(&str, &str)> = params
        .as_vec()
        .expect("parameters")
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["in"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("page_size", "query"), ("page_token", "query")]);
    // POST /v1/{name=shelves/*}:merge, body "*": the path's name is not in the body.
    let merge = at(
        &lib,
        &[
            "paths",
            "/v1/shelves/{name}:merge",
            "post",
            "requestBody",
            "content",
        ],
    );
    let body = &merge["application/json"]["schema"];
    assert!(body["properties"]["name"].is_badvalue(), "{body:?}");
    assert!(!body["properties"]["otherShelf"].is_badvalue(), "{body:?}");
    assert_eq!(str_list(&body["required"]), ["otherShelf"]);
    // PATCH /v1/{book.name=shelves/*/books/*}, body "book": the path of GetBook,
    // whose parameter names it takes; update_mask is left to the query.
    let update = at(
        &lib,
        &[
            "paths",
            "/v1/shelves/{name_shelves}/books/{name_books}",
            "patch",
        ],
    );
    assert_eq!(
        update["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str(),
        Some("#/components/schemas/google.example.library.v1.Book")
    );
    let params: Vec<(&str, &str)> = update["parameters"]
        .as_vec()
        .expect("parameters")
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["in"].as_str().unwrap()))
        .collect();
    assert_eq!(
        params,
        [
            ("name_shelves", "path"),
            ("name_books", "path"),
            ("update_mask", "query")
        ]
    );
    // The shared error body is every operation's default response.
    assert_eq!(
        at(
            &lib,
            &[
                "components",
                "responses",
                "Error",
                "content",
                "application/json",
                "schema",
                "$ref"
            ]
        )
        .as_str(),
        Some("#/components/schemas/Error")
    );
    assert_eq!(
        str_list(&schema(&lib, "Error")["properties"]["error"]["required"]),
        ["code", "status", "message"]
    );
    // A method without a rule gets the default route, whole request as body.
    let hello = load(&Source::Protos {
        files: vec![corpus().join("grpc-go/helloworld.proto")],
        includes: Vec::new(),
    });
    assert!(
        !at(
            &hello,
            &[
                "paths",
                "/helloworld.Greeter/SayHello",
                "post",
                "requestBody"
            ]
        )
        .is_badvalue()
    );
    // Server-streaming methods with a rule answer newline-delimited JSON;
    // methods whose client streams are gRPC only.
    let chat = load(&proto("streaming/streaming.proto"));
    for (path, result) in [
        ("/v1/rooms/{room}/messages", "chat.v1.Message"),
        ("/v1/firehose", "chat.v1.Message"),
    ] {
        let ok = at(&chat, &["paths", path, "get", "responses", "200"]);
        let lines = &ok["content"]["application/x-ndjson"]["schema"];
        assert_eq!(lines["type"].as_str(), Some("array"), "{ok:?}");
        let line = &lines["items"]["oneOf"];
        assert_eq!(
            line[0]["properties"]["result"]["$ref"].as_str(),
            Some(format!("#/components/schemas/{result}").as_str())
        );
        assert_eq!(str_list(&line[0]["required"]), ["result"]);
        assert_eq!(
            line[1]["$ref"].as_str(),
            Some("#/components/schemas/Error"),
            "an error mid-stream is a line in the error body's shape"
        );
        assert!(ok["content"]["application/json"].is_badvalue());
    }
    let ops = format!("{:?}", chat["paths"]);
    for client_streaming in ["Upload", "Converse"] {
        assert!(
            !ops.contains(client_streaming),
            "{client_streaming} in {ops}"
        );
    }
    // A custom method, which OpenAPI 3.1 cannot name, as 3.2 puts it.
    let files = load(&proto("httprules/httprules.proto"));
    assert_eq!(
        at(
            &files,
            &[
                "paths",
                "/v1/files:search",
                "x-additionalOperations",
                "SEARCH",
                "operationId"
            ]
        )
        .as_str(),
        Some("files.v1.Files.Search")
    );
}

/// Requests that the server answers, as (method, path and query, body).
type Calls = &'static [(&'static str, &'static str, Option<&'static str>)];

const STARTER_CALLS: Calls = &[
    ("POST", "/sum", Some(r#"{"a":1,"b":2}"#)),
    ("POST", "/sum", Some(r#"{"a":"9007199254740993","b":"1"}"#)),
    ("POST", "/concat", Some(r#"{"a":"foo","b":"bar"}"#)),
    ("POST", "/sum", Some(r#"{"a":"x"}"#)),
];

const LIBRARY_CALLS: Calls = &[
    ("GET", "/v1/shelves/s1", None),
    (
        "POST",
        "/v1/shelves",
        Some(r#"{"name":"shelves/s1","theme":"Sci-fi"}"#),
    ),
    (
        "POST",
        "/v1/shelves/s1:merge",
        Some(r#"{"otherShelf":"shelves/s2"}"#),
    ),
    ("GET", "/v1/shelves?page_size=3&page_token=t", None),
    ("DELETE", "/v1/shelves/s1", None),
    ("GET", "/v1/shelves/s1/books?page_size=2", None),
    ("GET", "/v1/shelves/s1/books/b1", None),
    (
        "POST",
        "/v1/shelves/s1/books",
        Some(r#"{"title":"Dune","author":"Herbert"}"#),
    ),
    (
        "POST",
        "/v1/shelves/s1/books/b1:move",
        Some(r#"{"otherShelfName":"shelves/s2"}"#),
    ),
    (
        "PATCH",
        "/v1/shelves/s1/books/b1?update_mask=title",
        Some(r#"{"title":"Dune"}"#),
    ),
];

/// Starts the project's server, checks it serves the generated document at
/// /openapi.json, makes the calls and validates every exchange against it.
fn served_exchanges_validate(test: &str, name: &str, args: &[&str], calls: Calls) {
    let tmp = tempfile::tempdir().expect("temp dir");
    step(test, format_args!("kitgen new {name}"));
    let project = generate(tmp.path(), name, args);
    step(test, format_args!("go build ./cmd/{name}"));
    let bin = go_build(&project, name);
    let server = Server::start(Command::new(&bin).args([
        "-http-addr",
        "127.0.0.1:0",
        "-grpc-addr",
        "127.0.0.1:0",
        "-debug-addr",
        "127.0.0.1:0",
    ]));
    let http = format!("http://{}", server.http());
    let agent = agent();
    let served = request(&agent, "GET", &format!("{http}/openapi.json"), None);
    let file = fs::read_to_string(project.join(DOCUMENT)).expect("read the document");
    assert_eq!((served.status, served.body.as_str()), (200, file.as_str()));

    for (method, path, body) in calls {
        let reply = request(&agent, method, &format!("{http}{path}"), *body);
        step(test, format_args!("{method} {path} -> {}", reply.status));
    }
    drop(agent);
    assert!(server.terminate().success());
    let document = project.join(DOCUMENT);
    let mut exchanges = take_exchanges(&http);
    // The document's own fetch is outside the API, and counted as such.
    assert_eq!(exchanges.len(), calls.len() + 1);
    let report = check_exchanges(&document, &exchanges)
        .unwrap_or_else(|report| panic!("exchanges do not match the document:\n{report}"));
    step(test, report.trim());
    assert!(
        report.contains(&format!(
            "{} exchanges, 0 invalid, 1 outside the API",
            calls.len() + 1
        )),
        "{report}"
    );

    // The check can fail: a reply the document does not allow is caught.
    let mut wrong = exchanges.swap_remove(1);
    wrong.status = 200;
    wrong.response = "[]".into();
    let report = check_exchanges(&document, &[wrong]).expect_err("a wrong reply passed");
    assert!(report.contains("1 exchanges, 1 invalid"), "{report}");
}

#[test]
fn starter_exchanges_match_the_served_document() {
    served_exchanges_validate("openapi-starter", "addsvc", &[], STARTER_CALLS);
}

#[test]
fn library_exchanges_match_the_served_document() {
    let corpus = corpus();
    let proto = corpus.join("googleapis/google/example/library/v1/library.proto");
    let include = corpus.join("googleapis");
    served_exchanges_validate(
        "openapi-library",
        "library",
        &[
            "--proto",
            proto.to_str().expect("UTF-8"),
            "-I",
            include.to_str().expect("UTF-8"),
            "--module",
            "github.com/acme/library",
        ],
        LIBRARY_CALLS,
    );
}

/// The streaming fixture with rules on its client- and bidirectional-streaming
/// methods too, which the server does not serve over HTTP.
fn streaming_proto(dir: &Path) -> PathBuf {
    let original =
        fs::read_to_string(fixtures().join("streaming/streaming.proto")).expect("read the fixture");
    let mut text = original.clone();
    for (rpc, rule) in [
        (
            "rpc Upload(stream Message) returns (Ack) {}",
            r#"post: "/v1/rooms/{room}/messages" body: "*""#,
        ),
        (
            "rpc Converse(stream Message) returns (stream Message) {}",
            r#"post: "/v1/rooms/{room}:converse" body: "*""#,
        ),
    ] {
        assert!(text.contains(rpc), "the fixture's {rpc} moved");
        text = text.replace(
            rpc,
            &format!(
                "{} {{\n    option (google.api.http) = {{{rule}}};\n  }}",
                rpc.trim_end_matches(" {}")
            ),
        );
    }
    // A stream of one field of each message, which may be unset.
    let upload = "  // Upload takes many messages";
    assert!(text.contains(upload), "the fixture's Upload moved");
    text = text.replacen(
        upload,
        &format!(
            "  // Watch streams the latest message of a room, or none.\n  rpc Watch(SubscribeRequest) returns (stream Envelope) {{\n    option (google.api.http) = {{get: \"/v1/rooms/{{room}}:watch\" response_body: \"message\"}};\n  }}\n{upload}"
        ),
        1,
    );
    text.push_str("\nmessage Envelope {\n  Message message = 1;\n}\n");
    let path = dir.join("chat.proto");
    fs::write(&path, text).expect("write the proto");
    path
}

/// Watch sends a message, then an envelope without one: a line
/// `{"result":null}`.
const WATCH: &str = r#"func (s *chatService) Watch(ctx context.Context, req *pb.SubscribeRequest, send func(*pb.Envelope) error) error {
	if err := send(&pb.Envelope{Message: &pb.Message{Room: req.Room, Text: "latest"}}); err != nil {
		return err
	}
	return send(&pb.Envelope{})
}"#;

/// Subscribe as a user would write it: three messages, or none for room
/// "empty", an error before the first for "closed", and one after the
/// second for "flaky".
const SUBSCRIBE: &str = r#"func (s *chatService) Subscribe(ctx context.Context, req *pb.SubscribeRequest, send func(*pb.Message) error) error {
	switch req.Room {
	case "empty":
		return nil
	case "closed":
		return Errorf(CodeNotFound, "room %q is closed", req.Room)
	}
	for i := range 3 {
		if err := send(&pb.Message{Room: req.Room, Text: fmt.Sprint("message ", i)}); err != nil {
			return err
		}
		if req.Room == "flaky" && i == 1 {
			return Errorf(CodeUnavailable, "room %q went away", req.Room)
		}
	}
	return nil
}"#;

/// Requests to the streaming project, each with the status and content type
/// it must get.
const STREAM_CALLS: &[(&str, &str, Option<&str>, u16, &str)] = &[
    (
        "GET",
        "/v1/rooms/r1/messages",
        None,
        200,
        "application/x-ndjson",
    ),
    (
        "GET",
        "/v1/rooms/flaky/messages",
        None,
        200,
        "application/x-ndjson",
    ),
    (
        "GET",
        "/v1/rooms/empty/messages",
        None,
        200,
        "application/x-ndjson",
    ),
    (
        "GET",
        "/v1/rooms/closed/messages",
        None,
        404,
        "application/json; charset=utf-8",
    ),
    (
        "GET",
        "/v1/firehose?room=r1",
        None,
        501,
        "application/json; charset=utf-8",
    ),
    // Upload's and Converse's rules: client streams are not served over HTTP.
    (
        "POST",
        "/v1/rooms/r1/messages",
        Some(r#"{"text":"hi"}"#),
        405,
        "application/json; charset=utf-8",
    ),
    (
        "POST",
        "/v1/rooms/r1:converse",
        Some(r#"{"text":"hi"}"#),
        404,
        "application/json; charset=utf-8",
    ),
    (
        "PUT",
        "/v1/rooms/r1/messages",
        Some("{}"),
        405,
        "application/json; charset=utf-8",
    ),
    (
        "POST",
        "/chat.v1.Chat/Send",
        Some(r#"{"room":"r1","text":"hi"}"#),
        501,
        "application/json; charset=utf-8",
    ),
    (
        "POST",
        "/chat.v1.Chat/Send",
        Some("{"),
        400,
        "application/json; charset=utf-8",
    ),
    (
        "GET",
        "/v1/rooms/r1:watch",
        None,
        200,
        "application/x-ndjson",
    ),
];

#[test]
fn streamed_lines_match_the_served_document() {
    let test = "openapi-streaming";
    let tmp = tempfile::tempdir().expect("temp dir");
    let proto = streaming_proto(tmp.path());
    step(test, "kitgen new chat");
    let project = generate(
        tmp.path(),
        "chat",
        &["--proto", proto.to_str().expect("UTF-8")],
    );
    let document = project.join(DOCUMENT);
    let doc = fs::read_to_string(&document).expect("read the document");
    assert!(
        doc.contains("\"chat.v1.Chat.Subscribe\"") && doc.contains("\"chat.v1.Firehose.Tail\"")
    );
    for absent in ["chat.v1.Chat.Upload", "chat.v1.Chat.Converse", ":converse"] {
        assert!(!doc.contains(absent), "{absent} is not served over HTTP");
    }
    let parsed = YamlLoader::load_from_str(&doc)
        .expect("JSON is YAML")
        .remove(0);
    let result = at(
        &parsed,
        &[
            "paths",
            "/v1/rooms/{room}:watch",
            "get",
            "responses",
            "200",
            "content",
            "application/x-ndjson",
            "schema",
            "items",
            "oneOf",
            "0",
            "properties",
            "result",
            "anyOf",
        ],
    );
    assert_eq!(
        result[0]["$ref"].as_str(),
        Some("#/components/schemas/chat.v1.Message")
    );
    assert_eq!(result[1]["type"].as_str(), Some("null"), "an unset field");
    let out = run(
        Command::new("openapi-spec-validator").arg(&document),
        std::time::Duration::from_secs(60),
    );
    assert!(out.status.success(), "{}{}", out.stdout, out.stderr);

    let implementation = project.join("pkg/service/chat.go");
    let code = fs::read_to_string(&implementation).expect("read chat.go");
    let stub = "func (s *chatService) Subscribe(ctx context.Context, req *pb.SubscribeRequest, send func(*pb.Message) error) error {\n\treturn Errorf(CodeUnimplemented, \"Subscribe is not implemented yet\")\n}";
    assert!(code.contains(stub), "the Subscribe stub moved:\n{code}");
    let watch = "func (s *chatService) Watch(ctx context.Context, req *pb.SubscribeRequest, send func(*pb.Envelope) error) error {\n\treturn Errorf(CodeUnimplemented, \"Watch is not implemented yet\")\n}";
    assert!(code.contains(watch), "the Watch stub moved:\n{code}");
    let code = code
        .replace(stub, SUBSCRIBE)
        .replace(watch, WATCH)
        .replacen("\"context\"\n", "\"context\"\n\t\"fmt\"\n", 1);
    fs::write(&implementation, code).expect("write chat.go");
    step(test, "go build ./cmd/chat");
    let bin = go_build(&project, "chat");
    let server = Server::start(Command::new(&bin).args([
        "-http-addr",
        "127.0.0.1:0",
        "-grpc-addr",
        "127.0.0.1:0",
        "-debug-addr",
        "127.0.0.1:0",
    ]));
    let http = format!("http://{}", server.http());
    let agent = agent();
    let served = request(&agent, "GET", &format!("{http}/openapi.json"), None);
    assert_eq!((served.status, served.body.as_str()), (200, doc.as_str()));
    let mut replies = Vec::new();
    for (method, path, body, _, _) in STREAM_CALLS {
        let reply = request(&agent, method, &format!("{http}{path}"), *body);
        step(test, format_args!("{method} {path} -> {}", reply.status));
        replies.push(reply);
    }
    drop(agent);
    assert!(server.terminate().success());
    let mut exchanges = take_exchanges(&http);
    assert_eq!(exchanges.len(), STREAM_CALLS.len() + 1);
    for (e, (method, path, _, status, content_type)) in exchanges[1..].iter().zip(STREAM_CALLS) {
        assert_eq!(
            (e.status, e.content_type.as_str()),
            (*status, *content_type),
            "{method} {path}: {}",
            e.response
        );
    }
    // protojson varies its spacing on purpose: compare without it.
    let compact = |text: &str| text.replace(", ", ",").replace(": ", ":");
    let lines =
        |i: usize| -> Vec<String> { exchanges[i + 1].response.lines().map(compact).collect() };
    assert_eq!(lines(0).len(), 3);
    assert!(
        lines(0)
            .iter()
            .all(|l| l.starts_with(r#"{"result":{"room":"r1""#))
    );
    let flaky = lines(1);
    assert_eq!(flaky.len(), 3, "{flaky:?}");
    assert!(
        flaky[2].starts_with(r#"{"error":{"code":503,"status":"UNAVAILABLE""#),
        "{flaky:?}"
    );
    assert_eq!(exchanges[3].response, "", "no message, no line");
    assert_eq!(
        compact(&exchanges[11].response),
        "{\"result\":{\"room\":\"r1\",\"text\":\"latest\"}}\n{\"result\":null}\n",
        "response_body: the field of each message, null when unset"
    );

    let report = check_exchanges(&document, &exchanges)
        .unwrap_or_else(|report| panic!("exchanges do not match the document:\n{report}"));
    step(test, report.trim());
    for expected in [
        format!(
            "{} exchanges, 0 invalid, 1 outside the API",
            STREAM_CALLS.len() + 1
        ),
        "8 stream lines".to_string(),
        "3 unrouted requests".to_string(),
    ] {
        assert!(report.contains(&expected), "{expected}: {report}");
    }

    // Each line is checked: a line of another shape, an error line whose
    // code is not the status it names, a stream cut mid-line all fail.
    let r1 = compact(&exchanges[1].response);
    let flaky = exchanges[2].response.clone();
    for (what, wrong) in [
        (
            "a renamed member",
            r1.replacen("\"result\"", "\"results\"", 1),
        ),
        (
            "a number for a string",
            r1.replacen("\"room\":\"r1\"", "\"room\":1", 1),
        ),
        (
            "an error line of another shape",
            flaky.replace("\"status\":\"UNAVAILABLE\"", "\"status\":\"GONE\""),
        ),
        ("a line cut short", r1[..r1.len() - 3].to_string()),
    ] {
        let mut e = exchanges[1].clone();
        e.response = wrong;
        let report = check_exchanges(&document, &[e]).expect_err(what);
        assert!(
            report.contains("1 exchanges, 1 invalid"),
            "{what}: {report}"
        );
    }
    for (what, wrong) in [
        ("a string for the message", "{\"result\":\"x\"}\n"),
        ("a line without its result", "{}\n"),
    ] {
        let mut e = exchanges[11].clone();
        e.response = wrong.to_string();
        let report = check_exchanges(&document, &[e]).expect_err(what);
        assert!(
            report.contains("1 exchanges, 1 invalid"),
            "{what}: {report}"
        );
    }
    // And a refused request's reply must be the error body.
    let mut wrong = exchanges.swap_remove(10);
    wrong.response = "{}".into();
    let report = check_exchanges(&document, &[wrong]).expect_err("a bad error body passed");
    assert!(report.contains("1 exchanges, 1 invalid"), "{report}");
}
