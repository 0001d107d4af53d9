/* hello - smallest smoke test: UART output and SOFTRES exit. */
#include "rt.h"

int main(void)
{
    puts("Hello from mipsjit guest (" ENDIAN_NAME ")");
    check("answer", 6 * 7, 42);
    return summary("hello");
}
