-- Files a person attaches to a chat message: images (PNG, JPEG, GIF, WebP)
-- for models that accept them, and text files. Uploaded first, then named
-- by the message that carries them; an edited message keeps the links of the
-- one it replaces. Kept in the database (a few MiB at most each), so a
-- message and its attachments are written and removed together.
CREATE TABLE attachments (
    id          TEXT    PRIMARY KEY,
    project_id  TEXT    NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    -- image or text
    kind        TEXT    NOT NULL CHECK (kind IN ('image', 'text')),
    media_type  TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    data        BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX attachments_project ON attachments (project_id, created_at);

CREATE TABLE message_attachments (
    message_id     TEXT    NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    attachment_id  TEXT    NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    PRIMARY KEY (message_id, attachment_id)
);
CREATE INDEX message_attachments_attachment ON message_attachments (attachment_id);
