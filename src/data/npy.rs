//! Reading `.npy` files with npyz, checking them against what the model expects.

use std::path::Path;

use crate::error::{Error, Result};

/// A batch of float model inputs, sample-major: `data.len() == n * sample_shape.product()`.
#[derive(Clone, Debug, PartialEq)]
pub struct Samples {
    pub n: usize,
    /// One sample's shape, with the batch axis of 1 (the model's input shape).
    pub sample_shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl Samples {
    pub fn sample_len(&self) -> usize {
        self.sample_shape.iter().product()
    }

    pub fn sample(&self, i: usize) -> &[f32] {
        let len = self.sample_len();
        &self.data[i * len..(i + 1) * len]
    }

    /// The first `n` samples.
    pub fn take(&self, n: usize) -> Samples {
        let n = n.min(self.n);
        Samples { n, sample_shape: self.sample_shape.clone(), data: self.data[..n * self.sample_len()].to_vec() }
    }
}

fn open(path: &Path) -> Result<npyz::NpyFile<std::io::BufReader<std::fs::File>>> {
    let file = std::fs::File::open(path).map_err(|e| Error::input(format!("{}: cannot read: {e}", path.display())))?;
    npyz::NpyFile::new(std::io::BufReader::new(file))
        .map_err(|e| Error::input(format!("{}: not a valid .npy file ({e})", path.display())))
}

fn type_str(file: &npyz::NpyFile<impl std::io::Read>) -> String {
    match file.dtype() {
        npyz::DType::Plain(t) => t.to_string(),
        other => format!("{other:?}"),
    }
}

/// Loads model inputs stored as uint8, int8 or float32, maps them to floats as `x * scale + offset`, and checks
/// that each sample has the model's input shape (`input_shape`, batch 1 first; a file may also omit that axis).
pub fn load_samples(path: &Path, input_shape: &[usize], scale: f32, offset: f32) -> Result<Samples> {
    let at = |msg: String| Error::input(format!("{}: {msg}", path.display()));
    let file = open(path)?;
    if file.order() != npyz::Order::C {
        return Err(at("Fortran-ordered arrays are not supported; save with C order".into()));
    }
    let shape: Vec<usize> = file.shape().iter().map(|&d| d as usize).collect();
    let per_sample = &input_shape[1..];
    let fits = !shape.is_empty() && shape[1..] == *per_sample;
    if !fits {
        return Err(at(format!(
            "shape {shape:?} does not fit the model input {input_shape:?}; expected [N, {}]",
            per_sample.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
        )));
    }
    let n = shape[0];
    let ty = type_str(&file);
    let read_err = |e: std::io::Error| at(format!("cannot read the data ({e})"));
    let raw: Vec<f32> = match ty.as_str() {
        "|u1" => file.into_vec::<u8>().map_err(read_err)?.into_iter().map(f32::from).collect(),
        "|i1" => file.into_vec::<i8>().map_err(read_err)?.into_iter().map(f32::from).collect(),
        "<f4" | ">f4" => file.into_vec::<f32>().map_err(read_err)?,
        other => return Err(at(format!("dtype {other} is not supported (uint8, int8 or float32 are)"))),
    };
    let data = raw.into_iter().map(|v| v * scale + offset).collect();
    Ok(Samples { n, sample_shape: input_shape.to_vec(), data })
}

/// Loads integer class labels (any integer dtype), one per sample.
pub fn load_labels(path: &Path, expected: usize) -> Result<Vec<i64>> {
    let at = |msg: String| Error::input(format!("{}: {msg}", path.display()));
    let file = open(path)?;
    let shape: Vec<u64> = file.shape().to_vec();
    let ty = type_str(&file);
    let read_err = |e: std::io::Error| at(format!("cannot read the data ({e})"));
    let labels: Vec<i64> = match ty.trim_start_matches(['<', '>', '|']) {
        "i8" => file.into_vec::<i64>().map_err(read_err)?,
        "i4" => file.into_vec::<i32>().map_err(read_err)?.into_iter().map(i64::from).collect(),
        "i2" => file.into_vec::<i16>().map_err(read_err)?.into_iter().map(i64::from).collect(),
        "i1" => file.into_vec::<i8>().map_err(read_err)?.into_iter().map(i64::from).collect(),
        "u1" => file.into_vec::<u8>().map_err(read_err)?.into_iter().map(i64::from).collect(),
        other => return Err(at(format!("labels must be integers, found dtype {other}"))),
    };
    if shape.len() != 1 || labels.len() != expected {
        return Err(at(format!("labels of shape {shape:?} do not match the {expected} samples")));
    }
    Ok(labels)
}
