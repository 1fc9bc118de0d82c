//! Index maps of the ONNX ops that only move data — Concat, Slice, Transpose, Pad, Gather,
//! Expand, Tile, Split, and numpy broadcasting — as pure functions of shapes. Each returns
//! the output shape and, per output value, the index into the operands' values concatenated
//! (`-1` for padding): what a [`zkw_model::ops::Select`] stores.
//!
//! Shapes here are the tensors' own, batch dimension included when the model has one (ONNX
//! axes count it); the importer strips it afterwards.

/// Row-major strides of a shape.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1];
    }
    s
}

/// Every multi-index of `shape`, in row-major order, mapped by `f`.
fn map_indices(shape: &[usize], mut f: impl FnMut(&[usize]) -> i64) -> Vec<i64> {
    let len: usize = shape.iter().product();
    let mut idx = vec![0usize; shape.len()];
    let mut out = Vec::with_capacity(len);
    for _ in 0..len {
        out.push(f(&idx));
        for d in (0..shape.len()).rev() {
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

/// A normalized axis of a rank-`rank` tensor (negative counts from the end).
pub fn axis(a: i64, rank: usize) -> Result<usize, String> {
    let r = rank as i64;
    let n = if a < 0 { a + r } else { a };
    if (0..r).contains(&n) {
        Ok(n as usize)
    } else {
        Err(format!("axis {a} of a rank-{rank} tensor"))
    }
}

/// Concatenation along `axis` of operands of the given shapes.
pub fn concat(shapes: &[Vec<usize>], axis: usize) -> Result<(Vec<usize>, Vec<i64>), String> {
    let first = shapes.first().ok_or("Concat of nothing")?;
    if axis >= first.len() {
        return Err(format!("axis {axis} of shape {first:?}"));
    }
    for s in shapes {
        let same = s.len() == first.len()
            && s.iter()
                .zip(first)
                .enumerate()
                .all(|(d, (a, b))| d == axis || a == b);
        if !same {
            return Err(format!("concatenates {first:?} with {s:?}"));
        }
    }
    let mut out = first.clone();
    out[axis] = shapes.iter().map(|s| s[axis]).sum();
    // Which operand each position along the axis comes from, and its offset there.
    let mut owner = Vec::new();
    let mut base = 0usize;
    for (k, s) in shapes.iter().enumerate() {
        for i in 0..s[axis] {
            owner.push((k, i, base));
        }
        base += s.iter().product::<usize>();
    }
    let st: Vec<Vec<usize>> = shapes.iter().map(|s| strides(s)).collect();
    let indices = map_indices(&out, |idx| {
        let (k, i, base) = owner[idx[axis]];
        let flat: usize = idx
            .iter()
            .enumerate()
            .map(|(d, &v)| if d == axis { i } else { v } * st[k][d])
            .sum();
        (base + flat) as i64
    });
    Ok((out, indices))
}

/// Transpose by `perm` (output axis `d` is input axis `perm[d]`).
pub fn transpose(shape: &[usize], perm: &[usize]) -> Result<(Vec<usize>, Vec<i64>), String> {
    let mut seen = vec![false; shape.len()];
    if perm.len() != shape.len() || perm.iter().any(|&p| p >= shape.len() || seen[p]) {
        return Err(format!("permutation {perm:?} of shape {shape:?}"));
    }
    for &p in perm {
        seen[p] = true;
    }
    let out: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    let st = strides(shape);
    let indices = map_indices(&out, |idx| {
        idx.iter()
            .enumerate()
            .map(|(d, &v)| v * st[perm[d]])
            .sum::<usize>() as i64
    });
    Ok((out, indices))
}

/// ONNX Slice: per listed axis a start, end and step (already read from the node), clamped
/// as ONNX specifies.
pub fn slice(
    shape: &[usize],
    starts: &[i64],
    ends: &[i64],
    axes: &[usize],
    steps: &[i64],
) -> Result<(Vec<usize>, Vec<i64>), String> {
    let rank = shape.len();
    let mut begin = vec![0i64; rank];
    let mut step = vec![1i64; rank];
    let mut out = shape.to_vec();
    for (i, &a) in axes.iter().enumerate() {
        if a >= rank {
            return Err(format!("axis {a} of shape {shape:?}"));
        }
        let dim = shape[a] as i64;
        let s = steps.get(i).copied().unwrap_or(1);
        if s == 0 {
            return Err("a step of 0".into());
        }
        let norm = |v: i64| if v < 0 { v + dim } else { v };
        let (b, e) = (norm(starts[i]), norm(ends[i]));
        let (b, e) = if s > 0 {
            (b.clamp(0, dim), e.clamp(0, dim))
        } else {
            (b.clamp(0, dim - 1), e.clamp(-1, dim - 1))
        };
        let n = if s > 0 {
            (e - b + s - 1).max(0) / s
        } else {
            (b - e - s - 1).max(0) / -s
        };
        begin[a] = b;
        step[a] = s;
        out[a] = n as usize;
    }
    let st = strides(shape);
    let indices = map_indices(&out, |idx| {
        idx.iter()
            .enumerate()
            .map(|(d, &v)| (begin[d] + v as i64 * step[d]) * st[d] as i64)
            .sum()
    });
    Ok((out, indices))
}

/// Constant padding: `pads` is ONNX's `[begin_0, …, begin_n, end_0, …, end_n]` (negative
/// values crop).
pub fn pad(shape: &[usize], pads: &[i64]) -> Result<(Vec<usize>, Vec<i64>), String> {
    let rank = shape.len();
    if pads.len() != 2 * rank {
        return Err(format!("pads {pads:?} for shape {shape:?}"));
    }
    let out: Vec<usize> = (0..rank)
        .map(|d| shape[d] as i64 + pads[d] + pads[rank + d])
        .map(|n| usize::try_from(n).map_err(|_| format!("pads {pads:?} for shape {shape:?}")))
        .collect::<Result<_, _>>()?;
    let st = strides(shape);
    let indices = map_indices(&out, |idx| {
        let mut flat = 0i64;
        for d in 0..rank {
            let v = idx[d] as i64 - pads[d];
            if v < 0 || v >= shape[d] as i64 {
                return -1;
            }
            flat += v * st[d] as i64;
        }
        flat
    });
    Ok((out, indices))
}

/// Gather along `axis` with constant indices of shape `ishape` (negative ones wrap).
pub fn gather(
    shape: &[usize],
    axis: usize,
    indices: &[i64],
    ishape: &[usize],
) -> Result<(Vec<usize>, Vec<i64>), String> {
    let dim = shape[axis] as i64;
    let idx: Vec<i64> = indices
        .iter()
        .map(|&i| {
            let j = if i < 0 { i + dim } else { i };
            if (0..dim).contains(&j) {
                Ok(j)
            } else {
                Err(format!("index {i} on an axis of {dim}"))
            }
        })
        .collect::<Result<_, _>>()?;
    let out: Vec<usize> = shape[..axis]
        .iter()
        .chain(ishape)
        .chain(&shape[axis + 1..])
        .copied()
        .collect();
    let st = strides(shape);
    let ist = strides(ishape);
    let k = ishape.len();
    let indices = map_indices(&out, |o| {
        let before: usize = (0..axis).map(|d| o[d] * st[d]).sum();
        let which: usize = (0..k).map(|d| o[axis + d] * ist[d]).sum();
        let after: usize = (axis + 1..shape.len()).map(|d| o[d - 1 + k] * st[d]).sum();
        (before + idx[which] as usize * st[axis] + after) as i64
    });
    Ok((out, indices))
}

/// The numpy broadcast of two shapes.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>, String> {
    let rank = a.len().max(b.len());
    let at = |s: &[usize], d: usize| {
        let off = rank - s.len();
        if d < off { 1 } else { s[d - off] }
    };
    (0..rank)
        .map(|d| match (at(a, d), at(b, d)) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            _ => Err(format!("shapes {a:?} and {b:?} do not broadcast")),
        })
        .collect()
}

/// The indices that broadcast a tensor of `shape` to `target` (numpy rules, right-aligned).
pub fn broadcast(shape: &[usize], target: &[usize]) -> Result<Vec<i64>, String> {
    if broadcast_shape(shape, target)? != target {
        return Err(format!("{shape:?} does not broadcast to {target:?}"));
    }
    let off = target.len() - shape.len();
    let st = strides(shape);
    Ok(map_indices(target, |idx| {
        (0..shape.len())
            .map(|d| {
                if shape[d] == 1 {
                    0
                } else {
                    idx[off + d] * st[d]
                }
            })
            .sum::<usize>() as i64
    }))
}

/// Tile: `repeats` copies along each axis.
pub fn tile(shape: &[usize], repeats: &[i64]) -> Result<(Vec<usize>, Vec<i64>), String> {
    if repeats.len() != shape.len() || repeats.iter().any(|&r| r < 0) {
        return Err(format!("repeats {repeats:?} for shape {shape:?}"));
    }
    let out: Vec<usize> = shape
        .iter()
        .zip(repeats)
        .map(|(&d, &r)| d * r as usize)
        .collect();
    let st = strides(shape);
    let indices = map_indices(&out, |idx| {
        (0..shape.len())
            .map(|d| (idx[d] % shape[d]) * st[d])
            .sum::<usize>() as i64
    });
    Ok((out, indices))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_maps_follow_onnx() {
        // [[0, 1, 2], [3, 4, 5]] and [[6], [7]] along axis 1.
        let (s, i) = concat(&[vec![2, 3], vec![2, 1]], 1).unwrap();
        assert_eq!((s, i), (vec![2, 4], vec![0, 1, 2, 6, 3, 4, 5, 7]));
        let (s, i) = transpose(&[2, 3], &[1, 0]).unwrap();
        assert_eq!((s, i), (vec![3, 2], vec![0, 3, 1, 4, 2, 5]));
        let (s, i) = slice(&[2, 3], &[1], &[i64::MAX], &[1], &[1]).unwrap();
        assert_eq!((s, i), (vec![2, 2], vec![1, 2, 4, 5]));
        let (s, i) = slice(&[4], &[-1], &[i64::MIN], &[0], &[-2]).unwrap();
        assert_eq!((s, i), (vec![2], vec![3, 1]));
        let (s, i) = pad(&[2], &[1, -1]).unwrap();
        assert_eq!((s, i), (vec![2], vec![-1, 0]));
        let (s, i) = gather(&[2, 3], 1, &[2, -3], &[2]).unwrap();
        assert_eq!((s, i), (vec![2, 2], vec![2, 0, 5, 3]));
        assert_eq!(broadcast(&[3, 1], &[2, 3, 2]).unwrap().len(), 12);
        assert_eq!(broadcast(&[2], &[2, 2]).unwrap(), vec![0, 1, 0, 1]);
        assert!(broadcast(&[3], &[2]).is_err());
        let (s, i) = tile(&[2], &[2]).unwrap();
        assert_eq!((s, i), (vec![4], vec![0, 1, 0, 1]));
        assert_eq!(axis(-1, 3), Ok(2));
        assert!(axis(3, 3).is_err());
    }
}
