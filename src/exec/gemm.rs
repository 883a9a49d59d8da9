//! Row-major matrix products through matrixmultiply.

/// c[m x n] = a[m x k] * b + beta * c for dimensions (m, k, n), where b is [k x n] read with strides (row, column).
pub fn gemm(
    (m, k, n): (usize, usize, usize),
    a: &[f32],
    b: &[f32],
    b_strides: (usize, usize),
    beta: f32,
    c: &mut [f32],
) {
    assert!(a.len() >= m * k && c.len() >= m * n, "gemm operands too small");
    if m > 0 && n > 0 && k > 0 {
        assert!(b.len() > (k - 1) * b_strides.0 + (n - 1) * b_strides.1, "gemm operand b too small");
    }
    // SAFETY: the asserts above keep every index matrixmultiply forms inside the three slices.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            b_strides.0 as isize,
            b_strides.1 as isize,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}
