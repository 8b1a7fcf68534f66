-- The agent, part two: the roles (steps) of a turn, the message a turn
-- answers (so an edited or regenerated message starts a new branch), thread
-- summaries for long threads, the agent's model and mode per project, and
-- provider keys an admin sets for everyone.

-- One role's part of a turn: Architect, Developer, DevOps, Tester, Security Auditor.
CREATE TABLE turn_steps (
    turn_id           TEXT    NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
    position          INTEGER NOT NULL,
    role              TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('pending', 'running', 'waiting', 'done', 'failed', 'stopped', 'skipped')),
    started_at        INTEGER,
    duration_ms       INTEGER,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    -- the plan, the role's summary or the audit report
    output            TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (turn_id, position)
);

-- The user message a turn answers.
ALTER TABLE turns ADD COLUMN request_id TEXT REFERENCES messages(id) ON DELETE SET NULL;

-- What the thread said before `summary_upto` (a message id), in short.
ALTER TABLE threads ADD COLUMN summary TEXT;
ALTER TABLE threads ADD COLUMN summary_upto TEXT;

-- The agent's model (`local`, or `<provider>/<model>`) and mode (quick or
-- full) for the project; NULL: the local model, quick mode.
ALTER TABLE projects ADD COLUMN agent_model TEXT;
ALTER TABLE projects ADD COLUMN agent_mode TEXT CHECK (agent_mode IN ('quick', 'full'));

-- A provider key the admin set for every user (users' own keys win).
-- Encrypted like provider_keys; the key never leaves the server.
CREATE TABLE provider_shared_keys (
    provider    TEXT    PRIMARY KEY,
    nonce       BLOB    NOT NULL,
    ciphertext  BLOB    NOT NULL,
    last4       TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
);
