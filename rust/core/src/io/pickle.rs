//! A strict reader of the pickle opcodes that PyTorch checkpoints use (protocols 2-5).
//!
//! This is a *parser*, not an unpickler: it never imports or calls anything. It turns a
//! pickle into a flat arena of [`Value`]s that refer to each other by index ([`Id`]);
//! what a `GLOBAL` or a `REDUCE` means is for the caller to decide (see [`super::pt`],
//! which accepts a short allow-list and refuses everything else).
//!
//! Why an arena: pickle's memo lets one object be referenced any number of times
//! (`BINGET`), and containers are filled *after* they are memoized (`EMPTY_DICT`,
//! `BINPUT`, `MARK`, ..., `SETITEMS`), so references must see later mutations. Indices
//! give both for free: a reference is one `usize`, a billion-laughs pickle costs memory
//! proportional to its length, and mutating a container mutates it for every reference.
//!
//! Every length in the input is checked against the bytes that remain before anything
//! is sliced or allocated; malformed input (truncation, stack underflow, a missing MARK,
//! a memo miss, an unknown opcode) is an [`Error::Runtime`](crate::error::Error) naming
//! the opcode and its byte position. The reader is a loop over opcodes with explicit
//! stacks: nesting depth cannot overflow the native stack here.

use std::collections::HashMap;

use crate::error::{Error, Result};

/// Index of a value in [`Pickle::values`].
pub type Id = usize;

/// One pickled object. Containers and calls refer to their parts by [`Id`].
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    /// An integer that does not fit `i64`: little-endian two's-complement bytes, as
    /// `LONG1`/`LONG4` store it (see [`bigint_to_string`]).
    BigInt(Vec<u8>),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<Id>),
    List(Vec<Id>),
    /// Insertion-ordered pairs (duplicate keys are kept as written).
    Dict(Vec<(Id, Id)>),
    Set(Vec<Id>),
    FrozenSet(Vec<Id>),
    /// `GLOBAL` / `STACK_GLOBAL`: a name, never resolved here.
    Global { module: String, name: String },
    /// `callable(*args)`, as `REDUCE` asks for it.
    Reduce { callable: Id, args: Id },
    /// `cls.__new__(cls, *args)`, as `NEWOBJ` asks for it.
    NewObj { cls: Id, args: Id },
    /// `obj.__setstate__(state)` (or a `__dict__` update), as `BUILD` asks for it.
    Build { obj: Id, state: Id },
    /// `obj[k] = v` for each pair, applied by `SETITEM(S)` to an object that is not a
    /// plain dict (an `OrderedDict()` made by `REDUCE`, say).
    SetItems { obj: Id, items: Vec<(Id, Id)> },
    /// `obj.append(v)` for each item, applied by `APPEND(S)` to an object that is not a
    /// plain list.
    Appends { obj: Id, items: Vec<Id> },
    /// `persistent_load(pid)` (`BINPERSID`): how checkpoints refer to storages.
    PersistentId(Id),
}

impl Value {
    /// A short name of the variant, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::Set(_) => "set",
            Value::FrozenSet(_) => "frozenset",
            Value::Global { .. } => "global",
            Value::Reduce { .. } => "reduce",
            Value::NewObj { .. } => "newobj",
            Value::Build { .. } => "build",
            Value::SetItems { .. } => "setitems",
            Value::Appends { .. } => "appends",
            Value::PersistentId(_) => "persistent id",
        }
    }
}

/// A parsed pickle: the arena of values and the one `STOP` returned.
#[derive(Clone, Debug)]
pub struct Pickle {
    pub values: Vec<Value>,
    pub root: Id,
}

impl Pickle {
    /// The value `id` (ids come from this pickle, so they are in range).
    pub fn get(&self, id: Id) -> &Value {
        &self.values[id]
    }
    /// The value `STOP` returned.
    pub fn root_value(&self) -> &Value {
        self.get(self.root)
    }
}

/// Parse one pickle from the start of `data`. Returns it and the number of bytes it took
/// (the offset just past `STOP`), so that a caller can read the next pickle of a stream
/// (PyTorch's legacy format is several pickles back to back).
pub fn parse(data: &[u8]) -> Result<(Pickle, usize)> {
    Parser { data, pos: 0, values: Vec::new(), stack: Vec::new(), marks: Vec::new(), memo: HashMap::new() }.run()
}

struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    values: Vec<Value>,
    stack: Vec<Id>,
    /// Stack lengths at each open MARK.
    marks: Vec<usize>,
    memo: HashMap<u32, Id>,
}

/// Opcode names for error messages.
fn opname(op: u8) -> &'static str {
    match op {
        0x80 => "PROTO",
        0x95 => "FRAME",
        b'.' => "STOP",
        b'(' => "MARK",
        b'0' => "POP",
        b'1' => "POP_MARK",
        b'2' => "DUP",
        b'N' => "NONE",
        0x88 => "NEWTRUE",
        0x89 => "NEWFALSE",
        b'J' => "BININT",
        b'K' => "BININT1",
        b'M' => "BININT2",
        0x8a => "LONG1",
        0x8b => "LONG4",
        b'G' => "BINFLOAT",
        b'X' => "BINUNICODE",
        0x8c => "SHORT_BINUNICODE",
        0x8d => "BINUNICODE8",
        b'B' => "BINBYTES",
        b'C' => "SHORT_BINBYTES",
        0x8e => "BINBYTES8",
        b'U' => "SHORT_BINSTRING",
        b'T' => "BINSTRING",
        b')' => "EMPTY_TUPLE",
        b't' => "TUPLE",
        0x85 => "TUPLE1",
        0x86 => "TUPLE2",
        0x87 => "TUPLE3",
        b']' => "EMPTY_LIST",
        b'l' => "LIST",
        b'a' => "APPEND",
        b'e' => "APPENDS",
        b'}' => "EMPTY_DICT",
        b'd' => "DICT",
        b's' => "SETITEM",
        b'u' => "SETITEMS",
        0x8f => "EMPTY_SET",
        0x90 => "ADDITEMS",
        0x91 => "FROZENSET",
        b'c' => "GLOBAL",
        0x93 => "STACK_GLOBAL",
        b'R' => "REDUCE",
        b'b' => "BUILD",
        0x81 => "NEWOBJ",
        0x92 => "NEWOBJ_EX",
        b'Q' => "BINPERSID",
        b'P' => "PERSID",
        b'q' => "BINPUT",
        b'r' => "LONG_BINPUT",
        0x94 => "MEMOIZE",
        b'h' => "BINGET",
        b'j' => "LONG_BINGET",
        b'p' => "PUT",
        b'g' => "GET",
        b'I' => "INT",
        b'L' => "LONG",
        b'F' => "FLOAT",
        b'S' => "STRING",
        b'V' => "UNICODE",
        b'i' => "INST",
        b'o' => "OBJ",
        0x82 => "EXT1",
        0x83 => "EXT2",
        0x84 => "EXT4",
        0x96 => "BYTEARRAY8",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        _ => "an unknown opcode",
    }
}

impl<'a> Parser<'a> {
    fn run(mut self) -> Result<(Pickle, usize)> {
        loop {
            let at = self.pos;
            let Some(&op) = self.data.get(at) else {
                return Err(self.fail_at(at, None, "the pickle data was truncated (no STOP opcode)"));
            };
            self.pos += 1;
            if op == b'.' {
                return self.stop(at);
            }
            self.step(op).map_err(|e| match e {
                // Attach the opcode and its position to every error of this step.
                Error::Runtime(m) => Error::Runtime(format!("pickle: {} at byte {at}: {m}", Self::describe(op))),
                other => other,
            })?;
        }
    }

    fn describe(op: u8) -> String {
        format!("opcode {} (0x{op:02x})", opname(op))
    }

    fn fail_at(&self, at: usize, op: Option<u8>, msg: &str) -> Error {
        match op {
            Some(op) => Error::Runtime(format!("pickle: {} at byte {at}: {msg}", Self::describe(op))),
            None => Error::Runtime(format!("pickle: at byte {at}: {msg}")),
        }
    }

    fn stop(self, at: usize) -> Result<(Pickle, usize)> {
        if !self.marks.is_empty() {
            return Err(self.fail_at(at, Some(b'.'), "a MARK is still open"));
        }
        match self.stack[..] {
            [root] => {
                let end = at + 1;
                Ok((Pickle { values: self.values, root }, end))
            }
            [] => Err(self.fail_at(at, Some(b'.'), "the stack is empty")),
            _ => Err(self.fail_at(at, Some(b'.'), &format!("{} values are left on the stack (expected 1)", self.stack.len()))),
        }
    }

    // ---- input ----------------------------------------------------------------------

    /// The next `n` bytes, if that many remain.
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let left = self.data.len() - self.pos;
        if n > left {
            crate::bail!(Runtime, "needs {n} bytes but only {left} remain");
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }
    /// A length read from the input as usize (it is checked against the input by `take`).
    fn len(v: u64) -> usize {
        // Saturating: a length past usize::MAX cannot fit the input either.
        usize::try_from(v).unwrap_or(usize::MAX)
    }
    /// A text line (GLOBAL's module and name), without its newline.
    fn line(&mut self) -> Result<&'a str> {
        let rest = &self.data[self.pos..];
        let n = rest.iter().position(|&b| b == b'\n').ok_or_else(|| crate::err!(Runtime, "no newline before the end of the data"))?;
        let s = std::str::from_utf8(&rest[..n]).map_err(|_| crate::err!(Runtime, "the name is not UTF-8"))?;
        self.pos += n + 1;
        Ok(s)
    }
    fn utf8(bytes: &[u8]) -> Result<String> {
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(e) => crate::bail!(Runtime, "the string is not valid UTF-8 ({e})"),
        }
    }

    // ---- stack ----------------------------------------------------------------------

    fn add(&mut self, v: Value) -> Id {
        self.values.push(v);
        self.values.len() - 1
    }
    fn push(&mut self, v: Value) {
        let id = self.add(v);
        self.stack.push(id);
    }
    fn pop(&mut self) -> Result<Id> {
        // A MARK is a floor: values below it belong to an enclosing frame.
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            crate::bail!(Runtime, "stack underflow");
        }
        Ok(self.stack.pop().unwrap_or_default())
    }
    fn top(&self) -> Result<Id> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            crate::bail!(Runtime, "stack underflow");
        }
        Ok(self.stack[self.stack.len() - 1])
    }
    /// The values pushed since the last MARK, which is closed.
    fn pop_mark(&mut self) -> Result<Vec<Id>> {
        let m = self.marks.pop().ok_or_else(|| crate::err!(Runtime, "no MARK to close"))?;
        Ok(self.stack.split_off(m))
    }
    fn pairs(items: Vec<Id>) -> Result<Vec<(Id, Id)>> {
        if !items.len().is_multiple_of(2) {
            crate::bail!(Runtime, "odd number of items ({}) for key/value pairs", items.len());
        }
        Ok(items.chunks_exact(2).map(|p| (p[0], p[1])).collect())
    }

    /// Mutate `target` in place: PyTorch's pickles memoize an object before filling it,
    /// so the arena slot (which every reference shares) is what must change. When the
    /// slot is not a plain container, its old value moves to a fresh slot and the slot
    /// becomes a wrapper recording the operation.
    fn wrap(&mut self, target: Id, f: impl FnOnce(Id) -> Value) {
        let old = std::mem::replace(&mut self.values[target], Value::None);
        let moved = self.add(old);
        self.values[target] = f(moved);
    }

    fn is_object(v: &Value) -> bool {
        matches!(v, Value::Reduce { .. } | Value::NewObj { .. } | Value::Build { .. } | Value::SetItems { .. } | Value::Appends { .. })
    }

    fn set_items(&mut self, target: Id, items: Vec<(Id, Id)>) -> Result<()> {
        match &mut self.values[target] {
            Value::Dict(d) => d.extend(items),
            Value::SetItems { items: have, .. } => have.extend(items),
            v if Self::is_object(v) => self.wrap(target, |obj| Value::SetItems { obj, items }),
            v => crate::bail!(Runtime, "cannot set items on a {}", v.kind()),
        }
        Ok(())
    }

    fn append(&mut self, target: Id, items: Vec<Id>) -> Result<()> {
        match &mut self.values[target] {
            Value::List(l) => l.extend(items),
            Value::Appends { items: have, .. } => have.extend(items),
            v if Self::is_object(v) => self.wrap(target, |obj| Value::Appends { obj, items }),
            v => crate::bail!(Runtime, "cannot append to a {}", v.kind()),
        }
        Ok(())
    }

    fn memo_put(&mut self, key: u32) -> Result<()> {
        let top = self.top()?;
        self.memo.insert(key, top);
        Ok(())
    }
    fn memo_get(&mut self, key: u32) -> Result<()> {
        let id = *self.memo.get(&key).ok_or_else(|| crate::err!(Runtime, "memo key {key} was never stored"))?;
        self.stack.push(id);
        Ok(())
    }

    /// Sign-extend little-endian two's-complement bytes (LONG1/LONG4).
    fn long(bytes: &[u8]) -> Value {
        // Drop redundant sign bytes so that e.g. a 9-byte encoding of 2**63-1 is an Int.
        let mut b = bytes;
        while b.len() > 1 {
            let (last, prev) = (b[b.len() - 1], b[b.len() - 2]);
            if (last == 0 && prev & 0x80 == 0) || (last == 0xFF && prev & 0x80 != 0) {
                b = &b[..b.len() - 1];
            } else {
                break;
            }
        }
        if b.is_empty() {
            return Value::Int(0);
        }
        if b.len() <= 8 {
            let fill = if b[b.len() - 1] & 0x80 != 0 { 0xFF } else { 0 };
            let mut a = [fill; 8];
            a[..b.len()].copy_from_slice(b);
            Value::Int(i64::from_le_bytes(a))
        } else {
            Value::BigInt(b.to_vec())
        }
    }

    // ---- one opcode ----------------------------------------------------------------

    fn step(&mut self, op: u8) -> Result<()> {
        match op {
            0x80 => {
                let proto = self.u8()?;
                if !(2..=5).contains(&proto) {
                    crate::bail!(Runtime, "unsupported pickle protocol {proto} (2 to 5 are read)");
                }
            }
            0x95 => {
                // Framing only groups opcodes for buffered reads; check its claim and go on.
                let n = self.u64()?;
                let left = (self.data.len() - self.pos) as u64;
                if n > left {
                    crate::bail!(Runtime, "frame of {n} bytes but only {left} remain");
                }
            }
            b'(' => self.marks.push(self.stack.len()),
            b'0' => {
                self.pop()?;
            }
            b'1' => {
                self.pop_mark()?;
            }
            b'2' => {
                let top = self.top()?;
                self.stack.push(top);
            }
            b'N' => self.push(Value::None),
            0x88 => self.push(Value::Bool(true)),
            0x89 => self.push(Value::Bool(false)),
            b'J' => {
                let v = self.u32()? as i32;
                self.push(Value::Int(v.into()));
            }
            b'K' => {
                let v = self.u8()?;
                self.push(Value::Int(v.into()));
            }
            b'M' => {
                let v = self.u16()?;
                self.push(Value::Int(v.into()));
            }
            0x8a => {
                let n = self.u8()? as usize;
                let b = self.take(n)?;
                self.push(Self::long(b));
            }
            0x8b => {
                let n = self.u32()? as i32;
                if n < 0 {
                    crate::bail!(Runtime, "negative byte count {n}");
                }
                let b = self.take(n as usize)?;
                self.push(Self::long(b));
            }
            b'G' => {
                let mut a = [0u8; 8];
                a.copy_from_slice(self.take(8)?);
                self.push(Value::Float(f64::from_be_bytes(a)));
            }
            b'X' | 0x8c | 0x8d | b'U' | b'T' => {
                let n = match op {
                    b'X' => self.u32()? as u64,
                    0x8c | b'U' => self.u8()? as u64,
                    0x8d => self.u64()?,
                    _ => {
                        let n = self.u32()? as i32;
                        if n < 0 {
                            crate::bail!(Runtime, "negative byte count {n}");
                        }
                        n as u64
                    }
                };
                let b = self.take(Self::len(n))?;
                // Python 2 str (SHORT_BINSTRING/BINSTRING) decodes as torch.load's
                // default encoding, UTF-8.
                let s = Self::utf8(b)?;
                self.push(Value::Str(s));
            }
            b'B' | b'C' | 0x8e => {
                let n = match op {
                    b'B' => self.u32()? as u64,
                    b'C' => self.u8()? as u64,
                    _ => self.u64()?,
                };
                let b = self.take(Self::len(n))?.to_vec();
                self.push(Value::Bytes(b));
            }
            b')' => self.push(Value::Tuple(Vec::new())),
            b't' => {
                let items = self.pop_mark()?;
                self.push(Value::Tuple(items));
            }
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                let mut items = vec![0; n];
                for slot in items.iter_mut().rev() {
                    *slot = self.pop()?;
                }
                self.push(Value::Tuple(items));
            }
            b']' => self.push(Value::List(Vec::new())),
            b'l' => {
                let items = self.pop_mark()?;
                self.push(Value::List(items));
            }
            b'a' => {
                let v = self.pop()?;
                let target = self.top()?;
                self.append(target, vec![v])?;
            }
            b'e' => {
                let items = self.pop_mark()?;
                let target = self.top()?;
                self.append(target, items)?;
            }
            b'}' => self.push(Value::Dict(Vec::new())),
            b'd' => {
                let items = self.pop_mark()?;
                let pairs = Self::pairs(items)?;
                self.push(Value::Dict(pairs));
            }
            b's' => {
                let v = self.pop()?;
                let k = self.pop()?;
                let target = self.top()?;
                self.set_items(target, vec![(k, v)])?;
            }
            b'u' => {
                let items = self.pop_mark()?;
                let pairs = Self::pairs(items)?;
                let target = self.top()?;
                self.set_items(target, pairs)?;
            }
            0x8f => self.push(Value::Set(Vec::new())),
            0x90 => {
                let items = self.pop_mark()?;
                let target = self.top()?;
                match &mut self.values[target] {
                    Value::Set(s) => s.extend(items),
                    v => crate::bail!(Runtime, "cannot add items to a {}", v.kind()),
                }
            }
            0x91 => {
                let items = self.pop_mark()?;
                self.push(Value::FrozenSet(items));
            }
            b'c' => {
                let module = self.line()?.to_owned();
                let name = self.line()?.to_owned();
                self.push(Value::Global { module, name });
            }
            0x93 => {
                let name = self.pop()?;
                let module = self.pop()?;
                match (&self.values[module], &self.values[name]) {
                    (Value::Str(m), Value::Str(n)) => {
                        let g = Value::Global { module: m.clone(), name: n.clone() };
                        self.push(g);
                    }
                    (m, n) => crate::bail!(Runtime, "module and name must be str, got {} and {}", m.kind(), n.kind()),
                }
            }
            b'R' => {
                let args = self.pop()?;
                let callable = self.pop()?;
                self.push(Value::Reduce { callable, args });
            }
            0x81 => {
                let args = self.pop()?;
                let cls = self.pop()?;
                self.push(Value::NewObj { cls, args });
            }
            b'b' => {
                let state = self.pop()?;
                let target = self.top()?;
                // BUILD mutates the object in place (the memo may already hold it).
                self.wrap(target, |obj| Value::Build { obj, state });
            }
            b'Q' => {
                let pid = self.pop()?;
                self.push(Value::PersistentId(pid));
            }
            b'q' => {
                let k = self.u8()?;
                self.memo_put(k.into())?;
            }
            b'r' => {
                let k = self.u32()?;
                self.memo_put(k)?;
            }
            0x94 => {
                let k = u32::try_from(self.memo.len()).map_err(|_| crate::err!(Runtime, "memo is full"))?;
                self.memo_put(k)?;
            }
            b'h' => {
                let k = self.u8()?;
                self.memo_get(k.into())?;
            }
            b'j' => {
                let k = self.u32()?;
                self.memo_get(k)?;
            }
            _ => crate::bail!(Runtime, "unsupported opcode: checkpoints are read with a strict subset of pickle"),
        }
        Ok(())
    }
}

/// The decimal digits of a little-endian two's-complement integer ([`Value::BigInt`]).
/// Quadratic in the length: meant for display, not for megabyte-long integers.
pub fn bigint_to_string(le: &[u8]) -> String {
    if le.is_empty() {
        return "0".into();
    }
    let negative = le[le.len() - 1] & 0x80 != 0;
    // Magnitude as little-endian bytes (two's-complement negate when negative).
    let mut mag: Vec<u8> = le.to_vec();
    if negative {
        let mut carry = 1u16;
        for b in mag.iter_mut() {
            let v = (!*b) as u16 + carry;
            *b = v as u8;
            carry = v >> 8;
        }
    }
    // Big-endian base-2^32 limbs, divided by 10^9 repeatedly.
    let mut limbs: Vec<u32> = mag.chunks(4).rev().map(|c| c.iter().rev().fold(0u32, |a, &b| (a << 8) | b as u32)).collect();
    let mut parts = Vec::new();
    while limbs.iter().any(|&l| l != 0) {
        let mut rem = 0u64;
        for l in limbs.iter_mut() {
            let cur = (rem << 32) | *l as u64;
            *l = (cur / 1_000_000_000) as u32;
            rem = cur % 1_000_000_000;
        }
        parts.push(rem as u32);
        while limbs.first() == Some(&0) {
            limbs.remove(0);
        }
    }
    let mut s = String::from(if negative { "-" } else { "" });
    match parts.split_last() {
        None => s.push('0'),
        Some((first, rest)) => {
            s.push_str(&first.to_string());
            for p in rest.iter().rev() {
                s.push_str(&format!("{p:09}"));
            }
        }
    }
    s
}
