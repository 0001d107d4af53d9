/*
 * interp benchmark - a small stack-based bytecode VM with switch dispatch.
 * Programs: recursive fib(FIB_N) (CALL/RET/arguments; checked against an
 * iterative C version), and a LOOP_N-iteration hash loop over variables
 * (LOAD/STORE/arithmetic/JNZ).  Almost all time is dispatch: an indirect
 * jump through the switch table per bytecode.
 */
#include "rt.h"

#ifndef FIB_N
#define FIB_N 30
#endif
#ifndef LOOP_N
#define LOOP_N 4000000
#endif

enum op {
    OP_HALT, OP_PUSH, OP_POP, OP_DUP, OP_SWAP, OP_OVER,
    OP_ADD, OP_SUB, OP_MUL, OP_AND, OP_XOR, OP_SHL, OP_SHR,
    OP_LT, OP_EQ, OP_JMP, OP_JZ, OP_JNZ,
    OP_CALL, OP_RET, OP_LOAD, OP_STORE, OP_ARG,
};

#define STACK 4096

static u32 vm_steps;

/*
 * Frames: CALL pushes (return pc, frame pointer) on a separate return stack;
 * OP_ARG k pushes the k-th argument of the current frame (args are below fp).
 * RET n: pops the result, drops n args, pushes the result.
 */
static u32 run(const s32 *code, u32 pc, u32 *vars)
{
    u32 st[STACK];
    u32 rs[STACK];
    u32 sp = 0, rsp = 0, fp = 0;
    u32 steps = 0;
    for (;;) {
        steps++;
        s32 op = code[pc++];
        switch (op) {
        case OP_HALT:
            vm_steps += steps;
            return st[sp - 1];
        case OP_PUSH: st[sp++] = (u32)code[pc++]; break;
        case OP_POP: sp--; break;
        case OP_DUP: st[sp] = st[sp - 1]; sp++; break;
        case OP_SWAP: { u32 t = st[sp - 1]; st[sp - 1] = st[sp - 2]; st[sp - 2] = t; break; }
        case OP_OVER: st[sp] = st[sp - 2]; sp++; break;
        case OP_ADD: sp--; st[sp - 1] += st[sp]; break;
        case OP_SUB: sp--; st[sp - 1] -= st[sp]; break;
        case OP_MUL: sp--; st[sp - 1] *= st[sp]; break;
        case OP_AND: sp--; st[sp - 1] &= st[sp]; break;
        case OP_XOR: sp--; st[sp - 1] ^= st[sp]; break;
        case OP_SHL: sp--; st[sp - 1] <<= (st[sp] & 31); break;
        case OP_SHR: sp--; st[sp - 1] >>= (st[sp] & 31); break;
        case OP_LT: sp--; st[sp - 1] = (s32)st[sp - 1] < (s32)st[sp]; break;
        case OP_EQ: sp--; st[sp - 1] = st[sp - 1] == st[sp]; break;
        case OP_JMP: pc = (u32)code[pc]; break;
        case OP_JZ: sp--; pc = st[sp] ? pc + 1 : (u32)code[pc]; break;
        case OP_JNZ: sp--; pc = st[sp] ? (u32)code[pc] : pc + 1; break;
        case OP_CALL:
            rs[rsp++] = pc + 1;
            rs[rsp++] = fp;
            fp = sp;
            pc = (u32)code[pc];
            break;
        case OP_RET: {
            u32 nargs = (u32)code[pc];
            u32 r = st[sp - 1];
            sp = fp - nargs;
            fp = rs[--rsp];
            pc = rs[--rsp];
            st[sp++] = r;
            break;
        }
        case OP_ARG: st[sp++] = st[fp - 1 - (u32)code[pc++]]; break;
        case OP_LOAD: st[sp++] = vars[code[pc++]]; break;
        case OP_STORE: vars[code[pc++]] = st[--sp]; break;
        default:
            printf("bad opcode %d at %u\n", op, pc - 1);
            _exit(1);
        }
    }
}

/* fib(n) = n < 2 ? n : fib(n-1) + fib(n-2) */
static const s32 fib_prog[] = {
    /* 0: main */
    OP_PUSH, FIB_N, OP_CALL, 5, OP_HALT,
    /* 5: fib(arg0) */
    OP_ARG, 0, OP_PUSH, 2, OP_LT, OP_JZ, 16,
    OP_ARG, 0, OP_RET, 1,
    /* 16 */
    OP_ARG, 0, OP_PUSH, 1, OP_SUB, OP_CALL, 5,
    OP_ARG, 0, OP_PUSH, 2, OP_SUB, OP_CALL, 5,
    OP_ADD, OP_RET, 1,
};

/*
 * Loop: v0 = i, v1 = acc; for (i = LOOP_N; i != 0; i--)
 *   acc = (acc * 33) ^ (i & 0xff) ^ (acc >> 7)
 */
static const s32 loop_prog[] = {
    OP_PUSH, LOOP_N, OP_STORE, 0,
    OP_PUSH, 5381, OP_STORE, 1,
    /* 8: loop head */
    OP_LOAD, 1, OP_PUSH, 33, OP_MUL,
    OP_LOAD, 0, OP_PUSH, 255, OP_AND, OP_XOR,
    OP_LOAD, 1, OP_PUSH, 7, OP_SHR, OP_XOR,
    OP_STORE, 1,
    OP_LOAD, 0, OP_PUSH, 1, OP_SUB, OP_DUP, OP_STORE, 0,
    OP_JNZ, 8,
    OP_LOAD, 1, OP_HALT,
};

int main(void)
{
    puts("bench interp (" ENDIAN_NAME ")");
    u32 vars[4] = { 0, 0, 0, 0 };
    u32 f = run(fib_prog, 0, vars);
    u32 fa = 0, fb = 1;
    for (int i = 0; i < FIB_N; i++) {
        u32 t = fa + fb;
        fa = fb;
        fb = t;
    }
    printf("fib(%d) = %u%s\n", FIB_N, f, f == fa ? "" : " MISMATCH");
    u32 l = run(loop_prog, 0, vars);
    printf("loop(%d) = %08x\n", LOOP_N, l);
    printf("vm steps = %u\n", vm_steps);
    printf("interp: checksum %08x\n", f * 31u + l);
    return 0;
}
