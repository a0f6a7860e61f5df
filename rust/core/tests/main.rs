//! The engine's Rust tests, as one test binary (`autotests = false` in Cargo.toml): each file
//! of this directory is a module. One binary instead of one per file because every test binary
//! links the whole engine, and in the release profile (which `scripts/test.sh` uses, to share the
//! wheel's build) each link re-runs LTO code generation: five binaries cost five of those.
//! The library itself has no unit-test harness (`[lib] test = false`): internals the tests reach
//! are `#[doc(hidden)] pub`.

mod amp;
mod common;
mod core_types;
mod engine;
mod io_formats;
mod io_pt;
mod kernels;
mod op_arguments;
mod registry;
mod seam;
mod select;
mod vecmath;
