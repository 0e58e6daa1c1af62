//! `POST $WEBHOOK_PATH`: check the secret, store the raw update, answer. Parsing beyond
//! `update_id` waits for the dispatcher, so no new field or update kind can cause retries.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use secrecy::ExposeSecret;
use studio_domain::UpdateId;
use studio_persistence::repos::inbox::Accepted;
use subtle::ConstantTimeEq;

use crate::metrics::{UPDATES_DUPLICATE, UPDATES_RECEIVED, UPDATES_REJECTED};
use crate::state::AppState;

/// Telegram's updates are far smaller; anything bigger is not from Telegram.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

pub fn body_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(MAX_BODY_BYTES)
}

/// Proof that the request carries our secret. Runs before the body is read.
pub struct TelegramSecret;

impl FromRequestParts<AppState> for TelegramSecret {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, StatusCode> {
        let expected = app.webhook_secret.as_ref().ok_or(StatusCode::NOT_FOUND)?;
        let given = parts
            .headers
            .get(SECRET_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if bool::from(given.ct_eq(expected.expose_secret().as_bytes())) {
            Ok(Self)
        } else {
            metrics::counter!(UPDATES_REJECTED, "reason" => "secret").increment(1);
            tracing::warn!(
                header_present = !given.is_empty(),
                "webhook call with a wrong secret"
            );
            Err(StatusCode::UNAUTHORIZED)
        }
    }
}

pub async fn receive(State(app): State<AppState>, _: TelegramSecret, body: Bytes) -> StatusCode {
    let Some((update_id, lane, payload)) = read_update(&body) else {
        metrics::counter!(UPDATES_REJECTED, "reason" => "malformed").increment(1);
        tracing::warn!(bytes = body.len(), "webhook body is not an update");
        return StatusCode::BAD_REQUEST;
    };
    match app.inbox.store(update_id, lane, payload.to_owned()).await {
        Ok(Accepted::Stored) => {
            metrics::counter!(UPDATES_RECEIVED).increment(1);
            StatusCode::OK
        }
        Ok(Accepted::Duplicate) => {
            metrics::counter!(UPDATES_DUPLICATE).increment(1);
            tracing::debug!(update_id = %update_id, "duplicate update");
            StatusCode::OK
        }
        Err(err) => {
            // Telegram retries a non-2xx answer, so the update is not lost.
            tracing::error!(update_id = %update_id, error = %err, "cannot store update");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

/// The update id, ordering lane and text of a body, if it is a JSON object with an `update_id`.
pub fn read_update(body: &[u8]) -> Option<(UpdateId, i64, &str)> {
    let text = std::str::from_utf8(body).ok()?;
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let update_id = value.get("update_id")?.as_i64()?;
    Some((
        UpdateId(update_id),
        studio_bot_ui::update::lane_of(&value),
        text,
    ))
}
