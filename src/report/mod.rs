//! What ompqc prints: tables for people, JSON for programs.

pub mod compile;
pub mod eval;
pub mod inspect;
pub mod plots;
pub mod predict;
pub mod run;
pub mod search;
pub mod targets;
