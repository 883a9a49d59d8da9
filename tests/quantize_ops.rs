//! The quantizer and the reference interpreter on every op-coverage model: W8A8 stays close to float (a wrong
//! layout, rounding or requantization shows up as a collapse of the SQNR), lower widths degrade gracefully, and the
//! accumulator overflow proof holds exactly at its boundary.

mod common;

use common::{random_samples, repo};
use ompqc::import::{self, ImportOptions};
use ompqc::interp;
use ompqc::ir::{Clamp, Dense, Graph, Node, Op, TensorInfo};
use ompqc::measure::compare;
use ompqc::observe::{observe, Observations, RangeMethod};
use ompqc::quantize::{quantize, QuantOptions, WeightBits};

fn sqnr_at(name: &str, options: ImportOptions, bits: u8) -> (f64, Vec<(String, Option<f64>)>) {
    let graph = import::load(&repo().join("tests/models").join(format!("{name}.onnx")), &options).unwrap();
    let calib = random_samples(graph.input_shape(), 64, 1);
    let test = random_samples(graph.input_shape(), 32, 2);
    let obs = observe(&graph, &calib, RangeMethod::MinMax).unwrap();
    let q =
        quantize(&graph, &obs, &QuantOptions { bits: WeightBits::uniform(bits), ..QuantOptions::default() }).unwrap();
    let cmp = compare(&graph, &q, &test, None).unwrap();
    let layers = cmp.layers.iter().map(|l| (l.name.clone(), l.sqnr_db)).collect();
    (cmp.output_sqnr_db.unwrap_or(f64::INFINITY), layers)
}

#[test]
fn every_op_quantizes_close_to_float_at_8_bits() {
    for (name, options) in [
        ("conv_variants", ImportOptions::default()),
        ("conv1d", ImportOptions::default()),
        ("batchnorm_affine", ImportOptions::default()),
        ("activations", ImportOptions::default()),
        ("pools", ImportOptions::default()),
        ("pad_se_hardswish", ImportOptions::default()),
        ("pad_pool", ImportOptions::default()),
        ("dynamic_batch", ImportOptions::default()),
        ("dynamic_spatial", ImportOptions { input_shape: Some(vec![1, 2, 9, 7]), ..Default::default() }),
        ("reshape_4d", ImportOptions::default()),
        ("more_activations", ImportOptions::default()),
        ("math_functions", ImportOptions::default()),
        ("resampling", ImportOptions::default()),
        ("transposed_conv", ImportOptions::default()),
        ("log_softmax", ImportOptions::default()),
        ("slices", ImportOptions::default()),
        ("normalizations", ImportOptions::default()),
        ("transposes", ImportOptions::default()),
        ("reductions", ImportOptions::default()),
        ("more_arithmetic", ImportOptions::default()),
    ] {
        let (sqnr8, layers) = sqnr_at(name, options.clone(), 8);
        eprintln!("{name}: W8A8 output SQNR {sqnr8:.1} dB; layers {layers:?}");
        assert!(sqnr8 > 25.0, "{name}: W8A8 output SQNR {sqnr8:.1} dB");
        for (layer, sqnr) in layers {
            // A step function (round, floor, ceil, sign) turns an input's rounding error at a step into a whole
            // step, so its own SQNR measures how near the inputs fall to the steps, not its table; what follows it
            // is still checked, and so is the output.
            let step = ["round_", "floor_", "ceil_", "sign_"].iter().any(|s| layer.starts_with(s));
            assert!(step || sqnr.is_none_or(|s| s > 20.0), "{name}: layer {layer} at {sqnr:?} dB");
        }
        let (sqnr4, _) = sqnr_at(name, options.clone(), 4);
        let (sqnr2, _) = sqnr_at(name, options, 2);
        eprintln!("{name}: W4A8 {sqnr4:.1} dB, W2A8 {sqnr2:.1} dB");
        assert!(sqnr4 < sqnr8 + 1.0 && sqnr2 < sqnr4 + 1.0, "{name}: fewer bits cannot be more accurate");
    }
}

/// A one-layer model y = W x with every weight 1 and inputs in [0, 1]: the input zero point is -128, so each
/// |x - z| reaches 255 and each 8-bit weight is 127. The accumulator bound is K * 127 * 255.
fn single_dense(k: usize) -> (Graph, Observations) {
    let graph = Graph {
        tensors: vec![
            TensorInfo { name: "x".into(), shape: vec![1, k] },
            TensorInfo { name: "y".into(), shape: vec![1, 1] },
        ],
        nodes: vec![Node {
            name: "dense".into(),
            op: Op::Dense(Dense { weight: vec![1.0; k], bias: vec![0.0], k, n_out: 1, act: Clamp::NONE }),
            inputs: vec![0],
            output: 1,
        }],
        input: 0,
        output: 1,
        given: None,
    };
    let obs = Observations { ranges: vec![(0.0, 1.0), (0.0, k as f32)], input_means: vec![None], samples: 1 };
    (graph, obs)
}

#[test]
fn the_overflow_proof_holds_at_its_boundary() {
    let options = QuantOptions { bits: WeightBits::uniform(8), bias_correction: false, ..QuantOptions::default() };
    let fits = i32::MAX as usize / (127 * 255);
    let (graph, obs) = single_dense(fits);
    let q = quantize(&graph, &obs, &options).expect("K * 127 * 255 <= 2^31 - 1 compiles");
    // The worst case really runs: every input at its maximum gives the largest accumulator.
    let input = vec![127i8; fits];
    let out = interp::run(&q, &input, 1);
    assert_eq!(out, [127]);
    let (graph, obs) = single_dense(fits + 1);
    let err = quantize(&graph, &obs, &options).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.message.contains("layer 'dense'") && err.message.contains("overflow"), "{}", err.message);
}

#[test]
fn lrn_is_float_only_and_says_so() {
    let graph = import::load(&repo().join("tests/models/lrn.onnx"), &ImportOptions::default()).unwrap();
    let calib = random_samples(graph.input_shape(), 8, 1);
    let obs = observe(&graph, &calib, RangeMethod::MinMax).unwrap();
    let err = quantize(&graph, &obs, &QuantOptions::default()).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.message.contains("'lrn_2'") && err.message.contains("LRN runs in float only"), "{}", err.message);
}
