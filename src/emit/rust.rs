//! A `#![no_std]` Rust crate from the integer IR: the schedule of emit::schedule as safe kernel calls on arena
//! slices, the constants as `static` data, and the kernels the model uses (one generic body per op family, the
//! weight width a const parameter). The crate allocates nothing and has no `unsafe`.

use askama::Template;

use super::schedule::{
    channels_pixels, layer_constants, schedule, BinaryParams, Call, ConvParams, DenseParams, Operand, PoolParams, Step,
    Uses, Value,
};
use super::Provenance;
use crate::error::Result;
use crate::ir::quant::{QGraph, QOp};
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
    conv_fields: Vec<&'a str>,
    dense_fields: Vec<&'a str>,
    binary_fields: &'a [(&'a str, &'a str)],
    pool_fields: Vec<&'a str>,
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
    version: &'a str,
    target: &'a str,
    model_file: &'a str,
    model_hash: &'a str,
    layers: Vec<String>,
    uses_src: bool,
    uses_split: bool,
    uses_whole: bool,
    uses_arena: bool,
    input_size: usize,
    output_size: usize,
    arena_size: usize,
    input_rank: usize,
    input_shape: String,
    output_rank: usize,
    output_shape: String,
    input_scale: String,
    input_zero_point: i32,
    output_scale: String,
    output_zero_point: i32,
    steps: Vec<String>,
    input_pixels: usize,
    input_channels: usize,
    output_pixels: usize,
    output_channels: usize,
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
    uses_src: bool,
    uses_split: bool,
    uses_whole: bool,
    uses_arena: bool,
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
                self.items.push(static_array(ty, &name, values));
                (field, format!("&{name}"))
            })
            .collect()
    }

    /// A 256-entry table of node `ix`; returns its path from lib.rs.
    fn table(&mut self, ix: usize, suffix: &str, ty: &str, values: Vec<String>) -> String {
        let name = format!("L{ix}_{suffix}");
        self.items.push(format!("pub {}", static_array(ty, &name, values)));
        format!("weights::{name}")
    }

    /// The statement block of one step: borrows of the arena, then the kernel call.
    fn step(&mut self, step: &Step) -> String {
        let ix = step.node;
        let node = &self.graph.nodes[ix];
        let dst = step.output;
        let in_place = |o: &Operand| o.place == dst.place;
        let reads_arena = step.inputs.iter().any(|o| matches!(o.place, Place::Arena(_)) && !in_place(o));
        let mut lines = vec![];
        let y = match dst.place {
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
        };
        let slice = |o: &Operand| match o.place {
            Place::Input => "input".to_string(),
            Place::Arena(a) => format!("r.get({a}, {})", o.len),
            Place::Output => "output".to_string(),
        };
        // Kernels that may update in place read a `Src`: the tensor being written, or another slice.
        let src = |o: &Operand| if in_place(o) { "Src::Dst".to_string() } else { format!("Src::Slice({})", slice(o)) };
        let x = slice(&step.inputs[0]);
        let call = match &step.call {
            // The Rust kernel walks the window itself: it does not use the column scratch.
            Call::Conv { bits, params, residual, .. } => {
                let fields = self.weight_fields(ix);
                let p = self.item(ix, "", "Conv", struct_literal("Conv", &params.fields(), &fields));
                match residual {
                    Some(r) => {
                        self.uses_src = true;
                        let add = self.item(r.node, "", "Binary", struct_literal("Binary", &r.params.fields(), &[]));
                        let b = src(&step.inputs[1]);
                        format!("kernels::conv_add::<{bits}>(&{p}, &{add}, {x}, {b}, {y});")
                    }
                    None => format!("kernels::conv::<{bits}>(&{p}, {x}, {y});"),
                }
            }
            Call::Dense { bits, params } => {
                let fields = self.weight_fields(ix);
                let p = self.item(ix, "", "Dense", struct_literal("Dense", &params.fields(), &fields));
                format!("kernels::dense::<{bits}>(&{p}, {x}, {y});")
            }
            Call::Add(params) | Call::Mul(params) => {
                self.uses_src = true;
                let kind = if matches!(step.call, Call::Add(_)) { "add" } else { "mul" };
                let (a, b) = (src(&step.inputs[0]), src(&step.inputs[1]));
                let p = self.item(ix, "", "Binary", struct_literal("Binary", &params.fields(), &[]));
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
                let p = self.item(ix, "", "Pool", struct_literal("Pool", &params.fields(), &[]));
                format!("kernels::{kind}(&{p}, {x}, {y});")
            }
            Call::GlobalAvgPool { pixels, c } => format!("kernels::global_avg_pool({x}, {y}, {pixels}, {c});"),
            Call::Pad { in_h, in_w, c, out_w, pad_t, pad_l, value, .. } => {
                let fields = [
                    ("in_h", in_h.to_string()),
                    ("in_w", in_w.to_string()),
                    ("c", c.to_string()),
                    ("out_w", out_w.to_string()),
                    ("pad_t", pad_t.to_string()),
                    ("pad_l", pad_l.to_string()),
                    ("value", value.to_string()),
                ];
                let p = self.item(ix, "", "Pad", struct_literal("Pad", &[], &fields));
                format!("kernels::pad(&{p}, {x}, {y});")
            }
            Call::ConcatPart { offset, outer, block, out_block, requant, in_zp, out_zp } => {
                let m = requant.unwrap_or(crate::ir::fixed_point::Multiplier { m0: 0, shift: 0 });
                let fields = [
                    ("offset", offset.to_string()),
                    ("outer", outer.to_string()),
                    ("block", block.to_string()),
                    ("out_block", out_block.to_string()),
                    ("requant", requant.is_some().to_string()),
                    ("mult", m.m0.to_string()),
                    ("shift", m.shift.to_string()),
                    ("in_zp", in_zp.to_string()),
                    ("out_zp", out_zp.to_string()),
                ];
                let part = format!("_PART{}", self.parts);
                self.parts += 1;
                let p = self.item(ix, &part, "ConcatPart", struct_literal("ConcatPart", &[], &fields));
                format!("kernels::concat_part(&{p}, {x}, {y});")
            }
            Call::Copy { .. } => format!("{y}.copy_from_slice({x});"),
            Call::Transpose { rows, cols } => format!("kernels::transpose({x}, {y}, {rows}, {cols});"),
            Call::Softmax { outer, len, inner, .. } => {
                let QOp::Softmax { exp_table, .. } = &node.op else {
                    unreachable!("a softmax step comes from a softmax node")
                };
                let table = self.table(ix, "EXP", "i32", exp_table.iter().map(|v| v.to_string()).collect());
                let fields = [("outer", outer.to_string()), ("len", len.to_string()), ("inner", inner.to_string())];
                let p = self.item(ix, "", "Softmax", struct_literal("Softmax", &[], &fields));
                // The Rust kernel keeps its `len` int32 of scratch on the stack rather than in the arena.
                lines.push(format!("let mut scratch = [0i32; {len}];"));
                format!("kernels::softmax(&{p}, &{table}, {x}, {y}, &mut scratch);")
            }
        };
        lines.push(call);
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
        uses_src: false,
        uses_split: false,
        uses_whole: false,
        uses_arena: false,
    };
    let blocks: Vec<String> = steps.iter().map(|s| e.step(s)).collect();
    let version = env!("CARGO_PKG_VERSION");
    let render = |t: &dyn askama::DynTemplate| super::render(t, "Rust");
    let (input, output) = (graph.tensor(graph.input), graph.tensor(graph.output));
    let shape = |s: &[usize]| format!("[{}]", s.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "));
    let (in_c, in_p) = channels_pixels(&input.shape);
    let (out_c, out_p) = channels_pixels(&output.shape);
    let layers = graph
        .nodes
        .iter()
        .filter_map(|n| n.op.weights().map(|w| format!("{}: {} bits", n.name.replace(['\n', '\r'], " "), w.bits)))
        .collect();
    let names = |fields: &'static [(&'static str, &'static str)]| fields.iter().map(|f| f.0).collect::<Vec<_>>();
    Ok(vec![
        ("Cargo.toml".into(), render(&CargoToml { version, name })?),
        ("rustfmt.toml".into(), render(&RustfmtToml { version })?),
        (
            "src/lib.rs".into(),
            render(&LibRs {
                version,
                target: &provenance.target,
                model_file: &provenance.model_file,
                model_hash: &provenance.model_hash,
                layers,
                uses_src: e.uses_src,
                uses_split: e.uses_split,
                uses_whole: e.uses_whole,
                uses_arena: e.uses_arena,
                input_size: input.elems(),
                output_size: output.elems(),
                arena_size: plan.arena_bytes,
                input_rank: input.shape.len(),
                input_shape: shape(&input.shape),
                output_rank: output.shape.len(),
                output_shape: shape(&output.shape),
                input_scale: super::float_literal(input.q.scale),
                input_zero_point: input.q.zero_point,
                output_scale: super::float_literal(output.q.scale),
                output_zero_point: output.q.zero_point,
                steps: blocks,
                input_pixels: in_p,
                input_channels: in_c,
                output_pixels: out_p,
                output_channels: out_c,
            })?,
        ),
        (
            "src/kernels.rs".into(),
            render(&KernelsRs {
                version,
                name,
                uses: Uses::of(&steps),
                conv_fields: names(ConvParams::FIELDS),
                dense_fields: names(DenseParams::FIELDS),
                binary_fields: BinaryParams::FIELDS,
                pool_fields: names(PoolParams::FIELDS),
            })?,
        ),
        (
            "src/weights.rs".into(),
            render(&WeightsRs { version, name, types: e.types.into_iter().collect(), items: e.items })?,
        ),
    ])
}
