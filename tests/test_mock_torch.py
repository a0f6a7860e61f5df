"""ferrotorch.mock_torch: PyTorch programs run unchanged, `import torch` getting ferrotorch.

Everything runs in child interpreters (the switch changes the import system of the process it
is on in). A stand-in `torch` package (`IS_STAND_IN = True`) sits on PYTHONPATH of most of
them, playing an installed real PyTorch: under the switch `import torch` must still get
ferrotorch, in the program, in libraries and in worker processes; without the switch the
stand-in is what a child gets (checked once, so that these tests can fail). Real PyTorch is
never imported.
"""
import json
import multiprocessing
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ferrotorch

FT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(ferrotorch.__file__)))  # holds ferrotorch/


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def stand_in(tmp_path):
    """A directory holding a `torch` package that is not ferrotorch."""
    d = tmp_path / "stand_in"
    _write(d / "torch" / "__init__.py", "IS_STAND_IN = True\n")
    _write(d / "torch" / "nn" / "__init__.py", "IS_STAND_IN = True\n")
    _write(d / "torch" / "optim" / "__init__.py", "IS_STAND_IN = True\n")
    return d


def run(args, cwd, paths=(), timeout=240):
    """`python args...` in a fresh interpreter, with `paths` then ferrotorch on PYTHONPATH."""
    env = dict(os.environ)
    env.pop("FERROTORCH_MOCK_TORCH", None)
    old = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([str(p) for p in paths] + [FT_ROOT] + old)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def mocked(args, cwd, paths=(), **kw):
    return run(["-m", "ferrotorch.mock_torch", *args], cwd, paths, **kw)


def ok(proc):
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout


def last_json(out):
    return json.loads(out.strip().splitlines()[-1])


def test_stand_in_is_what_torch_means_without_the_switch(tmp_path, stand_in):
    out = ok(run(["-c", "import torch; print(torch.IS_STAND_IN)"], tmp_path, [stand_in]))
    assert out.strip() == "True"


# ---- (a) a multi-file project -------------------------------------------------------------

def test_multi_file_project_trains_as_numpy_says(tmp_path, stand_in):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3)).round(3)
    y = rng.standard_normal((8, 1)).round(3)
    w0 = rng.standard_normal((1, 3)).round(3)
    b0 = rng.standard_normal(1).round(3)
    lr, momentum, epochs, batch = 0.1, 0.9, 3, 4
    proj = tmp_path / "proj"
    (proj).mkdir()
    (proj / "data.json").write_text(json.dumps(dict(x=x.tolist(), y=y.tolist(), w=w0.tolist(), b=b0.tolist())))
    _write(proj / "model_lib.py", """
        import torch
        import torch.nn as nn
        from torch.utils.data import DataLoader, TensorDataset


        def make_loader(x, y, batch):
            return DataLoader(TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=batch, shuffle=False)


        def make_model(w, b):
            m = nn.Linear(3, 1)
            with torch.no_grad():
                m.weight.copy_(torch.tensor(w))
                m.bias.copy_(torch.tensor(b))
            return m
    """)
    _write(proj / "train.py", """
        import json
        import sys

        import torch
        from model_lib import make_loader, make_model

        d = json.load(open("data.json"))
        lr, momentum, epochs, batch = map(float, sys.argv[1:5])
        loader = make_loader(d["x"], d["y"], int(batch))
        model = make_model(d["w"], d["b"])
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        loss_fn = torch.nn.MSELoss()
        losses = []
        for _ in range(int(epochs)):
            for xb, yb in loader:
                opt.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                opt.step()
                losses.append(loss.item())
        import ferrotorch
        print(json.dumps(dict(losses=losses, w=model.weight.tolist(), b=model.bias.tolist(),
                              same=torch is ferrotorch and isinstance(loss, ferrotorch.Tensor))))
    """)
    got = last_json(ok(mocked(["train.py", str(lr), str(momentum), str(epochs), str(batch)], proj, [stand_in])))

    # The same steps in float64: loss = mean((xW^T + b - y)^2); dL/dpred = 2 (pred - y) / n;
    # SGD with momentum: buf = g on the first step, then buf = momentum * buf + g; p -= lr * buf.
    w, b = w0.copy(), b0.copy()
    bw = bb = None
    losses = []
    for _ in range(epochs):
        for i in range(0, len(x), batch):
            xb, yb = x[i:i + batch], y[i:i + batch]
            r = xb @ w.T + b - yb
            losses.append(float((r ** 2).mean()))
            gp = 2 * r / r.size
            gw, gb = gp.T @ xb, gp.sum(0)
            bw = gw if bw is None else momentum * bw + gw
            bb = gb if bb is None else momentum * bb + gb
            w, b = w - lr * bw, b - lr * bb
    assert got["same"] is True
    np.testing.assert_allclose(got["losses"], losses, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got["w"], w, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got["b"], b, rtol=1e-4, atol=1e-6)


# ---- (b) a third-party package that imports torch itself ------------------------------------

def test_third_party_package_on_sys_path_gets_ferrotorch(tmp_path, stand_in):
    site = tmp_path / "site"
    _write(site / "thirdlib" / "__init__.py", """
        import torch
        import torch.nn.functional
        from torch import nn

        TORCH = torch


        def act(x):
            return torch.nn.functional.relu(x)


        class Scale(nn.Module):
            def forward(self, x):
                return 2 * x
    """)
    app = tmp_path / "app"
    _write(app / "run.py", """
        import json
        import sys

        import ferrotorch
        import thirdlib
        import torch

        y = thirdlib.act(torch.tensor([-1.5, 0.0, 2.5]))
        z = thirdlib.Scale()(y)
        print(json.dumps(dict(
            y=y.tolist(), z=z.tolist(),
            lib_torch=thirdlib.TORCH is ferrotorch,
            tensor_class=type(y) is ferrotorch.Tensor and isinstance(z, torch.Tensor) and torch.Tensor is ferrotorch.Tensor,
            modules=sys.modules["torch.nn.functional"] is ferrotorch.nn.functional
            and sys.modules["torch.nn"] is ferrotorch.nn and sys.modules["torch"] is ferrotorch,
            module_class=isinstance(thirdlib.Scale(), ferrotorch.nn.Module),
            spec=ferrotorch.__spec__.name, nn_spec=ferrotorch.nn.__spec__.name,
        )))
    """)
    got = last_json(ok(mocked(["run.py"], app, [stand_in, site])))
    assert got == dict(y=[0.0, 0.0, 2.5], z=[0.0, 0.0, 5.0], lib_torch=True, tensor_class=True, modules=True,
                       module_class=True, spec="ferrotorch", nn_spec="ferrotorch.nn")


# ---- (c) worker and child processes -------------------------------------------------------

def test_dataloader_workers_and_children_inherit_the_switch(tmp_path, stand_in):
    proj = tmp_path / "proj"
    _write(proj / "ds_mod.py", """
        import os

        import torch
        from torch.utils.data import Dataset


        class Squares(Dataset):
            def __len__(self):
                return 6

            def __getitem__(self, i):
                import sys

                import torch.nn.functional as F  # imported inside the worker
                ok = sys.modules["torch"] is sys.modules["ferrotorch"] and F is sys.modules["ferrotorch.nn.functional"]
                return torch.tensor([float(i) ** 2]), torch.tensor([os.getpid(), int(ok)])
    """)
    _write(proj / "main.py", """
        import json
        import os
        import subprocess
        import sys

        from torch.utils.data import DataLoader
        from ds_mod import Squares

        if __name__ == "__main__":
            res = {}
            for method in sys.argv[1:]:
                vals, pids, oks = [], set(), []
                for x, info in DataLoader(Squares(), batch_size=2, num_workers=2, multiprocessing_context=method):
                    vals += x.flatten().tolist()
                    pids.update(info[:, 0].tolist())
                    oks += info[:, 1].tolist()
                res[method] = dict(vals=vals, workers=len(pids - {os.getpid()}), oks=oks)
            child = subprocess.run([sys.executable, "-c", "import torch.nn, sys; print(torch.__name__, torch.nn.__name__)"],
                                   capture_output=True, text=True)
            res["child"] = child.stdout.strip() + child.stderr
            print(json.dumps(res))
    """)
    methods = [m for m in ("fork", "spawn", "forkserver") if m in multiprocessing.get_all_start_methods()]
    got = last_json(ok(mocked(["main.py", *methods], proj, [stand_in])))
    for m in methods:
        assert got[m] == dict(vals=[0.0, 1.0, 4.0, 9.0, 16.0, 25.0], workers=2, oks=[1] * 6), m
    assert got["child"] == "ferrotorch ferrotorch.nn"


def test_a_sitecustomize_it_shadows_still_runs(tmp_path):
    custom = tmp_path / "custom"
    _write(custom / "sitecustomize.py", "import builtins\nbuiltins.SITE_MARK = 42\n")
    _write(tmp_path / "main.py", """
        import subprocess
        import sys

        import builtins
        print(getattr(builtins, "SITE_MARK", None))
        code = "import builtins, torch; print(getattr(builtins, 'SITE_MARK', None), torch.__name__)"
        print(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip())
    """)
    assert ok(mocked(["main.py"], tmp_path, [custom])).split("\n")[:2] == ["42", "42 ferrotorch"]


# ---- (d) the context manager and disable() ------------------------------------------------

def test_enable_block_and_disable_restore_sys_modules(tmp_path, stand_in):
    _write(tmp_path / "usermod.py", "import torch\nimport torch.optim\n")
    _write(tmp_path / "oldpkg" / "__init__.py", "")
    _write(tmp_path / "oldpkg" / "uses_torch.py", "from torch import nn\n")
    _write(tmp_path / "oldpkg" / "plain.py", "X = 1\n")
    _write(tmp_path / "check.py", """
        import os
        import subprocess
        import sys
        import types

        # a real torch imported before the switch (the stand-in on PYTHONPATH)
        import torch as real
        import torch.nn as real_nn
        assert real.IS_STAND_IN and real_nn.IS_STAND_IN

        import ferrotorch
        import ferrotorch.mock_torch as mt
        import oldpkg

        def child_torch():
            code = "import torch; print(getattr(torch, 'IS_STAND_IN', False) or torch.__name__)"
            return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip()

        env_keys = ("PYTHONPATH", "FERROTORCH_MOCK_TORCH")
        before = dict(sys.modules)
        env_before = {k: os.environ.get(k) for k in env_keys}
        meta_before = list(sys.meta_path)
        with mt.enable() as switch:
            assert mt.is_enabled()
            import torch
            assert torch is ferrotorch and torch.Tensor is ferrotorch.Tensor
            import torch.nn as nn
            assert nn is ferrotorch.nn and sys.modules["torch.nn"] is ferrotorch.nn
            import usermod
            assert usermod.torch is ferrotorch and sys.modules["torch.optim"] is ferrotorch.optim
            import oldpkg.plain
            import oldpkg.uses_torch
            assert oldpkg.uses_torch.nn is ferrotorch.nn
            with mt.enable():  # already on: no-op, and leaving it keeps the switch on
                pass
            assert mt.is_enabled()
            assert child_torch() == "ferrotorch"
        assert not mt.is_enabled()
        assert sys.modules["torch"] is real and sys.modules["torch.nn"] is real_nn
        assert "torch.optim" not in sys.modules and "usermod" not in sys.modules
        # a new submodule of a package imported before: forgotten if it bound the mock, else kept
        assert "oldpkg.uses_torch" not in sys.modules and "oldpkg.plain" in sys.modules
        after = dict(sys.modules)
        changed = [k for k in before if after.get(k) is not before[k]]
        assert changed == [], changed
        new = sorted(k for k in after if k not in before)
        new.remove("oldpkg.plain")
        assert all(k.split(".")[0] in sys.stdlib_module_names or k.startswith("ferrotorch.") for k in new), new
        assert {k: os.environ.get(k) for k in env_keys} == env_before
        assert sys.meta_path == meta_before
        assert child_torch() == "True"  # children get the stand-in again
        import torch
        assert torch is real
        import usermod  # imported afresh: binds the real torch now
        assert usermod.torch is real

        # the plain-call form
        mt.enable()
        import torch
        assert torch is ferrotorch
        mt.disable()
        assert sys.modules["torch"] is real and not mt.is_enabled()
        mt.disable()  # off already: nothing happens
        print("OK")
    """)
    assert ok(run(["check.py"], tmp_path, [stand_in])).strip() == "OK"


# ---- (e) lazy placeholders and the verbose report -----------------------------------------

def test_lazy_placeholders_raise_on_use_and_verbose_reports(tmp_path, stand_in):
    _write(tmp_path / "lazy.py", """
        import json

        import torch
        import torch.fx as fx
        from torch.fx import symbolic_trace
        from torch.cuda.graphs import graph  # ferrotorch.cuda is a plain module, not a package

        res = {}


        def err(f):
            try:
                f()
            except NotImplementedError as e:
                return str(e)
            return "no error"


        res["call"] = err(lambda: symbolic_trace(None))
        res["attr_chain"] = err(lambda: torch.not_a_thing.sub.fn(1))
        res["index"] = err(lambda: torch.not_a_thing[0])
        res["with"] = err(lambda: graph().__enter__())

        def subclass():
            class A(torch.nn.NotAModule):
                pass
        res["subclass"] = err(subclass)
        res["probe"] = [bool(torch.backends.not_a_backend), isinstance(1, fx.GraphModule), fx is torch.fx]
        res["real"] = [torch.nn.Linear.__module__, torch.tensor([1.0, 2.0]).sum().item()]
        print(json.dumps(res))
    """)
    proc = mocked(["--lazy", "--verbose", "lazy.py"], tmp_path, [stand_in])
    res = last_json(ok(proc))
    for key, name, what in [("call", "torch.fx.symbolic_trace", "called"),
                            ("attr_chain", "torch.not_a_thing.sub.fn", "called"),
                            ("index", "torch.not_a_thing", "indexed"),
                            ("subclass", "torch.nn.NotAModule", "subclassed")]:
        assert res[key].startswith(f"{name} is not provided by ferrotorch"), res[key]
        assert what in res[key]
    assert res["with"].startswith("torch.cuda.graphs.graph is not provided by ferrotorch")  # graph() raises
    assert res["probe"] == [False, False, True]
    assert res["real"] == ["ferrotorch.nn.modules.linear", 3.0]
    report = proc.stderr.strip().splitlines()
    assert report[0] == "ferrotorch.mock_torch: names that ferrotorch lacks, touched by the program:"
    touched = dict(line.strip().split(": ", 1) for line in report[1:])
    assert touched["torch.fx"] == "imported"
    assert touched["torch.fx.symbolic_trace"] == "read, called"
    assert touched["torch.cuda.graphs"] == "imported"
    assert touched["torch.not_a_thing.sub.fn"] == "read, called"
    assert touched["torch.nn.NotAModule"] == "read, subclassed"
    assert touched["torch.backends.not_a_backend"] == "read, tested for truth"
    assert touched["torch.fx.GraphModule"] == "read, used in isinstance"
    assert "torch.nn.Linear" not in touched and "torch.tensor" not in touched


def test_without_lazy_missing_names_raise_at_once_and_verbose_reports_at_disable(tmp_path, stand_in):
    _write(tmp_path / "strict.py", """
        import importlib.util
        import sys

        import ferrotorch.mock_torch as mt

        with mt.enable(verbose=True):
            import torch
            try:
                import torch.fx
            except ModuleNotFoundError as e:
                print("import:", e.name)
            try:
                torch.not_a_thing
            except AttributeError as e:
                print("attr:", e)
            print("hasattr:", hasattr(torch.nn, "NotAModule"), hasattr(torch.nn, "Linear"))
            print("find_spec:", importlib.util.find_spec("torch.fx"), importlib.util.find_spec("torch.nn.functional").name)
        print("after disable", file=sys.stderr)
    """)
    proc = run(["strict.py"], tmp_path, [stand_in])
    assert ok(proc).splitlines() == ["import: torch.fx", "attr: module 'ferrotorch' has no attribute 'not_a_thing'",
                                     "hasattr: False True", "find_spec: None torch.nn.functional"]
    assert proc.stderr.splitlines() == [
        "ferrotorch.mock_torch: names that ferrotorch lacks, touched by the program:",
        "  torch.fx: imported (ModuleNotFoundError)",
        "  torch.not_a_thing: read (AttributeError)",
        "  torch.nn.NotAModule: read (AttributeError)",
        "after disable",
    ]


# ---- (f) sys.argv, __main__, sys.path[0], exit status ---------------------------------------

_PROBE = """
    import json
    import sys

    print(json.dumps(dict(argv=sys.argv, name=__name__, file=globals().get("__file__"), path0=sys.path[0],
                          spec=getattr(__spec__, "name", None), package=__package__,
                          main=sys.modules["__main__"] is sys.modules[__name__], keys=sorted(globals()))))
    sys.exit(int(sys.argv[-1]))
"""


def test_script_sees_what_python_gives_it_and_exit_status_propagates(tmp_path):
    script = _write(tmp_path / "sub" / "probe.py", _PROBE)
    os.symlink(script, tmp_path / "link.py")
    for target in ("sub/probe.py", "link.py"):
        plain = run([target, "a b", "--x", "7"], tmp_path)
        mock = mocked([target, "a b", "--x", "7"], tmp_path)
        assert plain.returncode == mock.returncode == 7, (plain.stderr, mock.stderr)
        assert last_json(mock.stdout) == last_json(plain.stdout)
    got = last_json(mock.stdout)
    assert got["argv"] == ["link.py", "a b", "--x", "7"] and got["path0"] == str(tmp_path / "sub")


def test_module_directory_and_command_forms(tmp_path):
    _write(tmp_path / "pkg" / "__init__.py", "")
    _write(tmp_path / "pkg" / "mod.py", _PROBE)
    plain = run(["-m", "pkg.mod", "x", "3"], tmp_path)
    mock = mocked(["-m", "pkg.mod", "x", "3"], tmp_path)
    assert plain.returncode == mock.returncode == 3, (plain.stderr, mock.stderr)
    assert last_json(mock.stdout) == last_json(plain.stdout)
    _write(tmp_path / "appdir" / "__main__.py", _PROBE)  # a directory with a __main__.py
    plain = run(["appdir", "z", "5"], tmp_path)
    mock = mocked(["appdir", "z", "5"], tmp_path)
    assert plain.returncode == mock.returncode == 5, (plain.stderr, mock.stderr)
    assert last_json(mock.stdout) == last_json(plain.stdout)
    code = textwrap.dedent(_PROBE)
    plain = run(["-c", code, "y", "4"], tmp_path)
    mock = mocked(["-c", code, "y", "4"], tmp_path)
    assert plain.returncode == mock.returncode == 4, (plain.stderr, mock.stderr)
    assert last_json(mock.stdout) == last_json(plain.stdout)


def test_sys_exit_with_a_message(tmp_path):
    _write(tmp_path / "bye.py", "import sys\nimport torch\nsys.exit('bye from ' + torch.__name__)\n")
    proc = mocked(["bye.py"], tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", "bye from ferrotorch\n")


# ---- (g) an exception in the program ------------------------------------------------------

def test_exception_gives_pythons_own_traceback_and_exit_status(tmp_path):
    _write(tmp_path / "bad.py", """
        def f(x):
            raise ValueError(f"boom {x}")


        f(1)
    """)
    plain = run(["bad.py"], tmp_path)
    mock = mocked(["bad.py"], tmp_path)
    assert plain.returncode == mock.returncode == 1
    assert mock.stderr == plain.stderr
    assert mock.stderr.startswith("Traceback (most recent call last):\n") and "ValueError: boom 1" in mock.stderr

    _write(tmp_path / "bad_torch.py", """
        import torch

        torch.ones(2, 3) @ torch.ones(2, 3)
    """)
    mock = mocked(["bad_torch.py"], tmp_path)
    assert mock.returncode == 1
    lines = mock.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1].startswith(f'  File "{tmp_path / "bad_torch.py"}", line 4')
    assert lines[-1].startswith("RuntimeError")
    assert "mock_torch" not in mock.stderr and "runpy" not in mock.stderr


def test_usage_errors(tmp_path):
    proc = mocked([], tmp_path)
    assert proc.returncode == 1 and proc.stderr.startswith("usage: python -m ferrotorch.mock_torch")
    proc = mocked(["missing.py"], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == f"{sys.executable}: can't open file {str(tmp_path / 'missing.py')!r}: [Errno 2] No such file or directory\n"
