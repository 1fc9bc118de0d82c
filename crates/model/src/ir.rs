//! The quantized model IR: a graph of integer ops over power-of-two-scaled tensors.
//!
//! A tensor is a vector of integers `v` standing for the reals `v · 2^-frac_bits`. The model is
//! a list of [`Node`]s in topological order, each an [`Op`] over earlier tensors (graph inputs
//! or earlier nodes' outputs) with one output, so residual connections and several inputs fit;
//! the IR knows nothing of ONNX. What each op computes, to the bit, is defined in its module
//! under [`crate::ops`].

use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::ops::{Op, Parameter};
pub use crate::tensor::{
    MAX_BITS, MAX_ELEMENTS, MAX_FRAC_BITS, MAX_MACS, MAX_TRACE_VALUES, TensorInfo, signed_range,
};
use crate::tensor::{check_bits, check_frac, check_shape};

/// How a model's weights appear in its proofs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightMode {
    /// Weights are circuit constants: cheapest to prove; the verifying key identifies the model.
    Fixed,
    /// Weights are private witnesses bound to a public Poseidon commitment: the proof shows the
    /// worker knows the weights behind the model's commitment (proof of ownership). Every job
    /// range-checks and commits every weight again (about 11 constraints per weight).
    Private,
    /// Weights are private witnesses bound to a commitment the owner made once, at setup
    /// (LegoGroth16's committed wires, `D_reg` in the record): the same proof of ownership as
    /// [`WeightMode::Private`], at one constraint per multiply-accumulate.
    Committed,
}

impl WeightMode {
    /// The lower-case name used on the command line and in files.
    pub fn as_str(self) -> &'static str {
        match self {
            WeightMode::Fixed => "fixed",
            WeightMode::Private => "private",
            WeightMode::Committed => "committed",
        }
    }

    /// Whether the weights are secret (the model file is the owner's and licensed workers'
    /// alone, and carries a salt so its id does not let anyone test guesses of them).
    pub fn is_private(self) -> bool {
        match self {
            WeightMode::Fixed => false,
            WeightMode::Private | WeightMode::Committed => true,
        }
    }
}

impl std::fmt::Display for WeightMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for WeightMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fixed" => Ok(WeightMode::Fixed),
            "private" => Ok(WeightMode::Private),
            "committed" => Ok(WeightMode::Committed),
            other => Err(format!(
                "unknown weight mode `{other}` (expected fixed, private or committed)"
            )),
        }
    }
}

/// A tensor's index in a model: the graph inputs come first (`0..inputs.len()`), then node
/// `k`'s output is tensor `inputs.len() + k`.
pub type TensorId = usize;

/// One node of the graph: an op over earlier tensors, with one output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// The ONNX node (or tensor) it came from, for messages.
    pub name: String,
    /// What it computes.
    pub op: Op,
    /// Its operands: tensors defined before it (graph inputs or earlier nodes' outputs).
    pub inputs: Vec<TensorId>,
}

/// A quantized model: a graph of integer ops in topological order.
///
/// The client's input is the graph inputs' values concatenated in order, all in one format
/// (one scale and width, so that one digest covers them); the output is the graph outputs'
/// values concatenated, at one scale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    /// Human-readable name (usually the ONNX file's stem).
    pub name: String,
    /// How the weights appear in proofs.
    pub weight_mode: WeightMode,
    /// The graph inputs' shapes and format: tensors `0..inputs.len()`.
    pub inputs: Vec<TensorInfo>,
    /// The nodes, each after its operands.
    pub nodes: Vec<Node>,
    /// The tensors that make the output, in order.
    pub outputs: Vec<TensorId>,
    /// Private mode: 31 random bytes (hex) that blind the weight commitment. `None` in fixed mode.
    pub salt: Option<String>,
}

fn invalid(s: String) -> ModelError {
    ModelError::Invalid(s)
}

/// The shape and format of several tensors as one: the shape itself for one tensor, else the
/// flat concatenation; the widest width. All must share `frac_bits`.
fn concatenated(what: &str, infos: &[&TensorInfo]) -> Result<TensorInfo, ModelError> {
    let first = infos
        .first()
        .ok_or_else(|| invalid(format!("the model has no {what}")))?;
    if let Some(other) = infos.iter().find(|i| i.frac_bits != first.frac_bits) {
        return Err(invalid(format!(
            "the model's {what}s have scales 2^-{} and 2^-{}; they must share one",
            first.frac_bits, other.frac_bits
        )));
    }
    if infos.len() == 1 {
        return Ok((*first).clone());
    }
    let total = infos
        .iter()
        .try_fold(0usize, |n, i| n.checked_add(i.len()))
        .filter(|&n| n <= MAX_ELEMENTS)
        .ok_or_else(|| {
            invalid(format!(
                "the model's {what}s hold more than {MAX_ELEMENTS} values"
            ))
        })?;
    Ok(TensorInfo {
        shape: vec![total],
        frac_bits: first.frac_bits,
        bits: infos.iter().map(|i| i.bits).max().unwrap_or(first.bits),
    })
}

impl Model {
    /// The tensor node `k` outputs.
    pub fn node_output(&self, k: usize) -> TensorId {
        self.inputs.len() + k
    }

    /// Number of tensors (graph inputs and node outputs).
    pub fn tensor_count(&self) -> usize {
        self.inputs.len() + self.nodes.len()
    }

    /// Shape and format of every tensor (indexed by [`TensorId`]), checking that the graph is
    /// well formed: operands defined before use, arities, shapes, scales, widths, parameters.
    pub fn tensor_infos(&self) -> Result<Vec<TensorInfo>, ModelError> {
        if self.inputs.is_empty() {
            return Err(invalid("the model has no input".into()));
        }
        let mut infos: Vec<TensorInfo> = Vec::with_capacity(self.tensor_count().min(1 << 16));
        for (i, input) in self.inputs.iter().enumerate() {
            let what = format!("input #{i}");
            check_bits(&what, input.bits).map_err(invalid)?;
            check_shape(&what, &input.shape).map_err(invalid)?;
            check_frac(&what, Some(input.frac_bits)).map_err(invalid)?;
            infos.push(input.clone());
        }
        let mut total = infos.iter().fold(0usize, |n, i| n.saturating_add(i.len()));
        let mut macs = 0usize;
        if let Some(other) = self
            .inputs
            .iter()
            .find(|i| i.frac_bits != self.inputs[0].frac_bits || i.bits != self.inputs[0].bits)
        {
            return Err(invalid(format!(
                "the model's inputs have formats (2^-{}, {} bits) and (2^-{}, {} bits); they \
                 must share one",
                self.inputs[0].frac_bits, self.inputs[0].bits, other.frac_bits, other.bits
            )));
        }
        // The client sends the inputs as one vector: it must be a valid tensor too.
        let inputs: Vec<&TensorInfo> = self.inputs.iter().collect();
        concatenated("input", &inputs)?;
        for (k, node) in self.nodes.iter().enumerate() {
            let sem = node.op.semantics();
            let at = || format!("node #{k} `{}` ({})", node.name, node.op.describe());
            if node.inputs.len() != sem.arity() {
                return Err(invalid(format!(
                    "{} takes {} operands, not {}",
                    at(),
                    sem.arity(),
                    node.inputs.len()
                )));
            }
            let own = self.node_output(k);
            let operands = node
                .inputs
                .iter()
                .map(|&t| {
                    infos.get(t).filter(|_| t < own).ok_or_else(|| {
                        invalid(format!("{} reads tensor {t}, not defined before it", at()))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let info = sem
                .output_info(&operands)
                .map_err(|e| invalid(format!("{}: {e}", at())))?;
            check_shape(&at(), &info.shape).map_err(invalid)?;
            if !(1..=32).contains(&info.bits) {
                return Err(invalid(format!(
                    "{}: output width {} bits",
                    at(),
                    info.bits
                )));
            }
            total = total.saturating_add(info.len());
            macs = macs.saturating_add(sem.macs());
            if macs > MAX_MACS {
                return Err(invalid(format!(
                    "the model costs more than {MAX_MACS} multiply-accumulates per inference"
                )));
            }
            if total > MAX_TRACE_VALUES {
                return Err(invalid(format!(
                    "the model's tensors hold more than {MAX_TRACE_VALUES} values together"
                )));
            }
            infos.push(info);
        }
        if self.outputs.is_empty() {
            return Err(invalid("the model has no output".into()));
        }
        if let Some(t) = self.outputs.iter().find(|&&t| t >= infos.len()) {
            return Err(invalid(format!("output tensor {t} does not exist")));
        }
        let outs: Vec<&TensorInfo> = self.outputs.iter().map(|&t| &infos[t]).collect();
        concatenated("output", &outs)?;
        Ok(infos)
    }

    /// The client's input as one tensor: the graph input's shape and format, or for several
    /// inputs their flat concatenation.
    /// Of a model that failed validation: the first input's (empty without inputs).
    pub fn input_info(&self) -> TensorInfo {
        let refs: Vec<&TensorInfo> = self.inputs.iter().collect();
        concatenated("input", &refs).unwrap_or_else(|_| {
            self.inputs.first().cloned().unwrap_or(TensorInfo {
                shape: Vec::new(),
                frac_bits: 0,
                bits: 2,
            })
        })
    }

    /// Shape and format of the model's output (several outputs: their flat concatenation, at
    /// the widest width).
    pub fn output_info(&self) -> Result<TensorInfo, ModelError> {
        let infos = self.tensor_infos()?;
        let outs: Vec<&TensorInfo> = self.outputs.iter().map(|&t| &infos[t]).collect();
        concatenated("output", &outs)
    }

    /// Every parameter group the weight commitment absorbs, node by node (through
    /// [`Op::parameters`], exhaustive over the op set).
    pub fn parameters(&self) -> impl Iterator<Item = (&Node, Parameter<'_>)> {
        self.nodes
            .iter()
            .flat_map(|n| n.op.parameters().into_iter().map(move |p| (n, p)))
    }

    /// Total number of weights and biases.
    pub fn parameter_count(&self) -> usize {
        self.parameters().map(|(_, p)| p.values.len()).sum()
    }

    /// A model whose nodes form a chain over one input, the output the last node's (or the
    /// input's, without nodes): what MLP importers and tests build.
    pub fn chain(
        name: impl Into<String>,
        weight_mode: WeightMode,
        input: TensorInfo,
        ops: Vec<Op>,
        salt: Option<String>,
    ) -> Model {
        let nodes: Vec<Node> = ops
            .into_iter()
            .enumerate()
            .map(|(k, op)| Node {
                name: format!("{}{k}", op.kind()),
                op,
                inputs: vec![k],
            })
            .collect();
        Model {
            name: name.into(),
            weight_mode,
            inputs: vec![input],
            outputs: vec![nodes.len()],
            nodes,
            salt,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Dense, Relu, Requantize, Reshape};

    fn tiny() -> Model {
        Model::chain(
            "t",
            WeightMode::Fixed,
            TensorInfo {
                shape: vec![1, 2],
                frac_bits: 4,
                bits: 8,
            },
            vec![
                Op::Reshape(Reshape { shape: vec![2] }),
                Op::Dense(Dense {
                    name: "fc".into(),
                    in_features: 2,
                    out_features: 1,
                    weights: vec![1, -2],
                    weight_bits: 8,
                    weight_frac_bits: 3,
                    bias: vec![5],
                    bias_bits: 16,
                }),
                Op::Requantize(Requantize { shift: 3, bits: 8 }),
            ],
            None,
        )
    }

    #[test]
    fn scales_follow_the_graph() {
        let infos = tiny().tensor_infos().unwrap();
        assert_eq!(infos[2].frac_bits, 7);
        assert_eq!(infos[3].frac_bits, 4);
        assert_eq!(infos[3].bits, 8);
        assert_eq!(infos[3].shape, vec![1]);
    }

    #[test]
    fn inconsistent_shapes_are_rejected_with_the_node() {
        let mut m = tiny();
        m.nodes[0].op = Op::Reshape(Reshape { shape: vec![3] });
        let err = m.tensor_infos().unwrap_err().to_string();
        assert!(err.contains("node #0 `reshape0`"), "{err}");
        assert!(err.contains("reshapes [1, 2] (2 values) to [3]"), "{err}");
    }

    #[test]
    fn out_of_width_weights_are_rejected() {
        let mut m = tiny();
        if let Op::Dense(d) = &mut m.nodes[1].op {
            d.weights[1] = 200;
        }
        let err = m.tensor_infos().unwrap_err().to_string();
        assert!(err.contains("weight #1 = 200"), "{err}");
    }

    #[test]
    fn operands_must_be_defined_before_use_and_match_the_arity() {
        let mut m = tiny();
        m.nodes[0].inputs = vec![2];
        let err = m.tensor_infos().unwrap_err().to_string();
        assert!(
            err.contains("reads tensor 2, not defined before it"),
            "{err}"
        );
        m.nodes[0].inputs = vec![0, 0];
        let err = m.tensor_infos().unwrap_err().to_string();
        assert!(err.contains("takes 1 operands, not 2"), "{err}");
        let mut m = tiny();
        m.outputs = vec![9];
        let err = m.tensor_infos().unwrap_err().to_string();
        assert!(err.contains("output tensor 9 does not exist"), "{err}");
    }

    #[test]
    fn a_residual_graph_and_several_inputs() {
        let m = crate::seeds::residual();
        let infos = m.tensor_infos().unwrap();
        assert_eq!(infos[3].bits, 9);
        assert_eq!(m.input_info().shape, vec![4]);
        let out = m.output_info().unwrap();
        assert_eq!((out.shape, out.bits, out.frac_bits), (vec![4], 9, 2));
        let mut bad = m.clone();
        bad.inputs[1].frac_bits = 3;
        let err = bad.tensor_infos().unwrap_err().to_string();
        assert!(err.contains("must share one"), "{err}");
        // Each input within bounds, their concatenation (the client's vector) beyond: refused,
        // where it would otherwise reach an executor that splits the client's input by them.
        let mut wide = m.clone();
        for input in &mut wide.inputs {
            input.shape = vec![MAX_ELEMENTS / 2 + 1];
        }
        let err = wide.tensor_infos().unwrap_err().to_string();
        assert!(
            err.contains(&format!("inputs hold more than {MAX_ELEMENTS} values")),
            "{err}"
        );
    }

    #[test]
    fn a_small_file_cannot_ask_for_unbounded_work() {
        // Five convolutions of the same input, each 2^26 multiply-accumulates from 1024
        // weights: each alone is accepted, together they are beyond the model's budget.
        let conv = Op::Conv(crate::ops::Conv {
            name: "c".into(),
            geometry: crate::ops::ConvGeometry {
                in_channels: 1,
                out_channels: 1,
                in_spatial: vec![64, 2047],
                kernel: vec![1, 1024],
                strides: vec![1, 1],
                dilations: vec![1, 1],
                pads: vec![0; 4],
                groups: 1,
            },
            weights: vec![0; 1024],
            weight_bits: 8,
            weight_frac_bits: 0,
            bias: vec![0],
            bias_bits: 8,
        });
        let node = |name: &str| Node {
            name: name.into(),
            op: conv.clone(),
            inputs: vec![0],
        };
        let mut m = Model {
            name: "work".into(),
            weight_mode: WeightMode::Fixed,
            inputs: vec![TensorInfo {
                shape: vec![1, 64, 2047],
                frac_bits: 0,
                bits: 8,
            }],
            nodes: vec![node("a")],
            outputs: vec![1],
            salt: None,
        };
        assert!(m.tensor_infos().is_ok());
        m.nodes = (0..5).map(|k| node(&format!("n{k}"))).collect();
        let err = m.tensor_infos().unwrap_err().to_string();
        assert!(
            err.contains("more than 268435456 multiply-accumulates"),
            "{err}"
        );
    }

    #[test]
    fn a_small_file_cannot_ask_for_a_huge_trace() {
        let big = TensorInfo {
            shape: vec![1 << 24],
            frac_bits: 0,
            bits: 8,
        };
        // One output listed many times.
        let mut m = Model::chain("big", WeightMode::Fixed, big.clone(), vec![], None);
        m.outputs = vec![0; 1000];
        let err = m.tensor_infos().unwrap_err().to_string();
        assert!(
            err.contains("outputs hold more than 16777216 values"),
            "{err}"
        );
        // Many nodes, each a full copy.
        let m = Model::chain("big", WeightMode::Fixed, big, vec![Op::Relu(Relu); 8], None);
        let err = m.tensor_infos().unwrap_err().to_string();
        assert!(
            err.contains("hold more than 67108864 values together"),
            "{err}"
        );
    }
}
