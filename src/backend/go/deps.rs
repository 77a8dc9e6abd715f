//! The Go modules a generated project requires, pinned by
//! `scripts/pin-go-deps.sh`: go.mod and go.sum are rendered from that data so
//! the first `go build` needs no download of metadata and `go mod tidy`
//! changes nothing.

use super::model::Project;

const BASE_GO_MOD: &str = include_str!("deps/base.go.mod");
const BASE_GO_SUM: &str = include_str!("deps/base.go.sum");
const GOOGLEAPIS_API_GO_SUM: &str = include_str!("deps/googleapis-api.go.sum");

/// The Go version the pinned modules need, from their tidy go.mod.
fn go_version() -> &'static str {
    BASE_GO_MOD
        .lines()
        .find_map(|l| l.strip_prefix("go "))
        .expect("the pinned go.mod has a go directive")
        .trim()
}

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
        // Imported by the protobuf code: a direct requirement, whether the
        // pinned graph already has it indirectly or not.
        const API: &str = "google.golang.org/genproto/googleapis/api";
        match indirect.iter().position(|(path, _)| path == API) {
            Some(i) => direct.push(indirect.remove(i)),
            None => {
                let version = GOOGLEAPIS_API_GO_SUM
                    .split_whitespace()
                    .nth(1)
                    .expect("pinned go.sum line")
                    .to_string();
                direct.push((API.to_string(), version));
            }
        }
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
        "module {}\n\ngo {}\n\nrequire (\n{})\n\nrequire (\n{})\n",
        p.module,
        go_version(),
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
