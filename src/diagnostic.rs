//! User-facing diagnostics: every input error names `file:line:col` and says what to do.

use std::fmt;

/// A problem with the user's input, located in a source file when possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// `file:line:col` (1-based), or just the file, or nothing.
    pub location: Option<Box<Location>>,
    pub message: String,
    pub help: Option<String>,
    /// The offending source lines, underlined, as miette renders them.
    pub snippet: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    /// 1-based line and column, when known.
    pub line_col: Option<(usize, usize)>,
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
        self,
        file: impl Into<String>,
        source: &str,
        offset: usize,
        len: usize,
    ) -> Self {
        let offset = floor_char_boundary(source, offset);
        let len = floor_char_boundary(source, offset + len) - offset;
        self.at_span(file, &source, (offset, len).into())
    }

    /// Locates the diagnostic at `span` of `source`: its line and column
    /// (in characters) come first, its lines are shown under the message.
    fn at_span(
        mut self,
        file: impl Into<String>,
        source: &dyn miette::SourceCode,
        span: miette::SourceSpan,
    ) -> Self {
        let Some((line, column)) = line_col(source, span) else {
            return self.at_file(file);
        };
        self.location = Some(Box::new(Location {
            file: file.into(),
            line_col: Some((line, column)),
        }));
        self.snippet = render_snippet(source, span);
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

    /// Locates the diagnostic at a declaration's 1-based (line, column)
    /// when known (the IR keeps them), else at its file.
    pub fn at_position(self, file: impl Into<String>, position: Option<(usize, usize)>) -> Self {
        match position {
            Some((line, col)) => self.at_line_col(file, line, col),
            None => self.at_file(file),
        }
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
        if let Some(snippet) = &self.snippet {
            write!(f, "\n{snippet}")?;
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
    out.at_span(name, source, *label.inner())
}

/// The largest char boundary of `text` at or before `at`.
fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The 1-based line and column (in characters) where `span` starts.
fn line_col(source: &dyn miette::SourceCode, span: miette::SourceSpan) -> Option<(usize, usize)> {
    let at = source.read_span(&(span.offset(), 0).into(), 0, 0).ok()?;
    let (line, byte_column) = (at.line(), at.column());
    // miette counts the column in bytes; read the line up to the span to
    // count characters.
    let column = if byte_column == 0 {
        0
    } else {
        let start = span.offset() - byte_column;
        let before = source.read_span(&(start, byte_column).into(), 0, 0).ok()?;
        String::from_utf8_lossy(before.data()).chars().count()
    };
    Some((line + 1, column + 1))
}

/// Just the source lines of a diagnostic, underlined at `span`, drawn by
/// miette's report handler without color or decoration beyond ASCII.
fn render_snippet(source: &dyn miette::SourceCode, span: miette::SourceSpan) -> Option<String> {
    struct Snippet<'a> {
        source: &'a dyn miette::SourceCode,
        span: miette::SourceSpan,
    }
    impl fmt::Display for Snippet<'_> {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            Ok(())
        }
    }
    impl std::error::Error for Snippet<'_> {}
    impl miette::Diagnostic for Snippet<'_> {
        fn source_code(&self) -> Option<&dyn miette::SourceCode> {
            Some(self)
        }
        fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
            Some(Box::new(std::iter::once(
                miette::LabeledSpan::new_with_span(None, self.span),
            )))
        }
    }
    // The source without its name: the location, counted in characters,
    // is on the line above, and miette would repeat it counted in bytes.
    impl miette::SourceCode for Snippet<'_> {
        fn read_span<'b>(
            &'b self,
            span: &miette::SourceSpan,
            before: usize,
            after: usize,
        ) -> Result<Box<dyn miette::SpanContents<'b> + 'b>, miette::MietteError> {
            let c = self.source.read_span(span, before, after)?;
            Ok(Box::new(miette::MietteSpanContents::new(
                c.data(),
                *c.span(),
                c.line(),
                c.column(),
                c.line_count(),
            )))
        }
    }
    impl fmt::Debug for Snippet<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Snippet").field("span", &self.span).finish()
        }
    }
    let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::none())
        .with_context_lines(1)
        .with_links(false)
        .without_cause_chain()
        .without_primary_span_start()
        .with_width(usize::MAX / 2);
    let mut out = String::new();
    handler
        .render_report(&mut out, &Snippet { source, span })
        .ok()?;
    // The report's first line holds the message, which is ours to print.
    let (_, snippet) = out.split_once('\n')?;
    let snippet = snippet.trim_end();
    (!snippet.is_empty()).then(|| snippet.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn located_diagnostics_print_the_location_first_and_the_lines_under_it() {
        let source = "line one\n  bé = x;\nline three\n";
        let d = Diagnostic::new("no x here")
            .at_offset("f.txt", source, source.find('x').unwrap(), 1)
            .with_help("remove it");
        // The column counts characters, not bytes.
        assert_eq!(d.location.as_ref().unwrap().line_col, Some((2, 8)));
        assert_eq!(
            d.to_string(),
            "error: f.txt:2:8: no x here\n   \
             ,----\n \
             1 | line one\n \
             2 |   bé = x;\n   \
             :        ^\n \
             3 | line three\n   \
             `----\n  \
             help: remove it"
        );
    }

    #[test]
    fn offsets_past_the_end_or_inside_a_character_are_clamped() {
        let source = "é";
        let end = Diagnostic::new("m").at_offset("f", source, 99, 5);
        assert_eq!(end.location.unwrap().line_col, Some((1, 2)));
        let inside = Diagnostic::new("m").at_offset("f", source, 1, 1);
        assert_eq!(inside.location.unwrap().line_col, Some((1, 1)));
        let empty = Diagnostic::new("m").at_offset("f", "", 0, 0);
        assert!(empty.to_string().starts_with("error: f:1:1: m"), "{empty}");
    }

    #[test]
    fn miette_diagnostics_are_located_by_their_first_label() {
        let source = "syntax = \"proto3\";\nmessage M { strin é = 1; }\n";
        let err = protox::file::File::from_source("x.proto", source).unwrap_err();
        let d = from_miette(&err, None);
        let text = d.to_string();
        assert!(text.starts_with("error: x.proto:2:"), "{text}");
        assert!(text.contains("2 | message M { strin é = 1; }"), "{text}");
        let missing = protox::Error::file_not_found("y.proto");
        let d = from_miette(&missing, Some("y.proto"));
        assert!(d.to_string().starts_with("error: y.proto: "), "{d}");
    }
}
