// The numeric constants of the .axf model format (docs/format.md). This file is
// imported by both the AssemblyScript reader and the TypeScript writer, so it
// uses only the subset of syntax both languages accept: untyped integer consts.

export const MAGIC = 0x4d465841; // "AXFM" read as a little-endian u32
export const VERSION = 3;     // written; the reader also reads versions 1 (every tensor LAYOUT_ROWS) and 2 (32 CONFIG words)
export const MIN_VERSION = 1;
export const HEADER_SIZE = 64;
export const SECTION_ENTRY_SIZE = 16;
export const MAX_SECTIONS = 32;
export const ALIGN = 16;

export const SECTION_CONFIG = 1;
export const SECTION_LAYERS = 2;
export const SECTION_VOCAB = 3;
export const SECTION_LABELS = 4;
export const SECTION_TENSORS = 5;
export const SECTION_DATA = 6;
export const SECTION_META = 7;
// Optional: the ids of the tokenizer's added tokens, matched whole in the raw text
// before normalization (Hugging Face's added vocabulary, normalized: false).
export const SECTION_ADDED_TOKENS = 8;
export const MAX_ADDED_TOKENS = 256;
// Reserved for the tokenizers of issue 16 (docs/format.md "Sections"); absent until written.
export const SECTION_MERGES = 9;          // byte-level BPE merge ranks
export const SECTION_UNIGRAM = 10;        // SentencePiece Unigram scores
export const SECTION_CHARSMAP = 11;       // the Precompiled normalizer's character map
export const SECTION_KINDS = 12;          // kinds are 1..SECTION_KINDS-1
export const MAX_ADDED_TOKEN_BYTES = 128;   // per added token, in VOCAB
export const ADDED_NORMALIZED = 0x80000000; // entry bit: matched on the normalized text; the low 24 bits are the id
export const ADDED_ID_MASK = 0xffffff;
export const ADDED_LSTRIP = 0x40000000;     // entry bit: the match takes the whitespace before it (BPE; WordPiece drops it anyway)
export const ADDED_RSTRIP = 0x20000000;     // entry bit: the match takes the whitespace after it
// MERGES (docs/format.md "MERGES"): u32 merge count M, u32 range count R, R u32
// Unicode ranges (start | class << 24), then M entries (u32 left, right, rank, result).
export const MERGE_ENTRY_SIZE = 16;
export const MAX_MERGES = 1 << 24;
export const MAX_CLASS_RANGES = 1 << 16;
export const CHAR_OTHER = 0;   // class of a range: neither letter nor number
export const CHAR_LETTER = 1;  // \p{L}
export const CHAR_NUMBER = 2;  // \p{N}

export const CONFIG_WORDS = 64;     // version 3
export const CONFIG_WORDS_V2 = 32;  // versions 1 and 2: words 32..63 read as 0
export const LAYER_RECORD_SIZE = 16;
export const TENSOR_ENTRY_SIZE = 56;

// Byte offsets of the fields of the header (docs/format.md "Header").
export const HDR_MAGIC = 0;          // u32
export const HDR_VERSION = 4;        // u32
export const HDR_FILE_SIZE = 8;      // u32
export const HDR_SECTION_COUNT = 12; // u32
export const HDR_CRC = 16;           // u32, computed with this field read as 0
export const HDR_RESERVED = 20;      // u8[44], zero

// Byte offsets in a section table entry (SECTION_ENTRY_SIZE bytes).
export const SEC_KIND = 0;   // u32
export const SEC_OFFSET = 4; // u32, from the start of the file
export const SEC_SIZE = 8;   // u32
export const SEC_CRC = 12;   // u32

// Byte offsets in a LAYERS record (LAYER_RECORD_SIZE bytes).
export const LR_HAS_ATTENTION = 0; // u8
export const LR_HAS_FFN = 1;       // u8
export const LR_NUM_HEADS = 2;     // u16
export const LR_FFN_WIDTH = 4;     // u32
export const LR_HARD_K = 8;        // u32
export const LR_RESERVED = 12;     // u32, zero

// Byte offsets in a TENSORS entry (TENSOR_ENTRY_SIZE bytes); the entries follow
// the u32 tensor count at the start of the section, the names follow the entries.
export const TE_NAME_OFFSET = 0;   // u32, into the name area
export const TE_NAME_LEN = 4;      // u32
export const TE_DTYPE = 8;         // u32, DTYPE_*
export const TE_NDIM = 12;         // u32, 1 or 2
export const TE_DIMS = 16;         // u32[4], unused dims 0
export const TE_DATA_OFFSET = 32;  // u32, from the start of DATA
export const TE_DATA_SIZE = 36;    // u32
export const TE_SCALE_OFFSET = 40; // u32, int8 only
export const TE_SCALE_SIZE = 44;   // u32, int8 only
export const TE_LAYOUT = 48;       // u32, LAYOUT_*
export const TE_RESERVED = 52;     // u32, zero
export const TENSOR_COUNT_SIZE = 4; // the u32 before the entries

export const ARCH_BERT = 1;
export const ARCH_DISTILBERT = 2;
export const ARCH_ROBERTA = 3;     // RoBERTa, DistilRoBERTa, XLM-RoBERTa, CamemBERT: one graph (issue 16)
export const ARCH_ELECTRA = 4;     // ELECTRA (issue 16)

export const PROBLEM_SINGLE_LABEL = 0;
export const PROBLEM_REGRESSION = 1;
export const PROBLEM_MULTI_LABEL = 2;

export const ACT_GELU = 1;
export const ACT_RELU = 2;
export const ACT_GELU_TANH = 3;

export const STRIP_ACCENTS_FOLLOW_LOWERCASE = 0;
export const STRIP_ACCENTS_ALWAYS = 1;
export const STRIP_ACCENTS_NEVER = 2;

export const DTYPE_F32 = 1;
export const DTYPE_F16 = 2;
export const DTYPE_INT8 = 3;

export const NO_TOKEN = 0xffffffff;

// Tensor layouts (the tensor entry's `layout` word, version 2).
export const LAYOUT_ROWS = 0;    // row-major [rows, cols]
export const LAYOUT_PANELS = 1;  // weight matrices: row panels transposed for the broadcast matmul
export const PANEL_ROWS_F32 = 16; // rows per panel of an f32 or f16 matrix
export const PANEL_ROWS_INT8 = 8; // rows per panel of an int8 matrix

// CONFIG word indices.
export const CFG_ARCH = 0;
export const CFG_VOCAB_SIZE = 1;
export const CFG_HIDDEN_SIZE = 2;
export const CFG_NUM_LAYERS = 3;
export const CFG_NUM_HEADS = 4;
export const CFG_HEAD_DIM = 5;
export const CFG_INTERMEDIATE_SIZE = 6;
export const CFG_MAX_POSITION = 7;
export const CFG_TYPE_VOCAB_SIZE = 8;
export const CFG_NUM_LABELS = 9;
export const CFG_PROBLEM_TYPE = 10;
export const CFG_HIDDEN_ACT = 11;
export const CFG_LAYER_NORM_EPS = 12;
export const CFG_HAS_POOLER = 13;
export const CFG_HAS_PRE_CLASSIFIER = 14;
export const CFG_DO_LOWER_CASE = 15;
export const CFG_STRIP_ACCENTS = 16;
export const CFG_TOKENIZE_CHINESE_CHARS = 17;
export const CFG_CLEAN_TEXT = 18;
export const CFG_CLS_ID = 19;
export const CFG_SEP_ID = 20;
export const CFG_PAD_ID = 21;
export const CFG_UNK_ID = 22;
export const CFG_MASK_ID = 23;
export const CFG_MAX_LEN = 24;
export const CFG_MAX_INPUT_CHARS_PER_WORD = 25;
export const CFG_FLAGS = 26;
// The calibration temperature T (issue 12): f32 bits, 0 = none (1.0). Scores use logits / T.
export const CFG_TEMPERATURE = 27;
// Words 28.. are reserved by issues 15 and 16; each is 0 (the default) until its
// issue implements it, and the reader refuses any other value until then.
export const CFG_TASK = 28;             // TASK_*: what the head computes (issue 15)
export const CFG_POOLING = 29;          // embeddings: POOL_* bits, concatenated in sentence-transformers' order (issue 15)
export const CFG_NORMALIZE = 30;        // embeddings: 1 = L2-normalise the pooled vector (issue 15)
export const CFG_POSITION_OFFSET = 31;  // first position id: 0 for BERT, padding_idx + 1 for RoBERTa (issue 16)
export const CFG_EMBEDDING_SIZE = 32;   // ELECTRA's embedding_size when it differs from hidden_size, else 0 (issue 16)
export const CFG_TOKENIZER = 33;        // TOKENIZER_* (issue 16)
export const CFG_TEMPLATE = 34;         // TEMPLATE_*: how special tokens wrap one text or a pair (issue 16)
export const CFG_HEAD_ACT = 35;         // the pre_classifier's activation: 0 = ReLU (DistilBERT's), else an ACT_* code (ELECTRA: ACT_GELU); 0 without a pre_classifier (issue 16)
export const CFG_TOKENIZER_FLAGS = 36;  // TOKFLAG_* bits of the BPE / Unigram tokenizers (issue 16)
export const CFG_RESERVED_FROM = 37;    // 37..63 reserved, 0

export const TASK_SEQUENCE_CLASSIFICATION = 0;
export const TASK_EMBEDDING = 1;
export const TASK_TOKEN_CLASSIFICATION = 2;
export const TASK_QUESTION_ANSWERING = 3;

// sentence-transformers' Pooling modes; the output concatenates the set ones in this order.
export const POOL_CLS = 1;
export const POOL_MAX = 2;
export const POOL_MEAN = 4;
export const POOL_MEAN_SQRT_LEN = 8;
export const POOL_WEIGHTED_MEAN = 16;
export const POOL_LAST_TOKEN = 32;

export const TOKENIZER_WORDPIECE = 0;
export const TOKENIZER_BPE = 1;      // byte-level BPE (GPT-2 / RoBERTa)
export const TOKENIZER_UNIGRAM = 2;  // SentencePiece Unigram (XLM-R)

export const TEMPLATE_BERT = 0;      // [CLS] A [SEP] (B [SEP])
export const TEMPLATE_ROBERTA = 1;   // <s> A </s> (</s> B </s>)

// CFG_TOKENIZER_FLAGS bits of TOKENIZER_BPE (Hugging Face's ByteLevel options), bits 0..7;
export const TOKFLAG_ADD_PREFIX_SPACE = 1;   // pre_tokenizer.add_prefix_space: ' ' before a piece that does not start with one
export const TOKFLAG_TRIM_OFFSETS = 2;       // post_processor.trim_offsets: offsets leave out the spaces a token starts or ends with
export const TOKFLAG_TRIM_PREFIX_SPACE = 4;  // post_processor.add_prefix_space: trimming keeps the added space of a text's first token
// CONFIG.tokenizer_flags bits of the Unigram tokenizer (issue 16). They start at
// bit 8 so the byte-level BPE bits (from bit 0) never collide.
export const TOKFLAG_BYTE_FALLBACK = 256;     // 1 << 8: unknown pieces as <0xNN> byte tokens
export const TOKFLAG_PREPEND_ALWAYS = 512;    // 1 << 9: Metaspace prepend_scheme "always"
export const TOKFLAG_PREPEND_FIRST = 1024;    // 1 << 10: prepend_scheme "first" (neither bit: "never")
export const TOKFLAG_SPLIT = 2048;            // 1 << 11: Metaspace split: a piece starts at each "▁"
export const TOKFLAG_STRIP_LEFT = 4096;       // 1 << 12: normalizer Strip, left
export const TOKFLAG_STRIP_RIGHT = 8192;      // 1 << 13: normalizer Strip, right
export const TOKFLAG_COLLAPSE_SPACES = 16384; // 1 << 14: normalizer Replace(Regex(" {2,}"), content)
export const TOKFLAG_COLLAPSE_TO_META = 32768; // 1 << 15: ... with content "▁" (else " ")
export const TOKFLAG_COLLAPSE_FIRST = 65536;  // 1 << 16: the Replace comes before the Strip
export const TOKFLAGS_UNIGRAM = 130816;       // bits 8..16
