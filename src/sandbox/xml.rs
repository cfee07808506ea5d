//! The little XML the query protocol (STS, IAM) needs: escaping and the response envelope.

/// Escape text for an XML element body or attribute.
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(s)
}

/// `<{op}Response xmlns=..><{op}Result>{result}</{op}Result><ResponseMetadata>..` — the SDK
/// requires the result to be the first child. Operations without output send no result element.
pub fn envelope(op: &str, xmlns: &str, result: Option<&str>, request_id: &str) -> String {
    let mut out = format!("<{op}Response xmlns=\"{xmlns}\">");
    if let Some(result) = result {
        out.push_str(&format!("<{op}Result>{result}</{op}Result>"));
    }
    out.push_str(&format!(
        "<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{op}Response>"
    ));
    out
}

/// A builder for result bodies: `el("RoleName", name)` appends `<RoleName>name</RoleName>`.
#[derive(Default)]
pub struct Xml(String);

impl Xml {
    pub fn new() -> Xml {
        Xml(String::new())
    }

    /// An element with escaped text.
    pub fn el(&mut self, name: &str, text: impl AsRef<str>) -> &mut Xml {
        self.0
            .push_str(&format!("<{name}>{}</{name}>", escape(text.as_ref())));
        self
    }

    /// An element with text, only when `text` is present.
    pub fn opt(&mut self, name: &str, text: Option<impl AsRef<str>>) -> &mut Xml {
        if let Some(t) = text {
            self.el(name, t);
        }
        self
    }

    /// An element whose content is built by `f`.
    pub fn nest(&mut self, name: &str, f: impl FnOnce(&mut Xml)) -> &mut Xml {
        self.0.push_str(&format!("<{name}>"));
        f(self);
        self.0.push_str(&format!("</{name}>"));
        self
    }

    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.0)
    }
}

/// ISO-8601 as the query protocol expects (`2026-11-23T09:14:35Z`).
pub fn time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_puts_result_first() {
        let body = envelope("GetRole", "ns", Some("<Role/>"), "rid");
        assert!(body.starts_with("<GetRoleResponse xmlns=\"ns\"><GetRoleResult><Role/></GetRoleResult><ResponseMetadata>"));
        let empty = envelope("AttachRolePolicy", "ns", None, "rid");
        assert!(!empty.contains("Result>"));
    }

    #[test]
    fn escapes_text() {
        let mut x = Xml::new();
        x.el("A", "<b>&\"");
        assert_eq!(x.finish(), "<A>&lt;b&gt;&amp;&quot;</A>");
    }
}
