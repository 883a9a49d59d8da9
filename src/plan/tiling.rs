//! Patch-based execution (MCUNetV2): the first layers of a model run tile by tile, so that only a tile of each of
//! their tensors is ever held. The stage's last output is cut into a grid of tiles; each tile is computed from its
//! receptive field (the halo between tiles recomputed), through every layer of the stage, and copied into its place
//! in the whole output. The numbers are those of whole-tensor execution: a tile of a convolution is the same
//! convolution on a smaller image, padded only where the tile meets the real border (see `Geometry`).
//!
//! A stage is a prefix of the nodes that reads nothing from outside but the model's input and whose only tensor
//! read after it is its last node's output. Inside it run convolutions, explicit padding, tables and elementwise
//! adds and multiplies of equal shapes (a residual add reads its skip tensor's tile at an offset).

use serde::Serialize;

use crate::ir::quant::{Layout, QGraph, QOp};
use crate::ir::TensorId;

/// The largest grid side the planner tries: beyond it the halos cost more than any arena they save.
pub const MAX_GRID: usize = 8;

/// Rows `[rows.0, rows.1)` and columns `[cols.0, cols.1)` of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Region {
    pub rows: (usize, usize),
    pub cols: (usize, usize),
}

impl Region {
    pub fn height(&self) -> usize {
        self.rows.1 - self.rows.0
    }

    pub fn width(&self) -> usize {
        self.cols.1 - self.cols.0
    }

    pub fn area(&self) -> usize {
        self.height() * self.width()
    }

    fn union(self, other: Region) -> Region {
        Region {
            rows: (self.rows.0.min(other.rows.0), self.rows.1.max(other.rows.1)),
            cols: (self.cols.0.min(other.cols.0), self.cols.1.max(other.cols.1)),
        }
    }

    fn contains(&self, other: &Region) -> bool {
        self.rows.0 <= other.rows.0
            && other.rows.1 <= self.rows.1
            && self.cols.0 <= other.cols.0
            && other.cols.1 <= self.cols.1
    }
}

/// A windowed op along one axis: kernel, stride, dilation and padding before.
#[derive(Clone, Copy, Debug)]
struct Axis {
    kernel: usize,
    stride: usize,
    dilation: usize,
    pad: usize,
}

impl Axis {
    /// The input positions outputs `[from, to)` read, unclipped (negative: in the padding before).
    fn reads(&self, (from, to): (usize, usize)) -> (isize, isize) {
        let start = (from * self.stride) as isize - self.pad as isize;
        let end = ((to - 1) * self.stride + (self.kernel - 1) * self.dilation + 1) as isize - self.pad as isize;
        (start, end)
    }
}

/// The windows of node `ix` along rows and columns, when it is an op a stage runs tile by tile: convolutions and
/// explicit padding (a 1x1 window shifted by the padding); `None` for elementwise ops.
fn axes(graph: &QGraph, ix: usize) -> Option<[Axis; 2]> {
    let axis = |kernel, stride, dilation, pad| Axis { kernel, stride, dilation, pad };
    match &graph.nodes[ix].op {
        QOp::Conv(c) => {
            let w = &c.window;
            Some([0, 1].map(|a| axis(w.kernel[a], w.strides[a], w.dilations[a], w.pads[a])))
        }
        QOp::Pad { pads, .. } => Some([0, 1].map(|a| axis(1, 1, 1, pads[a]))),
        _ => None,
    }
}

/// Whether node `ix` can run on tiles: a windowed op or an elementwise op whose inputs all have its output's shape,
/// on images (rank 4).
fn tileable(graph: &QGraph, ix: usize) -> bool {
    let node = &graph.nodes[ix];
    let shape = &graph.tensor(node.output).shape;
    let images = node.inputs.iter().chain([&node.output]).all(|&t| graph.tensor(t).shape.len() == 4);
    let elementwise = matches!(node.op, QOp::Table(_) | QOp::Add(_) | QOp::Mul(_))
        && node.inputs.iter().all(|&t| graph.tensor(t).shape == *shape);
    images && (elementwise || axes(graph, ix).is_some())
}

/// The geometry of a windowed node on one tile: its input tile is an image of `in_size` (rows, columns), its output
/// tile one of `out_size`, and `pad` (top, left) positions of padding come before the input tile. Everything the
/// kernel reads past the input tile's bottom or right edge is the real padding there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub in_size: [usize; 2],
    pub out_size: [usize; 2],
    pub pad: [usize; 2],
}

/// Nodes `0..end` run tile by tile on `grid` tiles of node `end - 1`'s output.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    pub end: usize,
    /// Tiles per column and per row of the stage's output.
    pub grid: [usize; 2],
    /// Per tile (row-major), per tensor: the region of it the tile computes (or, for the model's input, reads);
    /// `None` for tensors outside the stage.
    pub tiles: Vec<Vec<Option<Region>>>,
    /// The multiply-accumulates of the stage's layers run whole, and the extra the halos cost.
    pub macs: u64,
    pub extra_macs: u64,
}

/// The report's account of a stage.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct StageSummary {
    /// The first and last layer of the stage.
    pub first_layer: String,
    pub last_layer: String,
    pub layers: usize,
    /// Tiles per column and per row of the last layer's output.
    pub grid: [usize; 2],
    pub extra_macs: u64,
    /// The extra MACs as a percentage of the whole model's.
    pub extra_macs_percent: f64,
    /// The C arena of the same model run on whole tensors.
    pub whole_tensor_arena_bytes: usize,
}

impl Stage {
    /// The tensor the stage assembles tile by tile.
    pub fn output(&self, graph: &QGraph) -> TensorId {
        graph.nodes[self.end - 1].output
    }

    /// Whether tensor `t` is held as tiles (the model's input, copied in, and every tensor of the stage but its
    /// output).
    pub fn tiled(&self, graph: &QGraph, t: TensorId) -> bool {
        self.tiles[0][t].is_some() && t != self.output(graph)
    }

    /// The bytes of the largest tile of tensor `t` (any tensor of the stage, its output included).
    pub fn tile_bytes(&self, graph: &QGraph, t: TensorId) -> usize {
        let (_, _, c) = Layout::hwc(&graph.tensor(t).shape);
        self.tiles.iter().filter_map(|regions| regions[t]).map(|r| r.area() * c).max().unwrap_or(0)
    }

    /// The geometry of windowed node `ix` on tile `tile`.
    pub fn geometry(&self, graph: &QGraph, ix: usize, tile: usize) -> Geometry {
        let node = &graph.nodes[ix];
        let (input, output) = (self.tiles[tile][node.inputs[0]].unwrap(), self.tiles[tile][node.output].unwrap());
        let axes = axes(graph, ix).expect("a windowed node");
        let [(i0, o0), (i1, o1)] = [(input.rows, output.rows), (input.cols, output.cols)];
        let pad = |a: Axis, i: (usize, usize), o: (usize, usize)| (i.0 as isize - a.reads(o).0) as usize;
        Geometry {
            in_size: [input.height(), input.width()],
            out_size: [output.height(), output.width()],
            pad: [pad(axes[0], i0, o0), pad(axes[1], i1, o1)],
        }
    }

    /// The stage of nodes `0..end` on a `grid` of tiles, or `None` when the nodes cannot run as one (see the
    /// module's comment) or a tile's geometry does not reduce to a padded image.
    pub fn new(graph: &QGraph, end: usize, grid: [usize; 2]) -> Option<Stage> {
        let output = graph.nodes.get(end.checked_sub(1)?)?.output;
        if !is_stage(graph, end) {
            return None;
        }
        let (h, w, _) = Layout::hwc(&graph.tensor(output).shape);
        if grid[0] > h || grid[1] > w {
            return None;
        }
        let split = |n: usize, parts: usize, i: usize| (i * n / parts, (i + 1) * n / parts);
        let mut tiles = vec![];
        for ty in 0..grid[0] {
            for tx in 0..grid[1] {
                let last = Region { rows: split(h, grid[0], ty), cols: split(w, grid[1], tx) };
                tiles.push(regions(graph, end, last)?);
            }
        }
        let macs: u64 = (0..end).map(|ix| graph.node_macs(ix)).sum();
        let tiled_macs: u64 = tiles
            .iter()
            .flat_map(|regions| {
                (0..end).map(move |ix| {
                    let node = &graph.nodes[ix];
                    let (_, _, c) = Layout::hwc(&graph.tensor(node.output).shape);
                    let per_output = match &node.op {
                        QOp::Conv(conv) => conv.weights.k,
                        _ => 0,
                    };
                    (regions[node.output].unwrap().area() * c * per_output) as u64
                })
            })
            .sum();
        // Rows and columns no later layer reads are not computed at all, so the tiles may even do less.
        Some(Stage { end, grid, tiles, macs, extra_macs: tiled_macs.saturating_sub(macs) })
    }

    /// One line for reports: which layers run on which grid.
    pub fn describe(&self) -> String {
        format!("layers 1-{} tile by tile on a {}x{} grid", self.end, self.grid[0], self.grid[1])
    }

    pub fn summary(&self, graph: &QGraph, whole_tensor_arena_bytes: usize) -> StageSummary {
        let total = graph.macs().max(1);
        StageSummary {
            first_layer: graph.nodes[0].name.clone(),
            last_layer: graph.nodes[self.end - 1].name.clone(),
            layers: self.end,
            grid: self.grid,
            extra_macs: self.extra_macs,
            extra_macs_percent: (self.extra_macs as f64 * 1000.0 / total as f64).round() / 10.0,
            whole_tensor_arena_bytes,
        }
    }
}

/// Whether nodes `0..end` can form a stage: all tileable, the model's input read only by them, and nothing they
/// compute but the last node's output read after them (nor the model's output).
fn is_stage(graph: &QGraph, end: usize) -> bool {
    let output = graph.nodes[end - 1].output;
    let inside = |t: TensorId| t == graph.input || graph.nodes[..end].iter().any(|n| n.output == t);
    let read_after_only_output = graph.nodes[end..].iter().flat_map(|n| &n.inputs).all(|&t| !inside(t) || t == output);
    let reads_inside = graph.nodes[..end].iter().flat_map(|n| &n.inputs).all(|&t| inside(t));
    (0..end).all(|ix| tileable(graph, ix))
        && read_after_only_output
        && reads_inside
        && graph.nodes[end..].iter().any(|n| n.inputs.contains(&output))
        && output != graph.output
        && graph.tensor(graph.input).shape.len() == 4
}

/// The region of every tensor of the stage `0..end` that one tile needs for region `last` of its output, walking the
/// nodes backwards; `None` when a windowed node's input tile would not start where its windows do (another reader
/// needs more of it before) or a window lies wholly in the padding.
fn regions(graph: &QGraph, end: usize, last: Region) -> Option<Vec<Option<Region>>> {
    let mut regions: Vec<Option<Region>> = vec![None; graph.tensors.len()];
    regions[graph.nodes[end - 1].output] = Some(last);
    let need = |t: TensorId, r: Region, regions: &mut Vec<Option<Region>>| {
        regions[t] = Some(regions[t].map_or(r, |old| old.union(r)));
    };
    for ix in (0..end).rev() {
        let node = &graph.nodes[ix];
        let out = regions[node.output]?;
        match axes(graph, ix) {
            Some(axes) => {
                let (h, w, _) = Layout::hwc(&graph.tensor(node.inputs[0]).shape);
                let clip = |(s, e): (isize, isize), n: usize| {
                    let (s, e) = (s.max(0) as usize, (e.max(0) as usize).min(n));
                    (s < e).then_some((s, e))
                };
                let rows = clip(axes[0].reads(out.rows), h)?;
                let cols = clip(axes[1].reads(out.cols), w)?;
                need(node.inputs[0], Region { rows, cols }, &mut regions);
            }
            None => node.inputs.iter().for_each(|&t| need(t, out, &mut regions)),
        }
    }
    // Each windowed node's input tile must start where its first window does, or at the real border; padding reads
    // its input tile whole into its output tile, so its input tile must be exactly what it reads. A table maps its
    // tile onto an output tile of the same region.
    for ix in 0..end {
        let node = &graph.nodes[ix];
        let (input, out) = (regions[node.inputs[0]]?, regions[node.output]?);
        let ok = match axes(graph, ix) {
            Some(axes) => {
                let (h, w, _) = Layout::hwc(&graph.tensor(node.inputs[0]).shape);
                let reads = |a: Axis, o: (usize, usize), n: usize| {
                    let (s, e) = a.reads(o);
                    (s.max(0) as usize, (e.max(0) as usize).min(n))
                };
                let (rows, cols) = (reads(axes[0], out.rows, h), reads(axes[1], out.cols, w));
                match node.op {
                    QOp::Pad { .. } => input == Region { rows, cols },
                    _ => input.rows.0 == rows.0 && input.cols.0 == cols.0,
                }
            }
            None if matches!(node.op, QOp::Table(_)) => input == out,
            None => node.inputs.iter().all(|&t| regions[t].is_some_and(|r| r.contains(&out))),
        };
        if !ok {
            return None;
        }
    }
    Some(regions)
}

/// Every stage the model allows: each end and grid up to `MAX_GRID` tiles a side, but the single tile.
pub fn candidates(graph: &QGraph) -> Vec<Stage> {
    let mut stages = vec![];
    for end in 1..graph.nodes.len() {
        for rows in 1..=MAX_GRID {
            for cols in 1..=MAX_GRID {
                if rows * cols > 1 {
                    stages.extend(Stage::new(graph, end, [rows, cols]));
                }
            }
        }
    }
    stages
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::interp;
    use crate::ir::fixed_point::Multiplier;
    use crate::ir::pack::PackedWeights;
    use crate::ir::quant::{QAdd, QConv, QMul, QNode, QParams, QTensor};
    use crate::ir::Window;
    use crate::plan::Plan;

    /// Deterministic pseudo-random values in [lo, hi].
    fn values(n: usize, seed: u64, lo: i32, hi: i32) -> Vec<i32> {
        let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                lo + (x % (hi - lo + 1) as u64) as i32
            })
            .collect()
    }

    /// A layer of a random stage.
    #[derive(Clone, Debug)]
    enum Layer {
        /// Output channels (0: depthwise), kernel, stride, dilation, pads (top, left, bottom, right).
        Conv(usize, [usize; 2], [usize; 2], [usize; 2], [usize; 4]),
        Pad([usize; 4]),
        Table,
        /// An add of the last tensor and a 1x1 convolution of it (a residual block), or a multiply.
        Residual {
            mul: bool,
        },
    }

    /// Builds a graph of `layers` from a [1, c, h, w] input, then a 1x1 convolution reading the stage's output.
    struct Builder {
        graph: QGraph,
        seed: u64,
    }

    impl Builder {
        fn tensor(&mut self, shape: Vec<usize>) -> TensorId {
            self.seed += 1;
            let zero_point = values(1, self.seed, -20, 20)[0];
            let name = format!("t{}", self.graph.tensors.len());
            self.graph.tensors.push(QTensor { name, shape, q: QParams { scale: 0.05, zero_point } });
            self.graph.tensors.len() - 1
        }

        fn node(&mut self, op: QOp, inputs: Vec<TensorId>, shape: Vec<usize>) -> TensorId {
            let output = self.tensor(shape);
            let name = format!("n{}", self.graph.nodes.len());
            self.graph.nodes.push(QNode { name, op, inputs, output });
            output
        }

        fn conv(
            &mut self,
            x: TensorId,
            c_out: usize,
            kernel: [usize; 2],
            strides: [usize; 2],
            dil: [usize; 2],
            pads: [usize; 4],
        ) -> Option<TensorId> {
            let (h, w, c_in) = Layout::hwc(&self.graph.tensor(x).shape);
            let (groups, c_out) = if c_out == 0 { (c_in, c_in) } else { (1, c_out) };
            let span = |a: usize, n: usize| (n + pads[a] + pads[a + 2]).checked_sub((kernel[a] - 1) * dil[a] + 1);
            let (oh, ow) = (span(0, h)? / strides[0] + 1, span(1, w)? / strides[1] + 1);
            let k = kernel[0] * kernel[1] * c_in / groups;
            self.seed += 1;
            let weights: Vec<i8> = values(c_out * k, self.seed, -127, 127).iter().map(|&v| v as i8).collect();
            let conv = QConv {
                weights: PackedWeights::pack(&weights, c_out, k, 8),
                bias: values(c_out, self.seed + 7, -500, 500),
                multipliers: vec![Multiplier { m0: 1 << 30, shift: -6 }; c_out],
                c_in,
                c_out,
                groups,
                window: Window { kernel, strides, dilations: dil, pads },
                act_min: -128,
                act_max: 127,
            };
            Some(self.node(QOp::Conv(conv), vec![x], vec![1, c_out, oh, ow]))
        }

        fn layer(&mut self, x: TensorId, layer: &Layer) -> Option<TensorId> {
            let shape = self.graph.tensor(x).shape.clone();
            match *layer {
                Layer::Conv(c, k, s, d, p) => self.conv(x, c, k, s, d, p),
                Layer::Pad(p) => {
                    let padded = vec![1, shape[1], shape[2] + p[0] + p[2], shape[3] + p[1] + p[3]];
                    Some(self.node(QOp::Pad { pads: p, value: 17 }, vec![x], padded))
                }
                Layer::Table => {
                    self.seed += 1;
                    let table = values(256, self.seed, -128, 127).iter().map(|&v| v as i8).collect();
                    Some(self.node(QOp::Table(table), vec![x], shape))
                }
                Layer::Residual { mul } => {
                    let branch = self.conv(x, shape[1], [1, 1], [1, 1], [1, 1], [0; 4])?;
                    let m = Multiplier { m0: 1 << 30, shift: -1 };
                    let op = if mul {
                        QOp::Mul(QMul {
                            output_multiplier: Multiplier { m0: 1 << 30, shift: -8 },
                            act_min: -128,
                            act_max: 127,
                        })
                    } else {
                        QOp::Add(QAdd {
                            left_shift: 20,
                            input_multipliers: [m, m],
                            output_multiplier: m,
                            act_min: -128,
                            act_max: 127,
                        })
                    };
                    Some(self.node(op, vec![branch, x], shape))
                }
            }
        }
    }

    /// The stage of `layers` on a [1, c, h, w] input (None when a layer's window does not fit its input), with the
    /// 1x1 convolution after it.
    fn stage_graph(c: usize, h: usize, w: usize, layers: &[Layer], seed: u64) -> Option<(QGraph, usize)> {
        let q = QParams { scale: 0.05, zero_point: 3 };
        let graph = QGraph {
            tensors: vec![QTensor { name: "input".into(), shape: vec![1, c, h, w], q }],
            nodes: vec![],
            input: 0,
            output: 0,
        };
        let mut b = Builder { graph, seed };
        let mut x = 0;
        for layer in layers {
            x = b.layer(x, layer)?;
        }
        let end = b.graph.nodes.len();
        b.graph.output = b.conv(x, 2, [1, 1], [1, 1], [1, 1], [0; 4])?;
        Some((b.graph, end))
    }

    /// The tile of region `r` of a channels-last [h, w, c] image.
    fn crop(data: &[i8], w: usize, c: usize, r: &Region) -> Vec<i8> {
        (r.rows.0..r.rows.1).flat_map(|y| data[(y * w + r.cols.0) * c..(y * w + r.cols.1) * c].to_vec()).collect()
    }

    /// Runs the stage tile by tile through the interpreter, each node as the one-node graph of its tile's
    /// geometry, and returns the assembled output of the stage.
    fn run_tiles(graph: &QGraph, stage: &Stage, input: &[i8]) -> Vec<i8> {
        let out_t = stage.output(graph);
        let (_, ow, oc) = Layout::hwc(&graph.tensor(out_t).shape);
        let mut assembled = vec![0i8; graph.tensor(out_t).elems()];
        for (tile, regions) in stage.tiles.iter().enumerate() {
            let mut data: Vec<Option<Vec<i8>>> = vec![None; graph.tensors.len()];
            let (_, iw, ic) = Layout::hwc(&graph.tensor(graph.input).shape);
            data[graph.input] = Some(crop(input, iw, ic, &regions[graph.input].unwrap()));
            for ix in 0..stage.end {
                let node = &graph.nodes[ix];
                let out = regions[node.output].unwrap();
                let tile_shape = |t: TensorId, r: &Region| {
                    let c = graph.tensor(t).shape[1];
                    vec![1, c, r.height(), r.width()]
                };
                let mut op = node.op.clone();
                let ins: Vec<(Vec<usize>, Vec<i8>)> = match axes(graph, ix) {
                    Some(_) => {
                        let g = stage.geometry(graph, ix, tile);
                        let input = node.inputs[0];
                        match &mut op {
                            QOp::Conv(c) => c.window.pads = [g.pad[0], g.pad[1], 0, 0],
                            QOp::Pad { pads, .. } => {
                                let rest = |a: usize| g.out_size[a] - g.in_size[a] - g.pad[a];
                                *pads = [g.pad[0], g.pad[1], rest(0), rest(1)];
                            }
                            _ => unreachable!(),
                        }
                        let r = regions[input].unwrap();
                        assert_eq!(g.in_size, [r.height(), r.width()]);
                        vec![(tile_shape(input, &r), data[input].clone().unwrap())]
                    }
                    None => node
                        .inputs
                        .iter()
                        .map(|&t| {
                            let r = regions[t].unwrap();
                            let (_, _, c) = Layout::hwc(&graph.tensor(t).shape);
                            let local = Region {
                                rows: (out.rows.0 - r.rows.0, out.rows.1 - r.rows.0),
                                cols: (out.cols.0 - r.cols.0, out.cols.1 - r.cols.0),
                            };
                            (tile_shape(t, &out), crop(data[t].as_ref().unwrap(), r.width(), c, &local))
                        })
                        .collect(),
                };
                // The node alone on tensors of its tile's shapes.
                let mut tensors: Vec<QTensor> = node
                    .inputs
                    .iter()
                    .zip(&ins)
                    .map(|(&t, (shape, _))| QTensor { shape: shape.clone(), ..graph.tensor(t).clone() })
                    .collect();
                tensors.push(QTensor { shape: tile_shape(node.output, &out), ..graph.tensor(node.output).clone() });
                let n_in = node.inputs.len();
                let one = QGraph {
                    tensors,
                    nodes: vec![QNode { name: node.name.clone(), op, inputs: (0..n_in).collect(), output: n_in }],
                    input: 0,
                    output: n_in,
                };
                let slices: Vec<&[i8]> = ins.iter().map(|(_, d)| d.as_slice()).collect();
                data[node.output] = Some(interp::run_node(&one, 0, &slices, 1));
            }
            let r = regions[out_t].unwrap();
            let tile = data[out_t].as_ref().unwrap();
            for (y, row) in (r.rows.0..r.rows.1).zip(tile.chunks(r.width() * oc)) {
                assembled[(y * ow + r.cols.0) * oc..(y * ow + r.cols.1) * oc].copy_from_slice(row);
            }
        }
        assembled
    }

    /// The stage's output computed on whole tensors.
    fn run_whole(graph: &QGraph, stage: &Stage, input: &[i8]) -> Vec<i8> {
        let out_t = stage.output(graph);
        let mut whole = vec![];
        interp::run_observed(graph, input, 1, &mut |t, v| {
            if t == out_t {
                whole = v.to_vec();
            }
        });
        whole
    }

    fn layer() -> impl Strategy<Value = Layer> {
        let pads = proptest::array::uniform4(0usize..3);
        prop_oneof![
            4 => (0usize..3, 1usize..6, 1usize..6, 1usize..3, 1usize..3, 1usize..3, pads.clone()).prop_map(
                |(c, kh, kw, s, dh, dw, p)| Layer::Conv([0, 3, 5][c], [kh, kw], [s, s], [dh, dw], p)
            ),
            1 => pads.prop_map(Layer::Pad),
            1 => Just(Layer::Table),
            1 => any::<bool>().prop_map(|mul| Layer::Residual { mul }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Every tile of every grid up to 4 x 4 of a random stage (convolutions of kernel 1-5, strides 1 and 2,
        /// dilations 1 and 2 and any padding, depthwise or not, explicit padding, tables, residual adds and
        /// multiplies) computes the stage's output exactly as whole tensors do, and its extra MACs are those of the
        /// tiles' regions.
        #[test]
        fn tiles_compute_what_whole_tensors_do(
            c in 1usize..4, h in 4usize..24, w in 4usize..24, layers in proptest::collection::vec(layer(), 1..5),
            seed in 0u64..1000,
        ) {
            let Some((graph, end)) = stage_graph(c, h, w, &layers, seed) else { return Ok(()) };
            let input: Vec<i8> = values(graph.tensor(0).elems(), seed, -128, 127).iter().map(|&v| v as i8).collect();
            let mut tiled = 0;
            for grid in [[2, 1], [1, 2], [2, 2], [3, 2], [4, 3], [4, 4]] {
                let Some(stage) = Stage::new(&graph, end, grid) else { continue };
                tiled += 1;
                prop_assert_eq!(stage.tiles.len(), grid[0] * grid[1]);
                prop_assert_eq!(run_tiles(&graph, &stage, &input), run_whole(&graph, &stage, &input), "grid {:?}", grid);
            }
            // Stages of windows and elementwise ops alone always tile when the output has the rows and columns,
            // unless some output row or column lies wholly in padding (explicit padding, or a convolution padded by
            // a whole window): a tile there reads nothing of its input.
            let (oh, ow, _) = Layout::hwc(&graph.tensor(graph.nodes[end - 1].output).shape);
            let reads_input = |l: &Layer| match l {
                Layer::Conv(_, k, _, d, p) => (0..4).all(|a| p[a] < (k[a % 2] - 1) * d[a % 2] + 1),
                Layer::Pad(p) => p.iter().all(|&p| p == 0),
                Layer::Table => true,
                Layer::Residual { .. } => false,
            };
            if oh >= 2 && ow >= 2 && layers.iter().all(reads_input) {
                prop_assert!(tiled > 0, "no grid tiles {:?}", layers);
            }
        }
    }

    #[test]
    fn a_residual_block_tiles_with_its_skip_read_at_an_offset() {
        let layers = [
            Layer::Conv(4, [3, 3], [2, 2], [1, 1], [1, 1, 1, 1]),
            Layer::Conv(0, [3, 3], [1, 1], [1, 1], [1, 1, 1, 1]),
            Layer::Residual { mul: false },
        ];
        let (mut graph, end) = stage_graph(3, 20, 18, &layers, 5).unwrap();
        // The residual branch's 1x1 convolution becomes a depthwise 3x3: the skip's tile is then larger than the
        // add's (the halo), and the add reads it at an offset.
        let branch = end - 2;
        let x = graph.nodes[branch].inputs[0];
        let mut b = Builder { graph: graph.clone(), seed: 9 };
        let dw = b.conv(x, 0, [3, 3], [1, 1], [1, 1], [1, 1, 1, 1]).unwrap();
        let QOp::Conv(dw_conv) = b.graph.nodes.pop().unwrap().op else { unreachable!() };
        graph.nodes[branch].op = QOp::Conv(dw_conv);
        graph.tensors[graph.nodes[branch].output].shape = b.graph.tensor(dw).shape.clone();
        let input: Vec<i8> = values(graph.tensor(0).elems(), 3, -128, 127).iter().map(|&v| v as i8).collect();
        let stage = Stage::new(&graph, end, [2, 2]).unwrap();
        let (skip, add_out) = (graph.nodes[end - 1].inputs[1], graph.nodes[end - 1].output);
        assert!(stage.tiles.iter().any(|r| r[skip].unwrap().area() > r[add_out].unwrap().area()));
        assert_eq!(run_tiles(&graph, &stage, &input), run_whole(&graph, &stage, &input));
        assert!(stage.extra_macs > 0);
    }

    #[test]
    fn the_planner_tiles_only_what_does_not_fit() {
        let layers = [
            Layer::Conv(8, [3, 3], [2, 2], [1, 1], [1, 1, 1, 1]),
            Layer::Conv(16, [1, 1], [1, 1], [1, 1], [0; 4]),
            Layer::Conv(0, [3, 3], [2, 2], [1, 1], [1, 1, 1, 1]),
            Layer::Conv(4, [1, 1], [1, 1], [1, 1], [0; 4]),
        ];
        let (graph, _) = stage_graph(3, 32, 32, &layers, 1).unwrap();
        let whole = Plan::new(&graph, None, false).unwrap();
        assert!(whole.stage().is_none());
        assert_eq!(
            Plan::new(&graph, Some(whole.c.arena_bytes), false).unwrap(),
            whole,
            "a model that fits keeps its plan"
        );
        let budget = whole.c.arena_bytes / 2;
        let tiled = Plan::new(&graph, Some(budget), false).unwrap();
        let stage = tiled.stage().expect("a stage at half the arena");
        assert!(tiled.c.arena_bytes <= budget, "{} > {budget}", tiled.c.arena_bytes);
        assert_eq!(tiled.whole_tensor.arena_bytes, whole.c.arena_bytes);
        // No cheaper stage fits: every candidate with fewer extra MACs needs more than the budget.
        for other in candidates(&graph).into_iter().filter(|s| s.extra_macs < stage.extra_macs) {
            let plan = Plan::with_stage(&graph, Some(other), true).unwrap();
            assert!(plan.c.arena_bytes > budget);
        }
        // Nothing fits 100 bytes: the plan stays whole and names the smallest arena reached.
        let none = Plan::new(&graph, Some(100), false).unwrap();
        assert!(none.stage().is_none() && none.smallest_arena < whole.c.arena_bytes);
        assert!(none.smallest_arena <= tiled.c.arena_bytes);
    }
}
