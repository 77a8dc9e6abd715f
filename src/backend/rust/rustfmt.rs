//! Code in the user's files written as rustfmt (style edition 2024, the
//! project's edition) would write it, so that `cargo fmt --check` passes on
//! a new project and `cargo fmt` never turns kitgen's lines into a hand edit
//! that the next three-way merge must carry.

use std::cmp::Ordering;

/// `use module::{names};` sorted, deduplicated and wrapped as rustfmt does:
/// on one line up to 98 columns; else in a block, on one line up to 100
/// columns with its trailing comma, else packed at most 99 columns a line.
/// (Measured against rustfmt: see the tests.)
pub fn use_line<S: AsRef<str>>(module: &str, names: &[S]) -> String {
    let mut names: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
    names.sort_by(|a, b| version_order(a, b));
    names.dedup();
    if let [one] = names.as_slice() {
        return format!("use {module}::{one};\n");
    }
    let one = format!("use {module}::{{{}}};", names.join(", "));
    if one.len() <= 98 {
        return one + "\n";
    }
    let mut out = format!("use {module}::{{\n");
    let block = format!("    {},", names.join(", "));
    if block.len() <= 100 {
        out.push_str(&block);
        out.push_str("\n};\n");
        return out;
    }
    let mut line = String::from("   ");
    for name in names {
        if line.len() > 3 && line.len() + 1 + name.len() + 1 > 99 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("   ");
        }
        line.push(' ');
        line.push_str(name);
        line.push(',');
    }
    out.push_str(&line);
    out.push_str("\n};\n");
    out
}

/// A struct field `field: value,` (`value` a `path::default()` call) at 8
/// columns, as rustfmt writes it: on one line up to 100 columns; else beside
/// the field with the call's parentheses broken, when `field: path(` fits in
/// 100; else the value on a line of its own at 12 columns, up to 101 with
/// its comma; else there with its parentheses broken. (Measured against
/// rustfmt: see the tests.)
pub fn default_field(field: &str, value: &str) -> String {
    let line = format!("        {field}: {value},");
    if line.len() <= 100 {
        return line;
    }
    let open = value.strip_suffix(')');
    // rustfmt keeps a call beside its field if its opening line fits.
    if let Some(open) = open
        && line.len() - 2 <= 100
    {
        return format!("        {field}: {open}\n        ),");
    }
    let own = format!("            {value},");
    match open {
        Some(open) if own.len() > 101 => {
            format!("        {field}:\n            {open}\n            ),")
        }
        _ => format!("        {field}:\n{own}"),
    }
}

/// rustfmt's order of the names in a `use` list (style edition 2024's
/// version sorting): `self` first; then character by character, runs of
/// digits by their value (`V2` before `V10`), `_` before any other
/// character.
fn version_order(a: &str, b: &str) -> Ordering {
    match (a == "self", b == "self") {
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        _ => {}
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            let run = |s: &[u8], from: usize| {
                from + s[from..].iter().take_while(|c| c.is_ascii_digit()).count()
            };
            let (ie, je) = (run(a, i), run(b, j));
            let value = |s: &[u8]| {
                let digits = s.iter().skip_while(|&&c| c == b'0').count();
                (digits, s[s.len() - digits..].to_vec())
            };
            let order = value(&a[i..ie]).cmp(&value(&b[j..je]));
            if order != Ordering::Equal {
                return order;
            }
            (i, j) = (ie, je);
            continue;
        }
        let key = |c: u8| (c != b'_', c);
        let order = key(a[i]).cmp(&key(b[j]));
        if order != Ordering::Equal {
            return order;
        }
        i += 1;
        j += 1;
    }
    (a.len() - i).cmp(&(b.len() - j))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::{Command, Stdio};

    /// `default_field` at every length around its limits, for short and
    /// long field names, against rustfmt.
    #[test]
    fn default_fields_are_what_rustfmt_writes() {
        let mut ours = String::new();
        for field in [5, 12, 20, 35, 50, 62] {
            for n in 20..100 {
                let path = format!("p1::{}::{}", "m".repeat(n / 2), "T".repeat(n - n / 2));
                ours.push_str(&format!(
                    "fn f{field}_{n}() {{\n    let s = S {{\n{}\n    }};\n}}\n",
                    default_field(&"f".repeat(field), &format!("{path}::default()"))
                ));
            }
        }
        let theirs = rustfmt(&ours);
        for (a, b) in ours.split("fn f").zip(theirs.split("fn f")) {
            assert_eq!(a, b, "kitgen's, then rustfmt's");
        }
        assert_eq!(ours, theirs);
    }

    /// What rustfmt (style edition 2024) makes of `source`.
    fn rustfmt(source: &str) -> String {
        let mut rustfmt = Command::new("rustfmt")
            .args(["--edition", "2024", "--emit", "stdout", "--quiet"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("rustfmt (rustup component add rustfmt)");
        let mut stdin = rustfmt.stdin.take().unwrap();
        stdin.write_all(source.as_bytes()).unwrap();
        drop(stdin);
        let out = rustfmt.wait_with_output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn names_are_version_sorted() {
        let mut names = vec!["V10", "V2", "self", "N_x", "N1", "Nab", "NAb", "Foo"];
        names.sort_by(|a, b| version_order(a, b));
        assert_eq!(
            names,
            ["self", "Foo", "N_x", "N1", "NAb", "Nab", "V2", "V10"]
        );
    }

    /// Random `use` lists of every width around the limits, written by
    /// `use_line` and by rustfmt itself (the one `cargo fmt` runs), must be
    /// the same text. rustfmt comes with the Rust toolchain the tests run on.
    #[test]
    fn use_lines_are_what_rustfmt_writes() {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let modules = [
            "crate::pb::a",
            "crate::service",
            "crate::pb::google::appengine::v1",
            "crate::pb::google::cloud::aiplatform::v1beta1",
        ];
        let mut ours = String::new();
        for case in 0..400 {
            let module = modules[next(modules.len() as u64) as usize];
            let names: Vec<String> = (0..2 + next(12))
                .map(|i| {
                    let piece = ["x", "X", "Ab", "_y", ""][next(5) as usize];
                    format!("N{}{i}", piece.repeat(1 + next(20) as usize))
                })
                .collect();
            ours.push_str(&format!("// case {case}\n"));
            ours.push_str(&use_line(module, &names));
        }
        let theirs = rustfmt(&ours);
        for (a, b) in ours.split("// case ").zip(theirs.split("// case ")) {
            assert_eq!(a, b, "kitgen's use line, then rustfmt's");
        }
        assert_eq!(ours, theirs);
    }
}
