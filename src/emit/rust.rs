//! A `#![no_std]` Rust crate from the integer IR: the schedule of emit::schedule as safe kernel calls on arena
//! slices, the constants as `static` data, and the kernels the model uses (one generic body per op family, the
//! weight width a const parameter). The crate allocates nothing and has no `unsafe`.

use askama::Template;

use super::conv_layout::folded_bias;
use super::interface::Interface;
use super::params::{
    BinaryParams, Block, ConcatParams, ConvParams, DenseParams, GlobalPoolParams, LogSoftmaxParams, NormalizeParams,
    PadParams, PoolParams, ReduceParams, ResizeParams, SliceParams, SoftmaxParams, TransposeParams, Value,
    WindowParams, BLOCKS,
};
use super::schedule::{layer_constants, schedule, Call, Operand, Step, Uses};
use super::Provenance;
use crate::error::{Error, Result};
use crate::ir::pack::PackedWeights;
use crate::ir::quant::{QGraph, QNode, QOp, QTaps};
use crate::plan::{Choice, Kernel, MemoryPlan, Place};

#[derive(Template)]
#[template(path = "rust/Cargo.toml.txt", escape = "none")]
struct CargoToml<'a> {
    version: &'a str,
    name: &'a str,
}

#[derive(Template)]
#[template(path = "rust/rustfmt.toml.txt", escape = "none")]
struct RustfmtToml<'a> {
    version: &'a str,
}

#[derive(Template)]
#[template(path = "rust/kernels.rs.txt", escape = "none")]
struct KernelsRs<'a> {
    version: &'a str,
    name: &'a str,
    uses: Uses,
    /// The parameter structs the kernels take (emit::params).
    structs: Vec<String>,
}

#[derive(Template)]
#[template(path = "rust/isa.rs.txt", escape = "none")]
struct IsaRs<'a> {
    version: &'a str,
    name: &'a str,
    uses: Uses,
}

#[derive(Template)]
#[template(path = "rust/weights.rs.txt", escape = "none")]
struct WeightsRs<'a> {
    version: &'a str,
    name: &'a str,
    types: Vec<&'a str>,
    items: Vec<String>,
    /// Whether a layer's weights are `Words` (the column kernel's).
    words: bool,
}

#[derive(Template)]
#[template(path = "rust/lib.rs.txt", escape = "none")]
struct LibRs<'a> {
    i: &'a Interface<'a>,
    layers: Vec<String>,
    uses_src: bool,
    uses_split: bool,
    uses_whole: bool,
    uses_arena: bool,
    uses_pair: bool,
    uses_carve: bool,
    /// The kernels ask for instructions by name (src/isa.rs).
    uses_isa: bool,
    input_scale: String,
    output_scale: String,
    steps: Vec<String>,
}

/// A static array, 16 values a line (the weights module is not reformatted).
fn static_array(ty: &str, name: &str, values: Vec<String>) -> String {
    format!("static {name}: [{ty}; {}] = [\n{}\n];\n", values.len(), array_lines(&values))
}

/// The same for the column kernel's paired weight rows, as `Words` (word-aligned: Helium loads them a word of each
/// row at a time, deinterleaving, and those loads fault on unaligned addresses).
fn static_words(name: &str, values: Vec<String>) -> String {
    format!("static {name}: Words<{}> = Words([\n{}\n]);\n", values.len(), array_lines(&values))
}

/// An array literal's values, 16 a line.
fn array_lines(values: &[String]) -> String {
    values.chunks(16).map(|c| format!("    {},", c.join(", "))).collect::<Vec<_>>().join("\n")
}

/// A struct literal of kernel parameters plus `extra` fields, one field a line.
fn struct_literal(ty: &str, fields: &[(&str, Value)], extra: &[(&str, String)]) -> String {
    let value = |v: &Value| match v {
        Value::Int(x) => x.to_string(),
        Value::Vec4(a) => format!("[{}, {}, {}, {}]", a[0], a[1], a[2], a[3]),
    };
    let mut lines: Vec<String> = fields.iter().map(|(n, v)| format!("    {n}: {},", value(v))).collect();
    lines.extend(extra.iter().map(|(n, v)| format!("    {n}: {v},")));
    format!("{ty} {{\n{}\n}}", lines.join("\n"))
}

struct Emitter<'a> {
    graph: &'a QGraph,
    /// The plan's kernel choices (their Rust scratch).
    kernels: &'a [Choice],
    items: Vec<String>,
    /// The kernel parameter types the statics use.
    types: std::collections::BTreeSet<&'static str>,
    /// Concatenation parts so far (each a static of its own).
    parts: usize,
    /// The tile of the step being emitted, inside a stage run tile by tile.
    tile: Option<usize>,
    /// The layers whose constant arrays are emitted (once, however many tiles call them).
    with_arrays: std::collections::BTreeSet<usize>,
    uses_src: bool,
    uses_split: bool,
    uses_whole: bool,
    uses_arena: bool,
    uses_pair: bool,
    uses_carve: bool,
}

impl Emitter<'_> {
    /// A public static `L{ix}{suffix}` of kernel type `ty` with the given initializer; returns its path from lib.rs.
    fn item(&mut self, ix: usize, suffix: &str, ty: &'static str, init: String) -> String {
        self.items.push(format!("pub static L{ix}{suffix}: {ty} = {init};\n"));
        self.types.insert(ty);
        format!("weights::L{ix}{suffix}")
    }

    /// The constant arrays of node `ix` (packed weights, bias, multipliers, shifts) as field initializers; with
    /// `folded`, the bias with the zero-point term folded in (emit::conv_layout), which the column, plane and dense
    /// kernels take. The column kernel's rows come in interleaved pairs (interleaved_pairs).
    fn weight_fields(&mut self, ix: usize, folded: bool) -> Result<Vec<(&'static str, String)>> {
        let node = &self.graph.nodes[ix];
        let paired = self.kernels[ix].kernel == Kernel::ConvColumns;
        let (w, bias, mult) = layer_constants(node).expect("a layer with weights");
        let in_zp = self.graph.tensor(node.inputs[0]).q.zero_point;
        let bias = if folded {
            folded_bias(w, bias, in_zp).ok_or_else(|| {
                Error::input(format!(
                    "layer '{}' ({}): its sums could leave int32 in the {}-bit Rust kernel; compile it at a wider \
                     weight width",
                    node.name,
                    node.op.kind(),
                    w.bits
                ))
            })?
        } else {
            bias.to_vec()
        };
        let first = self.with_arrays.insert(ix);
        let arrays: [(&str, &str, Vec<String>); 4] = [
            (
                "weights",
                "u8",
                if paired { interleaved_pairs(w) } else { w.data.clone() }
                    .iter()
                    .map(|b| format!("0x{b:02x}"))
                    .collect(),
            ),
            ("bias", "i32", bias.iter().map(|b| b.to_string()).collect()),
            ("mult", "i32", mult.iter().map(|m| m.m0.to_string()).collect()),
            ("shift", "i8", mult.iter().map(|m| m.shift.to_string()).collect()),
        ];
        Ok(arrays
            .into_iter()
            .map(|(field, ty, values)| {
                let name = format!("L{ix}_{}", field.to_ascii_uppercase());
                let words = paired && field == "weights";
                if first {
                    self.items.push(if words { static_words(&name, values) } else { static_array(ty, &name, values) });
                }
                (field, if words { format!("&{name}.0") } else { format!("&{name}") })
            })
            .collect())
    }

    /// A 256-entry table of node `ix`; returns its path from lib.rs.
    fn table(&mut self, ix: usize, suffix: &str, ty: &str, values: Vec<String>) -> String {
        let name = format!("L{ix}_{suffix}");
        let item = format!("pub {}", static_array(ty, &name, values));
        // Once, however many tiles call it.
        if !self.items.contains(&item) {
            self.items.push(item);
        }
        format!("weights::{name}")
    }

    /// The parameter block `params` of node `ix` (a `Block` type, plus `extra` fields) as a static; returns its path.
    fn params(
        &mut self,
        ix: usize,
        block: &'static Block,
        params: &[(&str, Value)],
        extra: &[(&str, String)],
    ) -> String {
        let tile = self.tile.map_or(String::new(), |t| format!("_T{t}"));
        self.item(ix, &tile, block.rust, struct_literal(block.rust, params, extra))
    }

    /// The borrows of the arena a step needs: its output slice, then its scratch (`len` bytes at an arena offset)
    /// when it has one; returns their names.
    fn borrows(&mut self, step: &Step, scratch: Option<(usize, usize)>, lines: &mut Vec<String>) -> &'static str {
        let dst = step.output;
        let reads_arena = step.inputs.iter().any(|o| matches!(o.place, Place::Arena(_)) && o.place != dst.place);
        let out = match dst.place {
            Place::Arena(o) => Some((o, dst.len)),
            _ => None,
        };
        self.uses_arena |= out.is_some() || scratch.is_some() || reads_arena;
        let line = match (out, scratch, reads_arena) {
            (Some((o, len)), Some((s, slen)), true) => {
                self.uses_carve = true;
                format!("let (r, y, scratch) = carve(arena, {o}, {len}, {s}, {slen});")
            }
            (Some((o, len)), Some((s, slen)), false) => {
                self.uses_pair = true;
                format!("let (y, scratch) = pair(arena, {o}, {len}, {s}, {slen});")
            }
            (Some((o, len)), None, true) | (None, Some((o, len)), true) => {
                self.uses_split = true;
                let name = if out.is_some() { "y" } else { "scratch" };
                format!("let (r, {name}) = split(arena, {o}, {len});")
            }
            (Some((o, len)), None, false) => format!("let y = &mut arena[{o}..{}];", o + len),
            (None, Some((s, slen)), false) => format!("let scratch = &mut arena[{s}..{}];", s + slen),
            (None, None, true) => {
                self.uses_whole = true;
                "let r = Reader::whole(arena);".into()
            }
            (None, None, false) => return "output",
        };
        lines.push(line);
        if out.is_some() {
            "y"
        } else {
            "output"
        }
    }

    /// The statement block of one step: borrows of the arena, then the kernel call.
    fn step(&mut self, step: &Step) -> Result<String> {
        let ix = step.node;
        self.tile = step.tile;
        let node = &self.graph.nodes[ix];
        let mut lines = vec![];
        let scratch = match step.call {
            Call::Conv { scratch: Some(s), .. } => Some((s, self.kernels[ix].scratch.rust)),
            _ => None,
        };
        if let (Call::Conv { bits, params, .. }, Some((s, slen)), Place::Arena(o)) =
            (&step.call, scratch, step.output.place)
        {
            if step.inputs[0].place == step.output.place {
                // A depthwise convolution over its own input, one channel at a time through the scratch.
                (self.uses_pair, self.uses_arena) = (true, true);
                let fields = self.weight_fields(ix, true)?;
                let p = self.params(ix, &ConvParams::BLOCK, &params.fields(), &fields);
                // The input's tile may be the larger (a stride, or a tile's halo).
                let len = step.output.len.max(step.inputs[0].len);
                lines.push(format!("let (y, plane) = pair(arena, {o}, {len}, {s}, {slen});"));
                lines.push(format!("kernels::depthwise_in_place::<{bits}>(&{p}, y, plane);"));
                return Ok(Self::block(node, &lines));
            }
        }
        let y = self.borrows(step, scratch, &mut lines);
        let slice = |o: &Operand| match o.place {
            Place::Input => "input".to_string(),
            Place::Arena(a) => format!("r.get({a}, {})", o.len),
            Place::Output => "output".to_string(),
        };
        // Kernels that may update in place read a `Src`: the tensor being written, or another slice.
        let src = |o: &Operand| {
            if o.place == step.output.place {
                "Src::Dst".to_string()
            } else {
                format!("Src::Slice({})", slice(o))
            }
        };
        let x = slice(&step.inputs[0]);
        let call = match &step.call {
            Call::Conv { kernel, bits, params, residual, .. } => {
                if matches!(kernel, Kernel::Depthwise) && params.k_h * params.k_w > 64 {
                    return Err(Error::input(format!(
                        "layer '{}' (Conv): the Rust depthwise kernel takes windows of at most 64 taps, not {}x{}",
                        node.name, params.k_h, params.k_w
                    )));
                }
                let fields = self.weight_fields(ix, *kernel != Kernel::ConvGrouped)?;
                let p = self.params(ix, &ConvParams::BLOCK, &params.fields(), &fields);
                let conv = format!("kernels::{}::<{bits}>", conv_fn(*kernel));
                let scratch = if scratch.is_some() { "scratch" } else { "&mut []" };
                match residual {
                    Some(r) => {
                        self.uses_src = true;
                        let add = self.params(r.node, &BinaryParams::BLOCK, &r.params.fields(), &[]);
                        let (b, band) = (src(&step.inputs[1]), r.band_rows);
                        format!("kernels::conv_add(&{p}, &{add}, {band}, {conv}, {x}, {b}, {y}, {scratch});")
                    }
                    None => format!("{conv}(&{p}, {x}, {y}, {scratch});"),
                }
            }
            Call::Dense { bits, params, .. } => {
                let fields = self.weight_fields(ix, true)?;
                let p = self.params(ix, &DenseParams::BLOCK, &params.fields(), &fields);
                format!("kernels::dense::<{bits}>(&{p}, {x}, {y});")
            }
            Call::Add(params) | Call::Mul(params) => {
                self.uses_src = true;
                let kind = if matches!(step.call, Call::Add(_)) { "add" } else { "mul" };
                let (a, b) = (src(&step.inputs[0]), src(&step.inputs[1]));
                let p = self.params(ix, &BinaryParams::BLOCK, &params.fields(), &[]);
                format!("kernels::{kind}(&{p}, {a}, {b}, {y});")
            }
            Call::Table { .. } => {
                self.uses_src = true;
                let a = src(&step.inputs[0]);
                let QOp::Table(t) = &node.op else { unreachable!("a table step comes from a table node") };
                let table = self.table(ix, "TABLE", "i8", t.iter().map(|v| v.to_string()).collect());
                format!("kernels::table(&{table}, {a}, {y});")
            }
            Call::MaxPool(params) | Call::AvgPool(params) => {
                let kind = if matches!(step.call, Call::MaxPool(_)) { "max_pool" } else { "avg_pool" };
                let p = self.params(ix, &PoolParams::BLOCK, &params.fields(), &[]);
                format!("kernels::{kind}(&{p}, {x}, {y});")
            }
            Call::GlobalAvgPool(params) => {
                let p = self.params(ix, &GlobalPoolParams::BLOCK, &params.fields(), &[]);
                format!("kernels::global_avg_pool(&{p}, {x}, {y});")
            }
            Call::Pad(params) => {
                let p = self.params(ix, &PadParams::BLOCK, &params.fields(), &[]);
                format!("kernels::pad(&{p}, {x}, {y});")
            }
            Call::ConcatPart(params) => {
                // Each part of a concatenation has a static of its own.
                let (ty, suffix) = (ConcatParams::BLOCK.rust, format!("_PART{}", self.parts));
                self.parts += 1;
                let p = self.item(ix, &suffix, ty, struct_literal(ty, &params.fields(), &[]));
                format!("kernels::concat_part(&{p}, {x}, {y});")
            }
            Call::Copy { .. } => format!("{y}.copy_from_slice({x});"),
            Call::TileIn(params) | Call::TileOut(params) => {
                let way = if matches!(step.call, Call::TileIn(_)) { "IN" } else { "OUT" };
                let ty = WindowParams::BLOCK.rust;
                let tile = step.tile.expect("a tile copy belongs to a tile");
                let p = self.item(ix, &format!("_T{tile}_{way}"), ty, struct_literal(ty, &params.fields(), &[]));
                format!("kernels::copy_window(&{p}, {x}, {y});")
            }
            Call::Transpose(params) => {
                let p = self.params(ix, &TransposeParams::BLOCK, &params.fields(), &[]);
                format!("kernels::transpose(&{p}, {x}, {y});")
            }
            Call::LogSoftmax(params) => {
                let QOp::LogSoftmax { exp_table, log_table, .. } = &node.op else {
                    unreachable!("a log-softmax step comes from a log-softmax node")
                };
                let exp = self.table(ix, "EXP", "i32", exp_table.iter().map(|v| v.to_string()).collect());
                let log = self.table(ix, "LOG", "i32", log_table.iter().map(|v| v.to_string()).collect());
                let p = self.params(ix, &LogSoftmaxParams::BLOCK, &params.fields(), &[]);
                format!("kernels::log_softmax(&{p}, &{exp}, &{log}, {x}, {y});")
            }
            Call::Normalize(params) => {
                let QOp::Normalize(q) = &node.op else { unreachable!("a normalize step comes from a normalize node") };
                let ints = |v: &[i32]| v.iter().map(|v| v.to_string()).collect();
                let gains = self.table(ix, "GAINS", "i32", ints(&q.gains));
                let offsets = self.table(ix, "OFFSETS", "i32", ints(&q.offsets));
                let p = self.params(ix, &NormalizeParams::BLOCK, &params.fields(), &[]);
                format!("kernels::normalize(&{p}, {x}, {y}, &{gains}, &{offsets});")
            }
            Call::Reduce(params) => {
                let p = self.params(ix, &ReduceParams::BLOCK, &params.fields(), &[]);
                format!("kernels::reduce(&{p}, {x}, {y});")
            }
            Call::Slice(params) => {
                let p = self.params(ix, &SliceParams::BLOCK, &params.fields(), &[]);
                format!("kernels::slice(&{p}, {x}, {y});")
            }
            Call::Resize(params) => {
                let QOp::Resize(r) = &node.op else { unreachable!("a resize step comes from a resize node") };
                let entries = |t: &QTaps| t.entries.iter().map(|v| v.to_string()).collect();
                let ty = self.table(ix, "TAPS_Y", "i16", entries(&r.y));
                let tx = self.table(ix, "TAPS_X", "i16", entries(&r.x));
                let p = self.params(ix, &ResizeParams::BLOCK, &params.fields(), &[]);
                format!("kernels::resize(&{p}, &{ty}, &{tx}, {x}, {y});")
            }
            Call::Softmax { params, .. } => {
                let QOp::Softmax { exp_table, .. } = &node.op else {
                    unreachable!("a softmax step comes from a softmax node")
                };
                let table = self.table(ix, "EXP", "i32", exp_table.iter().map(|v| v.to_string()).collect());
                let p = self.params(ix, &SoftmaxParams::BLOCK, &params.fields(), &[]);
                // The Rust kernel keeps its `len` int32 of scratch on the stack rather than in the arena.
                lines.push(format!("let mut scratch = [0i32; {}];", params.len));
                format!("kernels::softmax(&{p}, &{table}, {x}, {y}, &mut scratch);")
            }
        };
        lines.push(call);
        Ok(Self::block(node, &lines))
    }

    /// A step's statements as a block, after the node's name and kind.
    fn block(node: &QNode, lines: &[String]) -> String {
        let comment = format!("    // {} ({})", node.name.replace(['\n', '\r'], " "), node.op.kind());
        let body: Vec<String> = lines.iter().flat_map(|l| wrap_call(l, 8)).collect();
        format!("{comment}\n    {{\n{}\n    }}", body.join("\n"))
    }
}

/// The generated crate: (path relative to the crate directory, contents).
pub fn emit(
    graph: &QGraph,
    kernels: &[Choice],
    plan: &MemoryPlan,
    name: &str,
    provenance: &Provenance,
) -> Result<Vec<(String, String)>> {
    let steps = schedule(graph, kernels, plan);
    let mut e = Emitter {
        graph,
        kernels,
        items: vec![],
        types: Default::default(),
        parts: 0,
        tile: None,
        with_arrays: Default::default(),
        uses_src: false,
        uses_split: false,
        uses_whole: false,
        uses_arena: false,
        uses_pair: false,
        uses_carve: false,
    };
    let mut blocks = vec![];
    for (i, step) in steps.iter().enumerate() {
        blocks.push(e.step(step)?);
        if Step::ends_node(&steps, i) {
            blocks.push(format!("    layer_done({});", step.node));
        }
    }
    let version = env!("CARGO_PKG_VERSION");
    let render = |t: &dyn askama::DynTemplate| super::render(t, "Rust");
    let i = Interface::new(graph, plan.arena_bytes, provenance);
    let layers = i.layers.iter().map(|(n, b)| format!("{}: {b} bits", n.replace(['\n', '\r'], " "))).collect();
    let uses = Uses::of(&steps);
    let mut files = vec![
        ("Cargo.toml".into(), render(&CargoToml { version, name })?),
        ("rustfmt.toml".into(), render(&RustfmtToml { version })?),
        (
            "src/lib.rs".into(),
            render(&LibRs {
                i: &i,
                layers,
                uses_src: e.uses_src,
                uses_split: e.uses_split,
                uses_whole: e.uses_whole,
                uses_pair: e.uses_pair,
                uses_arena: e.uses_arena,
                uses_carve: e.uses_carve,
                uses_isa: uses.conv_or_dense || uses.add,
                input_scale: super::float_literal(i.input.scale),
                output_scale: super::float_literal(i.output.scale),
                steps: blocks,
            })?,
        ),
        (
            "src/kernels.rs".into(),
            render(&KernelsRs {
                version,
                name,
                uses,
                structs: used_blocks(&uses).iter().map(|b| b.rust_struct()).collect(),
            })?,
        ),
        (
            "src/weights.rs".into(),
            render(&WeightsRs {
                version,
                name,
                types: e.types.into_iter().collect(),
                items: e.items,
                words: uses.conv_columns,
            })?,
        ),
    ];
    if uses.conv_or_dense {
        files.push(("src/isa.rs".into(), render(&IsaRs { version, name, uses })?));
    }
    Ok(files)
}

/// Statement `line` at `indent` spaces as rustfmt writes it: on one line when it fits the crate's 120 columns, else
/// a call with one argument a line.
fn wrap_call(line: &str, indent: usize) -> Vec<String> {
    let pad = " ".repeat(indent);
    let (Some(open), Some(inner)) = (line.find('('), line.strip_suffix(");")) else {
        return vec![format!("{pad}{line}")];
    };
    if indent + line.len() <= 120 || line.starts_with("let ") {
        return vec![format!("{pad}{line}")];
    }
    // The arguments: the commas outside any parentheses.
    let (mut args, mut depth, mut start) = (vec![], 0, open + 1);
    for (i, c) in inner.char_indices().skip(open + 1) {
        match c {
            '(' | '[' | '<' => depth += 1,
            ')' | ']' | '>' => depth -= 1,
            ',' if depth == 0 => {
                args.push(inner[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    args.push(inner[start..].trim());
    let mut out = vec![format!("{pad}{}", &line[..=open])];
    out.extend(args.iter().map(|a| format!("{pad}    {a},")));
    out.push(format!("{pad});"));
    out
}

/// The Rust column kernel's weights (docs/SEMANTICS.md): rows padded with zero bytes to whole 32-bit words, and the
/// rows of each pair of output channels (2j, 2j + 1; an odd last row with itself) interleaved a word at a time, so
/// that one pointer walks both rows of a pair.
pub fn interleaved_pairs(w: &PackedWeights) -> Vec<u8> {
    let rb = w.row_bytes();
    let words = rb.div_ceil(4);
    let row = |r: usize, n: usize| -> [u8; 4] {
        let mut word = [0u8; 4];
        for (i, b) in word.iter_mut().enumerate() {
            *b = if 4 * n + i < rb { w.data[r * rb + 4 * n + i] } else { 0 };
        }
        word
    };
    let mut out = Vec::with_capacity(w.rows.div_ceil(2) * 8 * words);
    for r in (0..w.rows).step_by(2) {
        let s = (r + 1).min(w.rows - 1);
        for n in 0..words {
            out.extend(row(r, n));
            out.extend(row(s, n));
        }
    }
    out
}

/// The Rust function of a convolution kernel (both depthwise kernels are one).
fn conv_fn(kernel: Kernel) -> &'static str {
    match kernel {
        Kernel::ConvColumns => "conv_columns",
        Kernel::Depthwise3x3 | Kernel::Depthwise => "depthwise",
        _ => "conv_grouped",
    }
}

/// The parameter blocks the kernels of `uses` take.
fn used_blocks(u: &Uses) -> Vec<&'static Block> {
    let used = [
        u.conv,
        u.dense,
        u.add || u.mul || u.residual,
        u.max_pool || u.avg_pool,
        u.global_avg_pool,
        u.pad,
        u.concat,
        u.transpose,
        u.softmax,
        u.log_softmax,
        u.resize,
        u.slice,
        u.normalize,
        u.reduce,
        u.window,
    ];
    BLOCKS.into_iter().zip(used).filter(|(_, u)| *u).map(|(b, _)| b).collect()
}

#[cfg(test)]
mod tests {
    use super::{interleaved_pairs, wrap_call};
    use crate::ir::pack::PackedWeights;

    #[test]
    fn column_rows_interleave_a_word_at_a_time_padded_and_paired() {
        // Three rows of 5 int8 weights: two words a row (the second padded), the third row paired with itself.
        let values: Vec<i8> = (1..=15).collect();
        let w = PackedWeights::pack(&values, 3, 5, 8);
        let b = |v: &[u8]| v.to_vec();
        let expected = [
            b(&[1, 2, 3, 4]),
            b(&[6, 7, 8, 9]),
            b(&[5, 0, 0, 0]),
            b(&[10, 0, 0, 0]),
            b(&[11, 12, 13, 14]),
            b(&[11, 12, 13, 14]),
            b(&[15, 0, 0, 0]),
            b(&[15, 0, 0, 0]),
        ]
        .concat();
        assert_eq!(interleaved_pairs(&w), expected);
    }

    #[test]
    fn long_calls_take_one_argument_a_line_as_rustfmt_writes_them() {
        assert_eq!(wrap_call("kernels::pad(&weights::L1, x, y);", 8), ["        kernels::pad(&weights::L1, x, y);"]);
        let args = (0..12).map(|i| format!("r.get({i}, 1000000)")).collect::<Vec<_>>().join(", ");
        let long = format!("kernels::conv_add::<4>(&weights::L3, {args});");
        let wrapped = wrap_call(&long, 8);
        assert_eq!(wrapped[0], "        kernels::conv_add::<4>(");
        assert_eq!(wrapped[1], "            &weights::L3,");
        assert_eq!(wrapped[2], "            r.get(0, 1000000),");
        assert_eq!(wrapped.len(), 2 + 13);
        assert_eq!(wrapped.last().unwrap(), "        );");
    }
}
