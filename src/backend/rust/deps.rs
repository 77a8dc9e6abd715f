//! Cargo.lock: every crate pinned by kitgen (as go.sum is for Go), from the
//! locks `scripts/pin-rust-deps.sh` resolved for a placeholder package.

/// The pinned lock, resolved for the package `kitgen-pin`.
const PINNED: &str = include_str!("deps/Cargo.lock");
/// The same resolution with the crates `discovery = ["etcd"]` adds (tower's
/// balance, hickory-resolver, ...): a lock must list exactly what the project
/// uses, or `cargo build --locked` refuses it.
const PINNED_ETCD: &str = include_str!("deps/Cargo-etcd.lock");
const PLACEHOLDER: &str = "kitgen-pin";

/// The project's Cargo.lock: the pinned one with the project's own package
/// in its place (Cargo orders packages by name).
pub fn cargo_lock(name: &str, etcd: bool) -> String {
    let pinned = if etcd { PINNED_ETCD } else { PINNED };
    let mut parts = pinned.split("\n[[package]]\n");
    let header = parts.next().unwrap_or_default();
    let mut packages: Vec<String> = Vec::new();
    let mut own = None;
    for package in parts {
        let package = package.trim_end_matches('\n').to_string();
        if package.starts_with(&format!("name = \"{PLACEHOLDER}\"\n")) {
            own = Some(package.replacen(
                &format!("name = \"{PLACEHOLDER}\""),
                &format!("name = \"{name}\""),
                1,
            ));
        } else {
            packages.push(package);
        }
    }
    if let Some(own) = own {
        let at = packages
            .iter()
            .position(|p| package_name(p) > name)
            .unwrap_or(packages.len());
        packages.insert(at, own);
    }
    let mut out = header.trim_end_matches('\n').to_string();
    out.push('\n');
    for package in packages {
        out.push_str("\n[[package]]\n");
        out.push_str(&package);
        out.push('\n');
    }
    out
}

fn package_name(stanza: &str) -> &str {
    stanza
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("name = \""))
        .and_then(|l| l.strip_suffix('"'))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_takes_the_placeholders_place_in_name_order() {
        let lock = cargo_lock("addsvc", false);
        assert!(!lock.contains(PLACEHOLDER));
        let names: Vec<&str> = lock
            .split("\n[[package]]\n")
            .skip(1)
            .map(package_name)
            .collect();
        assert!(names.contains(&"addsvc") && names.contains(&"tonic"));
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        // The placeholder's own lock round-trips byte for byte.
        assert_eq!(cargo_lock(PLACEHOLDER, false), PINNED);
        assert_eq!(cargo_lock(PLACEHOLDER, true), PINNED_ETCD);
    }

    #[test]
    fn the_etcd_lock_adds_crates_and_changes_no_version() {
        let versions = |lock: &str| -> std::collections::BTreeMap<String, String> {
            lock.split("\n[[package]]\n")
                .skip(1)
                .map(|p| {
                    let version = p.lines().nth(1).unwrap_or_default().to_string();
                    (format!("{} {version}", package_name(p)), version)
                })
                .collect()
        };
        let (base, etcd) = (versions(PINNED), versions(PINNED_ETCD));
        assert!(etcd.len() > base.len());
        for package in base.keys() {
            assert!(
                etcd.contains_key(package),
                "{package} is not in the etcd lock"
            );
        }
        assert!(etcd.keys().any(|p| p.starts_with("hickory-resolver ")));
        assert!(!base.keys().any(|p| p.starts_with("hickory-resolver ")));
    }
}
