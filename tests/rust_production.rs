//! The Rust target's production wiring, proven while its binaries run (the
//! Rust half of tests/production.rs): a configured rate limit answers
//! RESOURCE_EXHAUSTED and is counted in /metrics under the Go target's
//! metric names and labels; at SIGTERM under steady load `/readyz` turns 503
//! within a second, every answered request succeeds, requests are served
//! during the drain, and the server exits 0.
//!
//! tests/rust_e2e.rs already proves the starter's answers, health and one
//! call during the drain; this file proves what holds under load and with a
//! limit. The starter is generated and built once (debug, `--locked`) into
//! the shared CARGO_TARGET_DIR of tests/rust_e2e.rs (`target/rust-e2e`, or
//! `$KITGEN_RUST_TARGET_DIR`), and its binaries copied out so that another
//! project built there meanwhile cannot replace them. Everything listens on
//! 127.0.0.1 only; every load is bounded in count and time.
//!
//! Not proven here: HTTP's 429, since the Rust target's HTTP transcoding is
//! not on this branch yet (its HTTP port serves only /healthz and /readyz).

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use support::{Server, generate, metric, run, scrape_metrics, step};

const T: &str = "rust-production";

const LOOPBACK: [&str; 6] = [
    "--http-addr",
    "127.0.0.1:0",
    "--grpc-addr",
    "127.0.0.1:0",
    "--debug-addr",
    "127.0.0.1:0",
];

fn target_dir() -> PathBuf {
    std::env::var_os("KITGEN_RUST_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/rust-e2e"))
}

struct Built {
    _dir: tempfile::TempDir,
    server: PathBuf,
    cli: PathBuf,
}

/// The starter as a Rust project, generated and built once for every test
/// of this file.
fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let project = generate(dir.path(), "addsvc", &["--lang", "rust"]);
        step(T, "cargo build --locked (the Rust starter)");
        let begin = Instant::now();
        let out = run(
            Command::new("cargo")
                .args(["build", "--locked", "--bins"])
                .current_dir(&project)
                .env("CARGO_TARGET_DIR", target_dir())
                .env_remove("RUSTFLAGS")
                .env_remove("CARGO_BUILD_RUSTFLAGS"),
            Duration::from_secs(1800),
        );
        assert!(out.status.success(), "cargo build: {}", out.stderr);
        step(T, format_args!("built in {:.1?}", begin.elapsed()));
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let copy = |name: &str| -> PathBuf {
            let to = bin.join(name);
            std::fs::copy(target_dir().join("debug").join(name), &to).unwrap();
            to
        };
        Built {
            server: copy("addsvc"),
            cli: copy("addcli"),
            _dir: dir,
        }
    })
}

/// Calls a method through the starter's CLI: Ok(stdout) or Err(stderr).
fn call(cli: &Path, grpc: SocketAddr, method: &str, request: &str) -> Result<String, String> {
    let out = run(
        Command::new(cli).args([
            "--grpc-addr",
            &grpc.to_string(),
            "--method",
            method,
            request,
        ]),
        Duration::from_secs(30),
    );
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(out.stderr)
    }
}

/// One bounded HTTP exchange that reports a refused or broken connection
/// instead of panicking, for watching a server go away.
fn try_http(addr: SocketAddr, path: &str) -> Result<u16, String> {
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| e.to_string())?;
    response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no HTTP status in {response:?}"))
}

#[test]
fn over_the_rate_limit_grpc_answers_resource_exhausted_counted_as_go_counts_it() {
    let bin = built();
    let server = Server::start(Command::new(&bin.server).args(LOOPBACK).args([
        "--rate-limit",
        "0.5",
        "--rate-burst",
        "1",
    ]));
    let grpc = server.grpc();
    let sum = |request| call(&bin.cli, grpc, "Sum", request);
    assert_eq!(sum(r#"{"a":1,"b":2}"#), Ok("{\"result\":\"3\"}\n".into()));
    let second = sum(r#"{"a":1,"b":2}"#).expect_err("the second call within 2 s is limited");
    assert!(second.contains("RESOURCE_EXHAUSTED"), "{second}");
    let third = sum("{}").expect_err("the third call within 2 s is limited");
    assert!(third.contains("RESOURCE_EXHAUSTED"), "{third}");
    // Each method has a limit of its own: Sum's does not hold Concat back.
    assert_eq!(
        call(&bin.cli, grpc, "Concat", r#"{"a":"x","b":"y"}"#),
        Ok("{\"result\":\"xy\"}\n".into())
    );
    // The Go target's metric names and labels (tests/production.rs), so one
    // dashboard serves both.
    let metrics = scrape_metrics(&server);
    for (method, code, want) in [
        ("Add.Sum", "OK", 1.0),
        ("Add.Sum", "RESOURCE_EXHAUSTED", 2.0),
        ("Add.Concat", "OK", 1.0),
    ] {
        assert_eq!(
            metric(
                &metrics,
                "addsvc_requests_total",
                &[("method", method), ("code", code)]
            ),
            Some(want),
            "addsvc_requests_total{{method={method:?},code={code:?}}} in\n{metrics}"
        );
        let count = metric(
            &metrics,
            "addsvc_request_duration_seconds_count",
            &[("method", method), ("code", code)],
        );
        assert_eq!(count, Some(want), "duration of {method} {code}\n{metrics}");
    }
    assert!(server.terminate().success());
}

#[test]
fn readiness_drops_at_shutdown_while_requests_keep_succeeding() {
    const DRAIN: Duration = Duration::from_secs(3);
    let bin = built();
    let server = Server::start(
        Command::new(&bin.server)
            .args(LOOPBACK)
            .args(["--drain-delay", "3s"]),
    );
    let (http, grpc) = (server.http(), server.grpc());
    // A steady client over gRPC (its CLI, one call after another): bounded
    // in count and time, recording each outcome.
    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::<(Instant, Result<String, String>)>::new()));
    let load = {
        let (stop, outcomes, cli) = (Arc::clone(&stop), Arc::clone(&outcomes), bin.cli.clone());
        thread::spawn(move || {
            for i in 0..300 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let result = call(&cli, grpc, "Sum", &format!(r#"{{"a":{i},"b":1}}"#))
                    .map(|out| (out == format!("{{\"result\":\"{}\"}}\n", i + 1)).to_string());
                let refused = result.is_err();
                outcomes.lock().unwrap().push((Instant::now(), result));
                if refused {
                    break;
                }
            }
        })
    };
    // Wait for the load to be running before the signal.
    let begin = Instant::now();
    while outcomes.lock().unwrap().len() < 3 {
        assert!(begin.elapsed() < Duration::from_secs(30), "no load");
        thread::sleep(Duration::from_millis(20));
    }
    server.sigterm();
    let signalled = Instant::now();
    loop {
        let ready = try_http(http, "/readyz");
        if ready == Ok(503) {
            break;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(1),
            "/readyz still {ready:?} after SIGTERM"
        );
        thread::sleep(Duration::from_millis(20));
    }
    let not_ready = Instant::now();
    let log = server.log();
    let status = server.wait(Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "exit 0 after draining\n{log}");
    stop.store(true, Ordering::Relaxed);
    load.join().unwrap();
    let outcomes = outcomes.lock().unwrap();
    // A failed call either was never answered (the listener had closed at
    // the drain's end: only then) or is a server's error (never).
    for (t, result) in outcomes.iter() {
        match result {
            Ok(right) => assert_eq!(right, "true", "a wrong sum under load"),
            Err(err) => assert!(
                *t >= signalled + DRAIN,
                "a call failed {:.1?} after SIGTERM, within the drain delay: {err}",
                t.duration_since(signalled)
            ),
        }
    }
    let during_drain = outcomes
        .iter()
        .filter(|(t, r)| *t > not_ready && r.is_ok())
        .count();
    assert!(
        during_drain >= 5,
        "only {during_drain} calls were served while draining ({} in all)",
        outcomes.len()
    );
    step(
        T,
        format_args!(
            "{} calls, {during_drain} answered after /readyz turned 503 ({:.0?} after SIGTERM)",
            outcomes.len(),
            not_ready.duration_since(signalled)
        ),
    );
}
