"""Neural style transfer (Gatys, Ecker & Bethge), as PyTorch's "Neural Transfer Using PyTorch" tutorial.

Written as PyTorch code: change the import to ``import torch`` and it runs on PyTorch. The
tutorial's pieces, unchanged: VGG-19's ``features`` (torchvision's layer list and state-dict key
names), a Normalization module (ImageNet mean/std) in front, ContentLoss after conv_4 and StyleLoss
(Gram matrices) after conv_1..conv_5, the model cut after the last loss module, the input image
a clone of the content image, optimised by ``optim.LBFGS([input_img])`` with a closure that
``clamp_(0, 1)``s the image under ``no_grad``; the loss printout every 50 closure evaluations
("run [50]:"). ``conv_N`` counts convolutions as the tutorial does, so its conv_5 is VGG's conv3_1
and the network runs only up to there.

Weights: ``--weights PATH`` loads torchvision's VGG-19 checkpoint (``vgg19-dcbb9e9d.pth``, a state
dict with ``features.*`` and ``classifier.*`` keys: the ``features.*`` ones are used) through
``torch.load(..., weights_only=True)``. Without it the network is randomly initialised (seeded,
torchvision's initialisation), which this script states loudly: the run then shows the algorithm
and its speed, and a texture-like image, not a pretrained network's style transfer.

Images: ``examples/images/content.png`` and ``style.png`` (128 px, drawn by
scripts/make_style_images.py; licence in examples/images/README.md), resized to ``--size``.
Writes ``out/neural_style.png`` and ``out/neural_style.json`` (the losses of every evaluation).
Needs Pillow (``pip install ferrotorch[examples]``).

``--steps`` defaults to the tutorial's 300 (run as the tutorial's loop does: L-BFGS steps of
20 evaluations while fewer than 301 have run, so 320 evaluations). At 128 px one evaluation
(forward and backward through conv3_1) costs about 0.23 CPU-seconds in a release build, so the
default run needs about 80 CPU-seconds: 40-80 s of wall time on 2 idle cores.
With random weights the losses do not fall monotonically (L-BFGS without line search, the image
clamped inside the closure); PyTorch's run on the same weights jumps the same way.

    python examples/neural_style.py [--steps 300] [--size 128] [--weights vgg19-dcbb9e9d.pth]
"""
import argparse
import json
import os
import sys
import time

import numpy as np

import ferrotorch as torch
import ferrotorch.nn as nn
import ferrotorch.nn.functional as F
import ferrotorch.optim as optim

try:
    from tqdm import tqdm
except ImportError:  # the progress bar is cosmetic
    tqdm = None

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGES = os.path.join(ROOT, "examples", "images")

# torchvision's VGG configuration "E" (VGG-19): conv3x3 widths, "M" = 2x2 max pool.
VGG19_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
             512, 512, 512, 512, "M"]


# ----------------------------------------------------------------------------- images
def image_loader(path, size, device):
    """The tutorial's loader (Resize + ToTensor), with Pillow and NumPy: a (1, 3, size, size)
    float tensor in [0, 1]. Both images go to the same square size, as the losses need."""
    from PIL import Image

    image = Image.open(path).convert("RGB").resize((size, size), Image.BICUBIC)
    arr = np.asarray(image, dtype=np.float32) / 255.0           # H, W, C
    return torch.from_numpy(arr.transpose(2, 0, 1).copy()).unsqueeze(0).to(device, torch.float)


def image_saver(tensor, path):
    from PIL import Image

    arr = tensor.detach().cpu().squeeze(0).clamp(0, 1).numpy().transpose(1, 2, 0)
    Image.fromarray((arr * 255.0 + 0.5).astype(np.uint8), "RGB").save(path)


# ----------------------------------------------------------------------------- VGG-19
class VGG19Features(nn.Module):
    """torchvision's ``models.vgg19().features`` under the attribute ``features``, so that its
    state-dict keys are torchvision's (``features.0.weight`` ... ``features.34.bias``)."""

    def __init__(self):
        super().__init__()
        layers, in_channels = [], 3
        for v in VGG19_CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(in_channels, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
                in_channels = v
        self.features = nn.Sequential(*layers)
        # torchvision's VGG initialisation.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.constant_(m.bias, 0)


def load_vgg19_weights(vgg, state_dict, source="state dict"):
    """Load the ``features.*`` entries of a torchvision VGG-19 state dict into ``vgg``
    (a VGG19Features); ``classifier.*`` and any other keys are ignored. A missing key or a
    shape that is not VGG-19's raises RuntimeError naming the key."""
    if not isinstance(state_dict, dict):
        raise RuntimeError(f"{source}: expected a state dict (a dict of tensors), got {type(state_dict).__name__}")
    features = {k: v for k, v in state_dict.items() if k.startswith("features.")}
    if not features:
        raise RuntimeError(f"{source}: no 'features.*' keys: not a torchvision VGG state dict "
                           f"(keys: {', '.join(list(state_dict)[:5])}{', ...' if len(state_dict) > 5 else ''})")
    expected = vgg.state_dict()
    for key, want in expected.items():
        if key not in features:
            raise RuntimeError(f"{source}: missing '{key}' (VGG-19 expects shape {tuple(want.shape)})")
        got = features[key]
        if tuple(got.shape) != tuple(want.shape):
            raise RuntimeError(f"{source}: '{key}' has shape {tuple(got.shape)}, VGG-19 expects "
                               f"{tuple(want.shape)} (is this VGG-19? VGG-11/13/16 and the batch-norm "
                               f"variants have other layers)")
    unexpected = sorted(set(features) - set(expected))
    if unexpected:
        raise RuntimeError(f"{source}: unexpected keys {', '.join(unexpected[:5])}: not VGG-19's features "
                           f"(a batch-norm VGG?)")
    vgg.load_state_dict(features)
    return vgg


# ----------------------------------------------------------------------------- the tutorial's modules
class ContentLoss(nn.Module):
    def __init__(self, target):
        super().__init__()
        # Detached: the target is a fixed value, not part of the graph.
        self.target = target.detach()

    def forward(self, input):
        self.loss = F.mse_loss(input, self.target)
        return input


def gram_matrix(input):
    a, b, c, d = input.size()  # a = batch size (1), b = feature maps, (c, d) = map size
    features = input.view(a * b, c * d)
    G = torch.mm(features, features.t())
    # Normalised by the number of elements of each feature map set.
    return G.div(a * b * c * d)


class StyleLoss(nn.Module):
    def __init__(self, target_feature):
        super().__init__()
        self.target = gram_matrix(target_feature).detach()

    def forward(self, input):
        G = gram_matrix(input)
        self.loss = F.mse_loss(G, self.target)
        return input


class Normalization(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        # .view the mean and std as [C x 1 x 1] to broadcast over [B x C x H x W] images.
        self.mean = mean.clone().detach().view(-1, 1, 1)
        self.std = std.clone().detach().view(-1, 1, 1)

    def forward(self, img):
        return (img - self.mean) / self.std


cnn_normalization_mean = torch.tensor([0.485, 0.456, 0.406])
cnn_normalization_std = torch.tensor([0.229, 0.224, 0.225])
content_layers_default = ["conv_4"]
style_layers_default = ["conv_1", "conv_2", "conv_3", "conv_4", "conv_5"]


def get_style_model_and_losses(cnn, normalization_mean, normalization_std, style_img, content_img,
                               content_layers=content_layers_default, style_layers=style_layers_default):
    normalization = Normalization(normalization_mean, normalization_std)
    content_losses = []
    style_losses = []
    # A new nn.Sequential holding the layers of `cnn` in order, with the loss modules inserted.
    model = nn.Sequential(normalization)

    i = 0  # incremented at every conv
    for layer in cnn.children():
        if isinstance(layer, nn.Conv2d):
            i += 1
            name = "conv_{}".format(i)
        elif isinstance(layer, nn.ReLU):
            name = "relu_{}".format(i)
            # The in-place ReLU would overwrite the output that ContentLoss/StyleLoss keep.
            layer = nn.ReLU(inplace=False)
        elif isinstance(layer, nn.MaxPool2d):
            name = "pool_{}".format(i)
        elif isinstance(layer, nn.BatchNorm2d):
            name = "bn_{}".format(i)
        else:
            raise RuntimeError("Unrecognized layer: {}".format(layer.__class__.__name__))

        model.add_module(name, layer)

        if name in content_layers:
            target = model(content_img).detach()
            content_loss = ContentLoss(target)
            model.add_module("content_loss_{}".format(i), content_loss)
            content_losses.append(content_loss)

        if name in style_layers:
            target_feature = model(style_img).detach()
            style_loss = StyleLoss(target_feature)
            model.add_module("style_loss_{}".format(i), style_loss)
            style_losses.append(style_loss)

    # Trim off the layers after the last content and style losses.
    for i in range(len(model) - 1, -1, -1):
        if isinstance(model[i], ContentLoss) or isinstance(model[i], StyleLoss):
            break
    model = model[:(i + 1)]
    return model, style_losses, content_losses


def get_input_optimizer(input_img):
    # The input image is the parameter being optimised.
    optimizer = optim.LBFGS([input_img])
    return optimizer


def run_style_transfer(cnn, normalization_mean, normalization_std, content_img, style_img, input_img,
                       num_steps=300, style_weight=1000000, content_weight=1, progress=True, history=None):
    """The tutorial's loop. `history`, when a list, receives (style, content) per evaluation."""
    print("Building the style transfer model..")
    model, style_losses, content_losses = get_style_model_and_losses(
        cnn, normalization_mean, normalization_std, style_img, content_img)

    # Optimise the input, not the model's parameters.
    input_img.requires_grad_(True)
    model.eval()
    model.requires_grad_(False)

    optimizer = get_input_optimizer(input_img)
    max_iter = optimizer.param_groups[0]["max_iter"]
    # The loop below runs whole L-BFGS steps while run[0] <= num_steps.
    planned = (num_steps // max_iter + 1) * max_iter
    print("Optimizing..")
    bar = tqdm(total=planned, unit="eval", desc="L-BFGS", leave=False) if (tqdm and progress) else None
    say = bar.write if bar is not None else print
    run = [0]
    while run[0] <= num_steps:

        def closure():
            # Correct the values of the updated input image.
            with torch.no_grad():
                input_img.clamp_(0, 1)

            optimizer.zero_grad()
            model(input_img)
            style_score = 0
            content_score = 0

            for sl in style_losses:
                style_score += sl.loss
            for cl in content_losses:
                content_score += cl.loss

            style_score *= style_weight
            content_score *= content_weight

            loss = style_score + content_score
            loss.backward()

            run[0] += 1
            if history is not None:
                history.append((style_score.item(), content_score.item()))
            if bar is not None:
                bar.update(1)
            if run[0] % 50 == 0:
                say("run {}:".format(run))
                say("Style Loss : {:4f} Content Loss: {:4f}".format(style_score.item(), content_score.item()))
                say("")

            return style_score + content_score

        before = run[0]
        optimizer.step(closure)
        if run[0] == before + 1 and run[0] <= num_steps:
            break  # L-BFGS converged on its first evaluation: further steps would change nothing

    if bar is not None:
        bar.close()
    # A last correction...
    with torch.no_grad():
        input_img.clamp_(0, 1)
    return input_img


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300, help="closure evaluations, as the tutorial's num_steps")
    ap.add_argument("--size", type=int, default=128, help="image side in pixels")
    ap.add_argument("--content", default=os.path.join(IMAGES, "content.png"))
    ap.add_argument("--style", default=os.path.join(IMAGES, "style.png"))
    ap.add_argument("--weights", default=None, help="torchvision VGG-19 checkpoint (vgg19-dcbb9e9d.pth)")
    ap.add_argument("--style-weight", type=float, default=1000000)
    ap.add_argument("--content-weight", type=float, default=1)
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random initialisation (without --weights)")
    ap.add_argument("--out", default=os.path.join(ROOT, "out"), help="output folder")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)

    try:
        import PIL  # noqa: F401
    except ImportError:
        sys.exit("examples/neural_style.py needs Pillow: pip install 'ferrotorch[examples]' (or pip install Pillow)")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit(f"--device {args.device}: CUDA is not available on this machine")
    device = torch.device(args.device)

    t0 = time.perf_counter()
    torch.manual_seed(args.seed)
    vgg = VGG19Features()
    if args.weights:
        state = torch.load(args.weights, map_location="cpu", weights_only=True)
        load_vgg19_weights(vgg, state, source=args.weights)
        print(f"VGG-19 features: pretrained weights from {args.weights}")
    else:
        print("=" * 78)
        print(f"NOTE: no --weights given: VGG-19 is RANDOMLY INITIALISED (seed {args.seed}), not pretrained.")
        print("The result shows the algorithm running, not real style transfer; pass --weights with")
        print("torchvision's vgg19-dcbb9e9d.pth for that.")
        print("=" * 78)
    cnn = vgg.features.to(device).eval()

    style_img = image_loader(args.style, args.size, device)
    content_img = image_loader(args.content, args.size, device)
    assert style_img.size() == content_img.size(), "we need to import style and content images of the same size"
    input_img = content_img.clone()

    history = []
    output = run_style_transfer(cnn, cnn_normalization_mean.to(device), cnn_normalization_std.to(device),
                                content_img, style_img, input_img, num_steps=args.steps,
                                style_weight=args.style_weight, content_weight=args.content_weight,
                                progress=not args.no_progress, history=history)
    seconds = time.perf_counter() - t0

    os.makedirs(args.out, exist_ok=True)
    png = os.path.join(args.out, "neural_style.png")
    image_saver(output, png)
    with open(os.path.join(args.out, "neural_style.json"), "w") as f:
        json.dump({"weights": args.weights or f"random (seed {args.seed})", "size": args.size,
                   "steps": args.steps, "evaluations": len(history), "seconds": seconds,
                   "style_loss": [s for s, _ in history], "content_loss": [c for _, c in history]}, f)
    (s0, c0), (s1, c1) = history[0], history[-1]
    print(f"loss {s0 + c0:.4f} -> {s1 + c1:.4f} (style {s0:.4f} -> {s1:.4f}, content {c0:.4f} -> {c1:.4f}) "
          f"over {len(history)} evaluations")
    print(f"wrote {png} ({args.size}x{args.size}); total time {seconds:.1f}s"
          + ("" if args.weights else " [random VGG-19 weights]"))
    return output


if __name__ == "__main__":
    main()
