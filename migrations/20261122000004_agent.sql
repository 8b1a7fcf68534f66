-- The agent: chat threads per project, their messages, the turns that act
-- on the project, and the credit ledger turns are charged to.

CREATE TABLE threads (
    id          TEXT    PRIMARY KEY,
    project_id  TEXT    NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    title       TEXT    NOT NULL,
    created_by  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX threads_project ON threads (project_id, updated_at);

-- One run of the agent on a user message. A turn ends as one commit
-- (commit_sha) or none; `running` turns found at start-up were cut off by a
-- crash and are marked failed, their working-tree changes discarded.
CREATE TABLE turns (
    id          TEXT    PRIMARY KEY,
    thread_id   TEXT    NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    project_id  TEXT    NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- quick (Developer only) or full (Architect -> ... -> Security Auditor)
    mode        TEXT    NOT NULL CHECK (mode IN ('quick', 'full')),
    model       TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('running', 'done', 'failed', 'stopped')),
    base_sha    TEXT,
    commit_sha  TEXT,
    error       TEXT,
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER
);
CREATE INDEX turns_thread ON turns (thread_id, started_at);
CREATE INDEX turns_running ON turns (status) WHERE status = 'running';

-- Messages form a tree: editing an earlier message starts a new branch
-- (parent_id) and the old one stays.
CREATE TABLE messages (
    id                TEXT    PRIMARY KEY,
    thread_id         TEXT    NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    parent_id         TEXT    REFERENCES messages(id) ON DELETE CASCADE,
    turn_id           TEXT    REFERENCES turns(id) ON DELETE SET NULL,
    -- user, assistant or tool
    role              TEXT    NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
    -- Architect, Developer, DevOps, Tester, Security Auditor (assistant and tool messages)
    agent_role        TEXT,
    content           TEXT    NOT NULL,
    -- assistant: [{"id", "name", "arguments"}]; tool: the call it answers
    tool_calls        TEXT,
    tool_call_id      TEXT,
    model             TEXT,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL
);
CREATE INDEX messages_thread ON messages (thread_id, created_at);

-- Credits in thousandths, so per-token rates need no floating point.
-- The balance is the sum of a user's entries.
CREATE TABLE credit_ledger (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    milli       INTEGER NOT NULL,
    -- welcome, turn, admin
    reason      TEXT    NOT NULL,
    turn_id     TEXT    REFERENCES turns(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX credit_ledger_user ON credit_ledger (user_id);

-- Every account starts with 100 free credits, in the same transaction as
-- the account itself.
CREATE TRIGGER users_welcome_credits AFTER INSERT ON users
BEGIN
    INSERT INTO credit_ledger (user_id, milli, reason, created_at)
    VALUES (NEW.id, 100000, 'welcome', CAST(strftime('%s', 'now') AS INTEGER));
END;
INSERT INTO credit_ledger (user_id, milli, reason, created_at)
    SELECT id, 100000, 'welcome', CAST(strftime('%s', 'now') AS INTEGER) FROM users;
