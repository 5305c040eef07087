/*
 * Lets JDK 9+ use Debian's HotSpot disassembler plugin (package libhsdis0-fcml), which exports only the plugin
 * entry point of JDK 8 and earlier (decode_instructions). JDK 9+ looks up decode_instructions_virtual, whose code
 * buffer is the code itself, so this forwards to the old entry with that buffer. Built by tools/print-asm.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>

typedef void *(*decode_fn)(void *start, void *end, void *event_callback, void *event_stream,
                           void *printf_callback, void *printf_stream, const char *options);

void *decode_instructions_virtual(uintptr_t start_va, uintptr_t end_va, unsigned char *buffer, uintptr_t length,
                                  void *event_callback, void *event_stream, void *printf_callback,
                                  void *printf_stream, const char *options, int newline) {
    static decode_fn decode;
    (void) start_va;
    (void) end_va;
    (void) newline;
    if (decode == NULL) {
        void *lib = dlopen(HSDIS_FCML, RTLD_NOW);
        decode = lib == NULL ? NULL : (decode_fn) dlsym(lib, "decode_instructions");
        if (decode == NULL) {
            fprintf(stderr, "hsdis-fcml: cannot use %s: %s\n", HSDIS_FCML, dlerror());
            return NULL;
        }
    }
    return decode(buffer, buffer + length, event_callback, event_stream, printf_callback, printf_stream, options);
}
