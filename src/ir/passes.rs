//! Local rewrites of the float IR, each one pattern -> replacement, run to a fixed point. They keep the function
//! computed (up to float rounding) and never look beyond a node and its direct neighbours.

use super::{Affine, Clamp, Graph, Op, TensorId, UnaryFn};

type Rule = fn(&mut Graph, usize) -> bool;

/// Folding and fusion after import. Order matters only for speed: every rule runs until none applies.
const RULES: &[Rule] =
    &[fold_pad_into_conv, fold_affine_into_producer, fuse_clamp_into_producer, fuse_hard_swish, drop_reshape];

pub fn simplify(graph: &mut Graph) {
    loop {
        let mut changed = false;
        for rule in RULES {
            let mut ix = 0;
            while ix < graph.nodes.len() {
                if rule(graph, ix) {
                    changed = true;
                } else {
                    ix += 1;
                }
            }
        }
        changed |= remove_dead_nodes(graph);
        if !changed {
            break;
        }
    }
    compact_tensors(graph);
}

fn producer(graph: &Graph, tensor: TensorId) -> Option<usize> {
    graph.nodes.iter().position(|n| n.output == tensor)
}

/// The producer of node `ix`'s input `i`, when that producer feeds nothing else.
fn sole_producer(graph: &Graph, ix: usize, i: usize) -> Option<usize> {
    let t = *graph.nodes[ix].inputs.get(i)?;
    producer(graph, t).filter(|_| graph.use_count(t) == 1)
}

/// Whether node `ix` may merge into its producer `p`: a QDQ model rounds `p`'s output at its own scale, which a
/// merge would skip, so the two stay apart unless the model quantizes both outputs alike.
fn may_merge(graph: &Graph, p: usize, ix: usize) -> bool {
    let Some(given) = graph.given.as_ref().filter(|g| g.keep) else { return true };
    let params = |n: usize| given.tensors.get(&graph.tensors[graph.nodes[n].output].name);
    params(p).is_none() || params(p) == params(ix)
}

/// Removes node `ix`, whose work now happens in node `into`, which takes over its output tensor.
fn absorb(graph: &mut Graph, ix: usize, into: usize) {
    graph.nodes[into].output = graph.nodes[ix].output;
    graph.nodes.remove(ix);
}

fn replace_uses(graph: &mut Graph, from: TensorId, to: TensorId) {
    for node in &mut graph.nodes {
        for i in &mut node.inputs {
            if *i == from {
                *i = to;
            }
        }
    }
    if graph.output == from {
        graph.output = to;
    }
}

/// Pad(0) -> Conv becomes a Conv with larger pads.
fn fold_pad_into_conv(graph: &mut Graph, ix: usize) -> bool {
    let Some(p) = sole_producer(graph, ix, 0) else {
        return false;
    };
    let (Op::Pad { pads, value }, Op::Conv(_)) = (&graph.nodes[p].op, &graph.nodes[ix].op) else {
        return false;
    };
    if *value != 0.0 {
        return false;
    }
    let pads = *pads;
    let pad_input = graph.nodes[p].inputs[0];
    if let Op::Conv(c) = &mut graph.nodes[ix].op {
        for (a, b) in c.window.pads.iter_mut().zip(pads) {
            *a += b;
        }
    }
    graph.nodes[ix].inputs[0] = pad_input;
    graph.nodes.remove(p);
    true
}

/// Conv/Dense/Affine -> Affine becomes one op: the affine's scale goes into the weights (or the earlier scale)
/// and its shift into the bias.
fn fold_affine_into_producer(graph: &mut Graph, ix: usize) -> bool {
    let Op::Affine(affine) = &graph.nodes[ix].op else {
        return false;
    };
    let Some(p) = sole_producer(graph, ix, 0) else {
        return false;
    };
    let rank = graph.tensor(graph.nodes[ix].output).shape.len();
    let Affine { scale, shift, axis, act } = affine.clone();
    if !may_merge(graph, p, ix) {
        return false;
    }
    let per = |v: &[f32], c: usize| if v.len() == 1 { v[0] } else { v[c] };
    match &mut graph.nodes[p].op {
        Op::Conv(conv) if conv.act.is_none() && (scale.len() == 1 || axis == 1) => {
            let k = conv.k();
            for c in 0..conv.c_out {
                conv.weight[c * k..(c + 1) * k].iter_mut().for_each(|w| *w *= per(&scale, c));
                conv.bias[c] = conv.bias[c] * per(&scale, c) + per(&shift, c);
            }
            conv.act = act;
        }
        Op::Dense(dense) if dense.act.is_none() && (scale.len() == 1 || axis + 1 == rank) => {
            let k = dense.k;
            for o in 0..dense.n_out {
                dense.weight[o * k..(o + 1) * k].iter_mut().for_each(|w| *w *= per(&scale, o));
                dense.bias[o] = dense.bias[o] * per(&scale, o) + per(&shift, o);
            }
            dense.act = act;
        }
        Op::Affine(first)
            if first.act.is_none() && (first.axis == axis || first.scale.len() == 1 || scale.len() == 1) =>
        {
            let n = first.scale.len().max(scale.len());
            let new_axis = if first.scale.len() > 1 { first.axis } else { axis };
            let s: Vec<f32> = (0..n).map(|c| per(&first.scale, c) * per(&scale, c)).collect();
            let t: Vec<f32> = (0..n).map(|c| per(&first.shift, c) * per(&scale, c) + per(&shift, c)).collect();
            *first = Affine { scale: s, shift: t, axis: new_axis, act };
        }
        _ => return false,
    }
    absorb(graph, ix, p);
    true
}

/// X -> Relu/Clip becomes X with a fused clamp, for every op that has one.
fn fuse_clamp_into_producer(graph: &mut Graph, ix: usize) -> bool {
    let Op::Unary(UnaryFn::Clamp(clamp)) = graph.nodes[ix].op else {
        return false;
    };
    let Some(p) = sole_producer(graph, ix, 0).filter(|&p| may_merge(graph, p, ix)) else {
        return false;
    };
    let Some(act) = graph.nodes[p].op.act_mut() else {
        return false;
    };
    *act = act.then(clamp);
    absorb(graph, ix, p);
    true
}

fn is_scalar_affine(op: &Op, scale: f32, shift: f32, act: Clamp) -> bool {
    let close = |a: f32, b: f32| (a - b).abs() <= 1e-6 * b.abs().max(1.0);
    matches!(op, Op::Affine(a) if a.scale.len() == 1 && close(a.scale[0], scale) && close(a.shift[0], shift) && a.act == act)
}

/// x * clip(x + 3, 0, 6) / 6 and x * hard_sigmoid(x) (alpha 1/6, beta 1/2), as exporters spell hard-swish,
/// become one HardSwish: one table in integer form instead of three ops.
fn fuse_hard_swish(graph: &mut Graph, ix: usize) -> bool {
    if graph.given.as_ref().is_some_and(|g| g.keep) {
        return false; // a QDQ model rounds between the three ops: each keeps its own table
    }
    let sixth = 1.0 / 6.0;
    let (div, mul) = match &graph.nodes[ix].op {
        Op::Affine(_) if is_scalar_affine(&graph.nodes[ix].op, sixth, 0.0, Clamp::NONE) => {
            let Some(m) = sole_producer(graph, ix, 0) else {
                return false;
            };
            (Some(ix), m)
        }
        Op::Mul { act } if act.is_none() => (None, ix),
        _ => return false,
    };
    if !matches!(graph.nodes[mul].op, Op::Mul { act } if act.is_none()) {
        return false;
    }
    let relu6 = Clamp { min: 0.0, max: 6.0 };
    for (x_in, gate_in) in [(0, 1), (1, 0)] {
        let x = graph.nodes[mul].inputs[x_in];
        let Some(g) = sole_producer(graph, mul, gate_in) else {
            continue;
        };
        let gate = &graph.nodes[g];
        let matches = gate.inputs == [x]
            && match (&gate.op, div) {
                (Op::Affine(_), Some(_)) => is_scalar_affine(&gate.op, 1.0, 3.0, relu6),
                (Op::Unary(UnaryFn::HardSigmoid { alpha, beta }), None) => {
                    (alpha - sixth).abs() < 1e-6 && (beta - 0.5).abs() < 1e-6
                }
                _ => false,
            };
        if !matches {
            continue;
        }
        let last = div.unwrap_or(mul);
        graph.nodes[last].op = Op::Unary(UnaryFn::HardSwish);
        graph.nodes[last].inputs = vec![x];
        // The gate (and the multiply, when a divide follows) are now dead.
        remove_dead_nodes(graph);
        return true;
    }
    false
}

/// A reshape to the same shape disappears; a reshape of a reshape reads the first one's input.
fn drop_reshape(graph: &mut Graph, ix: usize) -> bool {
    if graph.nodes[ix].op != Op::Reshape {
        return false;
    }
    let (input, output) = (graph.nodes[ix].inputs[0], graph.nodes[ix].output);
    if let Some(p) = producer(graph, input) {
        if graph.nodes[p].op == Op::Reshape {
            graph.nodes[ix].inputs[0] = graph.nodes[p].inputs[0];
            return true;
        }
    }
    if graph.tensor(input).shape != graph.tensor(output).shape {
        return false;
    }
    if graph.output == output && input == graph.input {
        return false; // the graph needs at least its output tensor distinct from its input
    }
    match producer(graph, input).filter(|_| graph.use_count(input) == 1) {
        Some(p) => absorb(graph, ix, p),
        None => {
            graph.nodes.remove(ix);
            replace_uses(graph, output, input);
        }
    }
    true
}

fn remove_dead_nodes(graph: &mut Graph) -> bool {
    let before = graph.nodes.len();
    loop {
        let dead = (0..graph.nodes.len()).rev().find(|&i| graph.use_count(graph.nodes[i].output) == 0);
        match dead {
            Some(i) => {
                graph.nodes.remove(i);
            }
            None => break,
        }
    }
    graph.nodes.len() != before
}

/// Drops tensors nothing refers to any more and renumbers the rest, keeping their order.
fn compact_tensors(graph: &mut Graph) {
    let mut used = vec![false; graph.tensors.len()];
    used[graph.input] = true;
    used[graph.output] = true;
    for n in &graph.nodes {
        used[n.output] = true;
        n.inputs.iter().for_each(|&i| used[i] = true);
    }
    let mut new_id = vec![usize::MAX; graph.tensors.len()];
    let mut tensors = Vec::new();
    for (id, t) in graph.tensors.iter().enumerate() {
        if used[id] {
            new_id[id] = tensors.len();
            tensors.push(t.clone());
        }
    }
    graph.tensors = tensors;
    graph.input = new_id[graph.input];
    graph.output = new_id[graph.output];
    for n in &mut graph.nodes {
        n.output = new_id[n.output];
        n.inputs.iter_mut().for_each(|i| *i = new_id[*i]);
    }
}
