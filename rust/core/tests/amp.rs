//! Autocast and gradient scaling through the Rust API (`ferrotorch::autocast`, `ferrotorch::amp`).

use ferrotorch::autocast::{self, DeviceType};
use ferrotorch::{DType, Device, Scalar, Tensor};

/// Enable CPU autocast with `dt` for the closure, as the Python context manager does.
fn with_cpu_autocast<R>(dt: DType, f: impl FnOnce() -> R) -> R {
    let (prev, prev_dt) = (autocast::is_enabled(DeviceType::Cpu), autocast::get_dtype(DeviceType::Cpu));
    autocast::set_enabled(DeviceType::Cpu, true);
    autocast::set_dtype(DeviceType::Cpu, dt);
    autocast::increment_nesting();
    let r = f();
    if autocast::decrement_nesting() == 0 {
        autocast::clear_cache();
    }
    autocast::set_enabled(DeviceType::Cpu, prev);
    autocast::set_dtype(DeviceType::Cpu, prev_dt);
    r
}

#[test]
fn matmul_in_lower_precision_grad_in_float32() {
    let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    let w = Tensor::from_vec(vec![0.5f32, -1.0, 2.0], &[3, 1]).unwrap();
    w.set_requires_grad(true).unwrap();
    let y = with_cpu_autocast(DType::BF16, || a.matmul(&w).unwrap());
    assert_eq!(y.dtype(), DType::BF16);
    // [1,2,3]·[0.5,-1,2] = 4.5, [4,5,6]·... = 9: exact in bfloat16
    assert_eq!(y.to_dtype(DType::F64).unwrap().to_vec::<f64>().unwrap(), vec![4.5, 9.0]);
    y.to_dtype(DType::F32).unwrap().sum().unwrap().backward().unwrap();
    let g = w.grad().unwrap();
    assert_eq!(g.dtype(), DType::F32);
    assert_eq!(g.to_vec::<f32>().unwrap(), vec![5.0, 7.0, 9.0]); // column sums of a
    // Outside the region: float32 again, float64 never cast.
    assert_eq!(a.matmul(&w).unwrap().dtype(), DType::F32);
    let a64 = a.to_dtype(DType::F64).unwrap();
    let y64 = with_cpu_autocast(DType::F16, || a64.matmul(&a64.t().unwrap()).unwrap());
    assert_eq!(y64.dtype(), DType::F64);
}

#[test]
fn policies_per_device_type() {
    use autocast::CastPolicy::*;
    assert_eq!(autocast::policy(DeviceType::Cpu, "conv2d"), Some(LowerPrecision));
    assert_eq!(autocast::policy(DeviceType::Cpu, "mse_loss"), Some(Fp32));
    assert_eq!(autocast::policy(DeviceType::Cpu, "softmax"), None);
    assert_eq!(autocast::policy(DeviceType::Cuda, "softmax"), Some(Fp32SetOptDtype));
    assert_eq!(autocast::policy(DeviceType::Cuda, "exp"), Some(Fp32));
    assert_eq!(autocast::policy(DeviceType::Cuda, "binary_cross_entropy"), Some(Banned));
}

#[test]
fn prod_runs_in_float32_on_cpu() {
    let x = Tensor::full(&[4], Scalar::Float(3.0), DType::BF16, Device::Cpu).unwrap();
    let p = with_cpu_autocast(DType::BF16, || x.prod_dims(None, false, None).unwrap());
    assert_eq!(p.dtype(), DType::F32);
    assert_eq!(p.to_vec::<f32>().unwrap(), vec![81.0]);
}

#[test]
fn unscale_and_update_scale() {
    let g1 = Tensor::from_vec(vec![2.0f32, -4.0, 8.0], &[3]).unwrap();
    let g2 = Tensor::from_vec(vec![1.0f64, f64::INFINITY], &[2]).unwrap();
    let found = Tensor::zeros(&[], DType::F32, Device::Cpu).unwrap();
    let inv = Tensor::full(&[], Scalar::Float(0.5), DType::F32, Device::Cpu).unwrap();
    ferrotorch::amp::non_finite_check_and_unscale_(std::slice::from_ref(&g1), &found, &inv).unwrap();
    assert_eq!(g1.to_vec::<f32>().unwrap(), vec![1.0, -2.0, 4.0]);
    assert_eq!(found.to_vec::<f32>().unwrap(), vec![0.0]);
    ferrotorch::amp::non_finite_check_and_unscale_(std::slice::from_ref(&g2), &found, &inv).unwrap();
    assert_eq!(found.to_vec::<f32>().unwrap(), vec![1.0]);
    let scale = Tensor::full(&[], Scalar::Float(1024.0), DType::F32, Device::Cpu).unwrap();
    let tracker = Tensor::zeros(&[], DType::I32, Device::Cpu).unwrap();
    ferrotorch::amp::update_scale_(&scale, &tracker, &found, 2.0, 0.5, 2).unwrap();
    assert_eq!(scale.to_vec::<f32>().unwrap(), vec![512.0]);
    let ok = Tensor::zeros(&[], DType::F32, Device::Cpu).unwrap();
    for want in [(512.0, 1), (1024.0, 0)] {
        ferrotorch::amp::update_scale_(&scale, &tracker, &ok, 2.0, 0.5, 2).unwrap();
        assert_eq!((scale.to_vec::<f32>().unwrap()[0], tracker.to_vec::<i32>().unwrap()[0]), want);
    }
}
