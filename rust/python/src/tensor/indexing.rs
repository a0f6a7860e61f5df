//! Indexing: `t[...]` and `t[...] = v` (the index expression converted here, its rules
//! applied by the core's `IndexItem::resolve`), gather/scatter, index_select/index_add,
//! masked_select, nonzero and `where`.

use ferrotorch::{Arg, IndexItem, Tensor, TensorIndex};
use pyo3::exceptions::{PyIndexError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyEllipsis, PyInt, PyList, PyNone, PySlice, PyString, PyTuple};

use super::{bcast_numel, heavy, numel2, scalar_or, wrap, PyTensor, TensorObj};
use crate::convert::*;
use crate::data;

#[pymethods]
impl PyTensor {
    fn __getitem__(&self, py: Python<'_>, idx: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let ix = parse_index(py, idx)?;
        let t = &self.t;
        wrap(heavy(py, index_work(t, &ix), || t.index(&ix)))
    }
    fn __setitem__(&self, py: Python<'_>, idx: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let ix = parse_index(py, idx)?;
        let v = match to_arg(value)? {
            ArgOwned::T(t) => t,
            ArgOwned::S(s) => Tensor::scalar(s, self.t.dtype()).py()?,
        };
        let t = &self.t;
        heavy(py, t.numel().max(v.numel()), || t.index_put_(&ix, &v)).py()
    }
    #[pyo3(signature = (as_tuple=false))]
    fn nonzero(&self, py: Python<'_>, as_tuple: bool) -> PyResult<Py<PyAny>> {
        if as_tuple {
            return nonzero_tuple(py, &self.t);
        }
        let t = &self.t;
        Ok(PyTensor::new(heavy(py, t.numel(), || t.nonzero()).py()?).into_pyobject(py)?.into_any().unbind())
    }
    fn gather(&self, py: Python<'_>, dim: i64, index: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let (t, ix) = (&self.t, to_tensor(index)?);
        wrap(heavy(py, ix.numel(), || t.gather(dim, &ix)))
    }
    #[pyo3(signature = (dim, index, src=None, *, value=None))]
    fn scatter(&self, py: Python<'_>, dim: i64, index: &Bound<'_, PyAny>, src: Option<&Bound<'_, PyAny>>, value: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        let (t, ix, src) = (&self.t, to_tensor(index)?, scatter_src(src, value)?);
        wrap(heavy(py, t.numel().max(ix.numel()), || match src {
            ArgOwned::T(s) => t.scatter(dim, &ix, &s),
            ArgOwned::S(v) => t.scatter_value(dim, &ix, v),
        }))
    }
    #[pyo3(signature = (dim, index, src=None, *, value=None))]
    fn scatter_<'py>(slf: Bound<'py, Self>, dim: i64, index: &Bound<'py, PyAny>, src: Option<&Bound<'py, PyAny>>, value: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        let ix = to_tensor(index)?;
        let (t, src) = (slf.get().t.clone(), scatter_src(src, value)?);
        heavy(slf.py(), t.numel().max(ix.numel()), || match src {
            ArgOwned::T(s) => t.scatter_(dim, &ix, &s),
            ArgOwned::S(v) => t.scatter_value_(dim, &ix, v),
        })
        .py()?;
        Ok(slf)
    }
    fn scatter_add(&self, py: Python<'_>, dim: i64, index: &Bound<'_, PyAny>, src: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let (t, ix, s) = (&self.t, to_tensor(index)?, to_tensor(src)?);
        wrap(heavy(py, t.numel().max(ix.numel()), || t.scatter_add(dim, &ix, &s)))
    }
    fn scatter_add_<'py>(slf: Bound<'py, Self>, dim: i64, index: &Bound<'py, PyAny>, src: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        let (t, ix, s) = (slf.get().t.clone(), to_tensor(index)?, to_tensor(src)?);
        heavy(slf.py(), t.numel().max(ix.numel()), || t.scatter_add_(dim, &ix, &s)).py()?;
        Ok(slf)
    }
    fn index_select(&self, py: Python<'_>, dim: i64, index: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let (t, ix) = (&self.t, to_tensor(index)?);
        // The output has as many slices as the index has entries.
        let slice = t.numel() / t.shape().get(dim.rem_euclid(t.ndim().max(1) as i64) as usize).copied().unwrap_or(1).max(1);
        wrap(heavy(py, t.numel().max(slice.saturating_mul(ix.numel())), || t.index_select(dim, &ix)))
    }
    #[pyo3(signature = (dim, index, source, *, alpha=None))]
    fn index_add(&self, py: Python<'_>, dim: i64, index: &Bound<'_, PyAny>, source: &Bound<'_, PyAny>, alpha: Option<&Bound<'_, PyAny>>) -> PyResult<TensorObj> {
        let (t, ix, src, a) = (&self.t, to_tensor(index)?, to_tensor(source)?, scalar_or(alpha, 1)?);
        wrap(heavy(py, t.numel().max(src.numel()), || t.index_add(dim, &ix, &src, a)))
    }
    #[pyo3(signature = (dim, index, source, *, alpha=None))]
    fn index_add_<'py>(slf: Bound<'py, Self>, dim: i64, index: &Bound<'py, PyAny>, source: &Bound<'py, PyAny>, alpha: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
        let (t, ix, src, a) = (slf.get().t.clone(), to_tensor(index)?, to_tensor(source)?, scalar_or(alpha, 1)?);
        heavy(slf.py(), t.numel().max(src.numel()), || t.index_add_(dim, &ix, &src, a)).py()?;
        Ok(slf)
    }
    fn masked_select(&self, py: Python<'_>, mask: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let (t, m) = (&self.t, to_tensor(mask)?);
        wrap(heavy(py, bcast_numel(&t.shape(), &m.shape()), || t.masked_select(&m)))
    }
    fn r#where(&self, condition: &Bound<'_, PyAny>, other: &Bound<'_, PyAny>) -> PyResult<TensorObj> {
        let c = uint8_as_bool(condition.py(), to_tensor(condition)?, WHERE_UINT8)?;
        let (t, o) = (&self.t, to_arg(other)?);
        let work = bcast_numel(&c.shape(), &t.shape()).max(numel2(t, &o));
        wrap(heavy(condition.py(), work, || ferrotorch::ops::elementwise::where_args(&c, Arg::T(t), o.arg())))
    }
}

/// The work of `t[ix]` for `heavy`: a view (no tensor index) costs nothing; tensor indices
/// gather as many elements as they select, up to all of `t` (a mask) or more (repeats).
fn index_work(t: &Tensor, ix: &[TensorIndex]) -> usize {
    if !ix.iter().any(|i| matches!(i, TensorIndex::Tensor(_))) {
        return 0;
    }
    let entries = ix.iter().map(|i| if let TensorIndex::Tensor(x) = i { x.numel() } else { 1 }).fold(1usize, |a, b| a.saturating_mul(b));
    t.numel().max(entries)
}

/// A Python index expression (one item or a tuple of them) as the engine's indices: each
/// item converted by its Python type, then resolved by the core's rules. A uint8 tensor
/// item is taken as a bool mask with PyTorch's deprecation warning.
fn parse_index(py: Python<'_>, idx: &Bound<'_, PyAny>) -> PyResult<Vec<TensorIndex>> {
    let items: Vec<Bound<'_, PyAny>> = if idx.is_instance_of::<PyTuple>() {
        idx.cast::<PyTuple>()?.iter().collect()
    } else if let Some(items) = sequence_as_tuple(py, idx)? {
        items
    } else {
        vec![idx.clone()]
    };
    let mut out = Vec::with_capacity(items.len());
    for it in items {
        let item = if it.is_instance_of::<PyBool>() {
            IndexItem::Bool(it.extract()?)
        } else if it.is_instance_of::<PyInt>() {
            IndexItem::Int(it.extract()?)
        } else if let Ok(s) = it.cast::<PySlice>() {
            let get = |name: &str| -> PyResult<Option<i64>> {
                let v = s.getattr(name)?;
                if v.is_none() { Ok(None) } else { Ok(Some(slice_bound(py, &v)?)) }
            };
            let step = get("step")?;
            IndexItem::Slice(get("start")?, get("stop")?, step)
        } else if it.is_instance_of::<PyNone>() {
            IndexItem::None
        } else if it.is_instance_of::<PyEllipsis>() {
            IndexItem::Ellipsis
        } else if let Ok(t) = it.cast::<PyTensor>() {
            IndexItem::Tensor(t.get().t.clone())
        } else if it.is_instance_of::<PyString>() || it.is_instance_of::<PyBytes>() || it.is_instance_of::<PyByteArray>() {
            // sequences, but never index data (PyTorch's tensor parser refuses them)
            return Err(PyTypeError::new_err(format!("new(): invalid data type '{}'", it.get_type().name()?)));
        } else if is_sequence(&it) || it.hasattr("__array_interface__")? {
            // Any sequence (list, tuple, range, array...) is index data, as PyTorch's
            // sequenceToVariable; the data parser reads lists, tuples and arrays, so other
            // sequences (range, deque...) become a list first.
            let plain = it.is_instance_of::<PyList>() || it.is_instance_of::<PyTuple>() || it.hasattr("__array_interface__")?;
            let data = if plain { it.clone() } else { py.get_type::<PyList>().call1((&it,))? };
            IndexItem::Data(data::tensor_from_data(&data, None)?)
        } else if let Ok(i) = to_index(&it) {
            IndexItem::Int(i)
        } else {
            return Err(PyIndexError::new_err(format!(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices (got {})",
                it.get_type().name()?
            )));
        };
        let r = item.resolve().py()?;
        if r.was_uint8 {
            warn_uint8(py, INDEX_UINT8)?;
        }
        out.push(r.index);
    }
    Ok(out)
}

/// Python's sequence protocol (`PySequence_Check`, as PyTorch's indexing tests it): lists,
/// tuples, ranges, strings, arrays, any class with `__getitem__` that is not a dict.
fn is_sequence(obj: &Bound<'_, PyAny>) -> bool {
    // SAFETY: `obj` is a live object (borrowed for the call); PySequence_Check only reads
    // its type's slots and cannot fail.
    unsafe { pyo3::ffi::PySequence_Check(obj.as_ptr()) == 1 }
}

/// PyTorch's (and old NumPy's) legacy rule for a non-tuple sequence index (`treatSequenceAsTuple`):
/// a short one (< 32 items) holding a tensor, a sequence, a slice, `...` or None is read as a
/// tuple of indices, with PyTorch's deprecation warning (`x[[0, slice(None)]]` is `x[0, :]`,
/// `x[[[0, 1], [1, 2]]]` is `x[[0, 1], [1, 2]]`). Anything else (a list or range of ints, an
/// array) stays one index. Returns the items to index with, or None.
fn sequence_as_tuple<'py>(py: Python<'py>, idx: &Bound<'py, PyAny>) -> PyResult<Option<Vec<Bound<'py, PyAny>>>> {
    if idx.cast::<PyTensor>().is_ok() || idx.hasattr("__array_interface__")? || !is_sequence(idx) {
        return Ok(None);
    }
    let Ok(n) = idx.len() else {
        return Ok(None);
    };
    if n >= 32 {
        return Ok(None);
    }
    let mut items = Vec::with_capacity(n);
    let mut as_tuple = false;
    for i in 0..n {
        let Ok(it) = idx.get_item(i) else {
            return Ok(None);
        };
        as_tuple |= it.cast::<PyTensor>().is_ok() || is_sequence(&it) || it.is_instance_of::<PySlice>()
            || it.is_instance_of::<PyNone>() || it.is_instance_of::<PyEllipsis>();
        items.push(it);
    }
    if !as_tuple {
        return Ok(None);
    }
    PyErr::warn(py, &py.get_type::<pyo3::exceptions::PyUserWarning>(), SEQUENCE_AS_TUPLE, 1)?;
    Ok(Some(items))
}

const SEQUENCE_AS_TUPLE: &std::ffi::CStr = c"Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted as tensor index, x[torch.tensor(seq)], which will result either in an error or a different result";

/// A slice bound as PyTorch reads it (`__PySlice_Unpack`): any integer, clamped to the
/// int64 range (`x[0:2**70]` is all of the dim), and below PyTorch's smallest symbolic
/// int (-2**62) clamped there with its warning.
fn slice_bound(py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<i64> {
    const MIN: i64 = -(1 << 62);
    let i = match to_index(v) {
        Ok(i) => i,
        Err(_) => {
            let i = v.call_method0("__index__").map_err(|_| PyTypeError::new_err("slice indices must be integers or None or have an __index__ method"))?;
            if i.lt(0)? { i64::MIN } else { i64::MAX }
        }
    };
    if i < MIN {
        PyErr::warn(py, &py.get_type::<pyo3::exceptions::PyUserWarning>(), c"Truncating the start/stop/step of slice. This is likely because of saved old models when the start/stop/step were larger.", 1)?;
        return Ok(MIN);
    }
    Ok(i)
}

/// scatter's source: `src` (a tensor or a number) or the keyword `value`.
fn scatter_src(src: Option<&Bound<'_, PyAny>>, value: Option<&Bound<'_, PyAny>>) -> PyResult<ArgOwned> {
    let s = src.or(value).ok_or_else(|| PyTypeError::new_err("scatter() missing 'src' or 'value'"))?;
    to_arg(s)
}

/// `nonzero(as_tuple=True)`, also `torch.where(condition)`: one index tensor per dim. A
/// 0-d input behaves as if it were 1-d: one index column, [0] or [].
pub(crate) fn nonzero_tuple(py: Python<'_>, t: &Tensor) -> PyResult<Py<PyAny>> {
    let cols: Vec<Tensor> = heavy(py, t.numel(), || {
        let nz = if t.ndim() == 0 { t.reshape(&[1]).and_then(|x| x.nonzero()) } else { t.nonzero() }?;
        (0..t.ndim().max(1)).map(|k| nz.select(1, k as i64).and_then(|c| c.contiguous())).collect::<ferrotorch::Result<_>>()
    })
    .py()?;
    let cols: Vec<TensorObj> = cols.into_iter().map(PyTensor::new).collect();
    Ok(PyTuple::new(py, cols)?.into_any().unbind())
}

/// A mask argument (`where`'s condition): a uint8 tensor is taken as a bool mask (the
/// core's `uint8_mask`), with PyTorch's deprecation warning.
pub(crate) fn uint8_as_bool(py: Python<'_>, t: Tensor, warning: &std::ffi::CStr) -> PyResult<Tensor> {
    let (t, was_uint8) = ferrotorch::ops::index::uint8_mask(t).py()?;
    if was_uint8 {
        warn_uint8(py, warning)?;
    }
    Ok(t)
}

fn warn_uint8(py: Python<'_>, warning: &std::ffi::CStr) -> PyResult<()> {
    PyErr::warn(py, &py.get_type::<pyo3::exceptions::PyUserWarning>(), warning, 1)
}

pub(crate) const WHERE_UINT8: &std::ffi::CStr = c"where received a uint8 condition tensor. This behavior is deprecated and will be removed in a future version of PyTorch. Use a boolean condition instead.";
const INDEX_UINT8: &std::ffi::CStr = c"indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool instead.";

/// `index_put(input, indices, values, accumulate)` and its in-place form, behind
/// `Tensor.index_put(_)` / `torch.index_put(_)` (`_indexing.py` checks the argument types,
/// as PyTorch's parser: `indices` a sequence of tensors, `values` a tensor).
#[pyfunction]
pub fn _index_put(input: &Bound<'_, PyTensor>, indices: &Bound<'_, PyTuple>, values: &Bound<'_, PyTensor>, accumulate: bool, inplace: bool) -> PyResult<Py<PyAny>> {
    let py = input.py();
    let ix = parse_index(py, indices)?;
    let (t, v) = (input.get().t.clone(), values.get().t.clone());
    let work = t.numel().max(v.numel());
    if inplace {
        heavy(py, work, || t.index_put_accumulate_(&ix, &v, accumulate)).py()?;
        return Ok(input.clone().into_any().unbind());
    }
    Ok(PyTensor::new(heavy(py, work, || t.index_put_accumulate(&ix, &v, accumulate)).py()?).into_pyobject(py)?.into_any().unbind())
}
