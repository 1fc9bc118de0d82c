//! Select: one thread per output value. Per output position the index map says which operand
//! (or the fill) and which of its values, uploaded once per model; a Select of several
//! operands first copies them into one buffer, operand after operand.

use zkw_model::ops::Select;

use super::{NodeIo, Step, dispatch, flat_grid, kernel_source, storage, word};
use crate::context::Gpu;
use crate::error::GpuError;

pub(super) const SOURCE: &str = kernel_source!("select.wgsl");

pub(super) fn constants(
    gpu: &Gpu,
    name: &str,
    s: &Select,
    input_lens: &[u64],
) -> Result<Vec<wgpu::Buffer>, GpuError> {
    // Operand k's first value among the operands' values concatenated (per sample).
    let starts: Vec<u64> = input_lens
        .iter()
        .scan(0u64, |at, &len| {
            let start = *at;
            *at += len;
            Some(start)
        })
        .collect();
    let mut from_input = Vec::with_capacity(s.indices.len());
    let mut from_value = Vec::with_capacity(s.indices.len());
    for &i in &s.indices {
        if i < 0 {
            from_input.push(-1i32);
            from_value.push(0i32);
            continue;
        }
        let i = i as u64;
        // The validated model's indices are inside the operands.
        let k = starts.partition_point(|&start| start <= i) - 1;
        from_input.push(k as i32);
        from_value.push((i - starts[k]) as i32);
    }
    let mut inputs = Vec::with_capacity(2 * input_lens.len());
    for (&start, &len) in starts.iter().zip(input_lens) {
        inputs.push(word(start, "select")? as i32);
        inputs.push(word(len, "select")? as i32);
    }
    Ok(vec![
        storage(gpu, &format!("{name}: operand of each value"), &from_input)?,
        storage(gpu, &format!("{name}: value in its operand"), &from_value)?,
        storage(gpu, &format!("{name}: operands"), &inputs)?,
    ])
}

pub(super) fn steps(gpu: &Gpu, s: &Select, io: &NodeIo<'_>) -> Result<Vec<Step>, GpuError> {
    let total = io.output_len * io.batch;
    let mut steps = Vec::new();
    let gathered;
    let operands: &wgpu::Buffer = match io.inputs.as_slice() {
        [] => &io.constants[2], // nothing but the fill: any buffer will do
        [one] => one,
        many => {
            let bytes = io.input_lens.iter().sum::<u64>() * io.batch * 4;
            if bytes > gpu.max_binding() {
                return Err(GpuError::TooLarge {
                    what: format!("the operands of `{}`", s.what),
                    bytes,
                    limit: gpu.max_binding(),
                });
            }
            gathered = gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("select operands"),
                size: bytes,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let mut at = 0;
            for (buffer, &len) in many.iter().zip(&io.input_lens) {
                let size = len * io.batch * 4;
                steps.push(super::Step::Copy {
                    from: (*buffer).clone(),
                    to: gathered.clone(),
                    at,
                    size,
                });
                at += size;
            }
            &gathered
        }
    };
    let params = [
        word(total, "select")?,
        word(io.output_len, "select")?,
        word(io.batch, "select")?,
        s.fill as i32 as u32,
    ];
    let grid = flat_grid(gpu, "select", total)?;
    let buffers = [
        io.output,
        operands,
        &io.constants[0],
        &io.constants[1],
        &io.constants[2],
    ];
    steps.push(dispatch(gpu, "select", SOURCE, &params, &buffers, grid)?);
    Ok(steps)
}
