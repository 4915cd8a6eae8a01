//! The one answer, over the IR, to "does this statement end its node, and where can it lead".
//! `chatflow graph` draws these exits as edges and coverage counts them as branches, so adding
//! a statement that branches is one arm in [`exits`].
//!
//! The compiler asks the same question of the syntax tree (`compile::exits`), before
//! there is IR; a test there checks that both answers agree on every example.

use super::{
    quote, show_expr, show_template, AttrId, BranchTable, Carousel, MenuOption, MenuSource, NodeId,
    OptionKind, Program, Stmt, Text,
};

/// Where a statement can lead.
#[derive(Debug, Default)]
pub struct Exits<'p> {
    /// Each target, in the order the statement names them, with what takes it there.
    pub to: Vec<(NodeId, Exit<'p>)>,
    /// Nothing after this statement runs in this node.
    pub ends_node: bool,
    /// The chat ends here (`close`).
    pub closes: bool,
}

/// What takes a statement to one of its targets.
#[derive(Debug, Clone, Copy)]
pub enum Exit<'p> {
    /// `goto NODE`
    Goto,
    /// Arm `n` of a branch; `n == arms.len()` is `else`.
    Arm(&'p BranchTable, usize),
    /// A menu or carousel option with this label.
    Option(&'p Text),
    /// A dynamic menu or carousel: an item of this list was picked.
    Each(AttrId),
    /// A dynamic menu or carousel whose list is empty.
    Empty,
    /// The `otp` was answered with the right code.
    OtpOk,
    /// The `otp` ran out of tries.
    OtpFail,
    /// The `appointment` was booked.
    Booked,
    /// Listing slots or booking failed.
    BookingFailed,
    /// `run FLOW`: into the flow's entry node.
    Run,
}

impl Exit<'_> {
    /// The edge's label as `chatflow graph` and coverage show it; `None` for a plain `goto`.
    pub fn label(&self, program: &Program) -> Option<String> {
        Some(match self {
            Exit::Goto => return None,
            Exit::Arm(table, arm) => match table.arms.get(*arm) {
                Some(a) => show_expr(program, &a.cond),
                None => "else".to_string(),
            },
            // A translated label is shown in the bot's first language.
            Exit::Option(label) => label
                .templates()
                .next()
                .map_or_else(String::new, |t| quote(&show_template(program, t))),
            Exit::Each(list) => format!(
                "each of {}",
                program
                    .attrs
                    .get(*list as usize)
                    .map_or("?", |a| a.name.as_str())
            ),
            Exit::Empty => "empty".to_string(),
            Exit::OtpOk => "ok".to_string(),
            Exit::OtpFail => "fail".to_string(),
            Exit::Booked => "booked".to_string(),
            Exit::BookingFailed => "failed".to_string(),
            Exit::Run => "run".to_string(),
        })
    }
}

/// Where `stmt` can lead, and whether it ends its node.
pub fn exits<'p>(program: &'p Program, stmt: &'p Stmt) -> Exits<'p> {
    let ends = |to: Vec<(NodeId, Exit<'p>)>| Exits {
        to,
        ends_node: true,
        closes: false,
    };
    match stmt {
        Stmt::Say(_)
        | Stmt::Ask { .. }
        | Stmt::Set { .. }
        | Stmt::SetLanguage(_)
        | Stmt::Email(_)
        | Stmt::Form(_)
        | Stmt::Media { .. }
        | Stmt::Call(_)
        | Stmt::Reply(_)
        | Stmt::AskAi { .. }
        | Stmt::Goal(_) => Exits::default(),
        Stmt::Goto(target) => ends(vec![(*target, Exit::Goto)]),
        Stmt::Branch(table) => {
            let targets = table.arms.iter().map(|a| a.target).chain([table.otherwise]);
            ends(
                targets
                    .enumerate()
                    .map(|(arm, to)| (to, Exit::Arm(table, arm)))
                    .collect(),
            )
        }
        Stmt::Close => Exits {
            ends_node: true,
            closes: true,
            ..Exits::default()
        },
        Stmt::Transfer { .. } | Stmt::Return => ends(Vec::new()),
        Stmt::Menu(menu) => match &menu.source {
            MenuSource::Static(options) => option_exits(options.iter()),
            MenuSource::Dynamic(items) => ends(vec![
                (items.target, Exit::Each(items.list)),
                (items.empty, Exit::Empty),
            ]),
        },
        Stmt::Carousel(carousel) => match &**carousel {
            Carousel::Static { cards, .. } => {
                option_exits(cards.iter().flat_map(|c| c.buttons.iter()))
            }
            Carousel::Dynamic {
                list,
                target,
                empty,
                ..
            } => ends(vec![(*target, Exit::Each(*list)), (*empty, Exit::Empty)]),
        },
        Stmt::Otp(otp) => ends(vec![(otp.ok, Exit::OtpOk), (otp.fail, Exit::OtpFail)]),
        Stmt::Appointment(a) => ends(vec![
            (a.booked, Exit::Booked),
            (a.failed, Exit::BookingFailed),
        ]),
        Stmt::Run { flow, .. } => Exits {
            to: program
                .flows
                .get(*flow as usize)
                .map(|f| (f.entry, Exit::Run))
                .into_iter()
                .collect(),
            ..Exits::default()
        },
    }
}

/// Branch and postback options lead somewhere; links do not. A menu ends its node when any
/// option leads somewhere.
fn option_exits<'p>(options: impl Iterator<Item = &'p MenuOption>) -> Exits<'p> {
    let to: Vec<(NodeId, Exit<'p>)> = options
        .filter_map(|o| match &o.kind {
            OptionKind::Branch(target) | OptionKind::Postback { target, .. } => {
                Some((*target, Exit::Option(&o.label)))
            }
            OptionKind::Link(_) => None,
        })
        .collect();
    Exits {
        ends_node: !to.is_empty(),
        to,
        closes: false,
    }
}
