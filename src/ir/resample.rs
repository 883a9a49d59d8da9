//! Resampling (ONNX Resize and Upsample) as separable tap tables: along each resized axis, output position `o`
//! reads `taps` input positions with fixed weights. Every ONNX option (coordinate transformation, nearest
//! rounding, linear or cubic coefficients, antialiasing, exclude_outside) is resolved here, once, at import, so
//! the float executor and every integer kernel run the same small loop. The rules follow the ONNX operator
//! specification and its reference implementation, position by position.

/// How output coordinates map back to input coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coordinates {
    HalfPixel,
    HalfPixelSymmetric,
    PytorchHalfPixel,
    AlignCorners,
    Asymmetric,
}

impl Coordinates {
    pub fn from_onnx(name: &str) -> Option<Coordinates> {
        Some(match name {
            "half_pixel" => Coordinates::HalfPixel,
            "half_pixel_symmetric" => Coordinates::HalfPixelSymmetric,
            "pytorch_half_pixel" => Coordinates::PytorchHalfPixel,
            "align_corners" => Coordinates::AlignCorners,
            "asymmetric" => Coordinates::Asymmetric,
            _ => return None,
        })
    }
}

/// Which input position a nearest-neighbour output takes when its coordinate falls between two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nearest {
    RoundPreferFloor,
    RoundPreferCeil,
    Floor,
    Ceil,
}

impl Nearest {
    pub fn from_onnx(name: &str) -> Option<Nearest> {
        Some(match name {
            "round_prefer_floor" => Nearest::RoundPreferFloor,
            "round_prefer_ceil" => Nearest::RoundPreferCeil,
            "floor" => Nearest::Floor,
            "ceil" => Nearest::Ceil,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Interpolation {
    Nearest(Nearest),
    Linear,
    /// Keys' cubic convolution with coefficient `a` (ONNX's default -0.75).
    Cubic {
        a: f64,
    },
}

/// Everything that decides one axis's taps besides its lengths.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Resampling {
    pub interpolation: Interpolation,
    pub coordinates: Coordinates,
    /// Downsampling widens the linear or cubic kernel by 1 / scale (antialiasing).
    pub antialias: bool,
    /// Taps outside the input get weight 0 and the others are renormalised (rather than repeating the edge).
    pub exclude_outside: bool,
}

/// One axis's taps: output position `o` reads input positions `index[o * taps + t]` with weights
/// `weight[o * taps + t]`, for `t` below `taps`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AxisTaps {
    pub taps: usize,
    pub index: Vec<usize>,
    pub weight: Vec<f64>,
}

/// The taps of both spatial axes of a [1, C, H, W] tensor (a [1, C, W] tensor's height is the identity of 1).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Resize {
    pub y: AxisTaps,
    pub x: AxisTaps,
}

impl AxisTaps {
    /// The axis left as it is.
    pub fn identity(len: usize) -> AxisTaps {
        AxisTaps { taps: 1, index: (0..len).collect(), weight: vec![1.0; len] }
    }

    pub fn out_len(&self) -> usize {
        self.index.len() / self.taps
    }

    /// Output position `o`'s (input position, weight) pairs.
    pub fn of(&self, o: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let r = o * self.taps..(o + 1) * self.taps;
        self.index[r.clone()].iter().copied().zip(self.weight[r].iter().copied())
    }

    /// The taps of an axis of `in_len` positions resized to `out_len` with `scale` (the ONNX scale: out_len / in_len
    /// when the model gives sizes, else its own, which may differ from that ratio).
    pub fn new(in_len: usize, out_len: usize, scale: f64, r: &Resampling) -> AxisTaps {
        if scale == 1.0 && out_len == in_len {
            // ONNX leaves such an axis untouched, whatever the mode.
            return AxisTaps::identity(in_len);
        }
        let mut index = vec![];
        let mut weight = vec![];
        let mut taps = 0;
        for o in 0..out_len {
            let x = source_coordinate(o, in_len, out_len, scale, r.coordinates);
            let ratio = if x.fract() == 0.0 { 1.0 } else { x - x.floor() };
            let mut coeffs = coefficients(ratio, scale, r);
            let positions = nearest_positions(x, coeffs.len(), in_len);
            if r.exclude_outside {
                for (c, &p) in coeffs.iter_mut().zip(&positions) {
                    if p < 0 || p >= in_len as isize {
                        *c = 0.0;
                    }
                }
                let sum: f64 = coeffs.iter().sum();
                coeffs.iter_mut().for_each(|c| *c /= sum);
            }
            let mut pairs: Vec<(usize, f64)> =
                positions.iter().map(|&p| p.clamp(0, in_len as isize - 1) as usize).zip(coeffs).collect();
            if let Interpolation::Nearest(_) = r.interpolation {
                // One of the two candidates has weight 1.
                pairs.retain(|&(_, w)| w != 0.0);
            }
            taps = pairs.len();
            for (i, w) in pairs {
                index.push(i);
                weight.push(w);
            }
        }
        AxisTaps { taps, index, weight }
    }
}

/// The input coordinate output position `o` samples.
fn source_coordinate(o: usize, in_len: usize, out_len: usize, scale: f64, mode: Coordinates) -> f64 {
    let (o, in_len_f) = (o as f64, in_len as f64);
    let out_exact = scale * in_len_f;
    match mode {
        Coordinates::AlignCorners if out_exact == 1.0 => 0.0,
        Coordinates::AlignCorners => o * (in_len_f - 1.0) / (out_exact - 1.0),
        Coordinates::Asymmetric => o / scale,
        Coordinates::PytorchHalfPixel if out_exact == 1.0 => -0.5,
        Coordinates::PytorchHalfPixel | Coordinates::HalfPixel => (o + 0.5) / scale - 0.5,
        Coordinates::HalfPixelSymmetric => {
            let adjustment = out_len as f64 / out_exact;
            let offset = in_len_f / 2.0 * (1.0 - adjustment);
            offset + (o + 0.5) / scale - 0.5
        }
    }
}

/// The weights of the positions around a coordinate whose distance past the position before it is `ratio`
/// (in (0, 1]).
fn coefficients(ratio: f64, scale: f64, r: &Resampling) -> Vec<f64> {
    let normalised = |c: Vec<f64>| {
        let sum: f64 = c.iter().sum();
        c.into_iter().map(|v| v / sum).collect()
    };
    match r.interpolation {
        Interpolation::Nearest(mode) => {
            let ceil = match mode {
                _ if ratio == 1.0 => true,
                Nearest::RoundPreferFloor => ratio > 0.5,
                Nearest::RoundPreferCeil => ratio >= 0.5,
                Nearest::Floor => false,
                Nearest::Ceil => true,
            };
            vec![f64::from(!ceil as u8), f64::from(ceil as u8)]
        }
        Interpolation::Linear if r.antialias => {
            let scale = scale.min(1.0);
            let start = (-1.0 / scale).floor() as i64 + 1;
            let footprint = 2 - 2 * start;
            let c = (start..start + footprint).map(|i| (1.0 - ((i as f64 - ratio) * scale).abs()).clamp(0.0, 1.0));
            normalised(c.collect())
        }
        Interpolation::Linear => vec![1.0 - ratio, ratio],
        Interpolation::Cubic { a } if r.antialias => {
            let scale = scale.min(1.0);
            let start = (-2.0 / scale).floor() as i64 + 1;
            let c = (start..2 - start).map(|i| keys(scale * (i as f64 - ratio), a));
            normalised(c.collect())
        }
        Interpolation::Cubic { a } => {
            [ratio + 1.0, ratio, 1.0 - ratio, 2.0 - ratio].iter().map(|&d| keys(d, a)).collect()
        }
    }
}

/// Keys' cubic convolution kernel at distance `x`.
fn keys(x: f64, a: f64) -> f64 {
    let x = x.abs();
    if x <= 1.0 {
        ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
    } else {
        0.0
    }
}

/// The `n` integer positions nearest to `x` (ties to the smaller), ascending, among the input's positions padded by
/// ceil(n / 2) on each side; positions outside the input read its edge.
fn nearest_positions(x: f64, n: usize, in_len: usize) -> Vec<isize> {
    let pad = n.div_ceil(2) as isize;
    let (lo, hi) = (-pad, in_len as isize + pad);
    let centre = x.floor() as isize;
    let mut candidates: Vec<isize> =
        (centre - n as isize - 1..=centre + n as isize + 1).filter(|p| (lo..hi).contains(p)).collect();
    candidates.sort_by(|a, b| (x - *a as f64).abs().total_cmp(&(x - *b as f64).abs()).then(a.cmp(b)));
    candidates.truncate(n);
    candidates.sort();
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linear(c: Coordinates) -> Resampling {
        Resampling { interpolation: Interpolation::Linear, coordinates: c, antialias: false, exclude_outside: false }
    }

    #[test]
    fn half_pixel_linear_upsampling_by_two_weights_neighbours_one_to_three() {
        let t = AxisTaps::new(2, 4, 2.0, &linear(Coordinates::HalfPixel));
        // Output 0 samples -0.25 (the edge repeats), 1 samples 0.25, 2 samples 0.75, 3 samples 1.25.
        let taps: Vec<Vec<(usize, f64)>> = (0..4).map(|o| t.of(o).collect()).collect();
        assert_eq!(taps[0], [(0, 0.25), (0, 0.75)]);
        assert_eq!(taps[1], [(0, 0.75), (1, 0.25)]);
        assert_eq!(taps[2], [(0, 0.25), (1, 0.75)]);
        assert_eq!(taps[3], [(1, 0.75), (1, 0.25)]);
    }

    #[test]
    fn nearest_keeps_one_tap_and_rounds_as_asked() {
        let nearest = |mode| Resampling {
            interpolation: Interpolation::Nearest(mode),
            coordinates: Coordinates::Asymmetric,
            antialias: false,
            exclude_outside: false,
        };
        // Scale 2/3: outputs sample 0, 1.5 and 3 (of 4 inputs).
        let floor = AxisTaps::new(4, 3, 2.0 / 3.0, &nearest(Nearest::RoundPreferFloor));
        let ceil = AxisTaps::new(4, 3, 2.0 / 3.0, &nearest(Nearest::RoundPreferCeil));
        assert_eq!((floor.taps, floor.index), (1, vec![0, 1, 3]));
        assert_eq!((ceil.taps, ceil.index), (1, vec![0, 2, 3]));
    }

    #[test]
    fn cubic_weights_sum_to_one_and_align_on_whole_positions() {
        let r = Resampling {
            interpolation: Interpolation::Cubic { a: -0.75 },
            coordinates: Coordinates::AlignCorners,
            antialias: false,
            exclude_outside: false,
        };
        let t = AxisTaps::new(4, 7, 7.0 / 4.0, &r);
        for o in 0..7 {
            let sum: f64 = t.of(o).map(|(_, w)| w).sum();
            assert!((sum - 1.0).abs() < 1e-12, "output {o}: {sum}");
        }
        // Output 2 samples input 1 exactly: weight 1 there and 0 elsewhere.
        let at: Vec<(usize, f64)> = t.of(2).filter(|&(_, w)| w != 0.0).collect();
        assert_eq!(at, [(1, 1.0)]);
    }
}
