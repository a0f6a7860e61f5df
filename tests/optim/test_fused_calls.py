"""The update of all parameters of a group is one call into Rust (ferrotorch-specific:
checks the fused entry points `_C._sgd_step` / `_C._adam_step` are used once per group)."""
import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch import _C


@pytest.mark.parametrize("make, entry", [
    (lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9), "_sgd_step"),
    (lambda ps: torch.optim.Adam(ps, lr=0.1), "_adam_step"),
    (lambda ps: torch.optim.AdamW(ps, lr=0.1, amsgrad=True), "_adam_step"),
])
def test_one_rust_call_per_group(monkeypatch, make, entry):
    real = getattr(_C, entry)
    calls = []

    def spy(params, *args):
        calls.append(len(params))
        return real(params, *args)

    monkeypatch.setattr(_C, entry, spy)
    group_a = [torch.randn(3, requires_grad=True) for _ in range(4)]
    group_b = [torch.randn(2, 2, requires_grad=True) for _ in range(3)]
    opt = make([{"params": group_a}, {"params": group_b, "lr": 0.01}])
    before = [p.detach().clone() for p in group_a + group_b]
    for p in group_a + group_b:
        p.grad = torch.ones_like(p)
    opt.step()
    assert calls == [4, 3]
    # ...and that call did update every parameter.
    for b, p in zip(before, group_a + group_b):
        assert not np.array_equal(b.numpy(), p.detach().numpy())
