//! AUTOCREA's domain and services, free of any HTTP framework.
//!
//! Each domain has its own module and its own error enum; the server maps
//! those errors to HTTP once (see `autocrea::error`).

pub mod accounts;
pub mod agent;
pub mod audit;
pub mod clock;
pub mod config;
pub mod confined;
pub mod db;
pub mod env_vars;
pub mod gitstore;
pub mod llm;
pub mod projects;
pub mod publish;
pub mod remote;
pub mod replay;
pub mod sandbox;
pub mod secrets;
pub mod settings;
pub mod sync;
pub mod templates;
pub mod text;

pub use config::Config;
