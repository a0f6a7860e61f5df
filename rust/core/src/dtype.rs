//! dtypes, the element trait that kernels are generic over, and PyTorch's type promotion.

use half::{bf16, f16};
use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum DType {
    Bool,
    U8,
    I8,
    I16,
    I32,
    I64,
    F16,
    BF16,
    F32,
    F64,
}

pub const ALL_DTYPES: [DType; 10] = [
    DType::Bool,
    DType::U8,
    DType::I8,
    DType::I16,
    DType::I32,
    DType::I64,
    DType::F16,
    DType::BF16,
    DType::F32,
    DType::F64,
];

impl DType {
    pub fn size(self) -> usize {
        match self {
            DType::Bool | DType::U8 | DType::I8 => 1,
            DType::I16 | DType::F16 | DType::BF16 => 2,
            DType::I32 | DType::F32 => 4,
            DType::I64 | DType::F64 => 8,
        }
    }
    /// float16 or bfloat16: the types PyTorch's reductions accumulate in float32.
    pub fn is_half(self) -> bool {
        matches!(self, DType::F16 | DType::BF16)
    }
    pub fn is_float(self) -> bool {
        matches!(self, DType::F16 | DType::BF16 | DType::F32 | DType::F64)
    }
    /// Integral in PyTorch's sense, bool excluded.
    pub fn is_int(self) -> bool {
        matches!(self, DType::U8 | DType::I8 | DType::I16 | DType::I32 | DType::I64)
    }
    pub fn is_signed(self) -> bool {
        !matches!(self, DType::Bool | DType::U8)
    }
    /// The value range of the integer dtypes narrower than int64 (what a scalar must fit
    /// before it is cast to one); None for the others.
    pub fn int_range(self) -> Option<(i64, i64)> {
        match self {
            DType::U8 => Some((0, u8::MAX as i64)),
            DType::I8 => Some((i8::MIN as i64, i8::MAX as i64)),
            DType::I16 => Some((i16::MIN as i64, i16::MAX as i64)),
            DType::I32 => Some((i32::MIN as i64, i32::MAX as i64)),
            _ => None,
        }
    }
    /// PyTorch's name: "float32", "int64", ...
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::U8 => "uint8",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::F16 => "float16",
            DType::BF16 => "bfloat16",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }
    /// Legacy tensor type name used in error messages ("torch.FloatTensor").
    pub fn legacy_name(self) -> &'static str {
        match self {
            DType::Bool => "BoolTensor",
            DType::U8 => "ByteTensor",
            DType::I8 => "CharTensor",
            DType::I16 => "ShortTensor",
            DType::I32 => "IntTensor",
            DType::I64 => "LongTensor",
            DType::F16 => "HalfTensor",
            DType::BF16 => "BFloat16Tensor",
            DType::F32 => "FloatTensor",
            DType::F64 => "DoubleTensor",
        }
    }
    pub fn from_name(s: &str) -> Option<DType> {
        ALL_DTYPES.iter().copied().find(|d| d.name() == s).or(match s {
            "float" => Some(DType::F32),
            "double" => Some(DType::F64),
            "half" => Some(DType::F16),
            "int" => Some(DType::I32),
            "long" => Some(DType::I64),
            "short" => Some(DType::I16),
            _ => None,
        })
    }
    /// Rank of the category used by promotion: bool < integral < floating.
    fn category(self) -> u8 {
        if self == DType::Bool {
            0
        } else if self.is_float() {
            2
        } else {
            1
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "torch.{}", self.name())
    }
}

/// PyTorch's `promote_types` table (c10/core/ScalarType.cpp), written as rules
/// rather than a 10x10 table: same category -> the wider one, except that mixing
/// signed and unsigned 8-bit gives int16 and float16 with bfloat16 gives float32.
pub fn promote_types(a: DType, b: DType) -> DType {
    use DType::*;
    if a == b {
        return a;
    }
    let (ca, cb) = (a.category(), b.category());
    if ca != cb {
        return if ca > cb { a } else { b };
    }
    match (a, b) {
        (U8, I8) | (I8, U8) => I16,
        (U8, x) | (x, U8) => x, // wider signed int
        (F16, BF16) | (BF16, F16) => F32,
        _ => {
            if a.size() >= b.size() {
                a
            } else {
                b
            }
        }
    }
}

/// Kind of a Python number taking part in an op: a "weak" type that only matters
/// through its category (PyTorch's wrapped numbers).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ScalarKind {
    Bool,
    Int,
    Float,
}

/// One participant of a result-type computation.
#[derive(Clone, Copy, Debug)]
pub enum Operand {
    /// A tensor with at least one dimension.
    Dim(DType),
    /// A 0-d tensor: only wins across categories.
    ZeroDim(DType),
    /// A Python scalar.
    Scalar(ScalarKind),
}

/// PyTorch's `result_type` (ATen ResultTypeState): three priority tiers combined
/// by category. `default_float` is the default dtype used for Python floats.
pub fn result_type(ops: &[Operand], default_float: DType) -> DType {
    result_type_of(ops.iter().copied(), default_float)
}

/// `result_type` over operands computed on the fly (no Vec on the per-op path).
pub fn result_type_of(ops: impl IntoIterator<Item = Operand>, default_float: DType) -> DType {
    let mut dim: Option<DType> = None;
    let mut zero: Option<DType> = None;
    let mut wrapped: Option<DType> = None;
    let up = |slot: &mut Option<DType>, d: DType| {
        *slot = Some(match *slot {
            None => d,
            Some(p) => promote_types(p, d),
        })
    };
    for op in ops {
        match op {
            Operand::Dim(d) => up(&mut dim, d),
            Operand::ZeroDim(d) => up(&mut zero, d),
            Operand::Scalar(k) => up(
                &mut wrapped,
                match k {
                    ScalarKind::Bool => DType::Bool,
                    ScalarKind::Int => DType::I64,
                    ScalarKind::Float => default_float,
                },
            ),
        }
    }
    fn combine(higher: Option<DType>, lower: Option<DType>) -> Option<DType> {
        match (higher, lower) {
            (None, l) => l,
            (h, None) => h,
            (Some(h), Some(l)) => {
                if h.is_float() {
                    Some(h)
                } else if h == DType::Bool || l.is_float() {
                    Some(promote_types(h, l))
                } else {
                    Some(h)
                }
            }
        }
    }
    combine(dim, combine(zero, wrapped)).unwrap_or(default_float)
}

/// A Python-level scalar value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
}

impl Scalar {
    pub fn kind(self) -> ScalarKind {
        match self {
            Scalar::Bool(_) => ScalarKind::Bool,
            Scalar::Int(_) => ScalarKind::Int,
            Scalar::Float(_) => ScalarKind::Float,
        }
    }
    pub fn to_f64(self) -> f64 {
        match self {
            Scalar::Bool(b) => b as u8 as f64,
            Scalar::Int(i) => i as f64,
            Scalar::Float(f) => f,
        }
    }
    pub fn to_i64(self) -> i64 {
        match self {
            Scalar::Bool(b) => b as i64,
            Scalar::Int(i) => i,
            Scalar::Float(f) => f as i64,
        }
    }
    pub fn is_nonzero(self) -> bool {
        match self {
            Scalar::Bool(b) => b,
            Scalar::Int(i) => i != 0,
            Scalar::Float(f) => f != 0.0,
        }
    }
    /// c10's `checked_convert`: the error PyTorch raises when a number given as a fill value
    /// (`full`, `fill_`, `masked_fill`) does not fit `dtype`: NaN, ±inf or a value out of range
    /// into an integer type, a finite value past a float type's largest. bool takes anything;
    /// an unsigned type takes integers down to -max (they wrap: fill_(-1) on uint8 is 255).
    pub fn check_fits(self, dtype: DType) -> crate::error::Result<()> {
        let float_max = match dtype {
            DType::F16 => 65504.0,
            DType::BF16 => 3.389_531_389_251_535_5e38,
            DType::F32 => f32::MAX as f64,
            _ => f64::MAX,
        };
        let (lo, hi) = dtype.int_range().unwrap_or((i64::MIN, i64::MAX));
        let fits = match self {
            Scalar::Bool(_) => true,
            _ if dtype == DType::Bool => true,
            Scalar::Float(f) if dtype.is_float() => !f.is_finite() || f.abs() <= float_max,
            Scalar::Float(f) => f >= lo as f64 && f <= hi as f64,
            Scalar::Int(i) if dtype.is_float() => (i as f64).abs() <= float_max,
            Scalar::Int(i) if lo == 0 => i <= hi && i >= -hi,
            Scalar::Int(i) => i >= lo && i <= hi,
        };
        if fits {
            return Ok(());
        }
        let name = match dtype {
            DType::Bool => "bool",
            DType::U8 => "uint8_t",
            DType::I8 => "int8_t",
            DType::I16 => "int16_t",
            DType::I32 => "int",
            DType::I64 => "int64_t",
            DType::F16 => "c10::Half",
            DType::BF16 => "c10::BFloat16",
            DType::F32 => "float",
            DType::F64 => "double",
        };
        crate::bail!(Runtime, "value cannot be converted to type {} without overflow", name)
    }
    /// The value converted to an element type with PyTorch's cast semantics.
    pub fn to_elem<T: Element>(self) -> T {
        match self {
            Scalar::Bool(b) => T::from_bool(b),
            Scalar::Int(i) => T::from_i64(i),
            Scalar::Float(f) => T::from_f64(f),
        }
    }
}

impl From<f64> for Scalar {
    fn from(v: f64) -> Self {
        Scalar::Float(v)
    }
}
impl From<f32> for Scalar {
    fn from(v: f32) -> Self {
        Scalar::Float(v as f64)
    }
}
impl From<i64> for Scalar {
    fn from(v: i64) -> Self {
        Scalar::Int(v)
    }
}
impl From<i32> for Scalar {
    fn from(v: i32) -> Self {
        Scalar::Int(v as i64)
    }
}
impl From<bool> for Scalar {
    fn from(v: bool) -> Self {
        Scalar::Bool(v)
    }
}

/// An element type of a tensor. Conversions follow C++ static_cast as PyTorch does
/// (float -> int truncates; anything -> bool is `!= 0`).
pub trait Element: Copy + Send + Sync + 'static + PartialOrd + PartialEq + fmt::Debug + Default {
    const DTYPE: DType;
    fn to_f64(self) -> f64;
    fn to_i64(self) -> i64;
    fn from_f64(v: f64) -> Self;
    fn from_i64(v: i64) -> Self;
    fn from_bool(v: bool) -> Self;
    fn is_nonzero(self) -> bool;
    fn zero() -> Self;
    fn one() -> Self;
    /// Convert to another element type (PyTorch's cast semantics).
    #[inline(always)]
    fn cast<U: Element>(self) -> U {
        if U::DTYPE == DType::Bool {
            U::from_bool(self.is_nonzero())
        } else if Self::DTYPE.is_float() || U::DTYPE.is_float() {
            U::from_f64(self.to_f64())
        } else {
            U::from_i64(self.to_i64())
        }
    }
    fn to_scalar(self) -> Scalar {
        match Self::DTYPE {
            DType::Bool => Scalar::Bool(self.is_nonzero()),
            d if d.is_float() => Scalar::Float(self.to_f64()),
            _ => Scalar::Int(self.to_i64()),
        }
    }
}

/// f64 -> int64 as PyTorch's CPU casts do on x86-64 (`cvttsd2si`): truncation toward zero,
/// and the "integer indefinite" i64::MIN for NaN, ±inf and values out of range (Rust's `as`
/// saturates and maps NaN to 0). On every CPU, so that results do not depend on the machine.
#[inline(always)]
pub fn f64_to_i64_x86(v: f64) -> i64 {
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&v) { v as i64 } else { i64::MIN }
}

/// f64 -> int32 as x86's 32-bit `cvttsd2si`: i32::MIN for NaN and out-of-range values.
#[inline(always)]
pub fn f64_to_i32_x86(v: f64) -> i32 {
    if v > -2_147_483_649.0 && v < 2_147_483_648.0 { v as i32 } else { i32::MIN }
}

macro_rules! int_element {
    ($t:ty, $d:ident, $from_f64:expr) => {
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn to_i64(self) -> i64 {
                self as i64
            }
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                #[allow(clippy::redundant_closure_call)]
                ($from_f64)(v)
            }
            #[inline(always)]
            fn from_i64(v: i64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn from_bool(v: bool) -> Self {
                v as $t
            }
            #[inline(always)]
            fn is_nonzero(self) -> bool {
                self != 0
            }
            fn zero() -> Self {
                0
            }
            fn one() -> Self {
                1
            }
        }
    };
}
// As x86 PyTorch (c10's static_cast_with_inter_type and the compiler's conversions): uint8
// wraps from int64 (-1.5 -> 255, 2^32 + 7 -> 7), int8/int16 from int32 (70000 -> 4464 in
// int16, NaN -> i32::MIN -> 0).
int_element!(u8, U8, |v: f64| f64_to_i64_x86(v) as u8);
int_element!(i8, I8, |v: f64| f64_to_i32_x86(v) as i8);
int_element!(i16, I16, |v: f64| f64_to_i32_x86(v) as i16);
int_element!(i32, I32, f64_to_i32_x86);
int_element!(i64, I64, f64_to_i64_x86);

impl Element for bool {
    const DTYPE: DType = DType::Bool;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as u8 as f64
    }
    #[inline(always)]
    fn to_i64(self) -> i64 {
        self as i64
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
    #[inline(always)]
    fn from_i64(v: i64) -> Self {
        v != 0
    }
    #[inline(always)]
    fn from_bool(v: bool) -> Self {
        v
    }
    #[inline(always)]
    fn is_nonzero(self) -> bool {
        self
    }
    fn zero() -> Self {
        false
    }
    fn one() -> Self {
        true
    }
}

macro_rules! float_element {
    ($t:ty, $d:ident, $to:expr, $from:expr) => {
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            #[inline(always)]
            fn to_f64(self) -> f64 {
                #[allow(clippy::redundant_closure_call)]
                ($to)(self)
            }
            #[inline(always)]
            fn to_i64(self) -> i64 {
                f64_to_i64_x86(self.to_f64())
            }
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                #[allow(clippy::redundant_closure_call)]
                ($from)(v)
            }
            #[inline(always)]
            fn from_i64(v: i64) -> Self {
                Self::from_f64(v as f64)
            }
            #[inline(always)]
            fn from_bool(v: bool) -> Self {
                Self::from_f64(v as u8 as f64)
            }
            #[inline(always)]
            fn is_nonzero(self) -> bool {
                self.to_f64() != 0.0
            }
            fn zero() -> Self {
                Self::from_f64(0.0)
            }
            fn one() -> Self {
                Self::from_f64(1.0)
            }
        }
    };
}
float_element!(f32, F32, |x: f32| x as f64, |v: f64| v as f32);
float_element!(f64, F64, |x: f64| x, |v: f64| v);
float_element!(f16, F16, |x: f16| x.to_f64(), f16::from_f64);
float_element!(bf16, BF16, |x: bf16| x.to_f64(), bf16_from_f64);

/// f64 -> bfloat16 the way PyTorch converts: round to f32, then to bfloat16 (c10::BFloat16 is
/// built from a float). Rejected: `half`'s `bf16::from_f64` (2.7), which drops the low 32 bits
/// of the f64 before deciding the rounding, so values just above a tie round down: about one
/// f32 value in 10^4 came out one ulp below PyTorch's result. f16 needs no such care: `half`'s
/// f16::from_f64 already agrees with c10::Half's conversion through float.
#[inline(always)]
pub fn bf16_from_f64(v: f64) -> bf16 {
    bf16::from_f32(v as f32)
}

/// Floating element types. f16/bf16 compute through f32, as PyTorch's CPU kernels do.
pub trait Float: Element + std::ops::Neg<Output = Self> {
    fn to_f32(self) -> f32;
    fn from_f32(v: f32) -> Self;
    fn from_f64_(v: f64) -> Self;
}
impl Float for f32 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self
    }
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        v
    }
    #[inline(always)]
    fn from_f64_(v: f64) -> Self {
        v as f32
    }
}
impl Float for f64 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self as f32
    }
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        v as f64
    }
    #[inline(always)]
    fn from_f64_(v: f64) -> Self {
        v
    }
}
impl Float for f16 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        f16::to_f32(self)
    }
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        f16::from_f32(v)
    }
    #[inline(always)]
    fn from_f64_(v: f64) -> Self {
        f16::from_f64(v)
    }
}
impl Float for bf16 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        bf16::to_f32(self)
    }
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        bf16::from_f32(v)
    }
    #[inline(always)]
    fn from_f64_(v: f64) -> Self {
        bf16_from_f64(v)
    }
}

/// Run `$body` with `$T` bound to the Rust element type of `$dt`.
#[macro_export]
macro_rules! dispatch {
    ($dt:expr, $T:ident => $body:expr) => {{
        use $crate::dtype::DType as __D;
        match $dt {
            __D::Bool => { type $T = bool; $body }
            __D::U8 => { type $T = u8; $body }
            __D::I8 => { type $T = i8; $body }
            __D::I16 => { type $T = i16; $body }
            __D::I32 => { type $T = i32; $body }
            __D::I64 => { type $T = i64; $body }
            __D::F16 => { type $T = half::f16; $body }
            __D::BF16 => { type $T = half::bf16; $body }
            __D::F32 => { type $T = f32; $body }
            __D::F64 => { type $T = f64; $body }
        }
    }};
}

/// Like `dispatch!` for floating dtypes only; `$other` runs for the rest.
#[macro_export]
macro_rules! dispatch_float {
    ($dt:expr, $T:ident => $body:expr, _ => $other:expr) => {{
        use $crate::dtype::DType as __D;
        match $dt {
            __D::F16 => { type $T = half::f16; $body }
            __D::BF16 => { type $T = half::bf16; $body }
            __D::F32 => { type $T = f32; $body }
            __D::F64 => { type $T = f64; $body }
            #[allow(unreachable_patterns)]
            _ => $other,
        }
    }};
}

/// Integral dtypes including bool.
#[macro_export]
macro_rules! dispatch_int {
    ($dt:expr, $T:ident => $body:expr, _ => $other:expr) => {{
        use $crate::dtype::DType as __D;
        match $dt {
            __D::Bool => { type $T = bool; $body }
            __D::U8 => { type $T = u8; $body }
            __D::I8 => { type $T = i8; $body }
            __D::I16 => { type $T = i16; $body }
            __D::I32 => { type $T = i32; $body }
            __D::I64 => { type $T = i64; $body }
            #[allow(unreachable_patterns)]
            _ => $other,
        }
    }};
}

static DEFAULT_DTYPE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(8); // F32

/// The dtype Python floats and float factories default to (`torch.get_default_dtype`).
pub fn default_dtype() -> DType {
    ALL_DTYPES[DEFAULT_DTYPE.load(std::sync::atomic::Ordering::Relaxed) as usize]
}
pub fn set_default_dtype(d: DType) -> crate::error::Result<()> {
    if !matches!(d, DType::F32 | DType::F64 | DType::F16 | DType::BF16) {
        crate::bail!(Type, "only floating-point types are supported as the default type");
    }
    let i = ALL_DTYPES.iter().position(|x| *x == d).unwrap_or(8);
    DEFAULT_DTYPE.store(i as u8, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}

/// PyTorch's ScalarType name of a dtype ("Float", "Long"), as its messages print it.
pub fn pretty_dtype(d: DType) -> &'static str {
    match d {
        DType::Bool => "Bool",
        DType::U8 => "Byte",
        DType::I8 => "Char",
        DType::I16 => "Short",
        DType::I32 => "Int",
        DType::I64 => "Long",
        DType::F16 => "Half",
        DType::BF16 => "BFloat16",
        DType::F32 => "Float",
        DType::F64 => "Double",
    }
}
