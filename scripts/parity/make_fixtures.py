"""Golden parity fixtures: tiny random-weight BERT / DistilBERT sequence classifiers in the
exact Hugging Face folder layout, plus reference logits computed in float64 by Hugging Face
`transformers` itself.

Needs a Python with torch, transformers and safetensors. The committed goldens were made
with torch 2.13.0+cpu and transformers 5.18.0 (4.57.6 works the same way, but its
huggingface-hub<1.0 is not in this machine's wheel cache), installed offline with
`python3.11 -m venv V && V/bin/pip install --index-url file:///opt/pypi/simple
--extra-index-url file:///opt/pypi-more/simple "torch==2.13.0+cpu" "transformers==5.18.0" safetensors`.
From the project root, with V the venv made above:

    V/bin/python scripts/parity/make_fixtures.py --goldens   # the usual rerun
    V/bin/python scripts/parity/make_fixtures.py             # rebuild everything
    V/bin/python scripts/parity/make_fixtures.py --families  # only the RoBERTa / XLM-R / CamemBERT / ELECTRA ones
    ... [--out DIR]                                                    # elsewhere than test/fixtures/parity

`--goldens` keeps the committed checkpoints and inputs byte for byte and recomputes only
the logits of golden.json from them. A full rebuild also writes the checkpoints anew from
fixed seeds; whether its bytes match the committed ones depends on torch's random
generator staying the same across versions (torch 1.13 and 2.13 agree), so check
`git status` after it.

Output: test/fixtures/parity/<name>/ for each variant in VARIANTS below, holding
    config.json                 as transformers writes it
    model.safetensors           (or model.safetensors.index.json + 2 shards)
    vocab.txt                   a compact WordPiece vocabulary (the same for all)
    tokenizer_config.json       (+ special_tokens_map.json)
    golden.json                 [{input_ids, token_type_ids, logits}, ...]
Run time: a minute. The whole tree stays under 2.1 MB (about 2.0 MB with the issue 16
families: RoBERTa, XLM-RoBERTa, CamemBERT, ELECTRA, see FAMILY_VARIANTS; 345 KB of it is
xlm-roberta-f32's real nmt_nfkc charsmap). The families' own tokenizers are trained on GLUE
train sentences, so a full rebuild needs ../shared/data.

The goldens are the logits of BertForSequenceClassification /
DistilBertForSequenceClassification.from_pretrained(<fixture folder>) in float64
(`model.double()`, eager attention) over the STORED weights (after their f16/bf16
rounding), so they are exact references for any f32 runtime, and a misreading of Hugging
Face's model shared by this script and the runtime cannot hide in them. Two plain-torch
forward passes written here from the stored tensors (one head at a time, and all heads
at once with einsum) must agree with transformers to 1e-10 on every case before anything
is written: a cross-check of the loading (every tensor used, none left to random init).
Stored f16/bf16 values are exactly representable in f32, so one bound (1e-4) holds for
every fixture; the script also prints how far logits move when the converter rounds the
weight matrices to f16 itself (the parity test's looser f16 bound).
"""

import json
import math
import os
import shutil
import struct
import sys
import tempfile
import time

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from transformers import (BertForSequenceClassification, CamembertConfig, CamembertForSequenceClassification,
                          DistilBertForSequenceClassification, ElectraConfig, ElectraForSequenceClassification,
                          RobertaConfig, RobertaForSequenceClassification, RobertaTokenizer, XLMRobertaConfig,
                          XLMRobertaForSequenceClassification, XLMRobertaTokenizer)
from transformers.utils import logging as hf_logging
from tokenizers import ByteLevelBPETokenizer, SentencePieceUnigramTokenizer

torch.set_num_threads(1)  # the machine is shared
hf_logging.disable_progress_bar()

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "test", "fixtures", "parity")

# ---------------------------------------------------------------------------------------
# Vocabulary: bert-style special tokens first, then characters, ## pieces and words.

SPECIALS = ["[PAD]", "[unused0]", "[unused1]", "[unused2]", "[unused3]", "[unused4]",
            "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
DIGITS = list("0123456789")
LETTERS = list("abcdefghijklmnopqrstuvwxyz")
WORDS = """the of and to in is it you that he was for on are with as his they be at one
have this from or had by not word but what some we can out other were all there when up
use your how said an each she which do their time if will way about many then them write
would like so these her long make thing see him two has look more day could go come did
number sound no most people my over know water than call first who may down side been now
find good great bad best worst movie film story plot actor love hate boring fun funny
free money click offer win winner prize cash now urgent account bank password email mail
hello world today tomorrow meeting please thanks thank report project team work home
very really not never always just only also still even because while after before under
new old big small happy sad nice terrible awesome poor rich fast slow""".split()
SUFFIXES = ["##ing", "##ed", "##s", "##es", "##ly", "##er", "##est", "##tion", "##ment",
            "##ness", "##able", "##ful", "##less", "##y", "##al", "##ity"]


def build_vocab():
    vocab, seen = [], set()
    for t in SPECIALS + PUNCT + DIGITS + LETTERS + ["##" + c for c in LETTERS + DIGITS] + WORDS + SUFFIXES:
        if t not in seen:
            seen.add(t)
            vocab.append(t)
    vocab += ["\u00e9", "##\u00e9", "\u4e2d", "\u6587"]  # an accented letter and two CJK ideographs
    return vocab


VOCAB = build_vocab()
PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID = (VOCAB.index(t) for t in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])

# ---------------------------------------------------------------------------------------
# Variants. Sizes are kept tiny: the whole fixture tree must stay under ~2.1 MB.

VARIANTS = [
    # name, arch, dtype, hidden, layers, heads, intermediate, act, labels, problem_type, extras
    dict(name="bert-f32", arch="bert", dtype="F32", hidden=48, layers=2, heads=4, inter=100,
         act="gelu", labels=["negative", "neutral", "positive"], problem=None, position_ids=True),
    dict(name="bert-f16", arch="bert", dtype="F16", hidden=32, layers=2, heads=4, inter=128,
         act="gelu", labels=["LABEL_0", "LABEL_1", "LABEL_2"], problem="single_label_classification"),
    dict(name="bert-bf16", arch="bert", dtype="BF16", hidden=16, layers=1, heads=4, inter=64,
         act="gelu", labels=["ham", "spam"], problem="single_label_classification"),
    dict(name="bert-relu-regression", arch="bert", dtype="F32", hidden=32, layers=2, heads=4, inter=64,
         act="relu", labels=["LABEL_0"], problem="regression"),
    dict(name="bert-gelu-tanh", arch="bert", dtype="F32", hidden=16, layers=2, heads=2, inter=40,
         act="gelu_new", labels=["a", "b"], problem=None),
    dict(name="bert-sharded", arch="bert", dtype="F32", hidden=32, layers=2, heads=4, inter=128,
         act="gelu", labels=["NEGATIVE", "POSITIVE"], problem=None, shards=2),
    dict(name="distilbert-f32", arch="distilbert", dtype="F32", hidden=32, layers=2, heads=4, inter=128,
         act="gelu", labels=["NEGATIVE", "POSITIVE"], problem="single_label_classification"),
    dict(name="distilbert-f16", arch="distilbert", dtype="F16", hidden=32, layers=2, heads=4, inter=96,
         act="gelu", labels=["toxic", "obscene", "threat", "insult"], problem="multi_label_classification"),
]
MAX_POSITION = 64
TYPE_VOCAB = 2
LN_EPS = 1e-12
CASE_LENGTHS = [1, 2, 3, 4, 5, 7, 8, 13, 16, 21, 32, 34, 55, 63, 64]
RANDOM_CASES = 5

TORCH_DTYPE = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
CONFIG_DTYPE = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}

# ---------------------------------------------------------------------------------------
# Random weights, named exactly as transformers names them.


def init_params(v, gen):
    """Returns {hf_name: float32 tensor}. Large std so logits move with the input."""
    H, I, C, V = v["hidden"], v["inter"], len(v["labels"]), len(VOCAB)

    def mat(rows, cols, std=0.2):
        return torch.randn(rows, cols, generator=gen) * std

    def bias(n):
        return (torch.rand(n, generator=gen) * 2 - 1) * 0.1

    def ln_w(n):
        return 1 + (torch.rand(n, generator=gen) * 2 - 1) * 0.1

    p = {}
    if v["arch"] == "bert":
        e, enc = "bert.embeddings.", "bert.encoder.layer."
        p[e + "word_embeddings.weight"] = mat(V, H, 0.5)
        p[e + "position_embeddings.weight"] = mat(MAX_POSITION, H, 0.3)
        p[e + "token_type_embeddings.weight"] = mat(TYPE_VOCAB, H, 0.3)
        p[e + "LayerNorm.weight"], p[e + "LayerNorm.bias"] = ln_w(H), bias(H)
        for i in range(v["layers"]):
            l = f"{enc}{i}."
            for n in ["query", "key", "value"]:
                p[l + f"attention.self.{n}.weight"], p[l + f"attention.self.{n}.bias"] = mat(H, H), bias(H)
            p[l + "attention.output.dense.weight"], p[l + "attention.output.dense.bias"] = mat(H, H), bias(H)
            p[l + "attention.output.LayerNorm.weight"], p[l + "attention.output.LayerNorm.bias"] = ln_w(H), bias(H)
            p[l + "intermediate.dense.weight"], p[l + "intermediate.dense.bias"] = mat(I, H), bias(I)
            p[l + "output.dense.weight"], p[l + "output.dense.bias"] = mat(H, I), bias(H)
            p[l + "output.LayerNorm.weight"], p[l + "output.LayerNorm.bias"] = ln_w(H), bias(H)
        p["bert.pooler.dense.weight"], p["bert.pooler.dense.bias"] = mat(H, H), bias(H)
    else:
        e, enc = "distilbert.embeddings.", "distilbert.transformer.layer."
        p[e + "word_embeddings.weight"] = mat(V, H, 0.5)
        p[e + "position_embeddings.weight"] = mat(MAX_POSITION, H, 0.3)
        p[e + "LayerNorm.weight"], p[e + "LayerNorm.bias"] = ln_w(H), bias(H)
        for i in range(v["layers"]):
            l = f"{enc}{i}."
            for n in ["q_lin", "k_lin", "v_lin", "out_lin"]:
                p[l + f"attention.{n}.weight"], p[l + f"attention.{n}.bias"] = mat(H, H), bias(H)
            p[l + "sa_layer_norm.weight"], p[l + "sa_layer_norm.bias"] = ln_w(H), bias(H)
            p[l + "ffn.lin1.weight"], p[l + "ffn.lin1.bias"] = mat(I, H), bias(I)
            p[l + "ffn.lin2.weight"], p[l + "ffn.lin2.bias"] = mat(H, I), bias(H)
            p[l + "output_layer_norm.weight"], p[l + "output_layer_norm.bias"] = ln_w(H), bias(H)
        p["pre_classifier.weight"], p["pre_classifier.bias"] = mat(H, H), bias(H)
    p["classifier.weight"], p["classifier.bias"] = mat(C, H, 0.5), bias(C)
    return p


# ---------------------------------------------------------------------------------------
# safetensors, written by hand: u64 LE header length, JSON header (space-padded to 8),
# then the raw little-endian tensor bytes.

ST_DTYPE = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: reinterpret the bits
        t = t.view(torch.int16)
    assert sys.byteorder == "little", "safetensors is little-endian; this writer assumes the host is too"
    return t.numpy().tobytes()


def safetensors_bytes(tensors):
    header, chunks, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        data = tensor_bytes(t)
        header[name] = {"dtype": ST_DTYPE[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(chunks)


def write_file(path, data):
    """Atomic write: temp file + rename."""
    if isinstance(data, str):
        data = data.encode()
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def write_json(path, obj, indent=2):
    write_file(path, json.dumps(obj, indent=indent, ensure_ascii=False, sort_keys=False) + "\n")


# ---------------------------------------------------------------------------------------
# config.json / tokenizer files, as transformers 4.3x writes them.


def config_json(v):
    H, C = v["hidden"], len(v["labels"])
    id2label = {str(i): l for i, l in enumerate(v["labels"])}
    label2id = {l: i for i, l in enumerate(v["labels"])}
    if v["arch"] == "bert":
        cfg = {
            "_name_or_path": f"axformer-fixtures/{v['name']}",
            "architectures": ["BertForSequenceClassification"],
            "attention_probs_dropout_prob": 0.1,
            "classifier_dropout": None,
            "gradient_checkpointing": False,
            "hidden_act": v["act"],
            "hidden_dropout_prob": 0.1,
            "hidden_size": H,
            "id2label": id2label,
            "initializer_range": 0.02,
            "intermediate_size": v["inter"],
            "label2id": label2id,
            "layer_norm_eps": LN_EPS,
            "max_position_embeddings": MAX_POSITION,
            "model_type": "bert",
            "num_attention_heads": v["heads"],
            "num_hidden_layers": v["layers"],
            "pad_token_id": PAD_ID,
            "position_embedding_type": "absolute",
            "problem_type": v["problem"],
            "torch_dtype": CONFIG_DTYPE[v["dtype"]],
            "transformers_version": "4.41.2",
            "type_vocab_size": TYPE_VOCAB,
            "use_cache": True,
            "vocab_size": len(VOCAB),
        }
    else:
        cfg = {
            "_name_or_path": f"axformer-fixtures/{v['name']}",
            "activation": v["act"],
            "architectures": ["DistilBertForSequenceClassification"],
            "attention_dropout": 0.1,
            "dim": H,
            "dropout": 0.1,
            "hidden_dim": v["inter"],
            "id2label": id2label,
            "initializer_range": 0.02,
            "label2id": label2id,
            "max_position_embeddings": MAX_POSITION,
            "model_type": "distilbert",
            "n_heads": v["heads"],
            "n_layers": v["layers"],
            "pad_token_id": PAD_ID,
            "problem_type": v["problem"],
            "qa_dropout": 0.1,
            "seq_classif_dropout": 0.2,
            "sinusoidal_pos_embds": False,
            "tie_weights_": True,
            "torch_dtype": CONFIG_DTYPE[v["dtype"]],
            "transformers_version": "4.41.2",
            "vocab_size": len(VOCAB),
        }
    if v["problem"] is None:  # older checkpoints carry no problem_type at all
        del cfg["problem_type"]
    return cfg


def tokenizer_config_json(v):
    added = {str(i): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                      "single_word": False, "special": True}
             for i, t in ((PAD_ID, "[PAD]"), (UNK_ID, "[UNK]"), (CLS_ID, "[CLS]"), (SEP_ID, "[SEP]"), (MASK_ID, "[MASK]"))}
    # RoBERTa-family fixtures carry this WordPiece vocabulary as a test device until the
    # byte-level BPE / Unigram tokenizers land: their graph does not depend on the tokenizer.
    cls = {"distilbert": "DistilBertTokenizer", "electra": "ElectraTokenizer"}.get(v["arch"], "BertTokenizer")
    return {
        "added_tokens_decoder": added,
        "clean_up_tokenization_spaces": True,
        "cls_token": "[CLS]",
        "do_lower_case": True,
        "mask_token": "[MASK]",
        "model_max_length": v.get("max_len", MAX_POSITION),
        "pad_token": "[PAD]",
        "sep_token": "[SEP]",
        "strip_accents": None,
        "tokenize_chinese_chars": True,
        "tokenizer_class": cls,
        "unk_token": "[UNK]",
    }


SPECIAL_TOKENS_MAP = {"cls_token": "[CLS]", "mask_token": "[MASK]", "pad_token": "[PAD]",
                      "sep_token": "[SEP]", "unk_token": "[UNK]"}

# ---------------------------------------------------------------------------------------
# The reference forward pass, float64, read top to bottom. `w` maps hf names to float64.


def act_fn(name):
    if name == "gelu":
        return lambda x: F.gelu(x, approximate="none")
    if name == "relu":
        return F.relu
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))
    raise ValueError(name)


def layer_norm(x, g, b, eps):
    # x: [n, H]
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * g + b


def linear(x, w, b):
    # x: [n, in], w: [out, in], b: [out]
    return x @ w.t() + b


def names(arch, i):
    """Checkpoint names of layer i, keyed by role."""
    if arch == "bert":
        l = f"bert.encoder.layer.{i}."
        return dict(q=l + "attention.self.query", k=l + "attention.self.key", v=l + "attention.self.value",
                    o=l + "attention.output.dense", ln1=l + "attention.output.LayerNorm",
                    f1=l + "intermediate.dense", f2=l + "output.dense", ln2=l + "output.LayerNorm")
    l = f"distilbert.transformer.layer.{i}."
    return dict(q=l + "attention.q_lin", k=l + "attention.k_lin", v=l + "attention.v_lin",
                o=l + "attention.out_lin", ln1=l + "sa_layer_norm",
                f1=l + "ffn.lin1", f2=l + "ffn.lin2", ln2=l + "output_layer_norm")


def forward(v, w, ids, tts):
    """One sequence, no padding. Returns logits [C] (float64)."""
    arch, H, nh = v["arch"], v["hidden"], v["heads"]
    D = H // nh
    act = act_fn(v["act"])
    n = len(ids)
    ids_t = torch.tensor(ids)
    e = "bert.embeddings." if arch == "bert" else "distilbert.embeddings."

    x = w[e + "word_embeddings.weight"][ids_t] + w[e + "position_embeddings.weight"][:n]  # [n, H]
    if arch == "bert":
        x = x + w[e + "token_type_embeddings.weight"][torch.tensor(tts)]
    x = layer_norm(x, w[e + "LayerNorm.weight"], w[e + "LayerNorm.bias"], LN_EPS)

    for i in range(v["layers"]):
        m = names(arch, i)
        q = linear(x, w[m["q"] + ".weight"], w[m["q"] + ".bias"])  # [n, H]
        k = linear(x, w[m["k"] + ".weight"], w[m["k"] + ".bias"])  # [n, H]
        val = linear(x, w[m["v"] + ".weight"], w[m["v"] + ".bias"])  # [n, H]
        ctx = torch.zeros(n, H, dtype=torch.float64)  # [n, H]
        for h in range(nh):
            s = slice(h * D, (h + 1) * D)
            scores = q[:, s] @ k[:, s].t() / math.sqrt(D)  # [n, n]
            probs = torch.softmax(scores, dim=-1)  # [n, n]
            ctx[:, s] = probs @ val[:, s]
        a = linear(ctx, w[m["o"] + ".weight"], w[m["o"] + ".bias"])  # [n, H]
        x = layer_norm(a + x, w[m["ln1"] + ".weight"], w[m["ln1"] + ".bias"], LN_EPS)
        hmid = act(linear(x, w[m["f1"] + ".weight"], w[m["f1"] + ".bias"]))  # [n, I]
        f = linear(hmid, w[m["f2"] + ".weight"], w[m["f2"] + ".bias"])  # [n, H]
        x = layer_norm(f + x, w[m["ln2"] + ".weight"], w[m["ln2"] + ".bias"], LN_EPS)

    cls = x[0:1]  # [1, H]
    if arch == "bert":
        pooled = torch.tanh(linear(cls, w["bert.pooler.dense.weight"], w["bert.pooler.dense.bias"]))
    else:
        pooled = F.relu(linear(cls, w["pre_classifier.weight"], w["pre_classifier.bias"]))
    return linear(pooled, w["classifier.weight"], w["classifier.bias"])[0]  # [C]


def forward_einsum(v, w, ids, tts):
    """The same model written differently (heads batched with einsum, torch's layer_norm
    and softmax, DistilBERT's scale-q-first attention), to catch a slip in forward()."""
    arch, H, nh = v["arch"], v["hidden"], v["heads"]
    D = H // nh
    n = len(ids)
    e = "bert.embeddings." if arch == "bert" else "distilbert.embeddings."
    pos = torch.arange(n)
    x = F.embedding(torch.tensor(ids), w[e + "word_embeddings.weight"]) + F.embedding(pos, w[e + "position_embeddings.weight"])
    if arch == "bert":
        x = x + F.embedding(torch.tensor(tts), w[e + "token_type_embeddings.weight"])
    x = F.layer_norm(x, (H,), w[e + "LayerNorm.weight"], w[e + "LayerNorm.bias"], LN_EPS)
    if v["act"] == "gelu":
        act = lambda t: t * 0.5 * (1.0 + torch.erf(t / math.sqrt(2.0)))
    elif v["act"] == "relu":
        act = lambda t: torch.clamp(t, min=0)
    else:
        act = lambda t: F.gelu(t, approximate="tanh")
    for i in range(v["layers"]):
        m = names(arch, i)
        heads = lambda key: F.linear(x, w[m[key] + ".weight"], w[m[key] + ".bias"]).view(n, nh, D)
        q, k, val = heads("q") / math.sqrt(D), heads("k"), heads("v")
        scores = torch.einsum("qhd,khd->hqk", q, k)
        probs = torch.exp(scores - scores.amax(-1, keepdim=True))
        probs = probs / probs.sum(-1, keepdim=True)
        ctx = torch.einsum("hqk,khd->qhd", probs, val).reshape(n, H)
        x = F.layer_norm(F.linear(ctx, w[m["o"] + ".weight"], w[m["o"] + ".bias"]) + x, (H,),
                         w[m["ln1"] + ".weight"], w[m["ln1"] + ".bias"], LN_EPS)
        ff = F.linear(act(F.linear(x, w[m["f1"] + ".weight"], w[m["f1"] + ".bias"])), w[m["f2"] + ".weight"], w[m["f2"] + ".bias"])
        x = F.layer_norm(ff + x, (H,), w[m["ln2"] + ".weight"], w[m["ln2"] + ".bias"], LN_EPS)
    if arch == "bert":
        head = torch.tanh(F.linear(x[0], w["bert.pooler.dense.weight"], w["bert.pooler.dense.bias"]))
    else:
        head = torch.clamp(F.linear(x[0], w["pre_classifier.weight"], w["pre_classifier.bias"]), min=0)
    return F.linear(head, w["classifier.weight"], w["classifier.bias"])


# ---------------------------------------------------------------------------------------
# Cases: [CLS] a [SEP] or [CLS] a [SEP] b [SEP], type 1 on b and its [SEP] (as the HF
# tokenizer makes them). DistilBERT has no token types: its type ids are all 0.


def make_case(n, gen, pair):
    if n == 1:
        return [CLS_ID], [0]
    if n == 2:
        return [CLS_ID, SEP_ID], [0, 0]
    rand = lambda k: torch.randint(0, len(VOCAB), (k,), generator=gen).tolist()
    body = n - 2
    if pair and n >= 5:
        la = int(torch.randint(1, body - 1, (1,), generator=gen))  # a: [1, body-2], b: the rest minus a [SEP]
        lb = body - 1 - la
        ids = [CLS_ID] + rand(la) + [SEP_ID] + rand(lb) + [SEP_ID]
        tts = [0] * (la + 2) + [1] * (lb + 1)
    else:
        ids = [CLS_ID] + rand(body) + [SEP_ID]
        tts = [0] * n
    return ids, tts


def make_cases(gen):
    top = v.get("max_len", MAX_POSITION)  # the tokenizer's model_max_length caps what the runtime takes
    lengths = [n for n in CASE_LENGTHS if n <= top] + torch.randint(1, top + 1, (RANDOM_CASES,), generator=gen).tolist()
    return [make_case(n, gen, pair=(j % 2 == 1)) for j, n in enumerate(lengths)]


# ---------------------------------------------------------------------------------------


def f16_storage(w, arch):
    """What a converter asked for f16 storage keeps: matrices and the word embedding in
    f16, position/type embeddings and every vector in f32 (docs/format.md)."""
    out = {}
    for k, t in w.items():
        keep = t.dim() == 1 or "position_embeddings" in k or "token_type_embeddings" in k or k.endswith("position_ids")
        out[k] = t if keep else t.to(torch.float16).to(torch.float64)
    return out


def build(v, seed):
    gen = torch.Generator().manual_seed(seed)
    params = init_params(v, gen)
    stored = {k: t.to(TORCH_DTYPE[v["dtype"]]) for k, t in params.items()}
    w = {k: t.to(torch.float64) for k, t in stored.items()}  # goldens use the stored values
    if v.get("position_ids"):
        stored["bert.embeddings.position_ids"] = torch.arange(MAX_POSITION, dtype=torch.int64).unsqueeze(0)

    d = os.path.join(OUT, v["name"])
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    write_json(os.path.join(d, "config.json"), config_json(v))
    write_file(os.path.join(d, "vocab.txt"), "\n".join(VOCAB) + "\n")
    write_json(os.path.join(d, "tokenizer_config.json"), tokenizer_config_json(v))
    write_json(os.path.join(d, "special_tokens_map.json"), SPECIAL_TOKENS_MAP)

    shards = v.get("shards", 1)
    if shards == 1:
        write_file(os.path.join(d, "model.safetensors"), safetensors_bytes(stored))
    else:
        keys = sorted(stored)
        per = math.ceil(len(keys) / shards)
        weight_map, total = {}, 0
        for s in range(shards):
            fname = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
            part = {k: stored[k] for k in keys[s * per:(s + 1) * per]}
            write_file(os.path.join(d, fname), safetensors_bytes(part))
            for k, t in part.items():
                weight_map[k] = fname
                total += t.numel() * t.element_size()
        write_json(os.path.join(d, "model.safetensors.index.json"),
                   {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))})

    write_goldens(v, d, make_cases(gen))
    return folder_size(d)


# ---------------------------------------------------------------------------------------
# Goldens: transformers' logits, cross-checked against the two forward passes above.


def hf_model(v, d):
    """The fixture folder as transformers loads it, in float64."""
    cls = BertForSequenceClassification if v["arch"] == "bert" else DistilBertForSequenceClassification
    model, info = cls.from_pretrained(d, attn_implementation="eager", output_loading_info=True)
    # A tensor transformers did not find would be randomly initialised, not read.
    assert not info["missing_keys"] and not info["mismatched_keys"], f"{v['name']}: {info}"
    return model.double().eval()


def hf_logits(v, model, ids, tts):
    """logits [C] (float64) of one sequence, no padding."""
    kwargs = dict(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long))
    if v["arch"] == "bert":
        kwargs["token_type_ids"] = torch.tensor([tts])
    with torch.no_grad():
        return model(**kwargs).logits[0]


def stored_weights(d):
    """{hf_name: float64 tensor} read from the folder's safetensors file(s)."""
    w = {}
    for f in sorted(os.listdir(d)):
        if f.endswith(".safetensors"):
            w.update({k: t.to(torch.float64) for k, t in load_file(os.path.join(d, f)).items() if t.is_floating_point()})
    return w


def write_goldens(v, d, cases_in):
    model, w = hf_model(v, d), stored_weights(d)
    cases, worst_f16, worst_own = [], 0.0, 0.0
    w16 = f16_storage(w, v["arch"])
    for ids, tts in cases_in:
        if v["arch"] == "distilbert":
            tts = [0] * len(ids)
        logits = hf_logits(v, model, ids, tts)
        own = forward(v, w, ids, tts)
        for name, other in (("forward", own), ("forward_einsum", forward_einsum(v, w, ids, tts))):
            gap = (logits - other).abs().max().item()
            assert gap < 1e-10, f"{v['name']}: transformers and {name} disagree by {gap} at n={len(ids)}"
            worst_own = max(worst_own, gap)
        worst_f16 = max(worst_f16, (forward(v, w16, ids, tts) - logits).abs().max().item())
        cases.append({"input_ids": ids, "token_type_ids": tts, "logits": [float(x) for x in logits]})
    finish_goldens(v, d, cases, f"  max |own forward - transformers| {worst_own:.1e}  max |logits(f16 matrices) - golden| {worst_f16:.2e}")


def finish_goldens(v, d, cases, note):
    """Checks the logits move with the input, writes golden.json, prints a summary line."""
    all_logits = torch.tensor([c["logits"] for c in cases])
    spread = (all_logits - all_logits.mean(0)).abs().max().item()
    assert spread > 0.1, f"{v['name']}: logits barely depend on the input ({spread})"
    # One case per line keeps the file small and its diffs readable.
    write_file(os.path.join(d, "golden.json"), "[\n" + ",\n".join(json.dumps(c, separators=(",", ":")) for c in cases) + "\n]\n")
    print(f"{v['name']:22s} {folder_size(d) / 1024:7.1f} KiB  {len(cases)} cases  |logits - mean| max {spread:.3f}{note}")


def folder_size(d):
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))


def rewrite_goldens(v):
    """--goldens: the committed checkpoint and inputs, new logits."""
    d = os.path.join(OUT, v["name"])
    with open(os.path.join(d, "golden.json")) as f:
        cases = [(c["input_ids"], c["token_type_ids"]) for c in json.load(f)]
    write_goldens(v, d, cases)
    return folder_size(d)


# ---------------------------------------------------------------------------------------
# RoBERTa / XLM-RoBERTa / CamemBERT / ELECTRA (issue 16): random-weight models built with
# transformers' own classes and written by save_pretrained, goldens from the same classes.
# Tokenizer files: the WordPiece vocabulary above for ELECTRA (its own tokenizer kind) and
# roberta-types-f16; the RoBERTa family's own tokenizers for the others (family_tokenizer). Every case lists its ids; "hf_padded": the golden came from a padded batch
# with an attention mask (pad_token_id after the ids), which must equal the unpadded run.

FAMILY_CLASSES = {
    "roberta": (RobertaConfig, RobertaForSequenceClassification),
    "xlm-roberta": (XLMRobertaConfig, XLMRobertaForSequenceClassification),
    "camembert": (CamembertConfig, CamembertForSequenceClassification),
    "electra": (ElectraConfig, ElectraForSequenceClassification),
}

FAMILY_VARIANTS = [
    # RoBERTa as released: type_vocab_size 1, pad_token_id 1, positions 2..65 of 66.
    dict(name="roberta-f32", family="roberta", dtype="F32", hidden=32, layers=2, heads=4, inter=64,
         act="gelu", labels=["negative", "neutral", "positive"], problem=None, pad=1, type_vocab=1, tokenizer="bpe",
         max_len=63),
    # Every size from config.json: two token types (given in the cases), pad_token_id 5, f16 storage.
    dict(name="roberta-types-f16", family="roberta", dtype="F16", hidden=32, layers=2, heads=2, inter=48,
         act="gelu_new", labels=["no", "yes"], problem="single_label_classification", pad=5, type_vocab=2),
    dict(name="xlm-roberta-f32", family="xlm-roberta", dtype="F32", hidden=24, layers=2, heads=3, inter=40,
         act="gelu", labels=["toxic", "obscene", "insult"], problem="multi_label_classification", pad=1, type_vocab=1,
         tokenizer="unigram", max_len=64),
    dict(name="camembert-f32", family="camembert", dtype="F32", hidden=16, layers=1, heads=2, inter=32,
         act="relu", labels=["LABEL_0"], problem="regression", pad=1, type_vocab=1,
         tokenizer="unigram-bytes", max_len=64),
    # ELECTRA with embedding_size != hidden_size (embeddings_project), pairs with type ids.
    dict(name="electra-f32", family="electra", dtype="F32", hidden=32, embedding=24, layers=2, heads=4, inter=64,
         act="gelu", labels=["NEGATIVE", "POSITIVE"], problem=None, pad=0, type_vocab=2),
    # embedding_size == hidden_size: no projection; hidden_act gelu_new, the head stays GELU (erf).
    dict(name="electra-same-f16", family="electra", dtype="F16", hidden=16, embedding=16, layers=2, heads=2, inter=32,
         act="gelu_new", labels=["a", "b", "c"], problem="single_label_classification", pad=0, type_vocab=2),
]


# The RoBERTa family's own tokenizers, trained here on GLUE train sentences (../shared/data:
# SST-2, MRPC, RTE) with the `tokenizers` library, so the text cases run transformers' own
# fast tokenizer end to end (text in, ids and logits out):
#   roberta-f32      byte-level BPE (BpeTrainer via ByteLevelBPETokenizer, 600 tokens: the
#                    256 byte symbols, 339 merges, 5 specials) wrapped in RobertaTokenizer
#                    and saved as transformers 5 saves it (tokenizer.json), model_max_length
#                    63 (odd, so a pair's budget is odd). Not GPT-2's own 50k vocabulary: its embedding
#                    matrix alone would be 6 MB here; GPT-2's files are tested against the
#                    npm `tokenizers` package in test/bpe*.test.ts instead.
#   xlm-roberta-f32  Unigram (UnigramTrainer, 500 pieces) with xlm-roberta's real
#                    normalizer: the nmt_nfkc Precompiled charsmap of
#                    test/fixtures/unigram/spm (trained there with sentencepiece), Metaspace
#                    and the <s> A </s></s> B </s> template, wrapped in XLMRobertaTokenizer.
#   camembert-f32    the same trainer with byte_fallback (the 256 <0xNN> pieces) and no
#                    Precompiled step, as test/fixtures/unigram/trained-bytes.
# REAL_TOKENIZERS = False brings back the WordPiece vocab.txt these once used as a test device.
REAL_TOKENIZERS = True
GLUE = os.path.join(ROOT, "..", "shared", "data")
UNIGRAM_SPM = os.path.join(ROOT, "test", "fixtures", "unigram", "spm", "tokenizer.json")
LONG = ("it was the best of times , it was the worst of times , it was the age of wisdom , it was the age of "
        "foolishness , it was the epoch of belief , it was the epoch of incredulity , it was the season of light , "
        "it was the season of darkness , it was the spring of hope , it was the winter of despair .")
TEXT_CASES = ["the movie was great", "A terrible, BORING film!", "caf\u00e9 na\u00efve d\u00e9j\u00e0 vu", "",
              "  leading and   inner   spaces\t", "\uff26\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48 \u2460 \ufb01ne",
              "\u4e2d\u6587 text, \U0001f600 emoji and \u00c5ngstr\u00f6m", "it's <mask> that they'll do it",
              ("free money now", "click here to win"), ("hello world", "thank you very much for the report"),
              LONG, (LONG, "a short one"), ("a short one", LONG), (LONG, LONG[:-40] + " and more")]


def glue_sentences():
    import csv
    csv.field_size_limit(1 << 30)
    out = []
    for task, cols in (("sst2", ["sentence"]), ("mrpc", ["#1 String", "#2 String"]), ("rte", ["sentence1", "sentence2"])):
        with open(os.path.join(GLUE, task, "train.tsv"), encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
        idx = [rows[0].index(c) for c in cols]
        out += [r[k] for r in rows[1:4001] for k in idx if k < len(r) and r[k].strip()]
    return out


def family_tokenizer(v, d):
    """Trains the family's own tokenizer on GLUE text, saves it into d (save_pretrained)
    and returns it: transformers' fast tokenizer, the reference for the text cases."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    texts = glue_sentences()
    tmp = tempfile.mkdtemp()
    try:
        if v["tokenizer"] == "bpe":
            t = ByteLevelBPETokenizer()
            t.train_from_iterator(texts, vocab_size=600, min_frequency=2, show_progress=False,
                                  special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
            t.save_model(tmp)
            tok = RobertaTokenizer.from_pretrained(tmp, model_max_length=v["max_len"])
        else:
            spm = json.load(open(UNIGRAM_SPM, encoding="utf-8"))
            byte_fallback = v["tokenizer"] == "unigram-bytes"
            t = Tokenizer(models.Unigram())
            t.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
            t.train_from_iterator(texts, trainers.UnigramTrainer(
                vocab_size=500, unk_token="<unk>", special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
                shrinking_factor=0.75, max_piece_length=16, n_sub_iterations=2, show_progress=False))
            j = json.loads(t.to_str())
            norm = spm["normalizer"]
            j["normalizer"] = dict(norm, normalizers=norm["normalizers"][1:]) if byte_fallback else norm
            j["model"]["byte_fallback"] = byte_fallback
            if byte_fallback:
                have = {p for p, _ in j["model"]["vocab"]}
                j["model"]["vocab"] += [[f"<0x{b:02X}>", 0.0] for b in range(256) if f"<0x{b:02X}>" not in have]
            j["model"]["vocab"].append(["<mask>", 0.0])
            j["post_processor"], j["decoder"] = spm["post_processor"], spm["decoder"]
            n = len(j["model"]["vocab"])
            j["added_tokens"] = [dict(a, id=n - 1) if a["content"] == "<mask>" else a for a in spm["added_tokens"]]
            path = os.path.join(tmp, "tokenizer.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(j, f, ensure_ascii=False)
            tok = XLMRobertaTokenizer(tokenizer_file=path, model_max_length=v["max_len"])
            raw = Tokenizer.from_file(path)
            for x in texts[:200]:  # the wrapper keeps the trained tokenizer as it is
                assert tok(x)["input_ids"] == raw.encode(x).ids, x
        tok.save_pretrained(d)
        return tok
    finally:
        shutil.rmtree(tmp)

# Issue 15's tasks (--tasks): test/fixtures/tasks/<name>/, each folder written by
# save_pretrained (and sentence-transformers' save) from a tiny random-weight model,
# with golden.json holding float64 references from the same libraries:
#   st-bert/              a SentenceTransformer (BertModel in the root, 1_Pooling, 2_Normalize)
#                         saved by sentence-transformers; golden.json "variants" gives, per
#                         pooling / normalize / layout variant, the files that differ from the
#                         saved folder and SentenceTransformer(variant).encode() in float64
#   distilbert-base/      a bare DistilBertModel folder: sentence-transformers' own default
#                         (mean pooling) is the reference
#   bert-token/, distilbert-token/   *ForTokenClassification: logits [n][C]
#   bert-qa/, distilbert-qa/         *ForQuestionAnswering: start_logits [n], end_logits [n]
# Needs sentence-transformers besides torch and transformers (a venv of your own:
# pip install ... sentence-transformers; the committed ones: 6.0.1 with transformers 5.18.0).

TASK_OUT = os.path.join(ROOT, "test", "fixtures", "tasks")
TASK_SIZE = dict(hidden=16, layers=2, heads=2, inter=24, max_position=40)
TASK_TEXTS = ["hello world", "the movie was great fun", "a", "Free MONEY now, click!",
              "it was the best of times, it was the worst of times, it was the age of thumb and the age of ink"]
NER_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
# sentence-transformers' Pooling configs as 6.x saves them (pooling_mode), and one as 2.x did.
POOLING_VARIANTS = [
    ("mean", {"embedding_dimension": 16, "pooling_mode": "mean", "include_prompt": True}, True),
    ("mean-unnormalized", {"embedding_dimension": 16, "pooling_mode": "mean", "include_prompt": True}, False),
    ("cls", {"embedding_dimension": 16, "pooling_mode": "cls", "include_prompt": True}, False),
    ("max", {"embedding_dimension": 16, "pooling_mode": "max", "include_prompt": True}, True),
    ("mean-sqrt-len", {"embedding_dimension": 16, "pooling_mode": "mean_sqrt_len_tokens", "include_prompt": True}, False),
    ("weighted-mean", {"embedding_dimension": 16, "pooling_mode": "weightedmean", "include_prompt": True}, False),
    ("last-token", {"embedding_dimension": 16, "pooling_mode": "lasttoken", "include_prompt": True}, False),
    ("cls-mean-max", {"embedding_dimension": 16, "pooling_mode": ["cls", "max", "mean"], "include_prompt": True}, True),
    ("legacy-mean-subfolder", {"word_embedding_dimension": 16, "pooling_mode_cls_token": False,
                               "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
                               "pooling_mode_mean_sqrt_len_tokens": False}, True),
]


def randomize(model, seed):
    """Large weights so the outputs move with the input (HF's init is std 0.02)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=g)
            if "LayerNorm" in name or "layer_norm" in name:
                p.copy_(1 + 0.2 * r if name.endswith("weight") else 0.1 * r)
            else:
                p.copy_(r * (1.0 if "embeddings" in name else 0.4))


def task_config(arch, **extra):
    from transformers import BertConfig, DistilBertConfig
    t = TASK_SIZE
    if arch == "bert":
        return BertConfig(vocab_size=len(VOCAB), hidden_size=t["hidden"], num_hidden_layers=t["layers"],
                          num_attention_heads=t["heads"], intermediate_size=t["inter"],
                          max_position_embeddings=t["max_position"], **extra)
    return DistilBertConfig(vocab_size=len(VOCAB), dim=t["hidden"], n_layers=t["layers"], n_heads=t["heads"],
                            hidden_dim=t["inter"], max_position_embeddings=t["max_position"], **extra)


def save_tokenizer(d, max_len):
    from transformers import BertTokenizerFast
    vocab = os.path.join(d, "vocab.txt")
    write_file(vocab, "\n".join(VOCAB) + "\n")
    tok = BertTokenizerFast(vocab, model_max_length=max_len)
    tok.save_pretrained(d)
    return tok


def uses_real_tokenizer(v):
    return REAL_TOKENIZERS and "tokenizer" in v


def family_config(v):
    cfg_cls, _ = FAMILY_CLASSES[v["family"]]
    roberta = v["family"] != "electra"
    kw = dict(vocab_size=v.get("vocab_size", len(VOCAB)), hidden_size=v["hidden"], num_hidden_layers=v["layers"],
              num_attention_heads=v["heads"], intermediate_size=v["inter"], hidden_act=v["act"],
              max_position_embeddings=MAX_POSITION + (v["pad"] + 1 if roberta else 0),
              type_vocab_size=v["type_vocab"], layer_norm_eps=1e-5 if roberta else LN_EPS,
              pad_token_id=v["pad"], id2label={i: l for i, l in enumerate(v["labels"])},
              label2id={l: i for i, l in enumerate(v["labels"])}, problem_type=v["problem"])
    if not roberta:
        kw["embedding_size"] = v["embedding"]
    return cfg_cls(**kw)


def family_randomize(model, gen):
    """Weights large enough that logits move with the input (HF's init, std 0.02, would not)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("LayerNorm.weight"):
                p.copy_(1 + (torch.rand(p.shape, generator=gen) * 2 - 1) * 0.1)
            elif p.dim() == 1:
                p.copy_((torch.rand(p.shape, generator=gen) * 2 - 1) * 0.1)
            elif "embeddings." in name:
                p.copy_(torch.randn(p.shape, generator=gen) * (0.5 if "word" in name else 0.3))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) * (0.5 if "out_proj" in name else 0.2))


def family_forward(v, w, ids, tts):
    """Float64, one sequence, no mask, read top to bottom from the stored tensors: the
    cross-check that transformers loaded every tensor (none left to random init)."""
    fam, H, nh = v["family"], v["hidden"], v["heads"]
    D, n = H // nh, len(ids)
    pre = "electra." if fam == "electra" else "roberta."
    eps = 1e-5 if fam != "electra" else LN_EPS
    act = act_fn(v["act"])
    if fam == "electra":
        pos = list(range(n))
    else:  # create_position_ids_from_input_ids
        pos, seen = [], 0
        for t in ids:
            seen += t != v["pad"]
            pos.append(v["pad"] + seen if t != v["pad"] else v["pad"])
    e = pre + "embeddings."
    x = w[e + "word_embeddings.weight"][torch.tensor(ids)] + w[e + "token_type_embeddings.weight"][torch.tensor(tts)]
    x = x + w[e + "position_embeddings.weight"][torch.tensor(pos)]
    x = layer_norm(x, w[e + "LayerNorm.weight"], w[e + "LayerNorm.bias"], eps)
    if pre + "embeddings_project.weight" in w:
        x = linear(x, w[pre + "embeddings_project.weight"], w[pre + "embeddings_project.bias"])
    for i in range(v["layers"]):
        m = {k: pre + n[len("bert."):] for k, n in names("bert", i).items()}
        q, k, val = (linear(x, w[m[r] + ".weight"], w[m[r] + ".bias"]) for r in ("q", "k", "v"))
        ctx = torch.zeros(n, H, dtype=torch.float64)
        for h in range(nh):
            sl = slice(h * D, (h + 1) * D)
            ctx[:, sl] = torch.softmax(q[:, sl] @ k[:, sl].t() / math.sqrt(D), dim=-1) @ val[:, sl]
        x = layer_norm(linear(ctx, w[m["o"] + ".weight"], w[m["o"] + ".bias"]) + x, w[m["ln1"] + ".weight"], w[m["ln1"] + ".bias"], eps)
        f = linear(act(linear(x, w[m["f1"] + ".weight"], w[m["f1"] + ".bias"])), w[m["f2"] + ".weight"], w[m["f2"] + ".bias"])
        x = layer_norm(f + x, w[m["ln2"] + ".weight"], w[m["ln2"] + ".bias"], eps)
    head = linear(x[0:1], w["classifier.dense.weight"], w["classifier.dense.bias"])
    head = act_fn("gelu")(head) if fam == "electra" else torch.tanh(head)
    return linear(head, w["classifier.out_proj.weight"], w["classifier.out_proj.bias"])[0]


def family_cases(v, gen):
    """(ids, type ids, padded) cases: single texts and pairs in the family's template
    (RoBERTa: <s> a </s></s> b </s>; ELECTRA: BERT's, b typed 1), random ids (which may
    include the pad id: create_position_ids_from_input_ids gives it padding_idx), a few
    with explicit padding tokens inside, and padded-batch cases."""
    roberta = v["family"] != "electra"
    CLS, SEP = v.get("cls", CLS_ID), v.get("sep", SEP_ID)
    rand = lambda k: torch.randint(0, v.get("vocab_size", len(VOCAB)), (k,), generator=gen).tolist()
    out = []
    top = v.get("max_len", MAX_POSITION)  # the tokenizer's model_max_length caps what the runtime takes
    lengths = [n for n in CASE_LENGTHS if n <= top] + torch.randint(1, top + 1, (RANDOM_CASES,), generator=gen).tolist()
    for j, n in enumerate(lengths):
        pair = j % 2 == 1 and n >= 6
        if n <= 2:
            ids = [CLS, SEP][:n]
            tts = [0] * n
        elif pair:
            sep = [SEP, SEP] if roberta else [SEP]
            la = int(torch.randint(1, n - 2 - len(sep), (1,), generator=gen))
            lb = n - 2 - len(sep) - la
            ids = [CLS] + rand(la) + sep + rand(lb) + [SEP]
            tts = [0] * (la + 1 + len(sep)) + [1] * (lb + 1)
        else:
            ids = [CLS] + rand(n - 2) + [SEP]
            tts = [0] * n
        out.append((ids, tts, False))
    # Padding tokens inside the ids (no mask): their position is padding_idx, the rest
    # keep counting without them.
    for n in (6, 17):
        ids = [CLS] + rand(n - 2) + [SEP]
        for k in (2, n // 2, n - 2):
            ids[k] = v["pad"]
        out.append((ids, [0] * n, False))
    # A padded batch, as a pipeline runs one: each golden must equal the unpadded run.
    for n in (3, 9, 20):
        out.append(([CLS] + rand(n - 2) + [SEP], [0] * n, True))
    if v["type_vocab"] < 2:
        out = [(ids, [0] * len(ids), p) for ids, tts, p in out]
    return out


def family_build(v, seed):
    gen = torch.Generator().manual_seed(seed)
    _, model_cls = FAMILY_CLASSES[v["family"]]
    d = os.path.join(OUT, v["name"])
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    tok = None
    if uses_real_tokenizer(v):
        tok = family_tokenizer(v, d)
        assert tok.pad_token_id == v["pad"], f"{v['name']}: the tokenizer's <pad> is {tok.pad_token_id}"
        v = dict(v, vocab_size=len(tok), cls=tok.cls_token_id, sep=tok.sep_token_id)
    else:
        v = dict(v, max_len=MAX_POSITION)
        write_file(os.path.join(d, "vocab.txt"), "\n".join(VOCAB) + "\n")
        write_json(os.path.join(d, "tokenizer_config.json"), tokenizer_config_json(dict(v, arch=v["family"])))
        write_json(os.path.join(d, "special_tokens_map.json"), SPECIAL_TOKENS_MAP)
    torch.manual_seed(seed)
    model = model_cls(family_config(v)).eval()
    family_randomize(model, gen)
    model.to(TORCH_DTYPE[v["dtype"]]).save_pretrained(d)
    cases = family_cases(v, gen)
    if tok is not None:  # texts through the family's own tokenizer: the end-to-end cases
        for t in TEXT_CASES:
            a, b = (t, None) if isinstance(t, str) else t
            ids = tok(a, b, truncation=True)["input_ids"]
            cases.append((ids, [0] * len(ids), False, a, b))
    family_goldens(v, d, cases)
    return folder_size(d)


def family_goldens(v, d, cases_in):
    _, model_cls = FAMILY_CLASSES[v["family"]]
    model, info = model_cls.from_pretrained(d, attn_implementation="eager", output_loading_info=True)
    assert not info["missing_keys"] and not info["mismatched_keys"], f"{v['name']}: {info}"
    model = model.double().eval()
    w = stored_weights(d)
    cases, worst = [], 0.0
    padded = [c for c in cases_in if c[2]]
    width = max((len(c[0]) for c in padded), default=0)
    for ids, tts, is_padded, *text in cases_in:
        with torch.no_grad():
            if is_padded:  # the whole padded batch at once; this case's row
                batch = torch.tensor([c[0] + [v["pad"]] * (width - len(c[0])) for c in padded])
                mask = torch.tensor([[1] * len(c[0]) + [0] * (width - len(c[0])) for c in padded])
                logits = model(input_ids=batch, attention_mask=mask).logits[[c[0] for c in padded].index(ids)]
            else:
                kwargs = dict(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long))
                if v["type_vocab"] > 1:
                    kwargs["token_type_ids"] = torch.tensor([tts])
                logits = model(**kwargs).logits[0]
        own = family_forward(v, w, ids, tts)
        gap = (logits - own).abs().max().item()
        assert gap < 1e-10, f"{v['name']}: transformers and family_forward disagree by {gap} at n={len(ids)}"
        worst = max(worst, gap)
        case = {"input_ids": ids, "token_type_ids": tts, "logits": [float(x) for x in logits]}
        if is_padded:
            case["hf_padded"] = True
        if text:  # the ids are the family's tokenizer's for this text (and pair)
            case["text"] = text[0]
            if text[1] is not None:
                case["text_pair"] = text[1]
        cases.append(case)
    finish_goldens(v, d, cases, f"  max |own forward - transformers| {worst:.1e}")


def family_rewrite_goldens(v):
    d = os.path.join(OUT, v["name"])
    with open(os.path.join(d, "golden.json")) as f:
        cases = [(c["input_ids"], c["token_type_ids"], c.get("hf_padded", False)) + ((c["text"], c.get("text_pair")) if "text" in c else ())
                 for c in json.load(f)]
    family_goldens(v, d, cases)
    return folder_size(d)



def encodings(tok, texts, pairs=False):
    if pairs:
        return [tok(q, c) for q, c in texts]
    return [tok(t, truncation=True) for t in texts]


def build_task_model(name, cls, arch, seed, texts, pairs=False, **extra):
    d = os.path.join(TASK_OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    model = cls(task_config(arch, **extra))
    randomize(model, seed)
    model.save_pretrained(d)
    tok = save_tokenizer(d, TASK_SIZE["max_position"])
    os.remove(os.path.join(d, "vocab.txt"))  # tokenizer.json holds the vocabulary
    ref = cls.from_pretrained(d, attn_implementation="eager").double().eval()
    cases = []
    for e in encodings(tok, texts, pairs):
        ids = e["input_ids"]
        tts = e.get("token_type_ids", [0] * len(ids)) if arch == "bert" else [0] * len(ids)
        kw = {"token_type_ids": torch.tensor([tts])} if arch == "bert" else {}
        with torch.no_grad():
            out = ref(input_ids=torch.tensor([ids]), **kw)
        case = {"input_ids": ids, "token_type_ids": tts}
        if hasattr(out, "start_logits"):
            case.update(start_logits=out.start_logits[0].tolist(), end_logits=out.end_logits[0].tolist())
        else:
            case.update(logits=out.logits[0].tolist())
        cases.append(case)
    write_json(os.path.join(d, "golden.json"), {"texts": texts, "cases": cases}, indent=None)
    return folder_size(d)


def st_encode(d, texts):
    from sentence_transformers import SentenceTransformer
    st = SentenceTransformer(d, device="cpu")
    st.double()
    with torch.no_grad():
        return st.encode(texts, convert_to_tensor=True, batch_size=len(texts)).tolist()


def build_st_bert(seed):
    from transformers import BertModel
    from sentence_transformers import SentenceTransformer, models
    import tempfile
    d = os.path.join(TASK_OUT, "st-bert")
    shutil.rmtree(d, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "base")
        m = BertModel(task_config("bert"))
        randomize(m, seed)
        m.save_pretrained(base)
        save_tokenizer(base, TASK_SIZE["max_position"])
        st = SentenceTransformer(modules=[models.Transformer(base, max_seq_length=24),
                                          models.Pooling(TASK_SIZE["hidden"], pooling_mode="mean"),
                                          models.Normalize()], device="cpu")
        st.save(d)
        for f in ["README.md", "vocab.txt"]:
            if os.path.exists(os.path.join(d, f)):
                os.remove(os.path.join(d, f))
        variants = []
        for name, pooling, normalize in POOLING_VARIANTS:
            v = os.path.join(tmp, name)
            shutil.copytree(d, v)
            files = {}
            modules = json.load(open(os.path.join(v, "modules.json")))
            if name.startswith("legacy"):
                # sentence-transformers 2.x's layout: the encoder in 0_Transformer, max_seq_length
                # in sentence_bert_config.json, the old module type names.
                os.makedirs(os.path.join(v, "0_Transformer"))
                for f in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]:
                    os.replace(os.path.join(v, f), os.path.join(v, "0_Transformer", f))
                os.remove(os.path.join(v, "sentence_bert_config.json"))
                files["0_Transformer/sentence_bert_config.json"] = {"max_seq_length": 20, "do_lower_case": False}
                modules = [{"idx": 0, "name": "0", "path": "0_Transformer", "type": "sentence_transformers.models.Transformer"},
                           {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                           {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]
            if not normalize:
                modules = modules[:2]
                shutil.rmtree(os.path.join(v, "2_Normalize"))
            files["modules.json"] = modules
            files["1_Pooling/config.json"] = pooling
            for f, obj in files.items():
                write_json(os.path.join(v, f), obj)
            variants.append({"name": name, "files": files, "moved_to": "0_Transformer" if name.startswith("legacy") else None,
                             "embeddings": st_encode(v, TASK_TEXTS)})
    tok = SentenceTransformer(d, device="cpu").tokenizer
    ids = [tok(t, truncation=True, max_length=24)["input_ids"] for t in TASK_TEXTS]
    write_json(os.path.join(d, "golden.json"), {"texts": TASK_TEXTS, "input_ids": ids, "variants": variants}, indent=None)
    return folder_size(d)


def build_bare_base(seed):
    from transformers import DistilBertModel
    d = os.path.join(TASK_OUT, "distilbert-base")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    m = DistilBertModel(task_config("distilbert"))
    randomize(m, seed)
    m.save_pretrained(d)
    tok = save_tokenizer(d, TASK_SIZE["max_position"])
    os.remove(os.path.join(d, "vocab.txt"))
    ids = [tok(t, truncation=True)["input_ids"] for t in TASK_TEXTS]
    emb = st_encode(d, TASK_TEXTS)  # no modules.json: sentence-transformers' mean pooling
    write_json(os.path.join(d, "golden.json"), {"texts": TASK_TEXTS, "input_ids": ids, "embeddings": emb}, indent=None)
    return folder_size(d)


def build_tasks():
    from transformers import (BertForTokenClassification, DistilBertForTokenClassification,
                              BertForQuestionAnswering, DistilBertForQuestionAnswering)
    os.makedirs(TASK_OUT, exist_ok=True)
    labels = dict(id2label=dict(enumerate(NER_LABELS)), label2id={l: i for i, l in enumerate(NER_LABELS)})
    qa = [("who was there?", "the team was at home today"), ("what", "hello world"),
          ("where is the bank?", "it was under the old bridge, by the water, near the big meeting")]
    total = build_st_bert(2000) + build_bare_base(2001)
    total += build_task_model("bert-token", BertForTokenClassification, "bert", 2002, TASK_TEXTS, **labels)
    total += build_task_model("distilbert-token", DistilBertForTokenClassification, "distilbert", 2003, TASK_TEXTS, **labels)
    total += build_task_model("bert-qa", BertForQuestionAnswering, "bert", 2004, qa, pairs=True)
    total += build_task_model("distilbert-qa", DistilBertForQuestionAnswering, "distilbert", 2005, qa, pairs=True)
    print(f"tasks: total {total / 1024:.1f} KiB in {TASK_OUT}")


def main():
    global OUT
    args = sys.argv[1:]
    if "--tasks" in args:
        return build_tasks()
    if "--out" in args:
        OUT = os.path.abspath(args[args.index("--out") + 1])
    goldens_only = "--goldens" in args
    t0 = time.time()
    os.makedirs(OUT, exist_ok=True)
    total = 0
    families_only = "--families" in args  # only the issue 16 fixtures (the BERT ones stay as committed)
    for j, v in enumerate([] if families_only else VARIANTS):
        total += rewrite_goldens(v) if goldens_only else build(v, seed=1000 + j)
    for j, v in enumerate(FAMILY_VARIANTS):
        total += family_rewrite_goldens(v) if goldens_only else family_build(v, seed=2000 + j)
    print(f"total {total / 1024:.1f} KiB in {OUT}  ({time.time() - t0:.1f} s)")
    if total > 2.1 * 1024 * 1024:
        sys.exit("fixtures exceed the 2.1 MB budget")


if __name__ == "__main__":
    main()
