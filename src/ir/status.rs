//! The canonical error codes (google.rpc.Code, which gRPC uses as they are)
//! and the HTTP status each maps to, as Google APIs and grpc-gateway map
//! them: one table, which every target's error model and the OpenAPI
//! document are written from.

/// One canonical code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// Its number, as on the wire.
    pub number: u32,
    /// Its canonical name, e.g. `NOT_FOUND`.
    pub name: &'static str,
    /// The HTTP status it is answered with.
    pub http: u16,
    /// Whether it is the code an HTTP error without a code name is taken
    /// for (several codes share 400, 409 and 500; one stands for each).
    pub from_http: bool,
}

const fn code(number: u32, name: &'static str, http: u16, from_http: bool) -> Code {
    Code {
        number,
        name,
        http,
        from_http,
    }
}

/// Every code, in number order.
pub const CODES: [Code; 17] = [
    code(0, "OK", 200, false),
    // Client Closed Request, as nginx and grpc-gateway answer it.
    code(1, "CANCELLED", 499, true),
    code(2, "UNKNOWN", 500, false),
    code(3, "INVALID_ARGUMENT", 400, true),
    code(4, "DEADLINE_EXCEEDED", 504, true),
    code(5, "NOT_FOUND", 404, true),
    code(6, "ALREADY_EXISTS", 409, false),
    code(7, "PERMISSION_DENIED", 403, true),
    code(8, "RESOURCE_EXHAUSTED", 429, true),
    code(9, "FAILED_PRECONDITION", 400, false),
    code(10, "ABORTED", 409, true),
    code(11, "OUT_OF_RANGE", 400, false),
    code(12, "UNIMPLEMENTED", 501, true),
    code(13, "INTERNAL", 500, false),
    code(14, "UNAVAILABLE", 503, true),
    code(15, "DATA_LOSS", 500, false),
    code(16, "UNAUTHENTICATED", 401, true),
];

/// The status a code not in the table (and UNKNOWN, INTERNAL, DATA_LOSS)
/// is answered with, and the code an unlisted HTTP error is taken for.
pub const DEFAULT_HTTP: u16 = 500;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_numbered_in_order_and_each_status_maps_back_once() {
        for (i, c) in CODES.iter().enumerate() {
            assert_eq!(c.number as usize, i, "{}", c.name);
        }
        let mut statuses: Vec<u16> = CODES.iter().map(|c| c.http).collect();
        statuses.sort_unstable();
        statuses.dedup();
        for status in statuses {
            let back = CODES
                .iter()
                .filter(|c| c.http == status && c.from_http)
                .count();
            let want = usize::from(status != DEFAULT_HTTP && status != 200);
            assert_eq!(back, want, "HTTP {status}");
        }
    }
}
