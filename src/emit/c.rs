//! C99 from the integer IR: the schedule as straight-line kernel calls on arena offsets, the constants as const
//! arrays, and the kernels the model uses (one template body per op family, instantiated per weight width).

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;

use super::conv_layout::{dsp_offset_sum_bound, folded_bias};
use super::interface::Interface;
use super::kernel_sources::{amalgamate, Family, Instances};
use super::params::{c_conv_fn, BLOCKS};
use super::schedule::{layer_constants, schedule, widths, Call, Step, Uses, Value};
use super::Provenance;
use crate::error::{Error, Result};
use crate::ir::pack::PackedWeights;
use crate::ir::quant::{QGraph, QOp, QTaps};
use crate::plan::{Choice, Kernel, MemoryPlan, Place, ALIGN};

#[derive(Template)]
#[template(path = "c/kernels.h.txt", escape = "none")]
struct KernelsH<'a> {
    version: &'a str,
    name: &'a str,
    p: &'a str,
    guard: &'a str,
    typedefs: Vec<String>,
    conv_fn: String,
    conv_kernels: Vec<String>,
    dense_widths: &'a [u8],
    uses: Uses,
}

/// The convolution kernels (`NAME_{conv_function}_wB`, each taking a `NAME_conv_fn`'s arguments).
pub const CONV_KERNELS: [Kernel; 4] =
    [Kernel::ConvColumns, Kernel::Depthwise3x3, Kernel::Depthwise, Kernel::ConvGrouped];

/// The C function of a convolution kernel, without the model prefix and the width.
pub fn conv_function(kernel: Kernel) -> &'static str {
    match kernel {
        Kernel::ConvColumns => "conv_columns",
        Kernel::Depthwise3x3 => "depthwise3x3",
        Kernel::Depthwise => "depthwise",
        _ => "conv_grouped",
    }
}

#[derive(Template)]
#[template(path = "c/model.h.txt", escape = "none")]
struct ModelH<'a> {
    i: &'a Interface<'a>,
    layers: Vec<String>,
    guard: &'a str,
    name: &'a str,
    arena_align: usize,
    input_scale: String,
    output_scale: String,
}

#[derive(Template)]
#[template(path = "c/model.c.txt", escape = "none")]
struct ModelC<'a> {
    i: &'a Interface<'a>,
    name: &'a str,
    guard: &'a str,
    declarations: Vec<String>,
    calls: Vec<String>,
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
    format!("{}f", super::float_literal(v))
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

/// Kernel parameters as a C initializer list, in the struct's field order.
fn c_fields(fields: &[(&str, Value)]) -> String {
    let value = |v: &Value| match v {
        Value::Int(x) => x.to_string(),
        Value::Vec4(a) => format!("{{{}, {}, {}, {}}}", a[0], a[1], a[2], a[3]),
    };
    fields.iter().map(|(_, v)| value(v)).collect::<Vec<_>>().join(", ")
}

struct Emitter<'a> {
    graph: &'a QGraph,
    p: &'a str,
    /// The tile of the step being emitted, inside a stage run tile by tile.
    tile: Option<usize>,
    /// The constant arrays of each layer with weights, emitted once however many tiles call it.
    layer_arrays: BTreeMap<usize, [String; 4]>,
    arrays: Vec<String>,
    structs: Vec<String>,
    declarations: Vec<String>,
    calls: Vec<String>,
}

impl Emitter<'_> {
    fn ptr(place: Place) -> String {
        match place {
            Place::Input => "input".into(),
            Place::Output => "output".into(),
            Place::Arena(o) => format!("(int8_t *)(arena + {o})"),
        }
    }

    /// Packed weights, biases, multipliers and shifts of node `ix` as arrays (the weights and biases as given);
    /// returns their names.
    fn weight_arrays(&mut self, ix: usize, w: &PackedWeights, bias: &[i32]) -> [String; 4] {
        if let Some(names) = self.layer_arrays.get(&ix) {
            return names.clone();
        }
        let (_, _, mult) = layer_constants(&self.graph.nodes[ix]).expect("a layer with weights");
        let base = format!("{}_l{ix}", self.p);
        let names =
            [format!("{base}_weights"), format!("{base}_bias"), format!("{base}_mult"), format!("{base}_shift")];
        self.arrays.push(c_array("uint8_t", &names[0], w.data.iter().map(|b| format!("0x{b:02x}")), false));
        self.arrays.push(c_array("int32_t", &names[1], bias.iter().map(|b| b.to_string()), false));
        self.arrays.push(c_array("int32_t", &names[2], mult.iter().map(|m| m.m0.to_string()), false));
        self.arrays.push(c_array("int8_t", &names[3], mult.iter().map(|m| m.shift.to_string()), false));
        self.layer_arrays.insert(ix, names.clone());
        names
    }

    /// Declares node `ix`'s parameter block of type `ty` (on the current tile) and returns its name.
    fn declare_struct(&mut self, ix: usize, ty: &str, fields: String) -> String {
        let tile = self.tile.map_or(String::new(), |t| format!("_t{t}"));
        self.declare(format!("{}_l{ix}{tile}", self.p), ty, fields)
    }

    /// Declares the parameter block of node `ix`'s next part (a node with several calls).
    fn declare_part(&mut self, ix: usize, ty: &str, fields: String) -> String {
        let prefix = format!("{}_l{ix}_part", self.p);
        let part = self.declarations.iter().filter(|d| d.contains(&prefix)).count();
        self.declare(format!("{prefix}{part}"), ty, fields)
    }

    fn declare(&mut self, name: String, ty: &str, fields: String) -> String {
        self.structs.push(format!("const {}_{ty}_t {name} = {{{fields}}};\n", self.p));
        self.declarations.push(format!("extern const {}_{ty}_t {name};", self.p));
        name
    }

    /// Node `ix`'s table of C type `ty`, as a public array; returns its name.
    fn table(&mut self, ix: usize, suffix: &str, ty: &str, values: Vec<String>) -> String {
        let name = format!("{}_l{ix}_{suffix}", self.p);
        let declaration = format!("extern const {ty} {name}[{}];", values.len());
        // Once, however many tiles call it.
        if !self.declarations.contains(&declaration) {
            self.arrays.push(c_array(ty, &name, values, true));
            self.declarations.push(declaration);
        }
        name
    }

    fn step(&mut self, step: &Step) -> Result<()> {
        let (ix, p) = (step.node, self.p);
        self.tile = step.tile;
        let node = &self.graph.nodes[ix];
        let (x, y) = (Self::ptr(step.inputs[0].place), Self::ptr(step.output.place));
        let call = match &step.call {
            Call::Conv { kernel, bits, params, scratch, residual } => {
                let (w, bias, _) = layer_constants(node).expect("a conv has weights");
                let [w, b, m, s] = if matches!(kernel, Kernel::ConvColumns | Kernel::Depthwise3x3 | Kernel::Depthwise) {
                    // The column and plane kernels' bias (emit::conv_layout).
                    let folded = folded_bias(w, bias, params.in_zp).ok_or_else(|| {
                        Error::input(format!(
                            "layer '{}' (Conv): its sums could leave int32 in the {bits}-bit C kernel; compile it \
                             at a wider weight width",
                            node.name
                        ))
                    })?;
                    self.weight_arrays(ix, w, &folded)
                } else {
                    self.weight_arrays(ix, w, bias)
                };
                let name =
                    self.declare_struct(ix, "conv", format!("{}, {w}, {b}, {m}, {s}", c_fields(&params.fields())));
                let scratch = scratch.map_or("0".into(), |o| format!("arena + {o}"));
                let conv = format!("{p}_{}_w{bits}", conv_function(*kernel));
                match residual {
                    Some(r) => {
                        let add = self.declare_struct(r.node, "binary", c_fields(&r.params.fields()));
                        let skip = Self::ptr(step.inputs[1].place);
                        let rows = r.band_rows;
                        format!("{p}_conv_add(&{name}, &{add}, {rows}, {conv}, {x}, {skip}, {y}, {scratch});")
                    }
                    None => format!("{conv}(&{name}, {x}, {y}, {scratch});"),
                }
            }
            Call::Dense { bits, params, scratch } => {
                let (w, bias, _) = layer_constants(node).expect("a dense layer has weights");
                // The DSP kernel's sub-byte sums (emit::conv_layout), on inputs less their zero point.
                if *bits < 8 && dsp_offset_sum_bound(*bits, w.k, 255) > i32::MAX as i64 {
                    return Err(Error::input(format!(
                        "layer '{}' (Dense): its sums could leave int32 in the {bits}-bit C kernel; compile it at a \
                         wider weight width",
                        node.name
                    )));
                }
                let [w, b, m, s] = self.weight_arrays(ix, w, bias);
                let name =
                    self.declare_struct(ix, "dense", format!("{}, {w}, {b}, {m}, {s}", c_fields(&params.fields())));
                let scratch = scratch.map_or("0".into(), |o| format!("arena + {o}"));
                format!("{p}_dense_w{bits}(&{name}, {x}, {y}, {scratch});")
            }
            Call::Add(params) | Call::Mul(params) => {
                let kind = if matches!(step.call, Call::Add(_)) { "add" } else { "mul" };
                let name = self.declare_struct(ix, "binary", c_fields(&params.fields()));
                format!("{p}_{kind}(&{name}, {x}, {}, {y});", Self::ptr(step.inputs[1].place))
            }
            Call::Table { n } => {
                let QOp::Table(t) = &node.op else { unreachable!("a table step comes from a table node") };
                let name = self.table(ix, "table", "int8_t", t.iter().map(|v| v.to_string()).collect());
                format!("{p}_table({name}, {x}, {y}, {n});")
            }
            Call::MaxPool(params) | Call::AvgPool(params) => {
                let kind = if matches!(step.call, Call::MaxPool(_)) { "max_pool" } else { "avg_pool" };
                let name = self.declare_struct(ix, "pool", c_fields(&params.fields()));
                format!("{p}_{kind}(&{name}, {x}, {y});")
            }
            Call::GlobalAvgPool(params) => {
                let name = self.declare_struct(ix, "global_pool", c_fields(&params.fields()));
                format!("{p}_global_avg_pool(&{name}, {x}, {y});")
            }
            Call::Pad(params) => {
                let name = self.declare_struct(ix, "pad", c_fields(&params.fields()));
                format!("{p}_pad(&{name}, {x}, {y});")
            }
            Call::ConcatPart(params) => {
                let name = self.declare_part(ix, "concat", c_fields(&params.fields()));
                format!("{p}_concat_part(&{name}, {x}, {y});")
            }
            Call::Copy { n } => {
                self.declarations.push("#include <string.h>".into());
                format!("memcpy({y}, {x}, {n});")
            }
            Call::Transpose(params) => {
                let name = self.declare_struct(ix, "transpose", c_fields(&params.fields()));
                format!("{p}_transpose(&{name}, {x}, {y});")
            }
            Call::TileIn(params) | Call::TileOut(params) => {
                let way = if matches!(step.call, Call::TileIn(_)) { "in" } else { "out" };
                let tile = step.tile.expect("a tile copy belongs to a tile");
                let name = self.declare(format!("{p}_l{ix}_t{tile}_{way}"), "window", c_fields(&params.fields()));
                format!("{p}_copy_window(&{name}, {x}, {y});")
            }
            Call::LogSoftmax(params) => {
                let QOp::LogSoftmax { exp_table, log_table, .. } = &node.op else {
                    unreachable!("a log-softmax step comes from a log-softmax node")
                };
                let exp = self.table(ix, "exp", "int32_t", exp_table.iter().map(|v| v.to_string()).collect());
                let log = self.table(ix, "log", "int32_t", log_table.iter().map(|v| v.to_string()).collect());
                let name = self.declare_struct(ix, "log_softmax", c_fields(&params.fields()));
                format!("{p}_log_softmax(&{name}, {x}, {y}, {exp}, {log});")
            }
            Call::Normalize(params) => {
                let QOp::Normalize(q) = &node.op else { unreachable!("a normalize step comes from a normalize node") };
                let ints = |v: &[i32]| v.iter().map(|v| v.to_string()).collect();
                let gains = self.table(ix, "gains", "int32_t", ints(&q.gains));
                let offsets = self.table(ix, "offsets", "int32_t", ints(&q.offsets));
                let name = self.declare_struct(ix, "normalize", c_fields(&params.fields()));
                format!("{p}_normalize(&{name}, {x}, {y}, {gains}, {offsets});")
            }
            Call::Reduce(params) => {
                let name = self.declare_struct(ix, "reduce", c_fields(&params.fields()));
                format!("{p}_reduce(&{name}, {x}, {y});")
            }
            Call::Slice(params) => {
                let name = self.declare_struct(ix, "slice", c_fields(&params.fields()));
                format!("{p}_slice(&{name}, {x}, {y});")
            }
            Call::Resize(params) => {
                let QOp::Resize(r) = &node.op else { unreachable!("a resize step comes from a resize node") };
                let entries = |t: &QTaps| t.entries.iter().map(|v| v.to_string()).collect();
                let ty = self.table(ix, "taps_y", "int16_t", entries(&r.y));
                let tx = self.table(ix, "taps_x", "int16_t", entries(&r.x));
                let name = self.declare_struct(ix, "resize", c_fields(&params.fields()));
                format!("{p}_resize(&{name}, {ty}, {tx}, {x}, {y});")
            }
            Call::Softmax { params, scratch } => {
                let QOp::Softmax { exp_table, .. } = &node.op else {
                    unreachable!("a softmax step comes from a softmax node")
                };
                let name = self.table(ix, "exp", "int32_t", exp_table.iter().map(|v| v.to_string()).collect());
                let params = self.declare_struct(ix, "softmax", c_fields(&params.fields()));
                format!("{p}_softmax(&{params}, {x}, {y}, {name}, (int32_t *)(arena + {scratch}));")
            }
        };
        self.calls.push(call);
        Ok(())
    }

    /// Closes node `ix`'s calls: its name as a comment, then the profiling hook.
    fn end_node(&mut self, ix: usize) {
        let last = self.calls.last_mut().expect("a call was added");
        if !last.contains("/*") {
            last.push_str(&format!(" /* {} */", self.graph.nodes[ix].name.replace("*/", "* /")));
        }
        self.calls.push(format!("{}({ix});", layer_hook(self.p)));
    }
}

/// The profiling hook the schedule calls after each layer with the layer's node index: an empty macro unless the
/// build defines it (`ompqc run --profile` does).
pub fn layer_hook(name: &str) -> String {
    format!("{}_LAYER_DONE", name.to_ascii_uppercase())
}

/// The generated C files: (file name, contents), each ending in a newline.
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
        p: name,
        tile: None,
        layer_arrays: BTreeMap::new(),
        arrays: vec![],
        structs: vec![],
        declarations: vec![],
        calls: vec![],
    };
    for (i, step) in steps.iter().enumerate() {
        e.step(step)?;
        if Step::ends_node(&steps, i) {
            e.end_node(step.node);
        }
    }
    let render = |t: &dyn askama::DynTemplate| super::render(t, "C");
    let (uses, dense_widths) = (Uses::of(&steps), widths(&steps, false));
    let convs = conv_kernels(&steps);
    e.declarations.dedup();
    // `#include`s first.
    e.declarations.sort_by_key(|d| !d.starts_with('#'));
    let i = Interface::new(graph, plan.arena_bytes, provenance);
    let version = i.version;
    let guard = name.to_ascii_uppercase();
    let layers = i.layers.iter().map(|(n, b)| format!("{}: {b} bits", n.replace("*/", "* /"))).collect();
    Ok(vec![
        (
            format!("{name}.h"),
            render(&ModelH {
                i: &i,
                layers,
                guard: &guard,
                name,
                arena_align: ALIGN,
                input_scale: c_float(i.input.scale),
                output_scale: c_float(i.output.scale),
            })?,
        ),
        (
            format!("{name}.c"),
            render(&ModelC { i: &i, name, guard: &guard, declarations: e.declarations, calls: e.calls })?,
        ),
        (format!("{name}_weights.c"), render(&WeightsC { version, name, arrays: e.arrays, structs: e.structs })?),
        (
            format!("{name}_kernels.h"),
            render(&KernelsH {
                version,
                name,
                p: name,
                guard: &guard,
                typedefs: BLOCKS.iter().map(|b| b.c_typedef(name)).collect(),
                conv_fn: c_conv_fn(&format!("{name}_conv_t"), &format!("(*{name}_conv_fn)")),
                conv_kernels: convs.iter().map(|&(k, b)| format!("{}_w{b}", conv_function(k))).collect(),
                dense_widths: &dense_widths,
                uses,
            })?,
        ),
        (format!("{name}_kernels.c"), kernels_c(name, version, &steps)),
    ])
}

/// The kernel families (kernel_sources) the schedule `steps` runs, with their instances.
fn families(steps: &[Step]) -> Vec<Family> {
    let (uses, dense) = (Uses::of(steps), widths(steps, false));
    let mut families: Vec<Family> = vec![];
    for &(kernel, bits) in &conv_kernels(steps) {
        let file = conv_function(kernel);
        match families.iter_mut().find(|f| f.file == file) {
            Some(Family { instances: Instances::Widths(w), .. }) => {
                w.insert(bits);
            }
            _ => families.push(Family { file, instances: Instances::Widths([bits].into()) }),
        }
    }
    if !dense.is_empty() {
        families.push(Family { file: "dense", instances: Instances::Widths(dense.iter().copied().collect()) });
    }
    let named = |pairs: &[(bool, &'static str)]| -> Vec<&'static str> {
        pairs.iter().filter(|(used, _)| *used).map(|(_, k)| *k).collect()
    };
    let add = named(&[(uses.add, "add"), (uses.residual, "conv_add")]);
    if !add.is_empty() {
        families.push(Family { file: "add", instances: Instances::Kernels(add) });
    }
    let singles = [(uses.mul, "mul"), (uses.table, "table"), (uses.max_pool, "max_pool")];
    families.extend(named(&singles).into_iter().map(|file| Family { file, instances: Instances::One }));
    let pool = named(&[(uses.avg_pool, "avg_pool"), (uses.global_avg_pool, "global_avg_pool")]);
    if !pool.is_empty() {
        families.push(Family { file: "pool", instances: Instances::Kernels(pool) });
    }
    let rest = [
        (uses.pad, "pad"),
        (uses.concat, "concat"),
        (uses.transpose, "transpose"),
        (uses.softmax, "softmax"),
        (uses.log_softmax, "log_softmax"),
        (uses.resize, "resize"),
        (uses.slice, "slice"),
        (uses.normalize, "normalize"),
        (uses.reduce, "reduce"),
        (uses.window, "window"),
    ];
    families.extend(named(&rest).into_iter().map(|file| Family { file, instances: Instances::One }));
    families
}

/// The convolution kernels and widths of the schedule `steps`.
fn conv_kernels(steps: &[Step]) -> BTreeSet<(Kernel, u8)> {
    steps
        .iter()
        .filter_map(|s| match s.call {
            Call::Conv { kernel, bits, .. } => Some((kernel, bits)),
            _ => None,
        })
        .collect()
}

/// The kernel families the C of `graph` runs, as `emit` schedules it.
pub fn kernel_families(graph: &QGraph, kernels: &[Choice], plan: &MemoryPlan) -> Vec<Family> {
    families(&schedule(graph, kernels, plan))
}

/// `NAME_kernels.c`: the kernel families the model runs, amalgamated from the kernel sources.
fn kernels_c(name: &str, version: &str, steps: &[Step]) -> String {
    let preamble = format!(
        "/* Generated by ompqc {version}: the integer kernels of {name}, amalgamated from ompqc's kernel sources (each\n   \
         section names its file). Their numbers are those of ompqc's reference interpreter, bit for bit. */\n"
    );
    let preamble = format!("{preamble}{}", conv_short_loops(steps));
    amalgamate(name, &preamble, &format!("{name}_kernels.h"), &families(steps))
}

/// The DSP column convolution's loop copies for the short requantization that the model's layers take, as
/// (short_requant, clamp to the whole int8 range, clamp floor at or above the zero point, rows with a last part word):
/// the other copies are not compiled.
fn conv_short_loops(steps: &[Step]) -> String {
    let loops: BTreeSet<(i32, bool, bool, bool)> = steps
        .iter()
        .filter_map(|s| match &s.call {
            Call::Conv { kernel: Kernel::ConvColumns, bits, params, .. } if params.short_requant > 0 => {
                let full = params.act_min == -128 && params.act_max == 127;
                let floored = params.act_min >= params.out_zp;
                let tailed = params.k_h * params.k_w * params.in_c % (32 / i32::from(*bits)) != 0;
                Some((params.short_requant, full, floored, tailed))
            }
            _ => None,
        })
        .collect();
    let items: String = loops
        .iter()
        .map(|&(form, f, fl, t)| format!(" X({form}, {}, {}, {})", u8::from(f), u8::from(fl), u8::from(t)))
        .collect();
    format!("#define OMPQC_CONV_SHORT_LOOPS(X){items}\n")
}
