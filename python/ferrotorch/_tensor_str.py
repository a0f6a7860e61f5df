"""Tensor printing for ferrotorch, matching PyTorch's ``str(tensor)`` / ``repr(tensor)``.

This is a pure Python + NumPy port of the logic of PyTorch's ``torch/_tensor_str.py``
(``_Formatter`` with integer / fixed-point / scientific modes, summarisation, line
wrapping, nested brackets and the ``dtype=`` / ``device=`` / ``requires_grad=`` /
``grad_fn=`` suffixes).  It does not depend on the engine: the binding converts a
tensor to a NumPy array and calls :func:`format_tensor`.

Print options are module-level state with the same defaults as PyTorch and are
changed through :func:`set_printoptions`.
"""

import contextlib
import dataclasses
import math
from typing import Any, Dict

import numpy as np

__all__ = [
    "format_tensor",
    "set_printoptions",
    "get_printoptions",
    "printoptions",
    "PRINT_OPTS",
]


@dataclasses.dataclass
class __PrinterOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: Any = None  # Optional[bool]


PRINT_OPTS = __PrinterOptions()


def set_printoptions(
    precision=None,
    threshold=None,
    edgeitems=None,
    linewidth=None,
    profile=None,
    sci_mode=None,
):
    r"""Set options for printing (same semantics as ``torch.set_printoptions``).

    Args:
        precision: Number of digits of precision for floating point output
            (default = 4).
        threshold: Total number of array elements which trigger summarization
            rather than full ``repr`` (default = 1000).
        edgeitems: Number of array items in summary at beginning and end of
            each dimension (default = 3).
        linewidth: The number of characters per line for the purpose of
            inserting line breaks (default = 80). Thresholded matrices will
            ignore this parameter.
        profile: Sane defaults for pretty printing. Can override with any of
            the above options. (any one of ``default``, ``short``, ``full``)
        sci_mode: Enable (True) or disable (False) scientific notation. If
            None (default) is specified, the value is chosen automatically.
            Note that, as in PyTorch, every call resets ``sci_mode`` to the
            value passed (``None`` when omitted).
    """
    if profile is not None:
        if profile == "default":
            PRINT_OPTS.precision = 4
            PRINT_OPTS.threshold = 1000
            PRINT_OPTS.edgeitems = 3
            PRINT_OPTS.linewidth = 80
        elif profile == "short":
            PRINT_OPTS.precision = 2
            PRINT_OPTS.threshold = 1000
            PRINT_OPTS.edgeitems = 2
            PRINT_OPTS.linewidth = 80
        elif profile == "full":
            PRINT_OPTS.precision = 4
            PRINT_OPTS.threshold = math.inf
            PRINT_OPTS.edgeitems = 3
            PRINT_OPTS.linewidth = 80

    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> Dict[str, Any]:
    r"""Gets the current options for printing, as a dictionary that
    can be passed as ``**kwargs`` to :func:`set_printoptions`."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    r"""Context manager that temporarily changes the print options.  Accepted
    arguments are same as :func:`set_printoptions`."""
    old_kwargs = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old_kwargs)


# --------------------------------------------------------------------------- dtypes

_DTYPE_ALIASES = {
    "float": "float32",
    "double": "float64",
    "half": "float16",
    "cfloat": "complex64",
    "cdouble": "complex128",
    "chalf": "complex32",
    "long": "int64",
    "int": "int32",
    "short": "int16",
}

_FLOAT_DTYPES = {
    "float16",
    "bfloat16",
    "float32",
    "float64",
    "float8_e4m3fn",
    "float8_e4m3fnuz",
    "float8_e5m2",
    "float8_e5m2fnuz",
    "float8_e8m0fnu",
}

_COMPLEX_DTYPES = {"complex32", "complex64", "complex128"}


def _canonical_dtype(name) -> str:
    name = str(name)
    if name.startswith("torch."):
        name = name[len("torch.") :]
    return _DTYPE_ALIASES.get(name, name)


# ----------------------------------------------------------------------- formatter


class _Formatter:
    """Port of ``torch._tensor_str._Formatter``.

    ``values`` is a NumPy array (the possibly summarised data); ``floating`` says
    whether the tensor dtype is a floating point one.  The widths are computed from
    the extreme values instead of looping over every element: the width of each of
    the formatted representations used here is monotone in the value on each side
    of zero (fixed point / ``.0f``) or in the exponent (scientific), so the widest
    string is always produced by one of the extremes.
    """

    def __init__(self, values, floating):
        self.floating_dtype = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1

        flat = np.asarray(values).reshape(-1)

        if not self.floating_dtype:
            if flat.size == 0:
                return
            if flat.dtype == np.bool_:
                if not flat.all():
                    self.max_width = max(self.max_width, len("False"))
                else:
                    self.max_width = max(self.max_width, len("True"))
            else:
                for v in (flat.min(), flat.max()):
                    self.max_width = max(self.max_width, len(f"{int(v)}"))
            return

        flat = flat.astype(np.float64, copy=False)
        nonzero_finite_vals = flat[np.isfinite(flat) & (flat != 0)]

        if nonzero_finite_vals.size == 0:
            # no valid number, do nothing
            return

        nonzero_finite_abs = np.abs(nonzero_finite_vals)
        nonzero_finite_min = float(nonzero_finite_abs.min())
        nonzero_finite_max = float(nonzero_finite_abs.max())

        if np.any(nonzero_finite_vals != np.ceil(nonzero_finite_vals)):
            self.int_mode = False

        self.sci_mode = (
            nonzero_finite_max / nonzero_finite_min > 1000.0
            or nonzero_finite_max > 1.0e8
            or nonzero_finite_min < 1.0e-4
            if PRINT_OPTS.sci_mode is None
            else PRINT_OPTS.sci_mode
        )

        # Extremes on each side of zero cover the widest representation.
        pos = nonzero_finite_vals[nonzero_finite_vals > 0]
        neg = nonzero_finite_vals[nonzero_finite_vals < 0]
        candidates = []
        if pos.size:
            candidates += [float(pos.min()), float(pos.max())]
        if neg.size:
            candidates += [float(neg.min()), float(neg.max())]

        precision = PRINT_OPTS.precision
        if self.sci_mode:
            for value in candidates:
                value_str = f"{{:.{precision}e}}".format(value)
                self.max_width = max(self.max_width, len(value_str))
        elif self.int_mode:
            # in int_mode for floats, all numbers are integers, and we append a
            # decimal to nonfinites to indicate that the tensor is of floating type.
            # add 1 to the len to account for this.
            for value in candidates:
                value_str = f"{value:.0f}"
                self.max_width = max(self.max_width, len(value_str) + 1)
        else:
            for value in candidates:
                value_str = f"{{:.{precision}f}}".format(value)
                self.max_width = max(self.max_width, len(value_str))

    def width(self):
        return self.max_width

    def format(self, value):
        if self.floating_dtype:
            value = float(value)
            if self.sci_mode:
                ret = f"{{:{self.max_width}.{PRINT_OPTS.precision}e}}".format(value)
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{{:.{PRINT_OPTS.precision}f}}".format(value)
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _complex_str(val, formatter1, formatter2):
    real_str = formatter1.format(val.real)
    imag_str = (formatter2.format(val.imag) + "j").lstrip()
    # handles negative numbers, +0.0, -0.0
    if imag_str[0] == "+" or imag_str[0] == "-":
        return real_str + imag_str
    else:
        return real_str + "+" + imag_str


def _scalar_str(self, formatter1, formatter2=None):
    val = self.item()
    if formatter2 is not None:
        return _complex_str(complex(val), formatter1, formatter2)
    return formatter1.format(val)


def _vector_str(self, indent, summarize, formatter1, formatter2=None):
    # length includes spaces and comma between elements
    element_length = formatter1.width() + 2
    if formatter2 is not None:
        # width for imag_formatter + an extra j for complex
        element_length += formatter2.width() + 1

    elements_per_line = max(
        1, math.floor((PRINT_OPTS.linewidth - indent) / (element_length))
    )

    if formatter2 is not None:

        def _val_formatter(val):
            return _complex_str(complex(val), formatter1, formatter2)

    else:
        _val_formatter = formatter1.format

    edgeitems = PRINT_OPTS.edgeitems
    if summarize and not edgeitems:
        # Deal with edge case that negative zero is zero
        data = ["..."]
    elif summarize and self.shape[0] > 2 * edgeitems:
        data = (
            [_val_formatter(val) for val in self[:edgeitems].tolist()]
            + [" ..."]
            + [_val_formatter(val) for val in self[-edgeitems:].tolist()]
        )
    else:
        data = [_val_formatter(val) for val in self.tolist()]

    data_lines = [
        data[i : i + elements_per_line] for i in range(0, len(data), elements_per_line)
    ]
    lines = [", ".join(line) for line in data_lines]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with_formatter(self, indent, summarize, formatter1, formatter2=None):
    dim = self.ndim

    if dim == 0:
        return _scalar_str(self, formatter1, formatter2)

    if dim == 1:
        return _vector_str(self, indent, summarize, formatter1, formatter2)

    edgeitems = PRINT_OPTS.edgeitems
    n = self.shape[0]
    if summarize and n > 2 * edgeitems:
        slices = (
            [
                _tensor_str_with_formatter(
                    self[i], indent + 1, summarize, formatter1, formatter2
                )
                for i in range(edgeitems)
            ]
            + ["..."]
            + [
                _tensor_str_with_formatter(
                    self[i], indent + 1, summarize, formatter1, formatter2
                )
                for i in range(n - edgeitems, n)
            ]
        )
    else:
        slices = [
            _tensor_str_with_formatter(
                self[i], indent + 1, summarize, formatter1, formatter2
            )
            for i in range(n)
        ]

    tensor_str = ("," + "\n" * (dim - 1) + " " * (indent + 1)).join(slices)
    return "[" + tensor_str + "]"


class _ManyDims:
    """Values of a tensor with more dims than a NumPy array can have (64): the array of
    its values without the size-1 dims (a non-empty tensor has at most 63 others) and the
    full shape. Indexing steps through the full shape and gives a NumPy array again once
    few enough dims are left, so the printing code below runs unchanged on it, as
    PyTorch's prints such a tensor."""

    def __init__(self, arr, shape):
        self.arr, self.shape = arr, tuple(shape)
        self.ndim, self.size = len(self.shape), arr.size

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, i):
        sub = self.arr if self.shape[0] == 1 else self.arr[i]
        rest = self.shape[1:]
        return sub.reshape(rest) if len(rest) <= _NP_MAXDIMS else _ManyDims(sub, rest)

    def __array__(self, dtype=None, copy=None):
        return self.arr if dtype is None else self.arr.astype(dtype)


_NP_MAXDIMS = 64


def _get_summarized_data(self):
    if isinstance(self, _ManyDims):
        # size-1 dims are never summarized, and only the values are used
        return _get_summarized_data(self.arr)
    dim = self.ndim
    edgeitems = PRINT_OPTS.edgeitems
    if dim == 0:
        return self
    if dim == 1:
        if self.shape[0] > 2 * edgeitems:
            # NB: like torch, self[-0:] is the whole tensor when edgeitems == 0
            return np.concatenate((self[:edgeitems], self[-edgeitems:]))
        else:
            return self
    if not edgeitems:
        return np.empty([0] * dim, dtype=self.dtype)
    elif self.shape[0] > 2 * edgeitems:
        start = [self[i] for i in range(edgeitems)]
        end = [self[i] for i in range(len(self) - edgeitems, len(self))]
        return np.stack([_get_summarized_data(x) for x in (start + end)])
    else:
        return np.stack([_get_summarized_data(x) for x in self])


def _tensor_str(self, indent, floating, is_complex):
    if self.size == 0:
        return "[]"

    summarize = self.size > PRINT_OPTS.threshold

    if is_complex:
        data = _get_summarized_data(self) if summarize else self
        real_formatter = _Formatter(data.real, True)
        imag_formatter = _Formatter(data.imag, True)
        return _tensor_str_with_formatter(
            self, indent, summarize, real_formatter, imag_formatter
        )
    else:
        formatter = _Formatter(
            _get_summarized_data(self) if summarize else self, floating
        )
        return _tensor_str_with_formatter(self, indent, summarize, formatter)


def _add_suffixes(tensor_str, suffixes, indent, force_newline):
    tensor_strs = [tensor_str]
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        suffix_len = len(suffix)
        if force_newline or last_line_len + suffix_len + 2 > PRINT_OPTS.linewidth:
            tensor_strs.append(",\n" + " " * indent + suffix)
            last_line_len = indent + suffix_len
            force_newline = False
        else:
            tensor_strs.append(", " + suffix)
            last_line_len += suffix_len + 2
    tensor_strs.append(")")
    return "".join(tensor_strs)


_INT_DTYPES = {
    "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
}


def _prepare_values(values, dtype_name):
    """(array, floating, is_complex) for formatting ``dtype_name`` values."""
    if isinstance(values, _ManyDims):
        arr, floating, is_complex = _prepare_values(values.arr, dtype_name)
        return _ManyDims(arr, values.shape), floating, is_complex
    arr = np.asarray(values)
    if dtype_name == "bool":
        return arr.astype(np.bool_, copy=False), False, False
    if dtype_name in _INT_DTYPES:
        if not np.issubdtype(arr.dtype, np.integer):
            arr = arr.astype(np.int64)
        return arr, False, False
    if dtype_name in _COMPLEX_DTYPES or (
        dtype_name not in _FLOAT_DTYPES and np.iscomplexobj(arr)
    ):
        return arr.astype(np.complex128, copy=False), True, True
    if dtype_name in _FLOAT_DTYPES or np.issubdtype(arr.dtype, np.floating):
        # float16 / bfloat16 / float32 -> float64 is exact, so the Python floats
        # produced below are the same ones ``Tensor.tolist()`` / ``item()`` give.
        return arr.astype(np.float64, copy=False), True, False
    # unknown non-floating dtype name: print the values as they are
    return arr, False, False


def format_tensor(
    values,
    dtype_name,
    *,
    default_dtype_name="float32",
    device="cpu",
    requires_grad=False,
    grad_fn_name=None,
    prefix="tensor(",
) -> str:
    """Return PyTorch's ``repr`` of a tensor.

    Args:
        values: NumPy array of the tensor's values (its shape is the tensor's
            shape).  float16 / bfloat16 values may be given as float32, bool as
            ``np.bool_`` and integers as their NumPy integer type.
        dtype_name: the tensor's dtype name (``"float32"``, ``"int32"``, ``"bool"``,
            ``"bfloat16"``, ...; a ``"torch."`` prefix and the usual aliases such as
            ``"float"`` / ``"long"`` are accepted).
        default_dtype_name: the current default floating dtype.
        device: the tensor's device string (``"cpu"``, ``"cuda:0"``, ...).
        requires_grad: whether the tensor requires grad (printed only when it has
            no ``grad_fn``).
        grad_fn_name: the class name of the tensor's ``grad_fn`` (e.g.
            ``"AddBackward0"``) or ``None``.
        prefix: the text before the data, ``"tensor("`` for plain tensors.
    """
    dtype_name = _canonical_dtype(dtype_name)
    default_dtype_name = _canonical_dtype(default_dtype_name)
    arr, floating, is_complex = _prepare_values(values, dtype_name)

    indent = len(prefix)
    suffixes = []

    device = str(device) if device is not None else "cpu"
    if device == "cuda":
        device = "cuda:0"
    if device != "cpu":
        suffixes.append("device='" + device + "'")

    default_complex = "complex128" if default_dtype_name == "float64" else "complex64"
    has_default_dtype = dtype_name in (
        default_dtype_name,
        default_complex,
        "int64",
        "bool",
    )

    if arr.size == 0:
        # Explicitly print the shape if it is not (0,), to match NumPy behavior
        if arr.ndim != 1:
            suffixes.append("size=" + str(tuple(int(s) for s in arr.shape)))
        # In an empty tensor, there are no elements to infer if the dtype
        # should be int64, so it must be shown explicitly.
        if dtype_name != default_dtype_name:
            suffixes.append("dtype=torch." + dtype_name)
        tensor_str = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append("size=" + str(tuple(int(s) for s in arr.shape)))
        if not has_default_dtype:
            suffixes.append("dtype=torch." + dtype_name)
        tensor_str = _tensor_str(arr, indent, floating, is_complex)

    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")

    return _add_suffixes(prefix + tensor_str, suffixes, indent, force_newline=False)


def _repr(t):
    """repr(tensor): gather values through NumPy and format them as PyTorch does."""
    import numpy as _np
    from . import _C
    d = t.detach().cpu()
    name = str(t.dtype).split(".")[-1]
    shape = tuple(d.shape)
    if len(shape) > _NP_MAXDIMS:
        d = d.reshape([n for n in shape if n != 1] if d.numel() else [0])
    if name == "bfloat16":
        values = d.float().numpy()
    else:
        values = d.numpy()
    values = _np.asarray(values)
    if len(shape) > _NP_MAXDIMS:
        values = _ManyDims(values, shape)
    gf = t.grad_fn
    prefix = "tensor("
    out = format_tensor(
        values, name,
        default_dtype_name=str(_C.get_default_dtype()).split(".")[-1],
        device=str(t.device),
        requires_grad=bool(t.requires_grad and gf is None),
        grad_fn_name=gf.name() if gf is not None else None,
        prefix=prefix,
    )
    if type(t).__name__ == "Parameter":
        return "Parameter containing:\n" + out
    return out
