//! The hub's clinician API over HTTP (reqwest, rustls): sync pages,
//! action batches and the event stream. Every body is read with a size
//! limit and decoded into the wire types; a failure is a [`SyncError`] that
//! names where the reply broke, never what it held.

use std::time::Duration;

use reqwest::{Client, Response, StatusCode};
use sealbox_crypto::attachment::MAX_BLOB_BYTES;
use sealbox_model::hub_api::{ActionsRequest, ActionsResponse, Cursor, PushEvent, SyncPage};
use sealbox_model::ids::AttachmentId;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use super::SyncError;

/// The largest sync page or action reply accepted (a 500-change page of
/// typical envelopes is well under 1 MiB).
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// The largest single event accepted.
pub const MAX_EVENT: usize = 64 * 1024;
/// The largest identity or device reply accepted (challenges, sessions).
const MAX_SMALL_REPLY: usize = 256 * 1024;
/// Changes per sync page asked for.
pub const PAGE_LIMIT: u32 = 500;

/// A signed-in connection to one hub. `Debug` hides the token.
#[derive(Clone)]
pub struct HubClient {
    http: Client,
    base: String,
    token: Zeroizing<String>,
}

impl std::fmt::Debug for HubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubClient").field("base", &self.base).finish_non_exhaustive()
    }
}

/// Refuses a hub address that would send tokens in clear: anything but
/// https, except http to a loopback address (a hub on this machine).
pub fn check_transport(base: &str) -> Result<(), SyncError> {
    let url = reqwest::Url::parse(base.trim()).map_err(|_| SyncError::InsecureHub)?;
    let host = url.host_str().unwrap_or("");
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(SyncError::InsecureHub),
    }
}

fn unreachable(e: &reqwest::Error) -> SyncError {
    SyncError::Unreachable(if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "connection broke mid-reply"
    } else {
        "request failed"
    })
}

impl HubClient {
    /// A client for the hub at `base` (e.g. `https://hub.example:8443`)
    /// using the session `token`.
    /// The address must be https, or http to this machine's loopback.
    pub fn new(base: &str, token: String) -> Result<Self, SyncError> {
        check_transport(base)?;
        // Installing twice is harmless; the first provider stays.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = Client::builder()
            // The API never redirects; following one could carry the
            // bearer token to another address or down to plain http.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(Duration::from_secs(30))
            .build()
            .map_err(|_| SyncError::Client)?;
        Ok(HubClient { http, base: base.trim_end_matches('/').to_owned(), token: Zeroizing::new(token) })
    }

    /// A client for the hub at `base` before sign-in (enrolment and login).
    pub fn anonymous(base: &str) -> Result<Self, SyncError> {
        Self::new(base, String::new())
    }

    /// The hub's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// One JSON request: `body` (if any) out, the reply decoded, or `None`
    /// for an empty reply. The bearer token goes with it when set.
    pub(crate) async fn call<B: serde::Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<Option<T>, SyncError> {
        let mut req = self.http.request(method, self.url(path)).timeout(Duration::from_secs(30));
        if !self.token.is_empty() {
            req = req.bearer_auth(self.token.as_str());
        }
        if let Some(body) = body {
            let bytes = serde_json::to_vec(body)
                .map_err(|_| SyncError::Protocol("a request could not be encoded"))?;
            req = req.header(reqwest::header::CONTENT_TYPE, "application/json").body(bytes);
        }
        let resp = checked(req.send().await.map_err(|e| unreachable(&e))?).await?;
        let body = read_limited(resp, MAX_SMALL_REPLY).await?;
        if body.is_empty() {
            return Ok(None);
        }
        serde_json::from_slice(&body).map(Some).map_err(|e| malformed(&e))
    }

    /// `GET /v1/sync?cursor=…&limit=…`.
    pub async fn sync_page(&self, cursor: Cursor, limit: u32) -> Result<SyncPage, SyncError> {
        let resp = self
            .http
            .get(self.url(&format!("/v1/sync?cursor={}&limit={limit}", cursor.0)))
            .bearer_auth(self.token.as_str())
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        let page: SyncPage = decode(checked(resp).await?, MAX_BODY).await?;
        if page.next_cursor.0 < cursor.0 {
            return Err(SyncError::Protocol("the next cursor is behind the one asked for"));
        }
        Ok(page)
    }

    /// `POST /v1/actions`: one batch, results in the request's order.
    pub async fn post_actions(&self, batch: &ActionsRequest) -> Result<ActionsResponse, SyncError> {
        let body =
            serde_json::to_vec(batch).map_err(|_| SyncError::Protocol("an action could not be encoded"))?;
        let resp = self
            .http
            .post(self.url("/v1/actions"))
            .bearer_auth(self.token.as_str())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        let reply: ActionsResponse = decode(checked(resp).await?, MAX_BODY).await?;
        if reply.results.len() != batch.actions.len()
            || reply.results.iter().zip(&batch.actions).any(|(r, a)| r.idempotency_key != a.idempotency_key)
        {
            return Err(SyncError::Protocol("the action results do not match the batch"));
        }
        Ok(reply)
    }

    /// `GET /v1/attachments/{id}`: a sealed attachment's blob (opened by
    /// `workstation::attachment`; the hub holds no key to it).
    pub async fn attachment(&self, id: &AttachmentId) -> Result<Vec<u8>, SyncError> {
        if !AttachmentId::is_valid(&id.0) {
            return Err(SyncError::Protocol("an attachment id is malformed"));
        }
        let resp = self
            .http
            .get(self.url(&format!("/v1/attachments/{}", id.0)))
            .bearer_auth(self.token.as_str())
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        read_limited(checked(resp).await?, MAX_BLOB_BYTES).await
    }

    /// Opens `GET /v1/events`.
    pub async fn events(&self) -> Result<EventStream, SyncError> {
        let resp = self
            .http
            .get(self.url("/v1/events"))
            .bearer_auth(self.token.as_str())
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        Ok(EventStream { resp: checked(resp).await?, buf: Vec::new() })
    }
}

/// An open event stream.
#[derive(Debug)]
pub struct EventStream {
    resp: Response,
    buf: Vec<u8>,
}

impl EventStream {
    /// The next event, waiting at most `stall` for bytes (the hub sends a
    /// keep-alive comment well within it). `Ok(None)`: the hub closed it.
    pub async fn next(&mut self, stall: Duration) -> Result<Option<PushEvent>, SyncError> {
        loop {
            while let Some(end) = self.buf.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buf.drain(..end + 2).collect();
                if let Some(event) = parse_event(&block)? {
                    return Ok(Some(event));
                }
            }
            if self.buf.len() > MAX_EVENT {
                return Err(SyncError::TooLarge { limit: MAX_EVENT });
            }
            let chunk = tokio::time::timeout(stall, self.resp.chunk())
                .await
                .map_err(|_| SyncError::Stalled { secs: stall.as_secs() })?
                .map_err(|e| unreachable(&e))?;
            match chunk {
                Some(bytes) => self.buf.extend_from_slice(&bytes),
                None => return Ok(None),
            }
        }
    }
}

/// One SSE block → its event, if it carries data (comments do not).
fn parse_event(block: &[u8]) -> Result<Option<PushEvent>, SyncError> {
    let mut data: Vec<u8> = Vec::new();
    for line in block.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(rest) = line.strip_prefix(b"data:") {
            data.extend_from_slice(rest.strip_prefix(b" ").unwrap_or(rest));
        }
    }
    if data.is_empty() {
        return Ok(None);
    }
    serde_json::from_slice(&data).map(Some).map_err(|e| malformed(&e))
}

/// An error status → its typed error (the problem body's code only).
async fn checked(resp: Response) -> Result<Response, SyncError> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    if status == StatusCode::UNAUTHORIZED {
        return Err(SyncError::SessionEnded);
    }
    let body = read_limited(resp, 64 * 1024).await.ok();
    Err(SyncError::Status { status: status.as_u16(), code: problem_code(body.as_deref()) })
}

/// The machine code of a problem body: the last part of its type URI
/// (`urn:sealbox:problem:invite_used`, or a URL ending `/invite_used`);
/// "unknown" for anything else, so nothing a hostile reply says travels
/// further than a short word.
fn problem_code(body: Option<&[u8]>) -> String {
    body.and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        .and_then(|v| {
            v.get("type")
                .and_then(|t| t.as_str())
                .and_then(|t| t.rsplit(['/', ':']).next())
                .map(str::to_owned)
        })
        .filter(|c| {
            !c.is_empty() && c.len() <= 64 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

async fn read_limited(mut resp: Response, limit: usize) -> Result<Vec<u8>, SyncError> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(SyncError::TooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| unreachable(&e))? {
        if body.len() + chunk.len() > limit {
            return Err(SyncError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn malformed(e: &serde_json::Error) -> SyncError {
    SyncError::Malformed {
        what: format!("{:?} error at line {} column {}", e.classify(), e.line(), e.column()),
    }
}

async fn decode<T: DeserializeOwned>(resp: Response, limit: usize) -> Result<T, SyncError> {
    let body = read_limited(resp, limit).await?;
    serde_json::from_slice(&body).map_err(|e| malformed(&e))
}

#[cfg(test)]
mod transport_tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    #[test]
    fn a_problem_code_is_the_last_word_of_its_type_and_nothing_else() {
        let code = |body: &str| problem_code(Some(body.as_bytes()));
        // What the hub sends (ApiError::problem).
        assert_eq!(
            code(r#"{"type":"urn:sealbox:problem:demo_key_refused","status":403}"#),
            "demo_key_refused"
        );
        assert_eq!(code(r#"{"type":"https://hub.example/problems/invite_used"}"#), "invite_used");
        for hostile in [
            r#"{"type":"https://x/<script>marker","status":500}"#,
            r#"{"type":"urn:sealbox:problem:"}"#,
            r#"{"type":7}"#,
            "not json",
        ] {
            assert_eq!(code(hostile), "unknown", "{hostile}");
        }
        assert_eq!(problem_code(None), "unknown");
        let long = format!(r#"{{"type":"urn:x:{}"}}"#, "a".repeat(65));
        assert_eq!(code(&long), "unknown");
    }

    #[test]
    fn plain_http_is_refused_except_to_this_machine() {
        for refused in ["http://hub.example:8080", "http://10.0.0.5", "ftp://hub.example", "hub.example", ""]
        {
            assert!(matches!(check_transport(refused), Err(SyncError::InsecureHub)), "{refused}");
            assert!(
                matches!(HubClient::new(refused, "t".to_owned()), Err(SyncError::InsecureHub)),
                "{refused}"
            );
        }
        for allowed in
            ["https://hub.example:8443", "http://127.0.0.1:9000", "http://localhost:1", "http://[::1]:80"]
        {
            assert!(check_transport(allowed).is_ok(), "{allowed}");
        }
    }

    /// A hub (or whoever answers in its place) that redirects elsewhere must
    /// not receive a second request from us: the token would follow it.
    #[tokio::test]
    async fn a_redirect_is_not_followed_with_the_token() {
        let thief = TcpListener::bind("127.0.0.1:0").unwrap();
        thief.set_nonblocking(true).unwrap();
        let thief_at = thief.local_addr().unwrap();
        let hub = TcpListener::bind("127.0.0.1:0").unwrap();
        let hub_at = hub.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = hub.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf).unwrap();
            let reply = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://{thief_at}/v1/sync\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            conn.write_all(reply.as_bytes()).unwrap();
        });
        let client = HubClient::new(&format!("http://{hub_at}"), "secret-token".to_owned()).unwrap();
        let result = client.sync_page(Cursor(0), 10).await;
        server.join().unwrap();
        assert!(matches!(result, Err(SyncError::Status { status: 307, .. })), "{result:?}");
        assert!(
            matches!(thief.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "the redirect was followed"
        );
    }
}
