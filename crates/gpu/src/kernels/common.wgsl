// Shared by every kernel (prepended to each source): the thread's flat index over a grid that
// may be split in two dimensions, because one dimension holds at most 65,535 workgroups.
const WG: u32 = 64u;

fn flat_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * WG + lid;
}

// The smallest i32 (a literal of it would not parse).
const I32_MIN: i32 = -2147483647 - 1;
