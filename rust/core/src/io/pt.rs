//! Reading PyTorch checkpoints (`torch.save` files) without Python and without running
//! anything the file asks for.
//!
//! Two formats are read:
//! - the zip format (PyTorch >= 1.6, and what `ferrotorch.save` writes): records
//!   `<dir>/data.pkl` (the object, a pickle), `<dir>/data/<key>` (one record per storage,
//!   its raw bytes) and `<dir>/byteorder` (`little` or `big`);
//! - the legacy format (`_use_new_zipfile_serialization=False`): pickles back to back
//!   (magic number, protocol version, sys info, the object, the list of storage keys),
//!   then each storage as an 8-byte little-endian element count and its bytes.
//!
//! The object pickle is parsed by [`super::pickle`] into inert values and then
//! interpreted here against an allow-list, like `torch.load(weights_only=True)`:
//! tensors (`torch._utils._rebuild_tensor_v2`, `_rebuild_tensor`, `_rebuild_parameter`,
//! `_rebuild_parameter_with_state`), `collections.OrderedDict`, `torch.Size`,
//! `torch.device`, dtype names (`torch.float32`, ...), bytes (`_codecs.encode`,
//! `builtins.bytes`), `builtins.set`/`frozenset`/`complex`, and plain containers and
//! scalars. Any other global is an error naming it: a checkpoint cannot make this reader
//! do anything a state dict does not need. TorchScript archives (code) are refused.
//!
//! Storages are loaded once per key and shared by every tensor over them (views in the
//! file are views here). Every size the file states is checked before it is used: a
//! storage's declared `numel * itemsize` against its record, each tensor's size, stride
//! and offset against its storage ([`Tensor::from_storage`]). All tensors load onto the
//! CPU, whatever device they were saved from.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::pickle::{self, Id, Pickle, Value};
use super::zip::Archive;
use crate::dtype::DType;
use crate::error::Result;
use crate::shape::Layout;
use crate::storage::Storage;
use crate::tensor::Tensor;
use crate::{bail, err};

/// A Python object from a checkpoint, as far as checkpoints hold them.
#[derive(Clone, Debug)]
pub enum Object {
    None,
    Bool(bool),
    Int(i64),
    /// An integer outside `i64`: little-endian two's-complement bytes (see
    /// [`pickle::bigint_to_string`]).
    BigInt(Vec<u8>),
    Float(f64),
    Complex { re: f64, im: f64 },
    Str(String),
    Bytes(Vec<u8>),
    /// A tensor or an `nn.Parameter` (with `requires_grad` as saved), on the CPU.
    Tensor(Tensor),
    /// Also what a `torch.Size` loads as.
    Tuple(Vec<Object>),
    List(Vec<Object>),
    /// `dict` or `OrderedDict`, in insertion order. An `OrderedDict`'s attributes (a
    /// module state dict's `_metadata`) are not kept.
    Dict(Vec<(Object, Object)>),
    /// `set` or `frozenset`, in the order written.
    Set(Vec<Object>),
    /// A dtype object (`torch.float32`).
    DType(DType),
    /// A `torch.device`, as its string (`"cpu"`, `"cuda:0"`).
    Device(String),
}

impl Object {
    /// Python's name for the type, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Object::None => "None",
            Object::Bool(_) => "bool",
            Object::Int(_) | Object::BigInt(_) => "int",
            Object::Float(_) => "float",
            Object::Complex { .. } => "complex",
            Object::Str(_) => "str",
            Object::Bytes(_) => "bytes",
            Object::Tensor(_) => "Tensor",
            Object::Tuple(_) => "tuple",
            Object::List(_) => "list",
            Object::Dict(_) => "dict",
            Object::Set(_) => "set",
            Object::DType(_) => "torch.dtype",
            Object::Device(_) => "torch.device",
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Object::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Object::Int(i) => Some(*i),
            _ => None,
        }
    }
    /// A float, or an int as a float (Python's numeric tower).
    pub fn as_float(&self) -> Option<f64> {
        match self {
            Object::Float(f) => Some(*f),
            Object::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Object::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_tensor(&self) -> Option<&Tensor> {
        match self {
            Object::Tensor(t) => Some(t),
            _ => None,
        }
    }
    /// The items of a tuple, list or set.
    pub fn as_items(&self) -> Option<&[Object]> {
        match self {
            Object::Tuple(v) | Object::List(v) | Object::Set(v) => Some(v),
            _ => None,
        }
    }
    /// The pairs of a dict.
    pub fn as_dict(&self) -> Option<&[(Object, Object)]> {
        match self {
            Object::Dict(d) => Some(d),
            _ => None,
        }
    }
    /// `self[key]` for a dict with string keys (the last pair wins, as in Python).
    pub fn get(&self, key: &str) -> Option<&Object> {
        self.as_dict()?.iter().rev().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v)
    }
    /// `self[key]` for a dict with int keys (an optimizer's `state`).
    pub fn get_int(&self, key: i64) -> Option<&Object> {
        self.as_dict()?.iter().rev().find(|(k, _)| k.as_int() == Some(key)).map(|(_, v)| v)
    }
}

/// A loaded checkpoint: the object `torch.save` was given.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    pub root: Object,
}

impl Checkpoint {
    /// The tensors of a top-level `{name: tensor}` dict (a module's `state_dict()`), in
    /// file order. Entries that are not tensors are skipped; nested dicts are not
    /// flattened (PyTorch does not either: `load_state_dict` takes the top level).
    pub fn state_dict(&self) -> Result<Vec<(String, Tensor)>> {
        let Some(pairs) = self.root.as_dict() else {
            bail!(Runtime, "the checkpoint holds a {}, not a state dict", self.root.kind());
        };
        let mut out = Vec::new();
        for (k, v) in pairs {
            if let Object::Tensor(t) = v {
                let Some(name) = k.as_str() else {
                    bail!(Runtime, "state dict key of type {} (expected str) for a tensor", k.kind());
                };
                out.push((name.to_owned(), t.clone()));
            }
        }
        if out.is_empty() && !pairs.is_empty() {
            let keys: Vec<String> = pairs.iter().take(8).map(|(k, _)| k.as_str().map_or_else(|| format!("<{}>", k.kind()), |s| format!("{s:?}"))).collect();
            bail!(
                Runtime,
                "the checkpoint's top-level dict holds no tensors (keys {}{}); if it nests a state dict, take that entry with `root.get(..)`",
                keys.join(", "),
                if pairs.len() > 8 { ", ..." } else { "" }
            );
        }
        Ok(out)
    }
}

/// Read a checkpoint file (copying each storage into memory).
pub fn load(path: impl AsRef<Path>) -> Result<Checkpoint> {
    let path = path.as_ref();
    let buf = std::fs::read(path).map_err(|e| err!(Runtime, "cannot read {}: {e}", path.display()))?;
    load_bytes(&buf)
}

/// Read a checkpoint held in memory (storages are copied out of `buf`).
pub fn load_bytes(buf: &[u8]) -> Result<Checkpoint> {
    let parsed = parse_file(buf)?;
    Loader::new(&parsed, Backing::Bytes(buf)).run()
}

/// Read a checkpoint through a copy-on-write memory map of the file: each storage whose
/// record is aligned for its dtype is used in place (zero-copy; pages are read when
/// touched, and writing to a tensor changes this process's copy only, never the file).
/// Misaligned records (files written by other zip tools, the legacy format), bool
/// storages (validated byte by byte) and byte-swapped ones are copied.
///
/// As with every memory-mapped load, the file must not be truncated or rewritten by
/// another process while the tensors are alive.
pub fn load_mmap(path: impl AsRef<Path>) -> Result<Checkpoint> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| err!(Runtime, "cannot open {}: {e}", path.display()))?;
    let len = file.metadata().map_err(|e| err!(Runtime, "cannot read {}: {e}", path.display()))?.len();
    if len == 0 {
        bail!(Runtime, "{} is empty, not a checkpoint", path.display());
    }
    // SAFETY: a private (MAP_PRIVATE) mapping of a file we opened read-only: our writes go
    // to copied pages, never to the file. Its contents may still change if another process
    // rewrites the file while it is mapped; like PyTorch's `mmap=True` we require that it
    // does not (documented above).
    let mut map = unsafe { memmap2::MmapOptions::new().map_copy(&file) }.map_err(|e| err!(Runtime, "cannot map {}: {e}", path.display()))?;
    // Parse while the map is borrowed as a slice; the parsed form owns its data, so from
    // here on the map is only reached through `base` (no reference to it stays alive while
    // storages are fixed up in place).
    let parsed = parse_file(&map)?;
    let base = map.as_mut_ptr();
    let len = map.len();
    Loader::new(&parsed, Backing::Map { base, len, owner: Arc::new(map) }).run()
}

/// The `{name: tensor}` dict of a state-dict checkpoint: `load(path)?.state_dict()`.
pub fn load_state_dict(path: impl AsRef<Path>) -> Result<Vec<(String, Tensor)>> {
    load(path)?.state_dict()
}

// ---- the file: records and pickles ----------------------------------------------------

/// `torch.serialization.MAGIC_NUMBER` (0x1950a86a20f9469cfc6c), as LONG1 stores it.
const LEGACY_MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
/// `torch.serialization.PROTOCOL_VERSION`.
const LEGACY_PROTOCOL: i64 = 1001;

/// What the file says before any storage is made: the object pickle and where each
/// storage's bytes are.
struct Parsed {
    pickle: Pickle,
    /// Storage key -> (offset of its bytes in the file, length).
    records: HashMap<String, (usize, usize)>,
    legacy: bool,
    /// Storages hold big-endian elements (zip byteorder record `big`).
    big_endian: bool,
}

fn parse_file(buf: &[u8]) -> Result<Parsed> {
    if buf.starts_with(b"PK") {
        parse_zip(buf)
    } else if buf.first() == Some(&0x80) {
        parse_legacy(buf)
    } else if buf.len() > 262 && &buf[257..262] == b"ustar" {
        bail!(Runtime, "this is a tar checkpoint (PyTorch < 0.4), which is not supported: load and save it again with a newer PyTorch");
    } else {
        bail!(Runtime, "not a PyTorch checkpoint: neither a zip archive nor a legacy pickle stream (file of {} bytes)", buf.len());
    }
}

fn parse_zip(buf: &[u8]) -> Result<Parsed> {
    let archive = Archive::parse(buf)?;
    if archive.has("constants.pkl") {
        bail!(Runtime, "this is a TorchScript archive (torch.jit.save), not a torch.save checkpoint: it holds code, which this reader does not run");
    }
    let big_endian = match archive.get("byteorder") {
        None => false, // written before the record existed: little-endian
        Some(_) => match archive.bytes(buf, "byteorder")? {
            b"little" => false,
            b"big" => true,
            other => bail!(Runtime, "Unknown endianness type: {}", String::from_utf8_lossy(other)),
        },
    };
    let data = archive.bytes(buf, "data.pkl")?;
    let (pickle, used) = pickle::parse(data)?;
    if used != data.len() {
        bail!(Runtime, "data.pkl has {} bytes after its pickle", data.len() - used);
    }
    let mut records = HashMap::new();
    for r in &archive.records {
        if let Some(key) = r.name[archive.prefix.len()..].strip_prefix("data/") {
            // read_index checked offset + size against the buffer, which is in memory.
            records.insert(key.to_owned(), (r.offset as usize, r.size as usize));
        }
    }
    Ok(Parsed { pickle, records, legacy: false, big_endian })
}

fn parse_legacy(buf: &[u8]) -> Result<Parsed> {
    let mut pos = 0;
    let mut next = |what: &str| -> Result<Pickle> {
        let (p, n) = pickle::parse(&buf[pos..]).map_err(|e| err!(Runtime, "legacy checkpoint, {what} (at byte {pos}): {e}"))?;
        pos += n;
        Ok(p)
    };
    let magic = next("magic number")?;
    if *magic.root_value() != Value::BigInt(LEGACY_MAGIC.to_vec()) {
        bail!(Runtime, "Invalid magic number; corrupt file?");
    }
    let proto = next("protocol version")?;
    if *proto.root_value() != Value::Int(LEGACY_PROTOCOL) {
        bail!(Runtime, "Invalid protocol version: {:?}", proto.root_value());
    }
    let sys_info = next("sys info")?;
    if !matches!(sys_info.root_value(), Value::Dict(_)) {
        bail!(Runtime, "legacy checkpoint: sys info is a {}, not a dict", sys_info.root_value().kind());
    }
    let pickle = next("object")?;
    let keys = next("storage keys")?;
    let Value::List(key_ids) = keys.root_value() else {
        bail!(Runtime, "legacy checkpoint: the storage key list is a {}", keys.root_value().kind());
    };
    // Each storage's element size comes from the object pickle's persistent ids.
    let mut itemsizes: HashMap<String, (usize, usize)> = HashMap::new();
    for (id, v) in pickle.values.iter().enumerate() {
        if let Value::PersistentId(t) = v {
            let pid = parse_pid(&pickle, *t, true).map_err(|e| err!(Runtime, "{e} (persistent id #{id})"))?;
            let size = pid.dtype.size();
            if let Some(&(s, n)) = itemsizes.get(&pid.key) {
                if s != size || n != pid.numel {
                    bail!(Runtime, "legacy checkpoint: storage {} is declared as {n} x {s} bytes and as {} x {size} bytes", pid.key, pid.numel);
                }
            }
            itemsizes.insert(pid.key, (size, pid.numel));
        }
    }
    // The storages follow, in key-list order: an 8-byte element count (written in
    // little-endian order on every machine), then the elements.
    let mut records = HashMap::new();
    for &k in key_ids {
        let key = match keys.get(k) {
            Value::Str(s) => s.clone(),
            other => bail!(Runtime, "legacy checkpoint: storage key of type {}", other.kind()),
        };
        let &(itemsize, numel) = itemsizes.get(&key).ok_or_else(|| err!(Runtime, "legacy checkpoint: storage key {key:?} is not used by the object"))?;
        let head = buf.get(pos..pos + 8).ok_or_else(|| err!(Runtime, "legacy checkpoint truncated: storage {key:?} has no size (at byte {pos})"))?;
        let count = u64::from_le_bytes(head.try_into().unwrap_or([0; 8]));
        if count != numel as u64 {
            bail!(Runtime, "legacy checkpoint: storage {key:?} holds {count} elements but its tensors declare {numel}");
        }
        let nbytes = numel * itemsize; // parse_pid checked that this does not overflow
        let start = pos + 8;
        if nbytes > buf.len() - start {
            bail!(Runtime, "legacy checkpoint truncated: storage {key:?} needs {nbytes} bytes at byte {start} but the file has {}", buf.len());
        }
        if records.insert(key.clone(), (start, nbytes)).is_some() {
            bail!(Runtime, "legacy checkpoint: storage key {key:?} is listed twice");
        }
        pos = start + nbytes;
    }
    if let Some(k) = itemsizes.keys().find(|k| !records.contains_key(*k)) {
        bail!(Runtime, "legacy checkpoint: storage {k:?} is used but its data is not in the file");
    }
    Ok(Parsed { pickle, records, legacy: true, big_endian: false })
}

/// A persistent id: `('storage', torch.XStorage, key, location, numel)` in the zip
/// format, with a sixth item (`None` or `(view_key, offset, numel)`) in the legacy one.
struct Pid {
    dtype: DType,
    key: String,
    numel: usize,
    /// A view of part of the storage: (element offset, element count).
    view: Option<(usize, usize)>,
}

fn text(p: &Pickle, id: Id) -> Option<&str> {
    match p.get(id) {
        Value::Str(s) => Some(s),
        // Python 2 files read with encoding='bytes' give these as bytes.
        Value::Bytes(b) => std::str::from_utf8(b).ok(),
        _ => None,
    }
}

fn count(p: &Pickle, id: Id, what: &str) -> Result<usize> {
    match p.get(id) {
        Value::Int(i) => usize::try_from(*i).map_err(|_| err!(Runtime, "{what} is negative ({i})")),
        v => bail!(Runtime, "{what} is a {} (expected a non-negative int)", v.kind()),
    }
}

fn parse_pid(p: &Pickle, id: Id, legacy: bool) -> Result<Pid> {
    let Value::Tuple(items) = p.get(id) else {
        bail!(Runtime, "persistent id is a {} (expected a tuple)", p.get(id).kind());
    };
    match items.first().and_then(|&t| text(p, t)) {
        Some("storage") => {}
        Some("module") => bail!(Runtime, "the checkpoint pickles a whole nn.Module (torch.save(model)), which needs its Python class; save model.state_dict() instead"),
        Some(other) => bail!(Runtime, "Unknown typename for persistent_load, expected 'storage' but got '{other}'"),
        None => bail!(Runtime, "persistent id does not start with a type name"),
    }
    let want = if legacy { 6 } else { 5 };
    if items.len() != want {
        bail!(Runtime, "storage persistent id has {} items (expected {want})", items.len());
    }
    let dtype = match p.get(items[1]) {
        Value::Global { module, name } if module == "torch" || module == "torch.cuda" => {
            if name == "UntypedStorage" {
                DType::U8
            } else {
                super::storage_dtype(name).ok_or_else(|| {
                    err!(NotImplemented, "unsupported storage type {module}.{name}: ferrotorch has no dtype for it (it reads bool, uint8, int8-64, float16, bfloat16, float32, float64)")
                })?
            }
        }
        Value::Global { module, name } => bail!(Runtime, "unsupported storage type {module}.{name}"),
        v => bail!(Runtime, "storage type is a {} (expected a torch storage class)", v.kind()),
    };
    let key = text(p, items[2]).ok_or_else(|| err!(Runtime, "storage key is a {} (expected str)", p.get(items[2]).kind()))?.to_owned();
    if text(p, items[3]).is_none() {
        bail!(Runtime, "storage location is a {} (expected str)", p.get(items[3]).kind());
    }
    let numel = count(p, items[4], "storage numel")?;
    if numel.checked_mul(dtype.size()).is_none() {
        bail!(Runtime, "storage {key} of {numel} elements overflows");
    }
    let view = if legacy {
        match p.get(items[5]) {
            Value::None => None,
            Value::Tuple(v) if v.len() == 3 => {
                let offset = count(p, v[1], "storage view offset")?;
                let size = count(p, v[2], "storage view size")?;
                if offset.checked_add(size).is_none_or(|end| end > numel) {
                    bail!(Runtime, "storage view of {size} elements at {offset} is out of bounds for storage {key} of {numel}");
                }
                Some((offset, size))
            }
            v => bail!(Runtime, "storage view metadata is a {} (expected None or a 3-tuple)", v.kind()),
        }
    } else {
        None
    };
    Ok(Pid { dtype, key, numel, view })
}

// ---- storages ---------------------------------------------------------------------------

/// Where storage bytes come from.
enum Backing<'a> {
    /// The file's bytes: each storage is a copy.
    Bytes(&'a [u8]),
    /// A private writable map of the file, reached only through `base` once parsed;
    /// `owner` keeps it alive inside every storage that points into it.
    Map { base: *mut u8, len: usize, owner: Arc<memmap2::MmapMut> },
}

impl Backing<'_> {
    fn storage(&self, offset: usize, nbytes: usize, dtype: DType, swap: bool) -> Result<Storage> {
        let end = offset.checked_add(nbytes).ok_or_else(|| err!(Runtime, "storage record out of range"))?;
        let storage = match self {
            Backing::Bytes(buf) => {
                let src = buf.get(offset..end).ok_or_else(|| err!(Runtime, "storage record ({nbytes} bytes at {offset}) is outside the file"))?;
                Storage::cpu_from_bytes(src)?
            }
            Backing::Map { base, len, owner } => {
                if end > *len {
                    bail!(Runtime, "storage record ({nbytes} bytes at {offset}) is outside the file");
                }
                // SAFETY: offset + nbytes <= len, the length of the live mapping at `base`.
                let ptr = unsafe { base.add(offset) };
                // Bool storages are always copied: a mapped one could share bytes with a
                // storage of another dtype in a crafted file (overlapping records), through
                // which a write could make a bool invalid.
                let in_place = nbytes > 0 && dtype != DType::Bool && (ptr as usize).is_multiple_of(dtype.size());
                if in_place {
                    // SAFETY: the range is inside the private writable mapping; nothing else
                    // refers to these bytes while they are fixed up (the pickle was parsed
                    // into owned values, storages made earlier are not in use during a load).
                    super::fix_storage_bytes(unsafe { std::slice::from_raw_parts_mut(ptr, nbytes) }, dtype, swap);
                    // SAFETY: ptr is valid for reads and writes of nbytes while the mapping
                    // lives, which the owner (an Arc of it) guarantees; it is aligned for
                    // `dtype` (checked above).
                    return Ok(unsafe { Storage::from_external(ptr, nbytes, Box::new(owner.clone())) });
                }
                // SAFETY: as above, the range is inside the live mapping, and it is only read.
                let src = if nbytes == 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(ptr, nbytes) } };
                Storage::cpu_from_bytes(src)?
            }
        };
        if nbytes > 0 {
            // SAFETY: a fresh allocation of nbytes initialised bytes that nothing else
            // refers to yet.
            super::fix_storage_bytes(unsafe { std::slice::from_raw_parts_mut(storage.ptr(), nbytes) }, dtype, swap);
        }
        Ok(storage)
    }
}

/// A storage as a tensor sees it: the shared bytes, the dtype it is read as, and the
/// part of it (in elements) the persistent id covers (all of it but for legacy views).
struct StorageRef {
    storage: Storage,
    dtype: DType,
    base: usize,
    len: usize,
}

// ---- the object --------------------------------------------------------------------

/// Objects nest at most this deep (Python's pickler fails past its recursion limit of
/// about 1000 anyway); it also ends a container that contains itself.
const MAX_DEPTH: usize = 1000;

struct Loader<'a> {
    p: &'a Pickle,
    parsed: &'a Parsed,
    backing: Backing<'a>,
    /// Root storages by key, with the dtype they were first loaded as.
    storages: HashMap<String, (Storage, DType)>,
    /// Tensors made, by the pickle value that made them: a tensor referenced twice is one
    /// tensor (`[p, p]` loads as two handles of the same parameter).
    tensors: HashMap<Id, Tensor>,
    /// Bytes of `Object` still allowed: a shared container is copied at each reference,
    /// so this bounds what a file of repeated references can expand to.
    budget: usize,
}

/// Python 2 spelled `builtins` `__builtin__`; pickle's fix_imports maps it back.
fn module_name(m: &str) -> &str {
    if m == "__builtin__" {
        "builtins"
    } else {
        m
    }
}

/// Dtype objects a checkpoint may name (`torch.float32`), with their aliases.
fn dtype_global(name: &str) -> Option<DType> {
    Some(match name {
        "bool" => DType::Bool,
        "uint8" => DType::U8,
        "int8" => DType::I8,
        "int16" | "short" => DType::I16,
        "int32" | "int" => DType::I32,
        "int64" | "long" => DType::I64,
        "float16" | "half" => DType::F16,
        "bfloat16" => DType::BF16,
        "float32" | "float" => DType::F32,
        "float64" | "double" => DType::F64,
        _ => return None,
    })
}

fn disallowed(module: &str, name: &str) -> crate::error::Error {
    err!(
        Runtime,
        "unsupported global {module}.{name}: the checkpoint asks for {module}.{name}, which is not on the allow-list of tensor and container constructors (a checkpoint reader never runs other code)"
    )
}

impl<'a> Loader<'a> {
    fn new(parsed: &'a Parsed, backing: Backing<'a>) -> Loader<'a> {
        // Generous for any real file (objects are about the size of their pickle) and
        // bounded for a "billion laughs" one.
        let budget = (64usize << 20).saturating_add(parsed.pickle.values.len().saturating_mul(256));
        Loader { p: &parsed.pickle, parsed, backing, storages: HashMap::new(), tensors: HashMap::new(), budget }
    }

    fn run(mut self) -> Result<Checkpoint> {
        let root = self.object(self.p.root, 0)?;
        Ok(Checkpoint { root })
    }

    fn charge(&mut self, bytes: usize) -> Result<()> {
        let cost = bytes.saturating_add(std::mem::size_of::<Object>());
        if cost > self.budget {
            bail!(Runtime, "the checkpoint's objects expand to too much memory (a container referenced too many times)");
        }
        self.budget -= cost;
        Ok(())
    }

    fn object(&mut self, id: Id, depth: usize) -> Result<Object> {
        if depth > MAX_DEPTH {
            bail!(Runtime, "objects nest more than {MAX_DEPTH} deep (or a container contains itself)");
        }
        self.charge(0)?;
        let p = self.p;
        Ok(match p.get(id) {
            Value::None => Object::None,
            Value::Bool(b) => Object::Bool(*b),
            Value::Int(i) => Object::Int(*i),
            Value::Float(f) => Object::Float(*f),
            Value::BigInt(b) => {
                self.charge(b.len())?;
                Object::BigInt(b.clone())
            }
            Value::Str(s) => {
                self.charge(s.len())?;
                Object::Str(s.clone())
            }
            Value::Bytes(b) => {
                self.charge(b.len())?;
                Object::Bytes(b.clone())
            }
            Value::Tuple(items) => Object::Tuple(self.objects(items, depth)?),
            Value::List(items) => Object::List(self.objects(items, depth)?),
            Value::Set(items) | Value::FrozenSet(items) => Object::Set(self.objects(items, depth)?),
            Value::Dict(pairs) => Object::Dict(self.pairs(pairs, depth)?),
            Value::Global { module, name } => {
                let module = module_name(module);
                match dtype_global(name) {
                    Some(d) if module == "torch" => Object::DType(d),
                    None if module == "torch" && is_torch_dtype_name(name) => {
                        bail!(NotImplemented, "unsupported dtype torch.{name}: ferrotorch has no such dtype")
                    }
                    _ => return Err(disallowed(module, name)),
                }
            }
            Value::Reduce { callable, args } | Value::NewObj { cls: callable, args } => self.call(id, *callable, *args, depth)?,
            Value::SetItems { obj, items } => {
                // `OrderedDict()` followed by SETITEMS: the dict's contents.
                match self.object(*obj, depth + 1)? {
                    Object::Dict(mut d) => {
                        d.extend(self.pairs(items, depth)?);
                        Object::Dict(d)
                    }
                    other => bail!(Runtime, "cannot set items on a {}", other.kind()),
                }
            }
            Value::Appends { obj, .. } => {
                let what = self.object(*obj, depth + 1)?;
                bail!(Runtime, "cannot append to a {}", what.kind())
            }
            Value::Build { obj, state } => {
                // BUILD sets attributes; the only object that may have them here is an
                // OrderedDict (a module state dict's `_metadata`), and they are dropped.
                if !self.is_ordered_dict(*obj) {
                    let what = self.object(*obj, depth + 1)?;
                    bail!(Runtime, "cannot set the state of a {} (BUILD)", what.kind());
                }
                let d = self.object(*obj, depth + 1)?;
                // Still checked against the allow-list, then dropped.
                self.object(*state, depth + 1)?;
                d
            }
            Value::PersistentId(_) => {
                bail!(Runtime, "the checkpoint holds a bare storage, not a tensor; this reader loads tensors (save the tensor instead)")
            }
        })
    }

    fn objects(&mut self, ids: &[Id], depth: usize) -> Result<Vec<Object>> {
        ids.iter().map(|&i| self.object(i, depth + 1)).collect()
    }

    fn pairs(&mut self, pairs: &[(Id, Id)], depth: usize) -> Result<Vec<(Object, Object)>> {
        pairs.iter().map(|&(k, v)| Ok((self.object(k, depth + 1)?, self.object(v, depth + 1)?))).collect()
    }

    /// Whether `id` is an `OrderedDict(...)` call, possibly with items set on it.
    fn is_ordered_dict(&self, mut id: Id) -> bool {
        // SetItems wrappers nest at most once per SETITEMS opcode, and each points to an
        // earlier-created slot, so this walk ends.
        for _ in 0..self.p.values.len() {
            match self.p.get(id) {
                Value::SetItems { obj, .. } | Value::Build { obj, .. } => id = *obj,
                Value::Reduce { callable, .. } | Value::NewObj { cls: callable, .. } => {
                    return matches!(self.p.get(*callable), Value::Global { module, name } if module == "collections" && name == "OrderedDict");
                }
                _ => return false,
            }
        }
        false
    }

    /// `callable(*args)` for an allowed callable.
    fn call(&mut self, id: Id, callable: Id, args: Id, depth: usize) -> Result<Object> {
        if let Some(t) = self.tensors.get(&id) {
            return Ok(Object::Tensor(t.clone()));
        }
        let p = self.p;
        let (module, name) = match p.get(callable) {
            Value::Global { module, name } => (module_name(module), name.as_str()),
            v => bail!(Runtime, "REDUCE of a {} (only named constructors from the allow-list are called)", v.kind()),
        };
        let Value::Tuple(argv) = p.get(args) else {
            bail!(Runtime, "arguments of {module}.{name} are a {} (expected a tuple)", p.get(args).kind());
        };
        let nargs = |range: std::ops::RangeInclusive<usize>| -> Result<()> {
            if !range.contains(&argv.len()) {
                bail!(Runtime, "{module}.{name} takes {} to {} arguments, got {}", range.start(), range.end(), argv.len());
            }
            Ok(())
        };
        match (module, name) {
            ("torch._utils", "_rebuild_tensor_v2") | ("torch._utils", "_rebuild_tensor") => {
                let v2 = name == "_rebuild_tensor_v2";
                if v2 { nargs(6..=7)? } else { nargs(4..=4)? }
                let t = self.rebuild_tensor(argv)?;
                if v2 {
                    if self.bool_arg(argv[4], "requires_grad")? {
                        t.set_requires_grad(true)?;
                    }
                    self.no_hooks(argv[5], depth)?;
                    if let Some(&m) = argv.get(6) {
                        self.no_metadata(m, depth)?;
                    }
                }
                self.tensors.insert(id, t.clone());
                Ok(Object::Tensor(t))
            }
            ("torch._utils", "_rebuild_parameter") | ("torch._utils", "_rebuild_parameter_with_state") => {
                let with_state = name == "_rebuild_parameter_with_state";
                if with_state { nargs(4..=4)? } else { nargs(3..=3)? }
                let data = match self.object(argv[0], depth + 1)? {
                    Object::Tensor(t) => t,
                    other => bail!(Runtime, "{module}.{name}: data is a {} (expected a tensor)", other.kind()),
                };
                // nn.Parameter(data) is a new tensor over the same storage.
                let t = Tensor::from_data(data.data().clone());
                t.set_requires_grad(self.bool_arg(argv[1], "requires_grad")?)?;
                self.no_hooks(argv[2], depth)?;
                if with_state {
                    // Python attributes set on the parameter: checked, then dropped.
                    self.object(argv[3], depth + 1)?;
                }
                self.tensors.insert(id, t.clone());
                Ok(Object::Tensor(t))
            }
            ("collections", "OrderedDict") => {
                nargs(0..=1)?;
                let mut out = Vec::new();
                if let Some(&a) = argv.first() {
                    let items = self.object(a, depth + 1)?;
                    let Some(items) = items.as_items() else {
                        bail!(Runtime, "OrderedDict of a {} (expected a list of pairs)", items.kind());
                    };
                    for it in items {
                        match it.as_items() {
                            Some([k, v]) => out.push((k.clone(), v.clone())),
                            _ => bail!(Runtime, "OrderedDict item is not a (key, value) pair"),
                        }
                    }
                }
                Ok(Object::Dict(out))
            }
            ("torch", "Size") => {
                nargs(0..=1)?;
                let dims = match argv.first() {
                    None => Vec::new(),
                    Some(&a) => match self.object(a, depth + 1)? {
                        Object::Tuple(v) | Object::List(v) if v.iter().all(|d| matches!(d, Object::Int(_))) => v,
                        other => bail!(Runtime, "torch.Size of a {} (expected a tuple of ints)", other.kind()),
                    },
                };
                Ok(Object::Tuple(dims))
            }
            ("torch", "device") => {
                nargs(1..=2)?;
                let kind = self.object(argv[0], depth + 1)?;
                let Some(kind) = kind.as_str() else {
                    bail!(Runtime, "torch.device of a {} (expected a str)", kind.kind());
                };
                let dev = match argv.get(1) {
                    None => kind.to_owned(),
                    Some(&i) => match self.object(i, depth + 1)? {
                        Object::Int(i) => format!("{kind}:{i}"),
                        Object::None => kind.to_owned(),
                        other => bail!(Runtime, "torch.device index is a {}", other.kind()),
                    },
                };
                Ok(Object::Device(dev))
            }
            ("_codecs", "encode") => {
                // How protocol 2 pickles bytes: encode(bytes.decode('latin1'), 'latin1').
                nargs(1..=2)?;
                let s = self.object(argv[0], depth + 1)?;
                let enc = match argv.get(1) {
                    None => Object::Str("utf-8".into()),
                    Some(&e) => self.object(e, depth + 1)?,
                };
                let (Some(s), Some(enc)) = (s.as_str(), enc.as_str()) else {
                    bail!(Runtime, "_codecs.encode of a {} with encoding {} (expected two str)", s.kind(), enc.kind());
                };
                let bytes = match enc.to_ascii_lowercase().replace('_', "-").as_str() {
                    "latin1" | "latin-1" | "iso-8859-1" | "iso8859-1" => s
                        .chars()
                        .map(|c| u8::try_from(u32::from(c)).map_err(|_| err!(Runtime, "_codecs.encode: {c:?} is not latin-1")))
                        .collect::<Result<Vec<u8>>>()?,
                    "utf-8" | "utf8" => s.as_bytes().to_vec(),
                    other => bail!(Runtime, "_codecs.encode with encoding {other:?} (latin1 and utf-8 are read)"),
                };
                Ok(Object::Bytes(bytes))
            }
            ("builtins", "bytes") => {
                // bytes() (how protocol 2 pickles b'').
                nargs(0..=0)?;
                Ok(Object::Bytes(Vec::new()))
            }
            ("builtins", "set") | ("builtins", "frozenset") => {
                nargs(0..=1)?;
                let items = match argv.first() {
                    None => Vec::new(),
                    Some(&a) => match self.object(a, depth + 1)? {
                        Object::List(v) | Object::Tuple(v) | Object::Set(v) => v,
                        other => bail!(Runtime, "{name} of a {}", other.kind()),
                    },
                };
                Ok(Object::Set(items))
            }
            ("builtins", "complex") => {
                nargs(1..=2)?;
                let re = self.object(argv[0], depth + 1)?;
                let im = match argv.get(1) {
                    None => Object::Float(0.0),
                    Some(&i) => self.object(i, depth + 1)?,
                };
                match (re.as_float(), im.as_float()) {
                    (Some(re), Some(im)) => Ok(Object::Complex { re, im }),
                    _ => bail!(Runtime, "complex of a {} and a {}", re.kind(), im.kind()),
                }
            }
            _ => Err(disallowed(module, name)),
        }
    }

    fn bool_arg(&self, id: Id, what: &str) -> Result<bool> {
        match self.p.get(id) {
            Value::Bool(b) => Ok(*b),
            v => bail!(Runtime, "{what} is a {} (expected a bool)", v.kind()),
        }
    }

    /// Backward hooks are never saved by PyTorch (an empty OrderedDict stands in for them).
    fn no_hooks(&mut self, id: Id, depth: usize) -> Result<()> {
        match self.object(id, depth + 1)? {
            Object::Dict(d) if d.is_empty() => Ok(()),
            Object::None => Ok(()),
            other => bail!(Runtime, "the tensor was saved with backward hooks ({}), which cannot be loaded", other.kind()),
        }
    }

    /// `_rebuild_tensor_v2`'s metadata: the conjugate/negative bits, which ferrotorch's
    /// real dtypes do not have. Absent or all-false is fine.
    fn no_metadata(&mut self, id: Id, depth: usize) -> Result<()> {
        match self.object(id, depth + 1)? {
            Object::None => Ok(()),
            Object::Dict(d) if d.iter().all(|(_, v)| v.as_bool() == Some(false)) => Ok(()),
            Object::Dict(d) => {
                let keys: Vec<&str> = d.iter().filter_map(|(k, _)| k.as_str()).collect();
                bail!(Runtime, "unsupported tensor metadata {keys:?} (conjugate or negative views are not supported)")
            }
            other => bail!(Runtime, "tensor metadata is a {} (expected a dict)", other.kind()),
        }
    }

    /// A tuple of non-negative ints (a size or a stride).
    fn dims(&self, id: Id, what: &str) -> Result<Vec<usize>> {
        let p = self.p;
        let items = match p.get(id) {
            Value::Tuple(v) | Value::List(v) => v,
            // torch.Size((..)) rather than a plain tuple.
            Value::Reduce { callable, args } if matches!(p.get(*callable), Value::Global { module, name } if module == "torch" && name == "Size") => match p.get(*args) {
                Value::Tuple(a) if a.len() == 1 => match p.get(a[0]) {
                    Value::Tuple(v) | Value::List(v) => v,
                    v => bail!(Runtime, "tensor {what} is a torch.Size of a {}", v.kind()),
                },
                _ => bail!(Runtime, "tensor {what} is a malformed torch.Size"),
            },
            v => bail!(Runtime, "tensor {what} is a {} (expected a tuple of ints)", v.kind()),
        };
        items.iter().map(|&d| count(p, d, &format!("tensor {what} entry"))).collect()
    }

    /// `_rebuild_tensor(storage, storage_offset, size, stride)`: the first four arguments
    /// of either rebuild function.
    fn rebuild_tensor(&mut self, argv: &[Id]) -> Result<Tensor> {
        let Value::PersistentId(pid) = self.p.get(argv[0]) else {
            bail!(Runtime, "tensor storage is a {} (expected a persistent storage id)", self.p.get(argv[0]).kind());
        };
        let s = self.storage(*pid)?;
        let offset = count(self.p, argv[1], "tensor storage offset")?;
        let size = self.dims(argv[2], "size")?;
        let stride = self.dims(argv[3], "stride")?;
        if size.len() != stride.len() {
            bail!(Runtime, "mismatch in length of strides and shape: size {size:?}, stride {stride:?}");
        }
        // Within the part of the storage the persistent id covers (all of it but for a
        // legacy storage view) ...
        let layout = Layout { shape: size.as_slice().into(), strides: stride.as_slice().into(), offset };
        match layout.checked_required_len() {
            Some(n) if n <= s.len => {}
            _ => bail!(
                Runtime,
                "tensor of size {size:?}, stride {stride:?} and storage offset {offset} is out of bounds for its storage of {} elements",
                s.len
            ),
        }
        // ... and within the storage (checked again, overflow-safe, by from_storage).
        Tensor::from_storage(s.storage, s.dtype, &size, &stride, s.base + offset)
    }

    /// The storage a persistent id names, loaded on first use.
    fn storage(&mut self, pid_id: Id) -> Result<StorageRef> {
        let pid = parse_pid(self.p, pid_id, self.parsed.legacy)?;
        let nbytes = pid.numel * pid.dtype.size(); // parse_pid checked the product
        let storage = match self.storages.get(&pid.key) {
            Some((s, first)) => {
                if s.nbytes() != nbytes {
                    bail!(Runtime, "storage {} is referenced with {} bytes and with {nbytes}", pid.key, s.nbytes());
                }
                // torch.save writes one dtype per storage that holds data (only empty ones
                // may be named with several). Refusing the rest also keeps a mapped
                // storage aligned for its dtype, and bool bytes out of reach of writes
                // through another dtype.
                if *first != pid.dtype && nbytes > 0 {
                    bail!(Runtime, "storage {} is referenced as both {} and {}", pid.key, first, pid.dtype);
                }
                s.clone()
            }
            None => {
                let &(offset, size) = self.parsed.records.get(&pid.key).ok_or_else(|| {
                    if self.parsed.legacy {
                        err!(Runtime, "storage {} has no data in the file", pid.key)
                    } else {
                        err!(Runtime, "PytorchStreamReader failed locating file data/{}: file not found", pid.key)
                    }
                })?;
                if size != nbytes {
                    bail!(
                        Runtime,
                        "storage {} is declared as {} elements of {} ({nbytes} bytes) but its record holds {size} bytes",
                        pid.key,
                        pid.numel,
                        pid.dtype
                    );
                }
                let s = self.backing.storage(offset, nbytes, pid.dtype, self.parsed.big_endian)?;
                self.storages.insert(pid.key.clone(), (s.clone(), pid.dtype));
                s
            }
        };
        let (base, len) = pid.view.unwrap_or((0, pid.numel));
        Ok(StorageRef { storage, dtype: pid.dtype, base, len })
    }
}

/// Dtypes PyTorch has and ferrotorch does not (named in errors rather than refused as
/// unknown globals).
fn is_torch_dtype_name(name: &str) -> bool {
    name.starts_with("complex")
        || name.starts_with("float8")
        || name.starts_with("qint")
        || name.starts_with("quint")
        || matches!(name, "cfloat" | "cdouble" | "chalf" | "uint16" | "uint32" | "uint64" | "float4_e2m1fn_x2" | "bits8" | "bits16")
}
