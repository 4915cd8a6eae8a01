//! A send-API request as a line a person reads: what the visitor sees on the channel
//! (`chatflow test --channel NAME`).

use serde_json::Value as Json;

use super::Outgoing;

/// What `o` shows, in one or more lines: its text, then its buttons as `[Label]`, a list as
/// `Label ▾: row | row`, media as `kind URL`, cards as `card: Title`.
pub fn describe(o: &Outgoing) -> String {
    let b = &o.body;
    let mut lines: Vec<String> = Vec::new();
    let m = if b["message"].is_object() {
        &b["message"]
    } else {
        b
    };
    // Media.
    for (field, kind) in [
        ("photo", "image"),
        ("audio", "audio"),
        ("video", "video"),
        ("document", "file"),
    ] {
        if let Some(url) = m[field].as_str() {
            lines.push(format!("{kind} {url}"));
        }
    }
    if let Some(kind) = b["type"].as_str() {
        if let Some(url) = b[kind]["link"].as_str() {
            lines.push(format!("{kind} {url}"));
        }
        if let Some(url) = b["media"].as_str() {
            let kind = if kind == "picture" { "image" } else { "link" };
            lines.push(format!("{kind} {url}"));
        }
    }
    let attachment = &m["attachment"];
    if let Some(url) = attachment["payload"]["url"].as_str() {
        lines.push(format!(
            "{} {url}",
            attachment["type"].as_str().unwrap_or("file")
        ));
    }
    // Text.
    let text = [
        &m["text"],
        &b["text"]["body"],
        &b["interactive"]["body"]["text"],
        &attachment["payload"]["text"],
        &m["caption"],
        &b["image"]["caption"],
        &b["video"]["caption"],
        &b["document"]["caption"],
    ]
    .into_iter()
    .find_map(|v| v.as_str().filter(|t| !t.is_empty()));
    if let Some(t) = text {
        lines.push(t.to_string());
    }
    // Cards.
    for element in array(&attachment["payload"]["elements"]) {
        let mut line = format!("card: {}", element["title"].as_str().unwrap_or(""));
        if let Some(s) = element["subtitle"].as_str() {
            line.push_str(&format!(" — {s}"));
        }
        if let Some(url) = element["image_url"].as_str() {
            line.push_str(&format!(" (image {url})"));
        }
        lines.push(line);
        push_buttons(
            &mut lines,
            array(&element["buttons"]).iter().map(|b| &b["title"]),
        );
    }
    // Viber's rich media: per card its image, `card: Title — Subtitle`, its buttons.
    rich_media(&mut lines, array(&b["rich_media"]["Buttons"]));
    // Buttons, keyboards, lists.
    for row in array(&m["reply_markup"]["inline_keyboard"]) {
        push_buttons(&mut lines, array(row).iter().map(|b| &b["text"]));
    }
    let action = &b["interactive"]["action"];
    push_buttons(
        &mut lines,
        array(&action["buttons"])
            .iter()
            .map(|b| &b["reply"]["title"]),
    );
    if let Some(button) = action["button"].as_str() {
        let rows: Vec<&str> = array(&action["sections"])
            .iter()
            .flat_map(|s| array(&s["rows"]))
            .filter_map(|r| r["title"].as_str())
            .collect();
        lines.push(format!("{button} ▾: {}", rows.join(" | ")));
    }
    push_buttons(
        &mut lines,
        array(&m["quick_replies"]).iter().map(|q| &q["title"]),
    );
    push_buttons(
        &mut lines,
        array(&attachment["payload"]["buttons"])
            .iter()
            .map(|b| &b["title"]),
    );
    push_buttons(
        &mut lines,
        array(&b["keyboard"]["Buttons"]).iter().map(|b| &b["Text"]),
    );
    lines.join("\n")
}

/// Viber's rich media blocks: an image opens a card, a text without action is its title and
/// subtitle (`<br>` between them), buttons with an action follow.
fn rich_media(lines: &mut Vec<String>, buttons: &[Json]) {
    let mut card: Option<String> = None;
    let mut image: Option<&str> = None;
    let mut labels: Vec<&Json> = Vec::new();
    fn flush<'a>(
        lines: &mut Vec<String>,
        card: &mut Option<String>,
        image: &mut Option<&'a str>,
        labels: &mut Vec<&'a Json>,
    ) {
        if let Some(mut line) = card.take() {
            if let Some(url) = image.take() {
                line.push_str(&format!(" (image {url})"));
            }
            lines.push(line);
        }
        push_buttons(lines, labels.drain(..));
    }
    for button in buttons {
        match (button["ActionType"].as_str(), button["Image"].as_str()) {
            (Some("none"), Some(url)) => {
                flush(lines, &mut card, &mut image, &mut labels);
                image = Some(url);
            }
            (Some("none"), None) => {
                if card.is_some() {
                    flush(lines, &mut card, &mut image, &mut labels);
                }
                let text = button["Text"].as_str().unwrap_or("");
                let plain = text
                    .replace("<br>", " — ")
                    .replace("<b>", "")
                    .replace("</b>", "")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">");
                card = Some(format!("card: {plain}"));
            }
            _ => labels.push(&button["Text"]),
        }
    }
    flush(lines, &mut card, &mut image, &mut labels);
}

fn push_buttons<'a>(lines: &mut Vec<String>, labels: impl Iterator<Item = &'a Json>) {
    let labels: Vec<String> = labels
        .filter_map(|l| l.as_str())
        .map(|l| format!("[{l}]"))
        .collect();
    if !labels.is_empty() {
        lines.push(labels.join(" "));
    }
}

fn array(v: &Json) -> &[Json] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}
