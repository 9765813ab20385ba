"""Fine-tunes a BertForSequenceClassification from random weights on data written by prepare.ts, and
saves it as an ordinary Hugging Face checkpoint folder.

    /usr/bin/python3 scripts/train/train.py --data DIR --out models/NAME \
        --layers 4 --hidden 128 --heads 2 --intermediate 512 --epochs 3 --lr 1e-3 --batch 32

The model is written here in plain torch (no transformers package on this machine) with the exact
parameter names of transformers' BertForSequenceClassification, so its state_dict is what
`model.save_pretrained()` would write. Output folder: config.json, model.safetensors (float16),
vocab.txt, tokenizer_config.json, special_tokens_map.json, and README.md (the model card).

The epoch with the best val metric is kept; eval (GLUE dev / spam test) is only reported, and it
is reported for the float16 weights actually saved.
"""

import argparse
import json
import math
import os
import random
import shutil
import struct
import sys
import time

# Other jobs share the 2 cores; OpenMP threads that spin-wait at barriers then stall for seconds.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------------------------------------
# The model: transformers' BertForSequenceClassification, module names kept so state_dict keys match.
# B = batch, T = sequence length, H = hidden size, I = intermediate size, V = vocab size.


class BertEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"], padding_idx=c["pad_token_id"])  # [V, H]
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])  # [P, H]
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])  # [2, H]
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, input_ids, token_type_ids):  # [B, T] -> [B, T, H]
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)  # [T]
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions)[None] + self.token_type_embeddings(token_type_ids)
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.num_heads = c["num_attention_heads"]
        self.head_dim = c["hidden_size"] // self.num_heads
        self.query = nn.Linear(c["hidden_size"], c["hidden_size"])  # weight [H, H]
        self.key = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.value = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.dropout = nn.Dropout(c["attention_probs_dropout_prob"])

    def forward(self, x, mask_bias):  # x [B, T, H], mask_bias [B, 1, 1, T] -> [B, T, H]
        B, T, H = x.shape

        def heads(t):  # [B, T, H] -> [B, heads, T, head_dim]
            return t.view(B, T, self.num_heads, self.head_dim).transpose(1, 2)

        q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + mask_bias  # [B, heads, T, T]
        probs = self.dropout(scores.softmax(dim=-1))
        return (probs @ v).transpose(1, 2).reshape(B, T, H)


class BertSelfOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])  # [H, H]
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, h, x):  # post-norm residual, as in BERT
        return self.LayerNorm(self.dropout(self.dense(h)) + x)


class BertAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = BertSelfAttention(c)
        self.output = BertSelfOutput(c)

    def forward(self, x, mask_bias):
        return self.output(self.self(x, mask_bias), x)


class BertIntermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])  # [I, H]

    def forward(self, x):
        return F.gelu(self.dense(x))  # "gelu" in transformers is the exact erf form


class BertOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["intermediate_size"], c["hidden_size"])  # [H, I]
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, h, x):
        return self.LayerNorm(self.dropout(self.dense(h)) + x)


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertOutput(c)

    def forward(self, x, mask_bias):
        a = self.attention(x, mask_bias)
        return self.output(self.intermediate(a), a)


class BertEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(c) for _ in range(c["num_hidden_layers"])])

    def forward(self, x, mask_bias):
        for layer in self.layer:
            x = layer(x, mask_bias)
        return x


class BertPooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])  # [H, H]

    def forward(self, x):  # [B, T, H] -> [B, H], from the [CLS] position
        return torch.tanh(self.dense(x[:, 0]))


class BertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = BertEmbeddings(c)
        self.encoder = BertEncoder(c)
        self.pooler = BertPooler(c)

    def forward(self, input_ids, token_type_ids, attention_mask):
        # padding keys get the most negative float, as transformers does
        mask_bias = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min  # [B, 1, 1, T]
        return self.pooler(self.encoder(self.embeddings(input_ids, token_type_ids), mask_bias))


class BertForSequenceClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = BertModel(c)
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])
        self.classifier = nn.Linear(c["hidden_size"], c["num_labels"])  # [labels, H]
        self.apply(lambda m: init_weights(m, c["initializer_range"]))

    def forward(self, input_ids, token_type_ids, attention_mask):  # -> logits [B, labels]
        return self.classifier(self.dropout(self.bert(input_ids, token_type_ids, attention_mask)))


def adamw_linear(model, args, steps):
    """AdamW (weight decay on all but biases and LayerNorm) with a linear warm-up over args.warmup of
    the steps, then a linear decay to 0."""
    no_decay = lambda n: n.endswith("bias") or "LayerNorm" in n
    opt = torch.optim.AdamW(
        [
            {"params": [t for n, t in model.named_parameters() if not no_decay(n)], "weight_decay": args.weight_decay},
            {"params": [t for n, t in model.named_parameters() if no_decay(n)], "weight_decay": 0.0},
        ],
        lr=args.lr,
    )
    warm = max(1, int(args.warmup * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
    return opt, sched


def init_weights(m, std):  # transformers' BertPreTrainedModel._init_weights
    if isinstance(m, nn.Linear):
        m.weight.data.normal_(0.0, std)
        m.bias.data.zero_()
    elif isinstance(m, nn.Embedding):
        m.weight.data.normal_(0.0, std)
        if m.padding_idx is not None:
            m.weight.data[m.padding_idx].zero_()
    elif isinstance(m, nn.LayerNorm):
        m.weight.data.fill_(1.0)
        m.bias.data.zero_()


# ---------------------------------------------------------------------------------------------
# Data and metrics.


def load_split(data_dir, name):
    path = os.path.join(data_dir, name + ".json")
    with open(path) as f:
        return rows_of(path, json.load(f))


def load_slices(data_dir, name):  # {slice name: rows} from prepare.ts's NAME-slices.json
    path = os.path.join(data_dir, name + "-slices.json")
    with open(path) as f:
        return {k: rows_of(f"{path}: {k}", d) for k, d in json.load(f).items()}


def rows_of(path, d):
    n = len(d["labels"])
    if len(d["input_ids"]) != n or len(d["token_type_ids"]) != n:
        sys.exit(f"{path}: input_ids, token_type_ids and labels differ in length")
    return [(d["input_ids"][i], d["token_type_ids"][i], d["labels"][i]) for i in range(n)]


def collate(rows):  # -> input_ids, token_type_ids, attention_mask [B, T], labels [B]
    T = max(len(r[0]) for r in rows)
    ids = torch.zeros(len(rows), T, dtype=torch.long)
    types = torch.zeros(len(rows), T, dtype=torch.long)
    mask = torch.zeros(len(rows), T, dtype=torch.long)
    for i, (a, t, _) in enumerate(rows):
        ids[i, : len(a)] = torch.tensor(a)
        types[i, : len(t)] = torch.tensor(t)
        mask[i, : len(a)] = 1
    return ids, types, mask, torch.tensor([r[2] for r in rows])


def train_batches(rows, batch, rng):
    """Shuffled batches of similar length (less padding): sort within chunks of 50 batches."""
    order = list(range(len(rows)))
    rng.shuffle(order)
    batches = []
    for start in range(0, len(order), batch * 50):
        chunk = sorted(order[start : start + batch * 50], key=lambda i: len(rows[i][0]))
        batches += [chunk[j : j + batch] for j in range(0, len(chunk), batch)]
    rng.shuffle(batches)
    return batches


def train_epoch(model, rows, batch, rng, opt, sched):  # one pass over rows -> mean train loss
    model.train()
    loss_sum, n = 0.0, 0
    for idx in train_batches(rows, batch, rng):
        ids, types, mask, labels = collate([rows[i] for i in idx])
        loss = F.cross_entropy(model(ids, types, mask), labels)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        loss_sum += loss.item() * len(idx)
        n += len(idx)
    return loss_sum / n


@torch.no_grad()
def predict(model, rows, batch=64):  # -> logits [N, labels], in row order
    model.eval()
    order = sorted(range(len(rows)), key=lambda i: len(rows[i][0]))
    out = torch.zeros(len(rows), model.classifier.out_features)
    for j in range(0, len(order), batch):
        idx = order[j : j + batch]
        ids, types, mask, _ = collate([rows[i] for i in idx])
        out[idx] = model(ids, types, mask)
    return out


def metrics(logits, rows):
    pred = logits.argmax(-1).tolist()
    gold = [r[2] for r in rows]
    acc = sum(p == g for p, g in zip(pred, gold)) / len(gold)
    m = {"accuracy": acc}
    if logits.shape[1] == 2:
        tp = sum(p == 1 and g == 1 for p, g in zip(pred, gold))
        fp = sum(p == 1 and g == 0 for p, g in zip(pred, gold))
        fn = sum(p == 0 and g == 1 for p, g in zip(pred, gold))
        tn = len(gold) - tp - fp - fn
        m["f1"] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        den = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
        m["mcc"] = (tp * tn - fp * fn) / den if den else 0.0
    return m


def ece(probs, gold, bins=15):
    """Expected calibration error: |accuracy - confidence| per equal-width confidence bin (Guo et al.
    2017), weighted by the bin's share of rows. probs [N, labels]; confidence = the top probability."""
    conf, pred = probs.max(-1)
    correct = (pred == torch.tensor(gold)).float()
    idx = (conf * bins).ceil().long().clamp(1, bins) - 1  # bin b holds (b/bins, (b+1)/bins]
    total = 0.0
    for b in range(bins):
        sel = idx == b
        if sel.any():
            total += sel.float().sum().item() / len(gold) * abs(correct[sel].mean().item() - conf[sel].mean().item())
    return total


def fit_temperature(logits, gold):
    """The T that minimizes the negative log-likelihood of softmax(logits / T) (Guo et al. 2017)."""
    y = torch.tensor(gold)
    return temperature_by_nll(lambda beta: F.cross_entropy(logits * beta, y).item())


def temperature_by_nll(nll):
    """T = 1 / beta for the beta in (0, 20] that minimizes nll(beta). A softmax NLL is convex in
    beta = 1/T, so a ternary search finds the minimum."""
    lo, hi = 1e-3, 20.0
    for _ in range(100):
        a, b = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        if nll(a) <= nll(b):
            hi = b
        else:
            lo = a
    return 2.0 / (lo + hi)


def slice_report(model, slices, temperature):  # name -> rows, accuracy, ECE before and after T
    out = {}
    for name, rows in slices.items():
        logits = predict(model, rows)
        gold = [r[2] for r in rows]
        m = metrics(logits, rows)
        m.update({"rows": len(rows), "ece": ece(logits.softmax(-1), gold), "ece_t": ece((logits / temperature).softmax(-1), gold)})
        out[name] = m
    return out


def fmt(m):
    return " ".join(f"{k} {100 * v:.2f}" if k != "mcc" else f"mcc {v:.4f}" for k, v in m.items())


# ---------------------------------------------------------------------------------------------
# Saving, as transformers' save_pretrained() would.


def hf_config(c, labels):
    cfg = {
        "architectures": ["BertForSequenceClassification"],
        "attention_probs_dropout_prob": c["attention_probs_dropout_prob"],
        "classifier_dropout": None,
        "hidden_act": "gelu",
        "hidden_dropout_prob": c["hidden_dropout_prob"],
        "hidden_size": c["hidden_size"],
        "id2label": {str(i): name for i, name in enumerate(labels)},
        "initializer_range": c["initializer_range"],
        "intermediate_size": c["intermediate_size"],
        "label2id": {name: i for i, name in enumerate(labels)},
        "layer_norm_eps": c["layer_norm_eps"],
        "max_position_embeddings": c["max_position_embeddings"],
        "model_type": "bert",
        "num_attention_heads": c["num_attention_heads"],
        "num_hidden_layers": c["num_hidden_layers"],
        "pad_token_id": c["pad_token_id"],
        "position_embedding_type": "absolute",
        "problem_type": "single_label_classification",
        "torch_dtype": "float16",
        "type_vocab_size": c["type_vocab_size"],
        "use_cache": True,
        "vocab_size": c["vocab_size"],
    }
    return dict(sorted(cfg.items()))  # transformers writes keys sorted


def save_safetensors(path, tensors):
    """safetensors: u64 LE header length, JSON header (name -> dtype, shape, data_offsets), raw data."""
    names = sorted(tensors)
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in names:
        t = tensors[name].detach().contiguous().cpu()
        data = t.numpy().astype("<f2" if t.dtype == torch.float16 else "<f4").tobytes()
        header[name] = {"dtype": "F16" if t.dtype == torch.float16 else "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)  # the data starts 8-byte aligned, as the reference writer pads
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)


def write_text(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def tokenizer_files(out, vocab, max_len):
    special = {"cls_token": "[CLS]", "mask_token": "[MASK]", "pad_token": "[PAD]", "sep_token": "[SEP]", "unk_token": "[UNK]"}
    added = {
        str(vocab.index(t)): {"content": t, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False, "special": True}
        for t in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    }
    write_json(
        os.path.join(out, "tokenizer_config.json"),
        {
            "added_tokens_decoder": added,
            "clean_up_tokenization_spaces": True,
            **special,
            "do_basic_tokenize": True,
            "do_lower_case": True,
            "model_max_length": max_len,
            "never_split": None,
            "strip_accents": None,
            "tokenize_chinese_chars": True,
            "tokenizer_class": "BertTokenizer",
        },
    )
    write_json(os.path.join(out, "special_tokens_map.json"), special)


# ---------------------------------------------------------------------------------------------


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="folder written by prepare.ts")
    p.add_argument("--out", required=True, help="checkpoint folder to write")
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--heads", type=int, default=2)
    p.add_argument("--intermediate", type=int, default=512)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--warmup", type=float, default=0.1, help="share of steps with a linear warm-up")
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-rows", type=int, default=2000, help="val rows scored after each epoch to pick the best one (0 = all)")
    p.add_argument("--calibrate", action="store_true", help="fit a temperature on val, report val-/eval-slices.json, write calibration.json")
    p.add_argument("--init", default="", help="start from this checkpoint folder (same vocab.txt and sizes) instead of random weights")
    p.add_argument("--command", default="", help="the recipe command, quoted in the model card")
    args = p.parse_args()

    torch.set_num_threads(2)
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    rng = random.Random(args.seed)
    t_start = time.time()

    with open(os.path.join(args.data, "meta.json")) as f:
        meta = json.load(f)
    with open(os.path.join(args.data, "vocab.txt")) as f:
        vocab = f.read().split("\n")[:-1]
    if len(vocab) != meta["vocab_size"]:
        sys.exit(f"{args.data}/vocab.txt: {len(vocab)} tokens, meta.json says {meta['vocab_size']}")
    train, val, evl = (load_split(args.data, s) for s in ("train", "val", "eval"))
    if args.hidden % args.heads:
        sys.exit(f"--hidden {args.hidden} is not a multiple of --heads {args.heads}")

    c = {
        "vocab_size": len(vocab),
        "hidden_size": args.hidden,
        "num_hidden_layers": args.layers,
        "num_attention_heads": args.heads,
        "intermediate_size": args.intermediate,
        "max_position_embeddings": meta["max_len"],
        "type_vocab_size": 2,
        "layer_norm_eps": 1e-12,
        "hidden_dropout_prob": args.dropout,
        "attention_probs_dropout_prob": args.dropout,
        "initializer_range": 0.02,
        "pad_token_id": vocab.index("[PAD]"),
        "num_labels": len(meta["labels"]),
    }
    model = BertForSequenceClassification(c)
    if args.init:
        # a second stage: continue from a trained checkpoint; token ids are only meaningful with its vocab
        with open(os.path.join(args.init, "vocab.txt")) as f:
            if f.read().split("\n")[:-1] != vocab:
                sys.exit(f"--init {args.init}: its vocab.txt differs from {args.data}/vocab.txt")
        from logits import load_safetensors  # logits.py imports this file, so not at the top

        model.load_state_dict(load_safetensors(os.path.join(args.init, "model.safetensors")))
    n_params = sum(t.numel() for t in model.parameters())
    print(f"{meta['task']}: {args.layers} layers, hidden {args.hidden}, {args.heads} heads, vocab {len(vocab)}, {n_params:,} parameters; "
          f"train {len(train)} / val {len(val)} / {meta['eval_split']} {len(evl)} rows", flush=True)

    opt, sched = adamw_linear(model, args, args.epochs * math.ceil(len(train) / args.batch))

    key = meta["metric"]
    # scoring a large val split every epoch costs more than training on a small train split
    val_pick = val[: args.val_rows] if args.val_rows else val
    best, best_state, best_epoch, history = -math.inf, None, 0, []
    for epoch in range(1, args.epochs + 1):
        t0 = time.time()
        loss = train_epoch(model, train, args.batch, rng, opt, sched)
        m = metrics(predict(model, val_pick), val_pick)
        history.append({"epoch": epoch, "train_loss": loss, "val": m})
        print(f"epoch {epoch}: train loss {loss:.4f}, val {fmt(m)} ({time.time() - t0:.0f} s)", flush=True)
        if m[key] > best:
            best, best_epoch = m[key], epoch
            best_state = {k: v.clone() for k, v in model.state_dict().items()}

    # what gets saved and reported: the best epoch's weights rounded to float16
    model.load_state_dict({k: v.half().float() for k, v in best_state.items()})
    val_m = metrics(predict(model, val), val)
    eval_logits = predict(model, evl)
    eval_m = metrics(eval_logits, evl)
    print(f"best epoch {best_epoch}; float16 weights: val {fmt(val_m)}; {meta['eval_split']} {fmt(eval_m)}", flush=True)
    calibration = None
    if args.calibrate:
        # one temperature for every input: fitted on val (pooled slices for spam), applied to the logits
        # before softmax; the saved weights and the logits are unchanged
        temperature = fit_temperature(predict(model, val), [r[2] for r in val])
        calibration = {"temperature": temperature, "val": slice_report(model, load_slices(args.data, "val"), temperature),
                       "eval": slice_report(model, load_slices(args.data, "eval"), temperature)}
        print(f"temperature {temperature:.4f} (fitted on {len(val)} val rows)", flush=True)
        for split in ("val", "eval"):
            for name, m in calibration[split].items():
                print(f"  {split} {name}: {m['rows']} rows, accuracy {100 * m['accuracy']:.2f}, ECE {m['ece']:.4f} -> {m['ece_t']:.4f}", flush=True)
    seconds = time.time() - t_start

    os.makedirs(args.out, exist_ok=True)
    save_safetensors(os.path.join(args.out, "model.safetensors"), {k: v.half() for k, v in model.state_dict().items()})
    write_json(os.path.join(args.out, "config.json"), hf_config(c, meta["labels"]))
    shutil.copyfile(os.path.join(args.data, "vocab.txt"), os.path.join(args.out, "vocab.txt"))
    tokenizer_files(args.out, vocab, meta["max_len"])
    calibration_file = os.path.join(args.out, "calibration.json")
    if calibration:
        write_json(calibration_file, {"temperature": round(calibration["temperature"], 6)})
    elif os.path.exists(calibration_file):
        os.remove(calibration_file)  # a stale temperature belongs to other weights
    results = {
        "task": meta["task"],
        "eval_split": meta["eval_split"],
        "metric": key,
        "eval": eval_m,
        "val": val_m,
        "majority_share": {s: meta["splits"][s]["majority_share"] for s in ("val", "eval")},
        "best_epoch": best_epoch,
        "history": history,
        "calibration": calibration,
        "parameters": n_params,
        "train_seconds": round(seconds),
        "threads": torch.get_num_threads(),
        "args": {k: v for k, v in vars(args).items() if k not in ("data", "out", "command")},
        "command": args.command,
        "data": meta,
    }
    write_json(os.path.join(args.data, "results.json"), results)  # for the model card; not committed
    print(f"wrote {args.out} in {seconds:.0f} s", flush=True)


if __name__ == "__main__":
    main()
