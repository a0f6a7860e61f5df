//! Checkpoint files: PyTorch's zip checkpoints ([`pt`], over [`zip`] and a strict
//! [`pickle`] reader) and safetensors ([`safetensors`]).

pub mod pickle;
pub mod pt;
pub mod safetensors;
pub mod zip;

use crate::dtype::DType;

/// PyTorch's legacy storage class names (`torch.FloatStorage`, ...) — what a checkpoint's
/// persistent ids name a storage's dtype by — for the dtypes ferrotorch has.
pub const STORAGE_NAMES: [(&str, DType); 10] = [
    ("BoolStorage", DType::Bool),
    ("ByteStorage", DType::U8),
    ("CharStorage", DType::I8),
    ("ShortStorage", DType::I16),
    ("IntStorage", DType::I32),
    ("LongStorage", DType::I64),
    ("HalfStorage", DType::F16),
    ("BFloat16Storage", DType::BF16),
    ("FloatStorage", DType::F32),
    ("DoubleStorage", DType::F64),
];

/// The dtype a storage class name stands for.
pub fn storage_dtype(name: &str) -> Option<DType> {
    STORAGE_NAMES.iter().find(|(n, _)| *n == name).map(|&(_, d)| d)
}

/// The storage class name of a dtype.
pub fn storage_name(dtype: DType) -> &'static str {
    STORAGE_NAMES.iter().find(|(_, d)| *d == dtype).map_or("ByteStorage", |&(n, _)| n)
}

/// Reverse the byte order of each `itemsize`-byte element (files written on a big-endian
/// machine). A trailing partial element is left alone.
pub fn byteswap(bytes: &mut [u8], itemsize: usize) {
    if itemsize > 1 {
        for chunk in bytes.chunks_exact_mut(itemsize) {
            chunk.reverse();
        }
    }
}

/// Make a storage's bytes, as a file holds them, usable as `dtype` in place: byte-swap
/// each element when the file's byte order is not ours, and turn every nonzero byte of a
/// bool storage into 1 (a Rust `bool` must be 0 or 1, whatever the file says).
pub fn fix_storage_bytes(bytes: &mut [u8], dtype: DType, swap: bool) {
    if swap {
        byteswap(bytes, dtype.size());
    }
    if dtype == DType::Bool {
        for b in bytes {
            *b = (*b != 0) as u8;
        }
    }
}
