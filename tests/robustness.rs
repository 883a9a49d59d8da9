//! Robustness: thousands of mutated copies of the bundled example model (truncated, bit-flipped, and edited through
//! the protobuf: shapes, attributes, op types, wiring, initializers) each compile or give a clean error, never a
//! panic; absurd sizes are refused before allocation; the inputs the fuzzers found stay fixed.

mod common;

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use common::repo;
use ompqc::compile::{compile, Origin};
use ompqc::data::{load_samples, Samples};
use ompqc::emit::{Lang, Provenance};
use ompqc::import::{import_bytes, ImportOptions};
use ompqc::observe::{observe, RangeMethod};
use ompqc::quantize::{QuantOptions, WeightBits};
use prost::Message;
use tract_onnx::pb;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// Values that break arithmetic: zero, negatives, the ends of the integer types, and a few plausible ones.
const EDGE: [i64; 12] = [0, -1, 1, 2, 3, 5, 64, 1 << 20, 1 << 31, i32::MAX as i64, i64::MAX, i64::MIN];

/// One protobuf-level edit of `model`.
fn edit(model: &mut pb::ModelProto, rng: &mut Rng) {
    use pb::tensor_shape_proto::dimension::Value as Dim;
    use pb::type_proto::Value as Ty;
    let graph = model.graph.as_mut().expect("the example has a graph");
    let n_nodes = graph.node.len();
    match rng.below(10) {
        // An attribute's integer or list of integers.
        0 | 1 => {
            let node = &mut graph.node[rng.below(n_nodes)];
            let at = rng.below(node.attribute.len());
            if let Some(attr) = node.attribute.get_mut(at) {
                let v = rng.pick(&EDGE);
                if attr.ints.is_empty() {
                    attr.i = v;
                } else {
                    let at = rng.below(attr.ints.len());
                    attr.ints[at] = v;
                    if rng.below(3) == 0 {
                        attr.ints.truncate(at);
                    }
                }
            }
        }
        // An initializer's dimensions or data.
        2 | 3 => {
            let at = rng.below(graph.initializer.len());
            if let Some(t) = graph.initializer.get_mut(at) {
                match rng.below(3) {
                    0 if !t.dims.is_empty() => {
                        let at = rng.below(t.dims.len());
                        t.dims[at] = rng.pick(&EDGE);
                    }
                    1 => {
                        let keep = rng.below(t.raw_data.len() + 1);
                        t.raw_data.truncate(keep);
                    }
                    _ => t.data_type = rng.below(17) as i32,
                }
            }
        }
        // The input's shape.
        4 => {
            if let Some(Ty::TensorType(tt)) = graph.input[0].r#type.as_mut().and_then(|t| t.value.as_mut()) {
                if let Some(shape) = tt.shape.as_mut() {
                    match rng.below(3) {
                        0 if !shape.dim.is_empty() => {
                            let at = rng.below(shape.dim.len());
                            shape.dim[at].value = Some(Dim::DimValue(rng.pick(&EDGE)));
                        }
                        1 if !shape.dim.is_empty() => {
                            let at = rng.below(shape.dim.len());
                            shape.dim[at].value = Some(Dim::DimParam("n".into()));
                        }
                        _ => shape.dim.truncate(rng.below(shape.dim.len() + 1)),
                    }
                }
            }
        }
        // An op type swapped for another's.
        5 => {
            let other = graph.node[rng.below(n_nodes)].op_type.clone();
            graph.node[rng.below(n_nodes)].op_type = other;
        }
        // Wiring: an input renamed to another tensor's name, dropped, or a node removed or repeated.
        6 => {
            let names: Vec<String> = graph.node.iter().flat_map(|n| n.output.clone()).collect();
            let node = &mut graph.node[rng.below(n_nodes)];
            if !node.input.is_empty() {
                let at = rng.below(node.input.len());
                node.input[at] = names[rng.below(names.len())].clone();
            }
        }
        7 => {
            let node = &mut graph.node[rng.below(n_nodes)];
            node.input.truncate(rng.below(node.input.len() + 1));
        }
        8 => {
            let at = rng.below(n_nodes);
            if rng.below(2) == 0 {
                graph.node.remove(at);
            } else {
                let copy = graph.node[at].clone();
                graph.node.insert(rng.below(n_nodes), copy);
            }
        }
        // The opset.
        _ => {
            if let Some(o) = model.opset_import.first_mut() {
                o.version = rng.pick(&[1, 6, 7, 9, 11, 13, 18, 99, -1]);
            }
        }
    }
}

/// A mutated copy of `bytes`: truncated, bit-flipped, or edited through the protobuf.
fn mutate(bytes: &[u8], model: &pb::ModelProto, rng: &mut Rng) -> Vec<u8> {
    match rng.below(4) {
        0 => bytes[..rng.below(bytes.len())].to_vec(),
        1 => {
            let mut b = bytes.to_vec();
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(b.len());
                b[at] ^= 1 << rng.below(8);
            }
            b
        }
        _ => {
            let mut m = model.clone();
            for _ in 0..1 + rng.below(2) {
                edit(&mut m, rng);
            }
            m.encode_to_vec()
        }
    }
}

/// The whole compile of one model file's bytes: import, calibrate on `calib`, quantize at 4 bits, emit C and Rust.
fn compile_bytes(bytes: &[u8], calib: &Samples) -> ompqc::Result<()> {
    let path = Path::new("mutant.onnx");
    let graph = import_bytes(bytes, path, &ImportOptions::default())?.into_graph(path)?;
    if graph.input_shape() != calib.sample_shape.as_slice() {
        return Err(ompqc::Error::input("the calibration data does not fit the input"));
    }
    let obs = observe(&graph, calib, RangeMethod::MinMax)?;
    let options = QuantOptions { bits: WeightBits::uniform(4), ..QuantOptions::default() };
    let provenance = Provenance { target: "host".into(), model_file: "mutant.onnx".into(), model_hash: String::new() };
    compile(&graph, &obs, &options, "net", &provenance, &Origin::default(), &[Lang::C, Lang::Rust]).map(|_| ())
}

/// An error message with its numbers and quoted names blanked, to count distinct kinds.
fn kind_of(message: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in message.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push_str(if quoted { "'" } else { "…'" });
            }
            _ if quoted => {}
            '0'..='9' => {
                if !out.ends_with('#') {
                    out.push('#');
                }
            }
            _ => out.push(c),
        }
    }
    out.chars().take(150).collect()
}

#[test]
fn mutated_models_compile_or_fail_cleanly() {
    let dir = repo().join("examples/digits");
    let bytes = std::fs::read(dir.join("model.onnx")).unwrap();
    let model = pb::ModelProto::decode(&bytes[..]).unwrap();
    let calib = load_samples(&dir.join("calib_x.npy"), &[1, 1, 8, 8], 0.0625, 0.0).unwrap().take(4);
    compile_bytes(&bytes, &calib).unwrap();
    // Panics are collected (where and why), not printed as they happen.
    let default_hook = std::panic::take_hook();
    let caught = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = caught.clone();
    std::panic::set_hook(Box::new(move |info| sink.lock().unwrap().push(info.to_string().replace('\n', " "))));
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut ok, mut panics, mut multi_line) = (0, vec![], vec![]);
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    const MUTANTS: usize = 3000;
    for i in 0..MUTANTS {
        let mutant = mutate(&bytes, &model, &mut rng);
        match catch_unwind(AssertUnwindSafe(|| compile_bytes(&mutant, &calib))) {
            Ok(Ok(())) => ok += 1,
            Ok(Err(e)) => {
                if e.message.contains('\n') {
                    multi_line.push((i, e.message.clone()));
                }
                *errors.entry(kind_of(&e.message)).or_default() += 1;
            }
            Err(_) => panics.push((i, caught.lock().unwrap().pop().unwrap_or_default())),
        }
    }
    std::panic::set_hook(default_hook);
    eprintln!("{MUTANTS} mutants: {ok} compiled, {} errors of {} kinds:", MUTANTS - ok, errors.len());
    for (kind, n) in &errors {
        eprintln!("{n:6}  {kind}");
    }
    assert!(multi_line.is_empty(), "messages of more than one line: {multi_line:?}");
    assert!(panics.is_empty(), "{} mutants panicked: {panics:#?}", panics.len());
    // The mutations reach both outcomes: the test is not only feeding garbage nor only harmless edits.
    assert!(ok > MUTANTS / 20 && errors.values().sum::<usize>() > MUTANTS / 4, "{ok} compiled");
}

/// A float tensor's name, type and shape.
fn value_info(name: &str, dims: &[i64]) -> pb::ValueInfoProto {
    use pb::tensor_shape_proto::{dimension::Value as Dim, Dimension};
    let dim = dims.iter().map(|&d| Dimension { value: Some(Dim::DimValue(d)), ..Default::default() }).collect();
    pb::ValueInfoProto {
        name: name.into(),
        r#type: Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: pb::tensor_proto::DataType::Float as i32,
                shape: Some(pb::TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A model from "input" to "output" (opset 13): nodes as (op type, inputs, output), with initializers.
fn model(nodes: &[(&str, &[&str], &str)], inits: Vec<pb::TensorProto>, input: &[i64], output: &[i64]) -> Vec<u8> {
    let node = nodes
        .iter()
        .enumerate()
        .map(|(i, (op, ins, out))| pb::NodeProto {
            name: if nodes.len() == 1 { "n".into() } else { format!("n{i}") },
            op_type: op.to_string(),
            input: ins.iter().map(|s| s.to_string()).collect(),
            output: vec![out.to_string()],
            ..Default::default()
        })
        .collect();
    let graph = pb::GraphProto {
        name: "g".into(),
        node,
        initializer: inits,
        input: vec![value_info("input", input)],
        output: vec![value_info("output", output)],
        ..Default::default()
    };
    pb::ModelProto {
        ir_version: 8,
        opset_import: vec![pb::OperatorSetIdProto { domain: String::new(), version: 13 }],
        graph: Some(graph),
        ..Default::default()
    }
    .encode_to_vec()
}

/// A float constant of the given dimensions, every value `v`.
fn constant(name: &str, dims: &[i64], v: f32) -> pb::TensorProto {
    pb::TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: pb::tensor_proto::DataType::Float as i32,
        raw_data: v.to_le_bytes().repeat(dims.iter().product::<i64>() as usize),
        ..Default::default()
    }
}

/// A one-node model from "input" to "output", the initializer (if any) its second input.
fn one_node(op: &str, extra_input: Option<pb::TensorProto>, input: &[i64], output: &[i64]) -> Vec<u8> {
    let second = extra_input.as_ref().map(|t| t.name.clone());
    let ins: Vec<&str> = std::iter::once("input").chain(second.as_deref()).collect();
    model(&[(op, &ins, "output")], extra_input.into_iter().collect(), input, output)
}

/// An ONNX model computing input [1, K] x W [K, 1] with every weight 1.0 (node 'n').
fn ones_dense(k: usize) -> Vec<u8> {
    one_node("MatMul", Some(constant("w", &[k as i64, 1], 1.0)), &[1, k as i64], &[1, 1])
}

/// The quantizer's proof that no int32 accumulator overflows, at its edge: inputs calibrated on [0, 1] (zero point
/// -128, so |x - zp| <= 255) and 8-bit weights of 127 bound a K-long dot product by 127 * 255 * K. K = 66,311 gives
/// 2,147,481,735 <= 2^31 - 1: the layer compiles, and the generated C under UBSan, fed the inputs that reach that
/// bound, agrees with the interpreter. K = 66,312 (2,147,514,120) is refused, naming the layer.
#[test]
fn the_accumulator_bound_holds_at_its_edge() {
    let k_fit = (i32::MAX as usize) / (127 * 255);
    assert_eq!(k_fit, 66_311);
    let path = Path::new("ones.onnx");
    let options = QuantOptions::default();
    let provenance = Provenance { target: "host".into(), model_file: "ones.onnx".into(), model_hash: String::new() };
    let compile_k = |k: usize| {
        let graph = import_bytes(&ones_dense(k), path, &ImportOptions::default()).unwrap().into_graph(path).unwrap();
        let mut data: Vec<f32> = (0..4 * k).map(|i| (i % 101) as f32 / 100.0).collect();
        data[..k].fill(0.0);
        data[k..2 * k].fill(1.0);
        let calib = Samples { n: 4, sample_shape: vec![1, k], data };
        let obs = observe(&graph, &calib, RangeMethod::MinMax).unwrap();
        (compile(&graph, &obs, &options, "net", &provenance, &Origin::default(), &[Lang::C]), calib)
    };
    let (fits, calib) = compile_k(k_fit);
    let fits = fits.unwrap();
    let q_in = fits.qgraph.tensor(fits.qgraph.input).q;
    assert_eq!(q_in.zero_point, -128);
    let ompqc::ir::quant::QOp::Dense(d) = &fits.qgraph.nodes[0].op else { panic!("a dense layer") };
    assert!(d.weights.unpack().iter().all(|&w| w == 127) && d.bias.iter().all(|&b| b.abs() < 1912));
    let dir = std::env::temp_dir().join(format!("ompqc-robust-{}-edge", std::process::id()));
    ompqc::emit::write_output_dir(&dir, &fits.files).unwrap();
    let input = ompqc::interp::quantize_input(&fits.qgraph, &calib).unwrap();
    // The second sample is all ones: every product is 255 * 127.
    assert!(input[k_fit..2 * k_fit].iter().all(|&x| x == 127));
    let r = ompqc::run::run_host(&dir, "net", &fits.qgraph, &input, 4, Lang::C, true).unwrap();
    assert!(r.bit_exact, "first mismatch at {:?}", r.first_mismatch);
    std::fs::remove_dir_all(&dir).unwrap();

    let err = compile_k(k_fit + 1).0.err().expect("one more input is refused");
    assert!(err.message.contains("'n'") && err.message.contains("could overflow"), "{}", err.message);
    assert_eq!(err.exit_code(), 2);
}

/// Runs `f` on another thread; a hang (the bug some fuzz findings were) fails after a minute instead of stalling.
fn within_a_minute<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(f()));
    rx.recv_timeout(std::time::Duration::from_secs(60)).unwrap_or_else(|_| panic!("{what}: no result in a minute"))
}

/// Every input the fuzzers found (tests/fuzz_inputs/TARGET/, minimised) gives a clean error now, promptly.
#[test]
fn fuzz_findings_stay_fixed() {
    let dir = repo().join("tests/fuzz_inputs");
    let files = |target: &str| {
        let mut f: Vec<_> = std::fs::read_dir(dir.join(target)).unwrap().map(|e| e.unwrap().path()).collect();
        f.sort();
        f
    };
    let mut seen = 0;
    for file in files("npy") {
        let bytes = std::fs::read(&file).unwrap();
        let name = file.display().to_string();
        let (samples, labels) = within_a_minute(&name, move || {
            (
                ompqc::data::parse_samples(&bytes, "x.npy", &[1, 1, 8, 8], 1.0, 0.0),
                ompqc::data::parse_labels(&bytes, "x.npy", 64),
            )
        });
        assert!(samples.is_err() && labels.is_err(), "{name}");
        seen += 1;
    }
    let calib = Samples { n: 1, sample_shape: vec![1, 1, 8, 8], data: vec![0.5; 64] };
    for file in files("onnx_model") {
        let bytes = std::fs::read(&file).unwrap();
        let name = file.display().to_string();
        let calib = calib.clone();
        let result = within_a_minute(&name, move || catch_unwind(AssertUnwindSafe(|| compile_bytes(&bytes, &calib))));
        let message = result.unwrap_or_else(|_| panic!("{name}: panicked")).err().map(|e| e.message);
        assert!(message.is_some_and(|m| !m.contains('\n')), "{name}");
        seen += 1;
    }
    assert!(seen > 0);
    // The fuzzer's finding in a model of ../shared/eval (which stays out of the repository), rebuilt: an Add whose
    // constant does not broadcast onto its tensor (tract's inference let it through; folding it indexed past the
    // constant).
    let nodes: &[(&str, &[&str], &str)] = &[("Add", &["input", "b"], "y"), ("MatMul", &["y", "w"], "output")];
    let bytes = model(nodes, vec![constant("b", &[8], 1.0), constant("w", &[16, 4], 1.0)], &[1, 16], &[1, 4]);
    // The exporter declared the add's output shape, which tract takes over its own inference.
    let mut proto = pb::ModelProto::decode(&bytes[..]).unwrap();
    proto.graph.as_mut().unwrap().value_info.push(value_info("y", &[1, 16]));
    let model = proto.encode_to_vec();
    let err = import_bytes(&model, Path::new("add.onnx"), &ImportOptions::default())
        .unwrap()
        .into_graph(Path::new("add.onnx"));
    let message = err.unwrap_err().message;
    assert!(message.contains("does not broadcast onto [1, 16]"), "{message}");
}

/// Sizes beyond the machine are refused from the headers, before anything is allocated: a model whose input alone
/// would take 400 GB, one whose shape overflows 64 bits, and .npy files announcing more data than they hold.
#[test]
fn absurd_sizes_are_refused_before_allocation() {
    let path = Path::new("huge.onnx");
    for (dims, needle) in [
        (vec![1i64, 1_000_000, 100_000], "would need 372.5 GiB of memory"),
        (vec![1, 1 << 40, 1 << 40], "would need more than 2^64 bytes"),
    ] {
        let err = import_bytes(&one_node("Relu", None, &dims, &dims), path, &ImportOptions::default()).unwrap_err();
        assert!(err.message.contains("tensor 'input'") && err.message.contains(needle), "{}", err.message);
        assert_eq!(err.exit_code(), 2);
    }
    let npy = |shape: &str| {
        let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
        header.push_str(&" ".repeat(63 - (10 + header.len()) % 64));
        header.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend((header.len() as u16).to_le_bytes());
        bytes.extend(header.as_bytes());
        bytes.extend([0u8; 256]);
        bytes
    };
    let err =
        ompqc::data::parse_samples(&npy("(1000000000000, 1, 8, 8)"), "big.npy", &[1, 1, 8, 8], 1.0, 0.0).unwrap_err();
    assert!(
        err.message.contains("announces an array of shape [1000000000000, 1, 8, 8] (256000000000000 bytes)"),
        "{}",
        err.message
    );
    let err =
        ompqc::data::parse_samples(&npy("(4294967296, 4294967296, 8, 8)"), "big.npy", &[1, 4294967296, 8, 8], 1.0, 0.0)
            .unwrap_err();
    assert!(err.message.contains("over 2^64 bytes"), "{}", err.message);
    // The same header with its data is read.
    assert_eq!(ompqc::data::parse_samples(&npy("(1, 1, 8, 8)"), "ok.npy", &[1, 1, 8, 8], 1.0, 0.0).unwrap().n, 1);
}

/// A float constant of the given dimensions with values from `rng`, uniform in [-1, 1).
fn random_constant(name: &str, dims: &[i64], rng: &mut Rng) -> pb::TensorProto {
    let n = dims.iter().product::<i64>() as usize;
    let values: Vec<u8> = (0..n).flat_map(|_| ((rng.below(2001) as f32 - 1000.0) / 1000.0).to_le_bytes()).collect();
    pb::TensorProto { raw_data: values, ..constant(name, dims, 0.0) }
}

/// An int64 constant (a Reshape's target shape).
fn shape_constant(name: &str, values: &[i64]) -> pb::TensorProto {
    pb::TensorProto {
        name: name.into(),
        dims: vec![values.len() as i64],
        data_type: pb::tensor_proto::DataType::Int64 as i32,
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

/// A random divisor of `n`.
fn divisor(n: i64, rng: &mut Rng) -> i64 {
    let all: Vec<i64> = (1..=n).filter(|d| n % d == 0).collect();
    all[rng.below(all.len())]
}

/// A random chain of reshapes (moving elements into the leading axis and back), broadcast arithmetic with
/// constants, Relu, 1x1 convolutions and global pools, flattened at the end: (model bytes, input dims).
fn random_chain(rng: &mut Rng) -> (Vec<u8>, Vec<i64>) {
    let input = vec![1, 1 + rng.below(3) as i64, 1 + rng.below(4) as i64, 1 + rng.below(4) as i64];
    let mut shape = input.clone();
    // (op type, inputs, output) per node.
    let mut nodes: Vec<(String, Vec<String>, String)> = Vec::new();
    let mut inits = Vec::new();
    let mut current = "input".to_string();
    for step in 0..2 + rng.below(4) {
        let out = format!("t{step}");
        let c = format!("c{step}");
        let total: i64 = shape.iter().product();
        let (op, ins) = match rng.below(5) {
            0 => {
                let n = divisor(total, rng);
                let ch = divisor(total / n, rng);
                let h = divisor(total / n / ch, rng);
                shape = vec![n, ch, h, total / n / ch / h];
                inits.push(shape_constant(&c, &shape));
                ("Reshape", vec![current.clone(), c])
            }
            1 => {
                // Each axis of the constant is 1 or the tensor's; a few leading axes may be left out.
                let skip = rng.below(3);
                let dims: Vec<i64> = shape[skip..].iter().map(|&d| if rng.below(2) == 0 { 1 } else { d }).collect();
                inits.push(random_constant(&c, &dims, rng));
                (if rng.below(2) == 0 { "Add" } else { "Mul" }, vec![current.clone(), c])
            }
            2 => ("Relu", vec![current.clone()]),
            3 => {
                let c_out = 1 + rng.below(3) as i64;
                inits.push(random_constant(&c, &[c_out, shape[1], 1, 1], rng));
                shape[1] = c_out;
                ("Conv", vec![current.clone(), c])
            }
            _ => {
                shape[2] = 1;
                shape[3] = 1;
                ("GlobalAveragePool", vec![current.clone()])
            }
        };
        nodes.push((op.to_string(), ins, out.clone()));
        current = out;
    }
    let total: i64 = shape.iter().product();
    inits.push(shape_constant("flat", &[1, total]));
    nodes.push(("Reshape".into(), vec![current, "flat".into()], "output".into()));
    let refs: Vec<(&str, Vec<&str>, &str)> = nodes
        .iter()
        .map(|(op, ins, out)| (op.as_str(), ins.iter().map(String::as_str).collect(), out.as_str()))
        .collect();
    let borrowed: Vec<(&str, &[&str], &str)> = refs.iter().map(|(op, ins, out)| (*op, ins.as_slice(), *out)).collect();
    (model(&borrowed, inits, &input, &[1, total]), input)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 96, ..Default::default() })]

    /// Reshapes that fold images into the leading axis and back, with broadcasts and image ops between them: each
    /// chain either imports and computes what tract computes, or is refused in one line naming the node (exit 2);
    /// never a panic, never a wrong value.
    #[test]
    fn leading_axis_broadcast_and_reshape_chains_match_tract_or_are_refused(seed in 1u64..u64::MAX) {
        let mut rng = Rng(seed);
        let (bytes, input) = random_chain(&mut rng);
        let dir = std::env::temp_dir().join(format!("ompqc-chain-{}-{seed}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("chain.onnx");
        std::fs::write(&path, &bytes).unwrap();
        let imported = catch_unwind(AssertUnwindSafe(|| {
            import_bytes(&bytes, &path, &ImportOptions::default()).and_then(|i| i.into_graph(&path))
        }));
        let graph = match imported {
            Err(_) => panic!("seed {seed}: the import panicked"),
            Ok(Err(e)) => {
                proptest::prop_assert_eq!(e.exit_code(), 2);
                proptest::prop_assert!(!e.message.contains('\n'), "seed {}: {}", seed, e.message);
                let _ = std::fs::remove_dir_all(&dir);
                return Ok(());
            }
            Ok(Ok(graph)) => graph,
        };
        let sample_shape: Vec<usize> = input.iter().map(|&d| d as usize).collect();
        let n: usize = sample_shape.iter().product();
        let data: Vec<f32> = (0..2 * n).map(|i| ((i * 7919 + seed as usize) % 200) as f32 / 100.0 - 1.0).collect();
        let samples = Samples { data, n: 2, sample_shape };
        let ours = catch_unwind(AssertUnwindSafe(|| ompqc::exec::run(&graph, &samples)));
        let ours = match ours {
            Err(_) => panic!("seed {seed}: the float executor panicked"),
            Ok(r) => r.unwrap(),
        };
        let reference = common::tract_outputs(&path, &samples);
        common::assert_close(&format!("seed {seed}"), &ours.data, &reference, ours.sample_len, 1e-4);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn many_unsupported_nodes_are_refused_grouped_by_op_on_one_short_line() {
    // 30 Hardmax then 6 LpNormalization nodes in a chain (the 36 QDQ nodes of a pre-quantized model once made a line of kilobytes).
    let names: Vec<(String, String)> = (0..36).map(|i| (format!("t{i}"), format!("t{}", i + 1))).collect();
    let nodes: Vec<(&str, [&str; 1], &str)> = names
        .iter()
        .enumerate()
        .map(|(i, (from, to))| {
            let from = if i == 0 { "input" } else { from.as_str() };
            let to = if i == 35 { "output" } else { to.as_str() };
            (if i < 30 { "Hardmax" } else { "LpNormalization" }, [from], to)
        })
        .collect();
    let borrowed: Vec<(&str, &[&str], &str)> = nodes.iter().map(|(op, ins, out)| (*op, &ins[..], *out)).collect();
    let bytes = model(&borrowed, vec![], &[1, 4], &[1, 4]);
    let path = Path::new("chain.onnx");
    let err = import_bytes(&bytes, path, &ImportOptions::default()).unwrap().into_graph(path).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let expected = "chain.onnx: 36 unsupported nodes: 30 Hardmax ('n0', 'n1', 'n2', ...: ompqc has no such \
                    operator); 6 LpNormalization ('n30', 'n31', 'n32', ...: ompqc has no such operator)";
    assert_eq!(err.message, expected);
}

#[test]
fn constants_beyond_tracts_folding_budget_are_folded() {
    // A Transpose of a 1100 x 1024 weight (4.5 MB, above tract's 4 MiB budget for eager folding) feeding a MatMul:
    // ompqc folds it itself, so the MatMul imports as a dense layer and computes x W^T.
    let (n_out, k) = (1100usize, 1024usize);
    let weight = |o: usize, i: usize| ((o * 7 + i * 3) % 11) as f32 * 0.01 - 0.05;
    let raw: Vec<u8> = (0..n_out).flat_map(|o| (0..k).flat_map(move |i| weight(o, i).to_le_bytes())).collect();
    let w = pb::TensorProto {
        name: "w".into(),
        dims: vec![n_out as i64, k as i64],
        data_type: pb::tensor_proto::DataType::Float as i32,
        raw_data: raw,
        ..Default::default()
    };
    let bytes =
        model(&[("Transpose", &["w"], "wt"), ("MatMul", &["input", "wt"], "output")], vec![w], &[1, 1024], &[1, 1100]);
    let path = Path::new("big_weight.onnx");
    let graph = import_bytes(&bytes, path, &ImportOptions::default()).unwrap().into_graph(path).unwrap();
    assert_eq!(graph.nodes.len(), 1);
    assert_eq!(graph.nodes[0].op.kind(), "Dense");
    let x: Vec<f32> = (0..k).map(|i| (i % 5) as f32 * 0.1).collect();
    let y = ompqc::exec::run(&graph, &Samples { data: x.clone(), n: 1, sample_shape: vec![1, k] }).unwrap();
    for o in [0, 1, 549, 1099] {
        let expected: f32 = (0..k).map(|i| x[i] * weight(o, i)).sum();
        assert!((y.data[o] - expected).abs() < 1e-3, "output {o}: {} instead of {expected}", y.data[o]);
    }
}

#[test]
fn an_absurd_constant_shape_is_refused_before_anything_is_allocated() {
    // ConstantOfShape of [100000, 100000, 4] (160 GB of floats) added to the input: neither tract nor ompqc's own
    // folding may allocate it; the import fails with one line.
    let shape = pb::TensorProto {
        name: "shape".into(),
        dims: vec![3],
        data_type: pb::tensor_proto::DataType::Int64 as i32,
        int64_data: vec![100_000, 100_000, 4],
        ..Default::default()
    };
    let bytes = model(
        &[("ConstantOfShape", &["shape"], "big"), ("Add", &["input", "big"], "output")],
        vec![shape],
        &[1, 4],
        &[100_000, 100_000, 4],
    );
    let path = Path::new("absurd.onnx");
    let err = catch_unwind(AssertUnwindSafe(|| {
        import_bytes(&bytes, path, &ImportOptions::default()).and_then(|i| i.into_graph(path))
    }))
    .expect("no panic")
    .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(!err.message.contains('\n') && err.message.contains("absurd.onnx"), "{}", err.message);
}
