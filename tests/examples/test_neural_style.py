"""examples/neural_style.py (PyTorch's neural style transfer tutorial, issue 19's case study).

* The script end to end in a child process at 32 px: the output image (read back with Pillow) has
  the requested size, the losses of its evaluations fall, the tutorial's printout appears at run 50
  and the random-weights warning is printed.
* gram_matrix / StyleLoss / ContentLoss / Normalization against NumPy float64, StyleLoss's gradient
  against its closed form.
* The tutorial's model: module names and order as the tutorial builds them from VGG-19 (hand-listed).
* VGG-19: torchvision's state-dict keys and shapes (hand-listed from torchvision's configuration
  "E"); a torchvision-style checkpoint (features.* at VGG-19's shapes plus classifier.*, written in
  PyTorch's legacy format as torchvision's vgg19-dcbb9e9d.pth is) loads through --weights; wrong
  shapes, missing and foreign keys raise RuntimeError naming the key.
"""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import ferrotorch as torch
from _helpers import REPO, load_script

SCRIPT = os.path.join(REPO, "examples", "neural_style.py")
# torchvision's vgg19().features: conv index in the Sequential -> (out, in) channels.
VGG19_CONVS = {0: (64, 3), 2: (64, 64), 5: (128, 64), 7: (128, 128), 10: (256, 128), 12: (256, 256),
               14: (256, 256), 16: (256, 256), 19: (512, 256), 21: (512, 512), 23: (512, 512),
               25: (512, 512), 28: (512, 512), 30: (512, 512), 32: (512, 512), 34: (512, 512)}


@pytest.fixture(scope="module")
def ns():
    return load_script("examples/neural_style.py", "neural_style")


def _run(args, tmp_path):
    # The child imports ferrotorch as this process does (the installed wheel, or PYTHONPATH in a
    # dev checkout): the source tree's python/ has no compiled _C in a fresh clone.
    r = subprocess.run([sys.executable, SCRIPT, "--out", str(tmp_path), "--no-progress", *args],
                       capture_output=True, text=True, timeout=600, cwd=str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_script_runs_and_lowers_the_loss(tmp_path):
    from PIL import Image

    out = _run(["--steps", "50", "--size", "32"], tmp_path)
    with Image.open(tmp_path / "neural_style.png") as im:
        assert im.size == (32, 32) and im.mode == "RGB"
        pixels = np.asarray(im)
    with open(tmp_path / "neural_style.json") as f:
        log = json.load(f)
    # The tutorial's loop: L-BFGS steps of max_iter=20 evaluations while run <= 50 -> 60 evaluations.
    assert log["evaluations"] == 60 == len(log["style_loss"])
    total = np.add(log["style_loss"], log["content_loss"])
    # The input starts as the content image: no content loss, only style loss.
    assert log["content_loss"][0] == 0.0 and log["style_loss"][0] > 0
    # L-BFGS without line search, with the image clamped inside the closure, does not fall monotonically
    # (PyTorch's run on the same weights neither): the last step's best evaluation is far below the start.
    assert min(total[-20:]) < 0.5 * total[0], total
    # The optimised image is not the content image any more.
    with Image.open(os.path.join(REPO, "examples", "images", "content.png")) as c:
        content = np.asarray(c.convert("RGB").resize((32, 32), Image.BICUBIC))
    assert np.abs(pixels.astype(int) - content.astype(int)).mean() > 1.0
    # The tutorial's printout at run 50: the run counter list, then the two losses with {:4f}.
    lines = out.splitlines()
    i = lines.index("run [50]:")
    assert re.fullmatch(r"Style Loss : \d+\.\d{6} Content Loss: \d+\.\d{6}", lines[i + 1]), lines[i + 1]
    s50, c50 = (float(x) for x in re.findall(r"\d+\.\d{6}", lines[i + 1]))
    assert abs(s50 - log["style_loss"][49]) < 1e-6 and abs(c50 - log["content_loss"][49]) < 1e-6
    assert "RANDOMLY INITIALISED" in out
    assert re.search(r"total time \d+\.\d+s", out)


def test_gram_matrix_and_losses_against_numpy(ns):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 5, 4, 3))
    t = rng.standard_normal((1, 5, 4, 3))
    n = x.size

    def gram64(a):
        f = a.reshape(a.shape[1], -1)
        return f @ f.T / n  # normalised by a * b * c * d

    np.testing.assert_allclose(ns.gram_matrix(torch.tensor(x)).numpy(), gram64(x), rtol=1e-12, atol=1e-14)
    # float32 too (the example's dtype)
    np.testing.assert_allclose(ns.gram_matrix(torch.tensor(x, dtype=torch.float32)).numpy(), gram64(x),
                               rtol=1e-5, atol=1e-6)

    sl = ns.StyleLoss(torch.tensor(t))
    xt = torch.tensor(x, requires_grad=True)
    assert sl(xt) is xt  # the module passes its input through
    g_x, g_t = gram64(x), gram64(t)
    k = x.shape[1]
    np.testing.assert_allclose(sl.loss.item(), ((g_x - g_t) ** 2).mean(), rtol=1e-12)
    # d/dF mean((F F^T / n - Gt)^2) = 4 (G - Gt) F / (n k^2) (G symmetric), F = x as (k, h*w).
    sl.loss.backward()
    f = x.reshape(k, -1)
    expect = (4.0 * (g_x - g_t) @ f / (n * k * k)).reshape(x.shape)
    np.testing.assert_allclose(xt.grad.numpy(), expect, rtol=1e-10, atol=1e-14)

    cl = ns.ContentLoss(torch.tensor(t))
    cl(torch.tensor(x))
    np.testing.assert_allclose(cl.loss.item(), ((x - t) ** 2).mean(), rtol=1e-12)

    img = rng.random((1, 3, 4, 4))
    norm = ns.Normalization(torch.tensor([0.485, 0.456, 0.406], dtype=torch.float64),
                            torch.tensor([0.229, 0.224, 0.225], dtype=torch.float64))
    mean = np.array([0.485, 0.456, 0.406]).reshape(3, 1, 1)
    std = np.array([0.229, 0.224, 0.225]).reshape(3, 1, 1)
    np.testing.assert_allclose(norm(torch.tensor(img)).numpy(), (img - mean) / std, rtol=1e-12)


def test_style_model_is_the_tutorials(ns):
    torch.manual_seed(0)
    vgg = ns.VGG19Features()
    img = torch.rand(1, 3, 16, 16)
    model, style_losses, content_losses = ns.get_style_model_and_losses(
        vgg.features, ns.cnn_normalization_mean, ns.cnn_normalization_std, img, img)
    names = [name for name, _ in model.named_children()]
    # The tutorial's model from VGG-19, cut after style_loss_5 (its conv_5 is VGG's conv3_1).
    assert names == ["0", "conv_1", "style_loss_1", "relu_1", "conv_2", "style_loss_2", "relu_2", "pool_2",
                     "conv_3", "style_loss_3", "relu_3", "conv_4", "content_loss_4", "style_loss_4", "relu_4",
                     "pool_4", "conv_5", "style_loss_5"]
    assert len(style_losses) == 5 and len(content_losses) == 1
    # The ReLUs are new, not in place (the loss modules keep their inputs); the convs are VGG's own.
    assert all(not m.inplace for m in model.children() if isinstance(m, torch.nn.ReLU))
    assert model.conv_5 is vgg.features[10]


def test_vgg19_has_torchvisions_keys_and_shapes(ns):
    sd = ns.VGG19Features().state_dict()
    want = {}
    for i, (o, c) in VGG19_CONVS.items():
        want[f"features.{i}.weight"] = (o, c, 3, 3)
        want[f"features.{i}.bias"] = (o,)
    assert list(sd) == list(want)
    assert {k: tuple(v.shape) for k, v in sd.items()} == want
    assert sum(v.numel() for v in sd.values()) == 20024384  # torchvision's vgg19().features


def _torchvision_like(rng):
    """features.* at VGG-19's shapes (seeded values) plus a classifier (small stand-in shapes)."""
    sd = {}
    for i, (o, c) in VGG19_CONVS.items():
        sd[f"features.{i}.weight"] = torch.from_numpy(rng.standard_normal((o, c, 3, 3), dtype=np.float32) * 0.01)
        sd[f"features.{i}.bias"] = torch.from_numpy(rng.standard_normal(o, dtype=np.float32) * 0.01)
    for i in (0, 3, 6):
        sd[f"classifier.{i}.weight"] = torch.ones(4, 4)
        sd[f"classifier.{i}.bias"] = torch.zeros(4)
    return sd


def test_weights_file_loads_features(ns, tmp_path):
    sd = _torchvision_like(np.random.default_rng(1))
    path = tmp_path / "vgg19.pth"
    # torchvision's vgg19-dcbb9e9d.pth predates the zip format
    torch.save(sd, path, _use_new_zipfile_serialization=False)
    out = _run(["--weights", str(path), "--steps", "2", "--size", "32"], tmp_path)
    assert f"pretrained weights from {path}" in out and "RANDOMLY" not in out
    assert json.loads((tmp_path / "neural_style.json").read_text())["weights"] == str(path)

    vgg = ns.load_vgg19_weights(ns.VGG19Features(), torch.load(path, weights_only=True))
    for k, v in vgg.state_dict().items():
        assert np.array_equal(v.numpy(), sd[k].numpy()), k


def test_weights_with_wrong_keys_or_shapes_are_rejected(ns):
    vgg = ns.VGG19Features()
    good = vgg.state_dict()
    before = {k: v.numpy().copy() for k, v in good.items()}
    bad = {"features.0.weight": torch.zeros(32, 3, 3, 3), "classifier.0.weight": torch.zeros(1)}
    with pytest.raises(RuntimeError, match=re.escape("'features.0.weight' has shape (32, 3, 3, 3), VGG-19 "
                                                     "expects (64, 3, 3, 3)")):
        ns.load_vgg19_weights(vgg, bad, source="x.pth")
    with pytest.raises(RuntimeError, match=re.escape("x.pth: missing 'features.2.weight'")):
        ns.load_vgg19_weights(vgg, {k: good[k] for k in ("features.0.weight", "features.0.bias")}, source="x.pth")
    with pytest.raises(RuntimeError, match="no 'features.\\*' keys: not a torchvision VGG state dict"):
        ns.load_vgg19_weights(vgg, {"fc.weight": torch.zeros(2, 2)})
    with pytest.raises(RuntimeError, match="expected a state dict"):
        ns.load_vgg19_weights(vgg, [1, 2])
    # a batch-norm VGG's extra keys
    extra = dict(good)
    extra["features.36.running_mean"] = torch.zeros(512)
    with pytest.raises(RuntimeError, match="unexpected keys features.36.running_mean"):
        ns.load_vgg19_weights(vgg, extra)
    # nothing was loaded by the failed attempts
    for k, v in vgg.state_dict().items():
        assert np.array_equal(v.numpy(), before[k])
