//! The operations of the float IR. Each carries its constants in a fixed, documented order.

/// A clamp fused into the op that produces a tensor: ReLU is [0, inf), ReLU6 [0, 6], no activation (-inf, inf).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Clamp {
    pub min: f32,
    pub max: f32,
}

impl Clamp {
    pub const NONE: Clamp = Clamp { min: f32::NEG_INFINITY, max: f32::INFINITY };
    pub const RELU: Clamp = Clamp { min: 0.0, max: f32::INFINITY };

    pub fn is_none(&self) -> bool {
        *self == Clamp::NONE
    }

    /// The clamp equal to applying `self`, then `then`.
    pub fn then(self, then: Clamp) -> Clamp {
        Clamp { min: self.min.max(then.min).min(then.max), max: self.max.min(then.max).max(then.min) }
    }

    #[inline]
    pub fn apply(&self, x: f32) -> f32 {
        x.max(self.min).min(self.max)
    }

    pub fn describe(&self) -> Option<String> {
        match (self.min, self.max) {
            (a, b) if a == f32::NEG_INFINITY && b == f32::INFINITY => None,
            (a, b) if a == 0.0 && b == f32::INFINITY => Some("relu".into()),
            (a, b) if a == 0.0 && b == 6.0 => Some("relu6".into()),
            (a, b) => Some(format!("clip({a}, {b})")),
        }
    }
}

/// A 2-D sliding window of a convolution or pooling (1-D ops use a window of height 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Window {
    /// [height, width].
    pub kernel: [usize; 2],
    pub strides: [usize; 2],
    pub dilations: [usize; 2],
    /// [top, left, bottom, right].
    pub pads: [usize; 4],
}

impl Window {
    /// A 1x1 window: stride 1, no padding.
    pub const POINT: Window = Window { kernel: [1, 1], strides: [1, 1], dilations: [1, 1], pads: [0; 4] };

    /// The input positions (y, x) of output (oy, ox)'s window that lie inside an h x w input.
    pub fn taps(&self, oy: usize, ox: usize, h: usize, w: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let at = move |o: usize, k: usize, a: usize, len: usize| {
            let i = (o * self.strides[a] + k * self.dilations[a]) as isize - self.pads[a] as isize;
            (0..len as isize).contains(&i).then_some(i as usize)
        };
        (0..self.kernel[0])
            .filter_map(move |ky| at(oy, ky, 0, h))
            .flat_map(move |iy| (0..self.kernel[1]).filter_map(move |kx| at(ox, kx, 1, w)).map(move |ix| (iy, ix)))
    }

    /// Window positions inside the padded input (ONNX's count_include_pad divisor; a ceil-mode window hanging
    /// past the padding counts only what is inside it).
    pub fn padded_count(&self, oy: usize, ox: usize, h: usize, w: usize) -> usize {
        let span = |o: usize, a: usize, len: usize| {
            let start = o * self.strides[a];
            (start + self.kernel[a]).min(len + self.pads[a] + self.pads[a + 2]).saturating_sub(start)
        };
        span(oy, 0, h) * span(ox, 1, w)
    }
}

/// Convolution, 1-D (kernel height 1 on a [1, C, L] tensor) or 2-D, with any group count.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv {
    /// [c_out][c_in / groups][kernel_h][kernel_w], as ONNX stores it.
    pub weight: Vec<f32>,
    /// [c_out]; zeros when the source had none.
    pub bias: Vec<f32>,
    pub c_in: usize,
    pub c_out: usize,
    pub groups: usize,
    pub window: Window,
    pub act: Clamp,
}

impl Conv {
    pub fn is_depthwise(&self) -> bool {
        self.groups > 1 && self.groups == self.c_in && self.c_out == self.c_in
    }

    /// Weights feeding one output channel: kernel_h * kernel_w * c_in / groups.
    pub fn k(&self) -> usize {
        self.weight.len() / self.c_out
    }
}

/// A fully connected layer over the last axis: y = x W^T + b (Gemm, or MatMul by a constant).
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    /// [n_out][k]: one row per output feature.
    pub weight: Vec<f32>,
    /// [n_out]; zeros when the source had none.
    pub bias: Vec<f32>,
    pub k: usize,
    pub n_out: usize,
    pub act: Clamp,
}

/// y = x * scale[c] + shift[c] along `axis` (or with one scale and shift for the whole tensor), then `act`.
/// BatchNormalization with nothing to fold into, and Add/Sub/Mul/Div by constants, end up here.
#[derive(Clone, Debug, PartialEq)]
pub struct Affine {
    pub scale: Vec<f32>,
    pub shift: Vec<f32>,
    pub axis: usize,
    pub act: Clamp,
}

/// Elementwise nonlinearities that are not clamps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UnaryFn {
    Clamp(Clamp),
    LeakyRelu {
        alpha: f32,
    },
    Sigmoid,
    Tanh,
    HardSigmoid {
        alpha: f32,
        beta: f32,
    },
    HardSwish,
    /// x for x > 0, alpha (e^x - 1) below.
    Elu {
        alpha: f32,
    },
    /// gamma Elu(alpha).
    Selu {
        alpha: f32,
        gamma: f32,
    },
    /// max(0, x) + min(0, alpha (e^(x / alpha) - 1)).
    Celu {
        alpha: f32,
    },
    /// ln(1 + e^x).
    Softplus,
    /// x / (1 + |x|).
    Softsign,
    /// x Phi(x), with Phi the normal distribution's (erf), or its tanh approximation.
    Gelu {
        tanh: bool,
    },
    /// x tanh(softplus(x)).
    Mish,
    /// x for x > alpha, else 0.
    ThresholdedRelu {
        alpha: f32,
    },
    /// x sigmoid(alpha x) (SiLU for alpha = 1).
    Swish {
        alpha: f32,
    },
    /// x - bias above lambd, x + bias below -lambd, 0 between.
    Shrink {
        lambd: f32,
        bias: f32,
    },
    /// x to a constant power (Pow with a scalar exponent).
    Pow {
        exponent: f32,
    },
    /// One of ONNX's elementwise math operators.
    Math(MathFn),
}

/// ONNX's elementwise math operators of one input, each its own op type: in integer form every one is a table,
/// so they differ only in the function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathFn {
    Neg,
    Abs,
    /// The error function (GELU as PyTorch exports it before opset 20: x / sqrt(2), Erf, + 1, * x, * 0.5).
    Erf,
    Exp,
    Log,
    Sqrt,
    Reciprocal,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Asinh,
    Acosh,
    Atanh,
    Ceil,
    Floor,
    /// To the nearest integer, halves to even.
    Round,
    Sign,
}

impl MathFn {
    const ALL: [MathFn; 22] = [
        MathFn::Neg,
        MathFn::Abs,
        MathFn::Erf,
        MathFn::Exp,
        MathFn::Log,
        MathFn::Sqrt,
        MathFn::Reciprocal,
        MathFn::Sin,
        MathFn::Cos,
        MathFn::Tan,
        MathFn::Asin,
        MathFn::Acos,
        MathFn::Atan,
        MathFn::Sinh,
        MathFn::Cosh,
        MathFn::Asinh,
        MathFn::Acosh,
        MathFn::Atanh,
        MathFn::Ceil,
        MathFn::Floor,
        MathFn::Round,
        MathFn::Sign,
    ];

    /// The function of an ONNX op type, if it is one of these.
    pub fn from_onnx(op_type: &str) -> Option<MathFn> {
        MathFn::ALL.into_iter().find(|f| f.onnx_name() == op_type)
    }

    pub fn onnx_name(self) -> &'static str {
        match self {
            MathFn::Neg => "Neg",
            MathFn::Abs => "Abs",
            MathFn::Erf => "Erf",
            MathFn::Exp => "Exp",
            MathFn::Log => "Log",
            MathFn::Sqrt => "Sqrt",
            MathFn::Reciprocal => "Reciprocal",
            MathFn::Sin => "Sin",
            MathFn::Cos => "Cos",
            MathFn::Tan => "Tan",
            MathFn::Asin => "Asin",
            MathFn::Acos => "Acos",
            MathFn::Atan => "Atan",
            MathFn::Sinh => "Sinh",
            MathFn::Cosh => "Cosh",
            MathFn::Asinh => "Asinh",
            MathFn::Acosh => "Acosh",
            MathFn::Atanh => "Atanh",
            MathFn::Ceil => "Ceil",
            MathFn::Floor => "Floor",
            MathFn::Round => "Round",
            MathFn::Sign => "Sign",
        }
    }

    /// In f64, so that f32 results are correctly rounded near the tables' edges; outside the domain NaN (and the
    /// integer model's table gives 0 there).
    pub fn apply(self, x: f64) -> f64 {
        match self {
            MathFn::Neg => -x,
            MathFn::Abs => x.abs(),
            MathFn::Erf => libm::erf(x),
            MathFn::Exp => x.exp(),
            MathFn::Log => x.ln(),
            MathFn::Sqrt => x.sqrt(),
            MathFn::Reciprocal => 1.0 / x,
            MathFn::Sin => x.sin(),
            MathFn::Cos => x.cos(),
            MathFn::Tan => x.tan(),
            MathFn::Asin => x.asin(),
            MathFn::Acos => x.acos(),
            MathFn::Atan => x.atan(),
            MathFn::Sinh => x.sinh(),
            MathFn::Cosh => x.cosh(),
            MathFn::Asinh => x.asinh(),
            MathFn::Acosh => x.acosh(),
            MathFn::Atanh => x.atanh(),
            MathFn::Ceil => x.ceil(),
            MathFn::Floor => x.floor(),
            MathFn::Round => x.round_ties_even(),
            // ONNX's Sign of 0 is 0 (f64::signum gives 1).
            MathFn::Sign => {
                if x == 0.0 {
                    0.0
                } else {
                    x.signum()
                }
            }
        }
    }
}

/// x for x > 0, alpha (e^x - 1) below.
fn elu(x: f64, alpha: f64) -> f64 {
    if x > 0.0 {
        x
    } else {
        alpha * x.exp_m1()
    }
}

/// ln(1 + e^x) without overflow.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

impl UnaryFn {
    #[inline]
    pub fn apply(&self, x: f32) -> f32 {
        match *self {
            UnaryFn::Clamp(c) => c.apply(x),
            UnaryFn::LeakyRelu { alpha } => {
                if x < 0.0 {
                    alpha * x
                } else {
                    x
                }
            }
            UnaryFn::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            UnaryFn::Tanh => x.tanh(),
            UnaryFn::HardSigmoid { alpha, beta } => (alpha * x + beta).clamp(0.0, 1.0),
            UnaryFn::HardSwish => x * (x / 6.0 + 0.5).clamp(0.0, 1.0),
            // The rest in f64: their exponentials and erf lose bits in f32 near the table's edges.
            UnaryFn::Elu { alpha } => elu(x as f64, alpha as f64) as f32,
            UnaryFn::Selu { alpha, gamma } => (gamma as f64 * elu(x as f64, alpha as f64)) as f32,
            UnaryFn::Celu { alpha } => {
                let (x, alpha) = (x as f64, alpha as f64);
                (x.max(0.0) + (alpha * ((x / alpha).exp() - 1.0)).min(0.0)) as f32
            }
            UnaryFn::Softplus => softplus(x as f64) as f32,
            UnaryFn::Softsign => x / (1.0 + x.abs()),
            UnaryFn::Gelu { tanh: false } => {
                let x = x as f64;
                (0.5 * x * (1.0 + libm::erf(x / std::f64::consts::SQRT_2))) as f32
            }
            UnaryFn::Gelu { tanh: true } => {
                let x = x as f64;
                let inner = (2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x * x * x);
                (0.5 * x * (1.0 + inner.tanh())) as f32
            }
            UnaryFn::Mish => (x as f64 * softplus(x as f64).tanh()) as f32,
            UnaryFn::ThresholdedRelu { alpha } => {
                if x > alpha {
                    x
                } else {
                    0.0
                }
            }
            UnaryFn::Swish { alpha } => {
                let x = x as f64;
                (x / (1.0 + (-(alpha as f64) * x).exp())) as f32
            }
            UnaryFn::Shrink { lambd, bias } => {
                if x > lambd {
                    x - bias
                } else if x < -lambd {
                    x + bias
                } else {
                    0.0
                }
            }
            UnaryFn::Pow { exponent } => (x as f64).powf(exponent as f64) as f32,
            UnaryFn::Math(f) => f.apply(x as f64) as f32,
        }
    }

    pub fn name(&self) -> String {
        match self {
            UnaryFn::Clamp(c) => c.describe().unwrap_or_else(|| "identity".into()),
            UnaryFn::LeakyRelu { alpha } => format!("leaky_relu({alpha})"),
            UnaryFn::Sigmoid => "sigmoid".into(),
            UnaryFn::Tanh => "tanh".into(),
            UnaryFn::HardSigmoid { alpha, beta } => format!("hard_sigmoid({alpha}, {beta})"),
            UnaryFn::HardSwish => "hard_swish".into(),
            UnaryFn::Elu { alpha } => format!("elu({alpha})"),
            UnaryFn::Selu { alpha, gamma } => format!("selu({alpha}, {gamma})"),
            UnaryFn::Celu { alpha } => format!("celu({alpha})"),
            UnaryFn::Softplus => "softplus".into(),
            UnaryFn::Softsign => "softsign".into(),
            UnaryFn::Gelu { tanh: false } => "gelu".into(),
            UnaryFn::Gelu { tanh: true } => "gelu(tanh)".into(),
            UnaryFn::Mish => "mish".into(),
            UnaryFn::ThresholdedRelu { alpha } => format!("thresholded_relu({alpha})"),
            UnaryFn::Swish { alpha } => format!("swish({alpha})"),
            UnaryFn::Shrink { lambd, bias } => format!("shrink({lambd}, {bias})"),
            UnaryFn::Pow { exponent } => format!("pow({exponent})"),
            UnaryFn::Math(f) => f.onnx_name().to_lowercase(),
        }
    }
}

/// Normalization to zero mean and unit variance over the axes from `axis` on, separately for each index of the axes
/// before, then y = x_hat * scale + shift: per channel (InstanceNormalization, `axis` 2) or per element of the
/// normalized axes, in their order (LayerNormalization).
#[derive(Clone, Debug, PartialEq)]
pub struct Normalize {
    pub axis: usize,
    pub epsilon: f32,
    pub scale: Vec<f32>,
    pub shift: Vec<f32>,
    pub per_channel: bool,
}

/// Local response normalization across channels: x / (bias + alpha / size * sum of x^2 over the `size` channels
/// around)^beta.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lrn {
    pub size: usize,
    pub alpha: f32,
    pub beta: f32,
    pub bias: f32,
}

/// What a reduction computes over its axes; each keeps the input's quantization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ReduceKind {
    Mean,
    Max,
    Min,
}

/// Max or average pooling.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pool {
    pub window: Window,
    /// Average pooling only: whether padded positions count in the divisor.
    pub count_include_pad: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Conv(Conv),
    Dense(Dense),
    Affine(Affine),
    /// Elementwise sum of two tensors with numpy broadcasting, then a clamp.
    Add {
        act: Clamp,
    },
    /// Elementwise product of two tensors with numpy broadcasting (squeeze-excite gates), then a clamp.
    Mul {
        act: Clamp,
    },
    Unary(UnaryFn),
    MaxPool(Pool),
    AvgPool(Pool),
    /// Mean over every axis after the channel axis; output [1, C, 1, 1] (or [1, C] for `keep_dims: false`).
    GlobalAvgPool,
    /// Constant padding of the spatial axes: [top, left, bottom, right].
    Pad {
        pads: [usize; 4],
        value: f32,
    },
    Concat {
        axis: usize,
    },
    /// Same elements, new shape (Flatten, Reshape, Squeeze, Unsqueeze, size-1 Transposes).
    Reshape,
    Softmax {
        axis: usize,
    },
    /// The logarithm of the softmax along `axis`, computed as x - max - ln(sum exp(x - max)).
    LogSoftmax {
        axis: usize,
    },
    /// A strided view of the input: Slice, each output of Split, Transpose.
    View(View),
    /// ReduceMean, ReduceMax or ReduceMin over `axes` (sorted); the output shape says whether they are kept.
    Reduce {
        kind: ReduceKind,
        axes: Vec<usize>,
    },
    /// Resampling of the spatial axes (Resize, Upsample) by tap tables.
    Resize(super::resample::Resize),
    Normalize(Normalize),
    /// Float only: TFLite Micro has no integer form either.
    Lrn(Lrn),
}

impl Op {
    /// A short name for tables: the op family, refined where the kernel differs.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Conv(c) if c.is_depthwise() => "DepthwiseConv",
            Op::Conv(c) if c.groups > 1 => "GroupConv",
            Op::Conv(_) => "Conv",
            Op::Dense(_) => "Dense",
            Op::Affine(_) => "Affine",
            Op::Add { .. } => "Add",
            Op::Mul { .. } => "Mul",
            Op::Unary(_) => "Unary",
            Op::MaxPool(_) => "MaxPool",
            Op::AvgPool(_) => "AvgPool",
            Op::GlobalAvgPool => "GlobalAvgPool",
            Op::Pad { .. } => "Pad",
            Op::Concat { .. } => "Concat",
            Op::Reshape => "Reshape",
            Op::Softmax { .. } => "Softmax",
            Op::LogSoftmax { .. } => "LogSoftmax",
            Op::View(v) if v.is_slice() => "Slice",
            Op::View(_) => "Transpose",
            Op::Reduce { .. } => "Reduce",
            Op::Resize(_) => "Resize",
            Op::Normalize(n) if n.per_channel => "InstanceNorm",
            Op::Normalize(_) => "LayerNorm",
            Op::Lrn(_) => "LRN",
        }
    }

    /// Learned parameters (weights and biases, or scales and shifts).
    pub fn params(&self) -> usize {
        match self {
            Op::Conv(c) => c.weight.len() + c.bias.len(),
            Op::Dense(d) => d.weight.len() + d.bias.len(),
            Op::Affine(a) => a.scale.len() + a.shift.len(),
            Op::Normalize(n) => n.scale.len() + n.shift.len(),
            _ => 0,
        }
    }

    /// Whether every learned parameter is a finite number.
    pub fn params_are_finite(&self) -> bool {
        let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
        match self {
            Op::Conv(c) => finite(&c.weight) && finite(&c.bias),
            Op::Dense(d) => finite(&d.weight) && finite(&d.bias),
            Op::Affine(a) => finite(&a.scale) && finite(&a.shift),
            Op::Normalize(n) => finite(&n.scale) && finite(&n.shift) && n.epsilon.is_finite(),
            _ => true,
        }
    }

    /// Whether the op's integer output keeps its input's quantization (it moves or averages values without
    /// rescaling them).
    pub fn keeps_params(&self) -> bool {
        matches!(
            self,
            Op::MaxPool(_)
                | Op::AvgPool(_)
                | Op::GlobalAvgPool
                | Op::Pad { .. }
                | Op::Reshape
                | Op::Resize(_)
                | Op::View(_)
                | Op::Reduce { .. }
        )
    }

    /// Whether the search chooses a weight width for this op.
    pub fn is_searchable(&self) -> bool {
        matches!(self, Op::Conv(_) | Op::Dense(_))
    }

    /// The fused clamp, for ops that have one.
    pub fn act_mut(&mut self) -> Option<&mut Clamp> {
        match self {
            Op::Conv(c) => Some(&mut c.act),
            Op::Dense(d) => Some(&mut d.act),
            Op::Affine(a) => Some(&mut a.act),
            Op::Add { act } | Op::Mul { act } => Some(act),
            _ => None,
        }
    }

    /// A one-line summary of the attributes, for `inspect`.
    pub fn details(&self) -> String {
        let with_act = |s: String, act: &Clamp| match act.describe() {
            Some(a) => format!("{s} +{a}"),
            None => s,
        };
        match self {
            Op::Conv(c) => with_act(
                format!(
                    "k{}x{} s{}x{}{}{} {}->{}",
                    c.window.kernel[0],
                    c.window.kernel[1],
                    c.window.strides[0],
                    c.window.strides[1],
                    if c.window.dilations != [1, 1] {
                        format!(" d{}x{}", c.window.dilations[0], c.window.dilations[1])
                    } else {
                        String::new()
                    },
                    if c.groups > 1 { format!(" g{}", c.groups) } else { String::new() },
                    c.c_in,
                    c.c_out
                ),
                &c.act,
            ),
            Op::Dense(d) => with_act(format!("{}->{}", d.k, d.n_out), &d.act),
            Op::Affine(a) => with_act(format!("per-{}", if a.scale.len() > 1 { "channel" } else { "tensor" }), &a.act),
            Op::Add { act } | Op::Mul { act } => act.describe().map(|a| format!("+{a}")).unwrap_or_default(),
            Op::Unary(f) => f.name(),
            Op::MaxPool(p) | Op::AvgPool(p) => {
                format!(
                    "k{}x{} s{}x{}",
                    p.window.kernel[0], p.window.kernel[1], p.window.strides[0], p.window.strides[1]
                )
            }
            Op::Pad { pads, value } => format!("{pads:?} value {value}"),
            Op::Concat { axis } => format!("axis {axis}"),
            Op::Softmax { axis } | Op::LogSoftmax { axis } => format!("axis {axis}"),
            Op::Resize(r) => format!("{} taps x {} taps", r.y.taps, r.x.taps),
            Op::View(v) if v.is_slice() => format!("from {:?} by {:?}", v.starts, v.steps),
            Op::View(v) => format!("perm {:?}", v.axes),
            Op::Reduce { kind, axes } => format!("{kind:?} over {axes:?}").to_lowercase(),
            Op::Normalize(n) => format!("axes {}.. eps {}", n.axis, n.epsilon),
            Op::Lrn(l) => format!("size {} alpha {} beta {} bias {}", l.size, l.alpha, l.beta, l.bias),
            Op::GlobalAvgPool | Op::Reshape => String::new(),
        }
    }
}

/// A strided view of a tensor: output axis a runs along input axis `axes[a]`, from index `starts[axes[a]]`, by
/// `steps[a]`. A slice keeps the axes in order; a transpose permutes them, from 0 by 1.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct View {
    pub axes: Vec<usize>,
    pub starts: Vec<usize>,
    pub steps: Vec<isize>,
}

impl View {
    pub fn slice(starts: Vec<usize>, steps: Vec<isize>) -> View {
        View { axes: (0..starts.len()).collect(), starts, steps }
    }

    pub fn transpose(perm: Vec<usize>) -> View {
        let rank = perm.len();
        View { axes: perm, starts: vec![0; rank], steps: vec![1; rank] }
    }

    pub fn is_slice(&self) -> bool {
        self.axes.iter().enumerate().all(|(a, &b)| a == b)
    }

    /// The offset of the first element, and the step along each output axis, over an input whose axis c is
    /// `in_strides[c]` elements apart.
    pub fn strides(&self, in_strides: &[usize]) -> (isize, Vec<isize>) {
        let base = self.starts.iter().zip(in_strides).map(|(&s, &t)| (s * t) as isize).sum();
        let strides = self.axes.iter().zip(&self.steps).map(|(&c, &step)| in_strides[c] as isize * step).collect();
        (base, strides)
    }
}

/// Row-major strides of a shape.
pub fn row_major_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; shape.len()];
    for a in (0..shape.len().saturating_sub(1)).rev() {
        strides[a] = strides[a + 1] * shape[a + 1];
    }
    strides
}

/// For each element of a `dims` array (row-major), base + the sum of its indices times `strides`.
pub fn strided_offsets(dims: &[usize], base: isize, strides: &[isize]) -> Vec<usize> {
    let mut offsets = vec![base];
    for (&d, &stride) in dims.iter().zip(strides) {
        offsets = offsets.iter().flat_map(|&o| (0..d as isize).map(move |i| o + i * stride)).collect();
    }
    offsets.into_iter().map(|o| o as usize).collect()
}
