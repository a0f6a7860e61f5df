"""Build and drive the CPU emulation of the CUDA kernels (cuda/*.cu compiled by g++).

build() compiles cuda/{elementwise,reduce,index,sort,optim}.cu with tests/cuda_emu/cuda_emu.h plus
emu_api.cpp into one shared library, cached under $FT_CUDA_EMU_CACHE (default:
<tmp>/ferrotorch_cuda_emu/<hash of sources and flags>/), and returns an Emu that launches
kernels by name: emu.launch("ft_exp_f32", "pLpq", [x, lx, out, n], grid=4, block=64).
"""
import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CUDA = os.path.join(REPO, "cuda")
KERNEL_FILES = ["elementwise.cu", "reduce.cu", "index.cu", "sort.cu", "optim.cu"]
CXXFLAGS = ["-std=c++20", "-O1", "-fPIC", "-fwrapv", "-pthread", "-w"]

MAX_DIMS = 8


class Layout(ctypes.Structure):
    _fields_ = [("ndim", ctypes.c_int),
                ("shape", ctypes.c_longlong * MAX_DIMS),
                ("strides", ctypes.c_longlong * MAX_DIMS),
                ("offset", ctypes.c_longlong)]


assert ctypes.sizeof(Layout) == 144

NP = {"bool": np.bool_, "u8": np.uint8, "i8": np.int8, "i16": np.int16, "i32": np.int32,
      "i64": np.int64, "f16": np.float16, "bf16": np.uint16, "f32": np.float32,
      "f64": np.float64}
# value-argument signature letter per dtype (fill / masked_fill)
VALUE_SIG = {"bool": "B", "u8": "B", "i8": "B", "i16": "H", "i32": "I", "i64": "q",
             "f16": "H", "bf16": "H", "f32": "f", "f64": "d"}
_CT = {"p": ctypes.c_void_p, "q": ctypes.c_longlong, "Q": ctypes.c_ulonglong,
       "i": ctypes.c_int, "I": ctypes.c_int, "f": ctypes.c_float, "d": ctypes.c_double,
       "H": ctypes.c_ushort, "B": ctypes.c_ubyte}


def layout(view, base=None, ndim=None):
    """Layout of numpy `view` (element strides) relative to `base`'s first element."""
    base = view if base is None else base
    item = view.itemsize
    lay = Layout()
    lay.ndim = view.ndim
    for d in range(view.ndim):
        lay.shape[d] = view.shape[d]
        assert view.strides[d] % item == 0
        lay.strides[d] = view.strides[d] // item
    delta = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    assert delta % item == 0
    lay.offset = delta // item
    return lay


def flat_layout(n, offset=0):
    """1-D contiguous layout (the kernels' fast path)."""
    lay = Layout()
    lay.ndim = 1
    lay.shape[0] = n
    lay.strides[0] = 1
    lay.offset = offset
    return lay


def ptr(a):
    return a.__array_interface__["data"][0]


class Emu:
    def __init__(self, path):
        self.path = path
        self.lib = ctypes.CDLL(path)
        self.lib.emu_launch.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_uint,
                                        ctypes.c_uint, ctypes.POINTER(ctypes.c_void_p)]
        self.lib.emu_launch.restype = ctypes.c_int

    def has(self, name):
        try:
            getattr(self.lib, name)
            return True
        except AttributeError:
            return False

    def launch(self, name, sig, args, grid=3, block=64):
        assert len(sig) == len(args), (sig, args)
        fn = ctypes.cast(getattr(self.lib, name), ctypes.c_void_p)
        holders = []
        for ch, a in zip(sig, args):
            if ch == "L":
                assert isinstance(a, Layout)
                holders.append(a)
            elif ch == "p":
                holders.append(ctypes.c_void_p(a if isinstance(a, int) else ptr(a)))
            else:
                holders.append(_CT[ch](a))
        argv = (ctypes.c_void_p * len(holders))(
            *[ctypes.cast(ctypes.pointer(h), ctypes.c_void_p) for h in holders])
        rc = self.lib.emu_launch(sig.encode(), fn, grid, block, argv)
        assert rc == 0, f"emu_launch({name}, {sig}) returned {rc}"


def _digest(gxx):
    h = hashlib.sha256()
    h.update(" ".join(CXXFLAGS).encode())
    h.update(subprocess.run([gxx, "--version"], capture_output=True).stdout)
    files = [os.path.join(CUDA, f) for f in ["common.cuh"] + KERNEL_FILES]
    files += [os.path.join(HERE, f) for f in ["cuda_emu.h", "emu_api.cpp"]]
    for f in files:
        h.update(f.encode())
        with open(f, "rb") as fh:
            h.update(fh.read())
    return h.hexdigest()[:20]


def build(gxx):
    cache = os.environ.get("FT_CUDA_EMU_CACHE") or os.path.join(tempfile.gettempdir(),
                                                                "ferrotorch_cuda_emu")
    out_dir = os.path.join(cache, _digest(gxx))
    so = os.path.join(out_dir, "libftcudaemu.so")
    if os.path.exists(so):
        return Emu(so)
    # keep only the newest build in the cache
    if os.path.isdir(cache):
        for d in os.listdir(cache):
            if d != os.path.basename(out_dir):
                shutil.rmtree(os.path.join(cache, d), ignore_errors=True)
    os.makedirs(out_dir, exist_ok=True)
    work = tempfile.mkdtemp(dir=out_dir)
    try:
        inc = ["-include", os.path.join(HERE, "cuda_emu.h"), "-I", CUDA, "-I", HERE]
        jobs = []
        for f in KERNEL_FILES:
            obj = os.path.join(work, f + ".o")
            jobs.append(([gxx] + CXXFLAGS + inc + ["-x", "c++", "-c", os.path.join(CUDA, f),
                                                   "-o", obj], obj))
        obj = os.path.join(work, "emu_api.o")
        jobs.append(([gxx] + CXXFLAGS + inc + ["-c", os.path.join(HERE, "emu_api.cpp"), "-o",
                                               obj], obj))
        par = max(1, min(2, os.cpu_count() or 1))
        running = []
        pending = list(jobs)
        while pending or running:
            while pending and len(running) < par:
                cmd, _ = pending.pop(0)
                running.append((cmd, subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                                      stderr=subprocess.STDOUT)))
            cmd, p = running.pop(0)
            log = p.communicate()[0].decode(errors="replace")
            if p.returncode != 0:
                raise RuntimeError(f"compile failed: {' '.join(cmd)}\n{log}")
        tmp_so = os.path.join(work, "lib.so")
        cmd = [gxx, "-shared", "-pthread", "-o", tmp_so] + [o for _, o in jobs]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"link failed: {' '.join(cmd)}\n{r.stdout}{r.stderr}")
        os.replace(tmp_so, so)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Emu(so)


def find_gxx():
    return os.environ.get("CXX_FOR_CUDA_EMU") or shutil.which("g++")


# ---------------------------------------------------------------- bf16 / philox references
def f32_to_bf16_bits(x):
    """float32 array -> bf16 bit patterns (uint16), round to nearest even, NaN kept quiet."""
    u = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    nan = (u & 0x7FFFFFFF) > 0x7F800000
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) & 0xFFFF
    r = np.where(nan, (u >> 16) | 0x40, r)
    return r.astype(np.uint16)


def bf16_bits_to_f32(b):
    return (np.asarray(b, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


M0, M1, W0, W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
MASK = 0xFFFFFFFF


def philox4x32_10(ctr, key):
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for r in range(10):
        if r:
            k0 = (k0 + W0) & MASK
            k1 = (k1 + W1) & MASK
        p0 = M0 * c0
        p1 = M1 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0) & MASK, p1 & MASK, ((p0 >> 32) ^ c3 ^ k1) & MASK, p0 & MASK
    return (c0, c1, c2, c3)


def philox_words(seed, offset, count):
    """Words w[offset], ..., w[offset + count - 1] of the stream (see cuda/index.cu)."""
    key = (seed & MASK, seed >> 32)
    out = []
    k = offset
    while len(out) < count:
        b = k // 4
        blk = philox4x32_10((b & MASK, b >> 32, 0, 0), key)
        out.append(blk[k % 4])
        k += 1
    return out
