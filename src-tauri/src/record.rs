//! Save to record from the thread (issue 27), adapted onto
//! [`sealbox_core::record`]: the set-up file is read at each use (practice
//! IT may change it without a restart), the network runs in a task kept
//! with the outbox sends (a lock stops it), and what happened comes back
//! in the thread's record panel. Nothing here decides: core does.

use std::time::Duration;

use sealbox_core::record::config::export_dir;
use sealbox_core::record::sender::Sent;
use sealbox_core::record::RecordConfig;
use sealbox_core::workstation::{Desk, WorkstationError};
use sealbox_model::api::{RecordPanel, RecordSetup};
use sealbox_model::ids::ThreadId;
use sealbox_model::jiff::Timestamp;
use tauri::{AppHandle, Manager};
use tokio::sync::watch;

use crate::desk::{Shell, ShellError};

fn thread_id(thread: &str) -> Result<ThreadId, ShellError> {
    thread.parse::<u64>().map(ThreadId).map_err(|_| ShellError::NoSuchThread)
}

/// The set-up in force; a file that does not read is told, not used.
fn config() -> (Option<RecordConfig>, String) {
    match RecordConfig::load(&RecordConfig::path()) {
        Ok(config) => (config, String::new()),
        Err(e) => (None, e.to_string()),
    }
}

/// How often saves that wait are tried again while unlocked.
const RETRY_EVERY: Duration = Duration::from_secs(120);

/// The sends, made with the desk and run away from it: the outbox first
/// (a save waits for the hub to take the thread's changes; offline they
/// stay queued, and so does the save), then the patient looked up (when a
/// thread is opened), then the saves that wait.
fn sending(
    desk: &Desk,
    config: &RecordConfig,
    thread: Option<ThreadId>,
) -> Result<impl std::future::Future<Output = Result<Sent, WorkstationError>> + Send + 'static, ShellError> {
    let mut sender = desk.record_sender(config)?;
    let (store, engine) = (desk.store(), desk.engine()?);
    Ok(async move {
        let _ = engine.send(&store, Timestamp::now()).await;
        if let Some(thread) = thread {
            sender.check_match(thread, Timestamp::now()).await?;
        }
        sender.send_waiting(Timestamp::now()).await
    })
}

/// [`sending`] in a task kept with the outbox sends; what went wrong, in words.
async fn look_up_and_send(shell: &Shell, config: &RecordConfig, thread: Option<ThreadId>) -> String {
    match shell.ask_with_desk(|desk| sending(desk, config, thread)).await {
        Ok(Ok(_)) => String::new(),
        Ok(Err(e)) => e.to_string(),
        Err(e) => e.to_string(),
    }
}

async fn panel_after(
    shell: &Shell,
    id: ThreadId,
    config: Option<&RecordConfig>,
    message: String,
) -> Result<RecordPanel, ShellError> {
    shell.with_desk(|desk| Ok(desk.record_panel(id, config, message)?)).await
}

/// `record_panel`.
pub async fn panel(shell: &Shell, thread: &str) -> Result<RecordPanel, ShellError> {
    let id = thread_id(thread)?;
    let (config, mut message) = config();
    if let Some(config) = &config {
        message = look_up_and_send(shell, config, Some(id)).await;
    }
    panel_after(shell, id, config.as_ref(), message).await
}

/// `save_to_record`: queued (refused in words if the rules say no), then sent.
pub async fn save(shell: &Shell, thread: &str) -> Result<RecordPanel, ShellError> {
    let id = thread_id(thread)?;
    let (config, problem) = config();
    if config.is_none() && !problem.is_empty() {
        return panel_after(shell, id, None, problem).await;
    }
    let queued =
        shell.with_desk(|desk| Ok(desk.save_to_record(id, config.as_ref(), Timestamp::now())?)).await;
    let message = match (queued, &config) {
        (Ok(()), Some(config)) => look_up_and_send(shell, config, None).await,
        (Ok(()), None) => String::new(),
        (Err(ShellError::Workstation(e)), _) => e.to_string(),
        (Err(e), _) => return Err(e),
    };
    panel_after(shell, id, config.as_ref(), message).await
}

/// `confirm_record_match`.
pub async fn confirm(shell: &Shell, thread: &str) -> Result<RecordPanel, ShellError> {
    let id = thread_id(thread)?;
    let (config, _) = config();
    let message = match shell.with_desk(|desk| Ok(desk.confirm_record_match(id, Timestamp::now())?)).await {
        Ok(()) => String::new(),
        Err(ShellError::Workstation(e)) => e.to_string(),
        Err(e) => return Err(e),
    };
    panel_after(shell, id, config.as_ref(), message).await
}

/// `export_record`: the Bundle written to the clinician's downloads.
pub async fn export(shell: &Shell, thread: &str) -> Result<RecordPanel, ShellError> {
    let id = thread_id(thread)?;
    let (config, _) = config();
    let written = shell
        .ask_with_desk(|desk| {
            let maker = desk.bundle_maker()?;
            Ok(async move {
                let dir = export_dir().map_err(|e| {
                    WorkstationError::from(sealbox_core::record::SaveToRecordError::Export(e.kind()))
                })?;
                maker.export(id, &dir, Timestamp::now()).await
            })
        })
        .await?;
    let message = match written {
        Ok(path) => format!("Saved as {}", path.display()),
        Err(e) => e.to_string(),
    };
    panel_after(shell, id, config.as_ref(), message).await
}

/// `record_setup`.
pub async fn setup(shell: &Shell) -> Result<RecordSetup, ShellError> {
    shell.with_desk(|desk| Ok(desk.record_setup(&RecordConfig::path())?)).await
}

/// Tries the saves that wait every [`RETRY_EVERY`] until the desk locks
/// (`stop`): a record system that was down gets them without anyone
/// opening the thread again.
pub fn retry_while_unlocked(app: AppHandle, mut stop: watch::Receiver<bool>) {
    tauri::async_runtime::spawn(async move {
        let mut tick = tokio::time::interval(RETRY_EVERY);
        tick.tick().await;
        loop {
            tokio::select! {
                changed = stop.changed() => if changed.is_err() || *stop.borrow() { break },
                _ = tick.tick() => {}
            }
            let (Some(config), _) = config() else { continue };
            let shell = app.state::<Shell>();
            let problem = look_up_and_send(&shell, &config, None).await;
            if !problem.is_empty() {
                eprintln!("sealbox: save to record: {problem}");
            }
        }
    });
}

/// After a close: queued where the practice saves on close (and the match
/// allows), with the sends to run; none otherwise. Failures are the
/// panel's to tell, never the close's.
pub fn save_on_close(
    desk: &Desk,
    thread: ThreadId,
) -> Option<impl std::future::Future<Output = ()> + Send + 'static> {
    let (config, _) = config();
    let config = config?;
    match desk.save_on_close(thread, Some(&config), Timestamp::now()) {
        Ok(true) => {}
        Ok(false) => return None,
        Err(e) => {
            eprintln!("sealbox: save on close: {e}");
            return None;
        }
    }
    let send = sending(desk, &config, None).ok()?;
    Some(async move {
        if let Err(e) = send.await {
            eprintln!("sealbox: save to record: {e}");
        }
    })
}
