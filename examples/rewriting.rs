//! Extending the graph optimizer from outside kiln: a rewrite rule and a
//! whole-function pass, written against `kiln-rewrite`'s public API.

use kiln_dsl::{Builtin, Elementwise, Function, Node, NodeId, NodeKind};
use kiln_rewrite::rules::builtin;
use kiln_rewrite::{Family, Pass, Rule, Term};

/// A rule: `neg(neg(x))` is `x`. The rule looks at one e-node at a time and
/// returns the terms equal to it; the optimizer adds them to its e-class and
/// extraction keeps the cheapest.
pub fn double_negation() -> Rule {
    Rule::new("double-negation", Family::Custom, |g, _class, node| {
        let Some((Builtin::Map(Elementwise::Neg), [inner])) = builtin(node) else { return Vec::new() };
        g[*inner]
            .nodes
            .iter()
            .filter_map(builtin)
            .filter_map(|(op, args)| matches!(op, Builtin::Map(Elementwise::Neg)).then(|| Term::Class(args[0])))
            .collect()
    })
}

/// A pass: casts of a tensor to its own dtype are dropped, their readers
/// rewired to the cast's operand. Passes see the whole function, for what
/// is not a local rewrite.
pub struct DropSameTypeCasts;

impl Pass for DropSameTypeCasts {
    fn name(&self) -> String {
        "drop-same-type-casts".into()
    }

    fn run(&self, func: Function) -> Result<Function, String> {
        // where each old node's value now comes from
        let mut source: Vec<NodeId> = Vec::with_capacity(func.nodes.len());
        let mut nodes: Vec<Node> = Vec::new();
        for n in &func.nodes {
            let inputs: Vec<NodeId> = n.inputs.iter().map(|i| source[i.0 as usize]).collect();
            if let NodeKind::Op(op) = &n.kind {
                if let Some(Builtin::Cast(to)) = op.as_builtin() {
                    if nodes[inputs[0].0 as usize].ty.dtype == *to {
                        source.push(inputs[0]);
                        continue;
                    }
                }
            }
            nodes.push(Node { kind: n.kind.clone(), inputs, ty: n.ty.clone() });
            source.push(NodeId(nodes.len() as u32 - 1));
        }
        let outputs = func.outputs.iter().map(|o| source[o.0 as usize]).collect();
        Ok(Function { name: func.name, nodes, outputs })
    }
}
