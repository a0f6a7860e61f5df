"""The Optimizer base class: parameter groups and their validation, state, zero_grad, closures,
state_dict / load_state_dict, hooks, pickling and user-defined subclasses.

Expected values are hand-computed (plain SGD: p - lr * grad) so the checks stay independent
of the code under test.
"""
import collections
import pickle
import warnings

import numpy as np
import pytest

import ferrotorch as torch
from ferrotorch import optim
from ferrotorch.optim.optimizer import (Optimizer, register_optimizer_step_post_hook,
                                        register_optimizer_step_pre_hook, required)
from _helpers import assert_close, to_np


def leaf(values, dtype=torch.float64):
    return torch.tensor(values, dtype=dtype, requires_grad=True)


class PlainSGD(Optimizer):
    """A user-written optimizer, in the style of PyTorch tutorials."""

    def __init__(self, params, lr=required, scale=1.0):
        super().__init__(params, {"lr": lr, "scale": scale})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.add_(p.grad, alpha=-group["lr"] * group["scale"])
                state = self.state[p]
                state["n"] = state.get("n", 0) + 1
        return loss


# ---- constructing: params forms ------------------------------------------------------------------
def test_params_from_list_tuple_or_generator():
    a, b = leaf([1.0]), leaf([2.0, 3.0])
    for params in ([a, b], (a, b), (x for x in [a, b])):
        opt = optim.SGD(params, lr=0.1)
        assert len(opt.param_groups) == 1
        got = opt.param_groups[0]["params"]
        assert isinstance(got, list) and len(got) == 2 and got[0] is a and got[1] is b
        assert opt.param_groups[0]["lr"] == 0.1
    assert opt.defaults["lr"] == 0.1
    assert isinstance(opt.state, collections.defaultdict)
    assert opt.state[a] == {} and len(opt.state) == 1  # missing keys read as empty dicts


def test_named_params():
    w, b = leaf([1.0, 2.0]), leaf([0.5])
    opt = optim.SGD([("weight", w), ("bias", b)], lr=0.1)
    group = opt.param_groups[0]
    assert group["params"][0] is w and group["params"][1] is b
    assert group["param_names"] == ["weight", "bias"]
    sd = opt.state_dict()
    assert sd["param_groups"][0]["param_names"] == ["weight", "bias"]
    assert sd["param_groups"][0]["params"] == [0, 1]
    assert "    param_names: ['weight', 'bias']\n" in repr(opt)
    w.grad = torch.tensor([1.0, 1.0], dtype=torch.float64)
    opt.step()
    assert_close(w, np.array([0.9, 1.9]))


def test_named_params_must_be_all_or_nothing():
    w, b = leaf([1.0]), leaf([2.0])
    with pytest.raises(ValueError) as info:
        optim.SGD([("weight", w), b], lr=0.1)
    assert str(info.value) == "all optimizer params should be with/without names. Some param names are missing"
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError) as info:
        opt.add_param_group({"params": [("bias", b)]})
    assert str(info.value) == ("all optimizer param groups should be with/without names. "
                               "cannot add param group with names to the optimizer")


def test_dict_groups_fill_missing_options_from_defaults():
    a, b, c = leaf([1.0]), leaf([1.0]), leaf([1.0])
    g0 = {"params": [a, b], "lr": 0.5}
    g1 = {"params": c, "momentum": 0.9}  # a single tensor is accepted inside a group
    opt = optim.SGD([g0, g1], lr=0.1, weight_decay=0.01)
    assert opt.param_groups[0] is g0  # the given dicts become the groups
    assert g0["lr"] == 0.5 and g0["weight_decay"] == 0.01 and g0["momentum"] == 0
    assert g1["params"] == [c] and g1["lr"] == 0.1 and g1["momentum"] == 0.9
    assert set(g0) == {"params", "lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize",
                       "foreach", "differentiable", "fused"}
    for p in (a, b, c):
        p.grad = torch.tensor([1.0], dtype=torch.float64)
    opt.step()
    assert_close(a, np.array([1.0 - 0.5 * 1.01]))
    assert_close(c, np.array([1.0 - 0.1 * 1.01]))


def test_add_param_group_later():
    a, b = leaf([1.0]), leaf([1.0])
    opt = optim.SGD([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.3})
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["momentum"] == 0
    a.grad = torch.tensor([1.0], dtype=torch.float64)
    b.grad = torch.tensor([1.0], dtype=torch.float64)
    opt.step()
    assert_close(a, np.array([0.9]))
    assert_close(b, np.array([0.7]))


def test_non_leaf_that_retains_grad_is_accepted():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.retain_grad()
    opt = optim.SGD([y], lr=0.1)
    assert opt.param_groups[0]["params"][0] is y


# ---- constructing: errors --------------------------------------------------------------------------
def test_single_tensor_is_a_type_error():
    with pytest.raises(TypeError) as info:
        optim.SGD(torch.zeros(2, requires_grad=True), lr=0.1)
    assert str(info.value) == ("params argument given to the optimizer should be an iterable of Tensors "
                               "or dicts, but got torch.FloatTensor")


@pytest.mark.parametrize("params", [[], (), iter([])], ids=["list", "tuple", "iterator"])
def test_empty_parameter_list(params):
    with pytest.raises(ValueError) as info:
        optim.SGD(params, lr=0.1)
    assert str(info.value) == "optimizer got an empty parameter list"
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.Adam(params)


def test_non_leaf_tensor():
    x = leaf([1.0, 2.0])
    with pytest.raises(ValueError) as info:
        optim.SGD([x * 2], lr=0.1)
    assert str(info.value) == "can't optimize a non-leaf Tensor"
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.AdamW([x, x + 1])


def test_non_tensor_param():
    with pytest.raises(TypeError) as info:
        optim.SGD([leaf([1.0]), 3], lr=0.1)
    assert str(info.value) == "optimizer can only optimize Tensors, but one of the params is int"
    with pytest.raises(TypeError, match="but one of the params is list"):
        optim.Adam([[leaf([1.0])]])


def test_set_of_params():
    a = leaf([1.0])
    # In the constructor a set is still accepted, with a FutureWarning ...
    with pytest.warns(FutureWarning, match="optimizer parameters need to be organized in ordered collections"):
        opt = optim.SGD({a}, lr=0.1)
    assert opt.param_groups[0]["params"][0] is a
    # ... but a group whose params are a set is rejected.
    with pytest.raises(TypeError) as info:
        opt.add_param_group({"params": {leaf([2.0])}})
    assert str(info.value) == ("optimizer parameters need to be organized in ordered collections, but the "
                               "ordering of tensors in sets will change between runs. Please use a list instead.")


def test_param_in_two_groups():
    a, b = leaf([1.0]), leaf([1.0])
    with pytest.raises(ValueError) as info:
        optim.SGD([{"params": [a, b]}, {"params": [b]}], lr=0.1)
    assert str(info.value) == "some parameters appear in more than one parameter group"
    opt = optim.Adam([a])
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [b, a]})
    assert len(opt.param_groups) == 1


def test_duplicate_param_within_a_group_warns():
    a = leaf([1.0])
    with pytest.warns(UserWarning, match="optimizer contains a parameter group with duplicate parameters"):
        optim.SGD([a, a], lr=0.1)


def test_add_param_group_needs_a_dict():
    opt = optim.SGD([leaf([1.0])], lr=0.1)
    with pytest.raises(TypeError) as info:
        opt.add_param_group([leaf([1.0])])
    assert str(info.value) == "param_group must be a dict, but got <class 'list'>"


def test_required_option():
    a, b = leaf([1.0]), leaf([1.0])
    with pytest.raises(ValueError) as info:
        PlainSGD([a])
    assert str(info.value) == "parameter group didn't specify a value of required optimization parameter lr"
    opt = PlainSGD([{"params": [a], "lr": 0.5}, {"params": [b], "lr": 0.25, "scale": 2.0}])
    assert opt.param_groups[0]["scale"] == 1.0 and repr(required) == "<required parameter>"


def test_base_step_is_abstract():
    opt = Optimizer([leaf([1.0])], {"lr": 0.1})
    with pytest.raises(NotImplementedError):
        opt.step()


# ---- zero_grad -------------------------------------------------------------------------------
def _with_grads():
    a, b, c = leaf([1.0, 2.0]), leaf([3.0]), leaf([4.0])
    (a * a).sum().backward()
    b.grad = torch.tensor([5.0], dtype=torch.float64)
    return a, b, c  # c has no gradient


def test_zero_grad_sets_to_none_by_default():
    a, b, c = _with_grads()
    opt = optim.SGD([a, b, c], lr=0.1)
    opt.zero_grad()
    assert a.grad is None and b.grad is None and c.grad is None


def test_zero_grad_in_place():
    a, b, c = _with_grads()
    ptr = a.grad.data_ptr()
    opt = optim.Adam([a, b, c])
    opt.zero_grad(set_to_none=False)
    assert a.grad.data_ptr() == ptr  # the same buffer, zeroed
    np.testing.assert_array_equal(to_np(a.grad), [0.0, 0.0])
    np.testing.assert_array_equal(to_np(b.grad), [0.0])
    assert not a.grad.requires_grad
    assert c.grad is None
    # The zeroed buffer accumulates the next backward.
    (3 * a).sum().backward()
    np.testing.assert_array_equal(to_np(a.grad), [3.0, 3.0])


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_zero_grad_in_place_detaches_a_graph_carrying_grad():
    a = leaf([1.0, 2.0])
    (a ** 3).sum().backward(create_graph=True)
    assert a.grad.grad_fn is not None
    optim.SGD([a], lr=0.1).zero_grad(set_to_none=False)
    assert a.grad.grad_fn is None and not a.grad.requires_grad
    np.testing.assert_array_equal(to_np(a.grad), [0.0, 0.0])


# ---- step and closures --------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1), lambda ps: optim.Adam(ps, lr=0.1, eps=0.0)],
                         ids=["SGD", "Adam"])
def test_closure(make):
    p = leaf([1.0, -2.0])
    opt = make([p])
    calls = []

    def closure():
        calls.append(torch.is_grad_enabled())
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with torch.no_grad():
        loss = opt.step(closure)
        assert not torch.is_grad_enabled()  # restored after the step
    assert calls == [True]  # evaluated once, with grad enabled even under no_grad
    assert torch.is_tensor(loss) and loss.item() == 5.0
    # The step used the closure's gradient 2p: SGD moves by 0.1 * 2p, Adam's first step by lr * sign.
    expected = [0.8, -1.6] if isinstance(opt, optim.SGD) else [0.9, -1.9]
    assert_close(p, np.array(expected))


def test_step_without_closure_returns_none_and_keeps_grad_mode():
    p = leaf([1.0])
    p.grad = torch.tensor([1.0], dtype=torch.float64)
    opt = optim.SGD([p], lr=0.1)
    assert opt.step() is None
    assert torch.is_grad_enabled()


def test_user_subclass():
    a, b = leaf([1.0, 2.0]), leaf([3.0])
    opt = PlainSGD([{"params": [a]}, {"params": [b], "scale": 2.0}], lr=0.5)
    a.grad = torch.tensor([1.0, -1.0], dtype=torch.float64)
    b.grad = torch.tensor([0.5], dtype=torch.float64)
    opt.step()
    opt.step()
    assert_close(a, np.array([0.0, 3.0]))
    assert_close(b, np.array([2.0]))
    assert opt.state[a] == {"n": 2}
    assert opt.state_dict()["state"] == {0: {"n": 2}, 1: {"n": 2}}
    assert repr(opt) == ("PlainSGD (\nParameter Group 0\n    lr: 0.5\n    scale: 1.0\n\n"
                         "Parameter Group 1\n    lr: 0.5\n    scale: 2.0\n)")


# ---- state_dict -----------------------------------------------------------------------------
def _stepped_sgd():
    a, b, c = leaf([1.0, 2.0]), leaf([3.0]), leaf([4.0, 5.0, 6.0])
    opt = optim.SGD([{"params": [a, b], "lr": 0.5}, {"params": [c]}], lr=0.1, momentum=0.9)
    a.grad = torch.tensor([1.0, 1.0], dtype=torch.float64)
    c.grad = torch.tensor([2.0, 0.0, -2.0], dtype=torch.float64)
    opt.step()
    return opt, (a, b, c)


def test_state_dict_structure():
    opt, (a, b, c) = _stepped_sgd()
    sd = opt.state_dict()
    assert list(sd) == ["state", "param_groups"]
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][0]["lr"] == 0.5 and sd["param_groups"][1]["lr"] == 0.1
    assert sd["param_groups"][1]["momentum"] == 0.9
    # b had no gradient, so it has no state.
    assert sorted(sd["state"]) == [0, 2]
    assert_close(sd["state"][0]["momentum_buffer"], np.array([1.0, 1.0]))
    assert_close(sd["state"][2]["momentum_buffer"], np.array([2.0, 0.0, -2.0]))
    # The optimizer's own groups still hold the tensors.
    assert opt.param_groups[0]["params"][0] is a


def test_load_state_dict_maps_by_order_and_copies_groups():
    opt, _ = _stepped_sgd()
    sd = opt.state_dict()
    x, y, z = leaf([0.0, 0.0]), leaf([0.0]), leaf([0.0, 0.0, 0.0])
    opt2 = optim.SGD([{"params": [x, y]}, {"params": [z]}], lr=0.01)
    opt2.load_state_dict(sd)
    assert [g["lr"] for g in opt2.param_groups] == [0.5, 0.1]
    assert opt2.param_groups[0]["params"][0] is x and opt2.param_groups[1]["params"][0] is z
    assert_close(opt2.state[z]["momentum_buffer"], np.array([2.0, 0.0, -2.0]))
    assert y not in opt2.state
    # The input is not modified, and later edits of it do not reach the optimizer.
    assert sd["param_groups"][0]["params"] == [0, 1]
    sd["param_groups"][0]["lr"] = 123.0
    assert opt2.param_groups[0]["lr"] == 0.5
    # Continue: buf = 0.9 * [1, 1] + [1, 1] for x, lr 0.5.
    x.grad = torch.tensor([1.0, 1.0], dtype=torch.float64)
    opt2.step()
    assert_close(x, np.array([-0.95, -0.95]))


def test_load_state_dict_validation():
    opt, _ = _stepped_sgd()
    sd = opt.state_dict()
    one_group = optim.SGD([leaf([0.0, 0.0]), leaf([0.0]), leaf([0.0, 0.0, 0.0])], lr=0.1)
    with pytest.raises(ValueError) as info:
        one_group.load_state_dict(sd)
    assert str(info.value) == "loaded state dict has a different number of parameter groups"
    other_sizes = optim.SGD([{"params": [leaf([0.0])]}, {"params": [leaf([0.0]), leaf([0.0])]}], lr=0.1)
    with pytest.raises(ValueError) as info:
        other_sizes.load_state_dict(sd)
    assert str(info.value) == ("loaded state dict contains a parameter group that doesn't match "
                               "the size of optimizer's group")


def test_state_dict_and_load_hooks():
    opt, _ = _stepped_sgd()
    seen = []
    h1 = opt.register_state_dict_pre_hook(lambda o: seen.append("pre"))

    def post(o, sd):
        seen.append("post")
        sd["extra"] = 1
        return sd

    h2 = opt.register_state_dict_post_hook(post)
    sd = opt.state_dict()
    assert seen == ["pre", "post"] and sd["extra"] == 1
    h1.remove()
    h2.remove()
    assert "extra" not in opt.state_dict() and seen == ["pre", "post"]

    def load_pre(o, sd):
        seen.append("load_pre")
        sd["param_groups"][0]["lr"] = 0.25
        return sd

    opt.register_load_state_dict_pre_hook(load_pre)
    opt.register_load_state_dict_post_hook(lambda o: seen.append("load_post"))
    opt.load_state_dict(opt.state_dict())
    assert seen[2:] == ["load_pre", "load_post"]
    assert opt.param_groups[0]["lr"] == 0.25


# ---- step hooks ---------------------------------------------------------------------------------
def test_step_hooks():
    p = leaf([1.0])
    opt = optim.SGD([p], lr=0.1)
    log = []

    def pre(o, args, kwargs):
        assert o is opt
        log.append(("pre", p.item()))

    def post(o, args, kwargs):
        assert o is opt
        log.append(("post", p.item()))

    h_pre = opt.register_step_pre_hook(pre)
    h_post = opt.register_step_post_hook(post)
    p.grad = torch.tensor([1.0], dtype=torch.float64)
    opt.step()
    assert log == [("pre", 1.0), ("post", 0.9)]
    h_pre.remove()
    h_post.remove()
    opt.step()
    assert len(log) == 2
    # Another optimizer of the same class does not see this instance's hooks.
    q = leaf([1.0])
    q.grad = torch.tensor([1.0], dtype=torch.float64)
    opt.register_step_pre_hook(pre)
    optim.SGD([q], lr=0.1).step()
    assert len(log) == 2


def test_step_pre_hook_can_replace_arguments():
    p = leaf([1.0, 2.0])
    opt = optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = p.sum()
        loss.backward()
        return loss

    opt.register_step_pre_hook(lambda o, args, kwargs: (args, {"closure": closure}))
    loss = opt.step()
    assert loss.item() == 3.0
    assert_close(p, np.array([0.9, 1.9]))


def test_step_pre_hook_bad_return():
    p = leaf([1.0])
    p.grad = torch.tensor([1.0], dtype=torch.float64)
    opt = optim.SGD([p], lr=0.1)
    opt.register_step_pre_hook(lambda o, args, kwargs: 5)
    with pytest.raises(RuntimeError, match=r"must return None or a tuple of \(new_args, new_kwargs\), but got 5"):
        opt.step()


def test_global_step_hooks():
    log = []
    h1 = register_optimizer_step_pre_hook(lambda o, a, k: log.append(("pre", type(o).__name__)))
    h2 = register_optimizer_step_post_hook(lambda o, a, k: log.append(("post", type(o).__name__)))
    try:
        p = leaf([1.0])
        p.grad = torch.tensor([1.0], dtype=torch.float64)
        optim.Adam([p]).step()
        PlainSGD([p], lr=0.1).step()
    finally:
        h1.remove()
        h2.remove()
    assert log == [("pre", "Adam"), ("post", "Adam"), ("pre", "PlainSGD"), ("post", "PlainSGD")]
    optim.SGD([p], lr=0.1).step()
    assert len(log) == 4


# ---- pickling --------------------------------------------------------------------------------
def test_getstate_and_pickle_round_trip():
    opt, (a, b, c) = _stepped_sgd()
    assert set(opt.__getstate__()) == {"defaults", "state", "param_groups"}
    opt2 = pickle.loads(pickle.dumps(opt))
    assert type(opt2) is optim.SGD
    assert opt2.defaults == opt.defaults
    assert [g["lr"] for g in opt2.param_groups] == [0.5, 0.1]
    a2 = opt2.param_groups[0]["params"][0]
    c2 = opt2.param_groups[1]["params"][0]
    assert a2 is not a
    assert_close(a2, to_np(a))
    assert_close(opt2.state[c2]["momentum_buffer"], np.array([2.0, 0.0, -2.0]))
    # The unpickled optimizer works: buf = 0.9 * [1, 1] + [1, 1], lr 0.5.
    before = to_np(a2)
    a2.grad = torch.tensor([1.0, 1.0], dtype=torch.float64)
    opt2.step()
    assert_close(a2, before - 0.5 * 1.9)


def test_repr_lists_groups_in_key_order():
    opt = optim.SGD([{"params": [leaf([1.0])], "lr": 0.5}, {"params": [leaf([1.0])], "momentum": 0.9}],
                    lr=0.1)
    text = repr(opt)
    assert text.startswith("SGD (\nParameter Group 0\n    dampening: 0\n")
    assert "    lr: 0.5\n" in text and "Parameter Group 1\n" in text and "    momentum: 0.9\n" in text
    assert text.endswith("    weight_decay: 0\n)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        str(opt)
