//! Shared test plumbing: start a sandbox, and build real SDK clients pointed at it.

#![allow(dead_code)]

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_guardduty::types::{AccountDetail, UnprocessedAccount};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use guardduty_org::aws::{AwsOptions, ClientFactory, Session};
use guardduty_org::sandbox::org_file::OrgSpec;
use guardduty_org::sandbox::{Keys, Sandbox};

/// A running sandbox and the management account's config.
pub struct Env {
    pub sandbox: Sandbox,
    pub management: String,
    /// The management account's config (home region us-east-1).
    pub mgmt: SdkConfig,
}

impl Env {
    /// A sandbox of `members` generated member accounts.
    pub async fn new(members: usize) -> Env {
        Env::with_spec(OrgSpec::generated(members)).await
    }

    pub async fn with_spec(spec: OrgSpec) -> Env {
        let sandbox = Sandbox::start(&spec, 0).await.expect("sandbox starts");
        let management = sandbox.management_account();
        let keys = sandbox.keys_of(&management).unwrap();
        let mgmt = config(&sandbox, &keys, None, "us-east-1").await;
        Env {
            sandbox,
            management,
            mgmt,
        }
    }

    /// The config of `account`'s own long-term user key.
    pub async fn user(&self, account: &str) -> SdkConfig {
        let keys = self.sandbox.keys_of(account).expect("account exists");
        config(&self.sandbox, &keys, None, "us-east-1").await
    }

    /// `account`'s GuardDuty client in `region`, with the account's own keys (the management
    /// account's too: `mgmt` holds the same keys).
    pub async fn gd(&self, account: &str, region: &str) -> aws_sdk_guardduty::Client {
        gd(&self.user(account).await, region)
    }

    /// `account`'s email address as the organization knows it.
    pub fn email(&self, account: &str) -> String {
        self.sandbox.world(|w| w.accounts[account].email.clone())
    }

    /// Member account ids, sorted (every account but the management one).
    pub fn members(&self) -> Vec<String> {
        self.sandbox.world(|w| {
            w.accounts
                .keys()
                .filter(|a| **a != w.org.management)
                .cloned()
                .collect()
        })
    }
}

/// An SDK config with explicit keys, pointed at the sandbox, SDK retries off so that tests see
/// every answer as it is.
pub async fn config(
    sandbox: &Sandbox,
    keys: &Keys,
    token: Option<String>,
    region: &str,
) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(sandbox.endpoint())
        .retry_config(RetryConfig::disabled())
        .credentials_provider(Credentials::new(
            keys.access_key_id.clone(),
            keys.secret_access_key.clone(),
            token,
            None,
            "test",
        ))
        .load()
        .await
}

/// A GuardDuty client of `config` in `region`.
pub fn gd(config: &SdkConfig, region: &str) -> aws_sdk_guardduty::Client {
    let conf = aws_sdk_guardduty::config::Builder::from(config)
        .region(Region::new(region.to_string()))
        .build();
    aws_sdk_guardduty::Client::from_conf(conf)
}

/// The error code of a failed SDK call.
pub fn code<E: aws_smithy_types::error::metadata::ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("<none>").to_string()
}

/// Assert that an SDK call failed with error code `code` and a message containing `needle`.
pub fn assert_error<E: ProvideErrorMetadata + std::fmt::Debug>(err: &E, code: &str, needle: &str) {
    assert_eq!(self::code(err), code, "{err:?}");
    let message = err.message().unwrap_or_default();
    assert!(
        message.contains(needle),
        "message {message:?} lacks {needle:?}"
    );
}

/// Assert that an SDK call failed with GuardDuty's BadRequestException whose message
/// contains `needle`.
pub fn assert_bad_request<E: ProvideErrorMetadata + std::fmt::Debug>(err: &E, needle: &str) {
    assert_error(err, "BadRequestException", needle);
}

/// Create a detector (enabled, or suspended) for the client's account and region; its id.
pub async fn create_detector(gd: &aws_sdk_guardduty::Client, enable: bool) -> String {
    gd.create_detector()
        .enable(enable)
        .send()
        .await
        .expect("create detector")
        .detector_id()
        .expect("detector id")
        .to_string()
}

/// Create an enabled detector for the client's account and region; its id.
pub async fn new_detector(gd: &aws_sdk_guardduty::Client) -> String {
    create_detector(gd, true).await
}

/// `account`'s detector in `region`, created through CreateDetector (enabled or suspended)
/// if it has none yet; returns its id.
pub async fn detector(env: &Env, account: &str, region: &str, enabled: bool) -> String {
    let gd = env.gd(account, region).await;
    let existing = gd.list_detectors().send().await.unwrap();
    if let Some(id) = existing.detector_ids().first() {
        return id.clone();
    }
    create_detector(&gd, enabled).await
}

/// CreateMembers of `member`, with its own email address, on the administrator detector
/// `det`; asserts that nothing was left unprocessed.
pub async fn create_member(env: &Env, gd: &aws_sdk_guardduty::Client, det: &str, member: &str) {
    let created = gd
        .create_members()
        .detector_id(det)
        .account_details(
            AccountDetail::builder()
                .account_id(member)
                .email(env.email(member))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(created.unprocessed_accounts().is_empty(), "{created:?}");
}

/// A batch call's unprocessed accounts as (account id, result) pairs.
pub fn unprocessed(list: &[UnprocessedAccount]) -> Vec<(String, String)> {
    list.iter()
        .map(|u| {
            (
                u.account_id().expect("accountId").to_string(),
                u.result().expect("result").to_string(),
            )
        })
        .collect()
}

/// Make `member` an Enabled member of `admin` in `region` the way GuardDuty does it by
/// invitation: CreateMembers, InviteMembers, AcceptAdministratorInvitation.
pub async fn associate(env: &Env, admin: &str, member: &str, region: &str) {
    let admin_det = detector(env, admin, region, true).await;
    let member_det = detector(env, member, region, true).await;
    let ga = env.gd(admin, region).await;
    create_member(env, &ga, &admin_det, member).await;
    let invited = ga
        .invite_members()
        .detector_id(&admin_det)
        .account_ids(member)
        .send()
        .await
        .unwrap();
    assert!(invited.unprocessed_accounts().is_empty(), "{invited:?}");
    let gm = env.gd(member, region).await;
    let invitations = gm.list_invitations().send().await.unwrap();
    let invitation = invitations
        .invitations()
        .iter()
        .find(|i| i.account_id() == Some(admin))
        .and_then(|i| i.invitation_id())
        .expect("an invitation from the administrator")
        .to_string();
    gm.accept_administrator_invitation()
        .detector_id(&member_det)
        .administrator_id(admin)
        .invitation_id(invitation)
        .send()
        .await
        .unwrap();
}

/// CreateSampleFindings on `det`: one finding of each of `types`, or of every type when
/// `types` is empty.
pub async fn seed_samples(gd: &aws_sdk_guardduty::Client, det: &str, types: &[&str]) {
    gd.create_sample_findings()
        .detector_id(det)
        .set_finding_types(
            (!types.is_empty()).then(|| types.iter().map(|t| t.to_string()).collect()),
        )
        .send()
        .await
        .unwrap();
}

/// A gdorg client session of the management account, with the SDK's standard retries and a
/// short backoff (injected faults then cost the tests little time).
pub async fn session(env: &Env, max_attempts: u32) -> std::sync::Arc<Session> {
    let keys = env.sandbox.keys_of(&env.management).unwrap();
    let base = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(env.sandbox.endpoint())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(max_attempts)
                .with_initial_backoff(std::time::Duration::from_millis(5)),
        )
        .credentials_provider(Credentials::new(
            keys.access_key_id,
            keys.secret_access_key,
            None,
            None,
            "test",
        ))
        .load()
        .await;
    let factory = ClientFactory::from_config(
        base,
        AwsOptions {
            role_name: "OrganizationAccountAccessRole".into(),
            max_attempts,
            ..Default::default()
        },
    );
    std::sync::Arc::new(Session::new(factory).await.unwrap())
}

/// The gdorg binary with `account`'s keys against the sandbox, and nothing else from the
/// environment (no profile, no GDORG_REGIONS, no instance metadata).
pub fn gdorg(env: &Env, account: &str, args: &[&str]) -> tokio::process::Command {
    let keys = env.sandbox.keys_of(account).unwrap();
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_gdorg"));
    c.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("AWS_ENDPOINT_URL", env.sandbox.endpoint())
        .env("AWS_ACCESS_KEY_ID", &keys.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &keys.secret_access_key)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(std::process::Stdio::null());
    c
}

/// Wait until the sandbox has answered `n` calls of `operation` (at most `secs` seconds).
pub async fn wait_for_calls(env: &Env, operation: &str, n: usize, secs: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while env
        .sandbox
        .calls()
        .snapshot()
        .iter()
        .filter(|c| c.operation == operation)
        .count()
        < n
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{operation} was not called {n} times in {secs} s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Send SIGINT (what Ctrl-C sends) to a child process.
pub fn interrupt(child: &tokio::process::Child) {
    let pid = child.id().expect("the child is running") as libc::pid_t;
    // SAFETY: kill(2) with a pid we own and a valid signal number has no memory effects.
    let rc = unsafe { libc::kill(pid, libc::SIGINT) };
    assert_eq!(rc, 0, "kill failed");
}

/// Whether process `pid` is still running: it exists and is not a zombie (a detached sandbox
/// is reparented to PID 1, which may not reap it at once, or ever in some containers).
pub fn running(pid: u32) -> bool {
    // SAFETY: kill(2) with signal 0 only checks that the process exists.
    if unsafe { libc::kill(pid as libc::pid_t, 0) } != 0 {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses.
        Ok(stat) => !matches!(
            stat.rsplit_once(')').map(|(_, rest)| rest.trim_start()),
            Some(rest) if rest.starts_with('Z') || rest.starts_with('X')
        ),
        Err(_) => true,
    }
}

/// Send SIGTERM (what `kill PID` sends) to process `pid`.
pub fn terminate(pid: u32) {
    // SAFETY: kill(2) has no memory effects.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
}

/// Wait up to `secs` seconds for `done`; whether it came true.
pub fn wait_until(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if done() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
}

/// Run `cmd` to the end with its stdout and stderr captured through pipes, as a shell's
/// command substitution reads them: the call returns once the process has exited and every
/// holder of those pipes has closed them. Panics naming `what` after `secs` seconds.
pub fn output_within(
    cmd: &mut std::process::Command,
    secs: u64,
    what: &str,
) -> std::process::Output {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        let _ = tx.send((1, b));
    });
    std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        let _ = tx2.send((2, b));
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok((1, b)) => stdout = b,
            Ok((_, b)) => stderr = b,
            Err(_) => {
                let _ = child.kill();
                panic!("{what}: its output was still open after {secs} s");
            }
        }
    }
    let status = child.wait().unwrap();
    std::process::Output {
        status,
        stdout,
        stderr,
    }
}
