//! How a command ended, for the exit code: the one type every command returns.

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything done (exit 0).
    Success,
    /// Some accounts or regions failed, or the run was stopped, the rest done (exit 2).
    Partial,
    /// A check found what it looks for (gaps, drift) (exit 3).
    Findings,
    /// Nothing that was attempted worked (exit 1).
    Failed,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Partial => 2,
            Outcome::Findings => 3,
            Outcome::Failed => 1,
        }
    }

    /// Success or partial, from whether anything failed.
    pub fn partial_if(failed: bool) -> Outcome {
        if failed {
            Outcome::Partial
        } else {
            Outcome::Success
        }
    }
}
