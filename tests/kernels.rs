//! Every kernel family alone, on random shapes, strides, paddings, dilations and weight widths: a one-family model
//! per case, compiled to C (and Rust), run on the host under the sanitizers and as firmware under QEMU on a target
//! of each ISA variant (cortex-m3: portable C, cortex-m4: DSP, cortex-m55: Helium, rv32imac: portable C on
//! RISC-V), every output byte compared with the reference interpreter. The kernels are the family's own source file
//! (templates/c/kernels, the target's variant) compiled alone, in place of the model's amalgamated kernels; the
//! amalgamation runs too, on each family's first case. The plan's kernel choice is checked, so each case runs the
//! family it was drawn for.

mod common;

use std::path::PathBuf;

use ompqc::compile::{compile, Compilation, Origin};
use ompqc::emit::c::kernel_families;
use ompqc::emit::kernel_sources::Family;
use ompqc::emit::variants::variant;
use ompqc::emit::{write_output_dir, Lang, Provenance};
use ompqc::interp;
use ompqc::ir::quant::QOp;
use ompqc::ir::{Clamp, Conv, Dense, Graph, Node, Op, Pool, TensorInfo, UnaryFn, Window};
use ompqc::observe::{observe, RangeMethod};
use ompqc::plan::{Kernel, Plan};
use ompqc::quantize::{QuantOptions, WeightBits};
use ompqc::run::firmware::{self, RunRequest};
use ompqc::run::run_host;
use ompqc::target::Target;

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 33) as usize % n
    }

    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn weights(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.below(2001) as f32 / 1000.0 - 1.0).collect()
    }
}

/// The graph being built: tensors and nodes in order.
struct Builder {
    graph: Graph,
    /// The activation fused into the convolutions it builds.
    act: Clamp,
}

impl Builder {
    fn new(input: Vec<usize>) -> Builder {
        let tensors = vec![TensorInfo { name: "input".into(), shape: input }];
        Builder { graph: Graph { tensors, nodes: vec![], input: 0, output: 0, given: None }, act: Clamp::NONE }
    }

    fn shape(&self, t: usize) -> Vec<usize> {
        self.graph.tensors[t].shape.clone()
    }

    fn push(&mut self, op: Op, inputs: Vec<usize>, shape: Vec<usize>) -> usize {
        let output = self.graph.tensors.len();
        let name = format!("n{}", self.graph.nodes.len());
        self.graph.tensors.push(TensorInfo { name: format!("{name}_out"), shape });
        self.graph.nodes.push(Node { name, op, inputs, output });
        self.graph.output = output;
        output
    }

    /// A 2-D convolution of `x` (NCHW), its output size following from the window (floor).
    fn conv(&mut self, rng: &mut Rng, x: usize, c_out: usize, groups: usize, window: Window) -> usize {
        let [_, c_in, h, w] = self.shape(x)[..] else { panic!("rank 4") };
        let out = |len: usize, a: usize| {
            (len + window.pads[a] + window.pads[a + 2] - window.dilations[a] * (window.kernel[a] - 1) - 1)
                / window.strides[a]
                + 1
        };
        let (oh, ow) = (out(h, 0), out(w, 1));
        let k = window.kernel[0] * window.kernel[1] * c_in / groups;
        let weight = rng.weights(c_out * k).iter().map(|v| v / (k as f32).sqrt()).collect();
        let bias = rng.weights(c_out).iter().map(|v| v * 0.1).collect();
        let conv = Conv { weight, bias, c_in, c_out, groups, window, act: self.act };
        self.push(Op::Conv(conv), vec![x], vec![1, c_out, oh, ow])
    }
}

/// A window whose output has at least one row and column for an input of `h` x `w`.
fn window(rng: &mut Rng, (h, w): (usize, usize), kernel: [usize; 2], dilation: usize) -> Window {
    let strides = [rng.range(1, 2), rng.range(1, 2)];
    let pad = |rng: &mut Rng, k: usize| rng.range(0, (k - 1) * dilation);
    let pads = [pad(rng, kernel[0]), pad(rng, kernel[1]), pad(rng, kernel[0]), pad(rng, kernel[1])];
    let fits = |len: usize, a: usize| len + pads[a] + pads[a + 2] > dilation * (kernel[a] - 1);
    assert!(fits(h, 0) && fits(w, 1), "inputs are at least as large as the dilated kernel");
    Window { kernel, strides, dilations: [dilation; 2], pads }
}

/// One case: the family it exercises, its graph, its weight width.
struct Case {
    family: Kernel,
    graph: Graph,
    bits: u8,
}

/// Random case `i` of `family` at `bits` drawn from `rng` (the case number picks the kernels' other paths:
/// pointwise layers in place, a first layer's convolution, a depthwise row long enough for the DSP's pairs of outputs
/// or one walked along its columns, an add without a clamp, the multiply's three shapes).
fn case(family: Kernel, bits: u8, i: usize, rng: &mut Rng) -> Case {
    let (h, w) = (rng.range(5, 11), rng.range(5, 11));
    let c = rng.range(1, 19);
    let mut b = Builder::new(vec![1, c, h, w]);
    match family {
        Kernel::ConvColumns if i >= 6 && i % 2 == 0 => {
            // Rows of an even count of whole weight words (the DSP's channel loop in assembly), windows gathered
            // with borders: 3 x 3 over 8 channels at 8 bits (inside windows copied and widened as whole words), 2 x 2
            // over 8 at 2 bits, 3 x 3 over 16 at 4 bits with a ReLU.
            let (c, kernel) = match i {
                6 => (8, [3, 3]),
                8 => (8, [2, 2]),
                _ => (16, [3, 3]),
            };
            let mut d = Builder::new(vec![1, c, h, w]);
            if i == 10 {
                d.act = Clamp::RELU;
            }
            let win = Window { kernel, strides: [1, 1], dilations: [1, 1], pads: [1; 4] };
            let c_out = rng.range(2, 21);
            d.conv(rng, 0, c_out, 1, win);
            b = d;
        }
        Kernel::ConvColumns if i == 3 => {
            // A first layer: 3 x 3 over 3 channels at stride 2 (Helium reads its windows' rows straight from the
            // input, and takes the columns at the borders).
            let mut first = Builder::new(vec![1, 3, h, w]);
            let mut win = window(rng, (h, w), [3, 3], 1);
            win.strides = [2, 2];
            win.pads = [1; 4];
            let c_out = rng.range(2, 21);
            first.conv(rng, 0, c_out, 1, win);
            b = first;
        }
        Kernel::ConvColumns if i == 0 || i == 1 || i == 5 => {
            // A pointwise layer whose columns are its input pixels (RISC-V takes three of them a block, the DSP four)
            // over a pixel count that is a multiple of neither; below 8 bits over at most 16 channels (Helium reads
            // such pixels straight from the input).
            let c = if bits < 8 { c.min(16) } else { c };
            let mut pointwise = Builder::new(vec![1, c, 5, 7]);
            let win = Window { kernel: [1, 1], strides: [1, 1], dilations: [1, 1], pads: [0; 4] };
            let c_out = rng.range(2, 21);
            pointwise.conv(rng, 0, c_out, 1, win);
            b = pointwise;
        }
        Kernel::ConvColumns => {
            let (kernel, dilation) = ([rng.range(1, 3), rng.range(1, 3)], rng.range(1, 2));
            let c_out = rng.range(2, 21);
            let win = window(rng, (h, w), kernel, dilation);
            // Case 4 with a ReLU: its clamp's floor is the zero point (the short form's copies without the sign's
            // correction).
            if i == 4 {
                b.act = Clamp::RELU;
            }
            b.conv(rng, 0, c_out, 1, win);
        }
        Kernel::Depthwise3x3 if i == 6 => {
            // After a pointwise layer, so that the plan may write the depthwise layer over its input (Helium's path
            // straight from the input then leaves it to the plane).
            let mut d = Builder::new(vec![1, c, h, w]);
            let pointwise = Window { kernel: [1, 1], strides: [1, 1], dilations: [1, 1], pads: [0; 4] };
            let x = d.conv(rng, 0, c, 1, pointwise);
            let same = Window { kernel: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [1; 4] };
            d.conv(rng, x, c, c, same);
            b = d;
        }
        Kernel::Depthwise3x3 => {
            // Any shape (at 8 bits, Helium's path straight from the input); rows of at least four outputs at
            // stride 1 (the DSP's pairs of outputs); rows shorter than eight under longer columns (walked along the
            // columns). The second time below 8 bits the walked rows are 18 long: Helium then takes the plane.
            // The DSP's path straight from the input takes case 0 (16 channels at stride 2, the clamp's floor below
            // the zero point), case 4 (32 channels, a ReLU) and case 8 (16 channels at stride 2 with a left shift).
            let long = if i > 3 { 18 } else { 12 };
            let (h, w, row_stride) = match i % 3 {
                0 => (h, w, None),
                1 => (h, long, Some(1)),
                _ => (long, 5, None),
            };
            let c = match i {
                0 | 8 => 16,
                4 => 32,
                _ => c,
            };
            let mut d = Builder::new(vec![1, c, h, w]);
            // Case 4 with a ReLU, as for the one-group convolutions.
            if i == 4 {
                d.act = Clamp::RELU;
            }
            let mut win = window(rng, (h, w), [3, 3], 1);
            if let Some(s) = row_stride {
                win.strides[1] = s;
            }
            if i == 0 || i == 8 {
                (win.strides, win.pads) = ([2, 2], [1; 4]);
            }
            d.conv(rng, 0, c, c, win);
            b = d;
        }
        Kernel::Depthwise => {
            // 5x5 (the DSP's unrolled window), dilated 3x3 (one tap at a time), or a rectangle (pairs of taps; the
            // first one 3 wide, whose rows the DSP takes two outputs a step).
            let (kernel, dilation) = match i % 3 {
                0 => ([5, 5], 1),
                1 => ([3, 3], 2),
                _ if i < 3 => ([4, 3], 1),
                _ => match [rng.range(2, 5), rng.range(2, 5)] {
                    [3, 3] => ([3, 5], 1),
                    k => (k, 1),
                },
            };
            let c = c.max(2);
            let mut d = Builder::new(vec![1, c, h, w]);
            let mut win = window(rng, (h, w), kernel, dilation);
            // The first three cases at stride 1 along the rows (the DSP's two outputs per step for odd widths).
            if i < 3 {
                win.strides[1] = 1;
            }
            d.conv(rng, 0, c, c, win);
            b = d;
        }
        Kernel::ConvGrouped => {
            let groups = rng.range(2, 3);
            let (c_in, c_out) = (groups * rng.range(1, 4), groups * rng.range(1, 4));
            // One channel in and out per group would be depthwise.
            let c_out = if c_in == groups && c_out == groups { 2 * groups } else { c_out };
            let mut g = Builder::new(vec![1, c_in, h, w]);
            let kernel = [rng.range(1, 3), rng.range(1, 3)];
            let win = window(rng, (h, w), kernel, 1);
            g.conv(rng, 0, c_out, groups, win);
            b = g;
        }
        Kernel::Add => {
            // A convolution whose output only feeds an add with its own input: the add runs inside it, in bands.
            let pad = Window { kernel: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1] };
            let y = b.conv(rng, 0, c, 1, pad);
            let act = if i % 2 == 0 { Clamp::RELU } else { Clamp::NONE };
            b.push(Op::Add { act }, vec![y, 0], vec![1, c, h, w]);
        }
        Kernel::MaxPool | Kernel::AvgPool => {
            let (kernel, dilation) = ([rng.range(1, 3), rng.range(1, 3)], rng.range(1, 2));
            let win = window(rng, (h, w), kernel, dilation);
            let out = |len: usize, a: usize| {
                (len + win.pads[a] + win.pads[a + 2] - win.dilations[a] * (win.kernel[a] - 1) - 1) / win.strides[a] + 1
            };
            let shape = vec![1, c, out(h, 0), out(w, 1)];
            let pool = Pool { window: win, count_include_pad: rng.below(2) == 1 };
            let op = if family == Kernel::MaxPool { Op::MaxPool(pool) } else { Op::AvgPool(pool) };
            b.push(op, vec![0], shape);
        }
        Kernel::GlobalAvgPool => {
            b.push(Op::GlobalAvgPool, vec![0], vec![1, c, 1, 1]);
        }
        Kernel::Dense => {
            let (k, n_out) = (rng.range(1, 300), rng.range(1, 40));
            let mut d = Builder::new(vec![1, k]);
            let weight = rng.weights(k * n_out).iter().map(|v| v / (k as f32).sqrt()).collect();
            let dense = Dense { weight, bias: rng.weights(n_out), k, n_out, act: Clamp::NONE };
            d.push(Op::Dense(dense), vec![0], vec![1, n_out]);
            b = d;
        }
        Kernel::Mul => match i % 3 {
            // Squeeze-and-excitation style: each channel scaled by its mean (broadcast over the pixels).
            0 => {
                let mean = b.push(Op::GlobalAvgPool, vec![0], vec![1, c, 1, 1]);
                b.push(Op::Mul { act: Clamp::NONE }, vec![0, mean], vec![1, c, h, w]);
            }
            // Equal shapes (a gated activation), clamped.
            1 => {
                let gate = b.push(Op::Unary(UnaryFn::Tanh), vec![0], vec![1, c, h, w]);
                b.push(Op::Mul { act: Clamp::RELU }, vec![0, gate], vec![1, c, h, w]);
            }
            // The broadcast input first: element by element.
            _ => {
                let mean = b.push(Op::GlobalAvgPool, vec![0], vec![1, c, 1, 1]);
                b.push(Op::Mul { act: Clamp::NONE }, vec![mean, 0], vec![1, c, h, w]);
            }
        },
        Kernel::Table => {
            b.push(Op::Unary(UnaryFn::Sigmoid), vec![0], vec![1, c, h, w]);
        }
        Kernel::Pad => {
            let pads = [rng.range(0, 2), rng.range(0, 2), rng.range(0, 2), rng.range(0, 2)];
            let shape = vec![1, c, h + pads[0] + pads[2], w + pads[1] + pads[3]];
            b.push(Op::Pad { pads, value: 0.25 }, vec![0], shape);
        }
        Kernel::Concat => {
            // The input beside a function of it: two scales, so one part is requantized.
            let y = b.push(Op::Unary(UnaryFn::Tanh), vec![0], vec![1, c, h, w]);
            b.push(Op::Concat { axis: 1 }, vec![0, y], vec![1, 2 * c, h, w]);
        }
        Kernel::Transpose => {
            // Flattening a channels-last image in the channels-first order (one channel would move nothing).
            let c = c.max(2);
            let mut d = Builder::new(vec![1, c, h, w]);
            d.push(Op::Reshape, vec![0], vec![1, c * h * w]);
            b = d;
        }
        Kernel::Softmax => {
            let n = rng.range(2, 40);
            let mut d = Builder::new(vec![1, n]);
            d.push(Op::Softmax { axis: 1 }, vec![0], vec![1, n]);
            b = d;
        }
        other => panic!("no generator for {other:?}"),
    }
    Case { family, graph: b.graph, bits }
}

fn temp(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("ompqc-kernels-{}-{tag}", std::process::id()))
}

/// The targets of each ISA variant whose toolchain and emulator are installed (it says which are not).
fn variant_targets() -> Vec<Target> {
    ["cortex-m3", "cortex-m4", "cortex-m55", "rv32imac"]
        .iter()
        .map(|t| Target::load(t).unwrap())
        .filter(|t| match firmware::check_runnable(t) {
            Ok(_) => true,
            Err(e) => {
                eprintln!("kernel families: not run on {}: {} (scripts/test.sh installs it)", t.name, e.message);
                false
            }
        })
        .collect()
}

/// A copy of the compiled model `dir` whose kernels are the families' source files for `target` (portable on the
/// host), each compiled alone: a file per family that sets the model's namespace and includes the source.
fn with_kernel_sources(dir: &std::path::Path, families: &[Family], target: Option<&Target>) -> PathBuf {
    let alone = dir.with_extension(target.map_or("host", |t| t.name.as_str()));
    let (c, c_alone) = (dir.join("c"), alone.join("c"));
    std::fs::create_dir_all(&c_alone).unwrap();
    for entry in std::fs::read_dir(&c).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name != "k_kernels.c" {
            std::fs::copy(&path, c_alone.join(&name)).unwrap();
        }
    }
    for file in ["model.qgraph.json", "report.json"] {
        if dir.join(file).exists() {
            std::fs::copy(dir.join(file), alone.join(file)).unwrap();
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/c/kernels");
    for family in families {
        let source = match target.map_or("portable", |t| variant(t, family.file)) {
            "portable" => root.join(format!("{}.c", family.file)),
            isa => root.join(isa).join(format!("{}.c", family.file)),
        };
        let text = format!("#define OMPQC_NS(name) k_##name\n#include \"{}\"\n", source.display());
        std::fs::write(c_alone.join(format!("kernel_{}.c", family.file)), text).unwrap();
    }
    alone
}

/// The generated C of a case whose layer 0 requantizes in the short form, with that form turned off: its kernels
/// then run the general requantization (which layers the compiler gives the short form depends on their numbers).
fn without_short_requant(files: &mut [(String, Vec<u8>)], label: &str) {
    let (_, text) = files.iter_mut().find(|(path, _)| path == "c/k_weights.c").expect("the C weights");
    let source = String::from_utf8(text.clone()).unwrap();
    // The parameter block's last number, short_requant (1, or 2 with left shifts), before the layer's arrays.
    let short = [", 1, k_l0_weights,", ", 2, k_l0_weights,"].into_iter().find(|short| source.contains(short));
    let short = short.unwrap_or_else(|| panic!("{label}: layer 0 does not requantize in the short form"));
    *text = source.replace(short, ", 0, k_l0_weights,").into_bytes();
}

/// The case planned with its depthwise 3x3 convolutions written over their inputs where they may be, and its C
/// generated again.
fn over_inputs(c: &mut Compilation, provenance: &Provenance) {
    c.plan = Plan::with_stage(&c.qgraph, None, true).unwrap();
    assert!(c.plan.kernels.iter().any(|k| k.in_place), "no depthwise layer writes over its input");
    emit_c_again(c, provenance);
}

/// The case's multiplies and convolutions with their output multipliers' shift set to `shift` (m0 kept), the
/// integer graph and its C generated again.
fn with_shift(c: &mut Compilation, shift: i32, provenance: &Provenance) {
    for node in &mut c.qgraph.nodes {
        match &mut node.op {
            QOp::Mul(m) => m.output_multiplier.shift = shift,
            QOp::Conv(conv) => conv.multipliers.iter_mut().for_each(|m| m.shift = shift),
            _ => {}
        }
    }
    emit_c_again(c, provenance);
}

/// The case's C generated again from its integer graph and plan.
fn emit_c_again(c: &mut Compilation, provenance: &Provenance) {
    let sources = ompqc::emit::c::emit(&c.qgraph, &c.plan.kernels, &c.plan.c, "k", provenance).unwrap();
    for (file, text) in sources {
        let path = format!("c/{file}");
        let slot = c.files.iter_mut().find(|(p, _)| *p == path).expect("the C file compiled before");
        slot.1 = text.into_bytes();
    }
}

#[test]
fn every_kernel_family_alone_on_random_shapes_is_bit_exact_on_every_variant() {
    let families = [
        Kernel::ConvColumns,
        Kernel::Depthwise3x3,
        Kernel::Depthwise,
        Kernel::ConvGrouped,
        Kernel::Add,
        Kernel::Dense,
        Kernel::MaxPool,
        Kernel::AvgPool,
        Kernel::GlobalAvgPool,
        Kernel::Mul,
        Kernel::Table,
        Kernel::Pad,
        Kernel::Concat,
        Kernel::Transpose,
        Kernel::Softmax,
    ];
    let targets = variant_targets();
    let mut rng = Rng(0x5EED_CAFE);
    for family in families {
        // Every width; the one-group convolutions and dense layers (assembly loops on the DSP, with tails), the
        // other depthwise windows and the multiplies (their requantizations) twice.
        let cases = match family {
            Kernel::Dense | Kernel::Depthwise | Kernel::Mul => 6,
            // Twice, then the DSP's assembly channel loop at each width.
            Kernel::ConvColumns => 11,
            // Twice, once more written over its input, and one left shift straight from the input.
            Kernel::Depthwise3x3 => 9,
            _ => 3,
        };
        for i in 0..cases {
            let Case { family, graph, bits } = case(family, [8, 4, 2][i % 3], i, &mut rng);
            let label = format!("{family:?} case {i} at {bits} bits, input {:?}", graph.input_shape());
            let calib = common::random_samples(graph.input_shape(), 6, (i + 1) as u64);
            let obs = observe(&graph, &calib, RangeMethod::MinMax).unwrap();
            let options = QuantOptions { bits: WeightBits::uniform(bits), ..QuantOptions::default() };
            let provenance = Provenance { target: "host".into(), model_file: "case".into(), model_hash: "-".into() };
            let langs = [Lang::C, Lang::Rust];
            let mut c = compile(&graph, &obs, &options, "k", &provenance, &Origin::default(), &langs)
                .unwrap_or_else(|e| panic!("{label}: {e}"));
            // Every other convolution case runs the general requantization.
            let convolution = matches!(family, Kernel::ConvColumns | Kernel::Depthwise3x3 | Kernel::Depthwise);
            let label = if family == Kernel::Depthwise3x3 && i == 6 {
                over_inputs(&mut c, &provenance);
                format!("{label} (over its input)")
            } else if convolution && i % 2 == 1 {
                without_short_requant(&mut c.files, &label);
                format!("{label} (general requantization)")
            } else if (family == Kernel::Mul && i >= 3)
                || (convolution
                    && family != Kernel::Depthwise
                    && (i == 2 || (family == Kernel::Depthwise3x3 && i == 8)))
            {
                // The other requantizations: a multiplier of shift 1 (a left shift: the convolutions' short form
                // with left shifts, the multiplies' general form) or for the multiplies 0 (the short form without a
                // right shift), whatever the calibration gave.
                let shift = if i == 4 { 0 } else { 1 };
                with_shift(&mut c, shift, &provenance);
                if convolution {
                    let (_, weights) = c.files.iter().find(|(path, _)| path == "c/k_weights.c").unwrap();
                    let left = format!(", {}, k_l0_weights,", ompqc::emit::LEFT_SHORT);
                    assert!(
                        String::from_utf8_lossy(weights).contains(&left),
                        "{label}: no short form with left shifts"
                    );
                }
                format!("{label} (multiplier shift {shift})")
            } else if matches!(family, Kernel::ConvColumns | Kernel::Depthwise3x3) && i == 4 {
                // The ReLU case: the short form without left shifts, its clamp's floor the zero point.
                let (_, weights) = c.files.iter().find(|(path, _)| path == "c/k_weights.c").unwrap();
                assert!(String::from_utf8_lossy(weights).contains(", 1, k_l0_weights,"), "{label}: no short form");
                let node = &c.qgraph.nodes[0];
                let QOp::Conv(conv) = &node.op else { panic!("{label}: not a convolution") };
                let zp = c.qgraph.tensors[node.output].q.zero_point;
                assert!(conv.act_min >= zp, "{label}: the clamp's floor is below the zero point");
                format!("{label} (ReLU)")
            } else {
                label
            };
            let runs = |k: Kernel| c.plan.kernels.iter().any(|choice| choice.kernel == k);
            let expected = if family == Kernel::Add { Kernel::Fused } else { family };
            assert!(runs(expected), "{label}: the plan chose {:?}", c.plan.kernels);
            let dir = temp(&format!("{family:?}-{i}"));
            write_output_dir(&dir, &c.files).unwrap();
            let input = interp::quantize_input(&c.qgraph, &calib).unwrap();
            let families = kernel_families(&c.qgraph, &c.plan.kernels, &c.plan.c);
            // The amalgamated kernels and Rust once per family (their builds are the slow part).
            let mut builds = vec![(with_kernel_sources(&dir, &families, None), Lang::C, None)];
            builds.extend(targets.iter().map(|t| (with_kernel_sources(&dir, &families, Some(t)), Lang::C, Some(t))));
            if i == 0 {
                builds.push((dir.clone(), Lang::C, None));
                builds.push((dir.clone(), Lang::Rust, None));
                builds.extend(targets.iter().map(|t| (dir.clone(), Lang::C, Some(t))));
            }
            for (build, lang, target) in &builds {
                let what = format!("{label}, {lang:?} from {}", build.display());
                let Some(target) = target else {
                    let r = run_host(build, "k", &c.qgraph, &input, calib.n, *lang, *lang == Lang::C).unwrap();
                    assert!(r.bit_exact, "{what} on the host: first mismatch {:?}", r.first_mismatch);
                    continue;
                };
                let request = RunRequest {
                    dir: build,
                    report: &c.report,
                    graph: &c.qgraph,
                    lang: Lang::C,
                    input: &input,
                    n: calib.n,
                    profile: false,
                    timeout: None,
                };
                let r = firmware::run(target, &request).unwrap_or_else(|e| panic!("{what} on {}: {e}", target.name));
                assert!(r.bit_exact, "{what} on {}: first mismatch {:?}", target.name, r.first_mismatch);
            }
            eprintln!("{label}: bit-exact on the host and {} emulated targets", targets.len());
            for (build, _, _) in builds {
                let _ = std::fs::remove_dir_all(build);
            }
        }
    }
}

/// A sub-byte dense layer whose DSP sums (offset-binary lanes against inputs less their zero point, at most 255)
/// could leave int32 is refused by name at its width, and compiles at 8 bits.
#[test]
fn a_dense_layer_too_long_for_the_sub_byte_sums_is_refused_by_name() {
    let (k, n_out) = (30_000, 2);
    let mut rng = Rng(7);
    let mut b = Builder::new(vec![1, k]);
    let weight = rng.weights(k * n_out).iter().map(|v| v / (k as f32).sqrt()).collect();
    b.push(Op::Dense(Dense { weight, bias: vec![0.0; n_out], k, n_out, act: Clamp::NONE }), vec![0], vec![1, n_out]);
    let calib = common::random_samples(b.graph.input_shape(), 2, 1);
    let obs = observe(&b.graph, &calib, RangeMethod::MinMax).unwrap();
    let provenance = Provenance { target: "host".into(), model_file: "case".into(), model_hash: "-".into() };
    let at = |bits| {
        let options = QuantOptions { bits: WeightBits::uniform(bits), ..QuantOptions::default() };
        compile(&b.graph, &obs, &options, "k", &provenance, &Origin::default(), &[Lang::C])
    };
    for bits in [2, 4] {
        let error = at(bits).err().unwrap_or_else(|| panic!("a {bits}-bit dense layer of {k} inputs compiled"));
        let message = error.to_string();
        assert!(message.contains("layer 'n0' (Dense): its sums could leave int32"), "{message}");
        assert!(message.contains(&format!("{bits}-bit")), "{message}");
    }
    assert!(at(8).is_ok());
}

/// A reshape that moves no bytes is an alias (its output shares its input's buffer), unless both are the caller's:
/// then it copies, and the compile report says so.
#[test]
fn a_reshape_between_the_callers_buffers_is_reported_as_a_copy_and_runs_bit_exact() {
    let provenance = Provenance { target: "host".into(), model_file: "case".into(), model_hash: "-".into() };
    // The pool's output goes straight to the caller's output; then the input itself is the output.
    let mut pooled = Builder::new(vec![1, 6, 4, 4]);
    let mean = pooled.push(Op::GlobalAvgPool, vec![0], vec![1, 6, 1, 1]);
    pooled.push(Op::Reshape, vec![mean], vec![1, 6]);
    let mut alone = Builder::new(vec![1, 6, 1, 1]);
    alone.push(Op::Reshape, vec![0], vec![1, 6]);
    for (b, expected) in [(pooled, vec!["global-avg-pool", "alias"]), (alone, vec!["copy"])] {
        let calib = common::random_samples(b.graph.input_shape(), 4, 9);
        let obs = observe(&b.graph, &calib, RangeMethod::MinMax).unwrap();
        let options = QuantOptions::default();
        let langs = [Lang::C, Lang::Rust];
        let c = compile(&b.graph, &obs, &options, "k", &provenance, &Origin::default(), &langs).unwrap();
        let kernels: Vec<&str> = c.report.layers.iter().map(|l| l.kernel.as_str()).collect();
        assert_eq!(kernels, expected);
        let dir = temp(&format!("reshape-{}", expected.len()));
        write_output_dir(&dir, &c.files).unwrap();
        let input = interp::quantize_input(&c.qgraph, &calib).unwrap();
        for lang in langs {
            let r = run_host(&dir, "k", &c.qgraph, &input, calib.n, lang, lang == Lang::C).unwrap();
            assert!(r.bit_exact, "{expected:?} in {lang:?}: first mismatch {:?}", r.first_mismatch);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
