//! Fused optimizer steps (`torch.optim` calls these once per parameter group).
//! Conversion only: the update loops live in `ferrotorch::optim`.

use ferrotorch::optim::{adam_step, elementwise_step, sgd_step, Adam, Algo, Sgd};
use pyo3::prelude::*;
use pyo3::types::PyDict;

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

/// One step of RMSprop / Adagrad / Adadelta / Adamax / NAdam / RAdam / ASGD / Rprop /
/// SparseAdam over a group (`ferrotorch::optim::elementwise_step`). `states`: one list per
/// state slot (an unused slot: an empty list); `steps`: 0-d step tensors, incremented here
/// in place, or ints already incremented; `scalars`: one list per 0-d scalar state;
/// `hyper`: the group's hyper-parameters by PyTorch's names (floats / bools).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn _optim_step(
    py: Python<'_>,
    algo: &str,
    params: &Bound<'_, PyAny>,
    grads: &Bound<'_, PyAny>,
    states: &Bound<'_, PyAny>,
    steps: &Bound<'_, PyAny>,
    scalars: &Bound<'_, PyAny>,
    hyper: &Bound<'_, PyDict>,
) -> PyResult<()> {
    let f = |k: &str| -> PyResult<f64> {
        match hyper.get_item(k)? {
            Some(v) => v.extract::<f64>(),
            None => Err(pyo3::exceptions::PyKeyError::new_err(k.to_string())),
        }
    };
    let b = |k: &str| -> PyResult<bool> { Ok(hyper.get_item(k)?.map(|v| v.is_truthy()).transpose()?.unwrap_or(false)) };
    let maximize = b("maximize")?;
    let a = match algo {
        "rmsprop" => Algo::RmsProp { lr: f("lr")?, alpha: f("alpha")?, eps: f("eps")?, weight_decay: f("weight_decay")?, momentum: f("momentum")?, centered: b("centered")?, maximize },
        "adagrad" => Algo::Adagrad { lr: f("lr")?, lr_decay: f("lr_decay")?, weight_decay: f("weight_decay")?, eps: f("eps")?, maximize },
        "adadelta" => Algo::Adadelta { lr: f("lr")?, rho: f("rho")?, eps: f("eps")?, weight_decay: f("weight_decay")?, maximize },
        "adamax" => Algo::Adamax { lr: f("lr")?, beta1: f("beta1")?, beta2: f("beta2")?, eps: f("eps")?, weight_decay: f("weight_decay")?, maximize },
        "nadam" => Algo::NAdam {
            lr: f("lr")?,
            beta1: f("beta1")?,
            beta2: f("beta2")?,
            eps: f("eps")?,
            weight_decay: f("weight_decay")?,
            momentum_decay: f("momentum_decay")?,
            decoupled_weight_decay: b("decoupled_weight_decay")?,
            maximize,
        },
        "radam" => Algo::RAdam { lr: f("lr")?, beta1: f("beta1")?, beta2: f("beta2")?, eps: f("eps")?, weight_decay: f("weight_decay")?, decoupled_weight_decay: b("decoupled_weight_decay")?, maximize },
        "asgd" => Algo::Asgd { lr: f("lr")?, lambd: f("lambd")?, alpha: f("alpha")?, t0: f("t0")?, weight_decay: f("weight_decay")?, maximize },
        "rprop" => Algo::Rprop { etaminus: f("etaminus")?, etaplus: f("etaplus")?, step_size_min: f("step_size_min")?, step_size_max: f("step_size_max")?, maximize },
        "sparse_adam" => Algo::SparseAdam { lr: f("lr")?, beta1: f("beta1")?, beta2: f("beta2")?, eps: f("eps")?, maximize },
        _ => return Err(pyo3::exceptions::PyValueError::new_err(format!("unknown optimizer algorithm {algo:?}"))),
    };
    let p = tensor_list(params)?;
    let g = tensor_list(grads)?;
    let lists = |o: &Bound<'_, PyAny>| -> PyResult<Vec<Vec<ferrotorch::tensor::Tensor>>> { o.try_iter()?.map(|l| tensor_list(&l?)).collect() };
    let st = lists(states)?;
    let sc = lists(scalars)?;
    // (Checked by type, not by trying floats first: a 0-d tensor converts to a float too.)
    let tensors = steps.try_iter()?.next().transpose()?.is_some_and(|x| x.cast::<PyTensor>().is_ok());
    let steps: Vec<f64> = if tensors {
        ferrotorch::optim::bump_steps(&tensor_list(steps)?).map_err(map_err)?.into_iter().map(|s| s as f64).collect()
    } else {
        steps.extract::<Vec<f64>>()?
    };
    py.detach(|| elementwise_step(&a, &p, &g, &st, &steps, &sc)).map_err(map_err)
}
