use std::time::Duration;

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use studio_domain::Gender;

use super::OpenAiError;
use super::types::{Completion, PhotoDescription};

/// A vision answer can take a while; longer than this counts as a timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

const DESCRIBE: &str = "You help people recreate a reference photo with their own face. \
Describe the photo so an image model can put a different person into the same picture: \
shot type, pose, lighting, setting, clothing and camera (lens, angle, depth of field). \
Do not describe the face, identity, age or ethnicity of anyone in it. Then write `prompt`: \
one English prompt of at most 600 characters for a photorealistic portrait of {subject} \
with that shot type, pose, clothing, setting, lighting and camera. Answer in the JSON schema.";

const TRANSLATE: &str = "You translate prompts for an image generator into English. \
Reply with the English translation only: no quotes, notes or explanations. Keep names, \
numbers, styles and photographic terms as they are.";

/// Chat completions on an OpenAI-compatible API. Cheap to clone.
#[derive(Clone)]
pub struct OpenAiClient {
    http: reqwest::Client,
    base_url: String,
    key: SecretString,
    model: String,
}

impl std::fmt::Debug for OpenAiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiClient")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl OpenAiClient {
    pub fn new(http: reqwest::Client, base_url: &str, key: SecretString, model: &str) -> Self {
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            key,
            model: model.to_owned(),
        }
    }

    /// Describes a JPEG reference photo for a portrait of someone of `gender` (when known).
    /// An answer that does not fit the schema is asked for once more before it counts as
    /// malformed.
    pub async fn describe_photo(
        &self,
        jpeg: &[u8],
        gender: Option<Gender>,
    ) -> Result<PhotoDescription, OpenAiError> {
        let subject = match gender {
            Some(Gender::Male) => "a man",
            Some(Gender::Female) => "a woman",
            None => "the person",
        };
        let data_url = format!(
            "data:image/jpeg;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(jpeg)
        );
        let body = json!({
            "model": self.model,
            "messages": [
                {"role": "system", "content": DESCRIBE.replace("{subject}", subject)},
                {"role": "user", "content": [
                    {"type": "text", "text": "Describe this reference photo."},
                    {"type": "image_url", "image_url": {"url": data_url, "detail": "high"}},
                ]},
            ],
            "response_format": {"type": "json_schema", "json_schema": {
                "name": "reference_photo", "strict": true, "schema": PhotoDescription::schema(),
            }},
        });
        self.twice(&body, |content| {
            serde_json::from_str::<PhotoDescription>(content)
                .ok()
                .filter(|d| !d.prompt.trim().is_empty())
        })
        .await
    }

    /// Translates an image prompt to English.
    pub async fn translate(&self, text: &str) -> Result<String, OpenAiError> {
        let mut body = json!({
            "model": self.model,
            "messages": [
                {"role": "system", "content": TRANSLATE},
                {"role": "user", "content": text},
            ],
        });
        // A translation should not vary; reasoning models refuse any but the default.
        if takes_temperature(&self.model) {
            body["temperature"] = 0.into();
        }
        self.twice(&body, |content| {
            let english = content.trim().trim_matches('"').trim();
            (!english.is_empty()).then(|| english.to_owned())
        })
        .await
    }

    /// Whether the key is accepted and the model exists (`GET /models/{model}`), for
    /// operators' checks.
    pub async fn check_model(&self) -> Result<(), OpenAiError> {
        let response = self
            .http
            .get(format!("{}/models/{}", self.base_url, self.model))
            .bearer_auth(self.key.expose_secret())
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let body = response.bytes().await?;
        Err(OpenAiError::from_response(status, &headers, &body))
    }

    /// Sends `body`, reading the answer with `read`; an unreadable answer is asked for again
    /// once.
    async fn twice<T>(
        &self,
        body: &Value,
        read: impl Fn(&str) -> Option<T>,
    ) -> Result<T, OpenAiError> {
        let mut last = String::new();
        for attempt in 1..=2 {
            last = match self.complete(body).await {
                Ok(content) => match read(&content) {
                    Some(value) => return Ok(value),
                    None => content.chars().take(200).collect(),
                },
                Err(OpenAiError::Malformed(why)) => why,
                Err(other) => return Err(other),
            };
            tracing::warn!(attempt, answer = %last, "unreadable model answer");
        }
        Err(OpenAiError::Malformed(last))
    }

    /// One chat completion: the answer's text, or why there is none.
    async fn complete(&self, body: &Value) -> Result<String, OpenAiError> {
        let response = self
            .http
            .post(format!("{}/chat/completions", self.base_url))
            .bearer_auth(self.key.expose_secret())
            .timeout(REQUEST_TIMEOUT)
            .json(body)
            .send()
            .await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await?;
        if !(200..300).contains(&status) {
            return Err(OpenAiError::from_response(status, &headers, &bytes));
        }
        let completion: Completion = serde_json::from_slice(&bytes)
            .map_err(|e| OpenAiError::Malformed(format!("not a completion: {e}")))?;
        let Some(choice) = completion.choices.into_iter().next() else {
            return Err(OpenAiError::Malformed("no choices".into()));
        };
        if choice.finish_reason.as_deref() == Some("content_filter") {
            return Err(OpenAiError::ContentFiltered);
        }
        if let Some(refusal) = choice.message.refusal.filter(|r| !r.trim().is_empty()) {
            return Err(OpenAiError::Refused(refusal));
        }
        // A cut-off answer is read like any other: a truncated JSON fails to parse.
        Ok(choice.message.content.unwrap_or_default())
    }
}

/// Whether a model accepts a `temperature` other than the default. Reasoning models (the
/// o-series, the gpt-5 family) answer 400 `unsupported_value`; a name may carry a router's
/// prefix (`openai/o3`).
fn takes_temperature(model: &str) -> bool {
    let name = model.rsplit('/').next().unwrap_or(model);
    let o_series = name
        .strip_prefix('o')
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
    !(o_series || name.starts_with("gpt-5"))
}
