//! Error accumulation.
//!
//! Every phase reports its mistakes here instead of returning at the first one, so the user
//! sees all of them in one compilation. Each error is spanned on the offending tokens and, where
//! it helps, carries a `help:` line showing the correct form.

use std::cell::RefCell;
use std::fmt::Display;

use proc_macro2::Span;
use quote::ToTokens;

/// Collects the errors of one macro invocation.
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: RefCell<Vec<syn::Error>>,
}

impl Ctxt {
    pub(crate) fn new() -> Self {
        Ctxt::default()
    }

    /// An error spanned on `tokens`.
    pub(crate) fn error(&self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens.into_token_stream(), message));
    }

    /// An error spanned on `tokens`, followed by a help line.
    pub(crate) fn error_help(&self, tokens: impl ToTokens, message: impl Display, help: impl Display) {
        self.error(tokens, with_help(message, help));
    }

    /// An error at `span`, followed by a help line.
    pub(crate) fn error_help_at(&self, span: Span, message: impl Display, help: impl Display) {
        self.push(syn::Error::new(span, with_help(message, help)));
    }

    /// An error produced by syn (a parse error).
    pub(crate) fn push(&self, error: syn::Error) {
        self.errors.borrow_mut().push(error);
    }

    pub(crate) fn has_errors(&self) -> bool {
        !self.errors.borrow().is_empty()
    }

    /// All errors combined into one, or `Ok` when there were none.
    pub(crate) fn check(self) -> Result<(), syn::Error> {
        let mut errors = self.errors.into_inner().into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for error in errors {
            combined.combine(error);
        }
        Err(combined)
    }
}

/// Formats a message with a help line under it, as rustc prints its own `= help:` notes.
pub(crate) fn with_help(message: impl Display, help: impl Display) -> String {
    format!("{message}\n= help: {help}")
}
