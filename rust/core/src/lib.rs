//! ferrotorch: a tensor engine with reverse-mode autograd, usable from Rust without Python.
//!
//! ```
//! use ferrotorch::{Tensor, DType, Device};
//! let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3]).unwrap();
//! x.set_requires_grad(true).unwrap();
//! let y = x.mul(&x).unwrap().sum().unwrap();
//! y.backward().unwrap();
//! assert_eq!(x.grad().unwrap().to_vec::<f32>().unwrap(), vec![2.0, 4.0, 6.0]);
//! ```

pub mod autograd;
pub mod autocast;
pub mod amp;
pub mod backend;
pub mod cpu;
pub mod cuda;
pub mod device;
pub mod dims;
pub mod dtype;
pub mod error;
pub mod io;
pub mod ops;
pub mod optim;
pub mod random;
pub mod shape;
pub mod storage;
pub mod tensor;

pub use device::Device;
pub use dtype::{DType, Scalar};
pub use error::{Error, Result};
pub use ops::index::{IndexItem, TensorIndex};
pub use ops::Arg;
pub use tensor::Tensor;

impl Tensor {
    /// `backward()` on a scalar output.
    pub fn backward(&self) -> Result<()> {
        autograd::backward(std::slice::from_ref(self), &[None], false, false, None)
    }
}
