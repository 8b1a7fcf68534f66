#![recursion_limit = "256"]
//! The `autocrea` binary's library: CLI, HTTP routes, pages and assets.

pub mod agent;
pub mod api;
pub mod apps;
pub mod assets;
pub mod cli;
pub mod cookies;
pub mod error;
pub mod extract;
pub mod git_auth;
pub mod git_http;
pub mod gitea;
pub mod llm;
pub mod openapi;
pub mod pages;
pub mod preview;
pub mod router;
pub mod server;
pub mod state;
pub mod worker;
