//! awsQuery request parameters (STS, IAM): a form body of `Action`, `Version` and members,
//! lists flattened as `Name.member.N`.

/// The decoded form of one request.
#[derive(Debug, Clone, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Form {
        Form(form_urlencoded::parse(body).into_owned().collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A required member, or IAM/STS's error for a missing one.
    pub fn require(&self, name: &str) -> Result<&str, super::error::ApiError> {
        self.get(name).ok_or_else(|| {
            super::error::ApiError::new(400, "ValidationError", format!("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", lower_first(name)))
        })
    }

    /// The values of a flattened list `Name.member.1`, `Name.member.2`, ... in order; `suffix`
    /// selects a field of structure members (e.g. `PolicyArns.member.N.arn`).
    pub fn list(&self, name: &str, suffix: Option<&str>) -> Vec<String> {
        let prefix = format!("{name}.member.");
        let mut items: Vec<(u32, String)> = self
            .0
            .iter()
            .filter_map(|(k, v)| {
                let rest = k.strip_prefix(&prefix)?;
                let (n, tail) = match rest.split_once('.') {
                    Some((n, tail)) => (n, Some(tail)),
                    None => (rest, None),
                };
                (tail == suffix).then(|| n.parse().ok().map(|n| (n, v.clone())))?
            })
            .collect();
        items.sort_by_key(|(n, _)| *n);
        items.into_iter().map(|(_, v)| v).collect()
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_members_and_lists() {
        let f = Form::parse(b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&Tags.member.2.Key=b&Tags.member.1.Key=a&PolicyArns.member.1.arn=x");
        assert_eq!(f.get("Action"), Some("AssumeRole"));
        assert_eq!(f.get("RoleArn"), Some("arn:aws:iam::1:role/r"));
        assert_eq!(f.list("Tags", Some("Key")), vec!["a", "b"]);
        assert_eq!(f.list("PolicyArns", Some("arn")), vec!["x"]);
        assert!(f.require("Missing").is_err());
    }
}
