//! The C kernels are plain C files (templates/c/kernels, docs/ARCHITECTURE.md): per family a portable reference
//! file and, beside it, one file per ISA variant (`dsp/`, `mve/`) defining the same symbols; each compiles alone.
//! A model's `NAME_kernels.c` is their amalgamation: the namespace and the instance lists (the widths and kernels
//! the model runs) defined first, then the shared header, each ISA's header under its preprocessor test, and for
//! each family the model uses its variants chained by those tests (emit::variants), best first, the portable file
//! last. Includes of the kernel files are inlined where they stand (the headers' include guards make repeats
//! harmless), except the shared and ISA headers, which come once at the top.

use std::collections::BTreeSet;

use super::variants::{ISAS, RULES};

macro_rules! include_sources {
    ($($path:literal),* $(,)?) => {
        [$(($path, include_str!(concat!("../../templates/c/kernels/", $path)))),*]
    };
}

/// Every kernel source: (path under templates/c/kernels, text).
pub const SOURCES: &[(&str, &str)] = &include_sources!(
    "ompqc.h",
    "ompqc_params.h",
    "short_requant.h",
    "bytes.h",
    "columns.h",
    "conv_pair.h",
    "scalar_dot.h",
    "dot_block.h",
    "conv_columns.h",
    "conv_columns.c",
    "dsp/dsp.h",
    "dsp/widen.h",
    "dsp/conv_columns.c",
    "mve/mve.h",
    "mve/conv_columns.c",
    "plane.h",
    "depthwise3x3.h",
    "depthwise3x3.c",
    "dsp/depthwise3x3.c",
    "mve/depthwise3x3.c",
    "depthwise.h",
    "depthwise.c",
    "dsp/depthwise.c",
    "conv_grouped.c",
    "dense_dot.h",
    "dense.h",
    "dense.c",
    "dsp/dense.c",
    "mve/dense.c",
    "binary.h",
    "add.h",
    "add.c",
    "dsp/add.c",
    "mve/add.c",
    "mul.h",
    "mul.c",
    "dsp/mul.c",
    "table.c",
    "max_pool.c",
    "pool.h",
    "pool.c",
    "mve/pool.c",
    "pad.c",
    "concat.c",
    "transpose.c",
    "softmax.c",
    "log_softmax.c",
    "resize.c",
    "slice.c",
    "normalize.c",
    "reduce.c",
    "window.c",
);

/// The parameter blocks' header, which a model's amalgamation replaces by its own `NAME_kernels.h`.
pub const PARAMS_HEADER: &str = "ompqc_params.h";

/// The text of kernel source `path`.
pub fn source(path: &str) -> &'static str {
    SOURCES.iter().find(|(p, _)| *p == path).map(|(_, text)| *text).unwrap_or_else(|| panic!("no kernel source {path}"))
}

/// A kernel family the model runs: its file (without `.c`) and the instances it exports: the weight widths of a
/// convolution or dense family, the kernel names of a family of several (add, pool), none for one kernel.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Family {
    pub file: &'static str,
    pub instances: Instances,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Instances {
    One,
    Widths(BTreeSet<u8>),
    Kernels(Vec<&'static str>),
}

impl Family {
    /// The `#define` of the family's instance list, if it has one.
    fn instance_list(&self) -> Option<String> {
        let list = |kind: &str, items: Vec<String>| {
            let items: Vec<String> = items.iter().map(|i| format!("X({i})")).collect();
            format!("#define OMPQC_{}_{kind}(X) {}\n", self.file.to_uppercase(), items.join(" "))
        };
        match &self.instances {
            Instances::One => None,
            Instances::Widths(w) => Some(list("WIDTHS", w.iter().map(|b| b.to_string()).collect())),
            Instances::Kernels(k) => Some(list("KERNELS", k.iter().map(|k| k.to_string()).collect())),
        }
    }
}

/// The directory part of `path` ("" at the top).
fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// `target` of an `#include "target"` in the file at `from`, as a path under the kernels folder.
fn resolve(from: &str, target: &str) -> String {
    let mut parts: Vec<&str> = dir_of(from).split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
        match part {
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// The headers that come once at the top of an amalgamation.
fn hoisted(path: &str) -> bool {
    path == "ompqc.h" || path == PARAMS_HEADER || ISAS.iter().any(|isa| path == isa_header(isa.feature))
}

fn isa_header(feature: &str) -> String {
    format!("{feature}/{feature}.h")
}

/// Appends kernel source `path` to `out`, its includes of other kernel sources inlined (hoisted headers dropped,
/// the parameter header replaced by `params`).
fn inline(path: &str, params: &str, out: &mut String) {
    *out += &format!("/* ---- {path} ---- */\n");
    for line in source(path).lines() {
        let included = line.strip_prefix("#include \"").and_then(|rest| rest.strip_suffix('"'));
        match included.map(|target| resolve(path, target)) {
            Some(target) if target == PARAMS_HEADER => *out += &format!("#include \"{params}\"\n"),
            Some(target) if hoisted(&target) => {}
            Some(target) => inline(&target, params, out),
            None => {
                *out += line;
                out.push('\n');
            }
        }
    }
}

/// The amalgamated kernels of model `name` (external names prefixed `name_`) for the families it runs, after the
/// `preamble` comment. The parameter blocks come from `params_header` (the model's kernels header).
pub fn amalgamate(name: &str, preamble: &str, params_header: &str, families: &[Family]) -> String {
    let mut out = format!("{preamble}#define OMPQC_NS(name) {name}_##name\n");
    for family in families {
        out += &family.instance_list().unwrap_or_default();
    }
    out.push('\n');
    inline("ompqc.h", params_header, &mut out);
    let rule = |file: &str| RULES.iter().find(|r| r.kernel == file).map_or(&[][..], |r| r.variants);
    let used_isas: BTreeSet<&str> = families.iter().flat_map(|f| rule(f.file).iter().copied()).collect();
    for isa in ISAS.iter().filter(|isa| used_isas.contains(isa.feature)) {
        out += &format!("\n#if {}\n", isa.guard);
        inline(&isa_header(isa.feature), params_header, &mut out);
        out += "#endif\n";
    }
    for family in families {
        out.push('\n');
        let variants = rule(family.file);
        for (i, feature) in variants.iter().enumerate() {
            let guard = ISAS.iter().find(|isa| isa.feature == *feature).expect("a rule names a known ISA").guard;
            out += &format!("#{} {guard}\n", if i == 0 { "if" } else { "elif" });
            inline(&format!("{feature}/{}.c", family.file), params_header, &mut out);
        }
        if !variants.is_empty() {
            out += "#else\n";
        }
        inline(&format!("{}.c", family.file), params_header, &mut out);
        if !variants.is_empty() {
            out += "#endif\n";
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checked_in_parameter_header_is_the_one_the_blocks_declare() {
        let expected = super::super::params::kernel_params_header();
        if source(PARAMS_HEADER) != expected {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/templates/c/kernels/ompqc_params.h");
            if std::env::var_os("OMPQC_BLESS").is_some() {
                std::fs::write(path, &expected).unwrap();
            }
            panic!("{path} differs from emit::params (OMPQC_BLESS=1 cargo test rewrites it)");
        }
    }

    #[test]
    fn every_file_in_the_kernels_folder_is_a_source_and_every_include_resolves() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/c/kernels");
        let mut on_disk = vec![];
        for dir in ["", "dsp", "mve"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() {
                    on_disk.push(path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/"));
                }
            }
        }
        on_disk.sort();
        let mut listed: Vec<String> = SOURCES.iter().map(|(p, _)| p.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed);
        for (path, text) in SOURCES {
            for target in text.lines().filter_map(|l| l.strip_prefix("#include \"")?.strip_suffix('"')) {
                let resolved = resolve(path, target);
                assert!(SOURCES.iter().any(|(p, _)| *p == resolved), "{path} includes {target}: no such source");
            }
        }
    }

    #[test]
    fn an_amalgamation_holds_the_families_it_is_given_with_their_variants_chained() {
        let families = [
            Family { file: "conv_columns", instances: Instances::Widths([4, 8].into()) },
            Family { file: "table", instances: Instances::One },
        ];
        let text = amalgamate("m", "", "m_kernels.h", &families);
        assert!(text.contains("#define OMPQC_NS(name) m_##name\n#define OMPQC_CONV_COLUMNS_WIDTHS(X) X(4) X(8)\n"));
        assert!(text.contains("#include \"m_kernels.h\"") && !text.contains("ompqc_params.h\""));
        let mut at = text.find("---- mve/conv_columns.c").expect("the Helium variant");
        for next in ["#elif", "---- dsp/conv_columns.c", "#else", "---- conv_columns.c", "#endif"] {
            at += text[at..].find(next).unwrap_or_else(|| panic!("{next} missing after the Helium variant"));
        }
        assert!(text.contains("---- table.c") && !text.contains("---- dense.c") && !text.contains("---- add.h"));
        assert_eq!(text.matches("---- ompqc.h").count(), 1);
    }
}
