//! QDQ models: QuantizeLinear / DequantizeLinear pairs around each layer (onnxruntime's `quantize_static`, PyTorch
//! and Brevitas exports). Before tract sees the model, `strip` rewrites it into the float model it stands for and
//! keeps what the quantization says:
//! - a DequantizeLinear of a constant (weights, biases) becomes the dequantized float constant; the integers' width
//!   and scales are kept per constant;
//! - a QuantizeLinear followed by DequantizeLinear on an activation disappears, its readers reading the tensor
//!   before it; its scale and zero point are kept per tensor (uint8 as int8: zero point - 128, exactly).
//!
//! Whatever cannot be kept exactly is refused here with the node and the reason.

use std::collections::{BTreeMap, HashMap};

use tract_onnx::pb;
use tract_onnx::pb::tensor_proto::DataType;

use crate::ir::given::GivenWeights;
use crate::ir::quant::{fixed_output_params, QParams};
use crate::ir::{Clamp, Graph, Node, Op, TensorInfo, UnaryFn};

/// What `strip` kept of a QDQ model.
#[derive(Clone, Debug, Default)]
pub struct Qdq {
    /// Per activation tensor name: its int8 parameters.
    pub tensors: BTreeMap<String, QParams>,
    /// Per dequantized constant of 8 bits or fewer (the float initializer's name): what it gives a layer that reads
    /// it as weights.
    pub constants: HashMap<String, QuantConstant>,
}

/// A dequantized constant's integers: their width and scales, the axis of the scales (None when per tensor) and an
/// asymmetric zero point, if any (weights must be symmetric; other constants, such as a bias added on its own, need
/// not be).
#[derive(Clone, Debug)]
pub struct QuantConstant {
    weights: GivenWeights,
    axis: Option<usize>,
    asymmetric: Option<i32>,
}

fn is_op(node: &pb::NodeProto, op: &str) -> bool {
    node.op_type == op && matches!(node.domain.as_str(), "" | "ai.onnx" | "com.microsoft")
}

/// Rewrites a QDQ model into its float model; `None` when the model has no QuantizeLinear or DequantizeLinear.
pub fn strip(proto: &mut pb::ModelProto) -> Result<Option<Qdq>, String> {
    let Some(graph) = proto.graph.as_mut() else { return Ok(None) };
    let is_qdq = |n: &pb::NodeProto| is_op(n, "QuantizeLinear") || is_op(n, "DequantizeLinear");
    if !graph.node.iter().any(is_qdq) {
        return Ok(None);
    }
    let mut constants: HashMap<String, pb::TensorProto> =
        graph.initializer.iter().map(|t| (t.name.clone(), t.clone())).collect();
    for node in graph.node.iter().filter(|n| is_op(n, "Constant")) {
        if let (Some(out), Some(t)) = (node.output.first(), node.attribute.iter().find(|a| a.name == "value")) {
            if let Some(t) = &t.t {
                constants.insert(out.clone(), pb::TensorProto { name: out.clone(), ..t.clone() });
            }
        }
    }
    let mut qdq = Qdq::default();
    let mut renamed: HashMap<String, String> = HashMap::new();
    let mut dropped = vec![false; graph.node.len()];
    let mut new_constants = Vec::new();
    for (ix, node) in graph.node.iter().enumerate() {
        let name =
            if node.name.is_empty() { node.output.first().cloned().unwrap_or_default() } else { node.name.clone() };
        let at = |msg: String| format!("node '{name}' ({}): {msg}", node.op_type);
        if is_qdq(node) && (node.input.first().is_none_or(String::is_empty) || node.output.is_empty()) {
            return Err(at("it has no input or no output".into()));
        }
        if is_op(node, "DequantizeLinear") {
            let x = &node.input[0];
            if let Some(t) = constants.get(x) {
                let q = Quantized::read(node, t, &constants).map_err(at)?;
                let (values, weights) = q.dequantized().map_err(at)?;
                new_constants.push(float_tensor(&node.output[0], &t.dims, &values));
                if let Some(constant) = weights {
                    qdq.constants.insert(node.output[0].clone(), constant);
                }
                dropped[ix] = true;
            } else if !graph.node.iter().any(|n| is_op(n, "QuantizeLinear") && n.output.first() == Some(x)) {
                return Err(at(format!(
                    "it reads '{x}', neither a constant nor a QuantizeLinear output (ompqc takes float inputs)"
                )));
            }
            continue;
        }
        if !is_op(node, "QuantizeLinear") {
            continue;
        }
        let params = Quantized::params(node, &constants).map_err(at)?;
        let (x, y) = (&node.input[0], &node.output[0]);
        if graph.output.iter().any(|o| o.name == *y) {
            return Err(at("its integer output is the model's output: ompqc's models output floats".into()));
        }
        let readers: Vec<usize> =
            (0..graph.node.len()).filter(|&j| graph.node[j].input.iter().any(|i| i == y)).collect();
        for &j in &readers {
            let reader = &graph.node[j];
            if !is_op(reader, "DequantizeLinear") {
                return Err(at(format!(
                    "its output is read by '{}' ({}), not by a DequantizeLinear: only QDQ models (not QOperator ones) \
                     are read",
                    reader.name, reader.op_type
                )));
            }
            if Quantized::params(reader, &constants).map_err(at)? != params {
                return Err(at(format!(
                    "DequantizeLinear '{}' reads it with other parameters than it was quantized with",
                    reader.name
                )));
            }
            let Some(out) = reader.output.first() else {
                return Err(at(format!("DequantizeLinear '{}' has no output", reader.name)));
            };
            renamed.insert(out.clone(), x.clone());
            dropped[j] = true;
        }
        if let Some(old) = qdq.tensors.insert(x.clone(), params) {
            if old != params {
                return Err(at(format!("'{x}' is quantized twice with different parameters")));
            }
        }
        dropped[ix] = true;
    }
    let resolve = |n: &String| {
        let mut n = n;
        while let Some(to) = renamed.get(n) {
            n = to;
        }
        n.clone()
    };
    let mut kept = Vec::with_capacity(graph.node.len());
    for (node, dropped) in graph.node.drain(..).zip(dropped) {
        if !dropped {
            kept.push(pb::NodeProto { input: node.input.iter().map(resolve).collect(), ..node });
        }
    }
    graph.node = kept;
    for output in &mut graph.output {
        output.name = resolve(&output.name);
    }
    graph.initializer.extend(new_constants);
    // The dequantized initializers replace integer ones no node reads any more (nor should tract parse them: INT4
    // is beyond its reader).
    let read: std::collections::HashSet<&String> = graph.node.iter().flat_map(|n| n.input.iter()).collect();
    graph.initializer.retain(|t| read.contains(&t.name));
    graph.value_info.clear();
    Ok(Some(qdq))
}

fn float_tensor(name: &str, dims: &[i64], values: &[f32]) -> pb::TensorProto {
    pb::TensorProto {
        name: name.to_string(),
        dims: dims.to_vec(),
        data_type: DataType::Float as i32,
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

/// A DequantizeLinear or QuantizeLinear's integers (for a constant), scales, zero points and axis.
struct Quantized {
    values: Vec<i32>,
    dims: Vec<usize>,
    /// The integer type: its width and whether it is signed.
    bits: u8,
    signed: bool,
    scales: Vec<f32>,
    zero_points: Vec<i32>,
    /// The axis of per-channel scales.
    axis: Option<usize>,
}

impl Quantized {
    fn read(
        node: &pb::NodeProto,
        x: &pb::TensorProto,
        constants: &HashMap<String, pb::TensorProto>,
    ) -> Result<Quantized, String> {
        let (values, bits, signed) = integers(x)?;
        let mut q = Self::scales(node, constants, x.dims.len(), Some((bits, signed)))?;
        if (bits, signed) != (q.bits, q.signed) {
            return Err("its zero point's type differs from its input's".into());
        }
        if let Some(axis) = q.axis {
            if x.dims[axis] as usize != q.scales.len() {
                return Err(format!("{} scales along an axis of {}", q.scales.len(), x.dims[axis]));
            }
        }
        q.values = values;
        q.dims = x.dims.iter().map(|&d| d as usize).collect();
        Ok(q)
    }

    /// The per-tensor int8 parameters of an activation's QuantizeLinear or DequantizeLinear.
    fn params(node: &pb::NodeProto, constants: &HashMap<String, pb::TensorProto>) -> Result<QParams, String> {
        let q = Self::scales(node, constants, 0, None)?;
        if q.scales.len() != 1 {
            return Err(format!("{} scales: ompqc quantizes an activation per tensor", q.scales.len()));
        }
        if q.bits != 8 {
            return Err(format!("{}-bit activations: ompqc's kernels take int8 or uint8 activations", q.bits));
        }
        if !(q.scales[0] > 0.0 && q.scales[0].is_finite()) {
            return Err(format!("scale {} is not a positive finite number", q.scales[0]));
        }
        let zero_point = q.zero_points[0] - if q.signed { 0 } else { 128 };
        Ok(QParams { scale: q.scales[0], zero_point })
    }

    /// Scales, zero points and axis of a tensor of rank `rank`; the integer type from the zero point, else
    /// `values_type`, else the `output_dtype` attribute, else uint8 (ONNX's default).
    fn scales(
        node: &pb::NodeProto,
        constants: &HashMap<String, pb::TensorProto>,
        rank: usize,
        values_type: Option<(u8, bool)>,
    ) -> Result<Quantized, String> {
        let constant = |i: usize| -> Result<Option<&pb::TensorProto>, String> {
            match node.input.get(i).filter(|n| !n.is_empty()) {
                None => Ok(None),
                Some(n) => {
                    constants.get(n).map(Some).ok_or_else(|| format!("its scale or zero point '{n}' is not a constant"))
                }
            }
        };
        let scale = constant(1)?.ok_or("it has no scale")?;
        let scales = floats(scale)?;
        let (zero_points, ty) = match constant(2)? {
            Some(z) => {
                let (v, bits, signed) = integers(z)?;
                (v, Some((bits, signed)))
            }
            None => (vec![0; scales.len()], None),
        };
        let attr = |name: &str| node.attribute.iter().find(|a| a.name == name).map(|a| a.i);
        let declared = attr("output_dtype").and_then(|t| type_of(t as i32).ok());
        let (bits, signed) = ty.or(values_type).or(declared).unwrap_or((8, false));
        if zero_points.len() != scales.len() {
            return Err(format!("{} scales but {} zero points", scales.len(), zero_points.len()));
        }
        if attr("block_size").is_some_and(|b| b != 0) {
            return Err("blocked quantization (block_size) has no integer kernel in ompqc".into());
        }
        let axis = match (scales.len(), scale.dims.len()) {
            (1, _) => None,
            // An activation's (its rank is not known here): `params` refuses scales per channel.
            (_, 1) if rank == 0 => None,
            (_, 1) => {
                let a = attr("axis").unwrap_or(1);
                let a = if a < 0 { a + rank as i64 } else { a };
                if a < 0 || a as usize >= rank {
                    return Err(format!("axis {a} is outside the tensor"));
                }
                Some(a as usize)
            }
            _ => return Err(format!("scales of shape {:?}: per tensor or along one axis only", scale.dims)),
        };
        Ok(Quantized { values: vec![], dims: vec![], bits, signed, scales, zero_points, axis })
    }

    /// The constant's dequantized values, and what it gives a layer when it is 8 bits or fewer.
    fn dequantized(&self) -> Result<(Vec<f32>, Option<QuantConstant>), String> {
        let inner: usize = self.axis.map_or(1, |a| self.dims[a + 1..].iter().product());
        let channel = |i: usize| if self.axis.is_some() { (i / inner) % self.scales.len() } else { 0 };
        let values = self
            .values
            .iter()
            .enumerate()
            .map(|(i, &q)| ((q - self.zero_points[channel(i)]) as f64 * self.scales[channel(i)] as f64) as f32)
            .collect();
        if self.bits > 8 {
            return Ok((values, None)); // an int32 bias
        }
        let symmetric = if self.signed { 0 } else { 1 << (self.bits - 1) };
        let asymmetric = self.zero_points.iter().copied().find(|&z| z != symmetric);
        let weights = GivenWeights { bits: self.bits, scales: self.scales.clone() };
        Ok((values, Some(QuantConstant { weights, axis: self.axis, asymmetric })))
    }
}

/// The integer type (width, signed) of an ONNX element type.
fn type_of(data_type: i32) -> Result<(u8, bool), String> {
    Ok(match DataType::try_from(data_type) {
        Ok(DataType::Int8) => (8, true),
        Ok(DataType::Uint8) => (8, false),
        Ok(DataType::Int4) => (4, true),
        Ok(DataType::Uint4) => (4, false),
        Ok(DataType::Int16) => (16, true),
        Ok(DataType::Uint16) => (16, false),
        Ok(DataType::Int32) => (32, true),
        Ok(t) => return Err(format!("quantized type {} has no integer kernel in ompqc", t.as_str_name())),
        Err(_) => return Err(format!("unknown ONNX element type {data_type}")),
    })
}

fn elements(t: &pb::TensorProto) -> usize {
    t.dims.iter().map(|&d| d.max(0) as usize).product()
}

fn check_inline(t: &pb::TensorProto) -> Result<(), String> {
    if t.data_location == Some(pb::tensor_proto::DataLocation::External as i32) {
        return Err(format!("'{}' is stored as external data, which ompqc does not read for QDQ constants", t.name));
    }
    Ok(())
}

/// The values of an integer constant as i32, with its type; INT4 and UINT4 unpacked (two per byte, low nibble
/// first, as ONNX stores them).
fn integers(t: &pb::TensorProto) -> Result<(Vec<i32>, u8, bool), String> {
    check_inline(t)?;
    let (bits, signed) = type_of(t.data_type)?;
    let n = elements(t);
    let values: Vec<i32> = if bits == 4 {
        let bytes: Vec<u8> =
            if t.raw_data.is_empty() { t.int32_data.iter().map(|&v| v as u8).collect() } else { t.raw_data.clone() };
        if bytes.len() != n.div_ceil(2) {
            return Err(format!("'{}' holds {} bytes for {n} 4-bit elements", t.name, bytes.len()));
        }
        let nibble = |i: usize| {
            let v = (bytes[i / 2] >> (4 * (i % 2))) & 0xf;
            if signed {
                ((v << 4) as i8 >> 4) as i32
            } else {
                v as i32
            }
        };
        (0..n).map(nibble).collect()
    } else if !t.raw_data.is_empty() {
        let width = (bits as usize).div_ceil(8);
        t.raw_data
            .chunks(width)
            .map(|c| match (bits, signed) {
                (8, true) => c[0] as i8 as i32,
                (8, false) => c[0] as i32,
                (16, true) => i16::from_le_bytes([c[0], c[1]]) as i32,
                (16, false) => u16::from_le_bytes([c[0], c[1]]) as i32,
                _ => i32::from_le_bytes([c[0], c[1], c[2], c[3]]),
            })
            .collect()
    } else {
        t.int32_data.clone()
    };
    if values.len() != n {
        return Err(format!("'{}' holds {} values for {} elements", t.name, values.len(), n));
    }
    Ok((values, bits, signed))
}

fn floats(t: &pb::TensorProto) -> Result<Vec<f32>, String> {
    check_inline(t)?;
    if t.data_type != DataType::Float as i32 {
        return Err(format!("scale '{}' is not float32", t.name));
    }
    let values: Vec<f32> = if t.raw_data.is_empty() {
        t.float_data.clone()
    } else {
        t.raw_data.chunks(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
    };
    if values.len() != elements(t) || values.is_empty() {
        return Err(format!("scale '{}' holds {} values for shape {:?}", t.name, values.len(), t.dims));
    }
    Ok(values)
}

/// The weights a QDQ model gives a Conv, Gemm or MatMul node (`None` when its weights are float, or for another
/// op): their scales must run along its output channels.
pub fn given_weights(node: &pb::NodeProto, qdq: &Qdq) -> Result<Option<GivenWeights>, String> {
    let trans_b = node.attribute.iter().any(|a| a.name == "transB" && a.i != 0);
    let output_axis = match node.op_type.as_str() {
        "Conv" => 0,
        "Gemm" if trans_b => 0,
        "Gemm" | "MatMul" => 1,
        _ => return Ok(None),
    };
    let Some(constant) = node.input.get(1).and_then(|n| qdq.constants.get(n)) else { return Ok(None) };
    if let Some(z) = constant.asymmetric {
        return Err(format!(
            "its weights have zero point {z} (asymmetric): ompqc's kernels take symmetric weights (zero point 0, or \
             the middle of an unsigned range)"
        ));
    }
    match constant.axis {
        Some(a) if a != output_axis => Err(format!(
            "its weights are quantized per channel along axis {a}, not along its output channels (axis \
             {output_axis}): ompqc's kernels scale whole output channels"
        )),
        _ => Ok(Some(constant.weights.clone())),
    }
}

/// Completes the tensors' parameters after the graph's rewrites (`propagate`); where a value-preserving op's output
/// (pooling, padding, reshaping, slicing; or a softmax's, whose integer kernel fixes it) is quantized differently
/// from what the op produces, a rescaling node (an identity table) follows the op.
pub fn settle(graph: &mut Graph) {
    propagate(graph);
    let Some(given) = graph.given.as_mut() else { return };
    let tensors = &mut given.tensors;
    let mut ix = 0;
    while ix < graph.nodes.len() {
        let node = &graph.nodes[ix];
        let input = node.inputs.first().and_then(|&i| tensors.get(&graph.tensors[i].name)).copied();
        let produced = fixed_output_params(&node.op, input);
        let out = node.output;
        let wanted = tensors.get(&graph.tensors[out].name).copied();
        if let (Some(produced), Some(wanted)) = (produced, wanted) {
            if produced != wanted {
                let name = format!("{}/unscaled", graph.tensors[out].name);
                tensors.insert(name.clone(), produced);
                graph.tensors.push(TensorInfo { name, shape: graph.tensors[out].shape.clone() });
                let unscaled = graph.tensors.len() - 1;
                graph.nodes[ix].output = unscaled;
                let rescale = Node {
                    name: format!("{}/rescale", graph.nodes[ix].name),
                    op: Op::Unary(UnaryFn::Clamp(Clamp::NONE)),
                    inputs: vec![unscaled],
                    output: out,
                };
                graph.nodes.insert(ix + 1, rescale);
                ix += 1;
            }
        }
        ix += 1;
    }
}

/// A tensor the model does not quantize takes the parameters of the tensor a value-preserving op links it to (run
/// before the rewrites too, which may remove such an op, a reshape of the input for one).
pub fn propagate(graph: &mut Graph) {
    let Some(given) = graph.given.as_mut() else { return };
    let tensors = &mut given.tensors;
    loop {
        let mut changed = false;
        for node in graph.nodes.iter().filter(|n| n.op.keeps_params()) {
            let (i, o) = (&graph.tensors[node.inputs[0]].name, &graph.tensors[node.output].name);
            match (tensors.get(i).copied(), tensors.get(o).copied()) {
                (Some(q), None) => tensors.insert(o.clone(), q),
                (None, Some(q)) => tensors.insert(i.clone(), q),
                _ => continue,
            };
            changed = true;
        }
        if !changed {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(name: &str, data_type: DataType, dims: &[i64], raw: &[u8]) -> pb::TensorProto {
        pb::TensorProto {
            name: name.into(),
            dims: dims.to_vec(),
            data_type: data_type as i32,
            raw_data: raw.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn int4_values_unpack_low_nibble_first_with_their_sign() {
        // 0x8F: low nibble 0xF (-1, or 15), high nibble 0x8 (-8, or 8); 0x07: 7 then 0; a fifth value in a last
        // half byte.
        let raw = [0x8F, 0x07, 0x03];
        let (signed, bits, is_signed) = integers(&tensor("w", DataType::Int4, &[5], &raw)).unwrap();
        assert_eq!((signed, bits, is_signed), (vec![-1, -8, 7, 0, 3], 4, true));
        let (unsigned, _, is_signed) = integers(&tensor("w", DataType::Uint4, &[5], &raw)).unwrap();
        assert_eq!((unsigned, is_signed), (vec![15, 8, 7, 0, 3], false));
        let short = integers(&tensor("w", DataType::Int4, &[7], &raw)).unwrap_err();
        assert!(short.contains("'w' holds 3 bytes for 7"), "{short}");
    }

    #[test]
    fn uint8_activations_become_int8_with_the_zero_point_moved_by_128() {
        let mut constants = HashMap::new();
        constants.insert("s".to_string(), tensor("s", DataType::Float, &[], &0.5f32.to_le_bytes()));
        constants.insert("z".to_string(), tensor("z", DataType::Uint8, &[], &[130]));
        constants.insert("zi".to_string(), tensor("zi", DataType::Int8, &[], &[(-3i8) as u8]));
        let node = |zp: &str| pb::NodeProto {
            op_type: "QuantizeLinear".into(),
            input: vec!["x".into(), "s".into(), zp.into()],
            output: vec!["y".into()],
            ..Default::default()
        };
        assert_eq!(Quantized::params(&node("z"), &constants).unwrap(), QParams { scale: 0.5, zero_point: 2 });
        assert_eq!(Quantized::params(&node("zi"), &constants).unwrap(), QParams { scale: 0.5, zero_point: -3 });
        // No zero point: uint8 and zero point 0, as ONNX defines it.
        assert_eq!(Quantized::params(&node(""), &constants).unwrap(), QParams { scale: 0.5, zero_point: -128 });
    }
}
