-- A project's link to an external git remote: the push mirror and pulls.
-- Secrets (the access token, the webhook secret) are sealed with the
-- master key (XChaCha20-Poly1305, a context naming the project); only the
-- token's last four characters are kept in clear.
CREATE TABLE project_remotes (
    project_id        TEXT    PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    url               TEXT    NOT NULL,
    username          TEXT,
    token_nonce       BLOB,
    token_ciphertext  BLOB,
    token_last4       TEXT,
    -- The remote branch; the project's default branch when NULL.
    branch            TEXT,
    push_mirror       INTEGER NOT NULL DEFAULT 0 CHECK (push_mirror IN (0, 1)),
    secret_nonce      BLOB    NOT NULL,
    secret_ciphertext BLOB    NOT NULL,
    -- The last push: when, the version tried, why it failed (NULL: it worked).
    push_at           INTEGER,
    push_sha          TEXT,
    push_error        TEXT,
    -- The last pull: when, the remote tip seen, why it failed.
    pull_at           INTEGER,
    pull_sha          TEXT,
    pull_error        TEXT,
    -- A pull that could not merge: both tips and the paths (JSON array).
    conflict_local    TEXT,
    conflict_remote   TEXT,
    conflict_paths    TEXT,
    conflict_at       INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
