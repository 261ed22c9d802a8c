//! The rule and pass of `examples/rewriting.rs` plug into the optimizer from
//! outside kiln, fire, and keep results (checked on the interpreter).

use kiln_dsl::{interpret, rel_l2_error, Bindings, DType, FunctionBuilder, HostTensor};
use kiln_examples::rewriting::{double_negation, DropSameTypeCasts};
use kiln_rewrite::{CostModel, Optimizer};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::HashMap;

#[test]
fn a_users_rule_and_pass_fire_and_keep_results() {
    let f = FunctionBuilder::new("f");
    let x = f.input("x", DType::F32, &[3.into(), 8.into()]);
    let y = x.tanh().neg().neg().cast(DType::F32).exp().neg().neg();
    let func = f.finish(&[&y]).unwrap();
    let (out, report) = Optimizer::new(CostModel::cpu()).with_rule(double_negation()).with_pass(DropSameTypeCasts).optimize(&func).unwrap();
    let custom = report.rules.iter().find(|r| r.rule == "double-negation").unwrap();
    assert_eq!(custom.applied, 2, "{}", report.summary());
    assert!(!out.to_string().contains("neg") && !out.to_string().contains("cast"), "{out}");
    let input = HostTensor::random(DType::F32, &[3, 8], 0, &mut StdRng::seed_from_u64(1));
    let none = HashMap::new();
    let want = interpret(&func, std::slice::from_ref(&input), &none, &Bindings::new()).unwrap();
    let got = interpret(&out, &[input], &none, &Bindings::new()).unwrap();
    assert!(rel_l2_error(&got[0].data, &want[0].data) < 1e-15);
}
