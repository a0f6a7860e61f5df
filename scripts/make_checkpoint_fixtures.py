"""Regenerate tests/fixtures/checkpoints: small files written by real PyTorch (and
safetensors.torch), which CI checks ferrotorch's loaders against without PyTorch.

Run with a Python that has PyTorch, NumPy and safetensors (kept outside this repo):
    /path/to/torch-venv/bin/python scripts/make_checkpoint_fixtures.py

Each checkpoint X.pt has expected values in X.npz (written by NumPy from the same PyTorch
tensors; bfloat16 as float32, which holds it exactly), keyed by the tensor's path in the
checkpoint ('a/b/0' for obj['a']['b'][0]).
"""
import collections
import os
import sys
import zipfile

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "checkpoints")
DTYPES = [torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
          torch.float16, torch.bfloat16, torch.float32, torch.float64]


def values(dtype, shape, seed):
    g = torch.Generator().manual_seed(seed)
    if dtype == torch.bool:
        return torch.rand(shape, generator=g) > 0.5
    if dtype.is_floating_point:
        return (torch.randn(shape, generator=g, dtype=torch.float64) * 10).to(dtype)
    lo, hi = (0, 255) if dtype == torch.uint8 else (-100, 100)
    return torch.randint(lo, hi, shape, generator=g, dtype=dtype)


def expected(obj, prefix="", out=None):
    """{path: ndarray} for every tensor inside obj."""
    out = {} if out is None else out
    if isinstance(obj, torch.Tensor):
        t = obj.detach()
        out[prefix] = (t.float() if t.dtype == torch.bfloat16 else t).numpy().copy()
    elif isinstance(obj, dict):
        for k, v in obj.items():
            expected(v, f"{prefix}/{k}" if prefix else str(k), out)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            expected(v, f"{prefix}/{i}" if prefix else str(i), out)
    return out


def save(name, obj, **kw):
    path = os.path.join(OUT, name + ".pt")
    torch.save(obj, path, **kw)
    np.savez(os.path.join(OUT, name + ".npz"), **expected(obj))
    return path


def main():
    os.makedirs(OUT, exist_ok=True)
    # 1. Every dtype, plus views that share a storage (saved once), non-contiguous and
    # offset views, 0-d and empty tensors.
    d = collections.OrderedDict()
    for i, dt in enumerate(DTYPES):
        d[str(dt).split(".")[1]] = values(dt, (3, 4), i)
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    d["base"] = base
    d["transposed"] = base.t()
    d["offset_view"] = base[1:, 2:5]
    d["strided_view"] = base[::2, ::3]
    d["row"] = base[2]
    d["scalar"] = torch.tensor(3.5, dtype=torch.float64)
    d["empty"] = torch.zeros(0, 3, dtype=torch.int64)
    save("dtypes", d)

    # 2. A module's state dict (OrderedDict with _metadata) and the outputs it gives.
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    save("mlp_state_dict", mlp.state_dict())
    x = torch.randn(5, 4)
    save("mlp_io", {"x": x, "y": mlp(x).detach()})

    # 3. An optimizer's state dict after two Adam steps (int keys, tuples, floats, bools).
    opt = torch.optim.Adam(mlp.parameters(), lr=1e-3, betas=(0.8, 0.9))
    for _ in range(2):
        opt.zero_grad()
        mlp(x).pow(2).sum().backward()
        opt.step()
    save("adam_state_dict", opt.state_dict())

    # 4. Parameters and requires_grad, nested containers and plain Python values.
    p = torch.nn.Parameter(values(torch.float32, (2, 3), 40))
    q = torch.nn.Parameter(values(torch.float32, (3,), 41), requires_grad=False)
    r = values(torch.float64, (2,), 42).requires_grad_()
    save("nested", {"params": [p, q], "leaf": r, "meta": {"epoch": 7, "lr": 0.25, "name": "run-1",
                    "flags": (True, False, None), "big": 2 ** 70, "neg": -5, "bytes": b"\x00\xffab",
                    "set": {1, 2}, "complex": 1.5 - 2j, "empty": [], "shared": [p, p]}})

    # 5. The pre-1.6 format (_use_new_zipfile_serialization=False), with a shared storage.
    leg = {"w": values(torch.float32, (3, 5), 50), "i": values(torch.int64, (4,), 51)}
    leg["w_t"] = leg["w"].t()
    leg["w_row"] = leg["w"][1]
    save("legacy", leg, _use_new_zipfile_serialization=False)

    # 6. A file as a big-endian machine writes it: PyTorch has no switch for this, so take a
    # little-endian save and rewrite it the way torch.save does on such a machine (byteorder
    # record 'big', each storage's elements byte-swapped). torch.load of the result gives
    # back the original values, which checks the rewrite.
    be = {"f": values(torch.float32, (2, 3), 60), "h": values(torch.float16, (3,), 61),
          "l": values(torch.int64, (2,), 62), "bf": values(torch.bfloat16, (2,), 63),
          "u": values(torch.uint8, (3,), 64), "d": values(torch.float64, (2, 2), 65)}
    little = os.path.join(OUT, "_little.pt")
    torch.save(be, little)
    big = os.path.join(OUT, "bigendian.pt")
    sizes = {}
    for k, v in be.items():
        sizes[v.untyped_storage().data_ptr()] = v.element_size()
    keys = {}
    # storage keys are assigned in pickling order: the dict's order here.
    for i, v in enumerate(be.values()):
        keys[str(i)] = v.element_size()
    with zipfile.ZipFile(little) as zin, zipfile.ZipFile(big, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            rec = info.filename.split("/", 1)[1]
            if rec == "byteorder":
                data = b"big"
            elif rec.startswith("data/"):
                isz = keys[rec[5:]]
                data = np.frombuffer(data, dtype=f"<u{isz}" if isz > 1 else "u1").byteswap().tobytes()
            zout.writestr(info.filename, data)
    os.remove(little)
    np.savez(os.path.join(OUT, "bigendian.npz"), **expected(be))
    back = torch.load(big)
    for k, v in be.items():
        assert torch.equal(back[k], v), k

    # 7. safetensors files written by safetensors.torch.
    import safetensors.torch as st
    tensors = {str(dt).split(".")[1]: values(dt, (2, 3), 70 + i) for i, dt in enumerate(DTYPES)}
    tensors["empty"] = torch.zeros(0, 2)
    tensors["scalar"] = torch.tensor(2.0)
    st.save_file(tensors, os.path.join(OUT, "tensors.safetensors"), metadata={"format": "pt", "note": "fixture"})
    np.savez(os.path.join(OUT, "tensors.npz"), **expected(tensors))
    st.save_model(mlp, os.path.join(OUT, "mlp.safetensors"))
    np.savez(os.path.join(OUT, "mlp.npz"), **expected(mlp.state_dict()))

    # Every fixture loads back in PyTorch with weights_only=True.
    for f in sorted(os.listdir(OUT)):
        if f.endswith(".pt"):
            torch.load(os.path.join(OUT, f), weights_only=True)
    print("wrote", sorted(os.listdir(OUT)), "with torch", torch.__version__, file=sys.stderr)


if __name__ == "__main__":
    main()
