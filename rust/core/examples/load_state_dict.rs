//! Run a model trained in PyTorch from Rust: load the state dict of
//! `nn.Sequential(Linear(4, 8), ReLU(), Linear(8, 3))` that `torch.save` wrote, run its
//! forward pass with ferrotorch's ops, and compare with the outputs PyTorch computed.
//!
//!     cargo run -p ferrotorch --example load_state_dict [STATE_DICT.pt [IO.pt]]
//!
//! The defaults are tests/fixtures/checkpoints/mlp_state_dict.pt and mlp_io.pt (a dict
//! {"x": input, "y": PyTorch's output}). Exits non-zero if any output differs from
//! PyTorch's by more than 1e-5.

use ferrotorch::io::pt;
use ferrotorch::{Error, Result, Tensor};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/checkpoints");

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let sd_path = args.next().unwrap_or_else(|| format!("{FIXTURES}/mlp_state_dict.pt"));
    let io_path = args.next().unwrap_or_else(|| format!("{FIXTURES}/mlp_io.pt"));

    let state_dict = pt::load_state_dict(&sd_path)?;
    for (name, t) in &state_dict {
        println!("{name:10} {:?} {}", t.shape().to_vec(), t.dtype());
    }
    let param = |name: &str| -> Result<Tensor> {
        state_dict
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
            .ok_or_else(|| Error::Runtime(format!("{sd_path}: no entry {name:?}")))
    };

    let io = pt::load(&io_path)?;
    let tensor = |key: &str| -> Result<Tensor> {
        io.root.get(key).and_then(|o| o.as_tensor()).cloned().ok_or_else(|| Error::Runtime(format!("{io_path}: no tensor {key:?}")))
    };
    let (x, y) = (tensor("x")?, tensor("y")?);

    // nn.Linear computes x @ W^T + b.
    let hidden = x.matmul(&param("0.weight")?.t()?)?.add(&param("0.bias")?)?.relu()?;
    let out = hidden.matmul(&param("2.weight")?.t()?)?.add(&param("2.bias")?)?;

    let (got, want) = (out.to_vec::<f32>()?, y.to_vec::<f32>()?);
    if got.len() != want.len() {
        return Err(Error::Runtime(format!("output has {} values, PyTorch's {}", got.len(), want.len())));
    }
    let cols = out.shape().last().copied().unwrap_or(1).max(1);
    println!("outputs (ferrotorch | pytorch):");
    for (g, w) in got.chunks(cols).zip(want.chunks(cols)) {
        println!("  {g:>10.6?} | {w:>10.6?}");
    }
    let max_diff = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    println!("max |ferrotorch - pytorch| = {max_diff:.3e}");
    if max_diff.is_nan() || max_diff > 1e-5 {
        eprintln!("outputs differ from PyTorch's by more than 1e-5");
        std::process::exit(1);
    }
    Ok(())
}
