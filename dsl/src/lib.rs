//! kiln's front end: the tensor-expression DSL.
//!
//! Owns the graph of tensor ops that models are written in ([`Function`],
//! [`Module`] of functions sharing parameters, built with [`FunctionBuilder`]),
//! the element types ([`DType`], including GGUF's packed quantized blocks),
//! symbolic dimensions ([`Dim`]), the tensor expressions that *define* every op
//! ([`Stage`], [`Expr`]; new ops implement [`OpDef`]) and the f64 reference
//! interpreter ([`interpret`]) that is the oracle for every backend.
//!
//! In: Rust code that builds a graph. Out: a verified [`Function`] whose ops
//! yield [`Stage`]s for the scheduler, and reference results.
//!
//! ```
//! use kiln_dsl::{interpret, Bindings, DType, FunctionBuilder, HostTensor};
//! use std::collections::HashMap;
//! let f = FunctionBuilder::new("demo");
//! let x = f.input("x", DType::F32, &["n".into(), 4.into()]);
//! let y = x.mul_scalar(2.0).softmax();
//! let func = f.finish(&[&y]).unwrap();
//! let input = HostTensor::from_f32(DType::F32, &[3, 4], &[0.0; 12]);
//! let out = interpret(&func, &[input], &HashMap::new(), &Bindings::new()).unwrap();
//! assert_eq!(out[0].shape, vec![3, 4]);
//! assert!(out[0].data.iter().all(|v| (v - 0.25).abs() < 1e-12));
//! ```
#![warn(missing_docs)]

mod dim;
mod dtype;
mod error;
mod expr;
pub mod fold;
mod graph;
mod interp;
pub mod ops;
pub mod quant;
mod tensor;

pub use dim::{product, shape_str, Bindings, Dim};
pub use dtype::{DType, ScalarKind};
pub use error::GraphError;
pub use expr::{ax, dim, flt, int, load, select, BinOp, Expr, ExprWithPrefix, KernelClass, Reduce, ReduceOp, Stage, UnOp};
pub use graph::{Function, FunctionBuilder, Module, Node, NodeId, NodeKind, ParamDecl, ShapeChecks, Tensor, TensorDesc};
pub use interp::{erf, interpret, RefTensor};
pub use ops::{AttentionStages, Builtin, Elementwise, OpDef, RopeConfig, TensorType};
pub use tensor::{rel_l2_error, HostTensor};
