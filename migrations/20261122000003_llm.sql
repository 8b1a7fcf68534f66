-- Model providers: users' own API keys (encrypted with the master key) and
-- the usage of every model call.

CREATE TABLE provider_keys (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- A provider id from the admin's policy (openai, anthropic, gemini...).
    provider    TEXT    NOT NULL,
    -- XChaCha20-Poly1305 of the key; the associated data binds it to
    -- (user_id, provider), so a row copied to another user does not decrypt.
    nonce       BLOB    NOT NULL,
    ciphertext  BLOB    NOT NULL,
    last4       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (user_id, provider)
);

CREATE TABLE llm_usage (
    id                INTEGER PRIMARY KEY,
    at                INTEGER NOT NULL,
    user_id           INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    project_id        TEXT    REFERENCES projects(id) ON DELETE SET NULL,
    provider          TEXT    NOT NULL,
    model             TEXT    NOT NULL,
    -- chat or completion
    endpoint          TEXT    NOT NULL,
    prompt_tokens     INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    duration_ms       INTEGER NOT NULL,
    -- finished, failed or cancelled
    outcome           TEXT    NOT NULL
);
CREATE INDEX llm_usage_user ON llm_usage (user_id, at);
CREATE INDEX llm_usage_project ON llm_usage (project_id, at);
