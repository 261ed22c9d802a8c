#!/usr/bin/env bash
# Regenerates llm-zoo/tests/goldens from llama.cpp (see the README there).
# Needs `pip install llama-cpp-python numpy` and ../shared/tools/llamacpp_ref.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
model=$(cargo run -q --release -p kiln-cli -- pull smollm2-135m)
g=llm-zoo/tests/goldens
python3 ../shared/tools/llamacpp_ref.py generate "$model" $g/prompts.json 32 $g/smollm2-135m.generate.json
python3 scripts/goldens/margins.py "$model" $g/smollm2-135m.generate.json $g/smollm2-135m.margins.json
python3 ../shared/tools/llamacpp_ref.py perplexity "$model" $g/prose.txt > $g/smollm2-135m.perplexity.json
python3 scripts/goldens/logits.py "$model" $g/smollm2-135m.generate.json $g/smollm2-135m.logits.json
python3 -c "import llama_cpp; print(llama_cpp.__version__)" > $g/llama-cpp-python.version
