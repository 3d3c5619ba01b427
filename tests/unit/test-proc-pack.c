/*
 * The packed identities of proc_blocks (proc-pack.c) alone: what goes in
 * comes out, a churning host's processes cost a few bytes each, and a
 * damaged blob is refused, never read past.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "proc-pack.h"
#include "util.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint32_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* A field of len random printable bytes, any but NUL. */
static void
random_text(char *dst, size_t size, size_t len)
{
	if (len >= size)
		len = size - 1;
	for (size_t i = 0; i < len; i++)
		dst[i] = (char)(1 + next_rand() % 255);
	dst[len] = '\0';
}

/* A process of a sweep: a few users and programs, new arguments. */
static void
sweep_identity(struct identity *who, int k)
{
	static const char *users[] = { "alice", "bob", "carol", "dave" };

	memset(who, 0, sizeof(*who));
	who->known = 1;
	who->uid = 1000 + k % 4;
	util_strlcpy(who->user, users[k % 4], sizeof(who->user));
	util_strlcpy(who->comm, k % 3 ? "python" : "python3",
	    sizeof(who->comm));
	if (k % 3)
		snprintf(who->cmdline, sizeof(who->cmdline), "python eval.py "
		    "--ckpt /data/ckpt/step-%05u.pt", next_rand() % 100000);
	else
		util_strlcpy(who->cmdline, "python3 -c import torch; "
		    "torch.cuda.init()", sizeof(who->cmdline));
	if (k % 5 == 0)
		snprintf(who->container, sizeof(who->container), "%012x",
		    next_rand());
}

/* Whether entry i of b is who, pid and start. */
static int
same(const struct proc_block *b, size_t i, uint32_t pid, int64_t start,
    const struct identity *who)
{
	struct identity got;

	proc_block_identity(b, i, &got);
	return b->e[i].pid == pid && b->e[i].start_ms == start &&
	    got.known == who->known && got.uid == who->uid &&
	    memcmp(&got, who, sizeof(got)) == 0;
}

/* Any identities, strings of any length their arrays hold, any pid and
   start: each comes back as it went in. */
static void
test_round_trip(void)
{
	static struct identity who[PROC_BLOCK_MAX];
	static uint32_t pid[PROC_BLOCK_MAX];
	static int64_t start[PROC_BLOCK_MAX];
	struct proc_packer *p = calloc(1, sizeof(*p));
	struct proc_block *b = calloc(1, sizeof(*b));
	int ok = 1;
	size_t n;

	for (int round = 0; round < 20; round++) {
		proc_packer_reset(p);
		for (n = 0; !proc_packer_full(p); n++) {
			struct identity *w = &who[n];

			memset(w, 0, sizeof(*w));
			w->known = next_rand() % 2;
			w->uid = next_rand() % 3 == 0 ? -1 :
			    (int64_t)next_rand();
			for (int f = 0; f < PROC_FIELDS; f++) {
				size_t size, len;
				char *dst = proc_identity_field_buf(w,
				    (enum proc_field)f, &size);

				/* Empty, short, one of the others', or as
				   long as it may be. */
				switch (next_rand() % 4) {
				case 0:
					len = 0;
					break;
				case 1:
					len = next_rand() % 12;
					break;
				case 2:
					len = size - 1;
					break;
				default:
					len = next_rand() % size;
				}
				random_text(dst, size, len);
				if (n > 0 && next_rand() % 3 == 0)
					memcpy(dst, proc_identity_field(
					    &who[next_rand() % n],
					    (enum proc_field)f), size);
			}
			pid[n] = round == 0 && n == 0 ? UINT32_MAX : next_rand();
			start[n] = n % 7 == 0 ? 0 : (int64_t)next_rand() *
			    (next_rand() % 2 ? 1000 : -1);
			CHECK_INT(proc_packer_add(p, pid[n], start[n], w), 0);
		}
		CHECK(n >= 1 && n <= PROC_BLOCK_MAX);
		CHECK_INT(proc_block_decode(b, 100, (int64_t)n, p->body.p,
		    p->body.len), 0);
		CHECK_INT(b->n, n);
		CHECK_INT(b->first_id, 100);
		for (size_t i = 0; i < n; i++)
			if (!same(b, i, pid[i], start[i], &who[i]))
				ok = 0;
		CHECK(ok);
		CHECK(b->whole);
		/* The keys alone: the same but the command line and the
		   container's name, which are "". */
		CHECK_INT(proc_block_decode_keys(b, 100, (int64_t)n, p->body.p,
		    p->body.len), 0);
		CHECK(!b->whole);
		for (size_t i = 0; i < n; i++) {
			struct identity keys = who[i];

			memset(keys.cmdline, 0, sizeof(keys.cmdline));
			memset(keys.container_name, 0,
			    sizeof(keys.container_name));
			if (!same(b, i, pid[i], start[i], &keys))
				ok = 0;
		}
		CHECK(ok);
		for (size_t i = 0; i < n; i++)
			if (proc_packer_find(p, pid[i], start[i]) < 0)
				ok = 0;
		CHECK(ok);
	}
	proc_packer_free(p);
	proc_block_free(b);
	free(p);
	free(b);
}

/* A sweep: a block holds PROC_BLOCK_MAX processes at a few bytes each,
   where a row each took ~90. */
static void
test_sweep(void)
{
	struct proc_packer *p = calloc(1, sizeof(*p));
	struct proc_block *b = calloc(1, sizeof(*b));
	struct identity who;
	int64_t start = 1793010626446;
	uint32_t pid = 14000;
	size_t n = 0;

	proc_packer_reset(p);
	CHECK_INT(p->n, 0);
	while (!proc_packer_full(p)) {
		sweep_identity(&who, (int)n);
		pid += 1 + next_rand() % 40;
		start += 1000 + next_rand() % 5000;
		CHECK_INT(proc_packer_add(p, pid, start, &who), 0);
		n++;
	}
	CHECK_INT(n, PROC_BLOCK_MAX);
	fprintf(stderr, "a sweep's block: %zu processes in %zu bytes\n", n,
	    p->body.len);
	CHECK(p->body.len < 24 * n);
	CHECK_INT(p->start_max, start);
	CHECK_INT(proc_packer_find(p, pid, start), (long)n - 1);
	CHECK_INT(proc_packer_find(p, pid, start + 1), -1);
	CHECK_INT(proc_block_decode(b, 1, (int64_t)n, p->body.p, p->body.len),
	    0);
	CHECK_STR(proc_block_str(b, n - 1, PROC_CMDLINE), who.cmdline);

	/* Long command lines close a block by its bytes, not its count. */
	proc_packer_reset(p);
	n = 0;
	while (!proc_packer_full(p)) {
		random_text(who.cmdline, sizeof(who.cmdline), 1000);
		CHECK_INT(proc_packer_add(p, (uint32_t)n, 0, &who), 0);
		n++;
	}
	CHECK(n < PROC_BLOCK_MAX && p->body.len >= PROC_BLOCK_BYTES);
	proc_packer_free(p);
	proc_block_free(b);
	free(p);
	free(b);
}

/* Every cut of a blob, every byte changed, a wrong count: refused or
   read within its bytes (the sanitizers watch), never more. */
static void
test_damage(void)
{
	struct proc_packer *p = calloc(1, sizeof(*p));
	struct proc_block *b = calloc(1, sizeof(*b));
	struct identity who;
	unsigned char *copy;
	int all_cuts = 1, decoded = 0, same_verdict = 1;
	size_t len;

	proc_packer_reset(p);
	for (int k = 0; k < 40; k++) {
		sweep_identity(&who, k);
		CHECK_INT(proc_packer_add(p, (uint32_t)(100 + k), 5000 + k,
		    &who), 0);
	}
	len = p->body.len;
	copy = malloc(len);
	for (size_t cut = 0; cut < len; cut++) {
		memcpy(copy, p->body.p, cut);
		if (proc_block_decode(b, 1, 40, copy, cut) != -1 || b->n != 0 ||
		    proc_block_decode_keys(b, 1, 40, copy, cut) != -1)
			all_cuts = 0;
	}
	CHECK(all_cuts);
	CHECK_INT(proc_block_decode(b, 1, 39, p->body.p, len), -1);
	CHECK_INT(proc_block_decode(b, 1, 41, p->body.p, len), -1);
	CHECK_INT(proc_block_decode(b, 1, 0, p->body.p, len), -1);
	CHECK_INT(proc_block_decode(b, 1, PROC_BLOCK_MAX + 1, p->body.p, len),
	    -1);
	for (size_t i = 0; i < len; i++)
		for (int bit = 0; bit < 8; bit++) {
			memcpy(copy, p->body.p, len);
			copy[i] ^= (unsigned char)(1 << bit);
			/* The keys alone are refused where the whole is. */
			if (proc_block_decode(b, 1, 40, copy, len) == 0)
				decoded++;
			if ((proc_block_decode_keys(b, 1, 40, copy,
			    len) == 0) != (proc_block_decode(b, 1, 40, copy,
			    len) == 0))
				same_verdict = 0;
		}
	/* Some changes still make a valid block (another pid, say). */
	CHECK(decoded > 0);
	CHECK(same_verdict);
	copy[0] = 2;
	CHECK_INT(proc_block_decode(b, 1, 40, copy, len), -1);
	free(copy);

	/* Hand-made: one process, comm "a\0b" (no NUL inside a string),
	   then a comm one byte longer than its array. */
	{
		unsigned char blob[128];
		size_t n = 0;

		blob[n++] = 1;			/* format */
		blob[n++] = 2;			/* pid 1 */
		blob[n++] = 0;			/* start 0 */
		blob[n++] = 0;			/* uid and known: no */
		blob[n++] = 1 << PROC_COMM;	/* only comm is not "" */
		blob[n++] = 1;			/* comm: new, from nothing */
		blob[n++] = 3;
		memcpy(blob + n, "a\0b", 3);
		n += 3;
		CHECK_INT(proc_block_decode(b, 1, 1, blob, n), -1);
		blob[8] = 'x';
		CHECK_INT(proc_block_decode(b, 1, 1, blob, n), 0);
		CHECK_STR(proc_block_str(b, 0, PROC_COMM), "axb");
		CHECK_INT(b->e[0].uid, -1);
		/* Built from string 2 of comm, which there is not. */
		blob[5] = 5;
		CHECK_INT(proc_block_decode(b, 1, 1, blob, n), -1);
		blob[5] = 1;
		/* A uid without its flag. */
		blob[3] = 4;
		CHECK_INT(proc_block_decode(b, 1, 1, blob, n), -1);
		blob[3] = 8 | 2;		/* uid 0 + 1, zigzag 2 */
		CHECK_INT(proc_block_decode(b, 1, 1, blob, n), 0);
		CHECK_INT(b->e[0].uid, 1);
	}
	{
		/* A field mask past the last field (1024, two bytes). */
		static const unsigned char past[] = { 1, 2, 0, 0, 0x80, 0x08 };

		CHECK_INT(proc_block_decode(b, 1, 1, past, sizeof(past)), -1);
		CHECK_INT(proc_block_decode(b, 1, 1, past, 5), -1);
	}
	{
		static unsigned char blob[256];
		size_t n = 0;

		blob[n++] = 1;
		blob[n++] = 2;
		blob[n++] = 0;
		blob[n++] = 0;
		blob[n++] = 1 << PROC_COMM;
		blob[n++] = 1;
		blob[n++] = 64;			/* comm[64] holds 63 */
		memset(blob + n, 'c', 64);
		n += 64;
		CHECK_INT(proc_block_decode(b, 1, 1, blob, n), -1);
		blob[6] = 63;
		memmove(blob + 7 + 63, blob + 7 + 64, n - 7 - 64);
		CHECK_INT(proc_block_decode(b, 1, 1, blob, n - 1), 0);
		CHECK_INT(strlen(proc_block_str(b, 0, PROC_COMM)), 63);
	}
	proc_packer_free(p);
	proc_block_free(b);
	free(p);
	free(b);
}

/* Entry k of a block where every field says a new string. */
static void
distinct_identity(struct identity *who, int k)
{
	memset(who, 0, sizeof(*who));
	who->known = 1;
	who->uid = k;
	for (int f = 0; f < PROC_FIELDS; f++) {
		size_t size;
		char *dst = proc_identity_field_buf(who, (enum proc_field)f,
		    &size);

		snprintf(dst, size, "%c%d", 'a' + f, k);
	}
}

/*
 * The longest entry an exact dictionary match makes: every field said
 * again by a code of two bytes (a string from the 64th on), pid, start
 * and uid each far from the one before. It stays within the blob's
 * memory wherever the blob ends before it: a pad of each length before
 * it moves the end through every byte of a page, one of them leaving
 * only the room of a pid, start, uid and mask, which is all an add once
 * reserved for an entry of codes alone.
 */
static void
test_longest_entry(void)
{
	struct proc_packer *p = calloc(1, sizeof(*p));
	struct identity who;
	int within = 1, added = 1;

	for (size_t pad = 0; pad < IDENTITY_CMDLINE_MAX; pad++) {
		proc_packer_reset(p);
		for (int k = 0; k < 70; k++) {
			distinct_identity(&who, k);
			if (proc_packer_add(p, (uint32_t)k, k, &who) != 0)
				added = 0;
		}
		distinct_identity(&who, 69);
		memset(who.cmdline, 'z', pad);
		who.cmdline[pad] = '\0';
		if (proc_packer_add(p, 70, 70, &who) != 0)
			added = 0;
		distinct_identity(&who, 65);
		who.uid = 0;
		if (proc_packer_add(p, 0, -(INT64_C(1) << 62), &who) != 0)
			added = 0;
		distinct_identity(&who, 64);
		who.uid = 4000000000;
		if (proc_packer_add(p, 4000000000u, INT64_C(1) << 62,
		    &who) != 0)
			added = 0;
		if (p->body.len > p->body.cap)
			within = 0;
	}
	CHECK(added);
	CHECK(within);
	proc_packer_free(p);
	free(p);
}

int
main(void)
{
	test_round_trip();
	test_sweep();
	test_damage();
	test_longest_entry();
	HARNESS_DONE();
}
