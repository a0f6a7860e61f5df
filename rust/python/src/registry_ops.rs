//! The elementwise ops' Python forms, generated from the engine's op registry rows
//! (`ferrotorch::for_each_*_op!`, in rust/core/src/ops/elementwise.rs; what each `py(...)`
//! spelling generates is `ferrotorch::ops::registry::Python`): `Tensor.<name>(..., out=None)`,
//! `Tensor.<name>_`, the activations `_C.<name>` / `_C.<name>_` for `nn.functional`, and
//! `_C._op_registry()`, from which scripts/gen_ops.py writes the `torch.*` forms and the stub.
//! Nothing here names an op: a new registry row appears in Python without an edit.
//!
//! Each row is its own `#[pymethods]` block (pyo3's `multiple-pymethods`): one macro expansion
//! per row cannot add to a single block.

use ferrotorch::ops::registry;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::*;
use crate::tensor::{heavy, numel2, wrap, write_out, PyTensor, TensorObj};

/// The forms of one row, by its `py(...)` spelling (`$k`: unary or binary).
macro_rules! forms {
    (@full $k:ident $name:ident $name_:ident) => {
        forms!(@method_and_inplace $k $name $name_);
    };
    (@method $k:ident $name:ident $name_:ident) => {
        forms!(@method_and_inplace $k $name $name_);
    };
    (@no_inplace $k:ident $name:ident $name_:ident) => {
        forms!(@method_only $k $name);
    };
    (@internal $k:ident $name:ident $name_:ident) => {
        forms!(@method_only $k $name);
    };
    (@nn $k:ident $name:ident $name_:ident) => {
        forms!(@nn_functions $name $name_);
    };
    (@custom $k:ident $name:ident $name_:ident) => {};

    (@method_and_inplace unary $name:ident $name_:ident) => {
        forms!(@method_only unary $name);
        #[pymethods]
        impl PyTensor {
            fn $name_(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
                let t = slf.get().t.clone();
                heavy(slf.py(), t.numel(), || t.$name_()).py()?;
                Ok(slf)
            }
        }
    };
    (@method_and_inplace binary $name:ident $name_:ident) => {
        forms!(@method_only binary $name);
        #[pymethods]
        impl PyTensor {
            fn $name_<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
                let o = to_arg(other)?;
                let t = slf.get().t.clone();
                heavy(slf.py(), numel2(&t, &o), || t.$name_(o.arg())).py()?;
                Ok(slf)
            }
        }
    };
    (@method_only unary $name:ident) => {
        #[pymethods]
        impl PyTensor {
            #[pyo3(signature = (*, out=None))]
            fn $name(&self, py: Python<'_>, out: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
                let t = &self.t;
                let r = heavy(py, t.numel(), || t.$name()).py()?;
                write_out(stringify!($name), out, r)
            }
        }
    };
    (@method_only binary $name:ident) => {
        #[pymethods]
        impl PyTensor {
            #[pyo3(signature = (other, *, out=None))]
            fn $name(&self, py: Python<'_>, other: &Bound<'_, PyAny>, out: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
                let o = to_arg(other)?;
                let t = &self.t;
                let r = heavy(py, numel2(t, &o), || t.$name(o.arg())).py()?;
                write_out(stringify!($name), out, r)
            }
        }
    };
    (@nn_functions $name:ident $name_:ident) => {
        #[pyfunction]
        pub fn $name(input: &Bound<'_, PyTensor>) -> PyResult<TensorObj> {
            let t = input.get().t.clone();
            wrap(heavy(input.py(), t.numel(), || t.$name()))
        }
        #[pyfunction]
        pub fn $name_<'py>(input: Bound<'py, PyTensor>) -> PyResult<Bound<'py, PyTensor>> {
            let t = input.get().t.clone();
            heavy(input.py(), t.numel(), || t.$name_()).py()?;
            Ok(input)
        }
    };
}

macro_rules! unary_float_rows {
    ($( ($name:ident, $name_:ident, $grad:literal, $cuda:literal, $f32:expr, $f64:expr, save($sx:literal, $sy:literal), |$x:ident, $y:ident, $g:ident| $bw:expr, py($py:ident)) ),* $(,)?) => {
        $( forms!(@$py unary $name $name_); )*
        /// Adds the activations (`nn` rows) to the module.
        fn register_nn(m: &Bound<'_, PyModule>) -> PyResult<()> {
            $( register_nn!(@$py m $name $name_); )*
            Ok(())
        }
    };
}
macro_rules! register_nn {
    (@nn $m:ident $name:ident $name_:ident) => {
        $m.add_function(wrap_pyfunction!($name, $m)?)?;
        $m.add_function(wrap_pyfunction!($name_, $m)?)?;
    };
    (@$other:ident $m:ident $name:ident $name_:ident) => {};
}
macro_rules! unary_num_rows {
    ($( ($name:ident, $name_:ident, $grad:literal, $cuda:literal, |$v:ident| $num:expr, save($sx:literal, $sy:literal), |$x:ident, $y:ident, $g:ident| $bw:expr, py($py:ident)) ),* $(,)?) => {
        $( forms!(@$py unary $name $name_); )*
    };
}
macro_rules! unary_pred_rows {
    ($( ($name:ident, $cuda:literal) ),* $(,)?) => {
        $( forms!(@method_only unary $name); )*
    };
}
macro_rules! binary_rows {
    ($( ($name:ident, $name_:ident, $grad:literal, $cuda:literal, $kind:ident, |$a:ident, $b:ident| $f:expr, $out:ident, save($save_a:ident, $save_b:ident, $save_out:literal), $bw:expr, py($py:ident)) ),* $(,)?) => {
        $( forms!(@$py binary $name $name_); )*
    };
}

ferrotorch::for_each_unary_float_op!(unary_float_rows);
ferrotorch::for_each_unary_num_op!(unary_num_rows);
ferrotorch::for_each_unary_pred_op!(unary_pred_rows);
ferrotorch::for_each_binary_op!(binary_rows);

/// `_C._op_registry()`: one dict per registry row (name, family, grad_fn, cuda, dtype_rule, and
/// which Python forms it has: method, method_inplace, function, function_inplace, nn).
#[pyfunction]
fn _op_registry(py: Python<'_>) -> PyResult<Vec<Bound<'_, PyDict>>> {
    registry::ops()
        .map(|o| {
            let d = PyDict::new(py);
            let f = o.python.forms();
            d.set_item("name", o.name)?;
            d.set_item("family", o.family_name())?;
            d.set_item("grad_fn", o.grad_fn)?;
            d.set_item("cuda", o.cuda)?;
            d.set_item("dtype_rule", o.dtype_rule())?;
            d.set_item("custom", o.python == registry::Python::custom)?;
            d.set_item("method", f.method)?;
            d.set_item("method_inplace", f.method_inplace)?;
            d.set_item("function", f.function)?;
            d.set_item("function_inplace", f.function_inplace)?;
            d.set_item("nn", f.nn)?;
            Ok(d)
        })
        .collect()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    register_nn(m)?;
    m.add_function(wrap_pyfunction!(_op_registry, m)?)?;
    Ok(())
}
