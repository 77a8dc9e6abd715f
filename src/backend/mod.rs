//! Backends map the IR onto one target language and render every file of the
//! project into a [`crate::fileset::FileSet`].

pub mod go;
