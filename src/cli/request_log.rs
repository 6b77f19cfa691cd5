//! `clipsim run --request-log FILE`: every request served and the simulated edge's result, as a
//! trace with the CDN's results (`time,obj_id,size,geo,cache`, the columns `trace import`
//! writes), so that a trace-driven run can be calibrated against a simulated CDN whose settings
//! are known (docs/calibration.md).

use anyhow::{anyhow, Result};
use clipsim_sim::report::StagedFile;
use clipsim_sim::scenario::Scenario;
use clipsim_sim::trace::{CsvWriter, TraceError};
use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

/// The log being written.
pub struct RequestLog {
    staged: StagedFile,
    writer: Rc<RefCell<Option<CsvWriter>>>,
    error: Rc<RefCell<Option<TraceError>>>,
    geos: Vec<String>,
    origin_s: u64,
}

impl RequestLog {
    /// Starts writing `path` (refused as a scenario input, or a non-empty file without `force`).
    pub fn begin(path: &Path, force: bool, sc: &Scenario, inputs: &[&Path]) -> Result<RequestLog> {
        let staged = StagedFile::begin(path, force, inputs)?;
        let writer = CsvWriter::create_staged_text(&staged, "time,obj_id,size,geo,cache\n")?;
        Ok(RequestLog {
            staged,
            writer: Rc::new(RefCell::new(Some(writer))),
            error: Rc::new(RefCell::new(None)),
            geos: sc.geos.clone(),
            // A trace run's times are written as the trace's own.
            origin_s: sc.traffic.trace.as_ref().map_or(0, |t| t.origin_s),
        })
    }

    /// What the world calls with every request: a line each; the first write error is kept and
    /// ends the writing.
    pub fn sink(&self) -> clipsim_sim::world::RequestLog {
        let (writer, error, geos, origin_s) =
            (self.writer.clone(), self.error.clone(), self.geos.clone(), self.origin_s);
        Box::new(move |t, clip, geo, size, hit| {
            let mut w = writer.borrow_mut();
            let Some(out) = w.as_mut() else { return };
            let line = out.write_line(format_args!(
                "{},{},{size},{},{}\n",
                origin_s + t.as_secs(),
                clip.0,
                geos[geo.index()],
                if hit { "hit" } else { "miss" }
            ));
            if let Err(e) = line {
                *error.borrow_mut() = Some(e);
                *w = None;
            }
        })
    }

    /// Finishes the file and moves it into place.
    pub fn commit(self) -> Result<()> {
        if let Some(e) = self.error.borrow_mut().take() {
            return Err(anyhow!(e));
        }
        let writer = self.writer.borrow_mut().take().ok_or_else(|| anyhow!("the request log was not written"))?;
        writer.finish()?;
        self.staged.commit()?;
        Ok(())
    }
}
