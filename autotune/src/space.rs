//! Schedule spaces: the knobs of a backend's schedules, each a list of
//! values, with the device's limits as constraints; and the features of a
//! scheduled loop nest that the cost model learns from.

use kiln_dsl::Bindings;
use kiln_schedule::{eval_int, AdapterKind, CpuKnobs, GpuKnobs, Knobs, LoopKind, LoopNest, Validated, VECTOR_WIDTHS};
use rand::Rng;

/// A point of a space: an index into each knob's values.
pub type Point = Vec<usize>;

/// The schedule space of one kernel on one backend.
#[derive(Clone, Debug)]
pub struct Space {
    /// Knob names and the values each takes.
    pub knobs: Vec<(&'static str, Vec<i64>)>,
    gpu: bool,
    max_invocations: i64,
}

const POWERS_TO_256: [i64; 9] = [1, 2, 4, 8, 16, 32, 64, 128, 256];

impl Space {
    /// The GPU space: invocations sharing one output's reduction, outputs
    /// per workgroup, vector width, and square tiles staged in workgroup
    /// memory (matmuls over rows); workgroups of at most `max_invocations`.
    pub fn gpu(max_invocations: u32) -> Space {
        Space {
            knobs: vec![("reduce_threads", POWERS_TO_256.to_vec()), ("outputs_per_group", POWERS_TO_256.to_vec()), ("vector_width", VECTOR_WIDTHS.to_vec()), ("tile", vec![0, 4, 8, 16])],
            gpu: true,
            max_invocations: i64::from(max_invocations.min(256)),
        }
    }

    /// The CPU space: rows computed together by a matmul, vectors per step.
    pub fn cpu() -> Space {
        Space { knobs: vec![("tile", vec![1, 2, 4, 8]), ("unroll", vec![1, 2, 4])], gpu: false, max_invocations: 0 }
    }

    /// The knobs at `p`, or None where the device's limits forbid them or
    /// `p` is not canonical (a tiled point has its other knobs at their
    /// first values: tiles ignore them).
    pub fn knobs(&self, p: &[usize]) -> Option<Knobs> {
        let v = |i: usize| self.knobs[i].1[p[i]];
        if !self.gpu {
            return Some(Knobs::Cpu(CpuKnobs { tile: v(0), unroll: v(1) }));
        }
        let k = GpuKnobs { reduce_threads: v(0), outputs_per_group: v(1), vector_width: v(2), tile: v(3) };
        let ok = if k.tile > 0 { p[..3].iter().all(|&i| i == 0) && k.tile * k.tile <= self.max_invocations } else { k.reduce_threads * k.outputs_per_group <= self.max_invocations };
        ok.then_some(Knobs::Gpu(k))
    }

    /// The point of `knobs`, if they are in this space.
    pub fn point(&self, knobs: &Knobs) -> Option<Point> {
        let values: Vec<i64> = match knobs {
            Knobs::Gpu(k) if self.gpu => vec![k.reduce_threads, k.outputs_per_group, k.vector_width, k.tile],
            Knobs::Cpu(k) if !self.gpu => vec![k.tile, k.unroll],
            _ => return None,
        };
        let p: Option<Point> = values.iter().zip(&self.knobs).map(|(v, (_, vs))| vs.iter().position(|x| x == v)).collect();
        p.filter(|p| self.knobs(p).is_some())
    }

    /// The default knobs of `nest` on this backend.
    pub fn default_knobs(&self, nest: &LoopNest, adapter: AdapterKind) -> Knobs {
        if self.gpu {
            Knobs::Gpu(GpuKnobs::default_for(nest, adapter))
        } else {
            Knobs::Cpu(CpuKnobs::default_for(nest))
        }
    }

    /// A uniformly random point (canonical, within the limits).
    pub fn random(&self, rng: &mut impl Rng) -> Point {
        loop {
            let p: Point = self.knobs.iter().map(|(_, vs)| rng.random_range(0..vs.len())).collect();
            if self.knobs(&p).is_some() {
                return p;
            }
        }
    }

    /// `p` with each knob moved, with probability `rate`, to a neighbouring
    /// value (or, one time in four, any value); the result differs from `p`
    /// (unless 16 tries found no other canonical point).
    pub fn mutate(&self, p: &[usize], rate: f64, rng: &mut impl Rng) -> Point {
        let mut q = p.to_vec();
        for _ in 0..16 {
            q = self.mutate_once(p, rate, rng);
            if q != p {
                break;
            }
        }
        q
    }

    fn mutate_once(&self, p: &[usize], rate: f64, rng: &mut impl Rng) -> Point {
        let mut q = p.to_vec();
        let forced = rng.random_range(0..q.len());
        for (i, (_, vs)) in self.knobs.iter().enumerate() {
            if i != forced && !rng.random_bool(rate) {
                continue;
            }
            q[i] = if rng.random_bool(0.25) || vs.len() < 3 {
                rng.random_range(0..vs.len())
            } else {
                let up = rng.random_bool(0.5);
                if (up && q[i] + 1 < vs.len()) || q[i] == 0 { q[i] + 1 } else { q[i] - 1 }
            };
        }
        self.canonical(q)
    }

    /// Each knob from `a` or `b` at random.
    pub fn crossover(&self, a: &[usize], b: &[usize], rng: &mut impl Rng) -> Point {
        self.canonical(a.iter().zip(b).map(|(&x, &y)| if rng.random_bool(0.5) { x } else { y }).collect())
    }

    /// A tiled GPU point's other knobs at their first values.
    fn canonical(&self, mut p: Point) -> Point {
        if self.gpu && p[3] > 0 {
            p[..3].iter_mut().for_each(|i| *i = 0);
        }
        p
    }

    /// How many points the space has within the limits.
    pub fn size(&self) -> usize {
        let mut n = 0;
        let mut p = vec![0; self.knobs.len()];
        loop {
            n += usize::from(self.knobs(&p).is_some());
            let mut i = 0;
            loop {
                if i == p.len() {
                    return n;
                }
                p[i] += 1;
                if p[i] < self.knobs[i].1.len() {
                    break;
                }
                p[i] = 0;
                i += 1;
            }
        }
    }
}

/// Features of a scheduled nest for the cost model, at `bindings`: log2 of
/// the workgroups, invocations per workgroup along x and y, vector lanes,
/// unrolled and serial iterations per invocation (reduction and spatial
/// apart), parallel CPU iterations; elements staged in workgroup memory;
/// and the guards (bound checks) left.
pub fn features(nest: &Validated, bindings: &Bindings) -> Vec<f32> {
    let mut f = [0f64; 9];
    for l in &nest.nest().loops {
        let n = eval_int(&l.extent, bindings).unwrap_or(1).max(1) as f64;
        let slot = match (l.kind, l.reduction) {
            (LoopKind::GpuBlock(_), _) => 0,
            (LoopKind::GpuThread(0), _) => 1,
            (LoopKind::GpuThread(_), _) => 2,
            (LoopKind::Vectorized, _) => 3,
            (LoopKind::Unrolled, _) => 4,
            (LoopKind::Serial, true) => 5,
            (LoopKind::Serial, false) => 6,
            (LoopKind::Parallel, _) => 7,
        };
        f[slot] += n.log2();
    }
    f[8] = nest.nest().caches.len() as f64;
    let mut out: Vec<f32> = f.iter().map(|&x| x as f32).collect();
    out.push(nest.nest().guards.len() as f32);
    out
}
