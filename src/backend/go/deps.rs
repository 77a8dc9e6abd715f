//! The Go modules a generated project requires, pinned by
//! `scripts/pin-go-deps.sh`: go.mod and go.sum are rendered from that data so
//! the first `go build` needs no download of metadata and `go mod tidy`
//! changes nothing.

use super::model::Project;

const BASE_GO_MOD: &str = include_str!("deps/base.go.mod");
const BASE_GO_SUM: &str = include_str!("deps/base.go.sum");
const GOOGLEAPIS_API_GO_SUM: &str = include_str!("deps/googleapis-api.go.sum");

/// Go version the generated go.mod declares: today's libraries need it.
pub const GO_VERSION: &str = "1.26.0";

fn requires(go_mod: &str) -> Vec<(String, String, bool)> {
    go_mod
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.starts_with("module")
                && !l.starts_with("go ")
                && !l.starts_with("require")
                && *l != ")"
                && !l.is_empty()
        })
        .filter_map(|l| {
            let indirect = l.ends_with("// indirect");
            let mut parts = l.split_whitespace();
            Some((
                parts.next()?.to_string(),
                parts.next()?.to_string(),
                indirect,
            ))
        })
        .collect()
}

pub fn go_mod(p: &Project) -> String {
    let mut direct = Vec::new();
    let mut indirect = Vec::new();
    for (path, version, is_indirect) in requires(BASE_GO_MOD) {
        if is_indirect {
            indirect.push((path, version));
        } else {
            direct.push((path, version));
        }
    }
    if p.uses_googleapis_api {
        let version = GOOGLEAPIS_API_GO_SUM
            .split_whitespace()
            .nth(1)
            .expect("pinned go.sum line")
            .to_string();
        direct.push((
            "google.golang.org/genproto/googleapis/api".to_string(),
            version,
        ));
    }
    direct.sort();
    indirect.sort();
    let block = |items: &[(String, String)], suffix: &str| {
        items
            .iter()
            .map(|(p, v)| format!("\t{p} {v}{suffix}\n"))
            .collect::<String>()
    };
    format!(
        "module {}\n\ngo {GO_VERSION}\n\nrequire (\n{})\n\nrequire (\n{})\n",
        p.module,
        block(&direct, ""),
        block(&indirect, " // indirect"),
    )
}

pub fn go_sum(p: &Project) -> String {
    let mut lines: Vec<&str> = BASE_GO_SUM.lines().collect();
    if p.uses_googleapis_api {
        lines.extend(GOOGLEAPIS_API_GO_SUM.lines());
    }
    lines.sort();
    lines.dedup();
    let mut out = lines.join("\n");
    out.push('\n');
    out
}
