//! rsmbd: the command line. `rsmbd serve` runs the SMB server in the foreground; `rsmbd user ...` manages
//! the password database, `rsmbd share ...` the shares, `rsmbd check` checks a configuration, and
//! `rsmbd status` / `rsmbd reload` talk to the running daemon.
#![forbid(unsafe_code)]

mod check;
mod control;
mod serve;
mod share_cmd;
mod user_cmd;
mod user_import;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// A memory-safe SMB 3 file server.
#[derive(Parser, Debug)]
#[command(name = "rsmbd", version, about)]
struct Cli {
    /// Configuration file in Samba's smb.conf format.
    #[arg(long, short = 'c', global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run the server in the foreground (logs to stderr; SIGTERM or Ctrl-C stops it). Without --config it
    /// serves a default share and prints how to connect.
    Serve {
        /// Port to listen on when no configuration file is given (default: 445 as root, 4445 otherwise).
        #[arg(long)]
        port: Option<u16>,
        /// Directory to share when no configuration file is given.
        #[arg(long, value_name = "DIR")]
        share: Option<PathBuf>,
    },
    /// Check a configuration file like Samba's testparm: report warnings and errors with file:line and
    /// print the effective settings. Exits non-zero when the file has errors.
    Check {
        /// Print only this section ("global" or a share name).
        #[arg(long, value_name = "NAME")]
        section: Option<String>,
        /// Print every setting, not only those that differ from the defaults.
        #[arg(long, short = 'v')]
        verbose: bool,
    },
    /// Add, remove or list shares in the configuration file (comments and layout are kept).
    Share {
        #[command(subcommand)]
        cmd: share_cmd::ShareCmd,
    },
    /// Show the running daemon's sessions (user, client, dialect, signing, encryption), tree connects and
    /// open files with their share modes and locks, like Samba's smbstatus.
    Status,
    /// Make the running daemon read its configuration again (like SIGHUP): new shares and rules apply to
    /// new tree connects, and tree connects the new rules refuse, or would give less access, are closed.
    Reload,
    /// Manage users in the smbpasswd password database.
    User {
        #[command(subcommand)]
        cmd: user_cmd::UserCmd,
    },
}

/// The allocator is jemalloc, chosen by measurement (bench/README.md, "Allocator"): with its background
/// thread it hands freed memory back to the system within seconds of a load ending. After 2,000
/// connections have come and gone the server keeps 15.8 MiB with jemalloc, 31.8 MiB with glibc's malloc
/// (its per-thread arenas keep what they once held) and 49.5 MiB with mimalloc; a fresh server is 5.2,
/// 4.1 and 10.2 MiB.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Serve { port, share } => serve::run(cli.config.as_deref(), port, share),
        Cmd::User { cmd } => user_cmd::run(cmd, cli.config.as_deref()),
        Cmd::Share { cmd } => share_cmd::run(cmd, cli.config.as_deref()),
        Cmd::Status => control::run(cli.config.as_deref(), "status"),
        Cmd::Reload => control::run(cli.config.as_deref(), "reload"),
        Cmd::Check { section, verbose } => {
            check::run(cli.config.as_deref(), section.as_deref(), verbose)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("rsmbd: {msg}");
            ExitCode::FAILURE
        }
    }
}
