//! The practice's updates served by its hub (issue 26 point 3), through
//! the real binary and real HTTP: `publish-update` refuses a manifest
//! whose packages were not all given (or given but not named), a platform
//! without a signature and an address that is not a URL; published, the
//! manifest names each package under the hub's address and the hub serves
//! exactly those bytes, and nothing the manifest does not name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::process::Command;

use sealbox_hub::config::RatePolicy;
use support::start_hub;

const BIN: &str = env!("CARGO_BIN_EXE_sealbox-hub");

fn publish(data: &Path, manifest: &Path, packages: &[&Path], url: &str) -> (bool, String) {
    let mut cmd = Command::new(BIN);
    cmd.arg("publish-update").arg("--data-dir").arg(data).arg("--manifest").arg(manifest);
    for p in packages {
        cmd.arg("--package").arg(p);
    }
    let out = cmd.args(["--url", url]).output().unwrap();
    (
        out.status.success(),
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_update_is_served_under_the_hubs_address_and_nothing_else_is() {
    let hub = start_hub(1, RatePolicy::default()).await;
    let get = |path: &str| {
        let (client, url) = (hub.client.clone(), format!("{}{path}", hub.url));
        async move {
            let r = client.get(url).send().await.unwrap();
            (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
        }
    };
    assert_eq!(get("/v1/updates/latest.json").await.0, 404, "nothing published yet");

    let dir = tempfile::tempdir().unwrap();
    let deb = dir.path().join("Sealbox_0.2.0_amd64.deb");
    let rpm = dir.path().join("Sealbox-0.2.0-1.x86_64.rpm");
    std::fs::write(&deb, b"the deb's bytes, signed by the release key").unwrap();
    std::fs::write(&rpm, b"the rpm's bytes, signed by the release key").unwrap();
    let manifest = dir.path().join("latest.json");
    let write = |doc: serde_json::Value| std::fs::write(&manifest, doc.to_string()).unwrap();
    let both = serde_json::json!({"version": "0.2.0", "platforms": {
        "linux-x86_64-deb": {"signature": "ZGViIHNpZ25hdHVyZQ==", "url": "Sealbox_0.2.0_amd64.deb"},
        "linux-x86_64-rpm": {"signature": "cnBtIHNpZ25hdHVyZQ==", "url": "Sealbox-0.2.0-1.x86_64.rpm"}
    }});
    let data = hub.dir.path();

    write(both.clone());
    let (ok, said) = publish(data, &manifest, &[&deb], &hub.url);
    assert!(!ok && said.contains("Sealbox-0.2.0-1.x86_64.rpm"), "a named package missing: {said}");
    let (ok, said) = publish(data, &manifest, &[&deb, &rpm], "hub.example");
    assert!(!ok && said.contains("--url"), "{said}");
    let mut unsigned = both.clone();
    unsigned["platforms"]["linux-x86_64-deb"]["signature"] = "".into();
    write(unsigned);
    let (ok, said) = publish(data, &manifest, &[&deb, &rpm], &hub.url);
    assert!(!ok && said.contains("no signature"), "{said}");
    let mut one = both.clone();
    one["platforms"].as_object_mut().unwrap().remove("linux-x86_64-rpm");
    write(one);
    let (ok, said) = publish(data, &manifest, &[&deb, &rpm], &hub.url);
    assert!(!ok && said.contains("not named"), "a package given but not named: {said}");
    assert_eq!(get("/v1/updates/latest.json").await.0, 404, "nothing refused was published");

    write(both);
    let (ok, said) = publish(data, &manifest, &[&deb, &rpm], &format!("{}/", hub.url));
    assert!(ok, "{said}");
    assert!(said.contains("published Sealbox 0.2.0"), "{said}");
    let (status, body) = get("/v1/updates/latest.json").await;
    assert_eq!(status, 200);
    let served: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let deb_url = format!("{}/v1/updates/files/Sealbox_0.2.0_amd64.deb", hub.url);
    assert_eq!(served["platforms"]["linux-x86_64-deb"]["url"], deb_url.as_str());
    assert_eq!(served["platforms"]["linux-x86_64-deb"]["signature"], "ZGViIHNpZ25hdHVyZQ==");
    let (status, bytes) = get("/v1/updates/files/Sealbox_0.2.0_amd64.deb").await;
    assert_eq!((status, bytes), (200, std::fs::read(&deb).unwrap()));
    for unnamed in ["hub.sqlite3", "latest.json", "..%2Fhub.sqlite3", ".Sealbox_0.2.0_amd64.deb.part"] {
        assert_eq!(get(&format!("/v1/updates/files/{unnamed}")).await.0, 404, "{unnamed}");
    }
}
