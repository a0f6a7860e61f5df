"""The engine's op registry (rust/core/src/ops/registry.rs, rows in ops/elementwise.rs) is the one
source of the elementwise ops' Python surface: the files scripts/gen_ops.py writes from it are
current, every form a row declares exists where PyTorch has it, and the rows' autograd node names
are PyTorch's. (The CUDA side: rust/core/tests/registry.rs checks the kernel rows of cuda/*.cu
against the registry; values, dtypes and gradients of every op: tests/device/test_op_table.py.)"""
import os

import pytest

import ferrotorch as torch
import ferrotorch.nn.functional as F
from _helpers import REPO, load_script

ROWS = torch._C._op_registry()
BY_NAME = {r["name"]: r for r in ROWS}


def _gen_ops():
    return load_script("scripts/gen_ops.py", "gen_ops")


def test_generated_files_are_current():
    """_ops.py, the import block of __init__.py and the op sections of _C.pyi match the registry
    of the built extension (otherwise: run scripts/gen_ops.py)."""
    gen = _gen_ops()
    stale = []
    for path, text in gen.outputs().items():
        with open(path) as f:
            if f.read() != text:
                stale.append(os.path.relpath(path, REPO))
    assert not stale, f"stale generated files (run scripts/gen_ops.py): {stale}"


def test_generator_reports_a_stale_file(tmp_path, monkeypatch):
    """The check above can fail: a registry with one more row changes the generated text."""
    gen = _gen_ops()
    rows = gen.registry()
    extra = dict(rows[0], name="my_new_op")
    monkeypatch.setattr(gen, "registry", lambda: rows + [extra])
    out = gen.outputs()
    ops_text = out[os.path.join(gen.PKG, "_ops.py")]
    assert "my_new_op = Tensor.my_new_op" in ops_text
    assert "def my_new_op(self, *, out: Tensor | None = ...) -> Tensor: ..." in out[os.path.join(gen.PKG, "_C.pyi")]
    with open(os.path.join(gen.PKG, "_ops.py")) as f:
        assert f.read() != ops_text


def test_registry_rows_are_unique_and_complete():
    names = [r["name"] for r in ROWS]
    assert len(names) == len(set(names))
    families = {r["family"] for r in ROWS}
    assert families == {"unary_float", "unary_num", "unary_pred", "binary"}
    # the four families the engine defines, each non-empty, and the ops PyTorch users reach first
    for name in ("exp", "tanh", "erf", "abs", "relu", "isnan", "add", "mul", "atan2", "eq", "silu"):
        assert name in BY_NAME, name


@pytest.mark.parametrize("row", [r for r in ROWS if not r["custom"]], ids=lambda r: r["name"])
def test_declared_forms_exist(row):
    name = row["name"]
    if row["method"]:
        assert callable(getattr(torch.Tensor, name))
    if row["method_inplace"]:
        assert callable(getattr(torch.Tensor, name + "_"))
    if row["function"]:
        assert callable(getattr(torch, name))
    if row["function_inplace"]:
        assert callable(getattr(torch, name + "_"))
    if row["nn"]:
        assert callable(getattr(torch._C, name)) and callable(getattr(torch._C, name + "_"))
    # a method PyTorch does not have as torch.<name>_ is not offered either
    if row["method"] and not row["function_inplace"] and name + "_" in dir(torch):
        assert getattr(torch, name + "_") is not getattr(torch.Tensor, name + "_", None), name


# a point inside every differentiable row's domain
_POINT = {"acosh": 1.5, "log": 0.7, "log2": 0.7, "log10": 0.7, "log1p": 0.7, "sqrt": 0.7, "rsqrt": 0.7}


def _call(row, x, y):
    name = row["name"]
    if row["nn"]:
        return getattr(torch._C, name)(x)
    if row["family"] == "binary":
        return getattr(torch.Tensor, name)(x, y)
    return getattr(torch.Tensor, name)(x)


# rows whose node is still missing (the op table's _DIV_MODE_GRAD pending note): strict, so the
# mark must go once they record one
_NO_NODE_YET = {"floor_divide", "div_trunc"}


@pytest.mark.parametrize("row", [
    pytest.param(r, id=r["name"], marks=[pytest.mark.xfail(
        strict=True, reason="rounding division records no autograd node; PyTorch's gives zero gradients")]
        if r["name"] in _NO_NODE_YET else [])
    for r in ROWS if r["grad_fn"] and r["dtype_rule"] != "compare"])
def test_grad_fn_names_are_pytorchs(row):
    """The node a differentiable row records carries PyTorch's name (ExpBackward0, SiluBackward0,
    PowBackward0 for square, GeluBackward0 for both gelu forms) and its gradient is finite."""
    v = _POINT.get(row["name"], 0.3)
    x = torch.tensor([v, v + 0.1], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0.8, 0.9], dtype=torch.float64)
    out = _call(row, x, y)
    assert type(out.grad_fn).__name__ == row["grad_fn"]
    out.sum().backward()
    assert x.grad is not None and bool(torch.isfinite(x.grad).all())


def test_nn_rows_are_the_functional_activations():
    """F.silu & co. call the registry's kernels (one node, PyTorch's name), not a composition."""
    x = torch.tensor([-1.0, 0.5], requires_grad=True)
    for row in (r for r in ROWS if r["nn"] and r["name"] != "gelu_tanh"):
        out = getattr(F, row["name"])(x)
        assert type(out.grad_fn).__name__ == row["grad_fn"], row["name"]
    assert type(F.gelu(x, approximate="tanh").grad_fn).__name__ == "GeluBackward0"


def test_every_registry_op_has_an_op_table_row():
    """Adding an elementwise op = its Rust row, its CUDA row and its row in tests/op_table.py (the
    values, dtypes, forms and gradients every device checks): a registry row without a table row
    fails here. A row that is not a PyTorch name (gelu_tanh, div_trunc) has the table row of that
    key (gelu with approximate='tanh', div with rounding_mode='trunc')."""
    from op_table import OPS, covered_names
    covered = covered_names() | set(OPS)
    missing = sorted(r["name"] for r in ROWS if r["name"] not in covered)
    assert not missing, f"registry ops with no row in tests/op_table.py: {missing}"
