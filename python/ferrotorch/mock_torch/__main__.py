"""python -m ferrotorch.mock_torch [--lazy] [--verbose] (script.py | -m module | -c code) [args...]

Runs the program as ``python script.py args...`` (``python -m module``, ``python -c code``)
would, with ``sys.argv``, ``__main__``, ``__file__`` and ``sys.path[0]`` set the same way,
but with every ``import torch[.X]`` getting ``ferrotorch[.X]``, in the program, in the
libraries it imports and in the child processes it starts. The exit status is the program's.
"""
import builtins
import importlib.machinery
import io
import os
import runpy
import sys
import types

from . import enable

USAGE = ("usage: python -m ferrotorch.mock_torch [--lazy] [--verbose] (script.py | -m module | -c code) [args...]\n"
         "  --lazy     a name ferrotorch lacks gives a placeholder that raises only when used\n"
         "  --verbose  at exit, list every name ferrotorch lacks that the program touched (stderr)")

_OWN_FILES = {os.path.abspath(__file__), getattr(runpy, "__file__", None), "<frozen runpy>"}
_HOOK_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__init__.py")


def _parse(argv):
    lazy = verbose = False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--lazy":
            lazy = True
        elif a == "--verbose":
            verbose = True
        elif a in ("-h", "--help"):
            print(USAGE)
            sys.exit(0)
        elif a in ("-m", "-c"):
            if i + 1 >= len(argv):
                sys.exit(f"Argument expected for the {a} option\n{USAGE}")
            return lazy, verbose, a, argv[i + 1], argv[i + 2:]
        elif a == "--":
            i += 1
            break
        elif a.startswith("-"):
            sys.exit(f"unknown option {a!r}\n{USAGE}")
        else:
            break
        i += 1
    if i >= len(argv):
        sys.exit(USAGE)
    return lazy, verbose, "script", argv[i], argv[i + 1:]


def _fresh_main(**attrs):
    """A ``__main__`` module like the one the interpreter makes for a script or ``-c``."""
    main = types.ModuleType("__main__")
    main.__dict__.update(__builtins__=builtins, __spec__=None, __package__=None, **attrs)
    if "__annotations__" in sys.modules["__main__"].__dict__:  # the interpreter's own __main__ has one
        main.__annotations__ = {}
    sys.modules["__main__"] = main
    return main


def _run(kind, target, args):
    safe_path = getattr(sys.flags, "safe_path", False)  # -P / PYTHONSAFEPATH (3.11+): no sys.path[0] entry
    if kind == "-m":
        # `python -m` here already put the working directory first on sys.path, as for any -m.
        sys.argv = [target] + args  # replaced by the module's file, as python -m does
        # What python -m itself calls: runs the module in the __main__ namespace and reports a
        # missing module as python -m does.
        _fresh_main(__loader__=None)
        runpy._run_module_as_main(target, alter_argv=True)
        return
    if kind == "-c":
        sys.argv = ["-c"] + args
        if not safe_path:
            sys.path[0] = ""
        main = _fresh_main(__loader__=importlib.machinery.BuiltinImporter)
        exec(compile(target, "<string>", "exec", dont_inherit=True), main.__dict__)
        return
    sys.argv = [target] + args
    if os.path.isdir(target) or not target.endswith(".py") and _is_zip(target):
        # a directory or zip with __main__.py: as CPython does, put it first on sys.path (also
        # under -P) and run its __main__ module
        path0 = os.path.abspath(target)
        if safe_path:
            sys.path.insert(0, path0)
        else:
            sys.path[0] = path0
        _fresh_main(__loader__=None)
        runpy._run_module_as_main("__main__", alter_argv=False)
        return
    path = os.path.abspath(target)  # __file__ and traceback file names, as Python >= 3.9 gives them
    if not safe_path:
        sys.path[0] = os.path.dirname(os.path.realpath(target))
    try:
        with io.open_code(path) as f:
            source = f.read()
    except OSError as e:
        sys.stderr.write(f"{sys.executable}: can't open file {path!r}: [Errno {e.errno}] {e.strerror}\n")
        sys.exit(2)
    main = _fresh_main(__file__=path, __cached__=None,
                       __loader__=importlib.machinery.SourceFileLoader("__main__", path))
    exec(compile(source, path, "exec", dont_inherit=True), main.__dict__)


def _is_zip(path):
    import zipfile

    return os.path.isfile(path) and zipfile.is_zipfile(path)


def main():
    lazy, verbose, kind, target, args = _parse(sys.argv[1:])
    enable(lazy=lazy, verbose=verbose)  # on until the process ends; the verbose report runs at exit
    try:
        _run(kind, target, args)
    except (SystemExit, KeyboardInterrupt):
        raise  # the program's exit status; Python's own ending for Ctrl-C
    except BaseException as e:
        # The traceback Python would print for the program: without this runner's frames above
        # it, nor the missing-name hook's frame at its end (an AttributeError raised from the
        # hook ferrotorch modules get in verbose mode).
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename in _OWN_FILES:
            tb = tb.tb_next
        last = tb
        while last is not None and last.tb_next is not None:
            if last.tb_next.tb_next is None and last.tb_next.tb_frame.f_code.co_filename == _HOOK_FILE:
                last.tb_next = None
            last = last.tb_next
        # the default hook prints the exception's own __traceback__, not its argument
        sys.excepthook(type(e), e, e.with_traceback(tb).__traceback__)
        sys.exit(1)


if __name__ == "__main__":
    main()
