//! The parameter block of every kernel, described once: the schedule fills them, and both the C typedefs and the
//! Rust structs of the generated code are declared from the same field lists, so the languages cannot drift apart.

/// A kernel parameter: a number or a 4-vector (broadcast dimensions and strides).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Int(i32),
    Vec4([i32; 4]),
}

impl From<i32> for Value {
    fn from(v: i32) -> Value {
        Value::Int(v)
    }
}

impl From<[i32; 4]> for Value {
    fn from(v: [i32; 4]) -> Value {
        Value::Vec4(v)
    }
}

/// What a parameter block declares: its name in each language, its fields in order (name and Rust type, `i32` or
/// `[i32; 4]`), and whether it ends with a layer's constant arrays (packed weights, bias, multipliers, shifts).
pub struct Block {
    /// The C typedef is `PREFIX_{c}_t`.
    pub c: &'static str,
    pub rust: &'static str,
    pub doc: &'static str,
    pub fields: &'static [(&'static str, &'static str)],
    pub constants: bool,
}

/// The constant arrays of a layer with weights: (field, C element type, Rust element type).
pub const CONSTANTS: [(&str, &str, &str); 4] =
    [("weights", "uint8_t", "u8"), ("bias", "int32_t", "i32"), ("mult", "int32_t", "i32"), ("shift", "int8_t", "i8")];

impl Block {
    /// The C typedef, for the model prefix `p`.
    pub fn c_typedef(&self, p: &str) -> String {
        self.c_typedef_named(&format!("{p}_{}_t", self.c))
    }

    /// The C typedef named `name`.
    fn c_typedef_named(&self, name: &str) -> String {
        let mut lines: Vec<String> = self
            .fields
            .iter()
            .map(|&(name, ty)| if ty == "i32" { format!("int32_t {name};") } else { format!("int32_t {name}[4];") })
            .collect();
        if self.constants {
            lines.extend(CONSTANTS.iter().map(|(name, c, _)| format!("const {c} *{name};")));
        }
        let body: Vec<String> = lines.iter().map(|l| format!("    {l}")).collect();
        format!("/* {} */\ntypedef struct {{\n{}\n}} {name};\n", self.doc.trim(), body.join("\n"))
    }

    /// The Rust struct.
    pub fn rust_struct(&self) -> String {
        let mut lines: Vec<String> = self.fields.iter().map(|(name, ty)| format!("pub {name}: {ty},")).collect();
        if self.constants {
            lines.extend(CONSTANTS.iter().map(|(name, _, rust)| format!("pub {name}: &'static [{rust}],")));
        }
        let body: Vec<String> = lines.iter().map(|l| format!("    {l}")).collect();
        format!("/// {}\npub struct {} {{\n{}\n}}\n", self.doc.trim(), self.rust, body.join("\n"))
    }
}

/// Kernel parameter blocks: named i32 fields, rendered in declaration order.
macro_rules! params {
    ($(#[doc = $doc:literal])* $name:ident ($c:literal, $rust:literal, $constants:literal) {
        $($field:ident: $ty:ty),* $(,)?
    }) => {
        $(#[doc = $doc])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            $(pub $field: $ty),*
        }

        impl $name {
            pub const BLOCK: Block = Block {
                c: $c,
                rust: $rust,
                doc: concat!($($doc),*),
                fields: &[$((stringify!($field), stringify!($ty))),*],
                constants: $constants,
            };

            pub fn fields(&self) -> Vec<(&'static str, Value)> {
                vec![$((stringify!($field), self.$field.into())),*]
            }
        }
    };
}

params!(
    /// Convolution of any group count; weights one packed row per output channel, ordered [ky][kx][ci]; short_requant
    /// is 1 when the kernels may requantize in the short form, 2 when they may in its form with left shifts
    /// (docs/SEMANTICS.md).
    ConvParams("conv", "Conv", true) {
        in_h: i32, in_w: i32, in_c: i32, out_h: i32, out_w: i32, out_c: i32, groups: i32,
        k_h: i32, k_w: i32, stride_h: i32, stride_w: i32, dil_h: i32, dil_w: i32, pad_t: i32, pad_l: i32,
        in_zp: i32, out_zp: i32, act_min: i32, act_max: i32, row_bytes: i32, short_requant: i32,
    }
);

params!(
    /// Fully connected layer: n_out rows of k packed weights.
    DenseParams("dense", "Dense", true) {
        k: i32, n_out: i32, in_zp: i32, out_zp: i32, act_min: i32, act_max: i32, row_bytes: i32,
    }
);

params!(
    /// Elementwise add or multiply broadcast over 4 storage dimensions (stride 0 = broadcast).
    BinaryParams("binary", "Binary", false) {
        dims: [i32; 4], a_strides: [i32; 4], b_strides: [i32; 4],
        a_zp: i32, b_zp: i32, out_zp: i32, act_min: i32, act_max: i32,
        left_shift: i32, a_mult: i32, a_shift: i32, b_mult: i32, b_shift: i32, out_mult: i32, out_shift: i32,
    }
);

params!(
    /// Max or average pooling over a window (padding is not read; count_include_pad counts it).
    PoolParams("pool", "Pool", false) {
        in_h: i32, in_w: i32, c: i32, out_h: i32, out_w: i32, k_h: i32, k_w: i32, stride_h: i32, stride_w: i32,
        dil_h: i32, dil_w: i32, pad_t: i32, pad_l: i32, pad_b: i32, pad_r: i32, count_include_pad: i32, in_zp: i32,
    }
);

params!(
    /// Average of every pixel of each channel.
    GlobalPoolParams("global_pool", "GlobalPool", false) { pixels: i32, c: i32 }
);

params!(
    /// Constant padding of a channels-last image: the input at (pad_t, pad_l) of an out_h x out_w image of value.
    PadParams("pad", "Pad", false) {
        in_h: i32, in_w: i32, c: i32, out_h: i32, out_w: i32, pad_t: i32, pad_l: i32, value: i32,
    }
);

params!(
    /// One input of a concatenation: `outer` blocks of `block` bytes written at `offset` of every `out_block`,
    /// requantized when `requant` is 1.
    ConcatParams("concat", "Concat", false) {
        offset: i32, outer: i32, block: i32, out_block: i32, requant: i32, mult: i32, shift: i32, in_zp: i32,
        out_zp: i32,
    }
);

params!(
    /// A rows x cols matrix written transposed.
    TransposeParams("transpose", "Transpose", false) { rows: i32, cols: i32 }
);

params!(
    /// Softmax over `len` elements `inner` apart, `outer` times.
    SoftmaxParams("softmax", "Softmax", false) { outer: i32, len: i32, inner: i32 }
);

params!(
    /// Log-softmax over `len` elements `inner` apart, `outer` times: `step` (16 s_in 2^16) per input step below the
    /// maximum, `ln2` (16 * 2^16 ln 2) per power of two of the sum of exponentials.
    LogSoftmaxParams("log_softmax", "LogSoftmax", false) { outer: i32, len: i32, inner: i32, step: i32, ln2: i32 }
);

params!(
    /// Resampling of an in_h x in_w x c tensor to out_h x out_w through `taps_y` and `taps_x` taps per output row
    /// and column (position and Q10 weight pairs), around zero point `zp`.
    ResizeParams("resize", "Resize", false) {
        in_h: i32, in_w: i32, c: i32, out_h: i32, out_w: i32, taps_y: i32, taps_x: i32, zp: i32,
    }
);

params!(
    /// A strided window of a tensor: output element (i0, i1, i2, i3) of `dims` (row-major) reads the input at
    /// offset + the sum of i_a * strides[a] (strides may be negative).
    SliceParams("slice", "Slice", false) { dims: [i32; 4], offset: i32, strides: [i32; 4] }
);

params!(
    /// Layer or instance normalization of `outer` blocks of `len` elements `inner` apart: gains and offsets per
    /// channel (`per_channel` 1) or per element of the block; epsilon = eps_hi * 2^30 + eps_lo.
    NormalizeParams("normalize", "Normalize", false) {
        outer: i32, len: i32, inner: i32, per_channel: i32, in_zp: i32, out_zp: i32, eps_hi: i32, eps_lo: i32,
    }
);

params!(
    /// A reduction of `outer` blocks of `len` elements `inner` apart to `inner` outputs each: `kind` 0 a mean
    /// (rounded half away from zero), 1 the maximum, 2 the minimum.
    ReduceParams("reduce", "Reduce", false) { outer: i32, len: i32, inner: i32, kind: i32 }
);

params!(
    /// A window of rows copied between a tensor and its tile (patch-based execution): `rows` rows of `row_bytes`,
    /// read from `src_offset` every `src_stride` bytes and written from `dst_offset` every `dst_stride` bytes.
    WindowParams("window", "Window", false) {
        rows: i32, row_bytes: i32, src_offset: i32, src_stride: i32, dst_offset: i32, dst_stride: i32,
    }
);

/// Every block, in the order the generated code declares them.
pub const BLOCKS: [&Block; 15] = [
    &ConvParams::BLOCK,
    &DenseParams::BLOCK,
    &BinaryParams::BLOCK,
    &PoolParams::BLOCK,
    &GlobalPoolParams::BLOCK,
    &PadParams::BLOCK,
    &ConcatParams::BLOCK,
    &TransposeParams::BLOCK,
    &SoftmaxParams::BLOCK,
    &LogSoftmaxParams::BLOCK,
    &ResizeParams::BLOCK,
    &SliceParams::BLOCK,
    &NormalizeParams::BLOCK,
    &ReduceParams::BLOCK,
    &WindowParams::BLOCK,
];

/// The C prototype of a convolution kernel, named `name` (a type name after `typedef`, `(*NAME)` for a pointer).
pub fn c_conv_fn(conv_t: &str, name: &str) -> String {
    format!("void {name}(const {conv_t} *p, const int8_t *in, int8_t *out, uint8_t *scratch)")
}

/// `ompqc_params.h` of the C kernel sources: every block, named through the kernels' namespace macro.
pub fn kernel_params_header() -> String {
    let mut text = String::from(
        "/* Generated from src/emit/params.rs (a unit test checks it; OMPQC_BLESS=1 cargo test rewrites it): the\n   \
         parameter block of every kernel, named through OMPQC_NS. A model's NAME_kernels.h declares the same. */\n\
         #ifndef OMPQC_PARAMS_H\n#define OMPQC_PARAMS_H\n\n#include <stdint.h>\n\n",
    );
    for block in BLOCKS {
        text += &block.c_typedef_named(&format!("OMPQC_NS({}_t)", block.c));
        text += "\n";
    }
    text += "/* A convolution kernel, as the fused add takes it. */\n";
    text += &format!("typedef {};\n\n#endif\n", c_conv_fn("OMPQC_NS(conv_t)", "(*OMPQC_NS(conv_fn))"));
    text
}
