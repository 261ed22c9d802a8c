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
                let _e56 = (_e31 + (_e49 % 16i));
                let _e59 = (_e35 + (_e44 % 16i));
                let _e65 = dims[0i];
                if ((((-1i < _e56) && (-1i < _e59)) && (_e56 < (1i * _e65))) && (_e59 < 64i)) {
                    let _e76 = s0_[((_e56 * 64i) + _e59)];
                    s0_tile[_e44] = _e76;
                }
            }
            continuing {
                let _e77 = fill_s0_;
                fill_s0_ = (_e77 + 1i);
            }
        }
        let _e83 = ((_e14 % 2i) * 16i);
        let _e85 = (_e83 + 0i);
        fill_s1_ = 0i;
        loop {
            let _e90 = fill_s1_;
            if (_e90 >= 1i) {
                break;
            }
            let _e94 = ((_e90 * 256i) + bitcast<i32>(lidx));
            if (_e94 < 256i) {
                let _e99 = (_e94 / 16i);
                s1_tile[_e94] = 0f;
                let _e106 = (_e35 + (_e99 % 16i));
                let _e109 = (_e85 + (_e94 % 16i));
                if ((((-1i < _e106) && (-1i < _e109)) && (_e106 < 64i)) && (_e109 < 32i)) {
                    let _e122 = s1_[((_e106 * 32i) + _e109)];
                    s1_tile[_e94] = _e122;
                }
            }
            continuing {
                let _e123 = fill_s1_;
                fill_s1_ = (_e123 + 1i);
            }
        }
        workgroupBarrier();
        l8_ = 0i;
        loop {
            let _e129 = l8_;
            if (_e129 >= 16i) {
                break;
            }
            let _e134 = dims[0i];
            let _e135 = (1i * _e134);
            let _e143 = (_e29 + _e18);
            if ((_e14 < (((_e135 + 15i) / 16i) * 2i)) && (_e143 < _e135)) {
                let _e147 = (_e33 + _e129);
                let _e153 = s0_tile[(((_e143 - _e31) * 16i) + (_e147 - _e35))];
                let _e161 = s1_tile[(((_e147 - _e35) * 16i) + ((_e83 + _e16) - _e85))];
                let _e163 = acc;
                acc = (_e163 + (_e153 * _e161));
            }
            continuing {
                let _e165 = l8_;
                l8_ = (_e165 + 1i);
            }
        }
        workgroupBarrier();
        continuing {
            let _e168 = l7_;
            l7_ = (_e168 + 1i);
        }
    }
    let _e171 = acc;
    let _e175 = dims[0i];
    let _e176 = (1i * _e175);
    let _e188 = (((_e14 / 2i) * 16i) + _e18);
    if ((_e14 < (((_e176 + 15i) / 16i) * 2i)) && (_e188 < _e176)) {
        out[((_e188 * 32i) + (((_e14 % 2i) * 16i) + _e16))] = _e171;
    }
    return;
}
