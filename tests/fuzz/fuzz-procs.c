/*
 * The packed identities of proc_blocks alone (proc-pack.c): the input is
 * a count (its first byte) and a blob. Decoding must fail cleanly or give
 * strings their identity's arrays hold, reading the keys alone where the
 * whole reads; what it gives, packed again, must decode to the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proc-pack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct proc_block *b, *again;
static struct proc_packer *p;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct identity who, back;

	if (size == 0)
		return 0;
	if (b == NULL && ((b = calloc(1, sizeof(*b))) == NULL ||
	    (again = calloc(1, sizeof(*again))) == NULL ||
	    (p = calloc(1, sizeof(*p))) == NULL))
		abort();
	/* The keys alone are read where the whole is, and only there. */
	if ((proc_block_decode_keys(b, 1, data[0], data + 1, size - 1) ==
	    0) != (proc_block_decode(b, 1, data[0], data + 1, size - 1) == 0))
		abort();
	if (b->n == 0)
		return 0;
	proc_packer_reset(p);
	for (size_t i = 0; i < b->n; i++) {
		proc_block_identity(b, i, &who);
		for (int f = 0; f < PROC_FIELDS; f++) {
			size_t cap;

			(void)proc_identity_field_buf(&who, (enum proc_field)f,
			    &cap);
			if (strlen(proc_block_str(b, i, (enum proc_field)f)) >=
			    cap)
				abort();
		}
		if (proc_packer_add(p, b->e[i].pid, b->e[i].start_ms,
		    &who) != 0)
			abort();
	}
	if (proc_block_decode(again, 1, (int64_t)b->n, p->body.p,
	    p->body.len) != 0 || again->n != b->n)
		abort();
	for (size_t i = 0; i < b->n; i++) {
		proc_block_identity(b, i, &who);
		proc_block_identity(again, i, &back);
		if (memcmp(&who, &back, sizeof(who)) != 0 ||
		    again->e[i].pid != b->e[i].pid ||
		    again->e[i].start_ms != b->e[i].start_ms)
			abort();
	}
	return 0;
}
