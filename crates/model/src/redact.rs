//! Redaction of patient data in `Debug` and `Display`, so it cannot reach logs
//! by accident (`{:?}` in a tracing call, a panic message, an error chain).

/// What a redacted value prints instead of its content.
pub const REDACTED: &str = "<redacted>";

/// Implements `Debug` as `TypeName(<redacted>)` and `Display` as `<redacted>`.
macro_rules! redacted_fmt {
    ($ty:ident) => {
        impl ::core::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                write!(f, "{}({})", stringify!($ty), $crate::redact::REDACTED)
            }
        }
        impl ::core::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str($crate::redact::REDACTED)
            }
        }
    };
}
pub(crate) use redacted_fmt;
