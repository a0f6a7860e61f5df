//! The zip container of PyTorch checkpoints: uncompressed ("stored") records, each record's
//! data aligned to 64 bytes so that a memory map of the file can back tensors directly.
//!
//! Hand-written rather than the `zip` crate (weighed): PyTorch's archives only ever hold
//! stored records, we need each record's data offset (zero-copy loads) and PyTorch's
//! 64-byte alignment padding when writing, and a reader of untrusted files is easier to
//! audit when it is this small: every size and offset below is checked against the
//! buffer before it is used, so a truncated or edited file is an error, never an
//! out-of-bounds read or an allocation sized by the file's claims.

use std::io::Write;

use crate::error::Result;
use crate::{bail, err};

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const LOCAL_LEN: usize = 30;
const CENTRAL_LEN: usize = 46;
const EOCD_LEN: usize = 22;
/// Alignment of record data PyTorch's writer uses (`torch.serialization._get_storage_alignment`).
pub const ALIGNMENT: u64 = 64;

/// One record of an archive: where its bytes are in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub name: String,
    /// Offset of the first data byte from the start of the archive.
    pub offset: u64,
    pub size: u64,
    pub crc32: u32,
}

fn bad(what: impl std::fmt::Display) -> crate::error::Error {
    err!(Runtime, "PytorchStreamReader failed reading zip archive: {}", what)
}

/// Little-endian reads with bounds checks.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn at(buf: &'a [u8], pos: u64, need: usize, what: &str) -> Result<Cursor<'a>> {
        let pos = usize::try_from(pos).map_err(|_| bad(format!("{what} offset {pos} is beyond the file")))?;
        if pos.checked_add(need).is_none_or(|end| end > buf.len()) {
            bail!(Runtime, "PytorchStreamReader failed reading zip archive: {what} at offset {pos} ({need} bytes) runs past the end of the file ({} bytes)", buf.len());
        }
        Ok(Cursor { buf, pos })
    }
    fn u16(&mut self) -> u16 {
        let v = u16::from_le_bytes([self.buf[self.pos], self.buf[self.pos + 1]]);
        self.pos += 2;
        v
    }
    fn u32(&mut self) -> u32 {
        let v = u32::from_le_bytes(self.buf[self.pos..self.pos + 4].try_into().unwrap_or([0; 4]));
        self.pos += 4;
        v
    }
    fn u64(&mut self) -> u64 {
        let v = u64::from_le_bytes(self.buf[self.pos..self.pos + 8].try_into().unwrap_or([0; 8]));
        self.pos += 8;
        v
    }
}

/// The records of a zip archive held in `buf` (a memory map or the file's bytes), in
/// central-directory order. Only stored, unencrypted records are accepted.
pub fn read_index(buf: &[u8]) -> Result<Vec<Record>> {
    if buf.len() < EOCD_LEN {
        bail!(Runtime, "PytorchStreamReader failed reading zip archive: failed finding central directory (file of {} bytes)", buf.len());
    }
    // The end-of-central-directory record: the last signature whose comment length
    // reaches exactly the end of the file.
    let lo = buf.len().saturating_sub(EOCD_LEN + 0xFFFF);
    let mut eocd = None;
    for p in (lo..=buf.len() - EOCD_LEN).rev() {
        if buf[p..p + 4] == EOCD_SIG.to_le_bytes() {
            let comment = u16::from_le_bytes([buf[p + 20], buf[p + 21]]) as usize;
            if p + EOCD_LEN + comment == buf.len() {
                eocd = Some(p);
                break;
            }
        }
    }
    let eocd = eocd.ok_or_else(|| bad("failed finding central directory"))?;
    let mut c = Cursor::at(buf, eocd as u64 + 4, EOCD_LEN - 4, "end of central directory")?;
    let (disk, cd_disk) = (c.u16(), c.u16());
    let _entries_here = c.u16();
    let mut count = c.u16() as u64;
    let mut cd_size = c.u32() as u64;
    let mut cd_offset = c.u32() as u64;
    if disk != 0 || cd_disk != 0 {
        bail!(Runtime, "PytorchStreamReader failed reading zip archive: multi-disk archives are not supported");
    }
    let mut cd_end = eocd as u64;
    if count == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF {
        // Zip64: the locator sits just before the classic record.
        let loc = (eocd as u64).checked_sub(20).ok_or_else(|| bad("zip64 locator missing"))?;
        let mut l = Cursor::at(buf, loc, 20, "zip64 locator")?;
        if l.u32() != ZIP64_LOCATOR_SIG {
            bail!(Runtime, "PytorchStreamReader failed reading zip archive: zip64 locator missing");
        }
        let _ = l.u32();
        let z64 = l.u64();
        let mut z = Cursor::at(buf, z64, 56, "zip64 end of central directory")?;
        if z.u32() != ZIP64_EOCD_SIG {
            bail!(Runtime, "PytorchStreamReader failed reading zip archive: bad zip64 end of central directory");
        }
        let _size = z.u64();
        let _versions = z.u32();
        let _disks = z.u64();
        let _here = z.u64();
        count = z.u64();
        cd_size = z.u64();
        cd_offset = z.u64();
        cd_end = z64;
    }
    if cd_offset.checked_add(cd_size).is_none_or(|e| e > cd_end) {
        bail!(Runtime, "PytorchStreamReader failed reading zip archive: central directory ({cd_size} bytes at {cd_offset}) overlaps its end record at {cd_end}");
    }
    // Each central header takes at least 46 bytes: the count cannot ask for more entries
    // than the directory can hold (no allocation sized by an edited field).
    if count > cd_size / CENTRAL_LEN as u64 {
        bail!(Runtime, "PytorchStreamReader failed reading zip archive: {count} records cannot fit a central directory of {cd_size} bytes");
    }
    let mut records = Vec::with_capacity(count as usize);
    let mut seen = std::collections::HashSet::with_capacity(count as usize);
    let mut pos = cd_offset;
    for _ in 0..count {
        let mut h = Cursor::at(buf, pos, CENTRAL_LEN, "central directory header")?;
        if h.u32() != CENTRAL_SIG {
            bail!(Runtime, "PytorchStreamReader failed reading zip archive: bad central directory header signature at offset {pos}");
        }
        let _made_by = h.u16();
        let _needed = h.u16();
        let flags = h.u16();
        let method = h.u16();
        let _time = h.u32();
        let crc32 = h.u32();
        let mut csize = h.u32() as u64;
        let mut usize_ = h.u32() as u64;
        let name_len = h.u16() as usize;
        let extra_len = h.u16() as usize;
        let comment_len = h.u16() as usize;
        let _disk = h.u16();
        let _iattr = h.u16();
        let _eattr = h.u32();
        let mut lho = h.u32() as u64;
        let var = Cursor::at(buf, pos + CENTRAL_LEN as u64, name_len + extra_len + comment_len, "central directory name")?;
        let name_bytes = &buf[var.pos..var.pos + name_len];
        let name = std::str::from_utf8(name_bytes)
            .map_err(|_| bad(format!("record name at offset {pos} is not UTF-8")))?
            .to_string();
        // Zip64 extended information: the fields that overflowed, in this order.
        let mut e = var.pos + name_len;
        let e_end = e + extra_len;
        while e + 4 <= e_end {
            let id = u16::from_le_bytes([buf[e], buf[e + 1]]);
            let len = u16::from_le_bytes([buf[e + 2], buf[e + 3]]) as usize;
            if e + 4 + len > e_end {
                bail!(Runtime, "PytorchStreamReader failed reading zip archive: extra field of record {name:?} runs past its header");
            }
            if id == 0x0001 {
                let mut f = Cursor { buf, pos: e + 4 };
                let end = e + 4 + len;
                for field in [&mut usize_, &mut csize, &mut lho] {
                    if *field == 0xFFFF_FFFF {
                        if f.pos + 8 > end {
                            bail!(Runtime, "PytorchStreamReader failed reading zip archive: short zip64 field in record {name:?}");
                        }
                        *field = f.u64();
                    }
                }
            }
            e += 4 + len;
        }
        if flags & 1 != 0 {
            bail!(Runtime, "PytorchStreamReader failed reading zip archive: record {name:?} is encrypted");
        }
        if method != 0 {
            bail!(Runtime, "PytorchStreamReader failed reading zip archive: record {name:?} is compressed (method {method}); checkpoints hold stored records only");
        }
        if csize != usize_ {
            bail!(Runtime, "PytorchStreamReader failed reading zip archive: stored record {name:?} has compressed size {csize} != size {usize_}");
        }
        let mut l = Cursor::at(buf, lho, LOCAL_LEN, "local header")?;
        if l.u32() != LOCAL_SIG {
            bail!(Runtime, "PytorchStreamReader failed reading zip archive: bad local header signature for record {name:?} at offset {lho}");
        }
        l.pos += 22;
        let lname = l.u16() as u64;
        let lextra = l.u16() as u64;
        let offset = lho + LOCAL_LEN as u64 + lname + lextra;
        if lname as usize != name_len || buf.get(l.pos..l.pos + name_len) != Some(name_bytes) {
            bail!(Runtime, "PytorchStreamReader failed reading zip archive: local header of record {name:?} names another record");
        }
        if offset.checked_add(usize_).is_none_or(|end| end > cd_offset) {
            bail!(Runtime, "PytorchStreamReader failed reading zip archive: record {name:?} ({usize_} bytes at offset {offset}) runs past the record area ({cd_offset} bytes)");
        }
        if !seen.insert(name.clone()) {
            bail!(Runtime, "PytorchStreamReader failed reading zip archive: record {name:?} appears twice");
        }
        records.push(Record { name, offset, size: usize_, crc32 });
        pos += (CENTRAL_LEN + name_len + extra_len + comment_len) as u64;
    }
    // Records never share bytes in a real archive; refusing overlaps keeps what loading
    // allocates bounded by the file's size (N records over one region would multiply it).
    let mut spans: Vec<(u64, u64)> = records.iter().map(|r| (r.offset, r.offset + r.size)).collect();
    spans.sort_unstable();
    if let Some(w) = spans.windows(2).find(|w| w[0].1 > w[1].0) {
        bail!(Runtime, "PytorchStreamReader failed reading zip archive: records at offsets {} and {} overlap", w[0].0, w[1].0);
    }
    Ok(records)
}

/// A PyTorch archive: records named `<archive>/<name>` under one top-level directory,
/// looked up by `<name>`, as `caffe2::serialize::PyTorchStreamReader` does.
pub struct Archive {
    pub prefix: String,
    pub records: Vec<Record>,
}

impl Archive {
    pub fn parse(buf: &[u8]) -> Result<Archive> {
        let records = read_index(buf)?;
        let first = records.first().ok_or_else(|| bad("archive holds no records"))?;
        let prefix = match first.name.find('/') {
            Some(i) => first.name[..i + 1].to_string(),
            None => bail!(Runtime, "PytorchStreamReader failed locating file: file in archive is not in a subdirectory: {}", first.name),
        };
        if let Some(r) = records.iter().find(|r| !r.name.starts_with(&prefix)) {
            bail!(Runtime, "PytorchStreamReader failed reading zip archive: record {:?} is outside the archive's directory {prefix:?}", r.name);
        }
        Ok(Archive { prefix, records })
    }
    /// The record `<archive>/name`.
    pub fn get(&self, name: &str) -> Option<&Record> {
        self.records.iter().find(|r| r.name.len() == self.prefix.len() + name.len() && r.name.starts_with(&self.prefix) && r.name.ends_with(name))
    }
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
    /// Record names without the archive directory.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.records.iter().map(|r| &r.name[self.prefix.len()..])
    }
    /// The bytes of record `name` inside `buf` (the buffer `parse` read).
    pub fn bytes<'a>(&self, buf: &'a [u8], name: &str) -> Result<&'a [u8]> {
        let r = self.get(name).ok_or_else(|| err!(Runtime, "PytorchStreamReader failed locating file {name}: file not found"))?;
        // read_index checked offset + size against the buffer it parsed.
        buf.get(r.offset as usize..(r.offset + r.size) as usize).ok_or_else(|| bad(format!("record {name} lies outside the buffer")))
    }
}

struct CentralEntry {
    name: String,
    crc32: u32,
    size: u64,
    header_offset: u64,
}

/// Writes an archive of stored records, each record's data aligned to [`ALIGNMENT`]
/// bytes (padding in a local-header extra field with PyTorch's id "FB"), with zip64
/// fields where sizes or offsets pass 4 GiB. Nothing is seeked: the CRC is computed
/// before a record's header is written, so the output can be any `Write`.
pub struct ZipWriter<W: Write> {
    out: W,
    pos: u64,
    entries: Vec<CentralEntry>,
    finished: bool,
}

const Z32: u64 = 0xFFFF_FFFF;

impl<W: Write> ZipWriter<W> {
    pub fn new(out: W) -> ZipWriter<W> {
        ZipWriter { out, pos: 0, entries: Vec::new(), finished: false }
    }

    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.out.write_all(bytes).map_err(|e| err!(Runtime, "PytorchStreamWriter failed writing file: {e}"))?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    /// Append one record holding `data`.
    pub fn write_record(&mut self, name: &str, data: &[u8]) -> Result<()> {
        self.write_record_parts(name, &[data])
    }

    /// Append one record whose data is the concatenation of `parts` (so a caller can
    /// write a storage without first gathering it into one buffer).
    pub fn write_record_parts(&mut self, name: &str, parts: &[&[u8]]) -> Result<()> {
        if self.finished {
            bail!(Runtime, "PytorchStreamWriter: the archive is already finished");
        }
        if self.entries.iter().any(|e| e.name == name) {
            bail!(Runtime, "PytorchStreamWriter: record {name} was already written");
        }
        if name.len() > 0xFFFF {
            bail!(Value, "PytorchStreamWriter: record name of {} bytes is too long", name.len());
        }
        let size: u64 = parts.iter().map(|p| p.len() as u64).sum();
        let mut h = crc32fast::Hasher::new();
        for p in parts {
            h.update(p);
        }
        let crc32 = h.finalize();
        let header_offset = self.pos;
        let zip64 = size >= Z32;
        let z64_len = if zip64 { 20 } else { 0 };
        // Pad so that the data starts on an ALIGNMENT boundary: an extra field is at
        // least its 4-byte header, so a gap of 1-3 bytes takes the next boundary.
        let unpadded = header_offset + LOCAL_LEN as u64 + name.len() as u64 + z64_len;
        let mut pad = (ALIGNMENT - unpadded % ALIGNMENT) % ALIGNMENT;
        if pad != 0 && pad < 4 {
            pad += ALIGNMENT;
        }
        let mut hdr = Vec::with_capacity(LOCAL_LEN + name.len() + (z64_len + pad) as usize);
        hdr.extend_from_slice(&LOCAL_SIG.to_le_bytes());
        hdr.extend_from_slice(&(if zip64 { 45u16 } else { 20u16 }).to_le_bytes()); // version needed
        hdr.extend_from_slice(&0u16.to_le_bytes()); // flags
        hdr.extend_from_slice(&0u16.to_le_bytes()); // stored
        hdr.extend_from_slice(&0u16.to_le_bytes()); // time
        hdr.extend_from_slice(&0x21u16.to_le_bytes()); // date: 1980-01-01 (reproducible files)
        hdr.extend_from_slice(&crc32.to_le_bytes());
        let s32 = if zip64 { Z32 as u32 } else { size as u32 };
        hdr.extend_from_slice(&s32.to_le_bytes());
        hdr.extend_from_slice(&s32.to_le_bytes());
        hdr.extend_from_slice(&(name.len() as u16).to_le_bytes());
        hdr.extend_from_slice(&((z64_len + pad) as u16).to_le_bytes());
        hdr.extend_from_slice(name.as_bytes());
        if zip64 {
            hdr.extend_from_slice(&1u16.to_le_bytes());
            hdr.extend_from_slice(&16u16.to_le_bytes());
            hdr.extend_from_slice(&size.to_le_bytes());
            hdr.extend_from_slice(&size.to_le_bytes());
        }
        if pad != 0 {
            hdr.extend_from_slice(b"FB");
            hdr.extend_from_slice(&((pad - 4) as u16).to_le_bytes());
            hdr.resize(hdr.len() + (pad - 4) as usize, b'Z');
        }
        self.put(&hdr)?;
        debug_assert_eq!(self.pos % ALIGNMENT, 0);
        for p in parts {
            self.put(p)?;
        }
        self.entries.push(CentralEntry { name: name.to_string(), crc32, size, header_offset });
        Ok(())
    }

    /// Write the central directory and end records; returns the output.
    pub fn finish(mut self) -> Result<W> {
        self.finish_in_place()?;
        Ok(self.out)
    }

    /// `finish` for writers that must stay where they are (the Python binding).
    pub fn finish_in_place(&mut self) -> Result<()> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        let cd_offset = self.pos;
        let entries = std::mem::take(&mut self.entries);
        let mut cd = Vec::new();
        for e in &entries {
            let big_size = e.size >= Z32;
            let big_off = e.header_offset >= Z32;
            let mut extra = Vec::new();
            if big_size || big_off {
                let mut body = Vec::new();
                if big_size {
                    body.extend_from_slice(&e.size.to_le_bytes());
                    body.extend_from_slice(&e.size.to_le_bytes());
                }
                if big_off {
                    body.extend_from_slice(&e.header_offset.to_le_bytes());
                }
                extra.extend_from_slice(&1u16.to_le_bytes());
                extra.extend_from_slice(&(body.len() as u16).to_le_bytes());
                extra.extend_from_slice(&body);
            }
            let version: u16 = if extra.is_empty() { 20 } else { 45 };
            cd.extend_from_slice(&CENTRAL_SIG.to_le_bytes());
            cd.extend_from_slice(&version.to_le_bytes()); // made by
            cd.extend_from_slice(&version.to_le_bytes()); // needed
            cd.extend_from_slice(&0u16.to_le_bytes());
            cd.extend_from_slice(&0u16.to_le_bytes());
            cd.extend_from_slice(&0u16.to_le_bytes());
            cd.extend_from_slice(&0x21u16.to_le_bytes());
            cd.extend_from_slice(&e.crc32.to_le_bytes());
            let s32 = if big_size { Z32 as u32 } else { e.size as u32 };
            cd.extend_from_slice(&s32.to_le_bytes());
            cd.extend_from_slice(&s32.to_le_bytes());
            cd.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            cd.extend_from_slice(&(extra.len() as u16).to_le_bytes());
            cd.extend_from_slice(&0u16.to_le_bytes()); // comment
            cd.extend_from_slice(&0u16.to_le_bytes()); // disk
            cd.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
            cd.extend_from_slice(&0u32.to_le_bytes()); // external attributes
            let o32 = if big_off { Z32 as u32 } else { e.header_offset as u32 };
            cd.extend_from_slice(&o32.to_le_bytes());
            cd.extend_from_slice(e.name.as_bytes());
            cd.extend_from_slice(&extra);
        }
        let cd_size = cd.len() as u64;
        let n = entries.len() as u64;
        let zip64 = n >= 0xFFFF || cd_offset >= Z32 || cd_size >= Z32;
        let mut tail = Vec::new();
        if zip64 {
            let z64_offset = cd_offset + cd_size;
            tail.extend_from_slice(&ZIP64_EOCD_SIG.to_le_bytes());
            tail.extend_from_slice(&44u64.to_le_bytes());
            tail.extend_from_slice(&45u16.to_le_bytes());
            tail.extend_from_slice(&45u16.to_le_bytes());
            tail.extend_from_slice(&0u32.to_le_bytes());
            tail.extend_from_slice(&0u32.to_le_bytes());
            tail.extend_from_slice(&n.to_le_bytes());
            tail.extend_from_slice(&n.to_le_bytes());
            tail.extend_from_slice(&cd_size.to_le_bytes());
            tail.extend_from_slice(&cd_offset.to_le_bytes());
            tail.extend_from_slice(&ZIP64_LOCATOR_SIG.to_le_bytes());
            tail.extend_from_slice(&0u32.to_le_bytes());
            tail.extend_from_slice(&z64_offset.to_le_bytes());
            tail.extend_from_slice(&1u32.to_le_bytes());
        }
        let n16 = if zip64 { 0xFFFF } else { n as u16 };
        tail.extend_from_slice(&EOCD_SIG.to_le_bytes());
        tail.extend_from_slice(&0u16.to_le_bytes());
        tail.extend_from_slice(&0u16.to_le_bytes());
        tail.extend_from_slice(&n16.to_le_bytes());
        tail.extend_from_slice(&n16.to_le_bytes());
        tail.extend_from_slice(&(if zip64 { Z32 as u32 } else { cd_size as u32 }).to_le_bytes());
        tail.extend_from_slice(&(if zip64 { Z32 as u32 } else { cd_offset as u32 }).to_le_bytes());
        tail.extend_from_slice(&0u16.to_le_bytes());
        self.put(&cd)?;
        self.put(&tail)?;
        self.out.flush().map_err(|e| err!(Runtime, "PytorchStreamWriter failed writing file: {e}"))?;
        Ok(())
    }

    /// Bytes written so far.
    pub fn position(&self) -> u64 {
        self.pos
    }
}
