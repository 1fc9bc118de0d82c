//! Conv: 1-D and 2-D convolution (ONNX `Conv`: pads, strides, dilations, groups and depthwise),
//! `acc[o, p] = bias[o] + Σ w[o, c, k] · x[c, p·stride + k·dilation - pad]`, exact. Like
//! [`super::Dense`], the accumulator is wide and a [`super::Requantize`] follows.
//!
//! The geometry is one struct, [`ConvGeometry`], shared with the importer's float reference: it
//! lists each output element's taps (weight index, input index), which is all that the integer
//! semantics, the bounds and the circuit need.

use serde::{Deserialize, Serialize};

use super::weighted::Weighted;
use super::{OpSemantics, Parameter};
use crate::tensor::Interval;
use crate::tensor::{TensorInfo, check_shape};

/// The shape of a convolution, batch excluded: input `[in_channels, spatial…]`, weights
/// `[out_channels, in_channels / groups, kernel…]`, output `[out_channels, out_spatial…]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvGeometry {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// The input's spatial dimensions (one or two).
    pub in_spatial: Vec<usize>,
    /// Kernel size per spatial dimension.
    pub kernel: Vec<usize>,
    /// Stride per spatial dimension.
    pub strides: Vec<usize>,
    /// Dilation per spatial dimension.
    pub dilations: Vec<usize>,
    /// Zero padding before each spatial dimension, then after each (ONNX order).
    pub pads: Vec<usize>,
    /// Channel groups (`in_channels` = `groups` is depthwise).
    pub groups: usize,
}

impl ConvGeometry {
    /// Checks the geometry; returns the output's spatial dimensions.
    pub fn out_spatial(&self) -> Result<Vec<usize>, String> {
        let rank = self.in_spatial.len();
        if !(1..=2).contains(&rank) {
            return Err(format!("{rank}-D convolution (1-D and 2-D are supported)"));
        }
        if [&self.kernel, &self.strides, &self.dilations]
            .iter()
            .any(|v| v.len() != rank)
            || self.pads.len() != 2 * rank
        {
            return Err(format!(
                "kernel {:?}, strides {:?}, dilations {:?} or pads {:?} do not fit a {rank}-D input",
                self.kernel, self.strides, self.dilations, self.pads
            ));
        }
        let small = |v: &[usize]| v.iter().all(|&x| (1..=1 << 16).contains(&x));
        if !small(&self.kernel) || !small(&self.strides) || !small(&self.dilations) {
            return Err("kernel, strides and dilations must be in 1..=65536".into());
        }
        if self.pads.iter().any(|&p| p > 1 << 16) {
            return Err(format!("pads {:?} beyond 65536", self.pads));
        }
        if self.groups == 0
            || !self.in_channels.is_multiple_of(self.groups)
            || !self.out_channels.is_multiple_of(self.groups)
        {
            return Err(format!(
                "{} groups do not divide {} input and {} output channels",
                self.groups, self.in_channels, self.out_channels
            ));
        }
        (0..rank)
            .map(|d| {
                let span = self.dilations[d] * (self.kernel[d] - 1) + 1;
                let padded = self.in_spatial[d] + self.pads[d] + self.pads[rank + d];
                if padded < span {
                    return Err(format!(
                        "the kernel spans {span} but the padded input is {padded} wide"
                    ));
                }
                Ok((padded - span) / self.strides[d] + 1)
            })
            .collect()
    }

    /// Number of weights: `out_channels · in_channels / groups · Π kernel` (saturating).
    pub fn weight_count(&self) -> usize {
        [self.out_channels, self.in_channels / self.groups.max(1)]
            .into_iter()
            .chain(self.kernel.iter().copied())
            .try_fold(1usize, |n, d| n.checked_mul(d))
            .unwrap_or(usize::MAX)
    }

    /// Checks the whole geometry — sizes, the output's and the weights' element counts and
    /// the multiply-accumulates — before anything is allocated; returns the output shape
    /// `[out_channels, out_spatial…]` and the multiply-accumulate count.
    pub fn check(&self) -> Result<(Vec<usize>, usize), String> {
        let shape: Vec<usize> = std::iter::once(self.out_channels)
            .chain(self.out_spatial()?)
            .collect();
        let outputs = check_shape("the output", &shape)?;
        let weights: Vec<usize> = [self.out_channels, self.in_channels / self.groups]
            .into_iter()
            .chain(self.kernel.iter().copied())
            .collect();
        let n = check_shape("the weights", &weights)?;
        // Every output element reads at most one output channel's weights: bound the work.
        let macs = outputs
            .checked_mul(n / self.out_channels)
            .filter(|&m| m <= crate::tensor::MAX_MACS)
            .ok_or_else(|| {
                format!(
                    "more than {} multiply-accumulates in one layer",
                    crate::tensor::MAX_MACS
                )
            })?;
        Ok((shape, macs))
    }

    /// [`ConvGeometry::check`] for an input of shape `input` (`[in_channels, in_spatial…]`).
    pub fn check_for(&self, input: &[usize]) -> Result<(Vec<usize>, usize), String> {
        let want: Vec<usize> = std::iter::once(self.in_channels)
            .chain(self.in_spatial.iter().copied())
            .collect();
        if input != want {
            return Err(format!("expects an input of shape {want:?}, not {input:?}"));
        }
        self.check()
    }

    /// True when some output's window lies entirely in the padding (checked per axis, without
    /// listing the windows: a window is empty exactly when its range along one axis misses
    /// the input). Call only on a geometry [`ConvGeometry::out_spatial`] accepted.
    pub fn has_empty_window(&self) -> bool {
        let Ok(out) = self.out_spatial() else {
            return true;
        };
        let rank = self.in_spatial.len();
        (0..rank).any(|d| {
            (0..out[d]).any(|o| {
                (0..self.kernel[d]).all(|k| {
                    let p = (o * self.strides[d] + k * self.dilations[d]) as isize
                        - self.pads[d] as isize;
                    p < 0 || p >= self.in_spatial[d] as isize
                })
            })
        })
    }

    /// For every output element (row-major `[out_channels, out_spatial…]`), its taps:
    /// `(weight index, input index)` for each kernel position inside the (unpadded) input.
    /// Call only on a geometry [`ConvGeometry::out_spatial`] accepted.
    pub fn taps(&self) -> Vec<Vec<(usize, usize)>> {
        let Ok(out) = self.out_spatial() else {
            return Vec::new();
        };
        let rank = self.in_spatial.len();
        // Pad to 2-D: a 1-D convolution is a 2-D one with a height of 1.
        let two = |v: &[usize], one: usize| -> [usize; 2] {
            if rank == 1 { [one, v[0]] } else { [v[0], v[1]] }
        };
        let (ins, ks, ss, ds, os) = (
            two(&self.in_spatial, 1),
            two(&self.kernel, 1),
            two(&self.strides, 1),
            two(&self.dilations, 1),
            two(&out, 1),
        );
        let pad = if rank == 1 {
            [0, self.pads[0]]
        } else {
            [self.pads[0], self.pads[1]]
        };
        let per_group_in = self.in_channels / self.groups;
        let per_group_out = self.out_channels / self.groups;
        let mut all = Vec::with_capacity(self.out_channels * os[0] * os[1]);
        for o in 0..self.out_channels {
            let g = o / per_group_out;
            for oy in 0..os[0] {
                for ox in 0..os[1] {
                    let mut taps = Vec::new();
                    for c in 0..per_group_in {
                        let ic = g * per_group_in + c;
                        for ky in 0..ks[0] {
                            let iy = (oy * ss[0] + ky * ds[0]) as isize - pad[0] as isize;
                            if iy < 0 || iy >= ins[0] as isize {
                                continue;
                            }
                            for kx in 0..ks[1] {
                                let ix = (ox * ss[1] + kx * ds[1]) as isize - pad[1] as isize;
                                if ix < 0 || ix >= ins[1] as isize {
                                    continue;
                                }
                                let w = ((o * per_group_in + c) * ks[0] + ky) * ks[1] + kx;
                                let x = (ic * ins[0] + iy as usize) * ins[1] + ix as usize;
                                taps.push((w, x));
                            }
                        }
                    }
                    all.push(taps);
                }
            }
        }
        all
    }
}

/// A convolution layer with integer weights.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conv {
    /// Name of the ONNX node this came from (for messages).
    pub name: String,
    /// Channels, spatial sizes, kernel, strides, dilations, pads, groups.
    pub geometry: ConvGeometry,
    /// `[out_channels][in_channels / groups][kernel…]`, signed `weight_bits`-bit integers.
    pub weights: Vec<i64>,
    /// Signed width of every weight.
    pub weight_bits: u32,
    /// The weights stand for `w · 2^-weight_frac_bits`.
    pub weight_frac_bits: i32,
    /// One bias per output channel, at the accumulator's scale.
    pub bias: Vec<i64>,
    /// Signed width of every bias value.
    pub bias_bits: u32,
}

impl Conv {
    fn weighted(&self) -> Weighted<'_> {
        Weighted {
            weights: &self.weights,
            weight_bits: self.weight_bits,
            weight_frac_bits: self.weight_frac_bits,
            bias: &self.bias,
            bias_bits: self.bias_bits,
        }
    }

    /// The output channel of output element `j`.
    fn channel(&self, j: usize, per_channel: usize) -> usize {
        j / per_channel.max(1)
    }
}

impl OpSemantics for Conv {
    fn arity(&self) -> usize {
        1
    }

    fn output_info(&self, inputs: &[&TensorInfo]) -> Result<TensorInfo, String> {
        let x = inputs[0];
        let g = &self.geometry;
        let (shape, _) = g.check_for(&x.shape)?;
        let frac_bits = self
            .weighted()
            .check(g.weight_count(), g.out_channels, x.frac_bits)?;
        Ok(TensorInfo {
            shape,
            frac_bits,
            bits: 32,
        })
    }

    fn eval(&self, inputs: &[&[i64]]) -> Vec<i64> {
        let x = inputs[0];
        let taps = self.geometry.taps();
        let per_channel = taps.len() / self.geometry.out_channels.max(1);
        taps.iter()
            .enumerate()
            .map(|(j, t)| {
                self.bias[self.channel(j, per_channel)]
                    + t.iter().map(|&(w, i)| self.weights[w] * x[i]).sum::<i64>()
            })
            .collect()
    }

    fn bounds(&self, inputs: &[Interval], limit: i128) -> Result<Interval, i128> {
        let taps = self.geometry.taps();
        let per_channel = taps.len() / self.geometry.out_channels.max(1);
        let (mut lo, mut hi) = (i128::MAX, i128::MIN);
        for (j, t) in taps.iter().enumerate() {
            let (rlo, rhi) = Weighted::output_interval(
                self.bias[self.channel(j, per_channel)],
                t.iter().map(|&(w, _)| self.weights[w]),
                inputs[0],
                limit,
            )?;
            lo = lo.min(rlo);
            hi = hi.max(rhi);
        }
        Ok(Interval {
            lo: lo as i64,
            hi: hi as i64,
        })
    }

    fn macs(&self) -> usize {
        self.geometry.check().map_or(usize::MAX, |(_, m)| m)
    }

    fn describe(&self) -> String {
        let g = &self.geometry;
        format!(
            "conv `{}` {}→{} kernel {:?}{}",
            self.name,
            g.in_channels,
            g.out_channels,
            g.kernel,
            if g.groups > 1 {
                format!(" groups {}", g.groups)
            } else {
                String::new()
            }
        )
    }

    fn parameters(&self) -> Vec<Parameter<'_>> {
        self.weighted().parameters()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geometry(in_spatial: Vec<usize>, kernel: Vec<usize>) -> ConvGeometry {
        let rank = in_spatial.len();
        ConvGeometry {
            in_channels: 1,
            out_channels: 1,
            in_spatial,
            kernel,
            strides: vec![1; rank],
            dilations: vec![1; rank],
            pads: vec![0; 2 * rank],
            groups: 1,
        }
    }

    /// A direct, loop-by-loop 2-D convolution to compare `taps` with.
    fn naive(g: &ConvGeometry, w: &[i64], b: &[i64], x: &[i64]) -> Vec<i64> {
        let out = g.out_spatial().unwrap();
        let (h, wd) = (g.in_spatial[0], g.in_spatial[1]);
        let (kh, kw) = (g.kernel[0], g.kernel[1]);
        let cpg = g.in_channels / g.groups;
        let opg = g.out_channels / g.groups;
        let mut y = Vec::new();
        for o in 0..g.out_channels {
            for oy in 0..out[0] {
                for ox in 0..out[1] {
                    let mut acc = b[o];
                    for c in 0..cpg {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let iy = (oy * g.strides[0] + ky * g.dilations[0]) as i64
                                    - g.pads[0] as i64;
                                let ix = (ox * g.strides[1] + kx * g.dilations[1]) as i64
                                    - g.pads[1] as i64;
                                if iy < 0 || ix < 0 || iy >= h as i64 || ix >= wd as i64 {
                                    continue;
                                }
                                let ic = (o / opg) * cpg + c;
                                let xv = x[(ic * h + iy as usize) * wd + ix as usize];
                                acc += w[((o * cpg + c) * kh + ky) * kw + kx] * xv;
                            }
                        }
                    }
                    y.push(acc);
                }
            }
        }
        y
    }

    #[test]
    fn taps_match_a_direct_convolution_with_pads_strides_dilations_and_groups() {
        let g = ConvGeometry {
            in_channels: 4,
            out_channels: 6,
            in_spatial: vec![5, 7],
            kernel: vec![2, 3],
            strides: vec![2, 1],
            dilations: vec![1, 2],
            pads: vec![1, 2, 0, 1],
            groups: 2,
        };
        assert_eq!(g.out_spatial().unwrap(), vec![3, 6]);
        let w: Vec<i64> = (0..g.weight_count() as i64)
            .map(|i| (i * 7 % 11) - 5)
            .collect();
        let b: Vec<i64> = (0..6).map(|i| i * 3 - 7).collect();
        let x: Vec<i64> = (0..4 * 5 * 7).map(|i| (i * 5 % 13) - 6).collect();
        let conv = Conv {
            name: "c".into(),
            geometry: g.clone(),
            weights: w.clone(),
            weight_bits: 8,
            weight_frac_bits: 0,
            bias: b.clone(),
            bias_bits: 8,
        };
        let y = conv.eval(&[&x]);
        assert_eq!(y, naive(&g, &w, &b, &x));
        let bounds = conv
            .bounds(&[Interval { lo: -6, hi: 6 }], i128::MAX)
            .unwrap();
        assert!(y.iter().all(|v| (bounds.lo..=bounds.hi).contains(v)));
    }

    #[test]
    fn one_d_is_two_d_with_height_one() {
        let mut g = geometry(vec![6], vec![3]);
        g.pads = vec![1, 1];
        let conv = Conv {
            name: "c".into(),
            geometry: g,
            weights: vec![1, 2, 3],
            weight_bits: 8,
            weight_frac_bits: 0,
            bias: vec![10],
            bias_bits: 8,
        };
        let x = [1, 2, 3, 4, 5, 6];
        assert_eq!(
            conv.eval(&[&x]),
            vec![
                10 + 2 + 6,
                10 + 1 + 4 + 9,
                10 + 2 + 6 + 12,
                10 + 3 + 8 + 15,
                10 + 4 + 10 + 18,
                10 + 5 + 12
            ]
        );
    }

    #[test]
    fn bad_geometries_are_named() {
        let mut g = geometry(vec![3, 3], vec![5, 5]);
        assert!(g.out_spatial().unwrap_err().contains("the kernel spans 5"));
        g.kernel = vec![1, 1];
        g.groups = 2;
        assert!(
            g.out_spatial()
                .unwrap_err()
                .contains("groups do not divide")
        );
        g.groups = 1;
        g.strides = vec![0, 1];
        assert!(g.out_spatial().unwrap_err().contains("1..=65536"));
        let g = geometry(vec![2, 2, 2], vec![1, 1, 1]);
        assert!(g.out_spatial().unwrap_err().contains("3-D convolution"));
    }
}
