//! The Rust target's production wiring, proven while its binaries run (the
//! Rust half of tests/production.rs): a configured rate limit answers
//! RESOURCE_EXHAUSTED over gRPC and 429 over HTTP with the Go target's
//! error JSON, and is counted in /metrics under the Go target's metric
//! names and labels; the request logs match the Go server's line for line
//! (level, message, fields); spans reach an OTLP collector (a Go program
//! on the generated Go project's OTLP protos) with the service's name and
//! the caller's trace when a collector is configured (a failed request's
//! span with the exception event the Go server's carries, a server
//! stream's span until the stream ends), and no connection is
//! attempted when none is or the OTEL_* variables turn tracing off; at
//! SIGTERM under steady load `/readyz` turns 503
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

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use support::{
    Server, agent, cargo_rust, generate, go_build, keep_rust_binaries, metric, request, run,
    scrape_metrics, step,
};
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
        edit(&project.join("src/add_service.rs"), RUST_FAULT);
        step(T, "cargo build --locked (the Rust starter)");
        let begin = Instant::now();
        cargo_rust(&project, &["build", "--locked", "--bins"]);
        step(T, format_args!("built in {:.1?}", begin.elapsed()));
        let [server, cli] = keep_rust_binaries(&["addsvc", "addcli"], &dir.path().join("bin"))
            .try_into()
            .unwrap();
        Built {
            project,
            server,
            cli,
            _dir: dir,
        }
    })
}

/// A user's edit to the starter's Sum, in both languages: a = 7777 fails
/// with a server fault (INTERNAL), as a database out of reach would.
const RUST_FAULT: (&str, &str) = (
    "        let SumRequest { a, b } = request.into_inner();\n",
    "        let SumRequest { a, b } = request.into_inner();\n        if a == 7777 {\n            return Err(Status::internal(\"the database is down\"));\n        }\n",
);
const GO_FAULT: (&str, &str) = (
    "\ta, b := req.GetA(), req.GetB()\n",
    "\ta, b := req.GetA(), req.GetB()\n\tif a == 7777 {\n\t\treturn nil, Errorf(CodeInternal, \"the database is down\")\n\t}\n",
);

fn edit(file: &Path, (at, with): (&str, &str)) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(at), "{} lacks {at:?}", file.display());
    std::fs::write(file, text.replacen(at, with, 1)).unwrap();
}

/// With `collect`, an OTLP/gRPC trace collector on 127.0.0.1 that prints
/// its address, then one line per span it receives (its start and end,
/// its events and their attributes too); with `call ADDR TRACEPARENT`, a
/// gRPC client calling addsvc.Add/Sum (a=1, b=2) with that trace context;
/// with `stream ADDR TRACEPARENT ROOM`, one calling chat.v1.Chat/Subscribe
/// that prints when each message came (`message UNIX_NANOS`) and how the
/// stream ended (`end CODE`). Built in a generated Go project, whose go.mod has
/// grpc-go and the OTLP protos (go.opentelemetry.io/proto/otlp).
const OTELPROBE: &str = r#"// Command otelprobe is, with "collect", an OTLP/gRPC trace collector on
// 127.0.0.1 that prints its address, then one line per span it receives,
// and exits after two minutes; with "call ADDR TRACEPARENT", a gRPC client
// that calls addsvc.Add/Sum (a=1, b=2) at ADDR carrying TRACEPARENT; with
// "stream ADDR TRACEPARENT ROOM", one that calls chat.v1.Chat/Subscribe for
// ROOM and prints when each message came and how the stream ended.
package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

type collector struct {
	collectortrace.UnimplementedTraceServiceServer
	mu sync.Mutex
}

// fields writes attributes as sorted prefix.key=value fields.
func fields(prefix string, kvs []*commonpb.KeyValue) []string {
	var out []string
	for _, kv := range kvs {
		v := kv.GetValue()
		value := v.GetStringValue()
		if _, ok := v.GetValue().(*commonpb.AnyValue_IntValue); ok {
			value = fmt.Sprint(v.GetIntValue())
		}
		out = append(out, prefix+kv.GetKey()+"="+strings.ReplaceAll(value, " ", "_"))
	}
	sort.Strings(out)
	return out
}

func (c *collector) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		resource := fields("resource.", rs.GetResource().GetAttributes())
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				line := []string{"span", "name=" + s.GetName(), "kind=" + s.GetKind().String(),
					"trace=" + hex.EncodeToString(s.GetTraceId()), "parent=" + hex.EncodeToString(s.GetParentSpanId()),
					"status=" + s.GetStatus().GetCode().String(), "message=" + s.GetStatus().GetMessage(),
					fmt.Sprint("start=", s.GetStartTimeUnixNano()), fmt.Sprint("end=", s.GetEndTimeUnixNano())}
				line = append(line, fields("attr.", s.GetAttributes())...)
				line = append(line, fmt.Sprint("events=", len(s.GetEvents())))
				for _, e := range s.GetEvents() {
					line = append(line, "event="+e.GetName())
					line = append(line, fields("event."+e.GetName()+".", e.GetAttributes())...)
				}
				line = append(line, resource...)
				fmt.Println(strings.Join(line, " "))
			}
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error)   { return *v.(*[]byte), nil }
func (rawCodec) Unmarshal(b []byte, v any) error { *v.(*[]byte) = b; return nil }
func (rawCodec) Name() string                    { return "proto" }

func main() {
	if len(os.Args) == 4 && os.Args[1] == "call" {
		conn, err := grpc.NewClient(os.Args[2], grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			fmt.Println("setup", err)
			os.Exit(1)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ctx = metadata.AppendToOutgoingContext(ctx, "traceparent", os.Args[3])
		in, out := []byte{0x08, 0x01, 0x10, 0x02}, []byte(nil)
		err = conn.Invoke(ctx, "/addsvc.Add/Sum", &in, &out, grpc.ForceCodec(rawCodec{}))
		fmt.Println(status.Code(err), hex.EncodeToString(out))
		return
	}
	if len(os.Args) == 5 && os.Args[1] == "stream" {
		conn, err := grpc.NewClient(os.Args[2], grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			fmt.Println("setup", err)
			os.Exit(1)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ctx = metadata.AppendToOutgoingContext(ctx, "traceparent", os.Args[3])
		stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, "/chat.v1.Chat/Subscribe", grpc.ForceCodec(rawCodec{}))
		if err != nil {
			fmt.Println("end", status.Code(err))
			return
		}
		in := append([]byte{0x0a, byte(len(os.Args[4]))}, os.Args[4]...)
		if err := stream.SendMsg(&in); err != nil {
			fmt.Println("end", status.Code(err))
			return
		}
		if err := stream.CloseSend(); err != nil {
			fmt.Println("end", status.Code(err))
			return
		}
		for {
			var out []byte
			if err := stream.RecvMsg(&out); err == io.EOF {
				fmt.Println("end OK")
				return
			} else if err != nil {
				fmt.Println("end", status.Code(err))
				return
			}
			fmt.Println("message", time.Now().UnixNano())
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen", err)
		os.Exit(1)
	}
	fmt.Println("listening", l.Addr())
	s := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(s, &collector{})
	time.AfterFunc(2*time.Minute, s.Stop)
	s.Serve(l)
}
"#;

/// The Go starter, the reference, with the same edit as the Rust one, and
/// the OTLP probe, built once.
struct GoBuilt {
    _dir: tempfile::TempDir,
    server: PathBuf,
    otelprobe: PathBuf,
}

fn go_built() -> &'static GoBuilt {
    static BUILT: OnceLock<GoBuilt> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        step(T, "kitgen new addsvc (Go) and go build addsvc, otelprobe");
        let project = generate(dir.path(), "addsvc", &[]);
        edit(&project.join("pkg/service/add.go"), GO_FAULT);
        std::fs::create_dir_all(project.join("cmd/otelprobe")).unwrap();
        std::fs::write(project.join("cmd/otelprobe/main.go"), OTELPROBE).unwrap();
        GoBuilt {
            server: go_build(&project, "addsvc"),
            otelprobe: go_build(&project, "otelprobe"),
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

/// The `"key":value` of a flat JSON object's field (a string without
/// escapes, or a number), for comparing error bodies without a JSON crate.
fn json_field<'a>(body: &'a str, key: &str) -> Option<&'a str> {
    let at = body.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &body[at..];
    if let Some(quoted) = rest.strip_prefix('"') {
        quoted.split('"').next()
    } else {
        rest.split([',', '}']).next()
    }
}

#[test]
fn over_the_rate_limit_http_answers_429_with_the_go_targets_error_json() {
    let (rust, go) = (built(), go_built());
    let limited = ["--rate-limit", "0.5", "--rate-burst", "1"];
    let agent = agent();
    let mut answers = Vec::new();
    for (lang, binary) in [("Rust", &rust.server), ("Go", &go.server)] {
        let server = Server::start(Command::new(binary).args(LOOPBACK).args(limited));
        let url = format!("http://{}/sum", server.http());
        let first = request(&agent, "POST", &url, Some(r#"{"a":1,"b":2}"#));
        assert_eq!(
            (first.status, first.body.as_str()),
            (200, r#"{"result":"3"}"#),
            "{lang}"
        );
        let second = request(&agent, "POST", &url, Some(r#"{"a":1,"b":2}"#));
        assert_eq!(second.status, 429, "{lang}: {second:?}");
        // Each method has a limit of its own: Sum's does not hold Concat back.
        let concat = request(
            &agent,
            "POST",
            &format!("http://{}/concat", server.http()),
            Some(r#"{"a":"x","b":"y"}"#),
        );
        assert_eq!(concat.status, 200, "{lang}: {concat:?}");
        // A request no route matches is counted by transport, as Go labels it.
        let unknown = request(
            &agent,
            "GET",
            &format!("http://{}/no/such", server.http()),
            None,
        );
        assert_eq!(unknown.status, 404, "{lang}: {unknown:?}");
        let metrics = scrape_metrics(&server);
        for (name, labels, want) in [
            (
                "addsvc_requests_total",
                [("method", "Add.Sum"), ("code", "RESOURCE_EXHAUSTED")],
                1.0,
            ),
            (
                "addsvc_transport_errors_total",
                [("transport", "HTTP"), ("code", "NOT_FOUND")],
                1.0,
            ),
        ] {
            assert_eq!(
                metric(&metrics, name, &labels),
                Some(want),
                "{lang}: {name}{labels:?} in\n{metrics}"
            );
        }
        assert!(server.terminate().success(), "{lang} exits 0");
        step(T, format_args!("{lang}: 429 {}", second.body));
        answers.push(second.body);
    }
    let (rust, go) = (&answers[0], &answers[1]);
    for key in ["code", "status", "message"] {
        assert_eq!(
            json_field(rust, key),
            json_field(go, key),
            "{key} of the 429: Rust {rust} Go {go}"
        );
    }
    assert_eq!(json_field(rust, "status"), Some("RESOURCE_EXHAUSTED"));
    assert_eq!(json_field(rust, "code"), Some("429"));
    assert_eq!(
        rust.matches("\":").count(),
        go.matches("\":").count(),
        "the same fields: {rust} {go}"
    );
}

/// A logfmt line (`time=.. level=INFO msg="shutting down" drain=0s`) as
/// its fields, in order; a quoted value unquoted.
fn logfmt(line: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    let mut rest = line.trim();
    while let Some((key, after)) = rest.split_once('=') {
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let mut end = 0;
            let mut escaped = false;
            for (i, c) in quoted.char_indices() {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => {
                        end = i;
                        break;
                    }
                    _ => {}
                }
            }
            (
                quoted[..end].replace("\\\"", "\"").replace("\\\\", "\\"),
                &quoted[end + 1..],
            )
        } else {
            let end = after.find(' ').unwrap_or(after.len());
            (after[..end].to_string(), &after[end..])
        };
        fields.push((key.trim().to_string(), value));
        rest = next.trim_start();
    }
    fields
}

/// The request and refusal lines of a server's log, and the line of its
/// shutdown, as fields (the Go service's own "call" lines, from its
/// service-level logging middleware, which the Rust target has no
/// counterpart of, are left out).
fn request_lines(log: &str) -> Vec<Vec<(String, String)>> {
    log.lines()
        .map(logfmt)
        .filter(|f| {
            f.iter().any(|(k, v)| {
                k == "msg"
                    && ["request", "request refused", "listening", "shutting down"]
                        .contains(&v.as_str())
            })
        })
        .collect()
}

#[test]
fn request_logs_are_the_go_targets_line_for_line() {
    let (rust, go) = (built(), go_built());
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let agent = agent();
    let mut logs = Vec::new();
    for (lang, binary) in [("Rust", &rust.server), ("Go", &go.server)] {
        let server = Server::start(
            Command::new(binary)
                .args(LOOPBACK)
                .args(["--log-level", "debug"]),
        );
        let http = |method: &str, path: &str, body: Option<&str>| {
            request(
                &agent,
                method,
                &format!("http://{}{path}", server.http()),
                body,
            )
            .status
        };
        assert_eq!(http("POST", "/sum", Some(r#"{"a":1,"b":2}"#)), 200);
        assert_eq!(
            http("POST", "/sum", Some(r#"{"a":9223372036854775807,"b":1}"#)),
            400
        );
        assert_eq!(http("POST", "/sum", Some(r#"{"a":7777,"b":1}"#)), 500);
        assert_eq!(http("GET", "/no/such", None), 404);
        assert_eq!(http("POST", "/concat", Some(r#"{"a":"x","b":"y"}"#)), 200);
        let call = run(
            Command::new(&go.otelprobe).args(["call", &server.grpc().to_string(), traceparent]),
            Duration::from_secs(30),
        );
        assert_eq!(
            call.stdout, "OK 0803\n",
            "{lang}: gRPC Sum: {}",
            call.stderr
        );
        server.sigterm();
        let begin = Instant::now();
        while !server.log().contains("shutting down") {
            assert!(
                begin.elapsed() < Duration::from_secs(10),
                "{lang}: no shutdown\n{}",
                server.log()
            );
            thread::sleep(Duration::from_millis(20));
        }
        let log = server.log();
        assert_eq!(
            server.wait(Duration::from_secs(15)).code(),
            Some(0),
            "{lang}\n{log}"
        );
        logs.push(request_lines(&log));
    }
    let (rust, go) = (&logs[0], &logs[1]);
    let show = |lines: &[Vec<(String, String)>]| {
        lines
            .iter()
            .map(|f| {
                f.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    step(
        T,
        format_args!("Rust's log:\n{}\nGo's log:\n{}", show(rust), show(go)),
    );
    assert_eq!(
        rust.len(),
        go.len(),
        "as many lines\nRust:\n{}\nGo:\n{}",
        show(rust),
        show(go)
    );
    // 3 listening, 5 requests (one over gRPC), 1 refusal, 1 shutdown.
    assert_eq!(rust.len(), 10, "{}", show(rust));
    for (r, g) in rust.iter().zip(go) {
        let keys = |f: &[(String, String)]| f.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        assert_eq!(
            keys(r),
            keys(g),
            "the same fields in the same order:\nRust {r:?}\nGo   {g:?}"
        );
        for ((key, rv), (_, gv)) in r.iter().zip(g) {
            match key.as_str() {
                // When, how long, and where each server happened to listen.
                "time" | "took" | "addr" => {
                    assert!(!rv.is_empty(), "{key} in {r:?}");
                    if key == "took" {
                        assert!(
                            rv.ends_with('s') && rv.starts_with(|c: char| c.is_ascii_digit()),
                            "took={rv}"
                        );
                    }
                }
                _ => assert_eq!(rv, gv, "{key}:\nRust {r:?}\nGo   {g:?}"),
            }
        }
    }
    // The levels: a server fault at error, the rest of the requests at debug.
    let levels: Vec<(&str, &str)> = rust
        .iter()
        .filter_map(|f| {
            let get = |k: &str| f.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
            Some((get("level")?, get("code")?))
        })
        .collect();
    assert!(levels.contains(&("ERROR", "INTERNAL")), "{levels:?}");
    assert!(
        levels.contains(&("DEBUG", "INVALID_ARGUMENT")),
        "{levels:?}"
    );
    assert_eq!(
        levels.iter().filter(|l| *l == &("DEBUG", "OK")).count(),
        3,
        "{levels:?}"
    );
}

/// The collector's lines (`span name=.. trace=.. attr.rpc.method=..`) as
/// they come, from a running `otelprobe collect`.
struct Collector {
    child: std::process::Child,
    addr: String,
    lines: mpsc::Receiver<String>,
}

impl Collector {
    fn start(probe: &Path) -> Collector {
        let mut child = Command::new(probe)
            .arg("collect")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = lines
            .recv_timeout(Duration::from_secs(10))
            .expect("the collector listens");
        let addr = first
            .strip_prefix("listening ")
            .expect("listening ADDR")
            .to_string();
        Collector { child, addr, lines }
    }

    /// The spans received with the trace ids `traces`, waiting at most 15 s.
    fn spans(&self, traces: &[&str]) -> BTreeMap<String, BTreeMap<String, String>> {
        let mut spans = BTreeMap::new();
        let deadline = Instant::now() + Duration::from_secs(15);
        while spans.len() < traces.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = self.lines.recv_timeout(left) else {
                panic!("spans of {traces:?} not received; got {spans:?}");
            };
            let fields: BTreeMap<String, String> = line
                .split_whitespace()
                .filter_map(|f| f.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            if let Some(trace) = fields.get("trace").filter(|t| traces.contains(&t.as_str())) {
                spans.insert(trace.clone(), fields);
            }
        }
        spans
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Environment variables a server runs with.
type Env<'a> = Vec<(&'a str, String)>;

/// The server with none of the environment's OTEL_* variables.
fn server_command(binary: &Path) -> Command {
    let mut cmd = Command::new(binary);
    cmd.args(LOOPBACK);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("OTEL_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Sends the requests whose spans the collector should receive: HTTP Sum
/// in the trace `ok`, HTTP Sum failing INVALID_ARGUMENT in `failed`, gRPC
/// Sum in `grpc`; then stops the server, which flushes the spans.
fn traced_requests(server: Server, probe: &Path, [ok, failed, grpc]: [&str; 3]) {
    let agent = agent();
    let url = format!("http://{}/sum", server.http());
    let traceparent = |trace: &str| format!("00-{trace}-00f067aa0ba902b7-01");
    for (trace, body, want) in [
        (ok, r#"{"a":1,"b":2}"#, 200),
        (failed, r#"{"a":9223372036854775807,"b":1}"#, 400),
    ] {
        let reply = agent
            .post(&url)
            .header("Content-Type", "application/json")
            .header("traceparent", &traceparent(trace))
            .send(body)
            .unwrap();
        assert_eq!(reply.status().as_u16(), want);
    }
    let call = run(
        Command::new(probe).args(["call", &server.grpc().to_string(), &traceparent(grpc)]),
        Duration::from_secs(30),
    );
    assert_eq!(call.stdout, "OK 0803\n", "gRPC Sum: {}", call.stderr);
    // Up to 5 s flushing spans to a collector that does not answer.
    server.sigterm();
    let log = server.log();
    assert_eq!(
        server.wait(Duration::from_secs(15)).code(),
        Some(0),
        "exit 0\n{log}"
    );
}

#[test]
fn spans_reach_the_otlp_collector_configured_with_the_callers_trace() {
    let (rust, go) = (built(), go_built());
    let collector = Collector::start(&go.otelprobe);
    let addr = collector.addr.clone();
    let runs: [(&str, Env, &[&str], &str); 4] = [
        ("flag", vec![], &["--otlp-endpoint", &addr], "addsvc"),
        (
            "ADDSVC_OTLP_ENDPOINT",
            vec![("ADDSVC_OTLP_ENDPOINT", addr.clone())],
            &[],
            "addsvc",
        ),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            vec![
                ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{addr}")),
                ("OTEL_SERVICE_NAME", "billing".into()),
                (
                    "OTEL_RESOURCE_ATTRIBUTES",
                    "deployment.environment=test".into(),
                ),
            ],
            &[],
            "billing",
        ),
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            vec![
                (
                    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                    format!("http://{addr}"),
                ),
                ("OTEL_SDK_DISABLED", "false".into()),
            ],
            &[],
            "addsvc",
        ),
    ];
    for (i, (how, env, args, service)) in runs.iter().enumerate() {
        let traces = [1, 2, 3].map(|n| format!("{:016x}{:016x}", i + 1, n));
        let traces = [traces[0].as_str(), traces[1].as_str(), traces[2].as_str()];
        let server = Server::start(
            server_command(&rust.server)
                .args(*args)
                .envs(env.iter().map(|(k, v)| (k, v))),
        );
        traced_requests(server, &go.otelprobe, traces);
        let spans = collector.spans(&traces);
        step(
            T,
            format_args!("{how}: {} spans, e.g. {:?}", spans.len(), spans[traces[2]]),
        );
        for (trace, span) in &spans {
            let field = |k: &str| span.get(k).map(String::as_str);
            assert_eq!(field("name"), Some("Add.Sum"), "{how}: {span:?}");
            assert_eq!(field("kind"), Some("SPAN_KIND_SERVER"), "{how}: {span:?}");
            assert_eq!(
                field("parent"),
                Some("00f067aa0ba902b7"),
                "{how}: the caller's span: {span:?}"
            );
            assert_eq!(field("attr.rpc.method"), Some("Add.Sum"), "{how}: {span:?}");
            assert_eq!(
                field("resource.service.name"),
                Some(*service),
                "{how}: {span:?}"
            );
            let grpc = trace == traces[2];
            assert_eq!(
                field("attr.rpc.system"),
                grpc.then_some("grpc"),
                "{how}: {span:?}"
            );
            assert_eq!(
                field("attr.rpc.grpc.status_code"),
                grpc.then_some("0"),
                "{how}: {span:?}"
            );
            if trace == traces[1] {
                assert_eq!(
                    field("status"),
                    Some("STATUS_CODE_ERROR"),
                    "{how}: {span:?}"
                );
                assert_eq!(
                    field("message"),
                    Some("INVALID_ARGUMENT"),
                    "{how}: {span:?}"
                );
                // The event Go's span.RecordError adds (see
                // a_failed_requests_span_carries_the_event_the_go_targets_does).
                assert_eq!(field("events"), Some("1"), "{how}: {span:?}");
                assert_eq!(field("event"), Some("exception"), "{how}: {span:?}");
                assert_eq!(
                    field("event.exception.exception.type"),
                    Some("tonic::status::Status"),
                    "{how}: {span:?}"
                );
                assert_eq!(
                    field("event.exception.exception.message"),
                    Some("INVALID_ARGUMENT:_9223372036854775807_+_1_overflows_int64"),
                    "{how}: {span:?}"
                );
            } else {
                assert_eq!(
                    field("status"),
                    Some("STATUS_CODE_UNSET"),
                    "{how}: {span:?}"
                );
                assert_eq!(field("events"), Some("0"), "{how}: {span:?}");
            }
        }
        if *service == "billing" {
            assert_eq!(
                spans[traces[0]]
                    .get("resource.deployment.environment")
                    .map(String::as_str),
                Some("test"),
                "OTEL_RESOURCE_ATTRIBUTES"
            );
        }
    }
}

/// The streaming fixture's Chat.Subscribe, implemented: three messages
/// 200 ms apart, then 300 ms more before the stream ends; for the room
/// "fail", UNAVAILABLE 200 ms after the second message instead.
const RUST_SUBSCRIBE: (&str, &str) = (
    "        _request: Request<SubscribeRequest>,\n    ) -> Result<BoxStream<Message>, Status> {\n        Err(Status::unimplemented(\"Subscribe is not implemented yet\"))\n",
    r#"        request: Request<SubscribeRequest>,
    ) -> Result<BoxStream<Message>, Status> {
        let room = request.into_inner().room;
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        tokio::spawn(async move {
            let pause = std::time::Duration::from_millis(200);
            for n in 0..3 {
                tokio::time::sleep(pause).await;
                if room == "fail" && n == 2 {
                    let _ = tx.send(Err(Status::unavailable("the room closed"))).await;
                    return;
                }
                let message = Message { room: room.clone(), text: n.to_string() };
                if tx.send(Ok(message)).await.is_err() {
                    return;
                }
            }
            tokio::time::sleep(pause + pause / 2).await;
        });
        Ok(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx)))
"#,
);

/// A server stream's span covers the whole call, as the Go target's does:
/// it ends after the client received the stream's last message, OK for a
/// stream that ends, and with the status and exception event of the error
/// for one that fails mid-way.
#[test]
fn a_server_streams_span_ends_with_the_stream_and_its_outcome() {
    let go = go_built();
    let dir = tempfile::tempdir().unwrap();
    let proto = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/streaming/streaming.proto");
    let project = generate(
        dir.path(),
        "otelstream",
        &["--lang", "rust", "--proto", proto.to_str().unwrap()],
    );
    edit(&project.join("src/chat_service.rs"), RUST_SUBSCRIBE);
    step(
        T,
        "cargo build --locked (otelstream, the streaming fixture)",
    );
    cargo_rust(&project, &["build", "--locked", "--bin", "otelstream"]);
    let [binary] = keep_rust_binaries(&["otelstream"], &dir.path().join("bin"))
        .try_into()
        .unwrap();

    let collector = Collector::start(&go.otelprobe);
    let server = Server::start(server_command(&binary).args(["--otlp-endpoint", &collector.addr]));
    let (ended, failed) = (
        "5e0000000000000000000000000000e1",
        "5e0000000000000000000000000000e2",
    );
    let mut last = BTreeMap::new();
    for (trace, room, messages, end) in [
        (ended, "lobby", 3, "end OK"),
        (failed, "fail", 2, "end Unavailable"),
    ] {
        let call = run(
            Command::new(&go.otelprobe).args([
                "stream",
                &server.grpc().to_string(),
                &format!("00-{trace}-00f067aa0ba902b7-01"),
                room,
            ]),
            Duration::from_secs(30),
        );
        let lines: Vec<&str> = call.stdout.lines().collect();
        let came: Vec<u64> = lines
            .iter()
            .filter_map(|line| line.strip_prefix("message "))
            .map(|nanos| nanos.parse().unwrap())
            .collect();
        assert_eq!(
            came.len(),
            messages,
            "{room}: {}{}",
            call.stdout,
            call.stderr
        );
        assert_eq!(
            lines.last(),
            Some(&end),
            "{room}: {}{}",
            call.stdout,
            call.stderr
        );
        last.insert(trace, came[messages - 1]);
    }
    server.sigterm();
    let log = server.log();
    assert_eq!(
        server.wait(Duration::from_secs(15)).code(),
        Some(0),
        "exit 0\n{log}"
    );

    let spans = collector.spans(&[ended, failed]);
    for (trace, span) in &spans {
        step(T, format_args!("{span:?}"));
        let field = |k: &str| span.get(k).map(String::as_str);
        let nanos = |k: &str| -> u64 { field(k).unwrap().parse().unwrap() };
        assert_eq!(field("name"), Some("Chat.Subscribe"), "{span:?}");
        assert_eq!(field("parent"), Some("00f067aa0ba902b7"), "{span:?}");
        assert!(
            nanos("end") > last[trace.as_str()],
            "the span ended {} ns before the last message came: {span:?}",
            last[trace.as_str()].saturating_sub(nanos("end"))
        );
        if trace == failed {
            assert_eq!(field("status"), Some("STATUS_CODE_ERROR"), "{span:?}");
            assert_eq!(field("message"), Some("UNAVAILABLE"), "{span:?}");
            assert_eq!(field("attr.rpc.grpc.status_code"), Some("14"), "{span:?}");
            assert_eq!(field("event"), Some("exception"), "{span:?}");
            assert_eq!(
                field("event.exception.exception.message"),
                Some("UNAVAILABLE:_the_room_closed"),
                "{span:?}"
            );
        } else {
            assert_eq!(field("status"), Some("STATUS_CODE_UNSET"), "{span:?}");
            assert_eq!(field("attr.rpc.grpc.status_code"), Some("0"), "{span:?}");
            assert_eq!(field("events"), Some("0"), "{span:?}");
        }
    }
}

/// The Go target is the reference: both servers answer the same failed
/// request (HTTP Sum overflowing, INVALID_ARGUMENT) and their spans carry
/// the same status and the same `exception` event (name, attributes, the
/// error's text); only `exception.type` names each language's own type.
#[test]
fn a_failed_requests_span_carries_the_event_the_go_targets_does() {
    let (rust, go) = (built(), go_built());
    let collector = Collector::start(&go.otelprobe);
    let mut failed = BTreeMap::new();
    for (i, (lang, binary)) in [("Rust", &rust.server), ("Go", &go.server)]
        .into_iter()
        .enumerate()
    {
        let traces = [1, 2, 3].map(|n| format!("{:016x}{:016x}", 0xe0 + i, n));
        let traces = [traces[0].as_str(), traces[1].as_str(), traces[2].as_str()];
        let server =
            Server::start(server_command(binary).args(["--otlp-endpoint", &collector.addr]));
        traced_requests(server, &go.otelprobe, traces);
        let mut spans = collector.spans(&traces);
        let span = spans.remove(traces[1]).unwrap();
        step(
            T,
            format_args!("{lang}: the failed request's span {span:?}"),
        );
        failed.insert(lang, span);
    }
    let comparable = |span: &BTreeMap<String, String>| -> BTreeMap<String, String> {
        span.iter()
            .filter(|(k, _)| {
                ["status", "message", "events", "event"].contains(&k.as_str())
                    || k.starts_with("event.")
            })
            .filter(|(k, _)| k.as_str() != "event.exception.exception.type")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let (go, rust) = (comparable(&failed["Go"]), comparable(&failed["Rust"]));
    assert_eq!(
        go.get("event").map(String::as_str),
        Some("exception"),
        "{go:?}"
    );
    assert_eq!(rust, go, "Rust's failed span against Go's");
    let keys = |span: &BTreeMap<String, String>| -> Vec<String> {
        span.keys()
            .filter(|k| k.starts_with("event."))
            .cloned()
            .collect()
    };
    assert_eq!(keys(&failed["Rust"]), keys(&failed["Go"]));
    assert_eq!(
        failed["Go"]
            .get("event.exception.exception.type")
            .map(String::as_str),
        Some("*service.Error")
    );
}

#[test]
fn no_connection_is_attempted_when_no_collector_is_configured_or_tracing_is_off() {
    let (rust, go) = (built(), go_built());
    // Listeners standing in for collectors: no exporter may connect. The
    // exporter's default endpoint is localhost:4317: watched too when free.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let default = TcpListener::bind("127.0.0.1:4317").ok();
    if let Some(default) = &default {
        default.set_nonblocking(true).unwrap();
    } else {
        step(
            T,
            "127.0.0.1:4317 is taken: the default endpoint is not watched",
        );
    }
    let runs: [(&str, Env, &[&str]); 5] = [
        ("nothing configured", vec![], &[]),
        (
            "OTEL_SERVICE_NAME alone",
            vec![("OTEL_SERVICE_NAME", "billing".into())],
            &[],
        ),
        (
            "OTEL_SDK_DISABLED=true",
            vec![
                ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{addr}")),
                ("OTEL_SDK_DISABLED", "true".into()),
            ],
            &[],
        ),
        (
            "OTEL_SDK_DISABLED=TRUE and the flag",
            vec![("OTEL_SDK_DISABLED", "TRUE".into())],
            &["--otlp-endpoint", &addr],
        ),
        (
            "OTEL_TRACES_EXPORTER=none",
            vec![
                (
                    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                    format!("http://{addr}"),
                ),
                ("OTEL_TRACES_EXPORTER", "none".into()),
            ],
            &[],
        ),
    ];
    for (how, env, args) in runs {
        let server = Server::start(
            server_command(&rust.server)
                .args(args)
                .envs(env.iter().map(|(k, v)| (k, v))),
        );
        let traces = ["1".repeat(32), "2".repeat(32), "3".repeat(32)];
        traced_requests(server, &go.otelprobe, [&traces[0], &traces[1], &traces[2]]);
        for (name, l) in [
            ("the endpoint", Some(&listener)),
            ("localhost:4317", default.as_ref()),
        ] {
            if let Some(l) = l {
                match l.accept() {
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    other => panic!("{how}: a connection to {name}: {other:?}"),
                }
            }
        }
        step(T, format_args!("{how}: no connection"));
    }
    // The same listener, named by the flag with tracing on: it is connected to.
    let server = Server::start(server_command(&rust.server).args(["--otlp-endpoint", &addr]));
    let traces = ["4".repeat(32), "5".repeat(32), "6".repeat(32)];
    traced_requests(server, &go.otelprobe, [&traces[0], &traces[1], &traces[2]]);
    listener.set_nonblocking(false).unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(listener.accept().is_ok());
    });
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(10)),
        Ok(true),
        "tracing on: the exporter connects"
    );
}
