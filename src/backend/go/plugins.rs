//! Runs the official `protoc-gen-go` and `protoc-gen-go-grpc` plugins without a `protoc` binary.
//!
//! protox already produces the descriptors, so all protoc would add is the plugin protocol: a
//! `CodeGeneratorRequest` on the plugin's stdin and a `CodeGeneratorResponse` on its stdout. We
//! speak that protocol directly. The request is spliced from the raw descriptor bytes instead of
//! being re-encoded through `prost_types`, because prost drops unknown fields and with them the
//! custom options (such as `google.api.http`) that protoc-gen-go embeds in the generated code.

use std::collections::HashMap;
use std::env::consts::EXE_SUFFIX;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;

use prost::Message;
use prost::encoding::{decode_varint, encode_varint};
use prost_types::compiler::CodeGeneratorResponse;

/// Pinned protoc-gen-go version (module google.golang.org/protobuf), built when the plugin is not on PATH.
pub const PROTOC_GEN_GO_VERSION: &str = "v1.36.12";
/// Pinned protoc-gen-go-grpc version (module google.golang.org/grpc/cmd/protoc-gen-go-grpc),
/// built when the plugin is not on PATH.
pub const PROTOC_GEN_GO_GRPC_VERSION: &str = "v1.6.2";

/// What to generate Go stubs for.
pub struct StubRequest<'a> {
    /// An encoded google.protobuf.FileDescriptorSet (from protox `Compiler::encode_file_descriptor_set()`),
    /// containing every file in dependency order, with source info and with custom options preserved.
    pub descriptor_set: &'a [u8],
    /// Proto file names (as in FileDescriptorProto.name) to generate Go code for.
    pub files_to_generate: &'a [String],
    /// The plugin parameter string, passed verbatim to both plugins, e.g.
    /// "module=github.com/acme/x,Maddsvc.proto=github.com/acme/x/pb;pb"
    pub parameter: &'a str,
}

/// One generated file: path relative to the Go module root (what the plugin returned as `name`), and content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StubFile {
    pub path: String,
    pub content: String,
}

/// Why Go stubs could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// Neither the plugin nor `go` to build it is available; the message says what to install.
    #[error(
        "{plugin} is not on PATH and there is no Go toolchain to build it: install Go from \
         https://go.dev/dl, or put protoc-gen-go {go_version} and protoc-gen-go-grpc \
         {grpc_version} on PATH",
        go_version = PROTOC_GEN_GO_VERSION,
        grpc_version = PROTOC_GEN_GO_GRPC_VERSION
    )]
    NoToolchain { plugin: &'static str },
    /// `go install` of the pinned plugin failed (network, proxy, toolchain too old, ...).
    #[error("`go install {package}@{version}` failed:\n{stderr}")]
    Build {
        package: &'static str,
        version: &'static str,
        stderr: String,
    },
    /// Spawning a process or touching the cache directory failed.
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    /// The plugin crashed or rejected its input without a proper response.
    #[error("{plugin} exited with {status}:\n{stderr}")]
    Exited {
        plugin: &'static str,
        status: ExitStatus,
        stderr: String,
    },
    /// The plugin answered with `CodeGeneratorResponse.error`, e.g. a bad parameter.
    #[error("{plugin}: {message}")]
    Reported {
        plugin: &'static str,
        message: String,
    },
    /// The plugin's response is not something we can use.
    #[error("invalid response from {plugin}: {message}")]
    InvalidResponse {
        plugin: &'static str,
        message: String,
    },
    /// The descriptor set handed to us is malformed or lacks a file to generate.
    #[error("invalid FileDescriptorSet: {0}")]
    InvalidDescriptorSet(String),
}

/// How to find or build one plugin.
struct Plugin {
    /// Executable name, also the name under which protoc would look it up.
    name: &'static str,
    /// Environment variable naming an executable that takes precedence over everything else.
    env_override: &'static str,
    /// Go package path for `go install`.
    package: &'static str,
    version: &'static str,
}

const GO_PLUGIN: Plugin = Plugin {
    name: "protoc-gen-go",
    env_override: "KITGEN_PROTOC_GEN_GO",
    package: "google.golang.org/protobuf/cmd/protoc-gen-go",
    version: PROTOC_GEN_GO_VERSION,
};

const GRPC_PLUGIN: Plugin = Plugin {
    name: "protoc-gen-go-grpc",
    env_override: "KITGEN_PROTOC_GEN_GO_GRPC",
    package: "google.golang.org/grpc/cmd/protoc-gen-go-grpc",
    version: PROTOC_GEN_GO_GRPC_VERSION,
};

/// Reported as the "protoc" version in generated headers, so readers can tell protox made them.
const COMPILER_VERSION: (u64, u64, u64, &str) = (0, 10, 0, "protox");

/// Runs protoc-gen-go and protoc-gen-go-grpc (concurrently, e.g. std::thread::scope) and returns all their files,
/// sorted by path for determinism.
pub fn generate_stubs(req: &StubRequest<'_>) -> Result<Vec<StubFile>, PluginError> {
    let request = build_request(req)?;
    if req.files_to_generate.is_empty() {
        // Nothing to do; don't demand a Go toolchain for it.
        return Ok(Vec::new());
    }
    let (go, grpc) = thread::scope(|s| {
        let grpc = s.spawn(|| run_plugin(&GRPC_PLUGIN, &request));
        let go = run_plugin(&GO_PLUGIN, &request);
        let grpc = grpc
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (go, grpc)
    });
    let mut files = go?;
    files.extend(grpc?);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    if let Some(twice) = files.windows(2).find(|w| w[0].path == w[1].path) {
        return Err(PluginError::InvalidResponse {
            plugin: "protoc-gen-go-grpc",
            message: format!("{} was generated twice", twice[0].path),
        });
    }
    Ok(files)
}

/// Runs any protoc plugin executable on the request, as protoc would, and
/// returns its files sorted by path. For test harnesses that compare
/// kitgen's output with another generator's (tests/gateway.rs runs
/// protoc-gen-grpc-gateway through it); kitgen itself runs only the two
/// pinned plugins.
pub fn run_external(exe: &Path, req: &StubRequest<'_>) -> Result<Vec<StubFile>, PluginError> {
    let plugin = Plugin {
        name: "external plugin",
        env_override: "",
        package: "",
        version: "",
    };
    let stdout = invoke(&plugin, exe, &build_request(req)?)?;
    let mut files = parse_response(&plugin, &stdout)?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// The key under which `kitgen.lock` remembers the plugins' output: a hash of
/// the exact request the plugins would read and of what the plugins are.
/// Where they were found plays no part, so a clone of the project on another
/// machine with the same plugin versions reuses the recorded stubs.
pub fn cache_key(req: &StubRequest<'_>) -> String {
    let mut input = identity().into_bytes();
    input.push(0);
    match build_request(req) {
        Ok(request) => input.extend_from_slice(&request),
        // The plugins will refuse this input anyway; any key that cannot match will do.
        Err(e) => input.extend_from_slice(format!("invalid request: {e}").as_bytes()),
    }
    crate::lock::sha256(&input)
}

/// What each plugin a run would use is, without building or running one: a
/// Go binary's module version as `go version -m` reports it, else a hash of
/// its bytes; the pinned version when kitgen builds it itself.
pub fn identity() -> String {
    [&GO_PLUGIN, &GRPC_PLUGIN]
        .iter()
        .map(|plugin| {
            let chosen = non_empty_var(plugin.env_override)
                .map(PathBuf::from)
                .or_else(|| {
                    find_executable(plugin.name, &std::env::var_os("PATH").unwrap_or_default())
                });
            let what = match chosen {
                Some(exe) => binary_identity(&exe),
                None => format!("{}@{}", plugin.package, plugin.version),
            };
            format!("{}={what}", plugin.name)
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `package@version` of a Go binary built from a released module version,
/// else `sha256:` and a hash of the file, or why it cannot be read.
fn binary_identity(exe: &Path) -> String {
    if let Some(version) = go_build_info(exe).and_then(|info| released_version(&info)) {
        return version;
    }
    match fs::read(exe) {
        Ok(bytes) => format!("sha256:{}", crate::lock::sha256(&bytes)),
        Err(e) => format!("unreadable {}: {e}", exe.display()),
    }
}

/// The main package and module version recorded in Go build info, when they
/// determine the binary's behaviour: the package belongs to the main module,
/// the version is a released one (not `(devel)` nor a dirty work tree), and no
/// module was replaced by other sources.
fn released_version(modinfo: &str) -> Option<String> {
    let mut path = None;
    let mut main = None;
    for line in modinfo.lines() {
        let mut parts = line.split('\t');
        match parts.next() {
            Some("path") => path = parts.next(),
            Some("mod") => main = parts.next().zip(parts.next()),
            Some("=>") => return None,
            _ => {}
        }
    }
    let (path, (module, version)) = (path?, main?);
    let in_module = path == module
        || path
            .strip_prefix(module)
            .is_some_and(|rest| rest.starts_with('/'));
    let released = version.starts_with('v') && !version.contains('+') && !version.contains(' ');
    (in_module && released).then(|| format!("{path}@{version}"))
}

const BUILD_INFO_MAGIC: &[u8] = b"\xff Go buildinf:";

/// The module information a Go (1.18 or newer) binary embeds, as
/// `go version -m` prints it. ELF binaries are read through their section
/// table; others are searched whole.
fn go_build_info(exe: &Path) -> Option<String> {
    let mut file = fs::File::open(exe).ok()?;
    let blob = match elf_section(&mut file, ".go.buildinfo") {
        Some(section) => section,
        None => {
            let bytes = fs::read(exe).ok()?;
            // The linker aligns the blob to 16 bytes.
            let at = bytes
                .chunks(16)
                .position(|chunk| chunk.starts_with(BUILD_INFO_MAGIC))?;
            bytes[at * 16..].to_vec()
        }
    };
    parse_build_info(&blob)
}

/// Decodes the inline form of the build info blob: a 32-byte header whose
/// flags byte has bit 2 set, then the Go version and the module information
/// as length-prefixed strings, the latter between 16-byte sentinels.
fn parse_build_info(blob: &[u8]) -> Option<String> {
    if !blob.starts_with(BUILD_INFO_MAGIC) || blob.len() < 32 || blob[15] & 2 == 0 {
        return None;
    }
    let mut rest = &blob[32..];
    let mut string = || -> Option<&[u8]> {
        let len = usize::try_from(decode_varint(&mut rest).ok()?).ok()?;
        let (s, tail) = (rest.get(..len)?, rest.get(len..)?);
        rest = tail;
        Some(s)
    };
    let _go_version = string()?;
    let mut modinfo = string()?;
    if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        modinfo = &modinfo[16..modinfo.len() - 16];
    }
    String::from_utf8(modinfo.to_vec()).ok()
}

/// The bytes of the ELF section `name` (at most 1 MiB), read through the
/// section header table without loading the file.
fn elf_section(file: &mut fs::File, name: &str) -> Option<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut read_at = |offset: u64, len: usize| -> Option<Vec<u8>> {
        let mut buf = vec![0; len];
        file.seek(SeekFrom::Start(offset)).ok()?;
        file.read_exact(&mut buf).ok()?;
        Some(buf)
    };
    let header = read_at(0, 64)?;
    if !header.starts_with(b"\x7fELF") {
        return None;
    }
    let wide = match header[4] {
        1 => false,
        2 => true,
        _ => return None,
    };
    let big_endian = header[5] == 2;
    let uint = |bytes: &[u8], at: usize, size: usize| -> Option<u64> {
        let raw = bytes.get(at..at + size)?;
        let mut value = 0u64;
        for i in 0..size {
            let byte = if big_endian {
                raw[i]
            } else {
                raw[size - 1 - i]
            };
            value = (value << 8) | u64::from(byte);
        }
        Some(value)
    };
    let word = if wide { 8 } else { 4 };
    let (shoff, shentsize, shnum, shstrndx) = if wide {
        (
            uint(&header, 0x28, 8)?,
            uint(&header, 0x3a, 2)?,
            uint(&header, 0x3c, 2)?,
            uint(&header, 0x3e, 2)?,
        )
    } else {
        (
            uint(&header, 0x20, 4)?,
            uint(&header, 0x2e, 2)?,
            uint(&header, 0x30, 2)?,
            uint(&header, 0x32, 2)?,
        )
    };
    let entry = usize::try_from(shentsize).ok()?;
    if shnum == 0 || shstrndx >= shnum || entry < 16 + 3 * word {
        return None;
    }
    let table = read_at(shoff, entry * usize::try_from(shnum).ok()?)?;
    // sh_offset and sh_size follow sh_name, sh_type, sh_flags and sh_addr.
    let (offset_at, size_at) = if wide { (24, 32) } else { (16, 20) };
    let section = |i: usize| -> Option<(u64, u64, u64)> {
        let at = i * entry;
        Some((
            uint(&table, at, 4)?,
            uint(&table, at + offset_at, word)?,
            uint(&table, at + size_at, word)?,
        ))
    };
    let (_, names_offset, names_size) = section(usize::try_from(shstrndx).ok()?)?;
    let names = read_at(names_offset, usize::try_from(names_size.min(1 << 20)).ok()?)?;
    for i in 0..usize::try_from(shnum).ok()? {
        let (name_at, offset, size) = section(i)?;
        let name_bytes = names.get(usize::try_from(name_at).ok()?..)?;
        let end = name_bytes.iter().position(|&b| b == 0)?;
        if &name_bytes[..end] == name.as_bytes() {
            return read_at(offset, usize::try_from(size.min(1 << 20)).ok()?);
        }
    }
    None
}

fn run_plugin(plugin: &Plugin, request: &[u8]) -> Result<Vec<StubFile>, PluginError> {
    let exe = resolve_plugin(plugin)?;
    let stdout = invoke(plugin, &exe, request)?;
    parse_response(plugin, &stdout)
}

/// Env override, then PATH, then the pinned version built into the cache.
fn resolve_plugin(plugin: &Plugin) -> Result<PathBuf, PluginError> {
    if let Some(exe) = non_empty_var(plugin.env_override) {
        return Ok(PathBuf::from(exe));
    }
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    if let Some(exe) = find_executable(plugin.name, &path_var) {
        return Ok(exe);
    }
    ensure_built(
        plugin,
        &cache_dir(non_empty_var, dirs::cache_dir()),
        &path_var,
    )
}

fn non_empty_var(key: &str) -> Option<OsString> {
    std::env::var_os(key).filter(|v| !v.is_empty())
}

/// `$KITGEN_CACHE_DIR`, else `kitgen` in the platform's cache directory
/// (`$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on macOS,
/// `%LOCALAPPDATA%` on Windows), else the temporary directory.
/// Takes the environment and the platform's directory as arguments so tests
/// need not mutate the process environment.
fn cache_dir(var: impl Fn(&str) -> Option<OsString>, platform: Option<PathBuf>) -> PathBuf {
    if let Some(dir) = var("KITGEN_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    platform.unwrap_or_else(std::env::temp_dir).join("kitgen")
}

/// Searches `path_var` (a PATH-style list) like a shell would, except that
/// an empty entry is skipped rather than taken for the current directory.
fn find_executable(name: &str, path_var: &OsStr) -> Option<PathBuf> {
    let dirs: Vec<PathBuf> = std::env::split_paths(path_var)
        .filter(|dir| !dir.as_os_str().is_empty())
        .collect();
    let dirs = std::env::join_paths(dirs).ok()?;
    if dirs.is_empty() {
        return None;
    }
    which::which_in_global(name, Some(dirs)).ok()?.next()
}

/// Returns the cached pinned build, building it with `go install` on first use.
///
/// The binary is built into a private staging dir and renamed into place, so concurrent
/// kitgen processes never see a half-written executable; if two race, either copy is fine.
fn ensure_built(plugin: &Plugin, cache: &Path, path_var: &OsStr) -> Result<PathBuf, PluginError> {
    let bin_dir = cache.join("bin");
    let target = bin_dir.join(format!("{}@{}{EXE_SUFFIX}", plugin.name, plugin.version));
    if target.is_file() {
        return Ok(target);
    }
    let go = find_executable("go", path_var).ok_or(PluginError::NoToolchain {
        plugin: plugin.name,
    })?;
    fs::create_dir_all(&bin_dir).map_err(io_error(format!(
        "cannot create plugin cache {}",
        bin_dir.display()
    )))?;
    let staging = tempfile::Builder::new()
        .prefix(".build-")
        .tempdir_in(&bin_dir)
        .map_err(io_error(format!(
            "cannot create a build directory in {}",
            bin_dir.display()
        )))?;
    let output = Command::new(&go)
        .arg("install")
        .arg(format!("{}@{}", plugin.package, plugin.version))
        .env("GOBIN", staging.path())
        .current_dir(staging.path())
        .stdin(Stdio::null())
        .output()
        .map_err(io_error(format!("cannot run {}", go.display())))?;
    if !output.status.success() {
        return Err(PluginError::Build {
            package: plugin.package,
            version: plugin.version,
            stderr: bounded(&output.stderr),
        });
    }
    let built = staging.path().join(format!("{}{EXE_SUFFIX}", plugin.name));
    match fs::rename(&built, &target) {
        Ok(()) => Ok(target),
        Err(_) if target.is_file() => Ok(target),
        Err(e) => Err(PluginError::Io {
            context: format!("cannot move {} to {}", built.display(), target.display()),
            source: e,
        }),
    }
}

fn io_error(context: String) -> impl FnOnce(io::Error) -> PluginError {
    move |source| PluginError::Io { context, source }
}

/// Feeds `request` to the plugin and returns its stdout.
///
/// stdin is written from its own thread while stdout and stderr are drained, so a plugin
/// that starts answering before it has read everything cannot deadlock us.
fn invoke(plugin: &Plugin, exe: &Path, request: &[u8]) -> Result<Vec<u8>, PluginError> {
    let mut child = Command::new(exe)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(io_error(format!(
            "cannot run {} ({})",
            plugin.name,
            exe.display()
        )))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let (written, output) = thread::scope(|s| {
        // Dropping stdin at the end of the closure closes the pipe, which ends the request.
        let writer = s.spawn(move || stdin.write_all(request));
        let output = child.wait_with_output();
        let written = writer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (written, output)
    });
    let output = output.map_err(io_error(format!("cannot read output of {}", plugin.name)))?;
    // A failing plugin may close stdin early; its stderr explains more than the broken pipe.
    if !output.status.success() {
        return Err(PluginError::Exited {
            plugin: plugin.name,
            status: output.status,
            stderr: bounded(&output.stderr),
        });
    }
    written.map_err(io_error(format!("cannot write request to {}", plugin.name)))?;
    Ok(output.stdout)
}

/// How much of a tool's error output kitgen echoes: enough to act on, never
/// megabytes (a huge proto can make a plugin print a line per message).
const ECHO_LINES: usize = 40;
const ECHO_BYTES: usize = 8 * 1024;

/// The first lines of a tool's error output, with a count of what was left out.
fn bounded(output: &[u8]) -> String {
    let text = String::from_utf8_lossy(output);
    let total = text.lines().count();
    let mut out = String::new();
    let mut shown = 0;
    for line in text.lines().take(ECHO_LINES) {
        if out.len() + line.len() > ECHO_BYTES {
            break;
        }
        out.push_str(line);
        out.push('\n');
        shown += 1;
    }
    if shown < total {
        out.push_str(&format!(
            "... {} more lines ({} bytes in all) not shown\n",
            total - shown,
            output.len()
        ));
    }
    out.trim_end().to_string()
}

fn parse_response(plugin: &Plugin, bytes: &[u8]) -> Result<Vec<StubFile>, PluginError> {
    let invalid = |message: String| PluginError::InvalidResponse {
        plugin: plugin.name,
        message,
    };
    let response = CodeGeneratorResponse::decode(bytes).map_err(|e| invalid(e.to_string()))?;
    if let Some(message) = response.error {
        return Err(PluginError::Reported {
            plugin: plugin.name,
            message: bounded(message.as_bytes()),
        });
    }
    let mut files: Vec<StubFile> = Vec::with_capacity(response.file.len());
    for file in response.file {
        if let Some(point) = file.insertion_point.filter(|p| !p.is_empty()) {
            return Err(invalid(format!(
                "insertion point {point:?} in {:?} is not supported",
                file.name.unwrap_or_default()
            )));
        }
        let content = file.content.unwrap_or_default();
        match file.name.filter(|n| !n.is_empty()) {
            Some(path) => {
                // The name becomes a path under the project: a plugin (or a
                // parameter crafted to steer it) must not write anywhere else.
                if let Err(why) = crate::fileset::check_path(&path) {
                    return Err(invalid(format!(
                        "file name {path:?} is not a path inside the project: {why}"
                    )));
                }
                if !path.ends_with(".go") {
                    return Err(invalid(format!("file name {path:?} is not a .go file")));
                }
                files.push(StubFile { path, content })
            }
            // Per the plugin protocol, a nameless file continues the previous one.
            None => match files.last_mut() {
                Some(previous) => previous.content.push_str(&content),
                None => return Err(invalid("first file has no name".into())),
            },
        }
    }
    Ok(files)
}

// CodeGeneratorRequest field numbers.
const REQ_FILE_TO_GENERATE: u32 = 1;
const REQ_PARAMETER: u32 = 2;
const REQ_COMPILER_VERSION: u32 = 3;
const REQ_PROTO_FILE: u32 = 15;
const REQ_SOURCE_FILE_DESCRIPTORS: u32 = 17;

const WIRE_VARINT: u8 = 0;
const WIRE_I64: u8 = 1;
const WIRE_LEN: u8 = 2;
const WIRE_I32: u8 = 5;

/// Encodes a CodeGeneratorRequest, copying each FileDescriptorProto's bytes verbatim.
fn build_request(req: &StubRequest<'_>) -> Result<Vec<u8>, PluginError> {
    let files = split_descriptor_set(req.descriptor_set)?;
    let mut by_name = HashMap::with_capacity(files.len());
    for file in &files {
        by_name.insert(file_name(file)?, *file);
    }
    let to_generate = req
        .files_to_generate
        .iter()
        .map(|name| {
            by_name.get(name.as_str()).copied().ok_or_else(|| {
                PluginError::InvalidDescriptorSet(format!("{name} is not in the descriptor set"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mut out = Vec::with_capacity(req.descriptor_set.len() * 2 + 256);
    for name in req.files_to_generate {
        put_len(&mut out, REQ_FILE_TO_GENERATE, name.as_bytes());
    }
    if !req.parameter.is_empty() {
        put_len(&mut out, REQ_PARAMETER, req.parameter.as_bytes());
    }
    let mut version = Vec::new();
    let (major, minor, patch, suffix) = COMPILER_VERSION;
    for (number, value) in [(1, major), (2, minor), (3, patch)] {
        put_key(&mut version, number, WIRE_VARINT);
        encode_varint(value, &mut version);
    }
    put_len(&mut version, 4, suffix.as_bytes());
    put_len(&mut out, REQ_COMPILER_VERSION, &version);
    for file in &files {
        put_len(&mut out, REQ_PROTO_FILE, file);
    }
    for file in to_generate {
        put_len(&mut out, REQ_SOURCE_FILE_DESCRIPTORS, file);
    }
    Ok(out)
}

fn put_key(out: &mut Vec<u8>, number: u32, wire_type: u8) {
    encode_varint((u64::from(number) << 3) | u64::from(wire_type), out);
}

fn put_len(out: &mut Vec<u8>, number: u32, payload: &[u8]) {
    put_key(out, number, WIRE_LEN);
    encode_varint(payload.len() as u64, out);
    out.extend_from_slice(payload);
}

/// Returns the raw bytes of each `FileDescriptorSet.file` (field 1), in order.
fn split_descriptor_set(set: &[u8]) -> Result<Vec<&[u8]>, PluginError> {
    let mut files = Vec::new();
    for RawField {
        number,
        wire_type,
        payload,
    } in fields(set)?
    {
        if number != 1 {
            continue;
        }
        if wire_type != WIRE_LEN {
            return Err(PluginError::InvalidDescriptorSet(format!(
                "field 1 has wire type {wire_type}, expected a message"
            )));
        }
        files.push(payload);
    }
    Ok(files)
}

/// Reads `FileDescriptorProto.name` (field 1) from raw bytes; like protobuf, the last one wins.
fn file_name(file: &[u8]) -> Result<&str, PluginError> {
    let name = fields(file)?
        .into_iter()
        .filter(|f| f.number == 1 && f.wire_type == WIRE_LEN)
        .map(|f| f.payload)
        .next_back()
        .ok_or_else(|| PluginError::InvalidDescriptorSet("a file has no name".into()))?;
    std::str::from_utf8(name)
        .map_err(|_| PluginError::InvalidDescriptorSet("a file name is not UTF-8".into()))
}

/// One top-level field of an encoded message.
#[derive(Debug, Clone, Copy)]
struct RawField<'a> {
    number: u32,
    wire_type: u8,
    /// For length-delimited fields, the bytes after the length prefix.
    payload: &'a [u8],
}

/// Splits an encoded message into its top-level fields, in order.
fn fields(mut buf: &[u8]) -> Result<Vec<RawField<'_>>, PluginError> {
    let malformed = |what: &str| PluginError::InvalidDescriptorSet(format!("malformed: {what}"));
    let mut out = Vec::new();
    while !buf.is_empty() {
        let key = decode_varint(&mut buf).map_err(|_| malformed("bad field key"))?;
        let number = u32::try_from(key >> 3)
            .ok()
            .filter(|&n| n != 0)
            .ok_or_else(|| malformed("bad field number"))?;
        let wire_type = (key & 7) as u8;
        let len = match wire_type {
            WIRE_VARINT => {
                let before = buf;
                decode_varint(&mut buf).map_err(|_| malformed("bad varint"))?;
                out.push(RawField {
                    number,
                    wire_type,
                    payload: &before[..before.len() - buf.len()],
                });
                continue;
            }
            WIRE_I64 => 8,
            WIRE_I32 => 4,
            WIRE_LEN => {
                let len = decode_varint(&mut buf).map_err(|_| malformed("bad length"))?;
                usize::try_from(len).map_err(|_| malformed("length too large"))?
            }
            _ => return Err(malformed("unsupported wire type")),
        };
        if len > buf.len() {
            return Err(malformed("truncated field"));
        }
        let (payload, rest) = buf.split_at(len);
        out.push(RawField {
            number,
            wire_type,
            payload,
        });
        buf = rest;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost_types::compiler::CodeGeneratorRequest;
    use prost_types::compiler::code_generator_response::File as ResponseFile;
    use prost_types::{FileDescriptorProto, FileDescriptorSet};

    const GREETER_PROTO: &str = r#"
syntax = "proto3";
package demo;

import "google/protobuf/descriptor.proto";

extend google.protobuf.MethodOptions {
  string tag = 50000;
}

message HelloRequest { string name = 1; }
message HelloReply { string greeting = 1; }

service Greeter {
  rpc Hello(HelloRequest) returns (HelloReply) {
    option (tag) = "kitgen-marker-7f3a";
  }
}
"#;

    fn compile(source: &str) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("x.proto"), source).unwrap();
        let mut compiler = protox::Compiler::new([dir.path()]).unwrap();
        compiler.include_imports(true).include_source_info(true);
        compiler.open_file("x.proto").unwrap();
        compiler.encode_file_descriptor_set()
    }

    fn file_proto(name: &str) -> Vec<u8> {
        FileDescriptorProto {
            name: Some(name.into()),
            package: Some("p".into()),
            ..Default::default()
        }
        .encode_to_vec()
    }

    /// Hand-made set: two files, the first carrying an unknown field that prost would drop,
    /// plus an unknown top-level field that must be skipped.
    fn hand_made_set() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let mut a = file_proto("a.proto");
        put_len(&mut a, 999, b"custom-option-bytes");
        let b = file_proto("b.proto");
        let mut set = Vec::new();
        put_len(&mut set, 1, &a);
        put_key(&mut set, 7, WIRE_VARINT);
        encode_varint(300, &mut set);
        put_len(&mut set, 1, &b);
        (set, a, b)
    }

    #[test]
    fn splits_descriptor_set_verbatim() {
        let (set, a, b) = hand_made_set();
        let files = split_descriptor_set(&set).unwrap();
        assert_eq!(files, vec![a.as_slice(), b.as_slice()]);
        assert_eq!(file_name(files[0]).unwrap(), "a.proto");
        assert_eq!(file_name(files[1]).unwrap(), "b.proto");
        // Sanity check of the premise: a prost round trip loses the custom bytes.
        let reencoded = FileDescriptorSet::decode(set.as_slice())
            .unwrap()
            .encode_to_vec();
        assert!(!contains(&reencoded, b"custom-option-bytes"));
    }

    #[test]
    fn request_carries_raw_files() {
        let (set, a, b) = hand_made_set();
        let to_generate = vec!["b.proto".to_string()];
        let bytes = build_request(&StubRequest {
            descriptor_set: &set,
            files_to_generate: &to_generate,
            parameter: "module=example.com/m",
        })
        .unwrap();
        let raw: Vec<_> = fields(&bytes).unwrap();
        let payloads = |n: u32| -> Vec<&[u8]> {
            raw.iter()
                .filter(|f| f.number == n)
                .map(|f| f.payload)
                .collect::<Vec<_>>()
        };
        assert_eq!(payloads(REQ_PROTO_FILE), vec![a.as_slice(), b.as_slice()]);
        assert_eq!(payloads(REQ_SOURCE_FILE_DESCRIPTORS), vec![b.as_slice()]);

        let decoded = CodeGeneratorRequest::decode(bytes.as_slice()).unwrap();
        assert_eq!(decoded.file_to_generate, to_generate);
        assert_eq!(decoded.parameter.as_deref(), Some("module=example.com/m"));
        let version = decoded.compiler_version.unwrap();
        assert_eq!(
            (version.major, version.minor, version.patch, version.suffix),
            (Some(0), Some(10), Some(0), Some("protox".into()))
        );
        let names: Vec<_> = decoded.proto_file.iter().map(|f| f.name()).collect();
        assert_eq!(names, ["a.proto", "b.proto"]);
    }

    #[test]
    fn rejects_bad_descriptor_sets() {
        let (set, _, _) = hand_made_set();
        let missing = vec!["c.proto".to_string()];
        let err = build_request(&StubRequest {
            descriptor_set: &set,
            files_to_generate: &missing,
            parameter: "",
        })
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("c.proto is not in the descriptor set")
        );
        assert!(matches!(
            split_descriptor_set(&set[..set.len() - 1]),
            Err(PluginError::InvalidDescriptorSet(_))
        ));
    }

    #[test]
    fn parses_responses() {
        let file = |name: Option<&str>, content: &str| ResponseFile {
            name: name.map(Into::into),
            content: Some(content.into()),
            ..Default::default()
        };
        let ok = CodeGeneratorResponse {
            file: vec![
                file(Some("a.go"), "x"),
                file(None, "y"),
                file(Some("b.go"), "z"),
            ],
            ..Default::default()
        };
        let files = parse_response(&GO_PLUGIN, &ok.encode_to_vec()).unwrap();
        assert_eq!(
            files,
            [
                StubFile {
                    path: "a.go".into(),
                    content: "xy".into()
                },
                StubFile {
                    path: "b.go".into(),
                    content: "z".into()
                }
            ]
        );

        let reported = CodeGeneratorResponse {
            error: Some("boom".into()),
            ..Default::default()
        };
        let err = parse_response(&GO_PLUGIN, &reported.encode_to_vec()).unwrap_err();
        assert_eq!(err.to_string(), "protoc-gen-go: boom");

        let insertion = CodeGeneratorResponse {
            file: vec![ResponseFile {
                insertion_point: Some("imports".into()),
                ..file(Some("a.go"), "x")
            }],
            ..Default::default()
        };
        let err = parse_response(&GO_PLUGIN, &insertion.encode_to_vec()).unwrap_err();
        assert!(matches!(err, PluginError::InvalidResponse { .. }), "{err}");
        let err = parse_response(&GO_PLUGIN, b"\xff").unwrap_err();
        assert!(matches!(err, PluginError::InvalidResponse { .. }), "{err}");
    }

    #[test]
    fn finds_executables_on_path() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join(format!("protoc-gen-fake{EXE_SUFFIX}"));
        fs::write(&exe, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                find_executable("protoc-gen-fake", dir.path().as_os_str()),
                None
            );
            fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
        }
        let path_var = std::env::join_paths([Path::new("/nonexistent"), dir.path()]).unwrap();
        assert_eq!(find_executable("protoc-gen-fake", &path_var), Some(exe));
        assert_eq!(find_executable("protoc-gen-missing", &path_var), None);
    }

    #[test]
    fn cache_dir_precedence() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |key: &str| {
                vars.iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        let all = &[("KITGEN_CACHE_DIR", "/k")];
        let platform = || Some(PathBuf::from("/x"));
        assert_eq!(cache_dir(env(all), platform()), PathBuf::from("/k"));
        assert_eq!(
            cache_dir(env(&all[1..]), platform()),
            PathBuf::from("/x/kitgen")
        );
        assert_eq!(
            cache_dir(env(&all[1..]), None),
            std::env::temp_dir().join("kitgen")
        );
    }

    /// On Linux the platform's cache directory is `$XDG_CACHE_HOME`, else
    /// `~/.cache`, as kitgen's own lookup was before it used `dirs`.
    #[cfg(target_os = "linux")]
    #[test]
    fn cache_dir_on_linux_is_xdg() {
        let expected = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
            Some(x) if Path::new(&x).is_absolute() => PathBuf::from(x),
            _ => PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"),
        };
        assert_eq!(dirs::cache_dir(), Some(expected));
    }

    #[test]
    fn generates_go_and_grpc_stubs_with_custom_options() {
        let set = compile(GREETER_PROTO);
        let files = generate_x(&set, "module=example.com/m,Mx.proto=example.com/m/pb;pb").unwrap();
        let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["pb/x.pb.go", "pb/x_grpc.pb.go"]);

        let pb = &files[0].content;
        assert!(pb.starts_with("// Code generated by protoc-gen-go. DO NOT EDIT."));
        assert!(pb.contains("package pb"));
        assert!(pb.contains("E_Tag"));
        assert!(pb.contains("protoc        v0.10.0-protox"), "{pb}");
        // The option value only survives if the descriptor bytes were passed verbatim.
        assert!(
            pb.contains("kitgen-marker-7f3a"),
            "custom option lost:\n{pb}"
        );

        let grpc = &files[1].content;
        assert!(grpc.contains("package pb"));
        assert!(grpc.contains("type GreeterClient interface"));
        assert!(grpc.contains("/demo.Greeter/Hello"));
    }

    fn generate_x(set: &[u8], parameter: &str) -> Result<Vec<StubFile>, PluginError> {
        generate_stubs(&StubRequest {
            descriptor_set: set,
            files_to_generate: &["x.proto".to_string()],
            parameter,
        })
    }

    #[test]
    fn reports_plugin_errors() {
        let set = compile(GREETER_PROTO);
        // protogen answers a module/import path mismatch with CodeGeneratorResponse.error.
        let err = generate_x(
            &set,
            "module=example.com/other,Mx.proto=example.com/m/pb;pb",
        )
        .unwrap_err();
        match &err {
            PluginError::Reported { plugin, message } => {
                assert_eq!(*plugin, "protoc-gen-go");
                assert!(
                    message.contains("does not match prefix \"example.com/other\""),
                    "{message}"
                );
            }
            other => panic!("expected a reported error, got {other:?}"),
        }
    }

    #[test]
    fn output_paths_leading_out_of_the_project_are_refused() {
        let set = compile(GREETER_PROTO);
        // What a crafted module once did: an empty `module=` and an import
        // path starting with `..` make protoc-gen-go name `../escape/...`.
        let err = generate_x(&set, "module=,Mx.proto=../escape/pb;pb").unwrap_err();
        match &err {
            PluginError::InvalidResponse { message, .. } => {
                assert!(
                    message.contains("\"../escape/pb/x.pb.go\" is not a path inside the project"),
                    "{message}"
                );
            }
            other => panic!("expected an invalid response, got {other:?}"),
        }
    }

    #[test]
    fn echoed_tool_output_is_bounded() {
        let noise: String = (0..100_000).map(|i| format!("line {i}\n")).collect();
        let shown = bounded(noise.as_bytes());
        assert!(shown.len() < ECHO_BYTES + 200, "{}", shown.len());
        assert!(shown.starts_with("line 0\n"));
        assert!(
            shown.ends_with(&format!(
                "{} more lines ({} bytes in all) not shown",
                100_000 - ECHO_LINES,
                noise.len()
            )),
            "{shown}"
        );
        assert_eq!(bounded(b"one\ntwo\n"), "one\ntwo");
    }

    #[test]
    fn io_errors_are_printed_once() {
        let err = anyhow::Error::new(PluginError::Io {
            context: "cannot run x".into(),
            source: io::Error::from_raw_os_error(1),
        });
        let text = format!("{err:#}");
        assert_eq!(text.matches("os error 1").count(), 1, "{text}");
    }

    #[test]
    fn reports_plugin_exit_status() {
        let set = compile(GREETER_PROTO);
        // protogen rejects unknown parameters by exiting non-zero with a message on stderr.
        let err = generate_x(&set, "no_such_option=1").unwrap_err();
        match &err {
            PluginError::Exited { plugin, stderr, .. } => {
                assert_eq!(*plugin, "protoc-gen-go");
                assert!(stderr.contains("no such flag -no_such_option"), "{stderr}");
            }
            other => panic!("expected a failed exit, got {other:?}"),
        }
    }

    #[test]
    fn nothing_to_generate_needs_no_plugin() {
        let set = compile(GREETER_PROTO);
        let files = generate_stubs(&StubRequest {
            descriptor_set: &set,
            files_to_generate: &[],
            parameter: "",
        })
        .unwrap();
        assert!(files.is_empty());
    }

    #[test]
    fn released_versions_come_from_build_info() {
        let info = "path\tgoogle.golang.org/protobuf/cmd/protoc-gen-go\n\
                    mod\tgoogle.golang.org/protobuf\tv1.36.12\th1:x=\n\
                    build\t-compiler=gc\n";
        assert_eq!(
            released_version(info).as_deref(),
            Some("google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12")
        );
        let grpc = "path\tgoogle.golang.org/grpc/cmd/protoc-gen-go-grpc\n\
                    mod\tgoogle.golang.org/grpc/cmd/protoc-gen-go-grpc\tv1.6.2\th1:y=\n\
                    dep\tgoogle.golang.org/protobuf\tv1.36.11\th1:z=\n";
        assert_eq!(
            released_version(grpc).as_deref(),
            Some("google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2")
        );
        // A work tree build, a dirty one, a replaced module, or the plugin
        // built as a dependency of another module say nothing certain.
        for unsure in [
            info.replace("v1.36.12", "(devel)"),
            info.replace("v1.36.12", "v1.36.13-0.20250101000000-abcdef012345+dirty"),
            format!("{info}=>\t../protobuf\t\t\n"),
            info.replace(
                "mod\tgoogle.golang.org/protobuf\t",
                "mod\texample.com/tools\t",
            ),
            info.replace("google.golang.org/protobuf\t", "google.golang.org/proto\t"),
        ] {
            assert_eq!(released_version(&unsure), None, "{unsure}");
        }
    }

    #[test]
    fn parses_the_inline_build_info_blob() {
        let modinfo = "path\tp\nmod\tp\tv1.0.0\t\n";
        let wrapped = format!("{}{modinfo}{}", "0".repeat(16), "1".repeat(16));
        let mut blob = BUILD_INFO_MAGIC.to_vec();
        blob.extend_from_slice(&[8, 2]);
        blob.resize(32, 0);
        for s in ["go1.26.0", wrapped.as_str()] {
            encode_varint(s.len() as u64, &mut blob);
            blob.extend_from_slice(s.as_bytes());
        }
        assert_eq!(parse_build_info(&blob).as_deref(), Some(modinfo));
        // Pre-1.18 blobs hold pointers instead: not read.
        let mut old = blob.clone();
        old[15] = 0;
        assert_eq!(parse_build_info(&old), None);
        assert_eq!(parse_build_info(&blob[..40]), None);
        // Outside ELF, the blob is searched for at 16-byte boundaries.
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("plugin.exe");
        let mut file = b"MZ".to_vec();
        file.resize(48, 0xff);
        file.extend_from_slice(&blob);
        fs::write(&exe, &file).unwrap();
        assert_eq!(go_build_info(&exe).as_deref(), Some(modinfo));
    }

    #[test]
    fn a_pinned_build_is_known_by_its_version_wherever_it_is() {
        let path_var = std::env::var_os("PATH").unwrap_or_default();
        for plugin in [&GO_PLUGIN, &GRPC_PLUGIN] {
            let built = ensure_built(
                plugin,
                &cache_dir(non_empty_var, dirs::cache_dir()),
                &path_var,
            )
            .unwrap();
            assert_eq!(
                binary_identity(&built),
                format!("{}@{}", plugin.package, plugin.version)
            );
            // Elsewhere and newer, the same binary is the same plugin.
            let dir = tempfile::tempdir().unwrap();
            let copy = dir.path().join(plugin.name);
            fs::copy(&built, &copy).unwrap();
            assert_eq!(binary_identity(&copy), binary_identity(&built));
        }
        // Anything else is known by its bytes.
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("protoc-gen-go");
        fs::write(&script, "#!/bin/sh\n").unwrap();
        assert_eq!(
            binary_identity(&script),
            format!("sha256:{}", crate::lock::sha256(b"#!/bin/sh\n"))
        );
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }
}
