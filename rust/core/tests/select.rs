//! topk / kthvalue / median by selection against a full sort, on the engine alone (the Python
//! tests cover dtypes, NaN, strides and gradients).

use ferrotorch::{DType, Device, Tensor};

fn lcg(n: usize, seed: u64, distinct: u64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 33) % distinct) as f64
        })
        .collect()
}

/// Sort `v` with NaN last (PyTorch's order).
fn sorted(v: &[f64]) -> Vec<f64> {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap_or_else(|| a.is_nan().cmp(&b.is_nan())));
    s
}

#[test]
fn topk_matches_sort_on_every_path() {
    // lengths: all-pairs introselect (k > n/64), candidate buffer (k <= n/64), long lane split
    for (n, ks) in [(10usize, vec![1usize, 5, 10]), (5000, vec![1, 10, 78, 79, 2500, 5000]), (300_000, vec![1, 7, 500, 4000])] {
        let mut v = lcg(n, n as u64, 1000);
        v[n / 3] = f64::NAN;
        v[n - 1] = f64::NAN;
        let t = Tensor::from_vec(v.clone(), &[n]).expect("tensor");
        let asc = sorted(&v);
        for &k in &ks {
            for largest in [true, false] {
                let (vals, idx) = t.topk(k as i64, -1, largest, true).expect("topk");
                let got = vals.to_vec::<f64>().expect("vals");
                let want: Vec<f64> = if largest { asc.iter().rev().take(k).copied().collect() } else { asc[..k].to_vec() };
                let same = got.iter().zip(&want).all(|(a, b)| a == b || (a.is_nan() && b.is_nan()));
                assert!(same && got.len() == k, "n={n} k={k} largest={largest}");
                let ix = idx.to_vec::<i64>().expect("idx");
                for (g, &i) in got.iter().zip(&ix) {
                    let x = v[i as usize];
                    assert!(x == *g || (x.is_nan() && g.is_nan()), "index {i} does not hold {g}");
                }
                let mut u = ix.clone();
                u.sort();
                u.dedup();
                assert_eq!(u.len(), k, "repeated index");
            }
        }
    }
}

#[test]
fn kthvalue_and_median_match_sort() {
    let v = lcg(4001, 3, 50);
    let t = Tensor::from_vec(v.clone(), &[4001]).expect("tensor");
    let asc = sorted(&v);
    for k in [1usize, 2, 2000, 4000, 4001] {
        let (val, idx) = t.kthvalue(k as i64, 0, false).expect("kthvalue");
        assert_eq!(val.item().expect("item").to_f64(), asc[k - 1], "k={k}");
        assert_eq!(v[idx.item().expect("item").to_i64() as usize], asc[k - 1]);
    }
    let (m, _) = t.median_dim(0, false, false).expect("median");
    assert_eq!(m.item().expect("item").to_f64(), asc[2000]);
    let x = Tensor::from_vec(vec![4.0f32, f32::NAN, 1.0, 3.0, 2.0, f32::NAN], &[6]).expect("tensor");
    let (m, i) = x.median_dim(0, false, false).expect("median");
    assert!(m.item().expect("item").to_f64().is_nan());
    assert_eq!(i.item().expect("item").to_i64(), 1, "the first NaN");
    let (m, _) = x.median_dim(0, false, true).expect("nanmedian");
    assert_eq!(m.item().expect("item").to_f64(), 2.0, "lower middle of 1 2 3 4");
    let z = Tensor::zeros(&[3, 0], DType::F32, Device::Cpu).expect("zeros");
    assert!(z.median_dim(1, false, false).is_err());
    assert_eq!(&z.topk(0, 1, true, true).expect("topk k=0").0.shape()[..], &[3, 0]);
}
