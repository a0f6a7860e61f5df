"""ferrotorch.cuda without a usable CUDA device: PyTorch's behaviour on a machine with no
NVIDIA driver (queries that need a device raise RuntimeError, counters read 0, seeding
is accepted, tensors stay on the CPU). Every other tensor test runs on the CPU device;
the CUDA half of the device-parametrised suite is skipped until the backend is wired.
"""
import pytest

import ferrotorch as torch

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-device behaviour")


def test_queries_without_device():
    assert torch.cuda.is_available() is False
    assert torch.cuda.device_count() == 0
    assert torch.cuda.is_initialized() is False
    for f in (torch.cuda.current_device, torch.cuda.synchronize, torch.cuda.get_device_name,
              lambda: torch.cuda.set_device(0), lambda: torch.cuda.get_device_properties(0)):
        with pytest.raises(RuntimeError, match="NVIDIA driver"):
            f()


def test_memory_counters_and_seeding_are_inert():
    for f in (torch.cuda.memory_allocated, torch.cuda.max_memory_allocated, torch.cuda.memory_reserved):
        assert f() == 0
    assert torch.cuda.empty_cache() is None
    # Seeding CUDA must not disturb the CPU generator's stream.
    torch.manual_seed(7)
    a = torch.rand(4).tolist()
    torch.manual_seed(7)
    torch.cuda.manual_seed(123)
    torch.cuda.manual_seed_all(123)
    assert torch.rand(4).tolist() == a


def test_device_context_manager():
    with pytest.raises(RuntimeError, match="NVIDIA driver"):
        with torch.cuda.device(0):
            pass


def test_cuda_tensors_raise_and_leave_input_intact():
    t = torch.arange(3.0)
    for f in (lambda: t.cuda(), lambda: t.to("cuda"), lambda: torch.ones(2, device="cuda"),
              lambda: torch.zeros(2, device=torch.device("cuda:0"))):
        with pytest.raises(RuntimeError):
            f()
    assert t.device.type == "cpu" and not t.is_cuda
    assert t.tolist() == [0.0, 1.0, 2.0]


def test_device_objects():
    d = torch.device("cuda:1")
    assert (d.type, d.index) == ("cuda", 1)
    assert torch.device("cuda").index is None
    assert str(torch.device("cuda", 0)) == "cuda:0"
    assert torch.device("cpu") != torch.device("cuda:0")
