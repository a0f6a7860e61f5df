"""Deeply nested user data must end in a Python exception (or a result), never in a native
stack overflow. Each case runs in a child process, so a crash fails the test naming the code.

Against the build before the nesting fixes (commit 95c31ef): the cases marked CRASHED below
died with SIGSEGV (a recursion in Rust as deep as the data: `tensor()`'s parser, `tolist`);
there the 128-level limit did not exist (129 levels made a 129-dim tensor), a tuple inside
an index tuple was an IndexError and printing more than 64 dims NumPy's ValueError. Loading,
saving, collating and joining deep data already raised or returned as here: those cases pin
that down.

Expected values are PyTorch's (2.15, CPU), written out by hand: `tensor()` of data nested
more than 128 deep is ValueError "too many dimensions 'list'" (tensor_new.cpp's MAX_DIMS);
tensors themselves have no dim limit; recursive Python code (collate, save, printing)
raises RecursionError.
"""
import textwrap

from _child import run

# A list nested n deep around a leaf, built without recursion.
NEST = """
def nest(n, leaf=1.0, kind=list):
    x = leaf
    for _ in range(n):
        x = kind([x])
    return x

def depth(x):
    k = 0
    while isinstance(x, (list, tuple, dict)) and len(x):
        x = x[0] if not isinstance(x, dict) else next(iter(x.values()))
        k += 1
    return k
"""


def run_with(code, prelude=NEST):
    """`run` with the helpers above defined first."""
    return run(prelude + textwrap.dedent(code))


def test_tensor_of_deeply_nested_data_is_a_value_error():
    # CRASHED: tensor() of 30,000 nested lists (the reproducer), as_tensor, Tensor(...)
    out = run_with("""
        import ferrotorch as torch
        for make in (lambda d: torch.tensor(d), lambda d: torch.as_tensor(d), lambda d: torch.Tensor(d),
                     lambda d: torch.tensor(d, dtype=torch.int64)):
            for leaf in (1.0, 1, True):
                for kind in (list, tuple):
                    try:
                        make(nest(30000, leaf, kind))
                        print("no error")
                    except ValueError as e:
                        print(e)
        a = []
        a.append(a)  # contains itself: infinitely deep
        try:
            torch.tensor(a)
        except ValueError as e:
            print(e)
    """).ok()
    assert out == ["too many dimensions 'list'", "too many dimensions 'tuple'"] * 12 + ["too many dimensions 'list'"]


def test_128_nested_levels_are_the_limit():
    out = run_with("""
        import ferrotorch as torch
        t = torch.tensor(nest(128, 2.5))
        print(t.dim(), t.numel(), t.reshape(-1).tolist())
        try:
            torch.tensor(nest(129, 2.5))
        except ValueError as e:
            print(e)
        # an array inside the data counts its dims too
        import numpy as np
        try:
            torch.tensor(nest(100, np.zeros([1] * 28 + [2])))
        except ValueError as e:
            print(e)
        print(torch.tensor(nest(100, np.zeros([1] * 27 + [2]))).dim())
    """).ok()
    assert out == ["128 1 [2.5]", "too many dimensions 'list'", "too many dimensions 'numpy.ndarray'", "128"]


def test_tolist_of_a_tensor_with_many_dims():
    # CRASHED: tolist built its lists by a recursion per dim (PyTorch itself segfaults here)
    out = run_with("""
        import ferrotorch as torch
        for n in (1000, 100000):
            t = torch.arange(2.0).reshape([1] * n + [2])
            v = t.tolist()
            print(t.dim(), depth(v))
            x = v
            for _ in range(n):
                x = x[0]
            print(x)
        print(torch.zeros([2, 0] + [1] * 200).tolist())
    """).ok()
    assert out == ["1001 1001", "[0.0, 1.0]", "100001 100001", "[0.0, 1.0]", "[[], []]"]


def test_many_dims_work_as_in_pytorch():
    # PyTorch's tensors have no dim limit (zeros([1]*1000), view to 2000 dims work there)
    out = run("""
        import ferrotorch as torch
        a = torch.zeros([1] * 1000) + 1
        print(a.dim(), a.sum().item())
        b = torch.arange(3.0).view([1] * 2000 + [3])
        print(b.dim(), b.sum().item(), b.squeeze().tolist())
        c = torch.ones(1)
        for _ in range(300):
            c = c.unsqueeze(0)
        print(c.dim(), (c * 2).reshape(-1).tolist())
    """).ok()
    assert out == ["1000 1.0", "2001 3.0 [0.0, 1.0, 2.0]", "301 [2.0]"]


def test_indexing_with_deeply_nested_sequences():
    # CRASHED: x[deep list] (the parser; x[nest(30000, 0)] alone segfaulted); a tuple inside the
    # index tuple is index data as in PyTorch (an IndexError before), so x[(deep tuple,)]
    # reaches the same parser
    out = run_with("""
        import ferrotorch as torch
        x = torch.arange(6.0).reshape(2, 3)
        print(tuple(x[((((0,),),),)].shape), x[((1,),)].tolist())
        for idx in (nest(30000, 0), (nest(30000, 0),), (nest(30000, 0, tuple),)):
            try:
                x[idx]
            except ValueError as e:
                print(e)
            try:
                x[idx] = 1.0
            except ValueError as e:
                print(e)
        print(x.tolist())
    """).ok()
    assert out == ["(1, 1, 1, 3) [[3.0, 4.0, 5.0]]"] + ["too many dimensions 'list'"] * 4 + \
        ["too many dimensions 'tuple'"] * 2 + ["[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]"]


# A pickle of 1,000,000 nested containers, in the zip layout torch.save writes.
CHECKPOINT = NEST + """
import io, zipfile
import ferrotorch as torch

def deep_pickle(kind, n):
    b = bytearray(b"\\x80\\x02")
    if kind == "tuple":
        b += b"K\\x01" + b"\\x85" * n                  # 1, then TUPLE1 n times
    elif kind == "list":
        b += b"]" * n + b"a" * (n - 1)                 # EMPTY_LIST n times, APPEND n - 1 times
    else:
        b += b"}" + b"K\\x00}" * (n - 1) + b"s" * (n - 1)   # {0: {0: ...}} by SETITEM
    return bytes(b + b".")

template = io.BytesIO()
torch.save({}, template)

def checkpoint(kind, n):
    out = io.BytesIO()
    zin = zipfile.ZipFile(template)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for info in zin.infolist():
            data = zin.read(info.filename)
            z.writestr(info.filename, deep_pickle(kind, n) if info.filename.endswith("/data.pkl") else data)
    out.seek(0)
    return out
"""


def test_loading_a_checkpoint_of_deeply_nested_containers():
    # PyTorch loads these (both unpicklers are loops over opcodes, CPython frees nested
    # containers without recursion); so does ferrotorch, with either unpickler
    out = run_with(prelude=CHECKPOINT, code="""
        for kind in ("tuple", "list", "dict"):
            for wo in (True, False):
                r = torch.load(checkpoint(kind, 1_000_000), weights_only=wo)
                print(kind, wo, depth(r))
                del r
    """).ok()
    assert out == ["tuple True 1000000", "tuple False 1000000", "list True 999999", "list False 999999",
                   "dict True 999999", "dict False 999999"]


def test_saving_deeply_nested_state_is_a_recursion_error():
    out = run_with("""
        import io
        import ferrotorch as torch
        state = {"w": torch.ones(2)}
        for _ in range(100000):
            state = {"inner": state}
        try:
            torch.save(state, io.BytesIO())
        except RecursionError:
            print("RecursionError")
        m = torch.nn.Linear(2, 2)
        try:
            m.load_state_dict(state)
        except (RecursionError, RuntimeError) as e:
            print(type(e).__name__)
    """).ok()
    assert out == ["RecursionError", "RuntimeError"]


def test_collating_a_deeply_nested_sample_is_a_recursion_error():
    out = run_with("""
        from ferrotorch.utils.data import default_collate
        for sample in (nest(100000), {"a": nest(100000)}, nest(100000, 1.0, tuple)):
            try:
                default_collate([sample, sample])
            except RecursionError:
                print("RecursionError")
    """).ok()
    assert out == ["RecursionError"] * 3


def test_joining_deeply_nested_lists_is_a_type_error():
    out = run_with("""
        import ferrotorch as torch
        for f in (torch.stack, torch.cat, torch.hstack, torch.vstack):
            try:
                f(nest(30000))
            except TypeError as e:
                print(e)
    """).ok()
    assert out == ["expected Tensor as element 0 in argument 0, but got list"] * 4


def test_printing_a_tensor_with_more_dims_than_numpy_has():
    # PyTorch prints them (its printer does not go through NumPy, whose limit is 64 dims):
    # each size-1 dim is one more pair of brackets and one more column of indent, here so
    # much that the two values of the last dim take a line each (80 columns)
    out = run("""
        import ferrotorch as torch
        print(repr(repr(torch.arange(2.0).reshape([1] * 70 + [2]))))
        print(repr(repr(torch.arange(3).reshape([1] * 65 + [3]))))
        print(repr(repr(torch.zeros([1] * 69 + [0]))))
        try:
            repr(torch.zeros([1] * 1000))
        except RecursionError:
            print("RecursionError")
    """).ok()
    assert out[0] == repr("tensor(" + "[" * 71 + "0.,\n" + " " * 78 + "1." + "]" * 71 + ")")
    assert out[1] == repr("tensor(" + "[" * 66 + "0, 1,\n" + " " * 73 + "2" + "]" * 66 + ")")
    assert out[2] == repr("tensor([],\n       size=(" + "1, " * 69 + "0))")
    assert out[3] == "RecursionError"
