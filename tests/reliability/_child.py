"""Run a snippet in a child Python process, so that a crash (segfault, abort, stack
overflow) fails the calling test with the snippet named instead of taking pytest down.

`run(code, mem_bytes=...)` caps the child's address space with `resource.setrlimit`
(RLIMIT_AS) before ferrotorch is imported: an allocation the machine cannot give then
fails inside the child exactly as it would on a small machine, whatever this one has.
"""
import os
import signal
import subprocess
import sys
import textwrap

PRELUDE = """
import resource, sys
_cap = {cap!r}
if _cap:
    resource.setrlimit(resource.RLIMIT_AS, (_cap, _cap))
"""


class ChildResult:
    def __init__(self, code, proc):
        self.code = code
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def describe(self):
        rc = self.returncode
        how = f"signal {signal.Signals(-rc).name}" if rc < 0 else f"exit code {rc}"
        return (f"child ended with {how}\n--- code ---\n{self.code}\n--- stdout ---\n{self.stdout[-2000:]}"
                f"\n--- stderr ---\n{self.stderr[-2000:]}")

    def ok(self):
        """Assert the child ran to the end (exit 0) and return its stdout lines."""
        assert self.returncode == 0, self.describe()
        return self.stdout.strip().splitlines()


def run(code, mem_bytes=None, timeout=300, env=None):
    """Run `code` (dedented) in a fresh interpreter; never raises for the child's failure."""
    code = textwrap.dedent(code)
    src = PRELUDE.format(cap=mem_bytes) + code
    e = dict(os.environ, RUST_BACKTRACE="0")
    if env:
        e.update(env)
    p = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True, timeout=timeout, env=e)
    return ChildResult(code, p)
