//! The hub reaching PostgreSQL over TCP, attacked: the real cluster
//! `cargo xtask test` starts (TLS on `localhost`, a certificate its own CA
//! signed with OpenSSL) is reached only with that CA and that name, and a
//! server that declines TLS — a man in the middle stripping it — is sent
//! nothing: no user name, no password. A weak `sslmode` over TCP is
//! refused before any connection. (That a serving node holds only TLS
//! connections: `hub_nodes.rs`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

#[path = "support/backends.rs"]
mod backends;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;

use sealbox_hub::db::postgres::Postgres;
use sealbox_hub::db::sql::Sql;
use sealbox_hub::db::DbError;

/// The fixture certificate: a self-signed one for localhost and 127.0.0.1
/// that did not sign the cluster's.
fn stranger_ca() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/cert.pem").display().to_string()
}

/// One connection from a pool on `conninfo`: the error, if refused.
fn connect(conninfo: &str) -> Result<(), DbError> {
    let pool = Postgres::connect(conninfo, 1)?;
    let conn = pool.conn()?;
    conn.query("SELECT 1", &[]).map(|_| ())
}

#[test]
fn the_cluster_is_reached_over_tls_with_its_own_ca_and_name_and_not_otherwise() {
    let tls = backends::over_tls(&backends::fresh_postgres_database());
    let pool = Postgres::connect(&tls, 1).unwrap();
    let conn = pool.conn().unwrap();
    sealbox_hub::db::migrate(&conn).unwrap();
    let rows =
        conn.query("SELECT ssl::text, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]).unwrap();
    assert_eq!(rows[0].get::<String>(0).unwrap(), "true");
    assert!(rows[0].get::<String>(1).unwrap().starts_with("TLSv1."));

    // Another CA's certificate as the root: the server's is not trusted.
    let stranger = tls.replace(&root_of(&tls), &stranger_ca());
    let e = connect(&stranger).unwrap_err().to_string();
    assert!(e.contains("invalid peer certificate: UnknownIssuer"), "{e}");
    // The right CA, but the address where the certificate names localhost.
    let by_address = tls.replace("host=localhost", "host=127.0.0.1");
    let e = connect(&by_address).unwrap_err().to_string();
    assert!(e.contains("certificate not valid for name"), "{e}");
}

/// The `sslrootcert` value of `conninfo`.
fn root_of(conninfo: &str) -> String {
    conninfo.split_whitespace().find_map(|kv| kv.strip_prefix("sslrootcert=")).unwrap().to_owned()
}

#[test]
fn a_server_that_declines_tls_is_sent_no_user_name_and_no_password() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        // SSLRequest: length 8, code 80877103.
        let mut request = [0u8; 8];
        stream.read_exact(&mut request).unwrap();
        stream.write_all(b"N").unwrap();
        // Whatever the client sends before it hangs up.
        let mut after = Vec::new();
        let _ = stream.read_to_end(&mut after);
        (request, after)
    });
    let conninfo = format!(
        "host=127.0.0.1 port={port} user=hubuser password=QZXSECRET dbname=sealbox sslrootcert={}",
        stranger_ca()
    );
    let e = connect(&conninfo).unwrap_err().to_string();
    let (request, after) = server.join().unwrap();
    assert_eq!(request, [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f], "the first thing sent asks for TLS");
    assert!(after.is_empty(), "sent after TLS was declined: {after:?}");
    assert!(!e.contains("QZXSECRET"), "{e}");
}

#[test]
fn over_tcp_a_weak_sslmode_is_refused_before_any_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    for mode in ["disable", "prefer", "require", "verify-ca"] {
        let conninfo = format!("host=127.0.0.1 port={port} user=hubuser password=QZXSECRET sslmode={mode}");
        let e = Postgres::connect(&conninfo, 1).map(|_| ()).unwrap_err().to_string();
        assert!(e.contains("verify-full") && !e.contains("QZXSECRET"), "{e}");
    }
    listener.set_nonblocking(true).unwrap();
    let nobody = listener.accept().map(|_| ()).unwrap_err();
    assert_eq!(nobody.kind(), std::io::ErrorKind::WouldBlock, "a connection was made");
}
