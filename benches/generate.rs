//! `cargo bench --bench generate`: times the steps of a generation and prints
//! each against a baseline measured in the same run, so machines of any speed
//! give comparable ratios.
//!
//! For the starter project (addsvc) and for a synthetic service of 1,000 RPCs
//! (each with its own messages and HTTP rule, as `scripts/synth-proto.py`
//! writes it):
//! - baseline: render + run protoc-gen-go and protoc-gen-go-grpc (a generation
//!   after a proto edit);
//! - render: compile the proto and render every kitgen file in memory;
//! - check, unchanged: render + reuse the stubs recorded in kitgen.lock + plan
//!   (what `kitgen check` does on a clean project).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use kitgen::lock::Lock;
use kitgen::pipeline::{self, Settings, Source};
use kitgen::sync::{self, Baseline, PlanOptions};

/// Median of `runs` timings of `f`, after one warm-up call.
fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    f();
    let mut samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    samples.sort();
    samples[runs / 2]
}

/// The synthetic service of `n` RPCs, as scripts/synth-proto.py writes it.
fn synthetic_proto(n: usize) -> String {
    let mut out = format!(
        "syntax = \"proto3\";\n\npackage synth{n}.v1;\n\nimport \"google/api/annotations.proto\";\n\n\
         option go_package = \"example.com/synth{n}/pb;pb\";\n\n// Synth is a service of {n} RPCs.\nservice Synth {{\n"
    );
    for i in 0..n {
        let rule = if i % 2 == 0 {
            format!("get: \"/v1/items{i}/{{id}}\"")
        } else {
            format!("post: \"/v1/items{i}\"\n      body: \"*\"")
        };
        out += &format!(
            "  // Op{i} is operation {i}.\n  rpc Op{i}(Op{i}Request) returns (Op{i}Response) {{\n    \
             option (google.api.http) = {{\n      {rule}\n    }};\n  }}\n"
        );
    }
    out += "}\n";
    for i in 0..n {
        out += &format!(
            "\nmessage Op{i}Request {{\n  string id = 1;\n  int64 count = 2;\n  repeated string tags = 3;\n}}\n\n\
             message Op{i}Response {{\n  string id = 1;\n  bool done = 2;\n  map<string, string> labels = 3;\n}}\n"
        );
    }
    out
}

/// Writes the project as `kitgen new` leaves it and times its steps.
fn bench(title: &str, dir: &Path, source: &Source, settings: &Settings, runs: (usize, usize)) {
    let rendered = pipeline::render(source, settings).expect("renders");
    let key = rendered.stubs_key();
    let files = pipeline::add_stubs(rendered, None).expect("plugins run");
    let plan = sync::plan(
        dir,
        &files,
        &PlanOptions {
            target: &kitgen::backend::go::Go,
            baseline: Baseline::New,
            force: false,
            stubs_key: key,
            untracked: &[],
        },
    )
    .expect("reads");
    sync::apply(dir, &plan).expect("writes");
    let lock = Lock::load(dir).expect("reads").expect("exists");

    let (slow_runs, fast_runs) = runs;
    let baseline = time(slow_runs, || {
        let rendered = pipeline::render(source, settings).unwrap();
        black_box(pipeline::add_stubs(rendered, None).unwrap());
    });
    let render = time(fast_runs, || {
        black_box(pipeline::render(source, settings).unwrap());
    });
    let check = time(fast_runs, || {
        let rendered = pipeline::render(source, settings).unwrap();
        let key = rendered.stubs_key();
        let files = pipeline::add_stubs(rendered, Some((dir, &lock))).unwrap();
        let plan = sync::plan(
            dir,
            &files,
            &PlanOptions {
                target: &kitgen::backend::go::Go,
                baseline: Baseline::Locked(&lock),
                force: false,
                stubs_key: key,
                untracked: &[],
            },
        )
        .expect("reads");
        assert!(plan.is_clean());
        black_box(plan);
    });

    println!("{title}");
    println!("  generate with plugins (baseline)  {baseline:>9.2?}  1.00x");
    for (name, t) in [
        ("render in memory", render),
        ("check, unchanged project", check),
    ] {
        println!(
            "  {name:<33} {:>9.2?}  {:.3}x of baseline",
            t,
            t.as_secs_f64() / baseline.as_secs_f64()
        );
    }
}

fn main() {
    let tmp = tempfile::tempdir().expect("temp dir");
    bench(
        "addsvc (starter)",
        &tmp.path().join("addsvc"),
        &Source::Starter,
        &Settings {
            name: "addsvc".into(),
            module: "addsvc".into(),
            target: &kitgen::backend::go::Go,
            starter: true,
            source_names: vec![pipeline::STARTER_PROTO_PATH.into()],
            discovery: Vec::new(),
            table: Default::default(),
        },
        (15, 50),
    );

    let rpcs = 1000;
    let proto = tmp.path().join(format!("synth{rpcs}.proto"));
    std::fs::write(&proto, synthetic_proto(rpcs)).expect("writes the proto");
    bench(
        &format!("synthetic service of {rpcs} RPCs"),
        &tmp.path().join("synth"),
        &Source::Protos {
            files: vec![proto],
            includes: vec![tmp.path().to_path_buf()],
        },
        &Settings {
            name: "synth".into(),
            module: format!("example.com/synth{rpcs}"),
            target: &kitgen::backend::go::Go,
            starter: false,
            source_names: vec![format!("synth{rpcs}.proto")],
            discovery: Vec::new(),
            table: Default::default(),
        },
        (1, 5),
    );
}
