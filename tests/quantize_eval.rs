//! W8A8 accuracy of the integer model (reference interpreter) on the real models of ../shared/eval, against the
//! bars of the quantization issue. Skipped, with a printed reason, when ../shared/eval is absent.

mod common;

use std::path::Path;

use common::{auc, eval_dir, input_map, meta, repo};
use ompqc::data::{load_labels, load_samples, Samples};
use ompqc::import::{self, ImportOptions};
use ompqc::ir::Graph;
use ompqc::measure::{compare, Comparison};
use ompqc::observe::{observe, RangeMethod};
use ompqc::quantize::{quantize, QuantOptions};

fn w8a8(graph: &Graph, calib: &Samples, test: &Samples, labels: Option<&[i64]>) -> Comparison {
    let obs = observe(graph, calib, RangeMethod::MinMax).unwrap();
    let q = quantize(graph, &obs, &QuantOptions::default()).unwrap();
    compare(graph, &q, test, labels).unwrap()
}

/// W8A8 top-1 of `folder`'s model on `prefix`_x/y, with the float top-1 beside it.
fn top1(dir: &Path, prefix: &str) -> (f64, f64) {
    let graph = import::load(&dir.join("model.onnx"), &ImportOptions::default()).unwrap();
    let (scale, offset) = input_map(&meta(dir));
    let load = |name: &str| load_samples(&dir.join(name), graph.input_shape(), scale, offset).unwrap();
    let (calib, test) = (load("calib_x.npy"), load(&format!("{prefix}_x.npy")));
    let labels = load_labels(&dir.join(format!("{prefix}_y.npy")), test.n).unwrap();
    let cmp = w8a8(&graph, &calib, &test, Some(&labels));
    let (float, quant) = (cmp.float_top1.unwrap(), cmp.quant_top1.unwrap());
    eprintln!(
        "{}: W8A8 top-1 {:.2}% (float {:.2}%), agreement {:.2}%, output SQNR {:.1} dB, {} samples",
        dir.display(),
        100.0 * quant,
        100.0 * float,
        100.0 * cmp.agreement,
        cmp.output_sqnr_db.unwrap_or(f64::INFINITY),
        test.n
    );
    (float, quant)
}

fn check(folder: &str, at_least: f64) {
    let Some(dir) = eval_dir(folder).map(|d| d.join(folder)) else { return };
    let (_, quant) = top1(&dir, "test");
    assert!(quant * 100.0 >= at_least, "{folder}: W8A8 top-1 {:.2}% is below {at_least}%", quant * 100.0);
}

#[test]
fn resnet8_w8a8() {
    check("mlperf_tiny_resnet8_cifar10", 84.5);
}

#[test]
fn dscnn_w8a8() {
    check("mlperf_tiny_dscnn_kws", 90.0);
}

#[test]
fn vww_w8a8() {
    check("mlperf_tiny_mobilenetv1_vww", 83.5);
}

#[test]
fn mnist_w8a8() {
    check("mnist_lenet5", 98.0);
}

#[test]
fn digits_models_w8a8_within_a_point_of_float() {
    let Some(eval) = eval_dir("digits_models_w8a8_within_a_point_of_float") else { return };
    for folder in ["digits_lenet_cnn", "digits_mlp", "digits_mobilenet_ds_residual"] {
        let (float, quant) = top1(&eval.join(folder), "test");
        assert!(quant >= float - 0.01, "{folder}: W8A8 {quant} vs float {float}");
    }
}

#[test]
fn bundled_example_w8a8_within_a_point_of_float() {
    let (float, quant) = top1(&repo().join("examples/digits"), "test");
    assert!(quant >= float - 0.01, "example: W8A8 {quant} vs float {float}");
}

/// Anomaly score per file: the mean squared reconstruction error over its 196 windows.
fn scores(inputs: &Samples, outputs: &[f32], per_file: usize) -> Vec<f64> {
    let window = inputs.sample_len();
    (0..inputs.n / per_file)
        .map(|f| {
            (0..per_file)
                .map(|w| {
                    let i = f * per_file + w;
                    let y = &outputs[i * window..(i + 1) * window];
                    inputs.sample(i).iter().zip(y).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>() / window as f64
                })
                .sum::<f64>()
                / per_file as f64
        })
        .collect()
}

#[test]
fn fc_autoencoder_ranking_survives_w8a8() {
    let folder = "mlperf_tiny_fc_autoencoder_ad";
    let Some(dir) = eval_dir(folder).map(|d| d.join(folder)) else { return };
    let graph = import::load(&dir.join("model.onnx"), &ImportOptions::default()).unwrap();
    let calib = load_samples(&dir.join("calib_x.npy"), graph.input_shape(), 1.0, 0.0).unwrap();
    let bytes = std::fs::read(dir.join("test_x.npy")).unwrap();
    let files = npyz::NpyFile::new(&bytes[..]).unwrap().into_vec::<f32>().unwrap();
    let labels = load_labels(&dir.join("test_y.npy"), 64).unwrap();
    let per_file = 196;
    let mut data = Vec::new();
    for file in files.chunks(25600) {
        (0..per_file).for_each(|w| data.extend_from_slice(&file[w * 128..w * 128 + 640]));
    }
    let test = Samples { n: 64 * per_file, sample_shape: vec![1, 640], data };
    let cmp = w8a8(&graph, &calib, &test, None);
    let (float_auc, quant_auc) = (
        auc(&scores(&test, &cmp.float_outputs, per_file), &labels),
        auc(&scores(&test, &cmp.quant_outputs, per_file), &labels),
    );
    eprintln!(
        "{folder}: W8A8 AUC {quant_auc:.4} (float {float_auc:.4}), output SQNR {:.1} dB",
        cmp.output_sqnr_db.unwrap()
    );
    assert!((quant_auc - float_auc).abs() <= 0.01, "AUC {quant_auc} vs float {float_auc}");
}
