//! MaxPool: the largest value in each window, per channel (ONNX `MaxPool`: kernel, strides,
//! dilations, pads — padding never wins — 1-D and 2-D). The windows are a depthwise
//! convolution's taps ([`ConvGeometry`] with one channel per group), so the geometry is checked
//! and walked by the same code as `Conv`.

use serde::{Deserialize, Serialize};

use super::conv::ConvGeometry;
use super::{OpSemantics, Parameter};
use crate::tensor::Interval;
use crate::tensor::TensorInfo;

/// Max pooling over windows of a `[channels, spatial…]` tensor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaxPool {
    /// The windows: `in_channels = out_channels = groups` (each channel pooled on its own).
    pub geometry: ConvGeometry,
}

impl MaxPool {
    /// Each output element's input indices (its window, padding excluded).
    pub fn windows(&self) -> Vec<Vec<usize>> {
        self.geometry
            .taps()
            .into_iter()
            .map(|t| t.into_iter().map(|(_, i)| i).collect())
            .collect()
    }
}

impl OpSemantics for MaxPool {
    fn arity(&self) -> usize {
        1
    }

    fn output_info(&self, inputs: &[&TensorInfo]) -> Result<TensorInfo, String> {
        let x = inputs[0];
        let g = &self.geometry;
        if g.in_channels != g.out_channels || g.groups != g.in_channels {
            return Err("pools each channel on its own (channels = groups)".into());
        }
        let (shape, _) = g.check_for(&x.shape)?;
        if g.has_empty_window() {
            return Err("a window lies entirely in the padding".into());
        }
        Ok(TensorInfo {
            shape,
            frac_bits: x.frac_bits,
            bits: x.bits,
        })
    }

    fn eval(&self, inputs: &[&[i64]]) -> Vec<i64> {
        let x = inputs[0];
        self.windows()
            .iter()
            .map(|w| w.iter().map(|&i| x[i]).max().unwrap_or(0))
            .collect()
    }

    fn bounds(&self, inputs: &[Interval], _limit: i128) -> Result<Interval, i128> {
        // A maximum of values in [lo, hi] is in [lo, hi].
        Ok(inputs[0])
    }

    fn macs(&self) -> usize {
        self.geometry.check().map_or(usize::MAX, |(_, m)| m)
    }

    fn describe(&self) -> String {
        format!("max pool {:?}", self.geometry.kernel)
    }

    fn parameters(&self) -> Vec<Parameter<'_>> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(pads: Vec<usize>, strides: Vec<usize>) -> MaxPool {
        MaxPool {
            geometry: ConvGeometry {
                in_channels: 2,
                out_channels: 2,
                in_spatial: vec![2, 3],
                kernel: vec![2, 2],
                strides,
                dilations: vec![1, 1],
                pads,
                groups: 2,
            },
        }
    }

    #[test]
    fn windows_take_the_maximum_and_padding_never_wins() {
        let x = [1, -5, 3, 4, -2, 0, -1, -2, -3, -4, -5, -6];
        let p = pool(vec![0, 0, 0, 0], vec![1, 1]);
        assert_eq!(p.eval(&[&x]), vec![4, 3, -1, -2]);
        // One column of padding after: the last window holds only real values; all negative
        // values in channel 1 stay negative (padding is not a zero).
        let p = pool(vec![0, 0, 0, 1], vec![1, 1]);
        assert_eq!(p.eval(&[&x]), vec![4, 3, 3, -1, -2, -3]);
    }

    #[test]
    fn a_window_of_padding_alone_is_refused() {
        let p = pool(vec![0, 0, 0, 3], vec![1, 2]);
        let info = TensorInfo {
            shape: vec![2, 2, 3],
            frac_bits: 0,
            bits: 8,
        };
        let err = p.output_info(&[&info]).unwrap_err();
        assert!(err.contains("entirely in the padding"), "{err}");
    }
}
