//! The functions an expression may call: `len(list)`, `lower(x)`, `round(x, 2)`, ...

use serde::{Deserialize, Serialize};

macro_rules! functions {
    ($($variant:ident $name:literal ($($param:literal),*) $summary:literal;)*) => {
        /// A built-in function.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum Func {
            $(#[doc = $summary] $variant,)*
        }

        impl Func {
            /// Every function, in the order help lines list them.
            pub const ALL: &'static [Func] = &[$(Func::$variant,)*];

            /// The name as written in a flow.
            pub const fn name(self) -> &'static str {
                match self { $(Func::$variant => $name,)* }
            }

            /// The parameters' names, for help lines (`round(x, digits)`).
            pub const fn params(self) -> &'static [&'static str] {
                match self { $(Func::$variant => &[$($param),*],)* }
            }

            /// What the function gives, in one line.
            pub const fn summary(self) -> &'static str {
                match self { $(Func::$variant => $summary,)* }
            }
        }
    };
}

functions! {
    Len "len" ("list") "The number of elements of a list (or fields of a map, or characters of a text).";
    Lower "lower" ("text") "The text in lower case.";
    Upper "upper" ("text") "The text in upper case.";
    Trim "trim" ("text") "The text without spaces at either end.";
    Round "round" ("x", "digits") "`x` rounded to `digits` decimal places, halves away from zero.";
    Number "number" ("x") "`x` as a number (`\"30\"` is 30); unset when it does not read as one.";
    Text "text" ("x") "`x` as text, written the way a template inserts it.";
}

impl Func {
    /// The function called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// How the function is called: `round(x, digits)`.
    pub fn signature(self) -> String {
        format!("{}({})", self.name(), self.params().join(", "))
    }
}
