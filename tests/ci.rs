//! The generated project's CI workflow, `.github/workflows/ci.yml`: linted by
//! actionlint (with shellcheck on its scripts), and its shell steps run here
//! as GitHub runs them (`bash -eo pipefail`), except what needs more than the
//! Go module proxy: kitgen is "installed" by a `cargo` stand-in that records
//! the arguments and puts this build of kitgen on PATH, and the container
//! build (an action, not a shell step) is left to tests/deploy.rs, which runs
//! the Dockerfile's build command. actionlint and shellcheck come from
//! scripts/test.sh.

mod support;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::{GO_TIMEOUT, KITGEN, generate, run, step};
use yaml_rust2::{Yaml, YamlLoader};

const WORKFLOW: &str = ".github/workflows/ci.yml";

#[test]
fn the_workflow_passes_actionlint_with_shellcheck() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let project = generate(tmp.path(), "addsvc", &[]);
    let shellcheck = run(
        Command::new("shellcheck").arg("--version"),
        Duration::from_secs(30),
    );
    assert!(shellcheck.status.success(), "shellcheck is on PATH");
    let out = run(
        Command::new("actionlint")
            .args(["-verbose", WORKFLOW])
            .current_dir(&project),
        Duration::from_secs(120),
    );
    eprintln!("{}{}", out.stdout, out.stderr);
    assert!(
        out.status.success(),
        "actionlint: {}{}",
        out.stdout,
        out.stderr
    );
    // With shellcheck, not without it: the scripts were checked too.
    assert!(
        !out.stderr.contains("Rule \"shellcheck\" was disabled"),
        "{}",
        out.stderr
    );
}

/// One `run:` step: (job, step name, script, the job's env).
type RunStep = (String, String, String, Vec<(String, String)>);

/// Every `run:` step of every job.
fn run_steps(workflow: &Yaml) -> Vec<RunStep> {
    let mut steps = Vec::new();
    for (job_name, job) in workflow["jobs"].as_hash().expect("jobs") {
        let job_name = job_name.as_str().expect("job name").to_string();
        let env: Vec<(String, String)> = job["env"]
            .as_hash()
            .map(|h| {
                h.iter()
                    .map(|(k, v)| (k.as_str().unwrap().into(), v.as_str().unwrap().into()))
                    .collect()
            })
            .unwrap_or_default();
        for s in job["steps"].as_vec().expect("steps") {
            if let Some(script) = s["run"].as_str() {
                let name = s["name"].as_str().unwrap_or(script).to_string();
                steps.push((job_name.clone(), name, script.to_string(), env.clone()));
            }
        }
    }
    steps
}

#[test]
fn the_workflow_shell_steps_pass_on_a_fresh_project() {
    const T: &str = "ci";
    let tmp = tempfile::tempdir().expect("temp dir");
    let project = generate(tmp.path(), "addsvc", &[]);
    let text = fs::read_to_string(project.join(WORKFLOW)).expect("read the workflow");
    let workflow = YamlLoader::load_from_str(&text).expect("YAML").remove(0);

    // `cargo install` stands in for the real one: it records its
    // arguments and installs the kitgen under test.
    let bin = tmp.path().join("bin");
    fs::create_dir_all(&bin).expect("mkdir bin");
    fs::write(
        bin.join("cargo"),
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" > '{dir}/cargo-args'\ncp '{KITGEN}' '{dir}/kitgen'\n",
            dir = bin.display()
        ),
    )
    .expect("write the cargo stand-in");
    set_executable(&bin.join("cargo"));
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let steps = run_steps(&workflow);
    let names: Vec<&str> = steps.iter().map(|(_, n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "go vet",
            "go test",
            "staticcheck",
            "Install kitgen at the version kitgen.lock records",
            "kitgen check"
        ]
    );
    for (job, name, script, env) in &steps {
        step(T, format_args!("{job}: {name}"));
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
            .current_dir(&project)
            .env("PATH", &path);
        for (key, value) in env {
            // ${{ vars.KITGEN_GIT }}: a repository variable, set here.
            let value = if key == "KITGEN_GIT" {
                assert_eq!(value, "${{ vars.KITGEN_GIT }}");
                "https://git.example.com/kitgen.git"
            } else {
                value
            };
            cmd.env(key, value);
        }
        let out = run(&mut cmd, GO_TIMEOUT);
        assert!(
            out.status.success(),
            "{job}: {name} failed:\n{}{}",
            out.stdout,
            out.stderr
        );
        eprint!("{}", out.stdout);
    }
    let args = fs::read_to_string(bin.join("cargo-args")).expect("cargo was run");
    let lock = fs::read_to_string(project.join("kitgen.lock")).expect("read the lock");
    let version = env!("CARGO_PKG_VERSION");
    assert!(lock.contains(&format!("kitgen = \"{version}\"")), "{lock}");
    assert_eq!(
        args.trim(),
        format!(
            "install kitgen --git https://git.example.com/kitgen.git --tag v{version} --locked"
        )
    );

    // Without the repository variable the install step says what to set.
    let (_, _, install, _) = steps
        .iter()
        .find(|(_, n, _, _)| n.starts_with("Install kitgen"))
        .expect("the install step");
    let out = run(
        Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", install])
            .current_dir(&project)
            .env("PATH", &path)
            .env("KITGEN_GIT", ""),
        Duration::from_secs(30),
    );
    assert!(!out.status.success());
    assert!(
        out.stdout
            .contains("::error::set the repository variable KITGEN_GIT")
    );

    // kitgen check fails on a stale project: the step can fail.
    fs::write(project.join("pkg/openapi/openapi.json"), "{}\n").expect("edit a generated file");
    let out = run(
        Command::new(bin.join("kitgen"))
            .arg("check")
            .current_dir(&project),
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(1), "{}{}", out.stdout, out.stderr);
}

fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut perms = fs::metadata(path).expect("stat").permissions();
    perms.set_mode(0o755);
    fs::set_permissions(path, perms).expect("chmod");
}

/// The workflow's staticcheck step, as written, on projects of other shapes
/// than the starter: a real-world API with well-known types and field
/// behaviors, streaming methods, and well-known types in path and query.
#[test]
fn staticcheck_as_ci_runs_it_is_clean_on_other_shapes() {
    const T: &str = "ci-staticcheck";
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let googleapis = support::corpus().join("googleapis");
    let library = googleapis.join("google/example/library/v1/library.proto");
    let streaming = fixtures.join("streaming/streaming.proto");
    let wellknown = fixtures.join("wellknown/wellknown.proto");
    let utf8 = |p: &Path| p.to_str().expect("UTF-8 path").to_string();
    let projects = [
        (
            "library",
            vec![
                "--proto".to_string(),
                utf8(&library),
                "-I".into(),
                utf8(&googleapis),
            ],
        ),
        ("chat", vec!["--proto".to_string(), utf8(&streaming)]),
        ("events", vec!["--proto".to_string(), utf8(&wellknown)]),
    ];
    let tmp = tempfile::tempdir().expect("temp dir");
    for (name, args) in projects {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let project = generate(tmp.path(), name, &args);
        let text = fs::read_to_string(project.join(WORKFLOW)).expect("read the workflow");
        let workflow = YamlLoader::load_from_str(&text).expect("YAML").remove(0);
        let (_, _, script, _) = run_steps(&workflow)
            .into_iter()
            .find(|(_, n, _, _)| n == "staticcheck")
            .expect("a staticcheck step");
        step(T, format_args!("{name}: {script}"));
        let out = run(
            Command::new("bash")
                .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script])
                .current_dir(&project),
            GO_TIMEOUT,
        );
        assert!(
            out.status.success(),
            "{name}: staticcheck:\n{}{}",
            out.stdout,
            out.stderr
        );
    }
}
