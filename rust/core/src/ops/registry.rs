//! The op registry: one row per elementwise op, the single source of truth for its name, CPU
//! kernel (an expression), backward formula, autograd node name, CUDA kernel name, dtype rule,
//! in-place form and how Python exposes it.
//!
//! The rows live in `ops/elementwise.rs`, as the exported callback macros
//! `for_each_unary_float_op!`, `for_each_unary_num_op!`, `for_each_unary_pred_op!` and
//! `for_each_binary_op!`: each expands its rows into whatever macro it is given. From those rows
//!
//! * `ops/elementwise.rs` generates the `Tensor` methods (kernel, autograd node, in-place form)
//!   and the [`OpInfo`] tables below;
//! * the binding (`rust/python/src/tensor/elementwise.rs`) generates the Python methods
//!   (`Tensor.<name>`, `Tensor.<name>_`, `out=`), and `_C._op_registry()` hands [`ops`] to
//!   Python, where `scripts/gen_ops.py` writes the `torch.<name>` / `torch.<name>_` bindings and
//!   the op section of `_C.pyi` from it (tests/test_op_registry.py fails when they are stale);
//! * `rust/core/tests/registry.rs` checks the CUDA X-macros of `cuda/elementwise.cu` against
//!   the `cuda` names here, both ways (no row without its kernel, no kernel without a row).
//!
//! Adding an elementwise op is therefore its row here, its CUDA X-macro row and its test row
//! (tests/op_table.py); README.md's contributor section walks through one.

use super::elementwise::{Kind, BINARY_OPS, UNARY_FLOAT_OPS, UNARY_NUM_OPS, UNARY_PRED_OPS};

/// The family of a row: which generator built it, hence its kernel shape and dtype rule.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Family {
    /// Float result; integer and bool inputs promote to the default float dtype (exp, sin).
    UnaryFloat,
    /// Keeps the input dtype, integers included (neg, abs, floor).
    UnaryNum,
    /// Hand-written unary ops (bool results, bitwise not): no autograd, no in-place form.
    UnaryPred,
    /// Binary ops, with their dtype rule.
    Binary(Kind),
}

/// How Python sees an op: which of its forms the binding generates from the row (the variant
/// names are the row spellings).
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Python {
    /// `Tensor.<name>(..., out=None)`, `Tensor.<name>_`, `torch.<name>` and `torch.<name>_`.
    full,
    /// As `full` without `torch.<name>_` (PyTorch has no `torch.erfinv_`, `torch.mul_`).
    method,
    /// `Tensor.<name>(..., out=None)` and `torch.<name>` (maximum, isnan: no in-place form).
    no_inplace,
    /// `Tensor.<name>(..., out=None)` only: a helper the package's Python calls.
    internal,
    /// `torch.nn.functional`'s activations: `_C.<name>(input)` and `_C.<name>_(input)`, which
    /// `nn.functional` picks among (gelu's `approximate`, `inplace=True`).
    nn,
    /// Bound by hand in the binding (extra arguments: add's alpha, round's decimals).
    custom,
}

/// The Python forms of an op (see [`Python`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Forms {
    pub method: bool,
    pub method_inplace: bool,
    pub function: bool,
    pub function_inplace: bool,
    pub nn: bool,
}

impl Python {
    pub fn forms(self) -> Forms {
        let f = Forms::default();
        match self {
            Python::full => Forms { method: true, method_inplace: true, function: true, function_inplace: true, ..f },
            Python::method => Forms { method: true, method_inplace: true, function: true, ..f },
            Python::no_inplace => Forms { method: true, function: true, ..f },
            Python::internal => Forms { method: true, ..f },
            Python::nn => Forms { nn: true, ..f },
            Python::custom => f,
        }
    }
}

/// One registry row, as Rust code and the Python package read it.
#[derive(Clone, Copy, Debug)]
pub struct OpInfo {
    pub name: &'static str,
    pub family: Family,
    /// The autograd node's name (PyTorch's `grad_fn` name); empty: not differentiable.
    pub grad_fn: &'static str,
    /// CUDA kernel base name: the kernels are `ft_<cuda>_<dtype>`; empty: no kernel (the op is
    /// composed from others on CUDA, or is CPU-only).
    pub cuda: &'static str,
    /// The engine has an in-place form `Tensor::<name>_`.
    pub inplace: bool,
    pub python: Python,
}

impl OpInfo {
    /// The dtype rule in words (`_C._op_registry()` hands it to Python).
    pub fn dtype_rule(&self) -> &'static str {
        match self.family {
            // nn.functional's activations refuse integer and bool inputs, as PyTorch's kernels do.
            Family::UnaryFloat if matches!(self.python, Python::nn) => "float_only",
            Family::UnaryFloat => "int_to_float",
            Family::UnaryNum => "keep",
            Family::UnaryPred => "bool_result",
            // pow promotes as Arith; its own Kind only adds the negative-integer-power refusal.
            Family::Binary(Kind::Arith | Kind::Pow) => "promote",
            Family::Binary(Kind::NoBool) => "promote_no_bool",
            Family::Binary(Kind::Float) => "promote_int_to_float",
            Family::Binary(Kind::IntDiv) => "promote_int_div",
            Family::Binary(Kind::Compare) => "compare",
            Family::Binary(Kind::Logical) => "logical",
            Family::Binary(Kind::Bitwise) => "bitwise",
        }
    }

    /// The family's name (`_C._op_registry()`).
    pub fn family_name(&self) -> &'static str {
        match self.family {
            Family::UnaryFloat => "unary_float",
            Family::UnaryNum => "unary_num",
            Family::UnaryPred => "unary_pred",
            Family::Binary(_) => "binary",
        }
    }
}

/// Every registry row, family by family in row order.
pub fn ops() -> impl Iterator<Item = &'static OpInfo> {
    UNARY_FLOAT_OPS.iter().chain(UNARY_NUM_OPS).chain(UNARY_PRED_OPS).chain(BINARY_OPS)
}

/// The row of an op, by name.
pub fn find(name: &str) -> Option<&'static OpInfo> {
    ops().find(|o| o.name == name)
}
