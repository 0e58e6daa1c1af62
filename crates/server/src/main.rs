//! `avatar-studio`: the bot's one binary. See `studio_server::cli` for the commands.

fn main() -> std::process::ExitCode {
    studio_server::cli::main()
}
