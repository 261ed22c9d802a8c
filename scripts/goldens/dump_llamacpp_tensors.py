#!/usr/bin/env python3
"""Every f32 intermediate tensor llama.cpp computes for a prompt, through
its graph-evaluation callback (names as llama.cpp gives them: attn_norm-0,
Qcur-0, ffn_out-0, l_out-0, ..., result_output), saved as an .npz keyed
"NNN:name:[ne0, ne1, ne2, ne3]". For finding where another implementation
parts from llama.cpp, op by op.

  dump_llamacpp_tensors.py MODEL.gguf PROMPT_IDS_JSON OUT.npz
"""
import ctypes, json, sys, numpy as np
import llama_cpp.llama_cpp as L
from llama_cpp import _ggml
lib = _ggml.libggml
lib.ggml_get_name.restype = ctypes.c_char_p; lib.ggml_get_name.argtypes = [ctypes.c_void_p]
lib.ggml_get_data.restype = ctypes.c_void_p; lib.ggml_get_data.argtypes = [ctypes.c_void_p]
lib.ggml_nelements.restype = ctypes.c_int64; lib.ggml_nelements.argtypes = [ctypes.c_void_p]
lib.ggml_is_contiguous.restype = ctypes.c_bool; lib.ggml_is_contiguous.argtypes = [ctypes.c_void_p]
out = {}
def cb(t, ask, ud):
    if ask: return True
    name = lib.ggml_get_name(t).decode()
    typ = ctypes.c_int32.from_address(t).value
    ne = [ctypes.c_int64.from_address(t + 16 + 8*i).value for i in range(4)]
    if typ == 0 and lib.ggml_is_contiguous(t):
        n = lib.ggml_nelements(t)
        p = lib.ggml_get_data(t)
        if p:
            arr = np.ctypeslib.as_array((ctypes.c_float * n).from_address(p)).copy()
            out[f"{len(out):03d}:{name}:{ne}"] = arr
    return True
CB = L.ggml_backend_sched_eval_callback(cb)
from llama_cpp import Llama
m = Llama(model_path=sys.argv[1], n_ctx=256, n_threads=2, verbose=False, seed=0)
# a second context on the same weights, with the callback
# flash attention off, as in the goldens (llama_cpp.Llama's default)
params = L.llama_context_default_params(); params.n_ctx = 256; params.n_threads = 2; params.n_threads_batch = 2; params.cb_eval = CB
params.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_DISABLED
ctx = L.llama_init_from_model(m.model, params)
ids = json.loads(sys.argv[2])
tokens = (L.llama_token * len(ids))(*ids)  # kept alive until decode returns
batch = L.llama_batch_get_one(tokens, len(ids))
assert L.llama_decode(ctx, batch) == 0
np.savez(sys.argv[3], **out)
print(f"{len(out)} tensors -> {sys.argv[3]}")
