//! Each supported ONNX operator form (tests/models, made by make_op_models.py) imports into the IR, folds as
//! intended, and computes what tract computes.

mod common;

use std::path::PathBuf;

use common::{assert_close, random_samples, repo, tract_outputs};
use ompqc::data::load_samples;
use ompqc::exec;
use ompqc::import::{self, ImportOptions};
use ompqc::ir::{Graph, Op, UnaryFn};

fn model(name: &str) -> PathBuf {
    repo().join("tests/models").join(format!("{name}.onnx"))
}

/// Imports, runs 4 random samples through the IR and tract, and compares.
fn check_against_tract(name: &str, options: ImportOptions) -> Graph {
    let graph = import::load(&model(name), &options).unwrap_or_else(|e| panic!("{name}: {e}"));
    let samples = random_samples(graph.input_shape(), 4, name.len() as u64);
    let ours = exec::run(&graph, &samples).unwrap();
    let reference = tract_outputs(&model(name), &samples);
    assert_close(name, &ours.data, &reference, ours.sample_len, 1e-4);
    graph
}

fn kinds(g: &Graph) -> Vec<&'static str> {
    g.nodes.iter().map(|n| n.op.kind()).collect()
}

#[test]
fn convolutions_of_every_form_match_tract() {
    let g = check_against_tract("conv_variants", ImportOptions::default());
    assert_eq!(kinds(&g), ["Conv", "GroupConv", "DepthwiseConv", "Conv", "Conv", "Conv", "Unary"]);
    let Op::Conv(c) = &g.nodes[3].op else { panic!() };
    // SAME_UPPER with stride 2 on a 2x3 kernel: the extra pad goes at the end.
    assert_eq!(c.window.pads, [0, 1, 1, 1]);
    let Op::Conv(c) = &g.nodes[4].op else { panic!() };
    assert_eq!(c.window.pads, [1, 1, 0, 0], "SAME_LOWER puts the extra pad first");
}

#[test]
fn one_dimensional_convolutions_match_tract() {
    let g = check_against_tract("conv1d", ImportOptions::default());
    assert_eq!(kinds(&g), ["Conv", "DepthwiseConv", "MaxPool", "Conv", "Unary"]);
    let Op::Conv(c) = &g.nodes[0].op else { panic!() };
    assert_eq!(
        (c.window.kernel, c.window.strides, c.window.pads, c.act),
        ([1, 5], [1, 2], [0, 2, 0, 2], ompqc::ir::Clamp::RELU)
    );
}

#[test]
fn batchnorm_and_constant_arithmetic_fold() {
    let g = check_against_tract("batchnorm_affine", ImportOptions::default());
    // BN on the input has nothing to fold into; Sub and Div by constants merge into it. The BN after the conv,
    // the Mul and the Add fold into the conv, and the Clip fuses; the final 0.25 - x stays an affine.
    assert_eq!(kinds(&g), ["Affine", "Conv", "Affine"]);
    let Op::Conv(c) = &g.nodes[1].op else { panic!() };
    assert_eq!((c.act.min, c.act.max), (-1.0, 2.5));
}

#[test]
fn activations_and_concat_match_tract() {
    let g = check_against_tract("activations", ImportOptions::default());
    let unary: Vec<UnaryFn> =
        g.nodes.iter().filter_map(|n| if let Op::Unary(f) = n.op { Some(f) } else { None }).collect();
    assert_eq!(unary.len(), 4, "sigmoid, hard sigmoid, hard swish and a clip on a shared tensor stay separate");
    assert!(kinds(&g).contains(&"Concat"));
}

#[test]
fn pools_reductions_and_reshapes_match_tract() {
    let g = check_against_tract("pools", ImportOptions::default());
    assert_eq!(kinds(&g), ["MaxPool", "AvgPool", "AvgPool", "Concat", "GlobalAvgPool", "Reshape", "Dense", "Softmax"]);
}

#[test]
fn pads_fold_hard_swish_fuses_and_squeeze_excite_multiplies() {
    let g = check_against_tract("pad_se_hardswish", ImportOptions::default());
    assert_eq!(
        kinds(&g),
        ["Conv", "Unary", "GlobalAvgPool", "Conv", "Conv", "Unary", "Mul", "Reshape", "Dense"],
        "{g:#?}"
    );
    let Op::Conv(c) = &g.nodes[0].op else { panic!() };
    assert_eq!(c.window.pads, [1, 2, 1, 2], "the explicit Pad folds into the conv");
    assert_eq!(g.nodes[1].op, Op::Unary(UnaryFn::HardSwish));
}

#[test]
fn a_pad_of_a_value_other_than_zero_stays_a_node() {
    let g = check_against_tract("pad_pool", ImportOptions::default());
    assert_eq!(kinds(&g), ["Conv", "Pad", "MaxPool"]);
    assert_eq!(g.nodes[1].op, Op::Pad { pads: [1, 2, 2, 1], value: 0.5 });
}

#[test]
fn dynamic_batch_is_pinned_to_one() {
    let g = check_against_tract("dynamic_batch", ImportOptions::default());
    assert_eq!(g.input_shape(), [1, 2, 4, 4]);
}

#[test]
fn dynamic_spatial_dimensions_need_a_shape() {
    let err = import::load(&model("dynamic_spatial"), &ImportOptions::default()).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.message.contains("--input-shape") && err.message.contains("'input'"), "{}", err.message);
    let g = check_against_tract(
        "dynamic_spatial",
        ImportOptions { input_shape: Some(vec![1, 2, 7, 5]), ..Default::default() },
    );
    assert_eq!(g.input_shape(), [1, 2, 7, 5]);
    let err = import::load(
        &model("dynamic_spatial"),
        &ImportOptions { input_shape: Some(vec![1, 3, 7, 5]), ..Default::default() },
    )
    .unwrap_err();
    assert!(err.message.contains("does not fit"), "{}", err.message);
}

#[test]
fn every_unsupported_node_is_named() {
    let imported = import::import(&model("unsupported_ops"), &ImportOptions::default()).unwrap();
    let names: Vec<(&str, &str)> = imported.unsupported.iter().map(|u| (u.node.as_str(), u.op_type.as_str())).collect();
    assert_eq!(names, [("concat_2", "Concat"), ("hardmax_3", "Hardmax")]);
    let err = imported.into_graph(&model("unsupported_ops")).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(!err.message.contains('\n'));
    assert!(err.message.contains("2 unsupported nodes"), "{}", err.message);
}

#[test]
fn the_bundled_example_matches_tract() {
    let dir = repo().join("examples/digits");
    let model = dir.join("model.onnx");
    let graph = import::load(&model, &ImportOptions::default()).unwrap();
    let samples = ompqc::data::load_samples(&dir.join("test_x.npy"), graph.input_shape(), 0.0625, 0.0).unwrap();
    let ours = exec::run(&graph, &samples).unwrap();
    assert_close("example", &ours.data, &tract_outputs(&model, &samples), ours.sample_len, 1e-4);
    assert_eq!(kinds(&graph), ["Conv", "Conv", "DepthwiseConv", "Conv", "Add", "GlobalAvgPool", "Reshape", "Dense"]);
}

/// The refusal of `name`'s import: (node, op type, reason) of each unsupported node, and the one-line error.
fn refusals(name: &str) -> (Vec<(String, String, String)>, ompqc::Error) {
    let imported = import::import(&model(name), &ImportOptions::default()).unwrap();
    let found = imported.unsupported.iter().map(|u| (u.node.clone(), u.op_type.clone(), u.reason.clone())).collect();
    let err = imported.into_graph(&model(name)).unwrap_err();
    assert_eq!(err.exit_code(), 2, "{name}");
    assert!(!err.message.contains('\n'), "{name}: {}", err.message);
    (found, err)
}

#[test]
fn images_folded_into_a_leading_axis_are_refused_by_node() {
    // A Conv over [4, 1, 8, 8] used to panic in the float executor, and a global pool over it gave zeros for all
    // but the first image: the image kernels index one image.
    let (found, err) = refusals("leading_axis");
    assert_eq!(found.len(), 1, "{found:?}");
    let (node, op, reason) = &found[0];
    assert_eq!((node.as_str(), op.as_str()), ("conv_2", "Conv"));
    assert!(reason.contains("[4, 1, 8, 8] holds 4 images along its leading axis"), "{reason}");
    assert!(err.message.contains("'conv_2' (Conv: input of shape [4, 1, 8, 8]"), "{}", err.message);
    // The command line says the same, with exit code 2.
    let out = common::ompqc().arg("inspect").arg(model("leading_axis")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("conv_2 (Conv): input of shape [4, 1, 8, 8]"));
}

#[test]
fn training_modes_are_refused_and_inference_dropout_is_the_identity() {
    let (found, _) = refusals("bn_training");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].1, "BatchNormalization");
    assert!(found[0].2.starts_with("training_mode = 1"), "{:?}", found[0]);
    // Of the two Dropouts, the one in training mode is refused; the one with training_mode false imports.
    let (found, _) = refusals("dropout_modes");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].0.as_str(), found[0].1.as_str()), ("dropout_3", "Dropout"));
    assert!(found[0].2.contains("training_mode is true"), "{:?}", found[0]);
}

#[test]
fn table_activations_and_global_max_pool_import() {
    // Elu, Selu, Celu, Softplus, Softsign, Gelu (erf and tanh), Mish, ThresholdedRelu, a one-slope PRelu, Neg, Abs
    // and the Erf of a GELU exported before opset 20 become tables in the integer model; GlobalMaxPool a max pool
    // over the whole plane; Sum of two an Add. Their float values are checked against the onnx package's own
    // expected outputs by the node-test suite (tests/onnx_node_suite.rs: test_elu, test_gelu_tanh_1, test_mish,
    // test_erf, ...): tract 0.23 differs from both on this model, so it is no oracle here.
    let g = import::load(&model("more_activations"), &ImportOptions::default()).unwrap();
    let unary: Vec<String> =
        g.nodes.iter().filter_map(|n| if let Op::Unary(f) = &n.op { Some(f.name()) } else { None }).collect();
    assert_eq!(
        unary,
        [
            "elu(0.7)",
            "selu(1.6732632, 1.050701)",
            "celu(1.5)",
            "softplus",
            "softsign",
            "gelu",
            "gelu(tanh)",
            "mish",
            "thresholded_relu(0.2)",
            "leaky_relu(0.25)",
            "neg",
            "abs",
            "erf"
        ]
    );
    assert!(matches!(g.nodes.last().unwrap().op, Op::Add { .. }), "a Sum of two inputs is an Add");
    assert!(g.nodes.iter().any(|n| matches!(&n.op, Op::MaxPool(p) if p.window.kernel == [4, 4])));
}

#[test]
fn math_functions_swish_and_shrink_match_the_onnx_reference() {
    // Exp, Sin, ..., Sign, Swish and Shrink each become a table in the integer model. tract 0.23 differs from the
    // ONNX reference on this model; the expected outputs are the onnx package's reference evaluator's
    // (tests/models/make_op_models.py).
    let g = import::load(&model("math_functions"), &ImportOptions::default()).unwrap();
    let dir = repo().join("tests/models");
    let input = load_samples(&dir.join("math_functions.input.npy"), g.input_shape(), 1.0, 0.0).unwrap();
    let expected = load_samples(&dir.join("math_functions.expected.npy"), g.output_shape(), 1.0, 0.0).unwrap();
    let ours = exec::run(&g, &input).unwrap();
    assert_close("math_functions", &ours.data, &expected.data, ours.sample_len, 1e-4);
    let unary: Vec<String> =
        g.nodes.iter().filter_map(|n| if let Op::Unary(f) = &n.op { Some(f.name()) } else { None }).collect();
    assert_eq!(unary.len(), 23, "{unary:?}");
    for f in ["exp", "log", "reciprocal", "acosh", "sign", "round", "swish(1.5)", "shrink(0.3, 0.1)"] {
        assert!(unary.iter().any(|u| u == f), "{f} in {unary:?}");
    }
}

#[test]
fn resampling_matches_tract() {
    // Nearest by scales, linear to sizes and antialiased cubic downsampling: tap tables of 1, 2 and more taps.
    let g = check_against_tract("resampling", ImportOptions::default());
    let taps: Vec<(usize, usize)> = g
        .nodes
        .iter()
        .filter_map(|n| if let Op::Resize(r) = &n.op { Some((r.y.taps, r.x.taps)) } else { None })
        .collect();
    // The linear resize keeps the width (10 to 10): one tap there.
    assert_eq!(taps, [(1, 1), (2, 1), (8, 6)]);
}

#[test]
fn transposed_convolutions_prelu_per_channel_and_sub_match_tract() {
    // ConvTranspose is a spread of the input (a resampling of 1 tap, weight 0 between) and a convolution with the
    // flipped kernel; PRelu per channel two clamps, a scale and an add; Sub an add of the negation.
    let g = check_against_tract("transposed_conv", ImportOptions::default());
    let ops: Vec<(&str, &str)> = g.nodes.iter().map(|n| (n.name.as_str(), n.op.kind())).collect();
    assert!(ops.contains(&("convtranspose_2/spread", "Resize")) && ops.contains(&("convtranspose_2", "GroupConv")));
    assert!(ops.contains(&("prelu_3/scaled", "Affine")) && ops.contains(&("sub_5/neg", "Unary")));
}

#[test]
fn log_softmax_matches_tract() {
    let g = check_against_tract("log_softmax", ImportOptions::default());
    let axes: Vec<usize> =
        g.nodes.iter().filter_map(|n| if let Op::LogSoftmax { axis } = n.op { Some(axis) } else { None }).collect();
    assert_eq!(axes, [1, 1]);
}

#[test]
fn split_and_slice_match_tract() {
    // Split into uneven parts recombined in another order; Slice with steps, a negative step and negative indices;
    // a Split part nothing reads is dropped.
    let g = check_against_tract("slices", ImportOptions::default());
    let slices: Vec<(&str, Vec<isize>)> = g
        .nodes
        .iter()
        .filter_map(|n| if let Op::View(v) = &n.op { Some((n.name.as_str(), v.steps.clone())) } else { None })
        .collect();
    assert_eq!(slices.len(), 6, "{slices:?}");
    assert!(slices.contains(&("slice_6", vec![1, -1, 2, 1])));
    assert!(slices.iter().any(|(n, _)| *n == "split_8/0") && !slices.iter().any(|(n, _)| *n == "split_8/1"));
}

#[test]
fn normalizations_and_lrn_match_tract() {
    // InstanceNormalization, LayerNormalization over the sample, the last axis and a dense layer's features; LRN
    // (float only).
    let g = check_against_tract("normalizations", ImportOptions::default());
    let norms: Vec<(&str, usize)> = g
        .nodes
        .iter()
        .filter_map(|n| if let Op::Normalize(q) = &n.op { Some((n.op.kind(), q.axis)) } else { None })
        .collect();
    assert_eq!(norms, [("InstanceNorm", 2), ("LayerNorm", 1), ("LayerNorm", 3), ("LayerNorm", 1)]);
    let g = check_against_tract("lrn", ImportOptions::default());
    assert!(matches!(g.nodes.last().unwrap().op, Op::Lrn(_)));
}

#[test]
fn transposes_that_reorder_axes_match_tract() {
    let g = check_against_tract("transposes", ImportOptions::default());
    let perms: Vec<Vec<usize>> =
        g.nodes.iter().filter_map(|n| if let Op::View(v) = &n.op { Some(v.axes.clone()) } else { None }).collect();
    assert_eq!(perms, [vec![0, 1, 3, 2], vec![0, 2, 3, 1]]);
}

#[test]
fn reductions_over_other_axes_match_tract() {
    // Mean and max over the channels (spatial attention), a min over the width; the mean over the last axis of the
    // rank-3 rest is over its spatial axis, a global average pool.
    let g = check_against_tract("reductions", ImportOptions::default());
    let reductions: Vec<String> = g.nodes.iter().filter(|n| n.op.kind() == "Reduce").map(|n| n.op.details()).collect();
    assert_eq!(reductions, ["mean over [1]", "max over [1]", "min over [3]"]);
    assert_eq!(g.nodes.last().unwrap().op.kind(), "GlobalAvgPool");
}

#[test]
fn division_of_activations_and_pow_match_tract() {
    let g = check_against_tract("more_arithmetic", ImportOptions::default());
    let names: Vec<&str> = g.nodes.iter().map(|n| n.name.as_str()).collect();
    assert!(names.contains(&"div_4/reciprocal") && names.contains(&"div_5/reciprocal"), "{names:?}");
    assert!(g.nodes.iter().any(|n| matches!(&n.op, Op::Unary(UnaryFn::Pow { exponent }) if *exponent == 2.0)));
}

#[test]
fn upsample_gets_its_shape_from_ompqc() {
    // tract infers no shape for Upsample (opset 7's attribute scales here): ompqc sets floor(input * scales) and
    // the shapes after it follow. Its values are checked against onnxruntime (tests/onnx_node_suite.rs).
    let g = import::load(&model("upsample"), &ImportOptions::default()).unwrap();
    assert_eq!(kinds(&g), ["Conv", "Resize", "Conv"]);
    assert_eq!(g.output_shape(), [1, 2, 6, 12]);
}

#[test]
fn reflect_and_edge_pads_match_tract() {
    // Each a resampling of one tap of weight 1: the mirrored or the nearest input position.
    let g = check_against_tract("pad_modes", ImportOptions::default());
    assert_eq!(kinds(&g), ["Conv", "Resize", "Resize", "Conv"]);
}
