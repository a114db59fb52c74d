//! Alerts to a webhook: blocks, quarantine releases, takedowns, and advisories that
//! match versions already downloaded.
//!
//! The body is generic JSON with a `text` field, which is also the shape Slack's
//! incoming webhooks accept. Delivery runs in its own task with retries and backoff;
//! a failure is logged and never delays a request (a full queue drops the alert with
//! a warning rather than wait).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;
use url::Url;

const QUEUE: usize = 1_024;
const ATTEMPTS: u32 = 4;

/// One alert.
#[derive(Clone, Debug, Serialize)]
pub struct Alert {
    /// `block`, `quarantine-release`, `takedown` or `advisory-exposure`.
    pub event: &'static str,
    /// One line for people (Slack shows it).
    pub text: String,
    pub details: serde_json::Value,
}

#[derive(Clone)]
pub(crate) struct Alerts {
    sender: Option<mpsc::Sender<Alert>>,
    sent: Arc<Mutex<HashSet<String>>>,
}

impl Alerts {
    /// Starts delivering to `webhook`; without one, alerts are only logged.
    pub(crate) fn start(webhook: Option<Url>) -> Self {
        let sender = webhook.map(|url| {
            let (sender, receiver) = mpsc::channel(QUEUE);
            tokio::spawn(deliver(url, receiver));
            sender
        });
        Self {
            sender,
            sent: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    pub(crate) fn send(&self, alert: Alert) {
        tracing::warn!(event = alert.event, "{}", alert.text);
        let Some(sender) = &self.sender else {
            return;
        };
        if sender.try_send(alert).is_err() {
            tracing::warn!("the alert queue is full; an alert was not delivered");
        }
    }

    /// Sends an alert once per `key` for the life of the process (a blocked version
    /// asked for a thousand times is one alert).
    pub(crate) fn send_once(&self, key: String, alert: Alert) {
        let first = self
            .sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key);
        if first {
            self.send(alert);
        }
    }
}

async fn deliver(url: Url, mut receiver: mpsc::Receiver<Alert>) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "could not build the webhook client; alerts will only be logged");
            return;
        }
    };
    while let Some(alert) = receiver.recv().await {
        let body = match serde_json::to_vec(&alert) {
            Ok(body) => body,
            Err(error) => {
                tracing::error!(%error, "could not encode an alert");
                continue;
            }
        };
        let mut delay = Duration::from_millis(500);
        for attempt in 1..=ATTEMPTS {
            let result = client
                .post(url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await;
            match result {
                Ok(response) if response.status().is_success() => break,
                Ok(response) => {
                    tracing::warn!(
                        status = response.status().as_u16(),
                        attempt,
                        event = alert.event,
                        "webhook refused an alert"
                    );
                }
                Err(error) => {
                    tracing::warn!(%error, attempt, event = alert.event, "webhook unreachable");
                }
            }
            if attempt == ATTEMPTS {
                tracing::error!(event = alert.event, text = %alert.text, "alert not delivered after {ATTEMPTS} attempts");
            } else {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
    }
}
