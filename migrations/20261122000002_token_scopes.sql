-- API token scopes (Gitea's names) and the last eight characters of the
-- secret, shown so people can tell tokens apart. Existing tokens keep full rights.
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'all';
ALTER TABLE api_tokens ADD COLUMN last_eight TEXT NOT NULL DEFAULT '';
