//! `docs/cli.md` opens with a summary of every command and flag; these tests hold it to the
//! clap definitions so that a new flag cannot be left out of it (or a removed one left in).

use std::collections::BTreeMap;

use clap::CommandFactory;

use super::Cli;

const CLI_MD: &str = include_str!("../../docs/cli.md");

/// The summary's text per command: the lines of the first code block, a line starting with
/// `chatflow NAME` opening a command and indented lines continuing it. A line `NAME: ...`
/// defines a group of flags that a command's `[NAME]` stands for.
fn summary() -> BTreeMap<String, String> {
    let block = CLI_MD
        .split("```")
        .nth(1)
        .expect("docs/cli.md opens with a code block");
    let mut commands: BTreeMap<String, String> = BTreeMap::new();
    let mut groups: Vec<(String, String)> = Vec::new();
    let mut current = None;
    for line in block.lines() {
        if let Some(rest) = line.strip_prefix("chatflow ") {
            let name = rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            current = Some(name);
        } else if let Some((group, flags)) = line.split_once(": ") {
            groups.push((format!("[{group}]"), flags.to_string()));
            current = None;
            continue;
        }
        if let Some(name) = &current {
            let text = commands.entry(name.clone()).or_default();
            text.push_str(line);
            text.push('\n');
        }
    }
    for text in commands.values_mut() {
        for (group, flags) in &groups {
            *text = text.replace(group, flags);
        }
    }
    commands
}

/// The `--flags` written in a piece of summary.
fn flags_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("--") {
        let name: String = text[i + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

#[test]
fn the_summary_names_every_command_and_every_long_flag() {
    let summary = summary();
    let cli = Cli::command();
    for command in cli.get_subcommands() {
        let name = command.get_name();
        let Some(text) = summary.get(name) else {
            panic!("docs/cli.md's summary has no line for `chatflow {name}`");
        };
        let written = flags_in(text);
        let mut defined = Vec::new();
        for arg in command.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if long == "help" || long == "version" {
                continue;
            }
            defined.push(long.to_string());
            assert!(
                written.iter().any(|w| w == long),
                "docs/cli.md's summary of `chatflow {name}` lacks `--{long}`"
            );
        }
        for w in &written {
            assert!(
                defined.contains(w),
                "docs/cli.md's summary of `chatflow {name}` has `--{w}`, which it does not take"
            );
        }
    }
    for name in summary.keys() {
        assert!(
            cli.find_subcommand(name).is_some(),
            "docs/cli.md's summary has `chatflow {name}`, which is no command"
        );
    }
}

#[test]
fn flags_are_read_whole() {
    assert_eq!(
        flags_in("x [--smtp HOST:PORT] [--smtp-from ADDR]"),
        ["smtp", "smtp-from"]
    );
}
