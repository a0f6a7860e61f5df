#!/usr/bin/env python3
"""Compile every cuda/*.cu with NVRTC (no GPU needed) and check the exported kernels.

For each file and each architecture (compute_80, compute_90) the source is compiled with
    --gpu-architecture=<arch> -I<repo>/cuda --std=c++17 -default-device
(warnings left on); a compile error, or a log that mentions "warning", fails the check.
Every kernel name in KERNELS (the ABI the Rust side binds to) must appear as a PTX
`.entry`, and no unexpected ft_* entry may appear. Each file is also compiled once the
way the Rust crate does it: common.cuh's text prepended to the source, no -I, and once per
dtype module (-DFT_DT_DEFAULT=0 -DFT_DT_<DT>=1, see cuda/README.md): the modules of a file
must together export exactly its kernels (skip with --no-per-dtype).

NVRTC comes from PyPI's `nvidia-cuda-nvrtc` wheel (pip-installed into the running Python
when missing) and is called through ctypes.

Usage: python3 scripts/check_cuda_kernels.py [--arch compute_80 ...] [--list]
Exit status 0 when everything compiled cleanly and all names were found.
"""
import argparse
import ctypes
import glob
import os
import re
import site
import subprocess
import sys
import sysconfig
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CUDA_DIR = os.path.join(REPO, "cuda")
ARCHS = ["compute_80", "compute_90"]

# --------------------------------------------------------------------------- kernel ABI
ALL = ["bool", "u8", "i8", "i16", "i32", "i64", "f16", "bf16", "f32", "f64"]
INT = ["u8", "i8", "i16", "i32", "i64"]
INTBOOL = ["bool"] + INT
FLOAT = ["f16", "bf16", "f32", "f64"]
NUMERIC = INT + FLOAT



def xmacro_rows(macro, path=os.path.join(CUDA_DIR, "elementwise.cu")):
    """The first argument of every X(...) row of `#define <macro>(X)`: the elementwise op lists
    are the X-macros themselves (rust/core/tests/registry.rs checks them against the engine's op
    registry both ways), so they are read, not repeated here."""
    with open(path) as f:
        lines = f.read().split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(f"#define {macro}(X)"))
    rows = []
    for line in lines[start + 1:]:
        m = re.search(r"X\(\s*(\w+)", line)
        if m:
            rows.append(m.group(1))
        if not line.rstrip().endswith("\\"):
            break
    if not rows:
        raise SystemExit(f"no rows in {macro}")
    return rows


def xmacro_rows_with_set(macro):
    """(name, dtype set) of each row of an X-macro whose last argument names its dtype set."""
    with open(os.path.join(CUDA_DIR, "elementwise.cu")) as f:
        src = f.read()
    body = src[src.index(f"#define {macro}(X)"):]
    sets = re.findall(r"X\(\s*(\w+),.*,\s*(\w+)\)\s*\\?\s*$", body.split("\n\n")[0], re.M)
    if sorted(n for n, _ in sets) != sorted(xmacro_rows(macro)):
        raise SystemExit(f"{macro}: a row's dtype set could not be read")
    return sets


UNARY_FLOAT = xmacro_rows("FT_UNARY_FLOAT_OPS")
UNARY_INT = xmacro_rows("FT_UNARY_INT_OPS")


def _names(ops, dtypes):
    return [f"ft_{op}_{dt}" for op in ops for dt in dtypes]


DTYPE_FREE = ("ft_philox", "ft_sort_merge", "ft_amp_update_scale")


def expected_kernels():
    """file name -> list of exported kernel names (the ABI)."""
    ew = []
    ew += _names(UNARY_FLOAT, FLOAT)
    ew += _names(UNARY_INT, INT)
    ew += _names(["bitwise_not"], INTBOOL)
    sets = {"ALL": ALL, "INT": INT, "INTBOOL": INTBOOL, "FLOAT": FLOAT, "NUMERIC": NUMERIC}
    for macro in ("FT_UNARY_PRED_OPS", "FT_BINARY_OPS", "FT_COMPARE_OPS"):
        for name, dset in xmacro_rows_with_set(macro):
            ew += _names([name], sets[dset])
    ew += _names(["where", "copy", "fill"], ALL)
    ew += _names(["lerp"], FLOAT)
    ew += [f"ft_cast_{s}_{d}" for s in ALL for d in ALL]
    red = []
    red += _names(["sum", "prod", "max", "min", "argmax", "argmin", "cumsum", "cumprod"], ALL)
    red += _names(["mean", "var", "std", "softmax", "log_softmax"], FLOAT)
    idx = []
    idx += _names(["gather", "scatter", "index_select", "masked_fill"], ALL)
    idx += _names(["scatter_add"], NUMERIC)
    idx += ["ft_philox_bits", "ft_philox_uniform_f32", "ft_philox_uniform_f64",
            "ft_philox_normal_f32", "ft_philox_normal_f64", "ft_philox_randint"]
    srt = _names(["sort", "sort_keys", "sort_take"], ALL) + ["ft_sort_merge"]
    opt = _names(["sgd", "adam", "rmsprop", "adagrad", "adadelta", "adamax", "nadam", "radam", "asgd",
                  "rprop", "sparse_adam", "amp_unscale"], ["f32", "f64"]) + ["ft_amp_update_scale"]
    return {"elementwise.cu": ew, "reduce.cu": red, "index.cu": idx, "sort.cu": srt,
            "optim.cu": opt}


# --------------------------------------------------------------------------- NVRTC
def _candidate_dirs():
    dirs = set()
    for p in list(site.getsitepackages()) + [site.getusersitepackages(),
                                             sysconfig.get_paths()["purelib"],
                                             sysconfig.get_paths()["platlib"]]:
        if p and os.path.isdir(os.path.join(p, "nvidia")):
            dirs.add(os.path.join(p, "nvidia"))
    return sorted(dirs)


def _find_libnvrtc():
    hits = []
    for d in _candidate_dirs():
        hits += glob.glob(os.path.join(d, "**", "libnvrtc.so*"), recursive=True)
    hits = [h for h in hits if "builtins" not in os.path.basename(h)]
    return sorted(hits, key=len)[0] if hits else None


def load_nvrtc():
    path = _find_libnvrtc()
    if path is None:
        print("libnvrtc not found; installing nvidia-cuda-nvrtc with pip ...", flush=True)
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "nvidia-cuda-nvrtc==13.5.37"])
        path = _find_libnvrtc()
        if path is None:
            sys.exit("error: nvidia-cuda-nvrtc installed but libnvrtc.so* not found")
    # the builtins library sits next to libnvrtc; make sure it can be found
    try:
        for b in glob.glob(os.path.join(os.path.dirname(path), "libnvrtc-builtins.so*")):
            ctypes.CDLL(b, mode=ctypes.RTLD_GLOBAL)
    except OSError:
        pass
    lib = ctypes.CDLL(path)
    lib.nvrtcGetErrorString.restype = ctypes.c_char_p
    lib.nvrtcGetErrorString.argtypes = [ctypes.c_int]
    lib.nvrtcCreateProgram.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p,
                                       ctypes.c_char_p, ctypes.c_int,
                                       ctypes.POINTER(ctypes.c_char_p),
                                       ctypes.POINTER(ctypes.c_char_p)]
    lib.nvrtcCompileProgram.argtypes = [ctypes.c_void_p, ctypes.c_int,
                                        ctypes.POINTER(ctypes.c_char_p)]
    for f in ("nvrtcGetProgramLogSize", "nvrtcGetPTXSize"):
        getattr(lib, f).argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t)]
    for f in ("nvrtcGetProgramLog", "nvrtcGetPTX"):
        getattr(lib, f).argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.nvrtcDestroyProgram.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
    lib.nvrtcVersion.argtypes = [ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int)]
    return lib, path


def compile_ptx(lib, src, name, options):
    """-> (ok, log, ptx)."""
    def check(rc, what):
        if rc != 0:
            raise RuntimeError(f"{what}: {lib.nvrtcGetErrorString(rc).decode()}")

    prog = ctypes.c_void_p()
    check(lib.nvrtcCreateProgram(ctypes.byref(prog), src.encode(), name.encode(), 0, None, None),
          "nvrtcCreateProgram")
    try:
        opts = (ctypes.c_char_p * len(options))(*[o.encode() for o in options])
        rc = lib.nvrtcCompileProgram(prog, len(options), opts)
        size = ctypes.c_size_t()
        check(lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size)), "nvrtcGetProgramLogSize")
        buf = ctypes.create_string_buffer(size.value)
        check(lib.nvrtcGetProgramLog(prog, buf), "nvrtcGetProgramLog")
        log = buf.value.decode(errors="replace").strip()
        if rc != 0:
            return False, log or lib.nvrtcGetErrorString(rc).decode(), ""
        check(lib.nvrtcGetPTXSize(prog, ctypes.byref(size)), "nvrtcGetPTXSize")
        buf = ctypes.create_string_buffer(size.value)
        check(lib.nvrtcGetPTX(prog, buf), "nvrtcGetPTX")
        return True, log, buf.value.decode(errors="replace")
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(prog))


ENTRY_RE = re.compile(r"\.entry\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def check_entries(ptx, expected):
    found = set(ENTRY_RE.findall(ptx))
    missing = [k for k in expected if k not in found]
    extra = sorted(k for k in found if k.startswith("ft_") and k not in set(expected))
    return found, missing, extra


def check_per_dtype(lib, fname, text, arch, expected):
    """Compile one module per dtype; their entries must partition `expected`."""
    union = {}
    t0 = time.time()
    for dt in ALL:
        opts = [f"--gpu-architecture={arch}", "--std=c++17", "-default-device",
                "-DFT_DT_DEFAULT=0", f"-DFT_DT_{dt.upper()}=1"]
        ok, log, ptx = compile_ptx(lib, text, fname, opts)
        if not ok or (log and "warning" in log.lower()):
            print(f"FAIL {fname} [{arch}, dtype {dt}]: {'errors' if not ok else 'warnings'}\n{log}")
            return 1
        for k in set(ENTRY_RE.findall(ptx)):
            union.setdefault(k, []).append(dt)
    # Kernels without a dtype (the Philox draws, the merge pass) are in every module.
    dup = sorted(k for k, v in union.items() if len(v) > 1 and not k.startswith(DTYPE_FREE))
    missing = [k for k in expected if k not in union]
    extra = sorted(k for k in union if k.startswith("ft_") and k not in set(expected))
    if missing or extra or dup:
        print(f"FAIL {fname} [{arch}, per dtype]: {len(missing)} missing, {len(extra)} "
              f"unexpected, {len(dup)} in several modules: {(missing + extra + dup)[:10]}")
        return 1
    print(f"ok   {fname} [{arch}, 10 per-dtype modules]: {len(union)} kernels, "
          f"{time.time() - t0:.1f}s")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", action="append", help="compute_XX (repeatable)")
    ap.add_argument("--list", action="store_true", help="print the expected kernel names")
    ap.add_argument("--no-per-dtype", action="store_true", help="skip the per-dtype modules")
    args = ap.parse_args()
    expected = expected_kernels()
    if args.list:
        for f, names in expected.items():
            for n in names:
                print(f"{f}\t{n}")
        return 0
    archs = args.arch or ARCHS
    lib, path = load_nvrtc()
    major, minor = ctypes.c_int(), ctypes.c_int()
    lib.nvrtcVersion(ctypes.byref(major), ctypes.byref(minor))
    print(f"NVRTC {major.value}.{minor.value} ({path})")

    sources = sorted(glob.glob(os.path.join(CUDA_DIR, "*.cu")))
    if not sources:
        print("error: no cuda/*.cu files")
        return 1
    common = open(os.path.join(CUDA_DIR, "common.cuh")).read()
    failures = 0
    for src_path in sources:
        fname = os.path.basename(src_path)
        src = open(src_path).read()
        exp = expected.get(fname)
        if exp is None:
            print(f"FAIL {fname}: no expected-kernel list in scripts/check_cuda_kernels.py")
            failures += 1
            exp = []
        modes = [(arch, "include", src, ["-I" + CUDA_DIR]) for arch in archs]
        modes.append((archs[0], "prepend", common + "\n" + src, []))
        for arch, mode, text, extra_opts in modes:
            opts = [f"--gpu-architecture={arch}", "--std=c++17", "-default-device"] + extra_opts
            t0 = time.time()
            try:
                ok, log, ptx = compile_ptx(lib, text, fname, opts)
            except RuntimeError as e:
                ok, log, ptx = False, str(e), ""
            dt = time.time() - t0
            tag = f"{fname} [{arch}, {mode}]"
            if not ok:
                print(f"FAIL {tag}: compile error ({dt:.1f}s)\n{log}")
                failures += 1
                continue
            if log and "warning" in log.lower():
                print(f"FAIL {tag}: warnings ({dt:.1f}s)\n{log}")
                failures += 1
                continue
            found, missing, extra = check_entries(ptx, exp)
            if missing or extra:
                print(f"FAIL {tag}: {len(missing)} missing, {len(extra)} unexpected kernels")
                for k in missing[:20]:
                    print(f"    missing    {k}")
                for k in extra[:20]:
                    print(f"    unexpected {k}")
                failures += 1
                continue
            print(f"ok   {tag}: {len(found)} kernels, {len(ptx) // 1024} KiB PTX, {dt:.1f}s")
        if not args.no_per_dtype:
            failures += check_per_dtype(lib, fname, common + "\n" + src, archs[0], exp)
    print("all kernels compiled" if not failures else f"{failures} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
