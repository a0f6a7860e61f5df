//! Scalar math used by the op tables: one trait for arithmetic on every dtype
//! (wrapping integer semantics, as PyTorch's C++ kernels give), one for float math.
//! float16/bfloat16 compute through f32.

use crate::dtype::{Element, Float};
use half::{bf16, f16};

/// NaN test for any element type: `x != x`, true only for a float NaN (f32, f64 and
/// half's f16/bf16, whose `PartialEq` follows IEEE) and never for integers or bool.
/// There is no common `is_nan` across those types, hence the self-comparison.
#[inline(always)]
// why: the self-comparison is the NaN test itself (see above), not a typo.
#[allow(clippy::eq_op)]
pub(crate) fn is_nan<T: PartialEq + Copy>(x: T) -> bool {
    x != x
}

/// Arithmetic on every element type.
pub trait Num: Element {
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    /// Division; callers promote integers to float for true division, so for integer
    /// types this is only reached by floor/trunc division with a non-zero divisor.
    fn div(self, o: Self) -> Self;
    fn neg(self) -> Self;
    fn abs(self) -> Self;
    fn sign(self) -> Self;
    /// Python-style remainder: result has the sign of the divisor.
    fn remainder(self, o: Self) -> Self;
    /// C-style fmod: result has the sign of the dividend.
    fn fmod(self, o: Self) -> Self;
    fn floor_div(self, o: Self) -> Self;
    fn trunc_div(self, o: Self) -> Self;
    fn pow(self, o: Self) -> Self;
    /// max/min propagating NaN (torch.maximum semantics).
    fn maximum(self, o: Self) -> Self;
    fn minimum(self, o: Self) -> Self;
    fn is_zero(self) -> bool {
        !self.is_nonzero()
    }
}

macro_rules! num_int {
    ($($t:ty),*) => {$(
        impl Num for $t {
            #[inline(always)] fn add(self, o: Self) -> Self { self.wrapping_add(o) }
            #[inline(always)] fn sub(self, o: Self) -> Self { self.wrapping_sub(o) }
            #[inline(always)] fn mul(self, o: Self) -> Self { self.wrapping_mul(o) }
            #[inline(always)] fn div(self, o: Self) -> Self { if o == 0 { 0 } else { self.wrapping_div(o) } }
            #[inline(always)] fn neg(self) -> Self { (0 as $t).wrapping_sub(self) }
            #[inline(always)] fn abs(self) -> Self { if self.to_i64() < 0 { self.neg() } else { self } }
            #[inline(always)] fn sign(self) -> Self { (self.to_i64().signum()) as $t }
            #[inline(always)] fn remainder(self, o: Self) -> Self {
                if o == 0 { return 0; }
                let r = self.wrapping_rem(o);
                if r != 0 && ((r.to_i64() < 0) != (o.to_i64() < 0)) { r.wrapping_add(o) } else { r }
            }
            #[inline(always)] fn fmod(self, o: Self) -> Self { if o == 0 { 0 } else { self.wrapping_rem(o) } }
            #[inline(always)] fn floor_div(self, o: Self) -> Self {
                if o == 0 { return 0; }
                let q = self.wrapping_div(o);
                let r = self.wrapping_rem(o);
                if r != 0 && ((r.to_i64() < 0) != (o.to_i64() < 0)) { q.wrapping_sub(1) } else { q }
            }
            #[inline(always)] fn trunc_div(self, o: Self) -> Self { self.div(o) }
            #[inline(always)] fn pow(self, o: Self) -> Self {
                // Integer power by squaring; negative exponents give 0 except for base +-1
                // (PyTorch's integral pow semantics).
                let e = o.to_i64();
                if e < 0 {
                    let b = self.to_i64();
                    return if b == 1 { 1 } else if b == -1 { if e % 2 == 0 { 1 } else { self } } else { 0 };
                }
                let (mut base, mut e, mut acc) = (self, e as u64, 1 as $t);
                while e > 0 {
                    if e & 1 == 1 { acc = acc.wrapping_mul(base); }
                    base = base.wrapping_mul(base);
                    e >>= 1;
                }
                acc
            }
            #[inline(always)] fn maximum(self, o: Self) -> Self { if self > o { self } else { o } }
            #[inline(always)] fn minimum(self, o: Self) -> Self { if self < o { self } else { o } }
        }
    )*};
}
num_int!(u8, i8, i16, i32, i64);

impl Num for bool {
    #[inline(always)] fn add(self, o: Self) -> Self { self | o }
    #[inline(always)] fn sub(self, o: Self) -> Self { self ^ o }
    #[inline(always)] fn mul(self, o: Self) -> Self { self & o }
    #[inline(always)] fn div(self, o: Self) -> Self { self & o }
    #[inline(always)] fn neg(self) -> Self { self }
    #[inline(always)] fn abs(self) -> Self { self }
    #[inline(always)] fn sign(self) -> Self { self }
    #[inline(always)] fn remainder(self, _o: Self) -> Self { false }
    #[inline(always)] fn fmod(self, _o: Self) -> Self { false }
    #[inline(always)] fn floor_div(self, o: Self) -> Self { self & o }
    #[inline(always)] fn trunc_div(self, o: Self) -> Self { self & o }
    #[inline(always)] fn pow(self, o: Self) -> Self { self | !o }
    #[inline(always)] fn maximum(self, o: Self) -> Self { self | o }
    #[inline(always)] fn minimum(self, o: Self) -> Self { self & o }
}

macro_rules! num_float {
    ($t:ty, $via:ty, $to:expr, $from:expr) => {
        impl Num for $t {
            #[inline(always)] fn add(self, o: Self) -> Self { self + o }
            #[inline(always)] fn sub(self, o: Self) -> Self { self - o }
            #[inline(always)] fn mul(self, o: Self) -> Self { self * o }
            #[inline(always)] fn div(self, o: Self) -> Self { self / o }
            #[inline(always)] fn neg(self) -> Self { -self }
            #[inline(always)] fn abs(self) -> Self { $from(($to(self) as $via).abs()) }
            #[inline(always)] fn sign(self) -> Self {
                // sign(+-0) = +0 and sign(NaN) = 0, as torch.sign.
                let x = $to(self) as $via;
                $from(if x > 0.0 { 1.0 } else if x < 0.0 { -1.0 } else { 0.0 })
            }
            #[inline(always)] fn remainder(self, o: Self) -> Self {
                let (a, b) = ($to(self) as $via, $to(o) as $via);
                let r = a % b;
                $from(if r != 0.0 && ((r < 0.0) != (b < 0.0)) { r + b } else { r })
            }
            #[inline(always)] fn fmod(self, o: Self) -> Self { $from(($to(self) as $via) % ($to(o) as $via)) }
            #[inline(always)] fn floor_div(self, o: Self) -> Self {
                // Python's float floor division (PyTorch's div_floor_floating).
                let (a, b) = ($to(self) as $via, $to(o) as $via);
                if b == 0.0 { return $from(a / b); }
                let m = a % b;
                let mut d = (a - m) / b;
                if m != 0.0 && ((b < 0.0) != (m < 0.0)) { d -= 1.0; }
                let fd = d.floor();
                $from(if d - fd > 0.5 { fd + 1.0 } else if d == 0.0 { (0.0 as $via).copysign(a / b) } else { fd })
            }
            #[inline(always)] fn trunc_div(self, o: Self) -> Self { $from((($to(self) as $via) / ($to(o) as $via)).trunc()) }
            #[inline(always)] fn pow(self, o: Self) -> Self { $from(($to(self) as $via).powf($to(o) as $via)) }
            #[inline(always)] fn maximum(self, o: Self) -> Self {
                let (a, b) = ($to(self) as $via, $to(o) as $via);
                $from(if a.is_nan() || b.is_nan() { <$via>::NAN } else { a.max(b) })
            }
            #[inline(always)] fn minimum(self, o: Self) -> Self {
                let (a, b) = ($to(self) as $via, $to(o) as $via);
                $from(if a.is_nan() || b.is_nan() { <$via>::NAN } else { a.min(b) })
            }
        }
    };
}
num_float!(f32, f32, |x: f32| x, |x: f32| x);
num_float!(f64, f64, |x: f64| x, |x: f64| x);
num_float!(f16, f32, |x: f16| x.to_f32(), f16::from_f32);
num_float!(bf16, f32, |x: bf16| x.to_f32(), bf16::from_f32);

/// Float math for the unary table. f16/bf16 go through f32.
pub trait FloatMath: Float + Num {
    fn map32(self, f32f: fn(f32) -> f32, f64f: fn(f64) -> f64) -> Self;
}
impl FloatMath for f32 {
    #[inline(always)]
    fn map32(self, f: fn(f32) -> f32, _g: fn(f64) -> f64) -> Self {
        f(self)
    }
}
impl FloatMath for f64 {
    #[inline(always)]
    fn map32(self, _f: fn(f32) -> f32, g: fn(f64) -> f64) -> Self {
        g(self)
    }
}
impl FloatMath for f16 {
    #[inline(always)]
    fn map32(self, f: fn(f32) -> f32, _g: fn(f64) -> f64) -> Self {
        f16::from_f32(f(self.to_f32()))
    }
}
impl FloatMath for bf16 {
    #[inline(always)]
    fn map32(self, f: fn(f32) -> f32, _g: fn(f64) -> f64) -> Self {
        bf16::from_f32(f(self.to_f32()))
    }
}

// ---- special functions without a std implementation ------------------------------

/// erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)).
/// Every term is positive, so there is no cancellation; |x| >= 6 rounds to +-1 in f64.
/// (A rational approximation would be faster; this one is easy to verify.)
pub fn erf64(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let ax = x.abs();
    if ax >= 6.0 {
        return x.signum();
    }
    let x2 = ax * ax;
    let mut term = ax;
    let mut sum = ax;
    let mut n = 0.0;
    loop {
        n += 1.0;
        term *= 2.0 * x2 / (2.0 * n + 1.0);
        sum += term;
        if term <= sum * 1e-17 || n > 500.0 {
            break;
        }
    }
    let r = (2.0 / std::f64::consts::PI.sqrt()) * (-x2).exp() * sum;
    r.min(1.0).copysign(x)
}

pub fn erf32(x: f32) -> f32 {
    erf64(x as f64) as f32
}

/// Inverse error function: Giles' single-precision approximation refined by two Newton
/// steps in double precision.
pub fn erfinv64(y: f64) -> f64 {
    if y.is_nan() || !(-1.0..=1.0).contains(&y) {
        return f64::NAN;
    }
    if y == 1.0 {
        return f64::INFINITY;
    }
    if y == -1.0 {
        return f64::NEG_INFINITY;
    }
    let w = -((1.0 - y) * (1.0 + y)).ln();
    let x = if w < 5.0 {
        let w = w - 2.5;
        let mut p = 2.810_226_36e-08;
        for c in [3.432_739_39e-07, -3.523_387_7e-06, -4.391_506_54e-06, 0.000_218_580_87, -0.001_253_725_03, -0.004_177_681_64, 0.246_640_727, 1.501_409_41] {
            p = c + p * w;
        }
        p * y
    } else {
        let w = w.sqrt() - 3.0;
        let mut p = -0.000_200_214_257;
        for c in [0.000_100_950_558, 0.001_349_343_22, -0.003_673_428_44, 0.005_739_507_73, -0.007_622_461_3, 0.009_438_870_47, 1.001_674_06, 2.832_976_82] {
            p = c + p * w;
        }
        p * y
    };
    let two_over_sqrt_pi = 2.0 / std::f64::consts::PI.sqrt();
    // Newton on erf(x) = y near the centre, on erfc(|x|) = 1 - |y| in the tails: there erf(x) is
    // within 1e-16 of 1, so erf(x) - y cancels and each step was off by ~1e-16 / erf'(x), a
    // relative error of 1e-5 at y = 1 - 2e-12. 1 - |y| is exact (Sterbenz), erfc64 accurate.
    let tail = y.abs() > 0.5;
    let (t, ax) = (1.0 - y.abs(), x.abs());
    let mut a = if tail { ax } else { x };
    // Giles' guess is good to ~1e-7 only in the centre: in the far tail Newton needs a few more
    // steps (quadratic, with factor ~|x| per step), so iterate to convergence with a cap.
    for _ in 0..8 {
        let d = two_over_sqrt_pi * (-a * a).exp();
        let step = if tail { (erfc64(a) - t) / d } else { -(erf64(a) - y) / d };
        a += step;
        if step.abs() <= 1e-16 * a.abs() {
            break;
        }
    }
    if tail {
        a.copysign(y)
    } else {
        a
    }
}

/// erfc(x) for x >= 0 without cancellation: the continued fraction
/// erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))) above 2 (evaluated
/// bottom-up with a fixed depth that converges to f64 precision there), 1 - erf(x) below.
pub fn erfc64(x: f64) -> f64 {
    if x < 2.0 {
        return 1.0 - erf64(x);
    }
    let mut f = x;
    for k in (1..=60).rev() {
        f = x + (k as f64 * 0.5) / f;
    }
    (-x * x).exp() / (std::f64::consts::PI.sqrt() * f)
}

pub fn erfinv32(y: f32) -> f32 {
    erfinv64(y as f64) as f32
}

/// Round half to even (torch.round).
#[inline(always)]
pub fn round_even64(x: f64) -> f64 {
    x.round_ties_even()
}
#[inline(always)]
pub fn round_even32(x: f32) -> f32 {
    x.round_ties_even()
}

/// exp for f32 written without branches or calls so that loops over it vectorise
/// (std's `f32::exp` is a libm call per element). Cephes-style: x = n ln2 + r with
/// |r| <= ln2/2, a degree-6 polynomial for e^r, and 2^n built in the exponent bits.
/// Max error ~2 ulp over the normal range; results below ~1.2e-38 flush to 0.
#[inline(always)]
pub fn exp_f32_fast(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // f32::max returns the non-NaN operand, so NaN becomes the lower bound here (finite
    // from here on) and is restored at the end.
    // why: `f32::clamp` would keep NaN, and a NaN reaching `to_int_unchecked` below is UB.
    #[allow(clippy::manual_clamp)]
    let xc = x.max(-87.336_54).min(88.722_83);
    // floor without `f32::floor`: on the baseline x86-64 target (no SSE4.1) that is a
    // libm call per element, which blocks vectorisation.
    let v = xc * LOG2E + 0.5;
    // SAFETY: v is finite and within [-126, 129] after the clamp, so it fits in i32
    // (a plain `as` cast adds saturation checks that keep the loop scalar).
    let t = unsafe { v.to_int_unchecked::<i32>() };
    let ni = t - (v < t as f32) as i32;
    let n = ni as f32;
    let r = xc - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    // (written 5.000_000_1e-1 before: that is 0.50000001, which rounds to exactly 0.5 in f32)
    p = p * r + 5e-1;
    let er = p * r * r + r + 1.0;
    // 2^n via the exponent field; n in [-126, 128] after the clamp. 2^128 is not a finite
    // f32, so n = 128 scales by 2^127 and doubles.
    let scale = f32::from_bits(((ni.clamp(-126, 127) + 127) as u32) << 23);
    let y = er * scale * (1 + (ni > 127) as i32) as f32;
    // Out-of-range inputs and NaN, as bit-mask selects: `if` forms here were compiled to
    // per-lane scalar compares and branches, which made the whole loop ~10x slower.
    let over = 0u32.wrapping_sub((x > 88.722_83) as u32);
    let under = 0u32.wrapping_sub((x < -87.336_54) as u32);
    let nan = 0u32.wrapping_sub(x.is_nan() as u32);
    let mut b = y.to_bits();
    b = (b & !over) | (f32::INFINITY.to_bits() & over);
    b &= !under;
    b = (b & !nan) | (x.to_bits() & nan);
    f32::from_bits(b)
}
