//! API tests against the real server on a loopback port.

mod accounts;
mod agent;
mod agent_pipeline;
mod attachments;
mod attacks;
mod authz;
mod bad_input;
mod env_vars;
mod files;
mod gateway;
mod git;
mod gitea;
mod openapi;
mod pages;
mod projects;
mod publish;
mod remote;
mod symlinks;
mod tokens;
mod versions;
