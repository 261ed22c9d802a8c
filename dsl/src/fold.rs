//! Folding parameters: ops that read only module parameters compute the
//! same value on every call, so they are computed once, when the module's
//! parameters are known, and become parameters themselves.
//!
//! The graph optimizer makes such ops when it merges projections that share
//! an input (Q, K and V; gate and up): their weights concatenated, one
//! matmul, its result sliced. Concatenating quantized weights along their
//! rows moves whole blocks, which no kernel can write (only quantize stages
//! write quantized tensors), so folding is also what makes them runnable.

use crate::graph::{Function, Node, NodeId, NodeKind};
use crate::ops::{Builtin, OpDef, TensorType};
use crate::tensor::HostTensor;
use crate::GraphError;
use std::collections::HashMap;

/// Whether `op` applied to `inputs` can be computed by [`fold_params`]:
/// a concatenation along any axis but a quantized type's last (block) axis.
pub fn foldable(op: &dyn OpDef, inputs: &[TensorType]) -> bool {
    match op.as_builtin() {
        Some(Builtin::Concat(axis)) => inputs.first().is_some_and(|t| !t.dtype.is_quantized() || *axis + 1 < t.rank()),
        _ => false,
    }
}

/// The name of the parameter a folded op becomes: its description and its
/// operands' parameter names, so every function that makes the same op
/// shares one parameter.
pub fn folded_name(op: &dyn OpDef, operands: &[&str]) -> String {
    format!("{}({})", op.name(), operands.join(","))
}

/// `func` with every foldable op whose operands are all parameters (after
/// folding) replaced by a parameter, and the values of the new parameters,
/// computed from `params` (which must hold every parameter `func` reads).
pub fn fold_params(func: &Function, params: &HashMap<String, HostTensor>) -> Result<(Function, HashMap<String, HostTensor>), GraphError> {
    let mut made: HashMap<String, HostTensor> = HashMap::new();
    let folded = fold(func, &mut |node, name, op, operands| {
        if made.contains_key(name) {
            return Ok(());
        }
        let values = operands
            .iter()
            .map(|p| made.get(p).or_else(|| params.get(p)).ok_or_else(|| GraphError::Input { name: p.clone(), message: "parameter has no value".into() }))
            .collect::<Result<Vec<&HostTensor>, GraphError>>()?;
        let Some(Builtin::Concat(axis)) = op.as_builtin() else { unreachable!("foldable ops are concatenations") };
        let value = concat(&values, *axis).map_err(|message| GraphError::Invalid { node, message })?;
        made.insert(name.to_string(), value);
        Ok(())
    })?;
    Ok((folded, made))
}

/// `func` as [`fold_params`] makes it, without computing the parameters'
/// values (to count the kernels and memory a folded function needs).
pub fn fold_param_ops(func: &Function) -> Result<Function, GraphError> {
    fold(func, &mut |_, _, _, _| Ok(()))
}

/// Replace foldable parameter-only ops by parameters, calling `made` with
/// each one's node, new name, op and operand names.
fn fold(func: &Function, made: &mut dyn FnMut(usize, &str, &dyn OpDef, &[String]) -> Result<(), GraphError>) -> Result<Function, GraphError> {
    let mut nodes: Vec<Node> = Vec::with_capacity(func.nodes.len());
    for (i, n) in func.nodes.iter().enumerate() {
        let param_name = |id: &NodeId| match &nodes[id.0 as usize].kind {
            NodeKind::Param(name) => Some(name.clone()),
            _ => None,
        };
        let folded = match &n.kind {
            NodeKind::Op(op) => {
                let names: Option<Vec<String>> = n.inputs.iter().map(param_name).collect();
                let types: Vec<TensorType> = n.inputs.iter().map(|x| nodes[x.0 as usize].ty.clone()).collect();
                match names {
                    Some(names) if !names.is_empty() && foldable(op.as_ref(), &types) => {
                        let name = folded_name(op.as_ref(), &names.iter().map(String::as_str).collect::<Vec<_>>());
                        made(i, &name, op.as_ref(), &names)?;
                        Some(name)
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        nodes.push(match folded {
            Some(name) => Node { kind: NodeKind::Param(name), inputs: Vec::new(), ty: n.ty.clone() },
            None => n.clone(),
        });
    }
    let out = Function { name: func.name.clone(), nodes, outputs: func.outputs.clone() };
    out.verify()?;
    Ok(out)
}

/// `parts` joined along `axis`, byte for byte: each part contributes, for
/// every index of the axes before `axis`, its contiguous run of rows (whole
/// quantized blocks when `axis` is not a quantized type's last).
pub fn concat(parts: &[&HostTensor], axis: usize) -> Result<HostTensor, String> {
    let first = parts.first().ok_or("nothing to concatenate")?;
    let rank = first.shape.len();
    if axis >= rank || (first.dtype.is_quantized() && axis + 1 == rank) {
        return Err(format!("cannot concatenate {} tensors along axis {axis} of {rank}", first.dtype));
    }
    for p in parts {
        if p.dtype != first.dtype || p.shape.len() != rank || (0..rank).any(|a| a != axis && p.shape[a] != first.shape[a]) {
            return Err(format!("cannot concatenate {}{:?} with {}{:?} along axis {axis}", first.dtype, first.shape, p.dtype, p.shape));
        }
    }
    let outer: usize = first.shape[..axis].iter().product();
    // bytes of one index of the outer axes, per part
    let run = |p: &HostTensor| if outer == 0 { 0 } else { p.data.len() / outer };
    let mut data = Vec::with_capacity(parts.iter().map(|p| p.data.len()).sum());
    for o in 0..outer {
        for p in parts {
            let r = run(p);
            data.extend_from_slice(&p.data[o * r..(o + 1) * r]);
        }
    }
    let mut shape = first.shape.clone();
    shape[axis] = parts.iter().map(|p| p.shape[axis]).sum();
    Ok(HostTensor { dtype: first.dtype, shape, data: data.into() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{interpret, Bindings, DType, Dim};
    use rand::SeedableRng;

    #[test]
    fn folding_a_concatenation_of_parameters_keeps_the_function_s_results() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for (dtype, axis) in [(DType::F32, 0), (DType::F32, 1), (DType::Q4_0, 0), (DType::Q8_0, 0), (DType::F16, 1)] {
            let mut g = crate::Module::new();
            let shape = |rows: i64| if axis == 0 { vec![Dim::new(rows), Dim::new(64)] } else { vec![Dim::new(64), Dim::new(rows)] };
            g.declare_param("a", dtype, &shape(3)).unwrap();
            g.declare_param("b", dtype, &shape(5)).unwrap();
            let f = g.function_builder("f");
            let (a, b) = (f.param("a"), f.param("b"));
            let y = a.concat(&[&b], axis).dequantize();
            let func = f.finish(&[&y]).unwrap();
            let mut host = |rows: usize| HostTensor::random(dtype, &if axis == 0 { vec![rows, 64] } else { vec![64, rows] }, 0, &mut rng);
            let params: HashMap<String, HostTensor> = [("a".to_string(), host(3)), ("b".to_string(), host(5))].into();
            let (folded, made) = fold_params(&func, &params).unwrap();
            assert_eq!(made.len(), 1, "{folded}");
            let mut all = params.clone();
            all.extend(made);
            let got = interpret(&folded, &[], &all, &Bindings::new()).unwrap();
            // the reference: each part dequantized, then placed
            let (pa, pb) = (params["a"].to_f64(), params["b"].to_f64());
            let want: Vec<f64> = if axis == 0 { pa.iter().chain(&pb).copied().collect() } else { (0..64).flat_map(|r| pa[r * 3..r * 3 + 3].iter().chain(&pb[r * 5..r * 5 + 5]).copied().collect::<Vec<_>>()).collect() };
            assert_eq!(got[0].data, want, "{dtype} along {axis}");
        }
    }
}
