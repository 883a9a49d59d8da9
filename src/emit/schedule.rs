//! The schedule every code generator renders: for each node of the integer graph, in order, which kernel runs with
//! which parameters on which buffers of the memory plan. The C and Rust emitters only format it.

use super::conv_layout::short_requant;
pub use super::params::{
    BinaryParams, ConcatParams, ConvParams, DenseParams, GlobalPoolParams, LogSoftmaxParams, NormalizeParams,
    PadParams, PoolParams, ReduceParams, ResizeParams, SliceParams, SoftmaxParams, TransposeParams, Value,
    WindowParams,
};
use crate::ir::fixed_point::Multiplier;
use crate::ir::pack::PackedWeights;
use crate::ir::quant::{Layout, QConv, QGraph, QNode, QOp, LOG_SOFTMAX_LN2};
use crate::ir::{Pool, ReduceKind};
use crate::plan::tiling::Region;
use crate::plan::{Choice, Kernel, MemoryPlan, Place, Tiled};

/// A tensor's buffer and its length in bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Operand {
    pub place: Place,
    pub len: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Call {
    /// `kernel`: which of the convolution kernels (plan::kernels); `scratch`: the arena offset of its scratch,
    /// when it needs any. With `residual`, the step's second input is the residual and its output the add's.
    Conv {
        kernel: Kernel,
        bits: u8,
        params: ConvParams,
        scratch: Option<usize>,
        residual: Option<Residual>,
    },
    /// `scratch`: the arena offset of its scratch, when it needs any (C).
    Dense {
        bits: u8,
        params: DenseParams,
        scratch: Option<usize>,
    },
    Add(BinaryParams),
    Mul(BinaryParams),
    /// A 256-entry lookup table (the node's).
    Table {
        n: usize,
    },
    MaxPool(PoolParams),
    AvgPool(PoolParams),
    GlobalAvgPool(GlobalPoolParams),
    Pad(PadParams),
    /// One input of a concatenation.
    ConcatPart(ConcatParams),
    Copy {
        n: usize,
    },
    Transpose(TransposeParams),
    /// Softmax with the node's exponential table and, in C, `len` int32 of scratch at arena offset `scratch`.
    Softmax {
        params: SoftmaxParams,
        scratch: usize,
    },
    /// Log-softmax with the node's exponential and logarithm tables.
    LogSoftmax(LogSoftmaxParams),
    /// Resampling with the node's tap tables.
    Resize(ResizeParams),
    Slice(SliceParams),
    /// Normalization with the node's gains and offsets.
    Normalize(NormalizeParams),
    Reduce(ReduceParams),
    /// A tile of the model's input copied from the caller's buffer (patch-based execution).
    TileIn(WindowParams),
    /// A tile of a stage's output copied into its place in the whole tensor.
    TileOut(WindowParams),
}

/// The add fused into a convolution (plan::fusion): node `node`, its parameters with the convolution's output as
/// input a and the residual as b, and the convolution's output rows per band.
#[derive(Clone, Debug, PartialEq)]
pub struct Residual {
    pub node: usize,
    pub params: BinaryParams,
    pub band_rows: usize,
}

/// One kernel call: node `node`'s `call` reading `inputs` and writing `output`, for tile `tile` of a stage run
/// tile by tile.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub node: usize,
    pub tile: Option<usize>,
    pub call: Call,
    pub inputs: Vec<Operand>,
    pub output: Operand,
}

impl Step {
    /// Whether this is the node's last step (the profiling hook follows it): a stage run tile by tile counts as its
    /// last node, after the last tile.
    pub fn ends_node(steps: &[Step], i: usize) -> bool {
        match steps[i].tile {
            Some(_) => steps.get(i + 1).is_none_or(|next| next.tile.is_none()),
            None => steps.get(i + 1).is_none_or(|next| next.node != steps[i].node),
        }
    }
}

/// Which kernels a schedule calls.
#[derive(Default, Clone, Copy, Debug)]
pub struct Uses {
    pub conv: bool,
    /// The convolution kernels (plan::kernels), at any width.
    pub conv_columns: bool,
    pub depthwise3x3: bool,
    pub depthwise: bool,
    pub conv_grouped: bool,
    /// A convolution with a fused add.
    pub residual: bool,
    /// A (depthwise) convolution written over its own input.
    pub conv_in_place: bool,
    pub dense: bool,
    pub conv_or_dense: bool,
    pub add: bool,
    pub mul: bool,
    pub table: bool,
    pub max_pool: bool,
    pub avg_pool: bool,
    pub global_avg_pool: bool,
    pub pad: bool,
    pub concat: bool,
    pub copy: bool,
    pub transpose: bool,
    pub softmax: bool,
    pub log_softmax: bool,
    pub resize: bool,
    pub slice: bool,
    pub normalize: bool,
    pub reduce: bool,
    pub window: bool,
}

impl Uses {
    pub fn of(steps: &[Step]) -> Uses {
        let mut u = Uses::default();
        for step in steps {
            match step.call {
                Call::Conv { kernel, ref residual, .. } => {
                    u.conv = true;
                    u.residual |= residual.is_some();
                    u.conv_in_place |= step.inputs[0].place == step.output.place;
                    match kernel {
                        Kernel::ConvColumns => u.conv_columns = true,
                        Kernel::Depthwise3x3 => u.depthwise3x3 = true,
                        Kernel::Depthwise => u.depthwise = true,
                        _ => u.conv_grouped = true,
                    }
                }
                Call::Dense { .. } => u.dense = true,
                Call::Add(_) => u.add = true,
                Call::Mul(_) => u.mul = true,
                Call::Table { .. } => u.table = true,
                Call::MaxPool(_) => u.max_pool = true,
                Call::AvgPool(_) => u.avg_pool = true,
                Call::GlobalAvgPool(_) => u.global_avg_pool = true,
                Call::Pad(_) => u.pad = true,
                Call::ConcatPart(_) => u.concat = true,
                Call::Copy { .. } => u.copy = true,
                Call::Transpose(_) => u.transpose = true,
                Call::Softmax { .. } => u.softmax = true,
                Call::LogSoftmax(_) => u.log_softmax = true,
                Call::Resize(_) => u.resize = true,
                Call::Slice(_) => u.slice = true,
                Call::Normalize(_) => u.normalize = true,
                Call::Reduce(_) => u.reduce = true,
                Call::TileIn(_) | Call::TileOut(_) => u.window = true,
            }
        }
        u.conv_or_dense = u.conv || u.dense;
        u
    }
}

/// The weight widths of the conv (`conv` true) or dense steps, ascending.
pub fn widths(steps: &[Step], conv: bool) -> Vec<u8> {
    let mut w: Vec<u8> = steps
        .iter()
        .filter_map(|s| match s.call {
            Call::Conv { bits, .. } if conv => Some(bits),
            Call::Dense { bits, .. } if !conv => Some(bits),
            _ => None,
        })
        .collect();
    w.sort_unstable();
    w.dedup();
    w
}

/// The packed weights, biases and multipliers of a conv or dense node.
pub fn layer_constants(node: &QNode) -> Option<(&PackedWeights, &[i32], &[Multiplier])> {
    match &node.op {
        QOp::Conv(c) => Some((&c.weights, &c.bias, &c.multipliers)),
        QOp::Dense(d) => Some((&d.weights, &d.bias, &d.multipliers)),
        _ => None,
    }
}

/// (channels, pixels) of a logical shape in channels-last storage.
pub fn channels_pixels(shape: &[usize]) -> (usize, usize) {
    match shape {
        [] | [_] => (1, shape.iter().product()),
        [_, c, rest @ ..] => (*c, rest.iter().product()),
    }
}

fn i(v: usize) -> i32 {
    v as i32
}

struct Scheduler<'a> {
    graph: &'a QGraph,
    kernels: &'a [Choice],
    plan: &'a MemoryPlan,
    steps: Vec<Step>,
    /// The tile the steps being scheduled compute, inside a stage.
    tile: Option<usize>,
}

impl Scheduler<'_> {
    fn operand(&self, tensor: usize) -> Operand {
        Operand { place: self.plan.places[tensor], len: self.graph.tensor(tensor).elems() }
    }

    fn push(&mut self, node: usize, call: Call, inputs: &[usize]) {
        let output = self.operand(self.graph.nodes[node].output);
        let inputs = inputs.iter().map(|&t| self.operand(t)).collect();
        self.steps.push(Step { node, tile: self.tile, call, inputs, output });
    }

    /// The 4-D broadcast of a binary op's inputs onto its output, in storage order.
    fn broadcast(&self, node: &QNode) -> ([i32; 4], [i32; 4], [i32; 4]) {
        let storage4 = |t: usize| {
            let s = Layout::storage_shape(&self.graph.tensor(t).shape);
            let mut d = vec![1usize; 4usize.saturating_sub(s.len())];
            d.extend(s);
            [i(d[0]), i(d[1]), i(d[2]), i(d[3])]
        };
        let strides = |t: usize| {
            let d = storage4(t);
            let mut st = [0i32; 4];
            let mut stride = 1;
            for a in (0..4).rev() {
                st[a] = if d[a] == 1 { 0 } else { stride };
                stride *= d[a];
            }
            st
        };
        (storage4(node.output), strides(node.inputs[0]), strides(node.inputs[1]))
    }

    fn binary(
        &self,
        node: &QNode,
        left_shift: i32,
        a: Multiplier,
        b: Multiplier,
        out: Multiplier,
        act: (i32, i32),
    ) -> BinaryParams {
        let zp = |t: usize| self.graph.tensor(t).q.zero_point;
        let (dims, a_strides, b_strides) = self.broadcast(node);
        BinaryParams {
            dims,
            a_strides,
            b_strides,
            a_zp: zp(node.inputs[0]),
            b_zp: zp(node.inputs[1]),
            out_zp: zp(node.output),
            act_min: act.0,
            act_max: act.1,
            left_shift,
            a_mult: a.m0,
            a_shift: a.shift,
            b_mult: b.m0,
            b_shift: b.shift,
            out_mult: out.m0,
            out_shift: out.shift,
        }
    }

    fn add_params(&self, node: &QNode) -> BinaryParams {
        let QOp::Add(a) = &node.op else { unreachable!("add parameters of an add node") };
        let [ma, mb] = a.input_multipliers;
        self.binary(node, a.left_shift, ma, mb, a.output_multiplier, (a.act_min, a.act_max))
    }

    fn mul_params(&self, node: &QNode) -> BinaryParams {
        let QOp::Mul(m) = &node.op else { unreachable!("multiply parameters of a multiply node") };
        let none = Multiplier { m0: 0, shift: 0 };
        self.binary(node, 0, none, none, m.output_multiplier, (m.act_min, m.act_max))
    }

    /// The residual tensor of add node `ix` fused into the convolution writing `conv_out`, and the add's parameters
    /// with the convolution's output as input a (the add is symmetric in its inputs).
    fn fused_add(&self, ix: usize, conv_out: usize) -> (usize, BinaryParams) {
        let add = &self.graph.nodes[ix];
        let mut params = self.add_params(add);
        if add.inputs[0] == conv_out {
            return (add.inputs[1], params);
        }
        std::mem::swap(&mut params.a_zp, &mut params.b_zp);
        std::mem::swap(&mut params.a_mult, &mut params.b_mult);
        std::mem::swap(&mut params.a_shift, &mut params.b_shift);
        (add.inputs[0], params)
    }

    fn pool(&self, node: &QNode, p: &Pool) -> PoolParams {
        let (in_h, in_w, c) = Layout::hwc(&self.graph.tensor(node.inputs[0]).shape);
        let (out_h, out_w, _) = Layout::hwc(&self.graph.tensor(node.output).shape);
        let w = &p.window;
        PoolParams {
            in_h: i(in_h),
            in_w: i(in_w),
            c: i(c),
            out_h: i(out_h),
            out_w: i(out_w),
            k_h: i(w.kernel[0]),
            k_w: i(w.kernel[1]),
            stride_h: i(w.strides[0]),
            stride_w: i(w.strides[1]),
            dil_h: i(w.dilations[0]),
            dil_w: i(w.dilations[1]),
            pad_t: i(w.pads[0]),
            pad_l: i(w.pads[1]),
            pad_b: i(w.pads[2]),
            pad_r: i(w.pads[3]),
            count_include_pad: i32::from(p.count_include_pad),
            in_zp: self.graph.tensor(node.inputs[0]).q.zero_point,
        }
    }

    fn pad_params(&self, node: &QNode, pads: &[usize; 4], value: i8) -> PadParams {
        let (in_h, in_w, c) = Layout::hwc(&self.graph.tensor(node.inputs[0]).shape);
        let (out_h, out_w, _) = Layout::hwc(&self.graph.tensor(node.output).shape);
        PadParams {
            in_h: i(in_h),
            in_w: i(in_w),
            c: i(c),
            out_h: i(out_h),
            out_w: i(out_w),
            pad_t: i(pads[0]),
            pad_l: i(pads[1]),
            value: i32::from(value),
        }
    }

    fn conv_params(&self, node: &QNode, c: &QConv) -> ConvParams {
        let (input, output) = (self.graph.tensor(node.inputs[0]), self.graph.tensor(node.output));
        let ((in_h, in_w, in_c), (out_h, out_w, out_c)) = (Layout::hwc(&input.shape), Layout::hwc(&output.shape));
        let w = &c.window;
        ConvParams {
            in_h: i(in_h),
            in_w: i(in_w),
            in_c: i(in_c),
            out_h: i(out_h),
            out_w: i(out_w),
            out_c: i(out_c),
            groups: i(c.groups),
            k_h: i(w.kernel[0]),
            k_w: i(w.kernel[1]),
            stride_h: i(w.strides[0]),
            stride_w: i(w.strides[1]),
            dil_h: i(w.dilations[0]),
            dil_w: i(w.dilations[1]),
            pad_t: i(w.pads[0]),
            pad_l: i(w.pads[1]),
            in_zp: input.q.zero_point,
            out_zp: output.q.zero_point,
            act_min: c.act_min,
            act_max: c.act_max,
            row_bytes: i(c.weights.row_bytes()),
            short_requant: short_requant(&c.weights, &c.bias, &c.multipliers, input.q.zero_point, output.q.zero_point),
        }
    }

    fn conv(&mut self, ix: usize, c: &QConv) {
        let node = &self.graph.nodes[ix];
        let choice = self.kernels[ix];
        let (kernel, bits, scratch) = (choice.kernel, c.weights.bits, self.plan.scratch[ix]);
        let params = self.conv_params(node, c);
        match choice.band {
            Some(band) => {
                let (skip, add) = self.fused_add(band.add, node.output);
                let residual = Residual { node: band.add, params: add, band_rows: band.rows };
                let call = Call::Conv { kernel, bits, params, scratch, residual: Some(residual) };
                self.push(ix, call, &[node.inputs[0], skip]);
            }
            None => self.push(ix, Call::Conv { kernel, bits, params, scratch, residual: None }, &[node.inputs[0]]),
        }
    }

    fn concat(&mut self, ix: usize, axis: usize, requant: &[Option<Multiplier>]) {
        let node = &self.graph.nodes[ix];
        let output = node.output;
        let a = Layout::storage_axis(axis, self.graph.tensor(output).shape.len());
        let storage = |t: usize| Layout::storage_shape(&self.graph.tensor(t).shape);
        let outer: usize = storage(output)[..a].iter().product();
        let out_block: usize = storage(output)[a..].iter().product();
        let mut offset = 0;
        for (k, &t) in node.inputs.iter().enumerate() {
            let block: usize = storage(t)[a..].iter().product();
            let m = requant[k].unwrap_or(Multiplier { m0: 0, shift: 0 });
            let params = ConcatParams {
                offset: i(offset),
                outer: i(outer),
                block: i(block),
                out_block: i(out_block),
                requant: i32::from(requant[k].is_some()),
                mult: m.m0,
                shift: m.shift,
                in_zp: self.graph.tensor(t).q.zero_point,
                out_zp: self.graph.tensor(output).q.zero_point,
            };
            self.push(ix, Call::ConcatPart(params), &[t]);
            offset += block;
        }
    }

    fn node(&mut self, ix: usize) {
        let node = &self.graph.nodes[ix];
        let (input, output) = (node.inputs[0], node.output);
        let (in_shape, out_shape) = (&self.graph.tensor(input).shape, &self.graph.tensor(output).shape);
        let q_out = self.graph.tensor(output).q;
        match (&node.op, self.kernels[ix].kernel) {
            (_, Kernel::Fused) => {} // Runs inside the convolution before it.
            (QOp::Conv(c), _) => self.conv(ix, c),
            (QOp::Dense(d), _) => {
                let params = DenseParams {
                    k: i(d.weights.k),
                    n_out: i(d.weights.rows),
                    in_zp: self.graph.tensor(input).q.zero_point,
                    out_zp: q_out.zero_point,
                    act_min: d.act_min,
                    act_max: d.act_max,
                    row_bytes: i(d.weights.row_bytes()),
                };
                let scratch = self.plan.scratch[ix];
                self.push(ix, Call::Dense { bits: d.weights.bits, params, scratch }, &[input]);
            }
            (QOp::Add(_), _) => self.push(ix, Call::Add(self.add_params(node)), &node.inputs),
            (QOp::Mul(_), _) => self.push(ix, Call::Mul(self.mul_params(node)), &node.inputs),
            (QOp::Table(_), _) => self.push(ix, Call::Table { n: self.graph.tensor(output).elems() }, &[input]),
            (QOp::MaxPool(p), _) => self.push(ix, Call::MaxPool(self.pool(node, p)), &[input]),
            (QOp::AvgPool(p), _) => self.push(ix, Call::AvgPool(self.pool(node, p)), &[input]),
            (QOp::GlobalAvgPool, _) => {
                let (c, pixels) = channels_pixels(in_shape);
                self.push(ix, Call::GlobalAvgPool(GlobalPoolParams { pixels: i(pixels), c: i(c) }), &[input]);
            }
            (QOp::Pad { pads, value }, _) => {
                self.push(ix, Call::Pad(self.pad_params(node, pads, *value)), &[input]);
            }
            (QOp::Concat { axis, requant }, _) => self.concat(ix, *axis, requant),
            (_, Kernel::Alias) => {
                // Same bytes: the plan gave both tensors one buffer, unless one of them is the caller's.
                if self.plan.places[input] != self.plan.places[output] {
                    self.push(ix, Call::Copy { n: self.graph.tensor(output).elems() }, &[input]);
                }
            }
            (QOp::Reshape, _) => {
                // A channels-last tensor read in the logical (channels-first) order, or the reverse.
                let (c_in, p_in) = channels_pixels(in_shape);
                let (c_out, p_out) = channels_pixels(out_shape);
                let to_logical = !crate::plan::reshape_is_free(in_shape, in_shape);
                let (rows, cols) = if to_logical { (p_in, c_in) } else { (c_out, p_out) };
                self.push(ix, Call::Transpose(TransposeParams { rows: i(rows), cols: i(cols) }), &[input]);
            }
            (QOp::Softmax { axis, .. }, _) => {
                let storage = Layout::storage_shape(in_shape);
                let a = Layout::storage_axis(*axis, in_shape.len());
                let (outer, len, inner) =
                    (storage[..a].iter().product::<usize>(), storage[a], storage[a + 1..].iter().product::<usize>());
                let scratch = self.plan.scratch[ix].unwrap_or(0);
                let params = SoftmaxParams { outer: i(outer), len: i(len), inner: i(inner) };
                self.push(ix, Call::Softmax { params, scratch }, &[input]);
            }
            (QOp::LogSoftmax { axis, step, .. }, _) => {
                let storage = Layout::storage_shape(in_shape);
                let a = Layout::storage_axis(*axis, in_shape.len());
                let (outer, len, inner) =
                    (storage[..a].iter().product::<usize>(), storage[a], storage[a + 1..].iter().product::<usize>());
                let params = LogSoftmaxParams {
                    outer: i(outer),
                    len: i(len),
                    inner: i(inner),
                    step: *step,
                    ln2: LOG_SOFTMAX_LN2,
                };
                self.push(ix, Call::LogSoftmax(params), &[input]);
            }
            (QOp::Normalize(q), _) => {
                let (outer, len, inner) = Layout::normalized_blocks(in_shape, q.axis);
                let params = NormalizeParams {
                    outer: i(outer),
                    len: i(len),
                    inner: i(inner),
                    per_channel: i32::from(q.per_channel),
                    in_zp: self.graph.tensor(input).q.zero_point,
                    out_zp: self.graph.tensor(node.output).q.zero_point,
                    eps_hi: (q.epsilon >> 30) as i32,
                    eps_lo: (q.epsilon & ((1 << 30) - 1)) as i32,
                };
                self.push(ix, Call::Normalize(params), &[input]);
            }
            (QOp::Reduce { kind, axes }, _) => {
                let (outer, len, inner) = Layout::reduced_blocks(in_shape, axes, out_shape)
                    .expect("the quantizer accepts only reductions with storage loops");
                let kind = match kind {
                    ReduceKind::Mean => 0,
                    ReduceKind::Max => 1,
                    ReduceKind::Min => 2,
                };
                self.push(
                    ix,
                    Call::Reduce(ReduceParams { outer: i(outer), len: i(len), inner: i(inner), kind }),
                    &[input],
                );
            }
            (QOp::View(v), _) => {
                // A strided copy in storage order, as 4-D: leading axes of one element.
                let (dims, base, strides) = Layout::storage_view(v, in_shape, out_shape);
                let lead = 4 - dims.len();
                let mut params = SliceParams { dims: [1; 4], offset: base as i32, strides: [0; 4] };
                for (a, (&d, &s)) in dims.iter().zip(&strides).enumerate() {
                    (params.dims[lead + a], params.strides[lead + a]) = (i(d), s as i32);
                }
                self.push(ix, Call::Slice(params), &[input]);
            }
            (QOp::Resize(r), _) => {
                let (in_h, in_w, c) = Layout::hwc(in_shape);
                let params = ResizeParams {
                    in_h: i(in_h),
                    in_w: i(in_w),
                    c: i(c),
                    out_h: i(r.y.out_len()),
                    out_w: i(r.x.out_len()),
                    taps_y: i(r.y.taps),
                    taps_x: i(r.x.taps),
                    zp: self.graph.tensor(input).q.zero_point,
                };
                self.push(ix, Call::Resize(params), &[input]);
            }
        }
    }
}

/// Where a tile of a stage's tensor lives and how it is laid out.
#[derive(Clone, Copy)]
struct TileOperand {
    place: Place,
    region: Region,
    channels: usize,
}

impl TileOperand {
    /// The tile, read from the pixel at `region`'s corner on.
    fn at(&self, region: &Region) -> Operand {
        let skip = ((region.rows.0 - self.region.rows.0) * self.region.width() + region.cols.0 - self.region.cols.0)
            * self.channels;
        let place = match self.place {
            Place::Arena(o) => Place::Arena(o + skip),
            other => other,
        };
        Operand { place, len: self.region.area() * self.channels - skip }
    }

    /// Storage strides (batch, row, column, channel) of a tile as a 4-D broadcast operand of `dims`.
    fn strides(&self, dims: [i32; 4]) -> [i32; 4] {
        let c = self.channels;
        let full = [0, self.region.width() * c, c, 1];
        [0, 1, 2, 3].map(|a| if dims[a] == 1 { 0 } else { i(full[a]) })
    }
}

impl Scheduler<'_> {
    /// Tensor `t`'s tile `tile` of the stage: the model input's and the stage output's have buffers of their own.
    fn tile_operand(&self, tiled: &Tiled, tile: usize, t: usize) -> TileOperand {
        let place = if t == self.graph.input {
            Place::Arena(tiled.input)
        } else if t == tiled.stage.output(self.graph) {
            Place::Arena(tiled.output)
        } else {
            self.plan.places[t]
        };
        let (_, _, channels) = Layout::hwc(&self.graph.tensor(t).shape);
        TileOperand { place, region: tiled.stage.tiles[tile][t].expect("a tensor of the stage"), channels }
    }

    /// The window copy between a whole tensor of `shape` and its tile at `region` (`into_tile`: from the tensor).
    fn window(shape: &[usize], region: &Region, into_tile: bool) -> WindowParams {
        let (_, w, c) = Layout::hwc(shape);
        let (whole, tile) = (i((region.rows.0 * w + region.cols.0) * c), i(region.width() * c));
        let (src_offset, src_stride, dst_offset, dst_stride) =
            if into_tile { (whole, i(w * c), 0, tile) } else { (0, tile, whole, i(w * c)) };
        WindowParams { rows: i(region.height()), row_bytes: tile, src_offset, src_stride, dst_offset, dst_stride }
    }

    /// The stage's steps: per tile, the input's tile copied in, each node on its tiles, the output's tile copied out.
    fn stage(&mut self, tiled: &Tiled) {
        let (input, output, end) = (self.graph.input, tiled.stage.output(self.graph), tiled.stage.end);
        for tile in 0..tiled.stage.tiles.len() {
            self.tile = Some(tile);
            let into = self.tile_operand(tiled, tile, input);
            let call = Call::TileIn(Self::window(&self.graph.tensor(input).shape, &into.region, true));
            let whole = self.operand(input);
            self.steps.push(Step {
                node: 0,
                tile: self.tile,
                call,
                inputs: vec![whole],
                output: into.at(&into.region),
            });
            for ix in 0..end {
                self.tile_node(tiled, tile, ix);
            }
            let from = self.tile_operand(tiled, tile, output);
            let call = Call::TileOut(Self::window(&self.graph.tensor(output).shape, &from.region, false));
            let (inputs, whole) = (vec![from.at(&from.region)], self.operand(output));
            self.steps.push(Step { node: end - 1, tile: self.tile, call, inputs, output: whole });
        }
        self.tile = None;
    }

    /// Node `ix` of the stage on tile `tile`: the whole-tensor call with the tile's geometry and buffers.
    fn tile_node(&mut self, tiled: &Tiled, tile: usize, ix: usize) {
        let node = &self.graph.nodes[ix];
        let operand = |t: usize| self.tile_operand(tiled, tile, t);
        let out = operand(node.output);
        let area = out.region.area() * out.channels;
        let call = match &node.op {
            QOp::Conv(c) => {
                let g = tiled.stage.geometry(self.graph, ix, tile);
                let params = ConvParams {
                    in_h: i(g.in_size[0]),
                    in_w: i(g.in_size[1]),
                    out_h: i(g.out_size[0]),
                    out_w: i(g.out_size[1]),
                    pad_t: i(g.pad[0]),
                    pad_l: i(g.pad[1]),
                    ..self.conv_params(node, c)
                };
                let (kernel, bits, scratch) = (self.kernels[ix].kernel, c.weights.bits, self.plan.scratch[ix]);
                Call::Conv { kernel, bits, params, scratch, residual: None }
            }
            QOp::Pad { pads, value } => {
                let g = tiled.stage.geometry(self.graph, ix, tile);
                Call::Pad(PadParams {
                    in_h: i(g.in_size[0]),
                    in_w: i(g.in_size[1]),
                    out_h: i(g.out_size[0]),
                    out_w: i(g.out_size[1]),
                    pad_t: i(g.pad[0]),
                    pad_l: i(g.pad[1]),
                    ..self.pad_params(node, pads, *value)
                })
            }
            QOp::Table(_) => Call::Table { n: area },
            QOp::Add(_) | QOp::Mul(_) => {
                let dims = [1, i(out.region.height()), i(out.region.width()), i(out.channels)];
                let [a, b] = [0, 1].map(|k| operand(node.inputs[k]).strides(dims));
                let params = match node.op {
                    QOp::Add(_) => self.add_params(node),
                    _ => self.mul_params(node),
                };
                let params = BinaryParams { dims, a_strides: a, b_strides: b, ..params };
                if matches!(node.op, QOp::Add(_)) {
                    Call::Add(params)
                } else {
                    Call::Mul(params)
                }
            }
            _ => unreachable!("a stage runs only tileable ops (plan::tiling)"),
        };
        // A windowed node reads its input's whole tile; an elementwise one the part under its output.
        let windowed = matches!(node.op, QOp::Conv(_) | QOp::Pad { .. });
        let inputs = node
            .inputs
            .iter()
            .map(|&t| {
                let tile = operand(t);
                tile.at(if windowed { &tile.region } else { &out.region })
            })
            .collect();
        let output = Operand { place: out.place, len: area };
        self.steps.push(Step { node: ix, tile: Some(tile), call, inputs, output });
    }
}

/// The kernel calls of `graph` run by `kernels` (plan::kernels) on the buffers of `plan`, in execution order.
pub fn schedule(graph: &QGraph, kernels: &[Choice], plan: &MemoryPlan) -> Vec<Step> {
    let mut s = Scheduler { graph, kernels, plan, steps: vec![], tile: None };
    let start = plan.tiled.as_ref().map_or(0, |tiled| {
        s.stage(tiled);
        tiled.stage.end
    });
    for ix in start..graph.nodes.len() {
        s.node(ix);
    }
    s.steps
}
