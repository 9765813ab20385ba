# Trains the small SentencePiece Unigram tokenizers of test/fixtures/unigram/ on
# GLUE train sentences (../shared/data), so the Unigram runtime is tested against
# real, not hand-made, vocabularies:
#   spm/        sentencepiece.bpe.model trained with the `sentencepiece` package
#               (unigram, nmt_nfkc: a real Precompiled charsmap), plus the
#               tokenizer.json transformers' XLMRobertaTokenizerFast converts it to
#   trained/    tokenizers' UnigramTrainer, the charsmap of spm/, XLM-R's
#               Metaspace and post-processor; trained-bytes/ the same with byte_fallback
# Usage: python scripts/make_unigram_fixtures.py <shared/data> <out dir>
# (python: a venv with sentencepiece, tokenizers and transformers; see DEVELOPERS.md)
import csv, json, os, sys, types

import sentencepiece as spm
from tokenizers import Tokenizer, models, trainers, normalizers, pre_tokenizers
from transformers.convert_slow_tokenizer import XLMRobertaConverter

data, out = sys.argv[1], sys.argv[2]
csv.field_size_limit(1 << 30)

def column(path, names):
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    head = rows[0]
    cols = [head.index(n) for n in names if n in head]
    return [r[c] for r in rows[1:] for c in cols if c < len(r) and r[c].strip()]

sentences = column(f"{data}/sst2/train.tsv", ["sentence"])[:20000]
sentences += column(f"{data}/mrpc/train.tsv", ["#1 String", "#2 String"])
sentences += column(f"{data}/rte/train.tsv", ["sentence1", "sentence2"])
with open(f"{data}/cola/train.tsv", encoding="utf-8") as f:
    sentences += [l.rstrip("\n").split("\t")[3] for l in f if l.count("\t") >= 3]
os.makedirs(out, exist_ok=True)
corpus = f"{out}/corpus.txt"
with open(corpus, "w", encoding="utf-8") as f:
    f.write("\n".join(s.replace("\n", " ") for s in sentences) + "\n")

def xlmr_config(folder):
    # What xlm-roberta-base ships, minus the vocab-specific parts.
    cfg = {"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 512,
           "bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
           "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>"}
    with open(f"{folder}/tokenizer_config.json", "w") as f:
        json.dump(cfg, f, indent=2)

# 1. sentencepiece, converted by transformers.
spm_dir = f"{out}/spm"
os.makedirs(spm_dir, exist_ok=True)
spm.SentencePieceTrainer.train(input=corpus, model_prefix=f"{spm_dir}/sentencepiece.bpe", vocab_size=2000,
                               model_type="unigram", normalization_rule_name="nmt_nfkc", character_coverage=0.9995,
                               num_threads=1, input_sentence_size=40000, shuffle_input_sentence=False, seed_sentencepiece_size=200000)
os.remove(f"{spm_dir}/sentencepiece.bpe.vocab")
# XLMRobertaConverter is what XLMRobertaTokenizerFast runs on a folder with only the
# .model (fairseq ids: <s> <pad> </s> <unk>, the pieces from 3 on, <mask> last).
fairseq = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
slow = types.SimpleNamespace(vocab_file=f"{spm_dir}/sentencepiece.bpe.model", convert_tokens_to_ids=lambda t: fairseq[t])
XLMRobertaConverter(slow).converted().save(f"{spm_dir}/tokenizer.json")
tj = json.load(open(f"{spm_dir}/tokenizer.json"))
# The special tokens as xlm-roberta-base's tokenizer.json lists them.
n = len(tj["model"]["vocab"])
tj["added_tokens"] = [{"id": i, "content": c, "single_word": False, "lstrip": c == "<mask>", "rstrip": False,
                       "normalized": False, "special": True}
                      for i, c in ((0, "<s>"), (1, "<pad>"), (2, "</s>"), (3, "<unk>"), (n - 1, "<mask>"))]
with open(f"{spm_dir}/tokenizer.json", "w", encoding="utf-8") as f:
    json.dump(tj, f, ensure_ascii=False)
xlmr_config(spm_dir)
charsmap_normalizer = tj["normalizer"]

# 2. tokenizers' UnigramTrainer, with and without byte_fallback.
for name, byte_fallback in (("trained", False), ("trained-bytes", True)):
    t = Tokenizer(models.Unigram())
    t.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    trainer = trainers.UnigramTrainer(vocab_size=3000 if byte_fallback else 2500, unk_token="<unk>",
                                      special_tokens=["<s>", "<pad>", "</s>", "<unk>"], shrinking_factor=0.75,
                                      max_piece_length=16, n_sub_iterations=2)
    t.train([corpus], trainer)
    j = json.loads(t.to_str())
    # trained: the charsmap of spm/; trained-bytes: no Precompiled step (so byte fallback sees raw text)
    j["normalizer"] = charsmap_normalizer if not byte_fallback else dict(charsmap_normalizer, normalizers=charsmap_normalizer["normalizers"][1:])
    j["model"]["byte_fallback"] = byte_fallback
    if byte_fallback:  # the <0xNN> pieces sentencepiece adds with --byte_fallback
        have = {p for p, _ in j["model"]["vocab"]}
        j["model"]["vocab"] += [[f"<0x{b:02X}>", 0.0] for b in range(256) if f"<0x{b:02X}>" not in have]
    j["model"]["vocab"].append(["<mask>", 0.0])
    j["post_processor"] = tj["post_processor"]
    j["decoder"] = tj["decoder"]
    n = len(j["model"]["vocab"])
    j["added_tokens"] = [dict(a, id=n - 1) if a["content"] == "<mask>" else a for a in tj["added_tokens"]]
    folder = f"{out}/{name}"
    os.makedirs(folder, exist_ok=True)
    with open(f"{folder}/tokenizer.json", "w", encoding="utf-8") as f:
        json.dump(j, f, ensure_ascii=False)
    xlmr_config(folder)
os.remove(corpus)
