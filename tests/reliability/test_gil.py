"""Long kernels run without the GIL (DESIGN.md: "the GIL is released around every kernel that can
take more than a few microseconds"), so other Python threads run meanwhile: a data loader, a
heartbeat, the timer that delivers Ctrl-C.

Each row of OPS runs one long op on the main thread while a heartbeat thread sleeps 5 ms and
counts. With the GIL held for the whole op the heartbeat cannot run until the op returns (at most
one tick); released, it ticks as often as it does while the main thread computes without the GIL
in hashlib (the control, measured just before and after: on a loaded 2-core machine a sleeping
thread wakes late, whoever holds the GIL). The test asks for 30% of the control's ticks. Sizes
are grown until one call takes TARGET seconds, so the rows mean the same in a debug build and
in the release wheel CI tests.

The op itself is not interruptible mid-kernel (PyTorch's CPU kernels are not either): Ctrl-C
raises KeyboardInterrupt as soon as the op returns, which `test_ctrl_c_during_sort` checks.
"""
import hashlib
import threading
import time

import numpy as np
import pytest

import ferrotorch as torch
from _child import run

TICK = 0.005
TARGET = 0.1  # seconds one call should take at the chosen size
FLOOR = 0.03  # below this even at the largest size the row cannot tell held from released
MAX_SCALE = 64  # sizes grow up to 64 Mi elements (256 MiB of float32)
M = 1 << 20


def f32(s):
    return torch.randn(s * M)


def backward_row(s):
    x = torch.randn(s * M).requires_grad_(True)
    y = ((x * 2.0).exp() + x.sin()).sum()
    return lambda: y.backward(retain_graph=True)


def save_row(s, tmp):
    x = f32(s)
    return lambda: torch.save(x, tmp / "save.pt")


def load_row(s, tmp):
    torch.save(f32(s), tmp / "load.pt")
    return lambda: torch.load(tmp / "load.pt")


def matmul_row(s):
    n = int(512 * s ** (1 / 3))  # work grows as n^3, so s times the flops per step
    a, b = torch.randn(n, n), torch.randn(n, n)
    return lambda: a @ b


def index_rows():
    def sel(s):
        x, i = f32(s), torch.randint(0, s * M, (s * M,))
        return lambda: x.index_select(0, i)

    def gat(s):
        x, i = f32(s), torch.randint(0, s * M, (s * M,))
        return lambda: x.gather(0, i)

    return [("index_select", sel), ("gather", gat)]


def simple(fn, make=f32):
    """A row calling fn(x) on a fresh float32 tensor of s Mi elements."""
    def row(s):
        x = make(s)
        return lambda: fn(x)
    return row


OPS = [
    ("sort", simple(lambda x: x.sort())),
    ("argsort", simple(lambda x: x.argsort())),
    ("topk", simple(lambda x: x.topk(1000))),
    ("kthvalue", simple(lambda x: x.kthvalue(x.numel() // 2))),
    ("median", simple(lambda x: x.median())),
    ("nanmedian", simple(lambda x: x.reshape(64, -1).nanmedian(1))),
    ("randn", lambda s: lambda: torch.randn(s * M)),
    ("rand", lambda s: lambda: torch.rand(s * M, dtype=torch.float64)),
    ("randint", lambda s: lambda: torch.randint(0, 1000, (s * M,))),
    ("normal_", simple(lambda x: x.normal_())),
    ("uniform_", simple(lambda x: x.uniform_())),
    ("matmul", matmul_row),
    ("sum over dim", simple(lambda x: x.reshape(1024, -1).sum(1), lambda s: torch.randn(s * M, dtype=torch.float64))),
    ("mean over dim", simple(lambda x: x.reshape(-1, 1024).mean(1), lambda s: torch.randn(s * M, dtype=torch.float64))),
    ("cumsum", simple(lambda x: x.cumsum(0))),
    ("exp", simple(lambda x: x.exp())),
    ("softmax", simple(lambda x: x.reshape(-1, 1000 + 24).softmax(-1))),
    *index_rows(),
    ("cat", simple(lambda x: torch.cat([x, x, x]))),
    ("clone", simple(lambda x: x.clone())),
    ("to(dtype)", simple(lambda x: x.to(torch.float64))),
    ("zeros", lambda s: lambda: torch.zeros(s * M, dtype=torch.float64)),
    ("arange", lambda s: lambda: torch.arange(s * M, dtype=torch.float64)),
    ("numpy round trip", simple(lambda x: torch.tensor(x.numpy()))),
    ("backward", backward_row),
    ("save", save_row),
    ("load", load_row),
]


class Heartbeat:
    """A thread that sleeps TICK and counts, until stopped."""

    def __init__(self):
        self.ticks = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            time.sleep(TICK)
            self.ticks += 1

    def __enter__(self):
        self._thread.start()
        while self.ticks < 2:  # running and past its first sleep
            time.sleep(TICK)
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def control_rate(hb, seconds):
    """The heartbeat's ticks per second while the main thread computes without the GIL (hashlib
    releases it while hashing a large buffer): what this machine allows right now."""
    buf = bytes(1 << 20)
    t0, n0 = time.perf_counter(), hb.ticks
    while time.perf_counter() - t0 < seconds:
        hashlib.sha256(buf)
    return (hb.ticks - n0) / (time.perf_counter() - t0)


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


@pytest.fixture(autouse=True)
def one_kernel_thread():
    # The heartbeat competes for the GIL, not for a core: with the kernels on one thread, a
    # 2-core machine always has a core free for it.
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.mark.parametrize("name,row", OPS, ids=[n for n, _ in OPS])
def test_heartbeat_ticks_during_long_op(name, row, tmp_path):
    make = (lambda s: row(s, tmp_path)) if row in (save_row, load_row) else row
    scale, op = 1, make(1)
    dur = timed(op)
    while dur < TARGET and scale < MAX_SCALE:
        scale *= 4
        op = None  # free the previous size first
        op = make(scale)
        dur = timed(op)
    if dur < FLOOR:
        pytest.skip(f"{name}: {dur * 1e3:.1f} ms at the largest size, too short to tell")
    with Heartbeat() as hb:
        before = control_rate(hb, dur)
        t0, n0 = time.perf_counter(), hb.ticks
        op()
        dur, ticks = time.perf_counter() - t0, hb.ticks - n0
        rate = (before + control_rate(hb, dur)) / 2
    expected = rate * dur
    if expected < 5:
        pytest.skip(f"{name}: the heartbeat ticks {rate:.0f}/s even without the GIL held: machine too busy to tell")
    assert ticks >= 0.3 * expected, (
        f"{name}: the heartbeat ticked {ticks} times during {dur * 1e3:.0f} ms (~{expected:.0f} with the GIL free): "
        "the GIL was held")


def test_ctrl_c_during_sort():
    # A timer thread delivers Ctrl-C (interrupt_main) a quarter into a long sort. It can only
    # run while the sort does not hold the GIL; the KeyboardInterrupt is then raised as soon as
    # the sort returns (the kernel itself is not interruptible, as PyTorch's are not).
    out = run("""
        import _thread, signal, threading, time
        import ferrotorch as torch
        # A shell's background job starts with SIGINT ignored, and then Python installs no
        # handler and interrupt_main() does nothing: install Python's own, as an interactive run has.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        torch.set_num_threads(1)
        n = 1 << 20
        while True:
            x = torch.randn(n)
            t0 = time.perf_counter(); x.sort(); d = time.perf_counter() - t0
            if d >= 0.2 or n >= 1 << 25:
                break
            n *= 4
        fired = []
        def fire():
            fired.append(time.perf_counter())
            _thread.interrupt_main()
        start = time.perf_counter()
        threading.Timer(d / 4, fire).start()
        try:
            x.sort()
            time.sleep(5)  # the interrupt lands here if the timer could not run during the sort
            caught = None
        except KeyboardInterrupt:
            caught = time.perf_counter()
        print(d, fired[0] - start, caught - start if caught else -1)
    """, timeout=120).ok()
    d, fired, caught = map(float, out[-1].split())
    assert caught >= 0, "no KeyboardInterrupt"
    assert fired < 0.75 * d, f"the timer ran {fired:.3f} s into a {d:.3f} s sort: the GIL was held"
    assert caught < fired + 1.5 * d + 0.5, f"KeyboardInterrupt {caught - fired:.3f} s after Ctrl-C ({d:.3f} s sort)"


def test_rows_compute_right_values():
    # The rows above time ops; this checks a few of them still compute what they should when
    # another thread runs Python meanwhile (results against NumPy).
    a = np.random.default_rng(0).standard_normal(300_000).astype(np.float32)
    x = torch.from_numpy(a)
    results = {}

    def work():
        results["sort"] = x.sort().values.numpy().copy()
        results["topk"] = x.topk(5).values.numpy().copy()
        results["exp"] = x.exp().numpy().copy()

    with Heartbeat():
        th = threading.Thread(target=work)
        th.start()
        work_main = x.sum(0).item()
        th.join()
    np.testing.assert_array_equal(results["sort"], np.sort(a))
    np.testing.assert_array_equal(results["topk"], np.sort(a)[::-1][:5])
    np.testing.assert_allclose(results["exp"], np.exp(a), rtol=1e-6)
    assert abs(work_main - float(a.astype(np.float64).sum())) < 1e-2
