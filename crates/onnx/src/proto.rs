//! Reading ONNX protobuf pieces: constants (initializers and Constant nodes, as `f64`),
//! attributes with their defaults, node names and input dimensions. tract-onnx decodes the
//! protobuf and the tensors; this file only reads them.

use tract_onnx::data_resolver::FopenDataResolver;
use tract_onnx::pb::{
    AttributeProto, NodeProto, TensorProto, ValueInfoProto, tensor_shape_proto::dimension,
    type_proto,
};
use tract_onnx::prelude::Tensor;

use crate::error::OnnxError;

/// A constant tensor: shape and values as `f64`.
#[derive(Debug, Clone)]
pub(super) struct Const {
    pub(super) shape: Vec<usize>,
    pub(super) data: Vec<f64>,
}

pub(super) fn onnx_err(e: impl std::fmt::Display) -> OnnxError {
    OnnxError::Onnx(e.to_string())
}

pub(super) fn to_const(t: &Tensor) -> Result<Const, OnnxError> {
    let f = t
        .cast_to::<f64>()
        .map_err(|e| onnx_err(format!("tensor of type {:?}: {e}", t.datum_type())))?;
    Ok(Const {
        shape: t.shape().to_vec(),
        data: f
            .to_plain_array_view::<f64>()
            .map_err(onnx_err)?
            .iter()
            .copied()
            .collect(),
    })
}

pub(super) fn load(t: &TensorProto, dir: Option<&str>) -> Result<Const, OnnxError> {
    let tensor = tract_onnx::tensor::load_tensor(&FopenDataResolver, t, dir)
        .map_err(|e| onnx_err(format!("initializer `{}`: {e}", t.name)))?;
    to_const(&tensor)
}

pub(super) fn attr<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

pub(super) fn attr_f(node: &NodeProto, name: &str, default: f32) -> f32 {
    attr(node, name).map(|a| a.f).unwrap_or(default)
}

pub(super) fn attr_i(node: &NodeProto, name: &str, default: i64) -> i64 {
    attr(node, name).map(|a| a.i).unwrap_or(default)
}

pub(super) fn node_name(node: &NodeProto) -> String {
    if !node.name.is_empty() {
        node.name.clone()
    } else {
        node.output.first().cloned().unwrap_or_default()
    }
}

/// Dimensions of a graph input; symbolic dimensions are `None`.
pub(super) fn input_dims(vi: &ValueInfoProto) -> Result<Vec<Option<usize>>, OnnxError> {
    let tensor = match vi.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(type_proto::Value::TensorType(t)) => t,
        _ => {
            return Err(onnx_err(format!(
                "graph input `{}` is not a tensor",
                vi.name
            )));
        }
    };
    let shape = tensor
        .shape
        .as_ref()
        .ok_or_else(|| onnx_err(format!("graph input `{}` has no shape", vi.name)))?;
    Ok(shape
        .dim
        .iter()
        .map(|d| match d.value {
            Some(dimension::Value::DimValue(v)) if v > 0 => Some(v as usize),
            _ => None,
        })
        .collect())
}

/// The value of a constant whose elements are all one value.
pub(super) fn scalar(c: &Const) -> Option<f64> {
    let (&first, rest) = c.data.split_first()?;
    rest.iter().all(|&v| v == first).then_some(first)
}

pub(super) fn attr_ints(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(node, name).map(|a| a.ints.clone())
}
