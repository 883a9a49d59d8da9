//! `ompqc predict`: the float model's top-1 classes, and its accuracy when labels are given.

use serde::Serialize;

#[derive(Serialize)]
pub struct Prediction {
    pub model: String,
    pub inputs: usize,
    pub predictions: Vec<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top1: Option<f64>,
}

impl Prediction {
    pub fn new(model: &str, predictions: Vec<usize>, labels: Option<&[i64]>) -> Prediction {
        let n = predictions.len();
        let top1 = labels.map(|l| {
            let correct = predictions.iter().zip(l).filter(|(p, y)| **p as i64 == **y).count();
            correct as f64 / n.max(1) as f64
        });
        Prediction { model: model.to_string(), inputs: n, predictions, top1 }
    }

    /// The first 32 classes, and the accuracy.
    pub fn to_text(&self) -> String {
        let shown: Vec<String> = self.predictions.iter().take(32).map(|p| p.to_string()).collect();
        let more = if self.inputs > 32 { format!(" ... ({} in all)", self.inputs) } else { String::new() };
        let mut text = format!("top-1 classes: {}{more}\n", shown.join(" "));
        if let Some(t) = self.top1 {
            text += &format!("float top-1 accuracy: {:.2}% of {}\n", 100.0 * t, self.inputs);
        }
        text
    }
}
