//! Helpers for the end-to-end tests: running commands with a time limit,
//! generating and building projects, and running a generated server.
//!
//! Every wait here is bounded, and every child process is killed when the
//! value that owns it is dropped, so a failing test leaves nothing running.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The kitgen binary under test.
pub const KITGEN: &str = env!("CARGO_BIN_EXE_kitgen");

/// How long one kitgen run may take.
pub const KITGEN_TIMEOUT: Duration = Duration::from_secs(60);

/// How long one go command may take. The first build of a project may
/// download modules and compile gRPC and Prometheus on a small machine.
pub const GO_TIMEOUT: Duration = Duration::from_secs(900);

/// How long one cargo command on a generated Rust project may take: a cold
/// build of its dependencies takes minutes on a small machine.
pub const CARGO_TIMEOUT: Duration = Duration::from_secs(1800);

/// How long a server may take to log its listening addresses.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a server may take to exit after SIGTERM.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// How long one HTTP request may take.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// The shared corpus of real-world protos, checked out beside this crate.
pub fn corpus() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus"))
}

/// Prints a progress line, prefixed with the test's name, to stderr.
pub fn step(test: &str, what: impl std::fmt::Display) {
    eprintln!("[e2e {test}] {what}");
}

/// What a finished command printed.
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` to completion in its own process group, killing the whole
/// group if it outlives `timeout`. Panics if it cannot start or times out.
pub fn run(cmd: &mut Command, timeout: Duration) -> Output {
    let out = run_bytes(cmd, timeout);
    Output {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `cmd` like [`run`], keeping what it printed as bytes.
pub fn run_bytes(cmd: &mut Command, timeout: Duration) -> std::process::Output {
    let shown = format!("{cmd:?}");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
    let (done_tx, done_rx) = mpsc::channel();
    let stdout = collect(child.stdout.take().expect("piped stdout"), done_tx.clone());
    let stderr = collect(child.stderr.take().expect("piped stderr"), done_tx);

    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                // The child is not reaped yet, so its id still names its
                // group, and nothing else.
                kill_group(child.id());
                let _ = child.wait();
                panic!(
                    "{shown} did not finish within {timeout:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                    lossy(&stdout),
                    lossy(&stderr)
                );
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                kill_group(child.id());
                panic!("cannot wait for {shown}: {e}")
            }
        }
    };
    // Anything the command left running still holds the pipes, so the
    // readers get a bounded wait.
    for _ in 0..2 {
        if done_rx.recv_timeout(Duration::from_secs(10)).is_err() {
            break;
        }
    }
    let take = |buf: Arc<Mutex<Vec<u8>>>| std::mem::take(&mut *buf.lock().unwrap());
    std::process::Output {
        status,
        stdout: take(stdout),
        stderr: take(stderr),
    }
}

/// The kitgen binary under test, to run with `args` in `cwd`.
pub fn kitgen_command(args: &[&str], cwd: &Path) -> Command {
    let mut cmd = Command::new(KITGEN);
    cmd.args(args).current_dir(cwd);
    cmd
}

/// Runs a kitgen command to completion, bounded in time: kitgen may build
/// the protobuf plugins with the Go toolchain on first use, so it gets as
/// long as a go command.
pub fn run_kitgen(cmd: &mut Command) -> std::process::Output {
    run_bytes(cmd, GO_TIMEOUT)
}

/// Runs kitgen with `args` in `cwd`.
pub fn kitgen(args: &[&str], cwd: &Path) -> std::process::Output {
    kitgen_env(args, cwd, &[])
}

/// Runs kitgen like [`kitgen`], with more environment variables.
pub fn kitgen_env(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = kitgen_command(args, cwd);
    cmd.envs(env.iter().copied());
    run_kitgen(&mut cmd)
}

/// What a kitgen run printed to stderr.
pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What a kitgen run printed to stderr, as a golden: `dirs` (a temporary
/// directory, the fixtures) shown by their names in brackets, so the text
/// is the same on every machine.
pub fn stderr_golden(out: &std::process::Output, dirs: &[(&str, &Path)]) -> String {
    let mut text = stderr(out);
    for (name, dir) in dirs {
        text = text.replace(&dir.display().to_string(), &format!("[{name}]"));
    }
    format!("exit: {:?}\n{text}", out.status.code())
}

/// What a kitgen run printed to stdout.
pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `cmd` like [`run`] and panics, showing its output, unless it
/// exits 0.
pub fn run_ok(cmd: &mut Command, timeout: Duration) -> Output {
    let shown = format!("{cmd:?}");
    let out = run(cmd, timeout);
    assert!(
        out.status.success(),
        "{shown} failed with {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        out.stdout,
        out.stderr
    );
    out
}

/// Kills the process group that the unreaped child `leader` leads.
fn kill_group(leader: u32) {
    let pgid = libc::pid_t::try_from(leader).expect("pid fits pid_t");
    // SAFETY: kill has no memory-safety preconditions; a negative pid names
    // the process group created for our child, which is not reaped yet.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

fn collect(mut pipe: impl Read + Send + 'static, done: mpsc::Sender<()>) -> Arc<Mutex<Vec<u8>>> {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&buf);
    thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => sink.lock().unwrap().extend_from_slice(&chunk[..n]),
            }
        }
        let _ = done.send(());
    });
    buf
}

fn lossy(buf: &Mutex<Vec<u8>>) -> String {
    String::from_utf8_lossy(&buf.lock().unwrap()).into_owned()
}

/// Runs `kitgen new NAME --dir DIR ARGS...` and returns DIR.
pub fn generate(parent: &Path, name: &str, args: &[&str]) -> PathBuf {
    let dir = parent.join(name);
    run_ok(
        Command::new(KITGEN)
            .arg("new")
            .arg(name)
            .arg("--dir")
            .arg(&dir)
            .args(args)
            .current_dir(parent),
        KITGEN_TIMEOUT,
    );
    dir
}

/// A go command to run in `project`.
pub fn go(project: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("go");
    cmd.args(args).current_dir(project);
    cmd
}

/// Builds the main package `./cmd/NAME` of `project` into `bin/NAME`
/// beside the project and returns the binary's path.
pub fn go_build(project: &Path, name: &str) -> PathBuf {
    let bin = project
        .parent()
        .expect("project has a parent")
        .join("bin")
        .join(name);
    let out = bin.to_str().expect("UTF-8 temp path").to_owned();
    let pkg = format!("./cmd/{name}");
    run_ok(&mut go(project, &["build", "-o", &out, &pkg]), GO_TIMEOUT);
    bin
}

/// The addresses a running server logged, by transport: `HTTP`, `gRPC`
/// and `debug/HTTP`.
pub type Addrs = BTreeMap<String, SocketAddr>;

const TRANSPORTS: [&str; 3] = ["HTTP", "gRPC", "debug/HTTP"];

/// A running generated server. Dropping it kills the process (SIGKILL);
/// dropping it while panicking also prints everything it logged.
pub struct Server {
    child: Option<Child>,
    log: Arc<Mutex<String>>,
    pub addrs: Addrs,
}

impl Server {
    /// Starts `cmd` and waits until it has logged where each of its three
    /// servers listens.
    pub fn start(cmd: &mut Command) -> Server {
        let shown = format!("{cmd:?}");
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel::<String>();
        {
            let log = Arc::clone(&log);
            thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    {
                        let mut log = log.lock().unwrap();
                        log.push_str(&line);
                        log.push('\n');
                    }
                    // The receiver is gone once the server has started.
                    let _ = tx.send(line);
                }
            });
        }
        let mut server = Server {
            child: Some(child),
            log,
            addrs: Addrs::new(),
        };

        let deadline = Instant::now() + START_TIMEOUT;
        while !TRANSPORTS.iter().all(|t| server.addrs.contains_key(*t)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some((transport, addr)) = listening(&line) {
                        server.addrs.insert(transport, addr);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                    "{shown} did not log its addresses within {START_TIMEOUT:?}; found {:?}\n--- log ---\n{}",
                    server.addrs,
                    server.log()
                ),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = server.wait_for_exit(STOP_TIMEOUT);
                    panic!(
                        "{shown} exited ({status:?}) before logging its addresses; found {:?}\n--- log ---\n{}",
                        server.addrs,
                        server.log()
                    )
                }
            }
        }
        server
    }

    /// Where the HTTP API listens.
    pub fn http(&self) -> SocketAddr {
        self.addrs["HTTP"]
    }

    /// Where the gRPC API listens.
    pub fn grpc(&self) -> SocketAddr {
        self.addrs["gRPC"]
    }

    /// Where /metrics and /debug/pprof/ are served.
    pub fn debug(&self) -> SocketAddr {
        self.addrs["debug/HTTP"]
    }

    /// Everything the server has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Sends SIGTERM and returns the exit status, panicking if the server
    /// is still running after [`STOP_TIMEOUT`].
    pub fn terminate(mut self) -> ExitStatus {
        let pid = self.child.as_ref().expect("server is running").id();
        let pid = libc::pid_t::try_from(pid).expect("pid fits pid_t");
        // SAFETY: kill has no memory-safety preconditions; pid is our
        // child, not yet reaped, so it cannot have been reused.
        let rc = unsafe { libc::kill(pid, libc::SIGTERM) };
        assert_eq!(rc, 0, "kill(SIGTERM): {}", std::io::Error::last_os_error());
        match self.wait_for_exit(STOP_TIMEOUT) {
            Some(status) => status,
            None => panic!(
                "server still running {STOP_TIMEOUT:?} after SIGTERM\n--- log ---\n{}",
                self.log()
            ),
        }
    }

    /// Waits up to `timeout` for the server to exit, reaping it if it does.
    /// Kills the server at once (SIGKILL), as a crash would.
    pub fn kill(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM without waiting, for tests that watch the shutdown.
    pub fn sigterm(&self) {
        let pid = self.child.as_ref().expect("server is running").id();
        let rc = unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
        assert_eq!(rc, 0, "kill(SIGTERM): {}", std::io::Error::last_os_error());
    }

    /// Waits for the exit that a SIGTERM started.
    pub fn wait(mut self, timeout: Duration) -> ExitStatus {
        match self.wait_for_exit(timeout) {
            Some(status) => status,
            None => panic!(
                "server still running after {timeout:?}\n--- log ---\n{}",
                self.log()
            ),
        }
    }

    fn wait_for_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut()?;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    self.child = None;
                    return Some(status);
                }
                Ok(None) if Instant::now() >= deadline => return None,
                Ok(None) => thread::sleep(Duration::from_millis(20)),
                Err(e) => panic!("cannot wait for server: {e}"),
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if thread::panicking() {
            eprintln!("--- server log ---\n{}", self.log());
        }
    }
}

/// Parses a `transport=NAME addr=HOST:PORT` log line.
fn listening(line: &str) -> Option<(String, SocketAddr)> {
    let mut transport = None;
    let mut addr = None;
    for field in line.split_whitespace() {
        if let Some(v) = field.strip_prefix("transport=") {
            transport = Some(v.trim_matches('"').to_owned());
        } else if let Some(v) = field.strip_prefix("addr=") {
            addr = v.trim_matches('"').parse().ok();
        }
    }
    Some((transport?, addr?))
}

/// An HTTP agent that returns every status as a response, never follows a
/// proxy (the servers are on loopback) and bounds every request.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(HTTP_TIMEOUT))
        .build()
        .into()
}

/// An HTTP response's status and body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

/// Sends `METHOD url` with `body` (if any) as JSON.
pub fn request(agent: &ureq::Agent, method: &str, url: &str, body: Option<&str>) -> Reply {
    let result = match (method, body) {
        ("GET", None) => agent.get(url).call(),
        ("DELETE", None) => agent.delete(url).call(),
        ("POST", Some(body)) => agent
            .post(url)
            .header("Content-Type", "application/json")
            .send(body),
        ("PATCH", Some(body)) => agent
            .patch(url)
            .header("Content-Type", "application/json")
            .send(body),
        ("PUT", Some(body)) => agent
            .put(url)
            .header("Content-Type", "application/json")
            .send(body),
        _ => panic!("unsupported request {method} {url} {body:?}"),
    };
    let mut response = result.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("Content-Type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let reply = response
        .body_mut()
        .read_to_string()
        .unwrap_or_else(|e| panic!("{method} {url}: reading the body: {e}"));
    let (base, rest) = split_url(url);
    EXCHANGES.lock().unwrap().push(Exchange {
        base,
        method: method.to_string(),
        url: rest,
        body: body.map(str::to_string),
        status,
        content_type,
        response: reply.clone(),
    });
    Reply {
        status,
        body: reply,
    }
}

/// One HTTP exchange `request` made, kept to be checked against the
/// server's OpenAPI document.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// `http://host:port`: which server answered.
    pub base: String,
    pub method: String,
    /// Path and query.
    pub url: String,
    pub body: Option<String>,
    pub status: u16,
    /// The response's Content-Type header.
    pub content_type: String,
    pub response: String,
}

/// Every exchange of this test process; tests run in parallel, so each takes
/// those of its own server.
static EXCHANGES: Mutex<Vec<Exchange>> = Mutex::new(Vec::new());

fn split_url(url: &str) -> (String, String) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => (
            url[..after_scheme + i].to_string(),
            url[after_scheme + i..].to_string(),
        ),
        None => (url.to_string(), "/".to_string()),
    }
}

/// Takes the exchanges made so far with the server at `base`
/// (`http://host:port`).
pub fn take_exchanges(base: &str) -> Vec<Exchange> {
    let mut all = EXCHANGES.lock().unwrap();
    let (mine, others) = all.drain(..).partition(|e| e.base == base);
    *all = others;
    mine
}

/// A JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Checks exchanges against an OpenAPI document with openapi-core
/// (tests/support/openapi_exchanges.py, run by the `python3` on PATH, which
/// scripts/test.sh makes its venv's): a request the document takes must get
/// a reply it describes (a stream's lines each checked), one it refuses or
/// has no operation for must get its error body. Requests outside the API
/// (/healthz, /readyz, /openapi.json) are counted, not checked. Returns the
/// script's report, or its failure.
pub fn check_exchanges(document: &Path, exchanges: &[Exchange]) -> Result<String, String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("exchanges.jsonl");
    let lines: String = exchanges
        .iter()
        .map(|e| {
            format!(
                "{{\"method\":{},\"url\":{},\"body\":{},\"status\":{},\"content_type\":{},\"response\":{}}}\n",
                json_string(&e.method),
                json_string(&e.url),
                e.body.as_deref().map_or("null".to_string(), json_string),
                e.status,
                json_string(&e.content_type),
                json_string(&e.response)
            )
        })
        .collect();
    std::fs::write(&log, lines).expect("write exchanges");
    check_exchange_log(document, &log)
}

/// Checks a log of exchanges, one JSON object a line in the shape
/// [`check_exchanges`] writes (the Go test harnesses' recorder,
/// tests/support/exchanges_test.go, writes the same), against `document`.
pub fn check_exchange_log(document: &Path, log: &Path) -> Result<String, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/openapi_exchanges.py");
    let out = run(
        Command::new("python3").arg(script).arg(document).arg(log),
        Duration::from_secs(600),
    );
    let report = format!("{}{}", out.stdout, out.stderr);
    if out.status.success() {
        Ok(report)
    } else {
        Err(report)
    }
}

/// The Go tests' recorder of HTTP exchanges, which a harness copies into a
/// generated project's pkg/transport: `recordExchanges(t, handler)` logs
/// each exchange to the file `KITGEN_EXCHANGES` names.
pub const GO_RECORDER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/support/exchanges_test.go"
);

/// Checks the exchanges Go tests logged at `log` (see [`GO_RECORDER`])
/// against the project's generated OpenAPI document, panicking on any
/// mismatch, and returns how many there were and the checker's report.
pub fn assert_logged_exchanges_match_openapi(project: &Path, log: &Path) -> (usize, String) {
    let text = std::fs::read_to_string(log)
        .unwrap_or_else(|e| panic!("no exchanges logged at {}: {e}", log.display()));
    let count = text.lines().count();
    assert!(count > 0, "no exchanges logged at {}", log.display());
    let document = project.join("pkg/openapi/openapi.json");
    match check_exchange_log(&document, log) {
        Ok(report) => (count, report.trim().to_string()),
        Err(report) => panic!(
            "exchanges logged at {} do not match {}:\n{report}",
            log.display(),
            document.display()
        ),
    }
}

/// Checks every exchange made with the server at `base` against the
/// project's generated OpenAPI document.
pub fn assert_exchanges_match_openapi(project: &Path, base: &str) {
    let exchanges = take_exchanges(base);
    assert!(!exchanges.is_empty(), "no exchange with {base}");
    let document = project.join("pkg/openapi/openapi.json");
    match check_exchanges(&document, &exchanges) {
        Ok(report) => eprintln!("[openapi] {}", report.trim()),
        Err(report) => panic!(
            "exchanges with {base} do not match {}:\n{report}",
            document.display()
        ),
    }
}

/// The value of the sample of `metric` whose labels include every one of
/// `labels`, from a Prometheus text exposition.
pub fn metric(exposition: &str, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let rest = line.strip_prefix(metric)?.strip_prefix('{')?;
        let (set, value) = rest.split_once("} ")?;
        let all = labels
            .iter()
            .all(|(k, v)| set.split(',').any(|l| l == format!("{k}=\"{v}\"")));
        if all { value.trim().parse().ok() } else { None }
    })
}

/// The Prometheus exposition a server's debug port serves at /metrics.
pub fn scrape_metrics(server: &Server) -> String {
    let reply = request(
        &agent(),
        "GET",
        &format!("http://{}/metrics", server.debug()),
        None,
    );
    assert_eq!(reply.status, 200, "/metrics: {reply:?}");
    reply.body
}

/// Every entry under `root` (not `root` itself), links not followed.
fn walk(root: &Path) -> impl Iterator<Item = walkdir::DirEntry> {
    walkdir::WalkDir::new(root)
        .min_depth(1)
        .into_iter()
        .map(|e| e.unwrap_or_else(|e| panic!("walk {}: {e}", root.display())))
}

/// Every regular file under `root`, by path relative to it, with contents.
pub fn read_tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in walk(root) {
        let (path, kind) = (entry.path(), entry.file_type());
        if kind.is_dir() {
            continue;
        }
        assert!(kind.is_file(), "{} is not a regular file", path.display());
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let rel = path.strip_prefix(root).expect("under root").to_path_buf();
        files.insert(rel, bytes);
    }
    files
}

/// Every file, directory and symlink under `root` (links as their target,
/// never followed), so a comparison catches any write, delete or new link.
pub fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in walk(root) {
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap().display().to_string();
        let kind = entry.file_type();
        if kind.is_symlink() {
            let to = std::fs::read_link(path).unwrap();
            out.insert(rel, format!("-> {}", to.display()).into_bytes());
        } else if kind.is_dir() {
            out.insert(format!("{rel}/"), Vec::new());
        } else {
            out.insert(rel, std::fs::read(path).unwrap());
        }
    }
    out
}

/// A project made by `kitgen new addsvc` in `<tmp>/work/addsvc`, beside
/// `<tmp>/outside`, a directory holding `secret.txt` that kitgen must never
/// touch.
pub struct Project {
    pub tmp: tempfile::TempDir,
    pub dir: PathBuf,
}

impl Project {
    /// The starter project, beside an outside `secret.txt` holding `secret`.
    pub fn with_secret(secret: &str) -> Project {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("work")).unwrap();
        std::fs::create_dir_all(tmp.path().join("outside")).unwrap();
        std::fs::write(tmp.path().join("outside/secret.txt"), secret).unwrap();
        let out = kitgen(&["new", "addsvc"], &tmp.path().join("work"));
        assert!(out.status.success(), "new: {}", stderr(&out));
        let dir = tmp.path().join("work/addsvc");
        Project { tmp, dir }
    }

    /// A copy of this project (and of what is beside it) in a fresh
    /// temporary directory.
    pub fn copy(&self) -> Project {
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&self.outside(), &tmp.path().join("outside"));
        let dir = tmp.path().join("work/addsvc");
        copy_dir(&self.dir, &dir);
        Project { tmp, dir }
    }

    pub fn outside(&self) -> PathBuf {
        self.tmp.path().join("outside")
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    pub fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.path(rel), text).unwrap();
    }

    /// Replaces `from` by `to` in a file, which must contain it.
    pub fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert!(text.contains(from), "{rel} lacks {from:?}");
        self.write(rel, &text.replacen(from, to, 1));
    }

    /// Runs kitgen in the project.
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        kitgen(args, &self.dir)
    }

    /// Runs `generate` with the test hook that kills it after write step
    /// `step`.
    pub fn generate_killed_after(&self, step: usize) -> std::process::Output {
        kitgen_killed_after(&self.dir, step)
    }

    /// Every file under the temporary root (project and outside), so a
    /// comparison also catches writes beside the project.
    pub fn everything(&self) -> BTreeMap<String, Vec<u8>> {
        tree(self.tmp.path())
    }

    pub fn project_tree(&self) -> BTreeMap<String, Vec<u8>> {
        tree(&self.dir)
    }

    /// Writes `text`, bad input, to `rel`, runs kitgen with `args`, and
    /// asserts that it exits 2 with a diagnostic that names `located`
    /// (`file:line:col: ` or `file:`) and says `says`, and that nothing
    /// changed, in the project or beside it. Returns what kitgen printed.
    #[track_caller]
    pub fn assert_bad_input(
        &self,
        rel: &str,
        text: &str,
        args: &[&str],
        located: &str,
        says: &str,
    ) -> String {
        self.write(rel, text);
        let before = self.everything();
        let out = self.run(args);
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?} with {rel}:\n{text}\n{err}"
        );
        assert!(err.contains(located), "located at {located:?}: {err}");
        assert!(err.contains(says), "says {says:?}: {err}");
        assert_same(&self.everything(), &before, &format!("{args:?} with {rel}"));
        err
    }
}

/// Runs `generate` in `dir` with the test hook that kills it after write
/// step `step`.
pub fn kitgen_killed_after(dir: &Path, step: usize) -> std::process::Output {
    kitgen_env(
        &["generate"],
        dir,
        &[("KITGEN_TEST_ABORT_AFTER", &step.to_string())],
    )
}

/// Asserts that two trees hold the same entries, naming those that differ.
#[track_caller]
pub fn assert_same(
    after: &BTreeMap<String, Vec<u8>>,
    before: &BTreeMap<String, Vec<u8>>,
    why: &str,
) {
    let changed: Vec<&String> = after
        .keys()
        .chain(before.keys())
        .filter(|k| after.get(*k) != before.get(*k))
        .collect();
    assert!(changed.is_empty(), "{why}: changed {changed:?}");
}

/// Copies the directory `from` to `to`, files and directories.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in walk(from) {
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The starter's proto, in the project.
pub const PROTO: &str = "proto/addsvc.proto";

/// An RPC the tests add to the starter's proto.
pub const MULTIPLY_RPC: &str = r#"  // Multiply returns the product of a and b.
  rpc Multiply(SumRequest) returns (SumResponse) {
    option (google.api.http) = {
      post: "/multiply"
      body: "*"
    };
  }

"#;

/// User edits made in every scenario: a line in the implementation, the
/// middleware, main.go and the README.
const USER_LINES: &[(&str, &str, &str)] = &[
    (
        "pkg/service/add.go",
        "\treturn &pb.SumResponse{Result: a + b}, nil",
        "\t// user: sums are audited elsewhere\n\treturn &pb.SumResponse{Result: a + b}, nil",
    ),
    (
        "pkg/service/middleware.go",
        "type AddMiddleware func(AddService) AddService",
        "type AddMiddleware func(AddService) AddService\n\n// user: a middleware of my own would go here",
    ),
    (
        "cmd/addsvc/main.go",
        "\tctx, stop := context.WithCancelCause",
        "\t// user: say hello before serving\n\tlogger.Info(\"hello\")\n\n\tctx, stop := context.WithCancelCause",
    ),
    (
        "README.md",
        "## Run it\n",
        "## Run it\n\nuser: ask the on-call team before deploying.\n",
    ),
];

impl Project {
    /// Makes the user's edits of [`USER_LINES`].
    pub fn user_edits(&self) {
        for (file, from, to) in USER_LINES {
            self.edit(file, from, to);
        }
    }

    /// Asserts that every line the user wrote (marked `user:`) is still there.
    #[track_caller]
    pub fn assert_user_lines(&self) {
        for (file, _, to) in USER_LINES {
            let text = self.read(file);
            for line in to.lines().filter(|l| l.contains("user:")) {
                assert!(
                    text.contains(line),
                    "{file} lost the user's line {line:?}:\n{text}"
                );
            }
        }
    }

    /// Adds [`MULTIPLY_RPC`] to the starter's proto.
    pub fn add_multiply(&self) {
        self.edit(
            PROTO,
            "  // Concat returns",
            &format!("{MULTIPLY_RPC}  // Concat returns"),
        );
    }
}

/// A small deterministic generator, so a failure reproduces from its seed.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Every file under `dir`, sorted; none when `dir` does not exist.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_dir())
        .map(walkdir::DirEntry::into_path)
        .collect();
    out.sort();
    out
}

/// The target dir every generated Rust project builds into
/// (`$KITGEN_RUST_TARGET_DIR`, else `target/rust-e2e`), so that their
/// dependencies compile once for all the Rust tests.
pub fn rust_target_dir() -> PathBuf {
    std::env::var_os("KITGEN_RUST_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/rust-e2e"))
}

/// Runs `cargo ARGS` in the generated Rust project `dir`, into
/// [`rust_target_dir`] and without the caller's RUSTFLAGS (they would
/// rebuild every shared crate); panics with its output unless it succeeds.
///
/// Every project is built once, from a new temporary dir, so incremental
/// state is never reused and full debug info only fills the disk (a CI
/// machine ran out of space with both: 8 GB of incremental dirs and 100+ MB
/// per test binary). Line tables keep backtraces readable.
pub fn cargo_rust(dir: &Path, args: &[&str]) -> Output {
    let out = run(
        Command::new("cargo")
            .args(args)
            .current_dir(dir)
            .env("CARGO_TARGET_DIR", rust_target_dir())
            .env("CARGO_INCREMENTAL", "0")
            .env("CARGO_PROFILE_DEV_DEBUG", "line-tables-only")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_BUILD_RUSTFLAGS"),
        CARGO_TIMEOUT,
    );
    assert!(
        out.status.success(),
        "cargo {} in {}: {}\n{}\n{}",
        args.join(" "),
        dir.display(),
        out.status,
        out.stdout,
        out.stderr
    );
    out
}

/// Copies the binaries `names`, just built, out of [`rust_target_dir`] into
/// `into` and returns their paths there. Projects that share a name (every
/// starter is `addsvc`) share `debug/<name>` in that dir, so another test or
/// another engineer's run may replace it while this one serves it.
pub fn keep_rust_binaries(names: &[&str], into: &Path) -> Vec<PathBuf> {
    std::fs::create_dir_all(into).unwrap();
    names
        .iter()
        .map(|name| {
            let to = into.join(name);
            std::fs::copy(rust_target_dir().join("debug").join(name), &to)
                .unwrap_or_else(|e| panic!("copy the built {name}: {e}"));
            to
        })
        .collect()
}
