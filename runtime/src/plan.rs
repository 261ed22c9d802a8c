//! The static memory plan: intermediate values share buffers whose
//! lifetimes do not overlap.
//!
//! Lifetimes are known when the function is compiled (kernels run in a fixed
//! order), so slots are assigned once; only their sizes depend on the
//! symbolic dims and are evaluated per run.

use kiln_dsl::Dim;

/// An intermediate value to place: its size in bytes (symbolic), the step
/// that writes it and the last step that reads it.
#[derive(Clone, Debug)]
pub struct Interval {
    /// Storage bytes.
    pub bytes: Dim,
    /// Writing step.
    pub def: usize,
    /// Last reading step (`usize::MAX` for function outputs, which must survive).
    pub last_use: usize,
}

/// Slot of each value, and the values sharing each slot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemoryPlan {
    /// `slot_of[v]` is value `v`'s slot.
    pub slot_of: Vec<usize>,
    /// Values assigned to each slot.
    pub slots: Vec<Vec<usize>>,
}

impl MemoryPlan {
    /// First-fit interval colouring in order of definition: a value takes the
    /// first slot whose occupants are all dead before it is written. A slot
    /// is never both read and written by one step.
    pub fn new(values: &[Interval]) -> MemoryPlan {
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by_key(|&v| values[v].def);
        let mut plan = MemoryPlan { slot_of: vec![0; values.len()], slots: Vec::new() };
        let mut free_after: Vec<usize> = Vec::new(); // last use of each slot's latest occupant
        for v in order {
            let iv = &values[v];
            let slot = match (0..plan.slots.len()).find(|&s| free_after[s] < iv.def) {
                Some(s) => s,
                None => {
                    plan.slots.push(Vec::new());
                    free_after.push(0);
                    plan.slots.len() - 1
                }
            };
            plan.slots[slot].push(v);
            plan.slot_of[v] = slot;
            free_after[slot] = iv.last_use;
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_dead_buffers_but_never_overlaps_lifetimes() {
        let iv = |def, last_use| Interval { bytes: Dim::new(16), def, last_use };
        // a chain a -> b -> c -> d: a and c can share, b and d can share
        let plan = MemoryPlan::new(&[iv(0, 1), iv(1, 2), iv(2, 3), iv(3, usize::MAX)]);
        assert_eq!(plan.slots.len(), 2);
        assert_eq!(plan.slot_of[0], plan.slot_of[2]);
        assert_ne!(plan.slot_of[0], plan.slot_of[1]);
        // no two values in a slot are alive at once
        let vals = [iv(0, 5), iv(1, 2), iv(3, 4), iv(4, 6)];
        let plan = MemoryPlan::new(&vals);
        for s in &plan.slots {
            for &a in s {
                for &b in s {
                    if a != b {
                        let (x, y) = (&vals[a], &vals[b]);
                        assert!(x.last_use < y.def || y.last_use < x.def, "values {a} and {b} overlap");
                    }
                }
            }
        }
    }
}
