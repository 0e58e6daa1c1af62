use std::time::Duration;

/// How a Bot API call failed, classified by what the caller should do next.
#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    /// 429: wait this long, then try again.
    #[error("rate limited by Telegram, retry after {0:?}")]
    RetryAfter(Duration),
    /// 403: the person blocked the bot (or it was removed from the chat); stop sending.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Another 4xx: the request itself is wrong; retrying cannot help.
    #[error("rejected ({code}): {description}")]
    Rejected { code: u16, description: String },
    /// 5xx or an answer we could not read: try again later.
    #[error("Telegram server error ({code}): {description}")]
    Server { code: u16, description: String },
    /// No answer at all. The URL (which holds the token) is stripped before it gets here.
    #[error("network error: {0}")]
    Network(String),
}

impl TelegramError {
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::RetryAfter(_) | Self::Server { .. } | Self::Network(_) => true,
            Self::Forbidden(_) | Self::Rejected { .. } => false,
        }
    }

    /// A short label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::RetryAfter(_) => "retry_after",
            Self::Forbidden(_) => "forbidden",
            Self::Rejected { .. } => "rejected",
            Self::Server { .. } => "server",
            Self::Network(_) => "network",
        }
    }
}

impl From<reqwest::Error> for TelegramError {
    fn from(err: reqwest::Error) -> Self {
        Self::Network(err.without_url().to_string())
    }
}
