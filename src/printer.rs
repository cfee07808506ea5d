//! All output of the CLI goes through one [`Printer`]: data (tables, reports, JSON) to stdout
//! or an `--output` file written atomically; notes, warnings and progress bars to stderr.
//! `--quiet` silences notes and progress, never data or errors. Progress bars are drawn only
//! when stderr is a terminal, so pipes and CI logs stay clean.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::control::Reporter;
use crate::fsutil::AtomicFile;

#[derive(Debug, Clone, Copy)]
pub struct Printer {
    quiet: bool,
    /// Draw progress bars (stderr is a terminal and not quiet).
    bars: bool,
}

impl Printer {
    pub fn new(quiet: bool) -> Printer {
        Printer {
            quiet,
            bars: !quiet && std::io::stderr().is_terminal(),
        }
    }

    /// Data: to stdout, always.
    pub fn data(&self, text: &str) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()
    }

    /// A note about the run (what was done, where a file went): stderr, unless quiet.
    pub fn note(&self, text: &str) {
        if !self.quiet {
            // A note that cannot be written (stderr closed) is not worth failing the run.
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        }
    }

    /// A warning: stderr, even when quiet.
    pub fn warn(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "warning: {text}");
    }

    /// A progress reporter for a long command.
    pub fn progress(&self) -> Bars {
        Bars {
            bar: Mutex::new(None),
            hidden: !self.bars,
        }
    }

    /// Where a command's data goes: stdout, or `file` written atomically.
    pub fn sink(&self, file: Option<&Path>) -> std::io::Result<Sink> {
        Ok(match file {
            None => Sink::Stdout(std::io::BufWriter::new(std::io::stdout())),
            Some(p) => Sink::File(AtomicFile::create(p)?),
        })
    }

    /// Write a whole rendered text to stdout or, atomically, to `file`.
    pub fn write(&self, file: Option<&Path>, text: &str) -> std::io::Result<()> {
        let mut sink = self.sink(file)?;
        sink.write_all(text.as_bytes())?;
        sink.finish()
    }

    /// Write `text`, which holds a secret, to `file` atomically, readable and writable by its
    /// owner only (mode 0600 on Unix, set when the temporary file is created, so the secret
    /// is never readable by others, not even for a moment).
    pub fn write_private(&self, file: &Path, text: &str) -> std::io::Result<()> {
        let dir = match file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let context = |e: std::io::Error| {
            std::io::Error::new(e.kind(), format!("writing {}: {e}", file.display()))
        };
        let mut builder = tempfile::Builder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o600));
        }
        let mut tmp = builder.tempfile_in(dir).map_err(context)?;
        tmp.write_all(text.as_bytes()).map_err(context)?;
        tmp.as_file().sync_all().map_err(context)?;
        tmp.persist(file).map_err(|e| context(e.error))?;
        Ok(())
    }
}

/// A data destination written in a stream.
pub enum Sink {
    Stdout(std::io::BufWriter<std::io::Stdout>),
    File(AtomicFile),
}

impl Sink {
    /// Flush stdout, or put the file in place whole.
    pub fn finish(self) -> std::io::Result<()> {
        match self {
            Sink::Stdout(mut w) => w.flush(),
            Sink::File(f) => {
                let path = f.path().to_path_buf();
                f.commit().map_err(|e| {
                    std::io::Error::new(e.kind(), format!("writing {}: {e}", path.display()))
                })
            }
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Stdout(w) => w.write(buf),
            Sink::File(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Stdout(w) => w.flush(),
            Sink::File(w) => w.flush(),
        }
    }
}

/// Progress on stderr: one bar per phase, drawn only on a terminal.
pub struct Bars {
    bar: Mutex<Option<ProgressBar>>,
    hidden: bool,
}

impl Reporter for Bars {
    fn start(&self, phase: &'static str, total: usize) {
        let bar = if self.hidden {
            ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::hidden())
        } else {
            ProgressBar::new(total as u64)
        };
        bar.set_style(
            ProgressStyle::with_template("{prefix:>8} [{bar:40}] {pos}/{len} {elapsed}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(phase);
        *self.bar.lock().expect("bar poisoned") = Some(bar);
    }

    fn grow(&self, n: usize) {
        if let Some(b) = self.bar.lock().expect("bar poisoned").as_ref() {
            b.inc_length(n as u64);
        }
    }

    fn advance(&self, n: usize) {
        if let Some(b) = self.bar.lock().expect("bar poisoned").as_ref() {
            b.inc(n as u64);
        }
    }

    fn finish(&self) {
        if let Some(b) = self.bar.lock().expect("bar poisoned").take() {
            b.finish_and_clear();
        }
    }
}
