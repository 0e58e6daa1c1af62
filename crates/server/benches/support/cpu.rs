//! CPU time from `/proc`, as the peer benchmark reads it: a process's user and system time,
//! and PostgreSQL's (every `postgres` process on the machine: the server the bot writes to).

use std::process::Command;

/// Seconds of CPU `pid` has used so far.
pub fn process(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| seconds(&stat))
        .unwrap_or(0.0)
}

/// Seconds of CPU every PostgreSQL process has used so far (those gone since are not counted,
/// as in the peer benchmark).
pub fn postgres() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .flatten()
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .filter(|stat| {
            stat.split(')')
                .next()
                .is_some_and(|head| head.ends_with("(postgres"))
        })
        .filter_map(|stat| seconds(&stat))
        .sum()
}

/// utime + stime (fields 14 and 15 of `stat`, after the command name) in seconds.
fn seconds(stat: &str) -> Option<f64> {
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / ticks_per_second())
}

fn ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100.0)
    })
}
