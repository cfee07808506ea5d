//! The findings export of the desired state: the S3 bucket (or folder) and the KMS key the
//! administrator's detector publishes to in every region of the run, checked for form before
//! any call.

use serde::Serialize;

use super::SettingsError;

/// Where the administrator exports findings in every region: one publishing destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportTarget {
    /// `arn:<partition>:s3:::bucket[/prefix/]`
    pub bucket_arn: String,
    /// `arn:<partition>:kms:<region>:<account>:key/<id>`
    pub kms_key_arn: String,
}

impl ExportTarget {
    /// The target of `--export-bucket` and `--export-kms-key`: both or neither, each well formed.
    pub fn from_flags(
        bucket: Option<&str>,
        key: Option<&str>,
    ) -> Result<Option<ExportTarget>, SettingsError> {
        match (bucket, key) {
            (None, None) => Ok(None),
            (Some(_), None) => Err(SettingsError(
                "--export-bucket needs --export-kms-key: GuardDuty encrypts exported findings \
                 with a KMS key"
                    .into(),
            )),
            (None, Some(_)) => Err(SettingsError(
                "--export-kms-key needs --export-bucket (the bucket to export findings to)".into(),
            )),
            (Some(b), Some(k)) => {
                let (b, k) = (b.trim(), k.trim());
                if !bucket_arn(b) {
                    return Err(SettingsError(format!(
                        "--export-bucket {b:?} is not an S3 bucket ARN: use \
                         arn:<partition>:s3:::<bucket>[/<prefix>/] (e.g. arn:aws:s3:::my-findings)"
                    )));
                }
                if !key_arn(k) {
                    return Err(SettingsError(format!(
                        "--export-kms-key {k:?} is not a KMS key ARN: use \
                         arn:<partition>:kms:<region>:<account>:key/<key-id> (an alias is not accepted)"
                    )));
                }
                Ok(Some(ExportTarget {
                    bucket_arn: b.to_string(),
                    kms_key_arn: k.to_string(),
                }))
            }
        }
    }
}

fn partition(p: &str) -> bool {
    !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
}

/// `arn:<partition>:s3:::<bucket>[/<prefix>]`, the bucket named as S3 allows (3 to 63 of
/// lowercase letters, digits, `.` and `-`, a letter or digit at each end).
fn bucket_arn(arn: &str) -> bool {
    let Some((p, rest)) = arn
        .strip_prefix("arn:")
        .and_then(|r| r.split_once(":s3:::"))
    else {
        return false;
    };
    let bucket = rest.split('/').next().unwrap_or_default();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    partition(p)
        && (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|c| alnum(c) || c == b'.' || c == b'-')
        && bucket.bytes().next().is_some_and(alnum)
        && bucket.bytes().last().is_some_and(alnum)
}

/// `arn:<partition>:kms:<region>:<12-digit account>:key/<id>`.
fn key_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [a, p, service, region, account, resource] = parts.as_slice() else {
        return false;
    };
    *a == "arn"
        && partition(p)
        && *service == "kms"
        && !region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource
            .strip_prefix("key/")
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd";

    #[test]
    fn both_or_neither_and_well_formed() {
        assert_eq!(ExportTarget::from_flags(None, None), Ok(None));
        let t = ExportTarget::from_flags(Some("arn:aws:s3:::findings/org/"), Some(KEY))
            .unwrap()
            .unwrap();
        assert_eq!(t.bucket_arn, "arn:aws:s3:::findings/org/");
        let err = |b: Option<&str>, k: Option<&str>| {
            ExportTarget::from_flags(b, k).unwrap_err().to_string()
        };
        assert!(err(Some("arn:aws:s3:::findings"), None).contains("--export-kms-key"));
        assert!(err(None, Some(KEY)).contains("--export-bucket"));
        for bad in ["s3://findings", "arn:aws:s3:::Findings", "arn:aws:s3:::ab"] {
            assert!(
                err(Some(bad), Some(KEY)).starts_with("--export-bucket"),
                "{bad}"
            );
        }
        for bad in [
            "arn:aws:kms:eu-west-1:111111111111:alias/findings",
            "arn:aws:kms:eu-west-1:42:key/x",
            "1234abcd",
        ] {
            assert!(
                err(Some("arn:aws:s3:::findings"), Some(bad)).starts_with("--export-kms-key"),
                "{bad}"
            );
        }
    }
}
