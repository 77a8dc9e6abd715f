//! Where the user puts a proto file's Go code: kitgen.toml's
//! `[go.go_package]` table (or `kitgen new --go-package FILE=PATH[;NAME]`),
//! as protoc's `M` option and buf's managed mode do. An import path inside
//! the project's module moves a generated package there; any other import
//! path imports the file's Go code from that package instead of generating it.

use std::ops::Range;
use std::sync::Arc;

use crate::diagnostic::Diagnostic;

use super::naming;

/// One `"file.proto" = "import/path;name"` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoPackageOverride {
    /// The proto file, named as imports spell it (relative to its root).
    pub proto: String,
    /// `import/path` or `import/path;name`, as written.
    pub value: String,
    /// Where it was written, to locate a refusal; `None` for a command-line
    /// flag.
    pub source: Option<OverrideSource>,
}

/// The text of the file an override was read from, and its spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideSource {
    /// The file as the user knows it (`kitgen.toml`, or its path).
    pub file: String,
    pub text: Arc<str>,
    pub key: Range<usize>,
    pub value: Range<usize>,
}

/// A validated override: the package and whether it is inside the module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub import_path: String,
    /// The package clause: the name after `;`, else the last element as
    /// protoc-gen-go derives it.
    pub name: String,
    /// The directory under the project, for an import path in the module.
    pub local_dir: Option<String>,
}

impl GoPackageOverride {
    /// Locates `d` at the file name (the key) as written.
    pub fn at_key(&self, d: Diagnostic) -> Diagnostic {
        self.locate(d, false)
    }

    /// Locates `d` at the import path (the value) as written.
    pub fn at_value(&self, d: Diagnostic) -> Diagnostic {
        self.locate(d, true)
    }

    fn locate(&self, mut d: Diagnostic, value: bool) -> Diagnostic {
        match &self.source {
            Some(s) => {
                let span = if value { &s.value } else { &s.key };
                d.at_offset(&s.file, &s.text, span.start, span.len())
            }
            None => {
                d.message = format!(
                    "--go-package {:?}: {}",
                    format!("{}={}", self.proto, self.value),
                    d.message
                );
                d
            }
        }
    }

    /// Checks the value and places it relative to `module`.
    pub fn target(&self, module: &str) -> Result<Target, Diagnostic> {
        let help = "write \"import/path\" or \"import/path;name\", e.g. \"example.com/acme/money;moneypb\"";
        let (path, name) = match self.value.split_once(';') {
            Some((path, name)) => (path, name.to_string()),
            None => {
                let last = self.value.rsplit('/').next().unwrap_or(&self.value);
                let mut name = last.replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_");
                if name.starts_with(|c: char| c.is_ascii_digit()) {
                    name.insert(0, '_');
                }
                (self.value.as_str(), name)
            }
        };
        if let Err(why) = naming::check_import_path(path) {
            return Err(self
                .at_value(Diagnostic::new(format!(
                    "go_package {:?} is not a Go import path: {why}",
                    self.value
                )))
                .with_help(help));
        }
        if !path.contains(['.', '/']) {
            return Err(self
                .at_value(Diagnostic::new(format!(
                    "go_package {:?}: protoc-gen-go takes only import paths with a '.' or a '/' (a lone word is taken for a package name)",
                    self.value
                )))
                .with_help(help));
        }
        let local_dir = if path == module {
            Some(String::new())
        } else {
            path.strip_prefix(module)
                .and_then(|rest| rest.strip_prefix('/'))
                .map(str::to_string)
        };
        // A generated package's clause is this name; an imported one's is
        // its own, and kitgen's code refers to it by a name it chooses.
        let clause_ok = |n: &str| n != "_" && n != "main" && !naming::GO_KEYWORDS.contains(&n);
        if !naming::is_identifier(&name) || (local_dir.is_some() && !clause_ok(&name)) {
            return Err(self
                .at_value(Diagnostic::new(format!(
                    "go_package {:?} names the package {name:?}, which cannot be a Go package name",
                    self.value
                )))
                .with_help("give an identifier that is not a Go keyword, `_` or `main` after ';', e.g. \"example.com/pkg;pkgpb\""));
        }
        if let Some(dir) = &local_dir {
            let special = dir
                .split('/')
                .find(|e| *e == "vendor" || *e == "testdata" || e.starts_with('_'));
            if let Some(e) = special {
                return Err(self.at_value(Diagnostic::new(format!(
                    "go_package {:?} puts generated code in a directory named '{e}', which the go command ignores or treats specially",
                    self.value
                ))).with_help("choose another directory inside the module"));
            }
            if dir == "pb" || dir.starts_with("pb/") {
                return Err(self
                    .at_value(Diagnostic::new(format!(
                        "go_package {:?} is inside pb/, where kitgen places the protobuf packages it names itself",
                        self.value
                    )))
                    .with_help("choose a directory outside pb/, such as internal/<name>pb or api/<name>"));
            }
        }
        Ok(Target {
            import_path: path.to_string(),
            name,
            local_dir,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(value: &str) -> GoPackageOverride {
        GoPackageOverride {
            proto: "a/b.proto".into(),
            value: value.into(),
            source: None,
        }
    }

    #[test]
    fn values_are_import_paths_and_package_names() {
        let t = o("example.com/m/internal/moneypb;money").target("example.com/m");
        assert_eq!(
            t.unwrap(),
            Target {
                import_path: "example.com/m/internal/moneypb".into(),
                name: "money".into(),
                local_dir: Some("internal/moneypb".into()),
            }
        );
        let t = o("google.golang.org/genproto/googleapis/type/money")
            .target("example.com/m")
            .unwrap();
        assert_eq!(t.name, "money");
        assert_eq!(t.local_dir, None);
        // An imported package's name is only what kitgen's code calls it.
        assert!(o("example.com/a;type").target("example.com/m").is_ok());
        // A module that is a prefix of another is not its parent.
        let t = o("example.com/mx/a").target("example.com/m").unwrap();
        assert_eq!(t.local_dir, None);
        for (bad, why) in [
            ("../outside;x", "not a Go import path"),
            ("/abs/path", "not a Go import path"),
            ("example.com/a b", "not a Go import path"),
            ("example.com/a,Mx=y", "not a Go import path"),
            ("example.com/m/a;type", "cannot be a Go package name"),
            ("example.com/m/a;_", "cannot be a Go package name"),
            ("example.com/m/a;main", "cannot be a Go package name"),
            ("example.com/a;b;c", "cannot be a Go package name"),
            ("example.com/a;", "cannot be a Go package name"),
            ("example.com/m/type", "cannot be a Go package name"),
            ("example.com/m/vendor/x", "treats specially"),
            ("example.com/m/x/testdata", "treats specially"),
            ("example.com/m/_x", "treats specially"),
            ("example.com/m/pb", "inside pb/"),
            ("example.com/m/pb/money", "inside pb/"),
            ("money;money", "with a '.' or a '/'"),
        ] {
            let err = o(bad).target("example.com/m").unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
            assert!(err.contains("--go-package \"a/b.proto="), "{bad}: {err}");
        }
    }
}
