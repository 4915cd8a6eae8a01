//! The built-in messages: every fixed text the runtime says to a visitor, in one table, with
//! translations for the languages in [`BUILTIN_LANGUAGES`]. A bot replaces any of them per
//! language in its `messages` block; the compiler refuses unknown names, and the IR keeps the
//! plain name (`wrong_code`), so stored programs do not depend on this type.

macro_rules! messages {
    ($($variant:ident $name:literal $summary:literal {
        en $en:literal es $es:literal fr $fr:literal de $de:literal pt $pt:literal
    })*) => {
        /// A built-in message.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Message {
            $(#[doc = $summary] $variant,)*
        }

        impl Message {
            /// Every built-in message, in the order the docs list them.
            pub const ALL: &'static [Message] = &[$(Message::$variant,)*];

            /// The name a `messages` block uses, e.g. `wrong_code`.
            pub const fn name(self) -> &'static str {
                match self { $(Message::$variant => $name,)* }
            }

            /// When the runtime says it, in one line.
            pub const fn summary(self) -> &'static str {
                match self { $(Message::$variant => $summary,)* }
            }

            /// The built-in text in `language` (`en`, `es`, `fr`, `de`, `pt`; a regional code
            /// such as `pt-BR` uses its base language); English for any other language.
            pub fn builtin(self, language: &str) -> &'static str {
                let base = language.split(['-', '_']).next().unwrap_or("");
                match self {
                    $(Message::$variant => match base {
                        "es" => $es,
                        "fr" => $fr,
                        "de" => $de,
                        "pt" => $pt,
                        _ => $en,
                    },)*
                }
            }
        }
    };
}

/// The languages every built-in message has a text in.
pub const BUILTIN_LANGUAGES: [&str; 5] = ["en", "es", "fr", "de", "pt"];

messages! {
    Fallback "fallback" "An answer matches none of the options of a menu or carousel (the bot's `fallback` setting, when given, is said instead)." {
        en "Sorry, I didn't understand. Please choose one of the options."
        es "Lo siento, no te he entendido. Elige una de las opciones, por favor."
        fr "Désolé, je n'ai pas compris. Veuillez choisir l'une des options."
        de "Entschuldigung, das habe ich nicht verstanden. Bitte wählen Sie eine der Optionen."
        pt "Desculpe, não entendi. Por favor, escolha uma das opções."
    }
    InvalidText "invalid_text" "An empty answer to `ask ... as text` or `as question`." {
        en "Please type an answer."
        es "Escribe una respuesta, por favor."
        fr "Veuillez saisir une réponse."
        de "Bitte geben Sie eine Antwort ein."
        pt "Por favor, escreva uma resposta."
    }
    InvalidFile "invalid_file" "An answer to `ask ... as file` that is not an http(s) link." {
        en "Please send the file's link (an http:// or https:// address)."
        es "Envía el enlace del archivo (una dirección http:// o https://), por favor."
        fr "Veuillez envoyer le lien du fichier (une adresse http:// ou https://)."
        de "Bitte senden Sie den Link zur Datei (eine http://- oder https://-Adresse)."
        pt "Por favor, envie o link do arquivo (um endereço http:// ou https://)."
    }
    InvalidName "invalid_name" "A refused answer to `ask ... as name`." {
        en "That doesn't look like a name. Please try again."
        es "Eso no parece un nombre. Inténtalo de nuevo, por favor."
        fr "Cela ne ressemble pas à un nom. Veuillez réessayer."
        de "Das sieht nicht wie ein Name aus. Bitte versuchen Sie es noch einmal."
        pt "Isso não parece um nome. Por favor, tente novamente."
    }
    InvalidEmail "invalid_email" "A refused answer to `ask ... as email`." {
        en "That doesn't look like an email address. Please try again."
        es "Eso no parece una dirección de correo electrónico. Inténtalo de nuevo, por favor."
        fr "Cela ne ressemble pas à une adresse e-mail. Veuillez réessayer."
        de "Das sieht nicht wie eine E-Mail-Adresse aus. Bitte versuchen Sie es noch einmal."
        pt "Isso não parece um endereço de e-mail. Por favor, tente novamente."
    }
    InvalidPhone "invalid_phone" "A refused answer to `ask ... as phone`." {
        en "That doesn't look like a phone number. Please try again."
        es "Eso no parece un número de teléfono. Inténtalo de nuevo, por favor."
        fr "Cela ne ressemble pas à un numéro de téléphone. Veuillez réessayer."
        de "Das sieht nicht wie eine Telefonnummer aus. Bitte versuchen Sie es noch einmal."
        pt "Isso não parece um número de telefone. Por favor, tente novamente."
    }
    InvalidNumber "invalid_number" "A refused answer to `ask ... as number`." {
        en "That doesn't look like a number. Please try again."
        es "Eso no parece un número. Inténtalo de nuevo, por favor."
        fr "Cela ne ressemble pas à un nombre. Veuillez réessayer."
        de "Das sieht nicht wie eine Zahl aus. Bitte versuchen Sie es noch einmal."
        pt "Isso não parece um número. Por favor, tente novamente."
    }
    InvalidDate "invalid_date" "A refused answer to `ask ... as date`." {
        en "That doesn't look like a date (for example 2026-11-25). Please try again."
        es "Eso no parece una fecha (por ejemplo, 25/11/2026). Inténtalo de nuevo, por favor."
        fr "Cela ne ressemble pas à une date (par exemple 25/11/2026). Veuillez réessayer."
        de "Das sieht nicht wie ein Datum aus (zum Beispiel 2026-11-25). Bitte versuchen Sie es noch einmal."
        pt "Isso não parece uma data (por exemplo, 25/11/2026). Por favor, tente novamente."
    }
    InvalidTime "invalid_time" "A refused answer to `ask ... as time`." {
        en "That doesn't look like a time (for example 14:30). Please try again."
        es "Eso no parece una hora (por ejemplo, 14:30). Inténtalo de nuevo, por favor."
        fr "Cela ne ressemble pas à une heure (par exemple 14:30). Veuillez réessayer."
        de "Das sieht nicht wie eine Uhrzeit aus (zum Beispiel 14:30). Bitte versuchen Sie es noch einmal."
        pt "Isso não parece um horário (por exemplo, 14:30). Por favor, tente novamente."
    }
    WrongCode "wrong_code" "A wrong one-time code while `otp` tries are left." {
        en "That code is not correct. Please try again."
        es "El código no es correcto. Inténtalo de nuevo, por favor."
        fr "Ce code n'est pas correct. Veuillez réessayer."
        de "Dieser Code ist nicht korrekt. Bitte versuchen Sie es noch einmal."
        pt "Esse código não está correto. Por favor, tente novamente."
    }
    CodePrompt "code_prompt" "The prompt of an `otp` without `prompt`; `{digits}` is the code's length." {
        en "Please enter the {digits}-digit code we sent you."
        es "Introduce el código de {digits} dígitos que te hemos enviado, por favor."
        fr "Veuillez saisir le code à {digits} chiffres que nous vous avons envoyé."
        de "Bitte geben Sie den {digits}-stelligen Code ein, den wir Ihnen gesendet haben."
        pt "Por favor, digite o código de {digits} dígitos que enviamos para você."
    }
    CodeSubject "code_subject" "The subject of the email `otp ... send email` sends." {
        en "Your verification code"
        es "Tu código de verificación"
        fr "Votre code de vérification"
        de "Ihr Bestätigungscode"
        pt "Seu código de verificação"
    }
    CodeEmail "code_email" "The body of that email; `{code}` is the code." {
        en "Your verification code is {code}."
        es "Tu código de verificación es {code}."
        fr "Votre code de vérification est {code}."
        de "Ihr Bestätigungscode lautet {code}."
        pt "Seu código de verificação é {code}."
    }
    ChooseButton "choose_button" "The button of a `carousel from` card without `button`." {
        en "Choose"
        es "Elegir"
        fr "Choisir"
        de "Auswählen"
        pt "Escolher"
    }
}

impl Message {
    /// The message called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Message> {
        Message::ALL.iter().copied().find(|m| m.name() == name)
    }

    /// The placeholder this message fills in (`{digits}`, `{code}`), if any.
    pub const fn placeholder(self) -> Option<&'static str> {
        match self {
            Message::CodePrompt => Some("digits"),
            Message::CodeEmail => Some("code"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every message is translated (no English copied into another language) and keeps its
    /// placeholder in every language; names are unique.
    #[test]
    fn every_message_has_a_real_translation_with_its_placeholder() {
        for &m in Message::ALL {
            let en = m.builtin("en");
            for lang in BUILTIN_LANGUAGES {
                let text = m.builtin(lang);
                assert!(!text.trim().is_empty(), "{} in {lang}", m.name());
                if lang != "en" {
                    assert_ne!(text, en, "{} is not translated into {lang}", m.name());
                }
                if let Some(p) = m.placeholder() {
                    assert!(text.contains(&format!("{{{p}}}")), "{} in {lang}", m.name());
                }
            }
            assert_eq!(Message::from_name(m.name()), Some(m));
        }
        assert_eq!(
            Message::InvalidNumber.builtin("pt-BR"),
            Message::InvalidNumber.builtin("pt")
        );
        assert_eq!(
            Message::InvalidNumber.builtin("ja"),
            Message::InvalidNumber.builtin("en")
        );
    }

    /// The table in `docs/language.md` lists every message, none more, with its English text.
    #[test]
    fn language_docs_list_every_message_with_its_english_text() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/language.md");
        let text = std::fs::read_to_string(path).expect("docs/language.md");
        let start = text
            .find("### Built-in messages")
            .expect("a built-in messages section in docs/language.md");
        let rows = text[start..]
            .lines()
            .skip_while(|l| !l.starts_with("| `"))
            .take_while(|l| l.starts_with('|'));
        let mut documented = Vec::new();
        for row in rows {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let name = cells.get(1).unwrap_or(&"").trim_matches('`');
            let message = Message::from_name(name)
                .unwrap_or_else(|| panic!("`{name}` in the docs is not a built-in message"));
            assert_eq!(cells.get(3).copied(), Some(message.builtin("en")), "{name}");
            documented.push(message);
        }
        assert_eq!(documented, Message::ALL);
    }
}
