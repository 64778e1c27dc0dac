//! Operations (issue 28 point 6): `GET /metrics` in Prometheus' text
//! format, `GET /healthz` (the process answers) and `GET /readyz` (its
//! database answers). Metrics are counts and timings only: routes by their
//! template (`/v1/threads/{id}/history`, never an id), statuses, messages
//! taken, push latency, open event streams, how far behind syncs are. No
//! content, no patient or staff id, no label made from a request's values.
//! `/metrics` answers this machine only (a scraper on the hub's host, or
//! through an SSH tunnel): counts still tell an outsider how busy a
//! practice is.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::args;
use crate::http::ApiError;
use crate::state::AppState;

/// A request's labels: the route's template, its method and its status.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

/// The hub's metrics (cheap handles: clone freely).
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<RequestLabels, Counter>,
    /// Patient messages taken (duplicates of one already held not counted).
    pub ingested: Counter,
    /// From a change's commit to its push event reaching a stream, seconds.
    pub push_latency: Histogram,
    /// Event streams open now.
    pub sse_clients: Gauge,
    /// How many changes behind the hub a sync started.
    pub sync_lag: Histogram,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("sealbox_hub");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template and status",
            requests.clone(),
        );
        let ingested = Counter::default();
        registry.register("patient_messages_ingested", "Patient messages taken", ingested.clone());
        // 1 ms to ~16 s.
        let push_latency = Histogram::new(exponential_buckets(0.001, 2.0, 15));
        registry.register(
            "push_latency_seconds",
            "From a change's commit to its push event reaching an open stream",
            push_latency.clone(),
        );
        let sse_clients = Gauge::default();
        registry.register("sse_clients", "Event streams open now", sse_clients.clone());
        // 0 to ~65,000 changes.
        let sync_lag = Histogram::new(std::iter::once(0.0).chain(exponential_buckets(1.0, 4.0, 9)));
        registry.register(
            "sync_lag_changes",
            "How many changes behind the hub a sync started",
            sync_lag.clone(),
        );
        Metrics { registry: Arc::new(registry), requests, ingested, push_latency, sse_clients, sync_lag }
    }
}

impl Metrics {
    /// The metrics in Prometheus' text format (version 0.0.4).
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode_registry(&mut out, &self.registry)?;
        Ok(prometheus_text(&out))
    }

    /// Counts an open event stream until the returned guard drops.
    pub fn stream_opened(&self) -> StreamGuard {
        self.sse_clients.inc();
        StreamGuard(self.sse_clients.clone())
    }

    /// Observes a push that reached a stream, `since` its change's commit.
    pub fn pushed(&self, since: Instant) {
        self.push_latency.observe(since.elapsed().as_secs_f64());
    }
}

/// OpenMetrics text (what the client library writes) as Prometheus' own
/// format: a counter's HELP and TYPE name its samples (`…_total`), and no
/// `# EOF`.
fn prometheus_text(open_metrics: &str) -> String {
    let counters: Vec<&str> =
        open_metrics.lines().filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter")).collect();
    let mut out = String::with_capacity(open_metrics.len());
    for line in open_metrics.lines().filter(|l| *l != "# EOF") {
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let (name, rest) = line.strip_prefix(prefix)?.split_once(' ')?;
            counters.contains(&name).then(|| format!("{prefix}{name}_total {rest}"))
        });
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

/// An open event stream, counted in [`Metrics::sse_clients`] while it lives.
#[derive(Debug)]
pub struct StreamGuard(Gauge);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Counts every answered request by its route's template.
pub async fn count_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    let labels = RequestLabels { route, method, status: response.status().as_u16() };
    state.metrics.requests.get_or_create(&labels).inc();
    response
}

/// The operations routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn metrics(State(state): State<AppState>, ConnectInfo(peer): ConnectInfo<SocketAddr>) -> Response {
    metrics_text(&state.metrics, peer)
}

/// `metrics` in Prometheus' text format for a scraper on this machine;
/// from anywhere else the same 404 as an unknown endpoint.
pub fn metrics_text(metrics: &Metrics, peer: SocketAddr) -> Response {
    if !peer.ip().is_loopback() {
        return ApiError::not_found("no such endpoint").into_response();
    }
    match metrics.render() {
        Ok(text) => {
            let kind = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
            ([(header::CONTENT_TYPE, kind)], Body::from(text)).into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The process answers.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The database answers (a read on the writer's connection): ready for
/// traffic; else 503, and a load balancer sends it elsewhere.
async fn readyz(State(state): State<AppState>) -> Response {
    let answered = state.db.call(|conn| conn.query_value::<i64>("SELECT 1", args![])).await;
    readiness(matches!(answered, Ok(1)))
}

/// `/readyz`'s answer: whether the database answered.
pub fn readiness(answered: bool) -> Response {
    if answered {
        "ready".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready: the database does not answer").into_response()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tower::ServiceExt;

    #[tokio::test]
    async fn metrics_answer_this_machine_only() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::open_system(crate::config::HubConfig::new(dir.path())).unwrap();
        let app = crate::http::router(state);
        let ask = |peer: &str| {
            let peer: SocketAddr = peer.parse().unwrap();
            Request::builder().uri("/metrics").extension(ConnectInfo(peer)).body(Body::empty()).unwrap()
        };
        let here = app.clone().oneshot(ask("127.0.0.1:50000")).await.unwrap();
        assert_eq!(here.status(), StatusCode::OK);
        let v6 = app.clone().oneshot(ask("[::1]:50000")).await.unwrap();
        assert_eq!(v6.status(), StatusCode::OK);
        let away = app.oneshot(ask("192.0.2.7:50000")).await.unwrap();
        assert_eq!(away.status(), StatusCode::NOT_FOUND, "another machine is not told");
    }

    #[test]
    fn counters_are_named_as_prometheus_reads_them_and_the_end_marker_goes() {
        let open = "# HELP a_requests Requests.\n# TYPE a_requests counter\na_requests_total 3\n\
                    # HELP b_open Open.\n# TYPE b_open gauge\nb_open 1\n# EOF\n";
        assert_eq!(
            prometheus_text(open),
            "# HELP a_requests_total Requests.\n# TYPE a_requests_total counter\na_requests_total 3\n\
             # HELP b_open Open.\n# TYPE b_open gauge\nb_open 1\n"
        );
    }
}
