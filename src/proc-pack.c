/*
 * The packed identities of the proc_blocks table. A row holds the
 * processes first_id ... first_id + count - 1; its blob is a format byte
 * (1), then per process, every number a varint (store-pack.c):
 *
 *   pid - the previous pid, zigzag      (the first: against 0)
 *   start_ms - the previous one, zigzag
 *   (uid - the last uid known, zigzag) << 2 | 2 when the uid is known |
 *       1 when the process was known   (the first: against 0)
 *   a mask of the text fields that differ from the previous process's
 *   (bit 0 user, then comm, cmdline, container, pod, unit, Slurm job,
 *   pod namespace, pod name, container name; the first against ""),
 *   and for each of them a code c:
 *     c even: the field's (c / 2)-th string of this block (0 is "")
 *     c odd:  a new string, the field's next; r = c / 2 names the one it
 *             is built from: r = 0, none: then its length and bytes;
 *             else the prefix and suffix it shares with string r and
 *             the length and bytes of what lies between
 *
 * A host that starts a process every few seconds starts the same few
 * programs with different arguments: most fields repeat, and a command
 * line costs the bytes that differ. Every string a block said stays in
 * its dictionary, so a block stays small (PROC_BLOCK_MAX, and closed
 * before its row outgrows a page: PROC_BLOCK_BYTES).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "proc-pack.h"
#include "util.h"

#define BLOCK_FORMAT	1
#define FLAG_KNOWN	1
#define FLAG_UID	2
#define ALL_FIELDS	((1u << PROC_FIELDS) - 1)
/* How many of a field's latest strings a new one is compared with. */
#define BASE_TRIES	32
/* A shared start and end shorter than this is not worth its varints. */
#define BASE_MIN_SHARED	4
/* Below 2^32 - 1, which the strings' offsets hold. */
#define ARENA_MAX	((size_t)PROC_BLOCK_MAX * PROC_FIELDS * \
			    IDENTITY_CMDLINE_MAX)

static const size_t field_offset[PROC_FIELDS] = {
	offsetof(struct identity, user),
	offsetof(struct identity, comm),
	offsetof(struct identity, cmdline),
	offsetof(struct identity, container),
	offsetof(struct identity, pod),
	offsetof(struct identity, unit),
	offsetof(struct identity, slurm_job),
	offsetof(struct identity, pod_namespace),
	offsetof(struct identity, pod_name),
	offsetof(struct identity, container_name),
};

static const size_t field_size[PROC_FIELDS] = {
	sizeof(((struct identity *)0)->user),
	sizeof(((struct identity *)0)->comm),
	sizeof(((struct identity *)0)->cmdline),
	sizeof(((struct identity *)0)->container),
	sizeof(((struct identity *)0)->pod),
	sizeof(((struct identity *)0)->unit),
	sizeof(((struct identity *)0)->slurm_job),
	sizeof(((struct identity *)0)->pod_namespace),
	sizeof(((struct identity *)0)->pod_name),
	sizeof(((struct identity *)0)->container_name),
};

const char *
proc_identity_field(const struct identity *who, enum proc_field f)
{
	return (const char *)who + field_offset[f];
}

char *
proc_identity_field_buf(struct identity *who, enum proc_field f,
    size_t *size)
{
	*size = field_size[f];
	return (char *)who + field_offset[f];
}

/* Room for more bytes in an arena; -1 out of memory or past ARENA_MAX. */
static int
arena_reserve(char **arena, size_t *len, size_t *cap, size_t more)
{
	size_t ncap;
	char *p;

	if (*cap - *len >= more)
		return 0;
	if (more > ARENA_MAX - *len)
		return -1;
	for (ncap = *cap ? *cap : 4096; ncap - *len < more; ncap *= 2)
		;
	if ((p = realloc(*arena, ncap)) == NULL)
		return -1;
	*arena = p;
	*cap = ncap;
	return 0;
}

/* The dictionaries with "" alone, the arena holding it. */
static int
dicts_reset(struct proc_dict *dict, char **arena, size_t *len, size_t *cap)
{
	*len = 0;
	if (arena_reserve(arena, len, cap, 1) != 0)
		return -1;
	(*arena)[(*len)++] = '\0';
	for (int f = 0; f < PROC_FIELDS; f++) {
		dict[f].off[0] = 0;
		dict[f].len[0] = 0;
		dict[f].n = 1;
	}
	return 0;
}

void
proc_packer_reset(struct proc_packer *p)
{
	p->body.len = 0;
	p->n = 0;
	p->prev_pid = 0;
	p->prev_start = 0;
	p->prev_uid = 0;
	memset(p->prev_off, 0, sizeof(p->prev_off));
	p->start_min = 0;
	p->start_max = 0;
	/* Fails only out of memory; proc_packer_add tries again. */
	(void)dicts_reset(p->dict, &p->arena, &p->arena_len, &p->arena_cap);
}

void
proc_packer_free(struct proc_packer *p)
{
	free(p->body.p);
	free(p->arena);
	memset(p, 0, sizeof(*p));
}

int
proc_packer_full(const struct proc_packer *p)
{
	return p->n >= PROC_BLOCK_MAX || p->body.len >= PROC_BLOCK_BYTES;
}

long
proc_packer_find(const struct proc_packer *p, uint32_t pid, int64_t start_ms)
{
	for (size_t i = p->n; i-- > 0;)
		if (p->keys[i].pid == pid && p->keys[i].start_ms == start_ms)
			return (long)i;
	return -1;
}

static void
put_varint(struct store_buf *b, uint64_t v)
{
	b->len += store_varint_put(b->p + b->len, v);
}

/* How much of a and b their start and end share, not overlapping. */
static size_t
shared(const char *a, size_t alen, const char *b, size_t blen, size_t *pre,
    size_t *suf)
{
	size_t most = alen < blen ? alen : blen, p = 0, s = 0;

	while (p < most && a[p] == b[p])
		p++;
	while (s < most - p && a[alen - 1 - s] == b[blen - 1 - s])
		s++;
	*pre = p;
	*suf = s;
	return p + s;
}

/* Codes one field's string s into the blob, and keeps it when new. */
static int
pack_string(struct proc_packer *p, struct proc_dict *d, const char *s,
    uint32_t *off)
{
	size_t len = strlen(s), best = 0, best_pre = 0, best_suf = 0, r = 0;
	size_t tries = 0;

	for (size_t i = 0; i < d->n; i++)
		if (d->len[i] == len && memcmp(p->arena + d->off[i], s,
		    len) == 0) {
			put_varint(&p->body, 2 * (uint64_t)i);
			*off = d->off[i];
			return 0;
		}
	for (size_t i = d->n; i-- > 1 && tries < BASE_TRIES; tries++) {
		size_t pre, suf, n = shared(p->arena + d->off[i], d->len[i], s,
		    len, &pre, &suf);

		if (n > best) {
			best = n;
			best_pre = pre;
			best_suf = suf;
			r = i;
		}
	}
	if (best < BASE_MIN_SHARED)
		r = best_pre = best_suf = 0;
	if (store_buf_reserve(&p->body, 4 * STORE_VARINT_MAX + len) != 0 ||
	    arena_reserve(&p->arena, &p->arena_len, &p->arena_cap,
	    len + 1) != 0)
		return -1;
	put_varint(&p->body, 2 * (uint64_t)r + 1);
	if (r > 0) {
		put_varint(&p->body, best_pre);
		put_varint(&p->body, best_suf);
	}
	put_varint(&p->body, len - best_pre - best_suf);
	memcpy(p->body.p + p->body.len, s + best_pre,
	    len - best_pre - best_suf);
	p->body.len += len - best_pre - best_suf;
	*off = d->off[d->n] = (uint32_t)p->arena_len;
	d->len[d->n] = (uint32_t)len;
	d->n++;
	memcpy(p->arena + p->arena_len, s, len + 1);
	p->arena_len += len + 1;
	return 0;
}

int
proc_packer_add(struct proc_packer *p, uint32_t pid, int64_t start_ms,
    const struct identity *who)
{
	int uid_known = who->uid >= 0 && who->uid <= (int64_t)UINT32_MAX;
	int64_t uid = uid_known ? who->uid : p->prev_uid;
	unsigned mask = 0;

	if (p->arena_len == 0 && dicts_reset(p->dict, &p->arena,
	    &p->arena_len, &p->arena_cap) != 0)
		return -1;
	/* The format byte, pid, start, uid and mask, and a field's code
	   each: a string said again has no reserve of its own. */
	if (store_buf_reserve(&p->body, 1 + (4 + PROC_FIELDS) *
	    STORE_VARINT_MAX) != 0)
		return -1;
	if (p->n == 0) {
		p->body.len = 0;
		p->body.p[p->body.len++] = BLOCK_FORMAT;
	}
	for (int f = 0; f < PROC_FIELDS; f++)
		if (strcmp(proc_identity_field(who, (enum proc_field)f),
		    p->arena + p->prev_off[f]) != 0)
			mask |= 1u << f;
	put_varint(&p->body, store_zigzag((int64_t)pid - p->prev_pid));
	put_varint(&p->body, store_zigzag((int64_t)((uint64_t)start_ms -
	    (uint64_t)p->prev_start)));
	put_varint(&p->body, store_zigzag(uid - p->prev_uid) << 2 |
	    (uint64_t)(uid_known ? FLAG_UID : 0) |
	    (uint64_t)(who->known ? FLAG_KNOWN : 0));
	put_varint(&p->body, mask);
	for (int f = 0; f < PROC_FIELDS; f++)
		if ((mask & (1u << f)) && pack_string(p, &p->dict[f],
		    proc_identity_field(who, (enum proc_field)f),
		    &p->prev_off[f]) != 0)
			return -1;
	p->keys[p->n].pid = pid;
	p->keys[p->n].start_ms = start_ms;
	p->n++;
	p->prev_pid = pid;
	p->prev_start = start_ms;
	p->prev_uid = uid;
	/* An unknown start (0) would stretch the range down to 0 and put
	   the block in every search for an older process; such a process
	   is found by its PID (store-procs.c). 0 to 0 until one is known. */
	if (start_ms != 0 && (p->start_max == 0 || start_ms < p->start_min))
		p->start_min = start_ms;
	if (start_ms != 0 && (p->start_max == 0 || start_ms > p->start_max))
		p->start_max = start_ms;
	return 0;
}

/* Reading: a varint from *pos, advancing it; -1 past the end. Most are
   one byte: read here, without a call. */
static inline int
get_varint(const unsigned char *body, size_t len, size_t *pos, uint64_t *v)
{
	size_t n;

	if (*pos < len && body[*pos] < 0x80) {
		*v = body[(*pos)++];
		return 0;
	}
	/* Differences of pids and start times: two or three bytes. */
	if (len - *pos >= 2 && body[*pos + 1] < 0x80) {
		*v = (uint64_t)(body[*pos] & 0x7f) | (uint64_t)body[*pos + 1] << 7;
		*pos += 2;
		return 0;
	}
	if (len - *pos >= 3 && body[*pos + 2] < 0x80) {
		*v = (uint64_t)(body[*pos] & 0x7f) |
		    (uint64_t)(body[*pos + 1] & 0x7f) << 7 |
		    (uint64_t)body[*pos + 2] << 14;
		*pos += 3;
		return 0;
	}
	n = store_varint_get(body + *pos, len - *pos, v);

	if (n == 0)
		return -1;
	*pos += n;
	return 0;
}

/* One field's code: the string's offset in *off (skip: checked and
   passed over, "" in *off). -1 damaged, -2 out of memory. */
static int
unpack_string(struct proc_block *b, struct proc_dict *d, size_t cap,
    int skip, const unsigned char *body, size_t len, size_t *pos,
    uint32_t *off)
{
	uint64_t c, r, pre = 0, suf = 0, mid;
	size_t blen = 0, total;

	if (get_varint(body, len, pos, &c) != 0)
		return -1;
	if ((c & 1) == 0) {
		if (c / 2 >= d->n)
			return -1;
		*off = d->off[c / 2];
		return 0;
	}
	r = c / 2;
	if (r >= d->n || d->n > PROC_BLOCK_MAX)
		return -1;
	if (r > 0) {
		blen = d->len[r];
		if (get_varint(body, len, pos, &pre) != 0 ||
		    get_varint(body, len, pos, &suf) != 0 || pre > blen ||
		    suf > blen - pre)
			return -1;
	}
	if (get_varint(body, len, pos, &mid) != 0 || mid > len - *pos)
		return -1;
	total = (size_t)(pre + suf + mid);
	/* The identity's array holds it with its NUL; none inside. */
	if (total >= cap || memchr(body + *pos, '\0', (size_t)mid) != NULL)
		return -1;
	if (skip) {
		*pos += (size_t)mid;
		*off = d->off[d->n] = 0;
		d->len[d->n] = (uint32_t)total;
		d->n++;
		return 0;
	}
	if (arena_reserve(&b->arena, &b->arena_len, &b->arena_cap,
	    total + 1) != 0)
		return -2;
	{
		char *dst = b->arena + b->arena_len;
		const char *base = b->arena + d->off[r];

		memcpy(dst, base, (size_t)pre);
		memcpy(dst + pre, body + *pos, (size_t)mid);
		memcpy(dst + pre + mid, base + blen - suf, (size_t)suf);
		dst[total] = '\0';
	}
	*pos += (size_t)mid;
	*off = d->off[d->n] = (uint32_t)b->arena_len;
	d->len[d->n] = (uint32_t)total;
	d->n++;
	b->arena_len += total + 1;
	return 0;
}

/* The fields a report groups processes by (store_proc_keys): the
   others' strings are checked but not built. */
#define KEY_FIELDS	(ALL_FIELDS & ~(1u << PROC_CMDLINE) & \
			    ~(1u << PROC_CONTAINER_NAME))

static int
decode(struct proc_block *b, int64_t first_id, int64_t count,
    const void *blob, size_t len, unsigned fields)
{
	const unsigned char *body = blob;
	size_t pos = 1;
	int64_t pid = 0, start = 0, uid = 0;
	int rc;

	b->n = 0;
	b->first_id = first_id;
	if (count < 1 || count > PROC_BLOCK_MAX || len < 1 ||
	    body[0] != BLOCK_FORMAT)
		return -1;
	if (dicts_reset(b->dict, &b->arena, &b->arena_len,
	    &b->arena_cap) != 0)
		return -2;
	for (int64_t i = 0; i < count; i++) {
		struct proc_entry *e = &b->e[i];
		uint64_t dpid, dstart, w, mask;

		if (get_varint(body, len, &pos, &dpid) != 0 ||
		    get_varint(body, len, &pos, &dstart) != 0 ||
		    get_varint(body, len, &pos, &w) != 0 ||
		    get_varint(body, len, &pos, &mask) != 0 ||
		    mask > ALL_FIELDS)
			goto damaged;
		pid = (int64_t)((uint64_t)pid + (uint64_t)store_unzigzag(dpid));
		start = (int64_t)((uint64_t)start + (uint64_t)store_unzigzag(dstart));
		uid = (int64_t)((uint64_t)uid + (uint64_t)store_unzigzag(w >> 2));
		if (pid < 0 || pid > UINT32_MAX || uid < 0 ||
		    uid > UINT32_MAX || (!(w & FLAG_UID) && w >> 2 != 0))
			goto damaged;
		e->pid = (uint32_t)pid;
		e->start_ms = start;
		e->known = (w & FLAG_KNOWN) != 0;
		e->uid = (w & FLAG_UID) ? uid : -1;
		/* The previous process's strings, then those that differ. */
		if (i > 0)
			memcpy(e->off, b->e[i - 1].off, sizeof(e->off));
		else
			memset(e->off, 0, sizeof(e->off));
		for (unsigned m = (unsigned)mask; m != 0; m &= m - 1) {
			int f = __builtin_ctz(m);

			rc = unpack_string(b, &b->dict[f], field_size[f],
			    !(fields & (1u << f)), body, len, &pos,
			    &e->off[f]);
			if (rc == -2) {
				b->n = 0;
				return -2;
			}
			if (rc != 0)
				goto damaged;
		}
	}
	if (pos != len)
		goto damaged;
	b->n = (size_t)count;
	b->whole = fields == ALL_FIELDS;
	return 0;
damaged:
	b->n = 0;
	return -1;
}

int
proc_block_decode(struct proc_block *b, int64_t first_id, int64_t count,
    const void *blob, size_t len)
{
	return decode(b, first_id, count, blob, len, ALL_FIELDS);
}

int
proc_block_decode_keys(struct proc_block *b, int64_t first_id,
    int64_t count, const void *blob, size_t len)
{
	return decode(b, first_id, count, blob, len, KEY_FIELDS);
}

void
proc_block_identity(const struct proc_block *b, size_t i,
    struct identity *who)
{
	const struct proc_entry *e = &b->e[i];

	memset(who, 0, sizeof(*who));
	who->known = e->known;
	who->uid = e->uid;
	for (int f = 0; f < PROC_FIELDS; f++) {
		size_t size;
		char *dst = proc_identity_field_buf(who, (enum proc_field)f,
		    &size);

		util_strlcpy(dst, b->arena + e->off[f], size);
	}
}

void
proc_block_free(struct proc_block *b)
{
	free(b->arena);
	b->arena = NULL;
	b->arena_len = b->arena_cap = 0;
	b->n = 0;
}
