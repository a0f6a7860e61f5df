//! The checkpoint formats on hand-made input: the zip container, the pickle reader, the
//! `.pt` loader on minimal archives, and safetensors (round trips, zero-copy loads,
//! malformed files).

use crate::common;

mod zip {
    use ferrotorch::io::zip::{read_index, Archive, ZipWriter, ALIGNMENT};

    #[test]
    fn round_trip_aligned_records() {
        let mut w = ZipWriter::new(Vec::new());
        w.write_record("archive/data.pkl", b"\x80\x02}q\x00.").unwrap();
        w.write_record("archive/byteorder", b"little").unwrap();
        let payload: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        w.write_record("archive/data/0", &payload).unwrap();
        w.write_record_parts("archive/data/1", &[b"ab", b"", b"cde"]).unwrap();
        let buf = w.finish().unwrap();
        let a = Archive::parse(&buf).unwrap();
        assert_eq!(a.prefix, "archive/");
        assert_eq!(a.names().collect::<Vec<_>>(), ["data.pkl", "byteorder", "data/0", "data/1"]);
        for r in &a.records {
            assert_eq!(r.offset % ALIGNMENT, 0, "{}", r.name);
            assert_eq!(crc32fast::hash(&buf[r.offset as usize..(r.offset + r.size) as usize]), r.crc32);
        }
        assert_eq!(a.bytes(&buf, "data/0").unwrap(), &payload[..]);
        assert_eq!(a.bytes(&buf, "data/1").unwrap(), b"abcde");
        assert_eq!(a.bytes(&buf, "byteorder").unwrap(), b"little");
        assert!(a.bytes(&buf, "data/2").is_err());
    }

    #[test]
    fn every_truncation_and_byte_flip_is_an_error_or_in_bounds() {
        let mut w = ZipWriter::new(Vec::new());
        w.write_record("a/x", &[1u8; 100]).unwrap();
        w.write_record("a/y", &[2u8; 70]).unwrap();
        let buf = w.finish().unwrap();
        for n in 0..buf.len() {
            assert!(read_index(&buf[..n]).is_err(), "truncated to {n} bytes");
        }
        for i in 0..buf.len() {
            for v in [0u8, 0xFF, buf[i] ^ 0x10] {
                let mut m = buf.clone();
                m[i] = v;
                if let Ok(recs) = read_index(&m) {
                    for r in recs {
                        assert!(r.offset + r.size <= m.len() as u64);
                    }
                }
            }
        }
    }
}

mod pickle {
    use ferrotorch::io::pickle::{bigint_to_string, parse, Pickle, Value};

    fn parse_ok(data: &[u8]) -> Pickle {
        let (p, n) = parse(data).unwrap();
        assert_eq!(n, data.len());
        p
    }

    /// The value of the integer whose little-endian two's-complement bytes are `bytes`, as
    /// the parser reads it from a `LONG1` opcode.
    fn long(bytes: &[u8]) -> Value {
        let mut d = vec![0x80, 2, 0x8a, u8::try_from(bytes.len()).unwrap()];
        d.extend_from_slice(bytes);
        d.push(b'.');
        parse_ok(&d).root_value().clone()
    }

    #[test]
    fn scalars_and_containers() {
        // pickle.dumps({'a': [1, -5, 2**70, 0.25, None, True], 'b': (b'\x00\xff', 'é')}, protocol=2)
        // (hand-assembled with the opcodes the pickler uses).
        let mut d = vec![0x80, 2, b'}', b'q', 0, b'(', b'X', 1, 0, 0, 0, b'a', b']', b'q', 1, b'(', b'K', 1, b'J'];
        d.extend_from_slice(&(-5i32).to_le_bytes());
        d.extend_from_slice(&[0x8a, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0]);
        d.push(b'G');
        d.extend_from_slice(&0.25f64.to_be_bytes());
        d.extend_from_slice(&[b'N', 0x88, b'e', 0x8c, 1, b'b', b'C', 2, 0, 0xff, 0x8c, 2, 0xc3, 0xa9, 0x86, b'u', b'.']);
        let p = parse_ok(&d);
        let Value::Dict(items) = p.root_value() else { panic!("{:?}", p.root_value()) };
        assert_eq!(items.len(), 2);
        let Value::List(l) = p.get(items[0].1) else { panic!() };
        let vals: Vec<&Value> = l.iter().map(|&i| p.get(i)).collect();
        assert_eq!(vals[0], &Value::Int(1));
        assert_eq!(vals[1], &Value::Int(-5));
        let Value::BigInt(b) = vals[2] else { panic!("{:?}", vals[2]) };
        assert_eq!(bigint_to_string(b), "1180591620717411303424");
        assert_eq!(vals[3], &Value::Float(0.25));
        assert_eq!(vals[4], &Value::None);
        assert_eq!(vals[5], &Value::Bool(true));
        let Value::Tuple(t) = p.get(items[1].1) else { panic!() };
        assert_eq!(p.get(t[0]), &Value::Bytes(vec![0, 0xff]));
        assert_eq!(p.get(t[1]), &Value::Str("é".into()));
    }

    #[test]
    fn longs_fit_i64_when_they_can() {
        assert_eq!(long(&[]), Value::Int(0));
        assert_eq!(long(&[0xff]), Value::Int(-1));
        assert_eq!(long(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0]), Value::Int(i64::MAX));
        assert_eq!(long(&[0, 0, 0, 0, 0, 0, 0, 0x80]), Value::Int(i64::MIN));
        assert_eq!(long(&[0, 0, 0, 0, 0, 0, 0, 0x80, 0]), Value::BigInt(vec![0, 0, 0, 0, 0, 0, 0, 0x80, 0]));
        assert_eq!(bigint_to_string(&[0, 0, 0, 0, 0, 0, 0, 0x80, 0]), "9223372036854775808");
        assert_eq!(bigint_to_string(&[0, 0, 0, 0, 0, 0, 0, 0x80, 0xff]), "-9223372036854775808");
        assert_eq!(bigint_to_string(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff]), "-9223372036854775809");
    }

    #[test]
    fn memo_sees_later_mutations_and_build_is_in_place() {
        // OrderedDict() memoized, filled, then BUILD; fetched again from the memo.
        let mut d = vec![0x80, 2, b']', b'c'];
        d.extend_from_slice(b"collections\nOrderedDict\n");
        d.extend_from_slice(&[b')', b'R', b'q', 0, 0x8c, 1, b'k', b'K', 3, b's', b'}', b'b', b'a', b'h', 0, b'a', b'.']);
        let p = parse_ok(&d);
        let Value::List(l) = p.root_value() else { panic!() };
        assert_eq!(l.len(), 2);
        assert_eq!(l[0], l[1], "both entries are the memoized object");
        let Value::Build { obj, .. } = p.get(l[0]) else { panic!("{:?}", p.get(l[0])) };
        let Value::SetItems { obj, items } = p.get(*obj) else { panic!() };
        assert_eq!(items.len(), 1);
        assert!(matches!(p.get(*obj), Value::Reduce { .. }));
    }

    #[test]
    fn errors_name_opcode_and_position() {
        let e = parse(&[0x80, 2, b'X', 0xff, 0xff, 0xff, 0xff, b'a']).unwrap_err().to_string();
        assert!(e.contains("BINUNICODE") && e.contains("byte 2") && e.contains("remain"), "{e}");
        let e = parse(&[0x80, 2, b'a', b'.']).unwrap_err().to_string();
        assert!(e.contains("APPEND") && e.contains("underflow"), "{e}");
        let e = parse(&[0x80, 2, b']', b'e', b'.']).unwrap_err().to_string();
        assert!(e.contains("APPENDS") && e.contains("MARK"), "{e}");
        let e = parse(&[0x80, 2, b'h', 7, b'.']).unwrap_err().to_string();
        assert!(e.contains("BINGET") && e.contains("memo key 7"), "{e}");
        let e = parse(&[0x80, 2, b'i', b'.']).unwrap_err().to_string();
        assert!(e.contains("INST") && e.contains("unsupported"), "{e}");
        let e = parse(&[0x80, 2, b'N']).unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
        let e = parse(&[0x80, 2, b'(', b'N', b'.']).unwrap_err().to_string();
        assert!(e.contains("MARK"), "{e}");
        // A MARK is a floor: TUPLE2 cannot take values pushed before it.
        assert!(parse(&[0x80, 2, b'N', b'(', b'N', 0x86, b'.']).is_err());
    }

    #[test]
    fn shared_references_cost_one_index() {
        // A "billion laughs": each level is a list holding the previous level ten times.
        // Each level is memoized and popped; the last one stays as the result.
        let mut d = vec![0x80, 2, b']', b'q', 0, b'0'];
        for level in 1..=40u8 {
            d.extend_from_slice(b"](");
            for _ in 0..10 {
                d.extend_from_slice(&[b'h', level - 1]);
            }
            d.extend_from_slice(&[b'e', b'q', level, b'0']);
        }
        d.pop();
        d.push(b'.');
        let p = parse_ok(&d);
        assert!(p.values.len() <= 41);
    }

    #[test]
    fn consumed_length_allows_pickle_streams() {
        let d = [0x80, 2, b'K', 1, b'.', 0x80, 2, b'K', 2, b'.'];
        let (a, n) = parse(&d).unwrap();
        assert_eq!((a.root_value(), n), (&Value::Int(1), 5));
        let (b, m) = parse(&d[n..]).unwrap();
        assert_eq!((b.root_value(), m), (&Value::Int(2), 5));
    }
}

mod pt {
    use super::common::archive;
    use ferrotorch::io::pt::load_bytes;
    use ferrotorch::io::zip::ZipWriter;

    /// `_rebuild_tensor_v2(('storage', torch.<ty>, '0', 'cpu', numel), 0, (numel,), (1,), False, OrderedDict())`
    fn tensor_pickle(ty: &str, numel: u8) -> Vec<u8> {
        let mut d = vec![0x80, 2, b'c'];
        d.extend_from_slice(b"torch._utils\n_rebuild_tensor_v2\n");
        d.extend_from_slice(&[b'(', b'(', 0x8c, 7]);
        d.extend_from_slice(b"storage");
        d.push(b'c');
        d.extend_from_slice(format!("torch\n{ty}\n").as_bytes());
        d.extend_from_slice(&[0x8c, 1, b'0', 0x8c, 3, b'c', b'p', b'u', b'K', numel, b't', b'Q', b'K', 0, b'K', numel, 0x85, b'K', 1, 0x85, 0x89, b'c']);
        d.extend_from_slice(b"collections\nOrderedDict\n");
        d.extend_from_slice(b")RtR.");
        d
    }

    #[test]
    fn tensor_from_a_minimal_archive() {
        let bytes: Vec<u8> = [1.5f32, -2.0, 3.25].iter().flat_map(|v| v.to_le_bytes()).collect();
        let buf = archive(&tensor_pickle("FloatStorage", 3), &[("data/0", &bytes)]);
        let ck = load_bytes(&buf).unwrap();
        let t = ck.root.as_tensor().unwrap();
        assert_eq!(t.to_vec::<f32>().unwrap(), vec![1.5, -2.0, 3.25]);
    }

    #[test]
    fn record_size_must_match_the_declared_numel() {
        let buf = archive(&tensor_pickle("FloatStorage", 3), &[("data/0", &[0u8; 8])]);
        let e = load_bytes(&buf).unwrap_err().to_string();
        assert!(e.contains("holds 8 bytes"), "{e}");
        let buf = archive(&tensor_pickle("FloatStorage", 3), &[]);
        assert!(load_bytes(&buf).unwrap_err().to_string().contains("data/0"));
    }

    #[test]
    fn unsupported_storage_types_are_named() {
        let buf = archive(&tensor_pickle("ComplexFloatStorage", 1), &[("data/0", &[0u8; 8])]);
        let e = load_bytes(&buf).unwrap_err().to_string();
        assert!(e.contains("torch.ComplexFloatStorage"), "{e}");
    }

    #[test]
    fn bool_storages_hold_only_0_and_1() {
        let buf = archive(&tensor_pickle("BoolStorage", 3), &[("data/0", &[0, 1, 7])]);
        let t = load_bytes(&buf).unwrap().root.as_tensor().unwrap().clone();
        assert_eq!(t.to_vec::<u8>().unwrap(), vec![0, 1, 1]);
    }

    #[test]
    fn torchscript_archives_are_refused() {
        let mut w = ZipWriter::new(Vec::new());
        w.write_record("m/data.pkl", &[0x80, 2, b'N', b'.']).unwrap();
        w.write_record("m/constants.pkl", &[0x80, 2, b')', b'.']).unwrap();
        let e = load_bytes(&w.finish().unwrap()).unwrap_err().to_string();
        assert!(e.contains("TorchScript"), "{e}");
    }

    #[test]
    fn deep_nesting_and_self_reference_are_errors() {
        // [[[[...]]]] 100000 deep.
        let mut d = vec![0x80, 2];
        d.extend(std::iter::repeat_n(b']', 100_000));
        d.extend(std::iter::repeat_n(b'a', 99_999));
        d.push(b'.');
        let e = load_bytes(&archive(&d, &[])).unwrap_err().to_string();
        assert!(e.contains("nest"), "{e}");
        // 1,000,000 nested tuples and dicts: the parser is a loop and its values a flat
        // arena (no recursive drop); the loader stops at its depth limit
        let n = 1_000_000;
        let mut d = vec![0x80, 2, b'K', 1];
        d.extend(std::iter::repeat_n(0x85, n)); // TUPLE1
        d.push(b'.');
        let e = load_bytes(&archive(&d, &[])).unwrap_err().to_string();
        assert!(e.contains("nest"), "{e}");
        let mut d = vec![0x80, 2, b'}'];
        for _ in 1..n {
            d.extend_from_slice(&[b'K', 0, b'}']); // key 0, {} ...
        }
        d.extend(std::iter::repeat_n(b's', n - 1)); // ... SETITEM into the one below
        d.push(b'.');
        let e = load_bytes(&archive(&d, &[])).unwrap_err().to_string();
        assert!(e.contains("nest"), "{e}");
        // l = []; l.append(l)
        let d = [0x80, 2, b']', b'q', 0, b'h', 0, b'a', b'.'];
        let e = load_bytes(&archive(&d, &[])).unwrap_err().to_string();
        assert!(e.contains("nest"), "{e}");
    }

    #[test]
    fn billion_laughs_is_bounded() {
        let mut d = vec![0x80, 2, 0x8c, 8];
        d.extend_from_slice(b"lolololo");
        d.extend_from_slice(&[b'q', 0, b'0']);
        for level in 1..=12u8 {
            d.extend_from_slice(b"](");
            for _ in 0..10 {
                d.extend_from_slice(&[b'h', level - 1]);
            }
            d.extend_from_slice(&[b'e', b'q', level, b'0']);
        }
        d.pop();
        d.push(b'.');
        let e = load_bytes(&archive(&d, &[])).unwrap_err().to_string();
        assert!(e.contains("too much memory"), "{e}");
    }
}

mod safetensors {
    use super::common::Rng;
    use ferrotorch::dtype::ALL_DTYPES;
    use ferrotorch::io::safetensors::{load, load_bytes, load_shared, read_file_header, read_header, save, serialize, Owner};
    use ferrotorch::{DType, Scalar, Tensor};
    use std::collections::HashMap;
    use std::sync::Arc;

    /// A tensor of `dtype` and `shape` with distinct-ish values.
    fn sample(dtype: DType, shape: &[usize]) -> Tensor {
        let n: usize = shape.iter().product();
        let vals: Vec<f64> = (0..n).map(|i| if dtype == DType::Bool { (i % 2) as f64 } else { i as f64 * 1.5 - 3.0 }).collect();
        Tensor::from_vec(vals, shape).unwrap().to_dtype(dtype).unwrap()
    }

    fn same(a: &Tensor, b: &Tensor) {
        assert_eq!(a.dtype(), b.dtype());
        assert_eq!(a.shape().to_vec(), b.shape().to_vec());
        assert_eq!(a.to_vec::<f64>().unwrap(), b.to_vec::<f64>().unwrap());
    }

    fn tmp(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ferrotorch-st-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    fn all_dtype_tensors() -> HashMap<String, Tensor> {
        let mut m = HashMap::new();
        for d in ALL_DTYPES {
            m.insert(format!("{}_2x3", d.name()), sample(d, &[2, 3]));
            m.insert(format!("{}_0d", d.name()), sample(d, &[]));
            m.insert(format!("{}_empty", d.name()), sample(d, &[0, 4]));
        }
        m
    }

    #[test]
    fn round_trip_every_dtype_bytes_and_file() {
        let tensors = all_dtype_tensors();
        let meta: HashMap<String, String> = [("format".to_string(), "pt".to_string())].into();
        let bytes = serialize(&tensors, Some(meta.clone())).unwrap();
        let (m, entries) = read_header(&bytes).unwrap();
        assert_eq!(m, Some(meta.clone()));
        assert_eq!(entries.len(), tensors.len());
        for (name, dtype, shape, range) in &entries {
            let t = &tensors[name];
            assert_eq!((*dtype, shape.clone()), (t.dtype(), t.shape().to_vec()));
            assert_eq!(range.len(), t.numel() * dtype.size());
        }
        let back = load_bytes(&bytes).unwrap();
        assert_eq!(back.len(), tensors.len());
        for (k, t) in &tensors {
            same(t, &back[k]);
        }
        let path = tmp("all.safetensors");
        save(&tensors, Some(meta), &path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        let back = load(&path).unwrap();
        for (k, t) in &tensors {
            same(t, &back[k]);
        }
        let (m, e) = read_file_header(&path).unwrap();
        assert_eq!((m.is_some(), e.len()), (true, tensors.len()));
    }

    #[test]
    fn non_contiguous_and_views_are_written_as_their_values() {
        let base = sample(DType::F32, &[3, 4]);
        let t = base.t().unwrap();
        assert!(!t.is_contiguous());
        let row = base.narrow(0, 1, 1).unwrap(); // contiguous, offset 4 elements
        let m: HashMap<String, Tensor> = [("t".to_string(), t.clone()), ("row".to_string(), row.clone())].into();
        let back = load_bytes(&serialize(&m, None).unwrap()).unwrap();
        same(&t.contiguous().unwrap(), &back["t"]);
        same(&row, &back["row"]);
        assert!(back["t"].is_contiguous());
    }

    #[test]
    fn load_is_zero_copy_and_copy_on_write() {
        // F64 data first (bytes 0..24), then the F32 tensor at byte 24 of the data.
        let t = sample(DType::F32, &[64]);
        let d = sample(DType::F64, &[3]);
        let m: HashMap<&str, Tensor> = [("x", t.clone()), ("d", d.clone())].into();
        let path = tmp("zc.safetensors");
        save(m.iter(), None, &path).unwrap();
        let before = std::fs::read(&path).unwrap();
        let (_, entries) = read_file_header(&path).unwrap();
        assert_eq!(entries.iter().map(|e| (e.0.as_str(), e.3.len())).collect::<Vec<_>>(), [("d", 24), ("x", 256)]);
        let gap = entries[1].3.start - entries[0].3.start;
        let back = load(&path).unwrap();
        let (x, dd) = (&back["x"], &back["d"]);
        // Both tensors lie in one mapping, as far apart as in the file (copies would be
        // separate 64-byte-aligned blocks, never 24 bytes apart).
        assert_eq!(x.data_ptr() - dd.data_ptr(), gap);
        assert_eq!(gap, 24);
        assert_eq!(x.storage().nbytes(), 64 * 4);
        same(&t, x);
        same(&d, dd);
        // Writing through the tensor changes the process's copy, not the file.
        x.fill_(Scalar::Float(7.0)).unwrap();
        assert_eq!(x.to_vec::<f32>().unwrap(), vec![7.0; 64]);
        assert_eq!(std::fs::read(&path).unwrap(), before);
        // A second load maps the file again and sees the file's values.
        let again = load(&path).unwrap();
        same(&t, &again["x"]);
        // Saving over the file leaves the mapped tensors intact (the writer renames).
        let z: HashMap<&str, Tensor> = [("x", sample(DType::F32, &[2]))].into();
        save(&z, None, &path).unwrap();
        same(&t, &again["x"]);
        assert_eq!(load(&path).unwrap()["x"].numel(), 2);
    }

    #[test]
    fn zero_copy_pointer_lies_in_the_map() {
        let bytes = serialize(&all_dtype_tensors(), None).unwrap();
        let mut buf = bytes.clone();
        let (lo, hi) = (buf.as_ptr() as usize, buf.as_ptr() as usize + buf.len());
        let owner: Owner = Arc::new(());
        // SAFETY: buf outlives the tensors (they are dropped at the end of the test,
        // before buf) and nothing else writes it meanwhile.
        let ts = unsafe { load_shared(std::slice::from_raw_parts(buf.as_mut_ptr(), buf.len()), owner) }.unwrap();
        let mut shared = 0;
        for (name, t) in &ts {
            let p = t.data_ptr();
            if t.numel() > 0 && p >= lo && p < hi {
                shared += 1;
            }
            same(&load_bytes(&bytes).unwrap()[name], t);
        }
        assert!(shared >= 10, "only {shared} tensors shared the buffer");
        drop(ts);
    }

    #[test]
    fn misaligned_data_is_copied() {
        // One U8 tensor of 1 byte then an F32: hand-made header so the F32 sits at an
        // odd offset.
        let mut header = br#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}}"#.to_vec();
        while !header.len().is_multiple_of(8) {
            header.push(b' ');
        }
        let mut buf = (header.len() as u64).to_le_bytes().to_vec();
        buf.extend_from_slice(&header);
        buf.push(5);
        buf.extend_from_slice(&1.5f32.to_le_bytes());
        buf.extend_from_slice(&(-2.0f32).to_le_bytes());
        let path = tmp("misaligned.safetensors");
        std::fs::write(&path, &buf).unwrap();
        let m = load(&path).unwrap();
        assert_eq!(m["b"].to_vec::<f32>().unwrap(), vec![1.5, -2.0]);
        assert_eq!(m["b"].data_ptr() % 4, 0);
        assert_eq!(m["a"].to_vec::<u8>().unwrap(), vec![5]);
    }

    #[test]
    fn invalid_bools_are_normalised() {
        let header = br#"{"a":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}} "#;
        let mut buf = (header.len() as u64).to_le_bytes().to_vec();
        buf.extend_from_slice(header);
        buf.extend_from_slice(&[0, 2, 255]);
        let m = load_bytes(&buf).unwrap();
        assert_eq!(m["a"].to_vec::<u8>().unwrap(), vec![0, 1, 1]);
        let path = tmp("bools.safetensors");
        std::fs::write(&path, &buf).unwrap();
        assert_eq!(load(&path).unwrap()["a"].to_vec::<u8>().unwrap(), vec![0, 1, 1]);
    }

    #[test]
    fn unsupported_dtype_names_dtype_and_tensor() {
        let header = br#"{"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}"#;
        let mut buf = (header.len() as u64).to_le_bytes().to_vec();
        buf.extend_from_slice(header);
        buf.extend_from_slice(&[0, 0]);
        let e = load_bytes(&buf).unwrap_err().to_string();
        assert!(e.contains("F8_E4M3") && e.contains("`w`"), "{e}");
    }

    #[test]
    fn bad_headers_are_errors() {
        let cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![1, 2, 3],
            u64::MAX.to_le_bytes().to_vec(),
            [16u64.to_le_bytes().to_vec(), b"{}".to_vec()].concat(),
            [2u64.to_le_bytes().to_vec(), b"{]".to_vec()].concat(),
            [2u64.to_le_bytes().to_vec(), b"{}xx".to_vec()].concat(),
            {
                let h = br#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#;
                [(h.len() as u64).to_le_bytes().to_vec(), h.to_vec(), vec![0; 12]].concat()
            },
            {
                let h = br#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,800]}}"#;
                [(h.len() as u64).to_le_bytes().to_vec(), h.to_vec(), vec![0; 8]].concat()
            },
            {
                let h = br#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}"#;
                [(h.len() as u64).to_le_bytes().to_vec(), h.to_vec()].concat()
            },
        ];
        for c in cases {
            assert!(load_bytes(&c).is_err(), "{:?}", String::from_utf8_lossy(&c));
        }
        assert!(load(tmp("does-not-exist.safetensors")).is_err());
    }

    #[test]
    fn truncations_and_byte_flips_never_panic() {
        let mut m = HashMap::new();
        m.insert("w".to_string(), sample(DType::F32, &[2, 3]));
        m.insert("b".to_string(), sample(DType::BF16, &[3]));
        m.insert("i".to_string(), sample(DType::I64, &[]));
        m.insert("m".to_string(), sample(DType::Bool, &[4]));
        let good = serialize(&m, Some([("k".to_string(), "v".to_string())].into())).unwrap();
        assert_eq!(load_bytes(&good).unwrap().len(), 4);
        let check = |buf: &[u8]| {
            if let Ok(ts) = load_bytes(buf) {
                for t in ts.values() {
                    let _ = t.to_vec::<f64>().unwrap();
                }
            }
            let mut owned = buf.to_vec();
            // SAFETY: owned outlives the tensors, dropped inside this closure.
            let r = unsafe { load_shared(std::slice::from_raw_parts(owned.as_mut_ptr(), owned.len()), Arc::new(())) };
            if let Ok(ts) = r {
                for (_, t) in &ts {
                    let _ = t.to_vec::<f64>().unwrap();
                }
            }
        };
        for n in 0..good.len() {
            assert!(load_bytes(&good[..n]).is_err(), "truncated to {n} bytes loaded");
            check(&good[..n]);
        }
        let mut rng = Rng(0x5eed_1234_abcd_0001);
        for _ in 0..4000 {
            let mut buf = good.clone();
            for _ in 0..1 + rng.below(3) {
                let i = rng.below(buf.len());
                match rng.below(3) {
                    0 => buf[i] ^= 1 << rng.below(8),
                    1 => buf[i] = rng.next() as u8,
                    _ => buf[i] = b"0123456789[],:\"{}"[rng.below(17)],
                }
            }
            check(&buf);
        }
    }

    #[test]
    fn duplicate_names_are_refused() {
        let t = sample(DType::F32, &[2]);
        let v = [("a".to_string(), t.clone()), ("a".to_string(), t)];
        assert!(serialize(v.iter().map(|(k, t)| (k, t)), None).is_err());
    }
}
