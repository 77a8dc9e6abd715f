//! Authentication: who may call which method.
//!
//! This file is yours: `kitgen generate` merges its own changes in and keeps
//! your lines.

use crate::service::{Request, Status};

/// Admits or refuses a request of `method` (such as `{{ p.first_method().label }}`) before it
/// reaches the service, after it is logged and counted and before its rate
/// limit. The request carries the gRPC metadata or the HTTP headers; insert
/// the caller's identity with `request.extensions_mut().insert(caller)` and
/// the service finds it in its request's extensions.
///
/// Every request is admitted. To require a bearer token, for instance:
///
/// ```ignore
/// let token = request.metadata().get("authorization").and_then(|v| v.to_str().ok());
/// let caller = token.and_then(|t| TOKENS.get(t)).ok_or_else(|| {
///     Status::unauthenticated("a valid bearer token is required")
/// })?;
/// request.extensions_mut().insert(caller.clone());
/// ```
pub fn authenticate(_method: &str, _request: &mut Request<()>) -> Result<(), Status> {
    Ok(())
}
