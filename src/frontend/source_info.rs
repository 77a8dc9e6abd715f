//! Keeps source info out of prost-reflect's way while it builds the pool.
//!
//! prost-reflect 0.16 moves the source locations of custom options to their
//! resolved paths by scanning every location of a file once per option
//! (`DescriptorPool::resolve_options`): quadratic, seconds for a file of a few
//! thousand RPCs that each carry a `google.api.http` rule. So the pool is built
//! from files whose source info holds only the locations that rewrite can
//! touch (those under an `uninterpreted_option`, field 999 of every options
//! message); the rest waits here and is merged back, in order, afterwards.
//! The result is byte for byte what the pool would have held.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use prost::Message;
use prost::encoding::{decode_varint, encode_varint};
use prost_types::SourceCodeInfo;
use protox::file::{File, FileResolver};

/// `uninterpreted_option`'s field number in every `*Options` message.
const UNINTERPRETED_OPTION: i32 = 999;
/// `FileDescriptorSet.file` and `FileDescriptorProto.source_code_info`.
const SET_FILE: u64 = 1;
const FILE_SOURCE_CODE_INFO: u64 = 9;

/// The source info of every file opened through a [`SlimResolver`].
#[derive(Clone, Default)]
pub(crate) struct SetAside(Arc<Mutex<HashMap<String, Kept>>>);

struct Kept {
    full: SourceCodeInfo,
    /// Where the locations handed to the pool sit in `full`.
    in_pool: Vec<usize>,
    /// The file as the wrapped resolver found it, for protox's shadowing rule.
    path: Option<PathBuf>,
}

/// Wraps a resolver, handing protox each file with its source info slimmed
/// down to the locations prost-reflect rewrites. protox then knows neither the
/// file's path nor its text, so it cannot locate errors: on any error, compile
/// again without this wrapper.
pub(crate) struct SlimResolver<R> {
    pub inner: R,
    pub aside: SetAside,
}

impl<R: FileResolver> FileResolver for SlimResolver<R> {
    fn resolve_path(&self, path: &Path) -> Option<String> {
        self.inner.resolve_path(path)
    }

    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        let file = self.inner.open_file(name)?;
        let mut descriptor = file.file_descriptor_proto().clone();
        if let Some(full) = descriptor.source_code_info.take() {
            let in_pool: Vec<usize> = full
                .location
                .iter()
                .enumerate()
                .filter(|(_, l)| l.path.contains(&UNINTERPRETED_OPTION))
                .map(|(i, _)| i)
                .collect();
            descriptor.source_code_info = Some(SourceCodeInfo {
                location: in_pool.iter().map(|&i| full.location[i].clone()).collect(),
            });
            let kept = Kept {
                full,
                in_pool,
                path: file.path().map(Path::to_path_buf),
            };
            self.aside
                .0
                .lock()
                .expect("not poisoned")
                .insert(name.to_string(), kept);
        }
        Ok(File::from_file_descriptor_proto(descriptor))
    }
}

impl SetAside {
    /// Where the wrapped resolver found `name`.
    pub fn path_of(&self, name: &str) -> Option<PathBuf> {
        let kept = self.0.lock().expect("not poisoned");
        kept.get(name).and_then(|k| k.path.clone())
    }

    /// Each file's whole source info: what was set aside, with the locations
    /// the pool rewrote put back in their places. `None` if the pool's do not
    /// line up with what was handed to it.
    pub fn merge(
        &self,
        pool: &prost_reflect::DescriptorPool,
    ) -> Option<HashMap<String, SourceCodeInfo>> {
        let mut kept = std::mem::take(&mut *self.0.lock().expect("not poisoned"));
        let mut merged = HashMap::with_capacity(kept.len());
        for file in pool.files() {
            let Some(Kept {
                mut full, in_pool, ..
            }) = kept.remove(file.name())
            else {
                continue;
            };
            let rewritten = file
                .file_descriptor_proto()
                .source_code_info
                .as_ref()
                .map_or(&[][..], |i| i.location.as_slice());
            if rewritten.len() != in_pool.len() {
                return None;
            }
            for (&at, location) in in_pool.iter().zip(rewritten) {
                full.location[at] = location.clone();
            }
            merged.insert(file.name().to_string(), full);
        }
        Some(merged)
    }
}

/// Replaces each file's source info in an encoded FileDescriptorSet, in place
/// (everything else is copied byte for byte: prost would drop custom options).
/// `None` if the set is malformed.
pub(crate) fn splice(set: &[u8], infos: &HashMap<String, SourceCodeInfo>) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(set.len() * 2);
    for (number, raw, payload) in fields(set)? {
        if number != SET_FILE || payload.is_none() {
            out.extend_from_slice(raw);
            continue;
        }
        let file = payload?;
        let name = fields(file)?
            .into_iter()
            .filter(|(n, _, p)| *n == 1 && p.is_some())
            .filter_map(|(_, _, p)| std::str::from_utf8(p?).ok())
            .next_back();
        let Some(info) = name.and_then(|n| infos.get(n)) else {
            out.extend_from_slice(raw);
            continue;
        };
        let mut rewritten = Vec::with_capacity(file.len() * 2);
        let mut placed = false;
        for (n, raw_field, _) in fields(file)? {
            if n == FILE_SOURCE_CODE_INFO {
                if !placed {
                    put_len(&mut rewritten, FILE_SOURCE_CODE_INFO, &info.encode_to_vec());
                    placed = true;
                }
            } else {
                rewritten.extend_from_slice(raw_field);
            }
        }
        if !placed {
            put_len(&mut rewritten, FILE_SOURCE_CODE_INFO, &info.encode_to_vec());
        }
        put_len(&mut out, SET_FILE, &rewritten);
    }
    Some(out)
}

fn put_len(out: &mut Vec<u8>, number: u64, payload: &[u8]) {
    encode_varint((number << 3) | 2, out);
    encode_varint(payload.len() as u64, out);
    out.extend_from_slice(payload);
}

/// Top-level fields of an encoded message: number, the field's whole bytes
/// (key included), and the payload of a length-delimited one.
type Field<'a> = (u64, &'a [u8], Option<&'a [u8]>);

fn fields(message: &[u8]) -> Option<Vec<Field<'_>>> {
    let mut out = Vec::new();
    let mut rest = message;
    while !rest.is_empty() {
        let start = rest;
        let key = decode_varint(&mut rest).ok()?;
        let payload = match key & 7 {
            0 => {
                decode_varint(&mut rest).ok()?;
                None
            }
            1 => {
                rest = rest.get(8..)?;
                None
            }
            5 => {
                rest = rest.get(4..)?;
                None
            }
            2 => {
                let len = usize::try_from(decode_varint(&mut rest).ok()?).ok()?;
                let payload = rest.get(..len)?;
                rest = &rest[len..];
                Some(payload)
            }
            _ => return None,
        };
        out.push((key >> 3, &start[..start.len() - rest.len()], payload));
    }
    Some(out)
}
