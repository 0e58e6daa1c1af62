use std::fmt;

/// A status change the domain does not allow, e.g. `completed → training`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("illegal {kind} transition {from} -> {to}")]
pub struct IllegalTransition<S: fmt::Display + fmt::Debug> {
    pub kind: &'static str,
    pub from: S,
    pub to: S,
}
