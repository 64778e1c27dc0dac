//! The `sealbox-hub` binary: serve (plain HTTP on loopback only, TLS 1.2+
//! otherwise) and patient-channels.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

mod support;

use sealbox_hub::config::HubConfig;
use sealbox_hub::db::practice;
use sealbox_hub::AppState;
use sealbox_model::hub_api::PracticeFile;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_sealbox-hub");

fn fixture(name: &str) -> PathBuf {
    // The checkout cargo runs the test in (not one baked in at build time).
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test");
    Path::new(&dir).join("tests/fixtures/tls").join(name)
}

/// Kills the server when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve` and returns it with the URL it printed.
fn serve(data_dir: &Path, extra: &[&str]) -> (Server, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(url.starts_with("http"), "unexpected output: {line:?}");
    (Server(child), url)
}

fn create_practice(dir: &Path) -> String {
    let state = AppState::open_system(HubConfig::new(dir)).unwrap();
    state.db.call_blocking(|c| practice::create(c, "Test Surgery", state.now())).unwrap().id
}

#[test]
fn plain_http_is_refused_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .args(["--addr", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing plain HTTP"), "{err}");
}

#[tokio::test]
async fn serves_plain_http_on_loopback_with_issued_channels() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("practice.json");
    // Without a practice, patient-channels explains what to do.
    let out = Command::new(BIN)
        .args(["patient-channels", "--count", "3", "--data-dir"])
        .arg(dir.path())
        .arg("--out")
        .arg(&out_file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("init-practice"));
    let practice_id = create_practice(dir.path());
    let out = Command::new(BIN)
        .args(["patient-channels", "--count", "3", "--data-dir"])
        .arg(dir.path())
        .arg("--out")
        .arg(&out_file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&out_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let file: PracticeFile = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    assert_eq!(file.practice_id, practice_id);
    assert_eq!(file.patients.len(), 3);

    let (_server, url) = serve(dir.path(), &["--addr", "127.0.0.1:0"]);
    assert!(url.starts_with("http://127.0.0.1:"));
    let client = support::client();
    let res = client
        .post(format!("{url}/v1/patient/messages"))
        .bearer_auth(&file.patients[2].channel_token.0)
        .json(&support::sealed_message(&file, 2, 5, 6, b"sealed"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
}

#[tokio::test]
async fn serves_tls_1_2_and_1_3_only() {
    let dir = tempfile::tempdir().unwrap();
    create_practice(dir.path());
    let cert = fixture("cert.pem");
    let key = fixture("key.pem");
    let (_server, url) = serve(
        dir.path(),
        &["--addr", "0.0.0.0:0", "--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()],
    );
    let port = url.rsplit(':').next().unwrap().to_owned();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let root = reqwest::Certificate::from_pem(&std::fs::read(&cert).unwrap()).unwrap();
    for max in [reqwest::tls::Version::TLS_1_2, reqwest::tls::Version::TLS_1_3] {
        let client =
            reqwest::Client::builder().tls_certs_only([root.clone()]).tls_version_max(max).build().unwrap();
        let res = client.get(format!("https://localhost:{port}/v1/practice/keys")).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200);
    }
    // Plain HTTP to the TLS port gets no API answer.
    let plain = support::client().get(format!("http://127.0.0.1:{port}/v1/health")).send().await;
    assert!(plain.map(|r| r.status().as_u16() != 200).unwrap_or(true));
    // The same ClientHello offered as TLS 1.2 gets a ServerHello; as TLS 1.1
    // (no supported_versions extension) a fatal alert.
    assert_eq!(first_record(&port, 0x03), (0x16, None), "TLS 1.2 hello answered with a handshake");
    let (kind, alert) = first_record(&port, 0x02);
    assert_eq!(kind, 0x15, "TLS 1.1 hello answered with an alert");
    assert_eq!(alert.map(|a| a[0]), Some(2), "fatal");
}

/// Sends a ClientHello with legacy version 3.`minor` and returns the first
/// record's type and, for an alert, its (level, description).
fn first_record(port: &str, minor: u8) -> (u8, Option<[u8; 2]>) {
    let mut tcp = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    tcp.write_all(&client_hello(minor)).unwrap();
    let mut head = [0u8; 5];
    tcp.read_exact(&mut head).unwrap();
    if head[0] == 0x15 {
        let mut alert = [0u8; 2];
        tcp.read_exact(&mut alert).unwrap();
        (head[0], Some(alert))
    } else {
        (head[0], None)
    }
}

fn client_hello(minor: u8) -> Vec<u8> {
    let mut body = vec![0x03, minor];
    body.extend_from_slice(&[7u8; 32]); // random
    body.push(0); // session id
    body.extend_from_slice(&[0x00, 0x02, 0xc0, 0x2b]); // ECDHE-ECDSA-AES128-GCM-SHA256
    body.extend_from_slice(&[0x01, 0x00]); // null compression
    let extensions: &[u8] = &[
        0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x17, // supported_groups: secp256r1
        0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, // ec_point_formats: uncompressed
        0x00, 0x0d, 0x00, 0x04, 0x00, 0x02, 0x04, 0x03, // signature_algorithms: ecdsa_secp256r1_sha256
    ];
    body.extend_from_slice(&[0x00, extensions.len() as u8]);
    body.extend_from_slice(extensions);
    let mut hs = vec![0x01, 0x00, (body.len() >> 8) as u8, body.len() as u8];
    hs.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01, (hs.len() >> 8) as u8, hs.len() as u8];
    record.extend_from_slice(&hs);
    record
}
