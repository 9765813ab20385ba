// The numeric constants of the .axf model format (docs/format.md). This file is
// imported by both the AssemblyScript reader and the TypeScript writer, so it
// uses only the subset of syntax both languages accept: untyped integer consts.

export const MAGIC = 0x4d465841; // "AXFM" read as a little-endian u32
export const VERSION = 2;     // written; the reader also reads version 1 (every tensor LAYOUT_ROWS)
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

export const CONFIG_WORDS = 32;
export const LAYER_RECORD_SIZE = 16;
export const TENSOR_ENTRY_SIZE = 56;

export const ARCH_BERT = 1;
export const ARCH_DISTILBERT = 2;

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
