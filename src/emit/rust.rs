//! A `#![no_std]` Rust crate from the integer IR: the schedule of emit::schedule as safe kernel calls on arena
//! slices, the constants as `static` data, and the kernels the model uses (one generic body per op family, the
//! weight width a const parameter). The crate allocates nothing and has no `unsafe`.

use askama::Template;

use super::interface::Interface;
use super::params::{
    BinaryParams, Block, ConcatParams, ConvParams, DenseParams, GlobalPoolParams, PadParams, PoolParams, SoftmaxParams,
    TransposeParams, Value, WindowParams, BLOCKS,
};
use super::schedule::{layer_constants, schedule, Call, Operand, Step, Uses};
use super::Provenance;
use crate::error::Result;
use crate::ir::quant::{QGraph, QNode, QOp};
use crate::plan::{Choice, MemoryPlan, Place};

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
#[template(path = "rust/weights.rs.txt", escape = "none")]
struct WeightsRs<'a> {
    version: &'a str,
    name: &'a str,
    types: Vec<&'a str>,
    items: Vec<String>,
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
    input_scale: String,
    output_scale: String,
    steps: Vec<String>,
}

/// A static array, 16 values a line (the weights module is not reformatted).
fn static_array(ty: &str, name: &str, values: Vec<String>) -> String {
    let lines: Vec<String> = values.chunks(16).map(|c| format!("    {},", c.join(", "))).collect();
    format!("static {name}: [{ty}; {}] = [\n{}\n];\n", values.len(), lines.join("\n"))
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
}

impl Emitter<'_> {
    /// A public static `L{ix}{suffix}` of kernel type `ty` with the given initializer; returns its path from lib.rs.
    fn item(&mut self, ix: usize, suffix: &str, ty: &'static str, init: String) -> String {
        self.items.push(format!("pub static L{ix}{suffix}: {ty} = {init};\n"));
        self.types.insert(ty);
        format!("weights::L{ix}{suffix}")
    }

    /// The constant arrays of node `ix` (packed weights, bias, multipliers, shifts) as field initializers.
    fn weight_fields(&mut self, ix: usize) -> Vec<(&'static str, String)> {
        let (w, bias, mult) = layer_constants(&self.graph.nodes[ix]).expect("a layer with weights");
        let first = self.with_arrays.insert(ix);
        let arrays: [(&str, &str, Vec<String>); 4] = [
            ("weights", "u8", w.data.iter().map(|b| format!("0x{b:02x}")).collect()),
            ("bias", "i32", bias.iter().map(|b| b.to_string()).collect()),
            ("mult", "i32", mult.iter().map(|m| m.m0.to_string()).collect()),
            ("shift", "i8", mult.iter().map(|m| m.shift.to_string()).collect()),
        ];
        arrays
            .into_iter()
            .map(|(field, ty, values)| {
                let name = format!("L{ix}_{}", field.to_ascii_uppercase());
                if first {
                    self.items.push(static_array(ty, &name, values));
                }
                (field, format!("&{name}"))
            })
            .collect()
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

    /// The borrows of the arena a step needs, and the name of its output slice.
    fn borrows(&mut self, step: &Step, lines: &mut Vec<String>) -> &'static str {
        let dst = step.output;
        let reads_arena = step.inputs.iter().any(|o| matches!(o.place, Place::Arena(_)) && o.place != dst.place);
        match dst.place {
            Place::Arena(o) => {
                self.uses_arena = true;
                if reads_arena {
                    self.uses_split = true;
                    lines.push(format!("let (r, y) = split(arena, {o}, {});", dst.len));
                } else {
                    lines.push(format!("let y = &mut arena[{o}..{}];", o + dst.len));
                }
                "y"
            }
            _ => {
                if reads_arena {
                    self.uses_whole = true;
                    self.uses_arena = true;
                    lines.push("let r = Reader::whole(arena);".into());
                }
                "output"
            }
        }
    }

    /// The statement block of one step: borrows of the arena, then the kernel call.
    fn step(&mut self, step: &Step) -> String {
        let ix = step.node;
        self.tile = step.tile;
        let node = &self.graph.nodes[ix];
        let mut lines = vec![];
        if let (Call::Conv { bits, params, scratch: Some(s), .. }, Place::Arena(o)) = (&step.call, step.output.place) {
            if step.inputs[0].place == step.output.place {
                // A depthwise convolution over its own input, one channel at a time through the scratch.
                (self.uses_pair, self.uses_arena) = (true, true);
                let fields = self.weight_fields(ix);
                let p = self.params(ix, &ConvParams::BLOCK, &params.fields(), &fields);
                let plane = (params.in_h * params.in_w) as usize;
                // The input's tile may be the larger (a stride, or a tile's halo).
                let len = step.output.len.max(step.inputs[0].len);
                lines.push(format!("let (y, plane) = pair(arena, {o}, {len}, {s}, {plane});"));
                lines.push(format!("kernels::depthwise_in_place::<{bits}>(&{p}, y, plane);"));
                return Self::block(node, &lines);
            }
        }
        let y = self.borrows(step, &mut lines);
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
            // The Rust kernel walks the window itself: it does not use the column scratch.
            Call::Conv { bits, params, residual, .. } => {
                let fields = self.weight_fields(ix);
                let p = self.params(ix, &ConvParams::BLOCK, &params.fields(), &fields);
                match residual {
                    Some(r) => {
                        self.uses_src = true;
                        let add = self.params(r.node, &BinaryParams::BLOCK, &r.params.fields(), &[]);
                        let b = src(&step.inputs[1]);
                        format!("kernels::conv_add::<{bits}>(&{p}, &{add}, {x}, {b}, {y});")
                    }
                    None => format!("kernels::conv::<{bits}>(&{p}, {x}, {y});"),
                }
            }
            Call::Dense { bits, params, .. } => {
                let fields = self.weight_fields(ix);
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
        Self::block(node, &lines)
    }

    /// A step's statements as a block, after the node's name and kind.
    fn block(node: &QNode, lines: &[String]) -> String {
        let comment = format!("    // {} ({})", node.name.replace(['\n', '\r'], " "), node.op.kind());
        let body: Vec<String> = lines.iter().map(|l| format!("        {l}")).collect();
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
    };
    let blocks: Vec<String> = steps.iter().map(|s| e.step(s)).collect();
    let version = env!("CARGO_PKG_VERSION");
    let render = |t: &dyn askama::DynTemplate| super::render(t, "Rust");
    let i = Interface::new(graph, plan.arena_bytes, provenance);
    let layers = i.layers.iter().map(|(n, b)| format!("{}: {b} bits", n.replace(['\n', '\r'], " "))).collect();
    let uses = Uses::of(&steps);
    Ok(vec![
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
            render(&WeightsRs { version, name, types: e.types.into_iter().collect(), items: e.items })?,
        ),
    ])
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
        u.window,
    ];
    BLOCKS.into_iter().zip(used).filter(|(_, u)| *u).map(|(b, _)| b).collect()
}
