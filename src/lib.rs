//! kitgen: turn a service definition into a Go kit project and keep it in step.
//!
//! Pipeline: frontend (source → IR) → backend (IR → FileSet) → sync (FileSet → disk).

pub mod backend;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod fileset;
pub mod frontend;
pub mod ir;
pub mod lock;
pub mod openapi;
pub mod pipeline;
pub mod sync;
