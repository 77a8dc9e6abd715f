//! User-facing diagnostics: every input error names `file:line:col` and says what to do.

use std::fmt;

/// A problem with the user's input, located in a source file when possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// `file:line:col` (1-based), or just the file, or nothing.
    pub location: Option<Box<Location>>,
    pub message: String,
    pub help: Option<String>,
    /// The offending source line, shown under the message.
    pub snippet: Option<Box<Snippet>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    /// 1-based line and column, when known.
    pub line_col: Option<(usize, usize)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    pub line_text: String,
    /// 1-based column and the width of the underline.
    pub column: usize,
    pub width: usize,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>) -> Self {
        Diagnostic {
            location: None,
            message: message.into(),
            help: None,
            snippet: None,
        }
    }

    pub fn at_file(mut self, file: impl Into<String>) -> Self {
        self.location = Some(Box::new(Location {
            file: file.into(),
            line_col: None,
        }));
        self
    }

    /// Locates the diagnostic at a byte offset of `source`, with an underline of `len` bytes.
    pub fn at_offset(
        mut self,
        file: impl Into<String>,
        source: &str,
        offset: usize,
        len: usize,
    ) -> Self {
        let offset = offset.min(source.len());
        let line_start = source[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[offset..]
            .find('\n')
            .map_or(source.len(), |i| offset + i);
        let line = source[..offset].matches('\n').count() + 1;
        let column = source[line_start..offset].chars().count() + 1;
        let line_text = source[line_start..line_end]
            .trim_end_matches('\r')
            .to_string();
        let width = source[offset..line_end.max(offset)]
            .get(..len.min(line_end - offset))
            .map_or(1, |s| s.chars().count().max(1));
        self.location = Some(Box::new(Location {
            file: file.into(),
            line_col: Some((line, column)),
        }));
        self.snippet = Some(Box::new(Snippet {
            line_text,
            column,
            width,
        }));
        self
    }

    /// Locates the diagnostic at a 1-based line and column without source text.
    pub fn at_line_col(mut self, file: impl Into<String>, line: usize, column: usize) -> Self {
        self.location = Some(Box::new(Location {
            file: file.into(),
            line_col: Some((line, column)),
        }));
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: ")?;
        if let Some(loc) = &self.location {
            write!(f, "{}", loc.file)?;
            if let Some((line, col)) = loc.line_col {
                write!(f, ":{line}:{col}")?;
            }
            write!(f, ": ")?;
        }
        write!(f, "{}", self.message)?;
        if let (Some(snippet), Some(loc)) = (&self.snippet, &self.location) {
            let line_no = loc.line_col.map_or(0, |(l, _)| l).to_string();
            let pad = " ".repeat(line_no.len());
            write!(
                f,
                "\n{pad} |\n{line_no} | {}\n{pad} | {}{}",
                snippet.line_text,
                " ".repeat(snippet.column.saturating_sub(1)),
                "^".repeat(snippet.width)
            )?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// Converts any miette diagnostic (protox's errors are) into ours, resolving its
/// first label to `file:line:col`.
pub fn from_miette(diag: &dyn miette::Diagnostic, fallback_file: Option<&str>) -> Diagnostic {
    let mut out = Diagnostic::new(diag.to_string());
    if let Some(help) = diag.help() {
        out.help = Some(help.to_string());
    }
    let label = diag.labels().and_then(|mut labels| labels.next());
    let (Some(label), Some(source)) = (label, diag.source_code()) else {
        return match fallback_file {
            Some(file) => out.at_file(file),
            None => out,
        };
    };
    // The name comes with any span; read an empty one at the start so that a
    // label at the very end of the file (an unexpected EOF) still resolves.
    let name = source
        .read_span(&(0, 0).into(), 0, 0)
        .ok()
        .and_then(|c| c.name().map(str::to_string))
        .or_else(|| fallback_file.map(str::to_string))
        .unwrap_or_default();
    let whole = source
        .read_span(&(0, 0).into(), usize::MAX / 4, usize::MAX / 4)
        .ok()
        .and_then(|c| std::str::from_utf8(c.data()).ok().map(str::to_string));
    match whole {
        Some(text) => out.at_offset(name, &text, label.offset(), label.len()),
        None => out.at_file(name),
    }
}
