//! `gdorg sandbox`: a local AWS organization that speaks the real wire protocols of STS,
//! Organizations, IAM, GuardDuty and Account Management (ListRegions), so the official SDKs,
//! the AWS CLI and boto3 work against it unchanged with an endpoint URL.
//!
//! It is our stand-in for AWS, not a mock shaped to our client: it shares no code with the
//! client side and follows the documented behaviour (error codes, pagination, the rules of
//! administrators and members).
//!
//! | module | owns |
//! | --- | --- |
//! | [`server`] | the HTTP endpoint: service/operation dispatch, auth, faults, call log |
//! | [`auth`] | who is calling: key -> account and principal, region, the order of refusals |
//! | [`authz`] | whether the caller's identity policies and SCPs allow the request |
//! | [`policy`] | the policy language: statements, wildcards, conditions (pure) |
//! | [`sigv4`] | SigV4 signature verification (the server's half of the algorithm) |
//! | [`regions`] | the sandbox's own region table: regions, opt-in, global services |
//! | [`error`] | errors as each protocol encodes them |
//! | [`state`] | the world: organization, accounts, IAM, credentials, GuardDuty cells |
//! | [`org_file`] | the TOML org file that seeds the world |
//! | [`faults`] | latency, throttling and server-error injection |
//! | [`calls`] | the log of answered calls |
//! | [`sts`], [`organizations`], [`iam`], [`guardduty`], [`account`] | one module per service |

pub mod account;
pub mod auth;
pub mod authz;
pub mod calls;
pub mod clock;
pub mod error;
pub mod faults;
pub mod guardduty;
pub mod iam;
pub mod org_file;
pub mod organizations;
pub mod policy;
pub mod query;
pub mod regions;
pub mod server;
pub mod sigv4;
pub mod state;
pub mod sts;
pub mod xml;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use calls::CallLog;
use faults::Faults;
use org_file::OrgSpec;
use state::World;

/// State shared by every request.
pub struct Shared {
    /// The world. Handlers hold the lock only while they compute; never across an await.
    pub world: Mutex<World>,
    pub faults: Faults,
    pub calls: CallLog,
    /// When answers leave: each call's latency after it arrived, give or take a thread's wake-up.
    pub clock: clock::Clock,
}

/// Long-term credentials the sandbox hands out (never printed except by `sandbox serve`,
/// whose whole point is to print them for `eval`).
#[derive(Clone)]
pub struct Keys {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .finish()
    }
}

/// A running sandbox.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Errors starting a sandbox.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("invalid org file: {0}")]
    Spec(String),
    #[error("cannot listen on 127.0.0.1:{port}")]
    Bind { port: u16, source: std::io::Error },
}

impl Sandbox {
    /// Serve `spec` on 127.0.0.1:`port` (0 picks a free port) on the current tokio runtime.
    pub async fn start(spec: &OrgSpec, port: u16) -> Result<Sandbox, SandboxError> {
        let world = org_file::build_world(spec).map_err(SandboxError::Spec)?;
        spec.faults.validate().map_err(SandboxError::Spec)?;
        Sandbox::serve(world, Faults::new(spec.faults.clone()), port).await
    }

    /// Serve `world` (e.g. a copy of another sandbox's, taken with `world(|w| w.clone())`:
    /// tests branch one arranged world into several) on a free port, without faults.
    pub async fn from_world(world: World) -> Result<Sandbox, SandboxError> {
        Sandbox::serve(world, Faults::new(Default::default()), 0).await
    }

    async fn serve(world: World, faults: Faults, port: u16) -> Result<Sandbox, SandboxError> {
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            faults,
            calls: CallLog::default(),
            clock: clock::Clock::start(),
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|source| SandboxError::Bind { port, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SandboxError::Bind { port, source })?;
        let app = axum::Router::new()
            .fallback(server::handle)
            .with_state(shared.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Sandbox {
            addr,
            shared,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// The endpoint URL to give SDKs (`http://127.0.0.1:PORT`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The management account's id.
    pub fn management_account(&self) -> String {
        self.world(|w| w.org.management.clone())
    }

    /// The long-term keys of `account`'s sandbox user (the management account's are what
    /// `sandbox serve` prints).
    pub fn keys_of(&self, account: &str) -> Option<Keys> {
        self.world(|w| {
            let key = w.user_keys.get(account)?;
            Some(Keys {
                access_key_id: key.clone(),
                secret_access_key: w.keys[key].secret.clone(),
            })
        })
    }

    /// Run `f` on the world (tests inspect and arrange state through this).
    pub fn world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        f(&mut self.shared.world.lock().expect("world poisoned"))
    }

    pub fn calls(&self) -> &CallLog {
        &self.shared.calls
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Stop serving and wait for in-flight requests to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
