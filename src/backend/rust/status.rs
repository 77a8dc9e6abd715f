//! The canonical error codes of [`crate::ir::status`] in the generated Rust
//! runtime's terms: `tonic::Code` variants, the names `code_name` answers
//! and the HTTP statuses `http_status` and `code_from_http_status` map, as
//! `src/backend/go/status.rs` renders them for Go.

use heck::ToUpperCamelCase;

use crate::ir::status::{CODES, DEFAULT_HTTP};

/// rustfmt's line width.
const WIDTH: usize = 100;

/// `Code::NotFound`: tonic's variant of a canonical code.
fn variant(name: &str) -> String {
    format!("Code::{}", name.to_upper_camel_case())
}

/// A match arm at `indent`, on one line when it fits, else as rustfmt
/// breaks it: the patterns first, the value in a block.
fn arm(indent: usize, patterns: &[String], value: &str) -> String {
    let pad = " ".repeat(indent);
    let line = format!("{pad}{} => {value},", patterns.join(" | "));
    if line.len() <= WIDTH {
        return line;
    }
    format!(
        "{pad}{} => {{\n{pad}    {value}\n{pad}}}",
        patterns.join(" | ")
    )
}

/// `code_name`'s arms: every code and its canonical name, in number order.
pub fn code_name_arms() -> Vec<String> {
    CODES
        .iter()
        .map(|c| arm(8, &[variant(c.name)], &format!("{:?}", c.name)))
        .collect()
}

/// `http_status`'s arms: the codes answered with each status, grouped in
/// code order, the default status's group last.
pub fn http_status_arms() -> Vec<String> {
    let mut groups: Vec<(u16, Vec<String>)> = Vec::new();
    for c in &CODES {
        match groups.iter_mut().find(|(status, _)| *status == c.http) {
            Some((_, codes)) => codes.push(variant(c.name)),
            None => groups.push((c.http, vec![variant(c.name)])),
        }
    }
    groups.sort_by_key(|(status, _)| *status == DEFAULT_HTTP);
    groups
        .iter()
        .map(|(status, codes)| arm(8, codes, &status_expr(*status)))
        .collect()
}

/// `code_from_http_status`'s arms: each status an HTTP error without a
/// code name is taken for, in status order.
pub fn code_from_http_arms() -> Vec<String> {
    let mut cases: Vec<(u16, &str)> = CODES
        .iter()
        .filter(|c| c.from_http)
        .map(|c| (c.http, c.name))
        .collect();
    cases.sort_unstable();
    cases
        .iter()
        .map(|(status, name)| arm(8, &[status.to_string()], &variant(name)))
        .collect()
}

/// The status as an `http::StatusCode` expression: its constant, or
/// `from_u16` for one the crate does not name (499).
fn status_expr(status: u16) -> String {
    let name = match status {
        200 => "OK",
        400 => "BAD_REQUEST",
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        409 => "CONFLICT",
        429 => "TOO_MANY_REQUESTS",
        500 => "INTERNAL_SERVER_ERROR",
        501 => "NOT_IMPLEMENTED",
        503 => "SERVICE_UNAVAILABLE",
        504 => "GATEWAY_TIMEOUT",
        other => {
            return format!("StatusCode::from_u16({other}).expect(\"{other} is a valid status\")");
        }
    };
    format!("StatusCode::{name}")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use heck::ToUpperCamelCase;

    use crate::ir::status::CODES;

    /// The arms of `function` in a rendered file: each pattern (`NotFound`
    /// of `Code::NotFound`, or a status number) with the expression it maps
    /// to (`StatusCode::NOT_FOUND`, `"NOT_FOUND"`, `Code::NotFound`).
    fn arms(source: &str, function: &str) -> Vec<(String, String)> {
        let start = source.find(function).expect("the function is rendered");
        let body = &source[start..];
        let body = &body[..body.find("\n}\n").expect("the function ends")];
        let mut lines = body.lines();
        let mut arms = Vec::new();
        while let Some(line) = lines.next() {
            let Some((patterns, value)) = line.split_once("=>") else {
                continue;
            };
            let mut value = value.trim().trim_end_matches(',').to_string();
            if value == "{" {
                value = lines.next().expect("the block's value").trim().to_string();
            }
            for pattern in patterns.split('|').map(str::trim) {
                if pattern != "_" {
                    let pattern = pattern.trim_start_matches("Code::").to_string();
                    arms.push((pattern, value.clone()));
                }
            }
        }
        arms
    }

    #[test]
    fn the_runtime_maps_codes_as_the_one_table_does() {
        let named: BTreeMap<&str, u16> = [
            ("OK", 200),
            ("BAD_REQUEST", 400),
            ("UNAUTHORIZED", 401),
            ("FORBIDDEN", 403),
            ("NOT_FOUND", 404),
            ("CONFLICT", 409),
            ("TOO_MANY_REQUESTS", 429),
            ("INTERNAL_SERVER_ERROR", 500),
            ("NOT_IMPLEMENTED", 501),
            ("SERVICE_UNAVAILABLE", 503),
            ("GATEWAY_TIMEOUT", 504),
        ]
        .into();
        let transcode = super::super::http::transcode_rs();
        let http: BTreeMap<String, u16> = arms(&transcode, "pub fn http_status(")
            .into_iter()
            .map(|(variant, expr)| {
                let expr = expr.trim_start_matches("StatusCode::").to_string();
                let number = match expr.strip_prefix("from_u16(") {
                    Some(rest) => rest[..3].parse().expect("a three-digit status"),
                    None => named[expr.as_str()],
                };
                (variant, number)
            })
            .collect();
        let middleware = super::super::middleware_rs();
        let names: BTreeMap<String, String> = arms(&middleware, "pub fn code_name(")
            .into_iter()
            .map(|(variant, name)| (variant, name.trim_matches('"').to_string()))
            .collect();
        let back: BTreeMap<u16, String> = arms(&transcode, "pub fn code_from_http_status(")
            .into_iter()
            .map(|(status, variant)| {
                let variant = variant.trim_start_matches("Code::").to_string();
                (status.parse().expect("a status"), variant)
            })
            .collect();
        assert_eq!(http.len(), CODES.len(), "{http:?}");
        assert_eq!(names.len(), CODES.len(), "{names:?}");
        for code in CODES {
            let variant = code.name.to_upper_camel_case();
            assert_eq!(http.get(&variant), Some(&code.http), "{}", code.name);
            assert_eq!(names.get(&variant).map(String::as_str), Some(code.name));
            if code.from_http {
                assert_eq!(back.get(&code.http), Some(&variant), "{}", code.name);
            }
        }
        assert_eq!(back.len(), CODES.iter().filter(|c| c.from_http).count());
    }
}
