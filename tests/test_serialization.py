"""ferrotorch.save / ferrotorch.load round trips (values checked against NumPy copies)."""
import collections
import io
import pickle

import numpy as np
import pytest

import ferrotorch as torch


def test_round_trip_state_dict_of_all_dtypes(tmp_path):
    rng = np.random.default_rng(0)
    ref = {
        "f32": rng.standard_normal((3, 4)).astype(np.float32),
        "f64": rng.standard_normal(5),
        "i64": rng.integers(-9, 9, (2, 2)),
        "u8": rng.integers(0, 255, 6).astype(np.uint8),
        "b": rng.random(4) > 0.5,
    }
    sd = collections.OrderedDict((k, torch.from_numpy(v.copy())) for k, v in ref.items())
    sd["t"] = torch.from_numpy(ref["f32"].copy()).t()  # non-contiguous
    sd["bf16"] = torch.tensor([1.5, -2.25, 3.0], dtype=torch.bfloat16)
    path = tmp_path / "sd.pt"
    torch.save(sd, path)
    out = torch.load(path)
    assert isinstance(out, collections.OrderedDict) and list(out) == list(sd)
    for k, v in ref.items():
        assert out[k].dtype == sd[k].dtype
        np.testing.assert_array_equal(out[k].numpy(), v)
    np.testing.assert_array_equal(out["t"].numpy(), ref["f32"].T)
    assert out["bf16"].dtype == torch.bfloat16
    np.testing.assert_array_equal(out["bf16"].float().numpy(), [1.5, -2.25, 3.0])


def test_round_trip_nested_containers_and_file_objects():
    obj = {"step": 3, "lr": 0.1, "names": ["a", "b"], "pair": (torch.arange(3), None)}
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    out = torch.load(buf)
    assert out["step"] == 3 and out["lr"] == 0.1 and out["names"] == ["a", "b"] and out["pair"][1] is None
    assert out["pair"][0].tolist() == [0, 1, 2]


def test_model_weights_round_trip(tmp_path):
    torch.manual_seed(0)
    a = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    torch.save(a.state_dict(), tmp_path / "m.pt")
    b = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    b.load_state_dict(torch.load(tmp_path / "m.pt"))
    x = torch.randn(5, 3)
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())


class _Evil:
    def __reduce__(self):
        return (print, ("should not run",))


def test_weights_only_refuses_arbitrary_globals():
    buf = io.BytesIO()
    torch.save({"x": _Evil()}, buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        torch.load(buf)
    buf.seek(0)
    assert torch.load(buf, weights_only=False)["x"] is None  # print(...) returns None


def test_pytorch_checkpoint_formats_are_refused_clearly(tmp_path):
    # A zip archive (torch.save's format) and the legacy magic-number stream both raise,
    # naming the format, instead of an unpickling error or a bogus integer result.
    import zipfile
    with zipfile.ZipFile(tmp_path / "zip.pt", "w") as z:
        z.writestr("archive/data.pkl", b"")
    with pytest.raises(RuntimeError, match="zip archive"):
        torch.load(tmp_path / "zip.pt")
    with open(tmp_path / "legacy.pt", "wb") as f:
        pickle.dump(0x1950a86a20f9469cfc6c, f, protocol=2)
        pickle.dump(1001, f, protocol=2)
    with pytest.raises(RuntimeError, match="legacy-format"):
        torch.load(tmp_path / "legacy.pt", weights_only=False)


class _Pickled:
    """Pickles exactly as a tensor saved by `Tensor.__reduce__` with the given extra fields
    (old 3-field pickles, or a tensor saved on a CUDA device)."""

    def __init__(self, array, *extra):
        self.array, self.extra = array, extra

    def __reduce__(self):
        from ferrotorch._utils import _rebuild_tensor
        return _rebuild_tensor, (self.array, "float32", False, *self.extra)


def test_callable_map_location_gets_the_saved_location():
    t = torch.tensor([[1.5, -2.0], [3.0, 0.25]])
    buf = io.BytesIO()
    torch.save({"w": t, "b": t[0]}, buf)
    seen = []
    d = torch.load(io.BytesIO(buf.getvalue()), map_location=lambda s, loc: seen.append(loc) or s)
    assert set(seen) == {"cpu"} and d["w"].tolist() == t.tolist() and d["b"].tolist() == t[0].tolist()
    # None: the saved location, as PyTorch's restore_location falls back to
    d = torch.load(io.BytesIO(buf.getvalue()), map_location=lambda s, loc: None)
    assert d["w"].device.type == "cpu" and d["w"].tolist() == t.tolist()


def test_device_is_saved_and_map_location_applies_at_load():
    a = np.array([1.5, -2.0], np.float32)
    t = torch.tensor(a)
    assert t.__reduce__()[1][3] == "cpu"
    # a pickle from before the device field loads on the CPU
    old = torch.load(io.BytesIO(pickle.dumps(_Pickled(a))))
    assert old.device.type == "cpu" and old.tolist() == a.tolist()
    # a tensor saved on cuda:0 maps to the CPU by string, device or dict, as PyTorch's load
    blob = pickle.dumps({"w": _Pickled(a, "cuda:0")})
    for ml in ("cpu", torch.device("cpu"), {"cuda:0": "cpu"}):
        w = torch.load(io.BytesIO(blob), map_location=ml)["w"]
        assert w.device.type == "cpu" and w.tolist() == a.tolist()
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA device"):
            torch.load(io.BytesIO(blob))
        with pytest.raises(RuntimeError, match="Attempting to deserialize object on a CUDA device"):
            pickle.loads(blob)
    # a callable gets (storage, saved location) and its result is used; None means the saved
    # location (PyTorch's restore_location)
    seen = []
    w = torch.load(io.BytesIO(blob), map_location=lambda s, loc: seen.append(loc) or s)["w"]
    assert seen == ["cuda:0"] and w.device.type == "cpu" and w.tolist() == a.tolist()
    # outside a load, map_location does not linger
    assert pickle.loads(pickle.dumps(t)).device.type == "cpu"
