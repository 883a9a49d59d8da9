//! Which kernel runs each node, decided once: the kernel, its weight width, the add it runs inside a convolution
//! (fusion.rs) and the scratch it needs in each language and ISA variant. The memory planner takes the scratch
//! sizes from here; the schedule, the emitters, the compile report and the profiler read the same decision.

use serde::{Deserialize, Serialize};

use super::fusion;
use super::tiling::Stage;
use crate::error::{Error, Result};
use crate::ir::quant::{Layout, QConv, QGraph, QNode, QOp};

/// A kernel of the generated code. Convolutions have four, one per loop structure; an op whose bytes do not move
/// (a reshape that keeps channels-last order) runs none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kernel {
    /// One group: the windows of two output pixels copied into columns, two pixels by two channels per pass.
    ConvColumns,
    /// Depthwise 3x3 without dilation: a padded plane per channel (Helium: four outputs per vector).
    Depthwise3x3,
    /// Other depthwise convolutions: four channels per pass over the taps inside the input.
    Depthwise,
    /// Any other group count: one output at a time.
    ConvGrouped,
    Dense,
    Add,
    Mul,
    Table,
    MaxPool,
    AvgPool,
    GlobalAvgPool,
    Pad,
    Concat,
    /// A reshape that keeps the bytes: nothing runs unless the plan puts its input and output apart.
    Alias,
    /// A reshape between channels-last and channels-first order.
    Transpose,
    Softmax,
    LogSoftmax,
    Resize,
    Slice,
    Normalize,
    Reduce,
    /// An add run inside the convolution before it.
    Fused,
}

impl Kernel {
    /// The kebab-case name reports use.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::ConvColumns => "conv-columns",
            Kernel::Depthwise3x3 => "depthwise-3x3",
            Kernel::Depthwise => "depthwise",
            Kernel::ConvGrouped => "conv-grouped",
            Kernel::Dense => "dense",
            Kernel::Add => "add",
            Kernel::Mul => "mul",
            Kernel::Table => "table",
            Kernel::MaxPool => "max-pool",
            Kernel::AvgPool => "avg-pool",
            Kernel::GlobalAvgPool => "global-avg-pool",
            Kernel::Pad => "pad",
            Kernel::Concat => "concat",
            Kernel::Alias => "alias",
            Kernel::Transpose => "transpose",
            Kernel::Softmax => "softmax",
            Kernel::LogSoftmax => "log-softmax",
            Kernel::Resize => "resize",
            Kernel::Slice => "slice",
            Kernel::Normalize => "normalize",
            Kernel::Reduce => "reduce",
            Kernel::Fused => "fused",
        }
    }

    /// The convolution kernel of `c`. Checked in this order: a 1-channel 3x3 convolution is depthwise 3x3.
    pub fn of_conv(c: &QConv) -> Kernel {
        let depthwise = c.groups == c.c_in && c.groups == c.c_out;
        if c.is_depthwise_3x3() {
            Kernel::Depthwise3x3
        } else if c.groups == 1 {
            Kernel::ConvColumns
        } else if depthwise {
            Kernel::Depthwise
        } else {
            Kernel::ConvGrouped
        }
    }
}

/// Scratch bytes of a kernel call: per C variant (the generated C holds every variant and the compiler's target
/// picks one, so the C arena reserves the largest) and for the Rust crate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scratch {
    pub portable: usize,
    pub dsp: usize,
    pub mve: usize,
    pub rust: usize,
}

impl Scratch {
    /// What the C arena reserves: the largest of the variants.
    pub fn c(&self) -> usize {
        self.portable.max(self.dsp).max(self.mve)
    }
}

/// A convolution that also computes the add after it, a band of `rows` output rows at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Band {
    /// The add node.
    pub add: usize,
    pub rows: usize,
}

/// The decision for one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub kernel: Kernel,
    /// The weight width of a convolution or dense kernel.
    pub bits: Option<u8>,
    pub band: Option<Band>,
    pub scratch: Scratch,
    /// A depthwise 3x3 convolution the plans let write over its input: the C plane kernels and the Rust one read
    /// one channel into their scratch before writing any of its outputs.
    pub in_place: bool,
}

impl Choice {
    /// The name reports and profiles show: the kernel, its width and the fused add.
    pub fn label(&self) -> String {
        let mut label = self.kernel.name().to_string();
        if let Some(b) = self.bits {
            label += &format!(" w{b}");
        }
        if self.band.is_some() {
            label += " + add";
        }
        label
    }
}

/// Weight widths the kernels unpack.
pub const KERNEL_WIDTHS: [u8; 3] = [2, 4, 8];

/// Refuses a weight width the kernels do not unpack, naming the layer (`kind` is its op's kind).
pub fn check_width(layer: &str, kind: &str, bits: u8) -> Result<()> {
    if KERNEL_WIDTHS.contains(&bits) {
        return Ok(());
    }
    Err(Error::input(format!(
        "layer '{layer}' ({kind}): the code generators have kernels for 2-, 4- and 8-bit weights, not {bits}"
    )))
}

/// The kernel of every node of `graph`, in order, with `stage` run tile by tile (its convolutions fuse no add and
/// their scratch is that of their largest tile) and, with `in_place`, depthwise 3x3 convolutions over their input
/// where it dies. A node no kernel implements is an error naming it.
pub fn choose(graph: &QGraph, stage: Option<&Stage>, in_place: bool) -> Result<Vec<Choice>> {
    let mut choices: Vec<Choice> = Vec::with_capacity(graph.nodes.len());
    for (ix, node) in graph.nodes.iter().enumerate() {
        let fused = ix > 0 && choices[ix - 1].band.is_some_and(|b| b.add == ix);
        let tiles = stage.filter(|s| ix < s.end);
        let mut choice = if fused { fused_choice() } else { choose_node(graph, ix, node, tiles)? };
        if in_place && choice.kernel == Kernel::Depthwise3x3 && overwrites(graph, ix) {
            choice.in_place = true;
        }
        choices.push(choice);
    }
    Ok(choices)
}

/// Whether node `ix` may write its output over its only input: read by no other node, not the caller's, and no
/// smaller than the output.
fn overwrites(graph: &QGraph, ix: usize) -> bool {
    let node = &graph.nodes[ix];
    let input = node.inputs[0];
    let readers = graph.nodes.iter().filter(|n| n.inputs.contains(&input)).count();
    readers == 1
        && input != graph.input
        && input != graph.output
        && graph.tensor(node.output).elems() <= graph.tensor(input).elems()
}

fn fused_choice() -> Choice {
    Choice { kernel: Kernel::Fused, bits: None, band: None, scratch: Scratch::default(), in_place: false }
}

fn choose_node(graph: &QGraph, ix: usize, node: &QNode, stage: Option<&Stage>) -> Result<Choice> {
    let (in_shape, out_shape) = (&graph.tensor(node.inputs[0]).shape, &graph.tensor(node.output).shape);
    let simple = |kernel| Choice { kernel, bits: None, band: None, scratch: Scratch::default(), in_place: false };
    Ok(match &node.op {
        QOp::Conv(c) => {
            check_width(&node.name, node.op.kind(), c.weights.bits)?;
            let kernel = Kernel::of_conv(c);
            let band = match stage {
                Some(_) => None,
                None => fusion::fused_add(graph, ix).map(|add| Band { add, rows: fusion::band_rows(graph, ix) }),
            };
            let (_, mut out_w, out_c) = Layout::hwc(out_shape);
            let mut out_h = band.map_or(Layout::hwc(out_shape).0, |b| b.rows);
            if let Some(s) = stage {
                let largest = |a: usize| (0..s.tiles.len()).map(|t| s.geometry(graph, ix, t).out_size[a]).max();
                (out_h, out_w) = (largest(0).unwrap_or(out_h), largest(1).unwrap_or(out_w));
            }
            let mut scratch = conv_scratch(kernel, c, out_h, out_w);
            if let Some(b) = band {
                // The band of the convolution's output comes first.
                let band_bytes = (b.rows * out_w * out_c).next_multiple_of(super::ALIGN);
                for s in [&mut scratch.portable, &mut scratch.dsp, &mut scratch.mve, &mut scratch.rust] {
                    *s += band_bytes;
                }
            }
            Choice { kernel, bits: Some(c.weights.bits), band, scratch, in_place: false }
        }
        QOp::Dense(d) => {
            check_width(&node.name, node.op.kind(), d.weights.bits)?;
            // The input less its zero point, widened to int16 (C).
            let c = (2 * d.weights.k).next_multiple_of(super::ALIGN);
            let scratch = Scratch { portable: c, dsp: c, mve: c, rust: 0 };
            Choice { bits: Some(d.weights.bits), scratch, ..simple(Kernel::Dense) }
        }
        QOp::Add(_) => simple(Kernel::Add),
        QOp::Mul(_) => simple(Kernel::Mul),
        QOp::Table(_) => simple(Kernel::Table),
        QOp::MaxPool(_) => simple(Kernel::MaxPool),
        QOp::AvgPool(_) => simple(Kernel::AvgPool),
        QOp::GlobalAvgPool => simple(Kernel::GlobalAvgPool),
        QOp::Pad { .. } => simple(Kernel::Pad),
        QOp::Concat { .. } => simple(Kernel::Concat),
        QOp::Reshape if super::reshape_is_free(in_shape, out_shape) => simple(Kernel::Alias),
        QOp::Reshape => {
            // Channels-last storage read in the logical (channels-first) order, or the reverse.
            if super::reshape_is_free(in_shape, in_shape) == super::reshape_is_free(out_shape, out_shape) {
                return Err(Error::input(format!(
                    "layer '{}' ({}): the code generators cannot yet reshape between two channels-last layouts",
                    node.name,
                    node.op.kind()
                )));
            }
            simple(Kernel::Transpose)
        }
        QOp::Softmax { axis, .. } => {
            // The exponentials of one slice; the Rust kernel keeps them on its stack.
            let len = in_shape[*axis];
            let c = 4 * len;
            Choice { scratch: Scratch { portable: c, dsp: c, mve: c, rust: 0 }, ..simple(Kernel::Softmax) }
        }
        QOp::LogSoftmax { .. } => simple(Kernel::LogSoftmax),
        QOp::Resize(_) => simple(Kernel::Resize),
        QOp::View(_) => simple(Kernel::Slice),
        QOp::Normalize(_) => simple(Kernel::Normalize),
        QOp::Reduce { .. } => simple(Kernel::Reduce),
    })
}

/// The scratch of a convolution kernel computing `out_h` rows of `out_w` outputs. Columns: two output pixels'
/// windows, K rounded up to 4 bytes each, int8 on the portable path (laid out for int16), then on Helium the int32
/// sums of both pixels' channels; the DSP's four pixels' interleaved int16 columns (K rounded up to whole weight
/// words), then one window as gathered (also in whole weight words: their zeros past K are widened with it), then a
/// table of the channels' requantization constants (20 bytes each); in Rust two int8 windows of whole weight words,
/// then both widened for the DSP (4 bytes an input). The grouped kernels walk the windows in place and need none.
/// Depthwise: one channel's input as an int16 plane padded to the windows, then the int32 sums of a band of at
/// least 32 outputs (whole rows); other than 3x3, a cell of slack after the plane and the int16 taps between (Helium
/// runs the DSP variant). The Rust plane is int8 with a byte of slack (its DSP loop reads each window's rows a word
/// at a time), and its sums stay on the stack.
fn conv_scratch(kernel: Kernel, c: &QConv, out_h: usize, out_w: usize) -> Scratch {
    match kernel {
        Kernel::ConvColumns => {
            let k4 = c.weights.k.next_multiple_of(4);
            let words = c.weights.k.next_multiple_of(32 / c.weights.bits as usize);
            // Rust: the columns in whole weight words, and with `dsp` both widened to int16 after them (4 bytes an
            // input: at 8 bits the inputs, below the offset chunks), or with `mve` below 8 bits both in their
            // fields' order, in whole blocks of 16 weight bytes.
            let bits = c.weights.bits as usize;
            let fields = if bits < 8 { 2 * words.next_multiple_of(128 / bits) } else { 0 };
            let rust = (2 * words + fields.max(4 * words)).next_multiple_of(super::ALIGN);
            Scratch { portable: 2 * k4 + c.weights.k, dsp: 9 * words + 20 * c.c_out, mve: 4 * k4 + 8 * c.c_out, rust }
        }
        Kernel::Depthwise3x3 | Kernel::Depthwise => {
            let [sh, sw] = c.window.strides;
            let span = |a: usize| (c.window.kernel[a] - 1) * c.window.dilations[a] + 1;
            let cells = ((out_h - 1) * sh + span(0)) * ((out_w - 1) * sw + span(1));
            // Depthwise 3x3 walks a layer of rows shorter than 8 along its columns when those are longer
            // (depthwise3x3.h): its band is of columns.
            let transposed = kernel == Kernel::Depthwise3x3 && out_w < 8 && out_h > out_w;
            let walked = if transposed { out_h } else { out_w };
            let sums = 4 * walked * 32usize.div_ceil(walked);
            let bytes = if kernel == Kernel::Depthwise3x3 {
                (2 * cells).next_multiple_of(4) + sums
            } else {
                // A cell of slack, then the taps: kernel rows of an even count.
                let taps = 2 * c.window.kernel[0] * c.window.kernel[1].next_multiple_of(2);
                (2 * (cells + 1)).next_multiple_of(4) + taps.next_multiple_of(4) + sums
            };
            // Helium's depthwise 3x3 puts the three plane rows of a walked row interleaved after the plane, instead of
            // the sums: 3 bytes a cell, 8 cells a step, each window read 16 bytes at a time (3 strides past the last).
            let (pw, step) = if transposed { ((out_h - 1) * sh + 3, sh) } else { ((out_w - 1) * sw + 3, sw) };
            let interleaved = 3 * (pw + 8 + 3 * step) + 16;
            let mve = if kernel == Kernel::Depthwise3x3 {
                (2 * cells).next_multiple_of(4) + sums.max(interleaved.next_multiple_of(4))
            } else {
                bytes
            };
            Scratch {
                portable: bytes,
                dsp: bytes.max(dsp_depthwise3x3_hwc(kernel, c)),
                mve,
                // The Rust kernel slices its plane with a byte of slack whatever the window.
                rust: (cells + 1).next_multiple_of(super::ALIGN),
            }
        }
        _ => Scratch::default(),
    }
}

/// The DSP's depthwise 3x3 straight from the HWC input (dsp/depthwise3x3.c), where it may run: channels in
/// sixteens, the clamp the whole int8 range, at stride 2 or over at least 32 channels. Per chunk of up to 64 channels
/// a table of 152 bytes per four channels, then a border pixel's window and a pixel of the input zero point (10 bytes
/// a channel).
fn dsp_depthwise3x3_hwc(kernel: Kernel, c: &QConv) -> usize {
    let ch = c.c_out;
    let strided = c.window.strides != [1, 1];
    if kernel != Kernel::Depthwise3x3 || ch % 16 != 0 || c.act_min != -128 || c.act_max != 127 || !(strided || ch >= 32)
    {
        return 0;
    }
    let chunk = ch.min(64);
    chunk / 4 * 152 + 10 * chunk
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::fixed_point::Multiplier;
    use crate::ir::pack::PackedWeights;
    use crate::ir::quant::{QNode, QParams, QTensor};
    use crate::ir::Window;

    /// A graph of one convolution from [1, c_in, 8, 8] to [1, c_out, 8, 8] (3x3, pad 1) with `groups`.
    fn conv_graph(c_in: usize, c_out: usize, groups: usize, kernel: usize, dilation: usize) -> QGraph {
        let k = kernel * kernel * c_in / groups;
        let q = QParams { scale: 1.0 / 16.0, zero_point: 0 };
        let tensor = |name: &str, c: usize| QTensor { name: name.into(), shape: vec![1, c, 8, 8], q };
        let pad = dilation * (kernel - 1) / 2;
        let conv = QConv {
            weights: PackedWeights::pack(&vec![1; c_out * k], c_out, k, 8),
            bias: vec![0; c_out],
            multipliers: vec![Multiplier { m0: 1 << 30, shift: -4 }; c_out],
            c_in,
            c_out,
            groups,
            window: Window { kernel: [kernel; 2], strides: [1, 1], dilations: [dilation; 2], pads: [pad; 4] },
            act_min: -128,
            act_max: 127,
        };
        QGraph {
            tensors: vec![tensor("x", c_in), tensor("y", c_out)],
            nodes: vec![QNode { name: "conv".into(), op: QOp::Conv(conv), inputs: vec![0], output: 1 }],
            input: 0,
            output: 1,
        }
    }

    #[test]
    fn each_convolution_gets_its_kernel_and_that_kernels_scratch() {
        let kernel =
            |c_in, c_out, groups, k, dil| choose(&conv_graph(c_in, c_out, groups, k, dil), None, false).unwrap()[0];
        // One group: two columns of K = 27 (28 rounded) bytes laid out for int16, then Helium's 2 x 16 int32 sums;
        // the DSP's four pixels' interleaved int16 columns of whole weight words, one window and 16 channels'
        // constants; Rust's two windows of whole words, then both widened (4 bytes an input).
        let columns = kernel(3, 16, 1, 3, 1);
        assert_eq!(columns.kernel, Kernel::ConvColumns);
        let dsp = 8 * 28 + 28 + 20 * 16;
        assert_eq!(
            columns.scratch,
            Scratch { portable: 2 * 28 + 27, dsp, mve: 4 * 28 + 8 * 16, rust: 2 * 28 + 4 * 28 }
        );
        // Depthwise 3x3, also with a single channel (one group): an int16 plane of 10 x 10 and 32 sums (4 rows of 8),
        // on Helium the same (three rows of 10 interleaved with their slack, 3 * (10 + 8 + 3) + 16 bytes, fit in the
        // sums' place); Rust's int8 plane and a byte of slack, rounded to the arena's alignment.
        for (c, groups) in [(8, 8), (1, 1)] {
            let dw = kernel(c, c, groups, 3, 1);
            assert_eq!(dw.kernel, Kernel::Depthwise3x3);
            assert_eq!(dw.scratch, Scratch { portable: 200 + 128, dsp: 200 + 128, mve: 200 + 128, rust: 104 });
        }
        assert_eq!(kernel(8, 8, 8, 3, 2).kernel, Kernel::Depthwise, "dilated");
        // 5x5 (pad 2): a plane of 12 x 12 and a cell of slack, 5 tap rows of 6, 32 sums; in Rust the int8 plane and
        // its byte of slack.
        let dw5 = kernel(8, 8, 8, 5, 1);
        assert_eq!(dw5.kernel, Kernel::Depthwise, "5x5");
        let bytes = (2 * (12 * 12 + 1usize)).next_multiple_of(4) + 2 * 5 * 6 + 128;
        assert_eq!(dw5.scratch, Scratch { portable: bytes, dsp: bytes, mve: bytes, rust: 148 });
        assert_eq!(kernel(8, 16, 2, 3, 1).kernel, Kernel::ConvGrouped);
        assert_eq!(kernel(8, 16, 2, 3, 1).scratch, Scratch::default());
    }

    #[test]
    fn a_width_without_kernels_is_refused_by_name() {
        let mut graph = conv_graph(3, 4, 1, 3, 1);
        let QOp::Conv(c) = &mut graph.nodes[0].op else { unreachable!() };
        c.weights = PackedWeights::pack(&[1; 4 * 27], 4, 27, 3);
        let err = choose(&graph, None, false).unwrap_err();
        assert!(err.message.contains("'conv'") && err.message.contains("not 3"), "{}", err.message);
    }
}
