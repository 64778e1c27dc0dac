-- Identity: invites, staff, devices (one WebAuthn credential + the desktop's
-- public keys each), WebAuthn ceremonies in flight, sessions, every login
-- attempt, and pool keys (public keys served by GET /v1/practice/keys; private
-- keys only as blobs sealed to one device). Secrets are stored as SHA-256.

CREATE TABLE invites (
    code_sha256 BLOB PRIMARY KEY NOT NULL CHECK (length(code_sha256) = 32),
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at_us INTEGER NOT NULL,
    expires_at_us INTEGER NOT NULL,
    used_at_us INTEGER,
    used_by TEXT
) STRICT;

CREATE TABLE staff (
    id TEXT PRIMARY KEY NOT NULL,
    webauthn_uuid TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at_us INTEGER NOT NULL,
    disabled_at_us INTEGER
) STRICT;

CREATE TABLE devices (
    id TEXT PRIMARY KEY NOT NULL,
    staff_id TEXT NOT NULL REFERENCES staff (id),
    name TEXT NOT NULL,
    credential_id BLOB NOT NULL UNIQUE,
    -- webauthn-rs Passkey (public key, counter) as JSON.
    passkey TEXT NOT NULL,
    sign_count INTEGER NOT NULL DEFAULT 0,
    x25519_public BLOB CHECK (x25519_public IS NULL OR length(x25519_public) = 32),
    ed25519_public BLOB CHECK (ed25519_public IS NULL OR length(ed25519_public) = 32),
    approved_at_us INTEGER,
    approved_by TEXT,
    created_at_us INTEGER NOT NULL,
    revoked_at_us INTEGER
) STRICT;
CREATE INDEX devices_staff ON devices (staff_id);

-- A WebAuthn challenge in flight; deleted when used (single use).
CREATE TABLE ceremonies (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('enrol', 'login')),
    state TEXT NOT NULL,
    invite_sha256 BLOB,
    staff_id TEXT,
    device_name TEXT,
    username TEXT,
    created_at_us INTEGER NOT NULL,
    expires_at_us INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
    token_sha256 BLOB PRIMARY KEY NOT NULL CHECK (length(token_sha256) = 32),
    staff_id TEXT NOT NULL REFERENCES staff (id),
    device_id TEXT NOT NULL REFERENCES devices (id),
    created_at_us INTEGER NOT NULL,
    last_seen_us INTEGER NOT NULL,
    ended_at_us INTEGER
) STRICT;
CREATE INDEX sessions_device ON sessions (device_id);

CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_us INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('enrol', 'login')),
    staff_id TEXT,
    device_id TEXT,
    address TEXT NOT NULL,
    outcome TEXT NOT NULL
) STRICT;
CREATE INDEX login_attempts_staff ON login_attempts (staff_id, id);
CREATE INDEX login_attempts_address ON login_attempts (address, id);

-- Pool PUBLIC keys; the current one of a pool is its highest key_version.
CREATE TABLE pool_keys (
    pool TEXT NOT NULL,
    key_version INTEGER NOT NULL CHECK (key_version > 0),
    x25519_public BLOB NOT NULL CHECK (length(x25519_public) = 32),
    published_by_device TEXT NOT NULL,
    published_at_us INTEGER NOT NULL,
    PRIMARY KEY (pool, key_version)
) STRICT;

-- Pool PRIVATE keys sealed (by an admin device) to one device: opaque here.
CREATE TABLE device_pool_keys (
    device_id TEXT NOT NULL REFERENCES devices (id),
    pool TEXT NOT NULL,
    key_version INTEGER NOT NULL CHECK (key_version > 0),
    sealed BLOB NOT NULL CHECK (length(sealed) BETWEEN 1 AND 4096),
    sealed_by_device TEXT NOT NULL,
    at_us INTEGER NOT NULL,
    PRIMARY KEY (device_id, pool, key_version)
) STRICT;
