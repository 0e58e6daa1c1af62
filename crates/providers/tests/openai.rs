//! The OpenAI-compatible client against the fake API over a real socket: request shape,
//! structured answers, and how each failure is classified.
#![allow(clippy::unwrap_used)] // integration tests: a panic is the failure report

use std::time::Duration;

use base64::Engine as _;
use secrecy::SecretString;
use studio_domain::Gender;
use studio_providers::openai::{OpenAiClient, OpenAiError, ShotType};
use studio_testkit::{FakeOpenAi, OpenAiReply, VISION_PROMPT};

const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3];

async fn client() -> (FakeOpenAi, OpenAiClient) {
    let fake = FakeOpenAi::start().await;
    let key = SecretString::from("sk-test-never-in-logs");
    let client = OpenAiClient::new(reqwest::Client::new(), &fake.url, key, "vision-model");
    (fake, client)
}

#[tokio::test]
async fn describes_a_photo_sent_as_a_data_url_in_a_schema() {
    let (fake, client) = client().await;
    let description = client
        .describe_photo(JPEG, Some(Gender::Female))
        .await
        .unwrap();
    assert_eq!(description.prompt, VISION_PROMPT);
    assert_eq!(description.shot_type, ShotType::HalfBody);

    let [request] = fake.requests().try_into().unwrap();
    assert_eq!(request.status, 200);
    assert_eq!(
        request.authorization.as_deref(),
        Some("Bearer sk-test-never-in-logs")
    );
    assert_eq!(request.body["model"], "vision-model");
    let expected = base64::engine::general_purpose::STANDARD.encode(JPEG);
    assert_eq!(
        request.image_url(),
        Some(format!("data:image/jpeg;base64,{expected}").as_str())
    );
    let instructions = request.body["messages"][0]["content"].as_str().unwrap();
    assert!(
        instructions.contains("portrait of a woman"),
        "{instructions}"
    );
    let format = &request.body["response_format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["strict"], true);
}

#[tokio::test]
async fn an_unreadable_answer_is_asked_for_once_more() {
    let (fake, client) = client().await;
    fake.push([OpenAiReply::Malformed]);
    assert!(client.describe_photo(JPEG, None).await.is_ok());
    assert_eq!(fake.requests().len(), 2);

    fake.push([OpenAiReply::Malformed, OpenAiReply::Malformed]);
    let err = client.describe_photo(JPEG, None).await.unwrap_err();
    assert!(matches!(err, OpenAiError::Malformed(_)), "{err:?}");
    assert_eq!(fake.requests().len(), 4, "two tries, not three");
}

#[tokio::test]
async fn failures_are_classified_for_the_caller() {
    let (fake, client) = client().await;
    fake.push([
        OpenAiReply::Refusal("I can't help with that.".into()),
        OpenAiReply::ContentFilter,
        OpenAiReply::RateLimited {
            retry_after_ms: Some(1500),
        },
        OpenAiReply::RateLimited {
            retry_after_ms: None,
        },
        OpenAiReply::InsufficientQuota,
        OpenAiReply::ServerError {
            status: 503,
            retry_after_ms: None,
        },
    ]);
    let refused = client.describe_photo(JPEG, None).await.unwrap_err();
    assert!(matches!(refused, OpenAiError::Refused(ref why) if why.contains("can't")));
    let filtered = client.describe_photo(JPEG, None).await.unwrap_err();
    assert!(matches!(filtered, OpenAiError::ContentFiltered));
    let limited = client.translate("кот").await.unwrap_err();
    assert!(limited.is_transient());
    assert_eq!(limited.retry_after(), Some(Duration::from_millis(1500)));
    // Often OpenAI names no wait (only `x-ratelimit-reset-*`): still a rate limit, retried on
    // the caller's back-off.
    let unnamed = client.translate("кот").await.unwrap_err();
    assert!(matches!(
        unnamed,
        OpenAiError::RateLimited {
            retry_after: None,
            ..
        }
    ));
    let quota = client.translate("кот").await.unwrap_err();
    assert!(matches!(quota, OpenAiError::QuotaExhausted(_)) && !quota.is_transient());
    let server = client.translate("кот").await.unwrap_err();
    assert!(matches!(server, OpenAiError::Server { status: 503, .. }) && server.is_transient());
    assert_eq!(
        fake.requests().len(),
        6,
        "none of these is retried by the client"
    );
}

#[tokio::test]
async fn translates_to_the_answer_text() {
    let (fake, client) = client().await;
    fake.push([OpenAiReply::Text("  \"a cat in boots\"\n".into())]);
    assert_eq!(
        client.translate("кот в сапогах").await.unwrap(),
        "a cat in boots"
    );
    let [request] = fake.requests().try_into().unwrap();
    assert_eq!(request.body["messages"][1]["content"], "кот в сапогах");
    assert!(request.image_url().is_none());
}

/// Reasoning models refuse any temperature but the default: none is sent to them.
#[tokio::test]
async fn a_reasoning_model_gets_no_temperature() {
    let fake = FakeOpenAi::start().await;
    for model in ["gpt-5-mini", "o4-mini", "openrouter/o3"] {
        let key = SecretString::from("sk-test-never-in-logs");
        let client = OpenAiClient::new(reqwest::Client::new(), &fake.url, key, model);
        assert!(client.translate("кот").await.is_ok(), "{model}");
    }
    for request in fake.requests() {
        assert_eq!(request.status, 200);
        assert!(
            request.body.get("temperature").is_none(),
            "{}",
            request.body
        );
    }
}

#[tokio::test]
async fn the_model_check_reaches_the_api() {
    let (_fake, client) = client().await;
    client.check_model().await.unwrap();
}

#[tokio::test]
async fn an_unreachable_api_is_a_transient_network_error() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = OpenAiClient::new(
        reqwest::Client::new(),
        "http://127.0.0.1:9/v1",
        SecretString::from("k"),
        "m",
    );
    let err = client.translate("кот").await.unwrap_err();
    assert!(
        matches!(err, OpenAiError::Network(_)) && err.is_transient(),
        "{err:?}"
    );
}
