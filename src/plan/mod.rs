//! Planning after quantization: which kernel runs each node (kernels.rs, with fusion.rs), then the static memory
//! plan: every intermediate tensor (and kernel scratch) gets an offset in one arena. Tensors that can share storage
//! form one buffer: a reshape that does not move bytes aliases its input, and tables, adds and multiplies write in
//! place over an input that dies at that step. Buffers are placed by two strategies — greedy by size and first fit
//! in order of first use — and the smaller arena is kept. A residual add fused into the convolution before it
//! writes its output while the convolution runs. Each language gets its own plan, with its kernels' scratch.

pub mod fusion;
pub mod kernels;
pub mod ram;
pub mod tiling;

use serde::Serialize;

use crate::ir::quant::{Layout, QGraph, QOp};
use crate::ir::TensorId;
pub use kernels::{Choice, Kernel, Scratch};
pub use tiling::Stage;

/// Offsets are multiples of this (word-aligned loads in kernels).
pub const ALIGN: usize = 4;

/// Where a tensor lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Place {
    /// The caller's input buffer (read only).
    Input,
    /// The caller's output buffer.
    Output,
    /// At this offset in the arena.
    Arena(usize),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemoryPlan {
    /// Per tensor.
    pub places: Vec<Place>,
    /// Per node: the offset of its scratch in the arena, when it needs any.
    pub scratch: Vec<Option<usize>>,
    pub arena_bytes: usize,
    /// The largest sum of the bytes of buffers live at one step: no plan without more sharing can be smaller.
    pub peak_live_bytes: usize,
    /// The step of that peak (0: the input; node i runs at step i + 1).
    pub peak_step: usize,
    /// Every block of the arena with its lifetime, in the order the planner made them.
    pub live: Vec<Live>,
    pub strategy: &'static str,
    /// The stage run tile by tile, when there is one, and where its tiles of the input and output live.
    #[serde(skip)]
    pub tiled: Option<Tiled>,
}

/// A stage run tile by tile (tiling.rs): the stage and the arena offsets of the model input's tile (copied in) and
/// of the stage output's tile (copied out into the whole tensor). Every other tensor of the stage is a tile at its
/// place.
#[derive(Clone, Debug, PartialEq)]
pub struct Tiled {
    pub stage: Stage,
    pub input: usize,
    pub output: usize,
}

/// Whether a reshape between these logical shapes leaves the bytes where they are in channels-last storage.
pub fn reshape_is_free(from: &[usize], to: &[usize]) -> bool {
    let identity = |s: &[usize]| Layout::storage_to_logical(s).iter().enumerate().all(|(i, &l)| i == l);
    identity(from) && identity(to)
}

/// Everything planned for a compiled model: the kernel of every node and a memory plan per language.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub kernels: Vec<Choice>,
    pub c: MemoryPlan,
    pub rust: MemoryPlan,
    /// The C memory plan of the model run on whole tensors (equal to `c` when no stage is tiled).
    pub whole_tensor: MemoryPlan,
    /// The smallest arena any schedule reaches (computed only when the budget is not met).
    pub smallest_arena: usize,
    /// Whether the Rust crate's arena must fit the budget too (Rust is generated).
    pub with_rust: bool,
}

impl Plan {
    /// The plan of `graph`: on whole tensors when its arena fits `budget` (or there is none); otherwise the
    /// memory-saving schedules, cheapest first: depthwise convolutions over their inputs (no extra work), then also
    /// the stage run tile by tile that fits with the fewest extra multiply-accumulates (then the fewest tiles, then
    /// the smallest arena); when nothing fits, the whole-tensor plan with the smallest arena any schedule reaches.
    /// The arena that must fit is the C one, and the Rust one too `with_rust`.
    pub fn new(graph: &QGraph, budget: Option<usize>, with_rust: bool) -> crate::Result<Plan> {
        let plan = |stage: Option<Stage>, in_place: bool| -> crate::Result<Plan> {
            Ok(Plan { with_rust, ..Plan::with_stage(graph, stage, in_place)? })
        };
        let whole = plan(None, false)?;
        let Some(budget) = budget.filter(|&b| whole.arena() > b) else { return Ok(whole) };
        let in_place = plan(None, true)?;
        if in_place.arena() <= budget {
            return Ok(Plan { whole_tensor: whole.c, ..in_place });
        }
        let mut best: Option<Plan> = None;
        let mut smallest = whole.arena().min(in_place.arena());
        let cost = |p: &Plan| {
            let stage = p.stage().expect("a tiled plan");
            (stage.extra_macs, stage.tiles.len(), p.arena())
        };
        for stage in tiling::candidates(graph) {
            let plan = plan(Some(stage), true)?;
            smallest = smallest.min(plan.arena());
            if plan.arena() <= budget && best.as_ref().is_none_or(|b| cost(&plan) < cost(b)) {
                best = Some(plan);
            }
        }
        Ok(match best {
            Some(plan) => Plan { whole_tensor: whole.c, ..plan },
            None => Plan { smallest_arena: smallest, ..whole },
        })
    }

    /// The arena the budget must hold: the C one, or the larger of the C and Rust ones when Rust is generated.
    pub fn arena(&self) -> usize {
        if self.with_rust {
            self.c.arena_bytes.max(self.rust.arena_bytes)
        } else {
            self.c.arena_bytes
        }
    }

    /// The plan with nodes `0..stage.end` run tile by tile, or none, and with depthwise convolutions over their
    /// inputs (`in_place`) or not (`whole_tensor` is then this plan's own).
    pub fn with_stage(graph: &QGraph, stage: Option<Stage>, in_place: bool) -> crate::Result<Plan> {
        let kernels = kernels::choose(graph, stage.as_ref(), in_place)?;
        let scratch = |of: fn(&Scratch) -> usize| kernels.iter().map(|k| of(&k.scratch)).collect::<Vec<_>>();
        let c = plan(graph, &kernels, &scratch(Scratch::c), stage.clone());
        let rust = plan(graph, &kernels, &scratch(|s| s.rust), stage);
        Ok(Plan { kernels, smallest_arena: c.arena_bytes, whole_tensor: c.clone(), c, rust, with_rust: false })
    }

    /// The stage run tile by tile, if any.
    pub fn stage(&self) -> Option<&Stage> {
        self.c.tiled.as_ref().map(|t| &t.stage)
    }

    /// How the layers run, for reports: on whole tensors or with a stage tile by tile, and whether depthwise
    /// convolutions write over their inputs.
    pub fn schedule_name(&self) -> String {
        let layers = self.stage().map_or(ram::WHOLE_TENSORS.to_string(), |s| s.describe());
        if self.kernels.iter().any(|k| k.in_place) {
            format!("{layers}, depthwise convolutions in place")
        } else {
            layers
        }
    }
}

/// A set of tensors sharing storage (or one kernel's scratch), with its lifetime in steps.
#[derive(Clone, Debug)]
struct Buffer {
    owner: Owner,
    size: usize,
    first: usize,
    last: usize,
    external: Option<Place>,
}

/// What a block of the arena holds: a tensor (with any that share its storage) or a node's scratch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Owner {
    Tensor(TensorId),
    Scratch(usize),
    /// The tile of a stage's output, copied into the whole tensor after each tile.
    Tile(TensorId),
}

/// A block of the arena and the steps it is live in (inclusive; step 0 is the input, node i runs at step i + 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Live {
    pub owner: Owner,
    pub bytes: usize,
    pub first: usize,
    pub last: usize,
}

fn aligned(n: usize) -> usize {
    n.div_ceil(ALIGN) * ALIGN
}

/// The memory plan of `graph` run by the kernels `choices`, with `scratch` bytes per node (those of one language),
/// with `stage` run tile by tile, and the choices' in-place depthwise convolutions over their inputs.
/// Within a stage the steps are those of one tile: its buffers are reused by every tile, and the stage's whole output
/// is live from the first tile on.
pub fn plan(graph: &QGraph, choices: &[Choice], scratch: &[usize], stage: Option<Stage>) -> MemoryPlan {
    let n_nodes = graph.nodes.len();
    // Step 0 is the input; node i runs at step i + 1.
    let mut last_use = vec![0usize; graph.tensors.len()];
    for (ix, node) in graph.nodes.iter().enumerate() {
        node.inputs.iter().for_each(|&t| last_use[t] = ix + 1);
    }
    last_use[graph.output] = n_nodes + 1;
    let mut buffer_of: Vec<usize> = vec![usize::MAX; graph.tensors.len()];
    let mut buffers: Vec<Buffer> = Vec::new();
    fn new_buffer(buffers: &mut Vec<Buffer>, owner: Owner, size: usize, first: usize, last: usize) -> usize {
        buffers.push(Buffer { owner, size, first, last, external: None });
        buffers.len() - 1
    }
    let size = |t: TensorId| match &stage {
        Some(s) if s.tiles[0][t].is_some() => s.tile_bytes(graph, t),
        _ => graph.tensor(t).elems(),
    };
    // The stage's output: whole from step 0, its tile written by the stage's last node and copied out there.
    let assembled = stage.as_ref().map(|s| {
        let t = s.output(graph);
        let whole = new_buffer(&mut buffers, Owner::Tensor(t), graph.tensor(t).elems(), 0, last_use[t]);
        last_use[t] = s.end;
        (t, whole)
    });
    let input = Owner::Tensor(graph.input);
    buffer_of[graph.input] = new_buffer(&mut buffers, input, size(graph.input), 0, last_use[graph.input]);
    let same_tiles = |a: TensorId, b: TensorId| stage.as_ref().is_none_or(|s| s.tiles.iter().all(|r| r[a] == r[b]));
    let mut scratch_buffers = vec![None; n_nodes];
    for (ix, node) in graph.nodes.iter().enumerate() {
        let step = ix + 1;
        let out = node.output;
        if buffer_of[out] != usize::MAX {
            continue; // An add fused into the convolution before it: placed with it.
        }
        let size = size(out);
        let owner = match assembled {
            Some((t, _)) if t == out => Owner::Tile(t),
            _ => Owner::Tensor(out),
        };
        buffer_of[out] = if let Some(add) = choices[ix].band.map(|b| &graph.nodes[b.add]) {
            let residual = add.inputs.iter().copied().find(|&t| t != out).expect("a fused add has a residual");
            let b = buffer_of[residual];
            // Each band is written over the residual once read; the convolution's own input must stay whole.
            let over_residual =
                buffers[b].last == step + 1 && b != buffer_of[graph.input] && b != buffer_of[node.inputs[0]];
            let written = if over_residual {
                buffers[b].last = buffers[b].last.max(last_use[add.output]);
                b
            } else {
                new_buffer(&mut buffers, Owner::Tensor(add.output), size, step, last_use[add.output])
            };
            // The convolution's output exists only as bands in its scratch; it is reported at the add's place.
            buffer_of[add.output] = written;
            written
        } else {
            let over_input = choices[ix].in_place.then_some(node.inputs[0]);
            let elementwise = shared_input(graph, ix).filter(|&t| same_tiles(t, out));
            let shares = over_input.or(elementwise).map(|t| buffer_of[t]).filter(|&b| {
                let callers_input = buffer_of[graph.input] == b;
                if matches!(node.op, QOp::Reshape) {
                    // One buffer cannot be both the caller's input and output: the reshape then copies.
                    !(callers_input && node.output == graph.output)
                } else {
                    // Writing over an input needs that input's buffer to die here and not to be the caller's input.
                    buffers[b].last == step && !callers_input
                }
            });
            match shares.filter(|&b| buffers[b].size >= size) {
                Some(b) => {
                    buffers[b].last = buffers[b].last.max(last_use[out]);
                    b
                }
                None => new_buffer(&mut buffers, owner, size, step, last_use[out]),
            }
        };
        if scratch[ix] > 0 {
            scratch_buffers[ix] = Some(new_buffer(&mut buffers, Owner::Scratch(ix), scratch[ix], step, step));
        }
    }
    // In a stage the input's tile is in the arena and the caller's input is only read by the copies into it.
    let tile_buffers = assembled.map(|(t, whole)| {
        let tiles = (buffer_of[graph.input], buffer_of[t]);
        buffer_of[t] = whole;
        tiles
    });
    if tile_buffers.is_none() {
        buffers[buffer_of[graph.input]].external = Some(Place::Input);
    }
    buffers[buffer_of[graph.output]].external = Some(Place::Output);

    let internal: Vec<usize> = (0..buffers.len()).filter(|&b| buffers[b].external.is_none()).collect();
    let live = |s: usize| -> usize {
        internal.iter().filter(|&&b| buffers[b].first <= s && s <= buffers[b].last).map(|&b| buffers[b].size).sum()
    };
    // The first step of the largest live sum (max_by_key keeps the last of equals).
    let (peak_live_bytes, peak_step) =
        (0..=n_nodes + 1).map(|s| (live(s), std::cmp::Reverse(s))).max().map_or((0, 0), |(l, s)| (l, s.0));
    let by_size = {
        let mut order = internal.clone();
        order.sort_by_key(|&b| (std::cmp::Reverse(buffers[b].size), buffers[b].first, b));
        place(&buffers, &order)
    };
    let by_first_use = {
        let mut order = internal.clone();
        order.sort_by_key(|&b| (buffers[b].first, std::cmp::Reverse(buffers[b].size), b));
        place(&buffers, &order)
    };
    let ((offsets, arena_bytes), strategy) =
        if by_first_use.1 < by_size.1 { (by_first_use, "first fit by first use") } else { (by_size, "greedy by size") };
    let place_of = |b: usize| buffers[b].external.unwrap_or_else(|| Place::Arena(offsets[b]));
    let mut places: Vec<Place> = buffer_of.iter().map(|&b| place_of(b)).collect();
    places[graph.input] = Place::Input;
    let tiled = stage.zip(tile_buffers).map(|(stage, (input, output))| Tiled {
        stage,
        input: offsets[input],
        output: offsets[output],
    });
    MemoryPlan {
        places,
        scratch: scratch_buffers.iter().map(|b| b.map(|b| offsets[b])).collect(),
        arena_bytes,
        peak_live_bytes,
        peak_step,
        live: internal
            .iter()
            .map(|&b| Live {
                owner: buffers[b].owner,
                bytes: buffers[b].size,
                first: buffers[b].first,
                last: buffers[b].last,
            })
            .collect(),
        strategy,
        tiled,
    }
}

/// The input tensor whose storage node `ix`'s output may take over: a reshape that moves no bytes aliases its
/// input; an elementwise op of equal input and output shapes may overwrite its first such input.
fn shared_input(graph: &QGraph, ix: usize) -> Option<TensorId> {
    let node = &graph.nodes[ix];
    let out_shape = &graph.tensor(node.output).shape;
    match node.op {
        QOp::Reshape if reshape_is_free(&graph.tensor(node.inputs[0]).shape, out_shape) => Some(node.inputs[0]),
        QOp::Table(_) | QOp::Add(_) | QOp::Mul(_) => {
            node.inputs.iter().copied().find(|&t| graph.tensor(t).shape == *out_shape)
        }
        _ => None,
    }
}

/// Places buffers in `order`, each at the lowest aligned offset clear of every placed buffer alive at the same
/// time. Returns offsets (by buffer index) and the arena size.
fn place(buffers: &[Buffer], order: &[usize]) -> (Vec<usize>, usize) {
    let mut offsets = vec![0usize; buffers.len()];
    let mut placed: Vec<usize> = Vec::new();
    let mut arena = 0;
    for &b in order {
        let overlaps = |o: usize| buffers[o].first <= buffers[b].last && buffers[b].first <= buffers[o].last;
        let mut busy: Vec<(usize, usize)> =
            placed.iter().filter(|&&o| overlaps(o)).map(|&o| (offsets[o], offsets[o] + buffers[o].size)).collect();
        busy.sort_unstable();
        let mut at = 0;
        for (start, end) in busy {
            if at + buffers[b].size <= start {
                break;
            }
            at = at.max(aligned(end));
        }
        offsets[b] = at;
        arena = arena.max(at + buffers[b].size);
        placed.push(b);
    }
    (offsets, aligned(arena))
}
