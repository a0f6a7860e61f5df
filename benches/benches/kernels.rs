//! Criterion benchmarks of the CPU kernels and the autograd engine.
//!
//! `cargo bench -p ferrotorch-benches` (the whole run takes well under 3 minutes);
//! `cargo bench -p ferrotorch-benches -- matmul` for one group.
//! Matmul throughput is reported as FLOP/s (`Throughput::Elements(2 n^3)`), the
//! elementwise/reduction ones as elements/s.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ferrotorch::{DType, Device, Result, Tensor};

const N16M: usize = 16 * 1024 * 1024;

fn randn(shape: &[usize]) -> Tensor {
    Tensor::randn(shape, DType::F32, Device::Cpu, None).expect("randn")
}

fn matmul(c: &mut Criterion) {
    let mut g = c.benchmark_group("matmul_f32");
    for &n in &[256usize, 1024, 2048] {
        let a = randn(&[n, n]);
        let b = randn(&[n, n]);
        g.throughput(Throughput::Elements(2 * (n as u64).pow(3)));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |bch, _| {
            bch.iter(|| black_box(a.matmul(&b).expect("matmul")))
        });
    }
    g.finish();
    // f64 at one size: it shares the f32 kernel's blocking (gemm512.rs).
    let mut g = c.benchmark_group("matmul_f64");
    let n = 1024usize;
    let a = randn(&[n, n]).to_dtype(DType::F64).expect("cast");
    let b = randn(&[n, n]).to_dtype(DType::F64).expect("cast");
    g.throughput(Throughput::Elements(2 * (n as u64).pow(3)));
    g.bench_with_input(BenchmarkId::from_parameter(n), &n, |bch, _| {
        bch.iter(|| black_box(a.matmul(&b).expect("matmul")))
    });
    g.finish();
}

fn elementwise(c: &mut Criterion) {
    let a = randn(&[N16M]);
    let b = randn(&[N16M]);
    let mut g = c.benchmark_group("elementwise_16M_f32");
    g.throughput(Throughput::Elements(N16M as u64));
    g.bench_function("add", |bch| bch.iter(|| black_box(a.add(&b).expect("add"))));
    g.bench_function("exp", |bch| bch.iter(|| black_box(a.exp().expect("exp"))));
    g.bench_function("sum", |bch| bch.iter(|| black_box(a.sum().expect("sum"))));
    g.finish();
}

/// The unary float kernels (cpu::vecmath) on 4M contiguous f32, as compare.py's unary sweep;
/// `cargo bench -p ferrotorch-benches -- unary` for this group alone.
fn unary(c: &mut Criterion) {
    type Op = fn(&Tensor) -> Result<Tensor>;
    let n = 4 * 1024 * 1024;
    let a = randn(&[n]);
    // inputs inside each op's domain: |x| + 0.5 for the logs, |x| + 1.5 for acosh, 0.99 tanh(x) for (-1, 1)
    let pos = a.abs().and_then(|t| t.add_s(0.5)).expect("pos");
    let acosh_in = pos.add_s(1.0).expect("acosh input");
    let unit = a.tanh().and_then(|t| t.mul_s(0.99)).expect("unit");
    let ops: [(&str, Op, &Tensor); 29] = [
        ("exp", Tensor::exp, &a),
        ("exp2", Tensor::exp2, &a),
        ("expm1", Tensor::expm1, &a),
        ("log", Tensor::log, &pos),
        ("log2", Tensor::log2, &pos),
        ("log10", Tensor::log10, &pos),
        ("log1p", Tensor::log1p, &pos),
        ("sqrt", Tensor::sqrt, &pos),
        ("rsqrt", Tensor::rsqrt, &pos),
        ("reciprocal", Tensor::reciprocal, &a),
        ("sin", Tensor::sin, &a),
        ("cos", Tensor::cos, &a),
        ("tan", Tensor::tan, &a),
        ("asin", Tensor::asin, &unit),
        ("acos", Tensor::acos, &unit),
        ("atan", Tensor::atan, &a),
        ("sinh", Tensor::sinh, &a),
        ("cosh", Tensor::cosh, &a),
        ("tanh", Tensor::tanh, &a),
        ("asinh", Tensor::asinh, &a),
        ("acosh", Tensor::acosh, &acosh_in),
        ("atanh", Tensor::atanh, &unit),
        ("sigmoid", Tensor::sigmoid, &a),
        ("erf", Tensor::erf, &a),
        ("erfinv", Tensor::erfinv, &unit),
        ("gelu", Tensor::gelu, &a),
        ("silu", Tensor::silu, &a),
        ("softplus", Tensor::softplus, &a),
        ("mish", Tensor::mish, &a),
    ];
    let mut g = c.benchmark_group("unary_4M_f32");
    g.throughput(Throughput::Elements(n as u64));
    for (name, op, x) in ops {
        g.bench_function(name, |bch| bch.iter(|| black_box(op(x).expect(name))));
    }
    g.finish();
}

fn transpose_copy(c: &mut Criterion) {
    let n = 4096usize;
    let x = randn(&[n, n]);
    let mut g = c.benchmark_group("transpose_copy_f32");
    g.throughput(Throughput::Elements((n * n) as u64));
    g.bench_function("4096x4096 t().contiguous()", |bch| {
        bch.iter(|| black_box(x.t().and_then(|t| t.contiguous()).expect("t().contiguous()")))
    });
    g.finish();
}

/// topk of one 20M-element lane (selection, O(n)) and of 1000 rows of 20K (the rows in parallel).
fn topk(c: &mut Criterion) {
    let long = randn(&[20_000_000]);
    let rows = randn(&[1000, 20_000]);
    let mut g = c.benchmark_group("topk_f32");
    for k in [10i64, 1000] {
        g.bench_with_input(BenchmarkId::new("20M", k), &k, |bch, &k| bch.iter(|| black_box(long.topk(k, -1, true, true).expect("topk"))));
    }
    g.bench_function("1000x20K k=10", |bch| bch.iter(|| black_box(rows.topk(10, -1, true, true).expect("topk"))));
    g.finish();
}

/// x*x -> sin -> tanh -> +x -> sum -> backward on a [16] tensor: engine overhead, not FLOPs.
fn small_graph_step(x: &Tensor) -> Result<()> {
    x.set_grad(None)?;
    let y = x.mul(x)?.sin()?.tanh()?.add(x)?;
    let s = y.sum()?;
    s.backward()
}

fn small_graph(c: &mut Criterion) {
    let x = randn(&[16]);
    x.set_requires_grad(true).expect("requires_grad");
    small_graph_step(&x).expect("small graph");
    assert!(x.grad().is_some(), "backward produced no gradient");
    c.bench_function("small_graph_fwd_bwd_16", |bch| {
        bch.iter(|| small_graph_step(black_box(&x)).expect("small graph"))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = matmul, elementwise, unary, transpose_copy, topk, small_graph
}
criterion_main!(benches);
