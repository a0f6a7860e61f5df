//! safetensors files (<https://github.com/huggingface/safetensors>), read and written
//! through the `safetensors` crate, which owns the format and validates headers
//! (offsets contiguous and in range, sizes matching shape and dtype, no overflow).
//!
//! Loading from a path maps the file copy-on-write: the tensors' memory is the map
//! itself (no copy, load time independent of file size), each tensor's storage keeps
//! the shared map alive, and writing to a tensor changes only this process's pages,
//! never the file. A tensor whose offset is not aligned for its dtype is copied.
//!
//! Writing never gathers a second copy of a contiguous CPU tensor: the crate reads the
//! tensor's storage bytes in place ([`View`]); non-contiguous and CUDA tensors are
//! made contiguous on the host first.

use std::any::Any;
use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use safetensors::tensor::{Dtype, SafeTensors, View};

use crate::device::Device;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::shape::contiguous_strides;
use crate::storage::Storage;
use crate::tensor::Tensor;
use crate::{bail, err};

/// What keeps the memory of shared (zero-copy) tensors alive: the memory map, or a
/// binding's buffer export. One `Arc` is shared by all tensors of a file.
pub type Owner = Arc<dyn Any + Send + Sync>;

/// A tensor's entry in a file's header: name, dtype, shape, and the byte range of its
/// data in the whole buffer (header included), in the order of the data.
pub type Entry = (String, DType, Vec<usize>, Range<usize>);

/// A file's header: its `__metadata__` (if any) and its tensors' entries.
pub type Header = (Option<HashMap<String, String>>, Vec<Entry>);

/// The ten dtypes both sides have, with their names in the format.
const DTYPES: [(Dtype, DType); 10] = [
    (Dtype::BOOL, DType::Bool),
    (Dtype::U8, DType::U8),
    (Dtype::I8, DType::I8),
    (Dtype::I16, DType::I16),
    (Dtype::I32, DType::I32),
    (Dtype::I64, DType::I64),
    (Dtype::F16, DType::F16),
    (Dtype::BF16, DType::BF16),
    (Dtype::F32, DType::F32),
    (Dtype::F64, DType::F64),
];

/// The format's name of a dtype ("F32", "BF16", ...).
pub fn format_dtype(dtype: DType) -> Dtype {
    DTYPES.iter().find(|(_, d)| *d == dtype).map(|&(f, _)| f).expect("every DType has a safetensors dtype")
}

/// The dtype of the format's `dtype` for tensor `name`; an error for dtypes ferrotorch
/// does not have (F8_*, U16/U32/U64, C64, ...).
pub fn dtype_of(dtype: Dtype, name: &str) -> Result<DType> {
    DTYPES.iter().find(|(f, _)| *f == dtype).map(|&(_, d)| d).ok_or_else(|| {
        err!(
            Runtime,
            "safetensors: tensor `{}` has dtype {}, which ferrotorch does not support (supported: BOOL, U8, I8, I16, I32, I64, F16, BF16, F32, F64)",
            name,
            dtype
        )
    })
}

fn read_error(e: safetensors::SafeTensorError) -> Error {
    err!(Runtime, "Error while deserializing header: {}", e)
}

fn write_error(e: safetensors::SafeTensorError) -> Error {
    err!(Runtime, "Error while serializing: {}", e)
}

/// The metadata (`__metadata__`) and the tensors of a whole file's bytes, in the order
/// of their data, without touching the data. Every entry's range lies inside `buf`;
/// an unsupported dtype is an error naming it and the tensor.
pub fn read_header(buf: &[u8]) -> Result<Header> {
    let (n, meta) = SafeTensors::read_metadata(buf).map_err(read_error)?;
    // read_metadata checked 8 + n + (end of the data) == buf.len().
    let base = 8 + n;
    let names = meta.offset_keys();
    let mut entries = Vec::with_capacity(names.len());
    for name in names {
        let info = meta.info(&name).ok_or_else(|| err!(Runtime, "Error while deserializing header: tensor `{}` not found", name))?;
        let dtype = dtype_of(info.dtype, &name)?;
        let (s, e) = info.data_offsets;
        let range = base.checked_add(s).zip(base.checked_add(e)).filter(|&(s, e)| s <= e && e <= buf.len());
        let Some((s, e)) = range else {
            bail!(Runtime, "Error while deserializing header: invalid offset for tensor `{}`", name);
        };
        entries.push((name, dtype, info.shape.clone(), s..e));
    }
    Ok((meta.metadata().clone(), entries))
}

/// Bytes of a BOOL tensor other than 0 and 1 would be invalid `bool`s for the kernels;
/// such a tensor is copied with every non-zero byte read as true (PyTorch's reading).
fn valid_bools(dtype: DType, bytes: &[u8]) -> bool {
    dtype != DType::Bool || bytes.iter().all(|&b| b <= 1)
}

/// One tensor of a header over `buf`: sharing `buf`'s memory when `owner` is given and
/// the data is aligned for the dtype, else a copy.
///
/// # Safety
/// With `owner`: `buf` must be writable memory that `owner` keeps alive (and at the
/// same address) for as long as `owner` lives, and no one else may write to it through
/// a Rust reference meanwhile (the tensors do write to it).
pub unsafe fn tensor_at(buf: &[u8], entry: &Entry, owner: Option<&Owner>) -> Result<Tensor> {
    let (name, dtype, shape, range) = entry;
    let bytes = buf.get(range.clone()).ok_or_else(|| err!(Runtime, "safetensors: the data of tensor `{}` lies outside the buffer", name))?;
    let aligned = (bytes.as_ptr() as usize).is_multiple_of(dtype.size());
    let storage = match owner {
        Some(owner) if aligned && valid_bools(*dtype, bytes) => {
            // SAFETY: the caller promises `buf` is writable and kept alive by `owner`,
            // which the storage holds; the bytes are aligned for the dtype and lie in buf.
            unsafe { Storage::from_external(bytes.as_ptr() as *mut u8, bytes.len(), Box::new(owner.clone())) }
        }
        _ => {
            let s = Storage::cpu_from_bytes(bytes)?;
            if !valid_bools(*dtype, bytes) {
                // SAFETY: s is a fresh CPU storage of bytes.len() bytes no one else sees.
                let b = unsafe { std::slice::from_raw_parts_mut(s.ptr(), bytes.len()) };
                b.iter_mut().for_each(|x| *x = (*x != 0) as u8);
            }
            s
        }
    };
    Tensor::from_storage(storage, *dtype, shape, &contiguous_strides(shape), 0)
}

/// A copy of one tensor of a header over `buf` (see [`read_header`]).
pub fn tensor_copied(buf: &[u8], entry: &Entry) -> Result<Tensor> {
    // SAFETY: without an owner nothing is shared.
    unsafe { tensor_at(buf, entry, None) }
}

/// The tensors of a file's bytes in the order of their data, sharing `buf`'s memory
/// (see [`tensor_at`]).
///
/// # Safety
/// As [`tensor_at`] with an owner.
pub unsafe fn load_shared(buf: &[u8], owner: Owner) -> Result<Vec<(String, Tensor)>> {
    let (_, entries) = read_header(buf)?;
    // SAFETY: forwarded from the caller.
    entries.into_iter().map(|e| Ok((e.0.clone(), unsafe { tensor_at(buf, &e, Some(&owner)) }?))).collect()
}

/// The tensors of a file's bytes, copied, in the order of their data.
pub fn load_bytes_ordered(buf: &[u8]) -> Result<Vec<(String, Tensor)>> {
    let (_, entries) = read_header(buf)?;
    entries.into_iter().map(|e| Ok((e.0.clone(), tensor_copied(buf, &e)?))).collect()
}

/// The tensors of a file's bytes (copies).
pub fn load_bytes(buf: &[u8]) -> Result<HashMap<String, Tensor>> {
    Ok(load_bytes_ordered(buf)?.into_iter().collect())
}

fn open_error(path: &Path, e: std::io::Error) -> Error {
    err!(Runtime, "safetensors: cannot read {}: {}", path.display(), e)
}

/// Map a file copy-on-write: (base pointer, length, owner of the map).
fn map_file(path: &Path) -> Result<(*mut u8, usize, Owner)> {
    let file = std::fs::File::open(path).map_err(|e| open_error(path, e))?;
    // SAFETY: a private (copy-on-write) map: our writes never reach the file. Another
    // process truncating the file while it is mapped makes later reads fault (SIGBUS),
    // as with every memory-mapped loader; writers of this module replace files by
    // renaming a new one over them, which leaves existing maps intact.
    let mut map = unsafe { memmap2::MmapOptions::new().map_copy(&file) }.map_err(|e| open_error(path, e))?;
    let (ptr, len) = (map.as_mut_ptr(), map.len());
    Ok((ptr, len, Arc::new(map)))
}

/// The tensors of a file in the order of their data, sharing a copy-on-write memory
/// map of it (no copy; writes to the tensors stay in this process).
pub fn load_ordered(path: impl AsRef<Path>) -> Result<Vec<(String, Tensor)>> {
    let (ptr, len, owner) = map_file(path.as_ref())?;
    // SAFETY: the map is `len` writable bytes at `ptr`, alive while `owner` (which the
    // tensors hold) is; moving the map into the Arc did not move the mapping.
    unsafe {
        let buf = if len == 0 { &[][..] } else { std::slice::from_raw_parts(ptr as *const u8, len) };
        load_shared(buf, owner)
    }
}

/// The tensors of a file, sharing a copy-on-write memory map of it (see [`load_ordered`]).
pub fn load(path: impl AsRef<Path>) -> Result<HashMap<String, Tensor>> {
    Ok(load_ordered(path)?.into_iter().collect())
}

/// The metadata and tensor entries of a file without reading its data (see [`read_header`]).
pub fn read_file_header(path: impl AsRef<Path>) -> Result<Header> {
    let (ptr, len, owner) = map_file(path.as_ref())?;
    // SAFETY: the map is alive until `owner` drops at the end of this function.
    let buf = if len == 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(ptr as *const u8, len) } };
    let r = read_header(buf);
    drop(owner);
    r
}

/// A contiguous CPU tensor's bytes as the crate's [`View`]: the writer reads the
/// storage in place.
struct TensorBytes {
    dtype: Dtype,
    shape: Vec<usize>,
    storage: Storage,
    start: usize,
    len: usize,
}

impl TensorBytes {
    fn new(t: &Tensor) -> Result<TensorBytes> {
        let t = if t.device() != Device::Cpu {
            t.to_device_raw(Device::Cpu)?
        } else if !t.is_contiguous() {
            t.contiguous_copy()?
        } else {
            t.clone()
        };
        let d = t.data();
        let len = d.layout.numel() * d.dtype.size();
        let start = d.layout.offset * d.dtype.size();
        if len > 0 && start.checked_add(len).is_none_or(|e| e > d.storage.nbytes()) {
            bail!(Runtime, "safetensors: a tensor's view runs past the end of its storage");
        }
        Ok(TensorBytes { dtype: format_dtype(d.dtype), shape: d.layout.shape.to_vec(), storage: d.storage.clone(), start, len })
    }
}

impl View for &TensorBytes {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        if self.len == 0 {
            return Cow::Borrowed(&[]);
        }
        // SAFETY: [start, start + len) lies in the CPU storage (checked in `new`), which
        // `self` keeps alive. Writing a file reads tensors no kernel of ours writes
        // meanwhile (another thread mutating a tensor during a save races as in
        // PyTorch: the bytes written are some mix, never out of bounds).
        Cow::Borrowed(unsafe { std::slice::from_raw_parts(self.storage.ptr().add(self.start), self.len) })
    }
    fn data_len(&self) -> usize {
        self.len
    }
}

fn prepare<'a, K: AsRef<str> + 'a>(tensors: impl IntoIterator<Item = (&'a K, &'a Tensor)>) -> Result<Vec<(String, TensorBytes)>> {
    let mut out: Vec<(String, TensorBytes)> = Vec::new();
    for (name, t) in tensors {
        out.push((name.as_ref().to_string(), TensorBytes::new(t)?));
    }
    let mut names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        bail!(Runtime, "safetensors: tensor name `{}` appears more than once", w[0]);
    }
    Ok(out)
}

/// A safetensors file's bytes for `tensors` (any iterable of (name, tensor), a
/// `&HashMap<String, Tensor>` say), with optional `__metadata__`.
pub fn serialize<'a, K: AsRef<str> + 'a>(
    tensors: impl IntoIterator<Item = (&'a K, &'a Tensor)>,
    metadata: Option<HashMap<String, String>>,
) -> Result<Vec<u8>> {
    let views = prepare(tensors)?;
    // The crate builds the file in one `Vec` of its final size, allocated infallibly: ask
    // for that size (data, plus a bound on the JSON header: escaping makes a string at most 6 times longer) first, so a file that
    // cannot fit in memory is PyTorch's out-of-memory error, not an abort.
    let data: usize = views.iter().map(|(_, v)| v.len).fold(0usize, usize::saturating_add);
    let header: usize = views.iter().map(|(n, v)| 6 * n.len() + 64 + 24 * v.shape.len()).sum::<usize>()
        + metadata.as_ref().map_or(0, |m| m.iter().map(|(k, v)| 6 * (k.len() + v.len()) + 8).sum());
    crate::storage::probe_host(data.saturating_add(header))?;
    safetensors::serialize(views.iter().map(|(n, v)| (n.as_str(), v)), metadata).map_err(write_error)
}

/// Write `tensors` to `path` as a safetensors file. The file is written under a
/// temporary name and renamed over `path`, so memory maps of an old file at `path`
/// (tensors loaded from it) stay valid.
pub fn save<'a, K: AsRef<str> + 'a>(
    tensors: impl IntoIterator<Item = (&'a K, &'a Tensor)>,
    metadata: Option<HashMap<String, String>>,
    path: impl AsRef<Path>,
) -> Result<()> {
    let views = prepare(tensors)?;
    safetensors::serialize_to_file(views.iter().map(|(n, v)| (n.as_str(), v)), metadata, path.as_ref()).map_err(write_error)
}
