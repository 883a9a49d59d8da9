//! Code generation from the integer IR and its memory plan. The text lives in templates/ (askama); this module
//! computes what goes into it.

pub mod c;
mod conv_layout;
pub use conv_layout::LEFT_SHORT;
pub mod interface;
pub mod kernel_sources;
pub mod manifest;
mod output;
pub mod params;
pub mod rust;
pub mod schedule;
pub mod variants;

pub use output::{check_marked_dir, check_output_dir, write_marked_dir, write_output_dir};

use crate::error::{Error, Result};

/// A language ompqc generates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    C,
    Rust,
}

impl Lang {
    /// Parses `--emit`: a comma-separated list of `c` and `rust`.
    pub fn parse_list(text: &str) -> Result<Vec<Lang>> {
        let mut langs = vec![];
        for item in text.split(',').map(str::trim) {
            let lang = match item {
                "c" => Lang::C,
                "rust" => Lang::Rust,
                _ => return Err(Error::input(format!("--emit {text}: '{item}' is not c or rust"))),
            };
            if !langs.contains(&lang) {
                langs.push(lang);
            }
        }
        Ok(langs)
    }

    /// The output subdirectory of the language's code.
    pub fn dir(self) -> &'static str {
        match self {
            Lang::C => "c",
            Lang::Rust => "rust",
        }
    }
}

/// What the generated files record about their origin.
#[derive(Clone, Debug)]
pub struct Provenance {
    pub target: String,
    /// The model's file name (not its path, so that outputs do not depend on where the model lies).
    pub model_file: String,
    /// sha256 of the model file, hex.
    pub model_hash: String,
}

/// Checks that `name` can prefix C (and Rust) identifiers.
pub fn check_name(name: &str) -> Result<()> {
    const C_KEYWORDS: &[&str] = &[
        "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum", "extern",
        "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short", "signed",
        "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while",
    ];
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !C_KEYWORDS.contains(&name);
    if !valid {
        return Err(Error::input(format!(
            "--name {name}: not a C identifier (letters, digits and _, not starting with a digit)"
        )));
    }
    Ok(())
}

/// An f32 as a literal that reads back to the same value, in C and Rust (C adds its `f` suffix).
fn float_literal(v: f32) -> String {
    let s = format!("{v:?}");
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

/// Renders a template of generated `language` code, ending in a newline.
fn render(t: &dyn askama::DynTemplate, language: &str) -> Result<String> {
    let mut text = t.dyn_render().map_err(|err| Error::internal(format!("rendering {language}: {err}")))?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// sha256 of bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
