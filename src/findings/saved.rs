//! Saved filters: a TOML file of named filters (`[filters.NAME]` tables whose keys are those
//! of [`FilterSpec`]), used by `--filter NAME` and made into GuardDuty filters by
//! `gdorg filters sync`. See `examples/filters.toml`.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::filter::{Filter, FilterError, FilterSpec};

/// The default file `--filter` reads when `--filters-file` is not given.
pub const DEFAULT_FILE: &str = "gdorg-filters.toml";

#[derive(Debug, thiserror::Error)]
pub enum SavedError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: filter {name:?}: {source}")]
    Invalid {
        path: String,
        name: String,
        source: FilterError,
    },
    #[error("{path}: filter name {name:?} must be 3-64 letters, digits, '-', '_' or '.' (GuardDuty's rule)")]
    Name { path: String, name: String },
    #[error("no filter named {name:?} in {path} (it has: {known})")]
    Unknown {
        path: String,
        name: String,
        known: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    #[serde(default)]
    filters: BTreeMap<String, FilterSpec>,
}

/// The filters of one file, by name (sorted).
#[derive(Debug, Clone, Default)]
pub struct SavedFilters {
    pub path: String,
    pub filters: BTreeMap<String, FilterSpec>,
}

impl SavedFilters {
    pub fn load(path: &Path) -> Result<SavedFilters, SavedError> {
        let text = std::fs::read_to_string(path).map_err(|source| SavedError::Read {
            path: path.display().to_string(),
            source,
        })?;
        SavedFilters::parse(&path.display().to_string(), &text)
    }

    /// Parse and check every filter's name and values (relative times are checked against
    /// the current time; they are resolved again when used).
    pub fn parse(path: &str, text: &str) -> Result<SavedFilters, SavedError> {
        let shape: FileShape = toml::from_str(text).map_err(|e| SavedError::Parse {
            path: path.into(),
            message: e.to_string(),
        })?;
        let saved = SavedFilters {
            path: path.into(),
            filters: shape.filters,
        };
        for name in saved.filters.keys() {
            if !valid_name(name) {
                return Err(SavedError::Name {
                    path: path.into(),
                    name: name.clone(),
                });
            }
        }
        saved.validate_all(Utc::now())?;
        Ok(saved)
    }

    /// Every filter, validated.
    pub fn validate_all(&self, now: DateTime<Utc>) -> Result<Vec<(String, Filter)>, SavedError> {
        self.filters
            .iter()
            .map(|(name, spec)| {
                spec.validate(now)
                    .map(|f| (name.clone(), f))
                    .map_err(|source| SavedError::Invalid {
                        path: self.path.clone(),
                        name: name.clone(),
                        source,
                    })
            })
            .collect()
    }

    pub fn get(&self, name: &str) -> Result<&FilterSpec, SavedError> {
        self.filters.get(name).ok_or_else(|| SavedError::Unknown {
            path: self.path.clone(),
            name: name.into(),
            known: self.filters.keys().cloned().collect::<Vec<_>>().join(", "),
        })
    }
}

/// GuardDuty filter names: 3-64 characters of letters, digits, `-`, `_` and `.`.
pub fn valid_name(name: &str) -> bool {
    (3..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses() {
        let text = include_str!("../../examples/filters.toml");
        let saved = SavedFilters::parse("examples/filters.toml", text).unwrap();
        assert!(saved.filters.len() >= 3);
        assert!(saved.get("high-and-critical").is_ok());
    }

    #[test]
    fn errors_name_file_and_filter() {
        let err = SavedFilters::parse("f.toml", "[filters.x]\n").unwrap_err();
        assert!(err.to_string().contains("\"x\" must be 3-64"), "{err}");
        let err =
            SavedFilters::parse("f.toml", "[filters.mine]\nseverity = [\"Hi\"]\n").unwrap_err();
        assert!(err.to_string().contains("f.toml: filter \"mine\""), "{err}");
        let err = SavedFilters::parse("f.toml", "[filters.mine]\ncolour = 1\n").unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
        let saved = SavedFilters::parse("f.toml", "[filters.mine]\n").unwrap();
        let err = saved.get("yours").unwrap_err().to_string();
        assert!(err.contains("it has: mine"), "{err}");
    }
}
