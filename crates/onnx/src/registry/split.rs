//! Split into constant sizes (or equal parts): one selection per output, each registered under
//! its ONNX name.

use crate::ctx::Ctx;
use crate::error::OnnxError;
use crate::movement;
use crate::proto::attr_i;

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let node = cx.node;
    let x = cx.activation(0)?;
    let f = cx.full(x);
    let a = movement::axis(attr_i(node, "axis", 0), f.len()).map_err(|why| cx.bad(why))?;
    let n = node.output.len();
    let sizes: Vec<i64> = match cx.ints(1, "split")? {
        Some(s) => s,
        None => {
            let per = f[a].div_ceil(n.max(1)) as i64;
            (0..n as i64)
                .map(|k| per.min(f[a] as i64 - k * per).max(0))
                .collect()
        }
    };
    if sizes.len() != n || sizes.iter().sum::<i64>() != f[a] as i64 {
        return Err(cx.bad(format!("split sizes {sizes:?} of an axis of {}", f[a])));
    }
    let mut begin = 0i64;
    let mut first = None;
    for (k, &size) in sizes.iter().enumerate() {
        let (out, idx) = movement::slice(&f, &[begin], &[begin + size], &[a], &[1])
            .map_err(|why| cx.bad(why))?;
        begin += size;
        let id = cx.select(format!("split part {k}"), vec![x], out, idx, 0.0)?;
        if k == 0 {
            first = Some(id);
        } else if !node.output[k].is_empty() {
            cx.ids.insert(node.output[k].clone(), id);
        }
    }
    first.ok_or_else(|| cx.bad("no output".into()))
}
