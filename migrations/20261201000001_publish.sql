-- Publishing: a site per published project, its deployments, and who may open it.

-- A project's site. `name` is the DNS label of its address, unique across
-- the appliance (project slugs are only unique per owner).
CREATE TABLE sites (
    project_id   TEXT    PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    name         TEXT    NOT NULL UNIQUE,
    access       TEXT    NOT NULL DEFAULT 'private'
                 CHECK (access IN ('private', 'signed_in', 'people', 'public')),
    -- Deployments kept besides the live one.
    retention    INTEGER NOT NULL DEFAULT 10 CHECK (retention BETWEEN 1 AND 100),
    live_id      TEXT,
    -- Unix seconds: when live_id last changed.
    live_since   INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

-- With access 'people': who besides the owner may open the site.
CREATE TABLE site_people (
    project_id TEXT    NOT NULL REFERENCES sites(project_id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, user_id)
);

CREATE TABLE deployments (
    id          TEXT    PRIMARY KEY,
    project_id  TEXT    NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    -- The first 8 characters of id, in the deployment's own address.
    short_id    TEXT    NOT NULL,
    commit_sha  TEXT    NOT NULL,
    message     TEXT    NOT NULL DEFAULT '',
    template    TEXT    NOT NULL,
    author_id   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    status      TEXT    NOT NULL
                CHECK (status IN ('queued', 'building', 'ready', 'failed', 'superseded')),
    error       TEXT,
    size_bytes  INTEGER,
    created_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER,
    UNIQUE (project_id, short_id)
);
CREATE INDEX deployments_by_project ON deployments(project_id, created_at DESC);
-- One build at a time per project: a second publish while one runs is refused
-- by the database too, not only by a check that could race.
CREATE UNIQUE INDEX deployments_one_build ON deployments(project_id)
    WHERE status IN ('queued', 'building');
