//! ompqc: an embedded-deployment compiler from ONNX to integer C and Rust, with per-layer weight widths chosen
//! for the target device. The modules follow the pipeline: import -> (observe -> search -> quantize -> plan ->
//! emit) -> report; `exec` runs the float IR.

pub mod board;
pub mod build;
pub mod compile;
pub mod data;
pub mod deploy;
pub mod emit;
pub mod error;
pub mod exec;
pub mod import;
pub mod interp;
pub mod ir;
pub mod limits;
pub mod measure;
pub mod observe;
pub mod parallel;
pub mod pipeline;
pub mod plan;
pub mod quantize;
pub mod report;
pub mod run;
pub mod search;
pub mod target;
#[cfg(test)]
mod testing;

pub use error::{Error, ErrorKind, Result};
