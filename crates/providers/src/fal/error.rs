/// How a FAL call failed, classified by what the caller should do next.
#[derive(Debug, thiserror::Error)]
pub enum FalError {
    /// 5xx, a timeout or a broken connection: worth retrying with backoff.
    #[error("FAL is unavailable: {0}")]
    Transient(String),
    /// 4xx other than the two below: the request itself is wrong (validation); retrying cannot
    /// help, and rewording might.
    #[error("FAL rejected the request ({status}): {detail}")]
    Rejected { status: u16, detail: String },
    /// The model's own error, answered by the result URL after `COMPLETED`: FAL has already
    /// retried it (runner failures up to 10 times), so it is final.
    #[error("FAL finished the request with an error ({status}): {detail}")]
    Failed { status: u16, detail: String },
    /// 401 or 403: FAL refuses our key or our account (a locked account, an exhausted
    /// balance), every request alike until an operator acts.
    #[error("FAL refuses our key or account ({status}): {detail}")]
    Refused { status: u16, detail: String },
    /// A 2xx answer we could not read.
    #[error("unexpected answer from FAL: {0}")]
    Malformed(String),
    /// A download larger than we accept.
    #[error("file is larger than {0} bytes")]
    TooLarge(u64),
}

impl FalError {
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transient(_) => true,
            Self::Rejected { .. }
            | Self::Failed { .. }
            | Self::Refused { .. }
            | Self::Malformed(_)
            | Self::TooLarge(_) => false,
        }
    }

    /// A short label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Transient(_) => "transient",
            Self::Rejected { .. } => "rejected",
            Self::Refused { .. } => "refused",
            Self::Failed { .. } => "failed",
            Self::Malformed(_) => "malformed",
            Self::TooLarge(_) => "too_large",
        }
    }

    pub(crate) fn from_status(status: u16, body: &[u8]) -> Self {
        let detail = String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned();
        match status {
            401 | 403 => Self::Refused { status, detail },
            // Too many requests at once: FAL asks us to come back, as for a 5xx.
            429 => Self::Transient(format!("{status}: {detail}")),
            400..=499 => Self::Rejected { status, detail },
            _ => Self::Transient(format!("{status}: {detail}")),
        }
    }
}

impl From<reqwest::Error> for FalError {
    fn from(err: reqwest::Error) -> Self {
        Self::Transient(err.without_url().to_string())
    }
}
