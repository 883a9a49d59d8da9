//! The layer table of `ompqc inspect`.

use serde::Serialize;

use crate::import::{Imported, Unsupported};
use crate::ir::Graph;

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct LayerRow {
    pub name: String,
    pub op: String,
    pub details: String,
    pub inputs: Vec<Vec<usize>>,
    pub output: Vec<usize>,
    pub params: usize,
    pub macs: u64,
    /// A QDQ model's quantization of the layer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qdq: Option<LayerQdq>,
}

/// What a QDQ model says of a layer: its weights' width and scales (smallest and largest over the output channels)
/// and its output's scale and int8 zero point.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct LayerQdq {
    pub weight_bits: Option<u8>,
    pub weight_scales: Option<[f32; 2]>,
    pub per_channel: bool,
    pub output_scale: Option<f32>,
    pub output_zero_point: Option<i32>,
}

impl LayerQdq {
    fn text(&self) -> String {
        let weights = match (self.weight_bits, self.weight_scales) {
            (Some(b), Some([lo, hi])) if self.per_channel => format!("w{b} {lo:.3e}..{hi:.3e}"),
            (Some(b), Some([lo, _])) => format!("w{b} {lo:.3e}"),
            _ => String::new(),
        };
        let output = match (self.output_scale, self.output_zero_point) {
            (Some(s), Some(z)) => format!("out {s:.4e} zp {z}"),
            _ => "out not quantized".into(),
        };
        if weights.is_empty() {
            output
        } else {
            format!("{weights}; {output}")
        }
    }
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct UnsupportedRow {
    pub name: String,
    pub op_type: String,
    pub reason: String,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Inspection {
    pub model: String,
    pub input: Vec<usize>,
    pub output: Vec<usize>,
    pub layers: Vec<LayerRow>,
    pub total_params: usize,
    pub total_macs: u64,
    pub unsupported: Vec<UnsupportedRow>,
}

pub fn inspect(model: &str, imported: &Imported) -> Inspection {
    let g: &Graph = &imported.graph;
    let layers = g
        .nodes
        .iter()
        .enumerate()
        .map(|(ix, n)| LayerRow {
            name: n.name.clone(),
            op: n.op.kind().to_string(),
            details: n.op.details(),
            inputs: n.inputs.iter().map(|&t| g.tensor(t).shape.clone()).collect(),
            output: g.tensor(n.output).shape.clone(),
            params: n.op.params(),
            macs: g.macs(ix),
            qdq: g.given.as_ref().map(|given| {
                let weights = given.layers.get(&n.name);
                let scales = weights
                    .map(|w| w.scales.iter().fold([f32::INFINITY, 0.0f32], |[lo, hi], &s| [lo.min(s), hi.max(s)]));
                let out = given.tensors.get(&g.tensor(n.output).name);
                LayerQdq {
                    weight_bits: weights.map(|w| w.bits),
                    weight_scales: scales,
                    per_channel: weights.is_some_and(|w| w.scales.len() > 1),
                    output_scale: out.map(|q| q.scale),
                    output_zero_point: out.map(|q| q.zero_point),
                }
            }),
        })
        .collect();
    let unsupported = imported
        .unsupported
        .iter()
        .map(|Unsupported { node, op_type, reason }| UnsupportedRow {
            name: node.clone(),
            op_type: op_type.clone(),
            reason: reason.clone(),
        })
        .collect();
    Inspection {
        model: model.to_string(),
        input: g.input_shape().to_vec(),
        output: g.output_shape().to_vec(),
        layers,
        total_params: g.total_params(),
        total_macs: g.total_macs(),
        unsupported,
    }
}

fn shape(s: &[usize]) -> String {
    format!("[{}]", s.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(","))
}

/// Groups digits by thousands: 12,501,120.
pub fn thousands(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

impl Inspection {
    pub fn to_text(&self) -> String {
        let qdq = self.layers.iter().any(|l| l.qdq.is_some());
        let mut rows: Vec<Vec<String>> = vec![vec![
            "#".into(),
            "layer".into(),
            "op".into(),
            "details".into(),
            "input -> output".into(),
            "params".into(),
            "MACs".into(),
        ]];
        if qdq {
            rows[0].push("quantization (QDQ)".into());
        }
        for (i, l) in self.layers.iter().enumerate() {
            let ins = l.inputs.iter().map(|s| shape(s)).collect::<Vec<_>>().join(" ");
            rows.push(vec![
                i.to_string(),
                l.name.clone(),
                l.op.clone(),
                l.details.clone(),
                format!("{ins} -> {}", shape(&l.output)),
                thousands(l.params as u64),
                thousands(l.macs),
            ]);
            if let Some(q) = &l.qdq {
                rows.last_mut().expect("just pushed").push(q.text());
            }
        }
        let columns = rows[0].len();
        let widths: Vec<usize> =
            (0..columns).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
        let mut out = format!("model {}: input {} -> output {}\n", self.model, shape(&self.input), shape(&self.output));
        for r in &rows {
            let line: Vec<String> = r
                .iter()
                .enumerate()
                .map(|(c, cell)| {
                    if c == 0 || c == 5 || c == 6 {
                        format!("{cell:>w$}", w = widths[c])
                    } else {
                        format!("{cell:<w$}", w = widths[c])
                    }
                })
                .collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
        out.push_str(&format!(
            "{} layers, {} parameters, {} MACs per inference\n",
            self.layers.len(),
            thousands(self.total_params as u64),
            thousands(self.total_macs)
        ));
        if !self.unsupported.is_empty() {
            out.push_str(&format!("{} unsupported nodes:\n", self.unsupported.len()));
            for u in &self.unsupported {
                out.push_str(&format!("  {} ({}): {}\n", u.name, u.op_type, u.reason));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_groups_digits() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1000), "1,000");
        assert_eq!(super::thousands(12501120), "12,501,120");
    }
}
