//! Turns pest's failures into diagnostics a person can act on, and finds where to resume.

use pest::error::{Error, ErrorVariant, InputLocation};

use super::ast::Span;
use super::{is_reserved, Rule};
use crate::diagnostic::{Code, Diag};

const STATEMENT: &str = "a statement (`say`, `ask`, `set`, `call`, `if`, `goto`, `close`)";
const ITEM: &str = "`bot`, `api`, `node`, `test`, `import`, `hours` or `flow`";
const ACTION: &str = "an action (`choose`, `buttons`, `carousel`, `email`, `otp`, `form`, `image`, `audio`, `video`, `file`, `transfer`, `appointment`, `goal`, `run`, `return`)";
const OPTION: &str = "an option (`\"Label\" -> node`, `link`, `postback`)";
const DYN_LINE: &str = "`label`, `save ATTR = item.FIELD`, `-> node` or `empty -> node`";
const MEDIA: &str = "`image`, `audio`, `video` or `file`";
const TRANSLATION: &str = "a language code and its text, such as `en \"Hello\"`";
const API_PROP: &str =
    "an API setting (`live`, `draft`, `idempotent`, `internal`, `redirects`, `get`, `post`, `put`, `patch`, `delete`, `header`, `body`, `json`, `form`, `timeout`, `retry`, `save`)";
const TEST_STEP: &str = "a test step (`stub`, `user`, `expect`, `clock`, `language`)";
const EXPECT_WHAT: &str = "`say`, `node`, `attr`, `request`, `closed`, `choices`, `transfer`, `email`, `goal` or `media` after `expect`";
const VALUE: &str =
    "a value (a number, a string, `true`, `false`, `null`, `status` or an attribute name)";
const OPERATOR: &str =
    "an operator (`==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `contains`, `starts_with`, `ends_with`, `matches`, `is set`)";
const ARROW: &str = "`->` and a node name";
const SEP: &str = "a new line or `;`";
const SEP_OR_CLOSE: &str = "a new line, `;` or `}`";
const AND_OR: &str = "`and`/`or`";
const BOT_SETTING: &str =
    "a bot setting (`start NODE`, `greeting`, `avatar`, `fallback`, `languages`, `webhook`)";
const NAME: &str = "a name";
const STRING: &str = "a string in double quotes";

/// The diagnostic for a failed item that began at `base`.
pub fn syntax_error(text: &str, base: usize, err: &Error<Rule>) -> Diag {
    let pos = (base + error_offset(err)).min(text.len());
    if let Some(d) = unclosed_string(text, pos) {
        return d;
    }
    let positives: &[Rule] = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives,
        ErrorVariant::CustomError { .. } => {
            return Diag::new(
                Code::Syntax,
                "this item is nested too deeply to read",
                Span::new(pos, pos),
            )
            .label("too deep")
            .help("split deeply nested conditions or JSON into simpler parts");
        }
    };
    let (found, found_span) = found_token(text, pos);
    if positives.contains(&Rule::ident) && is_reserved(&found) {
        return Diag::new(
            Code::ReservedWord,
            format!("`{found}` is a reserved word and cannot be used as a name"),
            found_span,
        )
        .label("reserved word")
        .help(format!(
            "choose another name, such as `{found}_1` or `my_{found}`"
        ));
    }
    if let Some(d) = else_if(text, &found, found_span) {
        return d;
    }
    if found == "=" && positives.contains(&Rule::cmp_op) {
        return Diag::new(Code::Syntax, "`=` does not compare; write `==`", found_span)
            .label("use `==` here")
            .help("conditions compare with `==`, `!=`, `<`, `<=`, `>`, `>=`; `=` only appears in `set NAME = VALUE`");
    }
    let phrases = phrases(positives);
    let found_words = if found.is_empty() {
        if pos >= text.len() {
            "end of file".to_owned()
        } else {
            "the end of the line".to_owned()
        }
    } else {
        format!("`{found}`")
    };
    let expected = join(&phrases);
    let message = if expected.is_empty() {
        format!("unexpected {found_words}")
    } else {
        format!("expected {expected}, found {found_words}")
    };
    Diag::new(Code::Syntax, message, found_span)
        .label(if expected.is_empty() {
            "not expected here".to_owned()
        } else {
            format!("expected {}", short(&phrases))
        })
        .help(help_for(&phrases, text_set_allowed(positives)))
}

/// Whether a translation set could stand where the error is: only then does a help line
/// about strings mention translation sets.
fn text_set_allowed(positives: &[Rule]) -> bool {
    positives
        .iter()
        .any(|r| matches!(r, Rule::text_set | Rule::text_open))
}

/// `else if C -> n`, as other languages write it: the grammar's word is `elif`.
fn else_if(text: &str, found: &str, found_span: Span) -> Option<Diag> {
    if found != "if" {
        return None;
    }
    let before = text
        .get(..found_span.start())?
        .trim_end_matches([' ', '\t']);
    let else_start = before.strip_suffix("else")?.len();
    let boundary = before[..else_start]
        .chars()
        .next_back()
        .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
    if !boundary {
        return None;
    }
    Some(
        Diag::new(
            Code::Syntax,
            "expected `->` after `else`, found `if`",
            Span::new(else_start, found_span.end()),
        )
        .label("write `elif` here")
        .help("another condition is written `elif CONDITION -> node`; `else -> node` takes no condition and comes last"),
    )
}

fn error_offset(err: &Error<Rule>) -> usize {
    match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    }
}

/// Where to resume after an item that began at `base` failed: the first line, from the line
/// of the error on, that starts with a top-level keyword after the failed item's start.
pub fn resume_point(text: &str, base: usize, err: &Error<Rule>) -> Option<usize> {
    let pos = (base + error_offset(err)).min(text.len());
    let bytes = text.as_bytes();
    let in_flow = bytes[base..].starts_with(b"flow");
    let mut line = bytes[..pos]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    while line < bytes.len() {
        let first = line
            + bytes[line..]
                .iter()
                .position(|&b| b != b' ' && b != b'\t')
                .unwrap_or(bytes.len() - line);
        // Inside a broken `flow`, its indented nodes are not new items.
        let flow_node = in_flow && first > line && bytes[first..].starts_with(b"node");
        if first > base && starts_item(&bytes[first..]) && !flow_node {
            return Some(first);
        }
        line = match bytes[line..].iter().position(|&b| b == b'\n') {
            Some(i) => line + i + 1,
            None => return None,
        };
    }
    None
}

/// Whether `offset` lies in a `test` block: the nearest line at or before it that starts (after
/// indentation) with a top-level keyword starts with `test`. Test lines never start with such
/// a keyword, and a stub's JSON stops before a line that does, so this also holds for a block
/// the parser could not read.
pub fn in_test_block(text: &str, offset: usize) -> bool {
    let bytes = text.as_bytes();
    let mut end = offset.min(bytes.len());
    loop {
        let line = bytes[..end]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let first = &bytes[line..];
        let first = &first[first
            .iter()
            .position(|&b| b != b' ' && b != b'\t')
            .unwrap_or(first.len())..];
        if starts_item(first) {
            return first.starts_with(b"test")
                && !first
                    .get(4)
                    .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_');
        }
        if line == 0 {
            return false;
        }
        end = line - 1;
    }
}

/// Whether `rest` begins with a top-level keyword.
pub fn starts_item(rest: &[u8]) -> bool {
    use super::keywords::Kw;
    [
        Kw::Bot,
        Kw::Api,
        Kw::Ai,
        Kw::Node,
        Kw::Test,
        Kw::Import,
        Kw::Hours,
        Kw::Flow,
    ]
    .iter()
    .any(|kw| {
        let word = kw.word();
        rest.starts_with(word.as_bytes())
            && rest
                .get(word.len())
                .is_none_or(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
    })
}

/// A string opened on the error's line and never closed before the line ends.
fn unclosed_string(text: &str, pos: usize) -> Option<Diag> {
    let bytes = text.as_bytes();
    let line_start = bytes[..pos]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line_end = bytes[pos..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(bytes.len(), |i| pos + i);
    let mut open: Option<usize> = None;
    let mut i = line_start;
    while i < line_end {
        match (bytes[i], open) {
            (b'\\', Some(_)) => i += 1,
            (b'"', Some(_)) => open = None,
            (b'"', None) => open = Some(i),
            (b'#', None) => break,
            _ => {}
        }
        i += 1;
    }
    let start = open.filter(|&q| q <= pos)?;
    Some(
        Diag::new(Code::Syntax, "this string is never closed", Span::new(start, line_end))
            .label("string starts here")
            .help("add a closing `\"` before the end of the line (write `\\\"` for a quote inside the text)"),
    )
}

const OPERATOR_CHARS: &str = "-<>=!&|.:";

/// The token at `pos` as written (empty at the end of a line or file) and its span.
fn found_token(text: &str, pos: usize) -> (String, Span) {
    let rest = &text[pos..];
    let Some(c) = rest.chars().next() else {
        return (String::new(), Span::new(pos, pos));
    };
    let len = if c == '\n' || c == '\r' {
        return (String::new(), Span::new(pos, pos));
    } else if c.is_ascii_alphanumeric() || c == '_' {
        rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(rest.len())
    } else if c == '"' {
        rest[1..]
            .find(['"', '\n'])
            .map_or(rest.len(), |i| i + 2)
            .min(rest.len())
    } else if OPERATOR_CHARS.contains(c) {
        rest.find(|c: char| !OPERATOR_CHARS.contains(c))
            .unwrap_or(rest.len())
    } else {
        c.len_utf8()
    };
    // Long tokens are cut short in the message, on a character boundary.
    let mut shown = len.min(40);
    while !rest.is_char_boundary(shown) {
        shown -= 1;
    }
    let word = rest[..shown].trim_end_matches(['\n', '\r']);
    (word.to_owned(), Span::new(pos, pos + len))
}

fn phrase(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        kw_say | kw_ask | kw_set | kw_if | kw_goto | kw_close | say | ask | set | call | goto
        | close | branch | if_arm => STATEMENT,
        set_sys => STATEMENT,
        kw_choose | kw_buttons | kw_carousel | kw_otp | kw_form | kw_audio | kw_video | kw_file
        | kw_transfer | kw_appointment | kw_run | kw_return | menu | carousel | email | otp
        | form | media | transfer | appointment | goal | run | return_stmt => ACTION,
        kw_import | kw_bot | kw_api | kw_test | kw_hours | kw_flow | import | bot | api | node
        | test | hours | flow => ITEM,
        option_branch | option_link | option_postback | kw_link | kw_postback => OPTION,
        save_attr => "`save`",
        dyn_label | item_save | dyn_target | dyn_empty | kw_label | kw_empty => DYN_LINE,
        from_block | carousel_from | kw_from => "`from LIST { ... }`",
        card | kw_card => "`card \"Title\" { ... }`",
        card_title | kw_title => "`title`",
        card_subtitle | kw_subtitle => "`subtitle`",
        card_image => "`image`",
        card_button | kw_button => "`button`",
        email_to | kw_to => "`to`",
        email_subject | kw_subject => "`subject`",
        email_body => "`body`",
        otp_send | kw_send => "`send email \"...\"` or `send call API`",
        prompt | kw_prompt => "`prompt`",
        otp_digits | kw_digits => "`digits`",
        otp_tries | kw_tries => "`tries`",
        otp_ok | kw_ok => "`ok -> node`",
        otp_fail | kw_fail => "`fail -> node`",
        form_field | kw_field => "`field ATTR as KIND \"label\"`",
        media_kind | kw_image => MEDIA,
        transfer_kind | kw_department | kw_agent => "`department` or `agent`",
        appt_slots | kw_slots => "`slots call API from body.PATH`",
        appt_book | kw_book => "`book call API`",
        appt_booked | kw_booked => "`booked -> node`",
        appt_failed | kw_failed => "`failed -> node`",
        kw_call => "`call`",
        kw_email => "`email`",
        hours_zone | kw_zone => "`zone \"Area/City\"`",
        hours_closed => "`closed` and dates",
        hours_weekly => "days and times, such as `mon-fri 09:00-17:00`",
        time_of_day => "a time such as `09:00`",
        date => "a date such as `2026-12-25`",
        dash => "`-`",
        sys_target => "`sys.NAME`",
        text_set | text_open => TRANSLATION,
        lang_text => TRANSLATION,
        open_call | kw_open => VALUE,
        greeting | avatar | fallback | languages | kw_greeting | kw_avatar | kw_fallback
        | kw_languages | webhook | kw_webhook => BOT_SETTING,
        kw_secret => "`secret NAME`",
        kw_events => "`events [started, message, closed, ...]`",
        clock | language | kw_clock | kw_language => TEST_STEP,
        expect_choices | expect_transfer | expect_email | expect_goal | expect_media
        | kw_choices | kw_media => EXPECT_WHAT,
        kw_live | kw_draft | kw_idempotent | kw_internal | kw_redirects | redirects
        | redirect_mode | method | kw_header | kw_body | kw_json | kw_timeout | kw_retry
        | kw_save | request | header | body_prop | json_prop | timeout | retry | save
        | form_prop => API_PROP,
        kw_stub | kw_user | kw_expect | stub | user | expect => TEST_STEP,
        kw_attr | kw_request | kw_closed | expect_say | expect_node | expect_attr
        | expect_request => EXPECT_WHAT,
        kw_start | start => BOT_SETTING,
        kw_elif | kw_else | elif_arm | else_arm => "`elif` or `else`",
        expr | and_expr | not_expr | cmp | paren => VALUE,
        json_member => STRING,
        json_array => "a JSON array `[ ... ]`",
        arrow => ARROW,
        ident => NAME,
        string => STRING,
        number | kw_true | kw_false | kw_null | kw_status | dotted_ref | lparen | kw_not => VALUE,
        cmp_op | kw_in | kw_contains | kw_starts_with | kw_ends_with | kw_matches | kw_is => {
            OPERATOR
        }
        kw_and | kw_or => AND_OR,
        sep => SEP,
        lbrace => "`{`",
        rbrace => "`}`",
        lbracket => "`[`",
        rbracket => "`]`",
        rparen => "`)`",
        eq => "`=`",
        eqeq => "`==`",
        comma => "`,`",
        colon => "`:`",
        dotdot => "`..`",
        int | uint => "a whole number",
        range => "a range such as `400..499`",
        list => "a list such as `[1, 2]`",
        duration => "a duration such as `2s` or `500ms`",
        save_path => "a path starting with `body`, such as `body.main.temp`",
        json_object => "a JSON object `{ ... }`",
        json_number => "a number",
        raw_json => "a JSON body",
        path_field => "a field name",
        path_index => "an index",
        EOI => "end of file",
        _ => return None,
    })
}

/// Phrases for what was expected, most telling first, without repeats or noise.
fn phrases(positives: &[Rule]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for &r in positives {
        if let Some(p) = phrase(r) {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    // A value position also tries names and strings; `node` belongs to the item list at the
    // top level and to `expect node` in tests.
    if out.contains(&VALUE) {
        out.retain(|p| *p != NAME && *p != STRING);
    }
    // Keywords of the actions show up one by one; say what the position is about.
    if out.contains(&STATEMENT) {
        out.retain(|p| !matches!(*p, "`call`" | "`email`") && *p != MEDIA);
    }
    if positives.contains(&Rule::kw_link) || positives.contains(&Rule::kw_label) {
        out.retain(|p| *p != API_PROP && *p != STRING && *p != ARROW);
        if positives.contains(&Rule::kw_save) && positives.contains(&Rule::kw_link) {
            out.push("`save`");
        }
    }
    // Where a message text is due, a plain string is the usual answer; the help line
    // mentions translation sets.
    if out.contains(&STRING) && out.contains(&TRANSLATION) {
        out.retain(|p| *p != TRANSLATION);
    }
    if out.contains(&EXPECT_WHAT) {
        out.retain(|p| *p != STATEMENT);
    }
    // `node` is an item keyword at the top level and an expectation after `expect`.
    if positives.contains(&Rule::kw_node) && !out.contains(&EXPECT_WHAT) && !out.contains(&ITEM) {
        out.push(ITEM);
    }
    // In `expect attr A`, the only `is` form is `is not set`.
    if positives.contains(&Rule::eqeq) {
        out.retain(|p| *p != OPERATOR);
        out.push("`is not set`");
    }
    if out.contains(&ITEM) {
        out.retain(|p| *p != "end of file");
    }
    // After a complete operand the condition could go on; when `->` or `)` is due, saying
    // so is what helps, not listing every operator.
    if out.contains(&ARROW) || out.contains(&"`)`") {
        out.retain(|p| *p != AND_OR && *p != OPERATOR);
    }
    if out.contains(&SEP) && out.contains(&"`}`") {
        out.retain(|p| *p != SEP && *p != "`}`");
        out.push(SEP_OR_CLOSE);
    }
    out.sort_by_key(|p| rank(p));
    out
}

/// Structural expectations first, separators and closers last.
fn rank(p: &str) -> u8 {
    match p {
        SEP | SEP_OR_CLOSE => 8,
        "`}`" | "`]`" | "`)`" => 9,
        "end of file" => 10,
        _ => 0,
    }
}

fn join(phrases: &[&str]) -> String {
    match phrases {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// A compact label: the first expectation only.
fn short(phrases: &[&str]) -> String {
    let first = phrases.first().copied().unwrap_or("something else");
    match first.find(" (") {
        Some(i) => first[..i].to_owned(),
        None => first.to_owned(),
    }
}

fn help_for(phrases: &[&str], text_set_allowed: bool) -> String {
    let first = phrases.first().copied().unwrap_or("");
    match first {
        STATEMENT => "a node holds statements such as `say \"Hi\"`, `ask city`, `call weather`, `goto next`; separate them with new lines or `;`".to_owned(),
        ITEM => "a file holds top-level items: `bot \"name\" { ... }`, `api NAME { ... }`, `node NAME { ... }`, `test \"name\" { ... }`, `import \"file.flow\"`, `hours NAME { ... }`, `flow NAME(params) { node ... }`".to_owned(),
        API_PROP => "an API block holds settings such as `live`, `get \"https://...\"`, `header \"Name\" = \"value\"`, `timeout 2s`, `save attr = body.field`".to_owned(),
        TEST_STEP | EXPECT_WHAT => "a test holds `stub API 200 {...}`, `user \"text\"`, `clock \"...\"`, `language \"es\"` and `expect say|node|attr|request|closed|choices|transfer|email|goal|media` lines".to_owned(),
        ARROW => "a branch arm reads `if CONDITION -> node_name`".to_owned(),
        STRING if text_set_allowed => "text is written in double quotes, such as \"Hello\"; a message may also be a translation set such as `{ en \"Hello\" es \"Hola\" }`".to_owned(),
        STRING => "text is written in double quotes, such as \"Hello\"".to_owned(),
        ACTION => "see docs/actions.md for every action, such as `choose \"Pick one\" { \"Yes\" -> yes }`".to_owned(),
        OPTION => "a `choose`/`buttons` block holds options such as `\"Yes\" -> yes`, `link \"FAQ\" \"https://...\"`, `postback \"Call me\" \"CALL\" -> call_back`, and `save ATTR`".to_owned(),
        DYN_LINE => "a `from LIST` block holds `label \"{item.name}\"`, `save ATTR = item.FIELD`, `-> node` and `empty -> node`".to_owned(),
        TRANSLATION => "a translation set lists one text per language: `{ en \"Hello\" es \"Hola\" }`".to_owned(),
        NAME => "names start with a letter or `_` and go on with letters, digits and `_`".to_owned(),
        VALUE => "a condition compares values, such as `status == 200` or `city == \"Chicago\"`".to_owned(),
        OPERATOR => "compare with an operator, such as `status == 200` or `city is set`".to_owned(),
        BOT_SETTING => "a bot block holds `start NODE` (where conversations begin) and optionally `greeting \"...\"`, `avatar \"url\"`, `fallback \"...\"`, `languages en, es`".to_owned(),
        SEP | SEP_OR_CLOSE => "put each statement on its own line, or separate statements with `;`".to_owned(),
        _ => "compare this line with the examples in the language guide".to_owned(),
    }
}
