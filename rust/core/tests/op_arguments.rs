//! The ops' argument rules the Python binding used to hold, now the core's public API:
//! `isclose`/`allclose`/`equal`, `alpha=` scaling, `out=` writes, index items, integral
//! `pow`, `rounding_mode=`, `round(decimals)`, uint8 `all`/`any`, fill values and the
//! in-place forms. Values are hand-computed; messages are PyTorch's.

use ferrotorch::ops::elementwise::{binary, scale_by_alpha, specs};
use ferrotorch::ops::index::{uint8_mask, ResolvedIndex};
use ferrotorch::ops::OwnedArg;
use ferrotorch::{Arg, DType, Error, IndexItem, Scalar, Tensor, TensorIndex};

fn f64s(v: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape).unwrap()
}
fn i64s(v: &[i64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape).unwrap()
}
fn vals(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>().unwrap()
}
fn bools(t: &Tensor) -> Vec<bool> {
    assert_eq!(t.dtype(), DType::Bool);
    t.to_vec::<bool>().unwrap()
}
fn runtime(msg: &str) -> Error {
    Error::Runtime(msg.into())
}

mod closeness {
    use super::*;

    #[test]
    fn isclose_floats_with_infinities_and_nan() {
        let inf = f64::INFINITY;
        let a = f64s(&[1.0, 2.0, inf, f64::NAN, -inf, 1e-9], &[6]);
        let b = f64s(&[1.000001, 2.1, inf, f64::NAN, inf, 0.0], &[6]);
        // |1 - 1.000001| = 1e-6 <= 1e-8 + 1e-5 * 1.000001; |2 - 2.1| = 0.1 is not;
        // inf only matches inf; NaN matches NaN only with equal_nan; 1e-9 <= atol.
        assert_eq!(bools(&a.isclose(&b, 1e-5, 1e-8, false).unwrap()), [true, false, true, false, false, true]);
        assert_eq!(bools(&a.isclose(&b, 1e-5, 1e-8, true).unwrap()), [true, false, true, true, false, true]);
        // rtol scales |other|: 100 vs 101 is close at rtol 0.01 (1 <= 0.01 * 101).
        let (x, y) = (f64s(&[100.0], &[1]), f64s(&[101.0], &[1]));
        assert_eq!(bools(&x.isclose(&y, 0.01, 0.0, false).unwrap()), [true]);
        assert_eq!(bools(&x.isclose(&y, 0.009, 0.0, false).unwrap()), [false]);
    }

    #[test]
    fn isclose_integers_and_dtype_mismatch() {
        let (a, b) = (i64s(&[1, 2, 3], &[3]), i64s(&[1, 2, 4], &[3]));
        assert_eq!(bools(&a.isclose(&b, 1e-5, 1e-8, false).unwrap()), [true, true, false]);
        let f = f64s(&[1.0], &[1]).to_dtype(DType::F32).unwrap();
        let d = f64s(&[1.0], &[1]);
        assert_eq!(f.isclose(&d, 1e-5, 1e-8, false).unwrap_err(), runtime("Float did not match Double"));
        assert_eq!(a.allclose(&d, 1e-5, 1e-8, false).unwrap_err(), runtime("Long did not match Double"));
    }

    #[test]
    fn isclose_is_outside_the_graph() {
        let a = f64s(&[1.0, 2.0], &[2]);
        a.set_requires_grad(true).unwrap();
        let c = a.isclose(&f64s(&[1.0, 3.0], &[2]), 1e-5, 1e-8, false).unwrap();
        assert!(!c.requires_grad());
        assert_eq!(bools(&c), [true, false]);
    }

    #[test]
    fn allclose_and_equal() {
        let a = f64s(&[1.0, 2.0], &[2]);
        assert!(a.allclose(&f64s(&[1.0, 2.0 + 1e-7], &[2]), 1e-5, 1e-8, false).unwrap());
        assert!(!a.allclose(&f64s(&[1.0, 2.1], &[2]), 1e-5, 1e-8, false).unwrap());
        let nan = f64s(&[f64::NAN], &[1]);
        assert!(!nan.allclose(&nan, 1e-5, 1e-8, false).unwrap());
        assert!(nan.allclose(&nan, 1e-5, 1e-8, true).unwrap());

        assert!(a.equal(&f64s(&[1.0, 2.0], &[2])).unwrap());
        assert!(!a.equal(&f64s(&[1.0, 2.5], &[2])).unwrap());
        // Another shape is unequal, even where it would broadcast.
        assert!(!a.equal(&f64s(&[1.0, 2.0], &[1, 2])).unwrap());
        assert!(!f64s(&[1.0], &[1]).equal(&f64s(&[1.0, 1.0], &[2])).unwrap());
        // Dtypes promote as in `eq`.
        assert!(i64s(&[1, 2], &[2]).equal(&a).unwrap());
    }
}

mod alpha {
    use super::*;

    #[test]
    fn add_and_sub_scale_the_other_operand() {
        let a = f64s(&[1.0, 2.0], &[2]);
        let b = f64s(&[10.0, 20.0], &[2]);
        assert_eq!(vals(&a.add_alpha(&b, Scalar::Int(2)).unwrap()), [21.0, 42.0]);
        assert_eq!(vals(&a.add_alpha(&b, Scalar::Float(0.5)).unwrap()), [6.0, 12.0]);
        assert_eq!(vals(&a.sub_alpha(&b, Scalar::Int(2)).unwrap()), [-19.0, -38.0]);
        // A number operand is scaled as a number: 3 * 2 = 6.
        assert_eq!(vals(&a.add_alpha(Scalar::Int(3), Scalar::Int(2)).unwrap()), [7.0, 8.0]);
    }

    #[test]
    fn dtype_rules_and_messages() {
        let ints = i64s(&[1, 2], &[2]);
        let e = ints.add_alpha(&i64s(&[1, 1], &[2]), Scalar::Float(0.5)).unwrap_err();
        assert_eq!(e, runtime("For integral input tensors, argument alpha must not be a floating point number."));
        assert_eq!(
            ints.sub_alpha_(Scalar::Int(1), Scalar::Float(2.0)).unwrap_err(),
            runtime("For integral input tensors, argument alpha must not be a floating point number.")
        );
        let e = ints.add_alpha(Scalar::Int(1), Scalar::Bool(true)).unwrap_err();
        assert_eq!(e, runtime("Boolean alpha only supported for Boolean results."));
        // The result dtype decides: an integral tensor with a float number is float, so a
        // float alpha is fine (0.5 * 2.0 = 1.0 added, in the default float dtype).
        let r = ints.add_alpha(Scalar::Float(0.5), Scalar::Float(2.0)).unwrap();
        assert_eq!(r.dtype(), DType::F32);
        assert_eq!(vals(&r), [2.0, 3.0]);
        // Bool result with a bool alpha: other * alpha is `and`.
        let m = Tensor::from_vec(vec![true, false], &[2]).unwrap();
        assert_eq!(bools(&m.add_alpha(Scalar::Bool(true), Scalar::Bool(false)).unwrap()), [true, false]);
        assert_eq!(bools(&m.add_alpha(Scalar::Bool(true), Scalar::Bool(true)).unwrap()), [true, true]);
    }

    #[test]
    fn scale_by_alpha_on_numbers_wraps_integers() {
        let me = i64s(&[0], &[1]);
        match scale_by_alpha(&me, Arg::S(Scalar::Int(i64::MAX)), Scalar::Int(2)).unwrap() {
            OwnedArg::S(s) => assert_eq!(s, Scalar::Int(-2)),
            OwnedArg::T(_) => panic!("a number stays a number"),
        }
        match scale_by_alpha(&f64s(&[0.0], &[1]), Arg::S(Scalar::Int(3)), Scalar::Float(0.5)).unwrap() {
            OwnedArg::S(s) => assert_eq!(s, Scalar::Float(1.5)),
            OwnedArg::T(_) => panic!("a number stays a number"),
        }
    }

    #[test]
    fn in_place_forms_and_gradients() {
        let a = f64s(&[1.0, 2.0], &[2]);
        a.add_alpha_(&f64s(&[1.0, 1.0], &[2]), Scalar::Int(3)).unwrap();
        assert_eq!(vals(&a), [4.0, 5.0]);
        a.sub_alpha_(Scalar::Float(1.0), Scalar::Int(2)).unwrap();
        assert_eq!(vals(&a), [2.0, 3.0]);

        let x = f64s(&[1.0, 2.0], &[2]);
        let y = f64s(&[3.0, 4.0], &[2]);
        x.set_requires_grad(true).unwrap();
        y.set_requires_grad(true).unwrap();
        x.sub_alpha(&y, Scalar::Int(3)).unwrap().sum().unwrap().backward().unwrap();
        assert_eq!(vals(&x.grad().unwrap()), [1.0, 1.0]);
        assert_eq!(vals(&y.grad().unwrap()), [-3.0, -3.0]);
    }
}

mod out_param {
    use super::*;

    #[test]
    fn same_shape_copies_into_the_same_storage() {
        let out = f64s(&[0.0, 0.0], &[2]);
        let ptr = out.data_ptr();
        out.write_out("add", &f64s(&[1.5, 2.5], &[2])).unwrap();
        assert_eq!(vals(&out), [1.5, 2.5]);
        assert_eq!(out.data_ptr(), ptr);
        // An integral result casts into a float out.
        out.write_out("add", &i64s(&[3, 4], &[2])).unwrap();
        assert_eq!((out.dtype(), vals(&out)), (DType::F64, vec![3.0, 4.0]));
    }

    #[test]
    fn other_shape_is_resized_in_its_own_dtype() {
        let out = f64s(&[0.0; 3], &[3]);
        let r = f64s(&[1.0, 2.0, 3.0, 4.0], &[2, 2]).to_dtype(DType::F32).unwrap();
        out.write_out("add", &r).unwrap();
        assert_eq!(out.shape(), [2, 2]);
        assert_eq!(out.dtype(), DType::F64);
        assert!(out.is_contiguous());
        assert_eq!(vals(&out), [1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn uncastable_result_is_refused_and_out_kept() {
        let out = i64s(&[7, 8], &[2]);
        let e = out.write_out("add", &f64s(&[1.5, 2.5], &[2]).to_dtype(DType::F32).unwrap()).unwrap_err();
        assert_eq!(e, runtime("result type Float can't be cast to the desired output type Long"));
        let b = Tensor::from_vec(vec![true, false], &[2]).unwrap();
        let e = b.write_out("add", &i64s(&[1, 0], &[2])).unwrap_err();
        assert_eq!(e, runtime("result type Long can't be cast to the desired output type Bool"));
        assert_eq!(vals(&out), [7.0, 8.0]);
    }

    #[test]
    fn result_requiring_grad_is_refused_and_out_kept() {
        let a = f64s(&[1.0, 2.0], &[2]);
        a.set_requires_grad(true).unwrap();
        let r = a.mul(&f64s(&[3.0, 4.0], &[2])).unwrap();
        let out = f64s(&[0.0, 0.0], &[2]);
        assert_eq!(
            out.write_out("mul", &r).unwrap_err(),
            runtime(
                "mul(): functions with out=... arguments don't support automatic differentiation, \
                 but one of the arguments requires grad."
            )
        );
        assert_eq!(vals(&out), [0.0, 0.0]);
        // The same result detached (as under no_grad) is written.
        out.write_out("mul", &r.detach()).unwrap();
        assert_eq!(vals(&out), [3.0, 8.0]);
    }
}

mod index_items {
    use super::*;

    const BAD_DTYPE: &str = "tensors used as indices must be long, int, byte or bool tensors";

    fn resolve(item: IndexItem) -> ResolvedIndex {
        item.resolve().unwrap()
    }
    fn is_int(r: &ResolvedIndex, v: i64) -> bool {
        matches!(r.index, TensorIndex::Int(i) if i == v)
    }
    fn tensor_of(r: ResolvedIndex) -> Tensor {
        match r.index {
            TensorIndex::Tensor(t) => t,
            _ => panic!("expected a tensor index"),
        }
    }

    #[test]
    fn slices_need_a_positive_step() {
        assert!(matches!(resolve(IndexItem::Slice(Some(1), None, None)).index, TensorIndex::Slice(Some(1), None, 1)));
        assert!(matches!(resolve(IndexItem::Slice(None, Some(-1), Some(2))).index, TensorIndex::Slice(None, Some(-1), 2)));
        // Python's own word for a zero step, PyTorch's for a negative one
        let e = IndexItem::Slice(None, None, Some(0)).resolve().err().unwrap();
        assert_eq!(e, Error::Value("slice step cannot be zero".into()));
        for step in [-1, i64::MIN] {
            let e = IndexItem::Slice(None, None, Some(step)).resolve().err().unwrap();
            assert_eq!(e, Error::Value("step must be greater than zero".into()));
        }
    }

    #[test]
    fn plain_items() {
        assert!(is_int(&resolve(IndexItem::Int(-2)), -2));
        assert!(matches!(resolve(IndexItem::None).index, TensorIndex::None));
        assert!(matches!(resolve(IndexItem::Ellipsis).index, TensorIndex::Ellipsis));
        // True is a 0-d bool mask: a new dim of size 1 (False: size 0).
        let x = f64s(&[1.0, 2.0, 3.0], &[3]);
        let t = tensor_of(resolve(IndexItem::Bool(true)));
        assert_eq!((t.dtype(), t.ndim()), (DType::Bool, 0));
        assert_eq!(x.index(&[TensorIndex::Tensor(t)]).unwrap().shape(), [1, 3]);
        let f = tensor_of(resolve(IndexItem::Bool(false)));
        assert_eq!(x.index(&[TensorIndex::Tensor(f)]).unwrap().shape(), [0, 3]);
    }

    #[test]
    fn tensors_as_indices() {
        // A 0-d integral tensor is an integer index.
        let r = resolve(IndexItem::Tensor(Tensor::scalar(Scalar::Int(2), DType::I32).unwrap()));
        assert!(is_int(&r, 2) && !r.was_uint8);
        // int32 / int64 with dims stay tensor indices.
        let t = tensor_of(resolve(IndexItem::Tensor(i64s(&[0, 2], &[2]).to_dtype(DType::I32).unwrap())));
        assert_eq!(t.dtype(), DType::I32);
        for d in [DType::I8, DType::I16, DType::F32, DType::F64] {
            let e = IndexItem::Tensor(i64s(&[0], &[1]).to_dtype(d).unwrap()).resolve().err().unwrap();
            assert_eq!(e, Error::Index(BAD_DTYPE.into()), "{d:?}");
        }
        // A 0-d float tensor is refused too (it is not an integer index).
        let e = IndexItem::Tensor(Tensor::scalar(Scalar::Float(1.0), DType::F32).unwrap()).resolve().err().unwrap();
        assert_eq!(e, Error::Index(BAD_DTYPE.into()));
    }

    #[test]
    fn uint8_tensors_are_masks_and_reported() {
        let x = f64s(&[10.0, 20.0, 30.0], &[3]);
        let m = i64s(&[1, 0, 2], &[3]).to_dtype(DType::U8).unwrap();
        let r = resolve(IndexItem::Tensor(m.clone()));
        assert!(r.was_uint8);
        let t = tensor_of(r);
        assert_eq!(bools(&t), [true, false, true]);
        assert_eq!(vals(&x.index(&[TensorIndex::Tensor(t)]).unwrap()), [10.0, 30.0]);
        // 0-d uint8: a 0-d mask, not an integer index.
        let r = resolve(IndexItem::Tensor(Tensor::scalar(Scalar::Int(1), DType::U8).unwrap()));
        assert!(r.was_uint8);
        assert_eq!(tensor_of(r).dtype(), DType::Bool);
        // Index data made uint8 too.
        let r = resolve(IndexItem::Data(m));
        assert!(r.was_uint8);
        assert_eq!(tensor_of(r).dtype(), DType::Bool);
        // uint8_mask leaves other dtypes alone.
        let (t, was) = uint8_mask(i64s(&[1], &[1])).unwrap();
        assert_eq!((t.dtype(), was), (DType::I64, false));
    }

    #[test]
    fn index_data() {
        // Empty data (inferred float): an empty int64 index.
        let t = tensor_of(resolve(IndexItem::Data(f64s(&[], &[0]).to_dtype(DType::F32).unwrap())));
        assert_eq!((t.dtype(), t.shape().to_vec()), (DType::I64, vec![0]));
        // Float data is an int64 index, truncated toward zero (PyTorch: x[[1.7, -1.5]] is x[[1, -1]]).
        let t = tensor_of(resolve(IndexItem::Data(f64s(&[1.7, -1.5], &[2]))));
        assert_eq!(t.dtype(), DType::I64);
        assert_eq!(t.to_vec::<i64>().unwrap(), [1, -1]);
        // 0-d data stays a tensor index (a 0-d tensor index keeps no dim: same values).
        let r = resolve(IndexItem::Data(Tensor::scalar(Scalar::Int(1), DType::I64).unwrap()));
        assert!(matches!(r.index, TensorIndex::Tensor(_)));
        // int8 data is taken (only tensors given as indices refuse int8/int16).
        assert!(IndexItem::Data(i64s(&[0], &[1]).to_dtype(DType::I8).unwrap()).resolve().is_ok());
    }
}

mod integral_pow {
    use super::*;

    const NEGATIVE_POWER: &str = "Integers to negative integer powers are not allowed.";

    #[test]
    fn negative_integral_scalar_exponent_is_refused() {
        let a = i64s(&[2, 3], &[2]);
        assert_eq!(a.pow(Scalar::Int(-1)).unwrap_err(), runtime(NEGATIVE_POWER));
        assert_eq!(a.pow_(Scalar::Int(-2)).unwrap_err(), runtime(NEGATIVE_POWER));
        assert_eq!(vals(&a), [2.0, 3.0], "a refused pow_ leaves the tensor");
        let b = Tensor::from_vec(vec![true], &[1]).unwrap();
        assert_eq!(b.pow(Scalar::Int(-1)).unwrap_err(), runtime(NEGATIVE_POWER));
        // Even an expanded tensor (pow_ would refuse to write it): the exponent first.
        let e = i64s(&[2], &[1]).expand(&[3]).unwrap();
        assert_eq!(e.pow_(Scalar::Int(-1)).unwrap_err(), runtime(NEGATIVE_POWER));
    }

    #[test]
    fn what_is_allowed() {
        let a = i64s(&[2, 3], &[2]);
        assert_eq!(vals(&a.pow(Scalar::Int(2)).unwrap()), [4.0, 9.0]);
        // A float exponent makes a float result, in the default dtype (float32).
        let r = a.pow(Scalar::Float(-1.0)).unwrap();
        assert_eq!(r.dtype(), DType::F32);
        assert_eq!(vals(&r), [0.5, f64::from(1.0f32 / 3.0)]);
        // Float tensors take negative integers.
        assert_eq!(vals(&f64s(&[2.0, 4.0], &[2]).pow(Scalar::Int(-1)).unwrap()), [0.5, 0.25]);
        // A tensor exponent is not checked: integral pow gives 0, 1 or -1 for negatives.
        let r = i64s(&[2, 1, -1, -1], &[4]).pow(&i64s(&[-1, -3, -1, -2], &[4])).unwrap();
        assert_eq!(vals(&r), [0.0, 1.0, -1.0, 1.0]);
        // A number base (`2 ** t`) is not checked either.
        let r = binary(Arg::S(Scalar::Int(2)), Arg::T(&i64s(&[-1, 3], &[2])), &specs::pow).unwrap();
        assert_eq!(vals(&r), [0.0, 8.0]);
    }
}

mod division_and_rounding {
    use super::*;

    #[test]
    fn div_rounding_modes() {
        let a = i64s(&[7, -7], &[2]);
        let r = a.div_rounding(Scalar::Int(2), None).unwrap();
        assert_eq!((r.dtype(), vals(&r)), (DType::F32, vec![3.5, -3.5]));
        let r = a.div_rounding(Scalar::Int(2), Some("trunc")).unwrap();
        assert_eq!((r.dtype(), vals(&r)), (DType::I64, vec![3.0, -3.0]));
        let r = a.div_rounding(Scalar::Int(2), Some("floor")).unwrap();
        assert_eq!((r.dtype(), vals(&r)), (DType::I64, vec![3.0, -4.0]));
        let e = a.div_rounding(Scalar::Int(2), Some("round")).unwrap_err();
        assert_eq!(e, runtime("div expected rounding_mode to be one of None, 'trunc', or 'floor' but found 'round'"));

        let f = f64s(&[7.0, -7.0], &[2]);
        f.div_rounding_(&f64s(&[2.0, 2.0], &[2]), Some("floor")).unwrap();
        assert_eq!(vals(&f), [3.0, -4.0]);
        f.div_rounding_(Scalar::Int(2), None).unwrap();
        assert_eq!(vals(&f), [1.5, -2.0]);
        let e = f.div_rounding_(Scalar::Int(2), Some("ceil")).unwrap_err();
        assert_eq!(e, runtime("div expected rounding_mode to be one of None, 'trunc', or 'floor' but found 'ceil'"));
        assert_eq!(vals(&f), [1.5, -2.0]);
    }

    #[test]
    fn round_to_decimals() {
        let x = f64s(&[1.2345, -2.5, 2.5, 1234.5], &[4]);
        // Half to even at every scale: 2.5 -> 2, -2.5 -> -2; 123.45 -> 123; 123.45 (x 0.1) -> 123.
        assert_eq!(vals(&x.round_decimals(0).unwrap()), [1.0, -2.0, 2.0, 1234.0]);
        assert_eq!(vals(&x.round_decimals(2).unwrap()), [1.23, -2.5, 2.5, 1234.5]);
        assert_eq!(vals(&x.round_decimals(-1).unwrap()), [0.0, -0.0, 0.0, 1230.0]);
        x.round_decimals_(1).unwrap();
        assert_eq!(vals(&x), [1.2, -2.5, 2.5, 1234.5]);
        // Integral input: decimals 0 keeps the dtype.
        assert_eq!(i64s(&[3], &[1]).round_decimals(0).unwrap().dtype(), DType::I64);
    }
}

mod reductions_and_values {
    use super::*;

    #[test]
    fn all_any_keep_uint8() {
        let u = i64s(&[1, 0, 2, 3], &[2, 2]).to_dtype(DType::U8).unwrap();
        let all = u.all_dims(None, false).unwrap();
        assert_eq!((all.dtype(), vals(&all)), (DType::U8, vec![0.0]));
        let any = u.any_dims(Some(&[1]), false).unwrap();
        assert_eq!((any.dtype(), vals(&any)), (DType::U8, vec![1.0, 1.0]));
        assert_eq!(u.all().unwrap().dtype(), DType::U8);
        // Every other dtype gives bool.
        assert_eq!(bools(&i64s(&[1, 2], &[2]).all_dims(None, false).unwrap()), [true]);
        assert_eq!(bools(&f64s(&[0.0, 0.0], &[2]).any_dims(None, false).unwrap()), [false]);
    }

    #[test]
    fn value_scalar_takes_0d_tensors_only() {
        assert_eq!(Tensor::scalar(Scalar::Float(2.5), DType::F64).unwrap().value_scalar().unwrap(), Scalar::Float(2.5));
        assert_eq!(
            f64s(&[2.5], &[1]).value_scalar().unwrap_err(),
            runtime("masked_fill_ only supports a 0-dimensional value tensor, but got tensor with 1 dimension(s).")
        );
    }
}

mod in_place_forms {
    use super::*;

    #[test]
    fn clamp_nan_to_num_lerp() {
        let x = f64s(&[-2.0, 0.5, 3.0], &[3]);
        x.clamp_(Some(Arg::S(Scalar::Int(0))), Some(Arg::S(Scalar::Int(1)))).unwrap();
        assert_eq!(vals(&x), [0.0, 0.5, 1.0]);
        let y = f64s(&[f64::NAN, f64::INFINITY, -1.0], &[3]);
        y.nan_to_num_(0.0, Some(9.0), None).unwrap();
        assert_eq!(vals(&y), [0.0, 9.0, -1.0]);
        let s = f64s(&[0.0, 10.0], &[2]);
        s.lerp_(&f64s(&[10.0, 20.0], &[2]), Arg::S(Scalar::Float(0.25))).unwrap();
        assert_eq!(vals(&s), [2.5, 12.5]);
    }

    #[test]
    fn lerp_checks_end_dtype_first() {
        // As PyTorch: `end`'s dtype is checked before the kernel's dtype support.
        let i = i64s(&[1], &[1]);
        let e = i.lerp(&f64s(&[1.0], &[1]), Arg::S(Scalar::Float(0.5))).unwrap_err();
        assert_eq!(e, runtime("expected dtype int64 for `end` but got dtype float64"));
        let e = i.lerp_(&i64s(&[2], &[1]), Arg::S(Scalar::Float(0.5))).unwrap_err();
        assert_eq!(e, Error::NotImplemented("\"lerp_kernel_scalar\" not implemented for 'Long'".into()));
    }

    #[test]
    fn triangles_scatter_addmm() {
        let m = f64s(&[1.0, 2.0, 3.0, 4.0], &[2, 2]);
        m.tril_(0).unwrap();
        assert_eq!(vals(&m), [1.0, 0.0, 3.0, 4.0]);
        let m = f64s(&[1.0, 2.0, 3.0, 4.0], &[2, 2]);
        m.triu_(1).unwrap();
        assert_eq!(vals(&m), [0.0, 2.0, 0.0, 0.0]);

        let idx = i64s(&[2, 0], &[2]);
        let z = f64s(&[0.0; 3], &[3]);
        z.scatter_(0, &idx, &f64s(&[5.0, 6.0], &[2])).unwrap();
        assert_eq!(vals(&z), [6.0, 0.0, 5.0]);
        z.scatter_value_(0, &idx, Scalar::Float(-1.0)).unwrap();
        assert_eq!(vals(&z), [-1.0, 0.0, -1.0]);
        z.scatter_add_(0, &i64s(&[1, 1], &[2]), &f64s(&[2.0, 3.0], &[2])).unwrap();
        assert_eq!(vals(&z), [-1.0, 5.0, -1.0]);
        // A bad index leaves the tensor as it was.
        assert!(z.scatter_(0, &i64s(&[3], &[1]), &f64s(&[1.0], &[1])).is_err());
        assert_eq!(vals(&z), [-1.0, 5.0, -1.0]);

        // self = 2 * self + 1 * (m1 @ m2): [[1, 2]] @ [[3], [4]] = [[11]].
        let c = f64s(&[1.0], &[1, 1]);
        c.addmm_(&f64s(&[1.0, 2.0], &[1, 2]), &f64s(&[3.0, 4.0], &[2, 1]), Scalar::Int(2), Scalar::Int(1)).unwrap();
        assert_eq!(vals(&c), [13.0]);
    }

    #[test]
    fn in_place_forms_record_history() {
        let a = f64s(&[-1.0, 2.0], &[2]);
        a.set_requires_grad(true).unwrap();
        let y = a.mul(Scalar::Int(1)).unwrap();
        y.clamp_(Some(Arg::S(Scalar::Int(0))), None).unwrap();
        y.sum().unwrap().backward().unwrap();
        // Gradient flows only where the value was inside the bound.
        assert_eq!(vals(&a.grad().unwrap()), [0.0, 1.0]);
    }
}

/// The factories' and reductions' argument rules: signed sizes/strides/lengths as a binding
/// receives them, the dtype a factory infers from its numbers, var/std's correction.
mod factory_arguments {
    use super::*;
    use ferrotorch::ops::creation::{arange_dtype, eye_sizes, full_dtype, randperm_len};
    use ferrotorch::ops::reduce::var_correction;
    use ferrotorch::shape::{sizes_from_signed, strides_from_signed};

    #[test]
    fn negative_sizes_and_strides_are_refused() {
        assert_eq!(sizes_from_signed(&[2, 0, 3]).unwrap(), [2, 0, 3]);
        assert_eq!(
            sizes_from_signed(&[2, -1, -3]).unwrap_err(),
            runtime("Trying to create tensor with negative dimension -1: [2, -1, -3]")
        );
        assert_eq!(strides_from_signed(&[3, 1]).unwrap(), [3, 1]);
        assert_eq!(
            strides_from_signed(&[3, -1]).unwrap_err(),
            runtime("as_strided: Negative strides are not supported at the moment, got strides: [3, -1]")
        );
    }

    #[test]
    fn randperm_and_eye_lengths() {
        assert_eq!(randperm_len(0).unwrap(), 0);
        assert_eq!(randperm_len(5).unwrap(), 5);
        assert_eq!(randperm_len(-1).unwrap_err(), runtime("n must be non-negative, got-1"));
        assert_eq!(eye_sizes(2, None).unwrap(), (2, None));
        assert_eq!(eye_sizes(2, Some(0)).unwrap(), (2, Some(0)));
        // The message names the smaller of the two.
        assert_eq!(eye_sizes(-2, None).unwrap_err(), runtime("n must be greater or equal to 0, got -2"));
        assert_eq!(eye_sizes(3, Some(-1)).unwrap_err(), runtime("n must be greater or equal to 0, got -1"));
        assert_eq!(eye_sizes(-2, Some(-5)).unwrap_err(), runtime("n must be greater or equal to 0, got -5"));
    }

    #[test]
    fn inferred_factory_dtypes() {
        // The tests run with the default dtype float32 (nothing in this binary changes it).
        assert_eq!(full_dtype(Scalar::Bool(true)), DType::Bool);
        assert_eq!(full_dtype(Scalar::Int(7)), DType::I64);
        assert_eq!(full_dtype(Scalar::Float(0.5)), DType::F32);
        assert_eq!(arange_dtype(&[Scalar::Int(0), Scalar::Int(5), Scalar::Int(1)]), DType::I64);
        assert_eq!(arange_dtype(&[Scalar::Int(0), Scalar::Float(1.5)]), DType::F32);
        assert_eq!(arange_dtype(&[Scalar::Int(3)]), DType::I64);
    }

    #[test]
    fn var_correction_from_its_arguments() {
        assert_eq!(var_correction(Some(0.5), Some(false)), 0.5, "correction wins over unbiased");
        assert_eq!(var_correction(None, Some(false)), 0.0);
        assert_eq!(var_correction(None, Some(true)), 1.0);
        assert_eq!(var_correction(None, None), 1.0);
        // [1, 2, 3, 4]: squared deviations sum to 5; / 4 = 1.25 (population), / 3 (sample).
        let x = f64s(&[1.0, 2.0, 3.0, 4.0], &[4]);
        assert_eq!(vals(&x.var_dims(None, var_correction(None, Some(false)), false).unwrap()), [1.25]);
        assert_eq!(vals(&x.var_dims(None, var_correction(None, None), false).unwrap()), [5.0 / 3.0]);
    }
}
