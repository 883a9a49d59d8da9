//! ONNX -> ompqc IR. tract parses the protobuf and infers every tensor's shape and, where a subgraph is
//! constant (initializers, Constant nodes, Shape/Gather/Concat chains feeding a Reshape), its value. ompqc then
//! walks the ONNX nodes with their exact op types and attributes and builds its own IR; local rewrites in
//! `ir::passes` fold and fuse afterwards. tract is used here and nowhere else in the compiler.

mod convert;
mod facts;
mod qdq;

use std::collections::HashMap;
use std::path::Path;

use tract_onnx::pb;
use tract_onnx::prelude::Framework;

use crate::error::{Error, Result};
use crate::ir::given::{GivenQuant, GivenWeights};
use crate::ir::{passes, Graph, Node, TensorId, TensorInfo};
use facts::Facts;

#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The full input shape, for models whose non-batch dimensions are dynamic.
    pub input_shape: Option<Vec<usize>>,
    /// A QDQ model's quantization is dropped: its QDQ graph is only the float model, quantized anew.
    pub requantize: bool,
}

/// A node ompqc cannot compile, with the reason.
#[derive(Clone, Debug, PartialEq)]
pub struct Unsupported {
    pub node: String,
    pub op_type: String,
    pub reason: String,
}

/// The result of an import: the graph of everything that converted, and every node that did not.
#[derive(Clone, Debug)]
pub struct Imported {
    pub graph: Graph,
    pub unsupported: Vec<Unsupported>,
    /// The ONNX input and output names, for messages.
    pub input_name: String,
    pub output_name: String,
}

impl Imported {
    /// The graph, or an input error listing every unsupported node.
    pub fn into_graph(self, path: &Path) -> Result<Graph> {
        if self.unsupported.is_empty() {
            return Ok(self.graph);
        }
        let count = self.unsupported.len();
        let list: Vec<String> = if count <= LISTED_NODES {
            self.unsupported.iter().map(|u| format!("'{}' ({}: {})", u.node, u.op_type, u.reason)).collect()
        } else {
            grouped(&self.unsupported)
        };
        Err(Error::input(format!(
            "{}: {count} unsupported node{}: {}",
            path.display(),
            if count == 1 { "" } else { "s" },
            list.join("; ")
        )))
    }
}

/// Refusals that name every node; above this, nodes are grouped by op type so the line stays short.
const LISTED_NODES: usize = 3;

/// Nodes named per op type in a grouped refusal.
const NAMED_PER_OP: usize = 3;

/// Per op type, in order of first appearance: the count, the first few node names and the first node's reason.
fn grouped(unsupported: &[Unsupported]) -> Vec<String> {
    let mut ops: Vec<&str> = Vec::new();
    for u in unsupported {
        if !ops.contains(&u.op_type.as_str()) {
            ops.push(&u.op_type);
        }
    }
    ops.iter()
        .map(|&op| {
            let nodes: Vec<&Unsupported> = unsupported.iter().filter(|u| u.op_type == op).collect();
            let names: Vec<String> = nodes.iter().take(NAMED_PER_OP).map(|u| format!("'{}'", u.node)).collect();
            let more = if nodes.len() > NAMED_PER_OP { ", ..." } else { "" };
            format!("{} {op} ({}{more}: {})", nodes.len(), names.join(", "), nodes[0].reason)
        })
        .collect()
}

/// Imports a model that must convert completely.
pub fn load(path: &Path, options: &ImportOptions) -> Result<Graph> {
    import(path, options)?.into_graph(path)
}

/// Imports a model, collecting unsupported nodes instead of stopping at the first.
pub fn import(path: &Path, options: &ImportOptions) -> Result<Imported> {
    let bytes = std::fs::read(path).map_err(|e| Error::input(format!("{}: cannot read: {e}", path.display())))?;
    import_bytes(&bytes, path, options)
}

/// Imports a model held in memory; `path` names it in messages and locates external data.
pub fn import_bytes(bytes: &[u8], path: &Path, options: &ImportOptions) -> Result<Imported> {
    let at = |msg: String| Error::input(format!("{}: {msg}", path.display()));
    if bytes.is_empty() {
        return Err(at("empty file, not an ONNX model".into()));
    }
    let mut proto = guarded(|| tract_onnx::onnx().proto_model_for_read(&mut &bytes[..]))
        .map_err(|e| at(format!("not a valid ONNX model ({e})")))?;
    printable_names(&mut proto);
    let qdq = qdq::strip(&mut proto).map_err(at)?;
    let graph = proto.graph.as_ref().ok_or_else(|| at("the ONNX model has no graph".into()))?;
    let (input, output) = single_input_output(graph).map_err(at)?;
    let input_shape = resolve_input_shape(input, options.input_shape.as_deref()).map_err(at)?;
    let facts = Facts::analyse(&proto, path, &input.name, &input_shape).map_err(at)?;
    facts.check_sizes().map_err(at)?;
    let opset = opset_version(&proto);
    let mut builder = Builder::new(&facts, opset, qdq.as_ref());
    let input_id = builder.add_tensor(&input.name, input_shape);
    builder.values.insert(input.name.clone(), Value::Tensor(input_id));
    for node in &graph.node {
        builder.node(node);
    }
    let output_id = match builder.values.get(&output.name) {
        Some(Value::Tensor(id)) => *id,
        Some(Value::Const) if builder.unsupported.is_empty() => {
            return Err(at(format!("output '{}' does not depend on the input", output.name)));
        }
        _ if builder.unsupported.is_empty() => {
            return Err(at(format!("output '{}' is produced by no node", output.name)));
        }
        // A failed node upstream left the output undefined; the unsupported list says why.
        _ => builder.add_tensor(&output.name, vec![]),
    };
    if let Some(node) = builder.nodes.iter().find(|n| !n.op.params_are_finite()) {
        return Err(at(format!(
            "layer '{}' ({}): its parameters hold NaN or infinite values",
            node.name,
            node.op.kind()
        )));
    }
    let mut graph =
        Graph { tensors: builder.tensors, nodes: builder.nodes, input: input_id, output: output_id, given: None };
    let layers = std::mem::take(&mut builder.layers);
    let unsupported = std::mem::take(&mut builder.unsupported);
    if let Some(qdq) = qdq {
        graph.given = Some(GivenQuant { tensors: qdq.tensors, layers, keep: !options.requantize });
    }
    if unsupported.is_empty() {
        qdq::propagate(&mut graph);
        passes::simplify(&mut graph);
        qdq::settle(&mut graph);
    }
    Ok(Imported { graph, unsupported, input_name: input.name.clone(), output_name: output.name.clone() })
}

/// Escapes control characters in every name of the graph (nodes, tensors, initializers), so that messages stay on
/// one line and names are safe in generated comments.
fn printable_names(proto: &mut pb::ModelProto) {
    fn fix(name: &mut String) {
        if name.chars().any(char::is_control) {
            *name = name
                .chars()
                .flat_map(|c| if c.is_control() { c.escape_default().collect() } else { vec![c] })
                .collect();
        }
    }
    let Some(graph) = proto.graph.as_mut() else { return };
    for node in &mut graph.node {
        fix(&mut node.name);
        node.input.iter_mut().chain(node.output.iter_mut()).for_each(fix);
    }
    graph.initializer.iter_mut().for_each(|t| fix(&mut t.name));
    graph
        .input
        .iter_mut()
        .chain(graph.output.iter_mut())
        .chain(graph.value_info.iter_mut())
        .for_each(|v| fix(&mut v.name));
}

/// Runs tract code that may panic on malformed models; a panic becomes an error.
fn guarded<T>(f: impl FnOnce() -> tract_onnx::prelude::TractResult<T>) -> std::result::Result<T, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{e:#}").replace('\n', " ")),
        Err(panic) => {
            let why =
                panic.downcast_ref::<&str>().copied().or_else(|| panic.downcast_ref::<String>().map(|s| s.as_str()));
            Err(format!(
                "the ONNX reader failed on this file ({})",
                why.unwrap_or("a panic in tract").replace('\n', " ")
            ))
        }
    }
}

fn opset_version(proto: &pb::ModelProto) -> i64 {
    proto.opset_import.iter().find(|o| o.domain.is_empty() || o.domain == "ai.onnx").map(|o| o.version).unwrap_or(1)
}

fn single_input_output(
    graph: &pb::GraphProto,
) -> std::result::Result<(&pb::ValueInfoProto, &pb::ValueInfoProto), String> {
    let inits: std::collections::HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs: Vec<_> = graph.input.iter().filter(|i| !inits.contains(i.name.as_str())).collect();
    let names = |v: &[&pb::ValueInfoProto]| v.iter().map(|i| format!("'{}'", i.name)).collect::<Vec<_>>().join(", ");
    if inputs.len() != 1 {
        return Err(format!(
            "ompqc compiles models with one input; this one has {} ({})",
            inputs.len(),
            names(&inputs)
        ));
    }
    let outputs: Vec<_> = graph.output.iter().collect();
    if outputs.len() != 1 {
        return Err(format!(
            "ompqc compiles models with one output; this one has {} ({})",
            outputs.len(),
            names(&outputs)
        ));
    }
    Ok((inputs[0], outputs[0]))
}

/// The declared input dimensions: `Some(n)` when fixed, `None` when symbolic or unknown.
fn declared_dims(input: &pb::ValueInfoProto) -> std::result::Result<Vec<Option<usize>>, String> {
    use pb::tensor_shape_proto::dimension::Value as Dim;
    use pb::type_proto::Value as Ty;
    let Some(Ty::TensorType(tt)) = input.r#type.as_ref().and_then(|t| t.value.as_ref()) else {
        return Err(format!("input '{}' is not a tensor", input.name));
    };
    if tt.elem_type != pb::tensor_proto::DataType::Float as i32 {
        return Err(format!("input '{}' is not float32 (ONNX element type {})", input.name, tt.elem_type));
    }
    let shape = tt.shape.as_ref().ok_or_else(|| format!("input '{}' has no shape", input.name))?;
    Ok(shape
        .dim
        .iter()
        .map(|d| match d.value {
            Some(Dim::DimValue(v)) if v > 0 => Some(v as usize),
            _ => None,
        })
        .collect())
}

fn resolve_input_shape(input: &pb::ValueInfoProto, given: Option<&[usize]>) -> std::result::Result<Vec<usize>, String> {
    let dims = declared_dims(input)?;
    let show = |d: &[Option<usize>]| {
        d.iter().map(|x| x.map_or("?".to_string(), |v| v.to_string())).collect::<Vec<_>>().join(",")
    };
    if let Some(given) = given {
        if given.len() != dims.len() || given.iter().zip(&dims).any(|(g, d)| *g == 0 || d.is_some_and(|d| d != *g)) {
            return Err(format!(
                "--input-shape {} does not fit input '{}' of shape [{}]",
                given.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(","),
                input.name,
                show(&dims)
            ));
        }
        if given[0] != 1 {
            return Err(format!("--input-shape: the batch dimension must be 1 (got {})", given[0]));
        }
        return Ok(given.to_vec());
    }
    if dims.is_empty() {
        return Err(format!("input '{}' is a scalar; ompqc needs a batched tensor", input.name));
    }
    let mut shape = Vec::with_capacity(dims.len());
    for (axis, d) in dims.iter().enumerate() {
        match (axis, d) {
            (_, Some(v)) => shape.push(*v),
            (0, None) => shape.push(1), // dynamic batch: pinned to 1
            _ => {
                return Err(format!(
                "input '{}' has dynamic dimensions [{}]; give the shape with --input-shape (e.g. --input-shape 1,{})",
                input.name,
                show(&dims),
                dims[1..].iter().map(|d| d.map_or("N".to_string(), |v| v.to_string())).collect::<Vec<_>>().join(",")
            ))
            }
        }
    }
    if shape[0] != 1 {
        return Err(format!("input '{}' has batch dimension {}; ompqc compiles batch 1", input.name, shape[0]));
    }
    Ok(shape)
}

/// What an ONNX tensor name stands for while the graph is built.
#[derive(Clone, Debug)]
enum Value {
    /// An activation: an IR tensor.
    Tensor(TensorId),
    /// A constant; its value is read from the facts.
    Const,
    /// Produced by a node that could not be converted (and is listed as unsupported).
    Failed,
    /// A secondary output (MaxPool indices, Dropout mask...) that ompqc does not compute.
    Secondary(String),
    /// A name no earlier node produces.
    Missing(String),
}

struct Builder<'a> {
    facts: &'a Facts,
    opset: i64,
    tensors: Vec<TensorInfo>,
    nodes: Vec<Node>,
    values: HashMap<String, Value>,
    unsupported: Vec<Unsupported>,
    qdq: Option<&'a qdq::Qdq>,
    /// The layers whose weights a QDQ model gives, by node name.
    layers: std::collections::BTreeMap<String, GivenWeights>,
}

impl<'a> Builder<'a> {
    fn new(facts: &'a Facts, opset: i64, qdq: Option<&'a qdq::Qdq>) -> Builder<'a> {
        Builder {
            facts,
            opset,
            tensors: vec![],
            nodes: vec![],
            values: HashMap::new(),
            unsupported: vec![],
            qdq,
            layers: Default::default(),
        }
    }

    fn add_tensor(&mut self, name: &str, shape: Vec<usize>) -> TensorId {
        self.tensors.push(TensorInfo { name: name.to_string(), shape });
        self.tensors.len() - 1
    }

    fn node(&mut self, node: &pb::NodeProto) {
        let name = if !node.name.is_empty() {
            node.name.clone()
        } else {
            node.output.first().cloned().unwrap_or_else(|| format!("{}#{}", node.op_type, self.nodes.len()))
        };
        let outputs: Vec<&String> = node.output.iter().filter(|o| !o.is_empty()).collect();
        if outputs.is_empty() {
            let reason = "the node has no output".to_string();
            self.unsupported.push(Unsupported { node: name, op_type: node.op_type.clone(), reason });
            return;
        }
        // Constant subgraphs were evaluated by tract: nothing to emit.
        if !outputs.is_empty() && outputs.iter().all(|o| self.facts.constant(o).is_some()) {
            for o in outputs {
                self.values.insert(o.clone(), Value::Const);
            }
            return;
        }
        let inputs: Vec<Option<Value>> = node
            .input
            .iter()
            .map(|i| {
                if i.is_empty() {
                    return None;
                }
                Some(match self.values.get(i) {
                    Some(v) => v.clone(),
                    None if self.facts.constant(i).is_some() => Value::Const,
                    None => Value::Missing(i.clone()),
                })
            })
            .collect();
        if inputs.iter().flatten().count() > 0 && inputs.iter().flatten().all(|v| matches!(v, Value::Const)) {
            // Every input is known, yet neither tract nor ompqc's own folding (facts::fold_constants) produced the
            // output: that, not the op, is what stops the import.
            let reason = "its inputs are all constant, but its value could not be computed at import (the op cannot \
                          be evaluated on constants, or the values exceed the memory available)"
                .to_string();
            self.unsupported.push(Unsupported { node: name, op_type: node.op_type.clone(), reason });
            for o in outputs {
                self.values.insert(o.clone(), Value::Failed);
            }
            return;
        }
        let upstream_failed = inputs.iter().flatten().any(|v| matches!(v, Value::Failed));
        let odd_input = inputs.iter().flatten().find_map(|v| match v {
            Value::Secondary(of) => Some(format!("reads a secondary output of '{of}', which ompqc does not compute")),
            Value::Missing(n) => Some(format!("reads '{n}', which no earlier node produces")),
            _ => None,
        });
        if let Some(qdq) = self.qdq {
            match qdq::given_weights(node, qdq) {
                Ok(Some(weights)) => {
                    self.layers.insert(name.clone(), weights);
                }
                Ok(None) => {}
                Err(reason) => {
                    self.unsupported.push(Unsupported { node: name, op_type: node.op_type.clone(), reason });
                    for o in outputs {
                        self.values.insert(o.clone(), Value::Failed);
                    }
                    return;
                }
            }
        }
        let result =
            match convert::convert(&convert::Ctx { node, facts: self.facts, opset: self.opset, inputs: &inputs }) {
                Err(convert::Skip::UnknownOp) => Err(convert::Skip::Unsupported("ompqc has no such operator".into())),
                _ if upstream_failed => Err(convert::Skip::Upstream),
                _ if odd_input.is_some() => Err(convert::Skip::Unsupported(odd_input.unwrap_or_default())),
                result => result,
            };
        match result {
            Ok(convert::Converted::Alias(i)) => {
                let v = inputs[i].clone().unwrap_or(Value::Missing(node.input[i].clone()));
                self.values.insert(outputs[0].clone(), v);
                for o in &outputs[1..] {
                    self.values.insert((*o).clone(), Value::Secondary(name.clone()));
                }
            }
            Ok(convert::Converted::Outputs(ops, input)) => {
                let Some(Value::Tensor(x)) = inputs[input] else {
                    unreachable!("convert only lists activation inputs")
                };
                for (k, (op, output)) in ops.into_iter().zip(&outputs).enumerate() {
                    let Some(shape) = self.facts.shape(output) else {
                        let reason = format!("the shape of '{output}' could not be inferred{}", self.facts.why());
                        self.unsupported.push(Unsupported { node: name, op_type: node.op_type.clone(), reason });
                        for o in &outputs {
                            self.values.insert((*o).clone(), Value::Failed);
                        }
                        return;
                    };
                    let out = self.add_tensor(output, shape);
                    self.nodes.push(Node { name: format!("{name}/{k}"), op, inputs: vec![x], output: out });
                    self.values.insert((*output).clone(), Value::Tensor(out));
                }
            }
            Ok(converted @ (convert::Converted::Op(..) | convert::Converted::Chain(_))) => {
                let Some(shape) = self.facts.shape(outputs[0]) else {
                    let reason = format!("the shape of '{}' could not be inferred{}", outputs[0], self.facts.why());
                    self.unsupported.push(Unsupported { node: name, op_type: node.op_type.clone(), reason });
                    self.values.insert(outputs[0].clone(), Value::Failed);
                    return;
                };
                let mut steps = match converted {
                    convert::Converted::Op(op, ins) => {
                        vec![convert::Step::last(op, ins.into_iter().map(convert::Source::Input).collect())]
                    }
                    convert::Converted::Chain(steps) => steps,
                    convert::Converted::Alias(_) | convert::Converted::Outputs(..) => unreachable!("matched above"),
                };
                if let Some(last) = steps.last_mut() {
                    last.shape = shape;
                }
                let count = steps.len();
                let mut made: Vec<TensorId> = Vec::with_capacity(count);
                for (k, step) in steps.into_iter().enumerate() {
                    let (tensor, node_name) = if k + 1 == count {
                        (outputs[0].clone(), name.clone())
                    } else {
                        (format!("{}/{}", outputs[0], step.suffix), format!("{name}/{}", step.suffix))
                    };
                    let out = self.add_tensor(&tensor, step.shape);
                    let ins = step
                        .inputs
                        .iter()
                        .map(|&from| match from {
                            convert::Source::Step(j) => made[j],
                            convert::Source::Input(i) => match &inputs[i] {
                                Some(Value::Tensor(t)) => *t,
                                _ => unreachable!("convert only lists activation inputs"),
                            },
                        })
                        .collect();
                    self.nodes.push(Node { name: node_name, op: step.op, inputs: ins, output: out });
                    made.push(out);
                }
                let out = *made.last().expect("a chain has an op");
                self.values.insert(outputs[0].clone(), Value::Tensor(out));
                for o in &outputs[1..] {
                    self.values.insert((*o).clone(), Value::Secondary(name.clone()));
                }
            }
            Err(skip) => {
                if let convert::Skip::Unsupported(reason) = skip {
                    self.unsupported.push(Unsupported { node: name, op_type: node.op_type.clone(), reason });
                }
                for o in outputs {
                    self.values.insert(o.clone(), Value::Failed);
                }
            }
        }
    }
}
