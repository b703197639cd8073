"""The named choices of the config's and the commands' options, without importing TensorFlow (so
that `colorize predict --help` answers at once)."""

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
STRATEGIES = ("auto", "one", "mirrored", "multiworker")
TEST_MODES = ("pix2pix", "deterministic")
KERNELS = ("fused", "keras")
UPSAMPLING = ("auto", "transposed", "resize")
CONDITION_SCALES = ("auto", "input", "every")
