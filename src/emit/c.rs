//! C99 from the integer IR: the schedule as straight-line kernel calls on arena offsets, the constants as const
//! arrays, and the kernels the model uses (one template body per op family, instantiated per weight width).

use askama::Template;

use super::Provenance;
use crate::error::{Error, Result};
use crate::ir::quant::{Layout, QAdd, QConv, QDense, QGraph, QMul, QNode, QOp};
use crate::ir::Pool;
use crate::plan::{reshape_is_free, MemoryPlan, Place, ALIGN};
use crate::quantize::fixed_point::Multiplier;
use crate::quantize::pack::PackedWeights;

/// Which optional kernels a model needs.
#[derive(Default, Clone, Copy)]
struct Uses {
    add: bool,
    mul: bool,
    table: bool,
    max_pool: bool,
    avg_pool: bool,
    global_avg_pool: bool,
    pad: bool,
    concat: bool,
    transpose: bool,
    softmax: bool,
}

/// The constants of the weight-unpacking macro for one width.
struct WeightFormat {
    bits: u8,
    log_bits: u32,
    log_per_byte: u32,
    per_byte_mask: u32,
    mask: u32,
    sign: u32,
}

impl WeightFormat {
    fn new(bits: u8) -> WeightFormat {
        let per_byte = 8 / bits as u32;
        WeightFormat {
            bits,
            log_bits: (bits as u32).trailing_zeros(),
            log_per_byte: per_byte.trailing_zeros(),
            per_byte_mask: per_byte - 1,
            mask: (1 << bits) - 1,
            sign: 1 << (bits - 1),
        }
    }
}

#[derive(Template)]
#[template(path = "c/kernels.h.txt", escape = "none")]
struct KernelsH<'a> {
    version: &'a str,
    name: &'a str,
    p: &'a str,
    guard: &'a str,
    conv_widths: &'a [u8],
    dense_widths: &'a [u8],
    uses: Uses,
}

#[derive(Template)]
#[template(path = "c/kernels.c.txt", escape = "none")]
struct KernelsC<'a> {
    version: &'a str,
    name: &'a str,
    p: &'a str,
    weight_formats: Vec<WeightFormat>,
    conv_widths: &'a [u8],
    dense_widths: &'a [u8],
    uses: Uses,
}

#[derive(Template)]
#[template(path = "c/model.h.txt", escape = "none")]
struct ModelH<'a> {
    version: &'a str,
    target: &'a str,
    model_file: &'a str,
    model_hash: &'a str,
    layers: Vec<String>,
    guard: &'a str,
    name: &'a str,
    input_size: usize,
    output_size: usize,
    arena_size: usize,
    arena_align: usize,
    input_scale: String,
    input_zero_point: i32,
    output_scale: String,
    output_zero_point: i32,
    input_shape: String,
    output_shape: String,
}

#[derive(Template)]
#[template(path = "c/model.c.txt", escape = "none")]
struct ModelC<'a> {
    version: &'a str,
    target: &'a str,
    name: &'a str,
    guard: &'a str,
    declarations: Vec<String>,
    calls: Vec<String>,
    input_pixels: usize,
    input_channels: usize,
    output_pixels: usize,
    output_channels: usize,
}

#[derive(Template)]
#[template(path = "c/weights.c.txt", escape = "none")]
struct WeightsC<'a> {
    version: &'a str,
    name: &'a str,
    arrays: Vec<String>,
    structs: Vec<String>,
}

/// A float as a C literal that reads back to the same f32.
fn c_float(v: f32) -> String {
    let s = format!("{v:?}");
    if s.contains(['.', 'e', 'E']) {
        format!("{s}f")
    } else {
        format!("{s}.0f")
    }
}

/// A C array definition, 16 values a line.
fn c_array(ty: &str, name: &str, values: impl IntoIterator<Item = String>, public: bool) -> String {
    let values: Vec<String> = values.into_iter().collect();
    let lines: Vec<String> = values.chunks(16).map(|c| format!("    {},", c.join(", "))).collect();
    let storage = if public { "" } else { "static " };
    format!(
        "{storage}const {ty} {name}[{}] = {{\n{}\n}};\n",
        values.len().max(1),
        if lines.is_empty() { "    0".into() } else { lines.join("\n") }
    )
}

/// (channels, pixels) of a logical shape in channels-last storage.
fn channels_pixels(shape: &[usize]) -> (usize, usize) {
    match shape {
        [] | [_] => (1, shape.iter().product()),
        [_, c, rest @ ..] => (*c, rest.iter().product()),
    }
}

/// (height, width, channels) as the kernels see a rank-2 to rank-4 tensor.
fn hwc(shape: &[usize]) -> (usize, usize, usize) {
    match shape {
        [_, c] => (1, 1, *c),
        [_, c, w] => (1, *w, *c),
        [_, c, h, w] => (*h, *w, *c),
        _ => (1, 1, shape.iter().product()),
    }
}

struct Emitter<'a> {
    graph: &'a QGraph,
    plan: &'a MemoryPlan,
    p: &'a str,
    uses: Uses,
    conv_widths: Vec<u8>,
    dense_widths: Vec<u8>,
    arrays: Vec<String>,
    structs: Vec<String>,
    declarations: Vec<String>,
    calls: Vec<String>,
}

impl Emitter<'_> {
    fn ptr(&self, tensor: usize) -> String {
        match self.plan.places[tensor] {
            Place::Input => "input".into(),
            Place::Output => "output".into(),
            Place::Arena(o) => format!("(int8_t *)(arena + {o})"),
        }
    }

    fn unsupported(&self, node: &QNode, why: &str) -> Error {
        Error::input(format!("layer '{}' ({}): the C emitter {why}", node.name, node.op.kind()))
    }

    /// Packed weights, biases, multipliers and shifts of layer `ix` as arrays; returns their names.
    fn weight_arrays(&mut self, ix: usize, w: &PackedWeights, bias: &[i32], mult: &[Multiplier]) -> [String; 4] {
        let base = format!("{}_l{ix}", self.p);
        let names =
            [format!("{base}_weights"), format!("{base}_bias"), format!("{base}_mult"), format!("{base}_shift")];
        self.arrays.push(c_array("uint8_t", &names[0], w.data.iter().map(|b| format!("0x{b:02x}")), false));
        self.arrays.push(c_array("int32_t", &names[1], bias.iter().map(|b| b.to_string()), false));
        self.arrays.push(c_array("int32_t", &names[2], mult.iter().map(|m| m.m0.to_string()), false));
        self.arrays.push(c_array("int8_t", &names[3], mult.iter().map(|m| m.shift.to_string()), false));
        names
    }

    fn declare_struct(&mut self, ty: &str, name: &str, fields: String) {
        self.structs.push(format!("const {}_{ty}_t {name} = {{{fields}}};\n", self.p));
        self.declarations.push(format!("extern const {}_{ty}_t {name};", self.p));
    }

    fn width(&self, node: &QNode, w: &PackedWeights) -> Result<u8> {
        if ![2, 4, 8].contains(&w.bits) {
            return Err(self.unsupported(node, &format!("has kernels for 2-, 4- and 8-bit weights, not {}", w.bits)));
        }
        Ok(w.bits)
    }

    fn conv(&mut self, ix: usize, node: &QNode, c: &QConv) -> Result<()> {
        let bits = self.width(node, &c.weights)?;
        let (in_h, in_w, in_c) = hwc(&self.graph.tensor(node.inputs[0]).shape);
        let (out_h, out_w, out_c) = hwc(&self.graph.tensor(node.output).shape);
        let [w, b, m, s] = self.weight_arrays(ix, &c.weights, &c.bias, &c.multipliers);
        let q_in = self.graph.tensor(node.inputs[0]).q;
        let q_out = self.graph.tensor(node.output).q;
        let name = format!("{}_l{ix}", self.p);
        let fields = format!(
            "{in_h}, {in_w}, {in_c}, {out_h}, {out_w}, {out_c}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {w}, {b}, {m}, {s}",
            c.groups, c.window.kernel[0], c.window.kernel[1], c.window.strides[0], c.window.strides[1], c.window.dilations[0], c.window.dilations[1], c.window.pads[0],
            c.window.pads[1], q_in.zero_point, q_out.zero_point, c.act_min, c.act_max, c.weights.row_bytes()
        );
        self.declare_struct("conv", &name, fields);
        if !self.conv_widths.contains(&bits) {
            self.conv_widths.push(bits);
        }
        self.calls.push(format!(
            "{}_conv_w{bits}(&{name}, {}, {});",
            self.p,
            self.ptr(node.inputs[0]),
            self.ptr(node.output)
        ));
        Ok(())
    }

    fn dense(&mut self, ix: usize, node: &QNode, d: &QDense) -> Result<()> {
        let bits = self.width(node, &d.weights)?;
        let [w, b, m, s] = self.weight_arrays(ix, &d.weights, &d.bias, &d.multipliers);
        let (q_in, q_out) = (self.graph.tensor(node.inputs[0]).q, self.graph.tensor(node.output).q);
        let name = format!("{}_l{ix}", self.p);
        let fields = format!(
            "{}, {}, {}, {}, {}, {}, {}, {w}, {b}, {m}, {s}",
            d.weights.k,
            d.weights.rows,
            q_in.zero_point,
            q_out.zero_point,
            d.act_min,
            d.act_max,
            d.weights.row_bytes()
        );
        self.declare_struct("dense", &name, fields);
        if !self.dense_widths.contains(&bits) {
            self.dense_widths.push(bits);
        }
        self.calls.push(format!(
            "{}_dense_w{bits}(&{name}, {}, {});",
            self.p,
            self.ptr(node.inputs[0]),
            self.ptr(node.output)
        ));
        Ok(())
    }

    /// The 4-D broadcast of a binary op's inputs onto its output, in storage order.
    fn broadcast_fields(&self, node: &QNode) -> String {
        let storage4 = |t: usize| {
            let s = Layout::storage_shape(&self.graph.tensor(t).shape);
            let mut d = vec![1usize; 4usize.saturating_sub(s.len())];
            d.extend(s);
            d
        };
        let out = storage4(node.output);
        let strides = |t: usize| {
            let d = storage4(t);
            let mut st = [0usize; 4];
            let mut stride = 1;
            for a in (0..4).rev() {
                st[a] = if d[a] == 1 { 0 } else { stride };
                stride *= d[a];
            }
            st
        };
        let list = |v: &[usize]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ");
        let (a, b) = (strides(node.inputs[0]), strides(node.inputs[1]));
        format!("{{{}}}, {{{}}}, {{{}}}", list(&out), list(&a), list(&b))
    }

    fn binary(&mut self, ix: usize, node: &QNode, kind: &str, params: [i32; 7], act: (i32, i32)) {
        let zp = |t: usize| self.graph.tensor(t).q.zero_point;
        let name = format!("{}_l{ix}", self.p);
        let p = params.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", ");
        let fields = format!(
            "{}, {}, {}, {}, {}, {}, {p}",
            self.broadcast_fields(node),
            zp(node.inputs[0]),
            zp(node.inputs[1]),
            zp(node.output),
            act.0,
            act.1
        );
        self.declare_struct("binary", &name, fields);
        self.calls.push(format!(
            "{}_{kind}(&{name}, {}, {}, {});",
            self.p,
            self.ptr(node.inputs[0]),
            self.ptr(node.inputs[1]),
            self.ptr(node.output)
        ));
    }

    fn add(&mut self, ix: usize, node: &QNode, a: &QAdd) {
        self.uses.add = true;
        let [ma, mb] = a.input_multipliers;
        let o = a.output_multiplier;
        self.binary(
            ix,
            node,
            "add",
            [a.left_shift, ma.m0, ma.shift, mb.m0, mb.shift, o.m0, o.shift],
            (a.act_min, a.act_max),
        );
    }

    fn mul(&mut self, ix: usize, node: &QNode, m: &QMul) {
        self.uses.mul = true;
        let o = m.output_multiplier;
        self.binary(ix, node, "mul", [0, 0, 0, 0, 0, o.m0, o.shift], (m.act_min, m.act_max));
    }

    fn pool(&mut self, ix: usize, node: &QNode, p: &Pool, max: bool) {
        let (in_h, in_w, c) = hwc(&self.graph.tensor(node.inputs[0]).shape);
        let (out_h, out_w, _) = hwc(&self.graph.tensor(node.output).shape);
        let name = format!("{}_l{ix}", self.p);
        let fields = format!(
            "{in_h}, {in_w}, {c}, {out_h}, {out_w}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}",
            p.window.kernel[0],
            p.window.kernel[1],
            p.window.strides[0],
            p.window.strides[1],
            p.window.dilations[0],
            p.window.dilations[1],
            p.window.pads[0],
            p.window.pads[1],
            p.window.pads[2],
            p.window.pads[3],
            i32::from(p.count_include_pad),
            self.graph.tensor(node.inputs[0]).q.zero_point
        );
        self.declare_struct("pool", &name, fields);
        let kind = if max { "max_pool" } else { "avg_pool" };
        if max {
            self.uses.max_pool = true;
        } else {
            self.uses.avg_pool = true;
        }
        self.calls.push(format!(
            "{}_{kind}(&{name}, {}, {});",
            self.p,
            self.ptr(node.inputs[0]),
            self.ptr(node.output)
        ));
    }

    fn node(&mut self, ix: usize) -> Result<()> {
        let node = &self.graph.nodes[ix];
        let calls_before = self.calls.len();
        let (input, output) = (node.inputs[0], node.output);
        let (in_shape, out_shape) = (&self.graph.tensor(input).shape, &self.graph.tensor(output).shape);
        match &node.op {
            QOp::Conv(c) => self.conv(ix, node, c)?,
            QOp::Dense(d) => self.dense(ix, node, d)?,
            QOp::Add(a) => self.add(ix, node, a),
            QOp::Mul(m) => self.mul(ix, node, m),
            QOp::Table(t) => {
                self.uses.table = true;
                let name = format!("{}_l{ix}_table", self.p);
                self.arrays.push(c_array("int8_t", &name, t.iter().map(|v| v.to_string()), true));
                self.declarations.push(format!("extern const int8_t {name}[256];"));
                let n = self.graph.tensor(output).elems();
                self.calls.push(format!("{}_table({name}, {}, {}, {n});", self.p, self.ptr(input), self.ptr(output)));
            }
            QOp::MaxPool(p) => self.pool(ix, node, p, true),
            QOp::AvgPool(p) => self.pool(ix, node, p, false),
            QOp::GlobalAvgPool => {
                self.uses.global_avg_pool = true;
                let (c, pixels) = channels_pixels(in_shape);
                self.calls.push(format!(
                    "{}_global_avg_pool({}, {}, {pixels}, {c});",
                    self.p,
                    self.ptr(input),
                    self.ptr(output)
                ));
            }
            QOp::Pad { pads, value } => {
                self.uses.pad = true;
                let ((in_h, in_w, c), (out_h, out_w, _)) = (hwc(in_shape), hwc(out_shape));
                self.calls.push(format!(
                    "{}_pad({}, {}, {in_h}, {in_w}, {c}, {out_h}, {out_w}, {}, {}, {value});",
                    self.p,
                    self.ptr(input),
                    self.ptr(output),
                    pads[0],
                    pads[1]
                ));
            }
            QOp::Concat { axis, requant } => {
                self.uses.concat = true;
                let a = Layout::storage_axis(*axis, out_shape.len());
                let storage = |t: usize| Layout::storage_shape(&self.graph.tensor(t).shape);
                let outer: usize = storage(output)[..a].iter().product();
                let out_block: usize = storage(output)[a..].iter().product();
                let mut offset = 0;
                for (i, &t) in node.inputs.iter().enumerate() {
                    let block: usize = storage(t)[a..].iter().product();
                    let m = requant[i].unwrap_or(Multiplier { m0: 0, shift: 0 });
                    self.calls.push(format!(
                        "{}_concat_part({}, {} + {offset}, {outer}, {block}, {out_block}, {}, {}, {}, {}, {});",
                        self.p,
                        self.ptr(t),
                        self.ptr(output),
                        i32::from(requant[i].is_some()),
                        m.m0,
                        m.shift,
                        self.graph.tensor(t).q.zero_point,
                        self.graph.tensor(output).q.zero_point
                    ));
                    offset += block;
                }
            }
            QOp::Reshape if reshape_is_free(in_shape, out_shape) => {
                // Same bytes: the plan gave both tensors one buffer, unless one of them is the caller's.
                if self.plan.places[input] != self.plan.places[output] {
                    let n = self.graph.tensor(output).elems();
                    self.declarations.push("#include <string.h>".into());
                    self.calls.push(format!("memcpy({}, {}, {n});", self.ptr(output), self.ptr(input)));
                }
            }
            QOp::Reshape => {
                // A channels-last tensor read in the logical (channels-first) order, or the reverse.
                let (in_free, out_free) = (reshape_is_free(in_shape, in_shape), reshape_is_free(out_shape, out_shape));
                let (c_in, p_in) = channels_pixels(in_shape);
                let (c_out, p_out) = channels_pixels(out_shape);
                let (rows, cols) = match (in_free, out_free) {
                    (false, true) => (p_in, c_in),
                    (true, false) => (c_out, p_out),
                    _ => return Err(self.unsupported(node, "cannot yet reshape between two channels-last layouts")),
                };
                self.uses.transpose = true;
                self.calls.push(format!(
                    "{}_transpose({}, {}, {rows}, {cols});",
                    self.p,
                    self.ptr(input),
                    self.ptr(output)
                ));
            }
            QOp::Softmax { axis, exp_table } => {
                self.uses.softmax = true;
                let name = format!("{}_l{ix}_exp", self.p);
                self.arrays.push(c_array("int32_t", &name, exp_table.iter().map(|v| v.to_string()), true));
                self.declarations.push(format!("extern const int32_t {name}[256];"));
                let storage = Layout::storage_shape(in_shape);
                let a = Layout::storage_axis(*axis, in_shape.len());
                let (outer, len, inner) =
                    (storage[..a].iter().product::<usize>(), storage[a], storage[a + 1..].iter().product::<usize>());
                let scratch = self.plan.scratch[ix].expect("softmax scratch is planned");
                self.calls.push(format!(
                    "{}_softmax({}, {}, {outer}, {len}, {inner}, {name}, (int32_t *)(arena + {scratch}));",
                    self.p,
                    self.ptr(input),
                    self.ptr(output)
                ));
            }
        }
        if self.calls.len() > calls_before {
            let last = self.calls.last_mut().expect("a call was added");
            if !last.contains("/*") {
                last.push_str(&format!(" /* {} */", node.name.replace("*/", "* /")));
            }
            self.calls.push(format!("{}({ix});", layer_hook(self.p)));
        }
        Ok(())
    }
}

/// The profiling hook the schedule calls after each layer with the layer's node index: an empty macro unless the
/// build defines it (`ompqc run --profile` does).
pub fn layer_hook(name: &str) -> String {
    format!("{}_LAYER_DONE", name.to_ascii_uppercase())
}

/// The generated C files: (file name, contents), each ending in a newline.
pub fn emit(graph: &QGraph, plan: &MemoryPlan, name: &str, provenance: &Provenance) -> Result<Vec<(String, String)>> {
    let mut e = Emitter {
        graph,
        plan,
        p: name,
        uses: Uses::default(),
        conv_widths: vec![],
        dense_widths: vec![],
        arrays: vec![],
        structs: vec![],
        declarations: vec![],
        calls: vec![],
    };
    for ix in 0..graph.nodes.len() {
        e.node(ix)?;
    }
    let render = |t: &dyn askama::DynTemplate| {
        let mut text = t.dyn_render().map_err(|err| Error::internal(format!("rendering C: {err}")))?;
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Ok::<String, Error>(text)
    };
    e.conv_widths.sort_unstable();
    e.dense_widths.sort_unstable();
    e.declarations.dedup();
    // `#include`s first.
    e.declarations.sort_by_key(|d| !d.starts_with('#'));
    let version = env!("CARGO_PKG_VERSION");
    let guard = name.to_ascii_uppercase();
    let mut widths: Vec<u8> = e.conv_widths.iter().chain(&e.dense_widths).copied().collect();
    widths.sort_unstable();
    widths.dedup();
    let (input, output) = (graph.tensor(graph.input), graph.tensor(graph.output));
    let shape = |s: &[usize]| format!("[{}]", s.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "));
    let layers = graph
        .nodes
        .iter()
        .filter_map(|n| n.op.weights().map(|w| format!("{}: {} bits", n.name.replace("*/", "* /"), w.bits)))
        .collect();
    let (in_c, in_p) = channels_pixels(&input.shape);
    let (out_c, out_p) = channels_pixels(&output.shape);
    Ok(vec![
        (
            format!("{name}.h"),
            render(&ModelH {
                version,
                target: &provenance.target,
                model_file: &provenance.model_file,
                model_hash: &provenance.model_hash,
                layers,
                guard: &guard,
                name,
                input_size: input.elems(),
                output_size: output.elems(),
                arena_size: plan.arena_bytes,
                arena_align: ALIGN,
                input_scale: c_float(input.q.scale),
                input_zero_point: input.q.zero_point,
                output_scale: c_float(output.q.scale),
                output_zero_point: output.q.zero_point,
                input_shape: shape(&input.shape),
                output_shape: shape(&output.shape),
            })?,
        ),
        (
            format!("{name}.c"),
            render(&ModelC {
                version,
                target: &provenance.target,
                name,
                guard: &guard,
                declarations: e.declarations,
                calls: e.calls,
                input_pixels: in_p,
                input_channels: in_c,
                output_pixels: out_p,
                output_channels: out_c,
            })?,
        ),
        (format!("{name}_weights.c"), render(&WeightsC { version, name, arrays: e.arrays, structs: e.structs })?),
        (
            format!("{name}_kernels.h"),
            render(&KernelsH {
                version,
                name,
                p: name,
                guard: &guard,
                conv_widths: &e.conv_widths,
                dense_widths: &e.dense_widths,
                uses: e.uses,
            })?,
        ),
        (
            format!("{name}_kernels.c"),
            render(&KernelsC {
                version,
                name,
                p: name,
                weight_formats: widths.into_iter().map(WeightFormat::new).collect(),
                conv_widths: &e.conv_widths,
                dense_widths: &e.dense_widths,
                uses: e.uses,
            })?,
        ),
    ])
}
