//! Understanding free text at run time: every visitor message is matched (when the flow has
//! a matcher); menus fall back to their options' intents, then the bot's intent rules and FAQ
//! answer before the fallback sentence.

use super::*;
use crate::ir::{FaqAnswer, Number, Understanding};

impl Engine {
    fn understanding(&self) -> Option<&Understanding> {
        self.inner.program.understanding.as_ref()
    }

    /// Sets `sys.intent`, `sys.intent_confidence` and `sys.sentiment` for a new message.
    pub(in crate::runtime::engine) fn judge_message(&self, s: &mut Session, input: &str) {
        let Some(u) = self.understanding() else {
            return;
        };
        let verdict = u.judge(input, None);
        let intent = verdict
            .class
            .and_then(|c| u.classes.get(c))
            .map_or_else(|| "none".to_string(), |c| c.name.clone());
        s.set_sys(SysAttr::Intent, intent);
        let number = |x: f64| Value::Number(Number::from_f64((x * 1000.0).round() / 1000.0));
        s.sys.insert(
            SysAttr::IntentConfidence.name().into(),
            number(verdict.confidence),
        );
        s.sys.insert(
            SysAttr::Sentiment.name().into(),
            number(crate::nlu::sentiment::score(input)),
        );
    }

    /// The answer with synonyms applied: the canonical text when the whole answer is a variant.
    pub(in crate::runtime::engine) fn canonical<'i>(
        &self,
        input: &'i str,
    ) -> std::borrow::Cow<'i, str> {
        match self
            .understanding()
            .and_then(|u| u.normaliser.canonical(input))
        {
            Some(c) => std::borrow::Cow::Owned(c.to_string()),
            None => std::borrow::Cow::Borrowed(input),
        }
    }

    /// The `ask` waits on: its prompt again, and the `Ask` event.
    pub(in crate::runtime::engine) fn ask_again(
        &self,
        s: &mut Session,
        attr: AttrId,
        kind: crate::ir::AskKind,
        prompt: Option<&Text>,
        events: &mut Vec<Event>,
    ) -> Next {
        if let Some(prompt) = prompt {
            events.push(Event::Say {
                text: self.scope(s).render_text(prompt),
            });
        }
        events.push(Event::Ask {
            attr: self.inner.program.attrs[attr as usize].name.clone(),
            kind: kind_name(kind).into(),
        });
        Next::Stay
    }

    /// The option of a static menu whose intent the message matches.
    pub(in crate::runtime::engine) fn option_by_intent(
        &self,
        menu: &Menu,
        options: &[MenuOption],
        input: &str,
    ) -> Option<usize> {
        let u = self.understanding()?;
        let class = u.judge(input, menu.threshold).class?;
        let name = &u.classes.get(class)?.name;
        options.iter().position(|o| o.intent.as_ref() == Some(name))
    }

    /// Free text that nothing where the conversation waits took: the bot's `intent -> NODE`
    /// rules, then FAQ entries. `None`: the caller says its fallback. `Some(true)`: the
    /// conversation moved on (run on); `Some(false)`: an FAQ was answered where it waits.
    pub(in crate::runtime::engine) fn free_text(
        &self,
        s: &mut Session,
        input: &str,
        events: &mut Vec<Event>,
    ) -> Option<bool> {
        let u = self.understanding()?;
        let class = u.classes.get(u.judge(input, None).class?)?;
        if let Some(&(_, node)) = u.routes.iter().find(|(name, _)| *name == class.name) {
            s.wait = None;
            jump(s, node);
            return Some(true);
        }
        match class.faq.as_ref()? {
            FaqAnswer::Say(text) => {
                let text = self.scope(s).render_text(text);
                events.push(Event::Say { text });
                Some(false)
            }
            FaqAnswer::Goto(node) => {
                s.wait = None;
                jump(s, *node);
                Some(true)
            }
        }
    }
}
