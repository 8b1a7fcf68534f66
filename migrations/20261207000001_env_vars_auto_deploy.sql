-- A project's environment variables and secrets, per scope, sealed with the
-- master key (the scope, project and name are the seal's context, so a
-- value cannot be moved to another variable in the database).
CREATE TABLE project_env (
    project_id  TEXT    NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    scope       TEXT    NOT NULL CHECK (scope IN ('preview', 'production')),
    name        TEXT    NOT NULL,
    nonce       BLOB    NOT NULL,
    ciphertext  BLOB    NOT NULL,
    -- The value's last characters, or NULL when it is too short to show any.
    hint        TEXT,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (project_id, scope, name)
);

-- Publish the default branch each time it moves (a turn, a save, a push, a pull).
ALTER TABLE sites ADD COLUMN auto_deploy INTEGER NOT NULL DEFAULT 0;
-- The branch tip auto-deploy last published: only a tip other than this one
-- is published, so a deliberate rollback stays live until the branch moves.
ALTER TABLE sites ADD COLUMN auto_deployed_sha TEXT;
