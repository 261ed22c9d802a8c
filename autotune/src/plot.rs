//! The convergence plot: best time so far over trials, per workload,
//! relative to the default schedule (an SVG, drawn with plotters).

use crate::tune::Outcome;
use crate::TuneError;
use plotters::prelude::*;
use std::path::Path;

/// Draw the best-so-far time (as a fraction of the default's) against the
/// trial number for each outcome into the SVG file `path` (written to a
/// temporary file first and renamed, so no half-written plot is left).
pub fn convergence_plot(outcomes: &[Outcome], path: &Path) -> Result<(), TuneError> {
    let err = |message: String| TuneError::Plot { path: path.display().to_string(), message };
    let series: Vec<(String, Vec<(f64, f64)>)> = outcomes
        .iter()
        .map(|o| {
            let mut best = f64::MAX;
            let points = o
                .trials
                .iter()
                .enumerate()
                .filter_map(|(i, t)| {
                    if let Ok(r) = &t.result {
                        best = best.min(r.median_s);
                    }
                    (best < f64::MAX).then(|| ((i + 1) as f64, best / o.default.median_s))
                })
                .collect();
            (format!("{} {}", o.workload.key.class, o.workload.key.description), points)
        })
        .collect();
    let max_x = series.iter().map(|(_, p)| p.len()).max().unwrap_or(1).max(2) as f64;
    let min_y = series.iter().flat_map(|(_, p)| p.iter().map(|q| q.1)).fold(1.0f64, f64::min);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 600)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .caption("kiln autotune: best time so far / default schedule's", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(1.0..max_x, (min_y * 0.95).min(0.95)..1.05)
            .map_err(|e| err(e.to_string()))?;
        chart.configure_mesh().x_desc("trial").y_desc("best / default").draw().map_err(|e| err(e.to_string()))?;
        for (i, (label, points)) in series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            chart.draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2))).map_err(|e| err(e.to_string()))?.label(label.clone()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        }
        chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).position(SeriesLabelPosition::UpperRight).draw().map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    let tmp = path.with_extension("svg.tmp");
    std::fs::write(&tmp, svg).map_err(|e| err(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| err(e.to_string()))
}
