"""torch.amp.GradScaler and its two fused kernels on CPU: skipped steps and backoff on
inf/NaN, growth after growth_interval good steps, unscale_ values, state_dict against the
one PyTorch wrote (tests/fixtures/autocast/grad_scaler.json), and bad input."""
import json
import math
import os
import warnings

import numpy as np
import pytest

import ferrotorch as torch

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "..", "fixtures", "autocast", "grad_scaler.json")) as _f:
    FIX = json.load(_f)


def test_sequence_matches_pytorch():
    init = FIX["init"]
    w = torch.nn.Parameter(torch.tensor(init["w"]))
    opt = torch.optim.SGD([w], lr=init["lr"])
    sc = torch.amp.GradScaler("cpu", init_scale=init["init_scale"], growth_factor=init["growth_factor"],
                              backoff_factor=init["backoff_factor"], growth_interval=init["growth_interval"])
    for s in FIX["steps"]:
        g = [float(v) for v in s["grad_in"]]
        opt.zero_grad()
        loss = (w * torch.tensor(g)).sum()
        sc.scale(loss).backward()
        sc.step(opt)
        sc.update()
        assert sc.state_dict() == s["state"]
        np.testing.assert_array_equal(w.detach().numpy(), np.array(s["w"], dtype=np.float32))


def test_default_state_dict():
    assert torch.amp.GradScaler("cpu").state_dict() == FIX["default_state"]
    assert list(torch.amp.GradScaler("cpu").state_dict()) == [
        "scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker"]


def _setup(grad, scale=4.0, interval=3):
    w = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.SGD([w], lr=1.0)
    sc = torch.amp.GradScaler("cpu", init_scale=scale, growth_interval=interval)
    (w * torch.tensor(grad)).sum().mul(sc.get_scale()).backward()
    sc.scale(torch.ones(()))  # initialises the scale tensor, as scale(loss) does
    return w, opt, sc


def test_inf_step_skipped_and_backoff():
    w, opt, sc = _setup([1.0, math.inf, 2.0])
    assert sc.step(opt) is None
    np.testing.assert_array_equal(w.detach().numpy(), [1.0, 1.0, 1.0])  # not stepped
    sc.update()
    assert sc.get_scale() == 2.0 and sc._get_growth_tracker() == 0


def test_unscale_values_and_step():
    w, opt, sc = _setup([1.0, -2.0, 0.5], scale=8.0)
    sc.unscale_(opt)
    # grad = 8 * g, unscaled by 1/8 exactly
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, -2.0, 0.5])
    with pytest.raises(RuntimeError, match=r"unscale_\(\) has already been called on this optimizer since the last update\(\)."):
        sc.unscale_(opt)
    sc.step(opt)
    np.testing.assert_array_equal(w.detach().numpy(), [0.0, 3.0, 0.5])
    with pytest.raises(RuntimeError, match=r"unscale_\(\) is being called after step\(\)."):
        sc.unscale_(opt)
    with pytest.raises(RuntimeError, match=r"step\(\) has already been called since the last update\(\)."):
        sc.step(opt)
    sc.update()
    assert sc._get_growth_tracker() == 1 and sc.get_scale() == 8.0


def test_growth_after_interval():
    w = torch.nn.Parameter(torch.ones(2))
    opt = torch.optim.SGD([w], lr=0.0)
    sc = torch.amp.GradScaler("cpu", init_scale=2.0, growth_factor=3.0, growth_interval=3)
    scales = []
    for _ in range(7):
        opt.zero_grad()
        sc.scale(w.sum()).backward()
        sc.step(opt)
        sc.update()
        scales.append(sc.get_scale())
    # x3 after every 3rd good step
    assert scales == [2.0, 2.0, 6.0, 6.0, 6.0, 18.0, 18.0]
    sc.update(5.0)
    assert sc.get_scale() == 5.0
    sc.update(torch.tensor(7.0))
    assert sc.get_scale() == 7.0


def test_scale_nested_and_closure():
    sc = torch.amp.GradScaler("cpu", init_scale=4.0)
    a, b = torch.ones(2), torch.full((3,), 2.0)
    out = sc.scale([a, (b, a)])
    assert isinstance(out, list) and isinstance(out[1], tuple)
    np.testing.assert_array_equal(out[1][0].numpy(), [8.0, 8.0, 8.0])
    with pytest.raises(ValueError, match="outputs must be a Tensor or an iterable of Tensors"):
        sc.scale([1.0])
    opt = torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1)
    with pytest.raises(RuntimeError, match="Closure use is not currently supported if GradScaler is enabled."):
        sc.step(opt, closure=lambda: 0)


def test_load_state_dict_and_disabled():
    sc = torch.amp.GradScaler("cpu")
    sc.load_state_dict({"scale": 128.0, "growth_factor": 4.0, "backoff_factor": 0.25, "growth_interval": 5,
                        "_growth_tracker": 3})
    assert sc.get_scale() == 128.0 and sc.get_growth_factor() == 4.0 and sc.get_backoff_factor() == 0.25
    assert sc.get_growth_interval() == 5 and sc._get_growth_tracker() == 3
    with pytest.raises(RuntimeError, match="The source state dict is empty"):
        sc.load_state_dict({})
    off = torch.amp.GradScaler("cpu", enabled=False)
    assert off.state_dict() == {} and off.get_scale() == 1.0 and not off.is_enabled()
    t = torch.ones(2)
    assert off.scale(t) is t
    with pytest.raises(AssertionError, match="The growth factor must be > 1.0."):
        torch.amp.GradScaler("cpu", growth_factor=1.0)
    with pytest.raises(AssertionError, match="The backoff factor must be < 1.0."):
        torch.amp.GradScaler("cpu", backoff_factor=1.0)


def test_cuda_scaler_without_cuda():
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        sc = torch.cuda.amp.GradScaler()
    msgs = [str(x.message) for x in w]
    assert "`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use `torch.amp.GradScaler('cuda', args...)` instead." in msgs
    assert "torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling." in msgs
    assert not sc.is_enabled()


def test_fp16_grads_refused_by_unscale():
    w = torch.nn.Parameter(torch.ones(2, dtype=torch.float16))
    opt = torch.optim.SGD([w], lr=0.1)
    sc = torch.amp.GradScaler("cpu")
    sc.scale(w.float().sum()).backward()
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients."):
        sc.unscale_(opt)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16])
def test_kernel_non_finite_check_and_unscale(dtype):
    rng = np.random.default_rng(3)
    big = rng.standard_normal(70000)  # above the parallel split
    big += np.sign(big) * 0.01  # no float16 subnormals: x 1/4 stays exact in every float dtype
    grads = [torch.tensor(big).to(dtype), torch.tensor(rng.standard_normal((5, 4)) + 0.5).to(dtype).t()]
    ref = [g.double().numpy() * 0.25 for g in grads]
    found = torch.zeros(())
    torch._amp_foreach_non_finite_check_and_unscale_(grads, found, torch.tensor(0.25))
    assert found.item() == 0.0
    for g, r in zip(grads, ref):
        np.testing.assert_array_equal(g.double().numpy(), r)  # x 1/4 is exact in every float dtype
    grads[0][12345] = float("nan")
    torch._amp_foreach_non_finite_check_and_unscale_(grads, found, torch.tensor(1.0))
    assert found.item() == 1.0
    found2 = torch.zeros(())
    g = torch.tensor([1.0, -math.inf]).to(dtype)
    torch._amp_foreach_non_finite_check_and_unscale_([g], found2, torch.tensor(2.0))
    assert found2.item() == 1.0 and g[0].item() == 2.0


def test_kernel_bad_input():
    g = [torch.ones(2)]
    with pytest.raises(RuntimeError, match="found_inf must be a 1-element tensor."):
        torch._amp_foreach_non_finite_check_and_unscale_(g, torch.zeros(2), torch.tensor(1.0))
    with pytest.raises(RuntimeError, match="found_inf must be a float tensor."):
        torch._amp_foreach_non_finite_check_and_unscale_(g, torch.zeros((), dtype=torch.float64), torch.tensor(1.0))
    with pytest.raises(RuntimeError, match="inv_scale must be a 1-element tensor."):
        torch._amp_foreach_non_finite_check_and_unscale_(g, torch.zeros(()), torch.ones(2))
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        torch._amp_foreach_non_finite_check_and_unscale_([torch.ones(2, dtype=torch.int64)], torch.zeros(()),
                                                         torch.tensor(1.0))
    with pytest.raises(RuntimeError, match="growth_tracker must be an int tensor."):
        torch._amp_update_scale_(torch.tensor(1.0), torch.tensor(0), torch.zeros(()), 2.0, 0.5, 2)
    with pytest.raises(RuntimeError, match="current_scale must be a 1-element tensor."):
        torch._amp_update_scale_(torch.ones(2), torch.tensor(0, dtype=torch.int32), torch.zeros(()), 2.0, 0.5, 2)


def test_update_scale_kernel():
    s, t = torch.tensor(4.0), torch.tensor(1, dtype=torch.int32)
    r = torch._amp_update_scale_(s, t, torch.tensor(0.0), 2.0, 0.5, 2)
    assert r is s and s.item() == 8.0 and t.item() == 0
    torch._amp_update_scale_(s, t, torch.tensor(1.0), 2.0, 0.5, 2)
    assert s.item() == 4.0 and t.item() == 0
    big = torch.tensor(3e38)
    t.fill_(0)
    torch._amp_update_scale_(big, t, torch.tensor(0.0), 2.0, 0.5, 1)
    assert big.item() == pytest.approx(3e38) and t.item() == 0  # growth to inf is refused
