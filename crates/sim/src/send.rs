//! `sealbox-sim send`: seal each planned message to the practice's pools and
//! post it to the hub's patient channel, paced and in parallel; a message's
//! attachments are sealed under keys of their own and put first.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use reqwest::{Client, StatusCode};

use sealbox_crypto::attachment::seal_for_message;
use sealbox_model::category::Category;
use sealbox_model::hub_api::{Base64Bytes, PatientMessageRequest, PracticeFile};
use sealbox_model::message::{AttachmentRef, MessagePart};

use crate::client::url;
use crate::seal::{seal_message, PoolKeys};
use crate::traffic::{PlannedAttachment, PlannedMessage};
use crate::SimError;

/// How to send.
#[derive(Debug, Clone, Copy)]
pub struct SendOptions {
    /// Messages per second overall; `None` sends as fast as the hub takes them.
    pub rate_per_sec: Option<f64>,
    /// Requests in flight at once.
    pub concurrency: usize,
}

impl Default for SendOptions {
    fn default() -> Self {
        SendOptions { rate_per_sec: None, concurrency: 16 }
    }
}

/// What a run did. Counts and times only: no message content.
#[derive(Debug, Default, Clone)]
pub struct SendSummary {
    /// Accepted as new (201).
    pub accepted: usize,
    /// Accepted as a repeat of an earlier post (200): retry-safe.
    pub duplicates: usize,
    /// Refused for good, by HTTP status.
    pub refused: BTreeMap<u16, usize>,
    /// Times the hub asked us to slow down (429) and we retried.
    pub throttled_retries: usize,
    /// Accepted messages per category.
    pub by_category: BTreeMap<&'static str, usize>,
    /// Accepted red-flag messages.
    pub red_flags: usize,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Time from sending a request to its answer, per accepted message.
    pub latencies: Vec<Duration>,
}

impl SendSummary {
    /// Accepted messages per second over the run.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            (self.accepted + self.duplicates) as f64 / secs
        } else {
            0.0
        }
    }
}

impl fmt::Display for SendSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "sent {} messages ({} new, {} duplicates) in {:.2} s: {:.0} messages/s",
            self.accepted + self.duplicates,
            self.accepted,
            self.duplicates,
            self.elapsed.as_secs_f64(),
            self.rate()
        )?;
        for (category, n) in &self.by_category {
            writeln!(f, "  {category:<20} {n}")?;
        }
        writeln!(f, "  red flags            {}", self.red_flags)?;
        if self.throttled_retries > 0 {
            writeln!(f, "  retried after 429    {}", self.throttled_retries)?;
        }
        for (status, n) in &self.refused {
            writeln!(f, "  refused with {status}     {n}")?;
        }
        Ok(())
    }
}

enum Outcome {
    Accepted { duplicate: bool, latency: Duration, category: Category, red_flag: bool },
    Refused(u16),
}

/// The practice's pool keys, from its signed key directory under the
/// practice key the practice file names (`crate::directory`). A file that
/// names none (written before the practice admin set the practice up) is
/// refused: patients seal only to pool keys signed with the practice key.
pub async fn fetch_pool_keys(
    client: &Client,
    hub: &str,
    practice: &PracticeFile,
) -> Result<PoolKeys, SimError> {
    let pinned = practice.practice_key.as_ref().ok_or_else(|| {
        SimError::PracticeFormat(
            "the practice file names no practice key: issue it again (`sealbox-hub patient-channels`) once the practice admin has set the practice up".to_owned(),
        )
    })?;
    crate::directory::signed_pool_keys(client, hub, practice, pinned).await
}

/// Seals and posts `plan`; returns what happened. A message the hub refuses
/// is counted, never silently dropped; throttling (429) is retried.
pub async fn send(
    client: &Client,
    hub: &str,
    practice: &PracticeFile,
    plan: &[PlannedMessage],
    options: SendOptions,
) -> Result<SendSummary, SimError> {
    let pools = fetch_pool_keys(client, hub, practice).await?;
    let start = Instant::now();
    let tokio_start = tokio::time::Instant::now();
    let pace = options.rate_per_sec.filter(|r| *r > 0.0).map(|r| Duration::from_secs_f64(1.0 / r));
    let mut summary = SendSummary::default();
    let mut throttled = 0usize;

    let mut outcomes = stream::iter(plan.iter().enumerate())
        .map(|(i, planned)| {
            let pools = &pools;
            async move {
                if let Some(step) = pace {
                    tokio::time::sleep_until(tokio_start + step.mul_f64(i as f64)).await;
                }
                post_one(client, hub, practice, pools, planned).await
            }
        })
        .buffer_unordered(options.concurrency.max(1));

    while let Some(result) = outcomes.next().await {
        let (outcome, retries) = result?;
        throttled += retries;
        match outcome {
            Outcome::Accepted { duplicate, latency, category, red_flag } => {
                if duplicate {
                    summary.duplicates += 1;
                } else {
                    summary.accepted += 1;
                }
                *summary.by_category.entry(category.key()).or_default() += 1;
                summary.red_flags += usize::from(red_flag);
                summary.latencies.push(latency);
            }
            Outcome::Refused(status) => *summary.refused.entry(status).or_default() += 1,
        }
    }
    summary.throttled_retries = throttled;
    summary.elapsed = start.elapsed();
    Ok(summary)
}

const MAX_THROTTLE_RETRIES: usize = 20;

/// Sends the request `build` makes, again after each 429 (waiting as the
/// hub asks, up to [`MAX_THROTTLE_RETRIES`] times): the last answer, the
/// retries and the time the last request took.
async fn with_retries(
    target: &str,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<(reqwest::Response, usize, Duration), SimError> {
    let mut retries = 0;
    loop {
        let sent_at = Instant::now();
        let resp = build()
            .send()
            .await
            .map_err(|source| SimError::Unreachable { url: target.to_owned(), source })?;
        let latency = sent_at.elapsed();
        if resp.status() != StatusCode::TOO_MANY_REQUESTS || retries >= MAX_THROTTLE_RETRIES {
            return Ok((resp, retries, latency));
        }
        retries += 1;
        let wait = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(1);
        tokio::time::sleep(Duration::from_secs(wait.clamp(1, 60))).await;
    }
}

/// Seals `file` under a key of its own for its place and puts it at the
/// hub: the reference (with the key) the message's sealed part carries, or
/// the status the hub refused it with (the message is then counted refused,
/// not sent without it).
async fn put_attachment(
    client: &Client,
    hub: &str,
    practice: &PracticeFile,
    token: &str,
    planned: &PlannedMessage,
    file: &PlannedAttachment,
) -> Result<(Result<AttachmentRef, u16>, usize), SimError> {
    let (reference, blob) =
        seal_for_message(file.bytes, file.media_type, &practice.practice_id, planned.thread_id.0)
            .map_err(|e| SimError::Seal(e.to_string()))?;
    let target =
        url(hub, &format!("/v1/patient/threads/{}/attachments/{}", planned.thread_id.0, reference.id.0));
    let (resp, retries, _) = with_retries(&target, || {
        client
            .put(&target)
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(blob.clone())
    })
    .await?;
    if !resp.status().is_success() {
        return Ok((Err(resp.status().as_u16()), retries));
    }
    Ok((Ok(reference), retries))
}

async fn post_one(
    client: &Client,
    hub: &str,
    practice: &PracticeFile,
    pools: &PoolKeys,
    planned: &PlannedMessage,
) -> Result<(Outcome, usize), SimError> {
    let patient = practice.patients.get(planned.patient).ok_or_else(|| {
        SimError::Usage(format!("the plan names patient {} of {}", planned.patient, practice.patients.len()))
    })?;
    let token = &patient.channel_token.0;
    let mut retries = 0;
    let mut sent = planned.clone();
    for file in &planned.attachments {
        let (put, r) = put_attachment(client, hub, practice, token, planned, file).await?;
        retries += r;
        match put {
            Ok(reference) => sent.parts.push(MessagePart::Attachment(reference)),
            Err(status) => return Ok((Outcome::Refused(status), retries)),
        }
    }
    let envelope = seal_message(&practice.practice_id, patient, pools, &sent)?;
    let body = PatientMessageRequest {
        thread_id: planned.thread_id,
        message_id: planned.message_id,
        category: planned.category,
        envelope: Base64Bytes(envelope),
    };
    let target = url(hub, "/v1/patient/messages");
    let (resp, r, latency) =
        with_retries(&target, || client.post(&target).bearer_auth(token).json(&body)).await?;
    retries += r;
    let outcome = match resp.status() {
        StatusCode::CREATED | StatusCode::OK => Outcome::Accepted {
            duplicate: resp.status() == StatusCode::OK,
            latency,
            category: planned.category,
            red_flag: planned.red_flag,
        },
        other => Outcome::Refused(other.as_u16()),
    };
    Ok((outcome, retries))
}
