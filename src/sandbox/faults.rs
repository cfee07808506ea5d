//! Fault injection, seeded for repeatability: latency per call (fixed + jitter), a rate limit
//! per account x region x operation answered with the throttling error the SDK retries, and a
//! rate of server errors — optionally only for some services, operations, accounts or regions.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

/// What to inject. All zero (the default) injects nothing.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FaultConfig {
    /// Fixed latency of every call, in milliseconds: the call is answered that long after it
    /// arrived (or once its work is done, if that takes longer).
    #[serde(default)]
    pub latency_ms: u64,
    /// Uniform random latency added on top, 0..=jitter_ms.
    #[serde(default)]
    pub jitter_ms: u64,
    /// Calls per second allowed per account x region x operation (token bucket); 0 = unlimited.
    #[serde(default)]
    pub rate_limit_per_second: f64,
    /// Burst size of the token bucket (defaults to the per-second rate, at least 1).
    #[serde(default)]
    pub rate_limit_burst: Option<f64>,
    /// Fraction of calls (0.0..1.0) answered with a retryable server error.
    #[serde(default)]
    pub error_rate: f64,
    /// Seed of the fault generator.
    #[serde(default)]
    pub seed: u64,
    /// Only calls to these services (`sts`, `organizations`, `iam`, `guardduty`); empty = all.
    #[serde(default)]
    pub services: Vec<String>,
    /// Only these operations (e.g. `ListFindings`); empty = all.
    #[serde(default)]
    pub operations: Vec<String>,
    /// Only calls by these accounts; empty = all.
    #[serde(default)]
    pub accounts: Vec<String>,
    /// Only calls signed for these regions; empty = all.
    #[serde(default)]
    pub regions: Vec<String>,
}

/// The services a fault can be restricted to.
pub const SERVICES: &[&str] = &["sts", "organizations", "iam", "guardduty"];

impl FaultConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..1.0).contains(&self.error_rate) {
            return Err(format!(
                "faults.error_rate must be in [0, 1), got {}",
                self.error_rate
            ));
        }
        if self.rate_limit_per_second < 0.0 || !self.rate_limit_per_second.is_finite() {
            return Err(format!(
                "faults.rate_limit_per_second must be >= 0, got {}",
                self.rate_limit_per_second
            ));
        }
        if let Some(s) = self
            .services
            .iter()
            .find(|s| !SERVICES.contains(&s.as_str()))
        {
            return Err(format!(
                "faults.services: unknown service {s:?} (one of {SERVICES:?})"
            ));
        }
        if let Some(r) = self
            .regions
            .iter()
            .find(|r| super::regions::lookup(r).is_none())
        {
            return Err(format!("faults.regions: unknown region {r:?}"));
        }
        Ok(())
    }

    /// Whether faults apply to this call at all.
    fn targets(&self, service: &str, account: &str, region: &str, operation: &str) -> bool {
        fn within(list: &[String], value: &str) -> bool {
            list.is_empty() || list.iter().any(|v| v == value)
        }
        within(&self.services, service)
            && within(&self.operations, operation)
            && within(&self.accounts, account)
            && within(&self.regions, region)
    }
}

/// The decision for one call.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Serve it after this latency.
    Serve(Duration),
    /// Answer with the protocol's throttling error after this latency.
    Throttle(Duration),
    /// Answer with the protocol's server error after this latency.
    Fail(Duration),
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Live fault state.
pub struct Faults {
    config: Mutex<FaultConfig>,
    rng: Mutex<ChaCha8Rng>,
    /// (account, region, operation) -> token bucket; only touched when a rate limit is set.
    buckets: Mutex<HashMap<(String, String, &'static str), Bucket>>,
}

impl Faults {
    pub fn new(config: FaultConfig) -> Faults {
        let rng = ChaCha8Rng::seed_from_u64(config.seed);
        Faults {
            config: Mutex::new(config),
            rng: Mutex::new(rng),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Replace the configuration (tests turn faults on and off between phases).
    pub fn set(&self, config: FaultConfig) {
        *self.rng.lock().expect("faults poisoned") = ChaCha8Rng::seed_from_u64(config.seed);
        self.buckets.lock().expect("faults poisoned").clear();
        *self.config.lock().expect("faults poisoned") = config;
    }

    pub fn config(&self) -> FaultConfig {
        self.config.lock().expect("faults poisoned").clone()
    }

    /// Decide the fate of one call.
    pub fn judge(
        &self,
        service: &str,
        account: &str,
        region: &str,
        operation: &'static str,
    ) -> Verdict {
        let cfg = self.config.lock().expect("faults poisoned").clone();
        if !cfg.targets(service, account, region, operation) {
            return Verdict::Serve(Duration::ZERO);
        }
        let (jitter, fail) = {
            let mut rng = self.rng.lock().expect("faults poisoned");
            let jitter = if cfg.jitter_ms > 0 {
                rng.random_range(0..=cfg.jitter_ms)
            } else {
                0
            };
            let fail = cfg.error_rate > 0.0 && rng.random_bool(cfg.error_rate);
            (jitter, fail)
        };
        let latency = Duration::from_millis(cfg.latency_ms + jitter);
        if cfg.rate_limit_per_second > 0.0 {
            let burst = cfg
                .rate_limit_burst
                .unwrap_or(cfg.rate_limit_per_second)
                .max(1.0);
            let now = Instant::now();
            let mut buckets = self.buckets.lock().expect("faults poisoned");
            let b = buckets
                .entry((account.to_string(), region.to_string(), operation))
                .or_insert(Bucket {
                    tokens: burst,
                    last: now,
                });
            b.tokens = (b.tokens
                + now.duration_since(b.last).as_secs_f64() * cfg.rate_limit_per_second)
                .min(burst);
            b.last = now;
            if b.tokens < 1.0 {
                return Verdict::Throttle(latency);
            }
            b.tokens -= 1.0;
        }
        if fail {
            Verdict::Fail(latency)
        } else {
            Verdict::Serve(latency)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_faults_by_default() {
        let f = Faults::new(FaultConfig::default());
        for _ in 0..100 {
            assert_eq!(
                f.judge("guardduty", "1", "us-east-1", "ListDetectors"),
                Verdict::Serve(Duration::ZERO)
            );
        }
    }

    #[test]
    fn rate_limit_throttles_past_the_burst_per_cell() {
        let f = Faults::new(FaultConfig {
            rate_limit_per_second: 0.001,
            rate_limit_burst: Some(2.0),
            ..Default::default()
        });
        assert!(matches!(
            f.judge("guardduty", "1", "r", "Op"),
            Verdict::Serve(_)
        ));
        assert!(matches!(
            f.judge("guardduty", "1", "r", "Op"),
            Verdict::Serve(_)
        ));
        assert!(matches!(
            f.judge("guardduty", "1", "r", "Op"),
            Verdict::Throttle(_)
        ));
        // Another operation has its own bucket.
        assert!(matches!(
            f.judge("guardduty", "1", "r", "Other"),
            Verdict::Serve(_)
        ));
    }

    #[test]
    fn error_rate_is_seeded() {
        let run = || {
            let f = Faults::new(FaultConfig {
                error_rate: 0.3,
                seed: 9,
                ..Default::default()
            });
            (0..200)
                .map(|_| matches!(f.judge("guardduty", "1", "r", "Op"), Verdict::Fail(_)))
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let fails = a.iter().filter(|x| **x).count();
        assert!((30..90).contains(&fails), "{fails}");
    }

    #[test]
    fn faults_can_target_services_operations_accounts_and_regions() {
        let f = Faults::new(FaultConfig {
            rate_limit_per_second: 0.001,
            rate_limit_burst: Some(1.0),
            services: vec!["guardduty".into()],
            operations: vec!["ListFindings".into()],
            accounts: vec!["1".into()],
            regions: vec!["eu-west-1".into()],
            ..Default::default()
        });
        for _ in 0..3 {
            assert!(matches!(
                f.judge("sts", "1", "eu-west-1", "ListFindings"),
                Verdict::Serve(_)
            ));
            assert!(matches!(
                f.judge("guardduty", "1", "eu-west-1", "GetFindings"),
                Verdict::Serve(_)
            ));
            assert!(matches!(
                f.judge("guardduty", "2", "eu-west-1", "ListFindings"),
                Verdict::Serve(_)
            ));
            assert!(matches!(
                f.judge("guardduty", "1", "us-east-1", "ListFindings"),
                Verdict::Serve(_)
            ));
        }
        assert!(matches!(
            f.judge("guardduty", "1", "eu-west-1", "ListFindings"),
            Verdict::Serve(_)
        ));
        assert!(matches!(
            f.judge("guardduty", "1", "eu-west-1", "ListFindings"),
            Verdict::Throttle(_)
        ));
        assert!(FaultConfig {
            services: vec!["ec2".into()],
            ..Default::default()
        }
        .validate()
        .is_err());
        assert!(FaultConfig {
            regions: vec!["moon-1".into()],
            ..Default::default()
        }
        .validate()
        .is_err());
    }
}
