"""ferrotorch.safetensors against independent references: files written by the real
safetensors.torch (tests/fixtures/checkpoints, expected values in .npz), the format
parsed here with struct + json, NumPy slicing, and (where a PyTorch + safetensors
install exists outside the repo) a round trip through safetensors.torch in a subprocess.
"""
import ctypes
import json
import os
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch import nn
from ferrotorch.safetensors import (SafetensorError, load, load_file, load_model, safe_open, save, save_file,
                                    save_model)

from _helpers import ALL_DTYPES, dt, to_np

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "checkpoints")
TORCHENV_PYTHON = "/work/torchenv/bin/python"

FORMAT = {"bool": "BOOL", "uint8": "U8", "int8": "I8", "int16": "I16", "int32": "I32", "int64": "I64",
          "float16": "F16", "bfloat16": "BF16", "float32": "F32", "float64": "F64"}
NP_LE = {"BOOL": "|b1", "U8": "|u1", "I8": "|i1", "I16": "<i2", "I32": "<i4", "I64": "<i8", "F16": "<f2",
         "F32": "<f4", "F64": "<f8"}


def sample(name, shape, seed=0):
    """A tensor of dtype `name` and `shape` with varied values (and its float64/bool NumPy copy)."""
    rng = np.random.default_rng(seed)
    if name == "bool":
        ref = rng.random(shape) > 0.5
    elif name in ("uint8",):
        ref = rng.integers(0, 255, shape).astype(np.uint8)
    elif name.startswith("int"):
        ref = rng.integers(-100, 100, shape).astype(name)
    else:
        ref = (rng.standard_normal(shape) * 10).astype(np.float32 if name == "bfloat16" else name)
    t = torch.from_numpy(np.ascontiguousarray(ref)).to(dt(name))
    return t, to_np(t)


def assert_same(t, ref_tensor):
    assert t.dtype == ref_tensor.dtype
    assert tuple(t.shape) == tuple(ref_tensor.shape)
    np.testing.assert_array_equal(to_np(t), to_np(ref_tensor))


def parse(data):
    """(header dict, data section) of a safetensors file's bytes, parsed independently."""
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    return n, header, data[8 + n:]


# ---- files written by safetensors.torch ---------------------------------------------------

def test_fixture_tensors_every_dtype_shape_value_and_metadata():
    path = os.path.join(FIX, "tensors.safetensors")
    ref = np.load(os.path.join(FIX, "tensors.npz"))
    out = load_file(path)
    assert sorted(out) == sorted(ref.files)
    for name in ref.files:
        t = out[name]
        want_dtype = dt(name) if name in ALL_DTYPES else torch.float32
        assert t.dtype == want_dtype, name
        assert tuple(t.shape) == ref[name].shape, name
        np.testing.assert_array_equal(to_np(t), ref[name].astype(to_np(t).dtype), err_msg=name)
    with safe_open(path, framework="pt") as f:
        assert f.metadata() == {"format": "pt", "note": "fixture"}
        assert f.keys() == sorted(ref.files)
        for name in ref.files:
            np.testing.assert_array_equal(to_np(f.get_tensor(name)), to_np(out[name]))
    # The same file's bytes through load(), and our writer reproduces the file: the same
    # header (the order of __metadata__'s keys is a hash map's in both writers) and the
    # same data bytes.
    with open(path, "rb") as fh:
        data = fh.read()
    again = load(data)
    for name in ref.files:
        assert_same(again[name], out[name])
    mine = save(out, metadata={"format": "pt", "note": "fixture"})
    n1, h1, body1 = parse(mine)
    n2, h2, body2 = parse(data)
    assert (n1, h1, body1) == (n2, h2, body2)
    assert list(h1) == list(h2)


def test_fixture_mlp_written_by_save_model():
    path = os.path.join(FIX, "mlp.safetensors")
    ref = np.load(os.path.join(FIX, "mlp.npz"))
    sd = load_file(path)
    assert sorted(sd) == sorted(ref.files)
    for k in ref.files:
        np.testing.assert_array_equal(sd[k].numpy(), ref[k])
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    missing, unexpected = load_model(model, path)
    assert missing == set() and unexpected == []
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), ref[k])
    x = torch.ones(2, 4)
    expected = np.maximum(np.ones((2, 4), np.float32) @ ref["0.weight"].T + ref["0.bias"], 0) @ ref["2.weight"].T \
        + ref["2.bias"]
    np.testing.assert_allclose(model(x).detach().numpy(), expected, rtol=1e-5, atol=1e-5)


# ---- round trips ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL_DTYPES)
def test_round_trip_every_dtype_bytes_and_file(name, tmp_path):
    tensors = {}
    for shape, key in [((2, 3), "m"), ((), "scalar"), ((0, 4), "empty"), ((5,), "v"), ((2, 1, 3), "t3")]:
        tensors[key] = sample(name, shape, seed=len(key))[0]
    path = tmp_path / "x.safetensors"
    save_file(tensors, path, metadata={"k": "v"})
    data = save(tensors, metadata={"k": "v"})
    with open(path, "rb") as fh:
        assert fh.read() == data
    for out in (load(data), load_file(path), load_file(str(path))):
        assert sorted(out) == sorted(tensors)
        for k, t in tensors.items():
            assert_same(out[k], t)


@pytest.mark.parametrize("name", ALL_DTYPES)
def test_non_contiguous_input_raises_as_safetensors_and_contiguous_copy_round_trips(name):
    base = sample(name, (3, 4))[0]
    for view in (base.t(), base[:, ::2], base.unsqueeze(0).expand(2, 3, 4)):
        assert not view.is_contiguous()
        with pytest.raises(ValueError, match="non contiguous tensor: `x`"):
            save({"x": view})
        out = load(save({"x": view.contiguous()}))
        assert_same(out["x"], view.contiguous())


def test_contiguous_view_with_offset_is_saved_as_its_values():
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    row = base[1]  # contiguous, storage offset 4
    out = load(save({"row": row}))
    np.testing.assert_array_equal(out["row"].numpy(), [4, 5, 6, 7])
    # Disjoint views of one storage do not "share memory" (safetensors' rule).
    out = load(save({"a": base[0], "b": base[2]}))
    np.testing.assert_array_equal(out["b"].numpy(), [8, 9, 10, 11])


def test_requires_grad_and_parameters_save():
    p = nn.Parameter(torch.ones(3))
    q = torch.zeros(2, requires_grad=True)
    out = load(save({"p": p, "q": q}))
    np.testing.assert_array_equal(out["p"].numpy(), [1, 1, 1])
    assert not out["p"].requires_grad


# ---- the writer's bytes against the format ------------------------------------------------

def test_save_bytes_follow_the_format():
    tensors = {name: sample(name, (2, 3), seed=i)[0] for i, name in enumerate(ALL_DTYPES)}
    tensors["scalar"] = torch.tensor(2.5, dtype=torch.float64)
    tensors["empty"] = torch.zeros(0, 2, dtype=torch.int16)
    data = save(tensors, metadata={"format": "pt", "who": "ferrotorch"})
    n, header, body = parse(data)
    assert n % 8 == 0 and len(data) == 8 + n + len(body)
    assert header.pop("__metadata__") == {"format": "pt", "who": "ferrotorch"}
    assert sorted(header) == sorted(tensors)
    spans = sorted((info["data_offsets"][0], info["data_offsets"][1], k) for k, info in header.items())
    pos = 0
    for start, end, k in spans:
        # Data in order, back to back, covering the data section exactly.
        assert start == pos, k
        pos = end
    assert pos == len(body)
    for k, info in header.items():
        t = tensors[k]
        name = str(t.dtype).split(".")[-1]
        assert info["dtype"] == FORMAT[name]
        assert info["shape"] == list(t.shape)
        start, end = info["data_offsets"]
        assert end - start == t.numel() * t.element_size()
        assert (8 + n + start) % t.element_size() == 0  # aligned for zero-copy readers
        raw = body[start:end]
        if name == "bfloat16":
            # bfloat16 is the top half of float32.
            f32 = to_np(t).astype(np.float32).reshape(-1)
            want = (f32.view("<u4") >> 16).astype("<u2").tobytes()
        else:
            want = to_np(t).astype(NP_LE[FORMAT[name]]).tobytes()
        assert raw == want, k


def test_save_without_metadata_has_no_metadata_key():
    _, header, _ = parse(save({"a": torch.ones(2)}))
    assert list(header) == ["a"]
    assert header["a"] == {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}


def test_metadata_must_be_dict_of_str(tmp_path):
    t = {"a": torch.zeros(1)}
    for bad in ({"x": 1}, {1: "x"}, {"x": None}, "abc", [("a", "b")]):
        with pytest.raises(TypeError, match="argument 'metadata'"):
            save(t, metadata=bad)
    with pytest.raises(TypeError, match="argument 'metadata'"):
        save_file(t, tmp_path / "unused.safetensors", metadata={"x": 1})
    assert not os.path.exists(tmp_path / "unused.safetensors")


def test_save_argument_errors():
    x = torch.arange(6.0).reshape(2, 3)
    with pytest.raises(ValueError, match="Expected a dict"):
        save([x])
    with pytest.raises(ValueError, match="Key `b` is invalid"):
        save({"a": x, "b": 1})
    with pytest.raises(TypeError):
        save({1: x})
    for other in (x, x[0], x.view(3, 2)):
        with pytest.raises(RuntimeError, match="Some tensors share memory") as e:
            save({"a": x, "b": other})
        assert "'a'" in str(e.value) and "'b'" in str(e.value) and "save_model" in str(e.value)


def test_save_file_errors_are_safetensor_errors(tmp_path):
    with pytest.raises(SafetensorError, match="Error while serializing"):
        save_file({"a": torch.zeros(1)}, tmp_path / "missing-dir" / "x.safetensors")
    with pytest.raises(SafetensorError):
        save_file({"a": torch.zeros(1)}, tmp_path)


# ---- safe_open ------------------------------------------------------------------------

@pytest.fixture
def three(tmp_path):
    ref = {"w": np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 7.5,
           "i": np.arange(10, dtype=np.int64) * 3 - 4,
           "s": np.array(7, dtype=np.int16)}
    path = tmp_path / "three.safetensors"
    save_file({k: torch.from_numpy(v.copy()) for k, v in ref.items()}, path, metadata={"a": "b"})
    return path, ref


def test_safe_open_keys_metadata_and_tensors(three):
    path, ref = three
    with safe_open(path, framework="pt", device="cpu") as f:
        assert f.keys() == ["i", "s", "w"]
        assert sorted(f.offset_keys()) == ["i", "s", "w"]
        # offset order = the order of the data in the file
        n, header, _ = parse(open(path, "rb").read())
        assert f.offset_keys() == sorted(ref, key=lambda k: header[k]["data_offsets"][0])
        assert f.metadata() == {"a": "b"}
        for k, v in ref.items():
            np.testing.assert_array_equal(f.get_tensor(k).numpy(), v)
        all_ = f.get_tensors()
        assert list(all_) == f.offset_keys()
        with pytest.raises(SafetensorError, match="File does not contain tensor nope"):
            f.get_tensor("nope")
        with pytest.raises(SafetensorError, match="File does not contain tensor nope"):
            f.get_slice("nope")
    with pytest.raises(SafetensorError, match="File is closed"):
        f.keys()
    with pytest.raises(SafetensorError, match="File is closed"):
        f.get_tensor("w")
    # Without a with-block, too; metadata None when the file has none.
    p2 = os.path.join(os.path.dirname(path), "nometa.safetensors")
    save_file({"a": torch.zeros(1)}, p2)
    assert safe_open(p2, "pt").metadata() is None


def test_safe_open_get_slice_matches_numpy(three):
    path, ref = three
    w, i = ref["w"], ref["i"]
    with safe_open(path, framework="pt") as f:
        sw = f.get_slice("w")
        assert sw.get_shape() == [2, 3, 4]
        assert sw.get_dtype() == "F32"
        assert f.get_slice("i").get_dtype() == "I64"
        cases = [0, -1, 1, slice(None), slice(0, 1), slice(-1, None), slice(None, None, 2),
                 (slice(None), 1), (0, slice(1, 3)), (slice(0, 1), slice(1, 3), slice(None, None, 3)),
                 (Ellipsis, 1), (1, Ellipsis), (1, 2, 3), (None,), (slice(None), None, 0),
                 (slice(5, 9),), (slice(1, 1),)]
        for ix in cases:
            got = sw[ix]
            want = w[ix]
            assert tuple(got.shape) == want.shape, ix
            np.testing.assert_array_equal(got.numpy(), want, err_msg=str(ix))
        si = f.get_slice("i")
        for ix in [slice(2, 7), slice(None, None, 3), 4, -2, slice(-3, None)]:
            np.testing.assert_array_equal(si[ix].numpy(), i[ix], err_msg=str(ix))
        with pytest.raises(IndexError):
            sw[5]
        with pytest.raises(IndexError):
            sw[0, 0, 0, 0]
        with pytest.raises(TypeError):
            sw["x"]
        # A slice is a tensor of its own: writing to it leaves the file's tensor alone.
        part = sw[0]
        part.fill_(100.0)
        np.testing.assert_array_equal(f.get_tensor("w").numpy(), w)


def test_safe_open_devices_and_frameworks(three):
    path, ref = three
    for device in ("cpu", torch.device("cpu")):
        with safe_open(path, framework="pt", device=device) as f:
            assert f.get_tensor("w").device == torch.device("cpu")
    with safe_open(path, framework="numpy") as f:
        got = f.get_tensor("w")
        assert isinstance(got, np.ndarray)
        np.testing.assert_array_equal(got, ref["w"])
    for bad in ("foo", -1, "cuda:x"):
        with pytest.raises(SafetensorError, match="device .* is invalid"):
            safe_open(path, framework="pt", device=bad)
        with pytest.raises(SafetensorError, match="device .* is invalid"):
            load_file(path, device=bad)
    with pytest.raises(SafetensorError, match="framework zz is invalid"):
        safe_open(path, framework="zz")
    with pytest.raises(FileNotFoundError):
        safe_open(os.path.join(os.path.dirname(path), "absent.safetensors"), framework="pt")
    with pytest.raises(FileNotFoundError):
        load_file(os.path.join(os.path.dirname(path), "absent.safetensors"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_devices(three):
    path, ref = three
    for device in ("cuda", "cuda:0", 0, torch.device("cuda", 0)):
        out = load_file(path, device=device)
        assert out["w"].device == torch.device("cuda", 0)
        np.testing.assert_array_equal(out["w"].cpu().numpy(), ref["w"])
        with safe_open(path, framework="pt", device=device) as f:
            assert f.get_slice("w")[1].device == torch.device("cuda", 0)
    x = torch.arange(6.0, device="cuda").reshape(2, 3)
    out = load(save({"x": x, "s": torch.tensor(1.0, device="cuda")}))
    np.testing.assert_array_equal(out["x"].numpy(), np.arange(6.0).reshape(2, 3))


# ---- zero copy ----------------------------------------------------------------------------

def test_loaded_tensors_share_the_copy_on_write_map(tmp_path):
    path = tmp_path / "big.safetensors"
    ref = np.arange(100_000, dtype=np.float32)
    save_file({"a": torch.from_numpy(ref.copy()), "b": torch.ones(3, dtype=torch.int64)}, path)
    with open(path, "rb") as fh:
        before = fh.read()
    with safe_open(path, framework="pt") as f:
        mm = f._buf
        base = ctypes.addressof(ctypes.c_char.from_buffer(mm))
        t = f.get_tensor("a")
        assert base <= t.data_ptr() and t.data_ptr() + t.numel() * 4 <= base + len(mm)
        b = f.get_tensor("b")
        assert base <= b.data_ptr() < base + len(mm)
    # load_file shares the map too: the CPU allocator hands out nothing for its tensors.
    allocated = torch._C._cpu_memory_allocated()
    out = load_file(path)
    assert torch._C._cpu_memory_allocated() - allocated < 4096
    # Writing to a loaded tensor changes neither the file nor a fresh load.
    t.fill_(-1.0)
    out["a"].add_(1.0)
    np.testing.assert_array_equal(t.numpy()[:3], [-1, -1, -1])
    with open(path, "rb") as fh:
        assert fh.read() == before
    np.testing.assert_array_equal(load_file(path)["a"].numpy(), ref)
    # Saving over the file while its tensors are alive leaves them intact (the writer renames).
    keep = load_file(path)
    save_file({"a": torch.zeros(3)}, path)
    np.testing.assert_array_equal(keep["a"].numpy(), ref)
    np.testing.assert_array_equal(load_file(path)["a"].numpy(), [0, 0, 0])


# ---- save_model / load_model ----------------------------------------------------------

class Twin(nn.Module):
    """Two attributes naming one Linear: every parameter has two names."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(2, 2)
        self.b = self.a


class Tied(nn.Module):
    """An embedding and an output projection sharing one weight Parameter."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(4, 2)
        self.head = nn.Linear(2, 4, bias=False)
        self.head.weight = self.emb.weight


class Untied(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(4, 2)
        self.head = nn.Linear(2, 4, bias=False)


def test_save_model_keeps_one_name_per_shared_group(tmp_path):
    # Expected keys and metadata: what safetensors.torch 0.8 writes for these models.
    m = Twin()
    assert list(m.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]
    with pytest.raises(RuntimeError, match="Some tensors share memory"):
        save_file(m.state_dict(), tmp_path / "x.safetensors")
    path = tmp_path / "twin.safetensors"
    user_meta = {"k": "v"}
    save_model(m, path, metadata=user_meta)
    assert user_meta == {"k": "v"}
    with safe_open(path, "pt") as f:
        assert f.keys() == ["a.bias", "a.weight"]
        assert f.metadata() == {"b.bias": "a.bias", "b.weight": "a.weight", "k": "v"}
    m2 = Twin()
    assert load_model(m2, path) == (set(), [])
    assert m2.a is m2.b
    np.testing.assert_array_equal(m2.b.weight.detach().numpy(), m.a.weight.detach().numpy())

    path = tmp_path / "tied.safetensors"
    t = Tied()
    save_model(t, path, metadata={"head.weight": "mine"})
    with safe_open(path, "pt") as f:
        assert f.keys() == ["emb.weight"]
        assert f.metadata() == {"head.weight": "mine"}  # user entries are not overridden
    save_model(t, path)
    with safe_open(path, "pt") as f:
        assert f.metadata() == {"head.weight": "emb.weight"}
    t2 = Tied()
    assert load_model(t2, path) == (set(), [])
    assert t2.head.weight is t2.emb.weight
    np.testing.assert_array_equal(t2.head.weight.detach().numpy(), t.emb.weight.detach().numpy())


def test_load_model_prefers_the_names_in_the_file(tmp_path):
    # A file keeping "head.weight" (another choice of kept name) loads into Tied.
    path = tmp_path / "h.safetensors"
    save_file({"head.weight": torch.ones(4, 2)}, path)
    m = Tied()
    assert load_model(m, path) == (set(), [])
    assert float(m.emb.weight.sum()) == 8.0 and m.head.weight is m.emb.weight


def test_load_model_missing_and_unexpected_as_safetensors(tmp_path):
    path = tmp_path / "tied.safetensors"
    save_model(Tied(), path)
    with pytest.raises(RuntimeError) as e:
        load_model(Untied(), path)
    assert str(e.value) == 'Error(s) in loading state_dict for Untied:\n    Missing key(s) in state_dict: "head.weight"'
    assert load_model(Untied(), path, strict=False) == ({"head.weight"}, [])
    with pytest.raises(RuntimeError) as e:
        load_model(nn.Linear(3, 3), path)
    assert str(e.value) == ('Error(s) in loading state_dict for Linear:\n    Missing key(s) in state_dict: "bias", '
                            '"weight"\n    Unexpected key(s) in state_dict: "emb.weight"')


def test_save_model_refuses_partial_sharing_and_forces_contiguity(tmp_path):
    class Halves(nn.Module):
        def __init__(self):
            super().__init__()
            w = torch.zeros(4)
            self.register_buffer("x", w[:3])
            self.register_buffer("y", w[1:])

    with pytest.raises(RuntimeError, match="found no suitable name to keep"):
        save_model(Halves(), tmp_path / "h.safetensors")

    y = torch.arange(6.0).reshape(2, 3).t()

    class Strided(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("x", y)

    with pytest.raises(ValueError, match=r"non contiguous tensor: `x`.*force_contiguous=True"):
        save_model(Strided(), tmp_path / "s.safetensors", force_contiguous=False)
    save_model(Strided(), tmp_path / "s.safetensors")
    np.testing.assert_array_equal(load_file(tmp_path / "s.safetensors")["x"].numpy(), y.numpy())


# ---- bad input ----------------------------------------------------------------------------

def _file(header, body=b"", n=None):
    h = json.dumps(header).encode() if isinstance(header, dict) else header
    return struct.pack("<Q", len(h) if n is None else n) + h + body


BAD = {
    "empty": b"",
    "short": b"\x01\x02\x03",
    "header_longer_than_file": struct.pack("<Q", 1000) + b"{}",
    "huge_header_length": struct.pack("<Q", 2**63) + b"{}",
    "bad_json": _file(b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]'),
    "not_utf8": _file(b'{"a\xff": 1}'),
    "wrong_types": _file({"a": 1}),
    "unknown_dtype": _file({"a": {"dtype": "Q9", "shape": [1], "data_offsets": [0, 1]}}, b"\0"),
    "overlapping": _file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                          "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12),
    "gap": _file({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8),
    "out_of_range": _file({"a": {"dtype": "F32", "shape": [200], "data_offsets": [0, 800]}}, b"\0" * 8),
    "size_mismatch": _file({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8),
    "trailing_bytes": _file({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}, b"\0\0"),
    "shape_overflow": _file({"a": {"dtype": "F64", "shape": [2**62, 2**62], "data_offsets": [0, 0]}}),
    "negative_offset": _file({"a": {"dtype": "U8", "shape": [1], "data_offsets": [-1, 0]}}, b"\0"),
    "metadata_not_str": _file({"__metadata__": {"a": 1}}),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_raise_safetensor_error(case, tmp_path):
    data = BAD[case]
    with pytest.raises(SafetensorError):
        load(data)
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    with pytest.raises(SafetensorError):
        load_file(path)
    with pytest.raises(SafetensorError):
        safe_open(path, framework="pt")


def test_unsupported_dtype_names_dtype_and_tensor(tmp_path):
    data = _file({"w8": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}}, b"\0\0")
    with pytest.raises(SafetensorError, match=r"F8_E4M3.*w8|w8.*F8_E4M3"):
        load(data)
    for dtype, size in [("U16", 2), ("U32", 4), ("U64", 8), ("C64", 8)]:
        with pytest.raises(SafetensorError, match=dtype):
            load(_file({"x": {"dtype": dtype, "shape": [1], "data_offsets": [0, size]}}, b"\0" * size))


def test_load_argument_type():
    with pytest.raises(TypeError):
        load("abc")
    assert load(bytearray(save({"a": torch.ones(1)})))["a"].tolist() == [1.0]


def test_every_truncation_raises(tmp_path):
    data = save({"a": torch.arange(5, dtype=torch.int32), "b": torch.ones(2, 2)}, metadata={"m": "x"})
    for n in range(len(data)):
        with pytest.raises(SafetensorError):
            load(data[:n])
    path = tmp_path / "t.safetensors"
    for n in range(0, len(data), 7):
        path.write_bytes(data[:n])
        with pytest.raises(SafetensorError):
            load_file(path)


def test_bool_bytes_other_than_0_and_1_read_as_true(tmp_path):
    data = _file({"m": {"dtype": "BOOL", "shape": [4], "data_offsets": [0, 4]}}, bytes([0, 1, 2, 255]))
    assert load(data)["m"].tolist() == [False, True, True, True]
    path = tmp_path / "b.safetensors"
    path.write_bytes(data)
    assert load_file(path)["m"].tolist() == [False, True, True, True]


def test_misaligned_tensor_loads_by_copy(tmp_path):
    h = json.dumps({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},
                    "b": {"dtype": "F64", "shape": [2], "data_offsets": [1, 17]}}).encode()
    h += b" " * (-len(h) % 8)
    data = struct.pack("<Q", len(h)) + h + b"\x07" + struct.pack("<2d", 1.25, -3.5)
    path = tmp_path / "m.safetensors"
    path.write_bytes(data)
    out = load_file(path)
    assert out["b"].tolist() == [1.25, -3.5] and out["a"].tolist() == [7]
    with safe_open(path, "pt") as f:
        assert f.get_slice("b")[1:].tolist() == [-3.5]


# A child process loads every mutant, so that a crash (segfault, abort) is a non-zero exit
# naming the mutant's seed instead of killing the test run.
FUZZ_CHILD = textwrap.dedent(r"""
    import os, random, re, struct, sys
    import ferrotorch as torch
    from ferrotorch.safetensors import load, load_file, safe_open

    base = open(sys.argv[1], "rb").read()
    tmp = sys.argv[2]
    count = int(sys.argv[3])
    (n,) = struct.unpack("<Q", base[:8])

    def mutate(seed):
        r = random.Random(seed)
        b = bytearray(base)
        kind = seed % 5
        if kind == 4:
            # bytes of the data section only (invalid bools, NaNs, ...): these files load
            for _ in range(r.randint(1, 6)):
                b[r.randrange(8 + n, len(b))] = r.randrange(256)
            return bytes(b)
        if kind == 0:
            return bytes(b[:r.randrange(len(b))])
        if kind == 1:
            for _ in range(r.randint(1, 4)):
                i = r.randrange(len(b))
                b[i] ^= 1 << r.randrange(8)
            return bytes(b)
        if kind == 2:
            header = b[8:8 + n].decode("utf-8", "replace")
            nums = list(re.finditer(r"\d+", header))
            for m in r.sample(nums, min(len(nums), r.randint(1, 3))):
                v = r.choice([0, 1, 2, 3, 7, 8, 9, 63, 64, 255, 2**31, 2**32 + 1, 2**63 - 1, 2**64 - 1, 10**30,
                              int(m.group()) + r.randint(-9, 9)])
                header = header[:m.start()] + str(v) + header[m.end():]
                nums = list(re.finditer(r"\d+", header))
                if not nums:
                    break
            hb = header.encode()
            if r.random() < 0.5:
                hb += b" " * (-len(hb) % 8)
                return struct.pack("<Q", len(hb)) + hb + bytes(b[8 + n:])
            return struct.pack("<Q", n) + hb + bytes(b[8 + n:])
        i = r.randrange(8)
        b[i] = r.randrange(256)
        return bytes(b)

    ok = err = 0
    for seed in range(count):
        data = mutate(seed)
        print(seed, flush=True)
        via = seed % 3
        try:
            if via == 0:
                out = load(data)
            else:
                path = os.path.join(tmp, "m.safetensors")
                with open(path, "wb") as f:
                    f.write(data)
                if via == 1:
                    out = load_file(path)
                else:
                    with safe_open(path, framework="pt") as f:
                        out = {k: f.get_tensor(k) for k in f.keys()}
                        for k in f.keys():
                            s = f.get_slice(k)
                            if s.get_shape():
                                s[:1]
            for t in out.values():
                t.to(torch.float64).sum()  # read every element
            ok += 1
        except Exception:
            err += 1
    print("done", ok, err, flush=True)
""")


def test_fuzzed_files_never_crash(tmp_path):
    tensors = {"w": torch.arange(12, dtype=torch.float32).reshape(3, 4), "b": torch.ones(3, dtype=torch.bfloat16),
               "i": torch.tensor(5, dtype=torch.int64), "m": torch.tensor([True, False]),
               "e": torch.zeros(0, 2, dtype=torch.int16), "h": torch.arange(5, dtype=torch.float16)}
    base = tmp_path / "base.safetensors"
    save_file(tensors, base, metadata={"format": "pt"})
    script = tmp_path / "fuzz.py"
    script.write_text(FUZZ_CHILD)
    count = 2000
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [os.path.dirname(os.path.dirname(torch.__file__)),
                                                     env.get("PYTHONPATH", "")] if p)
    p = subprocess.run([sys.executable, str(script), str(base), str(tmp_path), str(count)],
                       capture_output=True, text=True, env=env, timeout=600)
    lines = p.stdout.split()
    last = lines[-1] if lines else "none"
    assert p.returncode == 0, (f"child exited with {p.returncode} at mutant seed {last}\n"
                               f"{p.stderr[-3000:]}")
    tail = p.stdout.strip().splitlines()[-1].split()
    assert tail[0] == "done" and int(tail[1]) + int(tail[2]) == count
    # Both outcomes occur: some mutants still load, most are rejected.
    assert int(tail[1]) > 0 and int(tail[2]) > 0


# ---- optional cross-checks with the real safetensors -------------------------------------

def test_cross_check_with_safetensors_numpy(tmp_path):
    st_np = pytest.importorskip("safetensors.numpy")
    tensors = {name: sample(name, (2, 3), seed=i)[0] for i, name in enumerate(ALL_DTYPES) if name != "bfloat16"}
    path = tmp_path / "ours.safetensors"
    save_file(tensors, path, metadata={"x": "y"})
    theirs = st_np.load_file(str(path))
    for k, t in tensors.items():
        np.testing.assert_array_equal(theirs[k], t.numpy())
    st_np.save_file({k: t.numpy() for k, t in tensors.items()}, str(tmp_path / "theirs.safetensors"))
    for k, t in load_file(tmp_path / "theirs.safetensors").items():
        assert_same(t, tensors[k])


TORCH_CHILD = textwrap.dedent(r"""
    import sys
    import numpy as np
    import torch
    from safetensors.torch import load_file, save_file, save_model, load_model

    ours, theirs, expected, model_path = sys.argv[1:5]
    ref = np.load(expected)
    out = load_file(ours)
    assert sorted(out) == sorted(ref.files), (sorted(out), ref.files)
    for k in ref.files:
        got = out[k].float().numpy() if out[k].dtype == torch.bfloat16 else out[k].numpy()
        assert str(out[k].dtype).split(".")[-1] == k.split("_")[0], (k, out[k].dtype)
        assert got.shape == ref[k].shape and np.array_equal(got, ref[k]), k
    g = torch.Generator().manual_seed(3)
    save_file({"f32": torch.randn(3, 5, generator=g), "bf16": torch.randn(4, generator=g).bfloat16(),
               "i64": torch.arange(-3, 3), "b": torch.tensor([True, False, True]),
               "s": torch.tensor(1.5, dtype=torch.float64), "e": torch.zeros(0, 3, dtype=torch.int8)},
              theirs, metadata={"from": "torch"})
    np.savez(theirs + ".npz", **{k: (v.float() if v.dtype == torch.bfloat16 else v).numpy()
                                  for k, v in load_file(theirs).items()})

    class Tied(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(4, 2)
            self.head = torch.nn.Linear(2, 4, bias=False)
            self.head.weight = self.emb.weight

    m = Tied()
    assert load_model(m, model_path) == (set(), []), "load_model"
    assert m.head.weight is m.emb.weight
    np.save(model_path + ".npy", m.emb.weight.detach().numpy())
    print("ok")
""")


@pytest.mark.skipif(not os.path.exists(TORCHENV_PYTHON), reason="no PyTorch + safetensors install at " + TORCHENV_PYTHON)
def test_round_trip_through_real_safetensors_torch(tmp_path):
    tensors, ref = {}, {}
    for i, name in enumerate(ALL_DTYPES):
        for shape, suffix in [((2, 3), "m"), ((), "s"), ((0, 2), "e")]:
            t, r = sample(name, shape, seed=i)
            tensors[f"{name}_{suffix}"] = t
            ref[f"{name}_{suffix}"] = r.astype(np.float32) if name == "bfloat16" else r.astype(name)
    ours = tmp_path / "ours.safetensors"
    save_file(tensors, ours, metadata={"from": "ferrotorch"})
    np.savez(tmp_path / "expected.npz", **ref)
    model = tmp_path / "tied.safetensors"
    tied = Tied()
    save_model(tied, model)
    theirs = tmp_path / "theirs.safetensors"
    p = subprocess.run([TORCHENV_PYTHON, "-c", TORCH_CHILD, str(ours), str(theirs), str(tmp_path / "expected.npz"),
                        str(model)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and "ok" in p.stdout, p.stderr[-3000:]
    want = np.load(str(theirs) + ".npz")
    got = load_file(theirs)
    assert sorted(got) == sorted(want.files)
    for k in want.files:
        np.testing.assert_array_equal(to_np(got[k]).astype(want[k].dtype), want[k], err_msg=k)
    assert got["bf16"].dtype == torch.bfloat16 and got["e"].shape == (0, 3) and got["s"].shape == ()
    with safe_open(theirs, "pt") as f:
        assert f.metadata() == {"from": "torch"}
    np.testing.assert_array_equal(np.load(str(model) + ".npy"), tied.emb.weight.detach().numpy())
