//! `google.api.http` path templates, parsed once so every backend can map them
//! onto its own router.
//!
//! ```text
//! Template = "/" Segments [ Verb ] ;
//! Segments = Segment { "/" Segment } ;
//! Segment  = "*" | "**" | LITERAL | Variable ;
//! Variable = "{" FieldPath [ "=" Segments ] "}" ;
//! Verb     = ":" LITERAL ;
//! ```
//!
//! As grpc-gateway reads it: at most one `**`, which may be followed by
//! fixed segments (`{parent=projects/*/documents/**}/{collection_id}`);
//! literals and verbs are RFC 3986 path characters.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathTemplate {
    pub segments: Vec<Segment>,
    /// A custom verb such as `merge` in `/v1/{name=shelves/*}:merge`.
    pub verb: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    /// `*`: exactly one path segment.
    Wildcard,
    /// `**`: the rest of the path but a fixed tail; at most one.
    DeepWildcard,
    /// `{field.path=segments}`; `{field}` means `{field=*}`.
    Variable {
        field: String,
        segments: Vec<Segment>,
    },
}

impl PathTemplate {
    /// Field paths bound by variables, in order.
    pub fn variables(&self) -> Vec<String> {
        self.segments
            .iter()
            .filter_map(|s| match s {
                Segment::Variable { field, .. } => Some(field.clone()),
                _ => None,
            })
            .collect()
    }
}

impl PathTemplate {
    /// The template with variable names erased (`/v1/shelves/*:merge`):
    /// two templates of one shape match the same requests.
    pub fn shape(&self) -> String {
        let parts: Vec<String> = flatten(&self.segments)
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => l.clone(),
                Segment::Wildcard => "*".into(),
                Segment::DeepWildcard => "**".into(),
                Segment::Variable { .. } => unreachable!("flattened"),
            })
            .collect();
        match &self.verb {
            Some(v) => format!("/{}:{v}", parts.join("/")),
            None => format!("/{}", parts.join("/")),
        }
    }

    /// Whether the template matches the one-segment path `/<segment>`.
    pub fn matches_segment(&self, segment: &str) -> bool {
        if self.verb.is_some() {
            return false;
        }
        match flatten(&self.segments).as_slice() {
            [Segment::Literal(l)] => l == segment,
            [Segment::Wildcard] | [Segment::DeepWildcard] => true,
            _ => false,
        }
    }
}

pub fn parse(template: &str) -> Result<PathTemplate, String> {
    let rest = template
        .strip_prefix('/')
        .ok_or_else(|| "a path template must start with '/'".to_string())?;
    let mut parser = Parser {
        chars: rest.chars().collect(),
        pos: 0,
    };
    let segments = parser.segments(false)?;
    let verb = if parser.eat(':') {
        // Everything after the first ':' is the verb, colons included, as
        // grpc-gateway reads `{uuid}:custom:custom`.
        let mut lit = parser.literal();
        while parser.eat(':') {
            lit.push(':');
            lit.push_str(&parser.literal());
        }
        if lit.is_empty() || lit.ends_with(':') || lit.contains("::") {
            return Err("':' must be followed by a verb".into());
        }
        Some(lit)
    } else {
        None
    };
    if parser.pos != parser.chars.len() {
        return Err(format!("unexpected '{}'", parser.chars[parser.pos]));
    }
    let all = flatten(&segments);
    if all
        .iter()
        .filter(|s| matches!(s, Segment::DeepWildcard))
        .count()
        > 1
    {
        return Err("a template may have only one '**'".into());
    }
    let vars = PathTemplate {
        segments: segments.clone(),
        verb: None,
    }
    .variables();
    for (i, v) in vars.iter().enumerate() {
        if vars[..i].contains(v) {
            return Err(format!("field '{v}' is bound twice"));
        }
    }
    Ok(PathTemplate { segments, verb })
}

fn flatten(segments: &[Segment]) -> Vec<Segment> {
    let mut out = Vec::new();
    for s in segments {
        match s {
            Segment::Variable { segments, .. } => out.extend(flatten(segments)),
            other => out.push(other.clone()),
        }
    }
    out
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// RFC 3986 path characters but the template's own delimiters.
    fn literal(&mut self) -> String {
        let mut s = String::new();
        while let Some(c) = self.peek() {
            let pchar = c.is_ascii_alphanumeric() || "-._~%!$&'()+,;@".contains(c);
            if !pchar {
                break;
            }
            s.push(c);
            self.pos += 1;
        }
        s
    }

    fn segments(&mut self, in_variable: bool) -> Result<Vec<Segment>, String> {
        let mut out = vec![self.segment(in_variable)?];
        while self.eat('/') {
            out.push(self.segment(in_variable)?);
        }
        Ok(out)
    }

    fn segment(&mut self, in_variable: bool) -> Result<Segment, String> {
        if self.eat('*') {
            return Ok(if self.eat('*') {
                Segment::DeepWildcard
            } else {
                Segment::Wildcard
            });
        }
        if self.peek() == Some('{') {
            if in_variable {
                return Err("variables cannot nest".into());
            }
            self.pos += 1;
            let field = self.literal();
            if field.is_empty()
                || field.split('.').any(|p| {
                    p.is_empty()
                        || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        || p.starts_with(|c: char| c.is_ascii_digit())
                })
            {
                return Err(format!("'{field}' is not a field path"));
            }
            let segments = if self.eat('=') {
                self.segments(true)?
            } else {
                vec![Segment::Wildcard]
            };
            if !self.eat('}') {
                return Err(format!("variable '{field}' is missing '}}'"));
            }
            return Ok(Segment::Variable { field, segments });
        }
        let lit = self.literal();
        if lit.is_empty() {
            return Err(match self.peek() {
                Some(c) => format!("unexpected '{c}'"),
                None => "empty path segment".into(),
            });
        }
        Ok(Segment::Literal(lit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_may_hold_colons() {
        let t = parse("/v1/example/{uuid}:custom:custom").unwrap();
        assert_eq!(t.verb.as_deref(), Some("custom:custom"));
        for bad in ["/v1/x:a:", "/v1/x:a::b"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_nested_variable_and_verb() {
        let t = parse("/v1/{name=shelves/*}:merge").unwrap();
        assert_eq!(t.verb.as_deref(), Some("merge"));
        assert_eq!(
            t.segments,
            vec![
                Segment::Literal("v1".into()),
                Segment::Variable {
                    field: "name".into(),
                    segments: vec![Segment::Literal("shelves".into()), Segment::Wildcard]
                }
            ]
        );
        assert_eq!(t.variables(), vec!["name".to_string()]);
    }

    #[test]
    fn simple_variable_defaults_to_one_segment() {
        let t = parse("/v1/{book.name}/x").unwrap();
        assert_eq!(
            t.segments[1],
            Segment::Variable {
                field: "book.name".into(),
                segments: vec![Segment::Wildcard]
            }
        );
    }

    #[test]
    fn shapes_erase_variable_names() {
        let a = parse("/v1/{name=shelves/*}:merge").unwrap();
        let b = parse("/v1/shelves/{id}:merge").unwrap();
        assert_eq!(a.shape(), b.shape());
        assert!(parse("/{x}").unwrap().matches_segment("healthz"));
        assert!(parse("/healthz").unwrap().matches_segment("healthz"));
        assert!(!parse("/v1/healthz").unwrap().matches_segment("healthz"));
    }

    #[test]
    fn deep_wildcard_may_have_a_fixed_tail() {
        let t = parse("/v1beta1/{parent=projects/*/documents/*/**}/{collection_id}").unwrap();
        assert_eq!(
            t.variables(),
            vec!["parent".to_string(), "collection_id".to_string()]
        );
    }

    #[test]
    fn rejects_bad_templates() {
        for (t, want) in [
            ("v1/x", "must start with '/'"),
            ("/v1/{name", "missing '}'"),
            ("/v1/{}", "not a field path"),
            ("/v1/**/x/**", "only one '**'"),
            ("/v1/a b", "unexpected ' '"),
            ("/v1/x:do it", "unexpected ' '"),
            ("/v1/x?y", "unexpected '?'"),
            ("/v1//x", "unexpected '/'"),
            ("/v1/{a}/{a}", "bound twice"),
            ("/v1/x:", "followed by a verb"),
            ("/v1/{a={b}}", "cannot nest"),
        ] {
            let err = parse(t).unwrap_err();
            assert!(err.contains(want), "{t}: {err}");
        }
    }
}
