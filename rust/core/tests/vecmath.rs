//! cpu::vecmath, the vectorisable f32 transcendental functions of the unary rows: accuracy in ulps
//! against f64 libm (std's f64 functions, and the crate's f64 series for erf/erfc/erfinv) rounded
//! to f32, over a sweep of the whole f32 range (every 2861st bit pattern, both signs), a dense
//! sweep of the range where each function is not constant, and the special values (+-0, +-inf,
//! NaN, subnormals, the thresholds and branch points of each implementation). Then the multiversioned
//! map (the AVX-512 or AVX2 copy where this CPU has it) must give bit-identical results to the
//! scalar function (the baseline copy), and the Tensor ops must be these functions on the
//! contiguous and the strided path.

use ferrotorch::cpu::math::{erf64, erfc64, erfinv64};
use ferrotorch::cpu::simd::map_f32;
use ferrotorch::cpu::vecmath as vm;
use ferrotorch::Tensor;

/// Position of a float on the integer line of f32 values (-0 and +0 both 0).
fn ord(x: f32) -> i64 {
    let b = x.to_bits();
    if b >> 31 == 1 {
        -((b & 0x7fff_ffff) as i64)
    } else {
        b as i64
    }
}

/// The inputs: a whole-range sweep, a dense sweep of [lo, hi], and special values.
fn inputs(lo: f32, hi: f32, extra: &[f32]) -> Vec<f32> {
    let mut v: Vec<f32> = (0..=u32::MAX / 2861).map(|i| f32::from_bits(i.wrapping_mul(2861))).collect();
    let n = 400_000;
    for i in 0..=n {
        v.push(lo + (hi - lo) * (i as f32 / n as f32));
    }
    let specials = [
        0.0,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        f32::MIN_POSITIVE,
        f32::from_bits(1),
        f32::from_bits(0x007f_ffff),
        f32::MAX,
        f32::EPSILON,
        1.0,
        0.5,
        2.0,
        1e-30,
        1e-10,
        1e-5,
        0.45,
        0.45 * std::f32::consts::SQRT_2,
        0.347,
        std::f32::consts::FRAC_PI_4,
        std::f32::consts::FRAC_PI_2,
        std::f32::consts::PI,
        88.72283,
        88.72284,
        89.41599,
        -87.33655,
        -103.97,
        -104.0,
        -149.0,
        127.99999,
        128.0,
        9.01,
        12.0,
        20.0,
        16.97,
        1e5,
        1e20,
        1e38,
    ];
    for &s in specials.iter().chain(extra) {
        for k in -3i32..=3 {
            let b = (s.to_bits() as i64 + k as i64).clamp(0, 0x7fff_ffff) as u32;
            v.push(f32::from_bits(b));
            v.push(-f32::from_bits(b));
        }
    }
    v
}

/// Max ulp error of `f` against `reference` (f64, rounded to f32) over `xs`; NaN, infinities and
/// the sign of zero must match exactly.
fn max_ulp(name: &str, xs: &[f32], f: fn(f32) -> f32, reference: &dyn Fn(f64) -> f64) -> (i64, f32) {
    let mut worst = (0i64, 0.0f32);
    for &x in xs {
        let want = reference(x as f64) as f32;
        let got = f(x);
        if want.is_nan() || got.is_nan() {
            assert!(want.is_nan() && got.is_nan(), "{name}({x:e} = {:#x}): got {got:e}, want {want:e}", x.to_bits());
            continue;
        }
        if want.is_infinite() || got.is_infinite() || want == 0.0 {
            assert_eq!(got.to_bits(), want.to_bits(), "{name}({x:e} = {:#x}): got {got:e}, want {want:e}", x.to_bits());
            continue;
        }
        let d = (ord(got) - ord(want)).abs();
        if d > worst.0 {
            worst = (d, x);
        }
    }
    worst
}

fn sigmoid64(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}
fn erfc_ref(x: f64) -> f64 {
    if x < 0.0 {
        2.0 - erfc64(-x)
    } else {
        erfc64(x)
    }
}
fn gelu_tanh64(x: f64) -> f64 {
    let u = (2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x * x * x);
    // 1 + tanh(u) cancels for u << 0: there the equal x / (1 + e^(-2u)).
    if u > -1.0 { 0.5 * x * (1.0 + u.tanh()) } else { x / (1.0 + (-2.0 * u).exp()) }
}
fn softplus64(x: f64) -> f64 {
    if x > 20.0 { x } else { x.exp().ln_1p() }
}

type Case = (&'static str, fn(f32) -> f32, fn(f64) -> f64, f32, f32, i64);

/// (name, function, f64 reference, dense range, max ulp).
fn cases() -> Vec<Case> {
    vec![
        ("exp", vm::exp, f64::exp, -104.0, 89.0, 1),
        ("exp2", vm::exp2, f64::exp2, -150.0, 128.0, 1),
        ("expm1", vm::expm1, f64::exp_m1, -20.0, 89.0, 1),
        ("log", vm::log, f64::ln, 0.0, 4.0, 1),
        ("log2", vm::log2, f64::log2, 0.0, 4.0, 1),
        ("log10", vm::log10, f64::log10, 0.0, 4.0, 1),
        ("log1p", vm::log1p, f64::ln_1p, -1.0, 4.0, 1),
        ("tanh", vm::tanh, f64::tanh, -10.0, 10.0, 1),
        ("sigmoid", vm::sigmoid, sigmoid64, -110.0, 20.0, 1),
        ("sinh", vm::sinh, f64::sinh, -90.0, 90.0, 1),
        ("cosh", vm::cosh, f64::cosh, -90.0, 90.0, 1),
        ("asinh", vm::asinh, f64::asinh, -10.0, 10.0, 1),
        ("acosh", vm::acosh, f64::acosh, 0.9, 10.0, 1),
        ("atanh", vm::atanh, f64::atanh, -1.0, 1.0, 1),
        ("sin", vm::sin, f64::sin, -100.0, 100.0, 1),
        ("cos", vm::cos, f64::cos, -100.0, 100.0, 1),
        ("tan", vm::tan, f64::tan, -100.0, 100.0, 1),
        ("asin", vm::asin, f64::asin, -1.0, 1.0, 1),
        ("acos", vm::acos, f64::acos, -1.0, 1.0, 1),
        ("atan", vm::atan, f64::atan, -10.0, 10.0, 1),
        ("erf", vm::erf, erf64, -5.0, 5.0, 1),
        ("erfc", vm::erfc, erfc_ref, -5.0, 11.0, 1),
        ("erfinv", vm::erfinv, erfinv64, -1.0, 1.0, 1),
        ("silu", vm::silu, |x| x * sigmoid64(x), -110.0, 20.0, 1),
        ("gelu", vm::gelu, |x| 0.5 * x * erfc_ref(-x * std::f64::consts::FRAC_1_SQRT_2), -20.0, 10.0, 1),
        ("gelu_tanh", vm::gelu_tanh, gelu_tanh64, -20.0, 10.0, 1),
        ("softplus", vm::softplus, softplus64, -110.0, 25.0, 1),
        ("mish", vm::mish, |x| x * softplus64(x).tanh(), -110.0, 25.0, 1),
    ]
}

#[test]
fn ulp_error_against_f64() {
    let mut report = Vec::new();
    let mut failed = Vec::new();
    for (name, f, r, lo, hi, bound) in cases() {
        let xs = inputs(lo, hi, &[]);
        let (ulp, at) = max_ulp(name, &xs, f, &r);
        report.push(format!("{name}: {ulp} ulp (at {at:e})"));
        if ulp > bound {
            failed.push(format!("{name}: {ulp} ulp > {bound} at x = {at:e} ({:#x}): got {:e}, want {:e}", at.to_bits(), f(at), r(at as f64) as f32));
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// The rows kept as plain f32 arithmetic: 1/x is correctly rounded, 1/sqrt(x) two roundings.
#[test]
fn reciprocal_and_rsqrt_ulps() {
    let xs = inputs(0.0, 4.0, &[]);
    let t = Tensor::from_vec(xs.clone(), &[xs.len()]).unwrap();
    let recip = t.reciprocal().unwrap().to_vec::<f32>().unwrap();
    let rsqrt = t.rsqrt().unwrap().to_vec::<f32>().unwrap();
    let mut worst = 0;
    for ((&x, &r), &q) in xs.iter().zip(&recip).zip(&rsqrt) {
        assert_eq!(r.to_bits(), ((1.0 / x as f64) as f32).to_bits(), "reciprocal({x:e})");
        let want = (1.0 / (x as f64).sqrt()) as f32;
        if want.is_nan() || want.is_infinite() || want == 0.0 {
            assert!(q.to_bits() == want.to_bits() || (q.is_nan() && want.is_nan()), "rsqrt({x:e}): {q:e} vs {want:e}");
        } else {
            worst = worst.max((ord(q) - ord(want)).abs());
        }
    }
    assert!(worst <= 1, "rsqrt: {worst} ulp");
}

/// The multiversioned map (this CPU's widest copy) equals the scalar (baseline) function bit for
/// bit: no FMA contraction or ISA-dependent instruction changes a result.
#[test]
fn simd_map_matches_scalar() {
    let xs = inputs(-30.0, 30.0, &[]);
    let mut out = vec![0.0f32; xs.len()];
    for (name, f, ..) in cases() {
        map_f32(&xs, &mut out, f);
        for (&x, &o) in xs.iter().zip(&out) {
            let s = f(x);
            assert!(o.to_bits() == s.to_bits() || (o.is_nan() && s.is_nan()), "{name}({x:e}): map {o:e}, scalar {s:e}");
        }
    }
}

/// The Tensor ops are these functions, contiguous and strided (a transposed view), in f32; the
/// half types compute through them.
#[test]
fn tensor_rows_use_vecmath() {
    type Op = fn(&Tensor) -> ferrotorch::Result<Tensor>;
    type Row = (&'static str, Op, fn(f32) -> f32);
    let ops: [Row; 10] = [
        ("tanh", Tensor::tanh, vm::tanh),
        ("log1p", Tensor::log1p, vm::log1p),
        ("erf", Tensor::erf, vm::erf),
        ("sin", Tensor::sin, vm::sin),
        ("expm1", Tensor::expm1, vm::expm1),
        ("log", Tensor::log, vm::log),
        ("atan", Tensor::atan, vm::atan),
        ("gelu", Tensor::gelu, vm::gelu),
        ("mish", Tensor::mish, vm::mish),
        ("erfinv", Tensor::erfinv, vm::erfinv),
    ];
    let m = 5000;
    let xs: Vec<f32> = (0..2 * m).map(|i| (i as f32 - m as f32) * 0.0013).collect();
    let t = Tensor::from_vec(xs.clone(), &[2, m]).unwrap();
    let tt = t.t().unwrap();
    for (name, op, f) in ops {
        let y = op(&t).unwrap().to_vec::<f32>().unwrap();
        for (&x, &v) in xs.iter().zip(&y) {
            assert_eq!(v.to_bits(), f(x).to_bits(), "{name}({x:e}) contiguous");
        }
        let y = op(&tt).unwrap().to_vec::<f32>().unwrap();
        for i in 0..m {
            for j in 0..2 {
                let x = xs[j * m + i];
                assert_eq!(y[i * 2 + j].to_bits(), f(x).to_bits(), "{name}({x:e}) strided");
            }
        }
        let h = op(&t.to_dtype(ferrotorch::DType::BF16).unwrap()).unwrap().to_vec::<half::bf16>().unwrap();
        for (&x, &v) in xs.iter().zip(&h) {
            let xb = half::bf16::from_f32(x).to_f32();
            let want = half::bf16::from_f32(f(xb));
            assert!(v.to_bits() == want.to_bits() || (v.is_nan() && want.is_nan()), "{name}({x:e}) bfloat16: {v} vs {want}");
        }
    }
}
