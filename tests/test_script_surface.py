"""The lines at the top of training scripts: torch.backends.* flags and queries, deterministic
algorithms, float32 matmul precision, torch.compile (eager), the legacy autograd.Variable and
torch.cuda.*Tensor type objects (values and messages checked against PyTorch 2.15)."""
import warnings

import pytest

import ferrotorch as torch
from ferrotorch import nn
from ferrotorch.autograd import Variable


def test_backends_flags():
    cudnn = torch.backends.cudnn
    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32) == (True, False, False, True)
    assert cudnn.is_available() is False and cudnn.version() is None
    cudnn.benchmark = True
    cudnn.deterministic = True
    try:
        assert torch.backends.cudnn.benchmark and torch.backends.cudnn.deterministic
    finally:
        cudnn.benchmark = False
        cudnn.deterministic = False
    assert torch.backends.mps.is_available() is False and torch.backends.mps.is_built() is False
    assert torch.backends.mkldnn.is_available() is False and torch.backends.openmp.is_available() is False
    import ferrotorch.backends.cudnn as cudnn2
    assert cudnn2 is cudnn


def test_deterministic_algorithms():
    assert not torch.are_deterministic_algorithms_enabled()
    try:
        torch.use_deterministic_algorithms(True, warn_only=True)
        assert torch.are_deterministic_algorithms_enabled() and torch.is_deterministic_algorithms_warn_only_enabled()
        torch.use_deterministic_algorithms(True)
        assert torch.are_deterministic_algorithms_enabled()
        assert not torch.is_deterministic_algorithms_warn_only_enabled()
    finally:
        torch.use_deterministic_algorithms(False)
    assert not torch.are_deterministic_algorithms_enabled()
    with pytest.raises(TypeError, match=r"argument 'mode' \(position 1\) must be bool, not int"):
        torch.use_deterministic_algorithms(1)
    with pytest.raises(TypeError, match="argument 'warn_only' must be bool, not int"):
        torch.use_deterministic_algorithms(True, warn_only=1)


def test_float32_matmul_precision():
    assert torch.get_float32_matmul_precision() == "highest"
    try:
        for p, tf32 in [("high", True), ("medium", True), ("highest", False)]:
            torch.set_float32_matmul_precision(p)
            assert torch.get_float32_matmul_precision() == p
            assert torch.backends.cuda.matmul.allow_tf32 is tf32
        # the other way round: allow_tf32 sets the precision
        torch.backends.cuda.matmul.allow_tf32 = True
        assert torch.get_float32_matmul_precision() == "high"
        with pytest.warns(UserWarning, match="low is not one of 'highest', 'high', or 'medium'"):
            torch.set_float32_matmul_precision("low")
        assert torch.get_float32_matmul_precision() == "high"
        with pytest.raises(RuntimeError, match="set_float32_matmul_precision expects a str, but got int"):
            torch.set_float32_matmul_precision(3)
    finally:
        torch.set_float32_matmul_precision("highest")
    assert torch.backends.cuda.matmul.allow_tf32 is False


def test_compile_function_forms():
    def f(x):
        return x * 2 + 1

    x = torch.tensor([1.0, 2.0])
    for g in (torch.compile(f), torch.compile(f, fullgraph=True, dynamic=False, mode="max-autotune"),
              torch.compile(backend="eager")(f), torch.compile(options={"a": 1})(f)):
        assert g(x).tolist() == [3.0, 5.0]
        assert g.__name__ == "f"

    @torch.compile
    def h(x):
        return x - 1

    @torch.compile(mode="reduce-overhead")
    def k(x):
        return x + 10

    assert h(x).tolist() == [0.0, 1.0] and k(x).tolist() == [11.0, 12.0]
    assert torch.compile(f, disable=True) is f


def test_compile_module():
    torch.manual_seed(0)
    m = nn.Linear(3, 2)
    c = torch.compile(m)
    x = torch.randn(4, 3)
    assert c(x).tolist() == m(x).tolist()
    assert c._orig_mod is m and c.weight is m.weight and c.in_features == 3
    assert sorted(c.state_dict()) == ["_orig_mod.bias", "_orig_mod.weight"]
    assert [p is q for p, q in zip(c.parameters(), m.parameters())] == [True, True]


def test_compile_bad_args():
    with pytest.raises(AssertionError, match="A callable function is expected, but <class 'int'> is provided."):
        torch.compile(3)
    with pytest.raises(RuntimeError, match="Unrecognized mode=fast, should be one of: default, lite, reduce-overhead, max-autotune-no-cudagraphs, max-autotune$"):
        torch.compile(abs, mode="fast")
    with pytest.raises(RuntimeError, match="Either mode or options can be specified, but both can't"):
        torch.compile(abs, mode="default", options={})
    with pytest.raises(RuntimeError, match="Invalid backend: 'nope'"):
        torch.compile(abs, backend="nope")
    with pytest.raises(RuntimeError, match="Model can't be None"):
        torch.compile()(None)


def test_variable():
    t = torch.ones(2, requires_grad=True)
    y = t * 2
    assert isinstance(t, Variable) and isinstance(y, Variable) and not isinstance(3, Variable)
    assert torch.autograd.Variable is Variable
    v = Variable(y)
    # a new tensor over the same data, cut from the graph
    assert v is not y and v.grad_fn is None and v.is_leaf and not v.requires_grad
    assert v.data_ptr() == y.data_ptr()
    w = Variable(torch.ones(2), requires_grad=True)
    assert w.requires_grad and w.is_leaf
    (w * 3).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]
    assert Variable().shape == (0,)
    with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
        Variable([1, 2])


def test_variable_volatile():
    t = torch.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="volatile was removed and now has no effect"):
        v = Variable(t, volatile=True)
    assert not v.requires_grad and v.grad_fn is None
    with pytest.warns(UserWarning, match="volatile was removed"):
        with pytest.raises(ValueError, match="Variable can't be volatile and require_grad at the same time!"):
            Variable(t, True, True)
    with pytest.warns(UserWarning, match=r"volatile was removed \(Variable.volatile is always False\)"):
        assert t.volatile is False


def test_cuda_legacy_types():
    assert repr(torch.cuda.FloatTensor) == "<class 'torch.cuda.FloatTensor'>"
    cpu = torch.ones(2)
    assert isinstance(cpu, torch.FloatTensor) and not isinstance(cpu, torch.cuda.FloatTensor)
    assert not isinstance(cpu.long(), torch.cuda.LongTensor) and isinstance(cpu.long(), torch.LongTensor)
    for name in ("DoubleTensor", "HalfTensor", "BFloat16Tensor", "ByteTensor", "CharTensor", "ShortTensor",
                 "IntTensor", "LongTensor", "BoolTensor"):
        assert getattr(torch.cuda, name).dtype == getattr(torch, name).dtype
    if torch.cuda.is_available():
        with pytest.warns(UserWarning, match=r"The torch.cuda.\*DtypeTensor constructors are no longer recommended"):
            g = torch.cuda.FloatTensor([1.0, 2.0])
        assert g.device.type == "cuda" and isinstance(g, torch.cuda.FloatTensor)
        assert not isinstance(g, torch.FloatTensor)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError):
                torch.cuda.FloatTensor(2)
