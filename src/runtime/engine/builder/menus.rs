//! Menus and carousels: offering the options, and matching the user's answer to one.

use super::*;

impl Engine {
    pub(super) fn offer_menu(&self, s: &mut Session, menu: &Menu, events: &mut Vec<Event>) -> Next {
        match &menu.source {
            MenuSource::Static(options) => {
                events.push(self.static_choices(s, menu, options));
                if options.iter().any(branches) {
                    wait(s)
                } else {
                    Next::Go
                }
            }
            MenuSource::Dynamic(d) => {
                let labels = {
                    let scope = self.scope(s);
                    let Some(items) = list(s, d.list) else {
                        jump(s, d.empty);
                        return Next::Go;
                    };
                    items
                        .iter()
                        .map(|item| item_label(&scope, d.label.as_ref(), item))
                        .collect::<Vec<_>>()
                };
                events.push(self.dynamic_choices(s, menu, &labels));
                s.wait = Some(Wait::Items {
                    labels,
                    titles: Vec::new(),
                });
                wait(s)
            }
        }
    }

    pub(super) async fn answer_menu(
        &self,
        s: &mut Session,
        menu: &Menu,
        input: &str,
        events: &mut Vec<Event>,
    ) -> Next {
        match &menu.source {
            MenuSource::Static(options) => {
                let labels: Vec<String> = {
                    let scope = self.scope(s);
                    options
                        .iter()
                        .map(|o| scope.render_text(&o.label))
                        .collect()
                };
                let picked = pick_option(input, &labels, options, true)
                    .or_else(|| self.option_by_intent(menu, options, input));
                let Some((value, target)) = picked.and_then(|i| chosen(&labels[i], &options[i]))
                else {
                    match self.free_text(s, input, events) {
                        Some(true) => return Next::Go,
                        Some(false) => {}
                        None => self.no_match(s, events).await,
                    }
                    events.push(self.static_choices(s, menu, options));
                    return Next::Stay;
                };
                save_text(s, menu.save, value);
                jump(s, target);
                Next::Go
            }
            MenuSource::Dynamic(d) => {
                let Some(Wait::Items { labels, .. }) = &s.wait else {
                    return Next::Stop;
                };
                match pick_label(input, labels, true) {
                    Some(i) => {
                        let label = labels[i].clone();
                        save_text(s, menu.save, label);
                        self.pick_item(s, d.list, i, &d.saves, d.target, d.empty)
                    }
                    None => {
                        let labels = labels.clone();
                        match self.free_text(s, input, events) {
                            Some(true) => return Next::Go,
                            Some(false) => {}
                            None => self.no_match(s, events).await,
                        }
                        events.push(self.dynamic_choices(s, menu, &labels));
                        Next::Stay
                    }
                }
            }
        }
    }

    pub(super) fn static_choices(&self, s: &Session, menu: &Menu, options: &[MenuOption]) -> Event {
        let scope = self.scope(s);
        Event::Choices {
            style: menu_style(menu.style).into(),
            text: menu.text.as_ref().map(|t| scope.render_text(t)),
            options: options.iter().map(|o| choice_view(&scope, o)).collect(),
        }
    }

    pub(super) fn dynamic_choices(&self, s: &Session, menu: &Menu, labels: &[String]) -> Event {
        Event::Choices {
            style: menu_style(menu.style).into(),
            text: menu.text.as_ref().map(|t| self.scope(s).render_text(t)),
            options: labels.iter().map(|l| reply(l)).collect(),
        }
    }

    /// Element `i` of the list attribute was chosen: run the saves and go on.
    pub(super) fn pick_item(
        &self,
        s: &mut Session,
        list_attr: AttrId,
        i: usize,
        saves: &[ItemSave],
        target: NodeId,
        empty: NodeId,
    ) -> Next {
        s.wait = None;
        let item = list(s, list_attr).and_then(|items| items.get(i)).cloned();
        match item {
            Some(item) => {
                run_item_saves(s, saves, &item);
                jump(s, target);
            }
            // The list changed under the wait (a session from storage): treat it as empty.
            None => jump(s, empty),
        }
        Next::Go
    }

    /// Say the bot's fallback: the model's answer with `fallback reply with AI`, else (or when
    /// it gives none) the `fallback` text or the built-in sentence.
    pub(super) async fn no_match(&self, s: &mut Session, events: &mut Vec<Event>) {
        if self.inner.config.trace {
            let node = &self.inner.program.nodes[s.node as usize];
            events.push(Event::Fallback {
                node: node.name.clone(),
            });
        }
        if let Some(ai) = self.inner.program.bot.fallback_ai {
            let (event, text) = self.ask_model(s, ai, None).await;
            events.push(event);
            if let Some(text) = text {
                events.push(Event::Say { text });
                return;
            }
        }
        let text = match &self.inner.program.bot.fallback {
            Some(t) => self.scope(s).render_text(t),
            None => self.message(s, Message::Fallback),
        };
        events.push(Event::Say { text });
    }

    pub(super) fn offer_carousel(
        &self,
        s: &mut Session,
        carousel: &Carousel,
        events: &mut Vec<Event>,
    ) -> Next {
        match carousel {
            Carousel::Static { cards, .. } => {
                events.push(self.static_cards(s, cards));
                if cards.iter().flat_map(|c| &c.buttons).any(branches) {
                    wait(s)
                } else {
                    Next::Go
                }
            }
            Carousel::Dynamic {
                list: list_attr,
                card,
                empty,
                ..
            } => {
                let Some(views) = self.dynamic_cards(s, *list_attr, card) else {
                    jump(s, *empty);
                    return Next::Go;
                };
                let titles = views.iter().map(|v| v.title.clone()).collect();
                let labels = views
                    .iter()
                    .map(|v| {
                        v.buttons
                            .first()
                            .map(|b| b.label.clone())
                            .unwrap_or_default()
                    })
                    .collect();
                events.push(Event::Carousel { cards: views });
                s.wait = Some(Wait::Items { labels, titles });
                wait(s)
            }
        }
    }

    pub(super) async fn answer_carousel(
        &self,
        s: &mut Session,
        carousel: &Carousel,
        input: &str,
        events: &mut Vec<Event>,
    ) -> Next {
        match carousel {
            Carousel::Static { cards, save } => {
                let (titles, buttons): (Vec<String>, Vec<(usize, String, &MenuOption)>) = {
                    let scope = self.scope(s);
                    let titles = cards.iter().map(|c| scope.render_text(&c.title)).collect();
                    let buttons = cards
                        .iter()
                        .enumerate()
                        .flat_map(|(ci, c)| c.buttons.iter().map(move |b| (ci, b)))
                        .map(|(ci, b)| (ci, scope.render_text(&b.label), b))
                        .collect();
                    (titles, buttons)
                };
                let labels: Vec<String> = buttons.iter().map(|(_, l, _)| l.clone()).collect();
                let by_title = |card: usize| {
                    buttons
                        .iter()
                        .position(|(ci, _, b)| *ci == card && branches(b))
                };
                let picked = pick_unique_label(input, &labels)
                    .or_else(|| pick_label(input, &titles, true).and_then(by_title))
                    .or_else(|| pick_payload(input, buttons.iter().map(|(_, _, b)| *b)));
                let Some((value, target)) =
                    picked.and_then(|i| chosen(&buttons[i].1, buttons[i].2))
                else {
                    self.no_match(s, events).await;
                    events.push(self.static_cards(s, cards));
                    return Next::Stay;
                };
                save_text(s, *save, value);
                jump(s, target);
                Next::Go
            }
            Carousel::Dynamic {
                list: list_attr,
                card,
                saves,
                target,
                empty,
            } => {
                let Some(Wait::Items { labels, titles }) = &s.wait else {
                    return Next::Stop;
                };
                match pick_unique_label(input, labels).or_else(|| pick_label(input, titles, true)) {
                    Some(i) => self.pick_item(s, *list_attr, i, saves, *target, *empty),
                    None => {
                        self.no_match(s, events).await;
                        match self.dynamic_cards(s, *list_attr, card) {
                            Some(cards) => events.push(Event::Carousel { cards }),
                            None => {
                                s.wait = None;
                                jump(s, *empty);
                                return Next::Go;
                            }
                        }
                        Next::Stay
                    }
                }
            }
        }
    }

    pub(super) fn static_cards(&self, s: &Session, cards: &[Card]) -> Event {
        let scope = self.scope(s);
        let cards = cards
            .iter()
            .map(|c| CardView {
                title: scope.render_text(&c.title),
                subtitle: c.subtitle.as_ref().map(|t| scope.render_text(t)),
                image: c.image.as_ref().map(|t| scope.render(t)),
                buttons: c.buttons.iter().map(|b| choice_view(&scope, b)).collect(),
            })
            .collect();
        Event::Carousel { cards }
    }

    /// One card per element of the list attribute; `None` when the list is missing or empty.
    pub(super) fn dynamic_cards(
        &self,
        s: &Session,
        list_attr: AttrId,
        card: &CardTemplate,
    ) -> Option<Vec<CardView>> {
        let scope = self.scope(s);
        let default_button = self.message(s, Message::ChooseButton);
        let items = list(s, list_attr)?;
        let views = items
            .iter()
            .map(|item| {
                let scope = scope.with_item(item);
                let opt = |t: &Option<Text>| t.as_ref().map(|t| scope.render_text(t));
                let button = opt(&card.button).unwrap_or_else(|| default_button.clone());
                CardView {
                    title: opt(&card.title).unwrap_or_else(|| value_text(Some(item))),
                    subtitle: opt(&card.subtitle),
                    image: card.image.as_ref().map(|t| scope.render(t)),
                    buttons: vec![reply(&button)],
                }
            })
            .collect();
        Some(views)
    }
}
