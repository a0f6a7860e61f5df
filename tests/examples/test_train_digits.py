"""The main job (examples/train_digits.py) trains to >= 95% held-out accuracy.

Runs the example's own `main()` with its default settings (the README's first command),
only redirecting its outputs to a temporary folder; the accuracy is measured by the
example on the seeded held-out split, and re-measured here from the saved weights.
"""
import gzip
import json
import os

import numpy as np

import ferrotorch as torch
from _helpers import load_script

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _load_example():
    return load_script("examples/train_digits.py", "train_digits")


def test_digits_data_file_matches_its_description():
    with gzip.open(os.path.join(ROOT, "data", "digits.csv.gz"), "rt") as f:
        raw = np.loadtxt(f, delimiter=",")
    assert raw.shape == (1797, 65)
    assert raw[:, :64].min() == 0 and raw[:, :64].max() == 16
    assert np.array_equal(np.unique(raw[:, 64]), np.arange(10))


def test_main_job_reaches_95_percent(tmp_path):
    mod = _load_example()
    acc = mod.main(["--out", str(tmp_path), "--no-progress"])
    assert acc >= 0.95
    with open(tmp_path / "train_digits.json") as f:
        assert json.load(f)["held_out_accuracy"] == acc

    # Independent re-check: rebuild the model from the saved weights and score the
    # held-out split with plain NumPy matrix products.
    state = torch.load(tmp_path / "digits_mlp.pt")
    x, y = mod.load_digits()
    full = torch.utils.data.TensorDataset(x, y)
    _, test_set = torch.utils.data.random_split(full, [0.8, 0.2], generator=torch.Generator().manual_seed(0))
    idx = np.array(test_set.indices)
    h = x.numpy()[idx].astype(np.float64)
    for i in (0, 3):
        w, b = state[f"net.{i}.weight"].numpy(), state[f"net.{i}.bias"].numpy()
        h = np.maximum(h @ w.T + b, 0.0)
    logits = h @ state["net.6.weight"].numpy().T + state["net.6.bias"].numpy()
    np_acc = float((logits.argmax(1) == y.numpy()[idx]).mean())
    assert abs(np_acc - acc) < 1e-9
