use std::time::Duration;

/// How a chat completion failed, classified by what the caller should do next.
#[derive(Debug, thiserror::Error)]
pub enum OpenAiError {
    /// 429 `rate_limit_exceeded`: back off (as long as the server asks) and retry.
    #[error("rate limited: {message}")]
    RateLimited {
        retry_after: Option<Duration>,
        message: String,
    },
    /// 429 `insufficient_quota`: the account is out of credit; retrying cannot help.
    #[error("quota exhausted: {0}")]
    QuotaExhausted(String),
    /// 5xx: retry with longer delays.
    #[error("server error {status}: {message}")]
    Server {
        status: u16,
        retry_after: Option<Duration>,
        message: String,
    },
    /// Other 4xx: the request is wrong (auth, size, model); retrying cannot help.
    #[error("request rejected ({status}): {message}")]
    Rejected { status: u16, message: String },
    /// The model declined to answer.
    #[error("the model refused: {0}")]
    Refused(String),
    /// `finish_reason: content_filter`.
    #[error("the answer was stopped by the content filter")]
    ContentFiltered,
    /// An answer we could not read (after the one retry such answers get).
    #[error("unreadable answer: {0}")]
    Malformed(String),
    #[error("no answer in time")]
    Timeout,
    /// The connection failed.
    #[error("network: {0}")]
    Network(String),
}

impl OpenAiError {
    /// Whether the same request is worth sending again later.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::RateLimited { .. } | Self::Server { .. } | Self::Network(_) => true,
            // A minute without an answer is not worth making someone wait for again.
            Self::Timeout
            | Self::QuotaExhausted(_)
            | Self::Rejected { .. }
            | Self::Refused(_)
            | Self::ContentFiltered
            | Self::Malformed(_) => false,
        }
    }

    /// How long the server asked us to wait before retrying.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::Server { retry_after, .. } => {
                *retry_after
            }
            Self::QuotaExhausted(_)
            | Self::Rejected { .. }
            | Self::Refused(_)
            | Self::ContentFiltered
            | Self::Malformed(_)
            | Self::Timeout
            | Self::Network(_) => None,
        }
    }

    /// A short label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::RateLimited { .. } => "rate_limited",
            Self::QuotaExhausted(_) => "insufficient_quota",
            Self::Server { .. } => "server",
            Self::Rejected { .. } => "rejected",
            Self::Refused(_) => "refused",
            Self::ContentFiltered => "content_filter",
            Self::Malformed(_) => "malformed",
            Self::Timeout => "timeout",
            Self::Network(_) => "network",
        }
    }

    /// Classifies an error response from its status, headers and `{"error": {...}}` body.
    pub(crate) fn from_response(
        status: u16,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
    ) -> Self {
        #[derive(serde::Deserialize)]
        struct Envelope {
            error: Detail,
        }
        #[derive(serde::Deserialize)]
        struct Detail {
            #[serde(default)]
            message: String,
            #[serde(default, rename = "type")]
            kind: Option<String>,
            #[serde(default)]
            code: Option<String>,
        }
        let detail = serde_json::from_slice::<Envelope>(body)
            .ok()
            .map(|e| e.error);
        let message = detail.as_ref().map_or_else(
            || String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned(),
            |d| d.message.chars().take(300).collect(),
        );
        let quota = detail.as_ref().is_some_and(|d| {
            [d.code.as_deref(), d.kind.as_deref()].contains(&Some("insufficient_quota"))
        });
        let retry_after = retry_after(headers);
        match status {
            429 if quota => Self::QuotaExhausted(message),
            429 => Self::RateLimited {
                retry_after,
                message,
            },
            500..=599 => Self::Server {
                status,
                retry_after,
                message,
            },
            _ => Self::Rejected { status, message },
        }
    }
}

/// `retry-after-ms` (OpenAI's own, precise) or `retry-after` in seconds; dates are ignored.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let read = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok();
    let seconds = read("retry-after-ms")
        .map(|ms| ms / 1000.0)
        .or_else(|| read("retry-after"))?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(3600.0)))
}

impl From<reqwest::Error> for OpenAiError {
    fn from(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            Self::Timeout
        } else {
            Self::Network(err.without_url().to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use reqwest::header::{HeaderMap, HeaderValue};

    use super::OpenAiError;

    fn error(code: &str) -> Vec<u8> {
        serde_json::json!({"error": {"message": "m", "type": "t", "param": null, "code": code}})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn classifies_by_status_and_code() {
        let none = HeaderMap::new();
        let quota = OpenAiError::from_response(429, &none, &error("insufficient_quota"));
        assert!(matches!(quota, OpenAiError::QuotaExhausted(_)) && !quota.is_transient());
        let limited = OpenAiError::from_response(429, &none, &error("rate_limit_exceeded"));
        assert!(matches!(limited, OpenAiError::RateLimited { .. }) && limited.is_transient());
        let server = OpenAiError::from_response(503, &none, b"<html>down</html>");
        assert!(server.is_transient());
        let rejected = OpenAiError::from_response(400, &none, &error("invalid_image"));
        assert!(!rejected.is_transient());
    }

    #[test]
    fn honours_both_retry_after_headers() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("2"));
        let seconds = OpenAiError::from_response(429, &headers, &error("rate_limit_exceeded"));
        assert_eq!(seconds.retry_after(), Some(Duration::from_secs(2)));
        headers.insert("retry-after-ms", HeaderValue::from_static("150"));
        let millis = OpenAiError::from_response(500, &headers, b"");
        assert_eq!(millis.retry_after(), Some(Duration::from_millis(150)));
        let mut date = HeaderMap::new();
        date.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2026 07:28:00 GMT"),
        );
        assert_eq!(
            OpenAiError::from_response(429, &date, b"").retry_after(),
            None
        );
    }
}
