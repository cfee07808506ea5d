//! Seeding findings from the org file (`[[findings]]` blocks), deterministically: the same
//! file and seed give the same finding ids, types, severities and archived flags.
//!
//! ```toml
//! [[findings]]
//! accounts = "all"              # every active account, or ["200000000001", ...]
//! regions = ["us-east-1"]       # default: every region the account has enabled
//! per_cell = 60                 # findings per account x region
//! types = ["Recon:EC2/PortProbeUnprotectedPort"]   # default: every type, round robin
//! archived_fraction = 0.25
//!
//! [[findings]]                  # one finding carrying attacker-controlled strings
//! accounts = ["200000000001"]
//! regions = ["us-east-1"]
//! types = ["Backdoor:EC2/C&CActivity.B!DNS"]
//! domain = "<script>alert(1)</script>.example.com"
//! user_agent = "=cmd|' /C calc'!A0"
//! instance_name = "<img src=x onerror=alert(1)>"
//! ```
//!
//! A cell without a detector gets an enabled one; a cell whose detector is suspended gets no
//! findings (a suspended detector produces none).

use chrono::Utc;
use serde::Deserialize;

use super::catalog;
use super::detectors::new_detector;
use super::findings::add_findings;
use super::findings_store::{CustomStrings, StoredFinding};
use super::render::mix64;
use crate::sandbox::state::{AccountStatus, World};

/// Which accounts a block seeds.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum AccountSelection {
    /// The word `"all"`: every account of the organization.
    Keyword(String),
    Ids(Vec<String>),
}

/// One `[[findings]]` block of the org file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingsSeed {
    pub accounts: AccountSelection,
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default = "default_per_cell")]
    pub per_cell: usize,
    #[serde(default)]
    pub types: Vec<String>,
    #[serde(default)]
    pub archived_fraction: f64,
    /// Findings are spread over this many days before now.
    #[serde(default = "default_days")]
    pub days: u32,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
    #[serde(default)]
    pub instance_name: Option<String>,
}

fn default_per_cell() -> usize {
    1
}

fn default_days() -> u32 {
    30
}

const DAY_MS: i64 = 86_400_000;

/// Seed every block into `world`. Errors name the block (1-based) and the problem.
pub fn seed_findings(world: &mut World, blocks: &[FindingsSeed], seed: u64) -> Result<(), String> {
    let now = Utc::now();
    let now_ms = now.timestamp_millis();
    for (b, block) in blocks.iter().enumerate() {
        let at = |msg: String| format!("[[findings]] block {}: {msg}", b + 1);
        let types: Vec<u16> = if block.types.is_empty() {
            (0..catalog::TYPES.len() as u16).collect()
        } else {
            block
                .types
                .iter()
                .map(|t| {
                    catalog::index_of(t).ok_or_else(|| at(format!("unknown finding type {t:?}")))
                })
                .collect::<Result<_, _>>()?
        };
        if !(0.0..=1.0).contains(&block.archived_fraction) {
            return Err(at("archived_fraction must be between 0 and 1".into()));
        }
        for r in &block.regions {
            if crate::sandbox::regions::lookup(r).is_none() {
                return Err(at(format!("unknown region {r:?}")));
            }
        }
        let accounts: Vec<String> = match &block.accounts {
            // A suspended account generates no activity, so "all" leaves it out.
            AccountSelection::Keyword(k) if k == "all" => world
                .accounts
                .values()
                .filter(|a| a.status == AccountStatus::Active)
                .map(|a| a.id.clone())
                .collect(),
            AccountSelection::Keyword(k) => {
                return Err(at(format!(
                    "accounts must be \"all\" or a list of ids, not {k:?}"
                )))
            }
            AccountSelection::Ids(ids) => {
                for id in ids {
                    if !world.accounts.contains_key(id) {
                        return Err(at(format!("account {id} is not in the organization")));
                    }
                }
                ids.clone()
            }
        };
        let custom =
            (block.domain.is_some() || block.user_agent.is_some() || block.instance_name.is_some())
                .then(|| CustomStrings {
                    domain: block.domain.clone(),
                    user_agent: block.user_agent.clone(),
                    instance_name: block.instance_name.clone(),
                });
        let spread_ms = i64::from(block.days.max(1)) * DAY_MS;
        for account in &accounts {
            let regions: Vec<String> = if block.regions.is_empty() {
                world.regions.clone()
            } else {
                block.regions.clone()
            };
            for region in regions {
                if !world.accounts[account].region_enabled(&region) {
                    continue;
                }
                if !ensure_detector(world, account, &region, now) {
                    continue;
                }
                let cell_key = mix64(seed ^ mix64(b as u64) ^ cell_hash(account, &region));
                let findings = (0..block.per_cell)
                    .map(|i| {
                        let h = mix64(cell_key ^ i as u64);
                        let t = types[i % types.len()];
                        let created = now_ms - (h % spread_ms as u64) as i64;
                        let mut f = StoredFinding::new(
                            t,
                            catalog::TYPES[t as usize].severity_tenths,
                            created,
                            (h >> 32) as u32,
                        );
                        // Last seen up to six hours after first seen, never in the future.
                        f.updated_ms = (created + ((h >> 20) % (6 * 3_600_000)) as i64).min(now_ms);
                        f.count = 1 + ((h >> 8) % 40) as u32;
                        // Exactly floor(per_cell * fraction) archived, spread evenly.
                        let frac = block.archived_fraction;
                        f.set_archived(((i + 1) as f64 * frac).floor() > (i as f64 * frac).floor());
                        f.custom = custom.clone().map(Box::new);
                        f
                    })
                    .collect();
                add_findings(world, account, &region, findings);
            }
        }
    }
    Ok(())
}

/// Varies the generated findings per cell (not per detector, so that ids alone differ).
fn cell_hash(account: &str, region: &str) -> u64 {
    super::findings_store::salt_of(account, region, "")
}

/// Give (account, region) an enabled detector if it has none; false when its detector is
/// suspended (no findings then).
fn ensure_detector(
    world: &mut World,
    account: &str,
    region: &str,
    now: chrono::DateTime<Utc>,
) -> bool {
    if let Some(d) = world.detector(account, region) {
        return d.enabled;
    }
    let id = world.new_hex_id();
    world.set_detector(account, region, new_detector(id, true, now));
    super::detectors::add_service_linked_role(world, account);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::org_file::{build_world, OrgSpec};

    fn world(members: usize) -> World {
        build_world(&OrgSpec::generated(members)).unwrap()
    }

    fn block(text: &str) -> Vec<FindingsSeed> {
        #[derive(Deserialize)]
        struct F {
            findings: Vec<FindingsSeed>,
        }
        toml::from_str::<F>(text).unwrap().findings
    }

    #[test]
    fn seeds_exact_counts_deterministically() {
        let spec = block(
            r#"
            [[findings]]
            accounts = "all"
            regions = ["us-east-1", "eu-west-1"]
            per_cell = 10
            archived_fraction = 0.3
            "#,
        );
        let mut a = world(2);
        seed_findings(&mut a, &spec, 7).unwrap();
        let mut b = world(2);
        seed_findings(&mut b, &spec, 7).unwrap();
        for acct in a.accounts.keys().cloned().collect::<Vec<_>>() {
            for r in ["us-east-1", "eu-west-1"] {
                let sa = &a.cell(&acct, r).unwrap().findings;
                let sb = &b.cell(&acct, r).unwrap().findings;
                assert_eq!(sa.len(), 10);
                assert_eq!(sa.all().iter().filter(|f| f.archived()).count(), 3);
                assert_eq!(sa.all()[0].type_idx, sb.all()[0].type_idx);
                assert_eq!(sa.id_of(3), sb.id_of(3));
                assert!(a.detector(&acct, r).unwrap().enabled);
            }
            assert!(a.cell(&acct, "us-west-2").is_none());
        }
    }

    #[test]
    fn bad_blocks_are_named() {
        let mut w = world(1);
        let err = seed_findings(
            &mut w,
            &block("[[findings]]\naccounts = [\"999999999999\"]\nregions = [\"us-east-1\"]"),
            1,
        )
        .unwrap_err();
        assert!(
            err.contains("block 1") && err.contains("999999999999"),
            "{err}"
        );
        let err = seed_findings(
            &mut w,
            &block("[[findings]]\naccounts = \"all\"\ntypes = [\"Nope\"]"),
            1,
        )
        .unwrap_err();
        assert!(err.contains("Nope"), "{err}");
        assert!(seed_findings(&mut w, &block("[[findings]]\naccounts = \"some\""), 1).is_err());
    }

    #[test]
    fn suspended_detectors_get_nothing() {
        let mut w = world(1);
        let m = w.org.management.clone();
        seed_findings(
            &mut w,
            &block("[[findings]]\naccounts = \"all\"\nregions = [\"us-east-1\"]"),
            1,
        )
        .unwrap();
        w.cell_mut(&m, "us-east-1")
            .detector
            .as_mut()
            .unwrap()
            .enabled = false;
        seed_findings(
            &mut w,
            &block("[[findings]]\naccounts = \"all\"\nregions = [\"us-east-1\"]"),
            1,
        )
        .unwrap();
        assert_eq!(w.cell(&m, "us-east-1").unwrap().findings.len(), 1);
    }
}
