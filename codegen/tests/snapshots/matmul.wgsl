@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage> s1_: array<f32>;
@group(0) @binding(2) 
var<storage, read_write> out: array<f32>;
@group(0) @binding(3) 
var<storage> dims: array<i32>;

@compute @workgroup_size(64, 1, 1) 
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    var acc: f32;
    var r: i32;

    let _e10 = i32((gid.x + (gid.y * 2097152u)));
    let _e15 = dims[0i];
    if (_e10 >= ((1i * (1i * _e15)) * 32i)) {
        return;
    }
    let _e27 = dims[0i];
    acc = 0f;
    r = 0i;
    loop {
        let _e36 = r;
        if (_e36 >= (1i * 64i)) {
            break;
        }
        let _e42 = s0_[(((_e10 / 32i) * 64i) + _e36)];
        let _e47 = s1_[((_e36 * 32i) + (_e10 % 32i))];
        let _e49 = acc;
        acc = (_e49 + (_e42 * _e47));
        continuing {
            let _e51 = r;
            r = (_e51 + 1i);
        }
    }
    let _e54 = acc;
    out[_e10] = _e54;
    return;
}
