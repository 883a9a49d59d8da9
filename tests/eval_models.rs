//! The real models of ../shared/eval: the IR's float outputs equal tract's (and onnxruntime's stored outputs)
//! within 1e-4 of the output magnitude, and the IR's top-1 equals the figures in each folder's README.
//! Skipped, with a printed reason, when ../shared/eval is absent.

mod common;

use std::path::Path;

use common::{assert_close, auc, eval_dir, input_map, meta, random_samples, tract_outputs};
use ompqc::data::{load_labels, load_samples, Samples};
use ompqc::exec;
use ompqc::import::{self, ImportOptions};
use ompqc::ir::Graph;

/// How many test samples go through tract as well (all of them go through the IR and are checked against
/// onnxruntime's stored outputs).
const TRACT_SAMPLES: usize = 48;

fn read_f32(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap();
    npyz::NpyFile::new(&bytes[..]).unwrap().into_vec::<f32>().unwrap()
}

fn load(model: &Path, options: &ImportOptions) -> Graph {
    import::load(model, options).unwrap_or_else(|e| panic!("{e}"))
}

/// Imports `folder/model.onnx`, runs `test_x.npy` (or `prefix_x.npy`), checks against tract and onnxruntime and
/// returns the top-1 accuracy.
fn classifier_top1(folder: &str, model_file: &str, prefix: &str) -> Option<f64> {
    let dir = eval_dir(folder)?.join(folder);
    let model = dir.join(model_file);
    let graph = load(&model, &ImportOptions::default());
    let (scale, offset) = input_map(&meta(&dir));
    let samples = load_samples(&dir.join(format!("{prefix}_x.npy")), graph.input_shape(), scale, offset).unwrap();
    let labels = load_labels(&dir.join(format!("{prefix}_y.npy")), samples.n).unwrap();
    let ours = exec::run(&graph, &samples).unwrap();

    let onnxruntime = read_f32(&dir.join(format!("{prefix}_float_out.npy")));
    let worst_ort = assert_close(&format!("{folder} vs onnxruntime"), &ours.data, &onnxruntime, ours.sample_len, 1e-4);
    let few = samples.take(TRACT_SAMPLES);
    let reference = tract_outputs(&model, &few);
    let worst_tract =
        assert_close(&format!("{folder} vs tract"), &ours.data[..reference.len()], &reference, ours.sample_len, 1e-4);
    let correct = ours.top1().iter().zip(&labels).filter(|(p, y)| **p as i64 == **y).count();
    let top1 = correct as f64 / samples.n as f64;
    eprintln!(
        "{folder}/{model_file} {prefix}: top-1 {:.2}% of {}; worst relative error vs onnxruntime {worst_ort:.1e}, vs tract {worst_tract:.1e}",
        100.0 * top1,
        samples.n
    );
    Some(top1)
}

/// Asserts an accuracy equals a README figure given in percent with `decimals` decimals.
fn assert_figure(top1: f64, percent: f64, decimals: i32) {
    let rounded = (top1 * 100.0 * 10f64.powi(decimals)).round() / 10f64.powi(decimals);
    assert_eq!(rounded, percent, "top-1 {:.4}% differs from the README's {percent}%", top1 * 100.0);
}

#[test]
fn resnet8_official_images() {
    if let Some(t) = classifier_top1("mlperf_tiny_resnet8_cifar10", "model.onnx", "test") {
        assert_figure(t, 85.5, 1);
    }
}

#[test]
fn resnet8_cifar_jpeg_images() {
    if let Some(t) = classifier_top1("mlperf_tiny_resnet8_cifar10", "model.onnx", "test2") {
        assert_figure(t, 76.4, 1);
    }
}

#[test]
fn dscnn_keyword_spotting() {
    if let Some(t) = classifier_top1("mlperf_tiny_dscnn_kws", "model.onnx", "test") {
        assert_figure(t, 91.3, 1);
    }
}

#[test]
fn mobilenetv1_visual_wake_words() {
    if let Some(t) = classifier_top1("mlperf_tiny_mobilenetv1_vww", "model.onnx", "test") {
        assert_figure(t, 84.3, 1);
    }
}

#[test]
fn mnist_lenet5() {
    if let Some(t) = classifier_top1("mnist_lenet5", "model.onnx", "test") {
        assert_figure(t, 98.3, 1);
    }
}

#[test]
fn digits_models() {
    for (folder, model, figure) in [
        ("digits_lenet_cnn", "model.onnx", 98.3),
        ("digits_mlp", "model.onnx", 97.2),
        ("digits_mobilenet_ds_residual", "model.onnx", 98.9),
        ("digits_mobilenet_ds_residual", "model_unfolded_bn.onnx", 98.9),
    ] {
        if let Some(t) = classifier_top1(folder, model, "test") {
            assert_figure(t, figure, 1);
        }
    }
}

#[test]
fn fc_autoencoder_anomaly_scores() {
    let folder = "mlperf_tiny_fc_autoencoder_ad";
    let Some(dir) = eval_dir(folder).map(|d| d.join(folder)) else {
        return;
    };
    let model = dir.join("model.onnx");
    let graph = load(&model, &ImportOptions::default());
    // Each file is 200 frames x 128 mel bins; the model sees 5-frame windows every frame: 196 per file.
    let files = read_f32(&dir.join("test_x.npy"));
    let labels = load_labels(&dir.join("test_y.npy"), 64).unwrap();
    let (window, hop, per_file) = (640, 128, 196);
    let mut data = Vec::with_capacity(64 * per_file * window);
    for file in files.chunks(25600) {
        for w in 0..per_file {
            data.extend_from_slice(&file[w * hop..w * hop + window]);
        }
    }
    let samples = Samples { n: 64 * per_file, sample_shape: vec![1, window], data };
    let out = exec::run(&graph, &samples).unwrap();
    let scores: Vec<f64> = (0..64)
        .map(|f| {
            let errors = (0..per_file).map(|w| {
                let i = f * per_file + w;
                let (x, y) = (samples.sample(i), out.sample(i));
                x.iter().zip(y).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>() / window as f64
            });
            errors.sum::<f64>() / per_file as f64
        })
        .collect();
    let reference = read_f32(&dir.join("test_float_score.npy"));
    for (f, (ours, theirs)) in scores.iter().zip(&reference).enumerate() {
        assert!((ours - *theirs as f64).abs() <= 1e-4 * (*theirs as f64).abs(), "file {f}: score {ours} vs {theirs}");
    }
    let few = samples.take(TRACT_SAMPLES);
    assert_close(folder, &out.data[..few.data.len()], &tract_outputs(&model, &few), window, 1e-4);
    let auc = auc(&scores, &labels);
    eprintln!("{folder}: AUC {auc:.4} on 64 files");
    assert_eq!((auc * 1e4).round() / 1e4, 0.8564, "AUC {auc} differs from the README's 0.8564");
}

/// Models without test data: random inputs, IR against tract.
fn random_inputs_match_tract(folder: &str, file: &str, options: ImportOptions, n: usize) {
    let Some(dir) = eval_dir(folder).map(|d| d.join(folder)) else {
        return;
    };
    let model = dir.join(file);
    let graph = load(&model, &options);
    let samples = random_samples(graph.input_shape(), n, 11);
    let ours = exec::run(&graph, &samples).unwrap();
    let worst =
        assert_close(&format!("{folder}/{file}"), &ours.data, &tract_outputs(&model, &samples), ours.sample_len, 1e-4);
    eprintln!("{folder}/{file}: {} nodes, worst relative error vs tract {worst:.1e}", graph.nodes.len());
}

#[test]
fn mobilenetv2_random_weights() {
    random_inputs_match_tract("random_arch", "mobilenetv2_0.35_96.onnx", ImportOptions::default(), 4);
    random_inputs_match_tract("random_arch", "mobilenetv2_1.0_224.onnx", ImportOptions::default(), 2);
}

#[test]
fn paddleocr_direction_classifier() {
    let shape = ImportOptions { input_shape: Some(vec![1, 3, 48, 192]), ..Default::default() };
    random_inputs_match_tract("extra_unlabelled/ppocr_mobile_v2_cls", "model_original.onnx", shape, 4);
}
