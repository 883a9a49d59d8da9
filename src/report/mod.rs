//! What ompqc prints: tables for people, JSON for programs.

pub mod inspect;
