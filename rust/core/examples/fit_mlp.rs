//! Fit a small MLP with autograd from Rust, no Python: learn y = sin(3x) on [-1, 1]
//! with a 1-32-1 tanh network, mean-squared error, and the fused Adam step.
//!
//!     cargo run --release -p ferrotorch --example fit_mlp
//!
//! Exits non-zero unless the final loss is below 1e-3 (the initial loss is ~0.5).

use ferrotorch::autograd::{self, NoGradGuard};
use ferrotorch::optim::{adam_step, Adam};
use ferrotorch::random::Generator;
use ferrotorch::{DType, Device, Result, Tensor};

fn param(shape: &[usize], bound: f64, g: &Generator) -> Result<Tensor> {
    // PyTorch's Linear init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    let t = Tensor::rand(shape, DType::F32, Device::Cpu, Some(g))?.mul_s(2.0 * bound)?.sub_s(bound)?;
    t.set_requires_grad(true)?;
    Ok(t)
}

fn main() -> Result<()> {
    let g = Generator::new(0);
    let x = Tensor::linspace(-1.0, 1.0, 256, DType::F32, Device::Cpu)?.reshape(&[256, 1])?;
    let y = x.mul_s(3.0)?.sin()?;

    let hidden = 32;
    let params = vec![
        param(&[1, hidden], 1.0, &g)?,                        // w1 (in x out)
        param(&[hidden], 1.0, &g)?,                           // b1
        param(&[hidden, 1], 1.0 / (hidden as f64).sqrt(), &g)?, // w2
        param(&[1], 1.0 / (hidden as f64).sqrt(), &g)?,       // b2
    ];
    let zeros = || -> Result<Vec<Tensor>> {
        params.iter().map(|p| Tensor::zeros(&p.shape(), DType::F32, Device::Cpu)).collect()
    };
    let (exp_avg, exp_avg_sq) = (zeros()?, zeros()?);
    let h = Adam { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0, amsgrad: false, maximize: false, decoupled_weight_decay: false };

    let forward = |x: &Tensor| -> Result<Tensor> {
        x.matmul(&params[0])?.add(&params[1])?.tanh()?.matmul(&params[2])?.add(&params[3])
    };
    let mut first = None;
    let mut loss_v = f64::NAN;
    for step in 1..=2000u64 {
        let loss = forward(&x)?.sub(&y)?.square()?.mean()?;
        loss_v = loss.item()?.to_f64();
        first.get_or_insert(loss_v);
        for p in &params {
            p.set_grad(None)?;
        }
        autograd::backward(&[loss], &[None], false, false, None)?;
        let grads: Vec<Tensor> = params.iter().map(|p| p.grad().expect("every parameter is used")).collect();
        let _no_grad = NoGradGuard::new();
        adam_step(&params, &grads, &exp_avg, &exp_avg_sq, &[], &vec![step; params.len()], &h)?;
        if step % 400 == 0 {
            println!("step {step:5}  mse {loss_v:.6}");
        }
    }
    println!("mse: {:.4} -> {:.6}", first.unwrap_or(f64::NAN), loss_v);
    if loss_v >= 1e-3 {
        eprintln!("did not converge");
        std::process::exit(1);
    }
    Ok(())
}
