//! What tract's inference knows about every ONNX tensor: its shape, and its value when it is constant.

use std::collections::HashMap;
use std::path::Path;

use tract_onnx::pb;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

pub struct Facts {
    shapes: HashMap<String, Vec<usize>>,
    constants: HashMap<String, Arc<Tensor>>,
    /// The first inference error, to explain a missing shape.
    analysis_error: Option<String>,
}

/// The values of the constant subgraphs tract's inference left unevaluated: it folds only within a memory budget
/// (4 MiB), so a large weight behind a Transpose, or a ConstantOfShape of a big shape, stays unknown. Each node whose
/// inputs are all constant is evaluated, in order, as long as the values fit the memory available.
fn fold_constants(model: &InferenceModel) -> HashMap<OutletId, Arc<Tensor>> {
    let mut folded: HashMap<OutletId, Arc<Tensor>> = HashMap::new();
    let Ok(order) = model.eval_order() else {
        return folded;
    };
    let mut held = 0u64;
    for id in order {
        let node = model.node(id);
        let known = |o: &OutletId| -> Option<Arc<Tensor>> {
            folded.get(o).cloned().or_else(|| model.outlet_fact(*o).ok()?.value.concretize())
        };
        let outputs: Vec<OutletId> = (0..node.outputs.len()).map(|slot| OutletId::new(id, slot)).collect();
        if node.inputs.is_empty() || outputs.iter().all(|o| known(o).is_some()) {
            continue;
        }
        let Some(inputs) = node.inputs.iter().map(known).collect::<Option<TVec<_>>>() else {
            continue;
        };
        // Only outputs whose shapes are known and whose values (at most 8 bytes each) fit beside the ones held: a
        // ConstantOfShape of an absurd shape must not be allocated.
        let bytes = outputs.iter().try_fold(0u64, |sum, o| {
            let dims = model.outlet_fact(*o).ok()?.shape.as_concrete_finite().ok()??.to_vec();
            sum.checked_add(crate::limits::array_bytes(dims.iter().map(|&d| d as u64), 8)?)
        });
        if bytes.and_then(|b| b.checked_add(held)).is_none_or(|b| crate::limits::exceeds(Some(b)).is_some()) {
            continue;
        }
        let values = super::guarded(|| node.op.eval_out_of_plan(inputs.into_iter().map(TValue::from_const).collect()));
        let Ok(Some(values)) = values else {
            continue;
        };
        for (outlet, value) in outputs.into_iter().zip(values) {
            held += (value.len() * value.datum_type().size_of()) as u64;
            folded.insert(outlet, value.into_arc_tensor());
        }
    }
    folded
}

/// tract infers no shape for Upsample: each one whose input shape and scales are known gets floor(input * scales),
/// and the caller analyses again so that the shapes after it follow. Whether any was set.
fn upsample_shapes(proto: &pb::ModelProto, outlets: &HashMap<String, OutletId>, model: &mut InferenceModel) -> bool {
    let Some(graph) = proto.graph.as_ref() else { return false };
    let mut set = false;
    for node in graph.node.iter().filter(|n| n.op_type == "Upsample") {
        let outlet = |name: Option<&String>| name.and_then(|n| outlets.get(n)).copied();
        let (Some(x), Some(y)) = (outlet(node.input.first()), outlet(node.output.first())) else { continue };
        let known = |o: OutletId| model.outlet_fact(o).ok().cloned();
        let Some(Ok(Some(shape))) = known(x).map(|f| f.shape.as_concrete_finite().map(|s| s.map(|s| s.to_vec())))
        else {
            continue;
        };
        let scales: Option<Vec<f32>> = match node.attribute.iter().find(|a| a.name == "scales") {
            Some(a) => Some(a.floats.clone()),
            None => outlet(node.input.get(1)).and_then(known).and_then(|f| f.value.concretize()).and_then(|t| {
                Some(t.cast_to::<f32>().ok()?.to_plain_array_view::<f32>().ok()?.iter().copied().collect())
            }),
        };
        let Some(scales) = scales.filter(|s| s.len() == shape.len()) else { continue };
        let out: Vec<usize> = shape.iter().zip(&scales).map(|(&d, &s)| (d as f32 * s).floor() as usize).collect();
        set |= model.set_outlet_fact(y, InferenceFact::dt_shape(f32::datum_type(), out)).is_ok();
    }
    set
}

impl Facts {
    pub fn analyse(proto: &pb::ModelProto, path: &Path, input: &str, shape: &[usize]) -> Result<Facts, String> {
        let dir = path.parent().and_then(|d| d.to_str());
        let parsed = super::guarded(|| tract_onnx::onnx().parse(proto, dir))?;
        if let Some(name) = parsed.unresolved_inputs.first() {
            return Err(format!(
                "'{name}' is read by a node but is neither an input, an initializer nor a node output"
            ));
        }
        let mut model = parsed.model;
        let input_outlet =
            *parsed.outlets_by_name.get(input).ok_or_else(|| format!("input '{input}' is not found in the graph"))?;
        let fact = InferenceFact::dt_shape(f32::datum_type(), shape);
        let mut analysis_error = super::guarded(|| {
            model.set_outlet_fact(input_outlet, fact)?;
            model.analyse(true)
        })
        .err();
        if upsample_shapes(proto, &parsed.outlets_by_name, &mut model) {
            analysis_error = super::guarded(|| model.analyse(true)).err();
        }
        let folded = fold_constants(&model);
        let mut shapes = HashMap::new();
        let mut constants = HashMap::new();
        for (name, outlet) in &parsed.outlets_by_name {
            let Ok(fact) = model.outlet_fact(*outlet) else {
                continue;
            };
            if let Ok(Some(dims)) = fact.shape.as_concrete_finite() {
                shapes.insert(name.clone(), dims.to_vec());
            }
            if let Some(value) = fact.value.concretize().or_else(|| folded.get(outlet).cloned()) {
                constants.insert(name.clone(), value);
            }
        }
        Ok(Facts { shapes, constants, analysis_error })
    }

    /// Refuses a model whose largest tensor (as f32 values) would not fit in the memory available.
    pub fn check_sizes(&self) -> Result<(), String> {
        let bytes = |dims: &[usize]| crate::limits::array_bytes(dims.iter().map(|&d| d as u64), 4);
        let largest = self.shapes.iter().max_by(|a, b| {
            let size = |s: &[usize]| bytes(s).unwrap_or(u64::MAX);
            size(a.1).cmp(&size(b.1)).then_with(|| b.0.cmp(a.0))
        });
        match largest.and_then(|(name, dims)| Some((name, dims, crate::limits::exceeds(bytes(dims))?))) {
            Some((name, dims, why)) => Err(format!("tensor '{name}' of shape {dims:?} {why}")),
            None => Ok(()),
        }
    }

    pub fn shape(&self, name: &str) -> Option<Vec<usize>> {
        self.shapes.get(name).cloned()
    }

    pub fn constant(&self, name: &str) -> Option<&Tensor> {
        self.constants.get(name).map(|t| &**t)
    }

    /// A constant as f32 values with its shape.
    pub fn const_f32(&self, name: &str) -> Option<(Vec<usize>, Vec<f32>)> {
        let t = self.constant(name)?;
        let t = t.cast_to::<f32>().ok()?;
        Some((t.shape().to_vec(), t.to_plain_array_view::<f32>().ok()?.iter().copied().collect()))
    }

    /// A constant as i64 values (shapes, axes, pads).
    pub fn const_i64(&self, name: &str) -> Option<Vec<i64>> {
        let t = self.constant(name)?;
        let t = t.cast_to::<i64>().ok()?;
        Some(t.to_plain_array_view::<i64>().ok()?.iter().copied().collect())
    }

    /// ", shape inference stopped: ..." when it did, for messages.
    pub fn why(&self) -> String {
        match &self.analysis_error {
            Some(e) => format!(" (shape inference: {e})"),
            None => String::new(),
        }
    }
}
