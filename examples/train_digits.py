"""Train a digit classifier on the UCI 8x8 handwritten digits (the README's main job).

Written as PyTorch code: change the import to ``import torch`` and it runs on PyTorch.
Data: ``data/digits.csv.gz`` (1,797 images, 64 pixels 0..16 + label; licence in
``data/README.md``). A seeded 80/20 split gives the held-out set. Writes only under
``out/`` (the metrics JSON and the trained weights).

    python examples/train_digits.py [--epochs 30] [--batch-size 32] [--device cpu]
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np

import ferrotorch as torch
import ferrotorch.nn as nn
import ferrotorch.nn.functional as F
from ferrotorch.utils.data import DataLoader, TensorDataset, random_split

try:
    from tqdm import tqdm
except ImportError:  # progress bars are cosmetic
    tqdm = None

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_digits(path=os.path.join(ROOT, "data", "digits.csv.gz")):
    with gzip.open(path, "rt") as f:
        raw = np.loadtxt(f, delimiter=",", dtype=np.float32)
    x = torch.from_numpy(raw[:, :64] / 16.0)          # pixels scaled to [0, 1]
    y = torch.from_numpy(raw[:, 64].astype(np.int64))
    return x, y


class MLP(nn.Module):
    def __init__(self, hidden=128, p_drop=0.1):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(64, hidden), nn.ReLU(), nn.Dropout(p_drop),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(p_drop),
            nn.Linear(hidden, 10),
        )

    def forward(self, x):
        return self.net(x)


def evaluate(model, loader, device):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            correct += int((model(xb).argmax(dim=1) == yb).sum())
            total += yb.shape[0]
    return correct / total


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(ROOT, "out"), help="output folder (inside the repo)")
    ap.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit(f"--device {args.device}: CUDA is not available on this machine")
    device = torch.device(args.device)
    torch.manual_seed(args.seed)

    x, y = load_digits()
    full = TensorDataset(x, y)
    train_set, test_set = random_split(full, [0.8, 0.2], generator=torch.Generator().manual_seed(args.seed))
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
                              generator=torch.Generator().manual_seed(args.seed))
    test_loader = DataLoader(test_set, batch_size=256)

    model = MLP(args.hidden).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    print(f"ferrotorch {torch.__version__}: {len(train_set)} train / {len(test_set)} held-out images, "
          f"{sum(p.numel() for p in model.parameters())} parameters, device {device}")

    t0 = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        batches = train_loader
        if tqdm is not None and not args.no_progress:
            batches = tqdm(train_loader, desc=f"epoch {epoch:2d}/{args.epochs}", leave=False, unit="batch")
        total, n = 0.0, 0
        for xb, yb in batches:
            xb, yb = xb.to(device), yb.to(device)
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * yb.shape[0]
            n += yb.shape[0]
        if epoch == 1 or epoch % 5 == 0 or epoch == args.epochs:
            acc = evaluate(model, test_loader, device)
            print(f"epoch {epoch:2d}  train loss {total / n:.4f}  held-out accuracy {acc:.2%}  "
                  f"({time.perf_counter() - t0:.1f}s)")
    seconds = time.perf_counter() - t0
    acc = evaluate(model, test_loader, device)
    print(f"held-out accuracy {acc:.2%} after {args.epochs} epochs in {seconds:.1f}s")

    os.makedirs(args.out, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(args.out, "digits_mlp.pt"))
    with open(os.path.join(args.out, "train_digits.json"), "w") as f:
        json.dump({"held_out_accuracy": acc, "epochs": args.epochs, "seconds": seconds,
                   "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed}, f, indent=2)
    return acc


if __name__ == "__main__":
    main()
