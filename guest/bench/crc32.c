/*
 * crc32 benchmark - table-driven CRC-32 (IEEE, reflected, poly 0xedb88320)
 * over a 4 MiB buffer generated with an xorshift PRNG, PASSES times
 * (each pass continues from the previous CRC and then perturbs one word,
 * so no pass can be skipped).  Hot loop: lbu, xor, srl, andi, sll, lw, addu.
 */
#include "rt.h"

#ifndef PASSES
#define PASSES 80
#endif
#define BUF_BYTES (4u << 20)

static u32 table[256];
static u8 buf[BUF_BYTES] ALIGNED(16);

static void make_table(void)
{
    for (u32 i = 0; i < 256; i++) {
        u32 c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xedb88320u : c >> 1;
        table[i] = c;
    }
}

static u32 crc32(u32 crc, const u8 *p, u32 n)
{
    crc = ~crc;
    while (n--)
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

int main(void)
{
    puts("bench crc32 (" ENDIAN_NAME ")");
    make_table();
    printf("crc32(\"123456789\") = %08x\n", crc32(0, (const u8 *)"123456789", 9)); /* cbf43926 */

    u32 x = 2463534242u;
    u32 *w = (u32 *)buf;
    for (u32 i = 0; i < BUF_BYTES / 4; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        w[i] = x;
    }

    u32 crc = 0;
    for (u32 pass = 0; pass < PASSES; pass++) {
        crc = crc32(crc, buf, BUF_BYTES);
        if (pass % 8 == 7)
            printf("pass %u crc %08x\n", pass, crc);
        w[crc & (BUF_BYTES / 4 - 1)] ^= crc;
    }
    printf("crc32: checksum %08x\n", crc);
    return 0;
}
