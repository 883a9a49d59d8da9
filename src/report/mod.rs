//! What ompqc prints: tables for people, JSON for programs.

pub mod charts;
pub mod compile;
pub mod eval;
pub mod html;
pub mod inspect;
pub mod plots;
pub mod predict;
pub mod run;
pub mod search;
mod svg;
pub mod targets;
