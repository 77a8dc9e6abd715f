//! `cargo bench --bench generate`: times the steps of a generation of the
//! starter project and prints each against a baseline measured in the same
//! run, so machines of any speed give comparable ratios.
//!
//! - baseline: render + run protoc-gen-go and protoc-gen-go-grpc (a generation
//!   after a proto edit);
//! - render: compile the proto and render every kitgen file in memory;
//! - check, unchanged: render + reuse the stubs recorded in kitgen.lock + plan
//!   (what `kitgen check` does on a clean project).

use std::hint::black_box;
use std::time::{Duration, Instant};

use kitgen::lock::Lock;
use kitgen::pipeline::{self, Settings, Source};
use kitgen::sync::{self, Baseline, PlanOptions};

fn settings() -> Settings {
    Settings {
        name: "addsvc".into(),
        module: "addsvc".into(),
        addsvc_example: true,
        source_names: vec![pipeline::STARTER_PROTO_PATH.into()],
    }
}

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

fn main() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("addsvc");
    let source = Source::Starter;

    // A project on disk with its lock, as `kitgen new` leaves it.
    let rendered = pipeline::render(&source, &settings()).expect("renders");
    let key = rendered.stubs_key();
    let files = pipeline::add_stubs(rendered, None).expect("plugins run");
    let plan = sync::plan(
        &dir,
        &files,
        &PlanOptions {
            baseline: Baseline::New,
            force: false,
            stubs_key: key,
            untracked: &[],
        },
    );
    sync::apply(&dir, &plan).expect("writes");
    let lock = Lock::load(&dir).expect("reads").expect("exists");

    let baseline = time(15, || {
        let rendered = pipeline::render(&source, &settings()).unwrap();
        black_box(pipeline::add_stubs(rendered, None).unwrap());
    });
    let render = time(50, || {
        black_box(pipeline::render(&source, &settings()).unwrap());
    });
    let check = time(50, || {
        let rendered = pipeline::render(&source, &settings()).unwrap();
        let key = rendered.stubs_key();
        let files = pipeline::add_stubs(rendered, Some((&dir, &lock))).unwrap();
        let plan = sync::plan(
            &dir,
            &files,
            &PlanOptions {
                baseline: Baseline::Locked(&lock),
                force: false,
                stubs_key: key,
                untracked: &[],
            },
        );
        assert!(plan.is_clean());
        black_box(plan);
    });

    println!(
        "generate with plugins (baseline)  {:>9.2?}  1.00x",
        baseline
    );
    for (name, t) in [
        ("render in memory", render),
        ("check, unchanged project", check),
    ] {
        println!(
            "{name:<33} {:>9.2?}  {:.3}x of baseline",
            t,
            t.as_secs_f64() / baseline.as_secs_f64()
        );
    }
}
