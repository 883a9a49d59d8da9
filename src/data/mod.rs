//! Input data: `.npy` files of samples (N first) and of labels.

mod npy;

pub use npy::{load_labels, load_samples, parse_labels, parse_samples, write_f32, Samples};
