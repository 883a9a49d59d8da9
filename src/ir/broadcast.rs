//! Numpy broadcasting of two operands onto an output shape (shapes aligned on the right).

/// For each element of `out` (row-major), the offsets of the elements of `a` and `b` it combines.
pub fn offsets(a: &[usize], b: &[usize], out: &[usize]) -> Vec<(usize, usize)> {
    let strides = |shape: &[usize]| {
        let mut strides = vec![0; out.len()];
        let mut stride = 1;
        for (axis, &d) in shape.iter().enumerate().rev() {
            if d != 1 {
                strides[axis + out.len() - shape.len()] = stride;
            }
            stride *= d;
        }
        strides
    };
    let (sa, sb) = (strides(a), strides(b));
    let len: usize = out.iter().product();
    let mut index = vec![0usize; out.len()];
    let mut result = Vec::with_capacity(len);
    for _ in 0..len {
        let at = |s: &[usize]| index.iter().zip(s).map(|(i, s)| i * s).sum();
        result.push((at(&sa), at(&sb)));
        for axis in (0..out.len()).rev() {
            index[axis] += 1;
            if index[axis] < out[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    #[test]
    fn per_channel_and_trailing_broadcasts() {
        assert_eq!(super::offsets(&[1, 2, 2], &[1, 2, 1], &[1, 2, 2]), [(0, 0), (1, 0), (2, 1), (3, 1)]);
        assert_eq!(super::offsets(&[2, 1], &[3], &[2, 3]), [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]);
    }
}
