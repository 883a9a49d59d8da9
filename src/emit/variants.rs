//! Which kernel variant the generated C runs on a target, as data. The generated C holds every variant of the
//! families the model runs, each under the preprocessor test of its ISA extension, so one output directory builds
//! for every target and the target's compiler flags choose. This table is the one place that pairs a target file's
//! ISA `features` with those tests and says which kernel families have a variant file for an ISA
//! (templates/c/kernels/FEATURE/FAMILY.c); the portable files implement every family.

use serde::Serialize;

use crate::target::Target;

/// An ISA extension the kernels have code for.
#[derive(Debug, Serialize)]
pub struct Isa {
    /// As in a target file's `features`.
    pub feature: &'static str,
    /// The C preprocessor test that holds when the compiler generates code for it (Arm ACLE's macros).
    pub guard: &'static str,
}

pub const ISAS: [Isa; 2] = [
    Isa { feature: "mve", guard: "defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)" },
    Isa { feature: "dsp", guard: "defined(__ARM_FEATURE_DSP)" },
];

/// A kernel family and the ISAs it has a variant for, best first.
#[derive(Debug, Serialize)]
pub struct Rule {
    pub kernel: &'static str,
    pub variants: &'static [&'static str],
}

/// `conv_columns`: one-group convolutions at 8, 4 and 2 bits with their columns and requantization;
/// `depthwise3x3`: depthwise 3x3 convolutions; `depthwise`: the other depthwise convolutions; `dense`: fully
/// connected layers; `add`: the elementwise add of equal shapes; `mul`: the elementwise multiply; `pool`: the window
/// sums of average and global average pooling. The names are the families' files. Helium cores run the DSP variant
/// of the families without a Helium one.
pub const RULES: [Rule; 7] = [
    Rule { kernel: "conv_columns", variants: &["mve", "dsp"] },
    Rule { kernel: "depthwise3x3", variants: &["mve", "dsp"] },
    Rule { kernel: "depthwise", variants: &["dsp"] },
    Rule { kernel: "dense", variants: &["mve", "dsp"] },
    Rule { kernel: "add", variants: &["mve", "dsp"] },
    Rule { kernel: "mul", variants: &["dsp"] },
    Rule { kernel: "pool", variants: &["mve"] },
];

/// The variant of `kernel` that `target` runs: the first the rule lists whose feature the target has, else
/// "portable".
pub fn variant(target: &Target, kernel: &str) -> &'static str {
    RULES
        .iter()
        .find(|r| r.kernel == kernel)
        .and_then(|r| r.variants.iter().find(|v| target.features.iter().any(|f| f == *v)))
        .copied()
        .unwrap_or("portable")
}

/// "kernel: variant" for every family, as `ompqc targets` shows it.
pub fn summary(target: &Target) -> String {
    RULES.iter().map(|r| format!("{} {}", r.kernel, variant(target, r.kernel))).collect::<Vec<_>>().join(", ")
}

/// A C file whose preprocessed text names the variant of each family, in RULES order, as the generated kernels
/// choose it (the test that the target files' features match their compilers).
pub fn probe_source() -> String {
    let mut c = String::new();
    for isa in &ISAS {
        c += &format!("#if {}\n#define ISA_{} 1\n#endif\n", isa.guard, isa.feature.to_uppercase());
    }
    for rule in &RULES {
        for (i, v) in rule.variants.iter().enumerate() {
            c += &format!(
                "#{} defined(ISA_{})\n{} {v}\n",
                if i == 0 { "if" } else { "elif" },
                v.to_uppercase(),
                rule.kernel
            );
        }
        c += &format!("#else\n{} portable\n#endif\n", rule.kernel);
    }
    c
}
