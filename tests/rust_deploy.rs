//! The Rust target's Dockerfile and kustomize tree: hadolint-clean, and
//! every overlay valid under strict Kubernetes validation without warnings;
//! the ConfigMap sets exactly the variables the binary reads (checked
//! against the generated main.rs's clap `env` names).
//!
//! Needs the tools scripts/test.sh installs (hadolint, kubernetes-validate,
//! kubectl or kustomize).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod support;

const KUBERNETES_VERSIONS: &[&str] = &["1.27.0", "1.37.0"];

fn kitgen_new(parent: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let mut args = vec!["new", name, "--lang", "rust"];
    args.extend(extra);
    let out = support::kitgen(&args, parent);
    assert!(
        out.status.success(),
        "kitgen new: {}",
        support::stderr(&out)
    );
    parent.join(name)
}

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

#[test]
fn the_rust_dockerfile_passes_hadolint() {
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

#[test]
fn every_rust_overlay_passes_strict_validation_without_warnings() {
    let tmp = tempfile::tempdir().unwrap();
    let project = kitgen_new(tmp.path(), "order_service", &[]);
    for overlay in ["dev", "prod"] {
        let out = tool(
            "kubectl",
            &["kustomize", &format!("deploy/overlays/{overlay}")],
            &project,
        );
        assert!(out.status.success(), "kustomize: {}", text(&out.stderr));
        let yaml = text(&out.stdout);
        let objects = yaml.matches("\nkind: ").count() + usize::from(yaml.starts_with("kind: "));
        assert!(objects >= 6, "{overlay}: {objects} objects\n{yaml}");
        let file = tmp.path().join(format!("{overlay}.yaml"));
        fs::write(&file, &yaml).unwrap();
        for version in KUBERNETES_VERSIONS {
            let out = tool(
                "kubernetes-validate",
                &["--strict", "-k", version, file.to_str().unwrap()],
                tmp.path(),
            );
            let report = format!("{}{}", text(&out.stdout), text(&out.stderr));
            assert!(out.status.success(), "{overlay} on {version}:\n{report}");
            assert!(
                !report.contains("WARN") && !report.contains("ERROR"),
                "{overlay} on {version}:\n{report}"
            );
            assert_eq!(
                report.matches("passed for resource").count(),
                objects,
                "{report}"
            );
        }
    }
}

#[test]
fn the_configmap_sets_only_variables_the_binary_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let project = kitgen_new(tmp.path(), "order_service", &[]);
    let main = fs::read_to_string(project.join("src/main.rs")).unwrap();
    let read: Vec<&str> = main
        .split("env = \"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    assert!(read.contains(&"ORDER_SERVICE_HTTP_ADDR"), "{read:?}");
    let configmap = fs::read_to_string(project.join("deploy/base/configmap.yaml")).unwrap();
    let mut set = 0;
    for line in configmap.lines() {
        let line = line.trim_start().trim_start_matches("# ");
        if let Some((key, _)) = line.split_once(": ")
            && key.starts_with("ORDER_SERVICE_")
        {
            assert!(
                read.contains(&key),
                "{key} is not a variable the binary reads"
            );
            set += 1;
        }
    }
    assert!(set >= 7, "{configmap}");
}
