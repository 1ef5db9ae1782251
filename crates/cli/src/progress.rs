//! A progress bar for long `check` runs, drawn on stderr only when it is a
//! terminal and the output is text (never in JSON output or when piped).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Runs with fewer files than this finish before a bar would help.
const MIN_FILES: usize = 200;

/// A bar only helps a person watching a long text run on a terminal.
fn should_show(files: usize, text_output: bool, terminal: bool) -> bool {
    text_output && terminal && files >= MIN_FILES
}

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(files: usize, text_output: bool) -> Self {
        let show = should_show(files, text_output, std::io::stderr().is_terminal());
        let bar = show.then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(files as u64), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("checking {pos}/{len} files {wide_bar} {eta}")
            {
                bar.set_style(style);
            }
            bar
        });
        Self { bar }
    }

    pub(crate) fn advance(&self, files: usize) {
        if let Some(bar) = &self.bar {
            bar.inc(files as u64);
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_long_text_runs_on_a_terminal() {
        assert!(should_show(500, true, true));
        assert!(!should_show(500, false, true), "never with JSON output");
        assert!(!should_show(500, true, false), "never when piped");
        assert!(!should_show(10, true, true), "not for short runs");
    }
}
