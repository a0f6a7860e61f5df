//! Branch-free f32 transcendental functions that vectorise when inlined into the loops of
//! `simd::map_f32` (compiled for AVX-512F, AVX2+FMA and baseline x86-64), where std's
//! `f32::tanh`, `f32::ln_1p`, ... are one libm call per element.
//!
//! Each function takes and returns f32 but computes in f64: the argument reduction in exact f64
//! steps, then Taylor series or fitted polynomials accurate to ~1e-12, then one rounding to f32.
//! So every result is within 1 ulp of the correctly rounded value (the tests in
//! rust/core/tests/vecmath.rs sweep the f32 range against f64 libm), subnormal inputs and results
//! included (f64 has the range to represent both as normal numbers). f64 vectors are half as wide
//! as f32 ones, but there is no double-float arithmetic to do, and these loops are near memory speed
//! on 4M elements either way.
//!
//! Rules that keep it vectorisable and identical on the three instruction sets:
//! * no calls, no branches: special cases are computed and then picked with bit-mask selects
//!   (`if` forms on floats were compiled to per-lane branches in `exp_f32_fast`);
//! * no `floor`/`round` (libm calls on baseline x86-64, which has no SSE4.1): rounding adds and
//!   subtracts 1.5 * 2^52;
//! * no integer ops SSE2 lacks for the vector width used (64-bit compares, i64 -> f64 casts): an
//!   exponent becomes an f64 through the bits of 2^52 + e;
//! * no `mul_add`: without FMA (baseline) it would be a libm call, and plain `a * b + c` is never
//!   contracted by rustc, so the AVX-512, AVX2 and baseline copies give bit-identical results.
//!
//! Constants: Taylor coefficients are written out here (1/k!, 1/(2k+1), ...); the fitted ones and
//! the 2/pi table of the sin/cos reduction come from scripts/gen_vecmath.py (vecmath_tables.rs),
//! which records their errors. Giles' erfinv guess is from M. Giles, "Approximating the erfinv
//! function", GPU Computing Gems (2010), single-precision version; the ln2 split is fdlibm's.

use super::vecmath_tables::{ASIN_P, ATAN_P, ERFCX_T, TWO_OVER_PI_BY_EXP};

const MAGIC: f64 = 6_755_399_441_055_744.0; // 1.5 * 2^52: v + MAGIC - MAGIC rounds v (|v| < 2^51)
const LOG2E: f64 = std::f64::consts::LOG2_E;
const LN2: f64 = std::f64::consts::LN_2;
// fdlibm's split of ln 2: LN2_HI has 32 trailing zero bits, so n * LN2_HI is exact for |n| < 2^20.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000); // 6.93147180369123816490e-01
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76); // 1.90821492927058770002e-10
const PIO2: f64 = std::f64::consts::FRAC_PI_2;
const PI: f64 = std::f64::consts::PI;

// ---- selects and small helpers ----------------------------------------------------------

/// `if c { a } else { b }` as bit masks.
#[inline(always)]
fn sel32(c: bool, a: f32, b: f32) -> f32 {
    let m = 0u32.wrapping_sub(c as u32);
    f32::from_bits((a.to_bits() & m) | (b.to_bits() & !m))
}

/// `if c { a } else { b }` as bit masks.
#[inline(always)]
fn sel64(c: bool, a: f64, b: f64) -> f64 {
    let m = 0u64.wrapping_sub(c as u64);
    f64::from_bits((a.to_bits() & m) | (b.to_bits() & !m))
}

/// NaN inputs come back as they went in (the paths below would compute garbage from their bits).
#[inline(always)]
fn nan_through(x: f32, r: f32) -> f32 {
    sel32(x.is_nan(), x, r)
}

/// Round to the nearest integer (ties to even), |v| < 2^51.
#[inline(always)]
fn round64(v: f64) -> f64 {
    (v + MAGIC) - MAGIC
}

/// `|a| * sign(s)` (std's copysign lowers to the same bit operations; spelt out so that the
/// sign source may be the f32 input).
#[inline(always)]
fn with_sign_of(a: f64, s: f32) -> f64 {
    f64::from_bits(a.to_bits() | (((s.to_bits() >> 31) as u64) << 63))
}

/// Horner's rule, low-to-high coefficients (a constant trip count: LLVM unrolls it fully).
#[inline(always)]
fn poly<const N: usize>(c: &[f64; N], u: f64) -> f64 {
    let mut r = c[N - 1];
    let mut i = N - 1;
    while i > 0 {
        i -= 1;
        r = r * u + c[i];
    }
    r
}

// ---- f64 cores --------------------------------------------------------------------------

/// e^r - 1 for |r| <= 0.35: Taylor to r^10, truncation error r^11/11! < 3e-13 relative.
#[inline(always)]
fn expm1_taylor(r: f64) -> f64 {
    const C: [f64; 10] = [
        1.0,
        1.0 / 2.0,
        1.0 / 6.0,
        1.0 / 24.0,
        1.0 / 120.0,
        1.0 / 720.0,
        1.0 / 5040.0,
        1.0 / 40320.0,
        1.0 / 362_880.0,
        1.0 / 3_628_800.0,
    ];
    r * poly(&C, r)
}

/// e^x = 2^n (1 + q) for |x| <= 200: (2^n, q). x = n ln2 + r with |r| <= ln2/2 (Cody-Waite).
#[inline(always)]
fn exp_parts(x: f64) -> (f64, f64) {
    let n = round64(x * LOG2E);
    let r = (x - n * LN2_HI) - n * LN2_LO;
    // 2^n from the integer in the low bits of n + MAGIC (|n| <= 289, so n + 1023 is a normal exponent).
    let two_n = f64::from_bits((n + MAGIC).to_bits().wrapping_add(1023) << 52);
    (two_n, expm1_taylor(r))
}

/// e^x in f64 for any x (NaN through, +inf, 0 below -200: an f32 result is 0 from -104).
#[inline(always)]
fn exp64(x: f64) -> f64 {
    let (t, q) = exp_parts(x.clamp(-200.0, 200.0));
    let y = t * q + t;
    sel64(x > 200.0, f64::INFINITY, sel64(x < -200.0, 0.0, sel64(x.is_nan(), x, y)))
}

/// e^x - 1 in f64, for -60 <= x <= 200 (callers clamp), relative accuracy ~1e-12.
#[inline(always)]
fn expm1_64(x: f64) -> f64 {
    let (t, q) = exp_parts(x);
    // 2^n q + (2^n - 1): no cancellation for n = 0 (the result is q), bounded for others.
    t * q + (t - 1.0)
}

/// ln(u) for positive finite normal u, as (k, log m) with u = 2^k m, m in [sqrt(1/2), sqrt(2)).
#[inline(always)]
fn log_parts(u: f64) -> (f64, f64) {
    // Move the mantissa range to [sqrt(1/2), sqrt(2)) by offsetting the bits (fdlibm/musl style).
    let ix = u.to_bits().wrapping_add(0x3ff0_0000_0000_0000 - 0x3fe6_a09e_667f_3bcd);
    let k = f64::from_bits(0x4330_0000_0000_0000 | (ix >> 52)) - (4_503_599_627_370_496.0 + 1023.0);
    let m = f64::from_bits((ix & 0x000f_ffff_ffff_ffff) + 0x3fe6_a09e_667f_3bcd);
    let f = m - 1.0; // exact
    // log(1 + f) = 2 atanh(s), s = f / (2 + f), |s| <= 0.1716: the series to s^13,
    // truncation error z^7/15 < 2e-12 relative (z = s^2 <= 0.0295).
    const C: [f64; 7] = [1.0, 1.0 / 3.0, 1.0 / 5.0, 1.0 / 7.0, 1.0 / 9.0, 1.0 / 11.0, 1.0 / 13.0];
    let s = f / (2.0 + f);
    (k, 2.0 * s * poly(&C, s * s))
}

/// ln(u), positive finite normal u.
#[inline(always)]
fn log64(u: f64) -> f64 {
    let (k, l) = log_parts(u);
    k * LN2 + l
}

/// ln(1 + a) for finite a > -1: log(u) with u = 1 + a, corrected by the rounding error of u.
#[inline(always)]
fn log1p64(a: f64) -> f64 {
    let u = 1.0 + a;
    log64(u) + (a - (u - 1.0)) / u
}

/// erf(x) for |x| < 0.45: 2/sqrt(pi) sum (-1)^n x^(2n+1) / (n! (2n+1)), to n = 8; the first
/// omitted term is < 0.2025^9 / (9! 19) < 1e-13 relative.
#[inline(always)]
fn erf_small(x: f64) -> f64 {
    const K: f64 = std::f64::consts::FRAC_2_SQRT_PI;
    const C: [f64; 9] = [
        K,
        -K / 3.0,
        K / 10.0,
        -K / 42.0,
        K / 216.0,
        -K / 1320.0,
        K / 9360.0,
        -K / 75600.0,
        K / 685_440.0,
    ];
    x * poly(&C, x * x)
}

/// erfc(a) and e^(-a^2) for 0.45 <= a <= 12 (callers clamp): e^(-a^2) erfcx(a), erfcx fitted in
/// t = (a - 2) / (a + 2).
#[inline(always)]
fn erfc_big(a: f64) -> (f64, f64) {
    let t = (a - 2.0) / (a + 2.0);
    let e = exp64(-(a * a));
    (e * poly(&ERFCX_T, t), e)
}

/// erfc(z) in f64 for any z (NaN excepted): relative accuracy ~1e-12 for z > 0.
#[inline(always)]
fn erfc64(z: f64) -> f64 {
    let a = z.abs();
    let (big, _) = erfc_big(a.clamp(0.45, 12.0));
    // erfc(12) = 1.4e-64; above, 0 (not the clamped value: gelu multiplies it by x, up to 3.4e38).
    let pos = sel64(a < 0.45, 1.0 - erf_small(a), sel64(a > 12.0, 0.0, big));
    sel64(z < 0.0, 2.0 - pos, pos)
}

/// erf(z) in f64 (NaN excepted); relative accuracy ~1e-12.
#[inline(always)]
fn erf64(z: f64) -> f64 {
    let a = z.abs();
    let (big, _) = erfc_big(a.clamp(0.45, 12.0));
    sel64(a < 0.45, erf_small(z), f64::from_bits((1.0 - big).to_bits() | (z.to_bits() & (1 << 63))))
}

// ---- the f32 functions --------------------------------------------------------------------

/// e^x, within 1 ulp, subnormal results included.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    exp64(x as f64) as f32
}

/// 2^x, exact for integer x.
#[inline(always)]
pub fn exp2(x: f32) -> f32 {
    let xd = (x as f64).clamp(-200.0, 200.0);
    let n = round64(xd);
    let r = (xd - n) * LN2; // |xd - n| <= 1/2 exactly, r <= 0.35
    let two_n = f64::from_bits((n + MAGIC).to_bits().wrapping_add(1023) << 52);
    let y = (two_n * expm1_taylor(r) + two_n) as f32;
    // (x as f64).clamp keeps NaN; the inf cases saturate through the clamp: 2^200 -> inf, 2^-200 -> 0.
    nan_through(x, y)
}

/// e^x - 1.
#[inline(always)]
pub fn expm1(x: f32) -> f32 {
    let y = expm1_64((x as f64).clamp(-60.0, 200.0)) as f32;
    // -0 keeps its sign (the polynomial gives +0 for it).
    nan_through(x, sel32(x == 0.0, x, y))
}

/// ln x at f32 input through f64 (subnormal x are normal f64 numbers).
#[inline(always)]
fn log_sel(x: f32, y: f64) -> f32 {
    let r = y as f32;
    // 0 -> -inf, negative -> NaN, +inf -> +inf, NaN -> NaN.
    let r = sel32(x == f32::INFINITY, x, r);
    let r = sel32(x < 0.0, f32::NAN, r);
    let r = sel32(x == 0.0, f32::NEG_INFINITY, r);
    nan_through(x, r)
}

/// Natural logarithm.
#[inline(always)]
pub fn log(x: f32) -> f32 {
    log_sel(x, log64(x as f64))
}

/// Base-2 logarithm, exact for powers of two.
#[inline(always)]
pub fn log2(x: f32) -> f32 {
    let (k, l) = log_parts(x as f64);
    log_sel(x, k + l * LOG2E)
}

/// Base-10 logarithm.
#[inline(always)]
pub fn log10(x: f32) -> f32 {
    const LOG10_2: f64 = std::f64::consts::LOG10_2;
    const LOG10_E: f64 = std::f64::consts::LOG10_E;
    let (k, l) = log_parts(x as f64);
    log_sel(x, k * LOG10_2 + l * LOG10_E)
}

/// ln(1 + x).
#[inline(always)]
pub fn log1p(x: f32) -> f32 {
    let a = x as f64;
    let r = log1p64(a.max(-0.5)) as f32;
    // log1p64 needs a > -1: below -0.5 ln(1 + x) is computed from the exact 1 + x instead.
    let r = sel32(x < -0.5, log64(1.0 + a) as f32, r);
    let r = sel32(x == f32::INFINITY, x, r);
    let r = sel32(x < -1.0, f32::NAN, r);
    let r = sel32(x == -1.0, f32::NEG_INFINITY, r);
    // +-0 (and tiny x) come out of the correction term, but +0 + -0 is +0: keep -0.
    nan_through(x, sel32(x == 0.0, x, r))
}

/// tanh x = t / (t + 2), t = e^(2|x|) - 1, with x's sign.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let a = (x as f64).abs().min(20.0); // tanh(9.1) already rounds to 1
    let t = expm1_64(2.0 * a);
    nan_through(x, with_sign_of(t / (t + 2.0), x) as f32)
}

/// 1 / (1 + e^-x).
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    (1.0 / (1.0 + exp64(-(x as f64)))) as f32
}

/// x sigmoid(x).
#[inline(always)]
pub fn silu(x: f32) -> f32 {
    let xd = x as f64;
    (xd / (1.0 + exp64(-xd))) as f32
}

/// softplus with beta 1 and PyTorch's default threshold 20 (x above it is returned).
#[inline(always)]
pub fn softplus(x: f32) -> f32 {
    let e = exp64((x as f64).min(20.0));
    let r = log1p64(e) as f32;
    nan_through(x, sel32(x > 20.0, x, r))
}

/// x tanh(softplus(x)) = x w / (w + 2), w = e^x (e^x + 2) (tanh(log(1 + n)) = ((1+n)^2 - 1) / ((1+n)^2 + 1)).
#[inline(always)]
pub fn mish(x: f32) -> f32 {
    let xd = x as f64;
    let n = exp64(xd.min(20.0));
    let w = n * (n + 2.0);
    let r = (xd * w / (w + 2.0)) as f32;
    nan_through(x, sel32(x > 20.0, x, r))
}

/// sinh x = (t + t / (t + 1)) / 2, t = e^|x| - 1, with x's sign.
#[inline(always)]
pub fn sinh(x: f32) -> f32 {
    let a = (x as f64).abs().min(100.0);
    let t = expm1_64(a);
    nan_through(x, with_sign_of(0.5 * (t + t / (t + 1.0)), x) as f32)
}

/// cosh x = (e^|x| + e^-|x|) / 2.
#[inline(always)]
pub fn cosh(x: f32) -> f32 {
    let e = exp64((x as f64).abs().min(100.0));
    nan_through(x, (0.5 * (e + 1.0 / e)) as f32)
}

/// asinh x = log1p(|x| + x^2 / (1 + sqrt(1 + x^2))), with x's sign.
#[inline(always)]
pub fn asinh(x: f32) -> f32 {
    let a = (x as f64).abs();
    let a2 = a * a; // at most 1.2e77: no overflow in f64
    let r = with_sign_of(log1p64(a + a2 / (1.0 + (1.0 + a2).sqrt())), x) as f32;
    let r = sel32(x.is_infinite(), x, r);
    nan_through(x, sel32(x == 0.0, x, r))
}

/// acosh x = log1p(d + sqrt(d (x + 1))), d = x - 1 (exact).
#[inline(always)]
pub fn acosh(x: f32) -> f32 {
    let xd = (x as f64).max(1.0);
    let d = xd - 1.0;
    let r = log1p64(d + (d * (xd + 1.0)).sqrt()) as f32;
    let r = sel32(x == f32::INFINITY, x, r);
    nan_through(x, sel32(x < 1.0, f32::NAN, r))
}

/// atanh x = log1p(2|x| / (1 - |x|)) / 2, with x's sign.
#[inline(always)]
pub fn atanh(x: f32) -> f32 {
    let a = (x as f64).abs().min(0.5 + 0.499_999_99); // the last f32 below 1 passes unchanged
    let r = with_sign_of(0.5 * log1p64(2.0 * a / (1.0 - a)), x) as f32;
    let ax = x.abs();
    let r = sel32(ax == 1.0, f32::INFINITY.copysign(x), r);
    let r = sel32(ax > 1.0, f32::NAN, r);
    nan_through(x, sel32(x == 0.0, x, r))
}

/// asin and acos share a polynomial: (p, |x| <= 0.5) with p = asin(s) for s = |x| there, and
/// s = sqrt((1 - |x|) / 2) above (asin|x| = pi/2 - 2p, acos|x| = 2p).
#[inline(always)]
fn asin_core(x: f32) -> (f64, bool) {
    let a = (x as f64).abs();
    let small = a <= 0.5;
    let z = sel64(small, a * a, (1.0 - a) * 0.5); // 1 - a exact; negative (NaN below) for |x| > 1
    let s = sel64(small, a, z.sqrt());
    (s + s * z * poly(&ASIN_P, z), small)
}

/// Arcsine.
#[inline(always)]
pub fn asin(x: f32) -> f32 {
    let (p, small) = asin_core(x);
    let r = with_sign_of(sel64(small, p, PIO2 - 2.0 * p), x) as f32;
    nan_through(x, sel32(x == 0.0, x, r))
}

/// Arccosine.
#[inline(always)]
pub fn acos(x: f32) -> f32 {
    let (p, small) = asin_core(x);
    let big = sel64(x > 0.0, 2.0 * p, PI - 2.0 * p);
    nan_through(x, sel64(small, PIO2 - with_sign_of(p, x), big) as f32)
}

/// Arctangent: atan|x| = pi/2 - atan(1/|x|) above 1.
#[inline(always)]
pub fn atan(x: f32) -> f32 {
    let a = (x as f64).abs();
    let big = a > 1.0;
    let y = sel64(big, 1.0 / a, a);
    let z = y * y;
    let p = y + y * z * poly(&ATAN_P, z);
    let r = with_sign_of(sel64(big, PIO2 - p, p), x) as f32;
    nan_through(x, sel32(x == 0.0, x, r))
}

/// |x| * 2/pi = q + f, q an integer (returned mod 2^32) and |f| <= ~0.5, for every finite f32:
/// Payne-Hanek with one table row per exponent. |x| = M 2^E exactly (M < 2^24), and the row holds
/// F = 2^E 2/pi mod 4 in three 29-bit chunks, so M * chunk is exact; the chunks' products are
/// summed with their integer parts removed as they appear (a two-sum keeps the middle one exact).
/// f is accurate to ~2^-60 absolute, far below the smallest |f| an f32 argument produces.
#[inline(always)]
fn reduce_pio2(x: f32) -> (u32, f64) {
    let bits = x.to_bits() & 0x7fff_ffff;
    let b = bits >> 23;
    let mant = (bits & 0x007f_ffff) | (((b != 0) as u32) << 23);
    let m = mant as i32 as f64;
    let row = &TWO_OVER_PI_BY_EXP[(b & 255) as usize];
    let p1 = m * row[0];
    let n1 = round64(p1);
    let a = p1 - n1; // exact, |a| <= 1/2
    let p2 = m * row[1];
    // two-sum (Knuth): t + e == a + p2 exactly
    let t = a + p2;
    let bb = t - a;
    let e = (a - (t - bb)) + (p2 - bb);
    let n2 = round64(t);
    let f = (t - n2) + (e + m * row[2]);
    let q = ((n1 + n2) + MAGIC).to_bits() as u32;
    (q, f)
}

/// sin r and cos r for |r| <= 0.8: Taylor to r^13 and r^14 (truncation < 3e-14).
#[inline(always)]
fn sincos_poly(r: f64) -> (f64, f64) {
    const S: [f64; 7] = [
        1.0,
        -1.0 / 6.0,
        1.0 / 120.0,
        -1.0 / 5040.0,
        1.0 / 362_880.0,
        -1.0 / 39_916_800.0,
        1.0 / 6_227_020_800.0,
    ];
    const C: [f64; 8] = [
        1.0,
        -1.0 / 2.0,
        1.0 / 24.0,
        -1.0 / 720.0,
        1.0 / 40320.0,
        -1.0 / 3_628_800.0,
        1.0 / 479_001_600.0,
        -1.0 / 87_178_291_200.0,
    ];
    let z = r * r;
    (r * poly(&S, z), poly(&C, z))
}

/// Flip the sign of v when bit 1 of q is set.
#[inline(always)]
fn neg_if_bit1(v: f64, q: u32) -> f64 {
    f64::from_bits(v.to_bits() ^ (((q & 2) as u64) << 62))
}

/// The NaN a trigonometric function gives for a non-finite `x`: `x - x` is NaN for ±inf
/// and keeps a NaN input's payload, as libm's result does.
#[inline(always)]
// why: the self-subtraction is the NaN itself (see above), not a typo.
#[allow(clippy::eq_op)]
fn nan_of(x: f32) -> f32 {
    x - x
}

/// Sine. Full-range reduction: every finite f32 within 1 ulp.
#[inline(always)]
pub fn sin(x: f32) -> f32 {
    let (q, f) = reduce_pio2(x);
    let (s, c) = sincos_poly(f * PIO2);
    // sin(|x|) by quadrant: s, c, -s, -c; then x's sign (sin is odd).
    let v = neg_if_bit1(sel64(q & 1 == 1, c, s), q);
    let r = f32::from_bits((v as f32).to_bits() ^ (x.to_bits() & 0x8000_0000));
    sel32(x.is_finite(), sel32(x == 0.0, x, r), nan_of(x))
}

/// Cosine.
#[inline(always)]
pub fn cos(x: f32) -> f32 {
    let (q, f) = reduce_pio2(x);
    let (s, c) = sincos_poly(f * PIO2);
    // cos(|x|) by quadrant: c, -s, -c, s.
    let v = neg_if_bit1(sel64(q & 1 == 1, s, c), q.wrapping_add(1));
    sel32(x.is_finite(), v as f32, nan_of(x))
}

/// Tangent: s/c, or -c/s in odd quadrants.
#[inline(always)]
pub fn tan(x: f32) -> f32 {
    let (q, f) = reduce_pio2(x);
    let (s, c) = sincos_poly(f * PIO2);
    let odd = q & 1 == 1;
    let v = sel64(odd, -c, s) / sel64(odd, s, c);
    let r = f32::from_bits((v as f32).to_bits() ^ (x.to_bits() & 0x8000_0000));
    sel32(x.is_finite(), sel32(x == 0.0, x, r), nan_of(x))
}

/// Error function.
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    nan_through(x, erf64(x as f64) as f32)
}

/// Complementary error function, relative accuracy down to the subnormal range.
#[inline(always)]
pub fn erfc(x: f32) -> f32 {
    nan_through(x, erfc64(x as f64) as f32)
}

/// Inverse error function: Giles' single-precision guess (in f64), then one Newton step on
/// erf(x) = y near 0 and on erfc(|x|) = 1 - |y| in the tails (no cancellation there).
#[inline(always)]
pub fn erfinv(y: f32) -> f32 {
    let yd = y as f64;
    let ay = yd.abs().min(0.999_999_99); // y = +-1 and |y| > 1 are picked below
    let w = (-log64((1.0 - ay) * (1.0 + ay))).max(0.0);
    let w1 = w - 2.5;
    let p1 = poly(
        &[1.501_409_41, 0.246_640_727, -0.004_177_681_64, -0.001_253_725_03, 0.000_218_580_87, -4.391_506_54e-06, -3.523_387_7e-06, 3.432_739_39e-07, 2.810_226_36e-08],
        w1,
    );
    let w2 = w.sqrt() - 3.0;
    let p2 = poly(
        &[2.832_976_82, 1.001_674_06, 0.009_438_870_47, -0.007_622_461_3, 0.005_739_507_73, -0.003_673_428_44, 0.001_349_343_22, 0.000_100_950_558, -0.000_200_214_257],
        w2,
    );
    let x0 = sel64(w < 5.0, p1, p2) * ay; // erfinv(|y|) guess, >= 0
    let (ec, e) = erfc_big(x0.clamp(0.45, 12.0));
    let d = std::f64::consts::FRAC_2_SQRT_PI * sel64(ay <= 0.5, exp64(-(x0 * x0)), e);
    let resid = sel64(ay <= 0.5, erf_small(x0) - ay, (1.0 - ay) - ec);
    let x1 = x0 - resid / d;
    let r = with_sign_of(x1, y) as f32;
    let ya = y.abs();
    let r = sel32(ya == 1.0, f32::INFINITY.copysign(y), r);
    let r = sel32(ya > 1.0, f32::NAN, r);
    nan_through(y, sel32(y == 0.0, y, r))
}

/// GELU, erf form: x Phi(x) = x erfc(-x / sqrt 2) / 2 (no cancellation for negative x).
#[inline(always)]
pub fn gelu(x: f32) -> f32 {
    let xd = x as f64;
    nan_through(x, (0.5 * xd * erfc64(-xd * std::f64::consts::FRAC_1_SQRT_2)) as f32)
}

/// GELU, tanh form: x (1 + tanh u) / 2 = x / (1 + e^(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3).
#[inline(always)]
pub fn gelu_tanh(x: f32) -> f32 {
    let xd = x as f64;
    let k = (2.0 / PI).sqrt();
    let u = k * (xd + 0.044715 * xd * xd * xd);
    (xd / (1.0 + exp64(-2.0 * u))) as f32
}
