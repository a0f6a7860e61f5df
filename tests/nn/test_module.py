"""nn.Module and nn.Parameter: registration, iteration, state_dict, hooks, conversion, repr,
copying and pickling, with PyTorch's semantics and messages."""
import copy
import pickle
import re
from collections import OrderedDict

import numpy as np
import pytest

import ferrotorch as torch
import ferrotorch.nn as nn


def np_(t):
    return t.detach().numpy().copy()


class Net(nn.Module):
    """Two linears, a persistent buffer, a non-persistent buffer and a free parameter."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.scale = nn.Parameter(torch.ones(4))
        self.register_buffer("running", torch.zeros(4))
        self.register_buffer("scratch", torch.zeros(2), persistent=False)
        self.fc2 = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc2(self.fc1(x) * self.scale)


# ------------------------------------------------------------------ Parameter

def test_parameter_is_tensor_sharing_storage():
    t = torch.randn(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, torch.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    assert p.data_ptr() == t.data_ptr()
    assert not t.requires_grad  # the source tensor is left alone
    with torch.no_grad():
        p.mul_(2.0)
    np.testing.assert_array_equal(np_(t), np_(p))  # same storage


def test_parameter_requires_grad_false_and_empty():
    p = nn.Parameter(torch.ones(3), requires_grad=False)
    assert not p.requires_grad
    e = nn.Parameter()
    assert isinstance(e, nn.Parameter) and e.shape == (0,) and e.requires_grad


def test_parameter_from_non_leaf_is_detached_leaf():
    x = torch.ones(3, requires_grad=True)
    p = nn.Parameter(x * 2)
    assert p.is_leaf and p.grad_fn is None and p.requires_grad
    np.testing.assert_array_equal(np_(p), [2.0, 2.0, 2.0])


def test_parameter_repr():
    p = nn.Parameter(torch.tensor([1.0, 2.0]))
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    q = nn.Parameter(torch.tensor([1.0, 2.0], dtype=torch.float64), requires_grad=False)
    assert repr(q) == "Parameter containing:\ntensor([1., 2.], dtype=torch.float64)"


def test_parameter_deepcopy_and_pickle():
    p = nn.Parameter(torch.tensor([1.0, -2.0, 3.0]))
    for q in (copy.deepcopy(p), pickle.loads(pickle.dumps(p))):
        assert type(q) is nn.Parameter and q.requires_grad
        assert q.data_ptr() != p.data_ptr()
        np.testing.assert_array_equal(np_(q), [1.0, -2.0, 3.0])
    r = pickle.loads(pickle.dumps(nn.Parameter(torch.zeros(2), requires_grad=False)))
    assert type(r) is nn.Parameter and not r.requires_grad


def test_parameter_grad_accumulates():
    p = nn.Parameter(torch.tensor([1.0, 2.0, 3.0]))
    (p * p).sum().backward()
    np.testing.assert_allclose(np_(p.grad), [2.0, 4.0, 6.0])


# ------------------------------------------------------------------ registration

def test_attribute_registration():
    net = Net()
    assert list(net._parameters) == ["scale"]
    assert list(net._buffers) == ["running", "scratch"]
    assert net._non_persistent_buffers_set == {"scratch"}
    assert list(net._modules) == ["fc1", "fc2"]
    assert net.fc1 is net._modules["fc1"] and net.scale is net._parameters["scale"]
    assert net.running is net._buffers["running"]
    # None registered as a parameter is kept but skipped by parameters()
    net.extra = nn.Parameter(torch.zeros(1))
    net.extra = None
    assert "extra" in net._parameters and net.extra is None
    assert all(p is not None for p in net.parameters())
    # a plain attribute is not registered anywhere
    net.plain = torch.zeros(1)
    assert "plain" not in net._parameters and "plain" not in net._buffers
    # assigning a buffer name again keeps it a buffer (and non-persistent stays non-persistent)
    net.scratch = torch.ones(2)
    assert "scratch" in net._buffers and "scratch" in net._non_persistent_buffers_set


def test_reassigning_kind_moves_between_dicts():
    m = nn.Module()
    m.a = torch.zeros(1)
    m.a = nn.Parameter(torch.zeros(1))
    assert "a" in m._parameters and "a" not in m.__dict__
    m.register_buffer("b", torch.zeros(1))
    m.b = nn.Linear(1, 1)
    assert "b" in m._modules and "b" not in m._buffers


def test_delattr_and_dir():
    net = Net()
    d = dir(net)
    for name in ("fc1", "fc2", "scale", "running", "scratch", "forward", "training"):
        assert name in d
    del net.fc1, net.scale, net.running
    assert "fc1" not in net._modules and "scale" not in net._parameters and "running" not in net._buffers
    del net.scratch
    assert "scratch" not in net._non_persistent_buffers_set
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'fc1'"):
        net.fc1


def test_registration_errors():
    m = nn.Module()
    m.w = nn.Parameter(torch.zeros(2))
    with pytest.raises(TypeError, match=re.escape(
            "cannot assign 'torch.FloatTensor' as parameter 'w' (torch.nn.Parameter or None expected)")):
        m.w = torch.zeros(2)
    m.sub = nn.Linear(1, 1)
    with pytest.raises(TypeError, match=re.escape(
            "cannot assign 'int' as child module 'sub' (torch.nn.Module or None expected)")):
        m.sub = 3
    m.register_buffer("buf", torch.zeros(1))
    with pytest.raises(TypeError, match="cannot assign 'str' as buffer 'buf'"):
        m.buf = "x"
    with pytest.raises(KeyError, match="parameter name can.{1,2}t contain"):
        m.register_parameter("a.b", None)
    with pytest.raises(KeyError, match="buffer name can.{1,2}t be empty string"):
        m.register_buffer("", None)
    with pytest.raises(KeyError, match="attribute 'sub' already exists"):
        m.register_parameter("sub", None)
    with pytest.raises(TypeError, match="parameter name should be a string. Got int"):
        m.register_parameter(1, None)
    with pytest.raises(TypeError, match=re.escape(
            "cannot assign 'torch.FloatTensor' object to parameter 'q' (torch.nn.Parameter or None required)")):
        m.register_parameter("q", torch.zeros(1))
    with pytest.raises(TypeError, match="cannot assign 'list' object to buffer 'r'"):
        m.register_buffer("r", [1])
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        m.add_module("k", 5)
    with pytest.raises(KeyError, match="module name can.{1,2}t contain"):
        m.add_module("x.y", nn.Linear(1, 1))


def test_assign_before_init():
    class Bad(nn.Module):
        def __init__(self):
            self.lin = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=re.escape("cannot assign module before Module.__init__() call")):
        Bad()

    class BadP(nn.Module):
        def __init__(self):
            self.p = nn.Parameter(torch.zeros(1))

    with pytest.raises(AttributeError, match=re.escape("cannot assign parameters before Module.__init__() call")):
        BadP()

    class BadB(nn.Module):
        def __init__(self):
            self.register_buffer("b", torch.zeros(1))

    with pytest.raises(AttributeError, match=re.escape("cannot assign buffer before Module.__init__() call")):
        BadB()


def test_module_init_and_forward_errors():
    with pytest.raises(TypeError, match="takes 1 positional argument but 2 were given"):
        nn.Module(3)
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        nn.Module(foo=1)
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required "forward" function'):
        nn.Module()(torch.zeros(1))
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        nn.Module().train("yes")


def test_get_submodule_parameter_buffer():
    outer = nn.Module()
    outer.net = Net()
    assert outer.get_submodule("") is outer
    assert outer.get_submodule("net.fc2") is outer.net.fc2
    assert outer.get_parameter("net.fc1.weight") is outer.net.fc1.weight
    assert outer.get_parameter("net.scale") is outer.net.scale
    assert outer.get_buffer("net.running") is outer.net.running
    with pytest.raises(AttributeError, match="Net has no attribute `missing`"):
        outer.get_submodule("net.missing")
    with pytest.raises(AttributeError, match="`scale` is not an nn.Module"):
        outer.get_submodule("net.scale")
    with pytest.raises(AttributeError, match="`running` is not an nn.Parameter"):
        outer.get_parameter("net.running")
    with pytest.raises(AttributeError, match="`scale` is not a buffer"):
        outer.get_buffer("net.scale")
    new = nn.Linear(4, 2)
    outer.set_submodule("net.fc2", new)
    assert outer.net.fc2 is new
    outer.register_module("extra", nn.Identity())
    assert isinstance(outer.extra, nn.Identity)


# ------------------------------------------------------------------ iteration

def test_named_parameters_order_prefix_recurse():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    # own parameters first, then children in registration order
    assert names == ["scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in net.named_parameters(prefix="model")] == ["model." + n for n in names]
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert [p for p in net.parameters()] == [p for _, p in net.named_parameters()]
    assert len(list(net.parameters(recurse=False))) == 1
    assert [n for n, _ in net.named_buffers()] == ["running", "scratch"]
    assert [n for n, _ in net.named_buffers(prefix="m", recurse=False)] == ["m.running", "m.scratch"]
    assert len(list(net.buffers())) == 2


def test_shared_parameters_and_modules_deduplicated():
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, nn.ReLU(), shared)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    assert [n for n, _ in seq.named_parameters(remove_duplicate=False)] == [
        "0.weight", "0.bias", "2.weight", "2.bias"]
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    assert [n for n, _ in seq.named_modules(remove_duplicate=False)] == ["", "0", "1", "2"]
    assert [n for n, _ in seq.named_modules(prefix="root")] == ["root", "root.0", "root.1"]
    assert [n for n, _ in seq.named_children()] == ["0", "1"]
    assert list(seq.children()) == [shared, seq[1]]
    assert list(seq.modules())[0] is seq
    # the same tensor under two names of one module
    m = nn.Module()
    m.a = nn.Parameter(torch.zeros(1))
    m.b = m.a
    assert [n for n, _ in m.named_parameters()] == ["a"]


def test_train_eval_propagation():
    outer = nn.Sequential(Net(), nn.Sequential(nn.Dropout(), nn.Linear(1, 1)))
    assert all(m.training for m in outer.modules())
    assert outer.eval() is outer
    assert not any(m.training for m in outer.modules())
    outer[1].train()
    assert outer[1][0].training and not outer.training and not outer[0].fc1.training
    outer.train()
    assert all(m.training for m in outer.modules())


def test_apply_requires_grad_zero_grad():
    net = Net()
    visited = []
    assert net.apply(lambda m: visited.append(type(m).__name__)) is net
    assert visited == ["Linear", "Linear", "Net"]  # children first
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_()
    net(torch.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    for p in net.parameters():
        assert p.grad is not None
        np.testing.assert_array_equal(np_(p.grad), np.zeros(tuple(p.shape)))
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


# ------------------------------------------------------------------ state_dict

def test_state_dict_contents():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["scale", "running", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    for k, v in sd.items():
        assert type(v) is torch.Tensor and not v.requires_grad  # detached
    # detached tensors share storage with the live parameters (a shallow copy)
    assert sd["fc1.weight"].data_ptr() == net.fc1.weight.data_ptr()
    kv = net.state_dict(keep_vars=True)
    assert kv["fc1.weight"] is net.fc1.weight
    assert list(net.state_dict(prefix="p.")) == ["p." + k for k in sd]


def test_state_dict_round_trip():
    torch.manual_seed(0)
    src, dst = Net(), Net()
    with torch.no_grad():
        src.running.copy_(torch.tensor([1.0, 2.0, 3.0, 4.0]))
    weight_obj, weight_ptr = dst.fc1.weight, dst.fc1.weight.data_ptr()
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for (k, a), (_, b) in zip(src.state_dict().items(), dst.state_dict().items()):
        np.testing.assert_array_equal(np_(a), np_(b))
    # copied in place: same Parameter object, same storage, still a trainable leaf
    assert dst.fc1.weight is weight_obj and dst.fc1.weight.data_ptr() == weight_ptr
    assert dst.fc1.weight.requires_grad and dst.fc1.weight.is_leaf
    x = torch.randn(4, 3)
    np.testing.assert_allclose(np_(dst(x)), np_(src(x)), rtol=1e-6)
    # the copy is independent of the source afterwards
    with torch.no_grad():
        src.fc1.weight.zero_()
    assert np.abs(np_(dst.fc1.weight)).sum() > 0


def test_load_state_dict_strict_errors():
    lin = nn.Linear(2, 3)
    sd = lin.state_dict()
    del sd["bias"]
    sd["extra"] = torch.zeros(1)
    with pytest.raises(RuntimeError) as e:
        lin.load_state_dict(sd)
    assert str(e.value) == ('Error(s) in loading state_dict for Linear:\n\t'
                            'Missing key(s) in state_dict: "bias". \n\t'
                            'Unexpected key(s) in state_dict: "extra". ')
    before = np_(lin.bias)
    res = lin.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["bias"] and res.unexpected_keys == ["extra"]
    assert res == (["bias"], ["extra"])
    np.testing.assert_array_equal(np_(lin.bias), before)


def test_load_state_dict_nested_keys():
    seq = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    sd = seq.state_dict()
    sd["1.nope"] = torch.zeros(1)
    sd["2.weight"] = torch.zeros(1)
    del sd["0.weight"]
    with pytest.raises(RuntimeError) as e:
        seq.load_state_dict(sd)
    msg = str(e.value)
    assert msg.startswith("Error(s) in loading state_dict for Sequential:\n\t")
    assert 'Missing key(s) in state_dict: "0.weight". ' in msg
    # the root's own unexpected keys are found before its children's
    assert 'Unexpected key(s) in state_dict: "2.weight", "1.nope". ' in msg


def test_load_state_dict_size_mismatch():
    lin = nn.Linear(2, 3)
    sd = {"weight": torch.zeros(3, 4), "bias": torch.zeros(3)}
    with pytest.raises(RuntimeError) as e:
        lin.load_state_dict(sd)
    assert str(e.value) == (
        "Error(s) in loading state_dict for Linear:\n\t"
        "size mismatch for weight: copying a param with shape torch.Size([3, 4]) from checkpoint, "
        "the shape in current model is torch.Size([3, 2]).")
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like, got <class 'list'>"):
        lin.load_state_dict([1, 2])


def test_load_state_dict_casts_dtype_in_place():
    lin = nn.Linear(2, 2)
    sd = {"weight": torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64),
          "bias": torch.tensor([5.0, 6.0], dtype=torch.float64)}
    lin.load_state_dict(sd)
    assert lin.weight.dtype == torch.float32  # copy_ keeps the model's dtype
    np.testing.assert_array_equal(np_(lin.weight), [[1, 2], [3, 4]])


def test_load_state_dict_assign():
    lin = nn.Linear(2, 2)
    lin.bias.requires_grad_(False)
    w = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
    b = torch.tensor([5.0, 6.0], dtype=torch.float64)
    lin.load_state_dict({"weight": w, "bias": b}, assign=True)
    assert type(lin.weight) is nn.Parameter and lin.weight.dtype == torch.float64
    assert lin.weight.data_ptr() == w.data_ptr()  # the given tensor itself, not a copy
    assert lin.weight.requires_grad and not lin.bias.requires_grad  # module's flags kept


def test_non_persistent_buffer_not_loaded_or_saved():
    net = Net()
    assert "scratch" not in net.state_dict()
    assert "scratch" in dict(net.named_buffers())
    net.load_state_dict(Net().state_dict())  # no missing "scratch"


def test_state_dict_and_load_hooks():
    lin = nn.Linear(1, 1)
    calls = []
    lin.register_state_dict_pre_hook(lambda m, prefix, keep_vars: calls.append(("pre", prefix)))

    def post(m, sd, prefix, meta):
        sd[prefix + "note"] = torch.ones(1)
    lin.register_state_dict_post_hook(post)
    sd = lin.state_dict()
    assert calls == [("pre", "")] and "note" in sd
    h = lin.register_load_state_dict_post_hook(lambda m, keys: keys.unexpected_keys.clear())
    lin.load_state_dict(sd)  # the hook forgives the unexpected "note"
    h.remove()
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "note"'):
        lin.load_state_dict(sd)


# ------------------------------------------------------------------ hooks

def test_forward_pre_hook_modifies_input():
    lin = nn.Linear(2, 2)
    x = torch.randn(3, 2)
    h = lin.register_forward_pre_hook(lambda m, args: args[0] * 0)  # single value gets wrapped
    np.testing.assert_allclose(np_(lin(x)), np.broadcast_to(np_(lin.bias), (3, 2)), rtol=1e-6)
    h.remove()
    ref = np_(x) @ np_(lin.weight).T + np_(lin.bias)
    np.testing.assert_allclose(np_(lin(x)), ref, rtol=1e-5, atol=1e-6)


def test_forward_hook_replaces_output_and_sees_inputs():
    lin = nn.Linear(2, 2)
    x = torch.randn(3, 2)
    seen = []

    def hook(m, args, out):
        seen.append((m, args[0], out.shape))
        return out.sum()
    h = lin.register_forward_hook(hook)
    y = lin(x)
    assert y.dim() == 0 and seen[0][0] is lin and seen[0][1] is x and seen[0][2] == (3, 2)
    ref = (np_(x) @ np_(lin.weight).T + np_(lin.bias)).sum()
    np.testing.assert_allclose(float(y.detach()), ref, rtol=1e-5)
    h.remove()
    assert lin(x).shape == (3, 2)
    assert len(lin._forward_hooks) == 0


def test_hooks_with_kwargs_prepend_and_context_manager():
    class M(nn.Module):
        def forward(self, x, *, scale=1.0):
            return x * scale

    m = M()
    order = []

    def pre(mod, args, kwargs):
        order.append("pre")
        return (args[0] + 1,), {"scale": kwargs.get("scale", 1.0) * 10}

    m.register_forward_pre_hook(pre, with_kwargs=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: order.append(("kw", kwargs["scale"])),
                            with_kwargs=True)
    m.register_forward_hook(lambda mod, args, out: order.append("first"), prepend=True)
    out = m(torch.tensor([1.0, 2.0]), scale=2.0)
    np.testing.assert_array_equal(np_(out), [40.0, 60.0])
    assert order == ["pre", "first", ("kw", 20.0)]
    with m.register_forward_hook(lambda mod, a, o: o * 0):
        assert float(m(torch.tensor([1.0])).sum()) == 0.0
    assert float(m(torch.tensor([1.0])).sum()) == 20.0  # (1 + 1) * 10 once the hook left
    with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple"):
        m2 = M()
        m2.register_forward_pre_hook(lambda mod, a, k: 5, with_kwargs=True)
        m2(torch.ones(1))


def test_always_call_hook_runs_on_exception():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    b = Boom()
    ran = []
    b.register_forward_hook(lambda m, a, o: ran.append("always"), always_call=True)
    b.register_forward_hook(lambda m, a, o: ran.append("normal"))
    with pytest.raises(ValueError, match="boom"):
        b(torch.zeros(1))
    assert ran == ["always"]


def test_module_call_passes_kwargs():
    class Add(nn.Module):
        def forward(self, a, b=0):
            return a + b
    np.testing.assert_array_equal(np_(Add()(torch.ones(2), b=torch.ones(2))), [2.0, 2.0])


# ------------------------------------------------------------------ conversion

def test_to_float64_keeps_parameter_identity():
    net = Net()
    net.register_buffer("steps", torch.tensor(3))
    net(torch.randn(2, 3)).sum().backward()
    params = list(net.parameters())
    values = [np_(p) for p in params]
    grads = [np_(p.grad) for p in params]
    assert net.to(torch.float64) is net
    for p, v, g in zip(net.parameters(), values, grads):
        assert type(p) is nn.Parameter and p.dtype == torch.float64 and p.requires_grad and p.is_leaf
        assert p.grad.dtype == torch.float64
        np.testing.assert_array_equal(np_(p), v.astype(np.float64))
        np.testing.assert_array_equal(np_(p.grad), g.astype(np.float64))
    assert all(a is b for a, b in zip(params, net.parameters()))
    assert net.running.dtype == torch.float64
    assert net.steps.dtype == torch.int64  # integer buffers keep their dtype
    out = net(torch.randn(2, 3, dtype=torch.float64))
    assert out.dtype == torch.float64


def test_to_variants_and_errors():
    lin = nn.Linear(2, 2)
    lin.to(dtype=torch.float64)
    assert lin.weight.dtype == torch.float64
    lin.to(torch.zeros(1, dtype=torch.float32))
    assert lin.weight.dtype == torch.float32
    lin.to("cpu", torch.float64)
    assert lin.weight.dtype == torch.float64 and lin.weight.device.type == "cpu"
    lin.to(torch.device("cpu"))
    assert lin.float().weight.dtype == torch.float32
    assert lin.double().bias.dtype == torch.float64
    assert lin.half().weight.dtype == torch.float16
    assert lin.bfloat16().weight.dtype == torch.bfloat16
    assert lin.type(torch.float32).weight.dtype == torch.float32
    assert lin.cpu() is lin
    with pytest.raises(TypeError, match=re.escape(
            "nn.Module.to only accepts floating point or complex dtypes, but got desired dtype=torch.int64")):
        lin.to(torch.int64)


# ------------------------------------------------------------------ repr

def test_repr_nested():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
            self.head = nn.Linear(3, 1, bias=False)

    expected = (
        "Block(\n"
        "  (body): Sequential(\n"
        "    (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "    (1): ReLU()\n"
        "  )\n"
        "  (head): Linear(in_features=3, out_features=1, bias=False)\n"
        ")"
    )
    assert repr(Block()) == expected
    assert repr(nn.Module()) == "Module()"

    class WithExtra(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Identity()

        def extra_repr(self):
            return "k=1\nj=2"
    assert repr(WithExtra()) == "WithExtra(\n  k=1\n  j=2\n  (inner): Identity()\n)"


# ------------------------------------------------------------------ copying

def test_deepcopy_model():
    net = Net()
    net.eval()
    twin = copy.deepcopy(net)
    assert twin.training is False
    assert [n for n, _ in twin.named_parameters()] == [n for n, _ in net.named_parameters()]
    for (n, a), (_, b) in zip(net.state_dict().items(), twin.state_dict().items()):
        np.testing.assert_array_equal(np_(a), np_(b))
        assert a.data_ptr() != b.data_ptr()
    assert all(type(p) is nn.Parameter and p.requires_grad for p in twin.parameters())
    assert twin._non_persistent_buffers_set == {"scratch"}
    with torch.no_grad():
        twin.fc1.weight.fill_(7.0)
    assert not np.any(np_(net.fc1.weight) == 7.0)


def test_deepcopy_keeps_sharing_within_model():
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, shared)
    twin = copy.deepcopy(seq)
    assert twin[0] is twin[1] and twin[0] is not shared


def test_pickle_model():
    torch.manual_seed(1)
    net = Net()
    back = pickle.loads(pickle.dumps(net))
    assert type(back) is Net and repr(back) == repr(net)
    x = torch.randn(3, 3)
    np.testing.assert_allclose(np_(back(x)), np_(net(x)), rtol=1e-6)
    assert all(type(p) is nn.Parameter and p.requires_grad for p in back.parameters())
    assert list(back.state_dict()) == list(net.state_dict())


def test_parameter_created_under_no_grad_requires_grad():
    with torch.no_grad():
        p = nn.Parameter(torch.zeros(2))
        lin = nn.Linear(2, 2)
    assert p.requires_grad and lin.weight.requires_grad and lin.weight.is_leaf


def test_load_from_state_dict_override_sees_version_metadata():
    seen = {}

    class Versioned(nn.Module):
        _version = 3

        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(2))

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                                  missing_keys, unexpected_keys, error_msgs):
            seen[prefix] = local_metadata.get("version")
            # an old checkpoint stored the parameter under another name: rename it
            old = prefix + "legacy_w"
            if old in state_dict:
                state_dict[prefix + "w"] = state_dict.pop(old)
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                          missing_keys, unexpected_keys, error_msgs)

    outer = nn.Sequential(Versioned())
    sd = outer.state_dict()
    assert sd._metadata["0"]["version"] == 3 and sd._metadata[""]["version"] == 1
    outer.load_state_dict(sd)
    assert seen == {"0.": 3}
    outer.load_state_dict({"0.legacy_w": torch.tensor([1.0, 2.0])})  # no metadata: version None
    assert seen == {"0.": None}
    np.testing.assert_array_equal(np_(outer[0].w), [1.0, 2.0])


def test_state_dict_into_given_destination():
    lin = nn.Linear(1, 1)
    dest = {}
    out = lin.state_dict(destination=dest, prefix="layer.")
    assert out is dest and sorted(dest) == ["layer.bias", "layer.weight"]


def test_global_forward_hooks():
    from ferrotorch.nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook
    seen = []
    h1 = register_module_forward_pre_hook(lambda m, args: seen.append(("pre", type(m).__name__)))
    h2 = register_module_forward_hook(lambda m, args, out: seen.append(("post", type(m).__name__)))
    try:
        nn.Sequential(nn.Identity())(torch.zeros(1))
    finally:
        h1.remove()
        h2.remove()
    assert seen == [("pre", "Sequential"), ("pre", "Identity"), ("post", "Identity"), ("post", "Sequential")]
    nn.Identity()(torch.zeros(1))
    assert len(seen) == 4  # removed
