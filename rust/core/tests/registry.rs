//! The op registry (`ferrotorch::ops::registry`): the CUDA X-macros of cuda/elementwise.cu
//! agree with the rows both ways, and the rows the registry gained with it (the activations,
//! asinh/acosh/atanh) compute the right values and gradients.

use std::collections::BTreeSet;

use ferrotorch::ops::elementwise::ROUNDING_IDENTITY_ON_INTS;
use ferrotorch::ops::registry::{self, Family};
use ferrotorch::Tensor;

/// The first argument of every `X(...)` row of `#define <name>(X)` in cuda/elementwise.cu.
fn xmacro_rows(name: &str) -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../cuda/elementwise.cu");
    let src = std::fs::read_to_string(path).unwrap();
    let head = format!("#define {name}(X)");
    let start = src.find(&head).unwrap_or_else(|| panic!("{head} not in {path}"));
    let mut rows = BTreeSet::new();
    // The macro runs until the first line that does not end in a backslash.
    for line in src[start..].lines().skip(1) {
        if let Some(i) = line.find("X(") {
            let rest = &line[i + 2..];
            let end = rest.find([',', ')']).unwrap();
            rows.insert(rest[..end].trim().to_string());
        }
        if !line.trim_end().ends_with('\\') {
            break;
        }
    }
    assert!(!rows.is_empty(), "no rows in {name}");
    rows
}

fn cuda_names(pred: impl Fn(&registry::OpInfo) -> bool) -> BTreeSet<String> {
    registry::ops().filter(|o| !o.cuda.is_empty() && pred(o)).map(|o| o.cuda.to_string()).collect()
}

#[test]
fn cuda_unary_rows_match_the_registry_both_ways() {
    // Float kernels: every unary row (float ops, and the dtype-keeping ops' float versions).
    let want = cuda_names(|o| matches!(o.family, Family::UnaryFloat | Family::UnaryNum));
    assert_eq!(xmacro_rows("FT_UNARY_FLOAT_OPS"), want);
    // Integer kernels: the dtype-keeping ops, except rounding (the identity on integers).
    let want = cuda_names(|o| o.family == Family::UnaryNum && !ROUNDING_IDENTITY_ON_INTS.contains(&o.name));
    assert_eq!(xmacro_rows("FT_UNARY_INT_OPS"), want);
    // Bool results (bitwise_not has its own hand-written functor in the .cu).
    let mut got = xmacro_rows("FT_UNARY_PRED_OPS");
    got.insert("bitwise_not".into());
    assert_eq!(got, cuda_names(|o| o.family == Family::UnaryPred));
}

#[test]
fn cuda_binary_rows_match_the_registry_both_ways() {
    let mut got = xmacro_rows("FT_BINARY_OPS");
    got.extend(xmacro_rows("FT_COMPARE_OPS"));
    assert_eq!(got, cuda_names(|o| matches!(o.family, Family::Binary(_))));
}

#[test]
fn rows_are_unique_and_consistent() {
    let mut seen = BTreeSet::new();
    for o in registry::ops() {
        assert!(seen.insert(o.name), "{} has two rows", o.name);
        assert_eq!(registry::find(o.name).map(|f| f.name), Some(o.name));
        // Only differentiable families name an autograd node; pred ops never do.
        if o.family == Family::UnaryPred {
            assert!(o.grad_fn.is_empty() && !o.inplace);
        }
        if matches!(o.family, Family::UnaryFloat | Family::UnaryNum) {
            assert!(o.grad_fn.ends_with("Backward0"), "{}: {}", o.name, o.grad_fn);
            assert!(o.inplace);
        }
        // A Python in-place form needs the engine's.
        assert!(o.inplace || !o.python.forms().method_inplace, "{}", o.name);
    }
    assert!(registry::find("no_such_op").is_none());
}

const XS: [f64; 10] = [-4.0, -3.0, -1.5, -0.2, 0.0, 0.7, 1.0, 3.0, 5.0, 25.0];

/// f(XS) computed with Python's `math` module in float64 (math.erf, math.tanh, math.log1p,
/// math.asinh), independently of the engine's scalar functions.
// why: softplus(0) = ln 2 is a printed float64 reference value, not a stand-in for LN_2.
#[allow(clippy::approx_constant)]
const REFERENCE: &[(&str, &[f64])] = &[
        ("silu", &[-0.07194483984836623, -0.14227761953270035, -0.2736382857095345, -0.09003320053750444, 0.0, 0.46773144051771626, 0.7310585786300049, 2.8577223804673, 4.966535745378576, 24.9999999996528]),
        ("gelu", &[-0.00012668496733247991, -0.00404969409489031, -0.10021080190328713, -0.0841480581121794, 0.0, 0.5306254434438489, 0.8413447460685429, 2.99595030590511, 4.999998566742141, 25.0]),
        ("gelu_tanh", &[-7.024594819227126e-05, -0.0036373920817729943, -0.10042842301976707, -0.08414857021789374, 0.0, 0.5305701347051167, 0.8411919906082768, 2.996362607918227, 4.999999770820381, 25.0]),
        ("softplus", &[0.018149927917809738, 0.04858735157374206, 0.2014132779827524, 0.5981388693815918, std::f64::consts::LN_2, 1.103186048885458, 1.3132616875182228, 3.048587351573742, 5.006715348489118, 25.0]),
        ("mish", &[-0.07259174079202535, -0.1456474612756246, -0.29809974216680674, -0.10714478086835713, 0.0, 0.5611483776438518, 0.8650983882673103, 2.9865350049679575, 4.999552077529406, 25.0]),
        ("hardsigmoid", &[0.0, 0.0, 0.25, 0.4666666666666667, 0.5, 0.6166666666666667, 0.6666666666666666, 1.0, 1.0, 1.0]),
        ("hardswish", &[-0.0, -0.0, -0.375, -0.09333333333333332, 0.0, 0.43166666666666664, 0.6666666666666666, 3.0, 5.0, 25.0]),
        ("asinh", &[-2.0947125472611012, -1.8184464592320668, -1.1947632172871094, -0.19869011034924142, 0.0, 0.6526665660823557, 0.881373587019543, 1.8184464592320668, 2.3124383412727525, 3.9124227656412556]),
];

fn apply(name: &str, x: &Tensor) -> Tensor {
    match name {
        "silu" => x.silu(),
        "gelu" => x.gelu(),
        "gelu_tanh" => x.gelu_tanh(),
        "softplus" => x.softplus(),
        "mish" => x.mish(),
        "hardsigmoid" => x.hardsigmoid(),
        "hardswish" => x.hardswish(),
        "asinh" => x.asinh(),
        "acosh" => x.acosh(),
        "atanh" => x.atanh(),
        _ => unreachable!("{name}"),
    }
    .unwrap()
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_dtype(ferrotorch::DType::F64).unwrap().to_vec::<f64>().unwrap()
}

#[test]
fn new_rows_match_float64_references_in_f64_and_f32() {
    for (name, want) in REFERENCE {
        let x = Tensor::from_vec(XS.to_vec(), &[XS.len()]).unwrap();
        for (got, tol) in [(values(&apply(name, &x)), 1e-14), (values(&apply(name, &x.to_dtype(ferrotorch::DType::F32).unwrap())), 2e-6)] {
            for ((g, w), xv) in got.iter().zip(want.iter()).zip(XS) {
                assert!((g - w).abs() <= tol * (1.0 + w.abs()), "{name}({xv}) = {g}, want {w}");
            }
        }
    }
    // acosh on [1, inf) and atanh on (-1, 1), against the closed forms in float64.
    let x = Tensor::from_vec(vec![1.0, 1.5, 10.0, 1e6], &[4]).unwrap();
    for (g, xv) in values(&x.acosh().unwrap()).iter().zip([1.0f64, 1.5, 10.0, 1e6]) {
        let w = (xv + (xv * xv - 1.0).sqrt()).ln();
        assert!((g - w).abs() <= 1e-14 * (1.0 + w.abs()), "acosh({xv}) = {g}, want {w}");
    }
    let x = Tensor::from_vec(vec![-0.9, 0.0, 0.5, 0.99], &[4]).unwrap();
    for (g, xv) in values(&x.atanh().unwrap()).iter().zip([-0.9f64, 0.0, 0.5, 0.99]) {
        let w = 0.5 * ((1.0 + xv) / (1.0 - xv)).ln();
        assert!((g - w).abs() <= 1e-14 * (1.0 + w.abs()), "atanh({xv}) = {g}, want {w}");
    }
}

/// The gradient of sum(f(x)) against central differences of the forward op in float64.
fn check_grad(name: &str, xs: &[f64]) {
    let x = Tensor::from_vec(xs.to_vec(), &[xs.len()]).unwrap();
    x.set_requires_grad(true).unwrap();
    let y = apply(name, &x);
    let node = y.grad_fn().map(|n| n.name().to_string());
    assert_eq!(node.as_deref(), Some(registry::find(name).unwrap().grad_fn), "{name}");
    y.sum_dims(None, false, None).unwrap().backward().unwrap();
    let g = values(&x.grad().unwrap());
    let h = 1e-6;
    for (i, &xv) in xs.iter().enumerate() {
        let at = |v: f64| values(&apply(name, &Tensor::from_vec(vec![v], &[1]).unwrap()))[0];
        let fd = (at(xv + h) - at(xv - h)) / (2.0 * h);
        assert!((g[i] - fd).abs() <= 1e-6 * (1.0 + fd.abs()), "{name}'({xv}) = {}, finite differences {fd}", g[i]);
    }
}

#[test]
fn new_rows_gradients_match_finite_differences() {
    // Away from the kinks (+-3 for the hard ones, 20 for softplus), where differences are exact.
    let smooth = [-4.0, -1.5, -0.2, 0.7, 1.0, 5.0, 25.0];
    for name in ["silu", "gelu", "gelu_tanh", "softplus", "mish", "hardsigmoid", "hardswish", "asinh"] {
        check_grad(name, &smooth);
    }
    check_grad("acosh", &[1.5, 2.0, 10.0]);
    check_grad("atanh", &[-0.9, 0.0, 0.5]);
}

#[test]
fn hard_activations_take_pytorchs_one_sided_gradients_at_the_kinks() {
    // PyTorch's hardswish_backward: x < -3 -> 0, x <= 3 -> x/3 + 0.5, else 1; hardsigmoid's:
    // 1/6 strictly inside (-3, 3), else 0.
    let x = Tensor::from_vec(vec![-3.0, 3.0], &[2]).unwrap();
    x.set_requires_grad(true).unwrap();
    x.hardswish().unwrap().sum_dims(None, false, None).unwrap().backward().unwrap();
    assert_eq!(values(&x.grad().unwrap()), vec![-0.5, 1.5]);
    let x = Tensor::from_vec(vec![-3.0, 3.0, 0.0], &[3]).unwrap();
    x.set_requires_grad(true).unwrap();
    x.hardsigmoid().unwrap().sum_dims(None, false, None).unwrap().backward().unwrap();
    assert_eq!(values(&x.grad().unwrap()), vec![0.0, 0.0, 1.0 / 6.0]);
}
