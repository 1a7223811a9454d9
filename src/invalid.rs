//! [`InvalidValue`]: the one error every request type returns when a value a front end passes in
//! is out of range. Requests (`TextureRequest`, `Variation`, `MapSettings`, `Scale`...) are built
//! through constructors that check every value once; nothing later clamps or checks again. The
//! `name` is the request field's, which front ends map to their own spelling (the CLI's
//! `--truncation`, a plugin's parameter).

use std::fmt::Display;

/// A value outside what a request allows.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{name} {value} is not allowed: {allowed}")]
pub struct InvalidValue {
    /// The request field, snake_case (`truncation`, `normal_strength`, `size`).
    pub name: &'static str,
    /// The value as given.
    pub value: String,
    /// What is allowed, in words (`0 to 1`, `2 or 4`).
    pub allowed: String,
}

impl InvalidValue {
    pub fn new(name: &'static str, value: impl Display, allowed: impl Into<String>) -> InvalidValue {
        InvalidValue { name, value: value.to_string(), allowed: allowed.into() }
    }
}

/// `value` if it lies in `lo..=hi` (NaN never does).
pub fn within<T: PartialOrd + Display + Copy>(name: &'static str, value: T, lo: T, hi: T) -> Result<T, InvalidValue> {
    if value >= lo && value <= hi {
        Ok(value)
    } else {
        Err(InvalidValue::new(name, value, format!("{lo} to {hi}")))
    }
}

/// `value` if it is finite and above 0.
pub fn positive(name: &'static str, value: f32) -> Result<f32, InvalidValue> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(InvalidValue::new(name, value, "a number above 0"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_inclusive_and_nan_is_refused() {
        assert_eq!(within("truncation", 1.0, 0.0, 1.0), Ok(1.0));
        let e = within("truncation", 2.0f32, 0.0, 1.0).unwrap_err();
        assert_eq!((e.name, e.value.as_str(), e.allowed.as_str()), ("truncation", "2", "0 to 1"));
        assert!(within("variation", f32::NAN, 0.0, 1.0).is_err());
        assert!(positive("normal_strength", 0.0).is_err());
        assert!(positive("normal_strength", f32::INFINITY).is_err());
        assert_eq!(positive("normal_strength", 0.5), Ok(0.5));
    }
}
