//! Arithmetic with extra arguments (`alpha=`, `rounding_mode=`, `decimals=`), the
//! tensor-only binary ops (maximum/minimum), and Python's operators (`a + b`, `a += b`,
//! the reflected forms; `@` is in matmul.rs).

use ferrotorch::ops::elementwise::{binary, specs};
use ferrotorch::{Arg, Scalar, Tensor};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use super::{bcast_numel, heavy, numel2, wrap, write_out, PyTensor, TensorObj};
use crate::convert::*;

#[pymethods]
impl PyTensor {
    #[pyo3(signature = (other, *, out=None))]
    fn maximum(&self, py: Python<'_>, other: &Bound<'_, PyAny>, out: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let o = tensor_operand(other, "maximum")?;
        let t = &self.t;
        write_out("maximum", out, heavy(py, bcast_numel(&t.shape(), &o.shape()), || t.maximum(&o)).py()?)
    }
    #[pyo3(signature = (other, *, out=None))]
    fn minimum(&self, py: Python<'_>, other: &Bound<'_, PyAny>, out: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let o = tensor_operand(other, "minimum")?;
        let t = &self.t;
        write_out("minimum", out, heavy(py, bcast_numel(&t.shape(), &o.shape()), || t.minimum(&o)).py()?)
    }
    #[pyo3(signature = (other, *, alpha=None, out=None))]
    fn add(&self, py: Python<'_>, other: &Bound<'_, PyAny>, alpha: Option<&Bound<'_, PyAny>>, out: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let o = to_arg(other)?;
        let a = alpha_arg(alpha)?;
        let t = &self.t;
        write_out("add", out, heavy(py, numel2(t, &o), || match a {
            None => t.add(o.arg()),
            Some(a) => t.add_alpha(o.arg(), a),
        }).py()?)
    }
    #[pyo3(signature = (other, *, alpha=None))]
    fn add_<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>, alpha: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        let t = slf.get().t.clone();
        let o = to_arg(other)?;
        let a = alpha_arg(alpha)?;
        heavy(slf.py(), numel2(&t, &o), || match a {
            None => t.add_(o.arg()),
            Some(a) => t.add_alpha_(o.arg(), a),
        }).py()?;
        Ok(slf)
    }
    #[pyo3(signature = (other, *, alpha=None, out=None))]
    fn sub(&self, py: Python<'_>, other: &Bound<'_, PyAny>, alpha: Option<&Bound<'_, PyAny>>, out: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let o = to_arg(other)?;
        let a = alpha_arg(alpha)?;
        let t = &self.t;
        write_out("sub", out, heavy(py, numel2(t, &o), || match a {
            None => t.sub(o.arg()),
            Some(a) => t.sub_alpha(o.arg(), a),
        }).py()?)
    }
    #[pyo3(signature = (other, *, alpha=None))]
    fn sub_<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>, alpha: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        let t = slf.get().t.clone();
        let o = to_arg(other)?;
        let a = alpha_arg(alpha)?;
        heavy(slf.py(), numel2(&t, &o), || match a {
            None => t.sub_(o.arg()),
            Some(a) => t.sub_alpha_(o.arg(), a),
        }).py()?;
        Ok(slf)
    }
    #[pyo3(signature = (other, *, rounding_mode=None, out=None))]
    fn div(&self, py: Python<'_>, other: &Bound<'_, PyAny>, rounding_mode: Option<&str>, out: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let o = to_arg(other)?;
        let t = &self.t;
        let r = heavy(py, numel2(t, &o), || t.div_rounding(o.arg(), rounding_mode)).py()?;
        write_out("div", out, r)
    }
    #[pyo3(signature = (other, *, rounding_mode=None))]
    fn div_<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>, rounding_mode: Option<&str>) -> PyResult<Bound<'py, Self>> {
        let o = to_arg(other)?;
        let t = slf.get().t.clone();
        heavy(slf.py(), numel2(&t, &o), || t.div_rounding_(o.arg(), rounding_mode)).py()?;
        Ok(slf)
    }
    #[pyo3(signature = (exponent, *, out=None))]
    fn pow(&self, py: Python<'_>, exponent: &Bound<'_, PyAny>, out: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let o = to_arg(exponent)?;
        let t = &self.t;
        write_out("pow", out, heavy(py, numel2(t, &o), || t.pow(o.arg())).py()?)
    }
    fn pow_<'py>(slf: Bound<'py, Self>, exponent: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        let o = to_arg(exponent)?;
        let t = slf.get().t.clone();
        heavy(slf.py(), numel2(&t, &o), || t.pow_(o.arg())).py()?;
        Ok(slf)
    }
    #[pyo3(signature = (decimals=0))]
    fn round(&self, py: Python<'_>, decimals: i64) -> PyResult<TensorObj> {
        let t = &self.t;
        wrap(heavy(py, t.numel(), || t.round_decimals(decimals)))
    }
    #[pyo3(signature = (decimals=0))]
    fn round_(slf: Bound<'_, Self>, decimals: i64) -> PyResult<Bound<'_, Self>> {
        let t = slf.get().t.clone();
        heavy(slf.py(), t.numel(), || t.round_decimals_(decimals)).py()?;
        Ok(slf)
    }

    // ---- operators ------------------------------------------------------------------
    fn __add__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.add(b)) }
    fn __radd__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_rarith(&self.t, other, |a, b| binary(a, b, &specs::add)) }
    fn __sub__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.sub(b)) }
    fn __rsub__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_rarith(&self.t, other, |a, b| binary(a, b, &specs::sub)) }
    fn __mul__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.mul(b)) }
    fn __rmul__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_rarith(&self.t, other, |a, b| binary(a, b, &specs::mul)) }
    fn __truediv__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.div(b)) }
    fn __rtruediv__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_rarith(&self.t, other, |a, b| binary(a, b, &specs::div)) }
    fn __floordiv__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.floor_divide(b)) }
    fn __rfloordiv__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_rarith(&self.t, other, |a, b| binary(a, b, &specs::floor_divide)) }
    fn __mod__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.remainder(b)) }
    fn __rmod__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_rarith(&self.t, other, |a, b| binary(a, b, &specs::remainder)) }
    fn __pow__(&self, other: &Bound<'_, PyAny>, modulo: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let _ = modulo;
        op_arith(&self.t, other, |a, b| a.pow(b))
    }
    fn __rpow__(&self, other: &Bound<'_, PyAny>, modulo: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let _ = modulo;
        op_rarith(&self.t, other, |a, b| binary(a, b, &specs::pow))
    }
    fn __and__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.bitwise_and(b)) }
    fn __rand__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.bitwise_and(b)) }
    fn __or__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.bitwise_or(b)) }
    fn __ror__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.bitwise_or(b)) }
    fn __xor__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.bitwise_xor(b)) }
    fn __rxor__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.bitwise_xor(b)) }
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.eq(b)) }
    fn __ne__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.ne(b)) }
    fn __lt__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.lt(b)) }
    fn __le__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.le(b)) }
    fn __gt__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.gt(b)) }
    fn __ge__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.ge(b)) }
    fn __neg__(&self, py: Python<'_>) -> PyResult<TensorObj> { let t = &self.t; wrap(heavy(py, t.numel(), || t.neg())) }
    fn __pos__(&self) -> TensorObj { PyTensor::new(self.t.clone()) }
    fn __abs__(&self, py: Python<'_>) -> PyResult<TensorObj> { let t = &self.t; wrap(heavy(py, t.numel(), || t.abs())) }
    fn __invert__(&self, py: Python<'_>) -> PyResult<TensorObj> {
        // The operator's own TypeError, raised by PyTorch's Python binding too (the op,
        // bitwise_not, has its own message for floats).
        if self.t.dtype().is_float() {
            return Err(PyTypeError::new_err("~ (operator.invert) is only implemented on integer and Boolean-type tensors"));
        }
        let t = &self.t;
        wrap(heavy(py, t.numel(), || t.bitwise_not()))
    }
    fn __iadd__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<()> { let o = to_arg(other)?; let t = slf.get().t.clone(); heavy(slf.py(), numel2(&t, &o), || t.add_(o.arg())).py() }
    fn __isub__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<()> { let o = to_arg(other)?; let t = slf.get().t.clone(); heavy(slf.py(), numel2(&t, &o), || t.sub_(o.arg())).py() }
    fn __imul__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<()> { let o = to_arg(other)?; let t = slf.get().t.clone(); heavy(slf.py(), numel2(&t, &o), || t.mul_(o.arg())).py() }
    fn __itruediv__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<()> { let o = to_arg(other)?; let t = slf.get().t.clone(); heavy(slf.py(), numel2(&t, &o), || t.div_(o.arg())).py() }
    fn __ifloordiv__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<()> { let o = to_arg(other)?; let t = slf.get().t.clone(); heavy(slf.py(), numel2(&t, &o), || t.floor_divide_(o.arg())).py() }
    fn __imod__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<()> { let o = to_arg(other)?; let t = slf.get().t.clone(); heavy(slf.py(), numel2(&t, &o), || t.remainder_(o.arg())).py() }
    fn __ipow__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>, _m: Option<&Bound<'py, PyAny>>) -> PyResult<()> { let o = to_arg(other)?; let t = slf.get().t.clone(); heavy(slf.py(), numel2(&t, &o), || t.pow_(o.arg())).py() }
    fn __iand__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<()> { let o = to_arg(other)?; let t = slf.get().t.clone(); heavy(slf.py(), numel2(&t, &o), || t.bitwise_and_(o.arg())).py() }
    fn __ior__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<()> { let o = to_arg(other)?; let t = slf.get().t.clone(); heavy(slf.py(), numel2(&t, &o), || t.bitwise_or_(o.arg())).py() }
    fn __ixor__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<()> { let o = to_arg(other)?; let t = slf.get().t.clone(); heavy(slf.py(), numel2(&t, &o), || t.bitwise_xor_(o.arg())).py() }
    fn __lshift__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.bitwise_left_shift(b)) }
    fn __rshift__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_arith(&self.t, other, |a, b| a.bitwise_right_shift(b)) }
    fn __rlshift__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_rarith(&self.t, other, |a, b| binary(a, b, &specs::bitwise_left_shift)) }
    fn __rrshift__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> { op_rarith(&self.t, other, |a, b| binary(a, b, &specs::bitwise_right_shift)) }
    fn __ilshift__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<()> { let o = to_arg(other)?; let t = slf.get().t.clone(); heavy(slf.py(), numel2(&t, &o), || t.bitwise_left_shift_(o.arg())).py() }
    fn __irshift__<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<()> { let o = to_arg(other)?; let t = slf.get().t.clone(); heavy(slf.py(), numel2(&t, &o), || t.bitwise_right_shift_(o.arg())).py() }
}

/// A binary operator's result, or NotImplemented for an operand that is neither a tensor
/// nor a number (Python then tries the other operand's reflected method).
fn op_arith(a: &Tensor, other: &Bound<'_, PyAny>, f: fn(&Tensor, Arg) -> ferrotorch::Result<Tensor>) -> PyResult<Py<PyAny>> {
    let py = other.py();
    match to_arg(other) {
        Ok(o) => Ok(PyTensor::new(heavy(py, numel2(a, &o), || f(a, o.arg())).py()?).into_pyobject(py)?.into_any().unbind()),
        Err(_) => Ok(py.NotImplemented()),
    }
}

/// A reflected operator (`2 - t`): `f(other, self)`.
fn op_rarith(a: &Tensor, other: &Bound<'_, PyAny>, f: fn(Arg, Arg) -> ferrotorch::Result<Tensor>) -> PyResult<Py<PyAny>> {
    let py = other.py();
    match to_arg(other) {
        Ok(o) => Ok(PyTensor::new(heavy(py, numel2(a, &o), || f(o.arg(), Arg::T(a))).py()?).into_pyobject(py)?.into_any().unbind()),
        Err(_) => Ok(py.NotImplemented()),
    }
}

/// `alpha=`: None when absent or None, else a number (its dtype rules are the core's).
fn alpha_arg(alpha: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Scalar>> {
    match alpha {
        None => Ok(None),
        Some(a) if a.is_none() => Ok(None),
        Some(a) => Ok(Some(to_scalar(a)?.ok_or_else(|| PyTypeError::new_err("alpha must be a number"))?)),
    }
}

/// The `other` operand of ops that take only tensors (maximum/minimum: no Python numbers).
fn tensor_operand(other: &Bound<'_, PyAny>, op: &str) -> PyResult<Tensor> {
    match other.cast::<PyTensor>() {
        Ok(t) => Ok(t.get().t.clone()),
        Err(_) => Err(PyTypeError::new_err(format!("{}(): argument 'other' must be Tensor, not {}", op, other.get_type().name()?))),
    }
}
