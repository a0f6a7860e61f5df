"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""
import re
from collections import OrderedDict

import numpy as np
import pytest

import ferrotorch as torch
import ferrotorch.nn as nn


def np_(t):
    return t.detach().numpy().copy()


def lin_ref(x, lin):
    out = x @ np_(lin.weight).astype(np.float64).T
    return out + np_(lin.bias) if lin.bias is not None else out


# ------------------------------------------------------------------ Sequential

def test_sequential_forward_against_numpy():
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2))
    x = torch.randn(6, 4, dtype=torch.float64)
    seq.double()
    ref = lin_ref(np.maximum(lin_ref(np_(x), seq[0]), 0.0), seq[2])
    np.testing.assert_allclose(np_(seq(x)), ref, rtol=1e-12, atol=1e-12)
    assert nn.Sequential()(x) is x  # empty Sequential is the identity


def test_sequential_indexing_and_slicing():
    a, b, c = nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 2)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and seq[-3] is a
    assert list(seq) == [a, b, c]
    sub = seq[1:]
    assert type(sub) is nn.Sequential and list(sub) == [b, c]
    assert list(sub._modules) == ["1", "2"]  # slicing keeps the original names
    assert list(seq[::-1]) == [c, b, a]
    with pytest.raises(IndexError, match="index 3 is out of range"):
        seq[3]
    with pytest.raises(IndexError, match="index -4 is out of range"):
        seq[-4]
    d = nn.Tanh()
    seq[1] = d
    assert seq[1] is d and seq._modules["1"] is d


def test_sequential_ordered_dict_constructor():
    seq = nn.Sequential(OrderedDict([("first", nn.Linear(2, 3)), ("act", nn.Sigmoid())]))
    assert list(seq._modules) == ["first", "act"]
    assert isinstance(seq.first, nn.Linear) and seq[1] is seq.act
    assert [n for n, _ in seq.named_parameters()] == ["first.weight", "first.bias"]


def test_sequential_mutation():
    a, b, c, d = (nn.Linear(i + 1, i + 1) for i in range(4))
    seq = nn.Sequential(a)
    assert seq.append(b) is seq
    seq.extend([c])
    assert list(seq) == [a, b, c]
    seq.insert(1, d)
    assert list(seq) == [a, d, b, c] and list(seq._modules) == ["0", "1", "2", "3"]
    seq.insert(-1, nn.Identity())
    assert isinstance(seq[3], nn.Identity) and seq[4] is c
    with pytest.raises(IndexError, match="Index out of range: 9"):
        seq.insert(9, nn.Identity())
    assert seq.pop(1) is d
    assert list(seq._modules) == ["0", "1", "2", "3"]  # renumbered after removal
    del seq[0]
    assert seq[0] is b and len(seq) == 3
    del seq[1:]
    assert list(seq) == [b]


def test_sequential_add_mul():
    a, b = nn.Linear(1, 1), nn.ReLU()
    s1, s2 = nn.Sequential(a), nn.Sequential(b)
    both = s1 + s2
    assert list(both) == [a, b] and len(s1) == 1
    s1 += s2
    assert list(s1) == [a, b]
    tripled = nn.Sequential(a) * 3
    assert list(tripled) == [a, a, a]
    with pytest.raises(ValueError, match="add operator supports only objects of Sequential class"):
        s1 + [b]
    with pytest.raises(ValueError, match="Non-positive multiplication factor 0"):
        nn.Sequential(a) * 0


def test_sequential_repr_and_ordered_dict_repr():
    seq = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 1, bias=False)))
    assert repr(seq) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): Sequential(\n"
        "    (0): ReLU()\n"
        "    (1): Linear(in_features=3, out_features=1, bias=False)\n"
        "  )\n"
        ")"
    )
    named = nn.Sequential(OrderedDict(fc=nn.Linear(1, 1)))
    assert repr(named) == "Sequential(\n  (fc): Linear(in_features=1, out_features=1, bias=True)\n)"
    assert repr(nn.Sequential()) == "Sequential()"


# ------------------------------------------------------------------ ModuleList

def test_module_list_basics():
    layers = [nn.Linear(i + 1, i + 2) for i in range(3)]
    ml = nn.ModuleList(layers)
    assert len(ml) == 3 and list(ml) == layers and ml[-1] is layers[2]
    assert [n for n, _ in ml.named_parameters()][:2] == ["0.weight", "0.bias"]
    sliced = ml[1:]
    assert type(sliced) is nn.ModuleList and list(sliced) == layers[1:]
    assert list(sliced._modules) == ["0", "1"]  # a new list, renumbered
    extra = nn.ReLU()
    ml.append(extra)
    ml.insert(0, nn.Tanh())
    assert isinstance(ml[0], nn.Tanh) and ml[4] is extra
    ml += [nn.Sigmoid()]
    assert len(ml) == 6
    combined = ml + nn.ModuleList([nn.Identity()])
    assert len(combined) == 7 and len(ml) == 6
    assert ml.pop(0).__class__ is nn.Tanh and ml[0] is layers[0]
    del ml[-2:]
    assert len(ml) == 3
    ml[1] = nn.Identity()
    assert isinstance(ml[1], nn.Identity)
    with pytest.raises(IndexError, match="index 3 is out of range"):
        ml[3]
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable, but got Linear"):
        ml.extend(nn.Linear(1, 1))


def test_module_list_registered_for_parameters_and_to():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])

    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias"]
    net.double()
    assert all(p.dtype == torch.float64 for p in net.parameters())


def test_module_list_repr_folds_repeats():
    ml = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2)])
    assert repr(ml) == (
        "ModuleList(\n"
        "  (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)\n"
        "  (3): ReLU()\n"
        "  (4): Linear(in_features=2, out_features=2, bias=True)\n"
        ")"
    )
    assert repr(nn.ModuleList()) == "ModuleList()"
    nested = nn.ModuleList([nn.Sequential(nn.ReLU())])
    assert repr(nested) == "ModuleList(\n  (0): Sequential(\n    (0): ReLU()\n  )\n)"


# ------------------------------------------------------------------ ModuleDict

def test_module_dict():
    md = nn.ModuleDict({"b": nn.Linear(1, 2), "a": nn.ReLU()})
    assert list(md.keys()) == ["b", "a"]  # insertion order (not sorted)
    assert "a" in md and "z" not in md and len(md) == 2
    assert list(md) == ["b", "a"]
    assert [type(v).__name__ for v in md.values()] == ["Linear", "ReLU"]
    md["c"] = nn.Tanh()
    md.update([("d", nn.Sigmoid())])
    assert list(md.keys()) == ["b", "a", "c", "d"]
    assert isinstance(md.pop("a"), nn.ReLU) and "a" not in md
    del md["c"]
    assert [k for k, _ in md.items()] == ["b", "d"]
    assert [n for n, _ in md.named_parameters()] == ["b.weight", "b.bias"]
    assert repr(md) == (
        "ModuleDict(\n"
        "  (b): Linear(in_features=1, out_features=2, bias=True)\n"
        "  (d): Sigmoid()\n"
        ")"
    )
    with pytest.raises(ValueError, match="ModuleDict update sequence element #0 has length 1; 2 is required"):
        md.update([("x",)])
    md.clear()
    assert len(md) == 0


# ------------------------------------------------------------------ ParameterList / ParameterDict

def test_parameter_list():
    t = torch.randn(2, 3)
    p = nn.Parameter(torch.randn(4))
    pl = nn.ParameterList([t, p])
    assert len(pl) == 2 and isinstance(pl[0], nn.Parameter) and pl[1] is p
    assert pl[0].data_ptr() == t.data_ptr() and pl[0].requires_grad  # wrapped, not copied
    pl.append(torch.zeros(1))
    pl.extend([torch.ones(2)])
    assert [tuple(x.shape) for x in pl] == [(2, 3), (4,), (1,), (2,)]
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2", "3"]
    sliced = pl[1:3]
    assert type(sliced) is nn.ParameterList and sliced[0] is p
    pl[0] = torch.zeros(5)
    assert isinstance(pl[0], nn.Parameter) and pl[0].shape == (5,)
    with pytest.raises(TypeError, match="ParameterList.extend should be called with an iterable, but got Tensor"):
        pl.extend(torch.zeros(2))
    with pytest.raises(RuntimeError, match="ParameterList should not be called."):
        pl()


def test_parameter_list_repr_and_in_module():
    pl = nn.ParameterList([nn.Parameter(torch.zeros(2, 3)),
                           nn.Parameter(torch.zeros(4, dtype=torch.float64))])
    assert repr(pl) == (
        "ParameterList(\n"
        "    (0): Parameter containing: [torch.float32 of size 2x3]\n"
        "    (1): Parameter containing: [torch.float64 of size 4]\n"
        ")"
    )

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.ps = nn.ParameterList([torch.ones(2), torch.ones(3)])

    m = M()
    assert list(m.state_dict()) == ["ps.0", "ps.1"]
    m.load_state_dict({"ps.0": torch.full((2,), 4.0), "ps.1": torch.zeros(3)})
    np.testing.assert_array_equal(np_(m.ps[0]), [4.0, 4.0])


def test_parameter_dict():
    pd = nn.ParameterDict({"w": torch.ones(2), "a": nn.Parameter(torch.zeros(3))})
    assert list(pd.keys()) == ["a", "w"]  # a plain dict is inserted in sorted key order
    assert isinstance(pd["w"], nn.Parameter) and pd["w"].requires_grad
    od = nn.ParameterDict(OrderedDict([("z", torch.ones(1)), ("y", torch.ones(1))]))
    assert list(od) == ["z", "y"]  # OrderedDict order kept
    pd["b"] = torch.zeros(1)
    assert "b" in pd and len(pd) == 3
    assert [k for k, _ in pd.items()] == ["a", "w", "b"]
    assert pd.get("missing") is None
    assert isinstance(pd.pop("b"), nn.Parameter) and "b" not in pd
    assert pd.setdefault("c", torch.ones(4)).shape == (4,)
    merged = pd | od
    assert list(merged.keys()) == ["a", "w", "c", "z", "y"] and list(pd.keys()) == ["a", "w", "c"]
    assert [n for n, _ in pd.named_parameters()] == ["a", "w", "c"]
    with pytest.raises(TypeError, match="cannot be used as a key as it is not a string"):
        pd[1]
    with pytest.raises(RuntimeError, match="ParameterDict should not be called."):
        pd(torch.zeros(1))
    assert repr(nn.ParameterDict(OrderedDict([("p", torch.zeros(2, 2)), ("q", torch.zeros(3))]))) == (
        "ParameterDict(\n"
        "    (p): Parameter containing: [torch.FloatTensor of size 2x2]\n"
        "    (q): Parameter containing: [torch.FloatTensor of size 3]\n"
        ")"
    )
    pd.clear()
    assert len(pd) == 0 and list(pd.parameters()) == []


def test_containers_forward_hooks_and_train_mode():
    seq = nn.Sequential(nn.Dropout(0.5), nn.ModuleList([nn.Dropout(0.1)]))
    seq.eval()
    assert not seq[0].training and not seq[1][0].training
    calls = []
    seq[0].register_forward_hook(lambda m, a, o: calls.append(tuple(o.shape)))
    x = torch.ones(2, 2)
    inner = nn.Sequential(seq[0])
    np.testing.assert_array_equal(np_(inner(x)), np.ones((2, 2)))  # eval dropout: identity
    assert calls == [(2, 2)]
    assert re.fullmatch(r"Sequential\(\n  \(0\): Dropout\(p=0.5, inplace=False\)\n\)", repr(inner))
