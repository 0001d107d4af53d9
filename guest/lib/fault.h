/*
 * Assembly helpers for tests that provoke exceptions (exceptions.S,
 * tlbmiss.S). The C side calls NAME(a0, a1) through the exception hooks in
 * rt.c; NAME_x labels the instruction that may fault, so the handler can
 * report EPC relative to it.
 */
#ifndef GUEST_FAULT_H
#define GUEST_FAULT_H

/* What v0 returns when the faulting instruction did not write t0. */
#define POISON 0x5a5a5a5a

/* A single instruction that may fault; the handler resumes at EPC + 4. */
#define SIMPLE(name, ...)               \
    .globl name; .globl name##_x;       \
    .ent   name;                        \
name:                                   \
    li      t0, POISON;                 \
name##_x:                               \
    __VA_ARGS__;                        \
    jr      ra;                         \
     move   v0, t0;                     \
    .end   name

#endif
