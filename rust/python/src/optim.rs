//! Fused optimizer steps (`torch.optim` calls these once per parameter group).
//! Conversion only: the update loops live in `ferrotorch::optim`.

use ferrotorch::optim::{adam_step, sgd_step, Adam, Sgd};
use pyo3::prelude::*;

use crate::autograd_py::{opt_tensor_list, tensor_list};
use crate::convert::*;
use crate::tensor::{PyTensor, TensorObj};

/// The GIL is released while the update runs (it touches every parameter element).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn _sgd_step(
    py: Python<'_>,
    params: &Bound<'_, PyAny>,
    grads: &Bound<'_, PyAny>,
    momentum_buffers: &Bound<'_, PyAny>,
    lr: f64,
    momentum: f64,
    dampening: f64,
    nesterov: bool,
    weight_decay: f64,
    maximize: bool,
) -> PyResult<Vec<Option<TensorObj>>> {
    let (p, g, b) = (tensor_list(params)?, tensor_list(grads)?, opt_tensor_list(Some(momentum_buffers), 0)?);
    let h = Sgd { lr, momentum, dampening, nesterov, weight_decay, maximize };
    let out = py.detach(|| sgd_step(&p, &g, &b, &h)).map_err(map_err)?;
    Ok(out.into_iter().map(|t| t.map(PyTensor::new)).collect())
}

#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn _adam_step(
    py: Python<'_>,
    params: &Bound<'_, PyAny>,
    grads: &Bound<'_, PyAny>,
    exp_avgs: &Bound<'_, PyAny>,
    exp_avg_sqs: &Bound<'_, PyAny>,
    max_exp_avg_sqs: &Bound<'_, PyAny>,
    steps: &Bound<'_, PyAny>,
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    amsgrad: bool,
    maximize: bool,
    decoupled_weight_decay: bool,
) -> PyResult<()> {
    let p = tensor_list(params)?;
    let g = tensor_list(grads)?;
    let m = tensor_list(exp_avgs)?;
    let v = tensor_list(exp_avg_sqs)?;
    let x = tensor_list(max_exp_avg_sqs)?;
    // Step counts: ints (already incremented), or PyTorch-style 0-d step tensors that the
    // call increments in place first.
    let steps: Vec<u64> = match steps.extract::<Vec<u64>>() {
        Ok(v) => v,
        Err(_) => ferrotorch::optim::bump_steps(&tensor_list(steps)?).map_err(map_err)?,
    };
    let h = Adam { lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay };
    py.detach(|| adam_step(&p, &g, &m, &v, &x, &steps, &h)).map_err(map_err)
}
