// libFuzzer's driver entry (compiler-rt, linked by -sanitize=fuzzer): a fuzz target's own main hands
// it the arguments and the function that takes one input.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
