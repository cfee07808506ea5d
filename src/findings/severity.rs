//! GuardDuty's severity bands, as the user guide documents them: Low 1.0-3.9, Medium 4.0-6.9,
//! High 7.0-8.9 and Critical 9.0-10.0 (its own band, which older tools fold into High).

use serde::Serialize;

/// A severity band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Band {
    Low,
    Medium,
    High,
    Critical,
}

impl Band {
    /// Every band, lowest first.
    pub const ALL: [Band; 4] = [Band::Low, Band::Medium, Band::High, Band::Critical];

    /// The band of a severity score; `None` below 1.0 (GuardDuty never scores there).
    pub fn of(severity: f64) -> Option<Band> {
        if severity >= 9.0 {
            Some(Band::Critical)
        } else if severity >= 7.0 {
            Some(Band::High)
        } else if severity >= 4.0 {
            Some(Band::Medium)
        } else if severity >= 1.0 {
            Some(Band::Low)
        } else {
            None
        }
    }

    /// The band's score range: inclusive lower bound, exclusive upper bound (`None` for
    /// Critical, which runs to 10.0 inclusive). Whole numbers, so FindingCriteria (whose bounds
    /// are integers) expresses them exactly.
    pub fn bounds(self) -> (i64, Option<i64>) {
        match self {
            Band::Low => (1, Some(4)),
            Band::Medium => (4, Some(7)),
            Band::High => (7, Some(9)),
            Band::Critical => (9, None),
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Band::Low => "Low",
            Band::Medium => "Medium",
            Band::High => "High",
            Band::Critical => "Critical",
        }
    }

    /// Parse a band name, case-insensitively.
    pub fn parse(s: &str) -> Option<Band> {
        Band::ALL
            .into_iter()
            .find(|b| b.name().eq_ignore_ascii_case(s.trim()))
    }
}

impl std::fmt::Display for Band {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_band_edges() {
        assert_eq!(Band::of(0.5), None);
        assert_eq!(Band::of(1.0), Some(Band::Low));
        assert_eq!(Band::of(3.9), Some(Band::Low));
        assert_eq!(Band::of(4.0), Some(Band::Medium));
        assert_eq!(Band::of(6.9), Some(Band::Medium));
        assert_eq!(Band::of(7.0), Some(Band::High));
        assert_eq!(Band::of(8.9), Some(Band::High));
        assert_eq!(Band::of(9.0), Some(Band::Critical));
        assert_eq!(Band::of(10.0), Some(Band::Critical));
    }

    #[test]
    fn bounds_agree_with_of() {
        for b in Band::ALL {
            let (lo, hi) = b.bounds();
            assert_eq!(Band::of(lo as f64), Some(b));
            if let Some(hi) = hi {
                assert_ne!(Band::of(hi as f64), Some(b));
                assert_eq!(Band::of(hi as f64 - 0.1), Some(b));
            }
        }
        assert_eq!(Band::parse(" critical"), Some(Band::Critical));
        assert_eq!(Band::parse("severe"), None);
    }
}
