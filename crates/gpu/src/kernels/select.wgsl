// Select: each output value one of the operands' values, or the fill. The operands sit one
// after another in `all`, each for the whole batch ([operand k][sample][value]); per output
// position, `from_input` names the operand (-1: the fill) and `from_value` the value in it;
// `inputs[k]` is operand k's (start among the operands' values per sample, length).
struct Params { total: u32, out_len: u32, batch: u32, fill: i32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<i32>;
@group(0) @binding(2) var<storage, read> operands: array<i32>;
@group(0) @binding(3) var<storage, read> from_input: array<i32>;
@group(0) @binding(4) var<storage, read> from_value: array<u32>;
@group(0) @binding(5) var<storage, read> inputs: array<vec2<u32>>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = flat_index(wid, nwg, lid);
    if (i >= p.total) { return; }
    let b = i / p.out_len;
    let at = i % p.out_len;
    let k = from_input[at];
    if (k < 0) {
        out[i] = p.fill;
        return;
    }
    let input = inputs[u32(k)];
    out[i] = operands[p.batch * input.x + b * input.y + from_value[at]];
}
