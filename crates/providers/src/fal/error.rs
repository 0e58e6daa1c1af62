/// How a FAL call failed, classified by what the caller should do next.
#[derive(Debug, thiserror::Error)]
pub enum FalError {
    /// 5xx, a timeout or a broken connection: worth retrying with backoff.
    #[error("FAL is unavailable: {0}")]
    Transient(String),
    /// 4xx: the request itself is wrong (validation, auth); retrying cannot help.
    #[error("FAL rejected the request ({status}): {detail}")]
    Rejected { status: u16, detail: String },
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
            Self::Rejected { .. } | Self::Malformed(_) | Self::TooLarge(_) => false,
        }
    }

    /// A short label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Transient(_) => "transient",
            Self::Rejected { .. } => "rejected",
            Self::Malformed(_) => "malformed",
            Self::TooLarge(_) => "too_large",
        }
    }

    pub(crate) fn from_status(status: u16, body: &[u8]) -> Self {
        let detail = String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned();
        match status {
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
