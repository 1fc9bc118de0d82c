//! Squeeze and Unsqueeze (axes as attribute or constant input): a reshape.

use crate::ctx::Ctx;
use crate::error::OnnxError;
use crate::movement;

/// `Squeeze`.
pub(crate) fn squeeze(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    read(cx, true)
}

/// `Unsqueeze`.
pub(crate) fn unsqueeze(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    read(cx, false)
}

fn read(cx: &mut Ctx<'_>, squeeze: bool) -> Result<usize, OnnxError> {
    let x = cx.activation(0)?;
    let f = cx.full(x);
    let axes = cx.ints(1, "axes")?.unwrap_or_default();
    let out: Vec<usize> = if squeeze {
        let axes: Vec<usize> = if axes.is_empty() {
            (0..f.len()).filter(|&d| f[d] == 1).collect()
        } else {
            axes.iter()
                .map(|&v| movement::axis(v, f.len()))
                .collect::<Result<_, _>>()
                .map_err(|why| cx.bad(why))?
        };
        (0..f.len())
            .filter(|d| !axes.contains(d))
            .map(|d| f[d])
            .collect()
    } else {
        let rank = f.len() + axes.len();
        let axes: Vec<usize> = axes
            .iter()
            .map(|&v| movement::axis(v, rank))
            .collect::<Result<_, _>>()
            .map_err(|why| cx.bad(why))?;
        let mut rest = f.iter();
        (0..rank)
            .map(|d| {
                if axes.contains(&d) {
                    1
                } else {
                    *rest.next().unwrap_or(&1)
                }
            })
            .collect()
    };
    Ok(cx.reshaped(x, out))
}
