//! Autocast state and gradient-scaling kernels (`torch.autocast`, `torch.amp.GradScaler`).
//! Conversion only: the state, the op policies and the kernels live in
//! `ferrotorch::autocast` and `ferrotorch::amp`.

use ferrotorch::autocast::{self, DeviceType};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::autograd_py::tensor_list;
use crate::convert::*;
use crate::tensor::{PyTensor, TensorObj};

fn device_type(s: &str) -> PyResult<DeviceType> {
    DeviceType::parse(s).ok_or_else(|| PyRuntimeError::new_err(format!("User specified an unsupported autocast device_type '{}'", s)))
}

#[pyfunction]
pub fn _is_autocast_available(device_type: &str) -> bool {
    DeviceType::parse(device_type).is_some()
}

/// Whether autocast is on for any device type (the per-call check of the Python ops).
#[pyfunction]
pub fn _autocast_any_enabled() -> bool {
    autocast::any_enabled()
}

#[pyfunction]
pub fn _autocast_is_enabled(device_type: &str) -> PyResult<bool> {
    Ok(autocast::is_enabled(self::device_type(device_type)?))
}

#[pyfunction]
pub fn _autocast_set_enabled(device_type: &str, enabled: bool) -> PyResult<()> {
    autocast::set_enabled(self::device_type(device_type)?, enabled);
    Ok(())
}

#[pyfunction]
pub fn _autocast_get_dtype(py: Python<'_>, device_type: &str) -> PyResult<Py<PyDType>> {
    Ok(dtype_obj(py, autocast::get_dtype(self::device_type(device_type)?)))
}

#[pyfunction]
pub fn _autocast_set_dtype(device_type: &str, dtype: &Bound<'_, PyAny>) -> PyResult<()> {
    autocast::set_dtype(self::device_type(device_type)?, to_dtype(dtype)?);
    Ok(())
}

#[pyfunction]
pub fn _autocast_is_cache_enabled() -> bool {
    autocast::is_cache_enabled()
}

#[pyfunction]
pub fn _autocast_set_cache_enabled(enabled: bool) {
    autocast::set_cache_enabled(enabled)
}

#[pyfunction]
pub fn _autocast_increment_nesting() -> i64 {
    autocast::increment_nesting()
}

#[pyfunction]
pub fn _autocast_decrement_nesting() -> i64 {
    autocast::decrement_nesting()
}

#[pyfunction]
pub fn _autocast_clear_cache() {
    autocast::clear_cache()
}

/// Turn autocast off for a composition's body; returns the state `_autocast_restore` puts back.
#[pyfunction]
pub fn _autocast_exclude() -> u8 {
    autocast::exclude()
}

#[pyfunction]
pub fn _autocast_restore(state: u8) {
    autocast::restore(state)
}

/// Cast tensors and the output dtype the policy sets.
type Cast = (Vec<TensorObj>, Option<Py<PyDType>>);

/// The cast at the entry of op `op` (a name of PyTorch's lists) with these tensor
/// arguments: None when autocast does not apply, else (cast tensors, output dtype the
/// policy sets or None).
#[pyfunction]
pub fn _autocast_cast(py: Python<'_>, op: &str, tensors: &Bound<'_, PyAny>) -> PyResult<Option<Cast>> {
    let ts = tensor_list(tensors)?;
    let refs: Vec<&ferrotorch::Tensor> = ts.iter().collect();
    let Some(p) = autocast::prepare(op, &refs).map_err(map_err)? else { return Ok(None) };
    let dt = p.dtype.map(|d| dtype_obj(py, d));
    // An unchanged tensor converts back to its own Python object (TensorObj).
    let out = p.tensors.iter().map(|t| PyTensor::new(t.clone())).collect();
    Ok(Some((out, dt)))
}

/// `torch._amp_foreach_non_finite_check_and_unscale_(grads, found_inf, inv_scale)`.
#[pyfunction]
pub fn _amp_foreach_non_finite_check_and_unscale_(
    py: Python<'_>,
    grads: &Bound<'_, PyAny>,
    found_inf: &Bound<'_, PyAny>,
    inv_scale: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let (g, f, i) = (tensor_list(grads)?, to_tensor(found_inf)?, to_tensor(inv_scale)?);
    py.detach(|| ferrotorch::amp::non_finite_check_and_unscale_(&g, &f, &i)).map_err(map_err)
}

/// `torch._amp_update_scale_(scale, growth_tracker, found_inf, growth_factor,
/// backoff_factor, growth_interval)`: updates in place and returns `scale`.
#[pyfunction]
pub fn _amp_update_scale_<'py>(
    scale: &Bound<'py, PyAny>,
    growth_tracker: &Bound<'py, PyAny>,
    found_inf: &Bound<'py, PyAny>,
    growth_factor: f64,
    backoff_factor: f64,
    growth_interval: i64,
) -> PyResult<Bound<'py, PyAny>> {
    let (s, t, f) = (to_tensor(scale)?, to_tensor(growth_tracker)?, to_tensor(found_inf)?);
    ferrotorch::amp::update_scale_(&s, &t, &f, growth_factor, backoff_factor, growth_interval).map_err(map_err)?;
    Ok(scale.clone())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_is_autocast_available, m)?)?;
    m.add_function(wrap_pyfunction!(_autocast_any_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_autocast_is_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_autocast_set_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_autocast_get_dtype, m)?)?;
    m.add_function(wrap_pyfunction!(_autocast_set_dtype, m)?)?;
    m.add_function(wrap_pyfunction!(_autocast_is_cache_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_autocast_set_cache_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_autocast_increment_nesting, m)?)?;
    m.add_function(wrap_pyfunction!(_autocast_decrement_nesting, m)?)?;
    m.add_function(wrap_pyfunction!(_autocast_clear_cache, m)?)?;
    m.add_function(wrap_pyfunction!(_autocast_exclude, m)?)?;
    m.add_function(wrap_pyfunction!(_autocast_restore, m)?)?;
    m.add_function(wrap_pyfunction!(_autocast_cast, m)?)?;
    m.add_function(wrap_pyfunction!(_amp_foreach_non_finite_check_and_unscale_, m)?)?;
    m.add_function(wrap_pyfunction!(_amp_update_scale_, m)?)?;
    Ok(())
}
