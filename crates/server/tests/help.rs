//! `--help` is printed into terminals, CI logs and `kubectl exec` sessions, and clap shows the
//! value of each argument's environment variable there: none of them may appear, whatever
//! the variable holds (`DATABASE_URL` carries a password, keys and tokens are secrets).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use clap::CommandFactory;
use studio_server::cli::Cli;

const SENTINEL: &str = "SECRET-SENTINEL";

/// Every subcommand's path (`[]`, `["serve"]`, `["promo", "create"]`, …) and every
/// environment variable any command reads, from the command tree itself, so a new argument
/// or subcommand is covered without touching this test.
fn walk(command: &clap::Command, path: &mut Vec<String>, paths: &mut Vec<Vec<String>>) {
    paths.push(path.clone());
    for sub in command.get_subcommands() {
        path.push(sub.get_name().to_owned());
        walk(sub, path, paths);
        path.pop();
    }
}

fn env_names(command: &clap::Command, names: &mut Vec<String>) {
    for arg in command.get_arguments() {
        if let Some(env) = arg.get_env() {
            names.push(env.to_string_lossy().into_owned());
        }
    }
    for sub in command.get_subcommands() {
        env_names(sub, names);
    }
}

#[test]
fn help_never_shows_an_environment_value() {
    let mut command = Cli::command();
    command.build();
    let (mut paths, mut names) = (Vec::new(), Vec::new());
    walk(&command, &mut Vec::new(), &mut paths);
    env_names(&command, &mut names);
    assert!(
        names.iter().any(|n| n == "DATABASE_URL") && names.len() > 20,
        "the walk finds the configuration: {names:?}"
    );
    // No `.env` is read from here: only the variables set below exist.
    let empty = tempfile::tempdir().unwrap();
    for path in &paths {
        // `help [sub…]` is clap's help subcommand: it prints the named command's help and
        // takes no flag.
        let flags: &[&str] = if path.iter().any(|p| p == "help") {
            &[""]
        } else {
            &["-h", "--help"]
        };
        for flag in flags {
            let mut run = Command::new(env!("CARGO_BIN_EXE_avatar-studio"));
            run.args(path).args(Some(flag).filter(|f| !f.is_empty()));
            run.env_clear().current_dir(empty.path());
            for name in &names {
                run.env(name, format!("postgres://user:{SENTINEL}-{name}@db/x"));
            }
            let output = run.output().expect("binary runs");
            let (stdout, stderr) = (
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
            );
            assert!(output.status.success(), "{path:?} {flag}: {stdout}{stderr}");
            assert!(
                !stdout.contains(SENTINEL) && !stderr.contains(SENTINEL),
                "{path:?} {flag} printed an environment value:\n{stdout}{stderr}"
            );
            if path.is_empty() {
                assert!(
                    stdout.contains("DATABASE_URL"),
                    "help names the variables: {stdout}"
                );
            }
        }
    }
}
