//! Compute kernels and their plumbing: the CPU thread pool, the SIMD map and AVX-512 gemm,
//! scalar math (erf, Python-style division, fast exp), softmax, the optimizer steps, and
//! the CUDA layout and cuBLAS operand helpers (no GPU needed).

mod cpu_pool {
    use ferrotorch::cpu::{par_for, par_map};
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn par_for_visits_every_index_once_from_any_thread() {
        for n in [0usize, 1, 2, 3, 17, 1000] {
            let hits: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
            par_for(n, |i| {
                hits[i].fetch_add(1, Ordering::Relaxed);
            });
            assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1), "n = {n}");
            // nested inside a rayon task, and inside another parallel loop (the pool is
            // busy then: rayon's splitting takes over), same contract
            let hits2: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
            rayon::scope(|s| {
                s.spawn(|_| {
                    par_for(n, |i| {
                        hits2[i].fetch_add(1, Ordering::Relaxed);
                    })
                })
            });
            assert!(hits2.iter().all(|h| h.load(Ordering::Relaxed) == 1), "nested n = {n}");
            let hits3: Vec<AtomicUsize> = (0..4 * n).map(|_| AtomicUsize::new(0)).collect();
            par_for(4, |o| {
                par_for(n, |i| {
                    hits3[o * n + i].fetch_add(1, Ordering::Relaxed);
                })
            });
            assert!(hits3.iter().all(|h| h.load(Ordering::Relaxed) == 1), "in a loop n = {n}");
        }
    }

    #[test]
    fn par_for_from_many_threads_and_many_times() {
        // Back-to-back loops from several threads at once: the pool's hand-over (open,
        // join, close, wait) must neither lose nor repeat an index, nor deadlock.
        std::thread::scope(|s| {
            for t in 0..4usize {
                s.spawn(move || {
                    for round in 0..2000usize {
                        let n = 1 + (round * 7 + t) % 37;
                        let hits: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
                        par_for(n, |i| {
                            hits[i].fetch_add(1, Ordering::Relaxed);
                        });
                        assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1), "thread {t} round {round}");
                    }
                });
            }
        });
    }

    #[test]
    fn par_for_after_a_long_idle_wakes_the_sleeping_workers() {
        par_for(8, |_| {});
        std::thread::sleep(std::time::Duration::from_millis(20)); // past the spin: workers sleep
        let hits: Vec<AtomicUsize> = (0..64).map(|_| AtomicUsize::new(0)).collect();
        par_for(64, |i| {
            std::thread::sleep(std::time::Duration::from_micros(200));
            hits[i].fetch_add(1, Ordering::Relaxed);
        });
        assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1));
    }

    #[test]
    fn a_panicking_piece_reaches_the_caller_and_the_pool_still_works() {
        let r = std::panic::catch_unwind(|| {
            par_for(100, |i| {
                if i == 57 {
                    panic!("piece {i}");
                }
            })
        });
        assert!(r.is_err());
        let hits: Vec<AtomicUsize> = (0..100).map(|_| AtomicUsize::new(0)).collect();
        par_for(100, |i| {
            hits[i].fetch_add(1, Ordering::Relaxed);
        });
        assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1));
    }

    #[test]
    fn par_map_keeps_index_order() {
        let v = par_map(1000, |i| i * i);
        assert_eq!(v, (0..1000).map(|i| i * i).collect::<Vec<_>>());
        assert!(par_map(0, |i| i).is_empty());
    }
}

mod simd {
    use ferrotorch::cpu::math::exp_f32_fast;
    use ferrotorch::cpu::simd::map_f32;

    #[test]
    fn every_path_matches_the_scalar_function() {
        let src: Vec<f32> = (0..100_003).map(|i| (i as f32 - 50_000.0) * 0.0037).collect();
        let mut dst = vec![0.0f32; src.len()];
        map_f32(&src, &mut dst, exp_f32_fast);
        for (d, &s) in dst.iter().zip(&src) {
            assert_eq!(d.to_bits(), exp_f32_fast(s).to_bits());
        }
        let base: Vec<f32> = src[..1000].iter().map(|&v| exp_f32_fast(v)).collect();
        assert_eq!(&base[..], &dst[..1000]);
    }
}

mod gemm512 {
    use ferrotorch::cpu::gemm512::{available, gemm, Elem};
    use ferrotorch::cpu::matmul::Mat;

    /// Deterministic values in [-1, 1).
    fn fill(len: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (0..len)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    /// Edges (partial tiles in m and n, k not a multiple of anything, several KC slices,
    /// MC and NC blocks), transposed operands and accumulation, against an f64 reference.
    fn check<T: Elem + From<f32> + Into<f64>>(tol: f64) {
        for &(m, n, k) in &[(12, 32, 8), (13, 33, 9), (150, 70, 777), (200, 97, 1600), (37, 3100, 40)] {
            for &(ta, tb, acc) in &[(false, false, false), (true, false, true), (false, true, false), (true, true, true)] {
                let a: Vec<T> = fill(m * k, 1).into_iter().map(T::from).collect();
                let b: Vec<T> = fill(k * n, 2).into_iter().map(T::from).collect();
                let seed: Vec<T> = fill(m * n, 3).into_iter().map(T::from).collect();
                // A stored row-major (m x k) or as the transpose of a k x m matrix.
                let lhs = if ta { Mat { ptr: a.as_ptr(), rs: 1, cs: m as isize } } else { Mat { ptr: a.as_ptr(), rs: k as isize, cs: 1 } };
                let rhs = if tb { Mat { ptr: b.as_ptr(), rs: 1, cs: k as isize } } else { Mat { ptr: b.as_ptr(), rs: n as isize, cs: 1 } };
                let mut c = if acc { seed.clone() } else { vec![T::from(f32::NAN); m * n] };
                // SAFETY: the operands are m x k and k x n through the strides above.
                unsafe { gemm(m, n, k, lhs, rhs, c.as_mut_ptr(), n, acc) };
                for i in 0..m {
                    for j in 0..n {
                        let mut s: f64 = if acc { seed[i * n + j].into() } else { 0.0 };
                        for p in 0..k {
                            let x: f64 = if ta { a[p * m + i] } else { a[i * k + p] }.into();
                            let y: f64 = if tb { b[j * k + p] } else { b[p * n + j] }.into();
                            s += x * y;
                        }
                        let got: f64 = c[i * n + j].into();
                        assert!((got - s).abs() <= tol * (k as f64).sqrt(), "({m},{n},{k}) ta={ta} tb={tb} acc={acc} at ({i},{j}): {got} vs {s}");
                    }
                }
            }
        }
    }

    #[test]
    fn matches_f64_reference() {
        if !available() {
            eprintln!("no AVX-512 on this CPU: the gemm crate covers f32 and f64");
            return;
        }
        check::<f32>(4e-6);
        check::<f64>(1e-14);
    }
}

mod math {
    use ferrotorch::cpu::math::{erf64, erfc64, erfinv64, exp_f32_fast, Num};

    #[test]
    fn erf_matches_known_values() {
        // Reference values from tables of erf.
        for (x, e) in [(0.0, 0.0), (0.1, 0.112_462_916_018_284_9), (0.5, 0.520_499_877_813_046_5), (1.0, 0.842_700_792_949_714_9), (2.0, 0.995_322_265_018_952_7), (-3.0, -0.999_977_909_503_001_4), (5.0, 0.999_999_999_998_462_5)] {
            assert!((erf64(x) - e).abs() < 1e-14, "erf({x}) = {} vs {e}", erf64(x));
        }
        for y in [-0.999, -0.5, 0.0, 0.3, 0.9, 0.99999] {
            assert!((erf64(erfinv64(y)) - y).abs() < 1e-13);
        }
    }

    #[test]
    fn erfc_and_erfinv_tails() {
        // Reference values of erfc from CPython's math.erfc (an independent implementation).
        for (x, e) in [(0.7, 0.322_198_806_162_581_56), (2.0, 0.004_677_734_981_047_265), (3.0, 2.209_049_699_858_543_8e-5), (5.0, 1.537_459_794_428_035_1e-12), (10.0, 2.088_487_583_762_545e-45), (26.0, 5.663_192_408_856_143e-296)] {
            assert!((erfc64(x) / e - 1.0).abs() < 1e-13, "erfc({x}) = {} vs {e}", erfc64(x));
        }
        // Near +-1 erfinv must invert erfc(|x|) = 1 - |y| to full precision (it was off by 5e-4
        // in erfc at y = -(1 - 2e-12) when Newton worked on erf(x) - y).
        for y in [-(1.0 - 1.999_955_756_559_757e-12), 1.0 - 1.999_999_943_436_137e-9, 0.75, -0.999_999] {
            let x = erfinv64(y);
            assert!(x.signum() == y.signum());
            assert!((erfc64(x.abs()) / (1.0 - y.abs()) - 1.0).abs() < 1e-12, "erfinv({y}) = {x}");
        }
    }

    #[test]
    fn python_remainder_and_floor_div() {
        assert_eq!((-7i64).remainder(3), 2);
        assert_eq!(7i64.remainder(-3), -2);
        assert_eq!((-7i64).fmod(3), -1);
        assert_eq!((-7i64).floor_div(2), -4);
        assert_eq!(Num::remainder(-7.5f64, 2.0), 0.5);
        assert_eq!(Num::floor_div(-7.5f64, 2.0), -4.0);
        assert_eq!(Num::pow(2i64, 10), 1024);
        assert_eq!(Num::pow(2i64, -1), 0);
        assert_eq!(200u8.add(100), 44);
    }

    #[test]
    fn fast_exp_matches_f64_reference() {
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x < 88.5 {
            let e = (x as f64).exp();
            let rel = ((exp_f32_fast(x) as f64) - e).abs() / e;
            worst = worst.max(rel);
            x += 0.001_37;
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
        assert_eq!(exp_f32_fast(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f32_fast(f32::NEG_INFINITY), 0.0);
        assert!(exp_f32_fast(f32::NAN).is_nan());
        assert_eq!(exp_f32_fast(0.0), 1.0);
    }
}

mod softmax {
    use ferrotorch::{DType, Device, Result, Tensor};

    fn reference(x: &[f64], log: bool) -> Vec<f64> {
        let m = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = x.iter().map(|v| (v - m).exp()).sum();
        x.iter().map(|v| if log { v - m - s.ln() } else { (v - m).exp() / s }).collect()
    }

    /// `softmax` or `log_softmax` (the two entry points of one implementation).
    fn softmax(t: &Tensor, dim: i64, log: bool) -> Result<Tensor> {
        if log {
            t.log_softmax(dim, None)
        } else {
            t.softmax(dim, None)
        }
    }

    #[test]
    fn softmax_rows_and_columns_match_reference() {
        let vals: Vec<f32> = (0..12).map(|i| ((i * 7) % 5) as f32 * 0.7 - 1.0).collect();
        let t = Tensor::from_vec(vals.clone(), &[3, 4]).unwrap();
        for log in [false, true] {
            // dim 1: contiguous lanes (f32 fast path)
            let y = softmax(&t, 1, log).unwrap().to_vec::<f64>().unwrap();
            for r in 0..3 {
                let row: Vec<f64> = vals[r * 4..r * 4 + 4].iter().map(|&v| v as f64).collect();
                for (a, b) in y[r * 4..r * 4 + 4].iter().zip(reference(&row, log)) {
                    assert!((a - b).abs() < 1e-6, "{a} vs {b}");
                }
            }
            // dim 0: strided lanes (generic path)
            let y = softmax(&t, 0, log).unwrap().to_vec::<f64>().unwrap();
            for c in 0..4 {
                let col: Vec<f64> = (0..3).map(|r| vals[r * 4 + c] as f64).collect();
                for (r, b) in reference(&col, log).into_iter().enumerate() {
                    assert!((y[r * 4 + c] - b).abs() < 1e-6);
                }
            }
        }
    }

    #[test]
    fn long_f32_lanes_match_reference_and_propagate_nan() {
        // Lanes longer than one 16-wide step and one 1024 block, with remainders.
        for n in [1usize, 10, 16, 17, 1024, 1040, 2067] {
            let vals: Vec<f32> = (0..n).map(|i| (((i * 37) % 101) as f32 - 50.0) * 0.11).collect();
            let t = Tensor::from_vec(vals.clone(), &[n]).unwrap();
            let row: Vec<f64> = vals.iter().map(|&v| v as f64).collect();
            for log in [false, true] {
                let y = softmax(&t, 0, log).unwrap().to_vec::<f64>().unwrap();
                for (a, b) in y.iter().zip(reference(&row, log)) {
                    assert!((a - b).abs() <= 1e-5 * b.abs().max(1e-3), "n={n} log={log}: {a} vs {b}");
                }
            }
            let mut with_nan = vals.clone();
            with_nan[n / 2] = f32::NAN;
            let y = Tensor::from_vec(with_nan, &[n]).unwrap().log_softmax(0, None).unwrap().to_vec::<f32>().unwrap();
            assert!(y.iter().all(|v| v.is_nan()), "n={n}");
        }
    }

    #[test]
    fn extreme_logits_stay_finite() {
        let t = Tensor::from_vec(vec![1000.0f32, 0.0, -1000.0], &[3]).unwrap();
        let y = t.log_softmax(0, None).unwrap().to_vec::<f32>().unwrap();
        assert_eq!(y[0], 0.0);
        assert_eq!(y[1], -1000.0);
        assert_eq!(y[2], -2000.0);
        let z = Tensor::zeros(&[2], DType::I64, Device::Cpu).unwrap();
        assert!(z.softmax(0, None).is_err());
    }
}

mod optim {
    use ferrotorch::optim::{adam_step, sgd_step, Adam, Sgd};
    use ferrotorch::{DType, Device, Tensor};

    #[test]
    fn sgd_momentum_two_steps_by_hand() {
        let p = Tensor::from_vec(vec![1.0f64, -2.0], &[2]).unwrap();
        let g = Tensor::from_vec(vec![0.5f64, 1.0], &[2]).unwrap();
        let h = Sgd { lr: 0.1, momentum: 0.9, dampening: 0.0, nesterov: false, weight_decay: 0.0, maximize: false };
        let bufs = sgd_step(std::slice::from_ref(&p), std::slice::from_ref(&g), &[None], &h).unwrap();
        // step 1: buf = g, p -= 0.1 g
        assert_eq!(p.to_vec::<f64>().unwrap(), vec![0.95, -2.1]);
        let b = bufs[0].clone().unwrap();
        sgd_step(std::slice::from_ref(&p), &[g], &[Some(b.clone())], &h).unwrap();
        // step 2: buf = 0.9 g + g = 1.9 g, p -= 0.1 * 1.9 g
        let got = p.to_vec::<f64>().unwrap();
        assert!((got[0] - (0.95 - 0.095)).abs() < 1e-15 && (got[1] - (-2.1 - 0.19)).abs() < 1e-15);
        assert_eq!(b.to_vec::<f64>().unwrap(), vec![0.95, 1.9]);
    }

    #[test]
    fn adam_first_step_moves_by_lr() {
        // With bias correction, Adam's first step is lr * g / (|g| + eps') = lr * sign(g).
        let p = Tensor::from_vec(vec![1.0f32, 1.0], &[2]).unwrap();
        let g = Tensor::from_vec(vec![3.0f32, -0.25], &[2]).unwrap();
        let z = || Tensor::zeros(&[2], DType::F32, Device::Cpu).unwrap();
        let (m, v) = (z(), z());
        let h = Adam { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0, amsgrad: false, maximize: false, decoupled_weight_decay: false };
        adam_step(std::slice::from_ref(&p), &[g], &[m], &[v], &[], &[1], &h).unwrap();
        let got = p.to_vec::<f32>().unwrap();
        assert!((got[0] - 0.99).abs() < 1e-6 && (got[1] - 1.01).abs() < 1e-6, "{got:?}");
    }

    #[test]
    fn mismatched_lists_are_errors() {
        let p = Tensor::zeros(&[2], DType::F32, Device::Cpu).unwrap();
        let g = Tensor::zeros(&[3], DType::F32, Device::Cpu).unwrap();
        let h = Sgd { lr: 0.1, momentum: 0.0, dampening: 0.0, nesterov: false, weight_decay: 0.0, maximize: false };
        assert!(sgd_step(std::slice::from_ref(&p), &[], &[None], &h).is_err());
        assert!(sgd_step(&[p], &[g], &[None], &h).is_err());
    }
}

mod cuda {
    use ferrotorch::cuda::{check_ordinal, device_count, is_available, KLayout};
    use ferrotorch::shape::Layout;

    #[test]
    fn klayout_coalesces_contiguous_and_keeps_strided_dims() {
        let l = Layout::contiguous(&[2, 3, 4]);
        let k = KLayout::new(&l).unwrap();
        assert_eq!((k.ndim, k.shape[0], k.strides[0]), (1, 24, 1));
        let t = l.transpose(0, 2); // shape [4,3,2], strides [1,4,12]
        let k = KLayout::new(&t).unwrap();
        assert_eq!(k.ndim, 3);
        assert_eq!(&k.shape[..3], &[4, 3, 2]);
        assert_eq!(&k.strides[..3], &[1, 4, 12]);
        // broadcast dim (stride 0) stays; size-1 dims vanish
        let b = Layout::contiguous(&[1, 3]).broadcast_to(&[5, 1, 3]).unwrap();
        let k = KLayout::new(&b).unwrap();
        assert_eq!((k.ndim, &k.shape[..2], &k.strides[..2]), (2, &[5i64, 3][..], &[0i64, 1][..]));
        assert_eq!(std::mem::size_of::<KLayout>(), 144);
    }

    #[test]
    fn no_driver_means_no_device_not_a_panic() {
        // On machines with a GPU this just checks the call is consistent.
        assert_eq!(is_available(), device_count() > 0);
        if !is_available() {
            assert!(check_ordinal(0).is_err());
        }
    }

    #[cfg(feature = "cuda")]
    mod cublas {
        use cudarc::cublas::sys::cublasOperation_t;
        use cudarc::cublas::sys::cublasOperation_t::{CUBLAS_OP_N, CUBLAS_OP_T};
        use ferrotorch::cuda::{blas_op, GemmOperand};

        fn op(rs: i64, cs: i64, rows: usize, cols: usize) -> Option<(cublasOperation_t, i32)> {
            blas_op(&GemmOperand { ptr: 0, rs, cs, batch_stride: 0 }, rows, cols)
        }

        #[test]
        fn blas_op_reads_row_major_as_n_and_transposed_as_t() {
            // A row-major rows x cols matrix is the column-major cols x rows matrix: "N", ld = rs.
            assert_eq!(op(7, 1, 5, 7), Some((CUBLAS_OP_N, 7)));
            // Padded rows (a narrowed view) keep their row stride as ld.
            assert_eq!(op(10, 1, 5, 7), Some((CUBLAS_OP_N, 10)));
            // Its transpose view (unit row stride) is "T" with ld = cs.
            assert_eq!(op(1, 5, 5, 7), Some((CUBLAS_OP_T, 5)));
            // Neither dim unit-stride: the caller must copy.
            assert_eq!(op(14, 2, 5, 7), None);
            // Overlapping rows (rs < cols) cannot be described by an ld either.
            assert_eq!(op(3, 1, 5, 7), None);
            // Vectors: a single row or column takes any stride on the size-1 dim.
            assert_eq!(op(0, 1, 1, 7), Some((CUBLAS_OP_N, 7)));
            // A column (cols = 1) with unit row stride: the 1 x 5 column-major matrix, ld = 1.
            assert_eq!(op(1, 0, 5, 1), Some((CUBLAS_OP_N, 1)));
        }
    }
}
