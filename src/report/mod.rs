//! What ompqc prints: tables for people, JSON for programs.

pub mod compile;
pub mod eval;
pub mod inspect;
pub mod plots;
pub mod search;
pub mod sizes;
pub mod targets;
