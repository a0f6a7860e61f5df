//! Engine tests without Python: values against hand-computed references.

use ferrotorch::{DType, Device, Scalar, Tensor, TensorIndex};

fn t(v: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape).unwrap()
}
fn close(a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{a:?} vs {b:?}");
    }
}

#[test]
fn broadcast_add_and_promotion() {
    let a = Tensor::from_vec(vec![1i32, 2, 3], &[3, 1]).unwrap();
    let b = t(&[10.0, 20.0], &[2]).to_dtype(DType::F32).unwrap();
    let c = a.add(&b).unwrap();
    assert_eq!(c.dtype(), DType::F32);
    assert_eq!(c.shape(), vec![3, 2]);
    close(&c.to_vec::<f64>().unwrap(), &[11., 21., 12., 22., 13., 23.], 0.0);
    // int tensor * 2.5 -> float32 (weak scalar); u8 + 1000 stays u8 and wraps.
    assert_eq!(a.mul(Scalar::Float(2.5)).unwrap().dtype(), DType::F32);
    let u = Tensor::from_vec(vec![250u8], &[1]).unwrap().add(Scalar::Int(10)).unwrap();
    assert_eq!(u.dtype(), DType::U8);
    assert_eq!(u.to_vec::<i64>().unwrap(), vec![4]);
}

#[test]
fn strided_views_and_kernels() {
    let x = Tensor::arange(0.0, 12.0, 1.0, DType::F64, Device::Cpu).unwrap().reshape(&[3, 4]).unwrap();
    let xt = x.t().unwrap();
    assert!(!xt.is_contiguous());
    assert_eq!(xt.strides(), vec![1, 4]);
    let e = xt.exp().unwrap();
    let expect: Vec<f64> = [0., 4., 8., 1., 5., 9., 2., 6., 10., 3., 7., 11.].iter().map(|v: &f64| v.exp()).collect();
    close(&e.to_vec::<f64>().unwrap(), &expect, 1e-15);
    let s = x.slice(1, Some(0), None, 2).unwrap(); // columns 0, 2
    close(&s.to_vec::<f64>().unwrap(), &[0., 2., 4., 6., 8., 10.], 0.0);
    // Writes through a view reach the base.
    s.fill_(Scalar::Float(-1.0)).unwrap();
    close(&x.select(0, 0).unwrap().to_vec::<f64>().unwrap(), &[-1., 1., -1., 3.], 0.0);
    // view on incompatible strides errors, reshape copies.
    assert!(xt.view(&[12]).is_err());
    assert_eq!(xt.reshape(&[12]).unwrap().shape(), vec![12]);
}

#[test]
fn reductions() {
    let x = t(&[1., 5., 3., 4., 2., 6.], &[2, 3]);
    close(&x.sum_dims(Some(&[0]), false, None).unwrap().to_vec::<f64>().unwrap(), &[5., 7., 9.], 0.0);
    close(&x.sum_dims(Some(&[1]), true, None).unwrap().to_vec::<f64>().unwrap(), &[9., 12.], 0.0);
    let (v, i) = x.max_dim(1, false).unwrap();
    close(&v.to_vec::<f64>().unwrap(), &[5., 6.], 0.0);
    assert_eq!(i.to_vec::<i64>().unwrap(), vec![1, 2]);
    close(&x.var_dims(None, 1.0, false).unwrap().to_vec::<f64>().unwrap(), &[3.5], 1e-12);
    close(&x.cumsum(1, None).unwrap().to_vec::<f64>().unwrap(), &[1., 6., 9., 4., 6., 12.], 0.0);
    let (sv, si) = x.sort(1, true).unwrap();
    close(&sv.to_vec::<f64>().unwrap(), &[5., 3., 1., 6., 4., 2.], 0.0);
    assert_eq!(si.to_vec::<i64>().unwrap(), vec![1, 2, 0, 2, 0, 1]);
    // Large contiguous f32 sum uses the blocked parallel path.
    let n = 1 << 20;
    let big = Tensor::ones(&[n], DType::F32, Device::Cpu).unwrap();
    assert_eq!(big.sum().unwrap().to_vec::<f64>().unwrap(), vec![n as f64]);
}

#[test]
fn matmul_strided_matches_naive() {
    let a = Tensor::arange(0.0, 6.0, 1.0, DType::F32, Device::Cpu).unwrap().reshape(&[2, 3]).unwrap();
    let b = Tensor::arange(0.0, 12.0, 1.0, DType::F32, Device::Cpu).unwrap().reshape(&[4, 3]).unwrap().t().unwrap();
    let c = a.matmul(&b).unwrap();
    // a = [[0,1,2],[3,4,5]], b^T rows = [0,1,2],[3,4,5],[6,7,8],[9,10,11]
    close(&c.to_vec::<f64>().unwrap(), &[5., 14., 23., 32., 14., 50., 86., 122.], 1e-6);
    let ai = Tensor::from_vec(vec![1i64, 2, 3, 4], &[2, 2]).unwrap();
    assert_eq!(ai.mm(&ai).unwrap().to_vec::<i64>().unwrap(), vec![7, 10, 15, 22]);
    let bad = a.mm(&a);
    assert_eq!(bad.unwrap_err().to_string(), "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)");
}

#[test]
fn autograd_classic_examples() {
    // (x-1)(x-2)(x-3) at 3.5 -> derivative 3x^2 - 12x + 11 = 5.75
    let x = t(&[3.5], &[]);
    x.set_requires_grad(true).unwrap();
    let y = x.sub_s(1.0).unwrap().mul(&x.sub_s(2.0).unwrap()).unwrap().mul(&x.sub_s(3.0).unwrap()).unwrap();
    y.backward().unwrap();
    close(&x.grad().unwrap().to_vec::<f64>().unwrap(), &[5.75], 1e-12);
    // z = 2x + 3y, x = 2a + 3b, y = 5a^2 + 3b^3 -> dz/da = 4 + 30a
    let a = t(&[1.5], &[]);
    let b = t(&[-0.5], &[]);
    a.set_requires_grad(true).unwrap();
    b.set_requires_grad(true).unwrap();
    let xx = a.mul_s(2.0).unwrap().add(&b.mul_s(3.0).unwrap()).unwrap();
    let yy = a.mul(&a).unwrap().mul_s(5.0).unwrap().add(&b.mul(&b).unwrap().mul(&b).unwrap().mul_s(3.0).unwrap()).unwrap();
    let z = xx.mul_s(2.0).unwrap().add(&yy.mul_s(3.0).unwrap()).unwrap();
    z.backward().unwrap();
    close(&a.grad().unwrap().to_vec::<f64>().unwrap(), &[4.0 + 30.0 * 1.5], 1e-12);
    // dz/db = 6 + 27 b^2
    close(&b.grad().unwrap().to_vec::<f64>().unwrap(), &[6.0 + 27.0 * 0.25], 1e-12);
}

#[test]
fn autograd_broadcast_matmul_and_second_backward_error() {
    let w = t(&[1., 2., 3., 4., 5., 6.], &[3, 2]);
    w.set_requires_grad(true).unwrap();
    let x = t(&[1., 1., 1., 2., 2., 2.], &[2, 3]);
    let bias = t(&[0.5, -0.5], &[2]);
    bias.set_requires_grad(true).unwrap();
    let out = x.matmul(&w).unwrap().add(&bias).unwrap().sum().unwrap();
    ferrotorch::autograd::backward(std::slice::from_ref(&out), &[None], true, false, None).unwrap();
    // d/dW sum(xW) = x^T @ ones = column sums of x broadcast.
    close(&w.grad().unwrap().to_vec::<f64>().unwrap(), &[3., 3., 3., 3., 3., 3.], 0.0);
    close(&bias.grad().unwrap().to_vec::<f64>().unwrap(), &[2., 2.], 0.0);
    // retain_graph allowed a second pass; grads accumulate.
    ferrotorch::autograd::backward(std::slice::from_ref(&out), &[None], false, false, None).unwrap();
    close(&bias.grad().unwrap().to_vec::<f64>().unwrap(), &[4., 4.], 0.0);
    let err = out.backward().unwrap_err().to_string();
    assert!(err.contains("backward through the graph a second time"), "{err}");
}

#[test]
fn long_chain_has_no_recursion_limit() {
    let x = t(&[1.0], &[1]);
    x.set_requires_grad(true).unwrap();
    let mut y = x.clone();
    for _ in 0..100_000 {
        y = y.mul_s(1.0).unwrap();
    }
    y.sum().unwrap().backward().unwrap();
    close(&x.grad().unwrap().to_vec::<f64>().unwrap(), &[1.0], 0.0);
}

#[test]
fn advanced_indexing_and_gather() {
    let x = Tensor::arange(0.0, 12.0, 1.0, DType::F64, Device::Cpu).unwrap().reshape(&[3, 4]).unwrap();
    let idx = Tensor::from_vec(vec![2i64, 0], &[2]).unwrap();
    let r = x.index(&[TensorIndex::Tensor(idx.clone()), TensorIndex::Slice(Some(1), None, 2)]).unwrap();
    close(&r.to_vec::<f64>().unwrap(), &[9., 11., 1., 3.], 0.0);
    let g = x.gather(1, &Tensor::from_vec(vec![3i64, 0, 1], &[3, 1]).unwrap()).unwrap();
    close(&g.to_vec::<f64>().unwrap(), &[3., 4., 9.], 0.0);
    assert!(x.index(&[TensorIndex::Int(3)]).is_err());
    // setitem with a bool mask
    let m = x.gt_s(8.0).unwrap();
    x.index_put_(&[TensorIndex::Tensor(m)], &Tensor::scalar(Scalar::Float(0.0), DType::F64).unwrap()).unwrap();
    close(&x.sum().unwrap().to_vec::<f64>().unwrap(), &[36.0], 0.0);
}
