//! The backend seam stays a seam: the ops in src/ops/ never branch on the device (they go
//! through `backend::of(device)`), and the backends in src/cpu/ and src/cuda/ never reach
//! back into the tensor handle, the ops or autograd (the import circle stays broken).
//! Read from the source tree at test time, so a new file is covered without a list here.

use std::path::{Path, PathBuf};

/// Device branches an op may not hold.
const OPS_FORBIDDEN: &[&str] = &["is_cuda()", "Device::Cuda"];
/// Modules a backend may not depend on.
const BACKEND_FORBIDDEN_MODULES: &[&str] = &["tensor", "ops", "autograd"];

/// `src` without `//` comments (line and doc comments), so prose may name what code may not.
fn strip_comments(src: &str) -> String {
    src.lines().map(|l| l.find("//").map_or(l, |i| &l[..i])).collect::<Vec<_>>().join("\n")
}

/// 1-based line of byte offset `at`.
fn line_of(src: &str, at: usize) -> usize {
    src[..at].matches('\n').count() + 1
}

/// (line, what) for every device branch in an op file's source.
fn op_violations(src: &str) -> Vec<(usize, String)> {
    let code = strip_comments(src);
    let mut out = Vec::new();
    for pat in OPS_FORBIDDEN {
        for (at, _) in code.match_indices(pat) {
            out.push((line_of(&code, at), pat.to_string()));
        }
    }
    out
}

/// (line, what) for every path into tensor/ops/autograd in a backend file's source:
/// `crate::tensor::..`, `crate::ops::..`, `crate::autograd`, and the same names inside a
/// grouped `use crate::{..}`.
fn backend_violations(src: &str) -> Vec<(usize, String)> {
    let code = strip_comments(src);
    let mut out = Vec::new();
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    for m in BACKEND_FORBIDDEN_MODULES {
        let pat = format!("crate::{m}");
        for (at, _) in code.match_indices(&pat) {
            // `crate::ops` but not `crate::opsx`.
            if code[at + pat.len()..].chars().next().is_some_and(is_ident) {
                continue;
            }
            out.push((line_of(&code, at), pat.clone()));
        }
    }
    for (at, _) in code.match_indices("crate::{") {
        let body_start = at + "crate::{".len();
        let Some(len) = code[body_start..].find('}') else { continue };
        // Nested groups (`crate::{a::{b, c}, d}`) end at the first `}`: good enough for the
        // top-level names, which are what matter here.
        for item in code[body_start..body_start + len].split(',') {
            let head = item.trim().split("::").next().unwrap_or("").trim();
            if BACKEND_FORBIDDEN_MODULES.contains(&head) {
                out.push((line_of(&code, at), format!("crate::{{{head}..}}")));
            }
        }
    }
    out
}

/// Every .rs file under `dir` (recursively).
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("reading {}: {e}", d.display())) {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

fn src_dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(sub)
}

/// All violations in the files under `sub`, as printable lines.
fn scan(sub: &str, check: fn(&str) -> Vec<(usize, String)>) -> (usize, Vec<String>) {
    let files = rust_files(&src_dir(sub));
    let mut found = Vec::new();
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        for (line, what) in check(&src) {
            found.push(format!("{}:{line}: {what}", f.display()));
        }
    }
    (files.len(), found)
}

#[test]
fn ops_never_branch_on_the_device() {
    let (n, found) = scan("ops", op_violations);
    assert!(n >= 8, "expected the op files under src/ops, found {n}");
    assert!(found.is_empty(), "ops branch on the device instead of calling crate::backend::of(device):\n{}", found.join("\n"));
}

#[test]
fn backends_do_not_depend_on_tensor_ops_or_autograd() {
    for sub in ["cpu", "cuda"] {
        let (n, found) = scan(sub, backend_violations);
        assert!(n >= 2, "expected the backend files under src/{sub}, found {n}");
        assert!(found.is_empty(), "src/{sub} reaches into tensor/ops/autograd (take storage + layout instead):\n{}", found.join("\n"));
    }
}

/// The scanners flag planted examples (so an empty result above means something) and leave
/// comments and allowed paths alone.
#[test]
fn seam_scanners_flag_planted_examples() {
    for bad in [
        "if x.device().is_cuda() {\n    launch()\n}",
        "match dev {\n    Device::Cuda(i) => cuda(i),\n    _ => cpu(),\n}",
        "if let crate::Device::Cuda(_) = d {}",
    ] {
        assert_eq!(op_violations(bad).len(), 1, "not flagged: {bad}");
    }
    assert_eq!(op_violations("fn f() {}\n// never `if device.is_cuda()` here\n").len(), 0);
    assert_eq!(op_violations("crate::backend::of(x.device()).unary(op, &x, &out)?;").len(), 0);
    assert_eq!(op_violations("let a = 1;\nif d.is_cuda() {}").first().map(|v| v.0), Some(2), "line numbers");

    for bad in [
        "use crate::tensor::TensorData;",
        "let t = crate::tensor::Tensor::empty_on(&[n], dt, dev)?;",
        "return Err(crate::ops::not_implemented(\"x\", d));",
        "use crate::autograd::NoGradGuard;",
        "use crate::{dtype::DType, tensor::Tensor};",
        "use crate::{\n    error::Result,\n    ops::copy_data,\n};",
    ] {
        assert_eq!(backend_violations(bad).len(), 1, "not flagged: {bad}");
    }
    for ok in [
        "use crate::storage::TensorData;",
        "use crate::{bail, dispatch};",
        "// was crate::tensor::TensorData before the seam",
        "use crate::opsx::y;",
    ] {
        assert_eq!(backend_violations(ok).len(), 0, "flagged: {ok}");
    }
}
