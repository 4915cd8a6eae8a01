//! Email, and one-time codes sent by email or by an API.

use super::*;

impl Engine {
    pub(super) fn render_email(&self, s: &Session, email: &Email) -> (String, String, String) {
        let scope = self.scope(s);
        (
            scope.render(&email.to),
            scope.render_text(&email.subject),
            scope.render_text(&email.body),
        )
    }

    /// Record the email and, with an SMTP server configured, deliver it. A failure sets
    /// `sys.email_error` and gives `false`; the flow goes on either way.
    pub(super) async fn send_email(
        &self,
        s: &mut Session,
        to: String,
        subject: String,
        body: String,
        events: &mut Vec<Event>,
    ) -> bool {
        let (delivered, error) = match &self.inner.config.smtp {
            None => (false, None),
            Some(smtp) => match smtp::deliver(smtp, &to, &subject, &body).await {
                Ok(()) => (true, None),
                Err(e) => (false, Some(e)),
            },
        };
        match &error {
            Some(e) => {
                s.set_sys(SysAttr::EmailError, e.clone());
            }
            None if delivered => {
                s.clear_sys(SysAttr::EmailError);
            }
            None => {}
        }
        let sent = error.is_none();
        events.push(Event::Email {
            to,
            subject,
            body,
            delivered,
            error,
        });
        sent
    }

    pub(super) async fn start_otp(
        &self,
        s: &mut Session,
        otp: &Otp,
        events: &mut Vec<Event>,
    ) -> Next {
        let code = match new_code(otp.digits, self.inner.config.fixed_otp) {
            Ok(code) => code,
            Err(message) => {
                events.push(Event::RuntimeError { message });
                jump(s, otp.fail);
                return Next::Go;
            }
        };
        match otp::sealed_wait(&code, otp.tries.max(1)) {
            Ok(sealed) => s.wait = Some(sealed),
            Err(message) => {
                events.push(Event::RuntimeError { message });
                jump(s, otp.fail);
                return Next::Go;
            }
        }
        // A code that never reached the visitor cannot be typed: a refused email or a send
        // API without a 2xx answer takes `fail` at once.
        let sent = match &otp.send {
            OtpSend::Email(to) => {
                let scope = Scope {
                    otp_code: Some(&code),
                    ..self.scope(s)
                };
                let to = scope.render(to);
                let body = self.message(s, Message::CodeEmail).replace("{code}", &code);
                let subject = self.message(s, Message::CodeSubject);
                self.send_email(s, to, subject, body, events).await
            }
            OtpSend::Call(api) => {
                let called = self.call_with_code(s, *api, Some(&code)).await;
                events.push(called.event);
                matches!(s.status, Some(200..=299))
            }
        };
        if !sent {
            s.wait = None;
            jump(s, otp.fail);
            return Next::Go;
        }
        self.otp_prompt(s, otp, events);
        wait(s)
    }

    /// The code [`Engine::call_api`] inserts as `{sys.otp_code}`: made as the first `otp` that
    /// sends through `api` would make it (6 digits, the default, when none does).
    pub(in crate::runtime::engine) fn code_for_call(&self, api: ApiId) -> Result<String, String> {
        let sends_through = |stmt: &Stmt| match stmt {
            Stmt::Otp(otp) => match otp.send {
                OtpSend::Call(through) if through == api => Some(otp.digits),
                _ => None,
            },
            _ => None,
        };
        let digits = self
            .inner
            .program
            .nodes
            .iter()
            .flat_map(|node| &node.stmts)
            .find_map(sends_through)
            .unwrap_or(DEFAULT_OTP_DIGITS);
        new_code(digits, self.inner.config.fixed_otp)
    }

    pub(super) fn otp_prompt(&self, s: &Session, otp: &Otp, events: &mut Vec<Event>) {
        let text = match &otp.prompt {
            Some(p) => self.scope(s).render_text(p),
            None => self
                .message(s, Message::CodePrompt)
                .replace("{digits}", &code_len(otp.digits).to_string()),
        };
        events.push(Event::Say { text });
    }

    pub(super) fn answer_otp(
        &self,
        s: &mut Session,
        otp: &Otp,
        input: &str,
        events: &mut Vec<Event>,
    ) -> Next {
        let Some(Wait::Otp {
            salt,
            digest,
            tries_left,
        }) = &mut s.wait
        else {
            return Next::Stop;
        };
        let answer: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if otp::answer_matches(&answer, salt, digest) {
            s.wait = None;
            jump(s, otp.ok);
            return Next::Go;
        }
        *tries_left = tries_left.saturating_sub(1);
        if *tries_left == 0 {
            s.wait = None;
            jump(s, otp.fail);
            return Next::Go;
        }
        events.push(Event::Say {
            text: self.message(s, Message::WrongCode),
        });
        self.otp_prompt(s, otp, events);
        Next::Stay
    }
}
