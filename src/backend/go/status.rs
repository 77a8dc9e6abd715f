//! The canonical error codes of [`crate::ir::status`] in Go's terms: the
//! `service.Code` constants and the HTTP statuses as net/http names them.

use heck::ToUpperCamelCase;

use crate::ir::status::{CODES, DEFAULT_HTTP};

/// One code as package service declares it.
pub struct GoCode {
    /// After `Code`: `NotFound`; `Canceled`, as Go and gRPC spell it.
    pub ident: String,
    /// The canonical name, `NOT_FOUND`.
    pub name: &'static str,
}

/// Every code, in number order.
pub fn codes() -> Vec<GoCode> {
    CODES
        .iter()
        .map(|c| GoCode {
            ident: match c.name {
                "OK" => "OK".to_string(),
                "CANCELLED" => "Canceled".to_string(),
                name => name.to_upper_camel_case(),
            },
            name: c.name,
        })
        .collect()
}

/// `HTTPStatus`'s cases: the codes answered with each status but the
/// default, in code order, and the status as a Go expression.
pub fn http_cases() -> Vec<(Vec<String>, String)> {
    let idents = codes();
    let mut cases: Vec<(u16, Vec<String>)> = Vec::new();
    for (c, go) in CODES.iter().zip(&idents) {
        if c.http == DEFAULT_HTTP {
            continue;
        }
        let ident = format!("service.Code{}", go.ident);
        match cases.iter_mut().find(|(status, _)| *status == c.http) {
            Some((_, codes)) => codes.push(ident),
            None => cases.push((c.http, vec![ident])),
        }
    }
    cases
        .into_iter()
        .map(|(status, codes)| (codes, http_expr(status, true)))
        .collect()
}

/// `codeFromHTTPStatus`'s cases, by status: the status as a Go expression
/// and the code it is taken for.
pub fn code_cases() -> Vec<(String, String)> {
    let idents = codes();
    let mut cases: Vec<(u16, String)> = CODES
        .iter()
        .zip(&idents)
        .filter(|(c, _)| c.from_http)
        .map(|(c, go)| (c.http, format!("service.Code{}", go.ident)))
        .collect();
    cases.sort();
    cases
        .into_iter()
        .map(|(status, code)| (http_expr(status, false), code))
        .collect()
}

/// net/http's name of a status; one it does not name as a number,
/// explained where `explained`.
fn http_expr(status: u16, explained: bool) -> String {
    let name = match status {
        200 => "StatusOK",
        400 => "StatusBadRequest",
        401 => "StatusUnauthorized",
        403 => "StatusForbidden",
        404 => "StatusNotFound",
        409 => "StatusConflict",
        429 => "StatusTooManyRequests",
        500 => "StatusInternalServerError",
        501 => "StatusNotImplemented",
        503 => "StatusServiceUnavailable",
        504 => "StatusGatewayTimeout",
        499 if explained => return "499 // Client Closed Request".into(),
        other => return other.to_string(),
    };
    format!("http.{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_names_of_the_codes() {
        let idents: Vec<String> = codes().into_iter().map(|c| c.ident).collect();
        assert_eq!(idents[0], "OK");
        assert_eq!(idents[1], "Canceled");
        assert_eq!(idents[3], "InvalidArgument");
        assert_eq!(idents[16], "Unauthenticated");
    }
}
