//! The Go modules a generated project requires, pinned by
//! `scripts/pin-go-deps.sh`: go.mod and go.sum are rendered from that data so
//! the first `go build` needs no download of metadata and `go mod tidy`
//! changes nothing.
//!
//! Besides the base every project needs, `deps/published.txt` lists the
//! protobuf packages of published modules (googleapis' common types,
//! longrunning, IAM, …) that a project imports instead of generating, each
//! with exactly what it adds to a tidy go.mod and go.sum. All were resolved
//! together, so any combination is the union of its parts.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use super::model::Project;

const BASE_GO_MOD: &str = include_str!("deps/base.go.mod");
const BASE_GO_SUM: &str = include_str!("deps/base.go.sum");
const PUBLISHED: &str = include_str!("deps/published.txt");
const OPTIONAL: &str = include_str!("deps/optional.txt");

/// What one published package adds to the base.
#[derive(Debug, Default)]
struct Fragment {
    module: &'static str,
    version: &'static str,
    /// The go directive it raises the base's to, if it does.
    go: Option<&'static str>,
    /// Requirements the base lacks, besides the package's own module.
    requires: Vec<(&'static str, &'static str)>,
    sums: Vec<&'static str>,
}

fn published() -> &'static HashMap<&'static str, Fragment> {
    static TABLE: OnceLock<HashMap<&'static str, Fragment>> = OnceLock::new();
    TABLE.get_or_init(|| parse_fragments(PUBLISHED))
}

/// The fragments of packages only some projects import, by import path.
fn optional() -> &'static HashMap<&'static str, Fragment> {
    static TABLE: OnceLock<HashMap<&'static str, Fragment>> = OnceLock::new();
    TABLE.get_or_init(|| parse_fragments(OPTIONAL))
}

/// The optional packages the project's code imports: the client's breaker
/// (for unary methods) and the chosen discovery backends.
fn optional_packages(p: &Project) -> Vec<&'static str> {
    let mut packages = Vec::new();
    if p.has_unary() {
        packages.push("github.com/sony/gobreaker/v2");
    }
    if p.discovery.etcd {
        packages.push("github.com/go-kit/kit/sd/etcdv3");
    }
    if p.discovery.consul {
        packages.extend([
            "github.com/go-kit/kit/sd/consul",
            "github.com/hashicorp/consul/api",
        ]);
    }
    packages
}

fn parse_fragments(text: &'static str) -> HashMap<&'static str, Fragment> {
    {
        let mut table = HashMap::new();
        let mut current: Option<(&str, Fragment)> = None;
        for line in text.lines() {
            let mut words = line.splitn(2, ' ');
            let (kind, rest) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
            match kind {
                "package" => {
                    if let Some((pkg, f)) = current.take() {
                        table.insert(pkg, f);
                    }
                    let mut parts = rest.split(' ');
                    let (pkg, module, version) = (
                        parts.next().unwrap_or(""),
                        parts.next().unwrap_or(""),
                        parts.next().unwrap_or(""),
                    );
                    current = Some((
                        pkg,
                        Fragment {
                            module,
                            version,
                            ..Fragment::default()
                        },
                    ));
                }
                "require" => {
                    if let (Some((_, f)), Some((m, v))) = (current.as_mut(), rest.split_once(' ')) {
                        f.requires.push((m, v));
                    }
                }
                "sum" => {
                    if let Some((_, f)) = current.as_mut() {
                        f.sums.push(rest);
                    }
                }
                "go" => {
                    if let Some((_, f)) = current.as_mut() {
                        f.go = Some(rest.trim());
                    }
                }
                _ => {}
            }
        }
        if let Some((pkg, f)) = current {
            table.insert(pkg, f);
        }
        table
    }
}

/// Whether kitgen imports the Go package at `import_path` from a published
/// module it pins, rather than generating it.
pub fn is_published(import_path: &str) -> bool {
    published().contains_key(import_path)
}

/// The Go version the pinned modules need, from their tidy go.mod.
fn go_version() -> &'static str {
    BASE_GO_MOD
        .lines()
        .find_map(|l| l.strip_prefix("go "))
        .expect("the pinned go.mod has a go directive")
        .trim()
}

/// The base's requirements: module → (version, indirect).
fn base_requires() -> BTreeMap<&'static str, (&'static str, bool)> {
    let mut out = BTreeMap::new();
    let mut in_block = false;
    for line in BASE_GO_MOD.lines() {
        let line = line.trim();
        if line.starts_with("require (") {
            in_block = true;
            continue;
        }
        if line == ")" {
            in_block = false;
            continue;
        }
        if !in_block {
            continue;
        }
        let mut parts = line.split_whitespace();
        if let (Some(path), Some(version)) = (parts.next(), parts.next()) {
            out.insert(path, (version, line.ends_with("// indirect")));
        }
    }
    out
}

/// Fragments of the published packages and the discovery backends the
/// project's code imports.
fn fragments(p: &Project) -> Vec<&'static Fragment> {
    p.published_imports
        .iter()
        .filter_map(|path| published().get(path.as_str()))
        .chain(
            optional_packages(p)
                .into_iter()
                .map(|path| &optional()[path]),
        )
        .collect()
}

/// The go directive: the base's, or the highest a fragment raises it to.
fn go_directive(p: &Project) -> &'static str {
    fragments(p)
        .iter()
        .filter_map(|f| f.go)
        .chain([go_version()])
        .max_by(|a, b| version_key(a).cmp(&version_key(b)))
        .expect("the base has a version")
}

/// A Go version's numbers, compared numerically ("1.26.7" > "1.26.0").
fn version_key(v: &str) -> Vec<u64> {
    v.split('.').map(|n| n.parse().unwrap_or(0)).collect()
}

pub fn go_mod(p: &Project) -> String {
    let mut requires = base_requires();
    let mut direct: BTreeSet<&str> = BTreeSet::new();
    for f in fragments(p) {
        direct.insert(f.module);
        requires.entry(f.module).or_insert((f.version, true));
        for (m, v) in &f.requires {
            requires.entry(m).or_insert((v, true));
        }
    }
    let mut direct_lines = String::new();
    let mut indirect_lines = String::new();
    for (path, (version, indirect)) in requires {
        if !indirect || direct.contains(path) {
            direct_lines.push_str(&format!("\t{path} {version}\n"));
        } else {
            indirect_lines.push_str(&format!("\t{path} {version} // indirect\n"));
        }
    }
    format!(
        "module {}\n\ngo {}\n\nrequire (\n{direct_lines})\n\nrequire (\n{indirect_lines})\n",
        p.module,
        go_directive(p),
    )
}

pub fn go_sum(p: &Project) -> String {
    let mut lines: BTreeSet<&str> = BASE_GO_SUM.lines().collect();
    for f in fragments(p) {
        lines.extend(f.sums.iter().copied());
    }
    let mut out = lines.into_iter().collect::<Vec<_>>().join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_table_knows_the_common_protos() {
        for path in [
            "google.golang.org/genproto/googleapis/type/date",
            "google.golang.org/genproto/googleapis/rpc/status",
            "google.golang.org/genproto/googleapis/api/annotations",
            "cloud.google.com/go/longrunning/autogen/longrunningpb",
            "cloud.google.com/go/iam/apiv1/iampb",
            "google.golang.org/genproto/googleapis/cloud/location",
        ] {
            assert!(is_published(path), "{path}");
        }
        assert!(!is_published(
            "google.golang.org/genproto/googleapis/grafeas/v1"
        ));
        for (backend, module) in [
            ("github.com/go-kit/kit/sd/etcdv3", "github.com/go-kit/kit"),
            (
                "github.com/hashicorp/consul/api",
                "github.com/hashicorp/consul/api",
            ),
        ] {
            assert_eq!(optional()[backend].module, module);
        }
        assert!(version_key("1.26.7") > version_key("1.26.0"));
        assert!(version_key("1.26.0") > version_key("1.9.0"));
        let date = &published()["google.golang.org/genproto/googleapis/type/date"];
        assert_eq!(date.module, "google.golang.org/genproto");
        assert!(
            date.sums
                .iter()
                .any(|s| s.starts_with("google.golang.org/genproto "))
        );
    }
}
