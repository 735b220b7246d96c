// Linked into every fuzzer: UBSan findings stop the run like ASan's do (by default UBSan only
// prints and carries on, so CI would pass with undefined behaviour in the log).
extern "C" const char* __ubsan_default_options() {
  return "halt_on_error=1:print_stacktrace=1";
}
