"""torch.set_default_device / get_default_device and `with torch.device(...)` (issue 19).

Behaviour checked against PyTorch 2.15 (CPU build): the default is thread-local, factories
(zeros, rand, arange, tensor, as_tensor, nn parameters...) honour it, `*_like`, `new_*`,
`from_numpy` and the legacy `torch.Tensor(...)` constructor keep their own rule, an explicit
`device=` wins, `set_default_device(None)` resets, and a CUDA default without a GPU is
accepted until a factory runs (PyTorch's "Found no NVIDIA driver" RuntimeError then).
"""
import threading

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch import nn

CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def _reset():
    torch.set_default_device(None)
    yield
    torch.set_default_device(None)


def _no_gpu():
    return torch.cuda.device_count() == 0


def test_get_default_device_values():
    assert torch.get_default_device() == CPU
    assert repr(torch.get_default_device()) == "device(type='cpu')"
    torch.set_default_device("cpu")
    assert repr(torch.get_default_device()) == "device(type='cpu')"
    torch.set_default_device("cpu:0")
    assert repr(torch.get_default_device()) == "device(type='cpu', index=0)"
    torch.set_default_device(torch.device("cpu"))
    assert torch.get_default_device() == CPU
    torch.set_default_device(None)
    assert repr(torch.get_default_device()) == "device(type='cpu')"


def test_set_default_device_bad_string():
    with pytest.raises(RuntimeError, match="device type at start of device string: foo"):
        torch.set_default_device("foo")
    assert torch.get_default_device() == CPU  # unchanged


FACTORIES = [
    ("zeros", lambda **kw: torch.zeros(2, 3, **kw)),
    ("ones", lambda **kw: torch.ones(2, **kw)),
    ("empty", lambda **kw: torch.empty(2, **kw)),
    ("full", lambda **kw: torch.full((2,), 1.5, **kw)),
    ("arange", lambda **kw: torch.arange(3, **kw)),
    ("linspace", lambda **kw: torch.linspace(0, 1, 3, **kw)),
    ("logspace", lambda **kw: torch.logspace(0, 1, 3, **kw)),
    ("eye", lambda **kw: torch.eye(2, **kw)),
    ("rand", lambda **kw: torch.rand(2, **kw)),
    ("randn", lambda **kw: torch.randn(2, **kw)),
    ("randint", lambda **kw: torch.randint(0, 5, (2,), **kw)),
    ("randperm", lambda **kw: torch.randperm(4, **kw)),
    ("tensor", lambda **kw: torch.tensor([1.0, 2.0], **kw)),
    ("as_tensor", lambda **kw: torch.as_tensor(np.ones(2), **kw)),
    ("tril_indices", lambda **kw: torch.tril_indices(3, 3, **kw)),
]


@pytest.mark.parametrize("name,make", FACTORIES, ids=[f[0] for f in FACTORIES])
def test_factories_on_cpu_default(name, make):
    torch.set_default_device("cpu")
    t = make()
    assert t.device == CPU
    with torch.device("cpu"):
        assert make().device == CPU


@pytest.mark.skipif(not _no_gpu(), reason="checks the no-GPU error")
@pytest.mark.parametrize("name,make", FACTORIES, ids=[f[0] for f in FACTORIES])
def test_factories_honour_cuda_default(name, make):
    # A factory that honours the default goes to CUDA: PyTorch's error on a machine
    # without a GPU. An explicit device= wins over the default.
    torch.set_default_device("cuda")
    with pytest.raises(RuntimeError, match="Found no NVIDIA driver"):
        make()
    assert make(device="cpu").device == CPU
    torch.set_default_device(None)
    assert make().device == CPU
    with torch.device("cuda:0"):
        with pytest.raises(RuntimeError, match="Found no NVIDIA driver"):
            make()
        assert make(device=torch.device("cpu")).device == CPU
    assert make().device == CPU


@pytest.mark.skipif(not _no_gpu(), reason="checks the no-GPU error")
def test_cuda_default_without_gpu():
    torch.set_default_device("cuda")              # accepted, as PyTorch
    with pytest.raises(RuntimeError, match="Found no NVIDIA driver"):
        torch.get_default_device()                # reads the index a tensor would get
    torch.set_default_device("cuda:1")
    assert repr(torch.get_default_device()) == "device(type='cuda', index=1)"
    torch.set_default_device(3)                   # an int is a CUDA ordinal
    assert repr(torch.get_default_device()) == "device(type='cuda', index=3)"


@pytest.mark.skipif(not _no_gpu(), reason="checks the no-GPU error")
def test_what_keeps_its_own_device():
    # As PyTorch: *_like, new_*, from_numpy, torch.Tensor(...), ops on CPU tensors and
    # Parameter(...) of a CPU tensor stay on the CPU under a CUDA default.
    x = torch.ones(2, device="cpu")
    torch.set_default_device("cuda")
    assert torch.zeros_like(x).device == CPU
    assert torch.rand_like(x).device == CPU
    assert x.new_zeros(3).device == CPU
    assert torch.from_numpy(np.ones(2)).device == CPU
    assert torch.Tensor(2, 3).device == CPU
    assert (x + 1).device == CPU
    assert nn.Parameter(x).device == CPU


@pytest.mark.skipif(not _no_gpu(), reason="checks the no-GPU error")
def test_module_parameters_follow_the_default():
    # nn.Linear creates its parameters with factories: under a CUDA default (no GPU) that
    # is PyTorch's error; with device="cpu" they are on the CPU.
    with torch.device("cuda"):
        with pytest.raises(RuntimeError, match="Found no NVIDIA driver"):
            nn.Linear(2, 2)
        assert nn.Linear(2, 2, device="cpu").weight.device == CPU
    with torch.device("cpu"):
        lin = nn.Linear(2, 3)
    assert lin.weight.device == CPU and lin.bias.device == CPU


def test_device_context_manager_nesting_restores():
    d = torch.device("cpu:0")
    with d as entered:
        assert entered is d
        assert repr(torch.get_default_device()) == "device(type='cpu', index=0)"
        with torch.device("cuda:2"):
            assert repr(torch.get_default_device()) == "device(type='cuda', index=2)"
            with torch.device("cpu"):
                assert repr(torch.get_default_device()) == "device(type='cpu')"
            assert repr(torch.get_default_device()) == "device(type='cuda', index=2)"
        assert repr(torch.get_default_device()) == "device(type='cpu', index=0)"
    assert repr(torch.get_default_device()) == "device(type='cpu')"
    # The previous default (set_default_device) comes back after the block, also on an error.
    torch.set_default_device("cuda:1")
    with pytest.raises(ValueError):
        with torch.device("cpu"):
            assert torch.get_default_device() == CPU
            raise ValueError
    assert repr(torch.get_default_device()) == "device(type='cuda', index=1)"


def test_default_device_is_thread_local():
    torch.set_default_device("cuda:1")
    seen = []
    th = threading.Thread(target=lambda: seen.append(repr(torch.get_default_device())))
    th.start()
    th.join()
    assert seen == ["device(type='cpu')"]
    assert repr(torch.get_default_device()) == "device(type='cuda', index=1)"


def test_explicit_device_and_reset_on_cpu():
    torch.set_default_device("cpu")
    assert torch.zeros(2, device="cpu").device == CPU
    torch.set_default_device(None)
    assert torch.get_default_device() == CPU
    assert torch.zeros(2).device == CPU
