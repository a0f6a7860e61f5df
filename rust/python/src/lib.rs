//! `ferrotorch._C`: thin PyO3 bindings over the `ferrotorch` engine crate.
#![allow(non_snake_case)]

mod amp_py;
mod autograd_py;
mod convert;
mod data;
mod functions;
mod io_py;
mod optim;
mod registry_ops;
mod safetensors_py;
mod tensor;

use pyo3::prelude::*;

#[pymodule]
fn _C(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<tensor::PyTensor>()?;
    m.add_class::<convert::PyDType>()?;
    m.add_class::<convert::PyDevice>()?;
    m.add_class::<functions::PyGenerator>()?;
    m.add_class::<autograd_py::PyNode>()?;
    m.add_class::<autograd_py::RemovableHandle>()?;
    for d in ferrotorch::dtype::ALL_DTYPES {
        m.add(d.name(), convert::dtype_obj(py, d))?;
    }
    m.add_function(wrap_pyfunction!(functions::tensor, m)?)?;
    m.add_function(wrap_pyfunction!(convert::set_default_device, m)?)?;
    m.add_function(wrap_pyfunction!(convert::get_default_device, m)?)?;
    m.add_function(wrap_pyfunction!(tensor::_index_put, m)?)?;
    m.add_function(wrap_pyfunction!(functions::_cuda_device_count, m)?)?;
    m.add_function(wrap_pyfunction!(functions::_cuda_current_device, m)?)?;
    m.add_function(wrap_pyfunction!(functions::_cuda_set_device, m)?)?;
    m.add_function(wrap_pyfunction!(functions::_cuda_device_name, m)?)?;
    m.add_function(wrap_pyfunction!(functions::_cuda_capability, m)?)?;
    m.add_function(wrap_pyfunction!(functions::_cuda_synchronize, m)?)?;
    m.add_function(wrap_pyfunction!(functions::_cuda_memory_stats, m)?)?;
    m.add_function(wrap_pyfunction!(functions::_cuda_reset_peak_memory_stats, m)?)?;
    m.add_function(wrap_pyfunction!(functions::_cuda_empty_cache, m)?)?;
    m.add_function(wrap_pyfunction!(functions::_cuda_set_allow_tf32, m)?)?;
    m.add_function(wrap_pyfunction!(functions::_cuda_allow_tf32, m)?)?;
    m.add_function(wrap_pyfunction!(functions::as_tensor, m)?)?;
    m.add_function(wrap_pyfunction!(functions::from_numpy, m)?)?;
    m.add_function(wrap_pyfunction!(functions::zeros, m)?)?;
    m.add_function(wrap_pyfunction!(functions::ones, m)?)?;
    m.add_function(wrap_pyfunction!(functions::empty, m)?)?;
    m.add_function(wrap_pyfunction!(functions::rand, m)?)?;
    m.add_function(wrap_pyfunction!(functions::randn, m)?)?;
    m.add_function(wrap_pyfunction!(functions::randint, m)?)?;
    m.add_function(wrap_pyfunction!(functions::randperm, m)?)?;
    m.add_function(wrap_pyfunction!(functions::full, m)?)?;
    m.add_function(wrap_pyfunction!(functions::arange, m)?)?;
    m.add_function(wrap_pyfunction!(functions::linspace, m)?)?;
    m.add_function(wrap_pyfunction!(functions::logspace, m)?)?;
    m.add_function(wrap_pyfunction!(functions::eye, m)?)?;
    m.add_function(wrap_pyfunction!(functions::cat, m)?)?;
    m.add_function(wrap_pyfunction!(functions::stack, m)?)?;
    m.add_function(wrap_pyfunction!(functions::hstack, m)?)?;
    m.add_function(wrap_pyfunction!(functions::vstack, m)?)?;
    m.add_function(wrap_pyfunction!(functions::r#where, m)?)?;
    m.add_function(wrap_pyfunction!(functions::get_default_dtype, m)?)?;
    m.add_function(wrap_pyfunction!(functions::set_default_dtype, m)?)?;
    m.add_function(wrap_pyfunction!(functions::promote_types, m)?)?;
    m.add_function(wrap_pyfunction!(functions::result_type, m)?)?;
    m.add_function(wrap_pyfunction!(functions::set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(functions::get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(functions::manual_seed, m)?)?;
    m.add_function(wrap_pyfunction!(functions::seed, m)?)?;
    m.add_function(wrap_pyfunction!(functions::initial_seed, m)?)?;
    m.add_function(wrap_pyfunction!(functions::default_generator, m)?)?;
    m.add_function(wrap_pyfunction!(functions::_cpu_memory_allocated, m)?)?;
    m.add_function(wrap_pyfunction!(functions::_preserve_format_strides, m)?)?;
    m.add_function(wrap_pyfunction!(autograd_py::_backward, m)?)?;
    m.add_function(wrap_pyfunction!(autograd_py::_grad, m)?)?;
    m.add_function(wrap_pyfunction!(autograd_py::is_grad_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(autograd_py::_set_grad_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(autograd_py::is_inference_mode_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(autograd_py::_set_inference_mode, m)?)?;
    m.add_function(wrap_pyfunction!(autograd_py::_set_anomaly_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(autograd_py::is_anomaly_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(autograd_py::_record_function, m)?)?;
    m.add_function(wrap_pyfunction!(optim::_sgd_step, m)?)?;
    m.add_function(wrap_pyfunction!(optim::_adam_step, m)?)?;
    m.add_function(wrap_pyfunction!(optim::_optim_step, m)?)?;
    m.add_function(wrap_pyfunction!(functions::_after_fork_in_child, m)?)?;
    registry_ops::register(m)?;
    io_py::register(m)?;
    safetensors_py::register(m)?;
    amp_py::register(m)?;
    Ok(())
}
