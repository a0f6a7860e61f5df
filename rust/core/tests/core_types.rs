//! The engine's building blocks: dtypes and promotion, `Dims`, shapes and layouts, the
//! storage allocator's size classes, and the Philox generator.

mod dtype {
    use ferrotorch::dtype::{promote_types, result_type, Element, Operand, ScalarKind};
    use ferrotorch::DType::*;
    use half::bf16;

    #[test]
    fn promotion_table() {
        assert_eq!(promote_types(U8, I8), I16);
        assert_eq!(promote_types(U8, I32), I32);
        assert_eq!(promote_types(Bool, U8), U8);
        assert_eq!(promote_types(I64, F16), F16);
        assert_eq!(promote_types(F16, BF16), F32);
        assert_eq!(promote_types(F32, F64), F64);
        assert_eq!(promote_types(I16, I8), I16);
    }

    #[test]
    fn weak_scalars() {
        let s = |k| Operand::Scalar(k);
        assert_eq!(result_type(&[Operand::Dim(I32), s(ScalarKind::Float)], F32), F32);
        assert_eq!(result_type(&[Operand::Dim(F16), s(ScalarKind::Float)], F32), F16);
        assert_eq!(result_type(&[Operand::Dim(U8), s(ScalarKind::Int)], F32), U8);
        assert_eq!(result_type(&[Operand::Dim(Bool), s(ScalarKind::Int)], F32), I64);
        assert_eq!(result_type(&[Operand::Dim(I32), Operand::ZeroDim(I64)], F32), I32);
        assert_eq!(result_type(&[Operand::Dim(I32), Operand::ZeroDim(F64)], F32), F64);
        assert_eq!(result_type(&[Operand::Dim(F32), Operand::ZeroDim(F64)], F32), F32);
        assert_eq!(result_type(&[Operand::Dim(I64), s(ScalarKind::Float)], F64), F64);
    }

    #[test]
    fn casts() {
        assert_eq!((-1.0f64).cast::<u8>(), 255u8);
        assert!(0.5f32.cast::<bool>());
        assert_eq!(2.9f64.cast::<i32>(), 2);
        assert_eq!(300i64.cast::<u8>(), 44);
        assert_eq!(true.cast::<f32>(), 1.0);
    }

    #[test]
    fn bf16_rounds_to_nearest_even_from_f32_values() {
        // Reference: round-to-nearest-even on the f32 bit pattern, by integer arithmetic.
        let rne = |b: u32| ((b + 0x7FFF + ((b >> 16) & 1)) >> 16) as u16;
        // Just above a tie (the low bits that `half`'s from_f64 loses), exact ties both ways,
        // just below a tie, and a carry into the exponent.
        for b in [0x5d44_8002u32, 0x3adc_8002, 0x509e_8007, 0x3f80_8000, 0x3f81_8000, 0x3f80_7fff, 0x3f7f_ffff] {
            let v = f32::from_bits(b);
            assert_eq!(v.cast::<bf16>().to_bits(), rne(b), "{b:#x} via f32");
            assert_eq!((v as f64).cast::<bf16>().to_bits(), rne(b), "{b:#x} via f64");
        }
    }
}

mod dims {
    use ferrotorch::dims::Dims;

    #[test]
    fn behaves_like_a_vec_across_the_inline_limit() {
        let mut d = Dims::new();
        let mut v: Vec<usize> = Vec::new();
        for i in 0..10 {
            d.push(i);
            v.push(i);
            assert_eq!(d, v);
        }
        d.insert(3, 99);
        v.insert(3, 99);
        assert_eq!(d.remove(0), v.remove(0));
        assert_eq!(d, v);
        while let Some(x) = v.pop() {
            assert_eq!(d.pop(), Some(x));
            assert_eq!(d, v);
        }
        assert_eq!(d.pop(), None);
        let mut s = Dims::from([1, 2, 3]);
        s.insert(0, 7);
        s.insert(4, 8);
        assert_eq!(s, [7, 1, 2, 3, 8]);
        assert_eq!(s.remove(2), 2);
        assert_eq!(s, vec![7, 1, 3, 8]);
        let c: Dims = (0..8).collect();
        assert_eq!(Vec::from(c.clone()), (0..8).collect::<Vec<_>>());
        assert_eq!(Dims::zeros(7).len(), 7);
    }
}

mod shape {
    use ferrotorch::dims::Dims;
    use ferrotorch::shape::{broadcast_shapes, infer_shape, wrap_dim, Layout};

    #[test]
    fn broadcasting() {
        assert_eq!(broadcast_shapes(&[3, 1], &[4]).unwrap(), vec![3, 4]);
        assert_eq!(broadcast_shapes(&[], &[2, 2]).unwrap(), vec![2, 2]);
        assert!(broadcast_shapes(&[3], &[4]).is_err());
        let l = Layout::contiguous(&[3, 1]).broadcast_to(&[2, 3, 4]).unwrap();
        assert_eq!(l.strides, vec![0, 1, 0]);
    }

    #[test]
    fn view_strides_follow_pytorch() {
        let l = Layout::contiguous(&[2, 3, 4]);
        assert_eq!(l.view_strides(&[6, 4]), Some(Dims::from([4, 1])));
        let t = l.transpose(0, 1); // [3,2,4] strides [4,12,1]
        assert_eq!(t.view_strides(&[3, 8]), None);
        assert_eq!(t.view_strides(&[3, 2, 2, 2]), Some(Dims::from([4, 12, 2, 1])));
    }

    #[test]
    fn dims_wrap() {
        assert_eq!(wrap_dim(-1, 3).unwrap(), 2);
        assert!(wrap_dim(3, 3).is_err());
        assert_eq!(wrap_dim(0, 0).unwrap(), 0);
        assert_eq!(infer_shape(&[-1, 4], 12).unwrap(), vec![3, 4]);
        assert!(infer_shape(&[5, -1], 12).is_err());
        assert!(Layout::contiguous(&[2, 1, 3]).transpose(0, 1).is_contiguous());
    }
}

mod storage {
    use ferrotorch::storage::{class_bytes, size_class, Storage, ALIGN, N_CLASSES};

    #[test]
    fn size_classes_bound_waste() {
        for n in [1, 63, 64, 65, 4096, 4097, 10_000, 1 << 20, (1 << 20) + 1, 67_108_864] {
            let (c, idx) = size_class(n);
            assert!(c >= n && c % 64 == 0, "{n} -> {c}");
            assert!(idx < N_CLASSES && class_bytes(idx) == c && size_class(c) == (c, idx), "{n} -> {c} #{idx}");
            assert!(n <= 4096 || (c - n) * 4 <= n, "{n} -> {c}");
        }
    }

    #[test]
    fn freed_blocks_are_reused() {
        let a = Storage::cpu_uninit(5_555_555).unwrap();
        let p = a.ptr() as usize;
        assert_eq!(p % ALIGN, 0);
        drop(a);
        let b = Storage::cpu_uninit(5_300_000).unwrap();
        assert_eq!(b.ptr() as usize, p);
    }
}

mod random {
    use ferrotorch::random::{philox, Generator};

    #[test]
    fn philox_known_answer() {
        // Random123 known-answer test vectors for philox4x32-10.
        assert_eq!(philox([0, 0, 0, 0], [0, 0]), [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
        assert_eq!(
            philox([0xffffffff; 4], [0xffffffff, 0xffffffff]),
            [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]
        );
        assert_eq!(
            philox([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]),
            [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
        );
    }

    #[test]
    fn streams_are_reproducible_and_uniform() {
        let g = Generator::new(42);
        let a = g.uniform_f32(1000).unwrap();
        g.manual_seed(42);
        assert_eq!(a, g.uniform_f32(1000).unwrap());
        let mean: f64 = a.iter().map(|&x| x as f64).sum::<f64>() / 1000.0;
        assert!((mean - 0.5).abs() < 0.05);
        let n = g.normal_f64(20000).unwrap();
        let m: f64 = n.iter().sum::<f64>() / 20000.0;
        let v: f64 = n.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / 20000.0;
        assert!(m.abs() < 0.03 && (v - 1.0).abs() < 0.05);
        let mut p = g.randperm(100).unwrap();
        p.sort();
        assert_eq!(p, (0..100).collect::<Vec<_>>());
    }
}
