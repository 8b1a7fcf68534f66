//! The command line: `autocrea [serve|migrate|healthcheck|user|token]`.

use autocrea_core::accounts::{tokens, users};
use autocrea_core::audit::{self, Actor};
use autocrea_core::config::LogFormat;
use autocrea_core::{db, Config};
use clap::{Parser, Subcommand};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "autocrea", version, about = "AUTOCREA: a self-hosted AI app builder", long_about = None)]
pub struct Cli {
    /// Config file (default: ./autocrea.toml when present). AUTOCREA_* variables override it.
    #[arg(long, global = true, env = "AUTOCREA_CONFIG")]
    config: Option<PathBuf>,
    /// Write logs as JSON lines.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the UI and API (the default).
    Serve,
    /// Run pending database migrations (a copy of the database is taken first).
    Migrate,
    /// Exit 0 when the server at the configured address answers ready.
    Healthcheck,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage personal API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Serve one model over the OpenAI chat-completions protocol (started by the server).
    LlmWorker {
        /// Address to listen on; port 0 picks a free one (printed on stdout).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
        /// Model id from the manifest; its default model when left out.
        #[arg(long)]
        model: Option<String>,
        /// The model manifest.
        #[arg(long, env = "AUTOCREA_MODELS", default_value = "models/models.toml")]
        models: PathBuf,
        /// CPU threads for decoding (default: all cores).
        #[arg(long)]
        threads: Option<i32>,
        /// Requests that may wait for a free slot before 429.
        #[arg(long, default_value_t = 16)]
        queue: usize,
        /// Requests decoded together (sequence slots of the one context).
        #[arg(long, default_value_t = 4)]
        slots: usize,
        /// Context of each request in tokens (default: the model's context size).
        #[arg(long, default_value_t = 0)]
        context: u32,
        /// Exit when standard input closes (the supervising server died).
        #[arg(long)]
        exit_with_stdin: bool,
        /// AUTOCREA's output head for CPU models: on or off (llama.cpp's
        /// output product, to compare). Default: `[llm] output_head`, or
        /// `AUTOCREA_OUTPUT_HEAD`.
        #[arg(long, value_parser = clap::builder::BoolishValueParser::new())]
        output_head: Option<bool>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Make the account an administrator.
        #[arg(long)]
        admin: bool,
        /// Read the password from standard input (required: passwords never go in arguments).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user and print it once.
    Create {
        #[arg(long)]
        email: String,
        /// A name to recognise the token by.
        #[arg(long)]
        name: String,
    },
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("AUTOCREA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Human => builder.init(),
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    init_logs(if cli.log_json {
        LogFormat::Json
    } else {
        config.log_format
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(run(cli.command.unwrap_or(Command::Serve), config));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve => crate::server::serve(config)
            .await
            .map(|_| ExitCode::SUCCESS),
        Command::Migrate => {
            let path = config.database_path();
            let pool = db::open(&path).await?;
            let report = db::migrate(&pool, &path).await?;
            if report.applied.is_empty() {
                println!("database {} is up to date", path.display());
            } else {
                if let Some(b) = &report.backup {
                    println!("copied the database to {} first", b.display());
                }
                println!(
                    "applied migrations {:?} to {}",
                    report.applied,
                    path.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Healthcheck => Ok(healthcheck(&config).await),
        Command::LlmWorker {
            listen,
            model,
            models,
            threads,
            queue,
            slots,
            context,
            exit_with_stdin,
            output_head,
        } => {
            if exit_with_stdin {
                std::thread::spawn(|| {
                    let mut sink = Vec::new();
                    let _ = std::io::stdin().read_to_end(&mut sink);
                    std::process::exit(0);
                });
            }
            let threads = threads.unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get() as i32)
                    .unwrap_or(2)
            });
            crate::worker::run(crate::worker::WorkerOptions {
                manifest: models,
                model,
                listen,
                threads,
                queue,
                slots,
                context,
                output_head: output_head.unwrap_or(config.llm.output_head),
            })
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::User(UserCommand::Create {
            email,
            name,
            admin,
            password_stdin: _,
        }) => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\n', '\r']);
            let pool = db::open_and_migrate(&config.database_path()).await?;
            let user = users::create(
                &pool,
                users::NewUser {
                    email: &email,
                    name: &name,
                    password,
                    force_admin: admin,
                },
            )
            .await?;
            let actor = Actor {
                user_id: None,
                label: Some("cli".into()),
                ip: None,
            };
            audit::record(
                &pool,
                &actor,
                "user.create",
                Some(&user.email),
                Some(if user.is_admin { "admin" } else { "user" }),
            )
            .await;
            println!(
                "created {} {} (username {}, id {})",
                if user.is_admin { "admin" } else { "user" },
                user.email,
                user.username,
                user.id
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(TokenCommand::Create { email, name }) => {
            let pool = db::open_and_migrate(&config.database_path()).await?;
            let user = users::find_by_email(&pool, &email)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no user with email {email}"))?;
            let token = tokens::create(&pool, user.id, &name, &[]).await?;
            let actor = Actor {
                user_id: None,
                label: Some("cli".into()),
                ip: None,
            };
            audit::record(
                &pool,
                &actor,
                "token.create",
                Some(&format!("token:{}", token.id)),
                Some(&user.email),
            )
            .await;
            eprintln!(
                "token {:?} for {} (shown once; store it now):",
                token.name, user.email
            );
            println!("{}", token.token);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// GET /readyz on the configured address (0.0.0.0 means this host's loopback).
async fn healthcheck(config: &Config) -> ExitCode {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut addr = config.listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            [127, 0, 0, 1].into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream
            .write_all(format!("GET /readyz HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
            .await?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).await?;
        Ok::<_, std::io::Error>(
            String::from_utf8_lossy(&reply)
                .lines()
                .next()
                .unwrap_or_default()
                .to_string(),
        )
    };
    match tokio::time::timeout(std::time::Duration::from_secs(5), attempt).await {
        Ok(Ok(status)) if status.split_whitespace().nth(1) == Some("200") => {
            println!("healthy: http://{addr}");
            ExitCode::SUCCESS
        }
        Ok(Ok(status)) => {
            eprintln!("unhealthy: http://{addr} answered {status:?}");
            ExitCode::FAILURE
        }
        Ok(Err(e)) => {
            eprintln!("unhealthy: cannot reach http://{addr}: {e}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("unhealthy: http://{addr} did not answer within 5 s");
            ExitCode::FAILURE
        }
    }
}
