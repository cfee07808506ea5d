//! Member accounts as the user gives them: a CSV file (`account_id,email`, the layout the
//! well-known enable scripts use) and `--account ID,EMAIL` flags, validated strictly before any
//! call, each problem named by its line.

use std::collections::BTreeMap;

/// An account to enrol: its id and the email GuardDuty's CreateMembers wants.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct MemberAccount {
    pub id: String,
    pub email: String,
}

/// A problem in the account list, naming where it is (`accounts.csv:3`, `--account #2`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}: {message}")]
pub struct AccountsError {
    pub source_name: String,
    pub message: String,
}

/// Whether `id` is an AWS account id (12 digits).
pub fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// A plausible email: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !email.chars().any(|c| c.is_whitespace() || c == ',')
}

/// Collects accounts from several sources and checks them as a whole.
#[derive(Debug, Default)]
pub struct AccountList {
    accounts: Vec<MemberAccount>,
    /// Account id -> where it was first given, for duplicate errors.
    seen: BTreeMap<String, String>,
}

impl AccountList {
    /// Add every line of a CSV text. A first line whose first field is not numeric is a header;
    /// blank lines and `#` comments are skipped.
    pub fn add_csv(&mut self, name: &str, text: &str) -> Result<(), AccountsError> {
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let first = line.split(',').next().unwrap_or_default().trim();
            if i == 0 && !first.is_empty() && !first.bytes().any(|b| b.is_ascii_digit()) {
                continue; // header such as `account_id,email`
            }
            self.add_line(&format!("{name}:{}", i + 1), line)?;
        }
        Ok(())
    }

    /// Add one `ID,EMAIL` entry; `where_` names it in errors.
    pub fn add_line(&mut self, where_: &str, line: &str) -> Result<(), AccountsError> {
        let err = |message: String| AccountsError {
            source_name: where_.to_string(),
            message,
        };
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let [id, email] = fields.as_slice() else {
            return Err(err(format!(
                "expected `account_id,email`, got {} field(s) in {line:?}",
                fields.len()
            )));
        };
        if !is_account_id(id) {
            return Err(err(format!("account id {id:?} is not 12 digits")));
        }
        if !is_email(email) {
            return Err(err(format!("{email:?} is not a valid email address")));
        }
        if let Some(first) = self.seen.get(*id) {
            return Err(err(format!(
                "account {id} is listed twice (first at {first})"
            )));
        }
        self.seen.insert(id.to_string(), where_.to_string());
        self.accounts.push(MemberAccount {
            id: id.to_string(),
            email: email.to_string(),
        });
        Ok(())
    }

    /// The accounts, sorted by id, refusing the administrator as its own member.
    pub fn finish(self, administrator: &str) -> Result<Vec<MemberAccount>, AccountsError> {
        if let Some(where_) = self.seen.get(administrator) {
            return Err(AccountsError {
                source_name: where_.clone(),
                message: format!(
                    "account {administrator} is the administrator; it cannot be its own member"
                ),
            });
        }
        let mut accounts = self.accounts;
        accounts.sort();
        Ok(accounts)
    }

    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<MemberAccount>, AccountsError> {
        let mut l = AccountList::default();
        l.add_csv("a.csv", text)?;
        l.finish("999999999999")
    }

    #[test]
    fn reads_csv_with_header_comments_and_blank_lines() {
        let got = parse(
            "account_id,email\n# staging\n222222222222, b@example.com\n\n111111111111,a@example.com\n",
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                MemberAccount {
                    id: "111111111111".into(),
                    email: "a@example.com".into()
                },
                MemberAccount {
                    id: "222222222222".into(),
                    email: "b@example.com".into()
                },
            ]
        );
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("111111111111,a@example.com\n12345,b@example.com\n").unwrap_err();
        assert_eq!(e.source_name, "a.csv:2");
        assert!(e.message.contains("12 digits"), "{e}");

        let e = parse("111111111111,not-an-email\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "a.csv:1: \"not-an-email\" is not a valid email address"
        );

        let e = parse("111111111111,a@example.com\n111111111111,b@example.com\n").unwrap_err();
        assert_eq!(e.source_name, "a.csv:2");
        assert!(e.message.contains("first at a.csv:1"), "{e}");

        let e = parse("111111111111\n").unwrap_err();
        assert!(e.message.contains("1 field"), "{e}");

        let e = parse("999999999999,admin@example.com\n").unwrap_err();
        assert!(e.message.contains("its own member"), "{e}");
    }

    #[test]
    fn emails() {
        for ok in ["a@b.co", "aws+member-0001@example.com"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "", "a", "a@b", "@b.co", "a@@b.co", "a b@c.co", "a@.co", "a@b..co",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
