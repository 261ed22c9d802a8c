@group(0) @binding(0) 
var<storage> s0_: array<f32>;
@group(0) @binding(1) 
var<storage> s1_: array<f32>;
@group(0) @binding(2) 
var<storage, read_write> out: array<f32>;
@group(0) @binding(3) 
var<storage> dims: array<i32>;
var<workgroup> s0_tile: array<f32, 256>;
var<workgroup> s1_tile: array<f32, 256>;

@compute @workgroup_size(16, 16, 1) 
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {
    var acc: f32;
    var l7_: i32;
    var fill_s0_: i32;
    var fill_s1_: i32;
    var l8_: i32;

    let _e14 = bitcast<i32>((wid.x + (wid.y * 32768u)));
    let _e16 = bitcast<i32>(lid.x);
    let _e18 = bitcast<i32>(lid.y);
    acc = 0f;
    l7_ = 0i;
    loop {
        let _e24 = l7_;
        if (_e24 >= 4i) {
            break;
        }
        let _e29 = ((_e14 / 2i) * 16i);
        let _e31 = (_e29 + 0i);
        let _e33 = (_e24 * 16i);
        let _e35 = (_e33 + 0i);
        fill_s0_ = 0i;
        loop {
            let _e40 = fill_s0_;
            if (_e40 >= 1i) {
                break;
            }
            let _e44 = ((_e40 * 256i) + bitcast<i32>(lidx));
            if (_e44 < 256i) {
                let _e49 = (_e44 / 16i);
                s0_tile[_e44] = 0f;
                let _e55 = (_e31 + (_e49 % 16i));
                let _e59 = dims[0i];
                let _e62 = (_e35 + (_e44 % 16i));
                if ((_e55 < (1i * _e59)) && (_e62 < 64i)) {
                    let _e70 = s0_[((_e55 * 64i) + _e62)];
                    s0_tile[_e44] = _e70;
                }
            }
            continuing {
                let _e71 = fill_s0_;
                fill_s0_ = (_e71 + 1i);
            }
        }
        let _e77 = ((_e14 % 2i) * 16i);
        let _e79 = (_e77 + 0i);
        fill_s1_ = 0i;
        loop {
            let _e84 = fill_s1_;
            if (_e84 >= 1i) {
                break;
            }
            let _e88 = ((_e84 * 256i) + bitcast<i32>(lidx));
            if (_e88 < 256i) {
                let _e93 = (_e88 / 16i);
                s1_tile[_e88] = 0f;
                let _e99 = (_e35 + (_e93 % 16i));
                let _e102 = (_e79 + (_e88 % 16i));
                if ((_e99 < 64i) && (_e102 < 32i)) {
                    let _e110 = s1_[((_e99 * 32i) + _e102)];
                    s1_tile[_e88] = _e110;
                }
            }
            continuing {
                let _e111 = fill_s1_;
                fill_s1_ = (_e111 + 1i);
            }
        }
        workgroupBarrier();
        l8_ = 0i;
        loop {
            let _e117 = l8_;
            if (_e117 >= 16i) {
                break;
            }
            let _e122 = dims[0i];
            let _e123 = (1i * _e122);
            let _e131 = (_e29 + _e18);
            if ((_e14 < (((_e123 + 15i) / 16i) * 2i)) && (_e131 < _e123)) {
                let _e135 = (_e33 + _e117);
                let _e141 = s0_tile[(((_e131 - _e31) * 16i) + (_e135 - _e35))];
                let _e149 = s1_tile[(((_e135 - _e35) * 16i) + ((_e77 + _e16) - _e79))];
                let _e151 = acc;
                acc = (_e151 + (_e141 * _e149));
            }
            continuing {
                let _e153 = l8_;
                l8_ = (_e153 + 1i);
            }
        }
        workgroupBarrier();
        continuing {
            let _e156 = l7_;
            l7_ = (_e156 + 1i);
        }
    }
    let _e159 = acc;
    let _e163 = dims[0i];
    let _e164 = (1i * _e163);
    let _e176 = (((_e14 / 2i) * 16i) + _e18);
    if ((_e14 < (((_e164 + 15i) / 16i) * 2i)) && (_e176 < _e164)) {
        out[((_e176 * 32i) + (((_e14 % 2i) * 16i) + _e16))] = _e159;
    }
    return;
}
