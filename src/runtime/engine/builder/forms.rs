//! Forms and appointments: several answers, or a slot picked from an API's list.

use super::*;

impl Engine {
    pub(super) fn form_event(&self, s: &Session, form: &Form, missing: &[u32]) -> Event {
        let scope = self.scope(s);
        let attrs = &self.inner.program.attrs;
        let fields = missing
            .iter()
            .filter_map(|&i| form.fields.get(i as usize))
            .map(|f| FormFieldView {
                attr: attrs[f.attr as usize].name.clone(),
                kind: kind_name(f.kind).into(),
                label: scope.render_text(&f.label),
            })
            .collect();
        Event::Form {
            title: form.title.as_ref().map(|t| scope.render_text(t)),
            fields,
        }
    }

    pub(super) fn answer_form(
        &self,
        s: &mut Session,
        form: &Form,
        input: &str,
        events: &mut Vec<Event>,
    ) -> Next {
        let missing = match s.wait.take() {
            Some(Wait::Form { missing }) => missing,
            other => {
                s.wait = other;
                return Next::Stop;
            }
        };
        let attrs = &self.inner.program.attrs;
        let names: Vec<&str> = missing
            .iter()
            .filter_map(|&i| form.fields.get(i as usize))
            .map(|f| attrs[f.attr as usize].name.as_str())
            .collect();
        let answers = form_answers(input, &names);
        let mut still = Vec::new();
        for (&i, answer) in missing.iter().zip(answers) {
            let Some(field) = form.fields.get(i as usize) else {
                continue;
            };
            let Some(answer) = answer else {
                still.push(i);
                continue;
            };
            match validate(field.kind, &answer) {
                Some(value) => s.attrs[field.attr as usize] = Some(value),
                None => {
                    let attr = attrs[field.attr as usize].name.clone();
                    events.push(Event::Invalid {
                        attr,
                        kind: kind_name(field.kind).into(),
                        answer,
                    });
                    still.push(i);
                }
            }
        }
        if still.is_empty() {
            return Next::Go;
        }
        events.push(self.form_event(s, form, &still));
        s.wait = Some(Wait::Form { missing: still });
        Next::Stay
    }

    pub(super) async fn offer_slots(
        &self,
        s: &mut Session,
        a: &Appointment,
        events: &mut Vec<Event>,
    ) -> Next {
        let Called { event, body, .. } = self.call(s, a.slots_api).await;
        events.push(event);
        let answered = matches!(s.status, Some(200..=299));
        let slots = body
            .filter(|_| answered)
            .and_then(|b| slot_list(&b, &a.slots_path));
        let Some(slots) = slots else {
            jump(s, a.failed);
            return Next::Go;
        };
        let labels: Vec<String> = {
            let scope = self.scope(s);
            slots
                .iter()
                .map(|slot| item_label(&scope, a.label.as_ref(), slot))
                .collect()
        };
        events.push(self.slot_choices(s, a, &labels));
        s.wait = Some(Wait::Slots { labels, slots });
        wait(s)
    }

    pub(super) async fn answer_slots(
        &self,
        s: &mut Session,
        a: &Appointment,
        input: &str,
        events: &mut Vec<Event>,
    ) -> Next {
        let Some(Wait::Slots { labels, slots }) = &s.wait else {
            return Next::Stop;
        };
        let Some(slot) = pick_label(input, labels, true)
            .and_then(|i| slots.get(i))
            .cloned()
        else {
            let labels = labels.clone();
            self.no_match(s, events).await;
            events.push(self.slot_choices(s, a, &labels));
            return Next::Stay;
        };
        s.wait = None;
        run_item_saves(s, &a.saves, &slot);
        let event = self.call(s, a.book_api).await.event;
        events.push(event);
        let booked = matches!(s.status, Some(200..=299));
        jump(s, if booked { a.booked } else { a.failed });
        Next::Go
    }

    pub(super) fn slot_choices(&self, s: &Session, a: &Appointment, labels: &[String]) -> Event {
        Event::Choices {
            style: menu_style(MenuStyle::QuickReplies).into(),
            text: a.prompt.as_ref().map(|t| self.scope(s).render_text(t)),
            options: labels.iter().map(|l| reply(l)).collect(),
        }
    }
}
