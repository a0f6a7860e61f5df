"""Numerics at the edges against PyTorch: every row of numerics_table.py (softmax of rows
holding inf/NaN, BCE at p in {0, 1}, gradients at the singular points of std/norm, half
precision accumulators, gradients at kinks and ties, float -> integer conversions) is run
in ferrotorch and compared with tests/fixtures/edge_numerics.json, PyTorch's results
written by scripts/fixtures/edge_numerics.py.

The rows run in one child process (a conversion that crashes fails the rows, not pytest);
each row is then its own test. Comparison: same dtype, shape and exception type; integers
and booleans exactly; floats NaN-aware, with inf signs exact and a tolerance per dtype.
"""
import json
import math
import os

import pytest

import numerics_table
from _child import run

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "fixtures", "edge_numerics.json")

with open(FIXTURE) as f:
    EXPECTED = json.load(f)["rows"]

# (rtol, atol) per result dtype: the computation order differs from PyTorch's in the last bits.
TOL = {"float16": (2e-3, 1e-5), "bfloat16": (1e-2, 1e-5), "float32": (2e-6, 1e-6), "float64": (1e-12, 1e-12)}

CHILD = """
import json, sys
sys.path.insert(0, {here!r})
import ferrotorch
import numerics_table
ferrotorch.set_num_threads(1)
out = {{r.name: numerics_table.evaluate(ferrotorch, r) for r in numerics_table.ROWS}}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def actual():
    lines = run(CHILD.format(here=HERE)).ok()
    return json.loads(lines[-1])


def _close(a, e, dtype):
    if isinstance(e, float) and math.isnan(e):
        return isinstance(a, float) and math.isnan(a)
    if isinstance(e, float) and math.isinf(e):
        return a == e
    if dtype in TOL:
        rtol, atol = TOL[dtype]
        return isinstance(a, (int, float)) and not math.isnan(a) and abs(a - e) <= atol + rtol * abs(e)
    return a == e and type(a) is type(e)


def _compare(a, e, where):
    assert a.keys() == e.keys(), f"{where}: got {a}, PyTorch {e}"
    if "seq" in e:
        assert len(a["seq"]) == len(e["seq"]), f"{where}: got {a}, PyTorch {e}"
        for i, (x, y) in enumerate(zip(a["seq"], e["seq"])):
            _compare(x, y, f"{where}[{i}]")
    elif "values" in e:
        assert (a["dtype"], a["shape"]) == (e["dtype"], e["shape"]), f"{where}: got {a}, PyTorch {e}"
        bad = [i for i, (x, y) in enumerate(zip(a["values"], e["values"])) if not _close(x, y, e["dtype"])]
        assert not bad, (f"{where}: differs at flat index {bad[:8]}\n  got     {a['values']}\n"
                         f"  PyTorch {e['values']}")
    else:
        assert a == e, f"{where}: got {a}, PyTorch {e}"


def test_fixture_covers_the_table():
    names = [r.name for r in numerics_table.ROWS]
    assert len(names) == len(set(names))
    assert set(names) == set(EXPECTED), "rerun scripts/fixtures/edge_numerics.py under PyTorch"


@pytest.mark.parametrize("name", [r.name for r in numerics_table.ROWS])
def test_row(actual, name):
    a, e = actual[name], EXPECTED[name]
    if "error" in e or "error" in a:
        assert a == e, f"{name}: got {a}, PyTorch {e}"
        return
    _compare(a["out"], e["out"], f"{name} result")
    assert a.get("grads", {}).keys() == e.get("grads", {}).keys()
    for k in e.get("grads", {}):
        _compare(a["grads"][k], e["grads"][k], f"{name} grad of {k}")
