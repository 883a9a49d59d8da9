//! Which residual adds run inside the convolution producing one of their inputs. The C kernel then computes the
//! convolution a band of output rows at a time into scratch and adds each band to the residual straight away, so
//! the convolution's output never takes arena space and the add may write over the residual: in a residual block
//! the block's input, the convolution's input and its output are no longer live at once.

use crate::ir::quant::{Layout, QGraph, QOp};

/// Output pixels a band holds at least (fewer make the per-band call overhead show; more cost RAM).
const BAND_PIXELS: usize = 32;

/// The add node fused into convolution node `ix`: the node right after it, an add of two inputs of its output's
/// shape (no broadcast), one of them the convolution's output, which nothing else reads. Every band of output rows
/// must start inside the input (a window wholly in the bottom padding cannot be a band's first row).
pub fn fused_add(graph: &QGraph, ix: usize) -> Option<usize> {
    let (conv, add) = (&graph.nodes[ix], graph.nodes.get(ix + 1)?);
    let (QOp::Conv(c), QOp::Add(_)) = (&conv.op, &add.op) else { return None };
    let y = conv.output;
    let shape = &graph.tensor(y).shape;
    let read_once = graph.nodes.iter().flat_map(|n| &n.inputs).filter(|&&t| t == y).count() == 1;
    let same_shape = add.inputs.iter().chain([&add.output]).all(|&t| graph.tensor(t).shape == *shape);
    let (in_h, _, _) = Layout::hwc(&graph.tensor(conv.inputs[0]).shape);
    let (out_h, _, _) = Layout::hwc(shape);
    let last_top = (out_h - 1) * c.window.strides[0];
    (add.inputs.len() == 2
        && add.inputs.contains(&y)
        && read_once
        && same_shape
        && y != graph.output
        && last_top < in_h + c.window.pads[0])
        .then_some(ix + 1)
}

/// Output rows per band of convolution node `ix` with a fused add: whole rows of at least BAND_PIXELS pixels, an
/// even pixel count when possible (the kernels compute two pixels at a time).
pub fn band_rows(graph: &QGraph, ix: usize) -> usize {
    let (out_h, out_w, _) = Layout::hwc(&graph.tensor(graph.nodes[ix].output).shape);
    let rows = BAND_PIXELS.div_ceil(out_w);
    (rows + (rows * out_w) % 2).min(out_h)
}
