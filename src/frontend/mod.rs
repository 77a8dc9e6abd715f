//! Frontends turn a service definition into the language-neutral [`crate::ir::Api`].

pub mod proto;
