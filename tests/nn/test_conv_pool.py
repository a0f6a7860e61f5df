"""Convolution, pooling, fold/unfold, pixel shuffle, interpolation and padding layers.

Forward results are checked against NumPy float64 references written here from the definitions
(explicit loops over output positions and kernel offsets), gradients with gradcheck, errors by
exception type and message.
"""
import itertools
import math

import numpy as np
import pytest

import ferrotorch as torch
import ferrotorch.nn as nn
import ferrotorch.nn.functional as F

RNG = np.random.default_rng(1234)
DTYPES = [(torch.float32, np.float32, 1e-4), (torch.float64, np.float64, 1e-10)]


def rand(*shape):
    return RNG.standard_normal(shape)


def T(a, dtype=torch.float64, grad=False):
    t = torch.tensor(np.ascontiguousarray(a), dtype=dtype)
    return t.requires_grad_(True) if grad else t


def noncontig(a, dtype):
    """The same values as ``a`` held by a transposed (non-contiguous) view."""
    t = torch.tensor(np.ascontiguousarray(np.swapaxes(a, -1, -2)), dtype=dtype).transpose(-1, -2)
    assert not t.is_contiguous()
    return t


def close(t, ref, tol):
    got = t.detach().to(torch.float64).numpy()
    assert got.shape == ref.shape, (got.shape, ref.shape)
    np.testing.assert_allclose(got, ref, rtol=tol * 10, atol=tol * 10)


# ---- NumPy references (definitions, explicit loops) -------------------------------------------
def ref_conv(x, w, b, stride, padding, dilation, groups):
    nd = x.ndim - 2
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding])
    n, o_ch, cg, k = x.shape[0], w.shape[0], w.shape[1], w.shape[2:]
    out_sp = [(xp.shape[2 + i] - dilation[i] * (k[i] - 1) - 1) // stride[i] + 1 for i in range(nd)]
    out = np.zeros((n, o_ch, *out_sp))
    og = o_ch // groups
    for o in range(o_ch):
        g = o // og
        for pos in np.ndindex(*out_sp):
            acc = np.zeros(n)
            for kk in np.ndindex(*k):
                idx = tuple(pos[i] * stride[i] + kk[i] * dilation[i] for i in range(nd))
                acc += xp[(slice(None), slice(g * cg, (g + 1) * cg)) + idx] @ w[(o, slice(None)) + kk]
            out[(slice(None), o) + pos] = acc + (0 if b is None else b[o])
    return out


def ref_conv_transpose(x, w, b, stride, padding, output_padding, dilation, groups):
    nd = x.ndim - 2
    n, cin, og, k = x.shape[0], x.shape[1], w.shape[1], w.shape[2:]
    cg = cin // groups
    in_sp = x.shape[2:]
    full = [(in_sp[i] - 1) * stride[i] + dilation[i] * (k[i] - 1) + 1 + output_padding[i] for i in range(nd)]
    out = np.zeros((n, groups * og, *full))
    for c in range(cin):
        g = c // cg
        for pos in np.ndindex(*in_sp):
            for kk in np.ndindex(*k):
                idx = tuple(pos[i] * stride[i] + kk[i] * dilation[i] for i in range(nd))
                out[(slice(None), slice(g * og, (g + 1) * og)) + idx] += \
                    x[(slice(None), c) + pos][:, None] * w[(c, slice(None)) + kk][None, :]
    out = out[(slice(None), slice(None)) + tuple(slice(p, f - p) for p, f in zip(padding, full))]
    if b is not None:
        out = out + b.reshape(-1, *([1] * nd))
    return out


def pool_out_size(n, k, s, p, d, ceil_mode):
    """PyTorch's documented output size (a ceil-mode window must start inside input + left pad)."""
    eff = d * (k - 1) + 1
    if ceil_mode:
        o = -(-(n + 2 * p - eff) // s) + 1
        if (o - 1) * s >= n + p:
            o -= 1
    else:
        o = (n + 2 * p - eff) // s + 1
    return o


def ref_max_pool(x, k, s, p, d, ceil_mode):
    nd = len(k)
    sp = x.shape[2:]
    out_sp = [pool_out_size(sp[i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(nd)]
    vals = np.zeros(x.shape[:2] + tuple(out_sp))
    inds = np.zeros(x.shape[:2] + tuple(out_sp), dtype=np.int64)
    for nc in np.ndindex(*x.shape[:2]):
        for pos in np.ndindex(*out_sp):
            best, bi = -np.inf, None
            for kk in np.ndindex(*k):
                idx = tuple(pos[i] * s[i] - p[i] + kk[i] * d[i] for i in range(nd))
                if all(0 <= idx[i] < sp[i] for i in range(nd)):
                    v = x[nc + idx]
                    if bi is None or v > best:
                        best, bi = v, int(np.ravel_multi_index(idx, sp))
            vals[nc + pos], inds[nc + pos] = best, bi
    return vals, inds


def ref_avg_pool(x, k, s, p, ceil_mode, count_include_pad, divisor_override=None):
    nd = len(k)
    sp = x.shape[2:]
    out_sp = [pool_out_size(sp[i], k[i], s[i], p[i], 1, ceil_mode) for i in range(nd)]
    out = np.zeros(x.shape[:2] + tuple(out_sp))
    for pos in np.ndindex(*out_sp):
        start = [pos[i] * s[i] - p[i] for i in range(nd)]
        end = [min(start[i] + k[i], sp[i] + p[i]) for i in range(nd)]
        lo = [max(v, 0) for v in start]
        hi = [min(end[i], sp[i]) for i in range(nd)]
        window = x[(slice(None), slice(None)) + tuple(slice(a, b) for a, b in zip(lo, hi))]
        if divisor_override:
            div = divisor_override
        elif count_include_pad:
            div = math.prod(e - a for a, e in zip(start, end))
        else:
            div = math.prod(b - a for a, b in zip(lo, hi))
        out[(slice(None), slice(None)) + pos] = window.sum(axis=tuple(range(2, 2 + nd))) / div
    return out


def ref_adaptive(x, osz, kind):
    nd = len(osz)
    sp = x.shape[2:]
    out = np.zeros(x.shape[:2] + tuple(osz))
    inds = np.zeros(x.shape[:2] + tuple(osz), dtype=np.int64)
    for pos in np.ndindex(*osz):
        lo = [pos[i] * sp[i] // osz[i] for i in range(nd)]
        hi = [-(-(pos[i] + 1) * sp[i] // osz[i]) for i in range(nd)]
        for nc in np.ndindex(*x.shape[:2]):
            win = x[nc + tuple(slice(a, b) for a, b in zip(lo, hi))]
            if kind == "avg":
                out[nc + pos] = win.mean()
            else:
                j = np.unravel_index(int(np.argmax(win)), win.shape)
                out[nc + pos] = win[j]
                inds[nc + pos] = np.ravel_multi_index(tuple(a + b for a, b in zip(lo, j)), sp)
    return out, inds


def ref_unfold(x, k, d, p, s):
    xp = np.pad(x, [(0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])])
    n, c = x.shape[:2]
    oh = (xp.shape[2] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (xp.shape[3] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.zeros((n, c * k[0] * k[1], oh * ow))
    for ci, i, j, a, b in itertools.product(range(c), range(k[0]), range(k[1]), range(oh), range(ow)):
        out[:, (ci * k[0] + i) * k[1] + j, a * ow + b] = xp[:, ci, a * s[0] + i * d[0], b * s[1] + j * d[1]]
    return out


def ref_fold(cols, osz, k, d, p, s):
    n, ckk, _ = cols.shape
    c = ckk // (k[0] * k[1])
    H, W = osz[0] + 2 * p[0], osz[1] + 2 * p[1]
    oh = (H - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (W - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.zeros((n, c, H, W))
    for ci, i, j, a, b in itertools.product(range(c), range(k[0]), range(k[1]), range(oh), range(ow)):
        out[:, ci, a * s[0] + i * d[0], b * s[1] + j * d[1]] += cols[:, (ci * k[0] + i) * k[1] + j, a * ow + b]
    return out[:, :, p[0]:p[0] + osz[0], p[1]:p[1] + osz[1]]


def ref_linear_1d(x, out_len, align_corners, scale=None):
    """Linear resampling of the last axis (PyTorch's source-index rule)."""
    n = x.shape[-1]
    out = np.zeros(x.shape[:-1] + (out_len,))
    for o in range(out_len):
        if align_corners:
            src = o * (n - 1) / (out_len - 1) if out_len > 1 else 0.0
        else:
            r = 1.0 / scale if scale else n / out_len
            src = max((o + 0.5) * r - 0.5, 0.0)
        i0 = min(int(math.floor(src)), n - 1)
        i1 = min(i0 + 1, n - 1)
        lam = src - i0
        out[..., o] = x[..., i0] * (1 - lam) + x[..., i1] * lam
    return out


# ---- convolution ------------------------------------------------------------------------------
CONV_CASES = [
    # (input shape, weight shape, stride, padding, dilation, groups, bias)
    ((2, 3, 9), (4, 3, 3), (1,), (0,), (1,), 1, True),
    ((2, 4, 11), (6, 2, 4), (2,), (3,), (2,), 2, False),
    ((2, 4, 7, 6), (6, 2, 3, 2), (2, 1), (1, 2), (1, 2), 2, True),
    ((1, 3, 6, 7), (5, 3, 3, 3), (1, 2), (0, 1), (2, 1), 1, True),
    ((3, 6, 5, 5), (6, 1, 3, 3), (1, 1), (1, 1), (1, 1), 6, False),   # depthwise
    ((1, 2, 5, 4, 5), (2, 2, 2, 3, 2), (1, 2, 1), (1, 1, 0), (1, 1, 2), 1, True),
]


@pytest.mark.parametrize("dtype,npdt,tol", DTYPES)
@pytest.mark.parametrize("xs,ws,stride,padding,dilation,groups,bias", CONV_CASES)
def test_conv_matches_direct_definition(xs, ws, stride, padding, dilation, groups, bias, dtype, npdt, tol):
    x, w = rand(*xs), rand(*ws)
    b = rand(ws[0]) if bias else None
    fn = {3: F.conv1d, 4: F.conv2d, 5: F.conv3d}[len(xs)]
    xa, wa = x.astype(npdt).astype(np.float64), w.astype(npdt).astype(np.float64)
    ba = None if b is None else b.astype(npdt).astype(np.float64)
    want = ref_conv(xa, wa, ba, stride, padding, dilation, groups)
    for xt in (T(x, dtype), noncontig(x, dtype)):
        out = fn(xt, T(w, dtype), None if b is None else T(b, dtype), stride, padding, dilation, groups)
        assert out.dtype == dtype
        close(out, want, tol)


def test_conv_int_args_unbatched_and_padding_strings():
    x, w, b = rand(3, 8, 7), rand(4, 3, 3, 2), rand(4)
    want = ref_conv(x[None], w, b, (2, 2), (1, 1), (1, 1), 1)[0]
    close(F.conv2d(T(x), T(w), T(b), stride=2, padding=1), want, 1e-10)
    close(F.conv2d(T(x), T(w), padding="valid"), ref_conv(x[None], w, None, (1, 1), (0, 0), (1, 1), 1)[0], 1e-10)
    # 'same' keeps the size; an odd total padding puts the extra element on the right.
    x1, w1 = rand(2, 3, 9), rand(2, 3, 4)
    out = F.conv1d(T(x1), T(w1), padding="same", dilation=1)
    full = ref_conv(np.pad(x1, [(0, 0), (0, 0), (1, 2)]), w1, None, (1,), (0,), (1,), 1)
    assert tuple(out.shape) == (2, 2, 9)
    close(out, full, 1e-10)
    out = F.conv2d(T(x[None]), T(w), padding="same", dilation=(2, 3))
    full = ref_conv(np.pad(x[None], [(0, 0), (0, 0), (2, 2), (1, 2)]), w, None, (1, 1), (0, 0), (2, 3), 1)
    close(out, full, 1e-10)


def test_conv2d_gradcheck():
    x, w, b = T(rand(1, 4, 4, 5), grad=True), T(rand(4, 2, 2, 3), grad=True), T(rand(4), grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: F.conv2d(x, w, b, (2, 1), 1, (1, 2), 2), (x, w, b))
    x1, w1 = T(rand(2, 3, 7), grad=True), T(rand(2, 3, 4), grad=True)
    assert torch.autograd.gradcheck(lambda x, w: F.conv1d(x, w, padding="same"), (x1, w1))
    x3, w3 = T(rand(1, 2, 3, 4, 3), grad=True), T(rand(2, 1, 2, 2, 2), grad=True)
    assert torch.autograd.gradcheck(lambda x, w: F.conv3d(x, w, None, 1, (1, 0, 1), 1, 2), (x3, w3))


def test_conv_large_kernel_uses_same_result():
    # 9x9 = 81 kernel offsets takes the unfold-view path; with grad it must agree with the definition.
    x, w = rand(1, 2, 12, 11), rand(3, 2, 9, 9)
    xt = T(x, grad=True)
    out = F.conv2d(xt, T(w), padding=2)
    close(out, ref_conv(x, w, None, (1, 1), (2, 2), (1, 1), 1), 1e-10)
    out.sum().backward()
    # d(sum)/dx at a position = sum of the weights (over output channels) of every window covering it
    gp = np.zeros((1, 2, 12 + 4, 11 + 4))
    for a, b_ in np.ndindex(*out.shape[2:]):
        gp[0, :, a:a + 9, b_:b_ + 9] += w.sum(0)
    close(xt.grad, gp[:, :, 2:-2, 2:-2], 1e-10)


CONVT_CASES = [
    # (input, weight, stride, padding, output_padding, dilation, groups, bias)
    ((2, 4, 3, 4), (4, 3, 3, 2), (2, 3), (1, 0), (1, 2), (1, 2), 2, True),
    ((1, 2, 4, 3), (2, 3, 2, 2), (1, 1), (0, 0), (0, 0), (1, 1), 1, False),
    ((2, 4, 5), (4, 2, 3), (3,), (2,), (1,), (1,), 1, True),
    ((1, 2, 3, 3, 2), (2, 2, 2, 2, 2), (2, 1, 2), (0, 1, 0), (1, 0, 0), (1, 1, 1), 1, True),
]


@pytest.mark.parametrize("dtype,npdt,tol", DTYPES)
@pytest.mark.parametrize("xs,ws,stride,padding,opad,dilation,groups,bias", CONVT_CASES)
def test_conv_transpose_matches_definition(xs, ws, stride, padding, opad, dilation, groups, bias, dtype, npdt, tol):
    x, w = rand(*xs), rand(*ws)
    b = rand(ws[1] * groups) if bias else None
    fn = {3: F.conv_transpose1d, 4: F.conv_transpose2d, 5: F.conv_transpose3d}[len(xs)]
    cast = lambda a: None if a is None else a.astype(npdt).astype(np.float64)  # noqa: E731
    want = ref_conv_transpose(cast(x), cast(w), cast(b), stride, padding, opad, dilation, groups)
    out = fn(noncontig(x, dtype), T(w, dtype), None if b is None else T(b, dtype), stride, padding, opad, groups,
             dilation)
    close(out, want, tol)


def test_conv_transpose_gradcheck_and_adjoint():
    x, w, b = T(rand(2, 4, 3, 3), grad=True), T(rand(4, 1, 3, 2), grad=True), T(rand(2), grad=True)
    fn = lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2,  # noqa: E731
                                            dilation=(1, 2))
    assert torch.autograd.gradcheck(fn, (x, w, b))
    # <conv(y, w), x> == <y, conv_transpose(x, w)> (the defining adjoint identity)
    y, xx, ww = rand(2, 3, 7, 8), rand(2, 4, 4, 5), rand(4, 3, 3, 2)
    lhs = (F.conv2d(T(y), T(ww), stride=2, padding=1).numpy() * xx).sum()
    rhs = (y * F.conv_transpose2d(T(xx), T(ww), stride=2, padding=1).numpy()).sum()
    assert abs(lhs - rhs) < 1e-9 * max(1.0, abs(lhs))


def test_conv_errors():
    x = T(rand(2, 4, 5, 5))
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got "
                                           r"input of size: \[4, 5\]"):
        F.conv2d(T(rand(4, 5)), T(rand(2, 4, 3, 3)))
    with pytest.raises(RuntimeError, match=r"expected input\[2, 4, 5, 5\] to have 3 channels, but got 4 channels"):
        F.conv2d(x, T(rand(2, 3, 3, 3)))
    with pytest.raises(RuntimeError, match="expected weight to be divisible by 2 at dimension 0"):
        F.conv2d(x, T(rand(3, 2, 3, 3)), groups=2)
    with pytest.raises(RuntimeError, match=r"Kernel size: \(7 x 7\). Kernel size can't be greater than actual"):
        F.conv2d(x, T(rand(2, 4, 7, 7)))
    with pytest.raises(RuntimeError, match="padding='same' is not supported for strided convolutions"):
        F.conv2d(x, T(rand(2, 4, 3, 3)), stride=2, padding="same")
    with pytest.raises(RuntimeError, match="Invalid padding string: 'foo'"):
        F.conv2d(x, T(rand(2, 4, 3, 3)), padding="foo")
    with pytest.raises(RuntimeError, match="non-positive stride is not supported"):
        F.conv2d(x, T(rand(2, 4, 3, 3)), stride=0)
    with pytest.raises(RuntimeError, match="negative padding is not supported"):
        F.conv2d(x, T(rand(2, 4, 3, 3)), padding=-1)
    with pytest.raises(RuntimeError, match="non-positive groups is not supported"):
        F.conv2d(x, T(rand(2, 4, 3, 3)), groups=0)
    with pytest.raises(RuntimeError, match="a list of 2 values to match the convolution dimensions"):
        F.conv2d(x, T(rand(2, 4, 3, 3)), stride=(1, 1, 1))
    with pytest.raises(RuntimeError, match="expected bias to be 1-dimensional with 2 elements"):
        F.conv2d(x, T(rand(2, 4, 3, 3)), bias=T(rand(3)))
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride or dilation"):
        F.conv_transpose2d(x, T(rand(4, 2, 3, 3)), stride=2, output_padding=2)
    with pytest.raises(RuntimeError, match=r"Given transposed=1, weight of size \[3, 2, 3, 3\]"):
        F.conv_transpose2d(x, T(rand(3, 2, 3, 3)))
    with pytest.raises(RuntimeError):
        F.conv2d(x, T(rand(2, 4, 3, 3), dtype=torch.float32))


# ---- conv modules -----------------------------------------------------------------------------
def test_conv_modules_params_repr_and_forward():
    m = nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2)
    assert list(m.state_dict().keys()) == ["weight", "bias"]
    assert tuple(m.weight.shape) == (6, 2, 3, 2) and tuple(m.bias.shape) == (6,)
    x = rand(2, 4, 7, 6)
    want = ref_conv(x.astype(np.float32), m.weight.detach().numpy().astype(np.float64),
                    m.bias.detach().numpy().astype(np.float64), (2, 2), (1, 1), (1, 1), 2)
    close(m(T(x, torch.float32)), want, 1e-4)
    assert repr(nn.Conv2d(3, 16, 3)) == "Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1))"
    assert repr(nn.Conv1d(4, 4, 3, groups=2, stride=2, padding=1)) == \
        "Conv1d(4, 4, kernel_size=(3,), stride=(2,), padding=(1,), groups=2)"
    assert repr(nn.Conv2d(3, 16, 3, padding="same", bias=False, padding_mode="reflect", dilation=2)) == \
        ("Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1), padding=same, dilation=(2, 2), bias=False, "
         "padding_mode=reflect)")
    assert repr(nn.ConvTranspose2d(3, 16, 3, stride=2, output_padding=1)) == \
        "ConvTranspose2d(3, 16, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1))"
    assert tuple(nn.ConvTranspose2d(4, 6, 3, groups=2).weight.shape) == (4, 3, 3, 3)
    assert tuple(nn.Conv3d(4, 6, (1, 2, 3), groups=2).weight.shape) == (6, 2, 1, 2, 3)
    assert nn.Conv1d(2, 3, 3, bias=False).bias is None


def test_conv_init_distribution():
    m = nn.Conv2d(16, 64, 3)
    bound = 1 / math.sqrt(16 * 9)   # kaiming_uniform_(a=sqrt(5)) and the bias rule both give 1/sqrt(fan_in)
    w = m.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    bb = m.bias.detach().numpy()
    assert np.abs(bb).max() <= bound and bb.std() > 0.3 * bound


@pytest.mark.parametrize("mode,np_mode", [("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")])
def test_conv_padding_modes(mode, np_mode):
    m = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode, dtype=torch.float64)
    x = rand(2, 2, 5, 6)
    xp = np.pad(x, [(0, 0), (0, 0), (1, 1), (2, 2)], mode=np_mode)
    want = ref_conv(xp, m.weight.detach().numpy(), m.bias.detach().numpy(), (1, 1), (0, 0), (1, 1), 1)
    close(m(T(x)), want, 1e-10)


def test_conv_transpose_module_output_size():
    m = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2, dtype=torch.float64)
    x = rand(1, 4, 5, 5)
    out = m(T(x), output_size=(10, 10))
    want = ref_conv_transpose(x, m.weight.detach().numpy(), m.bias.detach().numpy(), (2, 2), (1, 1), (1, 1),
                              (1, 1), 2)
    close(out, want, 1e-10)
    assert tuple(m(T(x)).shape) == (1, 6, 9, 9)
    with pytest.raises(ValueError, match="requested an output size of"):
        m(T(x), output_size=(12, 12))


def test_conv_module_errors():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        nn.Conv2d(4, 4, 3, groups=0)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(4, 4, 3, padding_mode="foo")
    with pytest.raises(ValueError, match="Invalid padding string 'foo'"):
        nn.Conv2d(4, 4, 3, padding="foo")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(4, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
        nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect")


# ---- unfold / fold ----------------------------------------------------------------------------
def test_unfold_fold_match_definition():
    x = rand(2, 3, 5, 6)
    out = F.unfold(noncontig(x, torch.float64), (2, 3), dilation=(2, 1), padding=1, stride=(1, 2))
    close(out, ref_unfold(x, (2, 3), (2, 1), (1, 1), (1, 2)), 1e-10)
    close(nn.Unfold(2)(T(x[0])), ref_unfold(x[:1], (2, 2), (1, 1), (0, 0), (1, 1))[0], 1e-10)
    cols = rand(2, 12, 12)
    close(F.fold(T(cols), (5, 6), (2, 3), padding=(1, 0), stride=(2, 1)),
          ref_fold(cols, (5, 6), (2, 3), (1, 1), (1, 0), (2, 1)), 1e-10)
    close(nn.Fold((4, 5), 2, dilation=(1, 2))(T(cols[0, :8, :9])),
          ref_fold(cols[:1, :8, :9], (4, 5), (2, 2), (1, 2), (0, 0), (1, 1))[0], 1e-10)
    assert repr(nn.Fold(4, 2)) == "Fold(output_size=4, kernel_size=2, dilation=1, padding=0, stride=1)"
    assert repr(nn.Unfold(2)) == "Unfold(kernel_size=2, dilation=1, padding=0, stride=1)"


def test_unfold_fold_gradcheck_and_errors():
    x = T(rand(1, 2, 4, 5), grad=True)
    assert torch.autograd.gradcheck(lambda x: F.unfold(x, (2, 3), padding=1, stride=2, dilation=(2, 1)), (x,))
    c = T(rand(2, 8, 18), grad=True)
    assert torch.autograd.gradcheck(lambda c: F.fold(c, (4, 5), 2, padding=1, stride=(2, 1)), (c,))
    with pytest.raises(RuntimeError, match="expected size of input's dimension 2 to match the calculated number "
                                           r"of sliding blocks 4 \* 4 = 16, but got input.size\(2\)=15"):
        F.fold(T(rand(2, 12, 15)), (5, 5), 2)
    with pytest.raises(RuntimeError, match="divisible by the product of kernel_size"):
        F.fold(T(rand(2, 13, 16)), (5, 5), 2)
    with pytest.raises(RuntimeError, match="calculated shape of the array of sliding blocks"):
        F.unfold(T(rand(2, 3, 5, 5)), 7)


# ---- pooling ----------------------------------------------------------------------------------
MAXPOOL_CASES = [
    # (shape, kernel, stride, padding, dilation, ceil_mode)
    ((2, 3, 7, 6), (3, 3), (2, 2), (1, 1), (1, 1), False),
    ((2, 3, 7, 6), (3, 2), (2, 1), (1, 1), (2, 1), True),
    ((1, 2, 8, 9), (2, 2), (2, 2), (0, 0), (1, 1), True),
    ((2, 3, 10), (3,), (3,), (1,), (1,), True),
    ((2, 3, 11), (2,), (1,), (1,), (3,), False),
    ((1, 2, 5, 4, 5), (2, 2, 3), (2, 1, 2), (1, 0, 1), (1, 1, 1), False),
    # windows that tile the input (stride == kernel, no padding / dilation): the reshape path, cropped or not
    ((2, 3, 8, 6), (2, 2), (2, 2), (0, 0), (1, 1), False),
    ((2, 3, 7, 9), (2, 3), (2, 3), (0, 0), (1, 1), False),
    ((2, 3, 10), (5,), (5,), (0,), (1,), True),
    ((1, 2, 4, 6, 5), (2, 3, 2), (2, 3, 2), (0, 0, 0), (1, 1, 1), False),
]


@pytest.mark.parametrize("dtype,npdt,tol", DTYPES)
@pytest.mark.parametrize("shape,k,s,p,d,ceil_mode", MAXPOOL_CASES)
def test_max_pool_values_and_indices(shape, k, s, p, d, ceil_mode, dtype, npdt, tol):
    x = rand(*shape)
    fn = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[len(k)]
    want, wind = ref_max_pool(x.astype(npdt).astype(np.float64), k, s, p, d, ceil_mode)
    out, ind = fn(noncontig(x, dtype), k, s, p, d, ceil_mode=ceil_mode, return_indices=True)
    close(out, want, tol)
    assert ind.dtype == torch.int64
    np.testing.assert_array_equal(ind.numpy(), wind)
    close(fn(T(x, dtype), k, s, p, d, ceil_mode=ceil_mode), want, tol)


@pytest.mark.parametrize("shape,k", [((2, 3, 8, 6), (2, 2)), ((1, 2, 7, 9), (2, 3)), ((2, 2, 9), (3,)),
                                     ((1, 2, 4, 6, 5), (2, 3, 2))])
def test_max_pool_tiled_windows_gradient_and_ties(shape, k):
    # Integer values in 0..2: most windows hold ties. The gradient of sum(max_pool(x) * w) puts each
    # window's weight on its first maximum in row-major window order (PyTorch's CPU rule), which is
    # also the index returned: reference = w scattered at ref_max_pool's indices.
    rng = np.random.default_rng(7)
    x = rng.integers(0, 3, shape).astype(np.float64)
    fn = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[len(k)]
    want, wind = ref_max_pool(x, k, k, (0,) * len(k), (1,) * len(k), False)
    xt = T(x, grad=True)
    out, ind = fn(xt, k, return_indices=True)
    close(out, want, 0)
    np.testing.assert_array_equal(ind.numpy(), wind)
    w = rng.standard_normal(want.shape)
    (out * T(w)).sum().backward()
    g = np.zeros(x.shape[:2] + (int(np.prod(x.shape[2:])),))
    for nc in np.ndindex(*x.shape[:2]):
        np.add.at(g[nc], wind[nc].ravel(), w[nc].ravel())
    np.testing.assert_array_equal(xt.grad.numpy(), g.reshape(x.shape))


def test_max_pool_defaults_gradcheck_and_module():
    x = rand(2, 3, 6, 8)
    out = F.max_pool2d(T(x), 2)   # stride defaults to kernel_size
    close(out, ref_max_pool(x, (2, 2), (2, 2), (0, 0), (1, 1), False)[0], 1e-10)
    xt = T(rand(2, 2, 5, 6), grad=True)
    assert torch.autograd.gradcheck(lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), (xt,))
    x1 = T(rand(2, 7), grad=True)
    assert torch.autograd.gradcheck(lambda x: F.max_pool1d(x, 2, 1, 1, dilation=2), (x1,))
    m = nn.MaxPool2d(3, 2, 1, return_indices=True)
    v, i = m(T(x))
    wv, wi = ref_max_pool(x, (3, 3), (2, 2), (1, 1), (1, 1), False)
    close(v, wv, 1e-10)
    np.testing.assert_array_equal(i.numpy(), wi)
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.MaxPool1d(3, 2, 1, 2, True, True)) == \
        "MaxPool1d(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)"


AVGPOOL_CASES = [
    # (shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    ((2, 3, 7, 6), (3, 3), (2, 2), (1, 1), True, False, None),
    ((2, 3, 7, 6), (3, 3), (2, 2), (1, 1), True, True, None),
    ((2, 3, 7, 6), (2, 3), (2, 2), (1, 1), False, True, 5),
    ((3, 11), (4,), (3,), (2,), True, True, None),
    ((2, 3, 11), (3,), (2,), (1,), False, False, None),
    ((1, 2, 5, 4, 5), (2, 2, 3), (2, 1, 2), (1, 0, 1), True, False, None),
]


@pytest.mark.parametrize("dtype,npdt,tol", DTYPES)
@pytest.mark.parametrize("shape,k,s,p,ceil_mode,cip,div", AVGPOOL_CASES)
def test_avg_pool_matches_definition(shape, k, s, p, ceil_mode, cip, div, dtype, npdt, tol):
    x = rand(*shape)
    nd = len(k)
    batched = x if len(shape) == nd + 2 else x[None]
    want = ref_avg_pool(batched.astype(npdt).astype(np.float64), k, s, p, ceil_mode, cip, div)
    if len(shape) != nd + 2:
        want = want[0]
    if nd == 1:
        out = F.avg_pool1d(noncontig(x, dtype), k, s, p, ceil_mode, cip)
    else:
        fn = F.avg_pool2d if nd == 2 else F.avg_pool3d
        out = fn(noncontig(x, dtype), k, s, p, ceil_mode, cip, div)
    close(out, want, tol)


def test_avg_pool_gradcheck_and_modules():
    xt = T(rand(2, 2, 5, 6), grad=True)
    assert torch.autograd.gradcheck(lambda x: F.avg_pool2d(x, 3, 2, 1, True, False), (xt,))
    x = rand(2, 3, 6, 6)
    close(nn.AvgPool2d(3, padding=1, count_include_pad=False)(T(x)),
          ref_avg_pool(x, (3, 3), (3, 3), (1, 1), False, False), 1e-10)
    assert repr(nn.AvgPool2d(3)) == "AvgPool2d(kernel_size=3, stride=3, padding=0)"
    assert repr(nn.AvgPool1d(2)) == "AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))"


def test_lp_pool_matches_definition():
    x = np.abs(rand(2, 3, 7, 6)) + 0.1
    want = ref_avg_pool(x ** 3, (3, 2), (2, 2), (0, 0), True, True) * 6
    close(F.lp_pool2d(T(x), 3, (3, 2), 2, ceil_mode=True), want ** (1 / 3), 1e-10)
    x1 = np.abs(rand(2, 3, 10)) + 0.1
    want1 = np.sqrt(ref_avg_pool(x1 ** 2, (3,), (3,), (0,), False, True) * 3)
    close(nn.LPPool1d(2, 3)(T(x1)), want1, 1e-10)
    assert repr(nn.LPPool2d(2, 3)) == "LPPool2d(norm_type=2, kernel_size=3, stride=None, ceil_mode=False)"
    xt = T(x[:1, :1], grad=True)
    assert torch.autograd.gradcheck(lambda x: F.lp_pool2d(x, 2, 2), (xt,))


@pytest.mark.parametrize("dtype,npdt,tol", DTYPES)
@pytest.mark.parametrize("shape,osz", [((2, 3, 7, 6), (3, 4)), ((2, 3, 5, 7), (5, 7)), ((2, 2, 5, 6), (9, 11)),
                                       ((3, 10), (4,)), ((1, 2, 5, 4, 5), (2, 3, 3))])
def test_adaptive_pools_match_definition(shape, osz, dtype, npdt, tol):
    x = rand(*shape)
    nd = len(osz)
    batched = x if len(shape) == nd + 2 else x[None]
    xa = batched.astype(npdt).astype(np.float64)
    wavg, _ = ref_adaptive(xa, osz, "avg")
    wmax, wind = ref_adaptive(xa, osz, "max")
    if len(shape) != nd + 2:
        wavg, wmax, wind = wavg[0], wmax[0], wind[0]
    avg = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}[nd]
    mx = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}[nd]
    close(avg(noncontig(x, dtype), osz), wavg, tol)
    v, i = mx(noncontig(x, dtype), osz, return_indices=True)
    close(v, wmax, tol)
    np.testing.assert_array_equal(i.numpy(), wind)


def test_adaptive_none_gradcheck_and_modules():
    x = rand(2, 3, 6, 5)
    close(nn.AdaptiveAvgPool2d((2, None))(T(x)), ref_adaptive(x, (2, 5), "avg")[0], 1e-10)
    close(nn.AdaptiveMaxPool2d(1)(T(x)), ref_adaptive(x, (1, 1), "max")[0], 1e-10)
    assert repr(nn.AdaptiveAvgPool2d((2, None))) == "AdaptiveAvgPool2d(output_size=(2, None))"
    assert repr(nn.AdaptiveMaxPool1d(3)) == "AdaptiveMaxPool1d(output_size=3)"
    xt = T(rand(2, 2, 5, 7), grad=True)
    assert torch.autograd.gradcheck(lambda x: F.adaptive_avg_pool2d(x, (3, 4)), (xt,))
    assert torch.autograd.gradcheck(lambda x: F.adaptive_max_pool2d(x, (3, 4)), (xt,))


def test_pool_errors():
    x = T(rand(2, 4, 5, 5))
    with pytest.raises(RuntimeError, match=r"Given input size: \(4x5x5\). Calculated output size: \(4x0x0\). "
                                           "Output size is too small"):
        F.max_pool2d(x, 7)
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel size"):
        F.max_pool2d(x, 3, padding=2)
    with pytest.raises(RuntimeError, match="non-empty 3D or 4D"):
        F.max_pool2d(T(rand(5, 5)), 2)
    with pytest.raises(RuntimeError, match="stride should not be zero"):
        F.avg_pool2d(x, 2, stride=0)
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(RuntimeError, match="max_pool1d: Expected 2D or 3D"):
        F.max_pool1d(T(rand(5)), 2)
    with pytest.raises(RuntimeError, match=r"adaptive_avg_pool2d\(\): Expected 3D or 4D tensor"):
        F.adaptive_avg_pool2d(T(rand(5, 5)), 2)
    with pytest.raises(RuntimeError, match="elements of output_size must be greater than or equal to 0"):
        F.adaptive_avg_pool2d(x, (-1, 2))


# ---- pixel shuffle ----------------------------------------------------------------------------
def test_pixel_shuffle_definition_and_roundtrip():
    r = 2
    x = rand(2, 3, 8, 2, 3)
    out = F.pixel_shuffle(T(x), r)
    want = np.zeros((2, 3, 2, 4, 6))
    # leading dims (2, 3) are batch dims; 8 channels = 2 output channels * r * r
    for b, c, k, h, w, i, j in itertools.product(range(2), range(3), range(2), range(2), range(3), range(r),
                                                 range(r)):
        want[b, c, k, h * r + i, w * r + j] = x[b, c, k * r * r + i * r + j, h, w]
    close(out, want, 1e-10)
    close(F.pixel_unshuffle(out, r), x, 1e-10)
    x9 = rand(2, 18, 2, 3)
    close(nn.PixelUnshuffle(3)(nn.PixelShuffle(3)(T(x9))), x9, 1e-10)
    assert repr(nn.PixelShuffle(2)) == "PixelShuffle(upscale_factor=2)"
    with pytest.raises(RuntimeError, match=r"input.size\(-3\)=4 is not divisible by 9"):
        F.pixel_shuffle(T(rand(2, 4, 5, 5)), 3)
    with pytest.raises(RuntimeError, match=r"input.size\(-2\)=5 is not divisible by 2"):
        F.pixel_unshuffle(T(rand(2, 4, 5, 6)), 2)
    xt = T(rand(1, 8, 2, 3), grad=True)
    assert torch.autograd.gradcheck(lambda x: F.pixel_shuffle(x, 2), (xt,))


# ---- interpolation ----------------------------------------------------------------------------
def test_interpolate_nearest_modes():
    x = rand(2, 3, 5, 4)
    out = F.interpolate(T(x), size=(7, 8))
    rows = [int(math.floor(o * 5 / 7)) for o in range(7)]
    cols = [int(math.floor(o * 4 / 8)) for o in range(8)]
    close(out, x[:, :, rows][:, :, :, cols], 1e-10)
    out = F.interpolate(T(x), size=(7, 3), mode="nearest-exact")
    rows = [min(int(math.floor((o + 0.5) * 5 / 7)), 4) for o in range(7)]
    cols = [min(int(math.floor((o + 0.5) * 4 / 3)), 3) for o in range(3)]
    close(out, x[:, :, rows][:, :, :, cols], 1e-10)
    x1 = rand(2, 3, 4)
    close(F.interpolate(T(x1), scale_factor=2), np.repeat(x1, 2, axis=-1), 1e-10)
    close(nn.UpsamplingNearest2d(scale_factor=3)(T(x)), np.repeat(np.repeat(x, 3, 2), 3, 3), 1e-10)


@pytest.mark.parametrize("dtype,npdt,tol", DTYPES)
@pytest.mark.parametrize("align_corners", [False, True])
def test_interpolate_linear_modes(align_corners, dtype, npdt, tol):
    x = rand(2, 3, 7)
    xa = x.astype(npdt).astype(np.float64)
    out = F.interpolate(noncontig(x, dtype), size=12, mode="linear", align_corners=align_corners)
    close(out, ref_linear_1d(xa, 12, align_corners), tol)
    x2 = rand(1, 2, 4, 5)
    xa2 = x2.astype(npdt).astype(np.float64)
    out = F.interpolate(T(x2, dtype), size=(7, 3), mode="bilinear", align_corners=align_corners)
    want = ref_linear_1d(np.swapaxes(ref_linear_1d(np.swapaxes(xa2, 2, 3), 7, align_corners), 2, 3), 3,
                         align_corners)
    close(out, want, tol)
    # with scale_factor (and no recompute) the source index uses 1/scale_factor
    if not align_corners:
        out = F.interpolate(T(x, dtype), scale_factor=1.7, mode="linear")
        close(out, ref_linear_1d(xa, 11, False, scale=1.7), tol)
        out = F.interpolate(T(x, dtype), scale_factor=1.7, mode="linear", recompute_scale_factor=True)
        close(out, ref_linear_1d(xa, 11, False), tol)


def test_interpolate_area_modules_gradcheck_and_errors():
    x = rand(2, 3, 6, 5)
    close(F.interpolate(T(x), size=(4, 3), mode="area"), ref_adaptive(x, (4, 3), "avg")[0], 1e-10)
    m = nn.UpsamplingBilinear2d(size=(8, 7))
    want = ref_linear_1d(np.swapaxes(ref_linear_1d(np.swapaxes(x, 2, 3), 8, True), 2, 3), 7, True)
    close(m(T(x)), want, 1e-10)
    assert repr(m) == "UpsamplingBilinear2d(size=(8, 7), mode='bilinear')"
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"
    xt = T(rand(1, 2, 3, 4), grad=True)
    assert torch.autograd.gradcheck(lambda x: F.interpolate(x, size=(5, 7), mode="bilinear"), (xt,))
    with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
        F.interpolate(T(x), size=3, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor should be defined"):
        F.interpolate(T(x))
    with pytest.raises(NotImplementedError, match="Got 4D input, but linear mode needs 3D input"):
        F.interpolate(T(x), scale_factor=2, mode="linear")
    with pytest.raises(ValueError, match="align_corners option can only be set with the interpolating modes"):
        F.interpolate(T(x), scale_factor=2, align_corners=True)
    with pytest.raises(RuntimeError, match="Input and output sizes should be greater than 0"):
        F.interpolate(T(x), size=0)


# ---- padding modules --------------------------------------------------------------------------
@pytest.mark.parametrize("cls,np_mode,pad,shape", [
    (nn.ZeroPad2d, "constant", (1, 2, 0, 3), (2, 3, 4, 5)),
    (nn.ZeroPad1d, "constant", 2, (2, 3, 4)),
    (nn.ZeroPad3d, "constant", 1, (1, 2, 3, 4, 5)),
    (nn.ReflectionPad1d, "reflect", (2, 1), (2, 3, 4)),
    (nn.ReflectionPad2d, "reflect", (1, 2, 3, 0), (2, 3, 4, 5)),
    (nn.ReplicationPad1d, "edge", (3, 1), (3, 4)),
    (nn.ReplicationPad2d, "edge", 2, (2, 3, 4, 5)),
    (nn.CircularPad1d, "wrap", (2, 3), (2, 3, 4)),
    (nn.CircularPad2d, "wrap", (1, 2, 2, 1), (2, 3, 4, 5)),
])
def test_padding_modules(cls, np_mode, pad, shape):
    x = rand(*shape)
    nd = int(cls.__name__[-2])
    pads = pad if isinstance(pad, tuple) else (pad,) * (2 * nd)
    width = [(0, 0)] * (len(shape) - nd) + [(pads[2 * i], pads[2 * i + 1]) for i in reversed(range(nd))]
    close(cls(pad)(T(x)), np.pad(x, width, mode=np_mode), 1e-10)
    assert repr(cls(pad)) == f"{cls.__name__}({pads})"


def test_constant_pad_modules():
    x = rand(2, 3)
    close(nn.ConstantPad1d((1, 2), 3.5)(T(x)), np.pad(x, [(0, 0), (1, 2)], constant_values=3.5), 1e-10)
    close(nn.ConstantPad2d(1, -1.0)(T(x)), np.pad(x, 1, constant_values=-1.0), 1e-10)
    assert repr(nn.ConstantPad1d(2, 3.5)) == "ConstantPad1d(padding=(2, 2), value=3.5)"
    assert repr(nn.ZeroPad2d(1)) == "ZeroPad2d((1, 1, 1, 1))"
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.CircularPad1d(1)(T(rand(1, 2, 3, 4)))


def test_cnn_trains_end_to_end():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    x = torch.randn(8, 1, 8, 8)
    y = torch.tensor([0, 1] * 4)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    first = None
    for _ in range(30):
        loss = F.cross_entropy(net(x), y)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert all(p.grad is not None for p in net.parameters())
    assert loss.item() < first


def test_with_indices_aliases_3d_modules_and_deprecated_upsample():
    x = rand(2, 3, 7, 6)
    wv, wi = ref_max_pool(x, (3, 2), (2, 2), (1, 1), (1, 1), False)
    v, i = F.max_pool2d_with_indices(T(x), (3, 2), 2, 1)
    close(v, wv, 1e-10)
    np.testing.assert_array_equal(i.numpy(), wi)
    x1 = rand(2, 3, 10)
    v, i = F.max_pool1d_with_indices(T(x1), 3, 2)
    np.testing.assert_array_equal(i.numpy(), ref_max_pool(x1, (3,), (2,), (0,), (1,), False)[1])
    v, i = F.adaptive_max_pool1d_with_indices(T(x1), 4)
    np.testing.assert_array_equal(i.numpy(), ref_adaptive(x1, (4,), "max")[1])
    v, i = F.adaptive_max_pool2d_with_indices(T(x), (3, 4))
    np.testing.assert_array_equal(i.numpy(), ref_adaptive(x, (3, 4), "max")[1])
    x3 = rand(1, 2, 5, 4, 5)
    v, i = F.max_pool3d_with_indices(T(x3), 2)
    np.testing.assert_array_equal(i.numpy(), ref_max_pool(x3, (2,) * 3, (2,) * 3, (0,) * 3, (1,) * 3, False)[1])
    v, i = F.adaptive_max_pool3d_with_indices(T(x3), (2, 3, 2))
    np.testing.assert_array_equal(i.numpy(), ref_adaptive(x3, (2, 3, 2), "max")[1])
    # 3-D modules
    close(nn.MaxPool3d(2, 1)(T(x3)), ref_max_pool(x3, (2,) * 3, (1,) * 3, (0,) * 3, (1,) * 3, False)[0], 1e-10)
    close(nn.AvgPool3d(2, padding=1)(T(x3)), ref_avg_pool(x3, (2,) * 3, (2,) * 3, (1,) * 3, False, True), 1e-10)
    close(nn.AdaptiveAvgPool3d((2, None, 3))(T(x3)), ref_adaptive(x3, (2, 4, 3), "avg")[0], 1e-10)
    close(nn.AdaptiveMaxPool3d(2)(T(x3)), ref_adaptive(x3, (2, 2, 2), "max")[0], 1e-10)
    xp = np.abs(x3) + 0.1
    close(nn.LPPool3d(2, 2)(T(xp)), np.sqrt(ref_avg_pool(xp ** 2, (2,) * 3, (2,) * 3, (0,) * 3, False, True) * 8),
          1e-10)
    close(F.lp_pool3d(T(xp), 3, (2, 1, 2), 1) ** 3,
          ref_avg_pool(xp ** 3, (2, 1, 2), (1,) * 3, (0,) * 3, False, True) * 4, 1e-10)
    mt = nn.ConvTranspose1d(4, 6, 3, stride=2, groups=2, dtype=torch.float64)
    xt = rand(2, 4, 5)
    close(mt(T(xt)), ref_conv_transpose(xt, mt.weight.detach().numpy(), mt.bias.detach().numpy(), (2,), (0,), (0,),
                                        (1,), 2), 1e-10)
    mt3 = nn.ConvTranspose3d(2, 2, 2, bias=False, dtype=torch.float64)
    close(mt3(T(x3)), ref_conv_transpose(x3, mt3.weight.detach().numpy(), None, (1,) * 3, (0,) * 3, (0,) * 3,
                                         (1,) * 3, 1), 1e-10)
    for cls, np_mode, kw in [(nn.ConstantPad3d, "constant", {"constant_values": 2.0}),
                             (nn.ReflectionPad3d, "reflect", {}), (nn.ReplicationPad3d, "edge", {}),
                             (nn.CircularPad3d, "wrap", {})]:
        m = cls((1, 0, 2, 1, 1, 1), 2.0) if cls is nn.ConstantPad3d else cls((1, 0, 2, 1, 1, 1))
        close(m(T(x3)), np.pad(x3, [(0, 0), (0, 0), (1, 1), (2, 1), (1, 0)], mode=np_mode, **kw), 1e-10)
    # deprecated aliases warn and forward to interpolate
    with pytest.warns(UserWarning, match="deprecated"):
        close(F.upsample_nearest(T(x1), scale_factor=2), np.repeat(x1, 2, axis=-1), 1e-10)
    with pytest.warns(UserWarning, match="deprecated"):
        close(F.upsample(T(x1), size=15, mode="linear"), ref_linear_1d(x1, 15, False), 1e-10)
    with pytest.warns(UserWarning, match="deprecated"):
        want = ref_linear_1d(np.swapaxes(ref_linear_1d(np.swapaxes(x, 2, 3), 9, True), 2, 3), 8, True)
        close(F.upsample_bilinear(T(x), size=(9, 8)), want, 1e-10)
