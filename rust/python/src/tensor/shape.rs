//! Shape: views (`view`, `reshape`, `transpose`, `expand`, `narrow`, splits, ...) and
//! the shape ops that copy (`flip`, `roll`, `repeat`, `tile`, `repeat_interleave`,
//! `tril`/`triu`).

use ferrotorch::{Scalar, Tensor};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt, PyList, PyTuple};

use super::{heavy, wrap, PyTensor, TensorObj};
use crate::convert::*;

#[pymethods]
impl PyTensor {
    #[pyo3(signature = (*shape))]
    fn view(&self, shape: &Bound<'_, PyTuple>) -> PyResult<TensorObj> {
        if shape.len() == 1 {
            let a = shape.get_item(0)?;
            if a.cast::<PyDType>().is_ok() {
                return Err(PyRuntimeError::new_err("view(dtype) is not supported by ferrotorch yet"));
            }
        }
        wrap(self.t.view(&shape_arg(shape)?))
    }
    fn view_as(&self, other: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let s: Vec<i64> = to_tensor(other)?.shape().iter().map(|&d| d as i64).collect();
        wrap(self.t.view(&s))
    }
    #[pyo3(signature = (*shape))]
    fn reshape(&self, py: Python<'_>, shape: &Bound<'_, PyTuple>) -> PyResult<TensorObj> {
        let (t, s) = (&self.t, shape_arg(shape)?);
        // A copy when no view fits.
        wrap(heavy(py, t.numel(), || t.reshape(&s)))
    }
    fn reshape_as(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let s: Vec<i64> = to_tensor(other)?.shape().iter().map(|&d| d as i64).collect();
        let t = &self.t;
        wrap(heavy(py, t.numel(), || t.reshape(&s)))
    }
    #[pyo3(signature = (start_dim=0, end_dim=-1))]
    fn flatten(&self, py: Python<'_>, start_dim: i64, end_dim: i64) -> PyResult<TensorObj> {
        let t = &self.t;
        wrap(heavy(py, t.numel(), || t.flatten(start_dim, end_dim)))
    }
    fn unflatten(&self, dim: i64, sizes: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        wrap(self.t.unflatten(dim, &to_int_list(sizes)?))
    }
    #[pyo3(signature = (dim=None))]
    fn squeeze(&self, dim: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        let d = to_dims(dim)?;
        wrap(self.t.squeeze(d.as_deref()))
    }
    fn unsqueeze(&self, dim: i64) -> PyResult<TensorObj> {
        wrap(self.t.unsqueeze(dim))
    }
    fn transpose(&self, dim0: i64, dim1: i64) -> PyResult<TensorObj> {
        wrap(self.t.transpose(dim0, dim1))
    }
    fn swapaxes(&self, dim0: i64, dim1: i64) -> PyResult<TensorObj> {
        wrap(self.t.transpose(dim0, dim1))
    }
    fn t(&self) -> PyResult<TensorObj> {
        wrap(self.t.t())
    }
    #[getter(T)]
    fn big_t(&self) -> PyResult<TensorObj> {
        let n = self.t.ndim() as i64;
        let p: Vec<i64> = (0..n).rev().collect();
        wrap(self.t.permute(&p))
    }
    #[getter(mT)]
    fn m_t(&self) -> PyResult<TensorObj> {
        wrap(self.t.mt())
    }
    #[pyo3(signature = (*dims))]
    fn permute(&self, dims: &Bound<'_, PyTuple>) -> PyResult<TensorObj> {
        wrap(self.t.permute(&shape_arg(dims)?))
    }
    fn movedim(&self, source: i64, destination: i64) -> PyResult<TensorObj> {
        wrap(self.t.movedim(source, destination))
    }
    #[pyo3(signature = (*sizes))]
    fn expand(&self, sizes: &Bound<'_, PyTuple>) -> PyResult<TensorObj> {
        wrap(self.t.expand(&shape_arg(sizes)?))
    }
    fn expand_as(&self, other: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        wrap(self.t.expand_usize(&to_tensor(other)?.shape()))
    }
    fn narrow(&self, dim: i64, start: &Bound<'_, PyAny>, length: i64) -> PyResult<TensorObj> {
        wrap(self.t.narrow(dim, to_index(start)?, length))
    }
    fn select(&self, dim: i64, index: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        wrap(self.t.select(dim, to_index(index)?))
    }
    #[pyo3(signature = (dim=0))]
    fn unbind(&self, py: Python<'_>, dim: i64) -> PyResult<Py<PyTuple>> {
        tuple_of(py, self.t.unbind(dim).py()?)
    }
    #[pyo3(signature = (chunks, dim=0))]
    fn chunk(&self, py: Python<'_>, chunks: i64, dim: i64) -> PyResult<Py<PyTuple>> {
        tuple_of(py, self.t.chunk(chunks, dim).py()?)
    }
    #[pyo3(signature = (split_size_or_sections, dim=0))]
    fn split(&self, py: Python<'_>, split_size_or_sections: &Bound<'_, PyAny>, dim: i64) -> PyResult<Py<PyTuple>> {
        let r = if split_size_or_sections.is_instance_of::<PyInt>() {
            self.t.split(split_size_or_sections.extract()?, dim)
        } else {
            self.t.split_sizes(&to_int_list(split_size_or_sections)?, dim)
        };
        tuple_of(py, r.py()?)
    }
    #[pyo3(signature = (offset=0, dim1=0, dim2=1))]
    fn diagonal(&self, offset: i64, dim1: i64, dim2: i64) -> PyResult<TensorObj> {
        wrap(self.t.diagonal(offset, dim1, dim2))
    }
    fn unfold(&self, dimension: i64, size: i64, step: i64) -> PyResult<TensorObj> {
        wrap(self.t.unfold(dimension, size, step))
    }
    #[pyo3(signature = (size, stride, storage_offset=None))]
    fn as_strided(&self, size: &Bound<'_, PyAny>, stride: &Bound<'_, PyAny>, storage_offset: Option<usize>) -> PyResult<TensorObj> {
        let s = check_sizes(&to_int_list(size)?)?;
        let st = check_sizes(&to_int_list(stride)?)?;
        wrap(self.t.as_strided(&s, &st, storage_offset))
    }

    // ---- shape ops (copies) ---------------------------------------------------------
    /// `flip(*dims)` / `flip(dims)` / `flip(dims=seq)`, as PyTorch's parser takes them.
    #[pyo3(signature = (*args, dims=None))]
    fn flip(&self, py: Python<'_>, args: &Bound<'_, PyTuple>, dims: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        let d = match dims {
            Some(_) if !args.is_empty() => return Err(PyTypeError::new_err("flip() got multiple values for argument 'dims'")),
            Some(k) if k.is_instance_of::<PyInt>() || k.cast::<PyTensor>().is_ok() => {
                return Err(PyTypeError::new_err(format!("flip(): argument 'dims' must be tuple of ints, not {}", k.get_type().name()?)));
            }
            Some(k) => to_int_list(k)?,
            None if args.is_empty() => return Err(PyTypeError::new_err("flip() missing 1 required positional arguments: \"dims\"")),
            None => flip_dims(args)?,
        };
        let t = &self.t;
        wrap(heavy(py, t.numel(), || t.flip(&d)))
    }
    #[pyo3(signature = (shifts, dims=None))]
    fn roll(&self, py: Python<'_>, shifts: &Bound<'_, PyAny>, dims: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        let (t, d, sh) = (&self.t, to_dims(dims)?.unwrap_or_default(), to_int_list(shifts)?);
        wrap(heavy(py, t.numel(), || t.roll(&sh, &d)))
    }
    #[pyo3(signature = (*sizes))]
    fn repeat(&self, py: Python<'_>, sizes: &Bound<'_, PyTuple>) -> PyResult<TensorObj> {
        let (t, s) = (&self.t, shape_arg(sizes)?);
        wrap(heavy(py, times(t, &s), || t.repeat(&s)))
    }
    fn tile(&self, py: Python<'_>, dims: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let (t, d) = (&self.t, to_int_list(dims)?);
        wrap(heavy(py, times(t, &d), || t.tile(&d)))
    }
    #[pyo3(signature = (repeats=None, dim=None, *, output_size=None))]
    fn repeat_interleave(&self, py: Python<'_>, repeats: Option<&Bound<'_, PyAny>>, dim: Option<i64>, output_size: Option<i64>) -> PyResult<TensorObj> {
        let _ = output_size;
        // torch.repeat_interleave(repeats): self is the 1-d tensor of counts.
        let Some(repeats) = repeats.filter(|r| !r.is_none()) else {
            // The output's size is only known from the counts' values: always without the GIL.
            let t = &self.t;
            return wrap(py.detach(|| Tensor::repeat_interleave_counts(t)));
        };
        let r = match to_arg(repeats)? {
            ArgOwned::T(t) => t,
            ArgOwned::S(Scalar::Float(_)) => {
                return Err(PyTypeError::new_err(
                    "repeat_interleave() received an invalid combination of arguments - got (Tensor, float): repeats must be an int or a Tensor",
                ))
            }
            ArgOwned::S(s) => Tensor::from_vec(vec![s.to_i64()], &[1]).py()?,
        };
        let t = &self.t;
        wrap(py.detach(|| t.repeat_interleave(&r, dim)))
    }
    #[pyo3(signature = (diagonal=0))]
    fn tril(&self, py: Python<'_>, diagonal: i64) -> PyResult<TensorObj> {
        let t = &self.t;
        wrap(heavy(py, t.numel(), || t.tril(diagonal)))
    }
    #[pyo3(signature = (diagonal=0))]
    fn triu(&self, py: Python<'_>, diagonal: i64) -> PyResult<TensorObj> {
        let t = &self.t;
        wrap(heavy(py, t.numel(), || t.triu(diagonal)))
    }
    #[pyo3(signature = (diagonal=0))]
    fn tril_<'py>(slf: Bound<'py, Self>, diagonal: i64) -> PyResult<Bound<'py, Self>> {
        let t = slf.get().t.clone();
        heavy(slf.py(), t.numel(), || t.tril_(diagonal)).py()?;
        Ok(slf)
    }
    #[pyo3(signature = (diagonal=0))]
    fn triu_<'py>(slf: Bound<'py, Self>, diagonal: i64) -> PyResult<Bound<'py, Self>> {
        let t = slf.get().t.clone();
        heavy(slf.py(), t.numel(), || t.triu_(diagonal)).py()?;
        Ok(slf)
    }
}

/// A shape given as varargs ints or as one sequence (`view(2, 3)` / `view((2, 3))`).
fn shape_arg(args: &Bound<'_, PyTuple>) -> PyResult<Vec<i64>> {
    if args.len() == 1 {
        let a = args.get_item(0)?;
        if !a.is_instance_of::<PyInt>() && a.cast::<PyTensor>().is_err() {
            return to_int_list(&a);
        }
    }
    args.iter().map(|a| to_index(&a)).collect()
}

/// flip's positional dims (`flip(0, 1)`, `flip([0, 1])`), with PyTorch's TypeErrors for a
/// bool, a str or a non-int element.
fn flip_dims(args: &Bound<'_, PyTuple>) -> PyResult<Vec<i64>> {
    let bad = |what: String| PyTypeError::new_err(format!("flip(): argument 'dims' (position 1) must be tuple of ints, {what}"));
    if args.len() == 1 {
        let a = args.get_item(0)?;
        if a.is_instance_of::<PyList>() || a.is_instance_of::<PyTuple>() {
            for (i, e) in a.try_iter()?.enumerate() {
                let e = e?;
                if e.is_instance_of::<PyBool>() || to_index(&e).is_err() {
                    return Err(bad(format!("but found element of type {} at pos {}", e.get_type().name()?, i)));
                }
            }
        } else if a.is_instance_of::<PyBool>() || to_index(&a).is_err() {
            return Err(bad(format!("not {}", a.get_type().name()?)));
        }
    }
    shape_arg(args)
}

fn tuple_of(py: Python<'_>, v: Vec<Tensor>) -> PyResult<Py<PyTuple>> {
    Ok(PyTuple::new(py, v.into_iter().map(PyTensor::new))?.unbind())
}

/// The output size of `repeat` / `tile` (`t`'s elements times the repeats), for `heavy`.
fn times(t: &Tensor, reps: &[i64]) -> usize {
    reps.iter().fold(t.numel(), |n, &r| n.saturating_mul(r.max(0) as usize))
}
