//! Metric names, described once; the recorder is process-wide, so tests that start several
//! applications in one process share it.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

pub const UPDATES_RECEIVED: &str = "updates_received_total";
pub const UPDATES_DUPLICATE: &str = "updates_duplicate_total";
pub const UPDATES_REJECTED: &str = "updates_rejected_total";
pub const UPDATES_PROCESSED: &str = "updates_processed_total";
pub const UPDATES_FAILED: &str = "updates_failed_total";
pub const UPDATES_DEAD: &str = "updates_dead_lettered_total";
pub const INBOX_PENDING: &str = "inbox_pending";
pub const INBOX_LAG: &str = "inbox_lag_seconds";
pub const OUTBOX_PENDING: &str = "outbox_pending";
pub const OUTBOUND_SENT: &str = "telegram_calls_total";
pub const OUTBOUND_ERRORS: &str = "telegram_errors_total";
pub const OUTBOUND_429: &str = "telegram_429_total";
pub const JOBS_DEPTH: &str = "generation_jobs";
pub const JOB_STEPS: &str = "generation_steps_total";
pub const JOBS_FINISHED: &str = "generation_jobs_finished_total";
pub const JOB_DURATION: &str = "generation_job_seconds";
pub const PROVIDER_ERRORS: &str = "provider_errors_total";
pub const FAL_WEBHOOKS: &str = "fal_webhooks_total";
pub const TRAININGS_FINISHED: &str = "trainings_finished_total";
pub const LEDGER_TOTAL: &str = "ledger_credits";
pub const PROMPT_STEPS: &str = "prompt_job_steps_total";
pub const PROMPT_PENDING: &str = "prompt_jobs_pending";
pub const FAL_KEY_REFRESHES: &str = "fal_webhook_key_refreshes_total";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder is installed, which then records instead.
            let _ = metrics::set_global_recorder(recorder);
            describe();
            handle
        })
        .clone()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge};
    describe_counter!(
        UPDATES_RECEIVED,
        "Telegram updates stored by the webhook or poller"
    );
    describe_counter!(
        UPDATES_DUPLICATE,
        "Updates Telegram delivered again (ignored)"
    );
    describe_counter!(UPDATES_REJECTED, "Webhook requests refused, by reason");
    describe_counter!(
        FAL_KEY_REFRESHES,
        "Fetches of FAL's webhook keys, by outcome (ok, failed)"
    );
    describe_counter!(UPDATES_PROCESSED, "Updates the dispatcher finished");
    describe_counter!(
        UPDATES_FAILED,
        "Update attempts that failed and will be retried"
    );
    describe_counter!(UPDATES_DEAD, "Updates given up on after repeated failures");
    describe_gauge!(INBOX_PENDING, "Stored updates not yet processed");
    describe_gauge!(INBOX_LAG, "Age of the oldest unprocessed update");
    describe_gauge!(OUTBOX_PENDING, "Bot API calls waiting to be sent");
    describe_counter!(OUTBOUND_SENT, "Bot API calls made, by method and outcome");
    describe_counter!(OUTBOUND_ERRORS, "Bot API call failures, by kind");
    describe_counter!(OUTBOUND_429, "429 Too Many Requests answers from Telegram");
    describe_gauge!(JOBS_DEPTH, "Generation jobs queued or running, by status");
    describe_counter!(JOB_STEPS, "Generation job steps, by outcome");
    describe_counter!(JOBS_FINISHED, "Generation jobs finished, by outcome");
    metrics::describe_histogram!(JOB_DURATION, "Seconds from queueing to a delivered image");
    describe_counter!(
        PROVIDER_ERRORS,
        "Failed provider calls, by provider and kind"
    );
    describe_counter!(FAL_WEBHOOKS, "FAL webhooks received, by outcome");
    describe_counter!(TRAININGS_FINISHED, "Avatar trainings finished, by outcome");
    describe_gauge!(LEDGER_TOTAL, "Sum of ledger amounts, by entry kind");
    describe_counter!(
        PROMPT_STEPS,
        "Language model requests (photo prompts, translations), by kind and outcome"
    );
    describe_gauge!(
        PROMPT_PENDING,
        "Language model requests waiting or retrying"
    );
}
