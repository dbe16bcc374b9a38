//! Number formatting and summary statistics for benchmark output.

/// `31152.4` → `"31,152"`: rounded to a whole number, thousands separated.
pub fn thousands(x: f64) -> String {
    if !x.is_finite() {
        return "-".to_string();
    }
    let neg = x < 0.0;
    let digits = format!("{:.0}", x.abs());
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if neg && digits != "0" {
        out.insert(0, '-');
    }
    out
}

/// A ratio like `52x`, `3.4x` or `0.81x`: two significant digits below 10.
pub fn ratio(x: f64) -> String {
    if !x.is_finite() {
        "-".to_string()
    } else if x >= 10.0 {
        format!("{x:.0}x")
    } else if x >= 1.0 {
        format!("{x:.1}x")
    } else if x >= 0.1 || x <= 0.0 {
        format!("{x:.2}x")
    } else {
        // Below 0.1 the digits after the leading zeros count (0.0032x, not 0.00x),
        // to at most six decimals.
        let decimals = ((-x.log10()).floor() as usize + 2).min(6);
        format!("{x:.decimals$}x")
    }
}

/// Bytes in a human unit: `143.2 MB` (powers of 1000, as `ls -h --si` would).
pub fn bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n;
    let mut u = 0;
    while v.abs() >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// The `p`-th percentile (0..=100) of `sorted` by the nearest-rank method; 0 when empty.
pub fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits_and_rounds() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(999.6), "1,000");
        assert_eq!(thousands(31152.4), "31,152");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
        assert_eq!(thousands(-4321.0), "-4,321");
        assert_eq!(thousands(f64::NAN), "-");
    }

    #[test]
    fn ratio_keeps_two_significant_digits_for_small_values() {
        assert_eq!(ratio(52.4), "52x");
        assert_eq!(ratio(3.44), "3.4x");
        assert_eq!(ratio(0.812), "0.81x");
        assert_eq!(ratio(0.0532), "0.053x");
        assert_eq!(ratio(0.00321), "0.0032x");
        assert_eq!(ratio(0.0), "0.00x");
        assert_eq!(ratio(1e-9), "0.000000x");
        assert_eq!(ratio(f64::INFINITY), "-");
    }

    #[test]
    fn bytes_uses_si_units() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(143_200_000.0), "143.2 MB");
        assert_eq!(bytes(1_500.0), "1.5 kB");
    }

    #[test]
    fn percentile_is_nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&v, 0.0), 1);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 50.0), 0);
    }
}
