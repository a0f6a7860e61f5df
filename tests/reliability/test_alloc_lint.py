"""No allocation whose size a user controls may abort the process.

Rust's `Vec::with_capacity(n)`, `vec![x; n]`, `.to_vec()` and `collect()` into a Vec abort
the process (and with it the Python interpreter) when the allocation fails:
`t[idx.expand(2**36)]` asked for 512 GiB of index scratch and died with "memory
allocation of N bytes failed". Host scratch of a user-controlled size goes through
`ferrotorch::storage::{try_vec, try_with_capacity, try_collect, try_to_vec}` (PyTorch's
out-of-memory RuntimeError) or is a tensor from the caching allocator.

This scans rust/core/src and rust/python/src for the infallible forms and fails on any
site not in alloc_allowlist.txt, where each entry says why that size is bounded
(ndim-sized, fixed, one per argument the caller passed...). Entries are keyed by file and
the trimmed source line, not by line numbers, so unrelated edits don't disturb them; an
entry covers one occurrence (identical lines need one entry each), and an entry that no
longer matches anything fails too, so the list stays honest.
"""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCANNED = ["rust/core/src", "rust/python/src"]
ALLOWLIST = pathlib.Path(__file__).with_name("alloc_allowlist.txt")

# One regex per infallible form, applied to the source with comments blanked out.
PATTERNS = {
    "with_capacity": re.compile(r"\bVec::with_capacity\s*\("),
    "vec![x; n]": re.compile(r"\bvec!\s*\[[^\[\]]*(?:\[[^\[\]]*\][^\[\]]*)*;[^\]]*\]"),
    # PyO3's `PyBytes::new` panics when Python cannot allocate the object: `convert::py_bytes`.
    "PyBytes::new": re.compile(r"\bPyBytes::new\s*\("),
    "to_vec()": re.compile(r"\.to_vec\s*\(\s*\)"),
    "collect::<Vec>": re.compile(r"\.collect\s*::\s*<\s*(?:\w+\s*<\s*)?Vec\b"),
    # `let v: Vec<T> = ... .collect()` (also `Result<Vec<..>>`), within one statement.
    "let: Vec = collect()": re.compile(
        r"\blet\s+(?:mut\s+)?\w+\s*:\s*(?:\w+\s*<\s*)?Vec\s*<[^;]*?\.collect\s*(?:::\s*<[^;]*?>)?\s*\(\s*\)", re.S),
}
# `fn f(..) -> Vec<T> {` / `-> Result<Vec<T>> {`: checked for a collect() as its tail expression.
RETURNS_VEC = re.compile(r"\bfn\s+\w+[^;{]*?->\s*(?:\w+\s*<\s*)?Vec\s*<[^;{]*\{")
TAIL_COLLECT = re.compile(r"\.collect\s*(?:::\s*<[^;]*?>)?\s*\(\s*\)\Z")


def _blank_comments(text):
    """Comments (line and block) replaced by spaces, newlines kept, so offsets map to lines."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("'\"'", i):
            out.append("'\"'")  # the char literal '"' does not open a string
            i += 3
        elif text[i] == '"':
            # A string literal: its contents blanked (a `//` or `vec![..]` in it is not code).
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('"' + re.sub(r"[^\n]", " ", text[i + 1:j]) + '"')
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def scan_source(text):
    """[(line number, trimmed source line, pattern name)] of the infallible allocations in `text`."""
    code = _blank_comments(text)
    lines = text.splitlines()
    hits = set()
    for name, rx in PATTERNS.items():
        for m in rx.finditer(code):
            # The line the allocation is on: where `collect` / `vec!` / ... is, for the
            # statement-wide patterns the line of the statement's start.
            lineno = code.count("\n", 0, m.start()) + 1
            hits.add((lineno, lines[lineno - 1].strip(), name))
    # `fn f(..) -> Vec<T>` (or `-> Result<Vec<T>>`) whose tail expression is a collect().
    for m in RETURNS_VEC.finditer(code):
        depth, j = 1, m.end()
        while j < len(code) and depth:
            depth += {"{": 1, "}": -1}.get(code[j], 0)
            j += 1
        tail = code[m.end():j - 1].rstrip()
        t = TAIL_COLLECT.search(tail)
        if t:
            lineno = code.count("\n", 0, m.end() + t.start()) + 1
            hits.add((lineno, lines[lineno - 1].strip(), "fn -> Vec = collect()"))
    # One hit per line (two patterns may both see a line).
    by_line = {}
    for h in sorted(hits):
        by_line.setdefault(h[0], h)
    return list(by_line.values())


def scan_tree():
    """{(relative path, trimmed line): occurrences} over the scanned directories."""
    found = {}
    for d in SCANNED:
        for p in sorted((ROOT / d).rglob("*.rs")):
            rel = p.relative_to(ROOT).as_posix()
            for _, line, _ in scan_source(p.read_text()):
                found[(rel, line)] = found.get((rel, line), 0) + 1
    return found


def load_allowlist():
    """{(path, trimmed line): entries}; each entry is `path: line  # why it is bounded`."""
    allowed = {}
    for raw in ALLOWLIST.read_text().splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        body, sep, why = raw.rpartition("  # ")
        assert sep and why.strip(), f"allowlist entry without a reason (`  # why`): {raw!r}"
        path, sep, line = body.partition(": ")
        assert sep, f"allowlist entry is not `path: line  # why`: {raw!r}"
        key = (path.strip(), line.strip())
        allowed[key] = allowed.get(key, 0) + 1
    return allowed


def test_scanner_finds_planted_allocations():
    planted = """
        fn kernel(n: usize, x: &[f32]) -> Vec<f32> {
            let mut scratch = vec![0u8; n]; // a comment: vec![0; 1] is not code
            let idx: Vec<i64> = x.iter()
                .map(|&v| v as i64)
                .collect();
            let copy = x.to_vec();
            let w = Vec::with_capacity(n * 2);
            let ys = x.iter().map(|v| v * 2.0).collect::<Vec<_>>();
            let r: Result<Vec<f32>> = x.iter().map(|&v| Ok(v)).collect();
            x.iter().copied().collect()
        }
        // let z = vec![1; n];
        /* let z = vec![2; n]; */
        fn fine(n: usize) -> Result<Vec<u8>> { let s = "vec![3; n]"; try_vec(n, 0u8) }
        let small = vec![1, 2, 3];
    """
    hits = scan_source(planted)
    got = {(ln, name) for ln, _, name in hits}
    assert got == {
        (3, "vec![x; n]"),
        (4, "let: Vec = collect()"),
        (7, "to_vec()"),
        (8, "with_capacity"),
        (9, "collect::<Vec>"),
        (10, "let: Vec = collect()"),
        (11, "fn -> Vec = collect()"),
    }, sorted(hits)


def test_planted_kernel_allocation_is_not_allowlisted():
    # What the tree test does with a new site: a kernel line that is not in the allowlist.
    line = "let mut buf = vec![0u8; n];"
    assert [h[1] for h in scan_source("fn k(n: usize) {\n    " + line + "\n}\n")] == [line]
    assert ("rust/core/src/cpu/mod.rs", line) not in load_allowlist()


def test_every_infallible_allocation_is_allowlisted_with_a_reason():
    found = scan_tree()
    allowed = load_allowlist()
    new = sorted(f"{p}: {line}" for (p, line), k in found.items() if k > allowed.get((p, line), 0))
    stale = sorted(f"{p}: {line}" for (p, line), k in allowed.items() if k > found.get((p, line), 0))
    assert not new, (
        "infallible allocation(s) not in tests/reliability/alloc_allowlist.txt: use "
        "ferrotorch::storage::try_vec / try_with_capacity / try_collect / try_to_vec when a user "
        "controls the size, or add `path: line  # why it is bounded`:\n" + "\n".join(new))
    assert not stale, "allowlist entries that match no source line (remove them):\n" + "\n".join(stale)
