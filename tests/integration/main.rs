//! All integration tests build into this one binary. Each module drives an in-process sandbox
//! (port 0) over HTTP through the official AWS SDK clients.

mod support;

mod rollout;
mod sandbox_basics; // dispatch, auth, errors, faults // plan / rollout / offboard end to end
