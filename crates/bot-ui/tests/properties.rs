//! Properties of what turns untrusted input into decisions: update parsing and intent
//! routing, the callback codec, and locale filling. `scripts/fuzz.sh` runs them with many more
//! cases; a failure found there is kept as a case below.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use proptest::prelude::*;
use serde_json::{Value, json};
use studio_bot_ui::{Callback, Dialog, Update, escape, fill, intent};

/// Every dialog a chat can be in when an update arrives.
fn dialogs() -> Vec<Dialog> {
    let stored = [
        r#""Idle""#,
        r#"{"AwaitingName":{"gender":"female"}}"#,
        r#"{"UploadingPhotos":{"avatar":3}}"#,
        r#"{"AwaitingRename":{"avatar":3}}"#,
        r#""AwaitingPromo""#,
        r#"{"AwaitingPrompt":{"avatar":3}}"#,
        r#"{"ChoosingRatio":{"avatar":3,"prompt":"a knight"}}"#,
        r#"{"AwaitingReference":{"avatar":3}}"#,
        r#"{"AwaitingModel":{"avatar":3,"job":9}}"#,
        "not json at all",
    ];
    stored
        .iter()
        .map(|s| Dialog::from_stored(Some(s)))
        .collect()
}

/// Updates of every shape a chat sends, with arbitrary contents.
fn updates() -> impl Strategy<Value = Value> {
    let text = ".{0,300}";
    let message = |body: Value| {
        json!({"update_id": 1, "message": {"message_id": 2, "date": 0,
            "from": {"id": 5, "is_bot": false, "first_name": "A"},
            "chat": {"id": 5, "type": "private"}}})
        .as_object()
        .map(|u| {
            let mut u = Value::Object(u.clone());
            if let (Some(m), Some(b)) = (u["message"].as_object_mut(), body.as_object()) {
                m.extend(b.clone());
            }
            u
        })
        .unwrap()
    };
    prop_oneof![
        text.prop_map(move |t| message(json!({"text": t}))),
        (text, any::<u32>(), ".{0,20}").prop_map(move |(name, size, mime)| message(
            json!({"document": {"file_id": "d", "file_unique_id": "d", "file_name": name,
                "mime_type": mime, "file_size": size}})
        )),
        (any::<u32>(), any::<u32>(), any::<u32>()).prop_map(move |(w, h, size)| message(
            json!({"photo": [{"file_id": "p", "file_unique_id": "p", "width": w,
                "height": h, "file_size": size}]})
        )),
        (text, any::<u32>()).prop_map(move |(payload, amount)| message(
            json!({"successful_payment": {"currency": "XTR", "total_amount": amount,
                "invoice_payload": payload, "telegram_payment_charge_id": "c",
                "provider_payment_charge_id": ""}})
        )),
        ".{0,80}".prop_map(|data| json!({"update_id": 1, "callback_query": {"id": "q",
            "from": {"id": 5, "is_bot": false, "first_name": "A"}, "chat_instance": "1",
            "data": data, "message": {"message_id": 2, "date": 0,
            "chat": {"id": 5, "type": "private"}}}})),
        (text, any::<u32>()).prop_map(|(payload, amount)| json!({"update_id": 1,
            "pre_checkout_query": {"id": "pc", "from": {"id": 5, "is_bot": false,
            "first_name": "A"}, "currency": "XTR", "total_amount": amount,
            "invoice_payload": payload}})),
    ]
}

proptest! {
    #[test]
    fn any_bytes_parse_or_are_refused(raw in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Update::parse(&String::from_utf8_lossy(&raw));
    }

    #[test]
    fn any_update_routes_in_any_dialog(update in updates()) {
        let update = Update::parse(&update.to_string()).unwrap();
        for dialog in dialogs() {
            let _ = intent(&dialog, &update);
        }
    }

    #[test]
    fn any_callback_data_decodes_or_is_refused(data in ".{0,100}") {
        let _ = Callback::decode(&data);
    }

    #[test]
    fn what_decodes_encodes_back_within_telegrams_64_bytes(
        data in "1:[a-z]{1,2}:[a-z]{1,6}(:[0-9a-z]{1,20}){0,3}"
    ) {
        if let Some(callback) = Callback::decode(&data) {
            let encoded = callback.encode();
            prop_assert!(encoded.len() <= 64, "{encoded}");
            prop_assert_eq!(Callback::decode(&encoded), Some(callback));
        }
    }

    #[test]
    fn fill_substitutes_once_whatever_the_values(
        before in "[^{}]{0,20}", after in "[^{}]{0,20}", value in ".{0,40}"
    ) {
        let template = format!("{before}{{name}}{after}{{count}}");
        let filled = fill(&template, &[("name", &value), ("count", "{name}")]);
        // A value holding a slot is shown as written (escaped for HTML), never expanded again.
        let (value, slot) = (escape(&value), escape("{name}"));
        prop_assert_eq!(filled, format!("{before}{value}{after}{slot}"));
    }
}
