"""grad_fn names as PyTorch's, for a table of torch / nn.functional expressions.

The table and the evaluation live in scripts/fixtures/grad_fn_names.py, which recorded
PyTorch's names into tests/fixtures/grad_fn_names.json (regenerate it there with a PyTorch
environment). PENDING lists the rows whose op is still a composition of other ops here (one
node per op comes with issue 20's fused layers); each is a strict xfail, so a row that starts
matching fails until it is taken off the list.
"""
import importlib.util
import json
import pathlib

import pytest

import ferrotorch as torch
import ferrotorch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("grad_fn_table", ROOT / "scripts" / "fixtures" / "grad_fn_names.py")
table = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(table)
EXPECTED = json.loads((ROOT / "tests" / "fixtures" / "grad_fn_names.json").read_text())["grad_fn"]

PENDING = {
    "lerp": "composite (issue 20)",
    "var": "composite (issue 20)",
    "norm": "NormBackward1 vs linalg_vector_norm (issue 20)",
    "logsumexp": "composite (issue 20)",
    "repeat": "composite (issue 20)",
    "flip": "composite (issue 20)",
    "roll": "composite (issue 20)",
    "masked_fill": "composite (issue 20)",
    "diag": "composite (issue 20)",
    "tril": "composite (issue 20)",
    "unbind": "one node per view, not one multi-output node (issue 20)",
    "split": "one node per view, not one multi-output node (issue 20)",
    "chunk": "one node per view, not one multi-output node (issue 20)",
    "matmul_batched": "bmm without ATen's reshape to 3-d (issue 20)",
    "einsum": "composite (issue 20)",
    "F_elu": "composite (issue 20 activations)",
    "F_leaky_relu": "composite (issue 20 activations)",
    "F_hardtanh": "clamp (issue 20 activations)",
    "F_mse_loss": "composite (issue 20 losses)",
    "F_smooth_l1_loss": "composite (issue 20 losses)",
    "F_huber_loss": "composite (issue 20 losses)",
    "F_nll_loss": "composite (issue 20 losses)",
    "F_cross_entropy": "composite (issue 20 losses)",
    "F_bce": "composite (issue 20 losses)",
    "F_bce_logits": "composite (issue 20 losses)",
    "F_conv2d": "im2col composite (issue 20 convolution)",
    "F_max_pool2d": "composite (issue 20 pooling)",
    "F_avg_pool2d": "composite (issue 20 pooling)",
    "F_adaptive_avg_pool2d": "composite (issue 20 pooling)",
    "F_layer_norm": "composite (issue 20 normalization)",
    "F_batch_norm": "composite (issue 20 normalization)",
    "F_group_norm": "composite (issue 20 normalization)",
    "F_embedding": "composite (issue 20 embedding)",
    "F_pad": "composite (cat of zeros)",
}


def test_table_and_fixture_agree():
    assert sorted(k for k, _ in table.TABLE) == sorted(EXPECTED)


@pytest.mark.parametrize("key,expr", [
    pytest.param(k, e, marks=pytest.mark.xfail(strict=True, reason=PENDING[k])) if k in PENDING else (k, e)
    for k, e in table.TABLE])
def test_grad_fn_name(key, expr):
    assert table.evaluate(torch, F, expr) == EXPECTED[key], expr
