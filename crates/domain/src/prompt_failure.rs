/// Why a prompt could not be made (from a photo) or translated, as the person is told it.
/// Nothing is charged for either, so no failure refunds anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PromptFailure {
    /// The model service stayed overloaded or unreachable (429, 5xx, timeouts) after retries.
    Busy,
    /// The model cannot be used (its account is out of quota, its key is refused): an
    /// operator must act.
    Unavailable,
    /// The model declined (a refusal, or its content filter stopped the answer).
    Refused,
    /// The model's answers could not be read, twice.
    Unreadable,
    /// The reference image could not be fetched or decoded.
    BadImage,
    /// The reference image is larger than a bot may download (20 MB).
    ImageTooLarge,
    /// The English text came back longer than a prompt may be.
    TooLong,
}
