//! Selection along one lane (topk, kthvalue, median): introselect
//! (`select_nth_unstable_by`, O(n)) over (value, position) pairs instead of a full sort, in
//! PyTorch's order (NaN is the largest value). Rejected: sorting the lane (O(n log n): topk
//! of 20M elements took 11× PyTorch's time) and a bounded heap for small k (O(n log k) on
//! sorted input; the candidate buffer below stays O(n) on any input).

use std::cmp::Ordering;

use super::math::is_nan;
use super::{num_threads, par_map, SendPtr};
use crate::error::Result;
use crate::storage::try_with_capacity;

/// k at most 1/SMALL_K of the lane: the candidate-buffer path (PyTorch's threshold for its
/// partial sort). Above it, every pair is copied and selected once.
const SMALL_K: usize = 64;
/// Smallest candidate buffer: cutting it back costs one introselect, so not too often.
const MIN_BUFFER: usize = 1024;
/// A single lane at least this long is split across threads (each piece keeps its own best
/// k, the pieces' winners are then selected once more).
const PAR_LANE: usize = 1 << 18;

/// Ascending order with NaN last (sort's order; NaN equals NaN).
#[inline(always)]
pub(crate) fn nan_last<T: PartialOrd + Copy>(a: T, b: T) -> Ordering {
    match (is_nan(a), is_nan(b)) {
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
    }
}

/// Best-first order: `Less` when `a` ranks before `b` (`largest`: the larger first, NaN
/// before everything; else the smaller first, NaN after everything).
#[inline(always)]
fn rank<T: PartialOrd + Copy>(a: T, b: T, largest: bool) -> Ordering {
    if largest {
        nan_last(b, a)
    } else {
        nan_last(a, b)
    }
}

/// Keep the best `k` of `v` (1 ≤ k ≤ v.len()), the k-th best last.
fn cut<T: PartialOrd + Copy>(v: &mut Vec<(T, i64)>, k: usize, largest: bool) {
    if v.len() > k {
        v.select_nth_unstable_by(k - 1, |a, b| rank(a.0, b.0, largest));
        v.truncate(k);
    } else if let Some(worst) = (0..v.len()).max_by(|&i, &j| rank(v[i].0, v[j].0, largest)) {
        // All of them are kept: only the k-th best (the worst) moves to the end.
        let last = v.len() - 1;
        v.swap(worst, last);
    }
}

/// The best `k` (1 ≤ k ≤ hi - lo) of positions `lo..hi` of the lane at `p` (element j at
/// `p + j * s`), as (value, position) pairs in any order but with the k-th best last.
///
/// # Safety
/// `p + j * s` is a readable T for every j in `lo..hi`.
unsafe fn best_k_range<T: PartialOrd + Copy>(p: *const T, s: usize, lo: usize, hi: usize, k: usize, largest: bool) -> Result<Vec<(T, i64)>> {
    let n = hi - lo;
    if k.saturating_mul(SMALL_K) > n {
        let mut v = try_with_capacity(n)?;
        for j in lo..hi {
            // SAFETY: j in lo..hi (the caller's contract).
            v.push((unsafe { *p.add(j * s) }, j as i64));
        }
        cut(&mut v, k, largest);
        return Ok(v);
    }
    // Small k: a buffer of candidates. Only a value better than the current k-th best enters
    // it; a full buffer is cut back to the best k, which sets that k-th best. Each cut costs
    // O(buffer) and frees at least half of it, so the whole lane is O(n), sorted or not.
    let cap = (2 * k).max(MIN_BUFFER).min(n);
    let mut v = try_with_capacity(cap)?;
    let mut kth: Option<T> = None;
    for j in lo..hi {
        // SAFETY: j in lo..hi (the caller's contract).
        let x = unsafe { *p.add(j * s) };
        if let Some(t) = kth {
            if rank(x, t, largest) != Ordering::Less {
                continue;
            }
        }
        v.push((x, j as i64));
        if v.len() == cap {
            cut(&mut v, k, largest);
            kth = Some(v[k - 1].0);
        }
    }
    cut(&mut v, k, largest);
    Ok(v)
}

/// The best `k` (1 ≤ k ≤ n) of the lane at `p` (n elements, stride `s`), the k-th best last;
/// `alone`: this is the only lane, so a long one may use the worker threads.
///
/// # Safety
/// `p + j * s` is a readable T for every j < n, and stays so from the worker threads.
pub(crate) unsafe fn best_k<T: PartialOrd + Copy + Send + Sync>(p: *const T, s: usize, n: usize, k: usize, largest: bool, alone: bool) -> Result<Vec<(T, i64)>> {
    let threads = num_threads();
    let pieces = threads * 4;
    if !alone || threads < 2 || n < PAR_LANE || k.saturating_mul(SMALL_K) > n / pieces {
        // SAFETY: the caller's contract.
        return unsafe { best_k_range(p, s, 0, n, k, largest) };
    }
    let sp = SendPtr(p as *mut T);
    let per = n.div_ceil(pieces);
    let parts = par_map(pieces, |c| {
        let (lo, hi) = (c * per, ((c + 1) * per).min(n));
        // SAFETY: lo..hi within 0..n; each piece only reads; k ≤ hi - lo (k·SMALL_K ≤ n / pieces).
        if lo >= hi { Ok(Vec::new()) } else { unsafe { best_k_range(sp.get() as *const T, s, lo, hi, k.min(hi - lo), largest) } }
    });
    let mut all = try_with_capacity(pieces * k)?;
    for part in parts {
        all.extend(part?);
    }
    cut(&mut all, k, largest);
    Ok(all)
}

/// Sort selected pairs best first (ties in any order: PyTorch does not fix them either).
pub(crate) fn sort_best_first<T: PartialOrd + Copy>(v: &mut [(T, i64)], largest: bool) {
    v.sort_unstable_by(|a, b| rank(a.0, b.0, largest));
}

/// The lower median of the lane at `p` (n ≥ 1 elements, stride `s`) and its position, as
/// PyTorch: with a NaN, its first NaN; with `ignore_nan`, the lower median of the others
/// (all NaN: the first).
///
/// # Safety
/// `p + j * s` is a readable T for every j < n.
pub(crate) unsafe fn median<T: PartialOrd + Copy>(p: *const T, s: usize, n: usize, ignore_nan: bool) -> Result<(T, i64)> {
    // SAFETY: j < n (the caller's contract).
    let at = |j: usize| unsafe { *p.add(j * s) };
    let (mut nans, mut first_nan) = (0usize, None);
    for j in 0..n {
        if is_nan(at(j)) {
            nans += 1;
            first_nan.get_or_insert(j);
        }
    }
    if let Some(j) = first_nan {
        if !ignore_nan || nans == n {
            return Ok((at(j), j as i64));
        }
    }
    let mut v = try_with_capacity(n - nans)?;
    for j in 0..n {
        let x = at(j);
        if !is_nan(x) {
            v.push((x, j as i64));
        }
    }
    let m = (v.len() - 1) / 2;
    let (_, mid, _) = v.select_nth_unstable_by(m, |a, b| nan_last(a.0, b.0));
    Ok(*mid)
}
