// MaxPool: the largest value of each window of each channel (one thread per output value);
// padding never wins, and the importer refused any window that lies wholly in the padding.
struct Params {
    total: u32, channels: u32, in_h: u32, in_w: u32,
    out_h: u32, out_w: u32, k_h: u32, k_w: u32,
    s_h: u32, s_w: u32, d_h: u32, d_w: u32,
    pad_t: u32, pad_l: u32, _p0: u32, _p1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<i32>;
@group(0) @binding(2) var<storage, read> x: array<i32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = flat_index(wid, nwg, lid);
    if (i >= p.total) { return; }
    let plane = p.out_h * p.out_w;
    let per_sample = p.channels * plane;
    let b = i / per_sample;
    let c = (i % per_sample) / plane;
    let oy = (i % plane) / p.out_w;
    let ox = i % p.out_w;
    let base = (b * p.channels + c) * p.in_h * p.in_w;
    var best = I32_MIN;
    for (var ky = 0u; ky < p.k_h; ky++) {
        let iy = i32(oy * p.s_h + ky * p.d_h) - i32(p.pad_t);
        if (iy < 0 || iy >= i32(p.in_h)) { continue; }
        for (var kx = 0u; kx < p.k_w; kx++) {
            let ix = i32(ox * p.s_w + kx * p.d_w) - i32(p.pad_l);
            if (ix < 0 || ix >= i32(p.in_w)) { continue; }
            best = max(best, x[base + u32(iy) * p.in_w + u32(ix)]);
        }
    }
    out[i] = best;
}
