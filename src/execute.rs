//! The executor: runs a plan's steps with bounded fan-out, each once, as soon as the steps it
//! waits for are done. It keeps going past failures (a step whose prerequisite failed is
//! skipped, not attempted), returns every result, and on a stop signal (Ctrl-C) starts nothing
//! new, lets the calls in flight finish and returns what it has.
//!
//! Retries with backoff on throttling and server errors are the SDK's (`--max-attempts`); the
//! executor itself never retries, so no state can loop forever.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use futures::future::BoxFuture;
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::aws::AwsError;
pub use crate::control::{Reporter, Silent, Stop};
use crate::plan::{Action, Plan};

/// What performing one step gave.
#[derive(Debug, Clone, Default)]
pub struct StepOutcome {
    /// The call's error, when the step failed as a whole.
    pub error: Option<AwsError>,
    /// Accounts of a batch the call did not process, with why.
    pub failed_accounts: BTreeMap<String, AwsError>,
}

/// Performs one action against AWS (or a fake, in tests).
pub trait Perform: Send + Sync + 'static {
    /// Perform `action`, leaving out `excluded` accounts (their prerequisites failed).
    fn perform(
        self: Arc<Self>,
        action: Action,
        excluded: BTreeSet<String>,
    ) -> BoxFuture<'static, StepOutcome>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Done,
    /// The call worked but some accounts of the batch were not processed.
    Partial,
    Failed,
    /// Not attempted: a step it waits for failed.
    Skipped,
    /// Not attempted: the run was stopped first.
    NotStarted,
}

/// The result of one step: 16 bytes, because a run keeps one per step (320,000 at 5,000
/// accounts x 32 regions) and nearly all of them went well.
#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    pub status: Status,
    pub duration_ms: u32,
    /// What went wrong, if anything did.
    #[serde(flatten)]
    problem: Option<Box<Problem>>,
}

/// A step's failure, its batch's unprocessed accounts, or why it was skipped.
#[derive(Debug, Clone, Default, Serialize)]
struct Problem {
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<AwsError>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    failed_accounts: BTreeMap<String, AwsError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

impl StepResult {
    /// A step that ran, with what it gave.
    pub fn ran(out: StepOutcome, took: std::time::Duration) -> StepResult {
        let status = match (&out.error, out.failed_accounts.is_empty()) {
            (Some(_), _) => Status::Failed,
            (None, true) => Status::Done,
            (None, false) => Status::Partial,
        };
        let problem = (out.error.is_some() || !out.failed_accounts.is_empty()).then(|| {
            Box::new(Problem {
                error: out.error,
                failed_accounts: out.failed_accounts,
                reason: None,
            })
        });
        StepResult {
            status,
            duration_ms: u32::try_from(took.as_millis()).unwrap_or(u32::MAX),
            problem,
        }
    }

    /// A result with only a status (tests and previews).
    pub fn of(status: Status) -> StepResult {
        StepResult {
            status,
            duration_ms: 0,
            problem: None,
        }
    }

    fn not_started() -> StepResult {
        StepResult::of(Status::NotStarted)
    }

    fn skipped(reason: String) -> StepResult {
        StepResult {
            problem: Some(Box::new(Problem {
                reason: Some(reason),
                ..Problem::default()
            })),
            ..StepResult::of(Status::Skipped)
        }
    }

    /// The call's error, when the step failed as a whole.
    pub fn error(&self) -> Option<&AwsError> {
        self.problem.as_ref()?.error.as_ref()
    }

    /// Accounts of a batch the call did not process, with why.
    pub fn failed_accounts(&self) -> impl Iterator<Item = (&String, &AwsError)> {
        self.problem.iter().flat_map(|p| p.failed_accounts.iter())
    }

    /// Why the step was skipped.
    pub fn reason(&self) -> Option<&str> {
        self.problem.as_ref()?.reason.as_deref()
    }
}

/// Every step's result, by step id, and whether the run was stopped.
#[derive(Debug, Clone, Serialize)]
pub struct Execution {
    pub results: Vec<StepResult>,
    pub interrupted: bool,
}

impl Execution {
    pub fn count(&self, status: Status) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }
}

/// Steps ready to start. Steps that others wait for go first (administrator detectors,
/// member batches), so the chains they head start early and the run does not end waiting on
/// one long chain after the independent work is done.
#[derive(Default)]
struct Ready {
    urgent: VecDeque<usize>,
    rest: VecDeque<usize>,
}

impl Ready {
    fn push(&mut self, i: usize, has_dependents: bool) {
        if has_dependents {
            self.urgent.push_back(i)
        } else {
            self.rest.push_back(i)
        }
    }

    fn front(&self) -> Option<usize> {
        self.urgent.front().or(self.rest.front()).copied()
    }

    fn pop_front(&mut self) {
        if self.urgent.pop_front().is_none() {
            self.rest.pop_front();
        }
    }
}

/// The steps that wait for each step, in one flat list (a `Vec` per step would cost an
/// allocation and 24 bytes for each of a plan's hundreds of thousands of steps).
struct Dependents {
    /// `of[start[i]..start[i + 1]]` wait for step i.
    start: Vec<u32>,
    of: Vec<u32>,
}

impl Dependents {
    fn of(plan: &Plan) -> Dependents {
        let n = plan.steps.len();
        let mut start = vec![0u32; n + 1];
        for s in &plan.steps {
            for &a in &s.after {
                start[a + 1] += 1;
            }
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut of = vec![0u32; start[n] as usize];
        for s in &plan.steps {
            for &a in &s.after {
                of[fill[a] as usize] = s.id as u32;
                fill[a] += 1;
            }
        }
        Dependents { start, of }
    }

    fn any(&self, i: usize) -> bool {
        self.start[i] < self.start[i + 1]
    }

    fn of_step(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.of[self.start[i] as usize..self.start[i + 1] as usize]
            .iter()
            .map(|&d| d as usize)
    }
}

/// Run `plan` with at most `concurrency` steps in flight.
pub async fn execute<P: Perform>(
    plan: &Plan,
    performer: Arc<P>,
    concurrency: usize,
    reporter: &dyn Reporter,
    stop: &Stop,
) -> Execution {
    let n = plan.steps.len();
    let mut results: Vec<Option<StepResult>> = vec![None; n];
    // waiting[i]: prerequisites of step i not finished yet; i is ready at 0.
    let mut waiting: Vec<usize> = plan.steps.iter().map(|s| s.after.len()).collect();
    let dependents = Dependents::of(plan);
    let mut ready = Ready::default();
    for i in (0..n).filter(|&i| waiting[i] == 0) {
        ready.push(i, dependents.any(i));
    }
    // Owned permits move into the tasks: a permit is held exactly while a step runs.
    let sem = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    reporter.start("apply", n);

    // Mark step i finished and release the steps waiting for it.
    let finish = |i: usize,
                  r: StepResult,
                  results: &mut Vec<Option<StepResult>>,
                  waiting: &mut Vec<usize>,
                  ready: &mut Ready| {
        results[i] = Some(r);
        reporter.advance(1);
        for d in dependents.of_step(i) {
            waiting[d] -= 1;
            if waiting[d] == 0 {
                ready.push(d, dependents.any(d));
            }
        }
    };

    loop {
        while !stop.is_stopped() {
            let Some(i) = ready.front() else { break };
            let step = &plan.steps[i];
            // A failed or skipped prerequisite skips the step; accounts a prerequisite could
            // not process are left out of it.
            let mut excluded = BTreeSet::new();
            let mut blocked = None;
            for &a in &step.after {
                let r = results[a].as_ref().expect("prerequisites finish first");
                match r.status {
                    Status::Failed | Status::Skipped | Status::NotStarted => {
                        blocked = Some(format!(
                            "step {a} ({} {}) did not complete",
                            plan.steps[a].action.kind(),
                            plan.steps[a].action.account()
                        ));
                    }
                    _ => excluded.extend(r.failed_accounts().map(|(a, _)| a.clone())),
                }
            }
            let batch = step.action.batch();
            if blocked.is_none() {
                if batch.is_empty() && excluded.contains(step.action.account()) {
                    blocked = Some(format!(
                        "a prerequisite failed for {}",
                        step.action.account()
                    ));
                } else if !batch.is_empty() && batch.iter().all(|a| excluded.contains(*a)) {
                    blocked = Some("a prerequisite failed for every account".into());
                }
            }
            if let Some(reason) = blocked {
                ready.pop_front();
                finish(
                    i,
                    StepResult::skipped(reason),
                    &mut results,
                    &mut waiting,
                    &mut ready,
                );
                continue;
            }
            let Ok(permit) = sem.clone().try_acquire_owned() else {
                break;
            };
            ready.pop_front();
            let performer = performer.clone();
            let action = step.action.clone();
            tasks.spawn(async move {
                let _permit = permit;
                let started = Instant::now();
                let out = performer.perform(action, excluded).await;
                (i, out, started.elapsed())
            });
        }
        if tasks.is_empty() {
            break;
        }
        let (i, out, took) = tasks
            .join_next()
            .await
            .expect("not empty")
            .expect("step task panicked");
        finish(
            i,
            StepResult::ran(out, took),
            &mut results,
            &mut waiting,
            &mut ready,
        );
    }
    reporter.finish();
    Execution {
        interrupted: stop.is_stopped(),
        results: results
            .into_iter()
            .map(|r| r.unwrap_or_else(StepResult::not_started))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;
    use crate::plan::Step;

    /// Fails the steps about `fail`, records the order and the peak of steps in flight.
    #[derive(Default)]
    struct Fake {
        fail: Vec<String>,
        unprocessed: Vec<String>,
        order: Mutex<Vec<(String, BTreeSet<String>)>>,
        in_flight: AtomicUsize,
        peak: AtomicUsize,
        stop_after: Option<(usize, Stop)>,
    }

    impl Perform for Fake {
        fn perform(
            self: Arc<Self>,
            action: Action,
            excluded: BTreeSet<String>,
        ) -> BoxFuture<'static, StepOutcome> {
            Box::pin(async move {
                let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                self.peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                self.in_flight.fetch_sub(1, Ordering::SeqCst);
                let done = {
                    let mut o = self.order.lock().unwrap();
                    o.push((action.account().to_string(), excluded));
                    o.len()
                };
                if let Some((k, stop)) = &self.stop_after {
                    if done >= *k {
                        stop.trigger();
                    }
                }
                let mut out = StepOutcome::default();
                if self.fail.iter().any(|f| f == action.account()) {
                    out.error = Some(AwsError {
                        operation: action.operation(),
                        code: "AccessDenied".into(),
                        message: "no".into(),
                    });
                }
                for a in action.batch() {
                    if self.unprocessed.iter().any(|u| u == a) {
                        out.failed_accounts.insert(
                            a.to_string(),
                            AwsError {
                                operation: action.operation(),
                                code: "Unprocessed".into(),
                                message: "nope".into(),
                            },
                        );
                    }
                }
                out
            })
        }
    }

    fn detector(account: &str) -> Action {
        Action::CreateDetector {
            account: account.into(),
            region: "r".into(),
            features: vec![],
            frequency: None,
        }
    }

    fn accept(account: &str) -> Action {
        Action::AcceptInvitation {
            account: account.into(),
            region: "r".into(),
            administrator: "admin".into(),
        }
    }

    fn plan(steps: Vec<(Action, Vec<usize>)>) -> Plan {
        Plan {
            steps: steps
                .into_iter()
                .enumerate()
                .map(|(id, (action, after))| Step { id, action, after })
                .collect(),
            notices: vec![],
        }
    }

    #[tokio::test]
    async fn keeps_going_past_failures_and_skips_dependents() {
        let p = plan(vec![
            (detector("a"), vec![]),
            (detector("b"), vec![]),
            (accept("a"), vec![0]),
            (accept("b"), vec![1]),
        ]);
        let fake = Arc::new(Fake {
            fail: vec!["a".into()],
            ..Default::default()
        });
        let ex = execute(&p, fake.clone(), 4, &Silent, &Stop::default()).await;
        let st: Vec<Status> = ex.results.iter().map(|r| r.status).collect();
        assert_eq!(
            st,
            vec![Status::Failed, Status::Done, Status::Skipped, Status::Done]
        );
        assert_eq!(ex.results[0].error().unwrap().code, "AccessDenied");
        assert!(ex.results[2].reason().unwrap().contains("step 0"));
        assert!(!ex.interrupted);
    }

    #[tokio::test]
    async fn unprocessed_accounts_are_left_out_of_later_steps() {
        let p = plan(vec![
            (
                Action::InviteMembers {
                    administrator: "admin".into(),
                    region: "r".into(),
                    accounts: vec!["a".into(), "b".into()],
                    email_notification: false,
                },
                vec![],
            ),
            (accept("a"), vec![0]),
            (accept("b"), vec![0]),
        ]);
        let fake = Arc::new(Fake {
            unprocessed: vec!["a".into()],
            ..Default::default()
        });
        let ex = execute(&p, fake.clone(), 4, &Silent, &Stop::default()).await;
        let st: Vec<Status> = ex.results.iter().map(|r| r.status).collect();
        assert_eq!(st, vec![Status::Partial, Status::Skipped, Status::Done]);
        let order = fake.order.lock().unwrap();
        assert_eq!(order.last().unwrap().1, BTreeSet::from(["a".to_string()]));
    }

    #[tokio::test]
    async fn concurrency_is_bounded_and_order_respected() {
        let mut steps: Vec<(Action, Vec<usize>)> = (0..40)
            .map(|i| (detector(&format!("m{i}")), vec![]))
            .collect();
        steps.push((accept("last"), (0..40).collect()));
        let p = plan(steps);
        let fake = Arc::new(Fake::default());
        let ex = execute(&p, fake.clone(), 8, &Silent, &Stop::default()).await;
        assert_eq!(ex.count(Status::Done), 41);
        assert_eq!(fake.peak.load(Ordering::SeqCst), 8);
        assert_eq!(fake.order.lock().unwrap().last().unwrap().0, "last");
    }

    #[tokio::test]
    async fn stop_starts_nothing_new_and_returns_what_it_has() {
        let steps: Vec<(Action, Vec<usize>)> = (0..20)
            .map(|i| (detector(&format!("m{i}")), vec![]))
            .collect();
        let p = plan(steps);
        let stop = Stop::default();
        let fake = Arc::new(Fake {
            stop_after: Some((3, stop.clone())),
            ..Default::default()
        });
        let ex = execute(&p, fake.clone(), 2, &Silent, &stop).await;
        assert!(ex.interrupted);
        let done = ex.count(Status::Done);
        assert!((3..=4).contains(&done), "{done}");
        assert_eq!(ex.count(Status::NotStarted), 20 - done);
    }
}
