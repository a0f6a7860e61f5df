"""Fuzzing ``ferrotorch.load`` (weights_only=True, the untrusted-file path) with seeded
mutants of checkpoints in each format: PyTorch's zip files, ours, and the legacy format.

Every mutant (truncations, byte flips, inserted and deleted bytes, edited sizes in the
pickle and in the zip headers) is loaded in a child process, which must see each load
either return or raise an ``Exception``: no crash, abort, Rust panic (a
``PanicException`` is a ``BaseException``), hang, or out-of-memory. The child runs under
an address-space limit a little above its own baseline, so a loader that believed a
file's claimed sizes (gigabytes from a few kilobytes) fails the test with its allocation
error instead of passing by luck; what a successful load holds is checked against the
file's size too. The parent names the mutant a crash happened on.
"""
import json
import os
import subprocess
import sys

import pytest

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "checkpoints")

CHILD = r'''
import io, json, os, random, resource, struct, sys, zipfile
import ferrotorch as torch
from ferrotorch import _C

seed, n, progress_path, *paths = sys.argv[1:]
seed, n = int(seed), int(n)
bases = [open(p, "rb").read() for p in paths]


def zip_fields(raw):
    """Offsets of the size/offset fields of the zip headers, to edit."""
    out = []
    i = raw.find(b"PK\x01\x02")
    while i != -1:
        out += [i + 20, i + 24, i + 42]  # compressed size, size, local header offset
        i = raw.find(b"PK\x01\x02", i + 4)
    i = raw.find(b"PK\x05\x06")
    if i != -1:
        out += [i + 10, i + 12, i + 16]  # entry counts, directory offset
    return out


def pickle_ints(raw):
    """Offsets of BININT1/BININT arguments after a MARK-ish context (sizes, strides, numels)."""
    return [i + 1 for i in range(len(raw) - 5) if raw[i] in (0x4B, 0x4A) and raw[i - 1] in (0x28, 0x68, 0x71, 0x4B)]


def mutate(rng, raw):
    raw = bytearray(raw)
    kind = rng.randrange(7)
    if kind == 0:
        return bytes(raw[:rng.randrange(len(raw))]), "truncate"
    if kind == 1:
        for _ in range(rng.randint(1, 4)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        return bytes(raw), "flip"
    if kind == 2:
        i = rng.randrange(len(raw))
        return bytes(raw[:i] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 8))) + raw[i:]), "insert"
    if kind == 3:
        i = rng.randrange(len(raw))
        return bytes(raw[:i] + raw[i + rng.randint(1, 16):]), "delete"
    if kind == 4:
        f = zip_fields(bytes(raw))
        if f:
            i = rng.choice(f)
            raw[i:i + 4] = struct.pack("<I", rng.choice([0, 1, 0xFFFFFFFF, 0x7FFFFFFF, rng.randrange(1 << 32)]))
            return bytes(raw), "zipfield"
    ints = pickle_ints(bytes(raw))
    if ints:
        i = rng.choice(ints)
        raw[i] = rng.choice([0, 1, 255, rng.randrange(256)])
        if raw[i - 1] == 0x4A and i + 4 <= len(raw):
            raw[i:i + 4] = struct.pack("<i", rng.choice([-1, 2 ** 31 - 1, 1 << 28, rng.randrange(-2 ** 31, 2 ** 31)]))
        return bytes(raw), "pickle-int"
    raw[rng.randrange(len(raw))] ^= 0xFF
    return bytes(raw), "flip"


def vm_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024


tmp = os.path.join(os.path.dirname(progress_path), "mutant.pt")
# Warm up every code path (thread pools, allocator arenas) before taking the baseline.
for b in bases:
    torch.load(io.BytesIO(b))
    with open(tmp, "wb") as f:
        f.write(b)
    if b[:2] == b"PK":
        torch.load(tmp, mmap=True)
biggest = max(len(b) for b in bases)
limit = vm_bytes() + 256 * 2 ** 20 + 64 * biggest
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

rng = random.Random(seed)
report = {"loaded": 0, "raised": 0, "kinds": {}, "failures": []}
for i in range(n):
    base = rng.randrange(len(bases))
    data, kind = mutate(rng, bases[base])
    use_mmap = data[:2] == b"PK" and rng.random() < 0.3
    with open(progress_path, "w") as f:
        f.write(json.dumps({"seed": seed, "i": i, "base": paths[base], "kind": kind, "mmap": use_mmap}))
    a0 = _C._cpu_memory_allocated()
    try:
        if use_mmap:
            with open(tmp, "wb") as f:
                f.write(data)
            obj = torch.load(tmp, mmap=True)
        else:
            obj = torch.load(io.BytesIO(data))
        grown = _C._cpu_memory_allocated() - a0
        if grown > 4 * len(data) + 2 ** 20:
            report["failures"].append(f"mutant {i} ({kind} of {paths[base]}): holds {grown} bytes from a "
                                      f"{len(data)}-byte file")
        del obj
        report["loaded"] += 1
    except MemoryError as e:
        report["failures"].append(f"mutant {i} ({kind} of {paths[base]}): MemoryError {e}")
    except Exception as e:
        msg = str(e)
        if "can't allocate memory" in msg or "Cannot allocate memory" in msg:
            report["failures"].append(f"mutant {i} ({kind} of {paths[base]}): allocation from file claims: {msg[:200]}")
        report["raised"] += 1
        report["kinds"][type(e).__name__] = report["kinds"].get(type(e).__name__, 0) + 1
    except BaseException as e:  # a Rust panic arrives as pyo3's PanicException
        report["failures"].append(f"mutant {i} ({kind} of {paths[base]}): {type(e).__name__}: {str(e)[:200]}")
print(json.dumps(report))
'''


def _our_file(tmp_path):
    """A checkpoint of ours: every dtype, views sharing storage, a Parameter, nested values."""
    import ferrotorch as torch
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    obj = {"base": base, "t": base.t(), "v": base[1:, 2:4],
           "h": torch.ones(3, dtype=torch.float16), "b": torch.ones(2, dtype=torch.bfloat16),
           "i": torch.arange(4), "m": torch.tensor([True, False]), "p": torch.nn.Parameter(torch.ones(2)),
           "meta": {"epoch": 3, "name": "x", "t": (1.5, None)}}
    p = tmp_path / "ours.pt"
    torch.save(obj, p)
    q = tmp_path / "ours_legacy.pt"
    torch.save(obj, q, _use_new_zipfile_serialization=False)
    return [str(p), str(q)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mutants_return_or_raise(tmp_path, seed):
    paths = _our_file(tmp_path) + [os.path.join(FIX, f) for f in
                                   ("dtypes.pt", "mlp_state_dict.pt", "adam_state_dict.pt", "legacy.pt",
                                    "nested.pt", "bigendian.pt")]
    progress = tmp_path / "progress.json"
    n = 1500
    r = subprocess.run([sys.executable, "-c", CHILD, str(seed), str(n), str(progress), *paths],
                       capture_output=True, text=True, timeout=900, cwd=str(tmp_path))
    where = progress.read_text() if progress.exists() else "(before the first mutant)"
    assert r.returncode == 0, f"child died (exit {r.returncode}) on {where}\n{r.stderr[-3000:]}"
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert report["failures"] == [], report["failures"][:20]
    assert report["loaded"] + report["raised"] == n
    # the mutants exercise both outcomes (a fuzzer whose every mutant fails at byte 0 tests little)
    assert report["loaded"] > n // 20 and report["raised"] > n // 5, report
