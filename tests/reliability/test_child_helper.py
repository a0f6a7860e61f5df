"""The child-process runner itself: a crash in the child is reported, not hidden."""
from _child import run


def test_clean_exit_returns_stdout():
    assert run("print(6 * 7)").ok() == ["42"]


def test_segfault_is_reported_as_signal():
    r = run("import ctypes; ctypes.string_at(0)")
    assert r.returncode < 0 and "SIGSEGV" in r.describe()


def test_memory_cap_applies_to_the_child():
    r = run("""
        try:
            bytearray(1 << 31)
            print("allocated")
        except MemoryError:
            print("MemoryError")
    """, mem_bytes=1 << 30)
    assert r.ok() == ["MemoryError"]
