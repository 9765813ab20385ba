"""Trains a sentence-embedding BERT from random weights on scored sentence pairs (STS-B), as
sentence-transformers' CosineSimilarityLoss does, and saves it as a sentence-transformers folder as the
Hugging Face hub ships one.

    /usr/bin/python3 scripts/train/train_embed.py --data DIR --out DIR \
        --layers 4 --hidden 128 --heads 4 --intermediate 512 --epochs 20 --lr 5e-4 --batch 32

DIR (from prepare-pairs.ts): vocab.txt, {train,val,eval}.json = {a, b: token ids, scores: 0..5}.

The model: transformers' BertModel (train.py's modules, same parameter names, so the state_dict keys are
what `BertModel.save_pretrained()` writes: `embeddings.*`, `encoder.layer.{i}.*`; no pooler), then mean
pooling over the tokens of the attention mask ([CLS] and [SEP] included, as sentence-transformers'
Pooling does), then L2 normalisation. Loss per pair: (cos(u, v) - score / 5)^2, mean over the batch
(sentence-transformers' CosineSimilarityLoss with its default MSE, labels scaled to 0..1).
The epoch with the best val Spearman is kept; eval (GLUE STS-B dev) is reported, for the float16
weights saved.

Output folder: config.json (architectures BertModel), model.safetensors (float16), vocab.txt,
tokenizer_config.json, special_tokens_map.json, modules.json, config_sentence_transformers.json,
sentence_bert_config.json, 1_Pooling/config.json (2_Normalize holds no file, as on the hub).
"""

import argparse
import json
import math
import os
import random
import shutil
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import BertEmbeddings, BertEncoder, adamw_linear, hf_config, init_weights, save_safetensors, tokenizer_files, write_json  # noqa: E402


class BertModel(nn.Module):
    """transformers' BertModel without the pooler (sentence-transformers never uses it)."""

    def __init__(self, c):
        super().__init__()
        self.embeddings = BertEmbeddings(c)
        self.encoder = BertEncoder(c)
        self.apply(lambda m: init_weights(m, c["initializer_range"]))

    def forward(self, input_ids, attention_mask):  # [B, T] -> sentence embeddings [B, H], unit length
        mask_bias = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min  # [B, 1, 1, T]
        h = self.encoder(self.embeddings(input_ids, torch.zeros_like(input_ids)), mask_bias)  # [B, T, H]
        m = attention_mask[:, :, None].float()  # [B, T, 1]
        mean = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)  # sentence-transformers' Pooling, mean tokens
        return F.normalize(mean, p=2, dim=1)  # sentence-transformers' Normalize


def load_split(data_dir, name):
    path = os.path.join(data_dir, name + ".json")
    with open(path) as f:
        d = json.load(f)
    if not (len(d["a"]) == len(d["b"]) == len(d["scores"])):
        sys.exit(f"{path}: a, b and scores differ in length")
    return d


def collate(seqs):  # -> input_ids, attention_mask [B, T]
    T = max(len(s) for s in seqs)
    ids = torch.zeros(len(seqs), T, dtype=torch.long)
    mask = torch.zeros(len(seqs), T, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    return ids, mask


@torch.no_grad()
def embed(model, seqs, batch=64):  # -> [N, H] in input order
    model.eval()
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    out = None
    for j in range(0, len(order), batch):
        idx = order[j : j + batch]
        e = model(*collate([seqs[i] for i in idx]))
        if out is None:
            out = torch.zeros(len(seqs), e.shape[1])
        out[idx] = e
    return out


def ranks(x):
    """1-based ranks, ties given their average rank (scipy.stats.rankdata 'average')."""
    order = sorted(range(len(x)), key=lambda i: x[i])
    r = [0.0] * len(x)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and x[order[j + 1]] == x[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def pearson(x, y):
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else 0.0


def evaluate(model, d):  # Spearman and Pearson of cos(u, v) with the scores, mean loss
    cos = (embed(model, d["a"]) * embed(model, d["b"])).sum(1).tolist()
    s = d["scores"]
    loss = sum((c - t / 5) ** 2 for c, t in zip(cos, s)) / len(s)
    return {"spearman": pearson(ranks(cos), ranks(s)), "pearson": pearson(cos, s), "loss": loss}


def st_files(out, hidden, max_len):
    """The sentence-transformers files of a folder as the hub ships one (all-MiniLM-L6-v2's layout)."""
    write_json(os.path.join(out, "modules.json"), [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    write_json(os.path.join(out, "config_sentence_transformers.json"), {
        "__version__": {"pytorch": torch.__version__}, "prompts": {}, "default_prompt_name": None, "similarity_fn_name": "cosine",
    })
    write_json(os.path.join(out, "sentence_bert_config.json"), {"max_seq_length": max_len, "do_lower_case": False})
    os.makedirs(os.path.join(out, "1_Pooling"), exist_ok=True)
    write_json(os.path.join(out, "1_Pooling", "config.json"), {
        "word_embedding_dimension": hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,
    })


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--intermediate", type=int, default=512)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--warmup", type=float, default=0.1)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--command", default="")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    rng = random.Random(args.seed)
    t_start = time.time()
    with open(os.path.join(args.data, "meta.json")) as f:
        meta = json.load(f)
    with open(os.path.join(args.data, "vocab.txt")) as f:
        vocab = f.read().split("\n")[:-1]
    train, val, evl = (load_split(args.data, s) for s in ("train", "val", "eval"))
    c = {
        "vocab_size": len(vocab), "hidden_size": args.hidden, "num_hidden_layers": args.layers,
        "num_attention_heads": args.heads, "intermediate_size": args.intermediate, "max_position_embeddings": meta["max_len"],
        "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_dropout_prob": args.dropout,
        "attention_probs_dropout_prob": args.dropout, "initializer_range": 0.02, "pad_token_id": vocab.index("[PAD]"),
    }
    model = BertModel(c)
    n_params = sum(t.numel() for t in model.parameters())
    n = len(train["scores"])
    print(f"stsb embeddings: {args.layers} layers, hidden {args.hidden}, {args.heads} heads, vocab {len(vocab)}, "
          f"{n_params:,} parameters; train {n} / val {len(val['scores'])} / dev {len(evl['scores'])} pairs", flush=True)
    opt, sched = adamw_linear(model, args, args.epochs * math.ceil(n / args.batch))

    best, best_state, best_epoch, history = -math.inf, None, 0, []
    for epoch in range(1, args.epochs + 1):
        model.train()
        t0, loss_sum = time.time(), 0.0
        order = list(range(n))
        rng.shuffle(order)
        for j in range(0, n, args.batch):
            idx = order[j : j + args.batch]
            u = model(*collate([train["a"][i] for i in idx]))
            v = model(*collate([train["b"][i] for i in idx]))
            target = torch.tensor([train["scores"][i] / 5 for i in idx])
            loss = F.mse_loss((u * v).sum(1), target)  # CosineSimilarityLoss (u, v unit length)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
        m = evaluate(model, val)
        history.append({"epoch": epoch, "train_loss": loss_sum / n, "val": m})
        print(f"epoch {epoch}: train loss {loss_sum / n:.4f}, val spearman {m['spearman']:.4f} pearson {m['pearson']:.4f} "
              f"loss {m['loss']:.4f} ({time.time() - t0:.0f} s)", flush=True)
        if m["spearman"] > best:
            best, best_epoch = m["spearman"], epoch
            best_state = {k: v.clone() for k, v in model.state_dict().items()}

    model.load_state_dict({k: v.half().float() for k, v in best_state.items()})
    val_m, eval_m = evaluate(model, val), evaluate(model, evl)
    print(f"best epoch {best_epoch}; float16 weights: val spearman {val_m['spearman']:.4f}; dev spearman {eval_m['spearman']:.4f} "
          f"pearson {eval_m['pearson']:.4f}", flush=True)
    seconds = time.time() - t_start

    os.makedirs(args.out, exist_ok=True)
    save_safetensors(os.path.join(args.out, "model.safetensors"), {k: v.half() for k, v in model.state_dict().items()})
    cfg = hf_config({**c, "num_labels": 2}, ["LABEL_0", "LABEL_1"])
    for k in ("id2label", "label2id", "problem_type", "classifier_dropout"):
        cfg.pop(k)
    cfg["architectures"] = ["BertModel"]
    write_json(os.path.join(args.out, "config.json"), cfg)
    shutil.copyfile(os.path.join(args.data, "vocab.txt"), os.path.join(args.out, "vocab.txt"))
    tokenizer_files(args.out, vocab, meta["max_len"])
    st_files(args.out, args.hidden, meta["max_len"])
    results = {
        "task": "stsb", "eval_split": "dev", "metric": "spearman", "eval": eval_m, "val": val_m, "best_epoch": best_epoch,
        "history": history, "parameters": n_params, "train_seconds": round(seconds), "threads": torch.get_num_threads(),
        "torch": torch.__version__, "args": {k: v for k, v in vars(args).items() if k not in ("data", "out", "command")},
        "command": args.command, "data": meta,
    }
    write_json(os.path.join(args.data, "results.json"), results)
    print(f"wrote {args.out} in {seconds:.0f} s", flush=True)


if __name__ == "__main__":
    main()
