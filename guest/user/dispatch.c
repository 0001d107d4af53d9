/*
 * A bytecode loop with switch dispatch: gcc compiles the switch to a jump
 * table and one `jr`, whose targets `auto` mode compiles into the loop's
 * region (Stats::region_jumps). Every handler changes the state its own
 * way, so a jump that reached the wrong handler changes the checksums.
 * Besides the hot loop, a rarely used opcode and a program whose opcode
 * mix changes half-way take targets the profile did not see.
 */
#include <stdio.h>
#include <stdint.h>

enum { ADD, SUB, XOR, ROT, MUL, SWAP, DUP, JNZ, RARE, HALT };

static uint32_t run(const uint8_t *code, uint32_t a, uint32_t b, uint32_t count)
{
    uint32_t pc = 0, steps = 0;
    for (;;) {
        steps++;
        switch (code[pc++]) {
        case ADD: a += b + code[pc++]; break;
        case SUB: b -= a ^ code[pc++]; break;
        case XOR: a ^= b >> 3; break;
        case ROT: a = a << 7 | a >> 25; break;
        case MUL: b = b * 2654435761u + 1; break;
        case SWAP: { uint32_t t = a; a = b; b = t; break; }
        case DUP: a = b; b += 0x9e3779b9u; break;
        case JNZ: /* loops `count` times; then falls through, count reloaded */
            if (--count) {
                pc = code[pc];
            } else {
                pc++;
                count = 100000;
            }
            break;
        case RARE: a = ~a; break;
        case HALT: return a ^ b * 31 ^ steps;
        default: return 0xdead;
        }
    }
}

int main(void)
{
    /* Loops back to 0 until the count runs out. */
    static const uint8_t hot[] = { ADD, 3, ROT, SUB, 5, XOR, MUL, SWAP, ADD, 9, DUP, XOR, ROT, JNZ, 0, HALT };
    /* The first loop uses four opcodes, the second the rest, RARE once. */
    static const uint8_t phases[] = { ADD, 1, XOR, ROT, JNZ, 0, RARE, MUL, SWAP, DUP, SUB, 7, JNZ, 7, HALT };
    printf("hot: %08x\n", (unsigned)run(hot, 1, 2, 300000));
    printf("hot again: %08x\n", (unsigned)run(hot, 7, 11, 200000));
    printf("phases: %08x\n", (unsigned)run(phases, 3, 4, 200000));
    return 0;
}
