/* Empty: the tests include <setjmp.h> for cmocka, which the WebAssembly
 * build replaces (cmocka.h here) with one that does not unwind. */
