//! `ferrotorch::io::pt` against checkpoints written by real PyTorch
//! (tests/fixtures/checkpoints, made by scripts/make_checkpoint_fixtures.py): each X.pt
//! is compared with the values NumPy wrote for it in X.npz. Then malformed input:
//! truncations, byte flips and disallowed globals must be errors, never panics.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use ferrotorch::io::pt::{self, Checkpoint, Object};
use ferrotorch::io::zip::read_index;
use ferrotorch::{DType, Scalar, Tensor};

use crate::common;
use crate::common::Rng;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/checkpoints").join(name)
}

/// One array of an .npz: its shape and its values as f64 (every fixture value is exact
/// in f64: small ints, bools, and floats of at most 64 bits).
#[derive(Debug)]
struct Npy {
    shape: Vec<usize>,
    values: Vec<f64>,
}

/// The arrays of an .npz (a zip of stored .npy files), by name without ".npy".
fn read_npz(name: &str) -> HashMap<String, Npy> {
    let buf = std::fs::read(fixture(name)).unwrap();
    let mut out = HashMap::new();
    for r in read_index(&buf).unwrap() {
        let data = &buf[r.offset as usize..(r.offset + r.size) as usize];
        let key = r.name.strip_suffix(".npy").unwrap().to_string();
        out.insert(key, parse_npy(data));
    }
    out
}

/// The .npy format: magic, version, header length, a Python dict literal, the data.
fn parse_npy(data: &[u8]) -> Npy {
    assert_eq!(&data[..6], b"\x93NUMPY");
    let (hlen, start) = match data[6] {
        1 => (u16::from_le_bytes([data[8], data[9]]) as usize, 10),
        _ => (u32::from_le_bytes(data[8..12].try_into().unwrap()) as usize, 12),
    };
    let header = std::str::from_utf8(&data[start..start + hlen]).unwrap();
    let body = &data[start + hlen..];
    let field = |key: &str| -> &str {
        let at = header.find(key).unwrap() + key.len();
        header[at..].trim_start_matches([':', ' ', '\''])
    };
    let descr = field("'descr'");
    let descr = &descr[..descr.find('\'').unwrap()];
    assert!(field("'fortran_order'").starts_with("False"), "{header}");
    let shape_s = field("'shape'");
    let shape_s = &shape_s[shape_s.find('(').unwrap() + 1..shape_s.find(')').unwrap()];
    let shape: Vec<usize> = shape_s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
    let n: usize = shape.iter().product();
    macro_rules! vals {
        ($t:ty) => {{
            let sz = std::mem::size_of::<$t>();
            (0..n).map(|i| <$t>::from_le_bytes(body[i * sz..(i + 1) * sz].try_into().unwrap()) as f64).collect()
        }};
    }
    let values: Vec<f64> = match descr {
        "|b1" | "|u1" => (0..n).map(|i| body[i] as f64).collect(),
        "|i1" => (0..n).map(|i| body[i] as i8 as f64).collect(),
        "<i2" => vals!(i16),
        "<i4" => vals!(i32),
        "<i8" => vals!(i64),
        "<f2" => (0..n).map(|i| half::f16::from_le_bytes([body[2 * i], body[2 * i + 1]]).to_f64()).collect(),
        "<f4" => vals!(f32),
        "<f8" => vals!(f64),
        d => panic!("unexpected npy dtype {d}"),
    };
    Npy { shape, values }
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>().unwrap()
}

/// The object at a path like "a/b/0" (the keys the fixture script wrote the .npz with).
fn at<'a>(root: &'a Object, path: &str) -> &'a Object {
    path.split('/').fold(root, |o, k| match o {
        Object::Dict(_) => o.get(k).or_else(|| k.parse().ok().and_then(|i| o.get_int(i))).unwrap_or_else(|| panic!("no key {k} in {path}")),
        _ => &o.as_items().unwrap_or_else(|| panic!("{path}: {} is not indexable", o.kind()))[k.parse::<usize>().unwrap()],
    })
}

/// Every array of X.npz equals the tensor at its path in the checkpoint, in shape and values.
fn check_against_npz(ck: &Checkpoint, npz: &str) -> usize {
    let expect = read_npz(npz);
    assert!(!expect.is_empty());
    for (path, want) in &expect {
        let t = at(&ck.root, path).as_tensor().unwrap_or_else(|| panic!("{path} is not a tensor"));
        assert_eq!(t.shape().to_vec(), want.shape, "{npz}: shape of {path}");
        assert_eq!(values(t), want.values, "{npz}: values of {path}");
    }
    expect.len()
}

fn all_loaders(name: &str) -> Vec<(&'static str, Checkpoint)> {
    let path = fixture(name);
    vec![
        ("load", pt::load(&path).unwrap()),
        ("load_bytes", pt::load_bytes(&std::fs::read(&path).unwrap()).unwrap()),
        ("load_mmap", pt::load_mmap(&path).unwrap()),
    ]
}

#[test]
fn dtypes_views_scalars_and_empty_tensors() {
    for (how, ck) in all_loaders("dtypes.pt") {
        assert_eq!(check_against_npz(&ck, "dtypes.npz"), 17, "{how}");
        let t = |k: &str| ck.root.get(k).and_then(Object::as_tensor).unwrap_or_else(|| panic!("{how}: {k}")).clone();
        let dtypes = [
            ("bool", DType::Bool),
            ("uint8", DType::U8),
            ("int8", DType::I8),
            ("int16", DType::I16),
            ("int32", DType::I32),
            ("int64", DType::I64),
            ("float16", DType::F16),
            ("bfloat16", DType::BF16),
            ("float32", DType::F32),
            ("float64", DType::F64),
            ("base", DType::F32),
            ("scalar", DType::F64),
            ("empty", DType::I64),
        ];
        for (k, d) in dtypes {
            assert_eq!(t(k).dtype(), d, "{how}: dtype of {k}");
            assert!(!t(k).requires_grad());
        }
        // The five views share base's storage, with PyTorch's strides and offsets.
        let base = t("base");
        for (k, strides, offset) in [("base", vec![6, 1], 0), ("transposed", vec![1, 6], 0), ("offset_view", vec![6, 1], 8), ("strided_view", vec![12, 3], 0), ("row", vec![1], 12)] {
            let v = t(k);
            assert!(v.storage().same(&base.storage()), "{how}: {k} shares base's storage");
            assert_eq!(v.strides().to_vec(), strides, "{how}: strides of {k}");
            assert_eq!(v.storage_offset(), offset, "{how}: offset of {k}");
            assert_eq!(v.data_ptr(), base.data_ptr() + 4 * offset, "{how}: data_ptr of {k}");
        }
        assert_eq!(base.storage().nbytes(), 24 * 4);
        // Writes through one view show through the others (one storage, no copies).
        t("row").fill_(Scalar::Float(-1.0)).unwrap();
        assert_eq!(values(&t("transposed"))[2], -1.0, "{how}");
        assert!(t("scalar").shape().is_empty());
        assert_eq!(t("scalar").item().unwrap().to_f64(), 3.5);
        assert_eq!(t("empty").shape().to_vec(), vec![0, 3]);
        // Distinct keys are distinct storages.
        assert!(!t("float32").storage().same(&base.storage()));
    }
}

/// Whether `addr` lies in a mapping of `path` (Linux: /proc/self/maps).
#[cfg(target_os = "linux")]
fn is_mapped_from(addr: usize, path: &std::path::Path) -> bool {
    let path = std::fs::canonicalize(path).unwrap();
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines().filter(|l| l.ends_with(path.to_str().unwrap())).any(|l| {
        let range = l.split_whitespace().next().unwrap();
        let (a, b) = range.split_once('-').unwrap();
        let (a, b) = (usize::from_str_radix(a, 16).unwrap(), usize::from_str_radix(b, 16).unwrap());
        (a..b).contains(&addr)
    })
}

#[test]
fn mmap_is_zero_copy_and_copy_on_write() {
    let path = fixture("dtypes.pt");
    let before = std::fs::read(&path).unwrap();
    let ck = pt::load_mmap(&path).unwrap();
    let base = ck.root.get("base").and_then(Object::as_tensor).unwrap().clone();
    let flags = ck.root.get("bool").and_then(Object::as_tensor).unwrap().clone();
    #[cfg(target_os = "linux")]
    {
        assert!(is_mapped_from(base.data_ptr(), &path), "float storage points into the file's map");
        assert!(!is_mapped_from(flags.data_ptr(), &path), "bool storages are copied (validated)");
    }
    base.fill_(Scalar::Float(7.0)).unwrap();
    assert!(values(&base).iter().all(|&v| v == 7.0));
    drop(ck);
    // The file is untouched, and a new load sees the original values.
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let again = pt::load_mmap(&path).unwrap();
    assert_eq!(values(again.root.get("base").and_then(Object::as_tensor).unwrap())[..3], [0.0, 1.0, 2.0]);
    // The storage keeps the map alive after the checkpoint is gone.
    drop(again);
    assert_eq!(values(&base)[0], 7.0);
    drop(flags);
}

#[test]
fn mlp_state_dict_is_an_ordered_dict_of_tensors() {
    let sd = pt::load_state_dict(fixture("mlp_state_dict.pt")).unwrap();
    let names: Vec<&str> = sd.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
    let shapes: Vec<Vec<usize>> = sd.iter().map(|(_, t)| t.shape().to_vec()).collect();
    assert_eq!(shapes, [vec![8, 4], vec![8], vec![3, 8], vec![3]]);
    let npz = read_npz("mlp_state_dict.npz");
    for (k, t) in &sd {
        assert_eq!(t.dtype(), DType::F32);
        assert!(!t.requires_grad(), "state_dict() holds detached tensors");
        assert_eq!(values(t), npz[k.as_str()].values, "{k}");
    }
    for (how, ck) in all_loaders("mlp_state_dict.pt") {
        assert_eq!(check_against_npz(&ck, "mlp_state_dict.npz"), 4, "{how}");
    }
}

/// y = relu(x W1^T + b1) W2^T + b2 with the engine's ops.
fn mlp_forward(sd: &[(String, Tensor)], x: &Tensor) -> Tensor {
    let p = |k: &str| sd.iter().find(|(n, _)| n == k).map(|(_, t)| t.clone()).unwrap();
    let h = x.matmul(&p("0.weight").t().unwrap()).unwrap().add(&p("0.bias")).unwrap().relu().unwrap();
    h.matmul(&p("2.weight").t().unwrap()).unwrap().add(&p("2.bias")).unwrap()
}

#[test]
fn mlp_forward_matches_pytorch() {
    let sd = pt::load_state_dict(fixture("mlp_state_dict.pt")).unwrap();
    let io = pt::load(fixture("mlp_io.pt")).unwrap();
    check_against_npz(&io, "mlp_io.npz");
    let x = io.root.get("x").and_then(Object::as_tensor).unwrap();
    let y = io.root.get("y").and_then(Object::as_tensor).unwrap();
    let out = mlp_forward(&sd, x);
    assert_eq!(out.shape().to_vec(), vec![5, 3]);
    let diff = values(&out).iter().zip(values(y)).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(diff <= 1e-5, "max |ferrotorch - pytorch| = {diff}");
}

#[test]
fn adam_state_dict_keeps_int_keys_tuples_and_scalars() {
    for (how, ck) in all_loaders("adam_state_dict.pt") {
        assert_eq!(check_against_npz(&ck, "adam_state_dict.npz"), 12, "{how}");
        let keys: Vec<&str> = ck.root.as_dict().unwrap().iter().map(|(k, _)| k.as_str().unwrap()).collect();
        assert_eq!(keys, ["state", "param_groups"]);
        let state = ck.root.get("state").unwrap();
        let ids: Vec<i64> = state.as_dict().unwrap().iter().map(|(k, _)| k.as_int().unwrap()).collect();
        assert_eq!(ids, [0, 1, 2, 3]);
        let shapes = [vec![8, 4], vec![8], vec![3, 8], vec![3]];
        for (i, shape) in shapes.iter().enumerate() {
            let s = state.get_int(i as i64).unwrap();
            let step = s.get("step").and_then(Object::as_tensor).unwrap();
            assert!(step.shape().is_empty() && step.dtype() == DType::F32);
            assert_eq!(step.item().unwrap().to_f64(), 2.0);
            for k in ["exp_avg", "exp_avg_sq"] {
                assert_eq!(&s.get(k).and_then(Object::as_tensor).unwrap().shape().to_vec(), shape, "{how}: {k} {i}");
            }
        }
        let groups = ck.root.get("param_groups").and_then(Object::as_items).unwrap();
        assert_eq!(groups.len(), 1);
        let g = &groups[0];
        assert_eq!(g.get("lr").and_then(Object::as_float), Some(1e-3));
        let betas = match g.get("betas") {
            Some(Object::Tuple(b)) => b.iter().map(|v| v.as_float().unwrap()).collect::<Vec<_>>(),
            other => panic!("betas: {other:?}"),
        };
        assert_eq!(betas, [0.8, 0.9]);
        assert_eq!(g.get("eps").and_then(Object::as_float), Some(1e-8));
        assert_eq!(g.get("weight_decay").and_then(Object::as_int), Some(0));
        assert_eq!(g.get("amsgrad").and_then(Object::as_bool), Some(false));
        assert!(matches!(g.get("foreach"), Some(Object::None)));
        let params = match g.get("params") {
            Some(Object::List(p)) => p.iter().map(|v| v.as_int().unwrap()).collect::<Vec<_>>(),
            other => panic!("params: {other:?}"),
        };
        assert_eq!(params, [0, 1, 2, 3]);
    }
}

#[test]
fn nested_containers_parameters_and_python_values() {
    for (how, ck) in all_loaders("nested.pt") {
        assert_eq!(check_against_npz(&ck, "nested.npz"), 5, "{how}");
        let r = &ck.root;
        let params = r.get("params").and_then(Object::as_items).unwrap();
        let (p, q) = (params[0].as_tensor().unwrap(), params[1].as_tensor().unwrap());
        assert!(p.requires_grad() && p.is_leaf(), "{how}: Parameter p");
        assert!(!q.requires_grad(), "{how}: Parameter(requires_grad=False) q");
        let leaf = r.get("leaf").and_then(Object::as_tensor).unwrap();
        assert!(leaf.requires_grad() && leaf.dtype() == DType::F64);
        let m = r.get("meta").unwrap();
        assert_eq!(m.get("epoch").and_then(Object::as_int), Some(7));
        assert_eq!(m.get("lr").and_then(Object::as_float), Some(0.25));
        assert_eq!(m.get("name").and_then(Object::as_str), Some("run-1"));
        match m.get("flags") {
            Some(Object::Tuple(f)) => assert!(matches!(f[..], [Object::Bool(true), Object::Bool(false), Object::None])),
            other => panic!("flags: {other:?}"),
        }
        match m.get("big") {
            Some(Object::BigInt(b)) => assert_eq!(ferrotorch::io::pickle::bigint_to_string(b), "1180591620717411303424"),
            other => panic!("big: {other:?}"),
        }
        assert_eq!(m.get("neg").and_then(Object::as_int), Some(-5));
        assert!(matches!(m.get("bytes"), Some(Object::Bytes(b)) if b == b"\x00\xffab"));
        match m.get("set") {
            Some(Object::Set(s)) => assert_eq!(s.iter().map(|v| v.as_int().unwrap()).collect::<Vec<_>>(), [1, 2]),
            other => panic!("set: {other:?}"),
        }
        assert!(matches!(m.get("complex"), Some(Object::Complex { re, im }) if *re == 1.5 && *im == -2.0));
        assert!(matches!(m.get("empty"), Some(Object::List(v)) if v.is_empty()));
        // [p, p]: the same parameter twice, and the same as params[0].
        let shared = m.get("shared").and_then(Object::as_items).unwrap();
        assert!(shared[0].as_tensor().unwrap().same(p) && shared[1].as_tensor().unwrap().same(p), "{how}");
        // state_dict() takes the top level's tensors only: nested ones are not flattened.
        let sd = ck.state_dict().unwrap();
        assert_eq!(sd.len(), 1);
        assert!(sd[0].0 == "leaf" && sd[0].1.same(leaf));
    }
}

#[test]
fn legacy_format_with_shared_storage() {
    for (how, ck) in all_loaders("legacy.pt") {
        assert_eq!(check_against_npz(&ck, "legacy.npz"), 4, "{how}");
        let t = |k: &str| ck.root.get(k).and_then(Object::as_tensor).unwrap().clone();
        assert_eq!(t("w").dtype(), DType::F32);
        assert_eq!(t("i").dtype(), DType::I64);
        assert!(t("w_t").storage().same(&t("w").storage()) && t("w_row").storage().same(&t("w").storage()), "{how}");
        assert_eq!(t("w_t").strides().to_vec(), vec![1, 5]);
        assert_eq!(t("w_row").storage_offset(), 5);
        assert!(!t("i").storage().same(&t("w").storage()));
    }
}

#[test]
fn big_endian_storages_are_swapped() {
    for (how, ck) in all_loaders("bigendian.pt") {
        assert_eq!(check_against_npz(&ck, "bigendian.npz"), 6, "{how}");
        let dt: Vec<DType> = ["f", "h", "l", "bf", "u", "d"].iter().map(|k| ck.root.get(k).and_then(Object::as_tensor).unwrap().dtype()).collect();
        assert_eq!(dt, [DType::F32, DType::F16, DType::I64, DType::BF16, DType::U8, DType::F64], "{how}");
    }
}

// ---- malformed input ---------------------------------------------------------------

/// Load `buf`; a panic is reported as the failure `what`. Loaded tensors are read in
/// full, so that a geometry the checks missed would show up here.
fn must_not_panic(buf: &[u8], what: &str) -> bool {
    let r = catch_unwind(AssertUnwindSafe(|| match pt::load_bytes(buf) {
        Ok(ck) => {
            touch(&ck.root);
            true
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            false
        }
    }));
    match r {
        Ok(ok) => ok,
        Err(_) => panic!("loading panicked: {what}"),
    }
}

fn touch(o: &Object) {
    match o {
        Object::Tensor(t) => {
            let _ = t.to_vec::<f64>().unwrap();
        }
        Object::Tuple(v) | Object::List(v) | Object::Set(v) => v.iter().for_each(touch),
        Object::Dict(d) => d.iter().for_each(|(k, v)| {
            touch(k);
            touch(v)
        }),
        _ => {}
    }
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    for name in ["mlp_state_dict.pt", "legacy.pt", "nested.pt"] {
        let buf = std::fs::read(fixture(name)).unwrap();
        for n in 0..buf.len() {
            let ok = must_not_panic(&buf[..n], &format!("{name} truncated to {n} bytes"));
            // A zip needs its end record, a legacy file its storages.
            assert!(!ok, "{name} truncated to {n} of {} bytes loaded", buf.len());
        }
        assert!(must_not_panic(&buf, name));
    }
}

#[test]
fn seeded_byte_flips_are_errors_or_loads_never_panics() {
    let mut rng = Rng(0x5EED_F00D_1234_5678);
    let mut loaded = 0;
    let mut total = 0;
    for name in ["mlp_state_dict.pt", "nested.pt", "legacy.pt", "adam_state_dict.pt", "dtypes.pt"] {
        let buf = std::fs::read(fixture(name)).unwrap();
        // Most flips land in the object pickle, where the parser and interpreter are.
        let pickle_len = if name == "legacy.pt" { 610 } else { read_index(&buf).unwrap()[0].size as usize + 64 };
        for i in 0..1000 {
            let mut m = buf.clone();
            let flips = 1 + rng.below(3);
            let mut desc = Vec::new();
            for _ in 0..flips {
                let at = if rng.below(4) == 0 { rng.below(m.len()) } else { rng.below(pickle_len.min(m.len())) };
                let v = match rng.below(3) {
                    0 => rng.next() as u8,
                    1 => m[at] ^ (1 << rng.below(8)),
                    _ => [0u8, 0xFF, 0x7F, 0x80][rng.below(4)],
                };
                desc.push(format!("[{at}] {:#04x}->{v:#04x}", m[at]));
                m[at] = v;
            }
            loaded += must_not_panic(&m, &format!("{name} mutation #{i}: {}", desc.join(", "))) as usize;
            total += 1;
        }
    }
    // Flips in tensor data, padding and unread records still load.
    assert!(loaded > 0 && loaded < total, "{loaded} of {total} mutated files loaded");
}

/// A zip checkpoint around the pickle `pkl`.
fn archive(pkl: &[u8]) -> Vec<u8> {
    common::archive(pkl, &[])
}

#[test]
fn disallowed_globals_are_refused_by_name() {
    // pickle.dumps(os.system('echo pwned'), protocol 2) as an attacker writes it.
    let mut os_system = vec![0x80, 2, b'c'];
    os_system.extend_from_slice(b"os\nsystem\n");
    os_system.extend_from_slice(&[b'(', b'X', 10, 0, 0, 0]);
    os_system.extend_from_slice(b"echo pwned");
    os_system.extend_from_slice(b"tR.");
    let e = pt::load_bytes(&archive(&os_system)).unwrap_err().to_string();
    assert!(e.contains("os.system"), "{e}");

    // Nested inside an otherwise fine dict, through STACK_GLOBAL and NEWOBJ.
    let mut nested = vec![0x80, 4, b'}', b'(', 0x8c, 1, b'k', 0x8c, 8];
    nested.extend_from_slice(b"builtins");
    nested.extend_from_slice(&[0x8c, 4]);
    nested.extend_from_slice(b"eval");
    nested.extend_from_slice(&[0x93, 0x8c, 1, b'1', 0x85, 0x81, b'u', b'.']);
    let e = pt::load_bytes(&archive(&nested)).unwrap_err().to_string();
    assert!(e.contains("builtins.eval"), "{e}");

    // A global that is only referenced, never called.
    let mut bare = vec![0x80, 2, b'c'];
    bare.extend_from_slice(b"subprocess\nPopen\n");
    bare.push(b'.');
    let e = pt::load_bytes(&archive(&bare)).unwrap_err().to_string();
    assert!(e.contains("subprocess.Popen"), "{e}");

    // An allowed global used as a dtype loads; an unsupported dtype is named.
    let mut dt = vec![0x80, 2, b'c'];
    dt.extend_from_slice(b"torch\nbfloat16\n");
    dt.push(b'.');
    assert!(matches!(pt::load_bytes(&archive(&dt)).unwrap().root, Object::DType(DType::BF16)));
    let mut cdt = vec![0x80, 2, b'c'];
    cdt.extend_from_slice(b"torch\ncomplex64\n");
    cdt.push(b'.');
    let e = pt::load_bytes(&archive(&cdt)).unwrap_err().to_string();
    assert!(e.contains("torch.complex64"), "{e}");
}

#[test]
fn not_a_checkpoint() {
    for junk in [&b""[..], b"hello world", b"PK\x03\x04", &[0x80, 2, b'.']] {
        assert!(pt::load_bytes(junk).is_err());
    }
    assert!(pt::load(fixture("no_such_file.pt")).is_err());
    assert!(pt::load_mmap(fixture("no_such_file.pt")).is_err());
    // A safetensors file is not a torch.save checkpoint.
    assert!(pt::load(fixture("mlp.safetensors")).is_err());
}
