//! Reading `.npy` files with npyz, checking them against what the model expects, and writing outputs.

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

/// Reads a whole .npy file (refused first if it is larger than the memory available).
fn read(path: &Path) -> Result<Vec<u8>> {
    let at = |e: std::io::Error| Error::input(format!("{}: cannot read: {e}", path.display()));
    let len = std::fs::metadata(path).map_err(at)?.len();
    crate::limits::ensure_fits(|| format!("{}: reading this file", path.display()), Some(len))?;
    std::fs::read(path).map_err(at)
}

/// The bracket nesting of a plain array's header: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
/// npyz's header parser takes time exponential in the nesting (a 196-byte header with 20 '[' took minutes).
const MAX_HEADER_DEPTH: usize = 2;

/// The header of a .npy file: after the magic, the version and the header's length (10 bytes in version 1, 12
/// after), up to the first newline.
fn header(bytes: &[u8]) -> &[u8] {
    let start = if bytes.get(6) == Some(&1) { 10 } else { 12 };
    let header = bytes.get(start..).unwrap_or_default();
    &header[..header.iter().position(|&b| b == b'\n').unwrap_or(header.len())]
}

/// The deepest bracket nesting in a header.
fn depth(header: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0);
    for &b in header {
        match b {
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The shape a header announces, when it reads as `'shape': (d, ...)` (npyz reports any other form).
fn announced_shape(header: &[u8]) -> Option<Vec<u64>> {
    let text = std::str::from_utf8(header).ok()?;
    let tuple = text.split_once("'shape'")?.1.split_once('(')?.1.split_once(')')?.0;
    tuple.split(',').map(str::trim).filter(|d| !d.is_empty()).map(|d| d.parse().ok()).collect()
}

/// The array in `bytes`, after checking that the data its header announces is in the file and fits in memory
/// once widened to `widened_bytes` per element.
fn open<'a>(bytes: &'a [u8], origin: &str, widened_bytes: u64) -> Result<npyz::NpyFile<&'a [u8]>> {
    let at = |msg: String| Error::input(format!("{origin}: {msg}"));
    let header = header(bytes);
    if depth(header) > MAX_HEADER_DEPTH {
        return Err(at("not a valid .npy file (its header nests brackets deeper than a plain array's)".into()));
    }
    // npyz multiplies the dimensions unchecked.
    if let Some(shape) = announced_shape(header).filter(|s| crate::limits::array_bytes(s.iter().copied(), 1).is_none())
    {
        return Err(at(format!("the header announces an array of shape {shape:?} (over 2^64 bytes)")));
    }
    let file = npyz::NpyFile::new(bytes).map_err(|e| at(format!("not a valid .npy file ({e})")))?;
    let item = match file.dtype() {
        npyz::DType::Plain(t) => t.num_bytes().unwrap_or(1) as u64,
        _ => 1,
    };
    let data = crate::limits::array_bytes(file.shape().iter().copied(), item);
    if data.is_none_or(|d| d > bytes.len() as u64) {
        return Err(at(format!(
            "the header announces an array of shape {:?} ({}), more data than the file's {} bytes",
            file.shape(),
            data.map_or("over 2^64 bytes".into(), |d| format!("{d} bytes")),
            bytes.len()
        )));
    }
    let widened = crate::limits::array_bytes(file.shape().iter().copied(), widened_bytes);
    crate::limits::ensure_fits(|| format!("{origin}: its array of shape {:?}", file.shape()), widened)?;
    Ok(file)
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
    parse_samples(&read(path)?, &path.display().to_string(), input_shape, scale, offset)
}

/// `load_samples` of a file's bytes; `origin` names it in messages.
pub fn parse_samples(bytes: &[u8], origin: &str, input_shape: &[usize], scale: f32, offset: f32) -> Result<Samples> {
    let at = |msg: String| Error::input(format!("{origin}: {msg}"));
    let file = open(bytes, origin, 4)?;
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
    parse_labels(&read(path)?, &path.display().to_string(), expected)
}

/// `load_labels` of a file's bytes; `origin` names it in messages.
pub fn parse_labels(bytes: &[u8], origin: &str, expected: usize) -> Result<Vec<i64>> {
    let at = |msg: String| Error::input(format!("{origin}: {msg}"));
    let file = open(bytes, origin, 8)?;
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

/// Writes `data` as a float32 .npy of `shape` (outputs: N first), all at once: a failure leaves no file.
pub fn write_f32(path: &Path, shape: &[usize], data: &[f32]) -> Result<()> {
    use npyz::WriterBuilder;
    let at = |e: std::io::Error| Error::input(format!("{}: cannot write: {e}", path.display()));
    let mut bytes = Vec::new();
    let dims: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut writer =
        npyz::WriteOptions::new().default_dtype().shape(&dims).writer(&mut bytes).begin_nd().map_err(at)?;
    writer.extend(data.iter().copied()).map_err(at)?;
    writer.finish().map_err(at)?;
    let staging = path.with_extension(format!("partial-{}", std::process::id()));
    std::fs::write(&staging, &bytes).and_then(|_| std::fs::rename(&staging, path)).map_err(|e| {
        let _ = std::fs::remove_file(&staging);
        at(e)
    })
}
