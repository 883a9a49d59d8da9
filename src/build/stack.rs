//! The stack a model's entry point needs on a target, from the compiler: each object is compiled with
//! `-fcallgraph-info=su`, which writes beside it a call graph (`.ci`, VCG text) whose nodes carry each function's
//! frame in bytes; the deepest chain from `NAME_run` is the figure. The one indirect call of the generated code (the
//! band kernel `NAME_conv_add` calling the convolution kernel it is given) may reach any convolution kernel of the
//! model. Calls outside the generated code (the C library's memcpy and memset, the compiler runtime's division
//! routines, which the call graph lists too) count `LIBRARY_CALL_BYTES`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::emit::c::{conv_function, CONV_KERNELS};
use crate::error::{Error, Result};

/// The flag that makes GCC write the call graph with frame sizes.
pub const CALLGRAPH_FLAG: &str = "-fcallgraph-info=su";

/// The stack allowed for a C library or compiler runtime routine: the deepest measured is libgcc's 64-bit division
/// on ARMv6-M (`__aeabi_ldivmod`, softmax's), 96 bytes; memcpy and memset save a few registers.
pub const LIBRARY_CALL_BYTES: usize = 128;

/// A function of the call graph: its frame (None when the compiler only saw a call to it) and its callees.
#[derive(Default, Debug)]
struct Function {
    frame: Option<usize>,
    dynamic: bool,
    callees: BTreeSet<String>,
}

/// The call graph files the compiler wrote for `objects` (`x.o` -> `x.ci`).
pub fn callgraph_files(objects: &[PathBuf]) -> Vec<PathBuf> {
    objects.iter().map(|o| o.with_extension("ci")).collect()
}

/// The value of `key: "..."` in a VCG line.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let start = line.find(&format!("{key}: \""))? + key.len() + 3;
    let end = line[start..].find('"')? + start;
    Some(&line[start..end])
}

/// Reads the call graphs into one map by function name (statics keep their file-qualified names).
fn read_graph(files: &[PathBuf]) -> Result<BTreeMap<String, Function>> {
    let mut graph: BTreeMap<String, Function> = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| Error::internal(format!("{}: no call graph from the compiler ({e})", file.display())))?;
        for line in text.lines().map(str::trim) {
            if line.starts_with("node:") {
                let (Some(title), Some(label)) = (field(line, "title"), field(line, "label")) else { continue };
                let f = graph.entry(title.to_string()).or_default();
                // "name\nfile:line:col\nN bytes (static)" for a function defined in this object.
                if let Some(size) = label.rsplit("\\n").next().and_then(|l| l.strip_suffix(')')) {
                    if let Some((bytes, kind)) = size.split_once(" bytes (") {
                        f.frame = bytes.parse().ok();
                        // "static", "dynamic,bounded" (the figure is the bound) or "dynamic" (alloca, a VLA).
                        f.dynamic = kind == "dynamic";
                    }
                }
            } else if line.starts_with("edge:") {
                if let (Some(from), Some(to)) = (field(line, "sourcename"), field(line, "targetname")) {
                    graph.entry(from.to_string()).or_default().callees.insert(to.to_string());
                }
            }
        }
    }
    Ok(graph)
}

/// The deepest stack from `entry` (the model's `name_run`) through the call graph of `files`.
pub fn deepest(files: &[PathBuf], name: &str, entry: &str) -> Result<usize> {
    let graph = read_graph(files)?;
    // The convolution kernels the indirect call may reach: NAME_conv_columns_w8, ...
    let prefixes: Vec<String> = CONV_KERNELS.iter().map(|&k| format!("{name}_{}_w", conv_function(k))).collect();
    let convs: Vec<String> = graph.keys().filter(|f| prefixes.iter().any(|p| f.starts_with(p))).cloned().collect();
    let mut memo: BTreeMap<String, usize> = BTreeMap::new();
    depth(&graph, &convs, entry, &mut vec![], &mut memo)
}

fn depth(
    graph: &BTreeMap<String, Function>,
    convs: &[String],
    f: &str,
    path: &mut Vec<String>,
    memo: &mut BTreeMap<String, usize>,
) -> Result<usize> {
    if let Some(&d) = memo.get(f) {
        return Ok(d);
    }
    if path.iter().any(|p| p == f) {
        return Err(Error::internal(format!("stack: recursion through {f}: no bound")));
    }
    let callees: Vec<String> = match graph.get(f) {
        _ if f == "__indirect_call" => convs.to_vec(),
        Some(Function { frame: Some(_), dynamic: true, .. }) => {
            return Err(Error::internal(format!("stack: {f} has a dynamic frame: no bound")))
        }
        Some(Function { frame: Some(_), callees, .. }) => callees.iter().cloned().collect(),
        // A routine defined outside the generated code: the C library's.
        _ => return Ok(LIBRARY_CALL_BYTES),
    };
    path.push(f.to_string());
    let mut deepest_callee = 0;
    for c in &callees {
        deepest_callee = deepest_callee.max(depth(graph, convs, c, path, memo)?);
    }
    path.pop();
    let frame = graph.get(f).and_then(|g| g.frame).unwrap_or(0);
    memo.insert(f.to_string(), frame + deepest_callee);
    Ok(frame + deepest_callee)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deepest_chain_follows_calls_the_indirect_call_and_library_routines() {
        let dir = std::env::temp_dir().join(format!("ompqc-stack-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let model = r#"graph: { title: "m.c"
node: { title: "m_run" label: "m_run\nm.c:1:1\n40 bytes (static)" }
node: { title: "m_conv_add" label: "m_conv_add\nm_kernels.h:1:1" shape : ellipse }
edge: { sourcename: "m_run" targetname: "m_conv_add" label: "m.c:2:1" }
edge: { sourcename: "m_run" targetname: "m_dense_w8" label: "m.c:3:1" }
}"#;
        let kernels = r#"graph: { title: "m_kernels.c"
node: { title: "m_kernels.c:add_run" label: "add_run\nm_kernels.c:1:1\n24 bytes (static)" }
node: { title: "m_conv_add" label: "m_conv_add\nm_kernels.c:2:1\n160 bytes (static)" }
edge: { sourcename: "m_conv_add" targetname: "__indirect_call" label: "m_kernels.c:3:1" }
edge: { sourcename: "m_conv_add" targetname: "m_kernels.c:add_run" label: "m_kernels.c:4:1" }
node: { title: "m_conv_columns_w8" label: "m_conv_columns_w8\nm_kernels.c:5:1\n144 bytes (static)" }
edge: { sourcename: "m_conv_columns_w8" targetname: "memset" label: "m_kernels.c:6:1" }
node: { title: "m_dense_w8" label: "m_dense_w8\nm_kernels.c:7:1\n48 bytes (static)" }
}"#;
        let files = [dir.join("m.ci"), dir.join("m_kernels.ci")];
        std::fs::write(&files[0], model).unwrap();
        std::fs::write(&files[1], kernels).unwrap();
        // run 40 -> conv_add 160 -> (indirect) conv_columns_w8 144 -> memset.
        assert_eq!(deepest(&files, "m", "m_run").unwrap(), 40 + 160 + 144 + LIBRARY_CALL_BYTES);
        assert_eq!(deepest(&files, "m", "m_dense_w8").unwrap(), 48);
        std::fs::write(&files[1], kernels.replace("24 bytes (static)", "24 bytes (dynamic)")).unwrap();
        assert!(deepest(&files, "m", "m_run").unwrap_err().message.contains("add_run"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
