//! The Rust target's production wiring, proven while its binaries run (the
//! Rust half of tests/production.rs): a configured rate limit answers
//! RESOURCE_EXHAUSTED and is counted in /metrics under the Go target's
//! metric names and labels; at SIGTERM under steady load `/readyz` turns 503
//! within a second, every answered request succeeds, requests are served
//! during the drain, and the server exits 0; and the Dockerfile and
//! kustomize tree agree with the binary's `--help` (ports, probes, the
//! ConfigMap's keys), which answers the kubelet's probes when run with the
//! prod ConfigMap's environment (the Rust half of tests/deploy.rs's
//! consistency test; needs `kubectl` and Go, as that test does).
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

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use support::{Server, agent, generate, go_build, metric, request, run, scrape_metrics, step};
use yaml_rust2::{Yaml, YamlLoader};

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
    project: PathBuf,
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
            project,
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

/// `kubectl kustomize` of an overlay, as YAML documents.
fn kustomize(project: &Path, overlay: &str) -> Vec<Yaml> {
    let out = Command::new("kubectl")
        .args(["kustomize", &format!("deploy/overlays/{overlay}")])
        .current_dir(project)
        .output()
        .unwrap_or_else(|e| panic!("kubectl: {e}; scripts/test.sh installs the tools"));
    assert!(
        out.status.success(),
        "kustomize {overlay}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    YamlLoader::load_from_str(&String::from_utf8_lossy(&out.stdout)).expect("YAML")
}

fn object<'a>(docs: &'a [Yaml], kind: &str) -> &'a Yaml {
    docs.iter()
        .find(|d| d["kind"].as_str() == Some(kind))
        .unwrap_or_else(|| panic!("no {kind}"))
}

fn at<'a>(doc: &'a Yaml, path: &[&str]) -> &'a Yaml {
    path.iter().fold(doc, |node, key| &node[*key])
}

/// The server's flags from its own `--help` (clap's long form): name →
/// (environment variable, default).
fn flags(binary: &Path) -> BTreeMap<String, (String, String)> {
    let out = run(Command::new(binary).arg("--help"), Duration::from_secs(10));
    assert!(out.status.success(), "--help: {}", out.stderr);
    let mut flags = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in out.stdout.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("--") {
            current = Some(rest.split_whitespace().next().unwrap().to_string());
        } else if let Some(name) = &current {
            let field = |key: &str| {
                let i = trimmed.find(key)? + key.len();
                Some(trimmed[i..].split(']').next()?.to_string())
            };
            if let (Some(env), Some(default)) = (field("[env: "), field("[default: ")) {
                flags.insert(
                    name.clone(),
                    (env.trim_end_matches('=').to_string(), default),
                );
            }
        }
    }
    assert!(flags.contains_key("http-addr"), "{}", out.stdout);
    flags
}

fn port_of(addr: &str) -> u16 {
    addr.rsplit(':').next().unwrap().parse().unwrap()
}

/// The kubelet's gRPC probe: grpc.health.v1 Check of the whole server
/// (the program tests/deploy.rs uses, built in a generated Go project, whose
/// go.mod has grpc-go).
const HEALTH_PROBE: &str = r#"// Command healthprobe asks a server's grpc.health.v1 service, as the kubelet's gRPC probe does.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func main() {
	conn, err := grpc.NewClient(os.Args[1], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	fmt.Println(resp.GetStatus())
}
"#;

fn grpc_health(probe: &Path, addr: SocketAddr) -> String {
    run(
        Command::new(probe).arg(addr.to_string()),
        Duration::from_secs(20),
    )
    .stdout
    .trim()
    .to_string()
}

/// The Rust project's Dockerfile and kustomize tree agree with the binary
/// they deploy (its `--help`: ports, environment variables), and the
/// binary, run with the prod ConfigMap's environment, answers the probes
/// as the kubelet asks them: the Rust half of tests/deploy.rs's
/// consistency test.
#[test]
fn manifests_dockerfile_and_the_rust_binary_agree_and_the_probes_answer() {
    let bin = built();
    let flags = flags(&bin.server);
    let ports = BTreeMap::from([
        ("debug".to_string(), port_of(&flags["debug-addr"].1)),
        ("http".to_string(), port_of(&flags["http-addr"].1)),
        ("grpc".to_string(), port_of(&flags["grpc-addr"].1)),
    ]);
    let env_names: BTreeSet<&str> = flags.values().map(|(env, _)| env.as_str()).collect();

    let dockerfile = std::fs::read_to_string(bin.project.join("Dockerfile")).unwrap();
    let exposed: BTreeSet<u16> = dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("EXPOSE "))
        .flat_map(|v| v.split_whitespace().map(|p| p.parse::<u16>().unwrap()))
        .collect();
    assert_eq!(exposed, ports.values().copied().collect(), "EXPOSE");

    for overlay in ["dev", "prod"] {
        let docs = kustomize(&bin.project, overlay);
        let deployment = object(&docs, "Deployment");
        let container = &at(deployment, &["spec", "template", "spec", "containers"])[0];
        let named: BTreeMap<String, u16> = container["ports"]
            .as_vec()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_string(),
                    p["containerPort"].as_i64().unwrap() as u16,
                )
            })
            .collect();
        assert_eq!(named, ports, "{overlay}: container ports");
        assert_eq!(
            at(container, &["readinessProbe", "grpc", "port"]).as_i64(),
            Some(i64::from(ports["grpc"])),
            "{overlay}: readiness over gRPC"
        );
        for probe in ["livenessProbe", "startupProbe"] {
            let get = at(container, &[probe, "httpGet"]);
            assert_eq!(get["path"].as_str(), Some("/healthz"), "{overlay} {probe}");
            assert_eq!(get["port"].as_str(), Some("http"), "{overlay} {probe}");
        }
        for port in at(object(&docs, "Service"), &["spec", "ports"])
            .as_vec()
            .unwrap()
        {
            let target = port["targetPort"].as_str().expect("a named targetPort");
            assert!(
                named.contains_key(target),
                "{overlay}: Service targets {target}"
            );
        }
        let annotations = at(deployment, &["spec", "template", "metadata", "annotations"]);
        assert_eq!(
            annotations["prometheus.io/port"].as_str(),
            Some(ports["debug"].to_string().as_str())
        );
        assert_eq!(annotations["prometheus.io/path"].as_str(), Some("/metrics"));
        let data = object(&docs, "ConfigMap")["data"].as_hash().unwrap();
        for (key, _) in data {
            let key = key.as_str().unwrap();
            assert!(
                env_names.contains(key),
                "{overlay}: the binary does not read {key}"
            );
        }
        assert!(data.len() >= 7, "{overlay}: {data:?}");
    }

    // The binary with the prod ConfigMap's environment (addresses moved to
    // free loopback ports), probed as the kubelet would.
    let docs = kustomize(&bin.project, "prod");
    let mut env: BTreeMap<String, String> = object(&docs, "ConfigMap")["data"]
        .as_hash()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().into(), v.as_str().unwrap().into()))
        .collect();
    for key in ["ADDSVC_HTTP_ADDR", "ADDSVC_GRPC_ADDR", "ADDSVC_DEBUG_ADDR"] {
        assert!(env.contains_key(key), "{key} in the ConfigMap");
        env.insert(key.into(), "127.0.0.1:0".into());
    }
    let seconds = |key: &str| Duration::from_secs(env[key].trim_end_matches('s').parse().unwrap());
    let drain = seconds("ADDSVC_DRAIN_DELAY");
    let grace = at(
        object(&docs, "Deployment"),
        &["spec", "template", "spec", "terminationGracePeriodSeconds"],
    )
    .as_i64()
    .expect("terminationGracePeriodSeconds is set");
    let worst = drain + seconds("ADDSVC_SHUTDOWN_TIMEOUT");
    assert!(
        worst <= Duration::from_secs(grace as u64),
        "drain + shutdown timeout = {worst:?} exceeds terminationGracePeriodSeconds {grace}"
    );

    let go = tempfile::tempdir().unwrap();
    let go_project = generate(go.path(), "probe", &[]);
    std::fs::create_dir_all(go_project.join("cmd/healthprobe")).unwrap();
    std::fs::write(go_project.join("cmd/healthprobe/main.go"), HEALTH_PROBE).unwrap();
    let probe = go_build(&go_project, "healthprobe");

    let server = Server::start(Command::new(&bin.server).env_clear().envs(&env));
    let agent = agent();
    let get = |addr: SocketAddr, path: &str| {
        request(&agent, "GET", &format!("http://{addr}{path}"), None)
    };
    assert_eq!(get(server.http(), "/healthz").status, 200, "liveness");
    assert_eq!(
        get(server.http(), "/readyz").status,
        200,
        "readiness over HTTP"
    );
    assert_eq!(
        grpc_health(&probe, server.grpc()),
        "SERVING",
        "readiness over gRPC"
    );
    assert_eq!(get(server.debug(), "/metrics").status, 200, "metrics");

    // At SIGTERM both readiness probes fail within a second while the
    // process stays alive through the ConfigMap's drain delay; exit 0.
    server.sigterm();
    let stopping = Instant::now();
    while get(server.http(), "/readyz").status != 503 {
        assert!(
            stopping.elapsed() < Duration::from_secs(1),
            "/readyz still 200"
        );
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(grpc_health(&probe, server.grpc()), "NOT_SERVING");
    assert_eq!(
        get(server.http(), "/healthz").status,
        200,
        "alive while draining"
    );
    let status = server.wait(drain + Duration::from_secs(15));
    assert_eq!(status.code(), Some(0));
    assert!(stopping.elapsed() >= drain, "exited before the drain delay");
}
