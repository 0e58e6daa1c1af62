//! FAL webhook verification against the fake FAL's JWKS over a real socket: verifying never
//! fetches, and a failed refresh keeps the keys that verify.
#![allow(clippy::unwrap_used)] // integration tests: a panic is the failure report

use studio_providers::fal::{SignedHeaders, VerifyError, WebhookVerifier};
use studio_testkit::{FAL_USER_ID, FakeFal};

fn headers<'a>(request_id: &'a str, timestamp: &'a str, signature: &'a str) -> SignedHeaders<'a> {
    SignedHeaders {
        request_id,
        user_id: FAL_USER_ID,
        timestamp,
        signature,
    }
}

#[tokio::test]
async fn forged_requests_never_fetch_and_a_failed_refresh_keeps_the_keys() {
    let fal = FakeFal::start().await;
    let verifier = WebhookVerifier::new(reqwest::Client::new(), &fal.url);
    let now = 1_800_000_000;
    let body = br#"{"request_id":"req-1","status":"OK","payload":{}}"#;
    let signature = fal.sign("req-1", now, body);
    let stamp = now.to_string();

    // Before any refresh there is nothing to verify with, and verifying fetches nothing.
    let early = verifier.verify(headers("req-1", &stamp, &signature), body, now);
    assert!(matches!(early, Err(VerifyError::Keys)));
    assert_eq!(fal.jwks_fetches(), 0);

    assert_eq!(verifier.refresh().await.unwrap(), 1);
    verifier
        .verify(headers("req-1", &stamp, &signature), body, now)
        .unwrap();
    // Forgeries are refused without a fetch, however many.
    for forged in ["00", "zz", &fal.sign("another", now, body)] {
        let refused = verifier.verify(headers("req-1", &stamp, forged), body, now);
        assert!(matches!(refused, Err(VerifyError::BadSignature)));
    }
    assert_eq!(fal.jwks_fetches(), 1);

    // FAL's JWKS is down: the refresh fails, the keys we have still verify.
    fal.fail_jwks(true);
    assert!(verifier.refresh().await.is_err());
    verifier
        .verify(headers("req-1", &stamp, &signature), body, now)
        .unwrap();
}

/// FAL signs every account's webhooks with the same keys: pinned to our user id, a signed
/// webhook for another account is refused.
#[tokio::test]
async fn a_pinned_verifier_takes_only_its_users_webhooks() {
    let fal = FakeFal::start().await;
    let verifier = WebhookVerifier::new(reqwest::Client::new(), &fal.url)
        .pinned_to(Some(FAL_USER_ID.to_owned()));
    verifier.refresh().await.unwrap();
    let now = 1_800_000_000;
    let body = br#"{"request_id":"req-1","status":"OK","payload":{}}"#;
    let (stamp, signature) = (now.to_string(), fal.sign("req-1", now, body));
    verifier
        .verify(headers("req-1", &stamp, &signature), body, now)
        .unwrap();
    // The same keys sign for another account: its id is in the signed message.
    let theirs = fal.sign_for_user("someone-else", "req-1", now, body);
    let other = SignedHeaders {
        user_id: "someone-else",
        ..headers("req-1", &stamp, &theirs)
    };
    assert!(matches!(
        verifier.verify(other, body, now),
        Err(VerifyError::User)
    ));
    let unpinned = WebhookVerifier::new(reqwest::Client::new(), &fal.url);
    unpinned.refresh().await.unwrap();
    assert!(
        unpinned.verify(other, body, now).is_ok(),
        "what the pin is for"
    );
}
