//! `Dims`: the sizes or strides of a tensor, stored inline up to `INLINE` dims.
//!
//! Every op builds and clones a few layouts; with `Vec<usize>` that was two heap
//! allocations per layout and they dominated a 1-element `a + b` (a third of its time in
//! malloc/free). Almost all tensors have at most 6 dims, so those stay inline and only
//! higher-rank layouts spill to the heap. Rejected: the `smallvec` crate (the dependency
//! list is kept short, and this needs only the handful of methods below).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, DerefMut};

const INLINE: usize = 6;

#[derive(Clone)]
pub enum Dims {
    Inline(u8, [usize; INLINE]),
    Heap(Vec<usize>),
}

impl Dims {
    #[inline]
    pub const fn new() -> Dims {
        Dims::Inline(0, [0; INLINE])
    }
    /// `n` zeros (the `vec![0; n]` of this type).
    #[inline]
    pub fn zeros(n: usize) -> Dims {
        Self::filled(0, n)
    }
    #[inline]
    pub fn filled(value: usize, n: usize) -> Dims {
        if n <= INLINE {
            Dims::Inline(n as u8, [value; INLINE])
        } else {
            Dims::Heap(vec![value; n])
        }
    }
    #[inline]
    pub fn from_slice(s: &[usize]) -> Dims {
        if s.len() <= INLINE {
            let mut a = [0; INLINE];
            a[..s.len()].copy_from_slice(s);
            Dims::Inline(s.len() as u8, a)
        } else {
            Dims::Heap(s.to_vec())
        }
    }
    #[inline]
    pub fn as_slice(&self) -> &[usize] {
        match self {
            Dims::Inline(n, a) => &a[..*n as usize],
            Dims::Heap(v) => v,
        }
    }
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [usize] {
        match self {
            Dims::Inline(n, a) => &mut a[..*n as usize],
            Dims::Heap(v) => v,
        }
    }
    /// The heap form, moving the inline dims over when they no longer fit.
    fn spill(&mut self) -> &mut Vec<usize> {
        if let Dims::Inline(..) = self {
            *self = Dims::Heap(self.as_slice().to_vec());
        }
        match self {
            Dims::Heap(v) => v,
            Dims::Inline(..) => unreachable!("spilled above"),
        }
    }
    pub fn push(&mut self, x: usize) {
        match self {
            Dims::Inline(n, a) if (*n as usize) < INLINE => {
                a[*n as usize] = x;
                *n += 1;
            }
            _ => self.spill().push(x),
        }
    }
    pub fn pop(&mut self) -> Option<usize> {
        match self {
            Dims::Inline(0, _) => None,
            Dims::Inline(n, a) => {
                *n -= 1;
                Some(a[*n as usize])
            }
            Dims::Heap(v) => v.pop(),
        }
    }
    pub fn insert(&mut self, i: usize, x: usize) {
        match self {
            Dims::Inline(n, a) if (*n as usize) < INLINE => {
                let len = *n as usize;
                assert!(i <= len, "insertion index (is {i}) should be <= len (is {len})");
                a.copy_within(i..len, i + 1);
                a[i] = x;
                *n += 1;
            }
            _ => self.spill().insert(i, x),
        }
    }
    pub fn remove(&mut self, i: usize) -> usize {
        match self {
            Dims::Inline(n, a) => {
                let len = *n as usize;
                assert!(i < len, "removal index (is {i}) should be < len (is {len})");
                let x = a[i];
                a.copy_within(i + 1..len, i);
                *n -= 1;
                x
            }
            Dims::Heap(v) => v.remove(i),
        }
    }
    pub fn truncate(&mut self, len: usize) {
        match self {
            Dims::Inline(n, _) => *n = (*n).min(len as u8),
            Dims::Heap(v) => v.truncate(len),
        }
    }
    pub fn extend_from_slice(&mut self, s: &[usize]) {
        for &x in s {
            self.push(x);
        }
    }
}

impl Default for Dims {
    fn default() -> Dims {
        Dims::new()
    }
}

impl Deref for Dims {
    type Target = [usize];
    #[inline]
    fn deref(&self) -> &[usize] {
        self.as_slice()
    }
}

impl DerefMut for Dims {
    #[inline]
    fn deref_mut(&mut self) -> &mut [usize] {
        self.as_mut_slice()
    }
}

impl AsRef<[usize]> for Dims {
    fn as_ref(&self) -> &[usize] {
        self
    }
}

impl std::borrow::Borrow<[usize]> for Dims {
    fn borrow(&self) -> &[usize] {
        self
    }
}

impl fmt::Debug for Dims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_slice().fmt(f)
    }
}

impl PartialEq for Dims {
    fn eq(&self, other: &Dims) -> bool {
        self.as_slice() == other.as_slice()
    }
}
impl Eq for Dims {}

impl PartialEq<[usize]> for Dims {
    fn eq(&self, other: &[usize]) -> bool {
        self.as_slice() == other
    }
}
impl PartialEq<&[usize]> for Dims {
    fn eq(&self, other: &&[usize]) -> bool {
        self.as_slice() == *other
    }
}
impl PartialEq<Vec<usize>> for Dims {
    fn eq(&self, other: &Vec<usize>) -> bool {
        self.as_slice() == other.as_slice()
    }
}
impl<const N: usize> PartialEq<[usize; N]> for Dims {
    fn eq(&self, other: &[usize; N]) -> bool {
        self.as_slice() == other
    }
}
impl PartialEq<Dims> for [usize] {
    fn eq(&self, other: &Dims) -> bool {
        self == other.as_slice()
    }
}
impl PartialEq<Dims> for &[usize] {
    fn eq(&self, other: &Dims) -> bool {
        *self == other.as_slice()
    }
}
impl PartialEq<Dims> for Vec<usize> {
    fn eq(&self, other: &Dims) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Hash for Dims {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}

impl From<Vec<usize>> for Dims {
    fn from(v: Vec<usize>) -> Dims {
        if v.len() <= INLINE {
            Dims::from_slice(&v)
        } else {
            Dims::Heap(v)
        }
    }
}
impl From<&[usize]> for Dims {
    fn from(s: &[usize]) -> Dims {
        Dims::from_slice(s)
    }
}
impl From<&Vec<usize>> for Dims {
    fn from(s: &Vec<usize>) -> Dims {
        Dims::from_slice(s)
    }
}
impl<const N: usize> From<[usize; N]> for Dims {
    fn from(a: [usize; N]) -> Dims {
        Dims::from_slice(&a)
    }
}
impl From<Dims> for Vec<usize> {
    fn from(d: Dims) -> Vec<usize> {
        match d {
            Dims::Heap(v) => v,
            d => d.as_slice().to_vec(),
        }
    }
}

impl FromIterator<usize> for Dims {
    fn from_iter<I: IntoIterator<Item = usize>>(iter: I) -> Dims {
        let mut d = Dims::new();
        for x in iter {
            d.push(x);
        }
        d
    }
}

impl Extend<usize> for Dims {
    fn extend<I: IntoIterator<Item = usize>>(&mut self, iter: I) {
        for x in iter {
            self.push(x);
        }
    }
}

impl<'a> IntoIterator for &'a Dims {
    type Item = &'a usize;
    type IntoIter = std::slice::Iter<'a, usize>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}
