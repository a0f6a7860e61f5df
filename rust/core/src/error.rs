//! Typed errors. Each variant maps to the Python exception PyTorch raises for the
//! same mistake; the binding does that mapping and nothing else.

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum Error {
    /// Shape/dtype/state mismatches: Python RuntimeError.
    #[error("{0}")]
    Runtime(String),
    /// Out-of-range indices and dims: Python IndexError.
    #[error("{0}")]
    Index(String),
    /// Wrong argument types: Python TypeError.
    #[error("{0}")]
    Type(String),
    /// Bad argument values: Python ValueError.
    #[error("{0}")]
    Value(String),
    /// Unsupported device/dtype combinations: Python RuntimeError (NotImplementedError in a few PyTorch paths).
    #[error("{0}")]
    NotImplemented(String),
}

pub type Result<T> = std::result::Result<T, Error>;

#[macro_export]
macro_rules! bail {
    ($kind:ident, $($arg:tt)*) => {
        return Err($crate::error::Error::$kind(format!($($arg)*)))
    };
}

#[macro_export]
macro_rules! err {
    ($kind:ident, $($arg:tt)*) => {
        $crate::error::Error::$kind(format!($($arg)*))
    };
}

/// Check that a dtype is supported by an op, naming the op as PyTorch's messages do.
pub(crate) fn not_implemented(op: &str, dtype: crate::dtype::DType) -> crate::error::Error {
    crate::err!(NotImplemented, "\"{}\" not implemented for '{}'", op, crate::dtype::pretty_dtype(dtype))
}
