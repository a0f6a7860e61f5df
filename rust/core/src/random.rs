//! Counter-based RNG: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy
//! as 1, 2, 3"). Element i of a draw uses counter block (offset + i / lanes_per_elem),
//! so results do not depend on threading, and the CUDA kernels (cuda/index.cu) produce
//! the same numbers for the same seed.
//!
//! Stream layout (shared with CUDA):
//! - key = (seed low 32 bits, seed high 32 bits); counter = (block lo, block hi, 0, 0).
//! - f32 uniform: element i -> block offset + i/4, lane i%4: (u32 >> 8) * 2^-24.
//! - f64 uniform: element i -> block offset + i/2, lanes 2(i%2), 2(i%2)+1 as (lo, hi) of a
//!   u64: (u64 >> 11) * 2^-53.
//! - normal: Box-Muller on the pair of f64-style uniforms of the same block: element i
//!   -> block offset + i/2; u1 from lanes (0,1), u2 from lanes (2,3); even i takes
//!   r*cos, odd i takes r*sin (both elements of a pair share the block).
//!
//! After a draw of n elements the offset advances by the number of blocks used.

use std::sync::{Arc, Mutex};
use crate::error::Result;
use crate::storage::try_vec;

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

#[inline(always)]
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = a as u64 * b as u64;
    ((p >> 32) as u32, p as u32)
}

/// Philox4x32 with 10 rounds.
#[inline]
pub fn philox(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (mut c, mut k) = (counter, key);
    for r in 0..10 {
        if r > 0 {
            k[0] = k[0].wrapping_add(W0);
            k[1] = k[1].wrapping_add(W1);
        }
        let (hi0, lo0) = mulhilo(M0, c[0]);
        let (hi1, lo1) = mulhilo(M1, c[2]);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
    }
    c
}

#[inline]
fn block(seed: u64, b: u64) -> [u32; 4] {
    philox([b as u32, (b >> 32) as u32, 0, 0], [seed as u32, (seed >> 32) as u32])
}

#[inline]
fn u01_f64(lo: u32, hi: u32) -> f64 {
    let u = (lo as u64) | ((hi as u64) << 32);
    (u >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[derive(Clone, Copy, Debug)]
pub struct GenState {
    pub seed: u64,
    pub offset: u64,
}

/// A generator handle (`torch.Generator`): shared, mutable state.
#[derive(Clone)]
pub struct Generator(pub Arc<Mutex<GenState>>);

impl Generator {
    pub fn new(seed: u64) -> Generator {
        Generator(Arc::new(Mutex::new(GenState { seed, offset: 0 })))
    }
    pub fn manual_seed(&self, seed: u64) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        s.seed = seed;
        s.offset = 0;
    }
    pub fn initial_seed(&self) -> u64 {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).seed
    }
    pub fn get_state(&self) -> GenState {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn set_state(&self, st: GenState) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = st;
    }
    /// Reserve `blocks` counter blocks; returns (seed, first block). The CUDA Philox
    /// kernels draw from the same reserved blocks, so both devices give the same numbers.
    pub(crate) fn reserve(&self, blocks: u64) -> (u64, u64) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let r = (s.seed, s.offset);
        s.offset += blocks;
        r
    }
    /// n uniforms in [0, 1) with f32 resolution (f32 tensors).
    pub fn uniform_f32(&self, n: usize) -> Result<Vec<f32>> {
        // Allocate before reserving: a failed allocation leaves the stream where it was.
        let mut out = try_vec(n, 0.0f32)?;
        let (seed, off) = self.reserve((n as u64).div_ceil(4));
        fill_uniform_f32(&mut out, seed, off);
        Ok(out)
    }
    /// n uniforms in [0, 1) with f64 resolution.
    pub fn uniform_f64(&self, n: usize) -> Result<Vec<f64>> {
        let mut out = try_vec(n, 0.0f64)?;
        let (seed, off) = self.reserve((n as u64).div_ceil(2));
        fill_uniform_f64(&mut out, seed, off);
        Ok(out)
    }
    /// n standard normals (Box-Muller).
    pub fn normal_f64(&self, n: usize) -> Result<Vec<f64>> {
        let mut out = try_vec(n, 0.0f64)?;
        let (seed, off) = self.reserve((n as u64).div_ceil(2));
        fill_normal_f64(&mut out, seed, off);
        Ok(out)
    }
    /// n integers uniform in [low, high).
    pub fn randint(&self, low: i64, high: i64, n: usize) -> Result<Vec<i64>> {
        // Wrapping: the span of [i64::MIN, i64::MAX) is below 2^64 as a u64.
        let span = high.wrapping_sub(low) as u64;
        let mut out = try_vec(n, 0i64)?;
        let (seed, off) = self.reserve((n as u64).div_ceil(2));
        fill_randint(&mut out, low, span, seed, off);
        Ok(out)
    }
    /// A random permutation of 0..n (Fisher-Yates driven by this stream).
    pub fn randperm(&self, n: usize) -> Result<Vec<i64>> {
        let mut p = try_vec(n, 0i64)?;
        p.iter_mut().enumerate().for_each(|(i, x)| *x = i as i64);
        if n < 2 {
            return Ok(p);
        }
        let r = self.uniform_f64(n)?;
        for i in (1..n).rev() {
            let j = ((r[i] * (i + 1) as f64) as usize).min(i);
            p.swap(i, j);
        }
        Ok(p)
    }
}

// The stream fills, from counter block `off` of `seed` (what `Generator::reserve` handed
// out): the generator's draws and the CPU backend's Philox primitive both use them.

/// f32 uniforms in [0, 1), 4 per block.
pub fn fill_uniform_f32(out: &mut [f32], seed: u64, off: u64) {
    fill_par(out, 4, |bi, chunk| {
        let b = block(seed, off + bi as u64);
        for (j, o) in chunk.iter_mut().enumerate() {
            *o = (b[j] >> 8) as f32 * (1.0 / 16_777_216.0);
        }
    });
}

/// f64 uniforms in [0, 1), 2 per block.
pub fn fill_uniform_f64(out: &mut [f64], seed: u64, off: u64) {
    fill_par(out, 2, |bi, chunk| {
        let b = block(seed, off + bi as u64);
        for (j, o) in chunk.iter_mut().enumerate() {
            *o = u01_f64(b[2 * j], b[2 * j + 1]);
        }
    });
}

/// Standard normals (Box-Muller), 2 per block.
pub fn fill_normal_f64(out: &mut [f64], seed: u64, off: u64) {
    fill_par(out, 2, |bi, chunk| {
        let b = block(seed, off + bi as u64);
        // 1 - u keeps the log argument in (0, 1].
        let u1 = 1.0 - u01_f64(b[0], b[1]);
        let u2 = u01_f64(b[2], b[3]);
        let r = (-2.0 * u1.ln()).sqrt();
        let th = 2.0 * std::f64::consts::PI * u2;
        chunk[0] = r * th.cos();
        if chunk.len() > 1 {
            chunk[1] = r * th.sin();
        }
    });
}

/// Integers uniform in [low, low + span), 2 per block.
pub fn fill_randint(out: &mut [i64], low: i64, span: u64, seed: u64, off: u64) {
    fill_par(out, 2, |bi, chunk| {
        let b = block(seed, off + bi as u64);
        for (j, o) in chunk.iter_mut().enumerate() {
            let u = (b[2 * j] as u64) | ((b[2 * j + 1] as u64) << 32);
            // Modulo bias is below 2^-40 for spans under 2^24.
            *o = low.wrapping_add((u % span) as i64);
        }
    });
}

/// Fill `out` in blocks of `per` elements, block index passed to `f`; parallel for big n.
fn fill_par<T: Send>(out: &mut [T], per: usize, f: impl Fn(usize, &mut [T]) + Sync + Send) {
    if out.len() >= crate::cpu::GRAIN && crate::cpu::num_threads() > 1 {
        // Tasks of GRAIN elements (a multiple of `per`), blocks numbered globally.
        let (n, o) = (out.len(), crate::cpu::SendPtr(out.as_mut_ptr()));
        let blocks_per_task = crate::cpu::GRAIN / per;
        crate::cpu::par_for(n.div_ceil(blocks_per_task * per), |t| {
            let lo = t * blocks_per_task * per;
            let hi = (lo + blocks_per_task * per).min(n);
            // SAFETY: tasks cover disjoint ranges [lo, hi) of `out`.
            let chunk = unsafe { std::slice::from_raw_parts_mut(o.get().add(lo), hi - lo) };
            for (j, c) in chunk.chunks_mut(per).enumerate() {
                f(t * blocks_per_task + j, c);
            }
        });
    } else {
        for (i, c) in out.chunks_mut(per).enumerate() {
            f(i, c);
        }
    }
}

static DEFAULT: Mutex<Option<Generator>> = Mutex::new(None);

/// The default CPU generator (`torch.default_generator`), seeded 67280421310721 as PyTorch.
pub fn default_generator() -> Generator {
    let mut g = DEFAULT.lock().unwrap_or_else(|e| e.into_inner());
    g.get_or_insert_with(|| Generator::new(67_280_421_310_721)).clone()
}

pub fn manual_seed(seed: u64) {
    default_generator().manual_seed(seed)
}

/// A fresh non-deterministic seed (`torch.seed()`).
pub fn seed() -> u64 {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    let s = block(t, std::process::id() as u64);
    let seed = (s[0] as u64) | ((s[1] as u64) << 32);
    manual_seed(seed);
    seed
}
