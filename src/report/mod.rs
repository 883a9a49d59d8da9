//! What ompqc prints: tables for people, JSON for programs.

pub mod eval;
pub mod inspect;
