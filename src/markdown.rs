//! Text for a Markdown table cell: every character Markdown (or the HTML a viewer renders
//! inline) would interpret is escaped, and line breaks become spaces, so a value from AWS or
//! from an attacker stays one literal cell.

/// `s` as one literal Markdown table cell.
pub fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_markdown_character_is_literal() {
        assert_eq!(
            super::cell("a|b*c_<x>\n#1 [l](u) `c`"),
            "a\\|b\\*c\\_\\<x\\> \\#1 \\[l\\](u) \\`c\\`"
        );
    }
}
