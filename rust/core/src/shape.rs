//! Shapes, strides, layouts and broadcasting. All sizes and strides are in elements.

use crate::error::Result;
use crate::{bail, err};

pub use crate::dims::Dims;
pub type Shape = Dims;

/// Row-major strides of a contiguous tensor of `shape`.
pub fn contiguous_strides(shape: &[usize]) -> Dims {
    let mut strides = Dims::zeros(shape.len());
    let mut acc = 1usize;
    for i in (0..shape.len()).rev() {
        strides[i] = acc;
        acc = acc.saturating_mul(shape[i].max(1));
    }
    strides
}

pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Checked element count: errors on overflow instead of wrapping.
pub fn checked_numel(shape: &[usize]) -> Result<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).ok_or_else(|| {
        err!(Runtime, "Storage size calculation overflowed with sizes={}", fmt_shape(shape))
    })
}

/// "[2, 3]" as PyTorch prints sizes in messages.
pub fn fmt_shape(shape: &[usize]) -> String {
    format!("[{}]", shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "))
}

/// Wrap a possibly negative dim into `0..ndim` (PyTorch's maybe_wrap_dim). A 0-d tensor
/// accepts dims -1 and 0.
pub fn wrap_dim(dim: i64, ndim: usize) -> Result<usize> {
    let n = ndim.max(1) as i64;
    if dim < -n || dim >= n {
        bail!(
            Index,
            "Dimension out of range (expected to be in range of [{}, {}], but got {})",
            -n,
            n - 1,
            dim
        );
    }
    Ok(if dim < 0 { (dim + n) as usize } else { dim as usize })
}

/// `wrap_dim` for ops that index a real dim (`size(d)`, `stride(d)`): a 0-d tensor has
/// none, PyTorch's IndexError, where `wrap_dim` lets 0 and -1 through for reductions.
pub fn wrap_dim_of_sizes(dim: i64, ndim: usize) -> Result<usize> {
    if ndim == 0 {
        bail!(Index, "Dimension specified as {} but tensor has no dimensions", dim);
    }
    wrap_dim(dim, ndim)
}

/// Wrap a list of dims, rejecting repeats.
pub fn wrap_dims(dims: &[i64], ndim: usize) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(dims.len());
    for &d in dims {
        let w = wrap_dim(d, ndim)?;
        if out.contains(&w) {
            bail!(Runtime, "dim {} appears multiple times in the list of dims", w);
        }
        out.push(w);
    }
    Ok(out)
}

/// Broadcast two shapes (NumPy rules).
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Result<Shape> {
    let n = a.len().max(b.len());
    let mut out = Dims::zeros(n);
    for i in 0..n {
        let da = if i + a.len() >= n { a[i + a.len() - n] } else { 1 };
        let db = if i + b.len() >= n { b[i + b.len() - n] } else { 1 };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            bail!(
                Runtime,
                "The size of tensor a ({}) must match the size of tensor b ({}) at non-singleton dimension {}",
                da,
                db,
                i
            );
        };
    }
    Ok(out)
}

/// Shape, strides and storage offset of a tensor view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub shape: Shape,
    pub strides: Dims,
    pub offset: usize,
}

impl Layout {
    pub fn contiguous(shape: &[usize]) -> Layout {
        Layout { shape: Dims::from_slice(shape), strides: contiguous_strides(shape), offset: 0 }
    }
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }
    pub fn numel(&self) -> usize {
        numel(&self.shape)
    }
    /// PyTorch's is_contiguous: strides of size-1 dims are ignored.
    pub fn is_contiguous(&self) -> bool {
        if self.shape.contains(&0) {
            return true;
        }
        let mut expected = 1usize;
        for i in (0..self.shape.len()).rev() {
            let d = self.shape[i];
            if d == 1 {
                continue;
            }
            if d == 0 {
                return true;
            }
            if self.strides[i] != expected {
                return false;
            }
            expected *= d;
        }
        true
    }
    /// Largest element offset reachable + 1 (storage elements needed).
    pub fn required_len(&self) -> usize {
        self.checked_required_len().unwrap_or(usize::MAX)
    }
    /// `required_len`, or None when it does not fit a usize (user-given sizes and
    /// strides, as in `as_strided`, can overflow; a wrapped length would pass a bounds
    /// check it must fail).
    pub fn checked_required_len(&self) -> Option<usize> {
        if self.shape.contains(&0) {
            return Some(self.offset);
        }
        self.shape.iter().zip(&self.strides).try_fold(self.offset.checked_add(1)?, |acc, (&d, &s)| acc.checked_add((d - 1).checked_mul(s)?))
    }
    /// View of this layout broadcast to `shape` (stride 0 on broadcast dims).
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Layout> {
        if *self.shape == *shape {
            return Ok(self.clone()); // the common case of every same-shape binary op
        }
        let n = shape.len();
        if self.ndim() > n {
            bail!(
                Runtime,
                "The expanded size of the tensor ({}) must match the existing size ({}) at non-singleton dimension 0.  Target sizes: {}.  Tensor sizes: {}",
                n,
                self.ndim(),
                fmt_shape(shape),
                fmt_shape(&self.shape)
            );
        }
        let lead = n - self.ndim();
        let mut strides = Dims::zeros(n);
        for i in 0..n {
            if i < lead {
                continue;
            }
            let (d, s) = (self.shape[i - lead], self.strides[i - lead]);
            if d == shape[i] {
                strides[i] = s;
            } else if d == 1 {
                strides[i] = 0;
            } else {
                bail!(
                    Runtime,
                    "The expanded size of the tensor ({}) must match the existing size ({}) at non-singleton dimension {}.  Target sizes: {}.  Tensor sizes: {}",
                    shape[i],
                    d,
                    i,
                    fmt_shape(shape),
                    fmt_shape(&self.shape)
                );
            }
        }
        Ok(Layout { shape: Dims::from_slice(shape), strides, offset: self.offset })
    }
    pub fn transpose(&self, d0: usize, d1: usize) -> Layout {
        let mut l = self.clone();
        l.shape.swap(d0, d1);
        l.strides.swap(d0, d1);
        l
    }
    pub fn permute(&self, perm: &[usize]) -> Layout {
        Layout {
            shape: perm.iter().map(|&p| self.shape[p]).collect(),
            strides: perm.iter().map(|&p| self.strides[p]).collect(),
            offset: self.offset,
        }
    }
    pub fn narrow(&self, dim: usize, start: usize, len: usize) -> Layout {
        let mut l = self.clone();
        l.offset += start * l.strides[dim];
        l.shape[dim] = len;
        l
    }
    pub fn select(&self, dim: usize, index: usize) -> Layout {
        let mut l = self.clone();
        l.offset += index * l.strides[dim];
        l.shape.remove(dim);
        l.strides.remove(dim);
        l
    }
    /// Strided slice along one dim: elements start, start+step, ... (< stop).
    pub fn slice(&self, dim: usize, start: usize, stop: usize, step: usize) -> Layout {
        let mut l = self.clone();
        let len = if stop > start { (stop - start).div_ceil(step) } else { 0 };
        l.offset += start * l.strides[dim];
        l.shape[dim] = len;
        // A step past the dim's size (`x[::2**62]`) leaves at most one element, whose stride
        // is never used: where the product would not fit (in bytes, as an isize), the old
        // stride stays. With two or more elements the product is within the storage.
        l.strides[dim] = match l.strides[dim].checked_mul(step) {
            Some(s) if len > 1 || s <= isize::MAX as usize / 16 => s,
            _ => l.strides[dim],
        };
        l
    }
    /// This layout, a 0-d one seen as shape [1]: kernels that walk a dim (reductions,
    /// sort, gather, softmax) treat a scalar as a one-element row, as PyTorch does.
    pub fn at_least_1d(&self) -> Layout {
        if self.ndim() == 0 { self.unsqueeze(0) } else { self.clone() }
    }
    pub fn unsqueeze(&self, dim: usize) -> Layout {
        let mut l = self.clone();
        let st = if dim < l.ndim() { l.strides[dim] * l.shape[dim] } else { 1 };
        l.shape.insert(dim, 1);
        l.strides.insert(dim, st);
        l
    }
    /// Strides for viewing this layout as `shape` without copying, if possible
    /// (PyTorch's computeStride). None means a copy is needed.
    pub fn view_strides(&self, new_shape: &[usize]) -> Option<Dims> {
        let old_shape = &self.shape;
        let old_strides = &self.strides;
        let mut new_strides = Dims::zeros(new_shape.len());
        if old_shape.is_empty() {
            return Some(Dims::filled(1, new_shape.len()));
        }
        let numel = numel(old_shape);
        if numel == 0 && old_shape == new_shape {
            return Some(old_strides.clone());
        }
        if numel == 0 {
            return Some(contiguous_strides(new_shape));
        }
        let mut view_d = new_shape.len() as isize - 1;
        let mut chunk_base_stride = *old_strides.last().unwrap();
        let mut tensor_numel = 1usize;
        let mut view_numel = 1usize;
        for tensor_d in (0..old_shape.len()).rev() {
            tensor_numel *= old_shape[tensor_d];
            if tensor_d == 0
                || (old_shape[tensor_d - 1] != 1
                    && old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride)
            {
                while view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d as usize] == 1) {
                    new_strides[view_d as usize] = view_numel * chunk_base_stride;
                    view_numel *= new_shape[view_d as usize];
                    view_d -= 1;
                }
                if view_numel != tensor_numel {
                    return None;
                }
                if tensor_d > 0 {
                    chunk_base_stride = old_strides[tensor_d - 1];
                    tensor_numel = 1;
                    view_numel = 1;
                }
            }
        }
        if view_d != -1 {
            return None;
        }
        Some(new_strides)
    }
}

/// Sizes as a binding receives them (signed) for a new tensor: a negative one is PyTorch's
/// error, which names it and the whole list.
pub fn sizes_from_signed(raw: &[i64]) -> Result<Vec<usize>> {
    if let Some(&bad) = raw.iter().find(|&&d| d < 0) {
        bail!(Runtime, "Trying to create tensor with negative dimension {}: {:?}", bad, raw);
    }
    Ok(raw.iter().map(|&d| d as usize).collect())
}

/// Strides as a binding receives them (signed) for `empty_strided`/`as_strided`: negative
/// strides are PyTorch's error.
pub fn strides_from_signed(raw: &[i64]) -> Result<Vec<usize>> {
    if raw.iter().any(|&x| x < 0) {
        bail!(Runtime, "as_strided: Negative strides are not supported at the moment, got strides: {:?}", raw);
    }
    Ok(raw.iter().map(|&x| x as usize).collect())
}

/// Resolve a shape with at most one -1 against `numel` (view/reshape).
pub fn infer_shape(shape: &[i64], numel: usize) -> Result<Shape> {
    let mut infer = None;
    let mut known = 1usize;
    for (i, &d) in shape.iter().enumerate() {
        if d == -1 {
            if infer.is_some() {
                bail!(Runtime, "only one dimension can be inferred");
            }
            infer = Some(i);
        } else if d < 0 {
            bail!(Runtime, "invalid shape dimension {}", d);
        } else {
            known = known.checked_mul(d as usize).ok_or_else(|| err!(Runtime, "shape is too large"))?;
        }
    }
    let mut out: Shape = shape.iter().map(|&d| d.max(0) as usize).collect();
    let fmt = || format!("[{}]", shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "));
    match infer {
        Some(i) => {
            if known == 0 || !numel.is_multiple_of(known) {
                bail!(Runtime, "shape '{}' is invalid for input of size {}", fmt(), numel);
            }
            out[i] = numel / known;
        }
        None => {
            if known != numel {
                bail!(Runtime, "shape '{}' is invalid for input of size {}", fmt(), numel);
            }
        }
    }
    Ok(out)
}
