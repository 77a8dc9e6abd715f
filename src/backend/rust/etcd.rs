//! The etcd v3 client of a project with `discovery = ["etcd"]`: kitgen's own
//! minimal declaration of etcd's wire API (`etcd/etcd.proto`), compiled in
//! process as the project's protos are (protox, prost-build with
//! tonic-prost-build's client generator). Not the `etcd-client` crate: its
//! build script runs protoc, which a first `cargo build` must not need.

use prost_build::Module;
use protox::file::{File, FileResolver};

use crate::diagnostic::Diagnostic;

const NAME: &str = "kitgen/etcd.proto";
const SOURCE: &str = include_str!("etcd/etcd.proto");

struct Embedded;

impl FileResolver for Embedded {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        if name == NAME {
            File::from_source(NAME, SOURCE)
        } else {
            Err(protox::Error::file_not_found(name))
        }
    }
}

/// The Rust code of the etcd client: `src/discovery/etcdpb.rs`.
pub fn client_code() -> Result<String, Diagnostic> {
    let internal =
        |e: &dyn std::fmt::Display| Diagnostic::new(format!("internal error: etcd client: {e}"));
    let mut compiler = protox::Compiler::with_file_resolver(Embedded);
    compiler.include_source_info(false);
    compiler.open_file(NAME).map_err(|e| internal(&e))?;
    let files: Vec<(Module, prost_types::FileDescriptorProto)> = compiler
        .file_descriptor_set()
        .file
        .into_iter()
        .map(|f| (Module::from_protobuf_package_name(f.package()), f))
        .collect();
    let mut config = prost_build::Config::new();
    config.service_generator(
        tonic_prost_build::configure()
            .build_client(true)
            .build_server(false)
            .build_transport(true)
            .service_generator(),
    );
    let modules = config.generate(files).map_err(|e| internal(&e))?;
    let (_, code) = modules
        .into_iter()
        .next()
        .ok_or_else(|| internal(&"no module"))?;
    Ok(code)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_client_has_etcds_services_and_wire_names() {
        let code = super::client_code().expect("the declaration compiles");
        for needle in [
            "/etcdserverpb.KV/Range",
            "/etcdserverpb.KV/Put",
            "/etcdserverpb.Lease/LeaseGrant",
            "/etcdserverpb.Lease/LeaseRevoke",
            "/etcdserverpb.Lease/LeaseKeepAlive",
            "/etcdserverpb.Watch/Watch",
            "pub struct WatchCreateRequest",
            "pub struct LeaseGrantRequest",
        ] {
            assert!(code.contains(needle), "{needle} is missing");
        }
        // Deterministic: the same code every time.
        assert_eq!(code, super::client_code().unwrap());
    }
}
